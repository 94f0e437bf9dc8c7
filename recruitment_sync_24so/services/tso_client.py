"""The 24SevenOffice SOAP client: the only code of the addon that talks to 24SevenOffice.

``TsoClient`` owns, for one login (application id, user name, password, identity):

* the WSDLs, loaded once per process from the integration's base URL (24SevenOffice's own
  servers in production, the fake in tests) and parsed by zeep; every service is bound to
  ``<base URL>/<service path>`` whatever address the WSDL names;
* the session: ``Login`` once, the ``ASP.NET_SessionId`` cookie on every call to every
  service, the session kept for the process and checked with ``HasSession`` before it is
  re-used, a new ``Login`` once when 24SevenOffice says the session has expired;
* the request limit (7,200 an hour, the core's rate limiter) and what 24SevenOffice answers
  when it is exceeded ("Limit exceeded ... Quarantine ends at ...");
* timeouts (through the zeep transport) and the mapping of every failure to the core's
  ``RetryableError`` / ``AuthError`` / ``PermanentError``, with messages a user can act on;
* logging without secrets (the password is in the Login envelope: never logged).

No ORM here (testable without a database); the contract's facts tagged [I] are constants.
"""

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests
from dateutil import parser as date_parser
from lxml.etree import XMLSyntaxError
from zeep import Client, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsdl import Document

from odoo.addons.recruitment_sync.services.http_client import (
    RETRYABLE_STATUSES,
    AuthError,
    PermanentError,
    RetryableError,
    mask,
    parse_retry_after,
)
from odoo.addons.recruitment_sync.services.rate_limit import RateLimitWaitTooLong

_logger = logging.getLogger(__name__)

PRODUCTION_URL = "https://api.24sevenoffice.com"
NAMESPACE = "http://24sevenOffice.com/webservices"
# service: (path under the base URL, SOAP 1.1 binding)
SERVICES = {
    "auth": ("authenticate/v001/authenticate.asmx", "AuthenticateSoap"),
    "client": ("Client/V001/ClientService.asmx", "ClientServiceSoap"),
    "company": ("CRM/Company/V001/CompanyService.asmx", "CompanyServiceSoap"),
    "invoice": ("Economy/InvoiceOrder/V001/InvoiceService.asmx", "InvoiceServiceSoap"),
    "product": ("Logistics/Product/V001/ProductService.asmx", "ProductServiceSoap"),
    "account": ("Economy/Account/V004/Accountservice.asmx", "AccountServiceSoap"),
}
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
# 7,200 requests an hour [V S9]; the short-term throttle is not published [I]: a burst window.
RATE_WINDOWS = ((7200, 3600), (20, 1))
DEFAULT_TIMEOUT = 60  # seconds per call
WSDL_TIMEOUT = 60
# A session kept by this process is checked with HasSession before re-use when it has not
# been used for this long (its lifetime is not documented [I]).
SESSION_RECHECK_SECONDS = 300
# How long a call may wait for the request limit before the run is paused instead.
MAX_RATE_WAIT = 60
READ_RETRIES = 2  # transient failures of read-only calls are retried this many times
READ_BACKOFF = 2.0
# HTTP 429 (the short-term throttle [I]): the call was not processed, so even a save is sent
# again, after these waits (seconds); then the run pauses this long.
THROTTLE_BACKOFF = (2.0, 5.0, 15.0)
THROTTLE_PAUSE = 60

SESSION_FAULTS = ("session is not authenticated", "client is not authenticated on this identity", "not authenticated")
LIMIT_FAULT = "limit exceeded"
BLOCKED_IDENTITY_FAULT = "identityid is blocked"
# The request was refused before anything was done (the XML did not match the schema).
INVALID_REQUEST_FAULT = "instance validation error"
SAVES = frozenset({"SaveInvoices", "SaveProducts", "SaveCompanies"})
QUARANTINE = re.compile(r"quarantine ends at\s*(?P<when>.+?)\s*\.?\s*$", re.I | re.S)
# Operations that change nothing in 24SevenOffice: retried on a transient failure.
READ_ONLY = frozenset(
    {
        "HasSession",
        "GetIdentity",
        "GetIdentities",
        "GetDepartmentList",
        "GetProducts",
        "GetCategories",
        "GetCompanies",
        "GetCompanySyncList",
        "GetInvoices",
        "GetTaxCodeList",
    }
)


