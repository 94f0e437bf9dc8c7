"""The InvoiceOcean benchmark step, in a fresh process on an installed database (``bench/run.py``).

``sync``: N Odoo customers (half of them the companies ``bench/fake_invoiceocean.py`` has too, same
name and tax number) and an integration activated on the fake's account with "both ways" and the
earlier documents (setup, not measured); then its first sync through Odoo's scheduler
(``bench/scheduler.py``): clients matched, brought in and sent out, documents as opportunities;
then a sync with nothing new. Measured: wall time from queueing each run to its end, API calls by
route. For comparison, the same number of partners and opportunities created with batch
``create`` in the same database (rolled back). The measurements go to ``--result`` as JSON.
"""

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_invoiceocean import shared_name  # noqa: E402  (bench/, on the path)
from jobadder_scenarios import Fake, log, open_registry, run_sync  # noqa: E402
from scheduler import only_sync_scheduler  # noqa: E402

INTEGRATION_NAME = "InvoiceOcean (benchmark)"


class IoFake(Fake):
    def stats(self):
        return self._call("stats")

    def reset(self):
        return self._call("reset", "POST")


def make_customers(env, customers, shared):
    Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
    values = []
    for n in range(customers):
        if n < shared:
            name, vat = shared_name(n)
            values.append({"name": name, "vat": vat, "is_company": True})
        else:
            values.append({"name": f"Odoo Customer {n:05d} Ltd", "is_company": True, "customer_rank": 1})
    for start in range(0, len(values), 1000):
        Partner.create(values[start : start + 1000])
    env.cr.commit()


def plain_create_rate(env, clients, documents):
    """Records a second when the same partners and opportunities are made with batch ``create``."""
    Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
    Lead = env["crm.lead"].with_context(tracking_disable=True, mail_create_nolog=True)
    env.cr.execute("SAVEPOINT plain_create")
    started = time.perf_counter()
    partners = Partner.create(
        [{"name": f"Plain Client {n:05d}", "vat": f"PL{9000000000 + n}", "is_company": True} for n in range(clients)]
    )
    Lead.create(
        [
            {
                "name": f"FV {n}/12/2026",
                "type": "opportunity",
                "partner_id": partners[n % len(partners)].id,
                "expected_revenue": 100.0 + n,
            }
            for n in range(documents)
        ]
    )
    env.flush_all()
    seconds = time.perf_counter() - started
    env.cr.execute("ROLLBACK TO SAVEPOINT plain_create")
    env.invalidate_all()
    return (clients + documents) / seconds, seconds


def step_sync(env, fake, args):
    only_sync_scheduler(env)
    info = fake.info
    make_customers(env, args.customers, info["shared"])
    integration = env["recruitment.sync.integration"].create(
        {
            "name": INTEGRATION_NAME,
            "provider": "invoiceocean",
            "io_prefix": info["prefix"],
            "api_base_url": info["account_url"],
            "schedule_active": False,
            "io_first_sync": "both",
            "io_documents_from": date.fromisoformat(info["today"]) - timedelta(days=365),
        }
    )
    env.cr.commit()
    fake.reset()
    integration.io_api_token = info["api_token"]  # saving it tests the connection and queues the first sync
    log(
        f"first sync: {info['clients']} InvoiceOcean clients ({info['shared']} shared), {args.customers} Odoo "
        f"customers, {info['documents']} documents …"
    )
    run, seconds, scheduler = run_sync(env, integration, "initial_load")
    first = fake.stats()
    lines = env["recruitment.sync.run.line"]._read_group([("run_id", "=", run.id)], ["kind", "action"], ["__count"])
    by_kind = {f"{kind}/{action}": count for kind, action, count in lines}
    log(f"  {run.state} in {seconds:.1f} s, {first['api_calls']} API calls {first['route_counts']}, lines {by_kind}")
    fake.reset()
    noop, noop_seconds, _scheduler = run_sync(env, integration, "manual")
    second = fake.stats()
    log(f"  no-op sync: {noop.state} in {noop_seconds:.2f} s, {second['api_calls']} API calls {second['route_counts']}")
    rate, plain_seconds = plain_create_rate(env, info["clients"], info["documents"])
    leads = env["crm.lead"].with_context(active_test=False).search_count([("io_document_number", "!=", False)])
    return {
        "clients": info["clients"],
        "odoo_customers": args.customers,
        "shared": info["shared"],
        "documents": info["documents"],
        "opportunities": leads,
        "run_state": run.state,
        "failed": run.failed_count,
        "lines": by_kind,
        "api_calls": first["api_calls"],
        "api_calls_per_route": first["route_counts"],
        "seconds": round(seconds, 2),
        **scheduler,
        "plain_create_seconds": round(plain_seconds, 2),
        "plain_create_records_per_second": round(rate, 1),
        "noop_state": noop.state,
        "noop_api_calls": second["api_calls"],
        "noop_api_calls_per_route": second["route_counts"],
        "noop_seconds": round(noop_seconds, 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("step", choices=["sync"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--fake", required=True, help="the JSON line the fake printed when it started")
    parser.add_argument("--result", required=True, help="file to write the measurements to (JSON)")
    parser.add_argument("--customers", type=int, default=5000)
    args = parser.parse_args(argv)
    from odoo import SUPERUSER_ID, api

    registry = open_registry(args.config, args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = step_sync(env, IoFake(json.loads(args.fake)), args)
        cr.commit()
    with open(args.result, "w") as output:
        json.dump(result, output)


if __name__ == "__main__":
    main()
