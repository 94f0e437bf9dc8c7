"""Xero Accounting API: constants, lenient parsing, Xero's own arithmetic and its HTTP client.

Pure Python (no ``odoo`` import): the mapping rules here are tested without a database.
Facts the contract (``shared/contracts/xero.md``) marks as inferred are constants, easy to change.
"""

import logging
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from odoo.tools.translate import LazyTranslate

from odoo.addons.recruitment_sync.services.http_client import AuthError, HttpClient
from odoo.addons.recruitment_sync.services.money import content_hash, decimal, round_money
from odoo.addons.recruitment_sync.services.provider import PayloadError, SyncKind, naive_utc

_logger = logging.getLogger(__name__)

# -- endpoints (the administrator may point each one at a sandbox) ----------------------------
AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.com/connect/token"
REVOKE_URL = "https://identity.xero.com/connect/revocation"
API_URL = "https://api.xero.com/api.xro/2.0"
# ``/connections`` lives next to the accounting API, at the root of its host.
ACCOUNTING_PATH = "/api.xro/2.0"
CONNECTIONS_PATH = "/connections"

# -- scopes (contract §2.4) -------------------------------------------------------------------
BASE_SCOPES = ("openid", "profile", "email", "offline_access", "accounting.settings", "accounting.contacts")
SCOPE_SETS = {
    # Apps created from 2 March 2026 may only ask for granular scopes.
    "granular": (*BASE_SCOPES, "accounting.invoices", "accounting.payments"),
    # Older apps keep the broad transactions scope until September 2027.
    "broad": (*BASE_SCOPES, "accounting.transactions"),
}
# Xero asks to refresh some minutes before the 30-minute access token expires [I].
REFRESH_MARGIN = 300

# -- limits (contract §6) ---------------------------------------------------------------------
MINUTE_LIMIT = 60
# The limiter's minute window is a little longer than Xero's: our clock starts a call when it
# leaves, Xero's when it arrives, and a call that arrived late must not be counted twice [I].
MINUTE_WINDOW_SECONDS = 60.5
DAY_LIMIT = 5000  # paid tiers; the free Starter tier is reported to get 1,000 [R]
DAY_SECONDS = 86400
MAX_CONCURRENT = 5
MAX_BATCH = 50  # elements per PUT/POST (Xero's advice)
MAX_PAGE_SIZE = 1000  # Contacts pageSize
MINUTE_HEADER = "X-MinLimit-Remaining"
DAY_HEADER = "X-DayLimit-Remaining"
APP_MINUTE_HEADER = "X-AppMinLimit-Remaining"
CORRELATION_HEADER = "Xero-Correlation-Id"
IDEMPOTENCY_KEY_MAX = 128

# -- deep links (contract §8) -----------------------------------------------------------------
GO_URL = "https://go.xero.com"
INVOICE_LINK = GO_URL + "/app/{short_code}/invoicing/view/{xero_id}"
CREDIT_NOTE_LINK = (
    GO_URL + "/organisationlogin/default.aspx?shortcode={short_code}"
    "&redirecturl=/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={xero_id}"
)
CONTACT_LINK = GO_URL + "/app/{short_code}/contacts/contact/{xero_id}"
# Without the short code the link opens in the user's last-used organisation [I].
INVOICE_LINK_NO_CODE = GO_URL + "/AccountsReceivable/View.aspx?InvoiceID={xero_id}"
CREDIT_NOTE_LINK_NO_CODE = GO_URL + "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={xero_id}"
CONTACT_LINK_NO_CODE = GO_URL + "/Contacts/View/{xero_id}"