class LoginError(AuthError):
    """This login cannot be used: wrong user name or password, or an identity it cannot reach."""


class SessionExpired(AuthError):
    """24SevenOffice no longer knows the session (log in again)."""


def remote_message(text):
    """The useful part of an ASMX fault string (what follows the last ``--->``)."""
    text = (text or "").strip()
    if "--->" in text:
        text = text.rsplit("--->", 1)[1].strip()
    return text


def quarantine_seconds(message, now=None):
    """Seconds until the quarantine named in a "Limit exceeded" message ends (None: unknown)."""
    match = QUARANTINE.search(message or "")
    now = now or datetime.now(UTC)
    if match:
        try:
            when = date_parser.parse(match.group("when"), fuzzy=True)
        except (ValueError, OverflowError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)  # 24SevenOffice answers in UTC [V S9]
            return max(1.0, (when - now).total_seconds())
    return None


def items(value, name):
    """The list of ``name`` items in a serialized array wrapper (absent, empty, one or many)."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return [item for item in value if item is not None]
    return [value]


class SessionStore:
    """Sessions kept by this process, per login: re-used across batches and runs."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions = {}

    def get(self, key):
        with self._lock:
            return self._sessions.get(key)

    def put(self, key, session_id, checked_at, identity):
        with self._lock:
            self._sessions[key] = (session_id, checked_at, identity)

    def drop(self, key, session_id=None):
        with self._lock:
            current = self._sessions.get(key)
            if current and (session_id is None or current[0] == session_id):
                del self._sessions[key]

    def drop_prefix(self, prefix):
        """Forget every session of a login (``session_key`` given to the clients)."""
        with self._lock:
            for key in [key for key in self._sessions if key[0] == prefix]:
                del self._sessions[key]

    def clear(self):
        with self._lock:
            self._sessions.clear()


SESSIONS = SessionStore()

_DOCUMENTS = {}
_DOCUMENTS_LOCK = threading.Lock()


def _settings():
    # Lenient parsing: 24SevenOffice puts APIException first although the WSDL puts it last.
    return Settings(strict=False, xml_huge_tree=True, xsd_ignore_sequence_order=True)


def wsdl_document(url, timeout=WSDL_TIMEOUT):
    """The parsed WSDL at ``url``, loaded once per process (the in-memory WSDL cache)."""
    with _DOCUMENTS_LOCK:
        document = _DOCUMENTS.get(url)
    if document is not None:
        return document
    transport = Transport(timeout=timeout, operation_timeout=timeout)
    try:
        document = Document(url, transport, settings=_settings())
    except requests.RequestException as error:
        raise RetryableError(f"24SevenOffice's service description could not be loaded from {url}: {error}") from error
    except (ZeepError, XMLSyntaxError) as error:
        raise PermanentError(f"The service description at {url} is not a 24SevenOffice WSDL: {error}") from error
    finally:
        transport.session.close()
    with _DOCUMENTS_LOCK:
        return _DOCUMENTS.setdefault(url, document)


def forget_wsdl_documents():
    """Drop the parsed WSDLs (tests that serve another version)."""
    with _DOCUMENTS_LOCK:
        _DOCUMENTS.clear()


