"""The fake JobAdder: its OAuth, API v2 (paging, filters, summaries, details, deleted lists),
throttling and errors; contract checks against JobAdder's own OpenAPI definition; the seeded
agency generator; the sandbox command."""

import os
import re
import selectors
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.command import served_alone
from tests.fakes.consent import query_of, read_consent_page, submit_consent
from tests.fakes.jobadder import ID_FIELDS, RESOURCE_SCOPES, RESOURCES, FakeJobAdder
from tests.fakes.jobadder_data import (
    ACCOUNT_CURRENCY,
    BAD_KINDS,
    PLACEMENT_TYPES,
    UNKNOWN_CURRENCY,
    UNKNOWN_TYPE,
    generate_agency,
)
from tests.fakes.oauth2 import ManualClock
from tests.fakes.openapi import ContractMissing, OpenApi, contract_file

UTC = timezone.utc
REPO = Path(__file__).resolve().parents[1]
REDIRECT = "https://odoo.example.com/recruitment_sync/oauth/callback"
# §4.2: what GET /placements leaves out (only GET /placements/{id} has it).
SUMMARY_OMITS = ("company", "contact", "owner", "recruiters", "salary", "contractRate", "rates", "chargeCurrency")


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def world():
    return generate_agency(seed=7, placements=200)


@pytest.fixture
def fake(world, clock):
    with FakeJobAdder(world=world, clock=clock, registered_redirect_uris=[REDIRECT]) as running:
        yield running


class Api:
    """A requests session on the token's ``api`` base with its bearer token."""

    def __init__(self, token):
        self.base = token["api"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token['access_token']}"

    def get(self, path, params=None):
        url = path if path.startswith("http") else f"{self.base}{path}"
        return self.session.get(url, params=params, timeout=10)

    def ok(self, path, params=None):
        answer = self.get(path, params)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        return answer.json()

    def fetch_all(self, path, params=None):
        """Follow ``links.next`` from the first page: (every item, every page)."""
        items, pages = [], []
        page = self.ok(path, params)
        while True:
            pages.append(page)
            items.extend(page["items"])
            following = page["links"].get("next")
            if not following:
                return items, pages
            assert following.startswith(f"{self.base}{path}?"), following  # absolute URL
            page = self.ok(following)


@pytest.fixture
def api(fake):
    client = Api(fake.issue_token("read offline_access"))
    yield client
    client.session.close()


def ids_of(items, resource):
    return [item[ID_FIELDS[resource]] for item in items]


# --------------------------------------------------------------------------------- OAuth
def authorize(fake, decision="accept", scope="read offline_access", state="xyz"):
    """The browser's part: consent page, then Accept/Decline; the callback's query (or the answer)."""
    query = {"response_type": "code", "client_id": fake.client_id, "redirect_uri": REDIRECT, "scope": scope}
    if state is not None:
        query["state"] = state
    page, form = read_consent_page(fake.authorize_url, params=query)
    if page.status_code == 302:  # an error redirected straight back
        return query_of(page.headers["Location"])
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.text
    assert set(form.buttons) == {"accept", "decline"}
    answer = submit_consent(page, form, decision)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def token_request(fake, **form):
    data = {"client_id": fake.client_id, "client_secret": fake.client_secret, **form}
    return requests.post(fake.token_url, data=data, timeout=5)


def exchange(fake, code):
    return token_request(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)


def refresh(fake, refresh_token):
    return token_request(fake, grant_type="refresh_token", refresh_token=refresh_token)


