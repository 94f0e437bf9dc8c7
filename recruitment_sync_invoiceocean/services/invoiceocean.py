"""InvoiceOcean REST/JSON API: constants, lenient parsing, the mapping of clients and documents, its HTTP client.

Pure Python (no ``odoo`` import): the mapping rules here are tested without a database. Facts the
contract (``shared/contracts/invoiceocean.md``) marks as inferred are constants, easy to change.
"""

import re
from decimal import Decimal, InvalidOperation

from odoo.tools.translate import LazyTranslate

from odoo.addons.recruitment_sync.services.http_client import HttpClient
from odoo.addons.recruitment_sync.services.provider import PayloadError, SyncKind, naive_utc

# -- addresses (§2) -----------------------------------------------------------------------------
ACCOUNT_URL = "https://{prefix}.invoiceocean.com"
PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# -- paging (§4) --------------------------------------------------------------------------------
PER_PAGE = 100  # the most a page holds [FK S2]
# Re-read this much before the watermark: a clock skew or a change committed while we paged loses nothing [I].
OVERLAP_SECONDS = 120

# -- documents (§3.2) ---------------------------------------------------------------------------
_lt = LazyTranslate(__name__)
KINDS = {
    "vat": _lt("VAT invoice"),
    "proforma": _lt("Proforma invoice"),
    "bill": _lt("Bill"),
    "receipt": _lt("Receipt"),
    "advance": _lt("Advance invoice"),
    "final": _lt("Final invoice"),
    "correction": _lt("Correction"),
    "vat_mp": _lt("VAT invoice (MP)"),
    "invoice_other": _lt("Other invoice"),
    "vat_margin": _lt("VAT margin invoice"),
    "kp": _lt("Cash in (KP)"),
    "kw": _lt("Cash out (KW)"),
    "estimate": _lt("Estimate"),
}
# What becomes an opportunity unless the administrator chooses otherwise (Sugester's default).
DEFAULT_KINDS = ("vat", "vat_margin", "proforma", "receipt", "final")
PAID_STATUS = "paid"
# Taxes InvoiceOcean names instead of a rate: not subject, exempt, disabled.
NO_RATE_TAXES = ("np", "zw", "disabled")

# -- webhooks (§6) ------------------------------------------------------------------------------
CLIENT_EVENTS = ("client:create", "client:update", "client:destroy")
DOCUMENT_EVENTS = ("invoice:create", "invoice:update")
WEBHOOK_KINDS = CLIENT_EVENTS + DOCUMENT_EVENTS

# -- what a sync processes, in this order (dependencies first) ------------------------------------
DEPARTMENTS = SyncKind("io_departments", _lt("Departments"), "import", batch_size=PER_PAGE)
CLIENTS = SyncKind("io_clients", _lt("Customers from InvoiceOcean"), "import", batch_size=PER_PAGE)
EXPORT_CLIENTS = SyncKind("io_export_clients", _lt("Customers to InvoiceOcean"), "export", batch_size=PER_PAGE)
# After an export wrote clients: the clients read again down to the watermark, once (what we wrote,
# and what changed in InvoiceOcean meanwhile), so that the next sync starts above them.
CLIENTS_AFTER_EXPORT = SyncKind(
    "io_clients_after_export", _lt("Customers from InvoiceOcean, after sending"), "import", batch_size=PER_PAGE
)
DOCUMENTS = SyncKind("io_documents", _lt("Documents as opportunities"), "import", batch_size=PER_PAGE)
ADD_INVOICES = SyncKind("io_add_invoices", _lt("Invoices added from opportunities"), "export", batch_size=20)
ALL_KINDS = (DEPARTMENTS, CLIENTS, EXPORT_CLIENTS, CLIENTS_AFTER_EXPORT, DOCUMENTS, ADD_INVOICES)

CLIENT = "client"  # binding type of InvoiceOcean clients (res.partner)
DOCUMENT = "document"  # binding type of InvoiceOcean documents (crm.lead)
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- parsing


def account_url(prefix):
    return ACCOUNT_URL.format(prefix=prefix)


