"""The Xero benchmark step, in a fresh process on an installed database (``bench/run.py``).

``export``: a connected Xero integration against the fake of ``bench/fake_xero.py`` (Xero's
limits enforced on the real clock); Xero's tax rates, accounts and customers imported and the
invoices' tax and income account mapped (setup, not measured); then N posted invoices, M of
whose customers are new to Xero, exported through Odoo's scheduler (``bench/scheduler.py``),
with two timeouts after commit injected on the fake's side. Measured: wall time from queueing
the run to its end, API calls, 429s, duplicates. The step writes its measurements as one JSON object into ``--result``;
progress goes to stderr.
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

INTEGRATION_NAME = "Xero (benchmark)"
READ_TIMEOUT = 2.0  # seconds: an injected hang of a committed write becomes a timeout quickly
HANG = READ_TIMEOUT + 2.0
INVOICES_PER_CALL = 50
# Xero's limits (contract §6): 60 calls in any rolling minute per organisation.
MINUTE_LIMIT = 60
MINUTE = 60.0


def minimum_seconds(calls, per_minute=MINUTE_LIMIT):
    """The least wall time Xero's minute limit allows for ``calls`` calls: the first ``per_minute``
    at once, each later one a minute after the one ``per_minute`` before it."""
    return MINUTE * ((calls - 1) // per_minute) if calls > 0 else 0.0


class XeroFake(Fake):
    def stats(self):
        return self._call("stats")

    def reset(self):
        return self._call("reset", "POST")

    def arm_timeouts(self, writes, delay):
        return self._call(f"timeouts?after={','.join(str(n) for n in writes)}&delay={delay:g}", "POST")


def setup_integration(env, fake):
    """A connected integration, Xero's settings and customers imported, the taxes and accounts mapped."""
    from odoo import Command

    only_sync_scheduler(env)
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    company.tax_calculation_rounding_method = "round_per_line"
    env["ir.config_parameter"].sudo().set_param("recruitment_sync_xero.read_timeout", str(READ_TIMEOUT))
    tax = env["account.tax"].create(
        {"name": "VAT 20% (benchmark)", "amount": 20, "type_tax_use": "sale", "company_id": company.id}
    )
    integration = env["recruitment.sync.integration"].create(
        {
            "name": INTEGRATION_NAME,
            "provider": "xero",
            "client_id": fake.info["client_id"],
            "client_secret": fake.info["client_secret"],
            "authorize_url": fake.info["authorize_url"],
            "token_url": fake.info["token_url"],
            "revoke_url": fake.info["revoke_url"],
            "api_base_url": fake.info["api_url"],
            "schedule_active": False,
            "export_start_date": False,
        }
    )
    integration._oauth2_store(fake.token())
    # Lists the organisation, queues the import of its settings (committed by run_sync, which
    # finds that run queued, so that the scheduler it listens to hears its trigger).
    integration._mark_connected()
    run_sync(env, integration, "manual", kinds=["tax_rates", "accounts", "customers"])
    rows = env["recruitment.sync.xero.tax.rate"].search([("integration_id", "=", integration.id)])
    rows.filtered(lambda row: row.tax_type == "OUTPUT2").tax_ids = tax
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    accounts = env["recruitment.sync.xero.account"].search([("integration_id", "=", integration.id)])
    accounts.filtered(lambda row: row.code == "200").account_ids = [Command.set(journal.default_account_id.ids)]
    env.cr.commit()
    return integration, tax


def make_invoices(env, integration, tax, invoices, new_customers, seed):
    """``invoices`` posted customer invoices: the customers Xero has, and ``new_customers`` it has not."""
    from odoo import Command, fields

    rng = random.Random(seed)
    bound = env["recruitment.sync.binding"].search(
        [("integration_id", "=", integration.id), ("res_model", "=", "res.partner")]
    )
    known = env["res.partner"].browse(bound.mapped("res_id")).filtered("active")
    new = env["res.partner"].create(
        [{"name": f"Benchmark Client {n:04d} Ltd", "is_company": True} for n in range(new_customers)]
    )
    # Every new customer gets an invoice; the others go to customers Xero already has.
    customers = list(new) + [rng.choice(known or new) for _n in range(invoices - len(new))]
    rng.shuffle(customers)
    log(f"creating and posting {invoices} invoices ({new_customers} new customers, {len(known)} known) …")
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
    writes = math.ceil(args.invoices / INVOICES_PER_CALL)
    timeouts = sorted({max(1, writes // 3), max(1, 2 * writes // 3)})
    fake.reset()
    fake.arm_timeouts(timeouts, HANG)
    log(
        f"exporting {args.invoices} invoices and {new} new customers (timeouts after commit on invoice "
        f"writes {timeouts}) …"
    )
    run, seconds, scheduler = run_sync(env, integration, "manual", kinds=["export_customers", "invoices"])
    stats = fake.stats()
    lines = env["recruitment.sync.run.line"]._read_group([("run_id", "=", run.id)], ["kind", "action"], ["__count"])
    by_kind = {f"{kind}/{action}": count for kind, action, count in lines}
    exported = by_kind.get("invoices/exported", 0) + by_kind.get("invoices/already_exists", 0)
    log(
        f"  {run.state}: {exported} invoices exported, {by_kind} in {seconds:.1f} s, {stats['api_calls']} API "
        f"calls, 429s {stats['served_429']}, {stats['idempotent_replays']} replayed, {stats['duplicates']} duplicates"
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
        "api_calls_per_route": stats["route_counts"],
        "minimum_seconds": minimum_seconds(stats["api_calls"]),
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
        result = step_export(env, XeroFake(json.loads(args.fake)), args)
        cr.commit()
    with open(args.result, "w") as output:
        json.dump(result, output)


if __name__ == "__main__":
    main()
