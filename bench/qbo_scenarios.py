"""The QuickBooks benchmark step, in a fresh process on an installed database (``bench/run.py``).

``export``: a QuickBooks integration connected to the UK company of ``bench/fake_quickbooks.py``
(QuickBooks' limits enforced on the real clock); tax codes, accounts, items and customers imported
and the invoices' tax mapped (setup, not measured); then N posted invoices, M of whose customers
are new to QuickBooks, exported through Odoo's scheduler (``bench/scheduler.py``), with two
timeouts after commit injected on the fake's side. Measured: wall time from queueing the run to
its end, API and batch calls, 429s, duplicates. The step writes its measurements as one JSON
object into ``--result``; progress goes to stderr.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accounting_scenarios  # noqa: E402  (bench/, on the path)

INTEGRATION_NAME = "QuickBooks (benchmark)"
READ_TIMEOUT = 3.0  # seconds: an injected hang of a committed batch becomes a timeout quickly
HANG = READ_TIMEOUT + 2.0
PER_BATCH = 30


def setup_integration(env, fake):
    """A connected integration, QuickBooks' settings and customers imported, the 20% VAT mapped."""
    tax = accounting_scenarios.prepare_company(
        env, "round_globally", "recruitment_sync_quickbooks.read_timeout", READ_TIMEOUT
    )
    integration = accounting_scenarios.connect_and_import(
        env,
        fake,
        ["qbo_tax_codes", "qbo_accounts", "qbo_items", "qbo_customers"],
        callback={"realmId": fake.info["realm_id"]},
        name=INTEGRATION_NAME,
        provider="quickbooks",
        api_base_url=fake.info["api_base"],
    )
    rows = env["recruitment.sync.qbo.tax.code"].search([("integration_id", "=", integration.id)])
    rows.filtered(lambda row: row.name == "20.0% S").tax_ids = tax
    env.cr.commit()
    return integration, tax


def step_export(env, fake, args):
    integration, tax = setup_integration(env, fake)
    # QuickBooks fixes a customer's currency: the invoices go to the new customers only.
    new = accounting_scenarios.make_invoices(
        env,
        integration,
        tax,
        args.invoices,
        args.new_customers,
        args.seed,
        reuse_known=False,
        note=f", home {integration.qbo_home_currency}",
    )
    return accounting_scenarios.measure_export(
        env,
        fake,
        integration,
        args,
        new,
        kinds=["qbo_export_items", "qbo_export_customers", "qbo_invoices"],
        invoice_kind="qbo_invoices",
        writes=accounting_scenarios.invoice_writes(args.invoices, PER_BATCH),
        hang=HANG,
        minimum_seconds=lambda stats: stats["minimum_seconds"],
    )


if __name__ == "__main__":
    accounting_scenarios.main(__doc__.split("\n", 1)[0], step_export)