def clean_prefix(value):
    """The account's prefix as typed: ``acme``, ``acme.invoiceocean.com`` or its URL all give ``acme``."""
    text = (value or "").strip().lower()
    text = re.sub(r"^https?://", "", text).split("/")[0]
    return text.split(".")[0] if text.endswith(".invoiceocean.com") else text


def parse_money(value, field="amount"):
    """An amount as InvoiceOcean writes it: a number, ``"339.99"``, ``"59,00"`` or ``"1 234,5"`` (§2, §7.2)."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        raise PayloadError(f"{field} is not an amount: {value!r}")
    text = str(value).replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise PayloadError(f"{field} is not an amount: {value!r}") from None
    if not number.is_finite():
        raise PayloadError(f"{field} is not an amount: {value!r}")
    return number


def parse_stamp(value, field="updated_at"):
    """An ISO 8601 stamp with its offset as the naive UTC datetime Odoo stores."""
    if not value:
        raise PayloadError(f"{field} is missing")
    return naive_utc(str(value), value, f"{field} is not a date-time")


def format_amount(value):
    return f"{Decimal(str(value)).quantize(CENT):f}"


def normalized_tax_number(value):
    """``PL 525-244-57-67`` and ``5252445767`` alike: letters and digits, upper case, no country prefix."""
    text = re.sub(r"[^0-9A-Za-z]", "", str(value or "")).upper()
    if len(text) > 2 and text[:2].isalpha() and text[2:].isdigit():
        text = text[2:]
    return text


def normalized_email(value):
    return str(value or "").strip().lower()


def normalized_name(value):
    return " ".join(str(value or "").split()).casefold()


def client_name(client):
    """The client's name; a private person may only have a first and last name (§3.1)."""
    name = " ".join(str(client.get("name") or "").split())
    if not name:
        name = " ".join(part for part in (client.get("first_name"), client.get("last_name")) if part)
    if not name:
        raise PayloadError("The client has no name in InvoiceOcean: give it one there.")
    return name


def partner_values(client, country_ids):
    """res.partner values of an InvoiceOcean client. ``country_ids``: {ISO code: id}."""
    street = " ".join(part for part in (client.get("street"), client.get("street_no")) if part) or False
    country = (client.get("country") or "").upper()
    return {
        "name": client_name(client),
        "is_company": client.get("company") not in (False, "0", 0, "false"),
        "vat": client.get("tax_no") or False,
        "email": client.get("email") or False,
        "phone": client.get("phone") or False,
        "mobile": client.get("mobile_phone") or False,
        "street": street,
        "zip": client.get("post_code") or False,
        "city": client.get("city") or False,
        "country_id": country_ids.get(country, False),
        "website": client.get("www") or False,
    }


# The partner fields a client maps to (``partner_values``), with how two values are compared.
_SAME = {
    "vat": normalized_tax_number,
    "email": normalized_email,
    "website": lambda value: str(value or "").strip().lower().removesuffix("/"),
}


def _comparable(field, value):
    if field == "is_company":
        return bool(value)
    if field == "country_id":
        return value or False
    return _SAME.get(field, lambda text: " ".join(str(text or "").split()))(value)


def merge_first_match(odoo_values, client_values, odoo_is_newer):
    """Two records found to be the same customer, never linked before: (Odoo's updates, send?).

    ``odoo_values`` and ``client_values`` are partner values (``partner_values``). A field only
    one side has is given to the other (a first link loses nothing); a field both have with
    different values goes the newer side's way (the conflict rule). ``send``: InvoiceOcean lacks
    something Odoo has (a PUT is due); nothing to send when both sides already agree.
    """
    updates, send = {}, False
    for field, remote in client_values.items():
        local = odoo_values.get(field)
        mine, theirs = _comparable(field, local), _comparable(field, remote)
        if mine == theirs:
            continue
        if field == "is_company" or (mine and theirs):
            if odoo_is_newer:
                send = True
            else:
                updates[field] = remote
        elif mine:
            send = True
        else:
            updates[field] = remote
    return updates, send


