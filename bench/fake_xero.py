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
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("FAKE_XERO_VALIDATE", "0")

from bench.fake_process import BenchControls, accounting_today, serve  # noqa: E402
from tests.fakes.xero import FakeXero  # noqa: E402  (on the path set above)
from tests.fakes.xero_data import generate_world  # noqa: E402

INVOICE_WRITES = "PUT /Invoices"


class BenchFakeXero(BenchControls, FakeXero):
    def bench_token(self):
        return self.issue_token(tenants=[self.tenant_id])

    def bench_stats(self):
        return {"duplicates": self.duplicate_count(("Invoices", "CreditNotes", "Payments", "Contacts"))}

    def _write(self, request, tenant, resource, ident):
        if request.method == "PUT" and resource == "Invoices":
            # Xero's writes are numbered by the requests to their route (429s included).
            self.time_out_if_chosen(self.route_counts[INVOICE_WRITES])
        return super()._write(request, tenant, resource, ident)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--customers", type=int, default=100, help="contacts already in Xero")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    world = generate_world(seed=args.seed, customers=args.customers, today=accounting_today())
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
