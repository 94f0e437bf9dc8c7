"""A fake of QuickBooks Online: Intuit's OAuth2 server and the Accounting API v3, over loopback HTTP.

Speaks the protocol of ``shared/contracts/quickbooks.md`` (section numbers below refer to it) with
the JSON of Intuit's v3 XSDs (keys = element names, checked by ``tests/fakes/qbo_xsd.py``)::

    world = generate_world(seed=1)                                   # tests/fakes/quickbooks_data.py
    with FakeQuickBooks(world=world, enforce_rate_limits=False) as fake:
        token = fake.issue_token()                                   # as after the browser flow
        requests.get(f"{fake.api_url(fake.realm_id)}/query", params={"query": "SELECT * FROM Customer",
                     "minorversion": 75}, headers=fake.headers(token))

Public surface, for the connector's tests and the benchmark:

* Addresses (§1, §2): ``authorize_url`` (``/connect/oauth2``), ``token_url``
  (``/oauth2/v1/tokens/bearer``), ``revoke_url`` (``/v2/oauth2/tokens/revoke``), ``api_base``
  (``/v3/company``), ``api_url(realm_id)``; ``realm_id`` (the US company), ``realm_ids``.
* OAuth (§1): the consent page lists the companies (one radio button each; the user picks one) and
  the redirect back carries ``code``, ``state`` and ``realmId``; ``choose_company(authorize_url,
  realm_id, decision)`` (module function) is the browser's part. The token endpoint wants HTTP
  Basic client authentication (credentials in the body: ``invalid_client``), answers
  ``token_type: bearer``, ``expires_in`` 3600 and ``x_refresh_token_expires_in`` (8,726,400 s,
  rolling); a refresh rotates the refresh token, the previous one still works for
  ``rotated_refresh_token_grace`` seconds (600 [I]); every refused refresh is 400
  ``invalid_grant`` "Incorrect or invalid refresh token" (``refusals`` keeps our reason).
  Revocation takes a JSON ``{"token": ...}`` with Basic auth. ``issue_token(realm_id=None, scope=ACCOUNTING_SCOPE)``,
  ``headers(token)``, ``expire_access_tokens()``, ``revoke_all()``, ``realm_of(token)``.
* Data: ``company(realm_id)`` (``quickbooks_data.Company``: settings, live), ``record(entity, id,
  realm_id)`` (the rendered JSON), ``records(entity, realm_id, active=None)``, ``find(entity,
  realm_id, **fields)``, ``add(entity, body, realm_id)`` (as a QBO user would), ``edit(entity, id,
  realm_id, **fields)`` (a user's change: SyncToken and LastUpdatedTime move), ``set_book_close_date(day, realm_id)``,
  ``set_custom_txn_numbers(flag, realm_id)``, ``enable_currency(code, realm_id)``,
  ``duplicates()`` / ``duplicate_count()`` (documents sharing a DocNumber, payments alike).
* API (§2-§7): ``/query`` (GET ``query=`` or POST ``application/text``), ``/cdc``, ``/batch``,
  ``/{entity}`` POST (create; update with ``Id``+``SyncToken``, ``sparse``; ``operation=delete``;
  ``operation=void``; payments ``operation=update&include=void``), ``/{entity}/{id}`` GET,
  ``/companyinfo/{realmId}``, ``/preferences``. Entities: Customer, Invoice, CreditMemo, Payment,
  Item, Account (writable); TaxCode, TaxRate, Vendor, Employee (read and query).
  ``requestid`` (≤ 50 characters, ≤ 36 on /batch) replays the first answer of a write
  (``idempotent_replays``); ``minorversion`` is recorded (``minorversions``); below
  ``minimum_minorversion`` (75) is refused, a missing one is served as 75 unless
  ``require_minorversion``. Every answer has an ``intuit_tid`` header.
* Errors (§8): ``Fault`` bodies with QuickBooks' codes: 610 (missing or inactive reference), 2020
  (required element), 4000/4001 (query), 5010 (stale SyncToken), 6000 (business rules: VAT code
  missing, currency not enabled, closed books, amounts), 6210 (duplicate DocNumber when the company
  uses custom transaction numbers), 6240 (DisplayName used by a customer, vendor or employee). 401
  is the gateway's lower-case body; ``fault_body(code, ...)`` builds a Fault for
  ``inject(status=200, body=...)`` (a Fault inside HTTP 200).
* Limits (§9), per realm on the real clock: ``minute_limit`` 500, ``second_limit`` 10,
  ``concurrent_limit`` 10, ``batch_minute_limit`` 40, ``max_batch_items`` 30; ``enforce_rate_limits``
  (False in unit tests), ``rate_limit_clock`` (default ``time.monotonic``), ``served_429`` (Counter by
  limit), ``in_flight(realm_id)``, ``reset_rate_limits()``, ``throttle(times)``; 429 bodies say
  ``ThrottleExceeded`` (errorCode 003001), without ``Retry-After`` (``throttle_retry_after``):
  clients wait 60 s. ``minimum_seconds(api_calls, batch_calls)``: the least wall time the limits
  allow (the benchmark's ``minimum_seconds``).
* Faults: ``inject(...)`` (``FaultInjectionMixin``, aimed at ``/v3``), ``inject_after_commit(times,
  delay, drop)``: the write is committed (and its requestid stored), then the answer hangs or the
  connection is dropped.
* Webhooks (§10): ``webhook_delivery(events, verifier_token, cloud_events=True)`` (module function)
  builds a signed delivery (``intuit-signature``) in the CloudEvents or the legacy shape.
* Introspection: ``requests``, ``route_counts`` / ``count("POST /batch")``, ``api_calls``,
  ``batch_calls``, ``violations`` (XSD violations of requests and answers, and requests without
  ``Accept: application/json`` or with another body type: answered 500),
  ``validation_note``. ``FakeQuickBooks(validate=True)`` (default: on when the XSDs are there; env
  ``FAKE_QBO_VALIDATE=0`` turns it off).

Behaviour worth knowing ([I]: our reading where the contract is silent): ids are one sequence per
company; name lists hide inactive rows unless the query names ``Active``, and deactivating appends
" (deleted)" to the name; a full update clears the writable fields it omits; query strings compare
case-insensitively, quoted numbers compare as numbers; unordered results come oldest first; CDC
returns the oldest changes first (cut at 1,000), deleted transactions as ``status: Deleted``
stubs, and only the entities that changed; batch items run in order and cannot see what earlier
items created; a requestid's answer (errors included) is kept for the fake's lifetime; payments
link invoices and credit memos (``LinkedTxn``), lowering their ``Balance``/``RemainingCredit``.

Totals are computed QuickBooks' way (our reading, [I] where the contract is silent); see
``compute_totals``: US companies tax the lines marked ``TAX`` at the rates of the transaction's
``TxnTaxDetail.TxnTaxCodeRef`` (an explicit ``TotalTax`` wins); other companies need a
``TaxCodeRef`` on every sales line and tax each code's net (TaxExcluded) or take the tax out of
each code's gross (TaxInclusive: a line's ``Amount`` stays net, its gross is ``TaxInclusiveAmt``,
and the two must agree at the code's rate), rounding half up per tax rate and code.
Discount lines (``DiscountLineDetail``, percent or amount) reduce the total, and the taxed base
(non-US always; US when ``ApplyTaxAfterDiscount``), spread over the tax codes pro rata. Start it
alone::

    python3 -m tests.fakes.quickbooks --port 8074 --seed 1
"""

import argparse
import base64
import copy
import hashlib
import hmac
import io
import json
import os
import re
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .consent import query_of, read_consent_page, submit_consent
from .oauth2 import FakeOAuth2Server
from .openapi import ContractMissing
from .qbo_xsd import QboSchema
from .quickbooks_data import CLASSIFICATIONS, CURRENCY_NAMES, RATES_PER_HOME, generate_world
from .records_api import FaultInjectionMixin
from .service import (
    AfterCommitFaultsMixin,
    add_service_arguments,
    capture_response,
    dec,
    drop_connection,
    money,
    seed_of,
    serve_until_interrupted,
    service_options,
)

