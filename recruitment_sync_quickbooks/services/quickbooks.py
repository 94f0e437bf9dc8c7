"""QuickBooks Online Accounting API v3: constants, QuickBooks' arithmetic and its HTTP client.

Pure Python (no ``odoo`` model): the rules here are tested without a database. The contract is
``shared/contracts/quickbooks.md`` (section numbers below refer to it); facts it marks as
inferred are constants, easy to change.
"""

import hashlib
import json
import threading
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from odoo.tools.translate import LazyTranslate

from odoo.addons.recruitment_sync.services.http_client import HttpClient, PermanentError, RetryableError
from odoo.addons.recruitment_sync.services.money import ZERO, decimal, round_money
from odoo.addons.recruitment_sync.services.provider import PayloadError, SyncKind, naive_utc
from odoo.addons.recruitment_sync.services.rate_limit import RateLimitWaitTooLong

# -- endpoints (§1, §2; the administrator may point each one at a sandbox) ---------------------
AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
API_URLS = {
    "production": "https://quickbooks.api.intuit.com/v3/company",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3/company",
}
APP_URLS = {"production": "https://app.qbo.intuit.com", "sandbox": "https://app.sandbox.qbo.intuit.com"}
# The web app's page of each entity the connector writes ("View in QuickBooks"); items have none.
APP_PAGES = {
    "Invoice": "invoice?txnId=",
    "CreditMemo": "creditmemo?txnId=",
    "Payment": "recvpayment?txnId=",
    "Customer": "customerdetail?nameId=",
}
SCOPES = ("com.intuit.quickbooks.accounting",)
MINORVERSION = 75  # §2: 1-74 are no longer served
REFRESH_TOKEN_WARNING_DAYS = 14  # an activity this long before the refresh token expires
TID_HEADER = "intuit_tid"

# -- limits (§9) ----------------------------------------------------------------------------
MINUTE_LIMIT = 500
SECOND_LIMIT = 10
MAX_CONCURRENT = 10
BATCH_MINUTE_LIMIT = 40
# QuickBooks counts a call when it arrives [I]; our limiters count it from its answer (later):
# its windows need no margin, even with 10 calls in flight on a loaded machine.
MINUTE_WINDOW_SECONDS = 60
SECOND_WINDOW_SECONDS = 1
THROTTLE_WAIT = 60  # §9: on 429 wait 60 s (no Retry-After is documented)
MAX_BATCH = 30  # §7
# Batches sent at once (§9: 10 requests at once per realm): a sync step builds this many before
# sending them together, so that the first minute's 40 batches leave early and the later
# minutes, which QuickBooks' sliding window paces after them, end early too.
BATCHES_AT_ONCE = 10
EXPORT_STEP = MAX_BATCH * BATCHES_AT_ONCE
MAX_RESULTS = 1000  # §5
CDC_LOOKBACK_DAYS = 30  # §6
CDC_MAX_OBJECTS = 1000
BATCH_REQUESTID_MAX = 36
DOC_NUMBER_MAX = 21  # §11.8 [I]

# -- codes (§8) -----------------------------------------------------------------------------
STALE_OBJECT = "5010"
DUPLICATE_NAME = "6240"
DUPLICATE_NUMBER = "6210"
NOT_FOUND = "610"
SALES_ENTITIES = {"invoice": "Invoice", "credit_note": "CreditMemo"}

# -- what a sync processes, in this order (dependencies first) ---------------------------------
_lt = LazyTranslate(__name__)
TAX_CODES = SyncKind("qbo_tax_codes", _lt("Tax codes and rates"), "import", batch_size=MAX_RESULTS)
ACCOUNTS = SyncKind("qbo_accounts", _lt("Accounts (nominal codes)"), "import", batch_size=MAX_RESULTS)
ITEMS = SyncKind("qbo_items", _lt("Products and services (items)"), "import", batch_size=MAX_RESULTS)
CUSTOMERS = SyncKind("qbo_customers", _lt("Customers"), "import", batch_size=MAX_RESULTS)
EXPORT_ITEMS = SyncKind("qbo_export_items", _lt("Items the invoices need"), "export", batch_size=EXPORT_STEP)
EXPORT_CUSTOMERS = SyncKind(
    "qbo_export_customers", _lt("Customers the invoices need"), "export", batch_size=EXPORT_STEP
)
INVOICES = SyncKind("qbo_invoices", _lt("Sales invoices"), "export", batch_size=EXPORT_STEP)
CREDIT_NOTES = SyncKind("qbo_credit_notes", _lt("Credit notes (credit memos)"), "export", batch_size=EXPORT_STEP)
PAYMENTS = SyncKind("qbo_payments", _lt("Customer payments and applied credits"), "export", batch_size=EXPORT_STEP)
ALL_KINDS = (TAX_CODES, ACCOUNTS, ITEMS, CUSTOMERS, EXPORT_ITEMS, EXPORT_CUSTOMERS, INVOICES, CREDIT_NOTES, PAYMENTS)

