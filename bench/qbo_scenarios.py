"""The QuickBooks benchmark step, in a fresh process on an installed database (``bench/run.py``).

``export``: a QuickBooks integration connected to the UK company of ``bench/fake_quickbooks.py``
(QuickBooks' limits enforced on the real clock); tax codes, accounts, items and customers imported
and the invoices' tax mapped (setup, not measured); then N posted invoices, M of whose customers
are new to QuickBooks, exported through Odoo's scheduler (``bench/scheduler.py``), with two
timeouts after commit injected on the fake's side. Measured: wall time from queueing the run to
its end, API and batch calls, 429s, duplicates. The step writes its measurements as one JSON
object into ``--result``; progress goes to stderr.
"""

import argparse
import json
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from jobadder_scenarios import Fake, log, open_registry, run_sync  # noqa: E402  (bench/, on the path)
from scheduler import only_sync_scheduler  # noqa: E402

INTEGRATION_NAME = "QuickBooks (benchmark)"
READ_TIMEOUT = 3.0  # seconds: an injected hang of a committed batch becomes a timeout quickly
HANG = READ_TIMEOUT + 2.0
PER_BATCH = 30


class QboFake(Fake):
    def stats(self):
        return self._call("stats")

    def reset(self):
        return self._call("reset", "POST")

    def arm_timeouts(self, batches, delay):
        return self._call(f"timeouts?after={','.join(str(n) for n in batches)}&delay={delay:g}", "POST")


def setup_integration(env, fake):
    """A connected integration, QuickBooks' settings and customers imported, the 20% VAT mapped."""
    only_sync_scheduler(env)
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    company.tax_calculation_rounding_method = "round_globally"
    env["ir.config_parameter"].sudo().set_param("recruitment_sync_quickbooks.read_timeout", str(READ_TIMEOUT))
    tax = env["account.tax"].create(
        {"name": "VAT 20% (benchmark)", "amount": 20, "type_tax_use": "sale", "company_id": company.id}
    )
    integration = env["recruitment.sync.integration"].create(
        {
            "name": INTEGRATION_NAME,
            "provider": "quickbooks",
            "client_id": fake.info["client_id"],
            "client_secret": fake.info["client_secret"],
            "authorize_url": fake.info["authorize_url"],
            "token_url": fake.info["token_url"],
            "revoke_url": fake.info["revoke_url"],
            "api_base_url": fake.info["api_base"],
            "schedule_active": False,
            "export_start_date": False,
        }
    )
    integration._oauth2_store(fake.token())
    integration._provider_oauth2_callback({"realmId": fake.info["realm_id"]})
    integration._mark_connected()  # reads the company, queues the import of its settings
    run_sync(env, integration, "manual", kinds=["qbo_tax_codes", "qbo_accounts", "qbo_items", "qbo_customers"])
    rows = env["recruitment.sync.qbo.tax.code"].search([("integration_id", "=", integration.id)])
    rows.filtered(lambda row: row.name == "20.0% S").tax_ids = tax
    env.cr.commit()
    return integration, tax


def make_invoices(env, integration, tax, invoices, new_customers, seed):
    """``invoices`` posted customer invoices: the customers QuickBooks has, and ``new_customers`` it has not."""
    from odoo import Command, fields

    rng = random.Random(seed)
    bound = env["recruitment.sync.binding"].search(
        [("integration_id", "=", integration.id), ("res_model", "=", "res.partner")]
    )
    known = env["res.partner"].browse(bound.mapped("res_id")).filtered("active")
    # QuickBooks fixes a customer's currency: the known customers in the company's currency only.
    home = integration.qbo_home_currency
    new = env["res.partner"].create(
        [{"name": f"Benchmark Client {n:04d} Ltd", "is_company": True} for n in range(new_customers)]
    )
    customers = list(new) + [rng.choice(new) for _n in range(invoices - len(new))]
    rng.shuffle(customers)
    log(f"creating and posting {invoices} invoices ({new_customers} new customers, {len(known)} known, home {home}) …")
    Move = env["account.move"].with_context(tracking_disable=True, mail_create_nolog=True)
    today = fields.Date.context_today(integration)
    for start in range(0, invoices, 500):
        moves = Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": customer.id,
                    "invoice_date": today,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": f"Temporary staff, week {rng.randint(1, 52)}",
                                "quantity": rng.choice((7.5, 22.5, 37.5, 40)),
                                "price_unit": round(rng.uniform(15, 60), 2),
                                "tax_ids": [Command.set(tax.ids)],
                            }
                        )
                        for _line in range(rng.randint(1, 3))
                    ],
                }
                for customer in customers[start : start + 500]
            ]
        )
        moves.action_post()
        env.cr.commit()
    return len(new)


def step_export(env, fake, args):
    integration, tax = setup_integration(env, fake)
    new = make_invoices(env, integration, tax, args.invoices, args.new_customers, args.seed)
    batches = math.ceil(args.invoices / PER_BATCH)
    timeouts = sorted({max(1, batches // 3), max(1, 2 * batches // 3)})
    fake.reset()
    fake.arm_timeouts(timeouts, HANG)
    log(f"exporting {args.invoices} invoices and {new} new customers (timeouts after commit on batches {timeouts}) …")
    run, seconds, scheduler = run_sync(
        env, integration, "manual", kinds=["qbo_export_items", "qbo_export_customers", "qbo_invoices"]
    )
    stats = fake.stats()
    lines = env["recruitment.sync.run.line"]._read_group([("run_id", "=", run.id)], ["kind", "action"], ["__count"])
    by_kind = {f"{kind}/{action}": count for kind, action, count in lines}
    exported = by_kind.get("qbo_invoices/exported", 0) + by_kind.get("qbo_invoices/already_exists", 0)
    log(
        f"  {run.state}: {exported} invoices exported, {by_kind} in {seconds:.1f} s, {stats['api_calls']} API "
        f"calls ({stats['batch_calls']} batches), 429s {stats['served_429']}, {stats['idempotent_replays']} "
        f"replayed, {stats['duplicates']} duplicates"
    )
    return {
        "invoices": args.invoices,
        "new_customers": new,
        "invoices_exported": exported,
        "lines": by_kind,
        "run_state": run.state,
        "failed": run.failed_count,
        "seconds": round(seconds, 2),
        **scheduler,
        "api_calls": stats["api_calls"],
        "batch_calls": stats["batch_calls"],
        "api_calls_per_route": stats["route_counts"],
        "minimum_seconds": stats["minimum_seconds"],
        "rate_limited": sum(stats["served_429"].values()),
        "duplicates": stats["duplicates"],
        "timeouts_injected": stats["timeouts_injected"],
        "idempotent_replays": stats["idempotent_replays"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("step", choices=["export"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--fake", required=True, help="the JSON line the fake printed when it started")
    parser.add_argument("--result", required=True, help="file to write the measurements to (JSON)")
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--new-customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from odoo import SUPERUSER_ID, api

    registry = open_registry(args.config, args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = step_export(env, QboFake(json.loads(args.fake)), args)
        cr.commit()
    with open(args.result, "w") as output:
        json.dump(result, output)


if __name__ == "__main__":
    main()
