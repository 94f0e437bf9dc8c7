"""What the accounting export benchmarks (``xero_scenarios.py``, ``qbo_scenarios.py``) share: the
fake's control calls, the company and integration set-up, the invoices, the measured export and
the command line. Each provider's step names its settings, kinds and mapping.
"""

import math
import random

from jobadder_scenarios import Fake, log, run_step, run_sync, step_parser
from scheduler import only_sync_scheduler


class AccountingFake(Fake):
    """The bench fakes' control calls: statistics, reset, timeouts after commit."""

    def stats(self):
        return self._call("stats")

    def reset(self):
        return self._call("reset", "POST")

    def arm_timeouts(self, writes, delay):
        """Hang the answer of the given committed writes (1-based) for ``delay`` seconds."""
        return self._call(f"timeouts?after={','.join(str(n) for n in writes)}&delay={delay:g}", "POST")


def prepare_company(env, rounding_method, read_timeout_parameter, read_timeout):
    """The benchmark's company (scheduler only for sync crons, chart of accounts, rounding, the
    connector's read timeout) and the 20% sales tax its invoices use."""
    only_sync_scheduler(env)
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    company.tax_calculation_rounding_method = rounding_method
    env["ir.config_parameter"].sudo().set_param(read_timeout_parameter, str(read_timeout))
    return env["account.tax"].create(
        {"name": "VAT 20% (benchmark)", "amount": 20, "type_tax_use": "sale", "company_id": company.id}
    )


def connect_and_import(env, fake, import_kinds, callback=None, **values):
    """An integration pointed at the fake, connected with the tokens the fake issued (``callback``:
    the query of the consent's redirect, when the connector reads it), its settings imported."""
    integration = env["recruitment.sync.integration"].create(
        {
            "client_id": fake.info["client_id"],
            "client_secret": fake.info["client_secret"],
            "authorize_url": fake.info["authorize_url"],
            "token_url": fake.info["token_url"],
            "revoke_url": fake.info["revoke_url"],
            "schedule_active": False,
            "export_start_date": False,  # every posted invoice
            **values,
        }
    )
    integration._oauth2_store(fake.token())
    if callback is not None:
        integration._provider_oauth2_callback(callback)
    # Reads the provider's company, queues the import of its settings (committed by run_sync,
    # which finds that run queued, so that the scheduler it listens to hears its trigger).
    integration._mark_connected()
    run_sync(env, integration, "manual", kinds=import_kinds)
    return integration


def make_invoices(env, integration, tax, invoices, new_customers, seed, reuse_known=True, note=""):
    """``invoices`` posted customer invoices: every one of ``new_customers`` customers the ledger has
    not gets one; the others go to customers it has (``reuse_known``) or to the new ones."""
    from odoo import Command, fields

    rng = random.Random(seed)
    bound = env["recruitment.sync.binding"].search(
        [("integration_id", "=", integration.id), ("res_model", "=", "res.partner")]
    )
    known = env["res.partner"].browse(bound.mapped("res_id")).filtered("active")
    new = env["res.partner"].create(
        [{"name": f"Benchmark Client {n:04d} Ltd", "is_company": True} for n in range(new_customers)]
    )
    others = (known or new) if reuse_known else new
    customers = list(new) + [rng.choice(others) for _n in range(invoices - len(new))]
    rng.shuffle(customers)
    log(f"creating and posting {invoices} invoices ({new_customers} new customers, {len(known)} known{note}) …")
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


def measure_export(env, fake, integration, args, new, *, kinds, invoice_kind, writes, hang, minimum_seconds):
    """The measured export: two timeouts after commit armed on the invoice writes (a third and two
    thirds in, of ``writes``), the run of ``kinds`` through the scheduler, the fake's statistics.
    ``minimum_seconds(stats)``: the least wall time the provider's limits allow."""
    timeouts = sorted({max(1, writes // 3), max(1, 2 * writes // 3)})
    fake.reset()
    fake.arm_timeouts(timeouts, hang)
    log(
        f"exporting {args.invoices} invoices and {new} new customers (timeouts after commit on invoice "
        f"writes {timeouts}) …"
    )
    run, seconds, scheduler = run_sync(env, integration, "manual", kinds=kinds)
    stats = fake.stats()
    lines = env["recruitment.sync.run.line"]._read_group([("run_id", "=", run.id)], ["kind", "action"], ["__count"])
    by_kind = {f"{kind}/{action}": count for kind, action, count in lines}
    exported = by_kind.get(f"{invoice_kind}/exported", 0) + by_kind.get(f"{invoice_kind}/already_exists", 0)
    batches = {"batch_calls": stats["batch_calls"]} if "batch_calls" in stats else {}
    log(
        f"  {run.state}: {exported} invoices exported, {by_kind} in {seconds:.1f} s, {stats['api_calls']} API "
        f"calls{''.join(f' ({count} batches)' for count in batches.values())}, 429s {stats['served_429']}, "
        f"{stats['idempotent_replays']} replayed, {stats['duplicates']} duplicates"
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
        **batches,
        "api_calls_per_route": stats["route_counts"],
        "minimum_seconds": minimum_seconds(stats),
        "rate_limited": sum(stats["served_429"].values()),
        "duplicates": stats["duplicates"],
        "timeouts_injected": stats["timeouts_injected"],
        "idempotent_replays": stats["idempotent_replays"],
    }


def invoice_writes(invoices, per_write):
    """How many writes send ``invoices`` invoices, ``per_write`` at a time."""
    return math.ceil(invoices / per_write)


def main(description, step_export, argv=None):
    """The step's command line: ``export`` on an installed database against a started fake."""
    parser = step_parser(description, ["export"])
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--new-customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    run_step(parser.parse_args(argv), step_export, AccountingFake)
