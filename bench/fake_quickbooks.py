"""The fake QuickBooks Online of ``tests/fakes`` in a process of its own, enforcing QuickBooks'
limits on the real clock (500 requests a minute, 10 a second, 10 at once, 40 batches a minute).

``bench/run.py`` starts it; it prints one JSON line (its addresses, the OAuth2 client, the
company) and serves until its stdin closes. Control routes, never counted as API calls:

* ``POST /bench/token``: a token answer for the UK company, as after the consent flow;
* ``GET /bench/stats``: API and batch calls, 429s by limit, duplicates, replays, timeouts;
* ``POST /bench/reset``: forget the calls counted so far, so the measured export starts with the
  limits untouched;
* ``POST /bench/timeouts?after=20,40&delay=4``: the ``POST /batch`` calls number 20 and 40 of the
  measured export are committed, then their answer hangs ``delay`` seconds, past the connector's
  read timeout (a timeout after commit).

XSD validation is off here (the tests do it): this process measures pacing, not contracts.
"""

import argparse
import logging
import os
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import monotonic

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("FAKE_QBO_VALIDATE", "0")

from bench.fake_process import serve  # noqa: E402
from tests.fakes.quickbooks import FakeQuickBooks  # noqa: E402  (on the path set above)
from tests.fakes.quickbooks_data import generate_world  # noqa: E402

CONTROL_PREFIX = "/bench/"


class BenchFakeQuickBooks(FakeQuickBooks):
    rules = (
        (f"{CONTROL_PREFIX}token", "bench_token", ["POST"]),
        (f"{CONTROL_PREFIX}stats", "bench_stats", ["GET"]),
        (f"{CONTROL_PREFIX}reset", "bench_reset", ["POST"]),
        (f"{CONTROL_PREFIX}timeouts", "bench_timeouts", ["POST"]),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bench_lock = threading.Lock()
        self._timeouts_at = set()
        self._timeout_delay = 0.0
        self._batches_seen = 0
        self._batch_arrivals = []  # time.monotonic() of each /batch call (one clock for every process)
        self.timeouts_injected = 0

    def on_bench_token(self, request):
        return self.json_response(self.issue_token(self.realm_ids[1]))

    def on_bench_stats(self, request):
        with self._lock:
            counts = {route: n for route, n in self.route_counts.items() if n}
            self.requests.clear()  # keep the fake's memory bounded
        return self.json_response(
            {
                "route_counts": counts,
                "api_calls": self.api_calls,
                "batch_calls": self.batch_calls,
                "served_429": dict(self.served_429),
                "duplicates": self.duplicate_count(),
                "idempotent_replays": self.idempotent_replays,
                "timeouts_injected": self.timeouts_injected,
                "minimum_seconds": self.minimum_seconds(self.api_calls, self.batch_calls),
                "batch_arrivals": list(self._batch_arrivals),
            }
        )

    def on_bench_reset(self, request):
        self.reset_rate_limits()
        with self._lock:
            self.route_counts = Counter()
            self.served_429.clear()
            self.api_calls = self.batch_calls = self.idempotent_replays = 0
        with self._bench_lock:
            self._batches_seen = 0
            self._batch_arrivals = []
        return self.json_response({"reset": True})

    def on_bench_timeouts(self, request):
        with self._bench_lock:
            self._timeouts_at = {int(n) for n in request.args.get("after", "").split(",") if n.strip()}
            self._timeout_delay = float(request.args.get("delay", "5"))
        return self.json_response({"armed": sorted(self._timeouts_at)})

    def on_batch(self, request, realm_id):
        with self._bench_lock:
            self._batches_seen += 1
            self._batch_arrivals.append(monotonic())
            if self._batches_seen in self._timeouts_at:
                self._timeouts_at.discard(self._batches_seen)
                self.timeouts_injected += 1
                self.inject_after_commit(times=1, delay=self._timeout_delay)
        return super().on_batch(request, realm_id)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    now = datetime.now(UTC)
    today = now.date() if now.time() >= time(10) else now.date() - timedelta(days=1)
    world = generate_world(seed=args.seed, today=today)
    fake = BenchFakeQuickBooks(world=world, enforce_rate_limits=True)

    def describe():
        company = world.companies[1]
        return {
            "url": fake.url,
            "api_base": fake.api_base,
            "authorize_url": fake.authorize_url,
            "token_url": fake.token_url,
            "revoke_url": fake.revoke_url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "realm_id": company.realm_id,
            "company": company.name,
            "home_currency": company.home_currency,
            "minute_limit": fake.minute_limit,
            "batch_minute_limit": fake.batch_minute_limit,
            "second_limit": fake.second_limit,
        }

    serve(fake, describe)


if __name__ == "__main__":
    main()
