"""A fake of JobAdder's REST API v2 and its identity server, over loopback HTTP.

Speaks the protocol of ``shared/contracts/jobadder.md`` (section numbers below refer to it) and
the JSON shapes of JobAdder's OpenAPI definition (``jobadder-openapi-v2.2024-08-30.json``)::

    world = generate_agency(seed=1, placements=200)          # tests/fakes/jobadder_data.py
    with FakeJobAdder(world=world, clock=ManualClock(world.now.timestamp())) as fake:
        token = fake.issue_token("read offline_access")      # as after the browser flow
        requests.get(f"{token['api']}/placements", headers={"Authorization": f"Bearer {…}"})

Identity (§1), at ``/connect``: ``GET|POST /connect/authorize`` (consent page, Accept/Decline),
``POST /connect/token`` (``authorization_code`` and ``refresh_token`` grants, form-encoded,
client credentials in the form), ``POST /connect/revocation`` [inferred: IdentityServer's
path; JobAdder documents none]. Token answers carry ``api`` (this fake's ``/v2`` base),
``instance`` and ``account``; access tokens live 3600 s; a refresh token is issued only with
``offline_access``, rotates on every use and expires after 14 idle days; codes live 5 minutes
and are single-use; ``scope`` is required and checked against JobAdder's scope list.

API (§2-§6), bearer-protected; an operation needs ``read`` or its ``read_<resource>`` scope (403
otherwise):

* ``GET /v2/{placements|candidates|contacts|companies|users}``: ``{items, totalCount, links}``,
  ``offset``/``limit`` (default 100, max 1000, 0 = count only), absolute ``links.first/prev/
  next/last``, id order; the filters of §4 (names matched case-insensitively, arrays as repeated
  keys, enum arrays also as CSV, date filters with inclusive ``>``/``<`` prefixes).
  Placement items are ``PlacementSummaryModel``: no company, contact, owner, recruiters,
  salary, contractRate, rates or chargeCurrency (§4.2).
* ``GET /v2/{resource}/{id}``: the full representation; unknown id: 404 ``ErrorModel``.
* ``GET /v2/{placements|candidates|contacts|companies}/deleted``: the last 14 days, no paging.
* ``GET /v2/{placements|candidates|contacts|companies}/lists/status``; ``GET /v2/users/current``.

Failures: throttling per account (``rate_limit_per_second``/``_per_minute``: 429 with an integer
``Retry-After``, §6), queued faults (``inject``, from ``FaultInjectionMixin``), 400 ``ErrorModel``
for invalid query values [inferred], 401 (missing/expired token), 403 (scope) [inferred bodies].

Test knobs: ``load(world)``, ``touch_placement``, ``update_placement``, ``approve_placement``,
``delete_placement`` (and the generic ``touch``/``delete``), ``add_placement``, ``set_now`` /
``today``, ``set_rate_limit``, ``throttle``, ``route_counts``. Start it alone for the sandbox::

    python3 -m tests.fakes.jobadder --port 8071 --seed 1 --placements 200
"""

import argparse
import math
import threading
from collections import Counter
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .jobadder_data import (
    JOB_STATUS_FILLED,
    OFFICES,
    PLACEMENT_ID_START,
    PLACEMENT_TYPES,
    STATUSES,
    USER_GROUPS,
    Placement,
    generate_agency,
    money,
)
from .oauth2 import FakeOAuth2Server, ManualClock
from .records_api import FaultInjectionMixin
from .service import add_service_arguments, int_in_range, seed_of, serve_until_interrupted, service_options

UTC = timezone.utc
API_PATH = "/v2"
RESOURCES = ("placements", "candidates", "contacts", "companies", "users")
# [spec] security of each operation: ["read", "read_<resource>"], either one grants access.
RESOURCE_SCOPES = {
    "placements": "read_placement",
    "candidates": "read_candidate",
    "contacts": "read_contact",
    "companies": "read_company",
    "users": "read_user",
}
ID_FIELDS = {
    "placements": "placementId",
    "candidates": "candidateId",
    "contacts": "contactId",
    "companies": "companyId",
    "users": "userId",
}
SINGULAR = {
    "placements": "Placement",
    "candidates": "Candidate",
    "contacts": "Contact",
    "companies": "Company",
    "users": "User",
}
# [spec] components.securitySchemes.jobadder_identity: every scope JobAdder knows.
SCOPES = frozenset(
    """read write read_candidate write_candidate manage_candidate_custom read_candidate_note
    write_candidate_note read_company write_company manage_company_custom read_company_note
    write_company_note read_contact write_contact manage_contact_custom read_contact_note
    write_contact_note read_float read_folder write_folder read_interview write_interview read_job
    write_job manage_job_custom read_job_note write_job_note read_jobad write_jobad
    read_jobapplication write_jobapplication manage_jobapplication_custom read_jobapplication_note
    write_jobapplication_note read_note write_note read_opportunity write_opportunity read_placement
    write_placement manage_placement_custom read_placement_note write_placement_note
    read_requisition write_requisition read_requisition_note write_requisition_note write_sms
    read_submission read_user read_usergroup write_usertask read_usertask partner_jobboard
    partner_ui_action offline_access""".split()
)


class _Absent:
    """A missing value of a field whose schema is a $ref'd object or enum (not nullable in OpenAPI
    3.0): left out of the JSON, or sent as null with ``null_objects=True`` (the contract's example
    shows ``"salary": null``). Renderers use it instead of None for such fields."""

    def __repr__(self):
        return "ABSENT"


ABSENT = _Absent()


class QueryError(ValueError):
    """An invalid query parameter: answered 400 with an ``ErrorModel`` naming it."""

    def __init__(self, param, message):
        super().__init__(message)
        self.param = param


