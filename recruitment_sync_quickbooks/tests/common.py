"""The QuickBooks connector's test base: the fake QuickBooks Online over loopback, a connected
integration (US or UK company), its tax codes, accounts, items and customers imported, invoices.

Every request the connector sends and every answer the fake returns is checked against Intuit's
v3 XSDs (the fake's ``validate``, on when ``../shared/contracts`` is there): ``tearDown`` fails a
test that made the fake record a violation.
"""

import functools
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter
from odoo.addons.recruitment_sync.tests import common as core_common
from odoo.addons.recruitment_sync_quickbooks.services import quickbooks as qbo_services

from tests.fakes.quickbooks import FakeQuickBooks  # noqa: I001  (on the path set by the core's tests)
from tests.fakes.quickbooks_data import generate_world


class QboMixin:
    """A company with sales taxes, a QuickBooks integration connected to one of the fake's companies
    (``realm_index``: 0 the US one, 1 the UK one), its settings and customers imported, taxes mapped."""

    world_seed = 7
    realm_index = 1
    connect_on_setup = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        company = cls.env.company
        if not company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        company.tax_calculation_rounding_method = "round_globally"
        # QuickBooks' 40 batch requests a minute would pace the tests in real time.
        cls.env["ir.config_parameter"].sudo().set_param("recruitment_sync_quickbooks.batch_per_minute", "100000")
        cls.world = generate_world(seed=cls.world_seed, today=fields.Date.today())
        cls.fake = core_common.start_fake(cls, FakeQuickBooks(world=cls.world, enforce_rate_limits=False))
        cls.classPatch(
            qbo_services, "QboHttpClient", functools.partial(qbo_services.QboHttpClient, sleep=core_common.no_sleep)
        )
        cls.realm_id = cls.fake.realm_ids[cls.realm_index]
        cls.company_data = cls.world.companies[cls.realm_index]
        cls.Move = cls.env["account.move"]
        cls.Run = cls.env["recruitment.sync.run"]
        cls.currency = company.currency_id
        cls.make_taxes()
        cls.bank = cls.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        cls.integration = cls.env["recruitment.sync.integration"].create(
            {
                "name": "QuickBooks",
                "provider": "quickbooks",
                "client_id": cls.fake.client_id,
                "client_secret": cls.fake.client_secret,
                "authorize_url": cls.fake.authorize_url,
                "token_url": cls.fake.token_url,
                "revoke_url": cls.fake.revoke_url,
                "api_base_url": cls.fake.api_base,
                "schedule_active": False,
                "rate_limit_per_minute": 100_000,
                "export_start_date": fields.Date.today() - timedelta(days=365),
            }
        )
        cls.addClassCleanup(drop_rate_limiter, (cls.env.cr.dbname, cls.integration.id))
        cls.addClassCleanup(drop_rate_limiter, (cls.env.cr.dbname, cls.integration.id, "batch"))
        if cls.connect_on_setup:
            cls.connect(cls.integration, cls.realm_id)
            cls.process_all_runs()
            cls.map_defaults()

    @classmethod
    def make_taxes(cls):
        Tax = cls.env["account.tax"]

        def tax(name, amount, included=False):
            return Tax.create(
                {
                    "name": name,
                    "amount": amount,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": cls.env.company.id,
                    "price_include_override": "tax_included" if included else "tax_excluded",
                }
            )

        cls.tax20 = tax("QBO test VAT 20%", 20)
        cls.tax20_included = tax("QBO test VAT 20% included", 20, included=True)
        cls.tax5 = tax("QBO test VAT 5%", 5)
        cls.tax_zero = tax("QBO test zero rated", 0)
        cls.tax_unmapped = tax("QBO test VAT 12.5%", 12.5)
        cls.sales_tax = tax("QBO test California 8.625%", 8.625)

    @classmethod
    def connect(cls, integration, realm_id):
        """Tokens as after the consent flow for ``realm_id``, then Connect's own follow-up."""
        integration._oauth2_store(cls.fake.issue_token(realm_id))
        assert integration._provider_oauth2_callback({"realmId": realm_id}) is None
        integration._mark_connected()
        return integration

    @classmethod
    def rows(cls, model, integration=None):
        return cls.env[model].search([("integration_id", "=", (integration or cls.integration).id)])

    @classmethod
    def tax_code(cls, name, integration=None):
        return cls.rows("recruitment.sync.qbo.tax.code", integration).filtered(lambda row: row.name == name)

    @classmethod
    def map_defaults(cls):
        """What a sync manager maps by hand after the import."""
        if cls.integration.qbo_is_us:
            cls.tax_code("California").tax_ids = cls.sales_tax | cls.tax20 | cls.tax5
        else:
            cls.tax_code("20.0% S").tax_ids = cls.tax20 | cls.tax20_included
            cls.tax_code("5.0% R").tax_ids = cls.tax5
            cls.tax_code("0.0% Z").tax_ids = cls.tax_zero

    @classmethod
    def process_all_runs(cls):
        for _attempt in range(30):
            if not cls.env["recruitment.sync.run"]._cron_process_runs(time_budget=600):
                return
        raise AssertionError("the runner never finished")

    def setUp(self):
        super().setUp()
        # Each test's Odoo data is rolled back: QuickBooks' records go back too.
        self.fake.load(self.world)
        self.fake.clear_faults()
        self.fake.reset_rate_limits()
        self.fake.served_429.clear()
        self.violations_before = len(self.fake.violations)

    def tearDown(self):
        violations = self.fake.violations[self.violations_before :]
        super().tearDown()
        self.assertFalse(violations, "requests or answers that break Intuit's XSDs")

    # -- helpers -----------------------------------------------------------------------------
    def sync(self, kinds=None, integration=None):
        integration = integration or self.integration
        run, created = integration._queue_run("manual", kinds=kinds)
        self.assertTrue(created, "a run should have been queued")
        self.process_all_runs()
        self.env.invalidate_all()
        return run

    def export(self, integration=None):
        return self.sync(
            ["qbo_export_items", "qbo_export_customers", "qbo_invoices", "qbo_credit_notes", "qbo_payments"],
            integration,
        )

    def customer(self, name="Odoo Customer Ltd", **values):
        return self.env["res.partner"].create({"name": name, "is_company": True, **values})

    def line(self, price, quantity=1, taxes=None, discount=0.0, name="Consulting", **values):
        taxes = (self.sales_tax if self.integration.qbo_is_us else self.tax20) if taxes is None else taxes
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

    def pay(self, moves, amount=None, journal=None):
        values = {"journal_id": (journal or self.bank).id, "payment_date": fields.Date.today()}
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

    def qbo_document(self, move):
        entity = "Invoice" if move.move_type == "out_invoice" else "CreditMemo"
        found = self.fake.find(entity, self.realm_id, DocNumber=move.name)
        self.assertTrue(found, f"{move.name} should be in QuickBooks")
        return found


class QboCase(QboMixin, TransactionCase):
    pass


class QboHttpCase(QboMixin, HttpCase):
    pass
