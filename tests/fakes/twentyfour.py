"""A fake of 24SevenOffice's SOAP web services (ASMX), over loopback HTTP.

Speaks the protocol of ``shared/contracts/24sevenoffice.md`` (section numbers below refer to it)
with the project's WSDLs of ``tests/fakes/wsdl/24so/`` (the operations and elements it uses, as
24SevenOffice declares them; checked against the official ones by ``tests/test_wsdl_24so.py``
when ``../shared/contracts`` is present): the fake reads them, serves them with every
``soap:address`` pointing at itself, and decodes/encodes SOAP bodies with their schemas
(``tests/fakes/soap.py``), so the connector's real ``zeep.Client`` works against it with only
the base URL changed::

    world = generate_world(seed=1)                       # tests/fakes/twentyfour_data.py
    with FakeTwentyFour(world=world, clock=ManualClock(world.now.timestamp())) as fake:
        auth = zeep.Client(fake.wsdl_url("Authenticate"))
        session_id = auth.service.Login({"ApplicationId": world.application_id,
                                         "Username": "api@nordlys.example", "Password": "Nordlys-API-1"})
        # then every call carries the header  Cookie: ASP.NET_SessionId=<session_id>

Another folder of WSDLs can be given with ``wsdl_dir``; when it lacks one of them the fake
cannot start: ``wsdls_available(wsdl_dir)`` is False and ``SKIP_REASON`` says why.

Services (POST SOAP 1.1 with ``SOAPAction``, or SOAP 1.2; ``GET <path>?wsdl`` serves the WSDL;
paths are case-insensitive like IIS):

================  ==========================================================  =========================
service           path                                                        operations implemented
================  ==========================================================  =========================
Authenticate      /authenticate/v001/authenticate.asmx                        Login, HasSession,
                                                                              GetIdentities, GetIdentity,
                                                                              SetIdentityById, SetIdentity,
                                                                              GetIdentitiesWithCredential
ClientService     /Client/V001/ClientService.asmx                             GetDepartmentList,
                                                                              GetClientInformation,
                                                                              GetCurrencyList, GetUsers,
                                                                              GetTypeGroupList, GetVatTypeList
ProductService    /Logistics/Product/V001/ProductService.asmx                 GetProducts, SaveProducts,
                                                                              GetCategories, SaveCategories
CompanyService    /CRM/Company/V001/CompanyService.asmx                       GetCompanies, SaveCompanies,
                                                                              GetCompanySyncList
InvoiceService    /Economy/InvoiceOrder/V001/InvoiceService.asmx              SaveInvoices, GetInvoices,
                                                                              UpdateInvoices, GetOrderSyncList,
                                                                              GetPaymentMethods
AccountService    /Economy/Account/V004/Accountservice.asmx                   GetTaxCodeList
================  ==========================================================  =========================

Any other operation of the WSDLs answers a fault "… is not implemented by the fake".

Behaviour (§1.1, §3, §4, §7); [I] marks our guesses, each a class attribute you can override
with a keyword argument (``FakeTwentyFour(world=w, request_limit=50)``):

* Login: a non-GUID or missing ``ApplicationId`` -> fault (Instance validation error); a GUID
  that is not in ``world.application_ids`` -> fault ``UNKNOWN_APPLICATION_MESSAGE`` [I]; wrong
  user or password -> HTTP 200 with an empty ``LoginResult`` (``empty_login_result``:
  ``"empty"`` or ``"omitted"``). ``IdentityId`` (zeros or absent: the user's default identity)
  selects the client; a blocked one -> fault "The provided IdentityId is blocked"; one the user
  does not have -> fault ``UNKNOWN_IDENTITY_MESSAGE`` [I]. The password is compared in plain
  text, or as the MD5 of its UTF-16LE bytes in hex (``accept_md5_password``). A success
  returns a 24-character session id and sets the cookie ``ASP.NET_SessionId`` (``set_cookie``).
  ``login_limit_per_minute`` [I: default None] throttles Login per user name (fault
  ``LOGIN_THROTTLED_MESSAGE``).
* Every operation but Login/HasSession/GetIdentitiesWithCredential needs the cookie
  ``ASP.NET_SessionId`` of a live session, else fault "Session is not authenticated";
  ``HasSession`` answers false instead. A session whose identity was blocked afterwards gets
  "Client is not authenticated on this identity". Sessions die with ``expire_sessions()`` or
  after ``session_lifetime`` seconds idle [I: None = never].
* Request limit (§4.4): ``request_limit`` (7,200) calls per ``request_limit_window`` (3,600 s,
  fixed windows of the clock) per 24SO client, Login included, HasSession not [I]; beyond it
  every call of that client faults "Limit exceeded by N. Request is blocked. Quarantine ends at
  <UTC time>" (N counts the refused calls too).
  Answers carry ``APILimitRemaining`` and ``APILimitReset`` headers (S13) [I].
* Get* operations return only the properties named in ``returnProperties`` /
  ``invoiceReturnProperties`` / ``rowReturnProperties`` (none named: empty items [I]; rows only
  when ``rowReturnProperties`` names some). GetCompanies (and GetInvoices [I]) without a search
  parameter -> fault "Please specify at least one search parameter". GetProducts without one
  returns every product [I]; its ``No`` matches exactly (``product_no_match``: ``"exact"``,
  ``"prefix"`` or ``"contains"`` [I]); the WSDL has no list-of-numbers search: batch by
  ``ProductIds`` (ids) or fetch all / ``DateChanged`` (changed at or after [I]).
* Save* operations answer HTTP 200 with every item echoed; a failed item carries
  ``APIException{Type, Message}`` and is not saved; the others are (§4.2). SaveProducts needs
  ``Name`` and an existing ``CategoryId``; ``Name`` > 125 or ``No`` > 100 characters fail
  (``enforce_lengths``; False: truncate silently) [I]. SaveCompanies assigns ``Id`` (an existing
  ``Id`` updates; an unknown ``Id`` fails unless ``ExplicitlySpecifyNewCompanyId``) [I], needs a
  ``Name`` (max 200), ``OrganizationNumber`` max 20.
* SaveInvoices per order: ``CustomerId`` must exist; order/row ``DepartmentId`` and
  ``ProjectId`` must exist; ``Normal`` rows need an existing ``ProductId`` (``Text`` rows do
  not); a row's VAT rate comes from its ``TaxSettings.TaxCode`` (a ``TaxNo`` of GetTaxCodeList;
  unknown -> ParameterNotFoundException) [I: TaxNo rather than TaxId], else
  ``TaxSettings.TaxRate``, else its product's ``TaxRate`` (25% when none) [V S12]; the totals
  (``OrderTotalIncVat``/``OrderTotalVat``) are computed row by row, each row's amount and VAT
  rounded to the cent [I]; ``ReferenceInvoiceId``/``ReferenceOrderId`` (credit notes) must exist [I]; the currency
  ``Symbol`` must be one of ``GetCurrencyList`` [I]; lengths (YourReference 50, ReferenceNumber
  50, InvoiceTitle 300, InvoiceText 750, InvoiceEmailAddress 250, CustomerName 100,
  CustomerOrgNo 20, row Name 300) as above; ``require_department`` [I] makes a missing
  department a ``DepartmentIsRequiredException``. An ``OrderId`` that exists updates that order,
  unless it is invoiced (locked: APIException ``ORDER_LOCKED_MESSAGE`` [I]); an unknown one
  creates the order with that id (§5.4). ``OrderStatus=Invoiced`` assigns a sequential
  ``InvoiceId``, an ``OCR`` (KID) and ``DateInvoiced`` (default today), and locks the order. The
  answer echoes the order with its ``OrderId`` (and ``RowId``/``ChangeState=Add`` on rows); it
  includes ``InvoiceId``/``OCR``/totals only with ``save_returns_invoice_id`` [I: default False,
  so a connector must fetch them with GetInvoices(OrderIds)]. An unknown enum value anywhere ->
  fault "Instance validation error" for the whole call. ``api_exception_first`` moves
  ``APIException`` to the front of failed items as the S14 fixture shows (zeep in strict mode
  then fails to parse: test your fallback). UpdateInvoices changes only ``InvoiceTitle`` and
  ``ReferenceNumber`` of an invoiced order [V S1 S5].

Test knobs and counters:

* ``wsdl_url(service)``, ``service_url(service)``, ``SERVICE_PATHS``; ``url`` (the base).
* ``load(world)`` (a fresh state: data, sessions, limits, queued faults; counters kept);
  ``world``; ``client(client_id=MAIN_CLIENT_ID)`` (the live data: ``departments``,
  ``categories``, ``products``, ``companies``, ``invoices``: lists of WSDL-named dicts);
  ``add_product(number, name, category_id=1, price=…, client_id=…)`` (numbers may repeat),
  ``add_company(name, organization_number=…, external_id=…, type=…, client_id=…)``,
  ``add_department(dept_id, name, client_id=…)``, ``add_category(name, category_id=None, client_id=…)``,
  ``add_tax_code(tax_no, name, rate, client_id=…)``; ``add_product``/``add_company`` with
  ``undated=True`` hold no ``DateChanged`` (change-date searches never return them [I]),
  ``add_client(name, client_id=None, departments=…, categories=…)``,
  ``add_user(username, password, client_ids, blocked=())`` (returns the ``Login`` with its
  identity ids); ``invoice(order_id)``, ``invoices_for(reference)``.
* ``expire_sessions(username=None)``, ``sessions`` (live ids), ``block_identity(identity_id)``.
* ``calls`` (Counter of SOAP operations, every SOAP request counted, faulted ones too; not the
  WSDL downloads nor the HTTP-level ``inject`` faults), ``soap_calls`` (their total), ``logins``
  (Login calls), ``logins_by_user`` (Counter), ``failed_logins``; ``stats()`` (``soap_calls``,
  ``save_invoices_calls``, ``logins``, ``calls``: what the benchmark reports);
  ``duplicates()`` (``{reference: [OrderId, …]}`` of references (``ReferenceNumber``, else
  ``InvoiceTitle``) saved more than once in a client), ``reset_counters()``.
* ``fail_next(operation, message, times=1)``: the next calls of ``operation`` fault before doing
  anything. ``fail_items(operation="SaveInvoices", message, times=1)``: the next ``times`` items
  saved fail with an APIException (``DataBaseServerException``), the others of the call are
  saved. ``expire_sessions_before(operation, nth=1)``: every session dies just before the
  ``nth`` next call of ``operation`` (a session expiring mid-export).
  ``timeout_after_commit(operation="SaveInvoices", mode="drop"|"delay", delay=…, times=1)``:
  the call is executed and committed, then the connection is dropped without an answer
  (``drop``: the client sees a connection error) or the answer waits ``delay`` seconds (past
  the client's timeout), so a retry must find the saved invoice instead of sending it again.
  ``fail_after_save(operation="SaveInvoices", status=None, message=…, times=1)``: the call is
  executed and saved, then answered with an HTML error page of HTTP ``status`` (e.g. 503), or
  without ``status`` with a SOAP fault ``message``: an answer that hides a save.
  ``inject(status=…, body=…, delay=…)`` (``FaultInjectionMixin``) for transport-level faults
  (HTTP 503 pages, 429) before any SOAP processing.
* ``set_request_limit(limit, window=3600)``, ``exceed_request_limit(client_id)`` (the next call
  of that client faults "Limit exceeded by 1"); ``clock`` (``ManualClock`` from ``oauth2.py``).

Sandbox::

    python3 -m tests.fakes.twentyfour --port 8073 --seed 1
"""

