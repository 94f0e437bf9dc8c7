"""OpenAPI 3.0 definitions as validators, for the fakes and their contract tests.

The official definitions live outside the repository, in ``../shared/contracts`` next to it (or
where ``RECRUITMENT_SYNC_CONTRACTS`` points); they are read, never copied. ``contract_file``
finds one and says why when it cannot, so callers can switch validation off with a clear note::

    api = OpenApi.load(contract_file("xero", "xero_accounting.yaml"))
    api.errors("Invoices", payload)                       # [] or ["Invoices/0/Total: ...", ...]
    api.request_errors("PUT", "/Invoices", query, headers, body)
    api.response_errors("PUT", "/Invoices", 200, body)

Schemas are checked with ``openapi-schema-validator``'s OAS 3.0 validators (``nullable``,
``readOnly`` in requests, ``writeOnly`` in responses), made strict: an object schema that lists
its properties refuses others (``additionalProperties: false``), so a misspelt field fails.
Fields a real service sends although its definition lacks them are allowed per schema name
(``extra_properties``); ``loose_schemas`` keep the definition's own openness.
"""

import json
import os
import re
import uuid
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parents[2]
CONTRACTS = Path(os.environ.get("RECRUITMENT_SYNC_CONTRACTS") or REPOSITORY.parent / "shared" / "contracts")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Date-times may carry Z, an offset or no zone at all (.NET DateTime, Xero's /connections).
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:?\d{2})?$")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class ContractMissing(LookupError):
    """The shared contracts folder (or a file in it) is not there: checks are skipped, with this reason."""


def contract_file(*parts):
    """The path of a contract file, or ``ContractMissing`` saying where it was looked for."""
    path = CONTRACTS.joinpath(*parts)
    if not CONTRACTS.is_dir():
        raise ContractMissing(f"{CONTRACTS} (the shared/contracts folder) not found: contract checks skipped")
    if not path.is_file():
        raise ContractMissing(f"{path} not found: contract checks skipped")
    return path


@lru_cache(maxsize=8)
def load_definition(path):
    """A JSON or YAML definition as plain data (YAML dates stay strings, as JSON would have them)."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".json"):
        return json.loads(text)
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        pass

    Loader.yaml_implicit_resolvers = {
        key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in base.yaml_implicit_resolvers.items()
    }
    return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


def strict_schema(node, extra_properties=None, loose_schemas=(), name=None):
    """OpenAPI schema objects made strict (see the module docstring); ``name``: the component's name."""
    if isinstance(node, list):
        return [strict_schema(item, extra_properties, loose_schemas) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict_schema(value, extra_properties, loose_schemas) for key, value in node.items()}
    if node.get("nullable") is True and "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    if isinstance(node.get("properties"), dict) and name not in loose_schemas:
        out.setdefault("additionalProperties", False)
        extras = (extra_properties or {}).get(name, ())
        if extras:
            out["properties"] = {**{extra: {} for extra in extras}, **out["properties"]}
    return out


