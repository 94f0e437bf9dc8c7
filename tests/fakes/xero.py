"""A fake of Xero: its identity server, ``/connections`` and the Accounting API, over loopback HTTP.

Speaks the protocol of ``shared/contracts/xero.md`` (section numbers below refer to it) with the
JSON shapes of the official ``xero_accounting.yaml`` / ``xero-identity.yaml``::

    world = generate_world(seed=1)                                   # tests/fakes/xero_data.py
    with FakeXero(world=world, clock=ManualClock(world.now.timestamp())) as fake:
        token = fake.issue_token()                                   # as after the browser flow
        requests.get(f"{fake.api_url}/Invoices", headers=fake.headers(token))

Public surface, for the connector's tests and the benchmark:

* Addresses: ``authorize_url`` (``/identity/connect/authorize``), ``token_url`` (``/connect/token``),
  ``revoke_url`` (``/connect/revocation``), ``connections_url`` (``/connections``), ``api_url``
  (``/api.xro/2.0``); ``tenant_id`` (the default organisation), ``tenant_ids``.
* OAuth (§2): ``issue_token(scope=GRANULAR_SCOPES_DEFAULT, tenants=None)`` connects ``tenants``
  (default: every organisation) and returns the token answer; ``headers(token, tenant_id=None)``;
  ``choose_organisations(authorize_url, tenants, decision)`` (module function) is the browser's part
  of the consent page, where the user ticks organisations; ``expire_access_tokens()``,
  ``revoke_all()`` (user disconnects the app: every connection goes), ``connections()``,
  ``disconnect(tenant_id)``. Settings: ``granular_only`` (a 2026 app: broad scopes are
  ``invalid_scope``), ``refresh_token_idle_lifetime`` (60 days), ``refresh_token_grace`` (30 min),
  ``require_pkce``, ``client_id``/``client_secret``.
* Data: ``organisation(tenant_id)`` (settings: ``short_code``, lock dates, currencies, ``notable``),
  ``set_lock_dates(period, end_of_year, tenant_id)``, ``enable_currency(code)``, ``contacts(tenant_id)``,
  ``invoices(...)``, ``credit_notes(...)``, ``payments(...)`` (stored records, Xero field names,
  Python values), ``invoice(id_or_number)``, ``credit_note(...)``, ``rendered("Invoices", id)``
  (the GET answer as a dict), ``add_contact(...)``, ``add_invoice(...)`` (as a Xero user would:
  not ``createdByMyApp``), ``pay(invoice_id, amount)``, ``void(id)``, ``touch_contact(...)``,
  ``load(world)``, ``now()``,
  ``duplicates()`` / ``duplicate_count()`` (documents sharing a number, contacts sharing a
  ContactNumber, identical payments: what a retried write without idempotency leaves).
* Limits (§6): ``minute_limit`` (60), ``concurrent_limit`` (5), ``day_limit`` (5000),
  ``app_minute_limit`` (10000), ``enforce_rate_limits``, ``rate_limit_clock`` (None: the fake's
  clock; ``time.time`` for the benchmark on a ManualClock); ``served_429`` (Counter by problem),
  ``in_flight(tenant_id)``, ``reset_rate_limits()``, ``throttle(problem, retry_after, times)``.
* Faults: ``inject(status, times, retry_after, body, content_type, delay, path_prefix)`` (from
  ``FaultInjectionMixin``, aimed at ``/api.xro/2.0``), ``inject_after_commit(times, delay, drop,
  path_prefix)``: the write is committed, then the answer hangs ``delay`` seconds (past the
  client's timeout; its concurrency slot is freed at commit) or the connection is dropped. Bodies
  over ``max_body_bytes`` (3.5 MB) are answered 413.
* Introspection: ``requests`` (every request: method, path, args, headers, body),
  ``requests_to(prefix, method)``, ``route_counts`` / ``count("PUT /Invoices")``, ``api_calls``,
  ``violations`` (contract violations found by validation), ``idempotent_replays``.
* Validation: ``FakeXero(validate=True)`` (default: on when the contracts are there, off with the
  env var ``FAKE_XERO_VALIDATE=0``) checks every request and every answer against the official
  definitions; a violation is recorded in ``violations`` and answered 500 with the reason.
  ``validation_note`` says why it is off.

Behaviour worth knowing (guesses are tagged [I] in ``MESSAGES`` and the settings): writes without
``summarizeErrors=false`` are summarised (400 ``ValidationException`` listing only the failed
elements, the valid ones committed, §5.3); single-record POSTs (``/Invoices/{id}``) have no such
parameter in the definition, so a validating fake refuses it there; lists without ``page`` return
everything, invoices and credit notes then without ``LineItems``; ``If-Modified-Since`` is exclusive
(``if_modified_since_inclusive``); POST matches by id, ACCREC invoices also by number, contacts also
by ContactNumber; ACCREC invoice numbers are unique (credit notes: ``unique_credit_note_numbers``);
an ``Idempotency-Key`` is replayed for ``idempotency_retention`` (a day), refused for another body.

Totals are computed Xero's way (§10.3): per line ``round(net × rate, 2)`` (Inclusive: back-calculated),
sums of rounded lines; ``line_totals`` and ``document_totals`` are module functions tests can use.
Start it alone for the sandbox::

    python3 -m tests.fakes.xero --port 8072 --seed 1
"""

import argparse
import base64
import copy
import hashlib
import hmac
import html
import io
import json
import math
import os
import re
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import parse_qs

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import service
from .consent import ConsentForm, query_of
from .oauth2 import FakeOAuth2Server
from .openapi import ContractMissing, OpenApi, contract_file, load_definition
from .records_api import FaultInjectionMixin
from .service import AfterCommitFaultsMixin, capture_response, dec, drop_connection, money
from .xero_data import CURRENCY_NAMES, EXCHANGE_RATES, generate_world

UTC = timezone.utc
API_PATH = "/api.xro/2.0"
CONNECTIONS_PATH = "/connections"
AUTHORIZE_PATH = "/identity/connect/authorize"

# §2.4 scopes. The granular set is the default of a 2026 app; the broad one is for older apps.
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
BROAD_ONLY_SCOPES = frozenset({"accounting.transactions", "accounting.transactions.read", "accounting.reports.read"})
_GRANULAR = """accounting.settings accounting.contacts accounting.invoices accounting.payments
accounting.banktransactions accounting.manualjournals accounting.classicexpenses accounting.attachments"""
SCOPES = frozenset(
    {
        *OIDC_SCOPES,
        *BROAD_ONLY_SCOPES,
        *(scope for base in _GRANULAR.split() for scope in (base, f"{base}.read")),
        "accounting.budgets.read",
        "accounting.journals.read",
        "paymentservices",
        *(
            f"accounting.reports.{name}.read"
            for name in "aged balancesheet profitandloss trialbalance banksummary budgetsummary executivesummary "
            "taxreports tenninetynine".split()
        ),
    }
)
GRANULAR_SCOPES_DEFAULT = (
    "openid profile email offline_access "
    "accounting.settings accounting.contacts accounting.invoices accounting.payments"
)
BROAD_SCOPES_DEFAULT = (
    "openid profile email offline_access accounting.settings accounting.contacts accounting.transactions"
)
_SETTINGS = ({"accounting.settings", "accounting.settings.read"}, {"accounting.settings"})
_TRANSACTIONS = {"accounting.transactions", "accounting.transactions.read"}
# resource -> (scopes that allow reading, scopes that allow writing): any one of them suffices.
RESOURCE_SCOPES = {
    "Organisation": _SETTINGS,
    "TaxRates": _SETTINGS,
    "Accounts": _SETTINGS,
    "Currencies": _SETTINGS,
    "Contacts": ({"accounting.contacts", "accounting.contacts.read"}, {"accounting.contacts"}),
    "Invoices": (
        _TRANSACTIONS | {"accounting.invoices", "accounting.invoices.read"},
        {"accounting.transactions", "accounting.invoices"},
    ),
    "CreditNotes": (
        _TRANSACTIONS | {"accounting.invoices", "accounting.invoices.read"},
        {"accounting.transactions", "accounting.invoices"},
    ),
    "Payments": (
        _TRANSACTIONS | {"accounting.payments", "accounting.payments.read"},
        {"accounting.transactions", "accounting.payments"},
    ),
}

