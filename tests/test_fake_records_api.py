"""The test provider's records API: bearer auth, paging, incremental filter, bad records, faults."""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.fakes.oauth2 import ManualClock
from tests.fakes.records_api import (
    BAD_KINDS,
    HTML_ERROR_PAGE,
    MALFORMED_JSON,
    FakeRecordsApi,
    format_timestamp,
    parse_timestamp,
)

UTC = timezone.utc


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


@pytest.fixture
def api(clock):
    with FakeRecordsApi(clock=clock) as running:
        yield running


@pytest.fixture
def session(api):
    with requests.Session() as client:
        client.headers["Authorization"] = f"Bearer {api.issue_token('records.read')['access_token']}"
        yield client


def fetch_all(session, url, **params):
    """Follow ``links.next`` from the first page; every item and every page's answer."""
    items, pages = [], []
    answer = session.get(url, params=params, timeout=5)
    while True:
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append(page)
        items.extend(page["items"])
        if "next" not in page["links"]:
            return items, pages
        answer = session.get(page["links"]["next"], timeout=5)


def well_formed_time(value):
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


def well_formed(item):
    return "id" in item and isinstance(item.get("name"), str) and well_formed_time(item["updated_at"])


def test_api_requires_a_valid_bearer_token(api, clock):
    for path in ("/api/v1/me", "/api/v1/records", "/api/v1/records/count"):
        answer = requests.get(f"{api.url}{path}", timeout=5)
        assert answer.status_code == 401, path
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    token = api.issue_token()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = requests.get(f"{api.url}/api/v1/me", headers=headers, timeout=5)
    assert me.status_code == 200
    assert me.json() == {"account": "Fake Agency Ltd", "user": "Alex Admin"}
    clock.advance(api.access_token_lifetime)
    expired = requests.get(f"{api.url}/api/v1/me", headers=headers, timeout=5)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"
    fresh = {"Authorization": f"Bearer {api.issue_token()['access_token']}"}
    assert requests.get(f"{api.url}/api/v1/records", headers=fresh, timeout=5).status_code == 200
    api.expire_access_tokens()
    assert requests.get(f"{api.url}/api/v1/records", headers=fresh, timeout=5).status_code == 401


def test_seed_is_deterministic_realistic_and_ordered(clock):
    first, second, other = (FakeRecordsApi(clock=clock) for _ in range(3))
    first.seed(120, bad=4, seed=7)
    second.seed(120, bad=4, seed=7)
    other.seed(120, bad=4, seed=8)
    assert first.records == second.records
    assert first.records != other.records
    records = first.records
    assert records[0] == {
        "id": "R00001",
        "name": "Zoë Ångström",
        "email": records[0]["email"],
        "updated_at": "2026-11-20T10:00:00Z",
    }
    good = [record for record in records if record.get("id") not in first.bad_ids and "id" in record]
    assert any(record["email"] is None for record in good)
    assert any(record["email"] and "@example." in record["email"] for record in good)
    assert any(not record["name"].isascii() for record in good if isinstance(record["name"], str))
    keys = [(record["updated_at"], record["id"]) for record in good]
    assert keys == sorted(keys)
    assert len({stamp for stamp, _id in keys}) < len(keys), "some records share a timestamp"


def test_bad_records_are_malformed_in_varied_ways_on_different_pages(api, session):
    keys = api.seed(200, bad=4)
    assert len(api.bad_ids) == 4
    positions = sorted(keys.index(key) for key in api.bad_ids)
    assert len({position // 50 for position in positions}) == 4, positions
    items, pages = fetch_all(session, f"{api.url}/api/v1/records")
    assert len(pages) == 4 and len(items) == 200
    malformed = [item for item in items if not well_formed(item)]
    assert len(malformed) == 4
    assert sum("id" not in item for item in malformed) == 1
    assert sum("name" not in item for item in malformed) == 1
    assert sum("name" in item and not isinstance(item["name"], str) for item in malformed) == 1
    assert sum(not well_formed_time(item["updated_at"]) for item in malformed) == 1
    good = [item for item in items if well_formed(item)]
    assert all(item["email"] is None or item["email"].isascii() for item in good)
    assert set(BAD_KINDS) == {
        "missing_name",
        "name_not_string",
        "updated_at_not_date",
        "missing_id",
    }


def test_paging_through_links_next_returns_each_record_once(api, session):
    api.seed(237, bad=5, seed=3)
    items, pages = fetch_all(session, f"{api.url}/api/v1/records", limit=20)
    assert len(pages) == 12
    assert all(page["total"] == 237 for page in pages)
    assert [len(page["items"]) for page in pages] == [20] * 11 + [17]
    assert items == api.records
    ids = [item["id"] for item in items if "id" in item]
    assert len(ids) == len(set(ids)) == 236
    next_url = pages[0]["links"]["next"]
    assert next_url.startswith(f"{api.url}/api/v1/records?")
    assert "limit=20" in next_url and "offset=20" in next_url
    default = session.get(f"{api.url}/api/v1/records", timeout=5).json()
    assert len(default["items"]) == 50 and "offset=50" in default["links"]["next"]


def test_limit_and_offset_are_validated(api, session):
    api.seed(3)
    url = f"{api.url}/api/v1/records"
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"offset": -1}):
        answer = session.get(url, params=params, timeout=5)
        assert answer.status_code == 400, params
        assert answer.json()["error"] == "invalid_request"
    assert len(session.get(url, params={"limit": 100}, timeout=5).json()["items"]) == 3
    beyond = session.get(url, params={"offset": 10}, timeout=5).json()
    assert beyond == {"items": [], "total": 3, "links": {}}