def format_checker():
    """Formats checked the same way for every definition (jsonschema checks none by default)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date", raises=ValueError)(
        lambda v: not isinstance(v, str) or bool(_DATE.match(v) and date.fromisoformat(v))
    )
    checker.checks("date-time", raises=ValueError)(
        lambda v: not isinstance(v, str) or bool(_DATETIME.match(v) and _iso_datetime(v))
    )
    checker.checks("uuid", raises=ValueError)(lambda v: not isinstance(v, str) or bool(uuid.UUID(v)))
    checker.checks("uri")(
        lambda v: not isinstance(v, str) or (urlsplit(v).scheme in ("http", "https") and bool(urlsplit(v).netloc))
    )
    checker.checks("int32")(lambda v: not isinstance(v, int) or -(2**31) <= v < 2**31)
    checker.checks("int64")(lambda v: not isinstance(v, int) or -(2**63) <= v < 2**63)
    return checker


def _iso_datetime(value):
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)  # .NET writes 7 fractional digits
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Operation:
    """One operation of the definition: its path template, method, parameters and bodies."""

    def __init__(self, api, template, method, item, op):
        self.template = template
        self.method = method
        self.op = op
        params = {}
        for raw in [*item.get("parameters", ()), *op.get("parameters", ())]:
            param = api.resolve(raw)
            params[(param["in"], param["name"])] = param
        self.parameters = list(params.values())

    @property
    def operation_id(self):
        return self.op.get("operationId")

    def request_schema(self):
        content = self.op.get("requestBody", {}).get("content", {})
        return content.get("application/json", {}).get("schema")

    def response_schema(self, api, status):
        responses = self.op.get("responses", {})
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            return None
        response = api.resolve(response)
        return response.get("content", {}).get("application/json", {}).get("schema")


class OpenApi:
    """A definition's schemas and operations as validators (see the module docstring)."""

    def __init__(self, spec, extra_properties=None, loose_schemas=(), case_insensitive_paths=False):
        from openapi_schema_validator import OAS30ReadValidator, OAS30Validator, OAS30WriteValidator

        self.spec = spec
        self.classes = {None: OAS30Validator, "read": OAS30ReadValidator, "write": OAS30WriteValidator}
        schemas = spec.get("components", {}).get("schemas", {})
        self.components = {
            "schemas": {
                name: strict_schema(schema, extra_properties, loose_schemas, name) for name, schema in schemas.items()
            }
        }
        self.format_checker = format_checker()
        self._validators = {}
        self._paths = []
        flags = re.IGNORECASE if case_insensitive_paths else 0
        for template, item in spec.get("paths", {}).items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
            names = re.findall(r"\{([^}]+)\}", template)
            literal = len([part for part in template.split("/") if part and not part.startswith("{")])
            self._paths.append((-literal, template, re.compile(f"^{pattern}$", flags), names, item))
        self._paths.sort(key=lambda row: row[:2])

    @classmethod
    def load(cls, path, **options):
        return cls(load_definition(str(path)), **options)

    # -- schemas -----------------------------------------------------------------------------
    def resolve(self, node):
        """Follow a local ``$ref`` (``#/components/...``) of the raw definition."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema, mode=None):
        """A validator of ``schema`` (a component name or a schema object) in ``mode`` (None, read, write)."""
        if isinstance(schema, str):
            schema = {"$ref": f"#/components/schemas/{schema}"}
        key = (json.dumps(schema, sort_keys=True, default=str), mode)
        validator = self._validators.get(key)
        if validator is None:
            root = {**schema, "components": self.components}  # inline schemas are used as given
            validator = self.classes[mode](root, format_checker=self.format_checker)
            self._validators[key] = validator
        return validator

    def errors(self, schema, instance, mode=None):
        """What is wrong with ``instance`` (``path: message`` lines), or []."""
        found = self.validator(schema, mode).iter_errors(instance)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found]

    def check(self, schema, instance, mode=None):
        problems = self.errors(schema, instance, mode)
        assert not problems, "\n".join(problems[:20])

    def response_schema(self, path, status="200", method="get"):
        """The component name of ``method path``'s answer (checks a fake's routing against the definition)."""
        content = self.spec["paths"][path][method]["responses"][str(status)].get("content", {})
        return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    # -- operations --------------------------------------------------------------------------
    def operation(self, method, path):
        """The ``Operation`` serving ``method path`` (a concrete path) and its path values, or (None, {})."""
        method = method.lower()
        fallback = (None, {})
        for _literal, template, pattern, names, item in self._paths:
            match = pattern.match(path)
            if not match or method not in item:
                continue
            operation = Operation(self, template, method, item, item[method])
            values = dict(zip(names, match.groups(), strict=True))
            if not self._parameter_errors(operation, "path", values):
                return operation, values
            if fallback[0] is None:
                fallback = (operation, values)
        return fallback

    def request_errors(self, method, path, query=None, headers=None, body=None, content_type=None):
        """Violations of a request: unknown path, parameters (path, query, header), body schema."""
        operation, values = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: no such operation in the definition"]
        headers = {key.lower(): value for key, value in (headers or {}).items()}
        problems = self._parameter_errors(operation, "path", values)
        problems += self._parameter_errors(operation, "query", query or {}, report_unknown=True)
        problems += self._parameter_errors(operation, "header", headers)
        schema = operation.request_schema()
        if schema is not None:
            if body in (None, b"", ""):
                if operation.op["requestBody"].get("required"):
                    problems.append("body: required")
            elif (content_type or "").split(";")[0].strip().lower() != "application/json":
                problems.append(f"body: Content-Type must be application/json, not {content_type!r}")
            else:
                problems += [f"body {line}" for line in self.errors(schema, _json(body), "write")]
        return [f"{operation.method.upper()} {operation.template}: {line}" for line in problems]

    def response_errors(self, method, path, status, body, content_type="application/json"):
        """Violations of an answer: its body against the documented schema of its status (others pass)."""
        operation, _values = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: no such operation in the definition"]
        schema = operation.response_schema(self, status)
        if schema is None:
            return []
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            return [f"{method} {operation.template} {status}: Content-Type {content_type!r}, not application/json"]
        try:
            payload = _json(body)
        except ValueError as error:
            return [f"{method} {operation.template} {status}: body is not JSON ({error})"]
        return [f"{method} {operation.template} {status} {line}" for line in self.errors(schema, payload, "read")]

    def _parameter_errors(self, operation, location, values, report_unknown=False):
        """``values``: name -> str or list of str (repeated query keys); header names lower-case."""
        problems, known = [], set()
        for param in operation.parameters:
            if param["in"] != location:
                continue
            name = param["name"].lower() if location == "header" else param["name"]
            known.add(name)
            raw = values.get(name)
            if raw is None or raw == []:
                if param.get("required"):
                    problems.append(f"{location} parameter {param['name']}: required")
                continue
            schema = self.resolve(param.get("schema", {}))
            try:
                value = _parameter_value(param, schema, raw)
            except ValueError as error:
                problems.append(f"{location} parameter {param['name']}: {error}")
                continue
            problems += [f"{location} parameter {param['name']} {line}" for line in self.errors(schema, value)]
        if report_unknown:
            problems += [f"{location} parameter {name}: not in the definition" for name in values if name not in known]
        return problems


def _json(body):
    if isinstance(body, (bytes, str)):
        return json.loads(body)
    return body


def _parameter_value(param, schema, raw):
    """A parameter's text converted to the JSON type its schema names (form style, CSV for arrays)."""
    values = raw if isinstance(raw, list) else [raw]
    kind = schema.get("type")
    if kind == "array":
        if param.get("explode", param.get("in") == "query") is False:
            values = [part for value in values for part in value.split(",")]
        return [_scalar(schema.get("items", {}), value) for value in values]
    if len(values) > 1:
        raise ValueError(f"given {len(values)} times")
    return _scalar(schema, values[0])


def _scalar(schema, text):
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() == "true"
    return text


__all__ = [
    "CONTRACTS",
    "ContractMissing",
    "OpenApi",
    "Operation",
    "contract_file",
    "format_checker",
    "load_definition",
    "strict_schema",
]