# ------------------------------------------------------------------------- query parsing
class Query:
    """The query string with case-insensitive names (§3: ASP.NET binding) and repeated values."""

    def __init__(self, args):
        self.pairs = list(args.items(multi=True))
        self.values = {}
        for key, value in self.pairs:
            self.values.setdefault(key.lower(), []).append(value)

    def all(self, *names):
        """Every value of the parameters ``names`` (aliases), whatever their casing in the request."""
        return [value for name in names for value in self.values.get(name.lower(), ())]

    def last(self, name):
        values = self.values.get(name.lower())
        return values[-1] if values else None

    def integer(self, name, default, low, high):
        raw = self.last(name)
        if raw is None or raw == "":
            return default
        value = int_in_range(raw, low, high)
        if value is None:
            raise QueryError(name, f"The value '{raw}' is not valid for {name}: an integer from {low} to {high}.")
        return value


def parse_filter_datetime(raw, name="updatedAt"):
    """``>2024-06-01T00:00:00`` -> ``(">", aware datetime)``; no zone = UTC, ``Z``/offsets accepted."""
    op, value = _split_operator(raw)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(name, f"The value '{raw}' is not a valid date-time for {name}.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return op, when.astimezone(UTC)


def parse_filter_date(raw, name="startDate"):
    op, value = _split_operator(raw)
    try:
        return op, date.fromisoformat(value)
    except ValueError:
        raise QueryError(name, f"The value '{raw}' is not a valid full-date for {name}.") from None


def _split_operator(raw):
    raw = raw.strip()
    if raw[:1] in (">", "<"):
        return raw[0], raw[1:].strip()
    return "=", raw


def _within(value, bounds, kind):
    if not isinstance(value, kind) or (kind is date and isinstance(value, datetime)):
        return False
    for op, bound in bounds:
        if (op == ">" and value < bound) or (op == "<" and value > bound) or (op == "=" and value != bound):
            return False
    return True


def _ints(name, values):
    out = set()
    for raw in values:
        try:
            out.add(int(raw))
        except ValueError:
            raise QueryError(name, f"The value '{raw}' is not a valid integer for {name}.") from None
    return out


def _bool(name, raw):
    if raw.strip().lower() not in ("true", "false"):
        raise QueryError(name, f"The value '{raw}' is not valid for {name}: true or false.")
    return raw.strip().lower() == "true"


def _enum(name, values, allowed):
    canonical = {value.lower(): value for value in allowed}
    out = set()
    for raw in values:
        for part in raw.split(","):  # repeated keys, or CSV as the 2019 spec had it [inferred]
            if part.strip().lower() not in canonical:
                raise QueryError(name, f"The value '{part}' is not valid for {name}: one of {', '.join(allowed)}.")
            out.add(canonical[part.strip().lower()])
    return out


def make_predicate(kind, name, values, getter):
    """A test on records for one filter: ``getter(record)`` against the parsed ``values``."""
    if kind == "ints":
        wanted = _ints(name, values)
        return lambda record: getter(record) in wanted
    if kind == "ints_any":
        wanted = _ints(name, values)
        return lambda record: not wanted.isdisjoint(getter(record))
    if kind == "text":  # contains, case-insensitive [inferred]
        needle = values[-1].strip().casefold()
        return lambda record: needle in (getter(record) or "").casefold()
    if kind == "exact":
        needle = values[-1].strip().casefold()
        return lambda record: (getter(record) or "").casefold() == needle
    if kind == "bool":
        flag = _bool(name, values[-1])
        return lambda record: bool(getter(record)) == flag
    if kind == "datetime":
        bounds = [parse_filter_datetime(raw, name) for raw in values]
        return lambda record: _within(getter(record), bounds, datetime)
    if kind == "date":
        bounds = [parse_filter_date(raw, name) for raw in values]
        return lambda record: _within(getter(record), bounds, date)
    if isinstance(kind, tuple) and kind[0] == "enum":
        wanted = _enum(name, values, kind[1])
        return lambda record: getter(record) in wanted
    raise ValueError(f"unknown filter kind {kind!r}")


def _full_name(record):
    return f"{record.first_name or ''} {record.last_name or ''}".strip()


# --------------------------------------------------------------------------------- the fake
class FakeJobAdder(FaultInjectionMixin, FakeOAuth2Server):
    """JobAdder's identity server and API v2 (read side) over one generated agency world."""

    service_name = "JobAdder"
    known_scopes = SCOPES
    client_name = "Recruitment Sync"
    path_prefix = "/connect"
    authorize_path = "authorize"
    token_path = "token"
    revoke_path = "revocation"  # [inferred] IdentityServer's default; not documented by JobAdder
    client_id = "fake-jobadder-client-id"
    client_secret = "fake-jobadder-client-secret"
    access_token_lifetime = 3600  # [spec, help]
    refresh_token_idle_lifetime = 14 * 24 * 3600  # [help] expires after 2 weeks unused
    code_lifetime = 300  # [spec, help] 5 minutes, single use
    account = 123456  # [help] present; JSON number [inferred]
    instance = "fake-au1"  # [help] present; JSON string [inferred]
    default_limit = 100  # [spec]
    max_limit = 1000  # [spec]
    deleted_window_days = 14  # [spec] /deleted lists the last 14 days
    rate_limit_per_second = None  # [help] per-account throttling; no numbers are published
    rate_limit_per_minute = None
    rate_limit_retry_after = None  # None: the seconds until the exceeded window resets
    rate_limit_body = b""  # [inferred] the 429 body is undocumented, possibly empty
    # "mixed" [inferred, §3]: placement/candidate/contact/company times (plain .NET DateTime) have
    # no zone; user times and deletedAt (DateTimeOffset) end in +00:00. "utc": all end in Z.
    # "naive": none has a zone.
    datetime_style = "mixed"
    null_objects = False  # see ABSENT
    empty_404_resources = frozenset()  # e.g. {"placements"}: 404 without a body [spec: undocumented]
    approval_bumps_updated_at = False  # [inferred, §5] unverified: approving may not touch updatedAt

    _settings = (
        *FakeOAuth2Server._settings,
        "account",
        "instance",
        "default_limit",
        "max_limit",
        "deleted_window_days",
        "rate_limit_per_second",
        "rate_limit_per_minute",
        "rate_limit_retry_after",
        "rate_limit_body",
        "datetime_style",
        "null_objects",
        "empty_404_resources",
        "approval_bumps_updated_at",
    )

    _RESOURCE = "<any(placements, candidates, contacts, companies, users):resource>"
    _DELETABLE = "<any(placements, candidates, contacts, companies):resource>"
    rules = (
        (f"{API_PATH}/{_RESOURCE}", "list", ["GET"]),
        (f"{API_PATH}/{_RESOURCE}/<int:item_id>", "detail", ["GET"]),
        (f"{API_PATH}/{_DELETABLE}/deleted", "deleted", ["GET"]),
        (f"{API_PATH}/{_DELETABLE}/lists/status", "statuses", ["GET"]),
        (f"{API_PATH}/users/current", "current_user", ["GET"]),
        ("/placements/<int:placement_id>", "web_placement", ["GET"]),
        (f"{API_PATH}/<path:rest>", "unknown", ["GET", "POST", "PUT", "PATCH", "DELETE"]),
    )
    _ROUTE_TEMPLATES = {
        "list": "/v2/{resource}",
        "detail": "/v2/{resource}/{{id}}",
        "deleted": "/v2/{resource}/deleted",
        "statuses": "/v2/{resource}/lists/status",
        "current_user": "/v2/users/current",
        "unknown": "/v2/*",
    }

    def __init__(self, host="127.0.0.1", port=0, *, world=None, clock=None, **settings):
        super().__init__(host=host, port=port, clock=clock, **settings)
        self.empty_404_resources = frozenset(self.empty_404_resources)
        self._data_lock = threading.RLock()
        self._rate_lock = threading.Lock()
        self._rate_windows = {}
        self.route_counts = Counter()
        self.load(world if world is not None else generate_agency())

    # -- addresses -----------------------------------------------------------------------
    @property
    def api_url(self):
        return f"{self.url}{API_PATH}"

    # -- world and clock -----------------------------------------------------------------
    def load(self, world):
        """Serve ``world`` (an ``AgencyWorld``); forgets earlier edits, keeps tokens."""
        with self._data_lock:
            self.world = world
            self._all = {resource: world.by_id(resource) for resource in RESOURCES}
            self._deleted = {resource: dict(world.deleted.get(resource, ())) for resource in RESOURCES}
            self._live = {
                resource: {key: record for key, record in records.items() if key not in self._deleted[resource]}
                for resource, records in self._all.items()
            }
            self._statuses = {
                resource: {status[0]: status for status in statuses} for resource, statuses in STATUSES.items()
            }
            self.current_user_id = world.current_user_id
            current = self._all["users"].get(world.current_user_id)
            if current is not None:
                self.user_name = _full_name(current)

    @property
    def now(self):
        return datetime.fromtimestamp(self.clock(), UTC)

    @property
    def today(self):
        return self.now.date()

    @today.setter
    def today(self, day):
        self.set_now(datetime.combine(day, self.now.timetz()))

    def set_now(self, when):
        """Move the fake's clock (tokens, deleted window, rate limits, default edit times) to ``when``."""
        stamp = when.timestamp()
        if isinstance(self.clock, ManualClock):
            self.clock.now = stamp
        else:
            self.clock = ManualClock(stamp)

    def _edit_time(self, when):
        """``when`` as aware UTC (naive = UTC); default: now, whole seconds."""
        if when is None:
            return self.now.replace(microsecond=0)
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)

    # -- test knobs: data ----------------------------------------------------------------
    def record(self, resource, item_id):
        """The stored record (dataclass) of a live item; KeyError when unknown or deleted."""
        with self._data_lock:
            return self._live[resource][item_id]

    def ids(self, resource):
        """The ids the API serves for ``resource``, in API order."""
        with self._data_lock:
            return list(self._live[resource])

    def put(self, resource, record):
        """Store ``record`` (a jobadder_data dataclass) as is: insert or replace."""
        key = getattr(record, f"{ID_FIELDS[resource][:-2]}_id")
        with self._data_lock:
            self._all[resource][key] = record
            self._live[resource][key] = record
            self._deleted[resource].pop(key, None)
        return key

    def touch(self, resource, item_id, when=None, **changes):
        """Change a live record's fields and set its ``updatedAt`` (default: now), as an edit in the UI."""
        with self._data_lock:
            record = self._live[resource][item_id]
            updated = replace(record, **changes, updated_at=self._edit_time(when))
            self._all[resource][item_id] = self._live[resource][item_id] = updated
            return updated

    def touch_placement(self, placement_id, when=None):
        return self.touch("placements", placement_id, when)

    def update_placement(self, placement_id, when=None, **changes):
        """Edit a placement (``Placement`` field names), bumping ``updatedAt``."""
        return self.touch("placements", placement_id, when, **changes)

    def approve_placement(self, placement_id, when=None, by=None):
        """Approve it: ``approved``/``approvedAt``; ``updatedAt`` moves only with ``approval_bumps_updated_at``."""
        when = self._edit_time(when)
        with self._data_lock:
            record = self._live["placements"][placement_id]
            changes = {"approved": True, "approved_at": when, "approved_by": by or self.current_user_id}
            if self.approval_bumps_updated_at:
                changes["updated_at"] = when
            updated = replace(record, **changes)
            self._all["placements"][placement_id] = self._live["placements"][placement_id] = updated
            return updated

    def delete(self, resource, item_id, when=None):
        """Delete a live record: 404 from now on, listed by ``/{resource}/deleted`` for 14 days."""
        if resource == "users":
            raise ValueError("users are not deleted from the API: touch(..., deleted=True) instead")
        with self._data_lock:
            del self._live[resource][item_id]
            self._deleted[resource][item_id] = self._edit_time(when)

    def delete_placement(self, placement_id, when=None):
        self.delete("placements", placement_id, when)

    def add_placement(self, type="Permanent", *, when=None, **fields):
        """Create a placement (``Placement`` field names in ``fields``); returns its id.

        Defaults: the first live candidate and company, the company's first contact, the
        current user as owner and sole recruiter, not approved, starting today, fixed money.
        """
        when = self._edit_time(when)
        with self._data_lock:
            known = {f.name for f in dataclass_fields(Placement)}
            unknown = set(fields) - known
            if unknown:
                raise TypeError(f"unknown Placement fields: {', '.join(sorted(unknown))}")
            used = set(self._all["placements"]) | set(self._deleted["placements"])
            placement_id = max(used, default=PLACEMENT_ID_START - 1) + 1
            company_id = fields.get("company_id", next(iter(self._live["companies"]), None))
            contact_id = next(
                (c.contact_id for c in self._live["contacts"].values() if c.company_id == company_id), None
            )
            salary, contract_rate, rates = money(type, currency=self.world.account_currency)
            placement = Placement(
                placement_id=placement_id,
                type=type,
                job_id=placement_id + 200_000,
                job_title="New placement",
                candidate_id=next(iter(self._live["candidates"]), None),
                company_id=company_id,
                contact_id=contact_id,
                owner_id=self.current_user_id,
                status_id=1,
                start_date=when.date(),
                recruiters=((self.current_user_id, 100.0),),
                fee_split="Percent",
                salary=salary,
                contract_rate=contract_rate,
                rates=rates,
                charge_currency=self.world.account_currency,
                created_by=self.current_user_id,
                created_at=when,
                updated_by=self.current_user_id,
                updated_at=when,
            )
            placement = replace(placement, **fields)
            self.put("placements", placement)
            return placement_id

    def placement_payload(self, placement_id, base=None):
        """What ``GET /v2/placements/{id}`` answers, as a dict (for assertions)."""
        with self._data_lock:
            return self._render("placements", self._live["placements"][placement_id], base or self.api_url, True)

    # -- test knobs: throttling and faults -----------------------------------------------
    def set_rate_limit(self, per_second=None, per_minute=None, retry_after=None):
        """Throttle the API per account (None: unlimited); resets the current windows."""
        with self._rate_lock:
            self.rate_limit_per_second = per_second
            self.rate_limit_per_minute = per_minute
            self.rate_limit_retry_after = retry_after
            self._rate_windows = {}

    def inject(
        self, status=None, times=1, retry_after=None, body=None, content_type=None, delay=None, path_prefix=API_PATH
    ):
        """``FaultInjectionMixin.inject`` aimed at the API (``/v2``) by default."""
        return super().inject(status, times, retry_after, body, content_type, delay, path_prefix)

    def throttle(self, times=1, retry_after=40):
        """The next ``times`` API calls answer 429 with ``Retry-After`` (the help article's example: 40)."""
        return self.inject(429, times=times, retry_after=retry_after)

    def _fault_response(self, fault):
        if fault.body is None and fault.status and fault.status >= 400:
            if fault.status == 429:
                body = self.rate_limit_body
            else:
                body = {"message": f"An error has occurred ({fault.status})."}
            fault = replace(fault, body=body)
        return FaultInjectionMixin._fault_response(fault)

    def count(self, route):
        """How many requests reached ``route``, e.g. ``"GET /v2/placements/{id}"``."""
        return self.route_counts[route]

    # -- OAuth, JobAdder style -----------------------------------------------------------
    def extra_token_fields_for(self, grant):
        return {
            "api": self.api_url,
            "instance": self.instance,
            "account": self.account,
            **super().extra_token_fields_for(grant),
        }

    def issue_token(self, scope="read offline_access"):
        return super().issue_token(scope)

    def _issue(self, grant, scope=None):
        answer = super()._issue(grant, scope)
        if "offline_access" not in grant.scope.split():  # [spec] refresh tokens need offline_access
            refresh = answer.pop("refresh_token")
            self._refresh_tokens.pop(refresh, None)
            self.issued_refresh_tokens.remove(refresh)
        return answer

    def _scope_problem(self, scopes):
        problem = super()._scope_problem(scopes)
        if not problem and scopes == ["offline_access"]:
            problem = "offline_access must be combined with other scopes"
        return problem

    # -- dispatch ------------------------------------------------------------------------
    def wsgi_app(self, environ, start_response):
        try:
            adapter = self.url_map.bind_to_environ(environ)
            endpoint, values = adapter.match()
        except HTTPException:
            route = environ.get("PATH_INFO", "")
        else:
            template = self._ROUTE_TEMPLATES.get(endpoint)
            route = template.format(**values) if template else environ.get("PATH_INFO", "")
        with self._lock:
            self.route_counts[f"{environ.get('REQUEST_METHOD')} {route}"] += 1
        return super().wsgi_app(environ, start_response)

    def _enter(self, request, resource):
        """Authenticate (401), check the scope (403) and throttle (429) an API request."""
        token = self.authenticate(request)
        if set(token.scope.split()).isdisjoint({"read", RESOURCE_SCOPES[resource]}):
            challenge = f'Bearer realm="{self.service_name}", error="insufficient_scope"'
            message = f"The access token lacks the scope read or {RESOURCE_SCOPES[resource]}."
            raise HTTPException(response=self.error_response(403, message, headers={"WWW-Authenticate": challenge}))
        throttled = self._throttle()
        if throttled is not None:
            raise HTTPException(response=throttled)
        return token

    def _throttle(self):
        limits = [(self.rate_limit_per_second, 1), (self.rate_limit_per_minute, 60)]
        limits = [(limit, size) for limit, size in limits if limit]
        if not limits:
            return None
        now = self.clock()
        with self._rate_lock:
            for limit, size in limits:
                window = int(now // size)
                start, used = self._rate_windows.get(size, (window, 0))
                if start == window and used >= limit:
                    wait = self.rate_limit_retry_after or max(1, math.ceil((window + 1) * size - now))
                    return Response(self.rate_limit_body, status=429, headers={"Retry-After": str(int(wait))})
            for _limit, size in limits:
                window = int(now // size)
                start, used = self._rate_windows.get(size, (window, 0))
                self._rate_windows[size] = (window, used + 1 if start == window else 1)
        return None

    def error_response(self, status, message, errors=None, headers=None):
        """An ``ErrorModel`` answer [spec]: ``{"message", "errors": [{code, message, fields}]}``."""
        payload = {"message": message}
        if errors:
            payload["errors"] = errors
        return self.json_response(payload, status=status, headers=headers)

    def _query_error(self, error):
        item = {"code": "Invalid", "message": str(error), "fields": [error.param]}
        return self.error_response(400, "The request is invalid.", [item])

    def _not_found(self, resource):
        if resource in self.empty_404_resources:
            return Response(status=404)
        return self.error_response(404, f"{SINGULAR[resource]} not found")

    @staticmethod
    def _base(request):
        return f"{request.host_url.rstrip('/')}{API_PATH}"

    # -- routes --------------------------------------------------------------------------
    def on_web_placement(self, request, placement_id):
        """Where *Open in JobAdder* leads in the sandbox (JobAdder's app shows the placement)."""
        return self.web_app_page(f"Placement {placement_id}", [("Placement ID", placement_id)])

    def on_list(self, request, resource):
        self._enter(request, resource)
        query = Query(request.args)
        try:
            offset = query.integer("offset", 0, 0, 2**31 - 1)
            limit = query.integer("limit", self.default_limit, 0, self.max_limit)
            with self._data_lock:
                matches = self._select(resource, query)
                base = self._base(request)
                items = [self._render(resource, record, base) for record in matches[offset : offset + limit]]
        except QueryError as error:
            return self._query_error(error)
        payload = {
            "items": items,
            "totalCount": len(matches),
            "links": self._page_links(request, query, offset, limit, len(matches)),
        }
        return self.json_response(payload)

    def on_detail(self, request, resource, item_id):
        self._enter(request, resource)
        with self._data_lock:
            record = self._live[resource].get(item_id)
            if record is None:
                return self._not_found(resource)
            return self.json_response(self._render(resource, record, self._base(request), detail=True))

    def on_current_user(self, request):
        self._enter(request, "users")
        with self._data_lock:
            user = self._live["users"].get(self.current_user_id)
            if user is None:
                return self._not_found("users")
            return self.json_response(self._render("users", user, self._base(request), detail=True))

    def on_deleted(self, request, resource):
        """``{"items": [{"<resource>Id": n, "deletedAt": …}]}``: the last 14 days, oldest first, no paging."""
        self._enter(request, resource)
        since = self.now - timedelta(days=self.deleted_window_days)
        with self._data_lock:
            recent = sorted((when, key) for key, when in self._deleted[resource].items() if when >= since)
        key_name = ID_FIELDS[resource]
        items = [{key_name: key, "deletedAt": self._datetime(when, zoned=True)} for when, key in recent]
        return self.json_response({"items": items})

    def on_statuses(self, request, resource):
        """``StatusListRepresentation``: ``{"items": [StatusModel], "links": {"self"}}``; filters of §4.2."""
        self._enter(request, resource)
        query = Query(request.args)
        predicates = []
        try:
            if query.all("statusid"):
                predicates.append(make_predicate("ints", "statusId", query.all("statusid"), lambda s: s[0]))
            if query.all("name"):
                predicates.append(make_predicate("exact", "name", query.all("name"), lambda s: s[1]))
            for position, name in ((2, "active"), (3, "default")):
                if query.all(name):
                    predicates.append(make_predicate("bool", name, query.all(name), lambda s, i=position: s[i]))
        except QueryError as error:
            return self._query_error(error)
        items = [self._status_model(s) for s in STATUSES[resource] if all(test(s) for test in predicates)]
        return self.json_response({"items": items, "links": {"self": request.url}})

    def on_unknown(self, request, rest):
        return self.error_response(404, f"No resource at /v2/{rest}")

    # -- selection -----------------------------------------------------------------------
    def _select(self, resource, query):
        predicates = []
        for names, kind, getter in self._filters(resource):
            values = query.all(*names)
            if values:
                predicates.append(make_predicate(kind, names[0], values, getter))
        if resource == "users":
            include = _enum("include", query.all("include"), ("Inactive", "Deleted"))
            predicates.append(
                lambda u: (not u.inactive or "Inactive" in include) and (not u.deleted or "Deleted" in include)
            )
        records = self._live[resource].values()
        selected = [record for record in records if all(test(record) for test in predicates)]
        if resource == "candidates" and query.all("sort"):
            selected = self._sorted_candidates(selected, query.all("sort"))
        return selected

    _CANDIDATE_SORTS = {
        "firstname": lambda c: (c.first_name or "").casefold(),
        "lastname": lambda c: (c.last_name or "").casefold(),
        "candidateid": lambda c: c.candidate_id,
        "createdat": lambda c: c.created_at,
        "updatedat": lambda c: c.updated_at,
    }

    def _sorted_candidates(self, records, values):
        """``sort=lastName&sort=-updatedAt`` [spec §5]; default candidateId ascending."""
        keys = [part.strip() for raw in values for part in raw.split(",") if part.strip()]
        for key in reversed(keys):
            descending = key.startswith("-")
            name = key.lstrip("-+").lower()
            if name == "status.name":
                getter = lambda c: self._statuses["candidates"][c.status_id][1]  # noqa: E731
            elif name in self._CANDIDATE_SORTS:
                getter = self._CANDIDATE_SORTS[name]
            else:
                raise QueryError("sort", f"Cannot sort candidates by '{key}'.")
            records = sorted(records, key=getter, reverse=descending)
        return records

    def _filters(self, resource):
        """(parameter names, kind, getter) of ``resource``'s list filters (§4)."""
        name_of = self._name_of
        common = (
            (("createdAt",), "datetime", lambda r: r.created_at),
            (("updatedAt",), "datetime", lambda r: r.updated_at),
        )
        by_users = (
            (("createdBy",), "ints", lambda r: r.created_by),
            (("updatedBy",), "ints", lambda r: r.updated_by),
        )
        if resource == "placements":
            return (
                *common,
                *by_users,
                (("placementId",), "ints", lambda p: p.placement_id),
                (("type",), ("enum", PLACEMENT_TYPES), lambda p: p.type),
                (("statusId",), "ints", lambda p: p.status_id),
                (("candidateId", "candidate.candidateId"), "ints", lambda p: p.candidate_id),
                (("candidate.name",), "text", lambda p: name_of("candidates", p.candidate_id)),
                (("companyId", "company.companyId"), "ints", lambda p: p.company_id),
                (("company.name",), "text", lambda p: name_of("companies", p.company_id)),
                (("jobId",), "ints", lambda p: p.job_id),
                (("applicationId",), "ints", lambda p: p.application_id),
                (("userId",), "ints_any", lambda p: {p.owner_id, *(user for user, _split in p.recruiters)}),
                (("ownerUserId",), "ints", lambda p: p.owner_id),
                (("recruiterUserId",), "ints_any", lambda p: {user for user, _split in p.recruiters}),
                (("approvedBy",), "ints", lambda p: p.approved_by),
                (("approvedAt",), "datetime", lambda p: p.approved_at),
                (("approved",), "bool", lambda p: p.approved),
                (("startDate",), "date", lambda p: p.start_date),
                (("endDate",), "date", lambda p: p.end_date),
            )
        if resource == "candidates":
            return (
                *common,
                (("candidateId",), "ints", lambda c: c.candidate_id),
                (("name",), "text", _full_name),
                (("email",), "exact", lambda c: c.email),
                (("statusId",), "ints", lambda c: c.status_id),
                (("recruiterUserId",), "ints_any", lambda c: c.recruiter_ids),
                (("city",), "text", lambda c: c.address.city if c.address else None),
                (("state",), "text", lambda c: c.address.state if c.address else None),
            )
        if resource == "contacts":
            return (
                *common,
                *by_users,
                (("contactId",), "ints", lambda c: c.contact_id),
                (("name",), "text", _full_name),
                (("email",), "exact", lambda c: c.email),
                (("companyId",), "ints", lambda c: c.company_id),
                (("hiringManager",), "bool", lambda c: c.hiring_manager),
                (("statusId",), "ints", lambda c: c.status_id),
            )
        if resource == "companies":
            return (
                *common,
                *by_users,
                (("companyId",), "ints", lambda c: c.company_id),
                (("name",), "text", lambda c: c.name),
                (("parentId",), "ints", lambda c: c.parent_id),
                (("statusId",), "ints", lambda c: c.status_id),
            )
        return (
            *common,
            (("userId",), "ints", lambda u: u.user_id),
            (("officeId",), "ints", lambda u: u.office_id),
            (("groupId",), "ints_any", lambda u: u.group_ids),
        )

    def _name_of(self, resource, item_id):
        record = self._all[resource].get(item_id)
        if record is None:
            return None
        return record.name if resource == "companies" else _full_name(record)

    def _page_links(self, request, query, offset, limit, total):
        """Absolute ``PageLinks`` keeping the request's other parameters [inferred layout, §5]."""
        if limit == 0:
            return {}
        kept = [(key, value) for key, value in query.pairs if key.lower() not in ("offset", "limit")]

        def url(start):
            return f"{request.base_url}?{urlencode([*kept, ('offset', start), ('limit', limit)])}"

        links = {"first": url(0)}
        if offset > 0:
            links["prev"] = url(max(0, offset - limit))
        if offset + limit < total:
            links["next"] = url(offset + limit)
        links["last"] = url(max(0, (total - 1) // limit * limit))
        return links

    # -- rendering (JobAdder JSON from records) ------------------------------------------
    def _render(self, resource, record, base, detail=False):
        payload = getattr(self, f"_render_{resource}")(record, base, detail)
        return _settle(payload, self.null_objects)

    def _datetime(self, value, zoned=False):
        if value is None:
            return None
        value = value.astimezone(UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        if self.datetime_style == "utc":
            return f"{text}Z"
        if self.datetime_style == "mixed" and zoned:
            return f"{text}+00:00"
        return text

    @staticmethod
    def _date(value):
        return value.isoformat() if isinstance(value, date) else value

    @staticmethod
    def _status_model(status):
        if status is None:
            return ABSENT
        status_id, name, active, default = status
        return {"statusId": status_id, "name": name, "active": active, "default": default}

    def _status(self, resource, status_id):
        return self._status_model(self._statuses[resource].get(status_id))

    def _user_ref(self, user_id):
        """``UserNameModel``."""
        if user_id is None:
            return ABSENT
        user = self._all["users"].get(user_id)
        if user is None:
            return {"userId": user_id}
        return {
            "userId": user.user_id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "position": user.position,
            "email": user.email,
            "phone": user.phone,
            "mobile": user.mobile,
            "inactive": user.inactive,
            "deleted": user.deleted,
        }

    def _company_ref(self, company_id):
        """``CompanyNameModel``."""
        company = self._all["companies"].get(company_id)
        if company is None:
            return ABSENT if company_id is None else {"companyId": company_id}
        return {
            "companyId": company.company_id,
            "name": company.name,
            "status": self._status("companies", company.status_id),
        }

    def _contact_ref(self, contact_id):
        """``ContactNameModel``."""
        contact = self._all["contacts"].get(contact_id)
        if contact is None:
            return ABSENT if contact_id is None else {"contactId": contact_id}
        return {
            "contactId": contact.contact_id,
            "firstName": contact.first_name,
            "lastName": contact.last_name,
            "position": contact.position,
            "salutation": contact.salutation,
            "unsubscribed": False,
            "email": contact.email,
            "phone": contact.phone,
            "mobile": contact.mobile,
            "mobileNormalized": _normalized(contact.mobile),
            "inactive": contact.inactive,
            "status": self._status("contacts", contact.status_id),
        }

    @staticmethod
    def _address(address, company=False):
        """``AddressModel``, or ``CompanyAddressModel`` with ``company``."""
        if address is None:
            return ABSENT
        payload = {
            "street": list(address.street),
            "city": address.city,
            "state": address.state,
            "postalCode": address.postal_code,
            "country": address.country,
            "countryCode": address.country_code,
        }
        if company:
            payload = {"addressId": address.address_id, "name": address.name, **payload, "phone": address.phone}
        return payload

    def _candidate_fields(self, candidate):
        """The fields ``CandidateSummaryModel`` and ``CandidatePlacementModel`` share."""
        return {
            "candidateId": candidate.candidate_id,
            "firstName": candidate.first_name,
            "lastName": candidate.last_name,
            "email": candidate.email,
            "phone": candidate.phone,
            "mobile": candidate.mobile,
            "mobileNormalized": _normalized(candidate.mobile),
            "contactMethod": None,
            "salutation": candidate.salutation,
            "unsubscribed": False,
            "address": self._address(candidate.address),
            "status": self._status("candidates", candidate.status_id),
            "rating": candidate.rating,
            "source": candidate.source,
            "seeking": candidate.seeking or ABSENT,
        }

    def _candidate_ref(self, candidate_id):
        """``CandidatePlacementModel`` (deleted candidates still show in their placements)."""
        candidate = self._all["candidates"].get(candidate_id)
        if candidate is None:
            return ABSENT if candidate_id is None else {"candidateId": candidate_id}
        return {**self._candidate_fields(candidate), "dateOfBirth": self._date(candidate.date_of_birth)}

    def _stamps(self, record, zoned=False, by=True):
        stamps = {}
        if by:
            stamps["createdBy"] = self._user_ref(record.created_by)
        stamps["createdAt"] = self._datetime(record.created_at, zoned)
        if by:
            stamps["updatedBy"] = self._user_ref(record.updated_by)
        stamps["updatedAt"] = self._datetime(record.updated_at, zoned)
        return stamps

    def _render_placements(self, p, base, detail):
        """``PlacementSummaryModel``, or ``PlacementRepresentation`` with ``detail`` (§4.2)."""
        company = self._all["companies"].get(p.company_id)
        payload = {
            "placementId": p.placement_id,
            "jobTitle": p.job_title,
            "job": {
                "jobId": p.job_id,
                "jobTitle": p.job_title,
                "company": self._company_ref(p.company_id),
                "contact": self._contact_ref(p.contact_id),
                "status": self._status_model(JOB_STATUS_FILLED),
            },
            "candidate": self._candidate_ref(p.candidate_id),
            "approved": p.approved,
            "approvedAt": self._datetime(p.approved_at),
            "type": p.type,
            "status": self._status("placements", p.status_id),
            "startDate": self._date(p.start_date),
            "endDate": self._date(p.end_date),
            **self._stamps(p),
        }
        if not detail:
            return payload
        candidate = self._all["candidates"].get(p.candidate_id)
        payload.update(
            {
                "summary": p.summary,
                "company": self._company_ref(p.company_id),
                "contact": self._contact_ref(p.contact_id),
                "source": {"placement": candidate.source, "candidate": candidate.source} if candidate else ABSENT,
                "workplaceAddress": self._address(company.address, True) if p.workplace and company else ABSENT,
                "paymentType": p.payment_type,
                "salary": dict(p.salary) if p.salary else ABSENT,
                "contractRate": dict(p.contract_rate) if p.contract_rate else ABSENT,
                "rates": [dict(line) for line in p.rates] if p.rates else None,
                "award": None,
                "industryCode": None,
                "chargeCurrency": p.charge_currency,
                "feeSplit": p.fee_split or ABSENT,
                "billing": self._billing(p.billing, company),
                "export": {
                    "payroll": p.type in ("Contract", "Temporary"),
                    "timesheets": p.type == "Temporary",
                    "approvers": [],
                    "onboarding": False,
                    "onboardingManagers": [],
                },
                "custom": [
                    {"fieldId": field_id, "name": name, "type": kind, "value": value}
                    for field_id, name, kind, value in p.custom
                ],
                "owner": self._user_ref(p.owner_id),
                "recruiters": [{**self._user_ref(user_id), "feeSplit": split} for user_id, split in p.recruiters],
                "links": self._placement_links(p, base),
            }
        )
        return payload

    def _billing(self, billing, company):
        if not billing:
            return ABSENT
        return {
            "contact": self._contact_ref(billing.get("contact_id")),
            "address": self._address(company.address, True) if company else ABSENT,
            "email": billing.get("email"),
            "orderRef": billing.get("orderRef"),
            "invoiceRef": billing.get("invoiceRef"),
            "terms": billing.get("terms"),
            "dueDate": billing.get("dueDate"),
        }

    @staticmethod
    def _placement_links(p, base):
        links = {
            "self": f"{base}/placements/{p.placement_id}",
            "application": f"{base}/applications/{p.application_id}" if p.application_id else None,
            "attachments": f"{base}/placements/{p.placement_id}/attachments",
            "notes": f"{base}/placements/{p.placement_id}/notes",
        }
        if p.credits_id:
            links["creditsPlacement"] = f"{base}/placements/{p.credits_id}"
        if p.credited_by_id:
            links["creditedByPlacement"] = f"{base}/placements/{p.credited_by_id}"
        return {key: value for key, value in links.items() if value}

    def _render_candidates(self, c, base, detail):
        """``CandidateSummaryModel``, or ``CandidateRepresentation`` (§4.3)."""
        payload = {**self._candidate_fields(c), **self._stamps(c)}
        if not detail:
            return payload
        current = {"employer": c.current_employer, "position": c.current_position}
        payload.update(
            {
                "dateOfBirth": self._date(c.date_of_birth),
                "otherEmail": [],
                "summary": None,
                "employment": {"current": current} if any(current.values()) else ABSENT,
                "availability": {"immediate": c.status_id == 11},
                "skillTags": [],
                "custom": [],
                "recruiters": [self._user_ref(user_id) for user_id in c.recruiter_ids],
                "links": {
                    "self": f"{base}/candidates/{c.candidate_id}",
                    "placements": f"{base}/candidates/{c.candidate_id}/placements",
                    "notes": f"{base}/candidates/{c.candidate_id}/notes",
                },
            }
        )
        return payload

    def _render_contacts(self, c, base, detail):
        """``ContactSummaryModel``, or ``ContactRepresentation`` (§4.4)."""
        company = self._all["companies"].get(c.company_id)
        payload = {
            **self._contact_ref(c.contact_id),
            "company": self._company_ref(c.company_id),
            "officeAddress": self._address(company.address, True) if company else ABSENT,
            "owner": self._user_ref(c.owner_id),
            **self._stamps(c),
        }
        if not detail:
            return payload
        payload.update(
            {
                "otherEmail": [],
                "summary": None,
                "hiringManager": c.hiring_manager,
                "custom": [],
                "recruiters": [],
                "links": {
                    "self": f"{base}/contacts/{c.contact_id}",
                    "company": f"{base}/companies/{c.company_id}",
                    "notes": f"{base}/contacts/{c.contact_id}/notes",
                },
            }
        )
        return payload

    def _render_companies(self, c, base, detail):
        """``CompanySummaryModel``, or ``CompanyRepresentation`` (§4.5)."""
        payload = {
            "companyId": c.company_id,
            "name": c.name,
            "status": self._status("companies", c.status_id),
            "mainContact": self._contact_ref(c.main_contact_id),
            "primaryAddress": self._address(c.address, True),
            "owner": self._user_ref(c.owner_id),
            **self._stamps(c),
        }
        if not detail:
            return payload
        payload.update(
            {
                "legalName": c.legal_name,
                "summary": c.summary,
                "parent": self._company_ref(c.parent_id),
                "custom": [],
                "recruiters": [self._user_ref(user_id) for user_id in c.recruiter_ids],
                "links": {
                    "self": f"{base}/companies/{c.company_id}",
                    "contacts": f"{base}/companies/{c.company_id}/contacts",
                    "placements": f"{base}/companies/{c.company_id}/placements",
                },
            }
        )
        return payload

    def _render_users(self, u, base, detail):
        """``UserSummaryModel``, or ``UserRepresentation`` (§4.6)."""
        office = next((o for o in OFFICES if o[0] == u.office_id), None)
        payload = {
            **self._user_ref(u.user_id),
            "mentionName": "".join(part for part in f"{u.first_name}{u.last_name}".split()),
            "office": _office(office),
            **self._stamps(u, zoned=True, by=False),
        }
        if not detail:
            return payload
        groups = dict(USER_GROUPS)
        payload.update(
            {
                "timeZone": office[9] if office else None,
                "culture": "en-AU",
                "admin": u.admin,
                "accountName": self.world.account_name,
                "userGroups": [{"groupId": group_id, "name": groups[group_id]} for group_id in u.group_ids],
                "links": {"self": f"{base}/users/{u.user_id}"},
            }
        )
        return payload


def _office(office):
    """``UserOfficeSummaryModel``."""
    if office is None:
        return ABSENT
    office_id, name, street, city, state, postal, country, code, phone, _zone = office
    return {
        "officeId": office_id,
        "name": name,
        "street": [street],
        "city": city,
        "state": state,
        "postalCode": postal,
        "country": country,
        "countryCode": code,
        "phone": phone,
    }


def _normalized(phone):
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+") if phone else None


def _settle(value, null_objects=False):
    """``ABSENT`` values left out (or made null with ``null_objects``), at every depth."""
    if isinstance(value, dict):
        return {
            key: None if item is ABSENT else _settle(item, null_objects)
            for key, item in value.items()
            if item is not ABSENT or null_objects
        }
    if isinstance(value, list):
        return [_settle(item, null_objects) for item in value]
    return value


__all__ = [
    "API_PATH",
    "FakeJobAdder",
    "Query",
    "QueryError",
    "RESOURCE_SCOPES",
    "SCOPES",
    "main",
    "make_predicate",
    "parse_filter_date",
    "parse_filter_datetime",
]


# ----------------------------------------------------------------------------------- sandbox
def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a fake JobAdder (identity server and API v2) until Ctrl-C.")
    add_service_arguments(parser, FakeJobAdder, port=8071)
    parser.add_argument("--placements", type=int, default=200)
    parser.add_argument("--companies", type=int)
    parser.add_argument("--contacts", type=int)
    parser.add_argument("--candidates", type=int)
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--rate-per-minute", type=int, help="throttle the API: calls a minute per account")
    args = parser.parse_args(argv)
    seed = seed_of(args.seed)
    world = generate_agency(
        seed=seed,
        placements=args.placements,
        companies=args.companies,
        contacts=args.contacts,
        candidates=args.candidates,
        users=args.users,
        today=args.today or datetime.now(UTC).date(),
    )
    fake = FakeJobAdder(**service_options(args), world=world, rate_limit_per_minute=args.rate_per_minute)
    fake.start()
    token = fake.issue_token("read offline_access")
    banner = (
        f"Fake JobAdder (seed {seed!r}, today {world.today}): {len(world.placements)} placements, "
        f"{len(world.companies)} companies, {len(world.contacts)} contacts, {len(world.candidates)} candidates, "
        f"{len(world.users)} users\n"
        f"  authorize URL:  {fake.authorize_url}\n"
        f"  token URL:      {fake.token_url}\n"
        f"  API base:       {fake.api_url}\n"
        f"  client_id:      {fake.client_id}\n"
        f"  client_secret:  {fake.client_secret}\n"
        f"  access token:   {token['access_token']}  (scope read offline_access, {fake.access_token_lifetime} s)\n"
        f"  refresh token:  {token['refresh_token']}"
    )
    serve_until_interrupted(fake, banner)


if __name__ == "__main__":
    main()
