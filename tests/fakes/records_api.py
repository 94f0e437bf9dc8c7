"""The generic *test provider*: a remote system with records behind OAuth2, and its faults.

The core sync framework's tests use ``FakeRecordsApi`` as "some remote system": a paginated,
incrementally fetchable list of records (like JobAdder's ``/candidates?updatedAt=…`` or Xero's
``If-Modified-Since`` listings), protected by the bearer tokens of ``FakeOAuth2Server``, that
also misbehaves on demand (rate limits, outages, HTML error pages, broken JSON, slowness).

Routes (besides the OAuth2 ones under ``/oauth``):

* ``GET /api/v1/records?updated_since=<ISO 8601 UTC>&limit=<1..100>&offset=<n>``
* ``GET /api/v1/records?ids=<id>,<id>``: those records (whatever their ``updated_at``)
* ``GET /api/v1/records/count?updated_since=…``
* ``GET /api/v1/me``
"""

import json
import random
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from .oauth2 import FakeOAuth2Server
from .service import RecordedRequest, int_in_range, take_queued

UTC = timezone.utc
DEFAULT_START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p></body></html>\n"
)
MALFORMED_JSON = '{"items": [{"id": "R00001", "name": "Zo'

FIRST_NAMES = (
    "Zoë",
    "José",
    "Søren",
    "Małgorzata",
    "François",
    "Siobhán",
    "Łukasz",
    "Chloé",
    "Björn",
    "Aoife",
    "Mohammed",
    "Priya",
    "Emma",
    "Oliver",
    "Noémie",
    "Jürgen",
    "Ana",
    "Tomás",
    "Yuki",
    "Olivia",
)
LAST_NAMES = (
    "Ångström",
    "García Márquez",
    "Kierkegaard",
    "Wiśniewska",
    "Lefèvre",
    "O'Brien",
    "Dvořák",
    "Müller",
    "Nguyễn",
    "Smith",
    "Patel",
    "van der Berg",
    "Çelik",
    "Jones",
    "Brontë",
    "Takahashi",
    "Fernández",
    "Ní Bhriain",
    "Johansson",
    "Williams",
)
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
_NOT_DECOMPOSED = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d"})
BAD_KINDS = ("missing_name", "name_not_string", "updated_at_not_date", "missing_id")


def format_timestamp(when):
    """``2026-11-20T10:15:00Z``: how the API writes times (UTC, whole seconds)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value):
    """An ISO 8601 time with a zone designator (``Z`` or ``±hh:mm``) as an aware UTC datetime."""
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("no time zone")
    return when.astimezone(UTC)


def _email_of(name, domain):
    ascii_name = (
        unicodedata.normalize("NFKD", name.translate(_NOT_DECOMPOSED)).encode("ascii", "ignore").decode("ascii")
    )
    local = ".".join(part for part in ascii_name.lower().replace("'", "").split())
    return f"{local}@{domain}"


@dataclass
class StoredRecord:
    """A record as the remote database holds it; ``payload`` is what the API serializes.

    ``key`` and ``updated_at`` are the database's own values (ordering, filtering) even when the
    payload of a malformed record lacks or garbles them.
    """

    key: str
    updated_at: datetime
    payload: dict
    bad: str = None


@dataclass
class Fault:
    status: int = None
    times: int = 1
    retry_after: object = None
    body: object = None
    content_type: str = None
    delay: float = None
    path_prefix: str = "/api"


class FaultInjectionMixin:
    """Queued faults served instead of (or, for a bare delay, before) the next matching answers.

    Mix it in before a ``FakeService`` subclass. Faults apply in the order they were queued,
    each to the next ``times`` requests whose path starts with its ``path_prefix``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._faults = []
        self._faults_lock = threading.Lock()
        self._stopping = threading.Event()

    def inject(
        self,
        status=None,
        times=1,
        retry_after=None,
        body=None,
        content_type=None,
        delay=None,
        path_prefix="/api",
    ):
        """Queue a fault for the next ``times`` requests under ``path_prefix``.

        * ``status``: answer with it (e.g. 429, 500, 503); ``None``: 200 when ``body`` is given,
          else the normal answer after ``delay``.
        * ``retry_after``: a ``Retry-After`` header (seconds or an HTTP date), as rate limiters
          and maintenance pages send.
        * ``body``: a dict/list (sent as JSON), or str/bytes sent verbatim with ``content_type``
          (e.g. ``HTML_ERROR_PAGE`` with ``text/html``, ``MALFORMED_JSON`` with
          ``application/json``); default: a JSON error object for statuses >= 400.
        * ``delay``: seconds to wait before answering, to provoke client timeouts.
        """
        if status is None and body is None and delay is None:
            raise ValueError("a fault needs a status, a body or a delay")
        if times < 1:
            raise ValueError("times must be >= 1")
        fault = Fault(status, times, retry_after, body, content_type, delay, path_prefix)
        with self._faults_lock:
            self._faults.append(fault)
        return fault

    @property
    def pending_faults(self):
        with self._faults_lock:
            return sum(fault.times for fault in self._faults)

    def clear_faults(self):
        with self._faults_lock:
            self._faults.clear()

    def stop(self):
        self._stopping.set()  # wakes the handlers sleeping in a delay fault
        try:
            super().stop()
        finally:
            self._stopping.clear()

    def _take_fault(self, path):
        return take_queued(self._faults, self._faults_lock, path)

    def wsgi_app(self, environ, start_response):
        fault = self._take_fault(environ.get("PATH_INFO", ""))
        if fault is None:
            return super().wsgi_app(environ, start_response)
        if fault.delay:
            self._stopping.wait(fault.delay)
        if fault.status is None and fault.body is None:
            return super().wsgi_app(environ, start_response)
        self._record(Request(environ))
        return self._fault_response(fault)(environ, start_response)

    def _record(self, request):
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            args=request.args.to_dict(),
            headers=dict(request.headers),
            body=request.get_data(),
        )
        with self._lock:
            self.requests.append(recorded)

    @staticmethod
    def _fault_response(fault):
        status = fault.status or 200
        body, content_type = fault.body, fault.content_type
        if body is None:
            if status == 429:
                body = {"error": "rate_limited", "message": "Too many requests, slow down."}
            elif status >= 400:
                body = {"error": "server_error", "message": f"Injected fault {status}."}
            else:
                body = b""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        return Response(body, status=status, headers=headers, content_type=content_type or "text/plain")


