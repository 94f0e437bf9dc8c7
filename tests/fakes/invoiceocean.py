"""A fake of InvoiceOcean's REST/JSON API (one account) over loopback HTTP.

Speaks ``shared/contracts/invoiceocean.md`` (section numbers below refer to it)::

    account = generate_account(seed=1)                               # tests/fakes/invoiceocean_data.py
    with FakeInvoiceOcean(account=account) as fake:
        requests.get(f"{fake.account_url}/clients.json", params={"api_token": fake.api_token, "page": 1})

Addressing (§2, §8): the real account lives at ``https://{prefix}.invoiceocean.com/``. The fake serves
one account, reachable on loopback two ways: ``account_url`` = ``http://127.0.0.1:{port}/{prefix}``
(the path prefix stands for the sub-domain), or the bare ``url`` with a ``Host: {prefix}.invoiceocean.com``
header. Another prefix (in the path or the host) is a 404 [I].

Auth (§1): ``api_token`` in the query string, or as a top-level key of the JSON body next to the
resource wrapper; ``Authorization: Bearer`` is accepted too [I S10]; a token "with prefix"
(``secret/prefix``) works as well as the plain one. Anything else: 401 ``{"code": "error", ...}`` [I].

Routes (every path ends in ``.json``; paging, filters, errors as §4–§5):

* ``/clients.json`` GET (``name``/``email``/``shortcut``/``tax_no`` substring [I], ``external_id`` exact),
  POST ``{"client": {...}}``; ``/clients/{id}.json`` GET, PUT, DELETE (the client is marked
  ``deleted`` and leaves the lists; GET still answers it [I]).
* ``/invoices.json`` GET (``period`` [default ``this_month`` when omitted, like the UI list, I],
  ``date_from``/``date_to`` with ``period=more``, ``search_date_type``, ``client_id``, ``oid``,
  ``invoice_id``, ``number``, ``invoice_ids``, ``kind``, ``kinds[]``, ``income=no`` (expenses; without it
  only sales documents [I]),
  ``include_positions=true``), POST ``{"invoice": {...}}`` (``oid_unique: "yes"``: 422 on a second
  document with the same ``oid``; no ``client_id`` or ``-1``: buyer matched by name / tax number / email
  or created [FK]); ``/invoices/{id}.json`` GET (with positions), PUT (partial; positions with ``id``
  update, with ``_destroy`` go, without ``id`` are appended), DELETE; ``/invoices/{id}/change_status.json``
  POST ``?status=``; ``/invoices/{id}/send_by_email.json`` POST (no-op); ``/invoices/{id}.pdf``.
  Kinds: ``KINDS``; unknown kind: 422 [I]. Numbers: ``{kind prefix}{n}/{MM}/{YYYY}`` [I].
* ``/departments.json`` GET, POST; ``/departments/{id}.json`` GET, PUT, DELETE.
* ``/products.json`` GET (``date_from``), POST; ``/products/{id}.json`` GET, PUT (net derived from gross).
* ``/banking/payments.json`` GET, POST ``{"banking_payment": {...}}`` with ``invoice_id`` or
  ``invoice_ids`` (applied in order, the last may stay partial): invoices' ``paid`` and ``status``
  (``partial`` / ``paid``) follow [I]; ``/banking/payments/{id}.json`` and the README's singular
  ``/banking/payment/{id}.json`` GET, PUT/PATCH, DELETE.
* ``/webhooks.json`` GET, POST ``{"webhook": {"kind", "url", "api_token", "active"}}``;
  ``/webhooks/{id}.json`` GET, PUT, DELETE [FK].
* Public pages: ``view_url`` ``{account_url}/f/{number-slug}/{token}`` and ``/invoice/{token}`` (HTML).

Lists are bare arrays, ``page`` from 1, ``per_page`` default 25 [I], at most 100 (more is capped [I]), no
totals; ``order=<field>[.desc]`` (§4 list), ties by id; default order: id [I]. Money is answered as
strings the Rails way (``"339.99"``, ``"0.0"``); numbers, strings and comma decimals (``"59,00"``) are
accepted. ``created_at``/``updated_at`` carry milliseconds and the account's offset; every change moves
``updated_at`` (strictly later than any earlier stamp). Users have no endpoint (§3.4): documents show
them as ``user_id`` and ``seller_person``; ``fake.account.users`` lists them for tests.

Validation: 422 ``{"code": "error", "message": {"field": ["..."]}}`` (Rails style, §5 [I]); 404
``{"code": "error", "message": "Not found"}`` [I].

Webhooks (§6): ``add_webhook(url, api_token, kinds=WEBHOOK_KINDS)`` (or the API) registers one per kind;
after each committed change the fake POSTs ``client:create|update|destroy`` (``{"client": {...},
"client_id", "app_name": "InvoiceOcean", "api_token", "locale"}``) and ``invoice:create|update|destroy``
(``{"deal": {...summary...}, ...}``) with the real shapes. ``webhook_delivery = "immediate"`` (default: a
background POST each) or ``"manual"``: events wait in ``pending_webhooks`` until ``deliver_webhooks(
reverse=False, duplicate=False)`` sends them (out of order / twice as asked); ``redeliver(delivery)``
sends one again. Every attempt is in ``deliveries`` (url, payload, status or error).

Faults: ``inject(status, times, retry_after, body, content_type, delay, path_prefix="/")`` from
``FaultInjectionMixin`` (429, 5xx, 401 ...; paths without the account prefix), ``inject_after_commit(
times, delay, drop, path_prefix="/")`` (Xero's fake's discipline: the write commits, its answer hangs or
the connection drops).

Python side, as a user of InvoiceOcean's screens would act: ``create_client(fields)``,
``update_client(id, fields)``, ``delete_client(id)``, ``create_invoice(fields)``, ``update_invoice(id,
fields)``, ``pay(invoice_ids, amount)``, ``rendered(kind, id)`` (the API's answer as a dict).
Run it alone::

    python3 -m tests.fakes.invoiceocean --port 8075 --seed 1
"""