# -- documents --------------------------------------------------------------------------------
INVOICE_TYPE = "ACCREC"
CREDIT_NOTE_TYPE = "ACCRECCREDIT"
EXCLUSIVE, INCLUSIVE, NO_TAX = "Exclusive", "Inclusive", "NoTax"
# States of an exported document in which Xero no longer lets us change it.
FINAL_STATUSES = frozenset({"PAID", "VOIDED", "DELETED"})
# ``ReportTaxType`` values of taxes on sales (the rest are purchases or neither).
SALE_REPORT_TYPES = frozenset(
    {
        "OUTPUT",
        "EXEMPTOUTPUT",
        "ECOUTPUT",
        "ECOUTPUTSERVICES",
        "EXEMPTEXPORT",
        "ZERORATEDOUTPUT",
        "GSTONCAPIMPORTS",
        "MOSSSALES",
        "USSALESTAX",
        "CAPEXOUTPUT",
        "SALESOUTPUT",
    }
)
NO_TAX_TYPE = "NONE"  # the "no tax" code of most regions [R]
# Send the invoice's own exchange rate when Xero's base currency is Odoo's company currency:
# Xero rates are foreign currency units per base unit, as Odoo's [I].
SEND_CURRENCY_RATE = True
CONTACT_NUMBER_PREFIX = "ODOO-"  # then the database uuid (32 hex digits) and the partner id
CONTACT_NUMBER_MAX = 50

# -- what a sync processes, in this order (dependencies first) ----------------------------------
_lt = LazyTranslate(__name__)
TAX_RATES = SyncKind("tax_rates", _lt("Tax rates"), "import", batch_size=MAX_PAGE_SIZE)
ACCOUNTS = SyncKind("accounts", _lt("Accounts (nominal codes)"), "import", batch_size=MAX_PAGE_SIZE)
CUSTOMERS = SyncKind("customers", _lt("Customers"), "import", batch_size=500)
EXPORT_CUSTOMERS = SyncKind("export_customers", _lt("Customers the invoices need"), "export", batch_size=MAX_BATCH)
INVOICES = SyncKind("invoices", _lt("Sales invoices"), "export", batch_size=MAX_BATCH)
CREDIT_NOTES = SyncKind("credit_notes", _lt("Credit notes (and their allocations)"), "export", batch_size=MAX_BATCH)
PAYMENTS = SyncKind("payments", _lt("Customer payments"), "export", batch_size=MAX_BATCH)

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
UNIT = Decimal("0.0001")


# --------------------------------------------------------------------------- dates


