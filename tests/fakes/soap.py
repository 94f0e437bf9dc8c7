"""Serving a SOAP service from its WSDL: the schema-driven codec, envelopes and faults.

Generic over any document/literal WSDL with ``elementFormDefault="qualified"`` whose types are
``xs:sequence`` complex types and enumerations (what ASP.NET ASMX publishes). A fake reads the
real WSDL once (``Wsdl``), serves it with its ``soap:address`` rewritten to its own URL, decodes
request bodies into plain python values and encodes answers in the schema's element order, so a
real client (zeep) built from the served WSDL parses them strictly::

    wsdl = Wsdl(Path("productService.wsdl").read_bytes())
    envelope = parse_envelope(body_bytes)                 # SoapRequest(version, operation, element)
    params = wsdl.decode_request(envelope.element)       # {"searchParams": {...}, "returnProperties": [...]}
    xml = wsdl.encode_response("GetProducts", [{"Id": 1, "No": "P1"}], envelope.version)
    xml = fault_envelope("Session is not authenticated", envelope.version)

Values: complex types become dicts keyed by element name (only the elements present); a complex
type named ``ArrayOf…`` with one repeated element becomes a list; ``xsi:nil`` becomes ``None``;
int/long/short/unsignedByte -> int, decimal -> ``Decimal`` (plain notation only, as .NET's
``XmlConvert`` [inferred]), double -> float, boolean -> bool, dateTime -> naive ``datetime`` (an
offset is converted to UTC), guid/enums are checked. A value that does not fit its type raises
``InstanceValidationError`` (ASMX answers that with a fault). Unknown child elements are ignored
and element order is not enforced, as .NET's ``XmlSerializer`` does.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from lxml import etree

XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
INT_TYPES = frozenset(("int", "long", "short", "unsignedByte", "byte", "unsignedInt", "unsignedShort"))
GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PLAIN_DECIMAL = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")
ADDRESS_LOCATION = re.compile(rb'(<soap(?:12)?:address\s+location=")https?://[^/"]+')
NIL = object()  # encode: an explicit xsi:nil="true" (None means "leave the element out")


class InstanceValidationError(ValueError):
    """The request XML holds a value its type does not allow (ASMX: "Instance validation error")."""


class SoapFault(Exception):
    """A whole-call failure answered as a SOAP Fault (HTTP 500)."""

    def __init__(self, message, code="Server", wrap=True):
        super().__init__(message)
        self.message = message
        self.code = code  # "Server" or "Client" (SOAP 1.2: Receiver / Sender)
        self.wrap = wrap  # ASMX puts "Server was unable to process request. ---> " in front


@dataclass(frozen=True)
class Field:
    name: str
    type: tuple  # (namespace, local name); (XSD, "anyType") when untyped
    min_occurs: int
    repeated: bool
    nillable: bool


@dataclass
class SoapRequest:
    version: str  # "1.1" or "1.2"
    operation: str  # the local name of the body's first child
    element: object  # that lxml element
    namespace: str


def rewrite_addresses(wsdl_bytes, base_url):
    """The WSDL with every ``soap:address``/``soap12:address`` location moved to ``base_url`` (path kept)."""
    return ADDRESS_LOCATION.sub(lambda match: match.group(1) + base_url.rstrip("/").encode(), wsdl_bytes)


def parse_envelope(body):
    """The SOAP envelope in ``body`` (1.1 or 1.2, any prefixes); ``SoapFault`` (Client) if it is not one."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise SoapFault(f"There is an error in the XML document. {error}", code="Client") from None
    version = {SOAP11_ENV: "1.1", SOAP12_ENV: "1.2"}.get(etree.QName(root).namespace)
    if version is None or etree.QName(root).localname != "Envelope":
        raise SoapFault("The request is not a SOAP envelope.", code="Client")
    env_ns = SOAP11_ENV if version == "1.1" else SOAP12_ENV
    soap_body = root.find(f"{{{env_ns}}}Body")
    children = [child for child in (soap_body if soap_body is not None else ()) if isinstance(child.tag, str)]
    if not children:
        raise SoapFault("The SOAP body is empty.", code="Client")
    name = etree.QName(children[0])
    return SoapRequest(version, name.localname, children[0], name.namespace)


def _envelope(version):
    env_ns = SOAP11_ENV if version == "1.1" else SOAP12_ENV
    nsmap = {"soap": env_ns, "xsi": XSI, "xsd": XSD}
    envelope = etree.Element(f"{{{env_ns}}}Envelope", nsmap=nsmap)
    return envelope, etree.SubElement(envelope, f"{{{env_ns}}}Body")


