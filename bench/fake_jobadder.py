"""The fake JobAdder of ``tests/fakes`` in a process of its own, for the benchmarks.

``bench/run.py`` starts it with the size of the agency to serve; it prints one JSON line (its
addresses, the OAuth2 client and the world's size) and serves until its stdin closes. Two
control routes, never counted as API calls, serve the benchmark processes:

* ``POST /bench/token``: a token answer, as after the browser consent flow;
* ``GET /bench/stats``: ``{"route_counts": {"GET /v2/placements": n, ...}}``, the API and
  identity requests received so far, per route.

Serving from another process keeps the fake's own work (rendering JSON, remembering every
request, holding the agency world) out of the measured Odoo process: its wall time, its
memory and its share of the GIL are those of the connector alone.
"""

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.fake_process import serve  # noqa: E402
from tests.fakes.jobadder import FakeJobAdder  # noqa: E402  (on the path set above)
from tests.fakes.jobadder_data import WORKDAY_TIME, generate_agency  # noqa: E402

CONTROL_PREFIX = "/bench/"
# The world's "now" (its today at WORKDAY_TIME) must be safely in the past: an incremental
# sync re-reads OVERLAP_MINUTES (10) before its watermark, and nothing may look changed.
QUIET_MARGIN = timedelta(minutes=30)


class BenchFakeJobAdder(FakeJobAdder):
    rules = (
        (f"{CONTROL_PREFIX}token", "bench_token", ["POST"]),
        (f"{CONTROL_PREFIX}stats", "bench_stats", ["GET"]),
    )

    def on_bench_token(self, request):
        return self.json_response(self.issue_token("read offline_access"))

    def on_bench_stats(self, request):
        with self._lock:
            counts = {route: n for route, n in self.route_counts.items() if f" {CONTROL_PREFIX}" not in route}
            self.requests.clear()  # the fake remembers every request: keep its memory bounded
        return self.json_response({"route_counts": counts})


def quiet_today(now=None):
    """The latest day whose working-day "now" is at least ``QUIET_MARGIN`` ago."""
    now = now or datetime.now(UTC)
    today = now.date()
    if datetime.combine(today, WORKDAY_TIME, UTC) > now - QUIET_MARGIN:
        today -= timedelta(days=1)
    return today


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--placements", type=int, required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    # companies, contacts and candidates scale with placements (2/5, 2 a company, 1 each).
    world = generate_agency(seed=args.seed, placements=args.placements, users=args.users, today=quiet_today())
    fake = BenchFakeJobAdder(world=world)  # real clock: tokens expire and refresh as in production

    def describe():
        hello = {
            "url": fake.url,
            "authorize_url": fake.authorize_url,
            "token_url": fake.token_url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "today": world.today.isoformat(),
            "placements": len(world.placements),
            "companies": len(world.companies),
            "contacts": len(world.contacts),
            "candidates": len(world.candidates),
            "users": len(world.users),
        }
        return hello

    serve(fake, describe)


if __name__ == "__main__":
    main()