import argparse
import json
import random
import threading
import time
import urllib.error
import urllib.request
from calendar import monthrange
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html import escape

from werkzeug.wrappers import Response

from .invoiceocean_data import ZONE, generate_account
from .records_api import FaultInjectionMixin
from .service import (
    AfterCommitFaultsMixin,
    FakeService,
    add_service_arguments,
    drop_connection,
    seed_of,
    serve_until_interrupted,
)

KINDS = (
    "vat", "proforma", "bill", "receipt", "advance", "final", "correction", "vat_mp", "invoice_other",
    "vat_margin", "kp", "kw", "estimate",
)  # fmt: skip
NUMBER_PREFIXES = {
    "vat": "",
    "proforma": "PRO ",
    "receipt": "PAR ",
    "advance": "ZAL ",
    "final": "KON ",
    "correction": "KOR ",
    "vat_margin": "MAR ",
    "kp": "KP ",
    "kw": "KW ",
    "estimate": "EST ",
}  # [I]
STATUSES = ("issued", "sent", "paid", "partial", "rejected")
WEBHOOK_KINDS = ("client:create", "client:update", "client:destroy", "invoice:create", "invoice:update")
KNOWN_WEBHOOK_KINDS = (*WEBHOOK_KINDS, "invoice:destroy")
ORDER_FIELDS = (
    "id", "number", "updated_at", "price_net", "price_gross", "price_tax", "issue_date", "payment_to", "paid_date",
    "transaction_date", "buyer_name", "buyer_tax_no", "seller_name", "oid", "name", "created_at",
)  # fmt: skip
PERIODS = ("last_12_months", "this_month", "last_30_days", "last_month", "this_year", "last_year", "all", "more")
CENT = Decimal("0.01")
FIRST_IDS = {"invoices": 21290000, "payments": 5120000, "positions": 48000000, "webhooks": 3100}  # realistic sizes
KEPT_ON_LINE = ("name", "tax", "quantity", "quantity_unit", "price_net", "description")  # what a PUT may omit
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
RESOURCES = {
    "clients": "client",
    "invoices": "invoice",
    "departments": "department",
    "products": "product",
    "payments": "banking_payment",
    "webhooks": "webhook",
}


class Missing(Exception):
    """A 404: no such record."""


class Invalid(Exception):
    """A 422: ``errors`` is ``{field: [messages]}``."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def parse_money(value, field="price"):
    """A request amount as Decimal: numbers, ``"59.00"``, ``"59,00"``, ``"1 234,5"`` [V S1]."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
        if not number.is_finite():
            raise InvalidOperation
        return number
    except InvalidOperation:
        raise Invalid({field: ["is not a number"]}) from None


def format_money(value):
    """Decimal as the API answers it: a string, Rails' BigDecimal way (``"60.23"``, ``"100.0"``)."""
    if value is None:
        return None
    text = f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def format_stamp(when):
    return when.astimezone(ZONE).isoformat(timespec="milliseconds")


def _rate(tax):
    try:
        return Decimal(str(tax)) / 100
    except InvalidOperation:
        return Decimal(0)  # "np", "zw", "disabled": no tax


def _flag(value):
    return value in (True, 1, "1", "true", "yes", "on")