def test_updated_since_filters_inclusively_and_count_agrees(api, session, clock):
    api.seed(60, seed=1)
    later = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    touched = ["R00059", "R00003", "R00017"]
    api.touch(touched, later)
    since = format_timestamp(later)
    items, _pages = fetch_all(session, f"{api.url}/api/v1/records", updated_since=since, limit=2)
    assert [item["id"] for item in items] == ["R00003", "R00017", "R00059"]
    assert all(item["updated_at"] == "2026-12-01T09:30:00Z" for item in items)
    count = session.get(f"{api.url}/api/v1/records/count", params={"updated_since": since}, timeout=5)
    assert count.json() == {"count": 3}
    just_after = format_timestamp(later + timedelta(seconds=1))
    answer = session.get(f"{api.url}/api/v1/records", params={"updated_since": just_after}, timeout=5).json()
    assert answer == {"items": [], "total": 0, "links": {}}
    offset = session.get(
        f"{api.url}/api/v1/records/count", params={"updated_since": "2026-12-01T10:30:00+01:00"}, timeout=5
    )
    assert offset.json() == {"count": 3}
    assert session.get(f"{api.url}/api/v1/records/count", timeout=5).json() == {"count": 60}
    for bad in ("2026-12-01T09:30:00", "yesterday"):
        answer = session.get(f"{api.url}/api/v1/records", params={"updated_since": bad}, timeout=5)
        assert answer.status_code == 400, bad
    # add() and touch() default to the clock's now.
    clock.advance(1800)
    added = api.add("Ana Ní Bhriain", None, phone="+353 1 555 0100")
    assert added["updated_at"] == "2026-12-01T00:30:00Z" and added["phone"] == "+353 1 555 0100"
    api.touch("R00001")
    assert api.get("R00001")["updated_at"] == "2026-12-01T00:30:00Z"
    recent = session.get(
        f"{api.url}/api/v1/records", params={"updated_since": "2026-12-01T00:00:00Z"}, timeout=5
    ).json()
    assert [item["id"] for item in recent["items"]] == ["R00001", "R00061", "R00003", "R00017", "R00059"]


def test_fault_rate_limit_with_retry_after(api, session):
    api.seed(5)
    api.inject(status=429, retry_after=7)
    limited = session.get(f"{api.url}/api/v1/records", timeout=5)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["error"] == "rate_limited"
    assert api.pending_faults == 0
    assert session.get(f"{api.url}/api/v1/records", timeout=5).status_code == 200
    # Faulted requests are recorded like the others.
    assert [r.path for r in api.requests_to("/api/v1/records")] == ["/api/v1/records"] * 2


@pytest.mark.parametrize("status", [500, 503])
def test_fault_server_errors_repeat_times(api, session, status):
    api.inject(status=status, times=2)
    assert api.pending_faults == 2
    for _ in range(2):
        answer = session.get(f"{api.url}/api/v1/me", timeout=5)
        assert answer.status_code == status
        assert answer.json()["error"] == "server_error"
    assert session.get(f"{api.url}/api/v1/me", timeout=5).status_code == 200


def test_fault_html_error_page_with_status_200(api, session):
    api.inject(status=200, body=HTML_ERROR_PAGE, content_type="text/html; charset=utf-8")
    answer = session.get(f"{api.url}/api/v1/records", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "Bad Gateway" in answer.text
    with pytest.raises(ValueError):
        answer.json()


def test_fault_malformed_json(api, session):
    api.inject(body=MALFORMED_JSON, content_type="application/json")
    answer = session.get(f"{api.url}/api/v1/records", timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)


def test_fault_slow_response_provokes_client_timeouts(api, session):
    api.seed(2)
    api.inject(delay=1.5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(f"{api.url}/api/v1/records", timeout=0.3)
    assert time.monotonic() - started < 1.4
    api.inject(delay=0.3)
    started = time.monotonic()
    slow = session.get(f"{api.url}/api/v1/records", timeout=5)
    assert time.monotonic() - started >= 0.3
    assert slow.status_code == 200 and slow.json()["total"] == 2


def test_faults_apply_in_order_and_only_under_their_path_prefix(api, session):
    api.inject(status=503, path_prefix="/oauth/token")
    api.inject(status=429, retry_after="Wed, 02 Dec 2026 10:00:00 GMT")
    api.inject(status=500)
    assert session.get(f"{api.url}/api/v1/me", timeout=5).status_code == 429
    assert session.get(f"{api.url}/api/v1/me", timeout=5).status_code == 500
    assert session.get(f"{api.url}/api/v1/me", timeout=5).status_code == 200
    refresh_token = api.issue_token()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    credentials = (api.client_id, api.client_secret)
    assert requests.post(api.token_url, data=data, auth=credentials, timeout=5).status_code == 503
    assert requests.post(api.token_url, data=data, auth=credentials, timeout=5).status_code == 200
    api.inject(status=500, times=3)
    api.clear_faults()
    assert api.pending_faults == 0
    with pytest.raises(ValueError):
        api.inject()