class FakeRecordsApi(FaultInjectionMixin, FakeOAuth2Server):
    """A remote system with records: OAuth2-protected, incremental, paginated, fallible."""

    service_name = "Fake Records"
    account_name = "Fake Agency Ltd"
    user_name = "Alex Admin"
    default_limit = 50
    max_limit = 100
    _settings = (*FakeOAuth2Server._settings, "account_name", "default_limit", "max_limit")

    rules = (
        ("/api/v1/records", "records", ["GET"]),
        ("/api/v1/records/count", "records_count", ["GET"]),
        ("/api/v1/me", "me", ["GET"]),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._records = {}
        self._next_number = 1

    # -- data ----------------------------------------------------------------------------
    def _now(self):
        return datetime.fromtimestamp(int(self.clock()), UTC)

    def _new_key(self):
        key = f"R{self._next_number:05d}"
        self._next_number += 1
        return key

    def add(self, name, email=None, *, updated_at=None, record_id=None, **fields):
        """Add one well-formed record (``updated_at`` default: the clock's now); its payload."""
        with self._tokens_lock:
            key = record_id or self._new_key()
            when = (updated_at or self._now()).astimezone(UTC).replace(microsecond=0)
            payload = {
                "id": key,
                "name": name,
                "email": email,
                "updated_at": format_timestamp(when),
                **fields,
            }
            self._records[key] = StoredRecord(key=key, updated_at=when, payload=payload)
            return dict(payload)

    def seed(self, n, *, bad=0, seed=0, start=DEFAULT_START):
        """Create ``n`` deterministic records from ``start`` on; ``bad`` of them malformed.

        Names are drawn from unicode-rich lists (the first is always "Zoë Ångström"), about one
        in eight has no email, timestamps advance by 0 (ties, ordered by id) to 60 minutes. The
        malformed ones are spread evenly and cycle through ``BAD_KINDS``. Returns the keys.
        """
        if not 0 <= bad <= n:
            raise ValueError("bad must be between 0 and n")
        rng = random.Random(seed)
        bad_positions = {int((index + 0.5) * n / bad): BAD_KINDS[index % 4] for index in range(bad)}
        when = start.astimezone(UTC).replace(microsecond=0)
        keys = []
        with self._tokens_lock:
            for position in range(n):
                if position == 0:
                    name = "Zoë Ångström"
                else:
                    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    when += timedelta(seconds=rng.choice((0, 60, 60, 300, 900, 3600)))
                email = None if rng.random() < 0.125 else _email_of(name, rng.choice(EMAIL_DOMAINS))
                record = self.add(name, email, updated_at=when)
                stored = self._records[record["id"]]
                kind = bad_positions.get(position)
                if kind:
                    self._make_bad(stored, kind, rng)
                keys.append(stored.key)
        return keys

    @staticmethod
    def _make_bad(stored, kind, rng):
        stored.bad = kind
        payload = stored.payload
        if kind == "missing_name":
            del payload["name"]
        elif kind == "name_not_string":
            payload["name"] = rng.choice((12345, ["Zoë", "Ångström"], {"first": "Zoë"}))
        elif kind == "updated_at_not_date":
            payload["updated_at"] = rng.choice(("yesterday", "2026-13-45T99:00:00Z", "20/11/2026"))
        elif kind == "missing_id":
            del payload["id"]

    def touch(self, ids, when=None):
        """Set the records' ``updated_at`` (default: the clock's now), as an edit in the remote UI."""
        if isinstance(ids, str):
            ids = [ids]
        when = (when or self._now()).astimezone(UTC).replace(microsecond=0)
        with self._tokens_lock:
            for key in ids:
                stored = self._records[key]
                stored.updated_at = when
                if stored.bad != "updated_at_not_date":
                    stored.payload["updated_at"] = format_timestamp(when)

    def reset_records(self):
        """Forget every record (a test class shares one fake; each test seeds its own data)."""
        with self._tokens_lock:
            self._records.clear()

    def edit(self, key, when=None, **fields):
        """Change a record's fields and its ``updated_at``, as an edit in the remote UI."""
        with self._tokens_lock:
            self._records[key].payload.update(fields)
        self.touch([key], when)

    def get(self, key):
        with self._tokens_lock:
            return dict(self._records[key].payload)

    @property
    def records(self):
        """Every payload in API order."""
        with self._tokens_lock:
            return [dict(stored.payload) for stored in self._ordered()]

    @property
    def bad_ids(self):
        """The keys of malformed records (their payload may lack its ``id``)."""
        with self._tokens_lock:
            return [stored.key for stored in self._ordered() if stored.bad]

    def _ordered(self, updated_since=None):
        selected = (
            stored for stored in self._records.values() if updated_since is None or stored.updated_at >= updated_since
        )
        return sorted(selected, key=lambda stored: (stored.updated_at, stored.key))

    # -- routes --------------------------------------------------------------------------
    def _bad_request(self, message):
        return self.json_response({"error": "invalid_request", "message": message}, status=400)

    def _int_arg(self, request, name, default, low, high):
        raw = request.args.get(name)
        if raw is None:
            return default
        value = int_in_range(raw, low, high)
        if value is None:
            raise ValueError(f"{name} must be an integer between {low} and {high}")
        return value

    def _query(self, request):
        """(updated_since, limit, offset) of the request; ValueError with a message if invalid."""
        raw = request.args.get("updated_since")
        updated_since = None
        if raw is not None:
            try:
                updated_since = parse_timestamp(raw)
            except ValueError as error:
                raise ValueError(f"updated_since must be ISO 8601 with a time zone: {raw!r}") from error
        limit = self._int_arg(request, "limit", self.default_limit, 1, self.max_limit)
        offset = self._int_arg(request, "offset", 0, 0, 10**9)
        return updated_since, limit, offset

    def on_records(self, request):
        """A page of records changed since ``updated_since`` (inclusive), oldest first.

        Offset pagination with a ``total`` and an absolute ``links.next`` like most REST APIs
        (JobAdder's ``links.next``, HAL); records edited while paging move, as they do there.
        """
        self.authenticate(request)
        try:
            updated_since, limit, offset = self._query(request)
        except ValueError as error:
            return self._bad_request(str(error))
        ids = {key for key in request.args.get("ids", "").split(",") if key}
        with self._tokens_lock:
            selected = self._ordered(updated_since)
            if ids:
                selected = [stored for stored in selected if stored.key in ids]
            page = [dict(stored.payload) for stored in selected[offset : offset + limit]]
        links = {}
        if offset + limit < len(selected):
            params = dict(request.args.items())
            params.update(limit=str(limit), offset=str(offset + limit))
            links["next"] = f"{request.host_url.rstrip('/')}{request.path}?{urlencode(params)}"
        return self.json_response({"items": page, "total": len(selected), "links": links})

    def on_records_count(self, request):
        """How many records changed since ``updated_since``, for progress bars and estimates."""
        self.authenticate(request)
        try:
            updated_since, _limit, _offset = self._query(request)
        except ValueError as error:
            return self._bad_request(str(error))
        with self._tokens_lock:
            return self.json_response({"count": len(self._ordered(updated_since))})

    def on_me(self, request):
        """Who the token belongs to, as the "Test connection" button asks."""
        self.authenticate(request)
        return self.json_response({"account": self.account_name, "user": self.user_name})


__all__ = [
    "BAD_KINDS",
    "FakeRecordsApi",
    "FaultInjectionMixin",
    "HTML_ERROR_PAGE",
    "MALFORMED_JSON",
    "format_timestamp",
    "parse_timestamp",
]
