"""The project's 24SevenOffice WSDLs (tests/fakes/wsdl/24so) against the official ones.

The stand-in serves the project's WSDLs and the connector's tests run zeep on them, so they must
declare every operation, message and element as 24SevenOffice publishes it: the same SOAP
actions, the same request and response elements, and for each element kept the same type,
occurrence, nillability and default, in the official order. Elements may be left out only when
they are optional. The official files are read from ../shared/contracts/24so (never copied into
the repository); without them the comparison is skipped with that reason.
"""

from pathlib import Path

import pytest
from lxml import etree

from tests.fakes.soap import XSD, Wsdl
from tests.fakes.twentyfour import SERVICE_PATHS, WSDL_DIR

OFFICIAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "contracts" / "24so"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
official_present = all((OFFICIAL_DIR / filename).is_file() for _path, filename in SERVICE_PATHS.values())
needs_official = pytest.mark.skipif(
    not official_present,
    reason=f"official 24SevenOffice WSDLs not available ({OFFICIAL_DIR} is missing): "
    "the project's WSDLs cannot be compared with them",
)
SERVICES = sorted(SERVICE_PATHS.items())


def _declarations(path):
    """Per top-level schema node: its sequence's elements with their attributes, in order."""
    root = etree.parse(str(path)).getroot()
    nodes = {}
    for schema in root.iter(f"{{{XSD}}}schema"):
        for node in schema:
            if isinstance(node.tag, str) and node.get("name"):
                key = (schema.get("targetNamespace"), etree.QName(node).localname, node.get("name"))
                nodes[key] = node
    return root, nodes


def _elements(node):
    """The elements declared inside ``node``, in order: (name, attributes with the type resolved)."""
    elements = []
    for element in node.iter(f"{{{XSD}}}element"):
        if element is node:
            continue
        attributes = dict(element.attrib)
        name = attributes.pop("name")
        if "type" in attributes:
            attributes["type"] = _type_name(element, attributes["type"])
        elements.append((name, attributes))
    return elements


def _type_name(node, value):
    prefix, _, local = value.rpartition(":")
    return (node.nsmap.get(prefix or None), local)


@pytest.mark.parametrize(("service", "entry"), SERVICES, ids=[service for service, _entry in SERVICES])
def test_project_wsdl_is_loaded_by_the_stand_in_parser(service, entry):
    wsdl = Wsdl((WSDL_DIR / entry[1]).read_bytes())
    assert wsdl.operations, service
    for operation in wsdl.operations:
        assert (wsdl.target_namespace, operation) in wsdl.elements
        assert (wsdl.target_namespace, f"{operation}Response") in wsdl.elements


@needs_official
@pytest.mark.parametrize(("service", "entry"), SERVICES, ids=[service for service, _entry in SERVICES])
def test_project_wsdl_matches_the_official_one(service, entry):
    filename = entry[1]
    ours_root, ours = _declarations(WSDL_DIR / filename)
    official_root, official = _declarations(OFFICIAL_DIR / filename)
    ours_wsdl = Wsdl((WSDL_DIR / filename).read_bytes())
    official_wsdl = Wsdl((OFFICIAL_DIR / filename).read_bytes())
    # operations: the same SOAP actions, the same messages and request/response elements
    for action, operation in ours_wsdl.actions.items():
        assert official_wsdl.actions.get(action) == operation, f"{service}: SOAPAction {action}"
    for kind in ("message", "portType", "binding"):
        for node in ours_root.iter(f"{{{WSDL_NS}}}{kind}"):
            twin = official_root.find(f"{{{WSDL_NS}}}{kind}[@name='{node.get('name')}']")
            assert twin is not None, f"{service}: {kind} {node.get('name')} is not in the official WSDL"
            if kind == "message":
                ours_parts = [(p.get("name"), _type_name(p, p.get("element"))) for p in node]
                official_parts = [(p.get("name"), _type_name(p, p.get("element"))) for p in twin]
                assert ours_parts == official_parts, f"{service}: message {node.get('name')}"
            else:
                names = {operation.get("name") for operation in twin.findall(f"{{{WSDL_NS}}}operation")}
                for operation in node.findall(f"{{{WSDL_NS}}}operation"):
                    assert operation.get("name") in names, f"{service}: {kind} operation {operation.get('name')}"
    # schema: each type and element kept declares its elements as the official one, in its order
    for key, node in ours.items():
        assert key in official, f"{service}: {key[1]} {key[2]} is not in the official WSDL"
        twin = official[key]
        if key[1] == "simpleType":
            values = [e.get("value") for e in node.iter(f"{{{XSD}}}enumeration")]
            official_values = [e.get("value") for e in twin.iter(f"{{{XSD}}}enumeration")]
            assert values == official_values, f"{service}: enumeration {key[2]}"
            continue
        official_elements = {name: (index, attributes) for index, (name, attributes) in enumerate(_elements(twin))}
        last_index = -1
        for name, attributes in _elements(node):
            assert name in official_elements, f"{service}: {key[2]}.{name} is not in the official WSDL"
            index, official_attributes = official_elements[name]
            assert index > last_index, f"{service}: {key[2]}.{name} is out of the official order"
            last_index = index
            assert attributes == official_attributes, f"{service}: {key[2]}.{name}"
        kept = {name for name, _attributes in _elements(node)}
        required_left_out = [
            name for name, attributes in _elements(twin) if name not in kept and attributes.get("minOccurs", "1") != "0"
        ]
        assert not required_left_out, f"{service}: {key[2]} leaves out required elements {required_left_out}"