# Xero's messages. [V]/[R] as in the contract; the others are [I]: our wording, easy to change.
MESSAGES = {
    "number_unique": "Invoice # must be unique.",  # [V] spec example
    "contact_name_unique": (
        "The contact name {name} is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ),  # [V] spec example
    "contact_missing": (
        "The Contact must contain at least 1 of the following elements to identify the contact: "
        "Name, ContactID, ContactNumber"
    ),  # [V]
    "contact_archived": "Unable to assign an Archived contact.",  # [R]
    "not_modifiable": "Invoice not of valid status for modification",  # [R]
    "not_creatable": "Invoice not of valid status for creation",  # [I]
    "payment_not_authorised": "Payments can only be made against Authorised documents",  # [R]
    "payment_exceeds": "Payment amount exceeds the amount outstanding on this document",  # [R]
    "discount_too_big": "Discount must not be greater than the line total",  # [R]
    # [R] xeroizer #92: "…end of year lock date, currently set at 31-Jul-2013"; the period one by analogy [I]
    "period_lock": "The document date cannot be before the period lock date, currently set at {date}",
    "year_lock": "The document date cannot be before the end of year lock date, currently set at {date}",
    "currency": "Organisation is not subscribed to currency {code}",  # [R] n8n #19499
    "account_code": "Account code '{code}' is not a valid code for this document.",  # [R] Xero-NetStandard #364
    "account_required": "Account code must be specified",  # [R] calcinai/xero-php #230
    "tax_type": "The TaxType code {code} does not exist or cannot be used for this type of transaction.",  # [R]
    "tax_for_account": "The TaxType code '{code}' cannot be used with account code '{account}'.",  # [R] Xero-Java #336
    "contact_not_found": "Contact with ContactID {id} could not be found",  # [I]
    "contact_name_required": "A Contact Name must be specified",  # [I]
    "email": "Email address must be valid.",  # [I]
    "account_number": "The Account Number already exists",  # [R]
    "date": "The date '{value}' is not a valid date",  # [I]
    "negative_total": "The document total cannot be negative.",  # [I]
    "no_discount_on_credit_notes": "Discounts are not allowed on credit notes",  # [I]
    "line_description": "Description must be specified for a line item without a unit amount",  # [I]
    "document_not_found": "{kind} could not be found",  # [I]
    "payment_account": "Account '{code}' cannot be used for payments",  # [I]
    "payment_account_missing": "An Account (AccountID or Code) must be specified for the payment",  # [I]
    "payment_currency": "The bank account's currency must be the document's or the base currency",  # [I]
    "payment_amount": "Payment amount must be greater than zero",  # [I]
    "payment_target": "An Invoice or a CreditNote must be specified for the payment",  # [I]
    "allocation_exceeds": "The amount allocated exceeds the remaining credit or the amount due",  # [I]
    "allocation_mismatch": "The credit note and the invoice must have the same contact and currency",  # [I]
    "idempotency_reuse": "The Idempotency-Key was used for a different request",  # [I]
    "exists": "{kind} {id} already exists; use POST to update it",  # [I]
}
NO_DATA = "No data has been processed for this endpoint. This endpoint is expecting {what} data to be specifed in the request body."  # [R]  # noqa: E501
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"  # [R] plain text
ENVELOPE = ("Id", "Status", "ProviderName", "DateTimeUTC")
# Fields Xero sends that the definition's schemas lack, as its own examples show (§9: ISO twins).
UNDOCUMENTED_FIELDS = {"Invoice": ("DateString", "DueDateString"), "CreditNote": ("DateString", "DueDateString")}
LOOSE_SCHEMAS = ("Element",)  # a 400's Elements echo the whole submitted element [V: spec examples]

CENT = Decimal("0.01")
ZERO = Decimal("0")


# ------------------------------------------------------------------------------ dates & money
# Amounts: ``dec`` and ``money`` (tests/fakes/service.py) round half cents up, as Xero does [I].
def msdate(value, offset=True):
    """``/Date(1777593600000+0000)/`` for a date (midnight UTC) or an aware datetime (§9)."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
    else:
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    millis = int(round(moment.timestamp() * 1000))
    return f"/Date({millis}+0000)/" if offset else f"/Date({millis})/"


_MSDATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")


def parse_msdate(text):
    """``/Date(ms[+hhmm])/`` as an aware UTC datetime (the offset only says where it was shown)."""
    match = _MSDATE.match(text.strip())
    if not match:
        raise ValueError(f"not a /Date()/ value: {text!r}")
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)


def parse_request_date(text):
    """A document date as requests send it: ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS[.f][zone]`` or ``/Date()/``."""
    if not isinstance(text, str):
        raise ValueError(text)
    text = text.strip()
    if text.startswith(("/Date(", "\\/Date(")):
        return parse_msdate(text).date()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", text)
    if match:
        return date.fromisoformat(match.group(1))  # the calendar date as written [R]
    raise ValueError(text)


def parse_if_modified_since(text):
    """``If-Modified-Since``: ISO 8601 (no zone = UTC) or an HTTP date; an aware UTC datetime."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        moment = parsedate_to_datetime(text)  # ValueError/TypeError when neither
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def connection_time(moment):
    """``2019-12-07T18:46:19.5165400``: /connections writes 7 fractional digits and no zone (§2.5)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def line_totals(line, rate, line_amount_types, unitdp=2):
    """``(LineAmount, TaxAmount, discount)`` of one line, Xero's way (§3.6, §10.3).

    ``line``: Quantity, UnitAmount, DiscountRate, DiscountAmount, LineAmount (JSON numbers or
    Decimals); ``rate``: the tax rate in percent. UnitAmount is first rounded to ``unitdp``.
    """
    quantity = dec(line.get("Quantity"), 4)
    unit = dec(line.get("UnitAmount"), 4 if unitdp == 4 else 2)
    if unit is not None:
        quantity = Decimal(1) if quantity is None else quantity
        gross = quantity * unit
        if line.get("DiscountRate") is not None:
            amount = money(gross * (Decimal(100) - dec(line["DiscountRate"])) / Decimal(100))
        elif line.get("DiscountAmount") is not None:
            amount = money(gross - dec(line["DiscountAmount"]))
        else:
            amount = money(gross)
        discount = money(gross) - amount
    else:
        amount, discount = money(line.get("LineAmount") or 0), ZERO
    rate = dec(rate or 0)
    if line_amount_types == "NoTax" or not rate:
        tax = money(0)
    elif line_amount_types == "Inclusive":
        tax = money(amount * rate / (Decimal(100) + rate))
    else:
        tax = money(amount * rate / Decimal(100))
    return amount, tax, discount


def document_totals(lines, line_amount_types):
    """``{SubTotal, TotalTax, Total, TotalDiscount}`` from lines carrying LineAmount/TaxAmount."""
    amounts = sum((money(line["LineAmount"]) for line in lines), ZERO)
    tax = sum((money(line["TaxAmount"]) for line in lines), ZERO)
    discount = sum((money(line.get("_discount", 0)) for line in lines), ZERO)
    subtotal = amounts - tax if line_amount_types == "Inclusive" else amounts
    return {
        "SubTotal": money(subtotal),
        "TotalTax": money(tax),
        "Total": money(subtotal + tax),
        "TotalDiscount": money(discount),
    }


# ------------------------------------------------------------------------------ where clauses
class QueryError(ValueError):
    """An invalid ``where``/``order``/parameter: 400 ``QueryParseException`` (ErrorNumber 16) [I]."""


_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|>=|<=|>|<|&&|\|\||\(|\)|,)
    |(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<number>-?\d+(?:\.\d+)?))""",
    re.VERBOSE,
)


def _tokens(text):
    position, out = 0, []
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"Unexpected character at position {position} of the where clause: {text!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


class WhereClause:
    """A subset of Xero's .NET-style filters (§4.1): ``A==B``, ``!=``, ``<``…, ``AND``/``&&``,
    ``OR``/``||``, parentheses, ``"text"``, numbers, ``true``/``false``/``null``, ``Guid("…")``,
    ``DateTime(y,m,d[,h,mi,s])``, ``Field.Contains("x")``/``StartsWith``/``EndsWith``; dotted
    fields (``Contact.ContactID``). Text compares case-insensitively [I]."""

    def __init__(self, text):
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.tree = self._or()
        if self.position != len(self.tokens):
            raise QueryError(f"Unexpected {self.tokens[self.position][1]!r} in the where clause {text!r}")

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def _take(self, value=None):
        kind, token = self._peek()
        if kind is None or (value is not None and token != value):
            raise QueryError(f"Expected {value or 'more'} in the where clause {self.text!r}")
        self.position += 1
        return kind, token

    def _or(self):
        node = self._and()
        while self._peek()[1] in ("OR", "or", "||"):
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._term()
        while self._peek()[1] in ("AND", "and", "&&"):
            self._take()
            node = ("and", node, self._term())
        return node

    def _term(self):
        if self._peek()[1] == "(":
            self._take("(")
            node = self._or()
            self._take(")")
            return node
        kind, field = self._take()
        if kind != "word":
            raise QueryError(f"Expected a field name, not {field!r}, in the where clause {self.text!r}")
        for method in ("Contains", "StartsWith", "EndsWith"):
            if field.endswith(f".{method}"):
                self._take("(")
                value = self._value()
                self._take(")")
                return ("call", method, field[: -len(method) - 1], value)
        kind, op = self._take()
        if op not in ("==", "!=", ">=", "<=", ">", "<"):
            raise QueryError(f"Expected a comparison after {field}, not {op!r}")
        return ("cmp", op, field, self._value())

    def _value(self):
        kind, token = self._take()
        if kind == "string":
            return json.loads(token)
        if kind == "number":
            return Decimal(token)
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if token in ("Guid", "DateTime"):
            self._take("(")
            args = [self._value()]
            while self._peek()[1] == ",":
                self._take(",")
                args.append(self._value())
            self._take(")")
            if token == "Guid":
                return str(uuid.UUID(str(args[0])))
            return datetime(*[int(arg) for arg in args], tzinfo=UTC)
        raise QueryError(f"Unexpected {token!r} in the where clause {self.text!r}")

    def matches(self, record):
        return self._eval(self.tree, record)

    def _eval(self, node, record):
        if node[0] == "or":
            return self._eval(node[1], record) or self._eval(node[2], record)
        if node[0] == "and":
            return self._eval(node[1], record) and self._eval(node[2], record)
        value = _field(record, node[2])
        if node[0] == "call":
            text, needle = str(value or "").casefold(), str(node[3]).casefold()
            return {"Contains": needle in text, "StartsWith": text.startswith(needle)}.get(
                node[1], text.endswith(needle)
            )
        return _compare(node[1], value, node[3])


def _field(record, dotted):
    value = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _comparable(value, other):
    if isinstance(other, datetime) and isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(other, str) and isinstance(value, str):
        return value.casefold()
    if isinstance(other, Decimal) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _compare(op, value, literal):
    left = _comparable(value, literal)
    right = literal.casefold() if isinstance(literal, str) else literal
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    except TypeError:
        raise QueryError(f"Cannot compare {value!r} with {literal!r}") from None


# ------------------------------------------------------------------------------ records
@dataclass
class Connection:
    id: str
    auth_event_id: str
    tenant_id: str
    tenant_name: str
    created: datetime
    updated: datetime
    tenant_type: str = "ORGANISATION"

    def payload(self):
        return {
            "id": self.id,
            "authEventId": self.auth_event_id,
            "tenantId": self.tenant_id,
            "tenantType": self.tenant_type,
            "tenantName": self.tenant_name,
            "createdDateUtc": connection_time(self.created),
            "updatedDateUtc": connection_time(self.updated),
        }


@dataclass
class Kind:
    """What differs between invoices and credit notes."""

    resource: str
    id_field: str
    number_field: str
    types: tuple
    number_prefix: str
    discounts: bool
    element: str  # the schema name, for messages


INVOICES = Kind("Invoices", "InvoiceID", "InvoiceNumber", ("ACCREC", "ACCPAY"), "INV-", True, "Invoice")
CREDIT_NOTES = Kind(
    "CreditNotes", "CreditNoteID", "CreditNoteNumber", ("ACCRECCREDIT", "ACCPAYCREDIT"), "CN-", False, "CreditNote"
)
KINDS = {"Invoices": INVOICES, "CreditNotes": CREDIT_NOTES}


class ElementError(Exception):
    """Validation errors of one element of a write (its ``ValidationErrors``)."""

    def __init__(self, *messages):
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class Tenant:
    """One organisation's data as the fake holds it (records: Xero field names, Python values)."""

    def __init__(self, org):
        self.org = copy.deepcopy(org)
        self.tax_rates = {rate["TaxType"]: copy.deepcopy(rate) for rate in org.tax_rates}
        self.accounts = {account["AccountID"]: copy.deepcopy(account) for account in org.accounts}
        self.contacts = {contact["ContactID"]: copy.deepcopy(contact) for contact in org.contacts}
        self.invoices = {}
        self.credit_notes = {}
        self.payments = {}
        self.numbers = Counter()
        self.idempotency = {}

    def documents(self, kind):
        return self.invoices if kind is INVOICES else self.credit_notes

    def account_by_code(self, code):
        return next((a for a in self.accounts.values() if a.get("Code") == code), None)

    def contact_by(self, field, value):
        folded = str(value).casefold()
        return next((c for c in self.contacts.values() if str(c.get(field) or "").casefold() == folded), None)