HUNDRED = Decimal(100)
CUSTOMER_NUMBER_PREFIX = "ODOO-"


# --------------------------------------------------------------------------- values


def parse_datetime(value, field="MetaData.LastUpdatedTime"):
    """A QuickBooks date-time (company clock with its offset) as a naive UTC datetime."""
    if not value:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{field} is not a date-time: {value!r}")
    return naive_utc(value.replace("Z", "+00:00"), value, f"{field} is not a date-time")


def format_datetime(moment):
    """A naive UTC datetime as QuickBooks' query and CDC take it."""
    return moment.replace(microsecond=0, tzinfo=UTC).isoformat()


def quote(text):
    """A query literal (§5): apostrophes and backslashes escaped."""
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def batch_requestid(prefix, parts):
    """The ``requestid`` of a batch (≤ 36 characters): the same documents in the same versions
    always get the same id, so a retry is replayed by QuickBooks instead of executed again."""
    digest = hashlib.sha256(json.dumps([prefix, sorted(parts)], default=str).encode()).hexdigest()
    return digest[:BATCH_REQUESTID_MAX]


def customer_number(database_uuid, partner_id):
    """The customer's ``AcctNum`` the connector writes: this database's and partner's."""
    key = "".join(ch for ch in str(database_uuid or "").lower() if ch.isalnum())[:12]
    return f"{CUSTOMER_NUMBER_PREFIX}{key}-{partner_id}"


def partner_id_from_customer_number(value, database_uuid):
    prefix = customer_number(database_uuid, "")
    value = (value or "").strip()
    if value.lower().startswith(prefix.lower()) and value[len(prefix) :].isdigit():
        return int(value[len(prefix) :])
    return None


def without_deleted_suffix(name):
    """QuickBooks appends " (deleted)" to the names of deactivated entries (§11.7)."""
    name = (name or "").strip()
    return name[: -len(" (deleted)")].strip() if name.endswith(" (deleted)") else name


def app_url(app_base, entity, ident):
    """The page of QuickBooks' ``entity`` ``ident`` in the web app at ``app_base``, or False."""
    page = APP_PAGES.get(entity)
    if not page or not ident:
        return False
    return f"{app_base.rstrip('/')}/app/{page}{urllib.parse.quote(str(ident), safe='')}"


def ref(value, name=None):
    return {"value": str(value), "name": name} if name else {"value": str(value)}


# --------------------------------------------------------------------------- QuickBooks' totals
def sales_totals(lines, code_percents, *, us, global_tax="TaxExcluded", total_tax=None):
    """(tax, total) of a sales document as QuickBooks computes them (contract §3.2, §3.5).

    ``lines``: what the connector sends, each ``{"amount": net Decimal, "gross": tax-included
    Decimal or None, "code": tax code id, "taxable": bool}``. ``code_percents``: tax code id ->
    its sales percent. US: an explicit ``total_tax`` is what QuickBooks takes. Non-US: each tax
    code's net (TaxExcluded) or gross (TaxInclusive) is taxed once, rounded half up.
    """
    subtotal = sum((line["amount"] for line in lines), ZERO)
    if us:
        tax = round_money(total_tax or 0)
        return tax, subtotal + tax
    groups = defaultdict(lambda: ZERO)
    inclusive = global_tax == "TaxInclusive"
    for line in lines:
        groups[line["code"]] += line["gross"] if inclusive else line["amount"]
    tax = ZERO
    for code, base in groups.items():
        percent = decimal(code_percents.get(code) or 0)
        if inclusive:
            tax += round_money(base * percent / (HUNDRED + percent))
        else:
            tax += round_money(base * percent / HUNDRED)
    if inclusive:
        return tax, sum(groups.values(), ZERO)
    return tax, subtotal + tax