def test_oauth_code_flow_end_to_end_gives_jobadder_token_answer(fake, world):
    assert fake.authorize_url == f"{fake.url}/connect/authorize"
    assert fake.token_url == f"{fake.url}/connect/token"
    callback = authorize(fake)
    assert set(callback) == {"code", "state"} and callback["state"] == "xyz"
    answer = exchange(fake, callback["code"])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert {"access_token", "expires_in", "token_type", "refresh_token", "api", "instance", "account"} <= set(tokens)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["api"] == f"{fake.url}/v2"
    assert isinstance(tokens["instance"], str) and isinstance(tokens["account"], int)
    me = Api(tokens).ok("/users/current")
    assert me["userId"] == world.current_user_id
    # Codes are single-use.
    again = exchange(fake, callback["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_oauth_decline_and_scope_errors_go_back_to_the_client(fake):
    assert authorize(fake, decision="decline") == {"error": "access_denied", "state": "xyz"}
    for scope in ("", "read bogus_scope", "offline_access"):
        answer = authorize(fake, scope=scope)
        assert answer["error"] == "invalid_scope" and answer["state"] == "xyz", scope


def test_refresh_rotates_tokens_and_idles_out_after_two_weeks(fake, clock):
    first = exchange(fake, authorize(fake)["code"]).json()
    second = refresh(fake, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["api"] == f"{fake.url}/v2" and "instance" in second and "account" in second
    reused = refresh(fake, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert Api(second).get("/users/current").status_code == 200
    # Each use restarts the 14-day clock; 14 days unused kill the refresh token.
    clock.advance(13 * 86400)
    third = refresh(fake, second["refresh_token"])
    assert third.status_code == 200
    clock.advance(14 * 86400)
    dead = refresh(fake, third.json()["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"


def test_refresh_token_only_with_offline_access(fake):
    tokens = exchange(fake, authorize(fake, scope="read")["code"]).json()
    assert "refresh_token" not in tokens and tokens["access_token"]
    assert fake.issued_refresh_tokens == []


def test_api_needs_a_valid_bearer_token_and_the_scope(fake, clock):
    answer = requests.get(f"{fake.api_url}/placements", timeout=5)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    narrow = Api(fake.issue_token("read_candidate offline_access"))
    assert narrow.get("/candidates").status_code == 200
    denied = narrow.get("/placements")
    assert denied.status_code == 403 and "read_placement" in denied.json()["message"]
    for resource, scope in RESOURCE_SCOPES.items():
        assert Api(fake.issue_token(scope)).get(f"/{resource}").status_code == 200, scope
    wide = Api(fake.issue_token())
    clock.advance(3600)
    assert wide.get("/placements").status_code == 401


# ------------------------------------------------------------------------ lists & paging
@pytest.mark.parametrize("resource", RESOURCES)
def test_paging_through_every_list_returns_each_item_once(fake, api, resource):
    params = {"limit": 37}
    if resource == "users":
        params["include"] = ["Inactive", "Deleted"]
    items, pages = api.fetch_all(f"/{resource}", params)
    ids = ids_of(items, resource)
    assert len(ids) == len(set(ids)) == len(fake.ids(resource)) > 0
    assert ids == fake.ids(resource)  # id order
    assert all(page["totalCount"] == len(ids) for page in pages)
    assert len(pages) == -(-len(ids) // 37)
    assert "prev" not in pages[0]["links"] and pages[-1]["links"].get("next") is None
    if len(pages) > 1:
        assert "offset=0" in pages[1]["links"]["prev"] and pages[1]["links"]["first"] == pages[0]["links"]["first"]
        assert pages[0]["links"]["last"] == pages[-1]["links"]["last"]


def test_paging_limits_and_the_count_only_request(api, fake):
    total = len(fake.ids("placements"))
    everything = api.ok("/placements", {"limit": 1000})
    assert len(everything["items"]) == total == everything["totalCount"]
    assert "next" not in everything["links"]
    assert len(api.ok("/placements")["items"]) == 100  # default limit
    count = api.ok("/placements", {"limit": 0})
    assert count["items"] == [] and count["totalCount"] == total
    beyond = api.ok("/placements", {"offset": total + 5})
    assert beyond["items"] == [] and beyond["totalCount"] == total
    for bad in ({"limit": 1001}, {"limit": -1}, {"offset": -3}, {"limit": "ten"}):
        answer = api.get("/placements", bad)
        assert answer.status_code == 400, bad
        assert answer.json()["errors"][0]["fields"] == [next(iter(bad))]


def test_users_list_hides_inactive_and_deleted_unless_included(api, world):
    plain = ids_of(api.ok("/users", {"limit": 1000})["items"], "users")
    hidden = set(world.notable["users_inactive"]) | set(world.notable["users_deleted"])
    assert hidden and not hidden & set(plain)
    with_inactive = ids_of(api.ok("/users", {"include": "Inactive"})["items"], "users")
    assert set(world.notable["users_inactive"]) <= set(with_inactive)
    csv = ids_of(api.ok("/users", {"include": "Inactive,Deleted"})["items"], "users")
    assert sorted(csv) == [user.user_id for user in world.users]
    deleted_user = world.notable["users_deleted"][0]
    assert api.ok(f"/users/{deleted_user}")["deleted"] is True


# ---------------------------------------------------------------------- updatedAt filter
def expected_ids(records, attribute, since=None, until=None):
    return [
        record.placement_id
        for record in records
        if getattr(record, attribute) is not None
        and (since is None or getattr(record, attribute) >= since)
        and (until is None or getattr(record, attribute) <= until)
    ]


def test_updated_at_filter_is_inclusive_and_lenient_about_zone_and_case(api, world):
    placements = sorted(world.placements, key=lambda p: p.updated_at)
    since = placements[-40].updated_at.replace(microsecond=0)
    until = placements[-5].updated_at.replace(microsecond=0)
    want = sorted(expected_ids(world.placements, "updated_at", since, until))
    assert 20 < len(want) < 40
    fmt = "%Y-%m-%dT%H:%M:%S"
    variants = (
        {"updatedAt": [f">{since:{fmt}}", f"<{until:{fmt}}"]},  # no zone: "UTC assumed"
        {"UpdatedAt": [f">{since:{fmt}}Z", f"<{until:{fmt}}Z"]},  # the 2024 spec's casing, with Z
        {"UPDATEDAT": [f">{since.isoformat()}", f"<{until.isoformat()}"]},  # +00:00
    )
    for params in variants:
        items, _pages = api.fetch_all("/placements", {**params, "limit": 7})
        assert sorted(ids_of(items, "placements")) == want, params
    # The lower bound is inclusive: a placement updated exactly at ``since`` is in.
    exact = [p.placement_id for p in world.placements if p.updated_at == since]
    if exact:
        assert set(exact) <= set(want)
        bare = api.ok("/placements", {"updatedAt": f"{since:{fmt}}"})
        assert set(exact) <= set(ids_of(bare["items"], "placements"))
    wrong = api.get("/placements", {"updatedAt": ">yesterday"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["fields"] == ["updatedAt"]


@pytest.mark.parametrize("resource", ["candidates", "contacts", "companies", "users"])
def test_updated_at_filter_on_other_resources(api, world, resource):
    records = getattr(world, resource)
    middle = sorted(r.updated_at for r in records)[len(records) // 2].replace(microsecond=0)
    key = f"{resource[:-1] if resource != 'companies' else 'company'}_id"
    want = sorted(getattr(r, key) for r in records if r.updated_at >= middle)
    params = {"updatedAt": f">{middle:%Y-%m-%dT%H:%M:%S}", "limit": 1000}
    if resource == "users":
        params["include"] = ["Inactive", "Deleted"]
    else:
        deleted = {key for key, _when in world.deleted[resource]}
        want = [item for item in want if item not in deleted]
    assert sorted(ids_of(api.ok(f"/{resource}", params)["items"], resource)) == want


def test_edits_show_up_in_incremental_windows(fake, api, world, clock):
    window_start = fake.now.replace(microsecond=0)
    stamp = f">{window_start:%Y-%m-%dT%H:%M:%S}"
    assert api.ok("/placements", {"updatedAt": stamp})["totalCount"] == 0
    clock.advance(60)
    touched = world.placements[20].placement_id
    fake.touch_placement(touched)
    pending = world.notable["not_approved"][0]
    fake.approve_placement(pending)
    added = fake.add_placement("Contract", job_title="Nurse – night shift")
    changed = ids_of(api.ok("/placements", {"updatedAt": stamp})["items"], "placements")
    assert changed == sorted([touched, added])  # approval does not bump updatedAt [inferred]
    approved = ids_of(api.ok("/placements", {"approvedAt": stamp})["items"], "placements")
    assert approved == [pending]
    detail = api.ok(f"/placements/{added}")
    assert detail["type"] == "Contract" and detail["jobTitle"] == "Nurse – night shift"
    assert detail["contractRate"]["ratePer"] in ("Hour", "Day") and detail["approved"] is False
    # The world itself is untouched: a new fake serves it as generated.
    with FakeJobAdder(world=world, clock=ManualClock(world.now.timestamp())) as other:
        assert added not in other.ids("placements")
        assert other.record("placements", pending).approved is False


def test_placement_filters(api, world):
    def listed(params):
        return set(ids_of(api.ok("/placements", {**params, "limit": 1000})["items"], "placements"))

    assert listed({"type": "Credit"}) == set(world.notable["Credit"])
    both = listed({"type": ["Permanent", "Credit"]})
    assert both == listed({"type": "permanent,credit"})
    assert both == {p.placement_id for p in world.placements if p.type in ("Permanent", "Credit")}
    assert api.get("/placements", {"type": "Temp"}).status_code == 400
    unapproved = listed({"approved": "false"})
    assert set(world.notable["not_approved"]) <= unapproved
    assert not unapproved & set(world.notable["approved"])
    user_id = world.placements[0].owner_id
    assert listed({"userId": user_id}) == listed({"ownerUserId": user_id}) | listed({"recruiterUserId": user_id})
    today = world.today.isoformat()
    starting = listed({"startDate": [f">{today}", f"<{today}"]})
    assert set(world.notable["starts_today"]) <= starting
    assert not starting & set(world.notable["starts_yesterday"] + world.notable["starts_tomorrow"])
    company = world.placements[0].company_id
    assert listed({"companyId": company}) == listed({"company.companyId": company}) != set()


# ------------------------------------------------------------------ summaries vs details
def test_list_omits_what_the_contract_says_and_details_are_complete(api, world):
    items, _pages = api.fetch_all("/placements", {"limit": 1000})
    for item in items:
        assert not set(SUMMARY_OMITS) & set(item), item["placementId"]
        assert {"placementId", "type", "approved", "status", "job", "updatedAt"} <= set(item)
    by_id = {item["placementId"]: item for item in items}
    for placement in world.placements:
        if placement.bad:
            continue
        detail = api.ok(f"/placements/{placement.placement_id}")
        summary = by_id[placement.placement_id]
        assert {key: detail[key] for key in summary} == summary
        assert detail["company"]["companyId"] == placement.company_id
        assert detail["owner"]["userId"] == placement.owner_id
        assert detail["links"]["self"] == f"{api.base}/placements/{placement.placement_id}"
        splits = [recruiter["feeSplit"] for recruiter in detail["recruiters"]]
        if detail["feeSplit"] == "Percent":
            assert sum(splits) == pytest.approx(100)
        elif "salary" in detail:  # fixed amounts share the fee
            assert sum(splits) == pytest.approx(abs(detail["salary"]["fee"]))
        if placement.type in ("Permanent", "Credit"):
            assert "fee" in detail["salary"] and "contractRate" not in detail
        else:
            assert {"clientRate", "candidateRate", "ratePer"} <= set(detail["contractRate"])
            assert detail["rates"][0]["default"] is True
            assert all(line["chargeCurrency"] == detail["chargeCurrency"] for line in detail["rates"])
        if placement.credits_id:
            credited = api.ok(f"/placements/{placement.credits_id}")
            assert detail["salary"]["fee"] == -credited["salary"]["fee"]
            assert credited["links"]["creditedByPlacement"] == detail["links"]["self"]


def test_deliberately_bad_placements_are_served_as_broken(api, world):
    kinds = {}
    for placement_id, kind in world.bad_placements.items():
        kinds[kind] = api.ok(f"/placements/{placement_id}")
    assert set(kinds) == set(BAD_KINDS)
    assert "candidate" not in kinds["missing_candidate"]
    assert "company" not in kinds["missing_company"] and "company" not in kinds["missing_company"]["job"]
    assert kinds["unknown_type"]["type"] == UNKNOWN_TYPE
    with pytest.raises(ValueError):
        date.fromisoformat(kinds["invalid_date"]["startDate"])
    dangling = kinds["dangling_candidate"]["candidate"]
    assert dangling["firstName"] and api.get(f"/candidates/{dangling['candidateId']}").status_code == 404


def test_other_details_are_complete(api, world):
    candidate = world.candidates[0]
    detail = api.ok(f"/candidates/{candidate.candidate_id}")
    assert detail["firstName"] == candidate.first_name and "links" in detail and "recruiters" in detail
    contact = world.contacts[0]
    detail = api.ok(f"/contacts/{contact.contact_id}")
    assert detail["company"]["companyId"] == contact.company_id and "hiringManager" in detail
    company = world.companies[0]
    detail = api.ok(f"/companies/{company.company_id}")
    assert detail["name"] == company.name and "legalName" in detail and "links" in detail
    user = world.users[1]
    detail = api.ok(f"/users/{user.user_id}")
    assert detail["email"] == user.email and {"timeZone", "admin", "userGroups", "office"} <= set(detail)


# ------------------------------------------------------------------------------- deleted
def test_deleted_lists_cover_the_last_14_days(fake, api, world, clock):
    listed = api.ok("/placements/deleted")
    assert set(listed) == {"items"}  # no paging
    now = fake.now
    expected = {pid for pid, when in world.deleted["placements"] if when >= now - timedelta(days=14)}
    old = {pid for pid, when in world.deleted["placements"] if when < now - timedelta(days=14)}
    assert expected and old
    assert {item["placementId"] for item in listed["items"]} == expected
    victim = world.placements[30].placement_id
    fake.delete_placement(victim)
    assert api.get(f"/placements/{victim}").status_code == 404
    assert victim not in ids_of(api.ok("/placements", {"limit": 1000})["items"], "placements")
    items = api.ok("/placements/deleted")["items"]
    assert items[-1]["placementId"] == victim  # oldest first
    assert datetime.fromisoformat(items[-1]["deletedAt"]).replace(tzinfo=UTC) == now.replace(microsecond=0)
    clock.advance(15 * 86400)
    api = Api(fake.issue_token())
    assert victim not in {item["placementId"] for item in api.ok("/placements/deleted")["items"]}
    for resource in ("candidates", "contacts", "companies"):
        assert all(set(item) == {ID_FIELDS[resource], "deletedAt"} for item in api.ok(f"/{resource}/deleted")["items"])
    assert api.get("/users/deleted").status_code == 404  # users have no /deleted


# ----------------------------------------------------------------- throttling and errors
def test_rate_limit_answers_429_with_retry_after(fake, api, clock):
    fake.set_rate_limit(per_second=3)
    assert [api.get("/users/current").status_code for _ in range(3)] == [200, 200, 200]
    throttled = api.get("/placements")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    clock.advance(1)
    assert api.get("/placements").status_code == 200
    fake.set_rate_limit(per_minute=2)
    clock.advance(60 - clock.now % 60 + 15)  # 15 s into a minute
    assert [api.get("/users/current").status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("/users/current").headers["Retry-After"] == "45"
    assert fake.issue_token()  # the identity server is not throttled
    clock.advance(45)
    assert api.get("/users/current").status_code == 200
    fake.set_rate_limit()
    fake.throttle(times=2, retry_after=40)
    answers = [api.get("/placements") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "40"
    assert fake.pending_faults == 0


def test_injected_faults_use_jobadder_error_bodies(fake, api):
    fake.inject(503)
    answer = api.get("/placements")
    assert answer.status_code == 503 and set(answer.json()) == {"message"}
    fake.inject(500, path_prefix="/connect/token")
    assert refresh(fake, "whatever").status_code == 500


@pytest.mark.parametrize("resource", RESOURCES)
def test_unknown_id_is_404_with_error_model(api, resource):
    answer = api.get(f"/{resource}/424242")
    assert answer.status_code == 404
    body = answer.json()
    assert set(body) <= {"message", "errors"} and body["message"]


def test_404_without_body_for_chosen_resources(world, clock):
    with FakeJobAdder(world=world, clock=clock, empty_404_resources={"placements"}) as fake:
        api = Api(fake.issue_token())
        answer = api.get("/placements/1")
        assert answer.status_code == 404 and answer.content == b""
        assert api.get("/candidates/1").json()["message"]
        assert api.get("/no/such/thing").status_code == 404


def test_request_counters_per_route(fake, api, world):
    api.get("/placements")
    api.get(f"/placements/{world.placements[0].placement_id}")
    api.get(f"/placements/{world.placements[1].placement_id}")
    api.get("/placements/deleted")
    api.get("/nothing")
    refresh(fake, "nope")
    assert fake.count("GET /v2/placements") == 1
    assert fake.count("GET /v2/placements/{id}") == 2
    assert fake.count("GET /v2/placements/deleted") == 1
    assert fake.count("GET /v2/*") == 1
    assert fake.count("POST /connect/token") == 1


def test_datetime_styles(world, clock):
    placement = world.placements[0]
    plain = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
    # style: (zone of placement times, zone of user times)
    for style, (placement_zone, user_zone) in {
        "utc": ("Z", "Z"),
        "naive": ("", ""),
        "mixed": ("", "+00:00"),
    }.items():
        with FakeJobAdder(world=world, clock=clock, datetime_style=style) as fake:
            api = Api(fake.issue_token())
            updated = api.ok(f"/placements/{placement.placement_id}")["updatedAt"]
            assert re.fullmatch(plain + re.escape(placement_zone), updated), (style, updated)
            user_time = api.ok("/users/current")["updatedAt"]
            assert re.fullmatch(plain + re.escape(user_zone), user_time), (style, user_time)


def test_null_objects_setting_sends_null_for_missing_objects(world, clock):
    permanent = world.notable["Permanent"][0]
    with FakeJobAdder(world=world, clock=clock, null_objects=True) as fake:
        detail = Api(fake.issue_token()).ok(f"/placements/{permanent}")
        assert "contractRate" in detail and detail["contractRate"] is None
    with FakeJobAdder(world=world, clock=clock) as fake:
        assert "contractRate" not in Api(fake.issue_token()).ok(f"/placements/{permanent}")


# ------------------------------------------------------------------------ contract check
# The token answer: the spec documents it in prose (info, "Authentication"), not as a schema;
# instance/account per the help centre, their JSON types [inferred].
TOKEN_SCHEMA = {
    "type": "object",
    "required": ["access_token", "expires_in", "token_type", "refresh_token", "api", "instance", "account"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "expires_in": {"type": "integer", "enum": [3600]},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "refresh_token": {"type": "string", "minLength": 1},
        "api": {"type": "string", "format": "uri"},
        "instance": {"type": "string"},
        "account": {"type": "integer"},
    },
}


@pytest.fixture(scope="module")
def contract():
    try:
        path = contract_file("jobadder", "jobadder-openapi-v2.2024-08-30.json")
    except ContractMissing as missing:
        pytest.skip(str(missing))
    pytest.importorskip("openapi_schema_validator", reason="openapi-schema-validator missing: contract checks skipped")
    return OpenApi.load(path)


CONTRACT_PATHS = {
    "placements": ("/placements", "/placements/{placementId}", "/placements/deleted"),
    "candidates": ("/candidates", "/candidates/{candidateId}", "/candidates/deleted"),
    "contacts": ("/contacts", "/contacts/{contactId}", "/contacts/deleted"),
    "companies": ("/companies", "/companies/{companyId}", "/companies/deleted"),
    "users": ("/users", "/users/{userId}", None),
}


@pytest.mark.parametrize("resource", RESOURCES)
def test_contract_lists_details_and_deleted_lists_match_the_openapi_schemas(contract, fake, api, world, resource):
    list_path, detail_path, deleted_path = CONTRACT_PATHS[resource]
    bad = set(world.bad_placements) if resource == "placements" else set()
    params = {"limit": 1000, "include": ["Inactive", "Deleted"]} if resource == "users" else {"limit": 1000}
    page = api.ok(f"/{resource}", params)
    page["items"] = [item for item in page["items"] if item[ID_FIELDS[resource]] not in bad]
    contract.check(contract.response_schema(list_path), page)
    contract.check(contract.response_schema(list_path), api.ok(f"/{resource}", {"limit": 3, "offset": 3}))
    ids = [item_id for item_id in fake.ids(resource) if item_id not in bad]
    step = 1 if resource in ("placements", "users") else 7
    for item_id in ids[::step]:
        contract.check(contract.response_schema(detail_path), api.ok(f"/{resource}/{item_id}"))
    if deleted_path:
        contract.check(contract.response_schema(deleted_path), api.ok(f"/{resource}/deleted"))
    if resource != "users":
        contract.check(contract.response_schema(f"/{resource}/lists/status"), api.ok(f"/{resource}/lists/status"))


def test_contract_catches_the_bad_placements(contract, api, world):
    """The check has teeth: an unknown type and an impossible date fail the official schema."""
    schema = contract.response_schema("/placements/{placementId}")
    for placement_id, kind in world.bad_placements.items():
        problems = contract.errors(schema, api.ok(f"/placements/{placement_id}"))
        if kind in ("unknown_type", "invalid_date"):
            assert problems, kind
        else:
            assert not problems, (kind, problems)  # a missing or dangling reference is schema-valid


def test_contract_current_user_errors_and_token_answer(contract, fake, api):
    contract.check(contract.response_schema("/users/current"), api.ok("/users/current"))
    # 404: the spec documents an ErrorModel for candidates and companies; the fake sends it for all.
    contract.check(contract.response_schema("/candidates/{candidateId}", "404"), api.get("/candidates/1").json())
    for resource in RESOURCES:
        contract.check("ErrorModel", api.get(f"/{resource}/424242").json())
    contract.check("ErrorModel", api.get("/placements", {"limit": 5000}).json())
    contract.check("ErrorModel", Api(fake.issue_token("read_user")).get("/placements").json())
    callback = authorize(fake)
    answer = exchange(fake, callback["code"]).json()
    contract.check(TOKEN_SCHEMA, answer)
    contract.check(TOKEN_SCHEMA, refresh(fake, answer["refresh_token"]).json())
    spec_scopes = contract.spec["components"]["securitySchemes"]["jobadder_identity"]["flows"]
    assert spec_scopes["authorizationCode"]["tokenUrl"].endswith(urlsplit(fake.token_url).path)
    assert spec_scopes["authorizationCode"]["authorizationUrl"].endswith(urlsplit(fake.authorize_url).path)


def test_contract_placement_filters_exist_in_the_spec(contract):
    """Every list filter the fake implements is a parameter of that list in the spec (any casing)."""
    fake = FakeJobAdder.__new__(FakeJobAdder)  # only the filter table is needed
    for resource, path in (
        ("placements", "/placements"),
        ("candidates", "/candidates"),
        ("contacts", "/contacts"),
        ("companies", "/companies"),
        ("users", "/users"),
    ):
        names = {p["name"].lower() for p in contract.spec["paths"][path]["get"]["parameters"]}
        for aliases, _kind, _getter in fake._filters(resource):
            assert {alias.lower() for alias in aliases} <= names, (resource, aliases)


# ----------------------------------------------------------------------------- generator
def test_generator_is_deterministic_per_seed():
    first, again, other = generate_agency(seed=5), generate_agency(seed=5), generate_agency(seed=6)
    assert first == again
    assert first.placements != other.placements
    base = "http://fake/v2"
    with FakeJobAdder(world=first) as one, FakeJobAdder(world=again) as two:
        for placement_id in one.ids("placements")[:25]:
            assert one.placement_payload(placement_id, base) == two.placement_payload(placement_id, base)


def test_generator_covers_types_dates_currencies_and_people(world):
    notable = world.notable
    assert all(notable[kind] for kind in PLACEMENT_TYPES)
    for name in (
        "starts_yesterday",
        "starts_today",
        "starts_tomorrow",
        "ends_yesterday",
        "ends_today",
        "ends_tomorrow",
    ):
        assert notable[name], name
    assert notable["approved"] and notable["not_approved"] and notable["open_ended"]
    assert len(notable["unknown_currency"]) == 1 and notable["no_currency"] and notable["foreign_currency"]
    assert world.by_id("placements")[notable["unknown_currency"][0]].charge_currency == UNKNOWN_CURRENCY
    assert any(p.charge_currency == ACCOUNT_CURRENCY for p in world.placements)
    assert notable["fixed_fee_split"] and notable["multiple_recruiters"] and notable["owner_not_recruiter"]
    assert notable["credit"] and notable["no_contact"] and notable["no_billing"]
    (pair,) = notable["users_sharing_email"][:1]
    users = world.by_id("users")
    emails = [users[user_id].email for user_id in pair]
    assert emails[0] != emails[1] and emails[0].lower() == emails[1].lower()
    assert notable["users_without_email"] and notable["users_inactive"] and notable["users_deleted"]
    names = [f"{c.first_name} {c.last_name}" for c in world.candidates + world.contacts]
    assert any(not name.isascii() for name in names)
    assert sorted(world.bad_placements.values()) == sorted(BAD_KINDS)


def test_generator_world_is_coherent(world):
    candidates, companies = world.by_id("candidates"), world.by_id("companies")
    contacts, users = world.by_id("contacts"), world.by_id("users")
    deleted_candidates = {candidate_id for candidate_id, _when in world.deleted["candidates"]}
    for p in world.placements:
        assert p.owner_id in users and all(user_id in users for user_id, _split in p.recruiters)
        if p.bad in ("missing_candidate", "missing_company", "dangling_candidate"):
            continue
        assert p.candidate_id in candidates and p.candidate_id not in deleted_candidates
        assert p.company_id in companies
        assert p.contact_id is None or contacts[p.contact_id].company_id == p.company_id
        assert p.type in PLACEMENT_TYPES or p.bad == "unknown_type"
        if p.end_date is not None and p.bad != "invalid_date":
            assert p.end_date >= p.start_date
        assert p.created_at <= p.updated_at <= world.now
    assert all(company.main_contact_id is None or company.main_contact_id in contacts for company in companies.values())


def test_generator_builds_a_benchmark_world_in_seconds():
    started = time.perf_counter()
    big = generate_agency(seed=1, placements=10_000, users=50)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"10,000 placements took {elapsed:.1f} s"
    assert (len(big.placements), len(big.companies), len(big.contacts), len(big.users)) == (10_000, 4_000, 8_000, 50)
    assert len(big.candidates) >= 10_000
    assert sorted(set(big.bad_placements.values())) == sorted(BAD_KINDS)


def test_boundary_dates_follow_today():
    today = date(2027, 3, 1)  # a month boundary
    world = generate_agency(seed=2, placements=50, today=today)
    by_id = world.by_id("placements")
    assert all(by_id[pid].start_date == today for pid in world.notable["starts_today"])
    assert all(by_id[pid].end_date == date(2027, 2, 28) for pid in world.notable["ends_yesterday"])
    assert world.now == datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


# ----------------------------------------------------------------------------- sandbox
def test_sandbox_command_serves_until_ctrl_c():
    with served_alone("tests.fakes.jobadder", "--port", "0", "--seed", "1", "--placements", "30") as output:
        api_base = re.search(r"API base:\s+(\S+)", output).group(1)
        access = re.search(r"access token:\s+(\S+)", output).group(1)
        assert re.search(r"authorize URL:\s+http://127\.0\.0\.1:\d+/connect/authorize", output)
        answer = requests.get(f"{api_base}/placements", headers={"Authorization": f"Bearer {access}"}, timeout=5)
        assert answer.status_code == 200 and answer.json()["totalCount"] == 30


def _read_until(process, marker, timeout):
    """The command's output up to ``marker`` (unbuffered reads: select sees every chunk)."""
    output, deadline = b"", time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while marker.encode() not in output:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and process.poll() is None, f"no {marker!r} in: {output.decode()}"
            if selector.select(remaining):
                output += os.read(process.stdout.fileno(), 65536)
    return output.decode()
