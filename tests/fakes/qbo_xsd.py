"""Intuit's QuickBooks Online v3 XSDs as a validator of the JSON wire format.

QuickBooks publishes no OpenAPI file; its data contract is the XSD set Intuit ships with its SDKs,
kept outside the repository in ``../shared/contracts/quickbooks/xsd`` (found like
``tests/fakes/openapi.py`` finds the other contracts; never copied). In JSON, keys are the XSD
element names and XSD attributes (``sparse``, ``domain``, ``bId``, ``time``, ...) are plain keys;
an element that may occur more than once is a JSON array; a ``simpleContent`` type (a
``ReferenceType``) is an object whose text is ``value``::

    schema = QboSchema.load()                  # ContractMissing when the XSDs are not there
    schema.entity_errors("Invoice", body)      # [] or ["Invoice/Line/0/Amout: unknown element", ...]
    schema.response_errors(payload)            # an IntuitResponse: {"Invoice": {...}, "time": "..."}
    schema.batch_request_errors(body)          # {"BatchItemRequest": [...]}

What is checked: element and attribute names (an unknown key fails, so does a misspelt one), JSON
types of the XSD types (``xs:string`` a string, ``xs:decimal`` a number, ``xs:boolean`` a
boolean, ``xs:date`` ``YYYY-MM-DD``, ``xs:dateTime`` ISO 8601, enumerations their values),
single versus repeated elements, and required elements (``minOccurs`` >= 1 outside a choice;
``sparse: true`` bodies and ``status: Deleted`` tombstones may omit them). Order is not checked:
JSON objects have none.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache

from .openapi import contract_file

XS = "{http://www.w3.org/2001/XMLSchema}"
XSD_FILES = (
    "IntuitRestServiceDef.xsd",
    "Finance.xsd",
    "IntuitBaseTypes.xsd",
    "IntuitNamesTypes.xsd",
    "Report.xsd",
    "SalesTax.xsd",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([+-]\d{2}:\d{2}|Z)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _local(qualified):
    """``xs:string`` -> ``xs:string``; ``tns:Foo`` / ``Foo`` -> ``Foo``."""
    if qualified is None:
        return None
    if qualified.startswith("xs:"):
        return qualified
    return qualified.split(":", 1)[-1]


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


BUILTIN_CHECKS = {
    "xs:string": lambda v: isinstance(v, str),
    "xs:anyURI": lambda v: isinstance(v, str),
    "xs:base64Binary": lambda v: isinstance(v, str),
    "xs:boolean": lambda v: isinstance(v, bool),
    "xs:decimal": _is_number,
    "xs:double": _is_number,
    "xs:int": lambda v: _is_number(v) and float(v).is_integer(),
    "xs:long": lambda v: _is_number(v) and float(v).is_integer(),
    "xs:integer": lambda v: _is_number(v) and float(v).is_integer(),
    "xs:positiveInteger": lambda v: _is_number(v) and float(v).is_integer() and v > 0,
    "xs:date": lambda v: isinstance(v, str) and bool(_DATE.match(v)),
    "xs:dateTime": lambda v: isinstance(v, str) and bool(_DATETIME.match(v)),
    "xs:anyType": lambda v: True,
}
BUILTIN_NAMES = {
    "xs:string": "a string",
    "xs:anyURI": "a URI string",
    "xs:base64Binary": "a base64 string",
    "xs:boolean": "true or false",
    "xs:decimal": "a number",
    "xs:double": "a number",
    "xs:int": "an integer",
    "xs:long": "an integer",
    "xs:integer": "an integer",
    "xs:positiveInteger": "a positive integer",
    "xs:date": "a date YYYY-MM-DD",
    "xs:dateTime": "a date-time (ISO 8601)",
    "xs:anyType": "anything",
}


@dataclass
class Member:
    """One element or attribute of a complex type, as a JSON key."""

    name: str
    type: str
    required: bool = False
    many: bool = False


@dataclass
class ComplexType:
    name: str
    members: dict = field(default_factory=dict)
    required_choices: list = field(default_factory=list)  # each: names of which one must be present
    simple_base: str = None  # simpleContent: the text is "value"
    open: bool = False  # xs:any: other keys are allowed


class QboSchema:
    """The XSD set: named complex and simple types, global elements, substitution groups."""

    def __init__(self, roots):
        self.complex = {}
        self.simple = {}
        self.elements = {}
        self.groups = {}
        self.substitutes = {}
        for root in roots:
            for node in root:
                name = node.get("name")
                if node.tag == f"{XS}complexType":
                    self.complex[name] = node
                elif node.tag == f"{XS}simpleType":
                    self.simple[name] = node
                elif node.tag == f"{XS}group":
                    self.groups[name] = node
                elif node.tag == f"{XS}element":
                    self.elements[name] = _local(node.get("type"))
                    group = node.get("substitutionGroup")
                    if group:
                        self.substitutes.setdefault(_local(group), []).append(name)
        self._types = {}

    @classmethod
    def load(cls, folder=None):
        """The schema of the shared contracts (``ContractMissing`` when absent); cached per process."""
        if folder is None:
            folder = contract_file("quickbooks", "xsd", XSD_FILES[0]).parent
        return _load(str(folder))

    # -- type model ---------------------------------------------------------------------
    def complex_type(self, name):
        if name not in self._types:
            node = self.complex[name]
            model = ComplexType(name)
            self._types[name] = model
            self._collect(node, model, in_choice=False, optional=False)
        return self._types[name]

    def _collect(self, node, model, in_choice, optional):
        for child in node:
            tag = child.tag[len(XS) :] if child.tag.startswith(XS) else child.tag
            if tag in ("annotation", "documentation"):
                continue
            min_occurs = int(child.get("minOccurs", "1"))
            max_occurs = child.get("maxOccurs", "1")
            if tag in ("complexContent", "simpleContent"):
                self._collect(child, model, in_choice, optional)
            elif tag in ("extension", "restriction") and node.tag == f"{XS}simpleContent":
                model.simple_base = _local(child.get("base"))
                self._collect(child, model, in_choice, optional)
            elif tag == "extension":
                base = self.complex_type(_local(child.get("base")))
                model.members.update(base.members)
                model.required_choices.extend(base.required_choices)
                model.open = model.open or base.open
                self._collect(child, model, in_choice, optional)
            elif tag == "sequence":
                self._collect(child, model, in_choice, optional or min_occurs == 0)
            elif tag == "choice":
                before = set(model.members)
                self._collect(child, model, True, optional or min_occurs == 0)
                options = [name for name in model.members if name not in before]
                if min_occurs and not optional and options and all(self._choice_needed(child)):
                    model.required_choices.append(options)
            elif tag == "group":
                self._collect(self.groups[_local(child.get("ref"))], model, in_choice, optional or min_occurs == 0)
            elif tag == "any":
                model.open = True
            elif tag == "element":
                many = max_occurs == "unbounded" or int(max_occurs) > 1
                required = min_occurs >= 1 and not in_choice and not optional
                if child.get("ref"):
                    ref = _local(child.get("ref"))
                    for name in self.substitutes.get(ref, [ref]):
                        model.members[name] = Member(name, self.elements[name], required and ref == name, many)
                else:
                    type_name = _local(child.get("type")) or "xs:anyType"
                    model.members[child.get("name")] = Member(child.get("name"), type_name, required, many)
            elif tag == "attribute":
                name = child.get("name")
                model.members[name] = Member(
                    name, _local(child.get("type")) or "xs:string", child.get("use") == "required"
                )

    @staticmethod
    def _choice_needed(choice):
        """Each option's ``minOccurs`` >= 1: then the choice cannot be left empty."""
        return [int(option.get("minOccurs", "1")) >= 1 for option in choice if option.tag != f"{XS}annotation"]

    def simple_check(self, type_name, value):
        """None when ``value`` fits the simple type, else the reason."""
        if type_name in BUILTIN_CHECKS:
            return None if BUILTIN_CHECKS[type_name](value) else f"must be {BUILTIN_NAMES[type_name]}, not {value!r}"
        node = self.simple.get(type_name)
        if node is None:
            return f"unknown type {type_name}"
        restriction = node.find(f"{XS}restriction")
        if restriction is None:  # list/union types: strings on the wire
            return None if isinstance(value, str) else f"must be a string, not {value!r}"
        problem = self.simple_check(_local(restriction.get("base")), value)
        if problem:
            return problem
        allowed = [e.get("value") for e in restriction.findall(f"{XS}enumeration")]
        if allowed and value not in allowed:
            return f"must be one of {', '.join(allowed)}, not {value!r}"
        return None

    # -- validation ---------------------------------------------------------------------
    def errors(self, type_name, value, path="", partial=False):
        """Problems of ``value`` against the named type; ``partial``: required elements may be missing."""
        if type_name not in self.complex:
            problem = self.simple_check(type_name, value)
            return [f"{path}: {problem}"] if problem else []
        model = self.complex_type(type_name)
        if not isinstance(value, dict):
            return [f"{path}: must be an object ({type_name}), not {type(value).__name__}"]
        partial = partial or value.get("sparse") is True or value.get("status") == "Deleted"
        problems = []
        for key, item in value.items():
            where = f"{path}/{key}" if path else key
            if model.simple_base and key == "value":
                problem = self.simple_check(model.simple_base, item)
                problems.extend([f"{where}: {problem}"] if problem else [])
                continue
            member = model.members.get(key)
            if member is None:
                if not model.open:
                    problems.append(f"{where}: unknown element of {type_name}")
                continue
            if member.many:
                if not isinstance(item, list):
                    problems.append(f"{where}: must be an array (the element repeats)")
                    continue
                for index, entry in enumerate(item):
                    problems.extend(self.errors(member.type, entry, f"{where}/{index}", partial))
            else:
                problems.extend(self.errors(member.type, item, where, partial))
        if not partial:
            problems.extend(
                f"{path or type_name}: required element {name} is missing"
                for name, member in model.members.items()
                if member.required and name not in value
            )
            for options in model.required_choices:
                if not any(option in value for option in options):
                    problems.append(f"{path or type_name}: one of {', '.join(options[:6])}... is required")
        return problems

    def entity_errors(self, entity, body, partial=False):
        """Problems of an entity object (a create/update body, or one entity of an answer)."""
        type_name = self.elements.get(entity)
        if type_name is None:
            return [f"{entity}: no such element in the XSDs"]
        return self.errors(type_name, body, entity, partial)

    def response_errors(self, payload):
        """Problems of a whole answer (an ``IntuitResponse``: one entity, QueryResponse, Fault, ...)."""
        return self.errors("IntuitResponse", payload, "IntuitResponse")

    def batch_request_errors(self, body):
        return self.errors("IntuitBatchRequest", body, "IntuitBatchRequest")


@lru_cache(maxsize=2)
def _load(folder):
    from pathlib import Path

    return QboSchema([ET.parse(Path(folder) / name).getroot() for name in XSD_FILES])


__all__ = ["QboSchema"]