def parse_datetime(value, field="date"):
    """A Xero date (``/Date(ms+hhmm)/``, escaped or not, or ISO 8601) as a naive UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{field} is not a date: {value!r}")
    text = value.strip().replace("\\/", "/")
    match = _MS_DATE.match(text)
    if match:
        # The milliseconds are the UTC instant; the offset only says where it was shown.
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).replace(tzinfo=None)
    return naive_utc(text.replace("Z", "+00:00"), value, f"{field} is not a date")


def parse_date(value, field="date"):
    """A document date: the UTC calendar day of the instant Xero sends (contract §9)."""
    moment = parse_datetime(value, field)
    return moment.date() if moment else None


def format_date(value):
    return value.isoformat() if isinstance(value, date) else None


def format_if_modified_since(moment):
    """``If-Modified-Since`` as Xero takes it: a UTC timestamp without zone."""
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------- numbers


def round_unit(value):
    return decimal(value).quantize(UNIT, rounding=ROUND_HALF_UP)


def xero_totals(lines, line_amount_types):
    """(sub total, total tax, total) of a document as Xero computes them (contract §10.3).

    ``lines``: dicts with ``Quantity`` and ``UnitAmount`` (optional ``DiscountRate``), or a
    ``LineAmount`` alone, and the tax rate in percent under ``rate``. Xero rounds each line
    amount and each line's tax to the cent, then sums: that is what it will show as the
    document's total.
    """
    sub_total = total_tax = Decimal(0)
    for line in lines:
        if line.get("UnitAmount") is None:
            amount = round_money(line.get("LineAmount") or 0)
        else:
            gross = decimal(line.get("Quantity", 1)) * decimal(line["UnitAmount"])
            discount = decimal(line.get("DiscountRate") or 0)
            amount = round_money(gross * (100 - discount) / 100)
        rate = decimal(line.get("rate") or 0)
        if line_amount_types == INCLUSIVE:
            tax = round_money(amount * rate / (100 + rate))
            sub_total += amount - tax
        elif line_amount_types == EXCLUSIVE:
            tax = round_money(amount * rate / 100)
            sub_total += amount
        else:
            tax = Decimal(0)
            sub_total += amount
        total_tax += tax
    return sub_total, total_tax, sub_total + total_tax


# --------------------------------------------------------------------------- payloads


def idempotency_key(prefix, method, path, body):
    """The Idempotency-Key of a write: same request, same key; another content, another key."""
    digest = content_hash({"method": method, "path": path, "body": body})
    return f"{prefix}-{digest}"[:IDEMPOTENCY_KEY_MAX]


def contact_number(database_uuid, partner_id):
    """The ``ContactNumber`` (Xero's *Contact Code*) the connector writes: this database's and partner's.

    Unique to the database (like 24SevenOffice's ExternalId): a contact written by another Odoo
    database (a test copy, another company) never names a partner of this one.
    """
    return f"{CONTACT_NUMBER_PREFIX}{_uuid_key(database_uuid)}-{partner_id}"[:CONTACT_NUMBER_MAX]


def _uuid_key(database_uuid):
    return "".join(ch for ch in str(database_uuid or "").lower() if ch.isalnum())


def partner_id_from_contact_number(value, database_uuid):
    """The partner id a ``ContactNumber`` written by this database names, or None (any other form)."""
    value = (value or "").strip()
    prefix = f"{CONTACT_NUMBER_PREFIX}{_uuid_key(database_uuid)}-"
    if _uuid_key(database_uuid) and value.lower().startswith(prefix.lower()) and value[len(prefix) :].isdigit():
        return int(value[len(prefix) :])
    return None


def is_connector_contact_number(value):
    """A ``ContactNumber`` some Odoo database's connector wrote (this form or the old ``ODOO-RP-<id>``)."""
    value = (value or "").strip().upper()
    return bool(re.fullmatch(r"ODOO-(RP-\d+|[0-9A-F]{32}-\d+)", value))


def element_errors(element):
    """Xero's own messages about one element of a batch answer (empty: it went through)."""
    messages = []
    for key in ("ValidationErrors", "Errors"):
        for error in element.get(key) or ():
            message = error.get("Message") if isinstance(error, dict) else error
            if message and str(message).strip():
                messages.append(str(message).strip())
    failed = (
        element.get("HasErrors")
        or element.get("HasValidationErrors")
        or str(element.get("StatusAttributeString") or "").upper() == "ERROR"
    )
    if failed and not messages:
        messages.append("Xero refused it without saying why.")
    return list(dict.fromkeys(messages))


def tax_use(tax_rate):
    """``sale``, ``purchase`` or ``other``: what a Xero tax rate applies to."""
    report = str(tax_rate.get("ReportTaxType") or "").upper()
    if report in SALE_REPORT_TYPES or "OUTPUT" in report or "SALES" in report:
        return "sale"
    if "INPUT" in report or "PURCHASE" in report or report == "IMPORTS":
        return "purchase"
    if tax_rate.get("CanApplyToRevenue") is True:
        return "sale"
    return "other"


def effective_rate(tax_rate):
    """The rate (percent) Xero applies: ``EffectiveRate``, else the sum of its components."""
    for key in ("EffectiveRate", "DisplayTaxRate"):
        if tax_rate.get(key) not in (None, ""):
            return float(decimal(tax_rate[key]))
    return float(sum(decimal(component.get("Rate") or 0) for component in tax_rate.get("TaxComponents") or ()))


def connections_url(api_base_url):
    """``/connections`` on the accounting API's host: ``https://api.xero.com/connections``."""
    base = (api_base_url or API_URL).rstrip("/")
    if base.endswith(ACCOUNTING_PATH):
        base = base[: -len(ACCOUNTING_PATH)]
    return base + CONNECTIONS_PATH


def deep_link(kind, xero_id, short_code=None, app_url=None):
    """The address of a Xero record in Xero's web app (in the right organisation with its short code).

    ``app_url`` replaces ``https://go.xero.com`` (a sandbox points it at its stand-in).
    """
    templates = {
        "invoice": (INVOICE_LINK, INVOICE_LINK_NO_CODE),
        "credit_note": (CREDIT_NOTE_LINK, CREDIT_NOTE_LINK_NO_CODE),
        "contact": (CONTACT_LINK, CONTACT_LINK_NO_CODE),
    }
    with_code, without_code = templates[kind]
    if short_code:
        link = with_code.format(short_code=short_code, xero_id=xero_id)
    else:
        link = without_code.format(xero_id=xero_id)
    return app_url.rstrip("/") + link.removeprefix(GO_URL) if app_url else link


# --------------------------------------------------------------------------- HTTP client


class XeroHttpClient(HttpClient):
    """The core client, plus what Xero needs on every call.

    * ``xero-tenant-id`` on every accounting call (``tenant_id``);
    * the ``X-MinLimit-Remaining`` / ``X-DayLimit-Remaining`` headers adapt the limiter
      when Xero counts more calls than we did (another app or process of this tenant);
    * a 403 ``AuthenticationUnsuccessful`` (organisation disconnected, scope withdrawn) means
      *reconnect*, as a 401 does;
    * Xero's correlation id is quoted in errors: Xero's support asks for it.
    """

    def __init__(self, base_url, *, tenant_id=None, minute_limit=MINUTE_LIMIT, day_limit=DAY_LIMIT, **kwargs):
        super().__init__(base_url, **kwargs)
        self.tenant_id = tenant_id
        self.minute_limit = minute_limit
        self.day_limit = day_limit
        self.last_remaining = {}

    def request(self, method, path, *, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.tenant_id:
            headers.setdefault("xero-tenant-id", self.tenant_id)
        return super().request(method, path, headers=headers, **kwargs)

    def _note_rate_limit_headers(self, response):
        """Follow Xero's count only where it is stricter than the limiter's own windows.

        The limiter already spaces our calls within Xero's windows; Xero's remaining counts
        then agree with it and say nothing new. When Xero says no call is left while the
        limiter would send one now, someone else uses this tenant's budget: wait a whole
        window (a 429's Retry-After, if one comes, says exactly how long).
        """
        if self.rate_limiter is None:
            return
        for header, period in ((MINUTE_HEADER, 60), (DAY_HEADER, DAY_SECONDS)):
            value = (response.headers.get(header) or "").strip()
            if not value.lstrip("-").isdigit():
                continue
            remaining = int(value)
            self.last_remaining[header] = remaining
            if remaining <= 0 and self.rate_limiter.seconds_until_allowed() <= 0:
                self.rate_limiter.update_remaining(period, 0)

    def remote_error_details(self, payload):
        """A refused batch's ``Elements[]`` carry what to fix in ``ValidationErrors``."""
        if not isinstance(payload, dict):
            return []
        elements = payload.get("Elements") or ()
        return [message for element in elements if isinstance(element, dict) for message in element_errors(element)]

    def _status_error(self, response, call):
        error = super()._status_error(response, call)
        correlation = response.headers.get(CORRELATION_HEADER)
        if response.status_code == 403 and "AuthenticationUnsuccessful" in (error.remote_message or ""):
            error = AuthError(
                f"Xero refused access to the organisation ({error.remote_message}): it was disconnected from "
                "this app in Xero, or the app lost a permission it needs. Reconnect the integration.",
                status=403,
                remote_message=error.remote_message,
            )
        if correlation:
            error.message = f"{error.message} (Xero-Correlation-Id {correlation})"
            error.args = (error.message,)
        return error