import argparse
import copy
import hashlib
import random
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from lxml import etree
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from .records_api import HTML_ERROR_PAGE, FaultInjectionMixin
from .service import FakeService, serve_until_interrupted
from .soap import (
    SOAP11_CONTENT_TYPE,
    SOAP12_CONTENT_TYPE,
    InstanceValidationError,
    SoapFault,
    Wsdl,
    fault_envelope,
    parse_envelope,
    rewrite_addresses,
)
from .twentyfour_data import (
    COMPANY_ID_START,
    CURRENCIES,
    INVOICE_ID_START,
    MAIN_CLIENT_ID,
    ORDER_ID_START,
    PAYMENT_METHODS,
    PRODUCT_ID_START,
    TAX_CODES,
    TYPE_GROUPS,
    VAT_TYPES,
    Client,
    Identity,
    Login,
    generate_world,
    kid_number,
    make_company,
    make_product,
    new_guid,
    organization_number,
)

UTC = timezone.utc
NAMESPACE = "http://24sevenOffice.com/webservices"
# The project's own WSDLs (the operations and elements it uses), served and checked against the
# official ones by tests/test_wsdl_24so.py when ../shared/contracts is present.
WSDL_DIR = Path(__file__).resolve().parent / "wsdl" / "24so"
SKIP_REASON = f"the 24SevenOffice WSDLs are not available ({WSDL_DIR} is missing)"
SERVICE_PATHS = {  # service -> (path, WSDL file) [V §2]
    "Authenticate": ("/authenticate/v001/authenticate.asmx", "authService.wsdl"),
    "ClientService": ("/Client/V001/ClientService.asmx", "clientService.wsdl"),
    "ProductService": ("/Logistics/Product/V001/ProductService.asmx", "productService.wsdl"),
    "CompanyService": ("/CRM/Company/V001/CompanyService.asmx", "companyService.wsdl"),
    "InvoiceService": ("/Economy/InvoiceOrder/V001/InvoiceService.asmx", "invoiceService.wsdl"),
    "AccountService": ("/Economy/Account/V004/Accountservice.asmx", "accountService.wsdl"),
}
NO_SESSION_OPERATIONS = frozenset(("Login", "HasSession", "GetIdentitiesWithCredential"))
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
MIN_DATETIME = datetime(1, 1, 1)
SYNC_PAGE_SIZE = 1000  # GetCompanySyncList [V S8]
# .NET MinValue sentinels that mean "not set" (§2).
SENTINELS = (-2147483648, -32768, -9223372036854775808, Decimal("-79228162514264337593543950335"), MIN_DATETIME)

SESSION_MESSAGE = "Session is not authenticated"  # [V S15]
IDENTITY_SESSION_MESSAGE = "Client is not authenticated on this identity"  # [V S13]
BLOCKED_IDENTITY_MESSAGE = "The provided IdentityId is blocked"  # [V S9 S16]
UNKNOWN_IDENTITY_MESSAGE = "The provided IdentityId is not available for this user"  # [I]
UNKNOWN_APPLICATION_MESSAGE = "The provided ApplicationId is not valid"  # [I]
SEARCH_PARAMETER_MESSAGE = "Please specify at least one search parameter"  # [V S15 S17]
LOGIN_THROTTLED_MESSAGE = "Too many login attempts. Reuse the session or try again later"  # [I]
TOO_MANY_IDS_MESSAGE = "Too many ids in {name}: {count}, at most {limit} per request"  # [I]
ORDER_LOCKED_MESSAGE = "The order {order_id} is invoiced and can not be changed"  # [I]
NOT_FOUND_TYPE = "Office24Seven.Library.Core.ParameterNotFoundException"  # [V S15]
VALIDATION_TYPE = "Office24Seven.Library.Core.ValidationException"  # [I]
LOCKED_TYPE = "Office24Seven.Library.Economy.InvoiceOrder.OrderLockedException"  # [I]
DATABASE_TYPE = "Office24Seven.Library.Data.DataBaseServerException"  # [V S14]
DEPARTMENT_REQUIRED_TYPE = "Office24Seven.Library.Economy.Accounting.DepartmentIsRequiredException"  # [V name S23]
INVOICED_STATES = frozenset(("Invoiced", "InvoicedPack", "InvoicedCashAccount"))
ORDER_LENGTHS = {  # [V S6 S12] limits; [I] enforcement
    "CustomerName": 100,
    "CustomerOrgNo": 20,
    "YourReference": 50,
    "ReferenceNumber": 50,
    "InvoiceTitle": 300,
    "InvoiceText": 750,
    "InvoiceEmailAddress": 250,
}
ROW_LENGTHS = {"Name": 300}
PRODUCT_LENGTHS = {"Name": 125, "No": 100, "Description": 500}  # [V S7]
COMPANY_LENGTHS = {"Name": 200, "FirstName": 50, "OrganizationNumber": 20}  # [V S8]
SAVE_ECHO_HIDES = ("InvoiceId", "OCR", "OrderTotalIncVat", "OrderTotalVat")