# --------------------------------------------------------------------------- faults
def fault_errors(payload):
    """[(code, message)] of a ``Fault`` (§8) or of the gateway's lower-case ``fault`` (401)."""
    if not isinstance(payload, dict):
        return []
    fault = payload.get("Fault") or payload.get("fault")
    if not isinstance(fault, dict):
        return []
    found = []
    for error in fault.get("Error") or fault.get("error") or ():
        if not isinstance(error, dict):
            continue
        message = error.get("Message") or error.get("message") or ""
        detail = error.get("Detail") or error.get("detail") or ""
        text = detail if detail and message in detail else "; ".join(part for part in (message, detail) if part)
        found.append((str(error.get("code") or ""), text.strip() or "QuickBooks refused it without saying why."))
    return found


def fault_text(payload, tid=None):
    """QuickBooks' words about a fault, with its code(s) and the intuit_tid support asks for."""
    parts = [f"{text} (code {code})" if code else text for code, text in fault_errors(payload)]
    text = "; ".join(parts) or "QuickBooks refused it without saying why."
    return f"{text} [intuit_tid {tid}]" if tid else text


def fault_codes(payload):
    return {code for code, _text in fault_errors(payload)}


# --------------------------------------------------------------------------- HTTP client
class QboHttpClient(HttpClient):
    """The core client, plus what QuickBooks needs on every call.

    * ``minorversion`` on every call (§2);
    * a ``Fault`` inside an HTTP 200 answer is an error (§8), except in batch answers, where
      each item's fault is read by the caller;
    * error messages carry QuickBooks' code and the answer's ``intuit_tid`` (§2: support asks
      for it); ``last_tid`` is the tid of the last answer, for the failed lines of a batch;
    * 429 ``ThrottleExceeded`` has no Retry-After: wait 60 s (§9).
    """

    def __init__(self, base_url, *, minorversion=MINORVERSION, batch_limiter=None, **kwargs):
        super().__init__(base_url, **kwargs)
        self.minorversion = minorversion
        self.batch_limiter = batch_limiter  # §9: 40 batch requests a minute, besides the other limits
        self._thread_state = threading.local()  # requests may run in several threads at once

    @property
    def last_tid(self):
        """The ``intuit_tid`` of the last answer this thread received."""
        return getattr(self._thread_state, "tid", None)

    def _attempt(self, call, attempt):
        if self.batch_limiter is None or not call["url"].endswith("/batch"):
            return super()._attempt(call, attempt)
        try:
            slot = self.batch_limiter.acquire(max_wait=self.max_wait)
        except RateLimitWaitTooLong as error:
            raise RetryableError(
                f"{self.name}'s batch limit is used up: the next batch can be sent in {error.seconds:.0f} s",
                retry_after=error.seconds,
            ) from error
        with slot:
            return super()._attempt(call, attempt)

    def request(self, method, path, *, params=None, **kwargs):
        params = {**(params or {}), "minorversion": self.minorversion}
        return super().request(method, path, params=params, **kwargs)

    def _handle_response(self, response, call):
        self._thread_state.tid = response.headers.get(TID_HEADER)
        answer = super()._handle_response(response, call)
        if isinstance(answer, dict) and "Fault" in answer and not call["url"].endswith("/batch"):
            message = f"{self.name} refused {call['method']} {call['target']}: {fault_text(answer, self.last_tid)}"
            kind = (
                RetryableError
                if any(code.startswith("1") and len(code) >= 5 for code in fault_codes(answer))
                else PermanentError
            )
            raise kind(message, status=response.status_code, remote_message=fault_text(answer))
        return answer

    def remote_error_details(self, payload):
        return [f"{text} (code {code})" if code else text for code, text in fault_errors(payload)]

    def _status_error(self, response, call):
        error = super()._status_error(response, call)
        if response.status_code == 429 and error.retry_after is None:
            error.retry_after = THROTTLE_WAIT
        tid = response.headers.get(TID_HEADER)
        if tid:
            error.message = f"{error.message} [intuit_tid {tid}]"
            error.args = (error.message,)
        return error


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)