class FakeInvoiceOcean(AfterCommitFaultsMixin, FaultInjectionMixin, FakeService):
    service_name = "Fake InvoiceOcean"
    default_per_page = 25  # [I] the docs' examples and clients use 25
    max_per_page = 100  # [FK S2]
    default_period = "this_month"  # [I] what the UI list shows; always pass period

    rules = (
        *(
            (f"/{name}.json", f"{name}_list", ["GET", "POST"])
            for name in ("clients", "invoices", "departments", "products", "webhooks")
        ),
        *(
            (f"/{name}/<int:ident>.json", f"{name}_one", ["GET", "PUT", "PATCH", "DELETE"])
            for name in ("clients", "invoices", "departments", "products", "webhooks")
        ),
        ("/banking/payments.json", "payments_list", ["GET", "POST"]),
        ("/banking/payments/<int:ident>.json", "payments_one", ["GET", "PUT", "PATCH", "DELETE"]),
        ("/banking/payment/<int:ident>.json", "payments_one", ["GET", "PUT", "PATCH", "DELETE"]),
        ("/invoices/<int:ident>/change_status.json", "change_status", ["POST"]),
        ("/invoices/<int:ident>/send_by_email.json", "send_by_email", ["POST"]),
        ("/invoices/<int:ident>.pdf", "pdf", ["GET"]),
        ("/f/<slug>/<token>", "view", ["GET"]),
        ("/invoice/<token>", "view", ["GET"]),
    )

    def __init__(self, host="127.0.0.1", port=0, account=None, clock=time.time, webhook_delivery="immediate"):
        super().__init__(host, port)
        self.account = account or generate_account()
        self.clock = clock
        self.webhook_delivery = webhook_delivery
        self.webhooks = {}
        self.pending_webhooks = []
        self.deliveries = []
        self._after_commit = []
        self._data_lock = threading.RLock()
        self._last_stamp = None
        self._rng = random.Random(f"invoiceocean-tokens:{self.account.seed}:{self.account.today}")
        self._loading = None
        self._numbers = {}
        self._next_ids = {}
        self._load_documents()

    # -- addresses -------------------------------------------------------------------------
    @property
    def prefix(self):
        return self.account.prefix

    @property
    def api_token(self):
        return self.account.api_token

    @property
    def account_url(self):
        return f"{self.url}/{self.prefix}"

    # -- time and ids ----------------------------------------------------------------------
    def now(self):
        """A stamp strictly later than every earlier one (``updated_at`` always moves)."""
        when = self._loading or datetime.fromtimestamp(self.clock(), ZONE)
        when = when.replace(microsecond=when.microsecond // 1000 * 1000)
        if self._last_stamp is not None and when <= self._last_stamp:
            when = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = when
        return when

    def today(self):
        return datetime.fromtimestamp(self.clock(), ZONE).date()

    def _new_id(self, resource, records, start=None):
        start = start or FIRST_IDS.get(resource, 1000)
        self._next_ids[resource] = max(self._next_ids.get(resource, start), max(records, default=start)) + 1
        return self._next_ids[resource]

    def _token(self):
        """A document's public token: 19 URL-safe characters, deterministic for the account's seed."""
        return "".join(self._rng.choice(TOKEN_ALPHABET) for _ in range(19))

    def _load_documents(self):
        """The seeded documents go through the same code as API creates (totals, numbers, payments)."""
        for spec in self.account.notable.get("documents", ()):
            # Made on its issue day at 08:00, or in advance when issued today: before the account's now.
            issued = datetime.combine(spec["issue_date"], datetime.min.time(), ZONE).replace(hour=8)
            self._loading = min(issued, self.account.now - timedelta(minutes=30))
            fields = {k: spec[k] for k in ("kind", "client_id", "department_id", "user_id", "positions")}
            fields["issue_date"] = spec["issue_date"].isoformat()
            invoice = self.create_invoice(fields, notify=False)
            paid_date = (spec["issue_date"] + timedelta(days=5)).isoformat()
            if spec["status"] == "paid":
                self.pay([invoice["id"]], invoice["price_gross"], notify=False, paid_date=paid_date)
            elif spec["status"] == "partial":
                self.pay(
                    [invoice["id"]], (invoice["price_gross"] / 3).quantize(CENT), notify=False, paid_date=paid_date
                )
        self._loading = None
        self._last_stamp = max(self._last_stamp or self.account.now, self.account.now)

    # -- rendering ---------------------------------------------------------------------------
    def rendered(self, resource, ident, include_positions=True):
        """A stored record as the API answers it (money strings, stamps with offset)."""
        record = getattr(self.account, resource)[ident]
        out = {}
        for key, value in record.items():
            if key.startswith("_") or (key == "positions" and not include_positions):
                continue
            if key == "positions":
                value = [{k: self._json(v) for k, v in position.items()} for position in value]
            out[key] = self._json(value)
        if resource == "invoices":
            out["view_url"] = self.view_url(record)
        return out

    def view_url(self, invoice):
        """``{account_url}/f/{number-slug}/{token}``: the shape of real ``view_url`` values [V S5]."""
        return f"{self.account_url}/f/{invoice['number'].replace('/', '-').replace(' ', '')}/{invoice['token']}"

    @staticmethod
    def _json(value):
        if isinstance(value, Decimal):
            return format_money(value)
        if isinstance(value, datetime):
            return format_stamp(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    # -- clients ---------------------------------------------------------------------------
    CLIENT_FIELDS = (
        "name",
        "shortcut",
        "tax_no",
        "tax_no_kind",
        "register_number",
        "accounting_id",
        "post_code",
        "city",
        "street",
        "street_no",
        "country",
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile_phone",
        "www",
        "fax",
        "note",
        "person",
        "company",
        "kind",
        "category_id",
        "bank",
        "bank_account",
        "discount",
        "default_tax",
        "price_list_id",
        "payment_to_kind",
        "default_payment_type",
        "disable_auto_reminders",
        "buyer_id",
        "use_delivery_address",
        "delivery_address",
        "tag_list",
        "mass_payment_code",
        "external_id",
        "department_id",
    )

    def create_client(self, fields, notify=True):
        with self._data_lock:
            values = self._client_values(fields, {})
            if not (values.get("name") or "").strip() and not values.get("last_name"):
                raise Invalid({"name": ["can't be blank"]})
            if not (values.get("name") or "").strip():  # a private person: named after first and last name
                values["name"] = f"{values.get('first_name') or ''} {values['last_name']}".strip()
            when = self.now()
            ident = self._new_id("clients", self.account.clients)
            client = {"id": ident, "company": True, "kind": "buyer", "deleted": False, "department_id": None}
            client.update(values, created_at=when, updated_at=when)
            self.account.clients[ident] = client
        self._notify("client:create", client, notify)
        return client

    def update_client(self, ident, fields, notify=True):
        with self._data_lock:
            client = self._get("clients", ident)
            values = self._client_values(fields, client)
            if "name" in values and not (values["name"] or "").strip():
                raise Invalid({"name": ["can't be blank"]})
            client.update(values, updated_at=self.now())
        self._notify("client:update", client, notify)
        return client

    def delete_client(self, ident, notify=True):
        with self._data_lock:
            client = self._get("clients", ident)
            client.update(deleted=True, updated_at=self.now())
        self._notify("client:destroy", client, notify)
        return client

    def _client_values(self, fields, client):
        values = {key: fields[key] for key in self.CLIENT_FIELDS if key in fields}
        if "company" in values:
            values["company"] = _flag(values["company"])
        if "discount" in values:
            values["discount"] = parse_money(values["discount"], "discount")
        if values.get("country") and len(values["country"]) != 2:
            raise Invalid({"country": ["is not an ISO 3166 alpha-2 code"]})
        return values

    # -- invoices ----------------------------------------------------------------------------
    HEADER_FIELDS = (
        "number",
        "kind",
        "income",
        "issue_date",
        "sell_date",
        "place",
        "payment_to",
        "payment_to_kind",
        "payment_type",
        "status",
        "paid_date",
        "currency",
        "lang",
        "department_id",
        "client_id",
        "oid",
        "description",
        "description_long",
        "description_footer",
        "internal_note",
        "category_id",
        "exchange_currency",
        "exchange_kind",
        "exchange_currency_rate",
        "from_invoice_id",
        "invoice_id",
        "correction_reason",
        "seller_person",
        "user_id",
        "show_discount",
        "discount_kind",
        "reverse_charge",
        "split_payment",
    )
    PARTY = ("name", "tax_no", "post_code", "city", "street", "country", "email")

    def create_invoice(self, fields, notify=True):
        with self._data_lock:
            kind = fields.get("kind") or "vat"
            if kind not in KINDS:
                raise Invalid({"kind": [f"is not included in the list ({', '.join(KINDS)})"]})
            oid = fields.get("oid")
            if oid and str(fields.get("oid_unique", "")).lower() in ("yes", "true", "1"):
                if any(inv.get("oid") == str(oid) for inv in self.account.invoices.values()):
                    raise Invalid({"oid": ["has already been taken"]})
            if fields.get("status") not in (None, *STATUSES):
                raise Invalid({"status": ["is not included in the list"]})
            client = self._buyer(fields)
            department = self._department(fields.get("department_id"))
            user = self.account.users.get(fields.get("user_id")) or next(iter(self.account.users.values()), None)
            issue = date.fromisoformat(fields.get("issue_date") or self.today().isoformat())
            when = self.now()
            ident = self._new_id("invoices", self.account.invoices)
            token = self._token()
            number = fields.get("number") or self._next_number(kind, issue)
            invoice = {
                "id": ident,
                "number": number,
                "kind": kind,
                "status": "issued",
                "income": fields.get("income") not in ("0", 0, False, "no"),
                "issue_date": issue,
                "sell_date": fields.get("sell_date") or issue.isoformat(),
                "payment_to": self._payment_to(fields, issue),
                "payment_type": fields.get("payment_type", "transfer"),
                "paid_date": None,
                "currency": fields.get("currency") or "PLN",
                "lang": fields.get("lang") or "en",
                "paid": Decimal(0),
                "client_id": client["id"],
                "department_id": department["id"] if department else None,
                "user_id": user["id"] if user else None,
                "seller_person": (user or {}).get("name", ""),
                "oid": str(oid) if oid is not None else None,
                "token": token,
                "view_url": None,  # rendered from the address the fake serves at
                "payment_url": None,
                "from_api": True,
                "deleted": False,
                "cancelled": False,
                "description": fields.get("description", ""),
                "from_invoice_id": None,
                "invoice_id": None,
                "created_at": when,
                "updated_at": when,
                "positions": [],
            }
            invoice.update({key: fields[key] for key in self.HEADER_FIELDS if key in fields and key not in invoice})
            for key in ("from_invoice_id", "invoice_id", "seller_person"):
                invoice[key] = fields.get(key, invoice[key])
            for key in self.PARTY:
                invoice[f"seller_{key}"] = fields.get(f"seller_{key}", (department or {}).get(key, ""))
                invoice[f"buyer_{key}"] = fields.get(f"buyer_{key}", client.get(key, ""))
            self._apply_positions(invoice, fields.get("positions") or [], when)
            if fields.get("status"):
                self._set_status(invoice, fields["status"])
            self.account.invoices[ident] = invoice
        self._notify("invoice:create", invoice, notify)
        return invoice

    def update_invoice(self, ident, fields, notify=True):
        with self._data_lock:
            invoice = self._get("invoices", ident)
            if "kind" in fields and fields["kind"] not in KINDS:
                raise Invalid({"kind": ["is not included in the list"]})
            when = self.now()
            for key in self.HEADER_FIELDS:
                if key in fields and key not in ("status", "issue_date"):
                    invoice[key] = fields[key]
            if "issue_date" in fields:
                invoice["issue_date"] = date.fromisoformat(fields["issue_date"])
            for key in self.PARTY:
                for side in ("seller", "buyer"):
                    invoice[f"{side}_{key}"] = fields.get(f"{side}_{key}", invoice[f"{side}_{key}"])
            if "positions" in fields:
                self._apply_positions(invoice, fields["positions"], when)
            if "status" in fields:
                self._set_status(invoice, fields["status"])
            invoice["updated_at"] = when
        self._notify("invoice:update", invoice, notify)
        return invoice

    def delete_invoice(self, ident, notify=True):
        with self._data_lock:
            invoice = self.account.invoices.pop(self._get("invoices", ident)["id"])
        self._notify("invoice:destroy", invoice, notify)

    def _buyer(self, fields):
        client_id = fields.get("client_id")
        if client_id not in (None, "", -1, "-1"):
            client = self.account.clients.get(int(client_id))
            if client is None:
                raise Invalid({"client_id": ["does not exist"]})  # [I]
            return client
        for client in self.account.clients.values():  # [FK] buyer matching when no client_id
            if client["deleted"]:
                continue
            if any(
                fields.get(f"buyer_{key}") and fields[f"buyer_{key}"] == client.get(key)
                for key in ("tax_no", "email", "name")
            ):
                return client
        if not fields.get("buyer_name"):
            raise Invalid({"buyer_name": ["can't be blank"]})
        return self.create_client({key: fields[f"buyer_{key}"] for key in self.PARTY if f"buyer_{key}" in fields})

    def _department(self, ident):
        if ident in (None, ""):
            return next(iter(self.account.departments.values()), None)
        department = self.account.departments.get(int(ident))
        if department is None:
            raise Invalid({"department_id": ["does not exist"]})
        return department

    def _next_number(self, kind, issue):
        key = (kind, issue.year, issue.month)
        self._numbers[key] = self._numbers.get(key, 0) + 1
        return f"{NUMBER_PREFIXES.get(kind, kind.upper() + ' ')}{self._numbers[key]}/{issue.month:02d}/{issue.year}"

    @staticmethod
    def _payment_to(fields, issue):
        if fields.get("payment_to"):
            return fields["payment_to"]
        days = fields.get("payment_to_kind", 7)
        return (issue + timedelta(days=int(days))).isoformat() if str(days).isdigit() else issue.isoformat()

    def _apply_positions(self, invoice, positions, when):
        lines = {line["id"]: line for line in invoice["positions"]}
        for index, given in enumerate(positions):
            if given.get("id") is not None and int(given["id"]) not in lines:
                raise Invalid({f"positions[{index}].id": ["does not exist"]})
            if given.get("id") is not None and _flag(given.get("_destroy")):
                del lines[int(given["id"])]
                continue
            line = lines.get(int(given["id"])) if given.get("id") is not None else None
            if line is None:
                line = {"id": self._new_id("positions", ()), "invoice_id": invoice["id"], "created_at": when}
                lines[line["id"]] = line
            self._price_line(line, given, index)
            line["updated_at"] = when
        invoice["positions"] = list(lines.values())
        totals = {
            key: sum((line[f"total_price_{key}"] for line in lines.values()), Decimal(0))
            for key in ("net", "gross", "tax")
        }
        invoice.update(price_net=totals["net"], price_gross=totals["gross"], price_tax=totals["tax"])
        self._status_from_paid(invoice)

    def _price_line(self, line, given, index):
        product = self.account.products.get(given.get("product_id") and int(given["product_id"]))
        if given.get("product_id") and product is None:
            raise Invalid({f"positions[{index}].product_id": ["does not exist"]})
        merged = {**(product or {}), **{k: v for k, v in line.items() if k in KEPT_ON_LINE}, **given}
        if not merged.get("name"):
            raise Invalid({f"positions[{index}].name": ["can't be blank"]})
        quantity = parse_money(merged.get("quantity", 1), "quantity")
        tax = merged.get("tax", 23)
        rate = _rate(tax)
        amounts = {
            key: parse_money(given.get(key), key)
            for key in ("price_net", "price_gross", "total_price_net", "total_price_gross")
        }
        if amounts["total_price_gross"] is not None:
            gross = amounts["total_price_gross"].quantize(CENT, ROUND_HALF_UP)
            net = (gross / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
        elif amounts["total_price_net"] is not None:
            net = amounts["total_price_net"].quantize(CENT, ROUND_HALF_UP)
            gross = (net * (1 + rate)).quantize(CENT, ROUND_HALF_UP)
        elif amounts["price_gross"] is not None:
            gross = (amounts["price_gross"] * quantity).quantize(CENT, ROUND_HALF_UP)
            net = (gross / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
        else:
            unit = amounts["price_net"] if amounts["price_net"] is not None else merged.get("price_net")
            if unit is None:
                raise Invalid({f"positions[{index}].price_net": ["can't be blank"]})
            net = (Decimal(unit) * quantity).quantize(CENT, ROUND_HALF_UP)
            gross = (net * (1 + rate)).quantize(CENT, ROUND_HALF_UP)
        unit_net = (net / quantity).quantize(CENT, ROUND_HALF_UP) if quantity else net
        line.update(
            name=merged["name"],
            product_id=product["id"] if product else None,
            quantity=quantity,
            quantity_unit=merged.get("quantity_unit", "szt."),
            tax=str(tax),
            price_net=unit_net,
            price_gross=(unit_net * (1 + rate)).quantize(CENT, ROUND_HALF_UP),
            price_tax=None,
            total_price_net=net,
            total_price_gross=gross,
            total_price_tax=gross - net,
            description=merged.get("description", ""),
        )
        line["price_tax"] = line["price_gross"] - line["price_net"]

    def _set_status(self, invoice, status):
        if status not in STATUSES:
            raise Invalid({"status": ["is not included in the list"]})
        invoice["status"] = status
        if status == "paid":  # [I] marking paid settles the rest, as the UI does
            invoice["paid"] = invoice["price_gross"]
            invoice["paid_date"] = invoice.get("paid_date") or self.today()

    @staticmethod
    def _status_from_paid(invoice):
        if invoice["paid"] >= invoice["price_gross"] > 0:
            invoice["status"] = "paid"
        elif invoice["paid"] > 0:
            invoice["status"] = "partial"
        elif invoice["status"] in ("paid", "partial"):
            invoice["status"] = "issued"

    # -- payments ------------------------------------------------------------------------------
    def pay(self, invoice_ids, amount, notify=True, **fields):
        """Register a payment of ``amount`` applied to ``invoice_ids`` in order (§3.5)."""
        with self._data_lock:
            amount = parse_money(amount)
            if amount is None:
                raise Invalid({"price": ["can't be blank"]})
            invoices = [self._get("invoices", int(ident)) for ident in invoice_ids]
            when = self.now()
            left = amount
            for invoice in invoices:
                applied = left if invoice is invoices[-1] else min(left, invoice["price_gross"] - invoice["paid"])
                invoice["paid"] += applied
                left -= applied
                invoice["paid_date"] = (
                    date.fromisoformat(fields["paid_date"]) if fields.get("paid_date") else self.today()
                )
                self._status_from_paid(invoice)
                invoice["updated_at"] = when
            ident = self._new_id("payments", self.account.payments)
            payment = {
                "id": ident,
                "name": fields.get("name") or f"Payment {', '.join(i['number'] for i in invoices)}",
                "price": amount,
                "currency": fields.get("currency") or (invoices[0]["currency"] if invoices else "PLN"),
                "paid": _flag(fields.get("paid", True)),
                "paid_date": fields.get("paid_date") or self.today().isoformat(),
                "kind": fields.get("kind", "api"),
                "invoice_ids": [i["id"] for i in invoices],
                "invoice_id": invoices[0]["id"] if len(invoices) == 1 else None,
                "client_id": fields.get("client_id") or (invoices[0]["client_id"] if invoices else None),
                "description": fields.get("description", ""),
                "oid": fields.get("oid"),
                "created_at": when,
                "updated_at": when,
            }
            self.account.payments[ident] = payment
        for invoice in invoices:
            self._notify("invoice:update", invoice, notify)
        return payment

    # -- webhooks ------------------------------------------------------------------------------
    def add_webhook(self, url, api_token="", kinds=WEBHOOK_KINDS):
        """Register ``url`` for ``kinds``, each echoing ``api_token`` (the shared secret) in its body."""
        with self._data_lock:
            added = []
            for kind in kinds:
                ident = self._new_id("webhooks", self.webhooks)
                self.webhooks[ident] = {"id": ident, "kind": kind, "url": url, "api_token": api_token, "active": True}
                added.append(self.webhooks[ident])
            return added

    def webhook_payload(self, kind, record, api_token):
        if kind.startswith("client:"):
            body = {key: self._json(value) for key, value in record.items()}
            body.update(external_ids={"invoiceocean": record["id"]}, skip_webhooks=True)  # as in real payloads
            wrapped = {"client": body, "client_id": record["id"]}
        else:
            client = self.account.clients.get(record["client_id"], {})
            first = record["positions"][0]["name"] if record["positions"] else record["number"]
            wrapped = {
                "deal": {
                    "name": record.get("description") or first,
                    "invoice_no": record["number"],
                    "kind": record["kind"],
                    "price": format_money(record["price_gross"]),
                    "paid": record["status"] == "paid",
                    "date": record["issue_date"].isoformat(),
                    "url": self.view_url(record),
                    "external_ids": {"invoiceocean": record["id"]},
                    "client": {
                        "name": client.get("name"),
                        "tax_no": client.get("tax_no") or None,
                        "external_ids": {"invoiceocean": record["client_id"]},
                    },
                }
            }
        return {**wrapped, "app_name": "InvoiceOcean", "api_token": api_token, "locale": "en"}

    def _notify(self, kind, record, notify):
        if not notify:
            return
        with self._data_lock:
            events = [
                (hook["url"], self.webhook_payload(kind, record, hook["api_token"]), kind)
                for hook in self.webhooks.values()
                if hook["active"] and hook["kind"] == kind
            ]
            if self.webhook_delivery == "manual":
                self.pending_webhooks.extend(events)
                return
        for event in events:
            threading.Thread(target=self._post, args=event, daemon=True).start()

    def deliver_webhooks(self, reverse=False, duplicate=False):
        """Send the queued events (``reverse``: newest first; ``duplicate``: each twice); the deliveries."""
        with self._data_lock:
            events, self.pending_webhooks = self.pending_webhooks, []
        if reverse:
            events.reverse()
        return [self._post(*event) for event in events for _ in range(2 if duplicate else 1)]

    def redeliver(self, delivery):
        return self._post(delivery["url"], delivery["payload"], delivery["kind"])

    def _post(self, url, payload, kind):
        delivery = {"url": url, "kind": kind, "payload": payload, "status": None, "error": None}
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - a configured URL
                delivery["status"] = answer.status
        except urllib.error.HTTPError as error:
            delivery["status"] = error.code
        except OSError as error:
            delivery["error"] = str(error)  # [I] no retry policy is documented
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    # -- faults ----------------------------------------------------------------------------------
    def inject(self, status=None, times=1, retry_after=None, body=None, content_type=None, delay=None, path_prefix="/"):
        """``FaultInjectionMixin.inject`` aimed at every path (without the account prefix)."""
        if body is None and status and status >= 400:
            body = {"code": "error", "message": f"Injected fault {status}"}
        return super().inject(status, times, retry_after, body, content_type, delay, path_prefix)

    def inject_after_commit(self, times=1, delay=5.0, drop=False, path_prefix="/"):
        """The next ``times`` writes commit, then their answer hangs ``delay`` s (``drop``: no answer)."""
        return super().inject_after_commit(times, delay, drop, path_prefix)

    # -- HTTP ------------------------------------------------------------------------------------
    def wsgi_app(self, environ, start_response):
        path, host = environ.get("PATH_INFO", ""), environ.get("HTTP_HOST", "").split(":")[0]
        if host.endswith(".invoiceocean.com"):
            if host.split(".")[0] != self.prefix:
                return self._error(404, "Account not found")(environ, start_response)
        elif path == f"/{self.prefix}" or path.startswith(f"/{self.prefix}/"):
            environ["PATH_INFO"] = path[len(self.prefix) + 1 :]
        elif not path.startswith(("/f/", "/invoice/")):
            return self._error(404, "Account not found")(environ, start_response)
        return super().wsgi_app(environ, start_response)

    @staticmethod
    def _error(status, message):
        return FakeService.json_response({"code": "error", "message": message}, status=status)

    def _body(self, request):
        if not request.get_data():
            return {}
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _authorized(self, request, body):
        given = request.args.get("api_token") or (body or {}).get("api_token")
        bearer = request.headers.get("Authorization", "")
        if not given and bearer.startswith("Bearer "):
            given = bearer[7:]
        return given in (self.api_token, f"{self.api_token}/{self.prefix}")

    def _get(self, resource, ident):
        record = getattr(self, resource, None) if resource == "webhooks" else getattr(self.account, resource)
        found = record.get(int(ident))
        if found is None:
            raise Missing(ident)
        return found

    def _handle(self, request, action):
        body = self._body(request)
        if body is None:
            return self._error(400, "Malformed JSON body")  # [I]
        if not self._authorized(request, body):
            return self._error(401, "You must be logged in to gain access to the site")  # [I] wording
        try:
            status, payload = action(body)
        except Missing:
            return self._error(404, "Not found")
        except Invalid as invalid:
            return self._error(422, invalid.errors)
        response = Response(payload, status=status, content_type="application/json")
        if request.method != "GET":
            fault = self.take_after_commit(request.path)
            if fault is not None:
                if fault.drop:
                    drop_connection(request.environ)
                self._stopping.wait(fault.delay)
        return response

    def _answer(self, resource, ident, status=200):
        return status, json.dumps(self.rendered(resource, ident))

    def _write(self, request, resource, ident=None):
        def action(body):
            fields = body.get(RESOURCES[resource])
            if request.method != "DELETE" and not isinstance(fields, dict):
                raise Invalid({RESOURCES[resource]: ["is missing"]})
            return self._apply(request.method, resource, ident, fields)

        return self._handle(request, action)

    def _apply(self, method, resource, ident, fields):
        if resource == "clients":
            operations = (self.create_client, self.update_client, self.delete_client)
        elif resource == "invoices":
            operations = (self.create_invoice, self.update_invoice, self.delete_invoice)
        elif resource == "payments":
            operations = (self._create_payment, self._update_simple("payments"), self._delete_simple("payments"))
        else:
            operations = (self._create_simple(resource), self._update_simple(resource), self._delete_simple(resource))
        create, update, delete = operations
        if method == "POST":
            return self._answer_record(resource, create(fields)["id"], 201)
        if method == "DELETE":
            delete(ident)
            return 200, json.dumps({"code": "success", "message": "deleted"})  # [I] body undocumented
        return self._answer_record(resource, update(ident, fields)["id"])

    def _answer_record(self, resource, ident, status=200):
        if resource == "webhooks":
            return status, json.dumps(self.webhooks[ident])
        return self._answer(resource, ident, status)

    def _create_payment(self, fields):
        ids = fields.get("invoice_ids") or ([fields["invoice_id"]] if fields.get("invoice_id") else [])
        try:
            extra = {k: v for k, v in fields.items() if k not in ("price", "invoice_id", "invoice_ids", "notify")}
            return self.pay(ids, fields.get("price"), **extra)
        except Missing:
            raise Invalid({"invoice_ids": ["do not exist"]}) from None

    def _create_simple(self, resource):
        def create(fields):
            with self._data_lock:
                if resource != "webhooks" and not fields.get("name"):
                    raise Invalid({"name": ["can't be blank"]})
                if resource == "webhooks":
                    if fields.get("kind") not in KNOWN_WEBHOOK_KINDS or not fields.get("url"):
                        raise Invalid({"kind": [f"must be one of {', '.join(KNOWN_WEBHOOK_KINDS)}"], "url": []})
                    return self.add_webhook(fields["url"], fields.get("api_token", ""), (fields["kind"],))[0]
                store = getattr(self.account, resource)
                when = self.now()
                ident = self._new_id(resource, store)
                store[ident] = {
                    "id": ident,
                    **self._simple_values(resource, fields),
                    "created_at": when,
                    "updated_at": when,
                }
                return store[ident]

        return create

    def _update_simple(self, resource):
        def update(ident, fields):
            with self._data_lock:
                record = self._get(resource, ident)
                record.update(self._simple_values(resource, fields))
                if resource != "webhooks":
                    record["updated_at"] = self.now()
                return record

        return update

    def _delete_simple(self, resource):
        def delete(ident):
            with self._data_lock:
                store = self.webhooks if resource == "webhooks" else getattr(self.account, resource)
                store.pop(self._get(resource, ident)["id"])

        return delete

    def _simple_values(self, resource, fields):
        values = {k: v for k, v in fields.items() if k not in ("id", "created_at", "updated_at")}
        if resource == "products" and ("price_gross" in values or "tax" in values):
            values.pop("price_net", None)  # [V S1] net is derived from gross on update
            gross = parse_money(values.get("price_gross"), "price_gross")
            values["price_gross"] = gross
            if gross is not None:
                values["price_net"] = (gross / (1 + _rate(values.get("tax", 23)))).quantize(CENT, ROUND_HALF_UP)
        if resource == "payments" and "price" in values:
            values["price"] = parse_money(values["price"])
        return values

    # -- lists ---------------------------------------------------------------------------------
    def _list(self, request, resource):
        def action(body):
            args = request.args
            try:
                page = max(1, int(args.get("page", 1)))
                per_page = min(self.max_per_page, max(1, int(args.get("per_page", self.default_per_page))))
            except ValueError:
                raise Invalid({"page": ["is not a number"]}) from None
            with self._data_lock:
                if resource == "webhooks":
                    return 200, json.dumps(list(self.webhooks.values()))
                span = self._period(args) if resource == "invoices" else None
                records = [
                    r for r in getattr(self.account, resource).values() if self._matches(resource, r, args, span)
                ]
                records.sort(key=lambda record: record["id"])
                order = args.get("order")
                if order:
                    field, _, direction = order.partition(".")
                    if field not in ORDER_FIELDS:
                        raise Invalid({"order": ["is not a sortable field"]})  # [I]
                    records.sort(key=lambda record: _sortable(record.get(field)), reverse=direction == "desc")
                chosen = records[(page - 1) * per_page : page * per_page]
                include = resource == "invoices" and args.get("include_positions") in ("true", "1", "yes")
                return 200, json.dumps([self.rendered(resource, r["id"], include) for r in chosen])

        return self._handle(request, action)

    def _matches(self, resource, record, args, span):
        if resource == "clients":
            if record["deleted"]:
                return False
            for key in ("name", "email", "shortcut", "tax_no"):
                if args.get(key) and args[key].lower() not in (record.get(key) or "").lower():
                    return False
            return not args.get("external_id") or record.get("external_id") == args["external_id"]
        if resource == "products" and args.get("date_from"):
            return record["updated_at"].date() >= date.fromisoformat(args["date_from"])
        if resource != "invoices":
            return True
        for key in ("client_id", "invoice_id", "oid", "number", "kind"):
            if args.get(key) and str(record.get(key)) != args[key]:
                return False
        kinds = args.getlist("kinds[]")
        if (kinds and record["kind"] not in kinds) or (args.get("income") == "no") == record["income"]:
            return False
        if args.get("invoice_ids") and str(record["id"]) not in args["invoice_ids"].split(","):
            return False
        first, last = span
        day = record.get(args.get("search_date_type", "issue_date"))
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return first is None or (day is not None and first <= day <= last)

    def _period(self, args):
        period, today = args.get("period", self.default_period), self.today()
        if period not in PERIODS:
            raise Invalid({"period": [f"must be one of {', '.join(PERIODS)}"]})
        month_start = today.replace(day=1)
        last_month_end = month_start - timedelta(days=1)
        spans = {
            "all": (None, None),
            "this_month": (month_start, today.replace(day=monthrange(today.year, today.month)[1])),
            "last_month": (last_month_end.replace(day=1), last_month_end),
            "last_30_days": (today - timedelta(days=30), today),
            "last_12_months": (today.replace(year=today.year - 1) + timedelta(days=1), today),
            "this_year": (date(today.year, 1, 1), date(today.year, 12, 31)),
            "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        }
        if period != "more":
            return spans[period]
        try:
            first = date.fromisoformat(args["date_from"]) if args.get("date_from") else date.min
            last = date.fromisoformat(args["date_to"]) if args.get("date_to") else date.max
        except ValueError:
            raise Invalid({"date_from": ["is not a date (YYYY-MM-DD)"]}) from None
        return first, last

    # -- handlers --------------------------------------------------------------------------------
    def _collection(self, resource):
        def handler(request):
            return self._list(request, resource) if request.method == "GET" else self._write(request, resource)

        return handler

    def _member(self, resource):
        def handler(request, ident):
            if request.method == "GET":
                return self._handle(
                    request, lambda body: self._answer_record(resource, self._get(resource, ident)["id"])
                )
            return self._write(request, resource, ident)

        return handler

    def __getattr__(self, name):
        for suffix, factory in (("_list", "_collection"), ("_one", "_member")):
            resource = name[3 : -len(suffix)] if name.startswith("on_") and name.endswith(suffix) else None
            if resource in RESOURCES:
                return getattr(self, factory)(resource)
        raise AttributeError(name)

    def on_change_status(self, request, ident):
        def action(body):
            status = request.args.get("status") or body.get("status")
            self.update_invoice(ident, {"status": status})
            return self._answer("invoices", ident)

        return self._handle(request, action)

    def on_send_by_email(self, request, ident):
        return self._handle(request, lambda body: (self._get("invoices", ident), self._answer("invoices", ident))[1])

    def on_pdf(self, request, ident):
        def action(body):
            invoice = self._get("invoices", ident)
            return 200, f"%PDF-1.4\n% {invoice['number']}\n%%EOF\n"

        response = self._handle(request, action)
        if response.status_code == 200:
            response.content_type = "application/pdf"
        return response

    def on_view(self, request, token, slug=None):
        invoice = next((i for i in self.account.invoices.values() if i["token"] == token), None)
        if invoice is None:
            return Response("Not found", status=404)
        rows = "".join(
            f"<tr><td>{escape(p['name'])}</td><td>{format_money(p['total_price_gross'])}</td></tr>"
            for p in invoice["positions"]
        )
        return Response(
            f"<!DOCTYPE html><html><head><title>{escape(invoice['number'])}</title></head><body>"
            f"<h1>{escape(invoice['kind'])} {escape(invoice['number'])}</h1><p>{escape(invoice['buyer_name'])}</p>"
            f"<table>{rows}</table><p>{format_money(invoice['price_gross'])} {invoice['currency']}</p></body></html>",
            content_type="text/html",
        )


def _sortable(value):
    if value is None:
        return (0, "")
    if isinstance(value, (Decimal, int, float)):
        return (1, Decimal(value))
    return (2, str(value) if not isinstance(value, (date, datetime)) else value.isoformat())


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a fake InvoiceOcean (one account, REST/JSON) until Ctrl-C")
    add_service_arguments(parser, FakeInvoiceOcean, port=8075)
    parser.add_argument("--webhook", action="append", default=[], help="URL to POST every event to (repeatable)")
    parser.add_argument("--webhook-secret", default="", help="api_token echoed in webhook bodies")
    args = parser.parse_args(argv)
    from .sandbox import build_world

    seed, today = seed_of(args.seed), args.today or datetime.now(ZONE).date()
    clients = build_world(seed=seed, today=today).invoiced_clients  # the agency's JobAdder clients
    fake = FakeInvoiceOcean(host=args.host, port=args.port, account=generate_account(seed, today, clients)).start()
    for url in args.webhook:
        fake.add_webhook(url, args.webhook_secret)
    account = fake.account
    banner = (
        f"Fake InvoiceOcean (seed {seed!r}, today {today}): account {fake.prefix!r}, {len(account.clients)} clients, "
        f"{len(account.invoices)} documents, {len(account.departments)} departments\n"
        f"  account URL:  {fake.account_url}   (stands for https://{fake.prefix}.invoiceocean.com)\n"
        f"  api_token:    {fake.api_token}\n"
        f"  webhooks:     {', '.join(args.webhook) or 'none'}"
    )
    serve_until_interrupted(fake, banner)


if __name__ == "__main__":
    main()
