"""The fake Xero of ``tests/fakes`` in a process of its own, enforcing Xero's limits on the real clock.

``bench/run.py`` starts it; it prints one JSON line (its addresses, the OAuth2 client, the
organisation) and serves until its stdin closes. Control routes, never counted as API calls:

* ``POST /bench/token``: a token answer for the UK organisation, as after the consent flow;
* ``GET /bench/stats``: ``{"route_counts": {...}, "api_calls": n, "served_429": {...},
  "duplicates": n, "idempotent_replays": n, "timeouts_injected": n}``;
* ``POST /bench/reset``: forget the calls counted so far (rate-limit windows and statistics),
  so the measured export starts with Xero's limits untouched;
* ``POST /bench/timeouts?after=20,40&delay=4``: the ``PUT /Invoices`` calls number 20 and 40 of
  the measured export are committed, then their answer hangs ``delay`` seconds, past the
  connector's read timeout (a timeout after commit, §10.2 of the contract).

Validation against the OpenAPI definitions is off here (the tests do it): this process measures
pacing, not contracts, and its own work must not slow the connector's calls.
"""

import argparse
import logging
import os
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("FAKE_XERO_VALIDATE", "0")

from bench.fake_process import serve  # noqa: E402
from tests.fakes.xero import FakeXero  # noqa: E402  (on the path set above)
from tests.fakes.xero_data import generate_world  # noqa: E402

CONTROL_PREFIX = "/bench/"
INVOICE_WRITES = "PUT /Invoices"


class BenchFakeXero(FakeXero):
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
        self.timeouts_injected = 0

    def on_bench_token(self, request):
        return self.json_response(self.issue_token(tenants=[self.tenant_id]))

    def on_bench_stats(self, request):
        with self._lock:
            counts = {route: n for route, n in self.route_counts.items() if n}
            self.requests.clear()  # the fake remembers every request: keep its memory bounded
        return self.json_response(
            {
                "route_counts": counts,
                "api_calls": self.api_calls,
                "served_429": dict(self.served_429),
                "duplicates": self.duplicate_count(("Invoices", "CreditNotes", "Payments", "Contacts")),
                "idempotent_replays": self.idempotent_replays,
                "timeouts_injected": self.timeouts_injected,
            }
        )

    def on_bench_reset(self, request):
        self.reset_rate_limits()
        with self._lock:
            self.route_counts = Counter()
            self.served_429.clear()
            self.api_calls = 0
            self.idempotent_replays = 0
        return self.json_response({"reset": True})

    def on_bench_timeouts(self, request):
        with self._bench_lock:
            self._timeouts_at = {int(n) for n in request.args.get("after", "").split(",") if n.strip()}
            self._timeout_delay = float(request.args.get("delay", "5"))
        return self.json_response({"armed": sorted(self._timeouts_at)})

    def _write(self, request, tenant, resource, ident):
        # Arm the contract fake's own after-commit fault for the chosen invoice writes.
        if request.method == "PUT" and resource == "Invoices":
            with self._bench_lock:
                number = self.route_counts[INVOICE_WRITES]
                if number in self._timeouts_at:
                    self._timeouts_at.discard(number)
                    self.timeouts_injected += 1
                    self.inject_after_commit(times=1, delay=self._timeout_delay)
        return super()._write(request, tenant, resource, ident)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--customers", type=int, default=100, help="contacts already in Xero")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    now = datetime.now(UTC)
    today = now.date() if now.time() >= time(10) else now.date() - timedelta(days=1)  # its 9:30 is past
    world = generate_world(seed=args.seed, customers=args.customers, today=today)
    fake = BenchFakeXero(world=world)  # the real clock: Xero's minute window is a real minute

    def describe():
        org = world.organisations[0]
        hello = {
            "url": fake.url,
            "api_url": fake.api_url,
            "authorize_url": fake.authorize_url,
            "token_url": fake.token_url,
            "revoke_url": fake.revoke_url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "tenant_id": fake.tenant_id,
            "organisation": org.name,
            "base_currency": org.base_currency,
            "customers": len(org.contacts),
            "minute_limit": fake.minute_limit,
            "concurrent_limit": fake.concurrent_limit,
            "day_limit": fake.day_limit,
        }
        return hello

    serve(fake, describe)


if __name__ == "__main__":
    main()