class ItemError(Exception):
    """A per-item failure: the item is echoed with ``APIException{Type, Message}``."""

    def __init__(self, message, type_=VALIDATION_TYPE):
        super().__init__(message)
        self.message = message
        self.type = type_


@dataclass
class Session:
    id: str
    username: str
    identity_id: str
    client_id: int
    last_used: float
    alive: bool = True


@dataclass
class SoapPlan:
    """A planned misbehaviour of the next ``times`` calls of ``operation``."""

    operation: str
    kind: str  # "fault"/"expire" (before doing anything), "item" (per saved item), "drop"/"delay" (after commit)
    times: int = 1
    message: str = ""
    delay: float = 0.0
    type: str = ""


def wsdls_available(wsdl_dir=None):
    directory = Path(wsdl_dir) if wsdl_dir else WSDL_DIR
    return all((directory / filename).is_file() for _path, filename in SERVICE_PATHS.values())


def _is_set(value):
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return True
    return not any(type(value) is type(sentinel) and value == sentinel for sentinel in SENTINELS)


def _clean(value):
    """``value`` without the .NET MinValue sentinels (they mean "not set", §2)."""
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items() if _is_set(item) or isinstance(item, (dict, list))}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def _pick(record, properties):
    """``record`` reduced to ``properties`` (returnProperties), private keys never included."""
    return {key: record[key] for key in properties or () if key in record and not key.startswith("_")}


def _public(record):
    return {key: value for key, value in record.items() if not key.startswith("_")}


def _check_lengths(record, limits, enforce, what):
    for name, limit in limits.items():
        value = record.get(name)
        if isinstance(value, str) and len(value) > limit:
            if enforce:
                raise ItemError(f"{what}.{name} is too long: {len(value)} characters, at most {limit} are allowed.")
            record[name] = value[:limit]