def _serialize(envelope):
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def fault_envelope(fault, version="1.1"):
    """The bytes of a Fault envelope in ASMX's stock shape for ``fault`` (a ``SoapFault`` or a message)."""
    if not isinstance(fault, SoapFault):
        fault = SoapFault(str(fault))
    text = f"Server was unable to process request. ---> {fault.message}" if fault.wrap else fault.message
    envelope, body = _envelope(version)
    if version == "1.1":
        node = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
        etree.SubElement(node, "faultcode").text = f"soap:{fault.code}"
        etree.SubElement(node, "faultstring").text = text
        etree.SubElement(node, "detail")
    else:
        node = etree.SubElement(body, f"{{{SOAP12_ENV}}}Fault")
        code = etree.SubElement(node, f"{{{SOAP12_ENV}}}Code")
        value = "Receiver" if fault.code == "Server" else "Sender"
        etree.SubElement(code, f"{{{SOAP12_ENV}}}Value").text = f"soap:{value}"
        reason = etree.SubElement(node, f"{{{SOAP12_ENV}}}Reason")
        text_node = etree.SubElement(reason, f"{{{SOAP12_ENV}}}Text")
        text_node.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text_node.text = text
        etree.SubElement(node, f"{{{SOAP12_ENV}}}Detail")
    return _serialize(envelope)