def client_payload(partner_data, external_id):
    """The ``client`` of a POST/PUT: ``partner_data`` is a dict of the partner's fields (pure)."""
    name = " ".join(str(partner_data.get("name") or "").split())
    if not name:
        raise PayloadError("The customer has no name: InvoiceOcean requires one.")
    return {
        "name": name,
        "company": bool(partner_data.get("is_company")),
        "tax_no": partner_data.get("vat") or "",
        "email": partner_data.get("email") or "",
        "phone": partner_data.get("phone") or "",
        "mobile_phone": partner_data.get("mobile") or "",
        "street": partner_data.get("street") or "",
        "post_code": partner_data.get("zip") or "",
        "city": partner_data.get("city") or "",
        "country": partner_data.get("country_code") or "",
        "www": partner_data.get("website") or "",
        "external_id": external_id,
    }


def document_summary(document, chosen_kinds):
    """What an opportunity needs of a document (list answer: no positions), or None for a kind not chosen.

    Raises ``PayloadError`` for an unknown kind or a document without number or client.
    """
    kind = document.get("kind")
    if kind not in KINDS:
        raise PayloadError(f"Unknown InvoiceOcean document kind {kind!r}: it is not one of {', '.join(KINDS)}.")
    if kind not in chosen_kinds:
        return None
    if not document.get("client_id"):
        raise PayloadError(f"Document {document.get('number') or document.get('id')} has no client in InvoiceOcean.")
    return {
        "id": str(document["id"]),
        "number": document.get("number") or str(document["id"]),
        "kind": kind,
        "status": document.get("status") or "issued",
        "client_id": str(document["client_id"]),
        "currency": (document.get("currency") or "").upper(),
        "price_net": parse_money(document.get("price_net"), "price_net"),
        "price_gross": parse_money(document.get("price_gross"), "price_gross"),
        "issue_date": document.get("issue_date") or False,
        "payment_to": document.get("payment_to") or False,
        "view_url": document.get("view_url") or False,
        "department_id": str(document["department_id"]) if document.get("department_id") else False,
        "user_id": str(document["user_id"]) if document.get("user_id") else False,
        "seller_person": " ".join(str(document.get("seller_person") or "").split()),
        "oid": document.get("oid") or False,
        "description": document.get("description") or "",
        "updated_at": parse_stamp(document.get("updated_at")),
    }


def position_payload(name, quantity, price_net, tax):
    """One ``positions[]`` element of a new invoice; ``tax`` a rate (``23``) or ``np``/``zw``/``disabled``."""
    if not (name or "").strip():
        raise PayloadError("Every invoice line needs a name.")
    tax_text = str(tax if tax not in (None, "") else "disabled").strip().lower()
    if tax_text not in NO_RATE_TAXES:
        tax_text = format(parse_money(tax_text, "tax").normalize(), "f")
    return {
        "name": name.strip(),
        "quantity": format(Decimal(str(quantity)).normalize(), "f"),
        "price_net": format_amount(price_net),
        "tax": tax_text,
    }


# --------------------------------------------------------------------------- HTTP


class InvoiceOceanHttpClient(HttpClient):
    """Sends the API token the documented way (§1): in the query of GET/DELETE, next to the resource
    wrapper in the JSON body of POST/PUT/PATCH; the token never appears in a log or a message."""

    def __init__(self, base_url, *, api_token=None, **kwargs):
        super().__init__(base_url, **kwargs)
        self.api_token = api_token
        self.add_secret(api_token)

    def request(self, method, path, *, params=None, json=None, **kwargs):
        if self.api_token:
            if method.upper() in ("GET", "DELETE") or json is None:
                params = {**(params or {}), "api_token": self.api_token}
            else:
                json = {"api_token": self.api_token, **json}
        return super().request(method, path, params=params, json=json, **kwargs)

    def remote_error_details(self, payload):
        """Validation answers are ``{"code": "error", "message": {"field": ["message", ...]}}`` (§5)."""
        message = payload.get("message") if isinstance(payload, dict) else None
        if not isinstance(message, dict):
            return []
        details = []
        for field, problems in message.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                details.append(f"{field} {problem}")
        return details
