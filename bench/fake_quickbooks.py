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
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("FAKE_QBO_VALIDATE", "0")

from bench.fake_process import BenchControls, accounting_today, serve  # noqa: E402
from tests.fakes.quickbooks import FakeQuickBooks  # noqa: E402  (on the path set above)
from tests.fakes.quickbooks_data import generate_world  # noqa: E402


class BenchFakeQuickBooks(BenchControls, FakeQuickBooks):
    def bench_token(self):
        return self.issue_token(self.realm_ids[1])

    def bench_stats(self):
        return {
            "batch_calls": self.batch_calls,
            "duplicates": self.duplicate_count(),
            "minimum_seconds": self.minimum_seconds(self.api_calls, self.batch_calls),
        }

    def bench_reset(self):
        self.batch_calls = 0

    def on_batch(self, request, realm_id):
        self.time_out_if_chosen(self.next_invoice_write())  # the invoices go in batches
        return super().on_batch(request, realm_id)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    world = generate_world(seed=args.seed, today=accounting_today())
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
