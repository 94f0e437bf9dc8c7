"""The Xero connector's test base: the fake Xero over loopback, a connected integration, invoices.

Every request the connector sends and every answer the fake returns is checked against Xero's
official OpenAPI definition (the fake's ``validate``, on when ``../shared/contracts`` is there):
``tearDown`` fails a test that made the fake record a contract violation.
"""

import functools
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter
from odoo.addons.recruitment_sync.tests import common as core_common
from odoo.addons.recruitment_sync_xero.services import xero as xero_services

from tests.fakes.xero import GRANULAR_SCOPES_DEFAULT, FakeXero  # noqa: I001  (on the path set by the core's tests)
from tests.fakes.xero_data import generate_world


class XeroMixin:
    """A company with sales taxes, a Xero integration connected to the fake's UK organisation, its
    tax rates, accounts and customers imported, the taxes and accounts the invoices use mapped."""

    world_seed = 11
    customers = 20
    connect_on_setup = True  # False: the integration is created, not connected

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        company = cls.env.company
        if not company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        company.tax_calculation_rounding_method = "round_per_line"
        cls.env.ref("product.decimal_price").digits = 4  # unit prices with 4 decimals, as Xero's unitdp=4
        cls.world = generate_world(seed=cls.world_seed, customers=cls.customers, today=fields.Date.today())
        cls.fake = core_common.start_fake(cls, FakeXero(world=cls.world))
        cls.classPatch(
            xero_services, "XeroHttpClient", functools.partial(xero_services.XeroHttpClient, sleep=core_common.no_sleep)
        )
        cls.org = cls.world.organisations[0]
        cls.Move = cls.env["account.move"]
        cls.Run = cls.env["recruitment.sync.run"]
        cls.currency = company.currency_id
        cls.foreign = next(cls.env.ref(f"base.{code}") for code in ("EUR", "USD", "GBP") if code != cls.currency.name)
        cls.foreign.active = True
        cls.not_in_xero = cls.env.ref("base.CHF")
        cls.not_in_xero.active = True
        for currency in (cls.foreign, cls.not_in_xero):
            cls.env["res.currency.rate"].create(
                {"currency_id": currency.id, "rate": 1.25, "name": fields.Date.today() - timedelta(days=30)}
            )
        cls.make_taxes()
        cls.sales_journal = cls.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        cls.income = cls.sales_journal.default_account_id
        cls.bank = cls.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        cls.integration = cls.env["recruitment.sync.integration"].create(
            {
                "name": "Xero UK",
                "provider": "xero",
                "client_id": cls.fake.client_id,
                "client_secret": cls.fake.client_secret,
                "authorize_url": cls.fake.authorize_url,
                "token_url": cls.fake.token_url,
                "revoke_url": cls.fake.revoke_url,
                "api_base_url": cls.fake.api_url,
                "schedule_active": False,
                "rate_limit_per_minute": 100_000,  # our limiter must not pace calls to the local fake
                "export_start_date": fields.Date.today() - timedelta(days=365),
            }
        )
        cls.addClassCleanup(drop_rate_limiter, (cls.env.cr.dbname, cls.integration.id))
        if cls.connect_on_setup:
            cls.connect(cls.integration, tenants=[cls.fake.tenant_id])
            cls.process_all_runs()  # the initial import of tax rates, accounts and customers
            cls.map_defaults()

    @classmethod
    def make_taxes(cls):
        Tax = cls.env["account.tax"]
        company = cls.env.company

        def tax(name, amount, included=False):
            return Tax.create(
                {
                    "name": name,
                    "amount": amount,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": company.id,
                    "price_include_override": "tax_included" if included else "tax_excluded",
                }
            )

        cls.tax20 = tax("Xero test VAT 20%", 20)
        cls.tax20_included = tax("Xero test VAT 20% included", 20, included=True)
        cls.tax5 = tax("Xero test VAT 5%", 5)
        cls.tax_zero = tax("Xero test zero rated", 0)
        cls.tax_unmapped = tax("Xero test VAT 12.5%", 12.5)

    @classmethod
    def connect(cls, integration, tenants=None, scope=GRANULAR_SCOPES_DEFAULT):
        """Tokens as after the consent flow for ``tenants``, then Connect's own follow-up."""
        integration._oauth2_store(cls.fake.issue_token(scope, tenants=tenants))
        integration._mark_connected()
        return integration

    @classmethod
    def rows(cls, model, integration=None):
        return cls.env[model].search([("integration_id", "=", (integration or cls.integration).id)])

    @classmethod
    def tax_row(cls, tax_type, integration=None):
        rows = cls.rows("recruitment.sync.xero.tax.rate", integration)
        return rows.filtered(lambda row: row.tax_type == tax_type)

    @classmethod
    def account_row(cls, code, integration=None):
        return cls.rows("recruitment.sync.xero.account", integration).filtered(lambda row: row.code == code)

    @classmethod
    def map_defaults(cls):
        """What a sync manager maps by hand after the import (20%, 0%, income account, bank)."""
        cls.tax_row("OUTPUT2").tax_ids = cls.tax20 | cls.tax20_included
        cls.tax_row("ZERORATEDOUTPUT").tax_ids = cls.tax_zero
        cls.account_row("200").account_ids = cls.income
        cls.account_row("090").journal_ids = cls.bank

    @classmethod
    def process_all_runs(cls):
        """The background runner, pass after pass, until nothing is left (as the cron would)."""
        for _attempt in range(20):
            if not cls.env["recruitment.sync.run"]._cron_process_runs(time_budget=600):
                return
        raise AssertionError("the runner never finished")

    def setUp(self):
        super().setUp()
        # Each test's Odoo data is rolled back: Xero's documents and contacts go back too.
        self.fake.load(self.world)
        self.fake.clear_faults()
        self.fake.reset_rate_limits()
        self.fake.served_429.clear()
        self.violations_before = len(self.fake.violations)

    def tearDown(self):
        violations = self.fake.violations[self.violations_before :]
        super().tearDown()
        self.assertFalse(violations, "requests or answers that break Xero's OpenAPI definition")

    # -- helpers -----------------------------------------------------------------------------
    def sync(self, kinds=None, integration=None):
        """Queue a manual run (of ``kinds``) and let the runner do it."""
        integration = integration or self.integration
        run, created = integration._queue_run("manual", kinds=kinds)
        self.assertTrue(created, "a run should have been queued")
        self.process_all_runs()
        self.env.invalidate_all()  # as a new request would: the Xero status and link of the documents
        return run

    def export(self, integration=None):
        return self.sync(["export_customers", "invoices", "credit_notes", "payments"], integration)

    def customer(self, name="Odoo Customer Ltd", **values):
        return self.env["res.partner"].create({"name": name, "is_company": True, **values})

    def line(self, price, quantity=1, taxes=None, discount=0.0, name="Consulting", **values):
        taxes = self.tax20 if taxes is None else taxes
        return Command.create(
            {
                "name": name,
                "quantity": quantity,
                "price_unit": price,
                "discount": discount,
                "tax_ids": [Command.set(taxes.ids)],
                **values,
            }
        )

    def invoice(self, partner, lines, move_type="out_invoice", post=True, **values):
        move = self.Move.create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": lines,
                **values,
            }
        )
        if post:
            move.action_post()
        return move

    def pay(self, moves, amount=None, journal=None, date=None):
        values = {"journal_id": (journal or self.bank).id, "payment_date": date or fields.Date.today()}
        if amount is not None:
            values["amount"] = amount
        wizard = self.env["account.payment.register"].with_context(active_model="account.move", active_ids=moves.ids)
        return wizard.create(values)._create_payments()

    def assertRunDone(self, run, state="done"):
        failures = "\n".join(f"{line.kind} {line.name}: {line.reason}" for line in self.lines_of(run, action="failed"))
        self.assertEqual(run.state, state, f"{run.summary}\n{failures}")

    def lines_of(self, run, kind=None, action=None):
        return run.line_ids.filtered(
            lambda line: (kind is None or line.kind == kind) and (action is None or line.action == action)
        )

    def xero_invoice(self, move):
        found = self.fake.invoice(move.name) if move.move_type == "out_invoice" else self.fake.credit_note(move.name)
        self.assertTrue(found, f"{move.name} should be in Xero")
        return found


class XeroCase(XeroMixin, TransactionCase):
    pass


class XeroHttpCase(XeroMixin, HttpCase):
    pass
