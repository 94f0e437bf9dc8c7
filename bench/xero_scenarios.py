"""The Xero benchmark step, in a fresh process on an installed database (``bench/run.py``).

``export``: a connected Xero integration against the fake of ``bench/fake_xero.py`` (Xero's
limits enforced on the real clock); Xero's tax rates, accounts and customers imported and the
invoices' tax and income account mapped (setup, not measured); then N posted invoices, M of
whose customers are new to Xero, exported through Odoo's scheduler (``bench/scheduler.py``),
with two timeouts after commit injected on the fake's side. Measured: wall time from queueing
the run to its end, API calls, 429s, duplicates. The step writes its measurements as one JSON object into ``--result``;
progress goes to stderr.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accounting_scenarios  # noqa: E402  (bench/, on the path)

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


def setup_integration(env, fake):
    """A connected integration, Xero's settings and customers imported, the taxes and accounts mapped."""
    from odoo import Command

    tax = accounting_scenarios.prepare_company(
        env, "round_per_line", "recruitment_sync_xero.read_timeout", READ_TIMEOUT
    )
    integration = accounting_scenarios.connect_and_import(
        env,
        fake,
        ["tax_rates", "accounts", "customers"],
        name=INTEGRATION_NAME,
        provider="xero",
        api_base_url=fake.info["api_url"],
    )
    rows = env["recruitment.sync.xero.tax.rate"].search([("integration_id", "=", integration.id)])
    rows.filtered(lambda row: row.tax_type == "OUTPUT2").tax_ids = tax
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", env.company.id)], limit=1)
    accounts = env["recruitment.sync.xero.account"].search([("integration_id", "=", integration.id)])
    accounts.filtered(lambda row: row.code == "200").account_ids = [Command.set(journal.default_account_id.ids)]
    env.cr.commit()
    return integration, tax


def step_export(env, fake, args):
    integration, tax = setup_integration(env, fake)
    # Every new customer gets an invoice; the others go to customers Xero already has.
    new = accounting_scenarios.make_invoices(env, integration, tax, args.invoices, args.new_customers, args.seed)
    return accounting_scenarios.measure_export(
        env,
        fake,
        integration,
        args,
        new,
        kinds=["export_customers", "invoices"],
        invoice_kind="invoices",
        writes=accounting_scenarios.invoice_writes(args.invoices, INVOICES_PER_CALL),
        hang=HANG,
        minimum_seconds=lambda stats: minimum_seconds(stats["api_calls"]),
    )


if __name__ == "__main__":
    accounting_scenarios.main(__doc__.split("\n", 1)[0], step_export)
