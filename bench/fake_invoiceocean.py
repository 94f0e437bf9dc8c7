"""The fake InvoiceOcean of ``tests/fakes`` in a process of its own, with a benchmark's account:
``--clients`` clients (the first half named and tax-numbered like the Odoo customers the step makes)
and ``--documents`` documents with positions. ``bench/run.py`` starts it; it prints one JSON line
(its addresses, token, prefix, sizes) and serves until its stdin closes. Control routes, never
counted as API calls: ``GET /bench/stats`` (API calls by route, GETs of one document) and
``POST /bench/reset`` (forget the calls counted so far).

No latency is added and no call limit enforced (InvoiceOcean documents none, contract §5): the fake
answers over loopback as fast as it can, a few milliseconds a call, so ``seconds`` measures Odoo's
side. Against a real account each of the ``api_calls`` costs a network round trip on top.
"""

import argparse
import logging
import random
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.fake_process import serve  # noqa: E402
from tests.fakes.invoiceocean import FakeInvoiceOcean  # noqa: E402  (on the path set above)
from tests.fakes.invoiceocean_data import generate_account  # noqa: E402

CONTROL_PREFIX = "/bench/"
KINDS = ("vat", "vat", "vat", "proforma", "receipt", "vat_margin", "final")


def shared_name(n):
    """The name (and tax number) of the n-th company both sides have; the step creates the same."""
    return f"Shared Company {n:05d} Ltd", f"PL{7000000000 + n}"


class BenchFakeInvoiceOcean(FakeInvoiceOcean):
    rules = (
        (f"{CONTROL_PREFIX}stats", "bench_stats", ["GET"]),
        (f"{CONTROL_PREFIX}reset", "bench_reset", ["POST"]),
        *FakeInvoiceOcean.rules,
    )

    def on_bench_stats(self, request):
        with self._lock:
            api = [r for r in self.requests if not r.path.startswith(CONTROL_PREFIX)]
            self.requests.clear()  # keep the fake's memory bounded; counted below
            self.route_counts.update(f"{r.method} {_route(r.path)}" for r in api)
        return self.json_response({"route_counts": dict(self.route_counts), "api_calls": self.route_counts.total()})

    def on_bench_reset(self, request):
        with self._lock:
            self.requests.clear()
            self.route_counts = Counter()
        return self.json_response({"reset": True})


def _route(path):
    parts = path.strip("/").split("/")  # the account prefix is gone from the recorded path
    return "/" + "/".join("{id}" if part.split(".")[0].isdigit() else part for part in parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    account = generate_account(seed=args.seed)
    account.clients.clear()
    account.invoices.clear()
    account.payments.clear()
    account.notable["documents"] = []
    fake = BenchFakeInvoiceOcean(account=account, webhook_delivery="manual")
    fake.route_counts = Counter()
    rng = random.Random(args.seed)
    shared = args.clients // 2
    ids = []
    for n in range(args.clients):
        if n < shared:
            name, tax_no = shared_name(n)
        else:
            name, tax_no = f"InvoiceOcean Client {n:05d} Sp. z o.o.", f"PL{8000000000 + n}"
        client = fake.create_client({"name": name, "tax_no": tax_no, "city": "Warszawa"}, notify=False)
        ids.append(client["id"])
    today = fake.today()
    for n in range(args.documents):
        fake.create_invoice(
            {
                "kind": KINDS[n % len(KINDS)],
                "client_id": rng.choice(ids),
                "issue_date": (today - timedelta(days=rng.randint(0, 300))).isoformat(),
                "positions": [
                    {
                        "name": "Temporary staffing (hour)",
                        "quantity": rng.choice((8, 40)),
                        "tax": 23,
                        "price_net": f"{rng.uniform(20, 60):.2f}",
                    }
                ],
            },
            notify=False,
        )

    def describe():
        return {
            "url": fake.account_url,  # the control routes too live under the account's prefix
            "account_url": fake.account_url,
            "prefix": fake.prefix,
            "api_token": fake.api_token,
            "clients": len(account.clients),
            "shared": shared,
            "documents": len(account.invoices),
            "today": today.isoformat(),
        }

    serve(fake, describe)


if __name__ == "__main__":
    main()
