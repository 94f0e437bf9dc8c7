"""The generic HTTP client and the rate limiter, against a real HTTP server on loopback.

No mocking of ``requests``: a ``FakeService`` answers what each test scripts. Time is fake:
the client's and the limiter's ``sleep`` record the durations and move a fake clock, so no
test really waits (except the read-timeout test, for a tenth of a second).
"""

import email.utils
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import requests
from werkzeug.wrappers import Response

from odoo.tests import BaseCase, tagged

from odoo.addons.recruitment_sync.services.http_client import (
    AuthError,
    HttpClient,
    NotFoundError,
    PermanentError,
    RetryableError,
    SyncError,
    extract_remote_message,
    mask,
    parse_retry_after,
)
from odoo.addons.recruitment_sync.services.rate_limit import (
    RateLimiter,
    RateLimitWaitTooLong,
    drop_rate_limiter,
    get_rate_limiter,
)

# isort: split
from tests.fakes.service import FakeService

LOGGER = "odoo.addons.recruitment_sync.services.http_client"
HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class FakeTime:
    """A monotonic clock that only ``sleep`` moves; every sleep is recorded."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []
        self._lock = threading.Lock()

    def clock(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class RecordingLimiter(RateLimiter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pauses = []

    def pause_until(self, deadline):
        self.pauses.append(deadline)
        return super().pause_until(deadline)


def json_answer(payload, status=200, headers=None):
    return lambda: FakeService.json_response(payload, status=status, headers=headers)


def text_answer(body, status=200, content_type="text/plain", headers=None):
    return lambda: Response(body, status=status, content_type=content_type, headers=headers)


class ScriptedService(FakeService):
    """``/v2/<name>`` answers what the test queued with ``script(name, ...)``, then its route."""

    rules = (("/v2/<path:name>", "scripted", ["GET", "POST", "PUT", "PATCH", "DELETE"]),)

    def __init__(self):
        super().__init__()
        self.scripts = {}
        self.valid_token = "new-token"

    def reset(self):
        with self._lock:
            self.scripts.clear()
            self.requests.clear()

    def script(self, name, *answers):
        with self._lock:
            self.scripts.setdefault(name, []).extend(answers)

    def on_scripted(self, request, name):
        with self._lock:
            queue = self.scripts.get(name)
            answer = queue.pop(0) if queue else None
        if answer is not None:
            return answer()
        route = getattr(self, "route_" + name, None)
        if route is None:
            return self.json_response({"message": f"nothing scripted for {name}"}, status=404)
        return route(request)

    def route_ok(self, request):
        return self.json_response({"ok": True})

    def route_slow(self, request):
        time.sleep(0.5)
        return self.json_response({"late": True})

    def route_secure(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.valid_token}":
            return self.json_response({"message": "The access token expired"}, status=401)
        return self.json_response({"secret": "data"})

    def route_pages(self, request):
        page = int(request.args.get("page", 1))
        payload = {"items": [page * 10 + 1, page * 10 + 2], "links": {}}
        if page < 3:
            payload["links"]["next"] = f"{self.url}/v2/pages?page={page + 1}&limit=2"
        return self.json_response(payload)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestHttpClient(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = ScriptedService().start()
        cls.addClassCleanup(cls.service.stop)

    def setUp(self):
        super().setUp()
        self.service.reset()
        self.time = FakeTime()

    def make_client(self, **kwargs):
        kwargs.setdefault("name", "JobAdder")
        kwargs.setdefault("sleep", self.time.sleep)
        return HttpClient(f"{self.service.url}/v2", **kwargs)

    def make_limiter(self, windows=(), max_concurrent=None, cls=RateLimiter):
        return cls(windows, max_concurrent, clock=self.time.clock, sleep=self.time.sleep)

    # -- success -------------------------------------------------------------------------
    def test_json_answer_empty_answer_and_raw(self):
        client = self.make_client()
        self.service.script("items", json_answer({"id": 7}), text_answer("", status=204))
        self.assertEqual(client.post("items", json={"name": "x"}), {"id": 7})
        self.assertIsNone(client.delete("/items"))
        response = client.get("ok", raw=True)
        self.assertIsInstance(response, requests.Response)
        self.assertEqual(response.json(), {"ok": True})
        self.assertEqual(client.calls, 3)
        post = self.service.requests_to("/v2/items", method="POST")[0]
        self.assertEqual(post.json(), {"name": "x"})
        self.assertEqual(post.headers["Accept"], "application/json")

    def test_build_url_joins_base_and_path(self):
        for base in ("https://api.example.com/v2", "https://api.example.com/v2/"):
            client = HttpClient(base)
            self.assertEqual(client.build_url("placements"), "https://api.example.com/v2/placements")
            self.assertEqual(client.build_url("/placements/7"), "https://api.example.com/v2/placements/7")
            self.assertEqual(client.build_url(""), "https://api.example.com/v2")
            absolute = "https://api.example.com/v2/placements?offset=50"
            self.assertEqual(client.build_url(absolute), absolute)

    def test_follows_absolute_next_links(self):
        client = self.make_client()
        items, url = [], "pages"
        while url:
            page = client.get(url)
            items += page["items"]
            url = page["links"].get("next")
        self.assertEqual(items, [11, 12, 21, 22, 31, 32])
        self.assertEqual(
            [(r.path, r.args) for r in self.service.requests_to("/v2/pages")],
            [
                ("/v2/pages", {}),
                ("/v2/pages", {"page": "2", "limit": "2"}),
                ("/v2/pages", {"page": "3", "limit": "2"}),
            ],
        )

    def test_refuses_absolute_urls_of_other_hosts(self):
        client = self.make_client(auth=lambda: {"Authorization": "Bearer tok"})
        other = f"http://localhost:{self.service.port}/v2/ok"
        with self.assertRaises(PermanentError) as caught:
            client.get(other)
        self.assertIn("refused to call", str(caught.exception))
        self.assertEqual(client.calls, 0)
        self.assertEqual(self.service.requests, [])

    def test_calls_counted_across_threads(self):
        client = self.make_client()
        threads = [threading.Thread(target=lambda: [client.get("ok") for _i in range(5)]) for _t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(client.calls, 20)
        self.assertEqual(len(self.service.requests_to("/v2/ok")), 20)

    # -- retries -------------------------------------------------------------------------
    def test_429_retry_after_then_success(self):
        limiter = self.make_limiter(cls=RecordingLimiter)
        client = self.make_client(rate_limiter=limiter)
        self.service.script(
            "items",
            json_answer({"message": "Rate limit exceeded"}, status=429, headers={"Retry-After": "7"}),
            json_answer({"id": 1}),
        )
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.assertEqual(client.get("items"), {"id": 1})
        self.assertEqual(self.time.sleeps, [7.0])
        self.assertEqual(limiter.pauses, [1007.0], "other threads must wait for the Retry-After too")
        self.assertEqual(client.calls, 2)
        self.assertIn("429 Too Many Requests", logs.output[0])
        self.assertIn("retry 1/3 in 7.0 s", logs.output[0])

    def test_retry_after_as_http_date(self):
        client = self.make_client()
        when = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
        self.service.script(
            "items",
            text_answer("busy", status=503, headers={"Retry-After": when}),
            json_answer([1]),
        )
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(client.get("items"), [1])
        [slept] = self.time.sleeps
        self.assertTrue(27 <= slept <= 30, slept)

    def test_long_retry_after_is_not_waited_in_process(self):
        limiter = self.make_limiter(cls=RecordingLimiter)
        client = self.make_client(rate_limiter=limiter)
        self.service.script(
            "items",
            json_answer({"Message": "Daily limit reached"}, status=429, headers={"Retry-After": "3600"}),
        )
        with self.assertRaises(RetryableError) as caught:
            client.get("items")
        self.assertEqual(caught.exception.retry_after, 3600.0)
        self.assertEqual(caught.exception.status, 429)
        self.assertIn("Daily limit reached", str(caught.exception))
        self.assertEqual(self.time.sleeps, [])
        self.assertEqual(client.calls, 1)
        self.assertEqual(limiter.pauses, [4600.0])
        self.assertEqual(limiter.seconds_until_allowed(), 3600.0)

    def test_503_twice_then_success_with_backoff(self):
        client = self.make_client(backoff_base=1.0)
        self.service.script(
            "items",
            text_answer("down", status=503),
            text_answer("down", status=503),
            json_answer({"id": 3}),
        )
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.assertEqual(client.get("items"), {"id": 3})
        self.assertEqual(len(self.time.sleeps), 2)
        first, second = self.time.sleeps
        self.assertTrue(1.0 <= first <= 1.5, first)
        self.assertTrue(2.0 <= second <= 3.0, second)
        self.assertEqual(len(logs.output), 2)
        self.assertEqual(client.calls, 3)

    def test_backoff_is_capped(self):
        client = self.make_client(backoff_base=40.0, backoff_max=60.0)
        self.service.script("items", *[text_answer("oops", status=500)] * 3, json_answer({}))
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(client.get("items"), {})
        self.assertEqual(len(self.time.sleeps), 3)
        self.assertTrue(40.0 <= self.time.sleeps[0] <= 60.0)
        self.assertEqual(self.time.sleeps[1:], [60.0, 60.0])

    def test_html_page_until_retries_are_exhausted(self):
        client = self.make_client(max_retries=3)
        self.service.script("items", *[text_answer(HTML_PAGE, content_type="text/html")] * 4)
        with self.assertLogs(LOGGER, "WARNING"), self.assertRaises(RetryableError) as caught:
            client.get("items")
        error = caught.exception
        self.assertIn("answered with an HTML page instead of JSON to GET /items", str(error))
        self.assertIn("gave up after 4 attempts", str(error))
        self.assertEqual(error.kind, "retryable")
        self.assertEqual(len(self.time.sleeps), 3)
        self.assertEqual(len(self.service.requests_to("/v2/items")), 4)

    def test_malformed_json_is_retried(self):
        client = self.make_client()
        self.service.script(
            "items",
            text_answer('{"items": [1, 2', content_type="application/json"),
            json_answer({"items": [1, 2]}),
        )
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.assertEqual(client.get("items"), {"items": [1, 2]})
        self.assertIn("malformed JSON", logs.output[0])
        self.service.script("items", text_answer('{"items": [1, 2', content_type="application/json"))
        with self.assertRaises(RetryableError) as caught:
            self.make_client(max_retries=0).get("items")
        self.assertIn(
            'answered GET /items with malformed JSON (200 OK): "{"items": [1, 2"',
            str(caught.exception),
        )

    def test_connection_refused(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = HttpClient(f"http://127.0.0.1:{port}/v2", name="Xero", max_retries=2, sleep=self.time.sleep)
        with self.assertLogs(LOGGER, "WARNING"), self.assertRaises(RetryableError) as caught:
            client.get("Invoices")
        self.assertIn("could not reach Xero for GET /Invoices: connection refused", str(caught.exception))
        self.assertIn("gave up after 3 attempts", str(caught.exception))
        self.assertEqual(client.calls, 3)
        self.assertEqual(len(self.time.sleeps), 2)

    def test_read_timeout(self):
        client = self.make_client(timeout=(2, 0.1), max_retries=1)
        with self.assertLogs(LOGGER, "WARNING"), self.assertRaises(RetryableError) as caught:
            client.get("slow")
        self.assertIn("JobAdder did not answer GET /slow: timed out after 0.1 s", str(caught.exception))
        self.assertEqual(client.calls, 2)
        self.assertIsNone(caught.exception.status)

    def test_rate_limiter_is_acquired_for_every_attempt(self):
        limiter = self.make_limiter([(1, 60)])
        client = self.make_client(rate_limiter=limiter)
        self.service.script("items", text_answer("down", status=502), json_answer({"id": 1}))
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(client.get("items"), {"id": 1})
        backoff, limited = self.time.sleeps
        self.assertAlmostEqual(backoff + limited, 60.0)

    def test_call_limit_used_up_raises_without_sending(self):
        limiter = self.make_limiter([(1, 86400)])
        client = self.make_client(rate_limiter=limiter)
        client.get("ok")
        with self.assertRaises(RetryableError) as caught:
            client.get("ok")
        self.assertEqual(caught.exception.retry_after, 86400.0)
        self.assertIn("call limit is used up (1 calls per 86400 s)", str(caught.exception))
        self.assertEqual(client.calls, 1)
        self.assertEqual(self.time.sleeps, [])

    def test_remaining_calls_header_feeds_the_limiter(self):
        class XeroLikeClient(HttpClient):
            rate_limit_headers = (("X-MinLimit-Remaining", 60),)

        limiter = self.make_limiter()
        client = XeroLikeClient(f"{self.service.url}/v2", rate_limiter=limiter, sleep=self.time.sleep)
        self.service.script("items", json_answer([], headers={"X-MinLimit-Remaining": "0"}))
        client.get("items")
        self.assertEqual(limiter.seconds_until_allowed(), 60.0)

    # -- authentication ------------------------------------------------------------------
    def test_401_is_an_auth_error(self):
        client = self.make_client(auth=lambda: {"Authorization": "Bearer old-token"})
        with self.assertRaises(AuthError) as caught:
            client.get("secure")
        error = caught.exception
        self.assertEqual((error.status, error.kind), (401, "auth"))
        self.assertIn(
            'JobAdder answered 401 Unauthorized to GET /secure: "The access token expired"',
            str(error),
        )
        self.assertIn("reconnect the integration", str(error))
        self.assertEqual(client.calls, 1)

    def test_401_refreshes_the_token_once(self):
        state = {"token": "old-token", "refreshes": 0}

        def refresh():
            state["refreshes"] += 1
            state["token"] = "new-token"

        client = self.make_client(
            auth=lambda: {"Authorization": f"Bearer {state['token']}"},
            on_auth_error=refresh,
        )
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(client.get("secure"), {"secret": "data"})
        self.assertEqual(state["refreshes"], 1)
        self.assertEqual(
            [r.headers["Authorization"] for r in self.service.requests_to("/v2/secure")],
            ["Bearer old-token", "Bearer new-token"],
        )
        self.assertEqual(self.time.sleeps, [])

    def test_second_401_after_refresh_is_an_auth_error(self):
        refreshes = []
        client = self.make_client(
            auth=lambda: {"Authorization": "Bearer revoked"}, on_auth_error=lambda: refreshes.append(1)
        )
        with self.assertLogs(LOGGER, "WARNING"), self.assertRaises(AuthError):
            client.get("secure")
        self.assertEqual(refreshes, [1])
        self.assertEqual(client.calls, 2)

    def test_400_invalid_grant_is_an_auth_error(self):
        client = self.make_client()
        self.service.script(
            "token",
            json_answer({"error": "invalid_grant", "error_description": "Refresh token revoked"}, status=400),
        )
        with self.assertRaises(AuthError) as caught:
            client.post("token", data={"grant_type": "refresh_token"})
        self.assertEqual(caught.exception.status, 400)
        self.assertIn('"Refresh token revoked"', str(caught.exception))
        self.assertIn("invalid_grant", str(caught.exception))

    # -- permanent errors ----------------------------------------------------------------
    def test_422_with_message_is_permanent(self):
        client = self.make_client()
        self.service.script("placements", json_answer({"message": "Start date is required"}, status=422))
        with self.assertRaises(PermanentError) as caught:
            client.post("placements", json={"jobId": 1})
        error = caught.exception
        self.assertEqual(
            str(error),
            'JobAdder answered 422 Unprocessable Entity to POST /placements: "Start date is required"',
        )
        self.assertEqual(
            (error.status, error.kind, error.remote_message),
            (422, "permanent", "Start date is required"),
        )
        self.assertEqual(client.calls, 1)
        self.assertEqual(self.time.sleeps, [])

    def test_403_mentions_permission_and_404_is_not_found(self):
        client = self.make_client()
        self.service.script("invoices", json_answer({"detail": "Forbidden"}, status=403))
        with self.assertRaises(PermanentError) as caught:
            client.get("invoices")
        self.assertIn("lacks the permission or OAuth scope", str(caught.exception))
        self.assertNotIsInstance(caught.exception, AuthError)
        with self.assertRaises(NotFoundError) as caught:
            client.get("nothing-here")
        self.assertEqual(caught.exception.status, 404)

    def test_provider_error_details_and_text_bodies(self):
        class ProviderClient(HttpClient):
            def remote_error_details(self, payload):  # the provider's own error format
                return [problem["text"] for problem in (payload or {}).get("Problems", ())]

        body = {"Message": "A validation exception occurred", "Problems": [{"text": "Email address must be valid."}]}
        self.service.script("Contacts", json_answer(body, status=400), json_answer(body, status=400))
        with self.assertRaises(PermanentError) as caught:
            self.make_client(name="Generic").post("Contacts", json={})
        self.assertEqual(caught.exception.remote_message, "A validation exception occurred", "the core knows no format")
        client = ProviderClient(f"{self.service.url}/v2", name="Provider", sleep=self.time.sleep)
        with self.assertRaises(PermanentError) as caught:
            client.post("Contacts", json={})
        self.assertIn('"A validation exception occurred: Email address must be valid."', str(caught.exception))
        self.service.script("Contacts", text_answer("x" * 1000, status=400))
        with self.assertRaises(PermanentError) as caught:
            client.post("Contacts", json={})
        self.assertEqual(caught.exception.remote_message, "x" * 300)

    def test_extract_remote_message(self):
        self.assertEqual(extract_remote_message({"Detail": "Bad id"}), "Bad id")
        self.assertEqual(extract_remote_message({"error": {"message": "Nope"}}), "Nope")
        self.assertEqual(
            extract_remote_message(
                {"title": "Invalid", "errors": {"StartDate": ["Required."], "Rate": ["Too low."]}},
            ),
            "Invalid: Required.; Too low.",
        )
        self.assertEqual(
            extract_remote_message({"errors": [{"field": "startDate", "message": "Start date is required"}]}),
            "Start date is required",
        )
        self.assertEqual(extract_remote_message(None, "  Service\n  Unavailable "), "Service Unavailable")
        self.assertIsNone(extract_remote_message(None, ""))

    def test_parse_retry_after(self):
        now = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
        self.assertEqual(parse_retry_after("12"), 12.0)
        self.assertEqual(parse_retry_after("Sat, 01 Mar 2025 12:00:30 GMT", now=now), 30.0)
        self.assertEqual(parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", now=now), 0.0)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))

    def test_error_classes(self):
        self.assertEqual(
            [cls.kind for cls in (RetryableError, AuthError, PermanentError, NotFoundError)],
            ["retryable", "auth", "permanent", "permanent"],
        )
        self.assertTrue(issubclass(NotFoundError, SyncError))

    # -- secrets -------------------------------------------------------------------------
    def test_secrets_never_logged(self):
        client = self.make_client(
            secrets=("client-s3cret",),
            auth=lambda: {"Authorization": "Bearer tok-abc123"},
        )
        self.service.script(
            "echo",
            json_answer({"message": "token tok-abc123 is over its limit"}, status=503),
            json_answer({"access_token": "tok-abc123"}),
        )
        with self.assertLogs(LOGGER, "DEBUG") as logs:
            client.get("echo", params={"client_secret": "client-s3cret", "page": 2})
        output = "\n".join(logs.output)
        self.assertNotIn("tok-abc123", output)
        self.assertNotIn("client-s3cret", output)
        self.assertIn(f"GET {self.service.url}/v2/echo?client_secret=***&page=*** -> 503", output)
        self.assertIn("token *** is over its limit", output)
        self.assertIn("attempt 2", output)
        # the token was sent all the same
        self.assertEqual(
            self.service.requests_to("/v2/echo")[0].headers["Authorization"],
            "Bearer tok-abc123",
        )

    def test_query_values_masked_in_urllib3_debug_lines(self):
        """urllib3 logs the path and query of every request at DEBUG: a token sent in the query is masked."""
        client = self.make_client()
        with self.assertLogs("urllib3", "DEBUG") as logs:
            client.get("ok", params={"api_token": "query-s3cret", "page": 2})
        output = "\n".join(logs.output)
        self.assertIn('"GET /v2/ok?api_token=***&page=*** HTTP/', output)
        self.assertNotIn("query-s3cret", output)

    def test_secrets_never_in_error_messages(self):
        client = self.make_client(auth=lambda: {"Authorization": "Bearer tok-abc123"})
        self.service.script("echo", json_answer({"message": "bad token tok-abc123"}, status=400))
        with self.assertRaises(PermanentError) as caught:
            client.get("echo")
        self.assertIn('"bad token ***"', str(caught.exception))

    def test_mask(self):
        text = (
            "POST /token?access_token=AAA&x=1 body refresh_token=BBB&client_secret=CCC&password=DDD "
            '{"access_token": "EEE", "refresh_token":"FFF"} {\'client_secret\': \'GGG\'} '
            "Authorization: Bearer HHH.III-JJJ headers={'Authorization': 'Basic S0tL'} "
            "my-api-key-MMM sent Bearer NNN.OOO"
        )
        masked = mask(text, secrets=("my-api-key-MMM",))
        for secret in ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH", "JJJ", "S0tL", "MMM", "NNN"):
            self.assertNotIn(secret, masked)
        self.assertIn("x=1", masked)
        self.assertIn('"access_token": "***"', masked)
        self.assertEqual(mask("pass=a b+c", secrets=("a b+c",)), "pass=***")
        self.assertEqual(mask("q=a%20b%2Bc", secrets=("a b+c",)), "q=***")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRateLimiter(BaseCase):
    def setUp(self):
        super().setUp()
        self.time = FakeTime(start=0.0)

    def make_limiter(self, windows=(), max_concurrent=None):
        return RateLimiter(windows, max_concurrent, clock=self.time.clock, sleep=self.time.sleep)

    def call(self, limiter, times=1):
        for _i in range(times):
            with limiter.acquire():
                pass

    def test_sliding_window(self):
        limiter = self.make_limiter([(3, 60)])
        self.call(limiter, 3)
        self.assertEqual(self.time.sleeps, [])
        self.assertEqual(limiter.seconds_until_allowed(), 60.0)
        self.call(limiter)
        self.assertEqual(self.time.sleeps, [60.0])

    def test_window_slides(self):
        limiter = self.make_limiter([(3, 60), (10, 3600)])
        for _i in range(3):
            self.call(limiter)
            self.time.now += 10  # calls at 0, 10, 20
        self.call(limiter)  # at 30: waits until the call at 0 leaves the window
        self.assertEqual(self.time.sleeps, [30.0])
        self.assertEqual(self.time.now, 60.0)
        self.call(limiter, 6)  # 10 calls in the hour, the last ones spaced by the minute window
        self.assertEqual(self.time.now, 180.0)
        self.time.sleeps.clear()
        self.call(limiter)  # the hourly window frees up when the call at 0 is an hour old
        self.assertEqual(self.time.sleeps, [3420.0])
        self.assertEqual(self.time.now, 3600.0)

    def test_calls_count_from_their_answer_when_asked(self):
        limiter = RateLimiter([(2, 60)], clock=self.time.clock, sleep=self.time.sleep, count_until_answered=True)
        with limiter.acquire():
            self.time.now += 5  # the first call's answer takes 5 s
        with limiter.acquire():
            pass  # at 5, answered at once
        self.call(limiter)  # the first call counts from its answer at 5: the third waits until 65
        self.assertEqual(self.time.sleeps, [60.0])
        self.assertEqual(self.time.now, 65.0)
        with limiter.acquire():  # a slow answer that comes after a quicker later one stays in order
            self.time.now += 3
        self.assertEqual(list(limiter._calls[(2, 60.0)]), [65.0, 68.0])

    def test_max_wait(self):
        limiter = self.make_limiter([(1, 86400)])
        self.call(limiter)
        with self.assertRaises(RateLimitWaitTooLong) as caught, limiter.acquire(max_wait=60):
            pass
        self.assertEqual(caught.exception.seconds, 86400.0)
        self.assertEqual(self.time.sleeps, [])
        self.assertEqual(limiter.active, 0)

    def test_max_concurrent_with_threads(self):
        limiter = RateLimiter(max_concurrent=2)
        lock = threading.Lock()
        state = {"current": 0, "peak": 0}

        def work():
            with limiter.acquire():
                with lock:
                    state["current"] += 1
                    state["peak"] = max(state["peak"], state["current"])
                time.sleep(0.05)
                with lock:
                    state["current"] -= 1

        threads = [threading.Thread(target=work) for _i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(state["peak"], 2)
        self.assertEqual(limiter.active, 0)

    def test_slot_released_on_error(self):
        limiter = self.make_limiter(max_concurrent=1)
        with self.assertRaises(ValueError), limiter.acquire():
            raise ValueError("boom")
        self.assertEqual(limiter.active, 0)
        self.call(limiter)

    def test_pause_until(self):
        limiter = self.make_limiter([(100, 60)])
        limiter.pause_until(30.0)
        limiter.pause_until(10.0)  # an earlier deadline never shortens a pause
        self.assertEqual(limiter.seconds_until_allowed(), 30.0)
        self.call(limiter)
        self.assertEqual(self.time.sleeps, [30.0])
        self.assertEqual(limiter.seconds_until_allowed(), 0.0)

    def test_update_remaining(self):
        limiter = self.make_limiter([(60, 60)])
        limiter.update_remaining(60, 2)
        self.call(limiter, 2)
        self.assertEqual(self.time.sleeps, [])
        self.call(limiter)
        self.assertEqual(self.time.sleeps, [60.0])
        limiter.update_remaining(86400, 5)  # a window the limiter was not configured with
        self.call(limiter, 5)
        self.assertEqual(limiter.seconds_until_allowed(), 86400.0)

    def test_registry_shares_and_reconfigures(self):
        key, other = ("db", 1), ("db", 2)
        self.addCleanup(drop_rate_limiter, key)
        self.addCleanup(drop_rate_limiter, other)
        limiter = get_rate_limiter(key, [(60, 60)])
        self.assertIs(get_rate_limiter(key, [(60, 60)]), limiter)
        self.assertIsNot(get_rate_limiter(other, [(60, 60)]), limiter)
        with limiter.acquire():
            pass
        self.assertIs(get_rate_limiter(key, [(1, 60), (5000, 86400)], max_concurrent=5), limiter)
        self.assertEqual(limiter.windows, ((1, 60.0), (5000, 86400.0)))
        self.assertEqual(limiter.max_concurrent, 5)
        self.assertGreater(limiter.seconds_until_allowed(), 0, "calls made before reconfiguring still count")

    def test_invalid_windows(self):
        with self.assertRaises(ValueError):
            RateLimiter([(0, 60)])
        with self.assertRaises(ValueError):
            RateLimiter(max_concurrent=0)