def format_scalar(local, value):
    """``value`` as the XML text of the XSD type ``local`` (fixed-point decimals, .NET dateTimes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float) and local == "decimal":
        return format(Decimal(repr(value)), "f")
    return str(value)


def parse_scalar(local, text, enumeration=None, where=""):
    """The XML text of an XSD scalar type as a python value; ``InstanceValidationError`` if invalid."""
    text = text or ""
    try:
        if enumeration is not None:
            if text.strip() not in enumeration:
                raise ValueError
            return text.strip()
        if local in INT_TYPES:
            return int(text.strip())
        if local == "decimal":
            if not PLAIN_DECIMAL.match(text):
                raise ValueError
            return Decimal(text.strip())
        if local in ("double", "float"):
            return float(text.strip())
        if local == "boolean":
            return {"true": True, "1": True, "false": False, "0": False}[text.strip()]
        if local == "dateTime":
            value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            if value.tzinfo is not None:
                value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value
        if local == "guid":
            if not GUID_PATTERN.match(text.strip()):
                raise ValueError
            return text.strip().lower()
    except (ValueError, KeyError, InvalidOperation):
        raise InstanceValidationError(
            f"There is an error in XML document. Instance validation error: '{text}' is not a valid value for {local}"
            + (f" ({where})." if where else ".")
        ) from None
    return text


class Wsdl:
    """One WSDL: its schema types, its operations (SOAPAction -> name) and its raw bytes."""

    def __init__(self, wsdl_bytes):
        self.raw = wsdl_bytes
        root = etree.fromstring(wsdl_bytes)
        self.target_namespace = root.get("targetNamespace")
        self.complex_types = {}  # (ns, name) -> [Field]
        self.enumerations = {}  # (ns, name) -> frozenset
        self.elements = {}  # (ns, name) -> type key (anonymous types are stored under ("#element", name))
        for schema in root.iter(f"{{{XSD}}}schema"):
            namespace = schema.get("targetNamespace")
            for node in schema:
                if not isinstance(node.tag, str):
                    continue
                local = etree.QName(node).localname
                if local == "complexType":
                    self.complex_types[(namespace, node.get("name"))] = self._fields(node, namespace)
                elif local == "simpleType":
                    values = [e.get("value") for e in node.iter(f"{{{XSD}}}enumeration")]
                    if values:
                        self.enumerations[(namespace, node.get("name"))] = frozenset(values)
                elif local == "element":
                    if node.get("type"):
                        self.elements[(namespace, node.get("name"))] = self._qname(node, node.get("type"))
                    else:
                        key = ("#element", node.get("name"))
                        inline = node.find(f"{{{XSD}}}complexType")
                        self.complex_types[key] = self._fields(inline, namespace) if inline is not None else []
                        self.elements[(namespace, node.get("name"))] = key
        self.actions = {}  # SOAPAction -> operation name
        for operation in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation"):
            parent = operation.getparent()
            if etree.QName(parent).localname == "operation":
                self.actions[operation.get("soapAction")] = parent.get("name")
        self.operations = frozenset(self.actions.values())

    @staticmethod
    def _qname(node, value):
        prefix, _, local = value.rpartition(":")
        return (node.nsmap.get(prefix or None), local)

    def _fields(self, complex_type, namespace):
        fields = []
        for element in complex_type.iter(f"{{{XSD}}}element"):
            type_key = self._qname(element, element.get("type")) if element.get("type") else (XSD, "anyType")
            fields.append(
                Field(
                    name=element.get("name"),
                    type=type_key,
                    min_occurs=int(element.get("minOccurs", "1")),
                    repeated=element.get("maxOccurs", "1") != "1",
                    nillable=element.get("nillable") == "true",
                )
            )
        for extension in complex_type.iter(f"{{{XSD}}}extension"):  # complexContent: base fields first
            base = self.complex_types.get(self._qname(extension, extension.get("base")), [])
            fields = list(base) + fields
        return fields

    def _array_item(self, type_key):
        fields = self.complex_types.get(type_key)
        if type_key[1].startswith("ArrayOf") and fields and len(fields) == 1 and fields[0].repeated:
            return fields[0]
        return None

    # -- decoding ------------------------------------------------------------------------
    def decode_request(self, element):
        """The parameters of an operation's request element as a dict."""
        key = self.elements.get((self.target_namespace, etree.QName(element).localname))
        if key is None:
            raise SoapFault(f"Unknown request element {etree.QName(element).localname}.", code="Client")
        return self.decode(element, key)

    def decode(self, element, type_key, where=""):
        if element.get(f"{{{XSI}}}nil") in ("true", "1"):
            return None
        if type_key[0] == XSD or type_key in self.enumerations or type_key not in self.complex_types:
            return parse_scalar(type_key[1], element.text, self.enumerations.get(type_key), where or type_key[1])
        item = self._array_item(type_key)
        if item is not None:
            return [
                self.decode(child, item.type, f"{where}/{item.name}")
                for child in element
                if isinstance(child.tag, str) and etree.QName(child).localname == item.name
            ]
        fields = {field.name: field for field in self.complex_types[type_key]}
        value = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            field = fields.get(etree.QName(child).localname)
            if field is None:
                continue  # XmlSerializer ignores unknown elements
            decoded = self.decode(child, field.type, f"{where}/{field.name}".lstrip("/"))
            if field.repeated:
                value.setdefault(field.name, []).append(decoded)
            else:
                value[field.name] = decoded
        return value

    # -- encoding ------------------------------------------------------------------------
    def encode_response(self, operation, result, version="1.1", result_field=None):
        """The response envelope of ``operation`` carrying ``result`` as its ``<Op>Result``.

        ``result`` may also be a dict of the response element's children (``result_field=False``).
        """
        envelope, body = _envelope(version)
        name = f"{operation}Response"
        key = self.elements[(self.target_namespace, name)]
        node = etree.SubElement(body, f"{{{self.target_namespace}}}{name}", nsmap={None: self.target_namespace})
        value = result if result_field is False else {result_field or f"{operation}Result": result}
        self._encode_children(node, key, value)
        return _serialize(envelope)

    def encode(self, parent, field, value):
        """Append ``value`` as element ``field`` (a ``Field``) under ``parent``."""
        values = value if field.repeated and isinstance(value, (list, tuple)) else [value]
        for item in values:
            node = etree.SubElement(parent, f"{{{self.target_namespace}}}{field.name}")
            if item is None or item is NIL:
                node.set(f"{{{XSI}}}nil", "true")
            elif field.type[0] == XSD or field.type in self.enumerations or field.type not in self.complex_types:
                node.text = format_scalar(field.type[1], item)
            else:
                self._encode_children(node, field.type, item)

    def _encode_children(self, node, type_key, value):
        array_item = self._array_item(type_key)
        if array_item is not None:
            for item in value or ():
                self.encode(node, array_item, NIL if item is None else item)
            return
        for field in self.complex_types[type_key]:
            item = value.get(field.name) if isinstance(value, dict) else None
            if item is None and field.min_occurs >= 1:
                item = NIL if field.nillable else _zero(field.type[1])
                if item is None:
                    continue
            if item is None:
                continue
            if item is NIL and not field.nillable:
                continue
            self.encode(node, field, item)


def _zero(local):
    """What a required, non-nillable scalar holds when the fake has no value for it."""
    if local in INT_TYPES:
        return 0
    return {
        "boolean": False,
        "decimal": Decimal(0),
        "double": 0.0,
        "dateTime": datetime(1, 1, 1),
        "guid": "00000000-0000-0000-0000-000000000000",
        "string": "",
    }.get(local)


__all__ = [
    "NIL",
    "SOAP11_CONTENT_TYPE",
    "SOAP12_CONTENT_TYPE",
    "Field",
    "InstanceValidationError",
    "SoapFault",
    "SoapRequest",
    "Wsdl",
    "fault_envelope",
    "format_scalar",
    "parse_envelope",
    "parse_scalar",
    "rewrite_addresses",
]