UTC = timezone.utc
API_BASE = "/v3/company"
AUTHORIZE_PATH = "/connect/oauth2"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
SCOPES = frozenset(
    {ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone", "address"}
)
WRITABLE = {
    "customer": "Customer",
    "invoice": "Invoice",
    "creditmemo": "CreditMemo",
    "payment": "Payment",
    "item": "Item",
    "account": "Account",
}
READ_ONLY = {"taxcode": "TaxCode", "taxrate": "TaxRate", "vendor": "Vendor", "employee": "Employee"}
ENTITIES = {**WRITABLE, **READ_ONLY}
QUERYABLE = (*ENTITIES.values(), "CompanyInfo", "Preferences")
NAME_LISTS = ("Customer", "Vendor", "Employee")  # DisplayName unique across them (6240)
NAMED_BY_NAME = ("Item", "Account")  # Name unique within the entity [I]
DEACTIVATABLE = ("Customer", "Vendor", "Employee", "Item", "Account")
SALES = ("Invoice", "CreditMemo")
TRANSACTIONS = (*SALES, "Payment")
NOT_IN_CDC = ("TaxCode", "TaxRate", "CompanyInfo", "Preferences")  # [V Q9]
SERVER_FIELDS = {  # read-only: what a request sends there is ignored
    "Customer": ("Balance", "BalanceWithJobs", "FullyQualifiedName"),
    "Item": ("FullyQualifiedName",),
    "Account": ("FullyQualifiedName", "CurrentBalance"),
    "Invoice": ("TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance", "LinkedTxn"),
    "CreditMemo": ("TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance", "RemainingCredit", "LinkedTxn"),
    "Payment": ("UnappliedAmt",),
}

# QuickBooks' errors: code -> (Message, Detail template). [V] per the contract §8; the details'
# wording is ours where the contract gives none [I].
ERRORS = {
    "610": ("Object Not Found", "Object Not Found : {what}"),  # [V code]
    "2020": (
        "Required param missing, need to supply the required value for the API",
        "Required parameter {name} is missing in the request",
    ),  # [I]
    "4000": ("Error parsing query", "QueryParserError: {reason}"),  # [V]
    "4001": ("Invalid query", "QueryValidationError: {reason}"),  # [I]
    "5010": (
        "Stale Object Error",
        "Stale Object Error : You and {user} were working on this at the same time. {user} finished before you"
        " did, so your work was not saved.",
    ),  # [V code, I text]
    "6000": (
        "A business validation error has occurred while processing your request",
        "Business Validation Error: {reason}",
    ),
    "6210": (
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already been"
        " used. DocNumber={number} is assigned to TxnType={kind} with TxnId={id}",
    ),  # [V code]
    "6240": (
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another {kind} is already using this name. Please use a different name.",
    ),  # [V]
}
INACTIVE_TEXT = (
    "Something you're trying to use has been made inactive. Check the fields with accounts, customers, items,"
    " vendors or employees."
)  # [I]
VAT_MISSING = "Make sure all your transactions have a VAT rate before you save."  # [V Q12]
THROTTLED = "message=ThrottleExceeded; errorCode=003001; statusCode=429"  # [V Q27]
NOT_AUTHORIZED = "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"  # [I]
CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


class QboFault(Exception):
    """One QuickBooks error: its ``Fault`` body and HTTP status (400 by default)."""

    def __init__(self, code, status=400, fault_type="ValidationFault", element="", **values):
        message, detail = ERRORS[code]
        self.code, self.status, self.fault_type, self.element = code, status, fault_type, element
        self.message, self.detail = message, detail.format(**values)
        super().__init__(f"{code} {self.detail}")

    def body(self):
        return fault_body(self.code, self.message, self.detail, self.fault_type, self.element)


def fault_body(code, message, detail="", kind="ValidationFault", element=""):
    """``{"Fault": {"Error": [...], "type": ...}}`` (add ``time`` for a whole answer)."""
    error = {"Message": message, "Detail": detail, "code": str(code), "element": element}
    return {"Fault": {"Error": [error], "type": kind}}


def business(reason, element=""):
    return QboFault("6000", reason=reason, element=element)


# ------------------------------------------------------------------------------ totals
def _round(value):
    return value.quantize(CENT, ROUND_HALF_UP)


def _spread(total, weights):
    """``total`` split over ``weights`` pro rata, rounded to cents, the remainder on the last one."""
    whole = sum(weights, ZERO)
    if not weights or not whole:
        return [ZERO for _ in weights]
    parts = [_round(total * weight / whole) for weight in weights[:-1]]
    return [*parts, total - sum(parts, ZERO)]


def _percent_of(tax_rates, code):
    return sum((percent for _rid, _name, percent in tax_rates.get(code, [])), ZERO)


def line_gross(line, percent):
    """A tax-inclusive line's gross: its ``TaxInclusiveAmt``, else its net ``Amount`` plus tax [I]."""
    detail = line.get("SalesItemLineDetail") or {}
    if detail.get("TaxInclusiveAmt") is not None:
        return money(detail["TaxInclusiveAmt"])
    return _round(money(line.get("Amount") or 0) * (HUNDRED + percent) / HUNDRED)


def compute_totals(
    lines, tax_rates, *, us, global_tax="TaxExcluded", txn_tax_code=None, total_tax=None, apply_tax_after_discount=False
):
    """QuickBooks' totals of a sales document, as Decimals.

    ``lines``: the request's ``Line`` (SalesItemLineDetail lines with ``Amount``, DiscountLineDetail
    lines; others are ignored); each sales line's ``SalesItemLineDetail.TaxCodeRef.value`` is
    ``TAX``/``NON`` (US) or a tax code id (non-US). A line's ``Amount`` is always net of tax (QBO
    stores net amounts); with ``TaxInclusive`` its gross is ``SalesItemLineDetail.TaxInclusiveAmt``
    (else the net plus tax) and the tax is taken out of each code's gross. ``tax_rates``: tax code
    id -> [(rate id, rate name, percent)]. ``txn_tax_code`` (US): the transaction's code.
    ``total_tax`` (US): an explicit ``TxnTaxDetail.TotalTax``, honoured. Returns ``{"subtotal",
    "discount", "tax", "total", "tax_lines": [(rate id, name, percent, net, tax)]}``; raises
    ``QboFault`` for a non-US sales line without a tax code.
    """
    sales = [line for line in lines if line.get("DetailType") == "SalesItemLineDetail"]
    subtotal = sum((money(line.get("Amount") or 0) for line in sales), ZERO)
    inclusive = not us and global_tax == "TaxInclusive"
    groups = defaultdict(lambda: ZERO)  # tax code -> (gross when inclusive) amount of its lines
    for line in sales:
        code = ((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef") or {}).get("value")
        if us:
            if code == "TAX":
                groups[txn_tax_code] += money(line.get("Amount") or 0)
        elif global_tax != "NotApplicable":
            if not code:
                raise business(VAT_MISSING, element="Line.SalesItemLineDetail.TaxCodeRef")
            groups[code] += line_gross(line, _percent_of(tax_rates, code)) if inclusive else money(line["Amount"])
    gross = sum(groups.values(), ZERO) if inclusive else subtotal  # what a percent discount is of [I]
    discount = ZERO
    for line in lines:
        if line.get("DetailType") == "DiscountLineDetail":
            detail = line.get("DiscountLineDetail") or {}
            if detail.get("PercentBased"):
                discount += _round(gross * dec(detail.get("DiscountPercent") or 0) / HUNDRED)
            else:
                discount += money(line.get("Amount") or 0)
    codes = list(groups)
    if discount and (not us or apply_tax_after_discount):
        # The discount lowers the taxed base of each code pro rata [I].
        taxed = sum(groups.values(), ZERO)
        shares = _spread(_round(discount * taxed / gross) if gross else ZERO, [groups[c] for c in codes])
        for code, share in zip(codes, shares, strict=True):
            groups[code] -= share
    tax_lines = []
    for code in codes:
        if code is None:  # US: TAX lines but no transaction tax code: no tax [I]
            continue
        whole, base = _percent_of(tax_rates, code), groups[code]
        for rate_id, name, percent in tax_rates.get(code, []):
            if inclusive:
                tax = _round(base * percent / (HUNDRED + whole))
                net = base - _round(base * whole / (HUNDRED + whole))
            else:
                tax, net = _round(base * percent / HUNDRED), base
            tax_lines.append((rate_id, name, percent, net, tax))
    tax = sum((line[4] for line in tax_lines), ZERO)
    if us and total_tax is not None:
        tax = money(total_tax)
    total = gross - discount if inclusive else subtotal - discount + tax
    return {"subtotal": subtotal, "discount": discount, "tax": tax, "total": total, "tax_lines": tax_lines}


# ------------------------------------------------------------------------------ query language
class QueryError(ValueError):
    def __init__(self, reason, code="4000"):
        super().__init__(reason)
        self.code = code


_QUERY_TOKEN = re.compile(
    r"""\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|<|>|=|\(|\)|,|\*)
    |(?P<number>-?\d+(?:\.\d+)?)(?![\w.])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))""",
    re.VERBOSE,
)
KEYWORDS = ("SELECT", "FROM", "WHERE", "AND", "IN", "LIKE", "ORDERBY", "ASC", "DESC", "STARTPOSITION", "MAXRESULTS")


@dataclass
class Query:
    entity: str
    count: bool = False
    conditions: list = field(default_factory=list)  # (field, op, value or [values])
    order: list = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = None


def _query_tokens(text):
    position, out = 0, []
    text = text.strip()
    while position < len(text):
        match = _QUERY_TOKEN.match(text, position)
        if not match or match.end() == position:
            if not text[position:].strip():
                break
            raise QueryError(f"Lexical error at line 1, column {position + 1}.  Encountered: {text[position]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "word" and value.upper() in KEYWORDS:
            kind, value = "keyword", value.upper()
        out.append((kind, value))
        position = match.end()
    return out


class _QueryParser:
    """A recursive-descent reader of one statement (see ``parse_query``)."""

    def __init__(self, text):
        self.tokens, self.position = _query_tokens(text), 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (value and token[1] != value):
            found = token[1] if token[0] else "<EOF>"
            raise QueryError(f'Encountered " {found} " at line 1, expected {value or kind or "more"}')
        self.position += 1
        return token[1]

    def literal(self):
        kind, value = self.peek()
        self.take()
        if kind == "string":
            return value
        if kind == "number":
            return Decimal(value)
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise QueryError(f'Encountered " {value} " at line 1, expected a value')

    def statement(self):
        self.take("keyword", "SELECT")
        count = False
        if self.peek()[1] == "*":
            self.take()
        elif self.peek()[0] == "word" and self.peek()[1].upper() == "COUNT":
            for value in (None, "(", "*", ")"):
                self.take(value=value)
            count = True
        else:
            raise QueryError("SELECT * or SELECT COUNT(*) expected")
        self.take("keyword", "FROM")
        query = Query(self.take("word"), count=count)
        if self.peek()[1] == "WHERE":
            self.take()
            query.conditions.append(self.condition())
            while self.peek()[1] == "AND":
                self.take()
                query.conditions.append(self.condition())
        if self.peek()[1] == "ORDERBY":
            self.take()
            query.order.append(self.order())
            while self.peek()[1] == ",":
                self.take()
                query.order.append(self.order())
        for keyword in ("STARTPOSITION", "MAXRESULTS"):
            if self.peek()[1] == keyword:
                self.take()
                number = self.take("number")
                if not number.isdigit():
                    raise QueryError(f"{keyword} must be a whole number, not {number}")
                setattr(query, "start" if keyword == "STARTPOSITION" else "max_results", int(number))
        if self.peek()[0] is not None:
            raise QueryError(f'Encountered " {self.peek()[1]} " at line 1, expected <EOF>')
        return query

    def condition(self):
        name = self.take("word")
        op = self.peek()[1]
        if op in ("=", "<", ">", "<=", ">=", "LIKE"):
            self.take()
            return (name, op, self.literal())
        if op != "IN":
            raise QueryError(f'Encountered " {op} " after {name}, expected an operator')
        self.take()
        self.take("op", "(")
        values = [self.literal()]
        while self.peek()[1] == ",":
            self.take()
            values.append(self.literal())
        self.take("op", ")")
        return (name, "IN", values)

    def order(self):
        name = self.take("word")
        descending = False
        if self.peek()[1] in ("ASC", "DESC"):
            descending = self.take() == "DESC"
        return (name, descending)


def parse_query(text):
    """A ``Query`` of QuickBooks' SQL-like language (§5); ``QueryError`` (4000) when it is not one."""
    return _QueryParser(text).statement()


def _path_value(record, dotted):
    value = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and "value" in value:
        return value["value"]  # a reference compares by its id
    return value


def _moment(text):
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _comparable(value, literal):
    if isinstance(literal, bool) or value is None:
        return value, literal
    if isinstance(literal, Decimal):
        try:
            return Decimal(str(value)), literal
        except ArithmeticError:
            return None, literal
    if isinstance(literal, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:  # QuickBooks takes quoted numbers: TotalAmt > '100.00'
            return Decimal(str(value)), Decimal(literal)
        except ArithmeticError:
            return None, literal
    if isinstance(literal, str) and isinstance(value, str):
        if "T" in value and "T" in literal and _moment(value) and _moment(literal):
            return _moment(value), _moment(literal)
        return value.casefold(), literal.casefold()
    return value, literal


def condition_matches(record, condition):
    name, op, literal = condition
    value = _path_value(record, name)
    if op == "IN":
        return any(condition_matches(record, (name, "=", item)) for item in literal)
    if op == "LIKE":
        pattern = "^" + ".*".join(re.escape(part) for part in str(literal).split("%")) + "$"
        return isinstance(value, str) and re.match(pattern, value, re.IGNORECASE | re.DOTALL) is not None
    left, right = _comparable(value, literal)
    if left is None:
        return False
    try:
        return {"=": left == right, "<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        return False


def _order_key(value):
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    moment = _moment(value) if isinstance(value, str) and "T" in value else None
    if moment:
        return (1, moment.timestamp())
    if isinstance(value, str) and value.isdigit():
        return (1, int(value))
    return (2, str(value).casefold())


# ------------------------------------------------------------------------------ one company
def _ref(value, name=None):
    return {"value": str(value), "name": name} if name else {"value": str(value)}


def _number(value):
    """A Decimal as the JSON number QuickBooks writes (2 decimals at most for money)."""
    return float(value)


class Realm:
    """One QuickBooks company (realm) as the fake holds it.

    Records are the JSON QuickBooks answers (XSD element names), plus ``_created``/``_updated``
    (epoch seconds of the fake's clock) that ``render`` turns into ``MetaData`` in the company's
    time zone. Every method runs under the fake's data lock.
    """

    def __init__(self, company, clock, loaded_at):
        self.company = company
        self.clock = clock
        self.tz = ZoneInfo(company.timezone)
        self.store = {kind: {} for kind in ENTITIES.values()}
        self.next_id = 1
        self.tombstones = {}  # (kind, id) -> (deleted at, the record's last answer)
        self.requestids = {}
        self.hidden = set()  # ids created earlier in the running batch: invisible to its items [V Q11]
        self.created_at = loaded_at
        for kind, body in company.records:
            self._insert(kind, copy.deepcopy(body), loaded_at, options={"allowduplicatedocnum"})

    # -- settings -------------------------------------------------------------------------
    @property
    def us(self):
        return self.company.country == "US"

    def stamp(self, moment):
        return datetime.fromtimestamp(moment, self.tz).isoformat(timespec="seconds")

    def server_time(self):
        return datetime.fromtimestamp(self.clock(), self.tz).isoformat(timespec="milliseconds")

    def today(self):
        return datetime.fromtimestamp(self.clock(), self.tz).date()

    def company_info(self):
        company = self.company
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "CompanyName": company.name,
            "LegalName": company.legal_name,
            "Country": company.country,
            "CompanyAddr": {
                "Line1": "1 Agency Way",
                "City": "London" if not self.us else "San Francisco",
                "Country": company.country,
            },
            "FiscalYearStartMonth": "January" if self.us else "April",
            "SupportedLanguages": "en",
            "DefaultTimeZone": company.timezone,
            "MetaData": self._metadata(self.created_at, self.created_at),
        }

    def preferences(self):
        company = self.company
        prefs = {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "SalesFormsPrefs": {"CustomTxnNumbers": company.custom_txn_numbers, "AllowDiscount": True},
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": len(company.currencies) > 1,
                "HomeCurrency": _ref(company.home_currency),
            },
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
            "AccountingInfoPrefs": {"TrackDepartments": False, "FirstMonthOfFiscalYear": "January"},
            "MetaData": self._metadata(self.created_at, self.created_at),
        }
        if company.book_close_date:
            prefs["AccountingInfoPrefs"]["BookCloseDate"] = company.book_close_date.isoformat()
        return prefs

    # -- records --------------------------------------------------------------------------
    def _metadata(self, created, updated):
        return {"CreateTime": self.stamp(created), "LastUpdatedTime": self.stamp(updated)}

    def render(self, kind, record, balances=None):
        """The record's JSON; ``balances``: ``customer_balances()`` when rendering many customers."""
        out = {key: copy.deepcopy(value) for key, value in record.items() if not key.startswith("_")}
        out["MetaData"] = self._metadata(record["_created"], record["_updated"])
        if kind == "Customer":
            balances = self.customer_balances() if balances is None else balances
            out["Balance"] = out["BalanceWithJobs"] = _number(balances.get(record["Id"], ZERO))
        return out

    def customer_balances(self):
        """Customer id -> open invoices less open credits and unapplied payments."""
        totals = defaultdict(lambda: ZERO)
        for kind, sign in (("Invoice", 1), ("CreditMemo", -1), ("Payment", -1)):
            field_name = "UnappliedAmt" if kind == "Payment" else "Balance"
            for doc in self.store[kind].values():
                totals[doc["CustomerRef"]["value"]] += sign * dec(doc.get(field_name) or 0)
        return totals

    def render_all(self, kind, records):
        balances = self.customer_balances() if kind == "Customer" else None
        return [self.render(kind, record, balances) for record in records]

    def get(self, kind, ident):
        if ident in self.hidden:
            return None
        return self.store[kind].get(str(ident))

    def reference(self, kind, ref, element):
        """The active record a reference points to, else 610 (missing or inactive) [V Q8, Q17]."""
        ident = (ref or {}).get("value") if isinstance(ref, dict) else None
        if not ident:
            raise QboFault("2020", name=element, element=element)
        record = self.get(kind, ident)
        if record is None:
            raise QboFault("610", what=f"{kind} with Id {ident} does not exist.", element=element)
        if record.get("Active") is False:
            raise QboFault("610", what=INACTIVE_TEXT, element=element)
        return record

    def _insert(self, kind, body, when, options=()):
        body.pop("Id", None)
        body.pop("SyncToken", None)
        record = self._validated(kind, body, None, options)
        record.update(Id=str(self.next_id), SyncToken="0", domain="QBO", sparse=False, _created=when, _updated=when)
        self.next_id += 1
        self.store[kind][record["Id"]] = record
        self._after_save(kind, record, None)
        return record

    def create(self, kind, body, options=()):
        if kind not in WRITABLE.values():
            raise business(f"Operation Create is not supported for {kind}.")
        record = self._insert(kind, copy.deepcopy(body), self.clock(), options)
        return self.render(kind, record)

    def _current(self, kind, body):
        ident, token = body.get("Id"), body.get("SyncToken")
        if not ident:
            raise QboFault("2020", name="Id", element="Id")
        if token is None:
            raise QboFault("2020", name="SyncToken", element="SyncToken")
        existing = self.get(kind, str(ident))
        if existing is None:
            raise QboFault("610", what=f"{kind} with Id {ident} does not exist.", element="Id")
        if str(token) != existing["SyncToken"]:
            raise QboFault("5010", user="another user", element="SyncToken")  # [V Q13]
        return existing

    def update(self, kind, body, options=()):
        if kind not in WRITABLE.values():
            raise business(f"Operation Update is not supported for {kind}.")
        existing = self._current(kind, body)
        if kind in TRANSACTIONS:
            self._check_books(existing.get("TxnDate"))
        if body.get("sparse") is True:
            merged = copy.deepcopy({key: value for key, value in existing.items() if not key.startswith("_")})
            if kind in SALES and "TxnTaxDetail" not in body:
                # The tax is worked out again; only a TotalTax sent now overrides it.
                code = (existing.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")
                merged["TxnTaxDetail"] = {"TxnTaxCodeRef": code} if code else {}
            merged.update(copy.deepcopy(body))
        else:  # a full update clears what it omits [I]
            merged = copy.deepcopy(body)
        for key in ("Id", "SyncToken", "domain", "sparse", "MetaData"):
            merged.pop(key, None)
        before = copy.deepcopy(existing)
        record = self._validated(kind, merged, existing, options)
        record.update(
            Id=existing["Id"],
            SyncToken=str(int(existing["SyncToken"]) + 1),
            domain="QBO",
            sparse=False,
            _created=existing["_created"],
            _updated=self.clock(),
        )
        self.store[kind][record["Id"]] = record
        self._after_save(kind, record, before)
        return self.render(kind, record)

    def delete(self, kind, body):
        if kind not in TRANSACTIONS:
            raise business(f"Operation Delete is not supported for {kind}: make it inactive instead.")
        existing = self._current(kind, body)
        self._check_books(existing.get("TxnDate"))
        if kind in SALES and any(link["TxnType"] == "Payment" for link in existing.get("LinkedTxn", [])):
            raise business(f"This {kind} has payments applied to it; delete or void them first.")
        if kind == "Payment":
            self._unlink_payment(existing)
        del self.store[kind][existing["Id"]]
        self.tombstones[(kind, existing["Id"])] = self.clock()
        return {"Id": existing["Id"], "status": "Deleted", "domain": "QBO"}

    def void(self, kind, body):
        if kind not in ("Invoice", "Payment"):
            raise business(f"Operation Void is not supported for {kind}.")
        existing = self._current(kind, body)
        self._check_books(existing.get("TxnDate"))
        record = existing
        if kind == "Payment":
            self._unlink_payment(record)
            for line in record.get("Line", []):
                line["Amount"] = 0.0
            record.update(TotalAmt=0.0, UnappliedAmt=0.0)
        else:
            if any(link["TxnType"] == "Payment" for link in record.get("LinkedTxn", [])):
                raise business("This invoice has payments applied to it; void them first.")
            for line in record.get("Line", []):
                line["Amount"] = 0.0
            record.update(TotalAmt=0.0, Balance=0.0)
            record.setdefault("TxnTaxDetail", {})["TotalTax"] = 0.0
        record["PrivateNote"] = "Voided"
        record["SyncToken"] = str(int(record["SyncToken"]) + 1)
        record["_updated"] = self.clock()
        record["_voided"] = True
        return self.render(kind, record)

    # -- validation per entity --------------------------------------------------------------
    def _validated(self, kind, body, existing, options):
        for name in SERVER_FIELDS.get(kind, ()):
            body.pop(name, None)
        if kind in NAME_LISTS:
            return self._name_list(kind, body, existing)
        if kind == "Item":
            return self._item(body, existing)
        if kind == "Account":
            return self._account(body, existing)
        if kind in SALES:
            return self._sales(kind, body, existing, options)
        if kind == "Payment":
            return self._payment(body, existing)
        return body  # TaxCode / TaxRate: seeded as given

    def _rename_on_active_change(self, body, existing, name_field):
        """Deactivating appends " (deleted)" to the name; reactivating takes it away [V Q35]."""
        was_active = existing is None or existing.get("Active", True)
        if body.get("Active") is False and was_active and existing is not None:
            if not body[name_field].endswith(" (deleted)"):
                body[name_field] = f"{body[name_field]} (deleted)"
        elif body.get("Active", True) and not was_active and body[name_field].endswith(" (deleted)"):
            body[name_field] = body[name_field][: -len(" (deleted)")]

    def _name_list(self, kind, body, existing):
        if not body.get("DisplayName"):
            parts = [body.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix") if body.get(k)]
            body["DisplayName"] = " ".join(parts) or body.get("CompanyName") or ""
        if not body["DisplayName"].strip():
            raise QboFault("2020", name="DisplayName", element="DisplayName")
        body.setdefault("Active", True)
        self._rename_on_active_change(body, existing, "DisplayName")
        folded = body["DisplayName"].strip().casefold()
        for other_kind in NAME_LISTS:
            for other in self.store[other_kind].values():
                if existing is not None and other is existing:
                    continue
                if other["DisplayName"].strip().casefold() == folded:
                    raise QboFault("6240", kind=other_kind.lower(), element="DisplayName")
        if kind == "Customer":
            currency = (body.get("CurrencyRef") or {}).get("value") or self.company.home_currency
            if existing is not None and existing["CurrencyRef"]["value"] != currency:
                raise business("You can't change the currency of a customer that has transactions.")
            self._check_currency(currency)
            body["CurrencyRef"] = _ref(currency, CURRENCY_NAMES.get(currency, currency))
            body["FullyQualifiedName"] = body["DisplayName"]
            body.setdefault("Taxable", True)
        return body

    def _unique_name(self, kind, body, existing, noun):
        folded = body["Name"].strip().casefold()
        for other in self.store[kind].values():
            if other is not existing and other["Name"].strip().casefold() == folded:
                raise QboFault("6240", kind=noun, element="Name")

    def _item(self, body, existing):
        if not body.get("Name"):
            raise QboFault("2020", name="Name", element="Name")
        body.setdefault("Active", True)
        body.setdefault("Type", "Service")
        self._rename_on_active_change(body, existing, "Name")
        self._unique_name("Item", body, existing, "product or service")
        if body["Type"] in ("Service", "NonInventory", "Inventory"):
            account = self.reference("Account", body.get("IncomeAccountRef"), "IncomeAccountRef")
            body["IncomeAccountRef"] = _ref(account["Id"], account["Name"])
        if body.get("SalesTaxCodeRef"):
            self.reference("TaxCode", body["SalesTaxCodeRef"], "SalesTaxCodeRef")
        body["FullyQualifiedName"] = body["Name"]
        return body

    def _account(self, body, existing):
        if not body.get("Name"):
            raise QboFault("2020", name="Name", element="Name")
        if not body.get("AccountType"):
            raise QboFault("2020", name="AccountType", element="AccountType")
        body.setdefault("Active", True)
        self._rename_on_active_change(body, existing, "Name")
        self._unique_name("Account", body, existing, "account")
        if body["AccountType"] in CLASSIFICATIONS:
            body.setdefault("Classification", CLASSIFICATIONS[body["AccountType"]])
        body["FullyQualifiedName"] = body["Name"]
        body.setdefault("CurrentBalance", 0)
        body.setdefault("CurrencyRef", _ref(self.company.home_currency))
        return body

    def _check_currency(self, code):
        if code not in self.company.currencies:
            raise business(f"The currency {code} is not enabled in this company.", element="CurrencyRef")

    def _check_books(self, day):
        close = self.company.book_close_date
        if close and day and date.fromisoformat(day) <= close:
            raise business(
                f"The transaction date {day} is on or before the closing date of this company"
                f" ({close.isoformat()}); it can't be created, changed or deleted.",  # [I]
                element="TxnDate",
            )

    def _exchange_rate(self, currency, given):
        if currency == self.company.home_currency:
            return None
        if given is not None:
            return dec(given)
        per_home = RATES_PER_HOME.get((self.company.home_currency, currency), Decimal(1))
        return (Decimal(1) / per_home).quantize(Decimal("0.000001"), ROUND_HALF_UP)

    def _document_basics(self, kind, body, existing):
        customer = self.reference("Customer", body.get("CustomerRef"), "CustomerRef")
        body["CustomerRef"] = _ref(customer["Id"], customer["DisplayName"])
        currency = (body.get("CurrencyRef") or {}).get("value") or customer["CurrencyRef"]["value"]
        self._check_currency(currency)
        if currency != customer["CurrencyRef"]["value"]:
            raise business(
                f"The currency of the transaction ({currency}) must be the customer's currency"
                f" ({customer['CurrencyRef']['value']}).",
                element="CurrencyRef",
            )
        body["CurrencyRef"] = _ref(currency, CURRENCY_NAMES.get(currency, currency))
        rate = self._exchange_rate(currency, body.get("ExchangeRate"))
        if rate is not None:
            body["ExchangeRate"] = _number(rate)
        else:
            body.pop("ExchangeRate", None)
        body.setdefault("TxnDate", self.today().isoformat())
        try:
            date.fromisoformat(body["TxnDate"])
        except (TypeError, ValueError):
            raise business(f"TxnDate {body['TxnDate']!r} is not a date.", element="TxnDate") from None
        self._check_books(body["TxnDate"])
        return customer, rate

    def _doc_number(self, kind, body, existing, options):
        number = body.get("DocNumber")
        if existing is not None and (number is None or not self.company.custom_txn_numbers):
            number = existing.get("DocNumber")  # an update keeps the number unless it sends one
        elif existing is None and (number is None or not self.company.custom_txn_numbers):
            used = [int(doc["DocNumber"]) for doc in self.store[kind].values() if str(doc.get("DocNumber")).isdigit()]
            number = str(max(used, default=1000) + 1)  # QuickBooks numbers the document [I]
        else:
            if len(str(number)) > 21:  # [I]
                raise business(f"DocNumber is longer than 21 characters: {number!r}", element="DocNumber")
            duplicate = next(
                (doc for doc in self.store[kind].values() if doc is not existing and doc.get("DocNumber") == number),
                None,
            )
            if duplicate is not None and "allowduplicatedocnum" not in options:
                raise QboFault("6210", number=number, kind=kind, id=duplicate["Id"], element="DocNumber")
        if number is not None:
            body["DocNumber"] = number

    def tax_rates(self):
        """Tax code id -> [(rate id, rate name, percent)] of its sales rates."""
        rates = {}
        for code in self.store["TaxCode"].values():
            details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
            rates[code["Id"]] = [
                (
                    d["TaxRateRef"]["value"],
                    self.store["TaxRate"][d["TaxRateRef"]["value"]]["Name"],
                    dec(self.store["TaxRate"][d["TaxRateRef"]["value"]]["RateValue"]),
                )
                for d in details
            ]
        return rates

    def _sales(self, kind, body, existing, options):
        _customer, rate = self._document_basics(kind, body, existing)
        self._doc_number(kind, body, existing, options)
        lines = [line for line in body.get("Line") or [] if line.get("DetailType") != "SubTotalLineDetail"]
        if not any(line.get("DetailType") == "SalesItemLineDetail" for line in lines):
            raise business("A transaction needs at least one line with an item.", element="Line")
        tax_detail = body.get("TxnTaxDetail") or {}
        txn_code = (tax_detail.get("TxnTaxCodeRef") or {}).get("value")
        global_tax = body.get("GlobalTaxCalculation") or ("NotApplicable" if self.us else "TaxExcluded")
        if not self.us and global_tax not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
            raise business(f"GlobalTaxCalculation {global_tax!r} is not valid.", element="GlobalTaxCalculation")
        for number, line in enumerate(lines, start=1):
            self._sales_line(line, number)
        if self.us:
            body.pop("GlobalTaxCalculation", None)
            if txn_code:
                code = self.reference("TaxCode", tax_detail["TxnTaxCodeRef"], "TxnTaxDetail.TxnTaxCodeRef")
                tax_detail["TxnTaxCodeRef"] = _ref(code["Id"], code["Name"])
        else:
            body["GlobalTaxCalculation"] = global_tax
        totals = compute_totals(
            lines,
            self.tax_rates(),
            us=self.us,
            global_tax=global_tax,
            txn_tax_code=txn_code,
            total_tax=tax_detail.get("TotalTax") if self.us and "TotalTax" in tax_detail else None,
            apply_tax_after_discount=bool(body.get("ApplyTaxAfterDiscount")),
        )
        if totals["total"] < 0:
            raise business(f"The {kind} total can't be negative ({totals['total']}).", element="Line")
        if global_tax == "TaxInclusive" and not self.us:
            self._inclusive_lines(lines)
        lines.append(
            {"Amount": _number(totals["subtotal"]), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
        body["Line"] = lines
        tax_lines = [
            {
                "Amount": _number(tax),
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": _ref(rate_id),
                    "PercentBased": True,
                    "TaxPercent": _number(percent),
                    "NetAmountTaxable": _number(net),
                },
            }
            for rate_id, _name, percent, net, tax in totals["tax_lines"]
        ]
        detail = {"TotalTax": _number(totals["tax"]), "TaxLine": tax_lines}
        if tax_detail.get("TxnTaxCodeRef"):
            detail["TxnTaxCodeRef"] = tax_detail["TxnTaxCodeRef"]
        body["TxnTaxDetail"] = detail
        total = totals["total"]
        applied = self._applied(existing)
        if total < applied:
            raise business(
                f"The new total {total} is less than the {applied} already applied to this {kind}.", element="Line"
            )
        body["TotalAmt"] = _number(total)
        body["Balance"] = _number(total - applied)
        if kind == "CreditMemo":
            body["RemainingCredit"] = body["Balance"]
        body["LinkedTxn"] = copy.deepcopy(existing.get("LinkedTxn", [])) if existing else []
        if rate is not None:
            body["HomeTotalAmt"] = _number(_round(total * rate))
            body["HomeBalance"] = _number(_round((total - applied) * rate))
        body.setdefault("EmailStatus", "NotSet")
        body.setdefault("PrintStatus", "NotSet")
        return body

    def _inclusive_lines(self, lines):
        """Each line's net ``Amount`` must agree with its gross at its code's rate (to the cent) [I]."""
        rates = self.tax_rates()
        for line in lines:
            if line.get("DetailType") != "SalesItemLineDetail":
                continue
            detail = line["SalesItemLineDetail"]
            percent = _percent_of(rates, detail["TaxCodeRef"]["value"])
            gross = line_gross(line, percent)
            net = _round(gross * HUNDRED / (HUNDRED + percent))
            if abs(net - money(line["Amount"])) > CENT:
                raise business(
                    f"Line {line['LineNum']}: Amount {line['Amount']} is not the net of TaxInclusiveAmt {gross}"
                    f" at {percent.normalize():f}% (expected {net}).",
                    element="Line.Amount",
                )
            detail["TaxInclusiveAmt"] = _number(gross)

    def _sales_line(self, line, number):
        line["Id"], line["LineNum"] = str(number), number
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            detail = line.get("SalesItemLineDetail") or {}
            line["SalesItemLineDetail"] = detail
            if line.get("Amount") is None:
                raise QboFault("2020", name="Line.Amount", element="Line.Amount")
            item = self.reference("Item", detail.get("ItemRef"), "Line.SalesItemLineDetail.ItemRef")
            detail["ItemRef"] = _ref(item["Id"], item["Name"])
            if detail.get("Qty") is not None and detail.get("UnitPrice") is not None:
                expected = _round(dec(detail["Qty"]) * dec(detail["UnitPrice"]))
                if expected != money(line["Amount"]):  # [V XSD doc: Amount = Qty x UnitPrice]
                    raise business(
                        f"Amount is not equal to UnitPrice * Qty. Supplied value:{line['Amount']}",
                        element="Line.Amount",
                    )
            code = (detail.get("TaxCodeRef") or {}).get("value")
            if self.us:
                if code is None:
                    detail["TaxCodeRef"] = _ref("TAX" if item.get("Taxable") else "NON")
                elif code not in ("TAX", "NON"):
                    raise business(f"Tax code {code} is not valid on a line; use TAX or NON.", element="TaxCodeRef")
            elif code is not None:
                tax_code = self.reference("TaxCode", detail["TaxCodeRef"], "Line.SalesItemLineDetail.TaxCodeRef")
                detail["TaxCodeRef"] = _ref(tax_code["Id"])
            line["Amount"] = _number(money(line["Amount"]))
        elif kind == "DiscountLineDetail":
            detail = line.get("DiscountLineDetail") or {}
            if not detail.get("PercentBased") and line.get("Amount") is None:
                raise QboFault("2020", name="Line.Amount", element="Line.Amount")
        elif kind not in ("DescriptionOnly", "GroupLineDetail"):
            raise business(f"Line DetailType {kind!r} can't be used on a sales form.", element="Line.DetailType")

    def _applied(self, existing):
        """How much of a sales document payments and credits already took."""
        if existing is None:
            return ZERO
        return money(existing["TotalAmt"]) - money(existing["Balance"])

    def _payment(self, body, existing):
        customer, rate = self._document_basics("Payment", body, existing)
        # What this payment took already is available again to its new lines.
        previous = Counter()
        for ident, doc_kind, amount in (existing or {}).get("_links", []):
            previous[(doc_kind, ident)] += Decimal(amount)
        if body.get("TotalAmt") is None:
            raise QboFault("2020", name="TotalAmt", element="TotalAmt")
        total = money(body["TotalAmt"])
        applied = ZERO
        links = []
        taken = Counter()  # what earlier lines of this payment took from each document
        for line in body.get("Line") or []:
            amount = money(line.get("Amount") or 0)
            if amount < 0:
                raise business("A payment line amount can't be negative.", element="Line.Amount")
            for link in line.get("LinkedTxn") or []:
                kind = link.get("TxnType")
                if kind not in SALES:
                    raise business(f"A payment can't be linked to a {kind}.", element="LinkedTxn.TxnType")
                doc = self.get(kind, str(link.get("TxnId")))
                if doc is None:
                    raise QboFault(
                        "610", what=f"{kind} with Id {link.get('TxnId')} does not exist.", element="LinkedTxn"
                    )
                if doc["CustomerRef"]["value"] != customer["Id"]:
                    raise business(f"{kind} {doc['Id']} belongs to another customer.", element="LinkedTxn")
                available = money(doc["Balance"]) + previous[(kind, doc["Id"])] - taken[(kind, doc["Id"])]
                if amount > available:
                    raise business(
                        f"The amount applied to {kind} {doc['DocNumber']} ({amount}) is more than its open"
                        f" balance ({available}).",
                        element="Line.Amount",
                    )
                applied += amount if kind == "Invoice" else -amount
                taken[(kind, doc["Id"])] += amount
                links.append((doc, kind, amount))
        if applied > total:
            raise business(f"The amounts applied ({applied}) are more than the payment total ({total}).")
        if applied < 0:
            raise business("The credits applied are more than the invoices paid.")
        if not body.get("DepositToAccountRef"):
            funds = next((a for a in self.store["Account"].values() if a["Name"] == "Undeposited Funds"), None)
            if funds:
                body["DepositToAccountRef"] = _ref(funds["Id"], funds["Name"])
        else:
            self.reference("Account", body["DepositToAccountRef"], "DepositToAccountRef")
        body["TotalAmt"] = _number(total)
        body["UnappliedAmt"] = _number(total - applied)
        body["_links"] = [(doc["Id"], kind, str(amount)) for doc, kind, amount in links]
        if rate is not None:
            body["ExchangeRate"] = _number(rate)
        body.setdefault("ProcessPayment", False)
        return body

    def _after_save(self, kind, record, before):
        if kind != "Payment":
            return
        if before is not None:
            self._unlink_payment(before)
        for ident, doc_kind, amount in record.get("_links", []):
            doc = self.store[doc_kind][ident]
            self._set_balance(doc_kind, doc, money(doc["Balance"]) - Decimal(amount))
            doc.setdefault("LinkedTxn", []).append({"TxnId": record["Id"], "TxnType": "Payment"})
            doc["SyncToken"] = str(int(doc["SyncToken"]) + 1)
            doc["_updated"] = record["_updated"]
        record["LinkedTxn"] = [{"TxnId": ident, "TxnType": kind} for ident, kind, _amount in record.get("_links", [])]

    @staticmethod
    def _set_balance(kind, doc, balance):
        doc["Balance"] = _number(balance)
        if kind == "CreditMemo":
            doc["RemainingCredit"] = doc["Balance"]
        if doc.get("ExchangeRate") is not None:
            doc["HomeBalance"] = _number(_round(balance * dec(doc["ExchangeRate"])))

    def _unlink_payment(self, payment):
        for ident, doc_kind, amount in payment.get("_links", []):
            doc = self.store[doc_kind].get(ident)
            if doc is None:
                continue
            self._set_balance(doc_kind, doc, money(doc["Balance"]) + Decimal(amount))
            doc["LinkedTxn"] = [link for link in doc.get("LinkedTxn", []) if link["TxnId"] != payment["Id"]]
            doc["SyncToken"] = str(int(doc["SyncToken"]) + 1)
            doc["_updated"] = self.clock()
        payment["_links"] = []

    # -- reading --------------------------------------------------------------------------
    def query(self, query, max_limit, default_max, schema=None):
        kind = next((k for k in QUERYABLE if k.lower() == query.entity.lower()), None)
        if kind is None:
            raise QueryError(f"Entity '{query.entity}' is not supported for query", code="4001")
        if schema is not None:
            members = schema.complex_type(schema.elements[kind]).members
            for name, _op, _value in query.conditions:
                if name.split(".")[0] not in members:
                    raise QueryError(f"property '{name}' is not queryable", code="4001")
        if query.max_results is not None and query.max_results > max_limit:
            raise QueryError(f"value {query.max_results} for MAXRESULTS is too large, maximum {max_limit}", "4001")
        if kind == "CompanyInfo":
            rows = [self.company_info()]
        elif kind == "Preferences":
            rows = [self.preferences()]
        else:
            rows = self.render_all(kind, [r for ident, r in self.store[kind].items() if ident not in self.hidden])
        conditions = list(query.conditions)
        if kind in DEACTIVATABLE and not any(name == "Active" for name, _op, _value in conditions):
            conditions.append(("Active", "=", True))  # name lists hide inactive rows by default [V Q17]
        rows = [row for row in rows if all(condition_matches(row, condition) for condition in conditions)]
        if query.count:
            return {"totalCount": len(rows)}
        rows.sort(key=lambda row: int(row["Id"]) if row["Id"].isdigit() else 0)  # oldest first [V Q20]
        for name, descending in reversed(query.order):
            rows.sort(key=lambda row, name=name: _order_key(_path_value(row, name)), reverse=descending)
        size = default_max if query.max_results is None else query.max_results
        page = rows[max(query.start, 1) - 1 :][:size]
        if not page:
            return {}
        return {kind: page, "startPosition": query.start, "maxResults": len(page)}

    def changes(self, kinds, since, cap):
        """CDC (§6): objects changed after ``since`` (epoch), oldest change first, at most ``cap``."""
        found = []
        for kind in kinds:
            changed = [r for r in self.store[kind].values() if r["_updated"] > since and r["Id"] not in self.hidden]
            rows = self.render_all(kind, changed)
            found.extend((record["_updated"], kind, row) for record, row in zip(changed, rows, strict=True))
            for (tomb_kind, ident), when in self.tombstones.items():
                if tomb_kind == kind and when > since:
                    stub = {"Id": ident, "domain": "QBO", "status": "Deleted", "MetaData": self._metadata(when, when)}
                    found.append((when, kind, stub))
        found.sort(key=lambda entry: entry[0])
        found = found[:cap]
        sections = []
        for kind in kinds:
            rows = [row for _when, row_kind, row in found if row_kind == kind]
            if rows:
                sections.append({kind: rows, "startPosition": 1, "maxResults": len(rows)})
        return sections, len(found)

    def documents(self, kind):
        return self.render_all(kind, list(self.store[kind].values()))


# ------------------------------------------------------------------------------ the fake
class FakeQuickBooks(AfterCommitFaultsMixin, FaultInjectionMixin, FakeOAuth2Server):
    """Intuit's OAuth2 server and the QuickBooks Online Accounting API v3 over generated companies."""

    service_name = "Intuit"
    known_scopes = SCOPES
    client_name = "Recruitment Sync"
    path_prefix = ""
    authorize_path = "connect/oauth2"
    token_path = "oauth2/v1/tokens/bearer"
    revoke_path = "v2/oauth2/tokens/revoke"
    client_id = "ABfakeQuickBooksClientId00000000000000000000000"
    client_secret = "fake-quickbooks-client-secret"
    access_token_lifetime = 3600  # [V]
    refresh_token_idle_lifetime = 8_726_400  # [V] 101 days, rolling
    rotated_refresh_token_grace = 600  # [I] the previous refresh token still works this long
    code_lifetime = 300  # [I]
    minute_limit = 500  # [V] per realm
    second_limit = 10  # [V] per realm and app
    concurrent_limit = 10  # [V] per realm and app
    batch_minute_limit = 40  # [V] per realm and app
    max_batch_items = 30  # [V]
    enforce_rate_limits = True
    rate_limit_clock = None  # None: time.monotonic (the real clock, whatever the data clock)
    throttle_retry_after = None  # [I] QuickBooks documents no Retry-After; clients wait 60 s
    require_minorversion = False  # [V] a missing minorversion is served as 75
    minimum_minorversion = 75  # [V]
    max_results_limit = 1000  # [V]
    default_max_results = 100  # [I]
    cdc_max_objects = 1000  # [V]
    cdc_lookback_days = 30  # [V]
    requestid_max_length = 50  # [V]
    batch_requestid_max_length = 36  # [V]
    max_bid_length = 10  # [V]
    validate = None  # None: on when the XSDs are there (env FAKE_QBO_VALIDATE=0 turns it off)

    _settings = (
        *FakeOAuth2Server._settings,
        "minute_limit",
        "second_limit",
        "concurrent_limit",
        "batch_minute_limit",
        "max_batch_items",
        "enforce_rate_limits",
        "rate_limit_clock",
        "throttle_retry_after",
        "require_minorversion",
        "minimum_minorversion",
        "max_results_limit",
        "default_max_results",
        "cdc_max_objects",
        "cdc_lookback_days",
        "validate",
    )

    _REALM = f"{API_BASE}/<realm_id>"
    rules = (
        (f"{_REALM}/query", "query", ["GET", "POST"]),
        (f"{_REALM}/cdc", "cdc", ["GET"]),
        (f"{_REALM}/batch", "batch", ["POST"]),
        (f"{_REALM}/companyinfo/<ident>", "companyinfo", ["GET"]),
        (f"{_REALM}/preferences", "preferences", ["GET"]),
        (f"{_REALM}/<entity>", "write", ["POST"]),
        (f"{_REALM}/<entity>/<ident>", "read", ["GET"]),
        (f"{API_BASE}/<path:rest>", "unknown", ["GET", "POST", "PUT", "DELETE", "PATCH"]),
    )

    def __init__(self, host="127.0.0.1", port=0, *, world=None, clock=None, **settings):
        super().__init__(host=host, port=port, clock=clock, **settings)
        self._data_lock, self._rate_lock = threading.RLock(), threading.Lock()
        self.route_counts, self.served_429, self.minorversions = Counter(), Counter(), Counter()
        self.violations, self.refusals, self._after_commit = [], [], []
        self.idempotent_replays = self.api_calls = self.batch_calls = 0
        self._code_realms, self._grant_realms = {}, {}
        self.reset_rate_limits()
        self.schema, self.validation_note = self._load_schema()
        self.load(world if world is not None else generate_world())

    # -- addresses ---------------------------------------------------------------------------
    api_base = property(lambda self: f"{self.url}{API_BASE}")

    def api_url(self, realm_id=None):
        return f"{self.api_base}/{realm_id or self.realm_id}"

    @property
    def realm_id(self):
        """The default company's realm id (the world's first company: the US one)."""
        return self.world.companies[0].realm_id

    @property
    def realm_ids(self):
        return [company.realm_id for company in self.world.companies]

    def headers(self, token, **extra):
        access = token["access_token"] if isinstance(token, dict) else token
        return {"Authorization": f"Bearer {access}", "Accept": "application/json", **extra}

    # -- world ---------------------------------------------------------------------------------
    def load(self, world):
        """Serve ``world`` (a ``QuickBooksWorld``); its records were made 60 days before its ``now``."""
        with self._data_lock:
            self.world = world
            seeded_at = world.now.timestamp() - 60 * 86400
            self._realms = {c.realm_id: Realm(copy.deepcopy(c), self.clock, seeded_at) for c in world.companies}

    def realm(self, realm_id=None):
        return self._realms[realm_id or self.realm_id]

    def company(self, realm_id=None):
        """The company's settings (``quickbooks_data.Company``), live: edits show in the API."""
        return self.realm(realm_id).company

    def set_book_close_date(self, day, realm_id=None):
        with self._data_lock:
            self.company(realm_id).book_close_date = day

    def set_custom_txn_numbers(self, flag, realm_id=None):
        with self._data_lock:
            self.company(realm_id).custom_txn_numbers = flag

    def enable_currency(self, code, realm_id=None):
        with self._data_lock:
            company = self.company(realm_id)
            if code not in company.currencies:
                company.currencies = (*company.currencies, code)

    def record(self, entity, ident, realm_id=None):
        """What ``GET /{entity}/{id}`` answers (the entity's JSON), or None."""
        with self._data_lock:
            realm = self.realm(realm_id)
            stored = realm.store[entity].get(str(ident))
            return realm.render(entity, stored) if stored else None

    def records(self, entity, realm_id=None, active=None):
        with self._data_lock:
            rows = self.realm(realm_id).documents(entity)
        return [row for row in rows if active is None or row.get("Active", True) == active]

    def find(self, entity, realm_id=None, **fields):
        """The first record whose fields equal ``fields`` (e.g. ``DisplayName="x"``), or None."""
        return next((r for r in self.records(entity, realm_id) if all(r.get(k) == v for k, v in fields.items())), None)

    def add(self, entity, body, realm_id=None):
        """Create a record as a QuickBooks user would (same rules as the API); its JSON."""
        with self._data_lock:
            return self.realm(realm_id).create(entity, body)

    def edit(self, entity, ident, realm_id=None, **fields):
        """A user's change in QuickBooks: a sparse update (SyncToken and LastUpdatedTime move)."""
        with self._data_lock:
            realm = self.realm(realm_id)
            current = realm.store[entity][str(ident)]
            body = {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True, **fields}
            return realm.update(entity, body)

    def now(self):
        return datetime.fromtimestamp(self.clock(), UTC)

    def duplicates(self):
        """``{"Invoice": {(realm, DocNumber): n}, "CreditMemo": ..., "Payment": {(realm, customer,
        amount, date, reference): n}}`` for values held more than once (a retried write's trace)."""
        found = {"Invoice": Counter(), "CreditMemo": Counter(), "Payment": Counter()}
        with self._data_lock:
            for realm_id, realm in self._realms.items():
                for kind in SALES:
                    for doc in realm.store[kind].values():
                        found[kind][(realm_id, doc.get("DocNumber"))] += 1
                for pay in realm.store["Payment"].values():
                    key = (
                        realm_id,
                        pay["CustomerRef"]["value"],
                        pay["TotalAmt"],
                        pay["TxnDate"],
                        pay.get("PaymentRefNum"),
                    )
                    found["Payment"][key] += 1
        return {kind: {key: n for key, n in counts.items() if n > 1} for kind, counts in found.items()}

    def duplicate_count(self):
        return sum(n - 1 for counts in self.duplicates().values() for n in counts.values())

    # -- OAuth, Intuit style (§1) -----------------------------------------------------------
    def issue_token(self, realm_id=None, scope=ACCOUNTING_SCOPE):
        """Tokens as if the user had consented to ``scope`` for company ``realm_id`` (default: US)."""
        with self._tokens_lock:
            grant = self._new_grant(self.client_id, scope)
            self._grant_realms[grant.grant_id] = realm_id or self.realm_id
            return self._issue(grant)

    def realm_of(self, token):
        access = self.access_token_info(token["access_token"] if isinstance(token, dict) else token)
        with self._tokens_lock:
            return self._grant_realms.get(access.grant_id) if access else None

    def _consent_page(self, params):
        """Intuit's consent: the scopes and the company to connect (one; the first is preselected)."""
        page = super()._consent_page(params)
        radios = "\n".join(
            f'    <label><input type="radio" name="realm" value="{company.realm_id}"'
            f"{' checked' if index == 0 else ''}> {company.name}</label><br>"
            for index, company in enumerate(self.world.companies)
        )
        fieldset = f'<fieldset id="companies">\n    <legend>Company</legend>\n{radios}\n  </fieldset>\n'
        page.set_data(page.get_data(as_text=True).replace("    <button", fieldset + "    <button", 1))
        return page

    def on_oauth_authorize(self, request):
        response = super().on_oauth_authorize(request)
        if request.method == "POST" and response.status_code == 302:
            location = response.headers["Location"]
            code = query_of(location).get("code")
            if code:
                realm_id = request.form.get("realm") or self.realm_id
                if realm_id not in self._realms:
                    return self._html_page(400, "Unknown company", f"There is no company {realm_id!r}.")
                with self._tokens_lock:
                    self._code_realms[code] = realm_id
                parts = urlsplit(location)  # the company comes back with the code [V Q3]
                query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("realmId", realm_id)])
                response.headers["Location"] = urlunsplit(parts._replace(query=query))
        return response

    def _authenticate_client(self, request):
        """Intuit takes the client credentials as HTTP Basic only [V Q2]."""
        basic = request.authorization
        if basic is None or basic.type != "basic":
            return None, self._invalid_client(basic=True)
        return super()._authenticate_client(request)

    def _grant_authorization_code(self, client_id, form):
        response = super()._grant_authorization_code(client_id, form)
        if response.status_code == 200:
            with self._tokens_lock:
                code = self._codes[form["code"]]
                self._grant_realms[code.grant_id] = self._code_realms.pop(code.code, self.realm_id)
        return response

    def _grant_refresh_token(self, client_id, form):
        response = super()._grant_refresh_token(client_id, form)
        if response.status_code == 400 and json.loads(response.get_data()).get("error") == "invalid_grant":
            self.refusals.append(json.loads(response.get_data()).get("error_description"))
            return self.oauth_error("invalid_grant", "Incorrect or invalid refresh token")  # [V Q14]
        return response

    def _issue(self, grant, scope=None):
        answer = super()._issue(grant, scope)
        return {
            "token_type": "bearer",
            "access_token": answer["access_token"],
            "expires_in": answer["expires_in"],
            "refresh_token": answer["refresh_token"],
            "x_refresh_token_expires_in": int(self.refresh_token_idle_lifetime),
        }

    def _token_to_revoke(self, request):
        """Intuit's revocation takes JSON ``{"token": ...}`` [V Q2] (a form works too)."""
        if request.mimetype == "application/json":
            payload = request.get_json(silent=True)
            return payload.get("token") if isinstance(payload, dict) else None
        return super()._token_to_revoke(request)

    def _unauthorized(self, description, error="invalid_token"):
        """The API gateway's 401: a lower-case body [V Q16]."""
        detail = f"Token expired: {description}" if "expired" in description else description
        body = {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "detail": detail,
                        "code": "3200",
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "time": int(self.clock() * 1000),
        }
        response = self.json_response(
            body, status=401, headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'}
        )
        return HTTPException(response=response)

    # -- limits (§9) ---------------------------------------------------------------------
    def reset_rate_limits(self):
        with self._rate_lock:
            self._windows = defaultdict(deque)
            self._in_flight = Counter()

    def in_flight(self, realm_id=None):
        with self._rate_lock:
            return self._in_flight[realm_id or self.realm_id]

    def _rate_enter(self, realm_id, batch):
        """Count a call; the name of the limit it exceeds (then it is not counted), else None."""
        now = (self.rate_limit_clock or time.monotonic)()
        limits = [("second", self.second_limit, 1), ("minute", self.minute_limit, 60)]
        if batch:
            limits.append(("batch", self.batch_minute_limit, 60))
        with self._rate_lock:
            for name, _limit, size in limits:
                window = self._windows[(realm_id, name)]
                while window and window[0] <= now - size:
                    window.popleft()
            if self.enforce_rate_limits:
                if self._in_flight[realm_id] >= self.concurrent_limit:
                    return "concurrent"
                for name, limit, _size in limits:
                    if len(self._windows[(realm_id, name)]) >= limit:
                        return name
            for name, _limit, _size in limits:
                self._windows[(realm_id, name)].append(now)
            self._in_flight[realm_id] += 1
        return None

    def _release(self, environ):
        """The call no longer counts as in progress (once: at its end, or when its write committed)."""
        if not environ.get("fakeqbo.released"):
            environ["fakeqbo.released"] = True
            with self._rate_lock:
                self._in_flight[environ["fakeqbo.realm"]] -= 1

    def _throttled_body(self, realm):
        body = fault_body("3001", THROTTLED, "The request limit was reached.", kind="SERVICE")
        return {**body, "time": realm.server_time() if realm else self.now().isoformat(timespec="milliseconds")}

    def minimum_seconds(self, api_calls, batch_calls=0):
        """The least wall time QuickBooks' limits allow for ``api_calls`` calls of one realm, of
        which ``batch_calls`` are batches (sliding windows: n calls span (n - 1) // limit windows)."""
        spans = [
            ((api_calls - 1) // self.second_limit) * 1 if api_calls else 0,
            ((api_calls - 1) // self.minute_limit) * 60 if api_calls else 0,
            ((batch_calls - 1) // self.batch_minute_limit) * 60 if batch_calls else 0,
        ]
        return max(spans)

    def throttle(self, times=1):
        """The next ``times`` API calls answer 429 ``ThrottleExceeded``."""
        return self.inject(429, times=times, body="throttle")

    # -- faults --------------------------------------------------------------------------
    def inject(
        self, status=None, times=1, retry_after=None, body=None, content_type=None, delay=None, path_prefix=API_BASE
    ):
        """``FaultInjectionMixin.inject`` aimed at the API by default."""
        return super().inject(status, times, retry_after, body, content_type, delay, path_prefix)

    def inject_after_commit(self, times=1, delay=5.0, drop=False, path_prefix=API_BASE):
        """The next ``times`` writes under ``path_prefix`` commit, then their answer hangs ``delay``
        seconds (``drop=True``: the connection is closed without an answer)."""
        return super().inject_after_commit(times, delay, drop, path_prefix)

    def _fault_response(self, fault):
        if fault.status == 429 and fault.body in (None, "throttle"):
            with self._lock:
                self.served_429["injected"] += 1
            response = self.json_response(self._throttled_body(None), status=429)
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        if fault.body is None and fault.status and fault.status >= 400:
            body = fault_body(
                "10000",
                "An application error has occurred while processing your request",
                f"System Failure Error: injected fault {fault.status}",
                kind="SystemFault",
            )
            fault = replace(fault, body={**body, "time": self.now().isoformat(timespec="milliseconds")})
        return FaultInjectionMixin._fault_response(fault)

    # -- validation ------------------------------------------------------------------------
    def _load_schema(self):
        wanted = self.validate
        if wanted is None:
            wanted = os.environ.get("FAKE_QBO_VALIDATE", "1") not in ("0", "", "false", "no")
        if not wanted:
            return None, "validation is off (validate=False or FAKE_QBO_VALIDATE=0)"
        try:
            return QboSchema.load(), "validation is on: every request body and answer is checked against the XSDs"
        except ContractMissing as missing:
            if self.validate:
                raise
            return None, f"validation is off: {missing}"

    def _violation(self, method, path, problems):
        with self._lock:
            self.violations.append({"method": method, "path": path, "problems": problems})
        body = {"Type": "FakeQuickBooksContractViolation", "Message": "; ".join(problems[:10]), "Violations": problems}
        return "500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")], json.dumps(body).encode()

    def _violation_response(self, request, problems):
        _status, headers, payload = self._violation(request.method, request.path, [f"request: {p}" for p in problems])
        return Response(payload, status=500, headers=headers)

    # -- dispatch --------------------------------------------------------------------------
    def count(self, route):
        """How many requests reached ``route``, e.g. ``"POST /batch"``, ``"GET /invoice/{id}"``."""
        return self.route_counts[route]

    @staticmethod
    def _route(method, path):
        parts = path[len(API_BASE) + 1 :].split("/")
        if len(parts) < 2:
            return f"{method} {path}"
        tail = f"/{parts[1].lower()}" + ("/{id}" if len(parts) > 2 else "")
        return f"{method} {tail}"

    def wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_BASE + "/"):
            status, headers, payload = self._serve_api(environ, path)
        else:
            status, headers, payload = capture_response(super().wsgi_app, environ)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers += [("Content-Length", str(len(payload))), ("intuit_tid", f"1-{uuid.uuid4().hex[:24]}")]
        start_response(status, headers)
        return [payload]

    @staticmethod
    def _header_problems(environ, path, body):
        """What a client must send on every call (§2): JSON answers, and the body's type."""
        problems = []
        accept = environ.get("HTTP_ACCEPT", "")
        if "application/json" not in accept:
            problems.append(
                f"request: Accept must be application/json (QuickBooks answers XML otherwise), not {accept!r}"
            )
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip()
        if environ.get("REQUEST_METHOD") == "POST" and body:
            wanted = "application/text" if path.rstrip("/").endswith("/query") else "application/json"
            if content_type != wanted:
                problems.append(f"request: Content-Type must be {wanted}, not {content_type!r}")
        return problems

    def _serve_api(self, environ, path):
        realm_id = path[len(API_BASE) + 1 :].split("/")[0]
        environ["fakeqbo.realm"] = realm_id
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        method = environ.get("REQUEST_METHOD")
        batch = path.rstrip("/").endswith("/batch")
        with self._lock:
            self.route_counts[self._route(method, path)] += 1
            self.api_calls += 1
            self.batch_calls += batch
        problems = self._header_problems(environ, path, body) if self.schema else []
        if problems:
            self._record(Request(environ))
            return self._violation(method, path, problems)
        limited = self._rate_enter(realm_id, batch)
        if limited:
            self._record(Request(environ))
            with self._lock:
                self.served_429[limited] += 1
            headers = [("Content-Type", "application/json")]
            if self.throttle_retry_after is not None:
                headers.append(("Retry-After", str(self.throttle_retry_after)))
            realm = self._realms.get(realm_id)
            return "429 TOO MANY REQUESTS", headers, json.dumps(self._throttled_body(realm)).encode()
        try:
            status, headers, payload = capture_response(super().wsgi_app, environ)
        finally:
            self._release(environ)
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        if self.schema and content_type.startswith("application/json") and not status.startswith("401"):
            try:
                answer = json.loads(payload)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and not answer.get("Type", "").startswith("FakeQuickBooks"):
                problems = self.schema.response_errors(answer)
                if problems:
                    return self._violation(method, path, [f"answer: {p}" for p in problems])
        return status, headers, payload

    # -- API: common -------------------------------------------------------------------------
    def _enter(self, request, realm_id):
        """Bearer token (401), company and scope (403), minorversion (400); the company."""
        access = self.authenticate(request)
        with self._tokens_lock:
            granted = self._grant_realms.get(access.grant_id)
        realm = self._realms.get(realm_id)
        if realm is None or granted != realm_id or ACCOUNTING_SCOPE not in access.scope.split():
            body = fault_body(
                "3100", NOT_AUTHORIZED, f"The app is not connected to company {realm_id}.", kind="AuthorizationFault"
            )
            raise HTTPException(response=self._answer(realm or self.realm(), body, 403))
        version = request.args.get("minorversion")
        with self._lock:
            self.minorversions[version] += 1
        if version is None and self.require_minorversion:
            raise HTTPException(response=self._fault(realm, QboFault("2020", name="minorversion")))
        if version is not None and (not version.isdigit() or int(version) < self.minimum_minorversion):
            reason = f"minorversion {version} is not supported; use {self.minimum_minorversion} or later."
            raise HTTPException(response=self._fault(realm, business(reason)))
        return realm

    def _answer(self, realm, payload, status=200):
        return self.json_response({**payload, "time": realm.server_time()}, status=status)

    def _fault(self, realm, fault):
        return self._answer(realm, fault.body(), fault.status)

    def _body(self, request):
        try:
            return json.loads(request.get_data() or b"null")
        except ValueError:
            return None

    def _request_problems(self, kind, body):
        if not self.schema:
            return []
        return self.schema.entity_errors(kind, body, partial=bool(isinstance(body, dict) and body.get("Id")))

    def on_unknown(self, request, rest):
        return self.json_response(fault_body("404", "Resource not found", rest, kind="ValidationFault"), 404)

    # -- reads ---------------------------------------------------------------------------------
    def on_read(self, request, realm_id, entity, ident):
        realm = self._enter(request, realm_id)
        kind = ENTITIES.get(entity.lower())
        if kind is None:
            return self.on_unknown(request, entity)
        with self._data_lock:
            record = realm.get(kind, ident)
            if record is None:
                return self._fault(realm, QboFault("610", what=f"{kind} with Id {ident} does not exist."))
            return self._answer(realm, {kind: realm.render(kind, record)})

    def on_companyinfo(self, request, realm_id, ident):
        realm = self._enter(request, realm_id)
        return self._answer(realm, {"CompanyInfo": realm.company_info()})

    def on_preferences(self, request, realm_id):
        realm = self._enter(request, realm_id)
        return self._answer(realm, {"Preferences": realm.preferences()})

    def _run_query(self, realm, text):
        try:
            query = parse_query(text or "")
            with self._data_lock:
                return {
                    "QueryResponse": realm.query(query, self.max_results_limit, self.default_max_results, self.schema)
                }
        except QueryError as error:
            kind = "4000" if error.code == "4000" else "4001"
            raise QboFault(kind, reason=str(error)) from None

    def on_query(self, request, realm_id):
        realm = self._enter(request, realm_id)
        text = request.args.get("query") if request.method == "GET" else request.get_data(as_text=True)
        try:
            return self._answer(realm, self._run_query(realm, text))
        except QboFault as fault:
            return self._fault(realm, fault)

    def _cdc(self, realm, entities, changed_since):
        kinds = []
        for name in (entities or "").split(","):
            kind = next((k for k in QUERYABLE if k.lower() == name.strip().lower()), None)
            if kind is None or kind in NOT_IN_CDC:
                raise business(f"Entity {name.strip()!r} is not supported by Change Data Capture.")
            kinds.append(kind)
        if not kinds:
            raise QboFault("2020", name="entities")
        if not changed_since:
            raise QboFault("2020", name="changedSince")
        since = _moment(changed_since if "T" in changed_since else f"{changed_since}T00:00:00")
        if since is None:
            raise business(f"changedSince {changed_since!r} is not a date or a date-time.")
        if since.tzinfo is UTC and "T" not in changed_since:
            since = since.replace(tzinfo=realm.tz)
        if self.clock() - since.timestamp() > self.cdc_lookback_days * 86400:
            raise business(f"changedSince must be within the last {self.cdc_lookback_days} days.")  # [V Q9; code I]
        with self._data_lock:
            sections, _count = realm.changes(kinds, since.timestamp(), self.cdc_max_objects)
        return {"CDCResponse": [{"QueryResponse": sections}]}

    def on_cdc(self, request, realm_id):
        realm = self._enter(request, realm_id)
        try:
            return self._answer(realm, self._cdc(realm, request.args.get("entities"), request.args.get("changedSince")))
        except QboFault as fault:
            return self._fault(realm, fault)

    # -- writes ----------------------------------------------------------------------------------
    def _operate(self, realm, kind, operation, body, options):
        """One write on ``realm`` (under the data lock); the answer's entity JSON, or QboFault."""
        if not isinstance(body, dict):
            raise QboFault("2020", name=kind)
        if operation == "delete":
            return realm.delete(kind, body)
        if operation == "void" or "void" in options:
            return realm.void(kind, body)
        if operation == "update" or (operation is None and body.get("Id")):
            return realm.update(kind, body, options)
        if operation not in (None, "create"):
            raise business(f"Operation {operation} is not supported.")
        return realm.create(kind, body, options)

    def _idempotent(self, request, realm, limit, apply):
        """Run ``apply`` once per ``requestid`` [V Q7]; then the after-commit fault, if one is queued."""
        requestid = request.args.get("requestid")
        if requestid is not None and not 0 < len(requestid) <= limit:
            return self._fault(realm, business(f"requestid must be 1 to {limit} characters."))
        with self._data_lock:
            stored = realm.requestids.get(requestid) if requestid else None
            if stored is not None:
                with self._lock:
                    self.idempotent_replays += 1
                return Response(stored[1], status=stored[0], content_type="application/json")
            response = apply()
            if requestid and response.status_code < 500:
                realm.requestids[requestid] = (response.status_code, response.get_data())
        fault = self.take_after_commit(request.path)
        if fault is not None:
            self._release(request.environ)  # QuickBooks is done: only the answer is late or lost
            if fault.drop:
                drop_connection(request.environ)
            self._stopping.wait(fault.delay)
        return response

    def on_write(self, request, realm_id, entity):
        realm = self._enter(request, realm_id)
        kind = ENTITIES.get(entity.lower())
        if kind is None:
            return self.on_unknown(request, entity)
        body = self._body(request)
        problems = self._request_problems(kind, body)
        if problems:
            status, headers, payload = self._violation(
                request.method, request.path, [f"request: {p}" for p in problems]
            )
            return Response(payload, status=500, headers=headers)
        options = set(request.args.getlist("include"))
        operation = request.args.get("operation")

        def apply():
            try:
                return self._answer(realm, {kind: self._operate(realm, kind, operation, body, options)})
            except QboFault as fault:
                return self._fault(realm, fault)

        return self._idempotent(request, realm, self.requestid_max_length, apply)

    def on_batch(self, request, realm_id):
        realm = self._enter(request, realm_id)
        body = self._body(request)
        if self.schema and body is not None:
            problems = self.schema.batch_request_errors(body) if isinstance(body, dict) else ["not an object"]
            if problems:
                return self._violation_response(request, problems)
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not items:
            return self._fault(realm, business("Batch Request is Empty"))  # [V Q24]
        if len(items) > self.max_batch_items:
            return self._fault(realm, business(f"The batch has {len(items)} items; at most {self.max_batch_items}."))
        return self._idempotent(request, realm, self.batch_requestid_max_length, lambda: self._run_batch(realm, items))

    def _run_batch(self, realm, items):
        answers = []
        created = set()
        try:
            for item in items:
                answer = {"bId": item.get("bId")}
                try:
                    if len(str(item.get("bId") or "")) > self.max_bid_length:
                        raise business(f"bId must be at most {self.max_bid_length} characters.", element="bId")
                    answer.update(self._batch_item(realm, item, created))
                except QboFault as fault:
                    answer.update(fault.body())
                answers.append(answer)
        finally:
            realm.hidden.difference_update(created)
        return self._answer(realm, {"BatchItemResponse": answers})

    def _batch_item(self, realm, item, created):
        if "Query" in item:
            return self._run_query(realm, item["Query"])
        if "CDCQuery" in item:
            query = item["CDCQuery"] or {}
            answer = self._cdc(realm, query.get("Entities"), query.get("ChangedSince"))
            return {"CDCResponse": answer["CDCResponse"][0]}  # one per batch item (XSD)
        kinds = [key for key in item if key in ENTITIES.values()]
        if len(kinds) != 1:
            raise QboFault("2020", name="an entity, Query or CDCQuery")
        kind = kinds[0]
        options = {option.strip() for option in (item.get("optionsData") or "").split(",") if option.strip()}
        with self._data_lock:
            result = self._operate(realm, kind, item.get("operation"), item[kind], options)
            if item.get("operation", "create") == "create" and result.get("Id"):
                # Later items of this batch can't see it [V Q11]; hidden until the batch ends.
                created.add(result["Id"])
                realm.hidden.add(result["Id"])
        return {kind: result}


def webhook_delivery(events, verifier_token, cloud_events=True):
    """A webhook delivery as Intuit posts it (§10): ``(body bytes, headers)`` with the
    ``intuit-signature`` (base64 HMAC-SHA256 of the body, keyed with the app's verifier token).

    ``events``: ``(realm_id, entity, id, operation)`` tuples, operation as the legacy format
    spells it (``Create``, ``Update``, ``Delete``, ``Merge``, ``Void``, ``Emailed``);
    ``cloud_events=False`` gives the legacy ``eventNotifications`` shape (one per realm)."""
    verbs = {
        "Create": "created",
        "Update": "updated",
        "Delete": "deleted",
        "Merge": "merged",
        "Void": "voided",
        "Emailed": "emailed",
    }
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    if cloud_events:
        payload = [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "intuit.fake-quickbooks",
                "type": f"qbo.{entity.lower()}.{verbs[operation]}.v1",
                "datacontenttype": "application/json",
                "time": stamp,
                "intuitentityid": str(ident),
                "intuitaccountid": realm_id,
                "data": {},
            }
            for realm_id, entity, ident, operation in events
        ]
    else:
        by_realm = defaultdict(list)
        for realm_id, entity, ident, operation in events:
            by_realm[realm_id].append({"name": entity, "id": str(ident), "operation": operation, "lastUpdated": stamp})
        payload = {
            "eventNotifications": [
                {"realmId": realm_id, "dataChangeEvent": {"entities": entities}}
                for realm_id, entities in by_realm.items()
            ]
        }
    body = json.dumps(payload).encode()
    signature = base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()
    return body, {"Content-Type": "application/json", "intuit-signature": signature}


def choose_company(authorize_url, realm_id=None, decision="accept", params=None):
    """The browser's part of Intuit's consent: pick company ``realm_id`` (default: the preselected
    one), press Accept (or Decline); the query of the redirect back (``code``, ``state``,
    ``realmId``; or ``error``)."""
    page, form = read_consent_page(authorize_url, params)
    if page.status_code in (301, 302, 303):
        return query_of(page.headers["Location"])
    assert page.status_code == 200 and form.buttons, page.text
    if realm_id is not None:
        form.fields["realm"] = realm_id
    answer = submit_consent(page, form, decision)
    assert answer.status_code in (302, 303), answer.text
    return query_of(answer.headers["Location"])


__all__ = [
    "ACCOUNTING_SCOPE",
    "API_BASE",
    "ERRORS",
    "FakeQuickBooks",
    "QboFault",
    "choose_company",
    "compute_totals",
    "line_gross",
    "fault_body",
    "main",
    "parse_query",
    "webhook_delivery",
]


# ----------------------------------------------------------------------------------- sandbox
def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a fake QuickBooks Online (Intuit OAuth2, API v3) until Ctrl-C")
    add_service_arguments(parser, FakeQuickBooks, port=8074)
    parser.add_argument("--no-rate-limits", action="store_true", help="do not enforce QuickBooks' rate limits")
    parser.add_argument("--no-validate", action="store_true", help="do not check bodies against the XSDs")
    args = parser.parse_args(argv)
    from .sandbox import build_world

    seed, today = seed_of(args.seed), args.today or datetime.now(UTC).date()
    clients = build_world(seed=seed, today=today).invoiced_clients  # the agency's JobAdder clients
    fake = FakeQuickBooks(
        **service_options(args),
        world=generate_world(seed=seed, today=today, clients=clients),
        enforce_rate_limits=not args.no_rate_limits,
        validate=False if args.no_validate else None,
    ).start()
    token = fake.issue_token()
    companies = "\n".join(f"    {c.realm_id}  {c.name} ({c.country}, {c.home_currency})" for c in fake.world.companies)
    banner = (
        f"Fake QuickBooks Online (seed {seed!r}, today {today}): {len(fake.world.companies)} companies\n"
        f"{companies}\n"
        f"  authorize URL:   {fake.authorize_url}\n"
        f"  token URL:       {fake.token_url}\n"
        f"  revocation URL:  {fake.revoke_url}\n"
        f"  API base:        {fake.api_base}/{{realmId}}\n"
        f"  client_id:       {fake.client_id}\n"
        f"  client_secret:   {fake.client_secret}\n"
        f"  access token:    {token['access_token']}  (company {fake.realm_id}, {fake.access_token_lifetime} s)\n"
        f"  refresh token:   {token['refresh_token']}\n"
        f"  {fake.validation_note}"
    )
    serve_until_interrupted(fake, banner)


if __name__ == "__main__":
    main()