# ------------------------------------------------------------------------------ the fake
class FakeXero(AfterCommitFaultsMixin, FaultInjectionMixin, FakeOAuth2Server):
    """Xero's identity server, ``/connections`` and Accounting API over generated organisations."""

    service_name = "Xero"
    known_scopes = SCOPES
    client_name = "Recruitment Sync"
    path_prefix = "/connect"
    authorize_path = "authorize"
    token_path = "token"
    revoke_path = "revocation"
    client_id = "FAKEXEROCLIENTID0000000000000000"
    client_secret = "fake-xero-client-secret"
    access_token_lifetime = 1800  # [V]
    refresh_token_idle_lifetime = 60 * 86400  # [V]
    refresh_token_grace = 1800  # [V] the previous refresh token may be replayed for 30 min
    code_lifetime = 300  # [I]
    granular_only = False  # a "new" 2026 app: broad scopes are invalid_scope [V]
    provider_name = "Recruitment Sync"  # the envelope's ProviderName: the app's name
    minute_limit = 60  # [V] per tenant, rolling minute
    concurrent_limit = 5  # [V] per tenant
    day_limit = 5000  # [V] per tenant, rolling 24 h (Starter tier: 1000 [R])
    app_minute_limit = 10000  # [V] per app, every tenant
    enforce_rate_limits = True
    rate_limit_clock = None  # None: self.clock
    idempotency_retention = 86400  # [I] about a day
    max_page_size = 1000  # [R]
    default_page_size = 100  # [V]
    if_modified_since_inclusive = False  # [I] records changed strictly after the timestamp
    unique_credit_note_numbers = False  # [I] Xero documents no uniqueness rule for credit notes
    tax_override_tolerance = Decimal("0.01")  # [I] a line's TaxAmount may differ this much from Xero's
    validate = None  # None: on when the contracts are there (env FAKE_XERO_VALIDATE=0 turns it off)
    max_body_bytes = 3_500_000  # [V]

    _settings = (
        *FakeOAuth2Server._settings,
        "refresh_token_grace",
        "granular_only",
        "provider_name",
        "minute_limit",
        "concurrent_limit",
        "day_limit",
        "app_minute_limit",
        "enforce_rate_limits",
        "rate_limit_clock",
        "idempotency_retention",
        "max_page_size",
        "default_page_size",
        "if_modified_since_inclusive",
        "unique_credit_note_numbers",
        "tax_override_tolerance",
        "validate",
        "max_body_bytes",
    )

    _DOCS = "<any(Contacts, Invoices, CreditNotes, Payments):resource>"
    _SETTINGS_RESOURCES = "<any(Organisation, TaxRates, Accounts, Currencies):resource>"
    rules = (
        (AUTHORIZE_PATH, "oauth_authorize", ["GET", "POST"]),
        (CONNECTIONS_PATH, "connections", ["GET"]),
        (f"{CONNECTIONS_PATH}/<connection_id>", "connection", ["DELETE"]),
        (f"{API_PATH}/{_SETTINGS_RESOURCES}", "settings", ["GET"]),
        (f"{API_PATH}/{_DOCS}", "collection", ["GET", "PUT", "POST"]),
        (f"{API_PATH}/{_DOCS}/<ident>", "item", ["GET", "POST"]),
        (f"{API_PATH}/CreditNotes/<ident>/Allocations", "allocations", ["PUT"]),
        (f"{API_PATH}/<path:rest>", "unknown", ["GET", "PUT", "POST", "DELETE", "PATCH"]),
        # Xero's web app (go.xero.com): where *View in Xero* leads in the sandbox.
        ("/app/<short_code>/<path:rest>", "web_app", ["GET"]),
        ("/organisationlogin/default.aspx", "web_app", ["GET"]),
        ("/AccountsReceivable/<path:rest>", "web_app", ["GET"]),
        ("/Contacts/View/<path:rest>", "web_app", ["GET"]),
    )

    def on_web_app(self, request, short_code=None, rest=None):
        details = [("Address", request.full_path.rstrip("?"))]
        if short_code:
            details.insert(0, ("Organisation", short_code))
        return self.web_app_page("Xero", details)

    def __init__(self, host="127.0.0.1", port=0, *, world=None, clock=None, **settings):
        super().__init__(host=host, port=port, clock=clock, **settings)
        self._data_lock = threading.RLock()
        self._rate_lock = threading.Lock()
        self.route_counts = Counter()
        self.served_429 = Counter()
        self.violations = []
        self.idempotent_replays = 0
        self.api_calls = 0
        self._after_commit = []
        self._connections = {}
        self._grant_events = {}
        self._code_tenants = {}
        self._successors = {}
        self.reset_rate_limits()
        self.openapi, self.identity_openapi, self.validation_note = self._load_definitions()
        self.load(world if world is not None else generate_world())

    # -- addresses -----------------------------------------------------------------------
    @property
    def authorize_url(self):
        return f"{self.url}{AUTHORIZE_PATH}"

    @property
    def api_url(self):
        return f"{self.url}{API_PATH}"

    @property
    def connections_url(self):
        return f"{self.url}{CONNECTIONS_PATH}"

    @property
    def tenant_id(self):
        """The default organisation's tenant id (the world's first organisation)."""
        return self.world.organisations[0].organisation_id

    @property
    def tenant_ids(self):
        return [org.organisation_id for org in self.world.organisations]

    def headers(self, token, tenant_id=None, **extra):
        """The headers of an Accounting call with ``token`` (a token answer or an access token)."""
        access = token["access_token"] if isinstance(token, dict) else token
        return {
            "Authorization": f"Bearer {access}",
            "xero-tenant-id": tenant_id or self.tenant_id,
            "Accept": "application/json",
            **extra,
        }

    # -- world -----------------------------------------------------------------------------
    def load(self, world):
        """Serve ``world`` (a ``XeroWorld``); forgets documents and connections' data, keeps tokens."""
        with self._data_lock:
            self.world = world
            self._tenants = {org.organisation_id: Tenant(org) for org in world.organisations}
            self.user_name = f"{world.user_first_name} {world.user_last_name}"
            for org in world.organisations:
                for invoice in org.invoices:
                    self.add_invoice(org.organisation_id, **copy.deepcopy(invoice))

    def tenant(self, tenant_id=None):
        return self._tenants[tenant_id or self.tenant_id]

    def organisation(self, tenant_id=None):
        """The organisation's settings (``xero_data.Organisation``), live: edits show in the API."""
        return self.tenant(tenant_id).org

    def set_lock_dates(self, period_lock_date=None, end_of_year_lock_date=None, tenant_id=None):
        with self._data_lock:
            org = self.organisation(tenant_id)
            org.period_lock_date, org.end_of_year_lock_date = period_lock_date, end_of_year_lock_date

    def enable_currency(self, code, tenant_id=None):
        with self._data_lock:
            org = self.organisation(tenant_id)
            if code not in org.currencies:
                org.currencies = (*org.currencies, code)

    def now(self):
        """The fake's clock as an aware UTC datetime, to the millisecond (as Xero stores times)."""
        moment = datetime.fromtimestamp(self.clock(), UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def contacts(self, tenant_id=None):
        with self._data_lock:
            return [copy.deepcopy(c) for c in self.tenant(tenant_id).contacts.values()]

    def invoices(self, tenant_id=None):
        with self._data_lock:
            return [copy.deepcopy(i) for i in self.tenant(tenant_id).invoices.values()]

    def credit_notes(self, tenant_id=None):
        with self._data_lock:
            return [copy.deepcopy(i) for i in self.tenant(tenant_id).credit_notes.values()]

    def payments(self, tenant_id=None):
        with self._data_lock:
            return [copy.deepcopy(p) for p in self.tenant(tenant_id).payments.values()]

    def invoice(self, ident, tenant_id=None):
        """A stored invoice by InvoiceID or InvoiceNumber (the first one), or None."""
        return self._stored(INVOICES, ident, tenant_id)

    def credit_note(self, ident, tenant_id=None):
        return self._stored(CREDIT_NOTES, ident, tenant_id)

    def _stored(self, kind, ident, tenant_id):
        with self._data_lock:
            documents = self.tenant(tenant_id).documents(kind)
            found = documents.get(ident) or next(
                (d for d in documents.values() if d.get(kind.number_field) == ident), None
            )
            return copy.deepcopy(found)

    def rendered(self, kind, ident, tenant_id=None, unitdp=4):
        """What ``GET /Invoices/{id}`` (or CreditNotes) answers for one document, as a dict."""
        with self._data_lock:
            tenant = self.tenant(tenant_id)
            stored = tenant.documents(KINDS[kind]).get(ident)
            return json.loads(
                json.dumps(self._render_document(tenant, KINDS[kind], stored, unitdp, True), default=_json)
            )

    def add_contact(self, name, tenant_id=None, **fields):
        """Create a contact as a Xero user would (no API call); returns its ContactID."""
        from .xero_data import contact

        with self._data_lock:
            record = contact(_rng(self), self.now(), name, **fields)
            record["UpdatedDateUTC"] = self.now()
            self.tenant(tenant_id).contacts[record["ContactID"]] = record
            return record["ContactID"]

    def touch_contact(self, contact_id, tenant_id=None, **fields):
        """Edit a contact in "Xero's UI": fields change and ``UpdatedDateUTC`` moves to now."""
        with self._data_lock:
            record = self.tenant(tenant_id).contacts[contact_id]
            record.update(fields)
            record["UpdatedDateUTC"] = self.now()

    def add_invoice(self, tenant_id=None, **invoice):
        """Create a document as a Xero user would (same rules as the API); returns the stored record."""
        kind = CREDIT_NOTES if invoice.get("Type", "ACCREC") in CREDIT_NOTES.types else INVOICES
        with self._data_lock:
            tenant = self.tenant(tenant_id)
            record = self._save_document(tenant, kind, invoice, "PUT", None, 4)
            record["_by_app"] = False  # not createdByMyApp
            return copy.deepcopy(record)

    def pay(self, invoice_id, amount=None, tenant_id=None, when=None, account_code=None):
        """Record a payment in Xero's UI (default: the whole amount due, to the first bank account)."""
        with self._data_lock:
            tenant = self.tenant(tenant_id)
            invoice = tenant.invoices[invoice_id]
            bank = next(a for a in tenant.accounts.values() if a["Type"] == "BANK" and a.get("Code"))
            element = {
                "Invoice": {"InvoiceID": invoice_id},
                "Account": {"Code": account_code or bank["Code"]},
                "Date": (when or self.now().date()).isoformat(),
                "Amount": float(amount if amount is not None else invoice["AmountDue"]),
            }
            return copy.deepcopy(self._save_payment(tenant, element))

    def void(self, ident, tenant_id=None):
        """Void an AUTHORISED document without payments, as a Xero user would."""
        kind = INVOICES if self.invoice(ident, tenant_id) else CREDIT_NOTES
        with self._data_lock:
            tenant = self.tenant(tenant_id)
            stored = self._stored(kind, ident, tenant_id)
            element = {kind.id_field: stored[kind.id_field], "Status": "VOIDED"}
            return copy.deepcopy(self._save_document(tenant, kind, element, "POST", None, 4))

    def duplicates(self):
        """``{"Invoices": {number: n}, "CreditNotes": …, "Contacts": {ContactNumber or name: n},
        "Payments": {(document, amount, date, reference): n}}`` for every value held more than once,
        over every tenant (numbers are per tenant: keys are ``(tenant_id, value)``)."""
        found = {"Invoices": Counter(), "CreditNotes": Counter(), "Contacts": Counter(), "Payments": Counter()}
        with self._data_lock:
            for tenant_id, tenant in self._tenants.items():
                for kind in (INVOICES, CREDIT_NOTES):
                    for doc in tenant.documents(kind).values():
                        if doc.get("Status") != "DELETED" and doc.get(kind.number_field):
                            found[kind.resource][(tenant_id, doc[kind.number_field])] += 1
                for contact in tenant.contacts.values():
                    key = contact.get("ContactNumber") or contact["Name"].casefold()
                    found["Contacts"][(tenant_id, key)] += 1
                for payment in tenant.payments.values():
                    if payment["Status"] != "DELETED":
                        target = payment.get("InvoiceID") or payment.get("CreditNoteID")
                        key = (tenant_id, target, payment["Amount"], payment["Date"], payment.get("Reference"))
                        found["Payments"][key] += 1
        return {name: {key: n for key, n in counts.items() if n > 1} for name, counts in found.items()}

    def duplicate_count(self, resources=("Invoices", "CreditNotes", "Payments")):
        """How many documents too many (each value held n times counts n - 1)."""
        found = self.duplicates()
        return sum(n - 1 for name in resources for n in found[name].values())

    # -- OAuth, Xero style (§2) ----------------------------------------------------------
    def issue_token(self, scope=GRANULAR_SCOPES_DEFAULT, tenants=None):
        """Tokens as if the user had consented to ``scope`` and ticked ``tenants`` (default: all)."""
        with self._tokens_lock:
            grant = self._new_grant(self.client_id, scope)
            self._connect(grant.grant_id, self.tenant_ids if tenants is None else tenants)
            return self._issue(grant)

    def connections(self):
        with self._tokens_lock:
            return [connection.payload() for connection in self._connections.values()]

    def disconnect(self, tenant_id):
        with self._tokens_lock:
            self._connections.pop(tenant_id, None)

    def revoke_all(self):
        super().revoke_all()
        with self._tokens_lock:
            self._connections.clear()

    def _new_grant(self, client_id, scope):
        grant = super()._new_grant(client_id, scope)
        self._grant_events[grant.grant_id] = str(uuid.uuid4())  # one consent, one authEventId [V]
        return grant

    def _connect(self, grant_id, tenant_ids):
        event = self._grant_events[grant_id]
        now = datetime.fromtimestamp(self.clock(), UTC)
        for tenant_id in tenant_ids:
            org = self.world.organisation(tenant_id)
            existing = self._connections.get(tenant_id)
            if existing:
                existing.auth_event_id, existing.updated = event, now
            else:
                self._connections[tenant_id] = Connection(str(uuid.uuid4()), event, tenant_id, org.name, now, now)

    def _scope_problem(self, scopes):
        problem = super()._scope_problem(scopes)
        if not problem and self.granular_only and BROAD_ONLY_SCOPES & set(scopes):
            problem = "this app may only request granular scopes"  # [V] apps created after 2 March 2026
        return problem

    def _consent_page(self, params):
        """Xero's consent: the scopes, and the organisations to connect (ticked ones are connected)."""
        page = super()._consent_page(params)
        boxes = "\n".join(
            f'    <label><input type="checkbox" name="tenant" value="{html.escape(org.organisation_id)}"'
            f"{' checked' if index == 0 else ''}> {html.escape(org.name)}</label><br>"
            for index, org in enumerate(self.world.organisations)
        )
        fieldset = f'<fieldset id="organisations">\n    <legend>Organisations</legend>\n{boxes}\n  </fieldset>\n'
        text = page.get_data(as_text=True).replace("    <button", fieldset + "    <button", 1)
        text = text.replace(f'action="{self.path_prefix}/{self.authorize_path}"', f'action="{AUTHORIZE_PATH}"')
        page.set_data(text)
        return page

    def on_oauth_authorize(self, request):
        response = super().on_oauth_authorize(request)
        if request.method == "POST" and response.status_code == 302:
            code = query_of(response.headers["Location"]).get("code")
            if code:
                chosen = request.form.getlist("tenant")
                # The generic consent helper sends hidden fields only: then the pre-ticked first one.
                known = [tenant for tenant in chosen if tenant in self.tenant_ids]
                with self._tokens_lock:
                    self._code_tenants[code] = known if chosen else self.tenant_ids[:1]
        return response

    def _grant_authorization_code(self, client_id, form):
        response = super()._grant_authorization_code(client_id, form)
        if response.status_code == 200:
            with self._tokens_lock:
                code = self._codes[form["code"]]
                self._connect(code.grant_id, self._code_tenants.pop(code.code, []))
        return response

    def _grant_refresh_token(self, client_id, form):
        value = form.get("refresh_token")
        with self._tokens_lock:
            previous = self._successors.get(value)
            refresh = self._refresh_tokens.get(value)
            if previous and refresh and not self._grants[refresh.grant_id].revoked:
                answer, rotated_at = previous
                successor = self._refresh_tokens.get(answer.get("refresh_token"))
                if self.clock() - rotated_at < self.refresh_token_grace and successor and not successor.rotated:
                    return self.token_response(answer)  # the lost answer, once more [V: 30-min grace]
            response = super()._grant_refresh_token(client_id, form)
            if response.status_code == 200:
                self._successors[value] = (json.loads(response.get_data()), self.clock())
            return response

    def _issue(self, grant, scope=None):
        answer = super()._issue(grant, scope)
        scopes = (grant.scope if scope is None else scope).split()
        access = self._access_tokens.pop(answer["access_token"])
        access.token = self._jwt(access, grant, scopes)
        self._access_tokens[access.token] = access
        answer["access_token"] = access.token
        if "offline_access" not in scopes:  # [V] refresh tokens need offline_access
            refresh = answer.pop("refresh_token")
            self._refresh_tokens.pop(refresh, None)
            self.issued_refresh_tokens.remove(refresh)
        if "openid" in scopes:
            answer = {"id_token": self._id_token(grant), **answer}
        return answer

    def _jwt(self, access, grant, scopes):
        now = int(self.clock())
        claims = {
            "nbf": now,
            "exp": int(access.expires_at),
            "iss": "https://identity.xero.com",
            "aud": "https://identity.xero.com/resources",
            "client_id": self.client_id,
            "sub": self.world.xero_user_id.replace("-", ""),
            "auth_time": now,
            "xero_userid": self.world.xero_user_id,
            "global_session_id": grant.grant_id,
            "jti": access.token,
            "authentication_event_id": self._grant_events.get(grant.grant_id, ""),
            "scope": scopes,
            "amr": ["pwd"],
        }
        return _encode_jwt(claims, self.client_secret or "fake")

    def _id_token(self, grant):
        now = int(self.clock())
        claims = {
            "nbf": now,
            "exp": now + 300,
            "iss": "https://identity.xero.com",
            "aud": self.client_id,
            "iat": now,
            "at_hash": grant.grant_id,
            "sub": self.world.xero_user_id.replace("-", ""),
            "auth_time": now,
            "xero_userid": self.world.xero_user_id,
            "global_session_id": grant.grant_id,
            "preferred_username": self.world.user_email,
            "email": self.world.user_email,
            "given_name": self.world.user_first_name,
            "family_name": self.world.user_last_name,
        }
        return _encode_jwt(claims, self.client_secret or "fake")

    def on_oauth_revoke(self, request):
        """Revoking the refresh token ends the grant and removes the user's connections [V]."""
        token = request.form.get("token")
        with self._tokens_lock:
            was_refresh = token in self._refresh_tokens
        response = super().on_oauth_revoke(request)
        if response.status_code == 200 and was_refresh:
            with self._tokens_lock:
                self._connections.clear()
        return response

    def _unauthorized(self, description, error="invalid_token"):
        """401 in Xero's problem-JSON shape (§7)."""
        if "expired" in description:
            stamp = datetime.fromtimestamp(self.clock(), UTC).strftime("%m/%d/%Y %H:%M:%S")
            detail = f"TokenExpired: token expired at {stamp}"
        else:
            detail = "AuthorizationUnsuccessful"
        response = self.json_response(
            _problem(401, "Unauthorized", detail),
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        return HTTPException(response=response)

    # -- /connections (§2.5) ----------------------------------------------------------------
    def on_connections(self, request):
        self.authenticate(request)
        event = request.args.get("authEventId")
        with self._tokens_lock:
            found = [c.payload() for c in self._connections.values() if event in (None, c.auth_event_id)]
        return self.json_response(found)

    def on_connection(self, request, connection_id):
        self.authenticate(request)
        with self._tokens_lock:
            for tenant_id, connection in list(self._connections.items()):
                if connection.id == connection_id:
                    del self._connections[tenant_id]
                    return Response(status=204)
        return Response(NOT_FOUND_TEXT, status=404, content_type="text/plain")

    # -- limits (§6) ----------------------------------------------------------------------
    def reset_rate_limits(self):
        with self._rate_lock:
            self._minute = {}
            self._day = {}
            self._app_minute = deque()
            self._in_flight = Counter()

    def in_flight(self, tenant_id=None):
        with self._rate_lock:
            return self._in_flight[tenant_id or self.tenant_id]

    def _rate_now(self):
        return (self.rate_limit_clock or self.clock)()

    def _rate_enter(self, tenant_id):
        """Count a call of ``tenant_id``; (problem, retry_after) when a limit is exceeded, else None."""
        now = self._rate_now()
        with self._rate_lock:
            minute = self._minute.setdefault(tenant_id, deque())
            day = self._day.setdefault(tenant_id, deque())
            for window, size in ((minute, 60), (day, 86400), (self._app_minute, 60)):
                while window and window[0] <= now - size:
                    window.popleft()
            if self.enforce_rate_limits:
                checks = (
                    ("concurrent", self._in_flight[tenant_id] >= self.concurrent_limit, None, 1),
                    ("day", len(day) >= self.day_limit, day, 86400),
                    ("minute", len(minute) >= self.minute_limit, minute, 60),
                    ("appminute", len(self._app_minute) >= self.app_minute_limit, self._app_minute, 60),
                )
                for problem, exceeded, window, size in checks:
                    if exceeded:
                        wait = 1 if window is None else max(1, math.ceil(window[0] + size - now))
                        return problem, wait
            minute.append(now)
            day.append(now)
            self._app_minute.append(now)
            self._in_flight[tenant_id] += 1
        return None

    def _release(self, environ):
        """The call is no longer in progress (once: at its end, or when its write is committed)."""
        if not environ.get("fakexero.released"):
            environ["fakexero.released"] = True
            with self._rate_lock:
                self._in_flight[environ.get("HTTP_XERO_TENANT_ID", "").strip()] -= 1

    def _rate_headers(self, tenant_id):
        now = self._rate_now()
        with self._rate_lock:
            minute = [t for t in self._minute.get(tenant_id, ()) if t > now - 60]
            day = [t for t in self._day.get(tenant_id, ()) if t > now - 86400]
            app = [t for t in self._app_minute if t > now - 60]
        return [
            ("X-DayLimit-Remaining", str(max(0, self.day_limit - len(day)))),
            ("X-MinLimit-Remaining", str(max(0, self.minute_limit - len(minute)))),
            ("X-AppMinLimit-Remaining", str(max(0, self.app_minute_limit - len(app)))),
        ]

    def throttle(self, problem="minute", retry_after=30, times=1):
        """The next ``times`` API calls answer 429 as Xero does for ``problem`` (minute, day, concurrent)."""
        return self.inject(429, times=times, retry_after=retry_after, body=f"rate limit:{problem}")

    # -- faults --------------------------------------------------------------------------
    def inject(
        self, status=None, times=1, retry_after=None, body=None, content_type=None, delay=None, path_prefix=API_PATH
    ):
        """``FaultInjectionMixin.inject`` aimed at the Accounting API by default."""
        return super().inject(status, times, retry_after, body, content_type, delay, path_prefix)

    def inject_after_commit(self, times=1, delay=5.0, drop=False, path_prefix=API_PATH):
        """``AfterCommitFaultsMixin.inject_after_commit`` aimed at the Accounting API by default."""
        return super().inject_after_commit(times, delay, drop, path_prefix)

    def _fault_response(self, fault):
        if fault.status == 429:
            problem = "minute"
            if isinstance(fault.body, str) and fault.body.startswith("rate limit:"):
                problem = fault.body.split(":", 1)[1]
            self.served_429[problem] += 1
            response = FaultInjectionMixin._fault_response(replace(fault, body=b"", content_type="text/plain"))
            response.headers["X-Rate-Limit-Problem"] = problem
            response.headers.setdefault("Retry-After", "60")
            return response
        if fault.body is None and fault.status and fault.status >= 500:
            fault = replace(fault, body=f"Injected fault {fault.status}", content_type="text/plain")
        return FaultInjectionMixin._fault_response(fault)

    # -- validation ------------------------------------------------------------------------
    def _load_definitions(self):
        wanted = self.validate
        if wanted is None:
            wanted = os.environ.get("FAKE_XERO_VALIDATE", "1") not in ("0", "", "false", "no")
        if not wanted:
            return None, None, "validation is off (validate=False or FAKE_XERO_VALIDATE=0)"
        try:
            accounting_api, identity_api = _definitions(
                str(contract_file("xero", "xero_accounting.yaml")), str(contract_file("xero", "xero-identity.yaml"))
            )
        except (ContractMissing, ImportError) as missing:
            if self.validate:
                raise
            return None, None, f"validation is off: {missing}"
        return accounting_api, identity_api, "validation is on: every request and answer is checked"

    def _definition_for(self, path):
        if path.startswith(API_PATH + "/"):
            return self.openapi, path[len(API_PATH) :]
        return self.identity_openapi, path

    def _request_violations(self, environ, body):
        definition, path = self._definition_for(environ.get("PATH_INFO", ""))
        if definition is None:
            return []
        query = {key: values for key, values in parse_qs(environ.get("QUERY_STRING", ""), True).items()}
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        problems = definition.request_errors(
            environ["REQUEST_METHOD"], path, query, headers, body or None, environ.get("CONTENT_TYPE")
        )
        accept = headers.get("accept", "")
        if path.startswith("/") and definition is self.openapi and "application/json" not in accept:
            problems.append(f"Accept must be application/json (Xero answers XML otherwise), not {accept!r}")
        if "idempotency-key" in headers and not headers["idempotency-key"].strip():
            problems.append("Idempotency-Key must not be empty (§5.4, xero-node #649)")
        return problems

    def _response_violations(self, environ, status, headers, payload):
        definition, path = self._definition_for(environ.get("PATH_INFO", ""))
        if definition is None:
            return []
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        return definition.response_errors(
            environ["REQUEST_METHOD"], path, int(status.split()[0]), payload, content_type
        )

    def _violation(self, environ, problems):
        entry = {"method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO"), "problems": problems}
        with self._lock:
            self.violations.append(entry)
        body = {"Type": "FakeXeroContractViolation", "Message": "; ".join(problems[:10]), "Violations": problems}
        return "500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")], json.dumps(body).encode()

    # -- dispatch --------------------------------------------------------------------------
    _ROUTES = {
        "settings": "{method} /{resource}",
        "collection": "{method} /{resource}",
        "item": "{method} /{resource}/{{id}}",
        "allocations": "{method} /CreditNotes/{{id}}/Allocations",
        "connections": "{method} /connections",
        "connection": "{method} /connections/{{id}}",
    }

    def _route(self, environ):
        method = environ.get("REQUEST_METHOD")
        try:
            endpoint, values = self.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return f"{method} {environ.get('PATH_INFO', '')}"
        template = self._ROUTES.get(endpoint)
        if template is None:
            return f"{method} {environ.get('PATH_INFO', '')}"
        return template.format(method=method, **values)

    def count(self, route):
        """How many requests reached ``route``, e.g. ``"PUT /Invoices"``, ``"GET /connections"``."""
        return self.route_counts[route]

    def wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        api = path.startswith(API_PATH + "/")
        if not api and not (path == CONNECTIONS_PATH or path.startswith(CONNECTIONS_PATH + "/")):
            return super().wsgi_app(environ, start_response)
        with self._lock:
            self.route_counts[self._route(environ)] += 1
            self.api_calls += api
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > self.max_body_bytes:  # [V] 3.5 MB per request; the answer's shape [I]
            environ["wsgi.input"].read(length)
            start_response("413 REQUEST ENTITY TOO LARGE", [("Content-Type", "text/plain")])
            return [b"Request Entity Too Large"]
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        tenant_id = environ.get("HTTP_XERO_TENANT_ID", "").strip()
        status, headers, payload = self._serve(environ, body, api, tenant_id)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        if api:
            headers += [*self._rate_headers(tenant_id), ("Xero-Correlation-Id", str(uuid.uuid4()))]
        start_response(status, headers)
        return [payload]

    def _serve(self, environ, body, api, tenant_id):
        problems = self._request_violations(environ, body) if self.openapi else []
        if problems:
            self._record(Request(environ))
            return self._violation(environ, problems)
        if api:
            limited = self._rate_enter(tenant_id)
            if limited:
                problem, wait = limited
                self._record(Request(environ))
                with self._lock:
                    self.served_429[problem] += 1
                return (
                    "429 TOO MANY REQUESTS",
                    [
                        ("Content-Type", "text/plain"),
                        ("Retry-After", str(wait)),
                        ("X-Rate-Limit-Problem", problem),
                    ],
                    b"",
                )
        try:
            status, headers, payload = capture_response(super().wsgi_app, environ)
        finally:
            if api:
                self._release(environ)
        if self.openapi:
            problems = self._response_violations(environ, status, headers, payload)
            if problems:
                return self._violation(environ, problems)
        return status, headers, payload

    # -- accounting: common --------------------------------------------------------------
    def _enter(self, request, resource, write=False):
        """Bearer token (401), tenant (403), scope (403) [§11 order]; the tenant's data."""
        token = self.authenticate(request)
        tenant_id = request.headers.get("xero-tenant-id", "").strip()
        with self._tokens_lock:
            connected = tenant_id in self._connections
        if not connected or tenant_id not in self._tenants:
            raise HTTPException(
                response=self.json_response(_problem(403, "Forbidden", "AuthenticationUnsuccessful"), 403)
            )
        needed = RESOURCE_SCOPES[resource][1 if write else 0]
        if needed.isdisjoint(token.scope.split()):
            raise HTTPException(
                response=self.json_response(_problem(403, "Forbidden", "AuthenticationUnsuccessful"), 403)
            )
        return self._tenants[tenant_id]

    def _envelope(self, resource, items, pagination=None):
        payload = {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": self.provider_name,
            "DateTimeUTC": msdate(datetime.fromtimestamp(self.clock(), UTC), offset=False),
        }
        if pagination is not None:
            payload["pagination"] = pagination
        payload[resource] = items
        return self.json_response(json.loads(json.dumps(payload, default=_json)))

    def _error(self, number, kind, message, status=400, elements=None):
        """Xero's ``Error`` answer (§7): ``{ErrorNumber, Type, Message[, Elements]}``."""
        payload = {"ErrorNumber": number, "Type": kind, "Message": message}
        if elements is not None:
            payload["Elements"] = elements
        return self.json_response(json.loads(json.dumps(payload, default=_json)), status=status)

    @staticmethod
    def _not_found():
        return Response(NOT_FOUND_TEXT, status=404, content_type="text/plain")

    def on_unknown(self, request, rest):
        return self._not_found()

    # -- settings (§3.1-3.3) -------------------------------------------------------------
    def on_settings(self, request, resource):
        tenant = self._enter(request, resource)
        with self._data_lock:
            try:
                if resource == "Organisation":
                    items = [self._render_organisation(tenant.org)]
                elif resource == "Currencies":
                    items = [
                        {"Code": code, "Description": CURRENCY_NAMES.get(code, code)} for code in tenant.org.currencies
                    ]
                    items = self._filter(request, items, modified=False)
                elif resource == "TaxRates":
                    items = self._filter(request, [copy.deepcopy(r) for r in tenant.tax_rates.values()], modified=False)
                else:
                    items = self._filter(request, [copy.deepcopy(a) for a in tenant.accounts.values()])
            except QueryError as error:
                return self._error(16, "QueryParseException", str(error))
        return self._envelope("Organisations" if resource == "Organisation" else resource, items)

    def _render_organisation(self, org):
        day, month = org.financial_year_end
        payload = {
            "OrganisationID": org.organisation_id,
            "APIKey": "",
            "Name": org.name,
            "LegalName": org.legal_name,
            "PaysTax": True,
            "Version": org.version,
            "OrganisationType": "COMPANY",
            "BaseCurrency": org.base_currency,
            "CountryCode": org.country_code,
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "TaxNumber": org.tax_number,
            "FinancialYearEndDay": day,
            "FinancialYearEndMonth": month,
            "SalesTaxBasis": "ACCRUALS" if org.country_code == "GB" else "INVOICE",
            "SalesTaxPeriod": "QUARTERLY" if org.country_code == "GB" else "2MONTHLY",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Inclusive",
            "CreatedDateUTC": org.created_at,
            "OrganisationEntityType": "COMPANY",
            "Timezone": org.timezone,
            "ShortCode": org.short_code,
            "Class": "STANDARD",
            "Edition": "BUSINESS",
            "LineOfBusiness": "Recruitment",
            "Addresses": [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
        }
        if org.period_lock_date:
            payload["PeriodLockDate"] = org.period_lock_date
        if org.end_of_year_lock_date:
            payload["EndOfYearLockDate"] = org.end_of_year_lock_date
        return payload

    # -- reading lists (§4) --------------------------------------------------------------
    def _filter(self, request, records, modified=True):
        """``where``, ``order`` and (when ``modified``) ``If-Modified-Since`` over rendered records."""
        since = request.headers.get("If-Modified-Since")
        if modified and since:
            try:
                moment = parse_if_modified_since(since)
            except (TypeError, ValueError):
                raise QueryError(f"If-Modified-Since is not a date: {since!r}") from None
            inclusive = self.if_modified_since_inclusive
            records = [
                r
                for r in records
                if r.get("UpdatedDateUTC")
                and (r["UpdatedDateUTC"] > moment or (inclusive and r["UpdatedDateUTC"] == moment))
            ]
        where = request.args.get("where")
        if where:
            clause = WhereClause(where)
            records = [r for r in records if clause.matches(r)]
        order = request.args.get("order")
        if order:
            for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
                field, _, direction = part.partition(" ")
                descending = direction.strip().upper() == "DESC"
                records = sorted(records, key=lambda r, f=field: _sort_key(_field(r, f)), reverse=descending)
        return records

    def _page(self, request, records):
        """``page``/``pageSize`` paging (§4.3); (records, pagination or None)."""
        raw_page = request.args.get("page")
        if raw_page is None:
            return records, None
        try:
            page = max(1, int(raw_page))
            size = int(request.args.get("pageSize", self.default_page_size))
        except ValueError:
            raise QueryError("page and pageSize must be integers") from None
        size = min(max(1, size), self.max_page_size)
        count = len(records)
        pagination = {"page": page, "pageSize": size, "pageCount": max(1, math.ceil(count / size)), "itemCount": count}
        return records[(page - 1) * size : page * size], pagination

    @staticmethod
    def _flag(request, name):
        return request.args.get(name, "").strip().lower() == "true"

    @staticmethod
    def _unitdp(request):
        return 4 if request.args.get("unitdp", "").strip() == "4" else 2

    @staticmethod
    def _csv(request, name):
        raw = request.args.get(name)
        return {part.strip().casefold() for part in raw.split(",") if part.strip()} if raw else None

    # -- collections ----------------------------------------------------------------------
    def on_collection(self, request, resource):
        if request.method == "GET":
            tenant = self._enter(request, resource)
            try:
                return self._list(request, tenant, resource)
            except QueryError as error:
                return self._error(16, "QueryParseException", str(error))
        tenant = self._enter(request, resource, write=True)
        return self._write(request, tenant, resource, None)

    def on_item(self, request, resource, ident):
        if request.method == "GET":
            tenant = self._enter(request, resource)
            with self._data_lock:
                item = self._find_item(tenant, resource, ident, self._unitdp(request))
            return self._not_found() if item is None else self._envelope(resource, [item])
        tenant = self._enter(request, resource, write=True)
        return self._write(request, tenant, resource, ident)

    def on_allocations(self, request, ident):
        tenant = self._enter(request, "CreditNotes", write=True)
        return self._write(request, tenant, "Allocations", ident)

    def _find_item(self, tenant, resource, ident, unitdp):
        if resource == "Contacts":
            found = tenant.contacts.get(ident) or tenant.contact_by("ContactNumber", ident)
            return None if found is None else self._render_contact(tenant, found)
        if resource == "Payments":
            found = tenant.payments.get(ident)
            return None if found is None else self._render_payment(tenant, found)
        kind = KINDS[resource]
        documents = tenant.documents(kind)
        found = documents.get(ident) or next((d for d in documents.values() if d.get(kind.number_field) == ident), None)
        return None if found is None else self._render_document(tenant, kind, found, unitdp, True)

    def _list(self, request, tenant, resource):
        paged = request.args.get("page") is not None
        summary = self._flag(request, "summaryOnly")
        with self._data_lock:
            if resource == "Contacts":
                records = self._select_contacts(request, tenant)
                render = lambda r: self._render_contact(tenant, r, summary)  # noqa: E731
            elif resource == "Payments":
                records = list(tenant.payments.values())
                render = lambda r: self._render_payment(tenant, r)  # noqa: E731
            else:
                kind = KINDS[resource]
                records = self._select_documents(request, tenant, kind)
                unitdp = self._unitdp(request)
                render = lambda r: self._render_document(tenant, kind, r, unitdp, paged and not summary)  # noqa: E731
            rendered = [render(record) for record in records]
            rendered = self._filter(request, rendered)
            page, pagination = self._page(request, rendered)
        return self._envelope(resource, page, pagination)

    def _select_contacts(self, request, tenant):
        records = list(tenant.contacts.values())
        if not self._flag(request, "includeArchived"):
            records = [c for c in records if c.get("ContactStatus") != "ARCHIVED"]
        ids = self._csv(request, "IDs")
        if ids is not None:
            records = [c for c in records if c["ContactID"].casefold() in ids]
        term = request.args.get("searchTerm")
        if term:
            needle = term.casefold()
            fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
            records = [c for c in records if any(needle in str(c.get(f) or "").casefold() for f in fields)]
        return records

    def _select_documents(self, request, tenant, kind):
        records = list(tenant.documents(kind).values())
        filters = (
            ("IDs", kind.id_field),
            ("InvoiceNumbers", "InvoiceNumber"),
            ("ContactIDs", "ContactID"),
            ("Statuses", "Status"),
        )
        for name, field in filters:
            wanted = self._csv(request, name)
            if wanted is not None:
                records = [r for r in records if str(r.get(field) or "").casefold() in wanted]
        if not self._flag(request, "includeArchived"):
            records = [r for r in records if r.get("Status") != "DELETED"]
        if self._flag(request, "createdByMyApp"):
            records = [r for r in records if r.get("_by_app", True)]
        term = request.args.get("searchTerm")
        if term:
            needle = term.casefold()
            records = [
                r
                for r in records
                if needle in f"{r.get(kind.number_field) or ''} {r.get('Reference') or ''}".casefold()
            ]
        return records

    # -- writes (§5) -----------------------------------------------------------------------
    def _write(self, request, tenant, resource, ident):
        key = request.headers.get("Idempotency-Key")
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.full_path.encode(), request.get_data()])
        ).hexdigest()
        if key is not None and not 0 < len(key.strip()) <= 128:
            return self._error(10, "ValidationException", "The Idempotency-Key must be 1 to 128 characters")  # [I]
        with self._data_lock:
            if key is not None:
                replay = self._replay(tenant, key, fingerprint)
                if replay is not None:
                    return replay
            response = self._apply(request, tenant, resource, ident)
            if key is not None:
                tenant.idempotency[key] = (fingerprint, self.clock(), response.status_code, response.get_data())
        fault = self.take_after_commit(request.path)
        if fault is not None:
            self._release(request.environ)  # Xero is done: only the answer is late or lost
            if fault.drop:
                drop_connection(request.environ)
            self._stopping.wait(fault.delay)
        return response

    def _replay(self, tenant, key, fingerprint):
        stored = tenant.idempotency.get(key)
        if stored is None or self.clock() - stored[1] > self.idempotency_retention:
            return None
        if stored[0] != fingerprint:
            return self._error(10, "ValidationException", MESSAGES["idempotency_reuse"])
        with self._lock:
            self.idempotent_replays += 1
        return Response(stored[3], status=stored[2], content_type="application/json")

    def _apply(self, request, tenant, resource, ident):
        try:
            payload = json.loads(request.get_data() or b"null")
        except ValueError:
            payload = None
        wrapper = "Allocations" if resource == "Allocations" else resource
        if (
            resource == "Payments"
            and request.method == "POST"
            and isinstance(payload, dict)
            and "Payments" not in payload
        ):
            payload = {"Payments": [payload]}  # POST /Payments takes one Payment [V]
        elements = payload.get(wrapper) if isinstance(payload, dict) else None
        if not isinstance(elements, list) or not elements or not all(isinstance(e, dict) for e in elements):
            what = {"Allocations": "Allocation"}.get(resource, resource[:-1])
            return self._error(17, "NoDataProcessedException", NO_DATA.format(what=what))
        unitdp = self._unitdp(request)
        results, failed = [], []
        for element in elements:
            try:
                results.append(self._save_element(tenant, resource, element, request.method, ident, unitdp))
            except ElementError as error:
                echo = self._error_element(resource, element, error.messages)
                results.append(echo)
                failed.append(echo)
        summarize = request.args.get("summarizeErrors", "true").strip().lower() != "false"
        if failed and summarize:
            return self._error(10, "ValidationException", "A validation exception occurred", elements=failed)
        return self._envelope(wrapper, results)

    def _save_element(self, tenant, resource, element, method, ident, unitdp):
        if resource == "Contacts":
            return self._ok(resource, self._render_contact(tenant, self._save_contact(tenant, element, method, ident)))
        if resource == "Payments":
            if ident is not None:
                return self._ok(resource, self._render_payment(tenant, self._delete_payment(tenant, ident, element)))
            return self._ok(resource, self._render_payment(tenant, self._save_payment(tenant, element)))
        if resource == "Allocations":
            return self._ok(resource, self._save_allocation(tenant, ident, element))
        kind = KINDS[resource]
        record = self._save_document(tenant, kind, element, method, ident, unitdp)
        return self._ok(resource, self._render_document(tenant, kind, record, unitdp, True))

    @staticmethod
    def _ok(resource, rendered):
        flag = {"Contacts": "HasValidationErrors", "Payments": "HasValidationErrors"}.get(resource, "HasErrors")
        if resource == "Allocations":
            return {**rendered, "StatusAttributeString": "OK"}
        return {**rendered, flag: False, "StatusAttributeString": "OK"}

    @staticmethod
    def _error_element(resource, element, messages):
        echo = {
            key: value for key, value in element.items() if key not in ("ValidationErrors", "StatusAttributeString")
        }
        flag = {"Contacts": "HasValidationErrors", "Payments": "HasValidationErrors", "Allocations": None}.get(
            resource, "HasErrors"
        )
        if flag:
            echo[flag] = True
        echo["StatusAttributeString"] = "ERROR"
        echo["ValidationErrors"] = [{"Message": message} for message in messages]
        return echo

    # -- contacts --------------------------------------------------------------------------
    _CONTACT_READ_ONLY = (
        "IsCustomer",
        "IsSupplier",
        "UpdatedDateUTC",
        "Balances",
        "HasValidationErrors",
        "ValidationErrors",
        "StatusAttributeString",
        "Website",
        "Discount",
        "HasAttachments",
    )

    def _save_contact(self, tenant, element, method, ident):
        contact_id = ident or element.get("ContactID")
        existing = None
        if contact_id:
            existing = tenant.contacts.get(contact_id) or (tenant.contact_by("ContactNumber", ident) if ident else None)
            if existing is None:
                raise ElementError(MESSAGES["contact_not_found"].format(id=contact_id))
            if method == "PUT":
                raise ElementError(MESSAGES["exists"].format(kind="Contact", id=contact_id))
        elif method == "POST" and element.get("ContactNumber"):
            existing = tenant.contact_by("ContactNumber", element["ContactNumber"])  # [I] upsert by number
        merged = {**(existing or {}), **{k: v for k, v in element.items() if k not in self._CONTACT_READ_ONLY}}
        self._check_contact(tenant, merged, existing)
        now = self.now()
        if existing is None:
            merged.setdefault("ContactStatus", "ACTIVE")
            merged.update(
                ContactID=str(uuid.uuid4()), IsCustomer=False, IsSupplier=False, ContactGroups=[], HasAttachments=False
            )
            merged.setdefault("Addresses", [])
            merged.setdefault("Phones", [])
        merged["UpdatedDateUTC"] = now
        tenant.contacts[merged["ContactID"]] = merged
        return merged

    def _check_contact(self, tenant, merged, existing):
        errors = []
        name = (merged.get("Name") or "").strip()
        if not name:
            errors.append(MESSAGES["contact_name_required"])
        own = existing["ContactID"] if existing else None
        if name and merged.get("ContactStatus", "ACTIVE") == "ACTIVE":
            for other in tenant.contacts.values():
                if (
                    other["ContactID"] != own
                    and other.get("ContactStatus") == "ACTIVE"
                    and other["Name"].casefold() == name.casefold()
                ):
                    errors.append(MESSAGES["contact_name_unique"].format(name=name))
                    break
        email = merged.get("EmailAddress")
        if email and not re.fullmatch(r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", email):
            errors.append(MESSAGES["email"])
        number = merged.get("AccountNumber")
        if number and any(c.get("AccountNumber") == number and c["ContactID"] != own for c in tenant.contacts.values()):
            errors.append(MESSAGES["account_number"])
        if errors:
            raise ElementError(*errors)

    def _render_contact(self, tenant, record, summary=False):
        out = {k: v for k, v in record.items() if not k.startswith("_")}
        if summary:
            for key in ("Addresses", "Phones", "ContactPersons", "ContactGroups", "Balances", "PaymentTerms"):
                out.pop(key, None)
        else:
            outstanding = sum(
                (
                    i["AmountDue"]
                    for i in tenant.invoices.values()
                    if i.get("ContactID") == record["ContactID"]
                    and i["Type"] == "ACCREC"
                    and i["Status"] == "AUTHORISED"
                ),
                ZERO,
            )
            out["Balances"] = {"AccountsReceivable": {"Outstanding": outstanding, "Overdue": ZERO}}
        return out

    # -- invoices and credit notes (§3.6, §3.7) -------------------------------------------
    def _find_document(self, tenant, kind, element, method, ident):
        documents = tenant.documents(kind)
        doc_id = ident or element.get(kind.id_field)
        if doc_id:
            found = documents.get(doc_id) or next(
                (d for d in documents.values() if d.get(kind.number_field) == doc_id), None
            )
            if found is None:
                raise ElementError(MESSAGES["document_not_found"].format(kind=kind.element))
            if method == "PUT":
                raise ElementError(MESSAGES["exists"].format(kind=kind.element, id=doc_id))
            return found
        number = element.get(kind.number_field)
        if method == "POST" and number and element.get("Type", "ACCREC") in ("ACCREC",) and kind is INVOICES:
            return next(
                (d for d in documents.values() if d.get("InvoiceNumber") == number and d["Status"] != "DELETED"), None
            )  # [R] POST with a known ACCREC number updates that invoice
        return None

    def _check_transition(self, existing, status):
        if existing is None:
            if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                raise ElementError(MESSAGES["not_creatable"])
            return
        current = existing["Status"]
        touched = existing["AmountPaid"] or existing.get("AmountCredited")
        allowed = {
            "DRAFT": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
            "SUBMITTED": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
            "AUTHORISED": () if touched else ("AUTHORISED", "VOIDED"),
        }.get(current, ())
        if status not in allowed:
            raise ElementError(MESSAGES["not_modifiable"])

    def _save_document(self, tenant, kind, element, method, ident, unitdp):
        existing = self._find_document(tenant, kind, element, method, ident)
        data = {**self._request_view(existing), **element} if existing else dict(element)
        doc_type = data.get("Type") or kind.types[0]
        status = data.get("Status") or "DRAFT"
        self._check_transition(existing, status)
        if existing and status in ("VOIDED", "DELETED") and set(element) <= {kind.id_field, "Status", "Type"}:
            existing.update(Status=status, AmountDue=ZERO, UpdatedDateUTC=self.now())
            return existing
        errors = []
        contact_id = _collect(errors, self._resolve_contact, tenant, data.get("Contact"))
        day, due = _collect(errors, self._dates, tenant, data, status) or (None, None)
        currency = data.get("CurrencyCode") or tenant.org.base_currency
        if currency not in tenant.org.currencies:
            errors.append(MESSAGES["currency"].format(code=currency))
        amount_types = data.get("LineAmountTypes") or "Exclusive"
        lines = _collect(errors, self._lines, tenant, kind, data.get("LineItems") or [], amount_types, unitdp, status)
        number = (data.get(kind.number_field) or "").strip()
        if number and self._number_taken(tenant, kind, doc_type, number, existing):
            errors.append(MESSAGES["number_unique"] if kind is INVOICES else "Credit Note # must be unique.")
        totals = document_totals(lines or [], amount_types)
        if totals["Total"] < 0:
            errors.append(MESSAGES["negative_total"])
        if errors:
            raise ElementError(*errors)
        record = (
            existing
            if existing is not None
            else {
                kind.id_field: str(uuid.uuid4()),
                "AmountPaid": ZERO,
                "AmountCredited": ZERO,
                "Payments": [],
                "Allocations": [],
            }
        )
        if not number and doc_type in ("ACCREC", "ACCRECCREDIT"):
            number = existing.get(kind.number_field) if existing else None
            number = number or self._next_number(tenant, kind)
        rate = dec(data.get("CurrencyRate")) or EXCHANGE_RATES.get((tenant.org.base_currency, currency), Decimal(1))
        record.update(
            {
                "Type": doc_type,
                kind.number_field: number or None,
                "Reference": data.get("Reference"),
                "ContactID": contact_id,
                "Date": day,
                "DueDate": due,
                "Status": status,
                "LineAmountTypes": amount_types,
                "CurrencyCode": currency,
                "CurrencyRate": rate,
                "LineItems": lines,
                "Url": data.get("Url"),
                "BrandingThemeID": data.get("BrandingThemeID"),
                "SentToContact": bool(data.get("SentToContact")),
                **totals,
                "UpdatedDateUTC": self.now(),
            }
        )
        paid = record["AmountPaid"] + record["AmountCredited"]
        record["AmountDue"] = ZERO if status in ("VOIDED", "DELETED") else totals["Total"] - paid
        tenant.documents(kind)[record[kind.id_field]] = record
        if status == "AUTHORISED" and doc_type in ("ACCREC", "ACCRECCREDIT"):
            tenant.contacts[contact_id]["IsCustomer"] = True  # [V] flipped by the first AR document
        return record

    def _request_view(self, stored):
        """A stored document as the request fields an update starts from."""
        view = {
            k: v
            for k, v in stored.items()
            if k in ("Type", "Reference", "Status", "LineAmountTypes", "CurrencyCode", "Url", "BrandingThemeID")
        }
        view["Contact"] = {"ContactID": stored["ContactID"]}
        view["Date"], view["DueDate"] = stored["Date"].isoformat(), stored["DueDate"].isoformat()
        view["LineItems"] = [{k: v for k, v in line.items() if not k.startswith("_")} for line in stored["LineItems"]]
        for number_field in ("InvoiceNumber", "CreditNoteNumber"):
            if stored.get(number_field):
                view[number_field] = stored[number_field]
        return view

    def _number_taken(self, tenant, kind, doc_type, number, existing):
        if doc_type not in ("ACCREC", "ACCRECCREDIT"):
            return False  # bills' numbers are free text [V]
        if kind is CREDIT_NOTES and not self.unique_credit_note_numbers:
            return False
        own = existing[kind.id_field] if existing else None
        return any(
            d.get(kind.number_field) == number and d[kind.id_field] != own and d["Status"] != "DELETED"
            for d in tenant.documents(kind).values()
        )

    def _next_number(self, tenant, kind):
        taken = {d.get(kind.number_field) for d in tenant.documents(kind).values()}
        while True:
            tenant.numbers[kind.resource] += 1
            number = f"{kind.number_prefix}{tenant.numbers[kind.resource]:04d}"
            if number not in taken:
                return number

    def _resolve_contact(self, tenant, contact):
        if not isinstance(contact, dict) or not any(contact.get(k) for k in ("ContactID", "ContactNumber", "Name")):
            raise ElementError(MESSAGES["contact_missing"])
        found = None
        if contact.get("ContactID"):
            found = tenant.contacts.get(contact["ContactID"])
            if found is None:
                raise ElementError(MESSAGES["contact_not_found"].format(id=contact["ContactID"]))
        elif contact.get("ContactNumber"):
            found = tenant.contact_by("ContactNumber", contact["ContactNumber"])
        if found is None and contact.get("Name"):
            active = [c for c in tenant.contacts.values() if c.get("ContactStatus") == "ACTIVE"]
            found = next((c for c in active if c["Name"].casefold() == contact["Name"].strip().casefold()), None)
            if found is None:  # [I] an unknown name creates the contact
                found = self._save_contact(tenant, {k: v for k, v in contact.items() if k != "ContactID"}, "PUT", None)
        if found is None:
            raise ElementError(MESSAGES["contact_missing"])
        if found.get("ContactStatus") == "ARCHIVED":
            raise ElementError(MESSAGES["contact_archived"])
        return found["ContactID"]

    def _dates(self, tenant, data, status):
        try:
            day = parse_request_date(data["Date"]) if data.get("Date") else self.now().date()
        except ValueError:
            raise ElementError(MESSAGES["date"].format(value=data.get("Date"))) from None
        try:
            due = parse_request_date(data["DueDate"]) if data.get("DueDate") else day
        except ValueError:
            raise ElementError(MESSAGES["date"].format(value=data.get("DueDate"))) from None
        if status in ("SUBMITTED", "AUTHORISED"):
            self._check_lock(tenant, day)
        return day, due

    def _check_lock(self, tenant, day):
        org = tenant.org
        if org.end_of_year_lock_date and day <= org.end_of_year_lock_date:
            raise ElementError(MESSAGES["year_lock"].format(date=org.end_of_year_lock_date.strftime("%d-%b-%Y")))
        if org.period_lock_date and day <= org.period_lock_date:
            raise ElementError(MESSAGES["period_lock"].format(date=org.period_lock_date.strftime("%d-%b-%Y")))

    def _lines(self, tenant, kind, items, amount_types, unitdp, status):
        lines, errors = [], []
        for item in items:
            try:
                lines.append(self._line(tenant, kind, item, amount_types, unitdp, status))
            except ElementError as error:
                errors.extend(error.messages)
        if errors:
            raise ElementError(*errors)
        return lines

    def _line(self, tenant, kind, item, amount_types, unitdp, status):
        if not kind.discounts and (item.get("DiscountRate") or item.get("DiscountAmount")):
            raise ElementError(MESSAGES["no_discount_on_credit_notes"])
        account = None
        code = item.get("AccountCode")
        if item.get("AccountID"):
            account = tenant.accounts.get(item["AccountID"])
            code = account.get("Code") if account else item["AccountID"]
        elif code:
            account = tenant.account_by_code(code)
        if code and (account is None or account["Status"] != "ACTIVE" or account["Type"] == "BANK"):
            raise ElementError(MESSAGES["account_code"].format(code=code))
        tax_type = item.get("TaxType") or (account or {}).get("TaxType") or "NONE"
        if amount_types == "NoTax":
            tax_type = item.get("TaxType") or "NONE"
        rate_record = tenant.tax_rates.get(tax_type)
        if rate_record is None or rate_record["Status"] != "ACTIVE":
            raise ElementError(MESSAGES["tax_type"].format(code=tax_type))
        if not rate_record["CanApplyToRevenue"]:  # e.g. a purchases rate on a sales line
            raise ElementError(MESSAGES["tax_for_account"].format(code=tax_type, account=code or ""))
        has_amount = item.get("UnitAmount") is not None or item.get("LineAmount") is not None
        if not has_amount and not (item.get("Description") or "").strip():
            raise ElementError(MESSAGES["line_description"])
        if has_amount and not code and status == "AUTHORISED":
            raise ElementError(MESSAGES["account_required"])
        try:
            amount, tax, discount = line_totals(item, rate_record["EffectiveRate"], amount_types, unitdp)
        except (InvalidOperation, ValueError):
            raise ElementError(f"Invalid amount in line {item.get('Description')!r}") from None
        if discount < 0 or (item.get("DiscountRate") is not None and not 0 <= dec(item["DiscountRate"]) <= 100):
            raise ElementError(MESSAGES["discount_too_big"])
        if item.get("TaxAmount") is not None and abs(money(item["TaxAmount"]) - tax) <= self.tax_override_tolerance:
            tax = money(item["TaxAmount"])  # [V] overridable per line; tolerance [I]
        line = {
            "LineItemID": item.get("LineItemID") or str(uuid.uuid4()),
            "Description": item.get("Description"),
            "Quantity": dec(item.get("Quantity"), 4) if item.get("Quantity") is not None else None,
            "UnitAmount": dec(item.get("UnitAmount"), 4 if unitdp == 4 else 2),
            "ItemCode": item.get("ItemCode"),
            "AccountCode": code,
            "TaxType": tax_type,
            "TaxAmount": tax,
            "LineAmount": amount,
            "DiscountRate": dec(item.get("DiscountRate")),
            "DiscountAmount": dec(item.get("DiscountAmount")),
            "Tracking": item.get("Tracking") or [],
            "_discount": discount,
        }
        if line["Quantity"] is None and line["UnitAmount"] is not None:
            line["Quantity"] = Decimal("1.0000")
        return line

    def _render_document(self, tenant, kind, record, unitdp, with_lines):
        contact = tenant.contacts.get(record["ContactID"], {})
        out = {
            "Type": record["Type"],
            kind.id_field: record[kind.id_field],
            "Contact": {
                k: contact[k] for k in ("ContactID", "ContactNumber", "Name", "ContactStatus") if contact.get(k)
            },
            "DateString": record["Date"].isoformat() + "T00:00:00",
            "Date": record["Date"],
            "DueDateString": record["DueDate"].isoformat() + "T00:00:00",
            "DueDate": record["DueDate"],
            "Status": record["Status"],
            "LineAmountTypes": record["LineAmountTypes"],
            "SubTotal": record["SubTotal"],
            "TotalTax": record["TotalTax"],
            "Total": record["Total"],
            "UpdatedDateUTC": record["UpdatedDateUTC"],
            "CurrencyCode": record["CurrencyCode"],
            "CurrencyRate": record["CurrencyRate"],
            "HasAttachments": False,
        }
        for field in (kind.number_field, "Reference", "Url", "BrandingThemeID"):
            if record.get(field):
                out[field] = record[field]
        if kind is INVOICES:
            out.update(
                TotalDiscount=record["TotalDiscount"],
                AmountDue=record["AmountDue"],
                AmountPaid=record["AmountPaid"],
                AmountCredited=record["AmountCredited"],
                SentToContact=record["SentToContact"],
                IsDiscounted=bool(record["TotalDiscount"]),
                Payments=[self._payment_ref(tenant.payments[p]) for p in record["Payments"]],
                CreditNotes=[self._credit_ref(tenant, a) for a in record["Allocations"]],
            )
        else:
            out.update(
                RemainingCredit=record["AmountDue"],
                AppliedAmount=record["AmountCredited"] + record["AmountPaid"],
                Payments=[self._payment_ref(tenant.payments[p]) for p in record["Payments"]],
                Allocations=[self._allocation_ref(tenant, a) for a in record["Allocations"]],
            )
        if record.get("FullyPaidOnDate"):
            out["FullyPaidOnDate"] = record["FullyPaidOnDate"]
        if with_lines:
            out["LineItems"] = [self._render_line(line, unitdp) for line in record["LineItems"]]
        return out

    @staticmethod
    def _render_line(line, unitdp):
        out = {k: v for k, v in line.items() if not k.startswith("_") and v is not None}
        if "UnitAmount" in out and unitdp != 4:
            out["UnitAmount"] = money(out["UnitAmount"])
        return out

    @staticmethod
    def _payment_ref(payment):
        return {
            "PaymentID": payment["PaymentID"],
            "Date": payment["Date"],
            "Amount": payment["Amount"],
            "Reference": payment.get("Reference") or "",
            "CurrencyRate": payment["CurrencyRate"],
            "HasAccount": False,
            "HasValidationErrors": False,
        }

    @staticmethod
    def _credit_ref(tenant, allocation):
        credit = tenant.credit_notes[allocation["CreditNoteID"]]
        return {
            "CreditNoteID": credit["CreditNoteID"],
            "CreditNoteNumber": credit.get("CreditNoteNumber") or "",
            "AppliedAmount": allocation["Amount"],
            "Date": allocation["Date"],
            "Total": credit["Total"],
        }

    @staticmethod
    def _allocation_ref(tenant, allocation):
        invoice = tenant.invoices[allocation["InvoiceID"]]
        return {
            "AllocationID": allocation["AllocationID"],
            "Amount": allocation["Amount"],
            "Date": allocation["Date"],
            "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice.get("InvoiceNumber") or ""},
        }

    # -- allocations (§3.7) ----------------------------------------------------------------
    def _save_allocation(self, tenant, credit_note_id, element):
        credit = tenant.credit_notes.get(credit_note_id)
        if credit is None:
            raise ElementError(MESSAGES["document_not_found"].format(kind="CreditNote"))
        invoice = self._target(tenant, INVOICES, element.get("Invoice"))
        amount = money(element.get("Amount") or 0)
        try:
            day = parse_request_date(element.get("Date")) if element.get("Date") else self.now().date()
        except ValueError:
            raise ElementError(MESSAGES["date"].format(value=element.get("Date"))) from None
        if credit["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
            raise ElementError(MESSAGES["payment_not_authorised"])
        if credit["ContactID"] != invoice["ContactID"] or credit["CurrencyCode"] != invoice["CurrencyCode"]:
            raise ElementError(MESSAGES["allocation_mismatch"])
        if amount <= 0 or amount > credit["AmountDue"] or amount > invoice["AmountDue"]:
            raise ElementError(MESSAGES["allocation_exceeds"])
        self._check_lock(tenant, day)
        allocation = {
            "AllocationID": str(uuid.uuid4()),
            "CreditNoteID": credit_note_id,
            "InvoiceID": invoice["InvoiceID"],
            "Amount": amount,
            "Date": day,
        }
        now = self.now()
        for document, field in ((invoice, "AmountCredited"), (credit, "AmountCredited")):
            document[field] += amount
            document["AmountDue"] -= amount
            document["Allocations"].append(allocation)
            document["UpdatedDateUTC"] = now
            if document["AmountDue"] == 0:
                document.update(Status="PAID", FullyPaidOnDate=day)
        rendered = self._allocation_ref(tenant, allocation)
        rendered["CreditNote"] = {
            "CreditNoteID": credit_note_id,
            "CreditNoteNumber": credit.get("CreditNoteNumber") or "",
        }
        return rendered

    def _target(self, tenant, kind, reference):
        """The document a payment or allocation points to: by id or number."""
        documents = tenant.documents(kind)
        reference = reference or {}
        found = None
        if reference.get(kind.id_field):
            found = documents.get(reference[kind.id_field])
        elif reference.get(kind.number_field):
            found = next(
                (d for d in documents.values() if d.get(kind.number_field) == reference[kind.number_field]), None
            )
        if found is None:
            raise ElementError(MESSAGES["document_not_found"].format(kind=kind.element))
        return found

    # -- payments (§3.8) -------------------------------------------------------------------
    def _payment_target(self, tenant, element):
        if element.get("Invoice") or element.get("InvoiceNumber"):
            reference = element.get("Invoice") or {"InvoiceNumber": element["InvoiceNumber"]}
            return INVOICES, self._target(tenant, INVOICES, reference)
        if element.get("CreditNote") or element.get("CreditNoteNumber"):
            reference = element.get("CreditNote") or {"CreditNoteNumber": element["CreditNoteNumber"]}
            return CREDIT_NOTES, self._target(tenant, CREDIT_NOTES, reference)
        raise ElementError(MESSAGES["payment_target"])

    def _payment_account(self, tenant, element, document):
        reference = element.get("Account") or ({"Code": element["Code"]} if element.get("Code") else {})
        if reference.get("AccountID"):
            account = tenant.accounts.get(reference["AccountID"])
            label = reference["AccountID"]
        elif reference.get("Code"):
            account = tenant.account_by_code(reference["Code"])
            label = reference["Code"]
        else:
            raise ElementError(MESSAGES["payment_account_missing"])
        if account is None or account["Status"] != "ACTIVE":
            raise ElementError(MESSAGES["account_code"].format(code=label))
        if account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
            raise ElementError(MESSAGES["payment_account"].format(code=label))
        bank_currency = account.get("CurrencyCode") or tenant.org.base_currency
        if bank_currency not in (document["CurrencyCode"], tenant.org.base_currency):
            raise ElementError(MESSAGES["payment_currency"])
        return account

    def _save_payment(self, tenant, element):
        kind, document = self._payment_target(tenant, element)
        account = self._payment_account(tenant, element, document)
        try:
            day = parse_request_date(element.get("Date")) if element.get("Date") else self.now().date()
        except ValueError:
            raise ElementError(MESSAGES["date"].format(value=element.get("Date"))) from None
        amount = money(element.get("Amount") or 0)
        if document["Status"] != "AUTHORISED":
            raise ElementError(MESSAGES["payment_not_authorised"])
        if amount <= 0:
            raise ElementError(MESSAGES["payment_amount"])
        if amount > document["AmountDue"]:
            raise ElementError(MESSAGES["payment_exceeds"])
        self._check_lock(tenant, day)
        now = self.now()
        payment = {
            "PaymentID": str(uuid.uuid4()),
            kind.id_field: document[kind.id_field],
            "AccountID": account["AccountID"],
            "Date": day,
            "Amount": amount,
            "CurrencyRate": dec(element.get("CurrencyRate")) or document["CurrencyRate"],
            "Reference": element.get("Reference"),
            "IsReconciled": bool(element.get("IsReconciled")),
            "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT" if kind is INVOICES else "ARCREDITPAYMENT",
            "UpdatedDateUTC": now,
        }
        tenant.payments[payment["PaymentID"]] = payment
        document["AmountPaid"] += amount
        document["AmountDue"] -= amount
        document["Payments"].append(payment["PaymentID"])
        document["UpdatedDateUTC"] = now
        if document["AmountDue"] == 0:
            document.update(Status="PAID", FullyPaidOnDate=day)
        return payment

    def _delete_payment(self, tenant, payment_id, element):
        payment = tenant.payments.get(payment_id)
        if payment is None:
            raise ElementError(MESSAGES["document_not_found"].format(kind="Payment"))
        if element.get("Status") != "DELETED" or payment["Status"] == "DELETED":
            raise ElementError("Only Status DELETED can be set on an existing payment")  # [R] no edits
        kind = INVOICES if payment.get("InvoiceID") else CREDIT_NOTES
        document = tenant.documents(kind)[payment[kind.id_field]]
        document["AmountPaid"] -= payment["Amount"]
        document["AmountDue"] += payment["Amount"]
        document["Payments"].remove(payment_id)
        document.update(Status="AUTHORISED", UpdatedDateUTC=self.now())
        document.pop("FullyPaidOnDate", None)
        payment.update(Status="DELETED", UpdatedDateUTC=self.now())
        return payment

    def _render_payment(self, tenant, payment):
        account = tenant.accounts[payment["AccountID"]]
        out = {
            "PaymentID": payment["PaymentID"],
            "Date": payment["Date"],
            "Amount": payment["Amount"],
            "BankAmount": payment["Amount"],
            "CurrencyRate": payment["CurrencyRate"],
            "PaymentType": payment["PaymentType"],
            "Status": payment["Status"],
            "IsReconciled": payment["IsReconciled"],
            "UpdatedDateUTC": payment["UpdatedDateUTC"],
            "HasAccount": False,
            "Account": {k: account[k] for k in ("AccountID", "Code") if account.get(k)},
        }
        if payment.get("Reference"):
            out["Reference"] = payment["Reference"]
        if payment.get("InvoiceID"):
            invoice = tenant.invoices[payment["InvoiceID"]]
            out["Invoice"] = {
                "InvoiceID": invoice["InvoiceID"],
                "InvoiceNumber": invoice.get("InvoiceNumber") or "",
                "Type": invoice["Type"],
            }
        else:
            credit = tenant.credit_notes[payment["CreditNoteID"]]
            out["CreditNote"] = {
                "CreditNoteID": credit["CreditNoteID"],
                "CreditNoteNumber": credit.get("CreditNoteNumber") or "",
                "Type": credit["Type"],
            }
        return out


# ------------------------------------------------------------------------------ helpers
@lru_cache(maxsize=4)
def _definitions(accounting, identity):
    """The validators of the two definitions (built once per process: fakes share them)."""
    schemas = load_definition(accounting)["components"]["schemas"]
    extras = {name: ENVELOPE for name, schema in schemas.items() if "x-objectArrayKey" in schema}
    for name, fields in UNDOCUMENTED_FIELDS.items():
        extras[name] = (*extras.get(name, ()), *fields)
    accounting_api = OpenApi.load(accounting, extra_properties=extras, loose_schemas=LOOSE_SCHEMAS)
    return accounting_api, OpenApi.load(identity, case_insensitive_paths=True)


def _problem(status, title, detail):
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def _json(value):
    """JSON of the stored Python values: /Date()/ dates, numbers for Decimals."""
    if isinstance(value, (date, datetime)):
        return msdate(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _sort_key(value):
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, date):
        return (1, datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    return (1, value)


def _collect(errors, function, *args):
    """Call ``function``; its ElementError messages go to ``errors`` (then None is returned)."""
    try:
        return function(*args)
    except ElementError as error:
        errors.extend(error.messages)
        return None


def _encode_jwt(claims, secret):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': 'fake-xero'})}.{part(claims)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def decode_jwt(token):
    """The claims of a JWT (unverified): what a client reads from Xero's access token."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _rng(fake):
    import random

    return random.Random(f"xero-added:{len(fake.requests)}:{fake.clock()}")


class _OrganisationsForm(ConsentForm):
    """The consent form plus its organisation checkboxes."""

    def __init__(self):
        super().__init__()
        self.tenants = []

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "checkbox" and attrs.get("name") == "tenant":
            self.tenants.append((attrs.get("value"), "checked" in attrs))


def choose_organisations(authorize_url, tenants=None, decision="accept", params=None):
    """The browser's part of Xero's consent: tick ``tenants`` (default: the pre-ticked ones; ``[]``:
    none, and no organisation gets connected), press Allow (or Decline); the query of the redirect
    back to the client (``code`` and ``state``, or ``error``)."""
    from urllib.parse import urljoin

    import requests

    page = requests.get(authorize_url, params=params, allow_redirects=False, timeout=10)
    if page.status_code in (301, 302, 303):
        return query_of(page.headers["Location"])
    form = _OrganisationsForm()
    form.feed(page.text)
    assert page.status_code == 200 and form.buttons, page.text
    chosen = [value for value, checked in form.tenants if checked] if tenants is None else list(tenants)
    name, value = form.buttons[decision]
    data = [*form.fields.items(), (name, value), *(("tenant", tenant) for tenant in chosen or [""])]
    answer = requests.post(urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    return query_of(answer.headers["Location"])


__all__ = [
    "API_PATH",
    "BROAD_SCOPES_DEFAULT",
    "GRANULAR_SCOPES_DEFAULT",
    "MESSAGES",
    "RESOURCE_SCOPES",
    "SCOPES",
    "FakeXero",
    "WhereClause",
    "choose_organisations",
    "decode_jwt",
    "document_totals",
    "line_totals",
    "main",
    "msdate",
    "parse_msdate",
    "parse_request_date",
]


# ----------------------------------------------------------------------------------- sandbox
def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Serve a fake Xero (identity, /connections, Accounting API) until Ctrl-C."
    )
    service.add_service_arguments(parser, FakeXero, port=8072)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--no-rate-limits", action="store_true", help="do not enforce Xero's rate limits")
    parser.add_argument("--day-limit", type=int, default=FakeXero.day_limit)
    parser.add_argument("--no-validate", action="store_true", help="do not check requests against the definitions")
    args = parser.parse_args(argv)
    seed = service.seed_of(args.seed)
    world = generate_world(seed=seed, customers=args.customers, today=args.today or datetime.now(UTC).date())
    fake = FakeXero(
        **service.service_options(args),
        world=world,
        enforce_rate_limits=not args.no_rate_limits,
        day_limit=args.day_limit,
        validate=False if args.no_validate else None,
    )
    fake.start()
    token = fake.issue_token()
    tenants = "\n".join(f"    {org.organisation_id}  {org.name} ({org.short_code})" for org in world.organisations)
    banner = (
        f"Fake Xero (seed {seed!r}, today {world.today}): {len(world.organisations)} organisations\n{tenants}\n"
        f"  authorize URL:   {fake.authorize_url}\n"
        f"  token URL:       {fake.token_url}\n"
        f"  revocation URL:  {fake.revoke_url}\n"
        f"  connections URL: {fake.connections_url}\n"
        f"  API base:        {fake.api_url}\n"
        f"  client_id:       {fake.client_id}\n"
        f"  client_secret:   {fake.client_secret}\n"
        f"  access token:    {token['access_token']}  ({fake.access_token_lifetime} s)\n"
        f"  refresh token:   {token['refresh_token']}\n"
        f"  {fake.validation_note}"
    )
    service.serve_until_interrupted(fake, banner)


if __name__ == "__main__":
    main()