def _money(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class FakeTwentyFour(FaultInjectionMixin, FakeService):
    """24SevenOffice's SOAP services over one generated world (see the module docstring)."""

    request_limit = 7200  # [V S9] requests per hour
    request_limit_window = 3600
    session_lifetime = None  # [I] seconds idle; None: sessions live until expire_sessions()
    empty_login_result = "empty"  # [I] "empty": <LoginResult /> ; "omitted": no element
    set_cookie = True  # Login also answers Set-Cookie: ASP.NET_SessionId=… (ASP.NET does) [I]
    accept_md5_password = True  # [I §1.1] the older MD5(UTF-16LE) form is accepted too
    product_no_match = "exact"  # [I] "exact", "prefix" or "contains"
    enforce_lengths = True  # [I] too-long fields: APIException (False: truncated silently)
    require_department = False  # [I] orders without a department: DepartmentIsRequiredException
    save_returns_invoice_id = False  # [I] SaveInvoices echoes InvoiceId/OCR/totals of invoiced orders
    api_exception_first = False  # [I] failed items carry APIException first (S14 fixture), not in schema order
    default_delay = 5.0  # timeout_after_commit(mode="delay") without a delay
    login_limit_per_minute = None  # [V S4 that logins are throttled; I the number and the fault]
    max_search_ids = 1000  # [V S5 S17] ids per OrderIds/InvoiceIds/CustomerIds/CompanyIds/ProductIds; [I] fault
    _settings = (
        "login_limit_per_minute",
        "max_search_ids",
        "request_limit",
        "request_limit_window",
        "session_lifetime",
        "empty_login_result",
        "set_cookie",
        "accept_md5_password",
        "product_no_match",
        "enforce_lengths",
        "require_department",
        "save_returns_invoice_id",
        "api_exception_first",
        "default_delay",
    )
    rules = (("/<path:path>", "soap", ["GET", "POST"]),)

    def __init__(self, host="127.0.0.1", port=0, *, world=None, clock=None, wsdl_dir=None, **settings):
        unknown = set(settings) - set(self._settings)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        for name, value in settings.items():
            setattr(self, name, value)
        directory = Path(wsdl_dir) if wsdl_dir else WSDL_DIR
        if not wsdls_available(directory):
            raise FileNotFoundError(SKIP_REASON.replace(str(WSDL_DIR), str(directory)))
        super().__init__(host=host, port=port)
        self.clock = clock or time.time
        self._wsdls = {}
        self._paths = {}
        for service, (path, filename) in SERVICE_PATHS.items():
            self._wsdls[service] = Wsdl((directory / filename).read_bytes())
            self._paths[path.lower()] = service
        self._data_lock = threading.RLock()
        self.reset_counters()
        self.load(world if world is not None else generate_world())

    # -- addresses -----------------------------------------------------------------------
    def service_url(self, service):
        return f"{self.url}{SERVICE_PATHS[service][0]}"

    def wsdl_url(self, service):
        return f"{self.service_url(service)}?wsdl"

    # -- world ---------------------------------------------------------------------------
    def load(self, world):
        """Serve ``world`` from a fresh state: its data copied (the world itself is never changed),
        no sessions, no request-limit usage, no queued faults. Counters are kept
        (``reset_counters``)."""
        with self._data_lock:
            self.world = world
            self._clients = {client_id: _store(client) for client_id, client in world.clients.items()}
            self._logins = {login.username: copy.deepcopy(login) for login in world.logins}
            self._identities = {
                identity.id: (login, identity) for login in self._logins.values() for identity in login.identities
            }
            self._application_ids = {app.lower() for app in world.application_ids or (world.application_id,)}
            self._sessions = {}
            self._usage = {}  # client id -> (window, count)
            self._login_times = {}  # user name -> clock times of recent Login calls
            self._plans = []
        self.clear_faults()

    def add_client(self, name, client_id=None, departments=((1, "Hovedkontor"),), categories=((1, "Standard", "1"),)):
        """Another 24SO client (tenant), empty but for ``departments`` and ``categories``; its id."""
        with self._data_lock:
            client_id = client_id or max(self._clients) + 1
            client = Client(client_id, name, organization_number(random.Random(client_id)))
            client.departments = [{"Id": dept_id, "Name": dept_name} for dept_id, dept_name in departments]
            client.categories = [{"Id": cid, "Name": cname, "No": cno} for cid, cname, cno in categories]
            self._clients[client_id] = _store(client)
            return client_id

    def add_user(self, username, password, client_ids, name=None, blocked=()):
        """A community user with one identity per client of ``client_ids`` (the first is the
        default; those in ``blocked`` are blocked); returns its ``Login`` (with the identity ids)."""
        with self._data_lock:
            rng = random.Random(f"{username}/{len(self._identities)}")
            identities = [
                Identity(new_guid(rng), client_id, index == 0, client_id in blocked)
                for index, client_id in enumerate(client_ids)
            ]
            number = len(self._logins) + 1
            login = Login(username, password, name or username, new_guid(rng), 700 + number, 900 + number)
            login.identities = identities
            self._logins[username] = login
            for identity in identities:
                self._identities[identity.id] = (login, identity)
            return copy.deepcopy(login)

    def client(self, client_id=MAIN_CLIENT_ID):
        """The live store of a client: ``departments``, ``categories``, ``products``, ``companies``,
        ``invoices`` (lists of WSDL-named dicts; change them under ``with fake.data_lock``)."""
        return self._clients[client_id]

    @property
    def data_lock(self):
        return self._data_lock

    def _now(self):
        return datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None, microsecond=0)

    def add_department(self, dept_id, name, client_id=MAIN_CLIENT_ID):
        with self._data_lock:
            department = {"Id": dept_id, "Name": name}
            self._clients[client_id]["departments"].append(department)
            return dict(department)

    def add_category(self, name, category_id=None, client_id=MAIN_CLIENT_ID):
        with self._data_lock:
            store = self._clients[client_id]
            category_id = category_id or store["next_category"]
            store["next_category"] = max(store["next_category"], category_id + 1)
            category = {"Id": category_id, "Name": name, "No": str(category_id)}
            store["categories"].append(category)
            return dict(category)

    def add_product(self, number, name, category_id=1, price="100.00", client_id=MAIN_CLIENT_ID, **extra):
        """A product as if created in 24SO's UI; returns it (with its ``Id``)."""
        with self._data_lock:
            store = self._clients[client_id]
            undated = extra.pop("undated", False)
            product = make_product(store["next_product"], number, name, category_id, price, **extra)
            product.setdefault("DateChanged", self._now())
            if undated:  # as records imported into 24SO long ago: no change date [I]
                del product["DateChanged"]
            store["next_product"] += 1
            store["products"].append(product)
            return dict(product)

    def add_company(self, name, client_id=MAIN_CLIENT_ID, organization_number=None, **fields):
        """A customer as if created in 24SO's UI (``organization_number=``, ``external_id=``,
        ``type=``, ``email=``, any other Company field); returns it (with its ``Id``)."""
        if organization_number is not None:
            fields["org_no"] = organization_number
        undated = fields.pop("undated", False)
        with self._data_lock:
            store = self._clients[client_id]
            company = make_company(store["next_company"], name, **fields)
            company.setdefault("DateChanged", self._now())
            if undated:
                del company["DateChanged"]
            store["next_company"] += 1
            store["companies"].append(company)
            return _deep(company)

    def invoice(self, order_id, client_id=MAIN_CLIENT_ID):
        """The stored order (all its fields), or None."""
        with self._data_lock:
            order = self._order(self._clients[client_id], order_id)
            return _deep(order) if order else None

    def invoices_for(self, reference, client_id=MAIN_CLIENT_ID):
        """Stored orders whose ``ReferenceNumber`` (else ``InvoiceTitle``) is ``reference``."""
        with self._data_lock:
            orders = self._clients[client_id]["invoices"]
            return [_deep(order) for order in orders if _reference(order) == reference]

    def forget_invoices(self):
        """Forget every stored order, as a fresh client: tests of one stand-in whose Odoo data is
        rolled back between them reuse invoice numbers, which 24SevenOffice would hold already."""
        with self._data_lock:
            for store in self._clients.values():
                store["invoices"].clear()

    def duplicates(self):
        """``{reference: [OrderId, …]}`` for every reference saved more than once in one client."""
        with self._data_lock:
            found = {}
            for store in self._clients.values():
                seen = {}
                for order in store["invoices"]:
                    if _reference(order):
                        seen.setdefault(_reference(order), []).append(order["OrderId"])
                found.update({reference: ids for reference, ids in seen.items() if len(ids) > 1})
            return found

    # -- sessions ------------------------------------------------------------------------
    @property
    def sessions(self):
        with self._data_lock:
            return [session.id for session in self._sessions.values() if self._alive(session)]

    def expire_sessions(self, username=None):
        """End every live session (of ``username``), as 24SO does after some idle time."""
        with self._data_lock:
            count = 0
            for session in self._sessions.values():
                if session.alive and (username is None or session.username == username):
                    session.alive = False
                    count += 1
            return count

    def block_identity(self, identity_id, blocked=True):
        with self._data_lock:
            self._identities[identity_id][1].blocked = blocked

    def _alive(self, session):
        if not session.alive:
            return False
        if self.session_lifetime is not None and self.clock() - session.last_used > self.session_lifetime:
            session.alive = False
        return session.alive

    # -- counters and plans --------------------------------------------------------------
    def reset_counters(self):
        self.calls = Counter()
        self.logins_by_user = Counter()
        self.logins = 0
        self.failed_logins = 0

    @property
    def soap_calls(self):
        return sum(self.calls.values())

    def set_request_limit(self, limit, window=3600):
        with self._data_lock:
            self.request_limit = limit
            self.request_limit_window = window
            self._usage = {}

    def exceed_request_limit(self, client_id=MAIN_CLIENT_ID):
        """Use up the current window's budget of ``client_id``: its next call faults
        "Limit exceeded by 1 …", until the window ends (move the ``ManualClock`` to end it)."""
        with self._data_lock:
            window = int(self.clock() // self.request_limit_window)
            self._usage[client_id] = (window, self.request_limit)

    def fail_next(self, operation, message="Server is busy, try again later", times=1):
        """The next ``times`` calls of ``operation`` answer a SOAP fault with ``message``."""
        return self._plan(SoapPlan(operation, "fault", times, message))

    def timeout_after_commit(self, operation="SaveInvoices", mode="drop", delay=None, times=1):
        """The next ``times`` calls of ``operation`` are executed and saved, then the connection
        is dropped without an answer (``drop``) or the answer waits ``delay`` seconds (``delay``)."""
        if mode not in ("drop", "delay"):
            raise ValueError("mode is 'drop' or 'delay'")
        return self._plan(SoapPlan(operation, mode, times, delay=self.default_delay if delay is None else delay))

    def expire_sessions_before(self, operation, nth=1):
        """Every session expires just before the ``nth`` next call of ``operation`` (which then
        faults "Session is not authenticated"): a session dying in the middle of an export."""
        if nth > 1:
            self._plan(SoapPlan(operation, "pass", nth - 1))
        return self._plan(SoapPlan(operation, "expire"))

    def fail_after_save(self, operation="SaveInvoices", status=None, message="Timeout expired", times=1):
        """The next ``times`` calls of ``operation`` are executed and saved, then answered with a
        failure that hides it: an HTML error page of HTTP ``status`` (e.g. 503 from a proxy), or,
        without ``status``, a SOAP fault with ``message`` (a failure after the save [I])."""
        if status:
            return self._plan(SoapPlan(operation, "page", times, HTML_ERROR_PAGE, delay=float(status)))
        return self._plan(SoapPlan(operation, "fault_after", times, message))

    def add_tax_code(self, tax_no, name, rate, account_no=2700, client_id=MAIN_CLIENT_ID):
        """Another VAT code of ``GetTaxCodeList`` (rows naming its ``TaxNo`` get its rate); returns it."""
        with self._data_lock:
            codes = self._clients[client_id]["tax_codes"]
            code = {
                "TaxId": max([c["TaxId"] for c in codes] + [0]) + 1,
                "TaxNo": str(tax_no),
                "TaxName": name,
                "TaxRate": Decimal(str(rate)),
                "AccountNo": account_no,
            }
            codes.append(code)
            return dict(code)

    def fail_items(self, operation="SaveInvoices", message="Timeout expired", times=1, type_=DATABASE_TYPE):
        """The next ``times`` items of ``operation`` (a Save*) fail with ``APIException{type_, message}``
        and are not saved, the others are (a per-item, possibly transient, failure)."""
        return self._plan(SoapPlan(operation, "item", times, message, type=type_))

    def stats(self):
        """What the benchmark reports."""
        with self._data_lock:
            return {
                "soap_calls": self.soap_calls,
                "save_invoices_calls": self.calls["SaveInvoices"],
                "logins": self.logins,
                "calls": dict(self.calls),
            }

    def _plan(self, plan):
        if plan.times < 1:
            raise ValueError("times must be >= 1")
        with self._data_lock:
            self._plans.append(plan)
        return plan

    def _take_plan(self, operation, kinds):
        with self._data_lock:
            for plan in self._plans:
                if plan.operation == operation and plan.kind in kinds:
                    plan.times -= 1
                    if plan.times == 0:
                        self._plans.remove(plan)
                    return plan
        return None

    def inject(self, status=None, times=1, retry_after=None, body=None, content_type=None, delay=None, path_prefix="/"):
        """``FaultInjectionMixin.inject`` aimed at every service by default."""
        return super().inject(status, times, retry_after, body, content_type, delay, path_prefix)

    # -- HTTP ----------------------------------------------------------------------------
    def on_soap(self, request, path):
        service = self._paths.get(f"/{path}".lower())
        if service is None:
            raise NotFound()
        wsdl = self._wsdls[service]
        if request.method == "GET":
            if any(key.lower() == "wsdl" for key in request.args):
                body = rewrite_addresses(wsdl.raw, request.host_url.rstrip("/"))
                return Response(body, content_type="text/xml; charset=utf-8")
            operations = ", ".join(sorted(wsdl.operations))
            page = f"<html><body><h1>{service}</h1><p>Operations: {operations}</p></body></html>"
            return Response(page, content_type="text/html; charset=utf-8")
        version = "1.2" if request.mimetype == "application/soap+xml" else "1.1"
        headers = {}
        try:
            envelope = parse_envelope(request.get_data())
            version = envelope.version
            operation = self._operation(request, wsdl, envelope)
            with self._data_lock:
                self.calls[operation] += 1
            plan = self._take_plan(operation, ("fault",))
            if plan:
                raise SoapFault(plan.message)
            plan = self._take_plan(operation, ("pass", "expire"))  # "pass": calls before the nth
            if plan and plan.kind == "expire":
                self.expire_sessions()
            params = wsdl.decode_request(envelope.element)
            result = self._dispatch(service, operation, params, request, headers)
            body = wsdl.encode_response(operation, result, version)
            if self.api_exception_first and operation.startswith("Save"):
                body = _api_exception_first(body)
        except InstanceValidationError as error:
            return self._fault(SoapFault(str(error), code="Client"), version, headers)
        except SoapFault as fault:
            return self._fault(fault, version, headers)
        plan = self._take_plan(operation, ("drop", "delay", "page", "fault_after"))
        if plan and plan.kind == "drop":
            return self._drop(request)
        if plan and plan.kind == "page":
            return Response(plan.message, status=int(plan.delay), content_type="text/html; charset=utf-8")
        if plan and plan.kind == "fault_after":
            return self._fault(SoapFault(plan.message), version, headers)
        if plan:
            self._stopping.wait(plan.delay)
        content_type = SOAP11_CONTENT_TYPE if version == "1.1" else SOAP12_CONTENT_TYPE
        cookie = headers.pop("_set_cookie", None)
        response = Response(body, content_type=content_type, headers=headers)
        if cookie:
            response.set_cookie("ASP.NET_SessionId", cookie, path="/", httponly=True)
        return response

    @staticmethod
    def _operation(request, wsdl, envelope):
        if envelope.version == "1.1":
            action = request.headers.get("SOAPAction")
            action = action.strip().strip('"') if action is not None else None
            operation = wsdl.actions.get(action)
            if operation is None:
                message = f"Server did not recognize the value of HTTP Header SOAPAction: {action}."
                raise SoapFault(message, "Client", wrap=False)
        else:
            operation = request.mimetype_params.get("action", "").rpartition("/")[2] or envelope.operation
            if operation not in wsdl.operations:
                raise SoapFault(f"Unable to handle request without a valid action parameter: {operation}.", "Client")
        if envelope.operation != operation or envelope.namespace != NAMESPACE:
            raise SoapFault(f"The body element {envelope.operation} does not match the action {operation}.", "Client")
        return operation

    def _fault(self, fault, version, headers):
        headers.pop("_set_cookie", None)
        content_type = SOAP11_CONTENT_TYPE if version == "1.1" else SOAP12_CONTENT_TYPE
        return Response(fault_envelope(fault, version), status=500, content_type=content_type, headers=headers)

    @staticmethod
    def _drop(request):
        """Close the connection without answering: the client sees it dropped (werkzeug's write of
        the empty answer then fails with a broken pipe, which it treats as a dropped connection)."""
        connection = request.environ.get("werkzeug.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return Response(b"", status=500)

    # -- dispatch ------------------------------------------------------------------------
    def _dispatch(self, service, operation, params, request, headers):
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise SoapFault(f"{service}.{operation} is not implemented by the fake 24SevenOffice.")
        params = _clean(params)
        with self._data_lock:
            if operation in NO_SESSION_OPERATIONS:
                return handler(params, request=request, headers=headers)
            session = self._session(request)
            self._count_request(session.client_id, headers)
            return handler(params, session=session, store=self._clients[session.client_id])

    def _session(self, request):
        session = self._sessions.get(request.cookies.get("ASP.NET_SessionId", ""))
        if session is None or not self._alive(session):
            raise SoapFault(SESSION_MESSAGE)
        _login, identity = self._identities[session.identity_id]
        if identity.blocked or identity.disabled:
            raise SoapFault(IDENTITY_SESSION_MESSAGE)
        session.last_used = self.clock()
        return session

    def _count_request(self, client_id, headers):
        if not self.request_limit:
            return
        now = self.clock()
        window = int(now // self.request_limit_window)
        start, used = self._usage.get(client_id, (window, 0))
        used = used + 1 if start == window else 1
        self._usage[client_id] = (window, used)
        reset = datetime.fromtimestamp((window + 1) * self.request_limit_window, UTC)
        headers["APILimitRemaining"] = str(max(0, self.request_limit - used))
        headers["APILimitReset"] = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
        if used > self.request_limit:
            raise SoapFault(
                f"Limit exceeded by {used - self.request_limit}. Request is blocked. "
                f"Quarantine ends at {reset.strftime('%Y-%m-%d %H:%M:%S')} UTC"
            )

    # -- Authenticate --------------------------------------------------------------------
    def _check_credential(self, credential):
        """The (login, identity) of ``credential``; None for a wrong user name or password."""
        if not credential or not credential.get("ApplicationId"):
            raise SoapFault("Instance validation error: ApplicationId is required.", code="Client")
        if credential["ApplicationId"] not in self._application_ids:
            raise SoapFault(UNKNOWN_APPLICATION_MESSAGE)
        username = (credential.get("Username") or "").strip().lower()
        password = credential.get("Password") or ""
        login = next((item for item in self._logins.values() if item.username.lower() == username), None)
        if login is None or not self._password_ok(login.password, password):
            return None
        return login

    def _password_ok(self, expected, given):
        if given == expected:
            return True
        digest = hashlib.md5(expected.encode("utf-16-le")).hexdigest()  # noqa: S324 - 24SO's legacy form
        return self.accept_md5_password and given.lower() == digest

    def op_Login(self, params, request, headers):
        credential = params.get("credential")
        self.logins += 1
        if credential and credential.get("Username"):
            self.logins_by_user[credential["Username"]] += 1
        self._throttle_login((credential or {}).get("Username") or "")
        login = self._check_credential(credential)
        if login is None:
            self.failed_logins += 1
            return "" if self.empty_login_result == "empty" else None
        identity_id = credential.get("IdentityId") or ZERO_GUID
        if identity_id == ZERO_GUID:
            identity = login.default_identity
        else:
            identity = next((item for item in login.identities if item.id == identity_id), None)
            if identity is None:
                raise SoapFault(UNKNOWN_IDENTITY_MESSAGE)
        if identity is None or identity.blocked:
            raise SoapFault(BLOCKED_IDENTITY_MESSAGE)
        self._count_request(identity.client_id, headers)
        session_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
        self._sessions[session_id] = Session(session_id, login.username, identity.id, identity.client_id, self.clock())
        if self.set_cookie:
            headers["_set_cookie"] = session_id
        return session_id

    def _throttle_login(self, username):
        if not self.login_limit_per_minute:
            return
        now = self.clock()
        recent = [when for when in self._login_times.get(username.lower(), ()) if now - when < 60]
        recent.append(now)
        self._login_times[username.lower()] = recent
        if len(recent) > self.login_limit_per_minute:
            raise SoapFault(LOGIN_THROTTLED_MESSAGE)

    def _check_ids(self, search, *names):
        for name in names:
            count = len(search.get(name) or ())
            if self.max_search_ids and count > self.max_search_ids:
                raise SoapFault(TOO_MANY_IDS_MESSAGE.format(name=name, count=count, limit=self.max_search_ids))

    def op_HasSession(self, params, request, headers):
        session = self._sessions.get(request.cookies.get("ASP.NET_SessionId", ""))
        return bool(session and self._alive(session))

    def _identity_value(self, login, identity, current_id=None):
        client = self._clients[identity.client_id]["client"]
        return {
            "Id": identity.id,
            "User": _user(login),
            "Client": {"Id": client.id, "Name": client.name},
            "IsCurrent": identity.id == current_id,
            "IsDefault": identity.is_default,
            "IsProtected": identity.protected,
            "Servers": [],
            "IsDisabled": identity.disabled,
        }

    def op_GetIdentities(self, params, session, store):
        login = self._logins[session.username]
        return [self._identity_value(login, identity, session.identity_id) for identity in login.identities]

    def op_GetIdentity(self, params, session, store):
        login, identity = self._identities[session.identity_id]
        return self._identity_value(login, identity, session.identity_id)

    def op_GetIdentitiesWithCredential(self, params, request, headers):
        login = self._check_credential(params.get("credential"))
        return [self._identity_value(login, identity) for identity in login.identities] if login else []

    def _switch(self, session, identity_id):
        login = self._logins[session.username]
        identity = next((item for item in login.identities if item.id == identity_id), None)
        if identity is None or identity.disabled:
            return False
        if identity.blocked:
            raise SoapFault(BLOCKED_IDENTITY_MESSAGE)
        session.identity_id, session.client_id = identity.id, identity.client_id
        return True

    def op_SetIdentityById(self, params, session, store):
        return self._switch(session, params.get("identityId"))

    def op_SetIdentity(self, params, session, store):
        return self._switch(session, (params.get("identity") or {}).get("Id"))

    # -- ClientService -------------------------------------------------------------------
    def op_GetDepartmentList(self, params, session, store):
        return [_public(department) for department in store["departments"]]

    def op_GetClientInformation(self, params, session, store):
        client = store["client"]
        login = self._logins[session.username]
        return {
            "Name": client.name,
            "OrganizationNumber": client.organization_number,
            "Country": client.country,
            "DefaultCurrency": client.currency,
            "IsUsingFactoring": False,
            "ReminderDays": 14,
            "ReminderDays2": 14,
            "ReminderDays3": 14,
            "UserId": login.contact_id,
        }

    def op_GetCurrencyList(self, params, session, store):
        return [{"Symbol": s, "Id": i, "Rate": Decimal(r), "Unit": u} for s, i, r, u in CURRENCIES]

    def op_GetTypeGroupList(self, params, session, store):
        return [{"AccountId": account, "Id": group_id, "Name": name} for account, group_id, name in TYPE_GROUPS]

    def op_GetVatTypeList(self, params, session, store):
        return [{"No": number, "Name": name, "Rate": Decimal(rate)} for number, name, rate in VAT_TYPES]

    def op_GetUsers(self, params, session, store):
        return [
            _user(login)
            for login in self._logins.values()
            if any(identity.client_id == session.client_id for identity in login.identities)
        ]

    def op_GetTaxCodeList(self, params, session, store):
        return [dict(code) for code in store["tax_codes"]]

    def op_GetPaymentMethods(self, params, session, store):
        return [{"Id": method_id, "Name": name} for method_id, name in PAYMENT_METHODS]

    # -- ProductService ------------------------------------------------------------------
    def op_GetProducts(self, params, session, store):
        search = params.get("searchParams") or {}
        self._check_ids(search, "ProductIds")
        products = store["products"]
        if "Id" in search:
            products = [p for p in products if p["Id"] == search["Id"]]
        if search.get("ProductIds"):
            wanted = set(search["ProductIds"])
            products = [p for p in products if p["Id"] in wanted]
        if "CategoryId" in search:
            products = [p for p in products if p.get("CategoryId") == search["CategoryId"]]
        if search.get("No"):
            products = [p for p in products if self._no_matches(p.get("No") or "", search["No"])]
        if search.get("EAN1"):
            products = [p for p in products if p.get("EAN1") == search["EAN1"]]
        if search.get("Name"):
            products = [p for p in products if search["Name"].lower() in (p.get("Name") or "").lower()]
        if "Price" in search:
            products = [p for p in products if p.get("Price") == search["Price"]]
        if "DateChanged" in search:
            # a product without a change date is never returned by a change-date search [I]
            products = [p for p in products if "DateChanged" in p and p["DateChanged"] >= search["DateChanged"]]
        return [_pick(product, params.get("returnProperties")) for product in products]

    def _no_matches(self, number, wanted):
        if self.product_no_match == "prefix":
            return number.lower().startswith(wanted.lower())
        if self.product_no_match == "contains":
            return wanted.lower() in number.lower()
        return number == wanted

    def op_SaveProducts(self, params, session, store):
        return self._save_all("SaveProducts", store, params.get("products"), self._save_product)

    def _save_all(self, operation, store, items, save):
        """Each item saved by ``save`` or echoed with its ``APIException`` (one bad item never
        stops the others, §4.2)."""
        results = []
        for item in items or ():
            if item is None:
                results.append(None)
                continue
            try:
                plan = self._take_plan(operation, ("item",))
                if plan:
                    raise ItemError(plan.message, plan.type)
                results.append(save(store, dict(item)))
            except ItemError as error:
                results.append({**item, "APIException": {"Type": error.type, "Message": error.message}})
        return results

    def _save_product(self, store, product):
        existing = None
        if "Id" in product:
            existing = next((p for p in store["products"] if p["Id"] == product["Id"]), None)
            if existing is None:
                raise ItemError(f"Product with Id {product['Id']} was not found.", NOT_FOUND_TYPE)
        merged = {**(existing or {}), **product}
        if not merged.get("Name"):
            raise ItemError("Product.Name is required.")
        if "CategoryId" not in merged:
            raise ItemError("Product.CategoryId is required.")
        if not any(category["Id"] == merged["CategoryId"] for category in store["categories"]):
            raise ItemError(f"Category with Id {merged['CategoryId']} was not found.", NOT_FOUND_TYPE)
        _check_lengths(merged, PRODUCT_LENGTHS, self.enforce_lengths, "Product")
        merged["DateChanged"] = self._now()
        merged.setdefault("StatusId", 1)
        return _public(_upsert(store, "products", "Id", existing, merged))

    def op_GetCategories(self, params, session, store):
        properties = params.get("returnProperties")
        return [_pick(category, properties) if properties else _public(category) for category in store["categories"]]

    def op_SaveCategories(self, params, session, store):
        return self._save_all("SaveCategories", store, params.get("categories"), self._save_category)

    def _save_category(self, store, category):
        if not category.get("Name"):
            raise ItemError("Category.Name is required.")
        if "Id" in category:
            existing = next((c for c in store["categories"] if c["Id"] == category["Id"]), None)
            if existing is None:
                raise ItemError(f"Category with Id {category['Id']} was not found.", NOT_FOUND_TYPE)
            existing.update(category)
            return _public(existing)
        category["Id"] = store["next_category"]
        store["next_category"] += 1
        store["categories"].append(category)
        return _public(category)

    # -- CompanyService ------------------------------------------------------------------
    def op_GetCompanies(self, params, session, store):
        search = params.get("searchParams") or {}
        self._check_ids(search, "CompanyIds")
        tests = []
        if search.get("ExternalId"):
            tests.append(lambda c: c.get("ExternalId") == search["ExternalId"])
        if "CompanyId" in search:
            tests.append(lambda c: c["Id"] == search["CompanyId"])
        if search.get("CompanyIds"):
            wanted = set(search["CompanyIds"])
            tests.append(lambda c: c["Id"] in wanted)
        if search.get("CompanyName"):
            tests.append(lambda c: search["CompanyName"].lower() in (c.get("Name") or "").lower())
        if "ChangedAfter" in search:
            tests.append(lambda c: "DateChanged" in c and c["DateChanged"] > search["ChangedAfter"])
        if search.get("CompanyEmail"):
            tests.append(lambda c: search["CompanyEmail"].lower() in _emails(c))
        if search.get("CompanyPhone"):
            tests.append(lambda c: search["CompanyPhone"] in _phones(c))
        if search.get("OrganizationNumber"):
            tests.append(lambda c: _digits(c.get("OrganizationNumber")) == _digits(search["OrganizationNumber"]))
        if not tests:
            raise SoapFault(SEARCH_PARAMETER_MESSAGE)
        found = [c for c in store["companies"] if all(test(c) for test in tests)]
        return [_pick(company, params.get("returnProperties")) for company in found]

    def op_GetCompanySyncList(self, params, session, store):
        """Every customer, 1,000 a page, pages numbered from 1 [I]; ``ChangedAfter`` (a customer
        without a change date never matches it, as in GetCompanies [I]), ``RegisteredAfter`` and
        ``Active`` (nil: all) narrow it [V S8 fields]."""
        sync = params.get("syncSearchParameters") or {}
        companies = store["companies"]
        if "ChangedAfter" in sync:
            companies = [c for c in companies if "DateChanged" in c and c["DateChanged"] > sync["ChangedAfter"]]
        if "RegisteredAfter" in sync:
            companies = [c for c in companies if _registered(c) > sync["RegisteredAfter"]]
        if sync.get("Active") is not None:
            companies = [c for c in companies if c.get("Active", True) == sync["Active"]]
        page = max(sync.get("Page") or 1, 1)
        chunk = companies[(page - 1) * SYNC_PAGE_SIZE : page * SYNC_PAGE_SIZE]
        return {
            "CurrentPage": page,
            "TotalPages": -(-len(companies) // SYNC_PAGE_SIZE),
            "TotalItems": len(companies),
            "ItemsPerPage": SYNC_PAGE_SIZE,
            "Items": [
                {
                    "CompanyId": c["Id"],
                    "ExternalId": c.get("ExternalId") or "",
                    "DateRegistered": _registered(c),
                    "Active": c.get("Active", True),
                    **({"DateChanged": c["DateChanged"]} if "DateChanged" in c else {}),
                }
                for c in chunk
            ],
        }

    def op_SaveCompanies(self, params, session, store):
        return self._save_all("SaveCompanies", store, params.get("companies"), self._save_company)

    def _save_company(self, store, company):
        explicit = company.pop("ExplicitlySpecifyNewCompanyId", None)
        existing = None
        if "Id" in company:
            existing = next((c for c in store["companies"] if c["Id"] == company["Id"]), None)
            if existing is None and not explicit:
                raise ItemError(f"Company with Id {company['Id']} was not found.", NOT_FOUND_TYPE)
        merged = {**(existing or {}), **company}
        if not merged.get("Name"):
            raise ItemError("Company.Name is required.")
        _check_lengths(merged, COMPANY_LENGTHS, self.enforce_lengths, "Company")
        merged.setdefault("Type", "None")
        merged["DateChanged"] = self._now()
        if existing is None:
            merged["DateCreated"] = merged["DateChanged"]
        return _deep(_public(_upsert(store, "companies", "Id", existing, merged)))

    # -- InvoiceService ------------------------------------------------------------------
    def op_SaveInvoices(self, params, session, store):
        return self._save_all("SaveInvoices", store, params.get("invoices"), self._save_order)

    @staticmethod
    def _order(store, order_id):
        return next((order for order in store["invoices"] if order["OrderId"] == order_id), None)

    def _save_order(self, store, order):
        existing = self._order(store, order["OrderId"]) if "OrderId" in order else None
        if existing is not None and existing.get("OrderStatus") in INVOICED_STATES:
            raise ItemError(ORDER_LOCKED_MESSAGE.format(order_id=existing["OrderId"]), LOCKED_TYPE)
        merged = {**(existing or {}), **order}
        merged.pop("InvoiceId", None)  # read-only [V S6]
        if "CustomerId" not in merged:
            raise ItemError("InvoiceOrder.CustomerId is required.")
        customer = next((c for c in store["companies"] if c["Id"] == merged["CustomerId"]), None)
        if customer is None:
            raise ItemError(f"Customer with Id {merged['CustomerId']} was not found.", NOT_FOUND_TYPE)
        _check_lengths(merged, ORDER_LENGTHS, self.enforce_lengths, "InvoiceOrder")
        self._check_dimensions(store, merged, "InvoiceOrder")
        if self.require_department and "DepartmentId" not in merged:
            raise ItemError("A department is required for this posting.", DEPARTMENT_REQUIRED_TYPE)
        symbol = (merged.get("Currency") or {}).get("Symbol")
        if symbol and symbol not in {currency[0] for currency in CURRENCIES} | {"LOCAL"}:
            raise ItemError(f"Currency {symbol} was not found.", NOT_FOUND_TYPE)
        for key in ("ReferenceInvoiceId", "ReferenceOrderId"):
            field = "InvoiceId" if key == "ReferenceInvoiceId" else "OrderId"
            if key in merged and not any(o.get(field) == merged[key] for o in store["invoices"]):
                raise ItemError(f"{key} {merged[key]} was not found.", NOT_FOUND_TYPE)
        rows = [dict(row) for row in merged.get("InvoiceRows") or [] if row is not None]
        for row in rows:
            self._check_row(store, row)
        # -- valid: save it
        now = self._now()
        for number, row in enumerate(rows, start=1):
            row.setdefault("RowId", number)
            row["ChangeState"] = "Add"
        merged["InvoiceRows"] = rows
        merged.setdefault("OrderStatus", "Web")
        merged.setdefault("CustomerName", customer.get("Name", ""))
        merged.setdefault("DateOrdered", now.replace(hour=0, minute=0, second=0))
        merged["DateChanged"] = now
        merged["OrderTotalIncVat"], merged["OrderTotalVat"] = _totals(rows, merged.get("IncludeVAT"))
        if merged["OrderStatus"] in INVOICED_STATES:
            merged["InvoiceId"] = store["next_invoice"]
            store["next_invoice"] += 1
            merged["OCR"] = kid_number(merged["InvoiceId"])
            merged.setdefault("DateInvoiced", now.replace(hour=0, minute=0, second=0))
        echo = _deep(_public(_upsert(store, "invoices", "OrderId", existing, merged)))
        if not self.save_returns_invoice_id:
            for key in SAVE_ECHO_HIDES:
                echo.pop(key, None)
        return echo

    @staticmethod
    def _check_dimensions(store, record, what):
        if "DepartmentId" in record and not any(d["Id"] == record["DepartmentId"] for d in store["departments"]):
            raise ItemError(f"{what}.DepartmentId {record['DepartmentId']} was not found.", NOT_FOUND_TYPE)
        if "ProjectId" in record and not any(p["Id"] == record["ProjectId"] for p in store["projects"]):
            raise ItemError(f"{what}.ProjectId {record['ProjectId']} was not found.", NOT_FOUND_TYPE)

    def _check_row(self, store, row):
        _check_lengths(row, ROW_LENGTHS, self.enforce_lengths, "InvoiceRow")
        self._check_dimensions(store, row, "InvoiceRow")
        if row.get("Type", "Normal") != "Normal":
            return
        if "ProductId" not in row:
            raise ItemError("InvoiceRow.ProductId is required on a Normal row.")
        product = next((p for p in store["products"] if p["Id"] == row["ProductId"]), None)
        if product is None:
            raise ItemError(f"Product with Id {row['ProductId']} was not found.", NOT_FOUND_TYPE)
        row["ProductNo"] = product.get("No", "")  # read-only on rows [V S12]
        row["VatRate"] = self._row_vat_rate(store, row, product)
        row.setdefault("Name", product.get("Name", ""))
        row.setdefault("Price", product.get("Price", Decimal(0)))
        row.setdefault("Quantity", Decimal(1))

    @staticmethod
    def _row_vat_rate(store, row, product):
        """The row's VAT rate: its ``TaxSettings.TaxCode`` (a ``TaxNo`` of GetTaxCodeList), else
        ``TaxSettings.TaxRate``, else the product's ``TaxRate``, else the standard 25% [V S12; I order]."""
        settings = row.get("TaxSettings") or {}
        if "TaxCode" in settings:
            code = next((c for c in store["tax_codes"] if c["TaxNo"] == str(settings["TaxCode"])), None)
            if code is None:
                raise ItemError(f"TaxCode {settings['TaxCode']} was not found.", NOT_FOUND_TYPE)
            return code["TaxRate"]
        if "TaxRate" in settings:
            return settings["TaxRate"]
        return product.get("TaxRate", Decimal(25))

    def op_GetInvoices(self, params, session, store):
        search = params.get("searchParams") or {}
        self._check_ids(search, "OrderIds", "InvoiceIds", "CustomerIds")
        tests = []
        for key, field in (("OrderIds", "OrderId"), ("InvoiceIds", "InvoiceId"), ("CustomerIds", "CustomerId")):
            if search.get(key):
                tests.append(lambda o, wanted=frozenset(search[key]), field=field: o.get(field) in wanted)
        if search.get("OrderStates"):
            tests.append(lambda o: o.get("OrderStatus", "Web") in search["OrderStates"])
        if search.get("ExternalStatus"):
            tests.append(lambda o: o.get("ExternalStatus") in search["ExternalStatus"])
        if "ChangedAfter" in search:
            tests.append(lambda o: o.get("DateChanged", MIN_DATETIME) > search["ChangedAfter"])
        if not tests:
            raise SoapFault(SEARCH_PARAMETER_MESSAGE)
        properties = params.get("invoiceReturnProperties") or []
        row_properties = params.get("rowReturnProperties") or []
        found = []
        for order in store["invoices"]:
            if all(test(order) for test in tests):
                item = _pick(order, [p for p in properties if p != "InvoiceRows"])
                if row_properties:
                    item["InvoiceRows"] = [_pick(row, row_properties) for row in order.get("InvoiceRows") or []]
                found.append(_deep(item))
        return found

    def op_UpdateInvoices(self, params, session, store):
        return self._save_all("UpdateInvoices", store, params.get("invoices"), self._update_order)

    def _update_order(self, store, order):
        existing = self._order(store, order.get("OrderId"))
        if existing is None:
            raise ItemError(f"Order with Id {order.get('OrderId')} was not found.", NOT_FOUND_TYPE)
        changes = {key: value for key, value in order.items() if key != "OrderId"}
        if existing.get("OrderStatus") in INVOICED_STATES:
            refused = sorted(set(changes) - {"InvoiceTitle", "ReferenceNumber"})
            if refused:
                raise ItemError(ORDER_LOCKED_MESSAGE.format(order_id=existing["OrderId"]), LOCKED_TYPE)
        _check_lengths(changes, ORDER_LENGTHS, self.enforce_lengths, "InvoiceOrder")
        existing.update(changes)
        existing["DateChanged"] = self._now()
        return _deep(_public(existing))

    def op_GetOrderSyncList(self, params, session, store):
        sync = params.get("syncParams") or {}
        registered = sync.get("RegisteredAfter", MIN_DATETIME)
        changed = sync.get("ChangedAfter", MIN_DATETIME)
        return [
            order["OrderId"]
            for order in store["invoices"]
            if order.get("DateOrdered", MIN_DATETIME) > registered and order.get("DateChanged", MIN_DATETIME) > changed
        ]


# ---------------------------------------------------------------------------------- helpers
def _registered(company):
    """When a customer was registered (one imported long ago has no date: the earliest) [I]."""
    return company.get("DateCreated") or company.get("DateChanged") or datetime(2000, 1, 1)


def _store(client):
    """The live data of ``client``: copies of its lists and the next ids to assign."""
    store = {
        "client": client,
        "departments": [dict(item) for item in client.departments],
        "categories": [dict(item) for item in client.categories],
        "products": [dict(item) for item in client.products],
        "companies": [_deep(item) for item in client.companies],
        "invoices": [_deep(item) for item in client.invoices],
        "projects": [dict(item) for item in client.projects],
        "tax_codes": [
            {"TaxId": tax_id, "TaxNo": str(no), "TaxName": name, "TaxRate": Decimal(rate), "AccountNo": account}
            for tax_id, no, name, rate, account in TAX_CODES
        ],
    }
    store["next_product"] = max([p["Id"] for p in store["products"]] + [PRODUCT_ID_START - 1]) + 1
    store["next_company"] = max([c["Id"] for c in store["companies"]] + [COMPANY_ID_START - 1]) + 1
    store["next_order"] = max([o["OrderId"] for o in store["invoices"]] + [ORDER_ID_START - 1]) + 1
    invoice_ids = [o["InvoiceId"] for o in store["invoices"] if o.get("InvoiceId")]
    store["next_invoice"] = max(invoice_ids + [INVOICE_ID_START - 1]) + 1
    store["next_category"] = max([c["Id"] for c in store["categories"]] + [0]) + 1
    return store


NEXT_ID = {"products": "next_product", "companies": "next_company", "invoices": "next_order"}


def _upsert(store, collection, key, existing, record):
    """``existing`` replaced by ``record``, or ``record`` added to ``store[collection]`` with the
    next id in ``key`` (unless it brings its own); the stored record."""
    if existing is not None:
        existing.clear()
        existing.update(record)
        return existing
    counter = NEXT_ID[collection]
    record.setdefault(key, store[counter])
    store[counter] = max(store[counter], record[key]) + 1
    store[collection].append(record)
    return record


def _deep(value):
    if isinstance(value, dict):
        return {key: _deep(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep(item) for item in value]
    return value


def _user(login):
    return {"ContactId": login.contact_id, "Id": login.user_id, "Name": login.name, "EmployeeId": login.employee_id}


def _reference(order):
    return order.get("ReferenceNumber") or order.get("InvoiceTitle") or ""


def _digits(value):
    return "".join(ch for ch in value or "" if ch.isdigit())


def _emails(company):
    return {(entry or {}).get("Value", "").lower() for entry in (company.get("EmailAddresses") or {}).values()}


def _phones(company):
    return {(entry or {}).get("Value", "") for entry in (company.get("PhoneNumbers") or {}).values()}


def _totals(rows, include_vat):
    """(total incl. VAT, VAT) of ``rows``, row by row [I]: each row's amount (price x quantity less
    the discount percentage) and its VAT at the row's rate are rounded to the cent, then added."""
    total = vat = Decimal(0)
    for row in rows:
        if row.get("Type", "Normal") != "Normal":
            continue
        amount = row.get("Price", Decimal(0)) * row.get("Quantity", Decimal(1))
        amount = _money(amount * (1 - row.get("DiscountRate", Decimal(0)) / 100))
        rate = row.get("VatRate", Decimal(0)) / 100
        if include_vat:
            row_vat = _money(amount - amount / (1 + rate))
            total += amount
        else:
            row_vat = _money(amount * rate)
            total += amount + row_vat
        vat += row_vat
    return _money(total), _money(vat)


def _api_exception_first(body):
    root = etree.fromstring(body)
    for exception in root.iter(f"{{{NAMESPACE}}}APIException"):
        parent = exception.getparent()
        parent.remove(exception)
        parent.insert(0, exception)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


__all__ = [
    "BLOCKED_IDENTITY_MESSAGE",
    "IDENTITY_SESSION_MESSAGE",
    "LOGIN_THROTTLED_MESSAGE",
    "NAMESPACE",
    "ORDER_LOCKED_MESSAGE",
    "SEARCH_PARAMETER_MESSAGE",
    "SERVICE_PATHS",
    "SESSION_MESSAGE",
    "SKIP_REASON",
    "TOO_MANY_IDS_MESSAGE",
    "UNKNOWN_APPLICATION_MESSAGE",
    "UNKNOWN_IDENTITY_MESSAGE",
    "WSDL_DIR",
    "FakeTwentyFour",
    "main",
    "wsdls_available",
]


# ----------------------------------------------------------------------------------- sandbox
def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a fake 24SevenOffice (SOAP web services) until Ctrl-C.")
    parser.add_argument("--seed", type=int, default=1, help="the world's seed (same seed, same world)")
    parser.add_argument("--products", type=int, default=60, help="numbered products of the main client")
    parser.add_argument("--companies", type=int, default=40, help="customers of the main client")
    parser.add_argument("--request-limit", type=int, default=FakeTwentyFour.request_limit, help="calls an hour")
    parser.add_argument("--wsdl-dir", help=f"folder of the six WSDLs (default {WSDL_DIR})")
    parser.add_argument("--port", type=int, default=8073, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    seed = args.seed
    world = generate_world(seed=seed, products=args.products, companies=args.companies)
    fake = FakeTwentyFour(
        host=args.host, port=args.port, world=world, wsdl_dir=args.wsdl_dir, request_limit=args.request_limit
    )
    fake.start()
    lines = [f"Fake 24SevenOffice (seed {seed!r}) at {fake.url}", f"  ApplicationId: {world.application_id}"]
    for service in SERVICE_PATHS:
        lines.append(f"  {service + ':':16}{fake.wsdl_url(service)}")
    for login in world.logins:
        lines.append(f"  login {login.username} / {login.password}")
        for identity in login.identities:
            client = world.clients[identity.client_id]
            flags = " (default)" if identity.is_default else ""
            flags += " (blocked)" if identity.blocked else ""
            lines.append(f"      identity {identity.id}: client {client.id} {client.name}{flags}")
    main_client = world.main
    lines.append(
        f"  main client {main_client.id}: {len(main_client.products)} products (ambiguous numbers "
        f"{', '.join(world.ambiguous_numbers) or 'none'}), {len(main_client.companies)} customers, "
        f"departments {', '.join(str(d['Id']) for d in main_client.departments)}"
    )
    serve_until_interrupted(fake, "\n".join(lines))


if __name__ == "__main__":
    main()