class _Transport(Transport):
    """zeep's transport without envelope logging (the Login envelope holds the password).

    Answers 429/5xx without a SOAP fault become ``RetryableError`` with their Retry-After; a
    5xx page may come after 24SevenOffice did the work (a proxy's page): it is *uncertain*.
    """

    def __init__(self, *args, secrets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.secrets = secrets
        self.logger = _logger

    def post(self, address, message, headers):
        if _logger.isEnabledFor(logging.DEBUG):
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
            _logger.debug("24SevenOffice: POST %s %s", address, mask(text, self.secrets))
        response = self.session.post(address, data=message, headers=headers, timeout=self.operation_timeout)
        is_fault = response.status_code == 500 and b"Fault" in (response.content or b"")[:2000]
        if response.status_code in RETRYABLE_STATUSES and not is_fault:
            if response.status_code == 429:
                message = "24SevenOffice asked to slow down (HTTP 429)"
            else:
                message = f"24SevenOffice answered with an error page (HTTP {response.status_code})"
            error = RetryableError(
                message,
                status=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
            error.uncertain = response.status_code != 429
            raise error
        return response


class TsoClient:
    """One login's connection to 24SevenOffice.

    ``identity_id``: the identity (24SevenOffice client) to use; empty: the login's default.
    ``sessions``: where sessions are kept between clients (the process-wide store by default).
    """

    def __init__(
        self,
        base_url,
        application_id,
        username,
        password,
        identity_id=None,
        *,
        rate_limiter=None,
        timeout=None,
        sessions=SESSIONS,
        session_key=None,
        max_rate_wait=MAX_RATE_WAIT,
        sleep=time.sleep,
        clock=time.monotonic,
    ):
        self.base_url = (base_url or PRODUCTION_URL).rstrip("/")
        self.application_id = (application_id or "").strip()
        self.username = (username or "").strip()
        self.password = password or ""
        self.identity_id = (identity_id or "").strip() or None
        self.rate_limiter = rate_limiter
        self.max_rate_wait = max_rate_wait
        self.sessions = sessions
        self.sleep = sleep
        self.clock = clock
        fingerprint = hashlib.sha256(
            "\x00".join(
                [self.base_url, self.application_id, self.username, self.password, self.identity_id or ""]
            ).encode()
        ).hexdigest()
        self.session_key = (session_key, fingerprint)
        self.transport = _Transport(
            timeout=WSDL_TIMEOUT,
            operation_timeout=timeout or DEFAULT_TIMEOUT,
            secrets=[self.password, self.application_id],
        )
        self.calls = Counter()  # operation name -> calls sent (statistics: tests, benchmarks)
        self.identity = None  # the identity the session works in, after login
        self._services = {}
        self._session_id = None

    # ------------------------------------------------------------------------ plumbing
    def close(self):
        self.transport.session.close()

    def _service(self, name):
        service = self._services.get(name)
        if service is None:
            path, binding = SERVICES[name]
            address = f"{self.base_url}/{path}"
            client = Client(wsdl_document(f"{address}?wsdl"), transport=self.transport, settings=_settings())
            service = self._services[name] = client.create_service(f"{{{NAMESPACE}}}{binding}", address)
        return service

    def _set_session(self, session_id):
        self._session_id = session_id
        if session_id:
            self.transport.session.headers["Cookie"] = f"ASP.NET_SessionId={session_id}"
        else:
            self.transport.session.headers.pop("Cookie", None)

    @contextlib.contextmanager
    def _request_slot(self):
        """A call allowed by the request limit (the core's limiter), or a RetryableError that
        pauses the run when the wait would be long (the hourly quota used up)."""
        with contextlib.ExitStack() as stack:
            if self.rate_limiter is not None:
                try:
                    stack.enter_context(self.rate_limiter.acquire(max_wait=self.max_rate_wait))
                except RateLimitWaitTooLong as error:
                    raise RetryableError(
                        f"The 24SevenOffice request limit is used up ({error.reason}); the export goes on in "
                        f"{error.seconds:.0f} seconds.",
                        retry_after=error.seconds,
                    ) from error
            yield

    def _send(self, service, operation, params):
        """One SOAP call, no session handling: the answer as plain Python data."""
        self.calls[operation] += 1
        method = getattr(self._service(service), operation)
        try:
            with self._request_slot():
                answer = method(**params)
        except Fault as fault:
            raise self._map_fault(operation, fault) from fault
        except requests.Timeout as error:
            raise self._uncertain(operation, "did not answer in time") from error
        except requests.ConnectionError as error:
            raise self._uncertain(operation, "could not be reached or dropped the connection") from error
        except TransportError as error:
            status = error.status_code
            if status in RETRYABLE_STATUSES or not status:
                raise self._uncertain(operation, f"answered HTTP {status}") from error
            raise PermanentError(f"24SevenOffice refused {operation} (HTTP {status}).", status=status) from error
        except (XMLSyntaxError, ZeepError) as error:
            raise self._uncertain(operation, f"gave an answer that could not be read ({error})") from error
        return serialize_object(answer, target_cls=dict)

    def _uncertain(self, operation, what):
        error = RetryableError(f"24SevenOffice {what} ({operation})")
        # Whether 24SevenOffice did the work is unknown: a save is searched for before it is sent again.
        error.uncertain = True
        return error

    def _map_fault(self, operation, fault):
        message = remote_message(fault.message)
        lowered = message.lower()
        if LIMIT_FAULT in lowered:
            seconds = quarantine_seconds(message)
            if seconds is None:  # the next hour, when the hourly quota is renewed [I]
                now = datetime.now(UTC)
                seconds = ((now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0) - now).total_seconds()
            if self.rate_limiter is not None:
                self.rate_limiter.pause_until(self.rate_limiter.clock() + seconds)
            return RetryableError(
                f"24SevenOffice's request limit is exceeded ({message}); the export goes on when it is lifted.",
                retry_after=seconds,
                remote_message=message,
            )
        if BLOCKED_IDENTITY_FAULT in lowered:
            return LoginError(
                f"24SevenOffice does not let {self.username} use the chosen identity: {message}",
                remote_message=message,
            )
        if operation not in ("Login", "HasSession") and any(text in lowered for text in SESSION_FAULTS):
            return SessionExpired(f"24SevenOffice ended the session: {message}", remote_message=message)
        if operation == "Login":
            return LoginError(f"24SevenOffice refused the login of {self.username}: {message}", remote_message=message)
        if operation in SAVES and INVALID_REQUEST_FAULT not in lowered:
            # A fault may come after 24SevenOffice saved (a database timeout at the end of the call):
            # whether it did is unknown, so the save is searched for before it is sent again.
            error = RetryableError(f"24SevenOffice answered {operation} with an error: {message}")
            error.uncertain = True
            error.remote_message = message
            return error
        return PermanentError(f"24SevenOffice refused {operation}: {message}", remote_message=message)

    def call(self, service, operation, **params):
        """Call ``operation`` in the session (logging in when needed, once more if it expired)."""
        self.ensure_session()
        attempt = 0
        throttled = 0
        relogged = False
        while True:
            try:
                return self._send(service, operation, params)
            except SessionExpired as error:
                if relogged:
                    raise RetryableError(
                        f"24SevenOffice ended the new session of {self.username} at once ({error.remote_message}); "
                        "the export stops here."
                    ) from error
                relogged = True
                self.sessions.drop(self.session_key, self._session_id)
                self.login()
            except RetryableError as error:
                if error.status == 429:
                    # Not processed: any call may be sent again after a wait; a long one pauses the run.
                    wait = error.retry_after if error.retry_after is not None else None
                    if throttled < len(THROTTLE_BACKOFF) and (wait is None or wait <= self.max_rate_wait):
                        self.sleep(wait if wait is not None else THROTTLE_BACKOFF[throttled])
                        throttled += 1
                        continue
                    pause = max(wait or 0, THROTTLE_PAUSE)
                    raise RetryableError(
                        f"24SevenOffice kept asking to slow down (HTTP 429 on {operation}); the export pauses and "
                        f"goes on in {pause:.0f} seconds.",
                        status=429,
                        retry_after=pause,
                    ) from error
                if operation not in READ_ONLY or attempt >= READ_RETRIES or (error.retry_after or 0) > 0:
                    raise
                attempt += 1
                self.sleep(READ_BACKOFF * attempt)

    # ------------------------------------------------------------------------ session
    def login(self):
        """Log in: a new session, checked to work in the chosen identity. Raises LoginError."""
        if not self.username or not self.password:
            raise LoginError("The user name and the password of the 24SevenOffice login are required.")
        if not self.application_id:
            raise LoginError("The 24SevenOffice application id of this integration is missing.")
        self._set_session(None)
        credential = {
            "ApplicationId": self.application_id,
            "IdentityId": self.identity_id or EMPTY_GUID,
            "Username": self.username,
            "Password": self.password,
        }
        session_id = self._send("auth", "Login", {"credential": credential})
        if not session_id or not str(session_id).strip():
            raise LoginError(f"24SevenOffice refused the user name or password of {self.username}.")
        self._set_session(str(session_id).strip())
        self._check_identity()
        self.sessions.put(self.session_key, self._session_id, self.clock(), self.identity)
        return self._session_id

    def _check_identity(self):
        """The session must work in the chosen identity (or posts go to another client)."""
        identity = self._send("auth", "GetIdentity", {}) or {}
        if self.identity_id and str(identity.get("Id") or "").lower() != self.identity_id.lower():
            switched = self._send("auth", "SetIdentityById", {"identityId": self.identity_id})
            if not switched:
                raise LoginError(
                    f"{self.username} cannot reach the chosen 24SevenOffice identity {self.identity_id}: "
                    "test the login again and choose one of its identities."
                )
            identity = self._send("auth", "GetIdentity", {}) or {}
        if self.identity_id and str(identity.get("Id") or "").lower() != self.identity_id.lower():
            raise LoginError(f"{self.username} cannot reach the chosen 24SevenOffice identity {self.identity_id}.")
        self.identity = identity

    def ensure_session(self, verify=False):
        """A working session: this client's, the process's kept one, or a new login.

        A kept session is checked with HasSession when ``verify`` (an export starts using it)
        or when it has not been checked for a while.
        """
        if self._session_id:
            return self._session_id
        kept = self.sessions.get(self.session_key)
        if kept:
            session_id, checked_at, identity = kept
            self._set_session(session_id)
            self.identity = identity
            if not verify and self.clock() - checked_at < SESSION_RECHECK_SECONDS:
                return session_id
            try:
                alive = self._send("auth", "HasSession", {})
            except (RetryableError, PermanentError):
                alive = False
            if alive:
                self.sessions.put(self.session_key, session_id, self.clock(), identity)
                return session_id
            self.sessions.drop(self.session_key, session_id)
        return self.login()

    def forget_session(self):
        self.sessions.drop(self.session_key)
        self._set_session(None)

    @property
    def client_id(self):
        """The 24SevenOffice client (tenant) the session works in."""
        return ((self.identity or {}).get("Client") or {}).get("Id")

    @property
    def client_name(self):
        return ((self.identity or {}).get("Client") or {}).get("Name")

    # ------------------------------------------------------------------------ operations
    def identities(self):
        """The identities (clients) the login reaches, after logging in."""
        self.ensure_session()
        return items(self.call("auth", "GetIdentities"), "Identity")

    def departments(self):
        return items(self.call("client", "GetDepartmentList"), "Department")

    def get_products(self, search, properties):
        return items(
            self.call("product", "GetProducts", searchParams=search, returnProperties={"string": list(properties)}),
            "Product",
        )

    def save_products(self, products):
        return items(self.call("product", "SaveProducts", products={"Product": products}), "Product")

    def get_companies(self, search, properties):
        return items(
            self.call("company", "GetCompanies", searchParams=search, returnProperties={"string": list(properties)}),
            "Company",
        )

    def company_sync_page(self, page):
        """One page (up to 1,000) of every customer of the client, active or not: {CurrentPage,
        TotalPages, TotalItems, Items: [{CompanyId, ExternalId, ...}]} (GetCompanySyncList)."""
        answer = self.call("company", "GetCompanySyncList", syncSearchParameters={"Page": page, "Active": None})
        answer = answer or {}
        return {**answer, "Items": items(answer.get("Items"), "SyncCompany")}

    def get_categories(self, properties):
        return items(self.call("product", "GetCategories", returnProperties={"string": list(properties)}), "Category")

    def save_companies(self, companies):
        return items(self.call("company", "SaveCompanies", companies={"Company": companies}), "Company")

    def save_invoices(self, invoices):
        return items(self.call("invoice", "SaveInvoices", invoices={"InvoiceOrder": invoices}), "InvoiceOrder")

    def tax_codes(self):
        """The client's VAT codes (AccountService.GetTaxCodeList): TaxId, TaxNo, TaxName, TaxRate, AccountNo."""
        return items(self.call("account", "GetTaxCodeList"), "TaxCodeElement")

    def get_invoices(self, search, properties, row_properties=("RowId",)):
        return items(
            self.call(
                "invoice",
                "GetInvoices",
                searchParams=search,
                invoiceReturnProperties={"string": list(properties)},
                rowReturnProperties={"string": list(row_properties)},
            ),
            "InvoiceOrder",
        )
