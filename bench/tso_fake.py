"""The fake 24SevenOffice of ``tests/fakes`` in a process of its own, for the 24SO benchmark.

``bench/run.py`` starts it; it prints one JSON line (its address, the application id, the login
and its identity in the main client) and serves until its stdin closes. One control route,
never counted as a SOAP call, serves the benchmark process:

* ``GET /bench/stats``: ``{"soap_calls", "save_invoices_calls", "logins", "calls"}`` so far.

Serving from another process keeps the fake's work (parsing and writing SOAP) out of the
measured Odoo process.
"""

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from werkzeug.routing import Rule  # noqa: E402

from bench.fake_process import serve  # noqa: E402
from tests.fakes.twentyfour import FakeTwentyFour  # noqa: E402  (on the path set above)
from tests.fakes.twentyfour_data import MAIN_CLIENT_ID, generate_world  # noqa: E402

LOGIN = "api@nordlys.example"


def bench_world(seed, products, companies):
    """The benchmark's 24SevenOffice: ``products`` numbered P00001…, ``companies`` customers."""
    return generate_world(seed=seed, products=products, companies=companies, duplicate_numbers=0)


class BenchFakeTwentyFour(FakeTwentyFour):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Before the catch-all SOAP route: werkzeug prefers the static path.
        self.url_map.add(Rule("/bench/stats", endpoint="bench_stats", methods=["GET"]))

    def on_bench_stats(self, request):
        stats = self.stats()
        with self._lock:
            self.requests.clear()  # the fake remembers every request: keep its memory bounded
        return self.json_response(stats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--companies", type=int, default=150)
    args = parser.parse_args(argv)
    world = bench_world(args.seed, args.products, args.companies)
    fake = BenchFakeTwentyFour(world=world)

    def describe():
        login = world.login(LOGIN)
        hello = {
            "url": fake.url,
            "application_id": world.application_id,
            "username": login.username,
            "password": login.password,
            "identity": login.identity_for(MAIN_CLIENT_ID).id,
            "products": len(world.main.products),
            "companies": len(world.main.companies),
        }
        return hello

    serve(fake, describe)


if __name__ == "__main__":
    main()
