"""The test base every accounting connector's tests build on (Xero, QuickBooks Online): the
provider's fake over loopback, a company of its own with sales taxes, an integration of the provider pointed at
the fake (connected on set-up unless told not to), invoices, credit notes and payments.

A connector's mixin names its fake, HTTP client, integration values and how it connects; the
rest (set-up order, runner, helpers, contract check) is here. Every request the connector sends
and every answer the fake returns is checked against the provider's contract (the fake's
``validate``): ``tearDown`` fails a test that made the fake record a violation.
"""

import functools
from datetime import timedelta

from odoo import Command, fields

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter

from . import common as core_common
from .browser import BrowserSession


class AccountingConnectorMixin:
    """Mix with TransactionCase or HttpCase; subclasses fill in the provider's hooks below."""

    connect_on_setup = True  # False: the integration is created, not connected
    rounding_method = "round_per_line"  # the company's tax rounding
    tax_prefix = None  # names of the test taxes, e.g. "Xero test"; also names the test's own company
    contract = None  # what the fake checks against, e.g. "Xero's OpenAPI definition"
    export_kinds = ()  # the run kinds ``export()`` queues
    extra_rate_limiters = ()  # the integration's rate limiters besides its main one, e.g. ("batch",)

    # -- the provider's hooks ----------------------------------------------------------------
    @classmethod
    def make_world(cls):
        """The provider's generated data (the fake is reloaded with it before each test)."""
        raise NotImplementedError

    @classmethod
    def make_fake(cls):
        """The provider's fake (not started) serving ``cls.world``."""
        raise NotImplementedError

    @classmethod
    def http_client(cls):
        """``(module, class name)`` of the provider's HTTP client, patched not to sleep."""
        raise NotImplementedError

    @classmethod
    def make_provider_taxes(cls):
        """The provider's own test taxes, besides the five every accounting connector uses."""

    @classmethod
    def prepare_company(cls):
        """The provider's own company settings (called before the taxes are made)."""

    @classmethod
    def integration_values(cls):
        """The provider's values of the test integration (name, provider, API URL)."""
        raise NotImplementedError

    @classmethod
    def connect_initially(cls):
        """Connect ``cls.integration`` as the consent flow would on set-up."""
        raise NotImplementedError

    @classmethod
    def map_defaults(cls):
        """What a sync manager maps by hand after the import."""

    def default_taxes(self):
        return self.tax20

    # -- set-up --------------------------------------------------------------------------------
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        # not the first company: in a database with demo data its invoices would be exported too
        company = core_common.use_company_of_its_own(cls, f"{cls.tax_prefix} company")
        company.tax_calculation_rounding_method = cls.rounding_method
        cls.world = cls.make_world()
        cls.fake = core_common.start_fake(cls, cls.make_fake())
        module, client_name = cls.http_client()
        cls.classPatch(module, client_name, functools.partial(getattr(module, client_name), sleep=core_common.no_sleep))
        cls.Move = cls.env["account.move"]
        cls.Run = cls.env["recruitment.sync.run"]
        cls.currency = company.currency_id
        cls.prepare_company()
        cls.make_taxes()
        cls.bank = cls.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        cls.integration = cls.env["recruitment.sync.integration"].create(
            {
                "client_id": cls.fake.client_id,
                "client_secret": cls.fake.client_secret,
                "authorize_url": cls.fake.authorize_url,
                "token_url": cls.fake.token_url,
                "revoke_url": cls.fake.revoke_url,
                "schedule_active": False,
                "rate_limit_per_minute": 100_000,  # our limiter must not pace calls to the local fake
                "export_start_date": fields.Date.today() - timedelta(days=365),
                **cls.integration_values(),
            }
        )
        for extra in ((), *((name,) for name in cls.extra_rate_limiters)):
            cls.addClassCleanup(drop_rate_limiter, (cls.env.cr.dbname, cls.integration.id, *extra))
        if cls.connect_on_setup:
            cls.connect_initially()
            cls.process_all_runs()  # the initial import of the provider's settings and customers
            cls.map_defaults()

    @classmethod
    def store_consent(cls, integration, token, callback=None):
        """Tokens as after the consent flow (``token``: the fake's token answer; ``callback``: the
        query the provider's redirect carries, when the connector reads it), then Connect's own
        follow-up."""
        integration._oauth2_store(token)
        if callback is not None:
            assert integration._provider_oauth2_callback(callback) is None
        integration._mark_connected()
        return integration

    @classmethod
    def make_tax(cls, name, amount, included=False):
        return cls.env["account.tax"].create(
            {
                "name": f"{cls.tax_prefix} {name}",
                "amount": amount,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.env.company.id,
                "price_include_override": "tax_included" if included else "tax_excluded",
            }
        )

    @classmethod
    def make_taxes(cls):
        cls.tax20 = cls.make_tax("VAT 20%", 20)
        cls.tax20_included = cls.make_tax("VAT 20% included", 20, included=True)
        cls.tax5 = cls.make_tax("VAT 5%", 5)
        cls.tax_zero = cls.make_tax("zero rated", 0)
        cls.tax_unmapped = cls.make_tax("VAT 12.5%", 12.5)
        cls.make_provider_taxes()

    @classmethod
    def rows(cls, model, integration=None):
        return cls.env[model].search([("integration_id", "=", (integration or cls.integration).id)])

    @classmethod
    def process_all_runs(cls):
        """The background runner, pass after pass, until nothing is left (as the cron would)."""
        for _attempt in range(30):
            if not cls.env["recruitment.sync.run"]._cron_process_runs(time_budget=600):
                return
        raise AssertionError("the runner never finished")

    def setUp(self):
        super().setUp()
        # Each test's Odoo data is rolled back: the provider's records go back too.
        self.fake.load(self.world)
        self.fake.clear_faults()
        self.fake.reset_rate_limits()
        self.fake.served_429.clear()
        self.violations_before = len(self.fake.violations)

    def tearDown(self):
        violations = self.fake.violations[self.violations_before :]
        super().tearDown()
        self.assertFalse(violations, f"requests or answers that break {self.contract}")

    # -- helpers -----------------------------------------------------------------------------
    def sync(self, kinds=None, integration=None):
        """Queue a manual run (of ``kinds``) and let the runner do it."""
        integration = integration or self.integration
        run, created = integration._queue_run("manual", kinds=kinds)
        self.assertTrue(created, "a run should have been queued")
        self.process_all_runs()
        self.env.invalidate_all()  # as a new request would: the remote status and link of the documents
        return run

    def export(self, integration=None):
        return self.sync(list(self.export_kinds), integration)

    def customer(self, name="Odoo Customer Ltd", **values):
        return self.env["res.partner"].create({"name": name, "is_company": True, **values})

    def line(self, price, quantity=1, taxes=None, discount=0.0, name="Consulting", **values):
        taxes = self.default_taxes() if taxes is None else taxes
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


class SaveAndSyncJourney:
    """The browser journey every accounting connector offers, mixed into its HttpCase:

    Save & Sync → the confirmation with the counts → Proceed → the run (processed by the test, as
    the cron would) → its notification over the bus → the run and its failed item → Sync History.
    Tours ``<tour_prefix>_save_and_sync`` and ``<tour_prefix>_notified`` walk it (the connector
    registers them with ``addSaveAndSyncJourney`` of recruitment_sync/static/tests/tours/tour_steps.js).
    """

    # odoo-bin --test-enable runs only the test methods a class defines itself, unless told so:
    # without this the connectors' test classes would not run the journey there (pytest does).
    allow_inherited_tests_method = True
    tour_prefix = None  # e.g. "recruitment_sync_xero"
    invoice_kind = None  # the run kind of customer invoices, e.g. "invoices"

    def assert_sent(self, move):
        """``move`` is in the provider's ledger."""
        raise NotImplementedError

    def test_save_and_sync_confirm_notify_history(self):
        partner = self.customer("Browser Customer Ltd")
        good = self.invoice(partner, [self.line(100.0)])
        bad = self.invoice(partner, [self.line(50.0, taxes=self.tax_unmapped)])
        integration = self.integration
        session = BrowserSession(self, "admin")
        try:
            session.run_tour(f"{self.tour_prefix}_save_and_sync", url=f"/odoo/sync-integrations/{integration.id}")
            with session.server_paused():
                run = self.Run.search([("integration_id", "=", integration.id), ("trigger", "=", "manual")])
                self.assertEqual((run.state, run.user_id), ("queued", self.env.ref("base.user_admin")))
                self.process_all_runs()
                self.assertRunDone(run, "done_errors")
                self.assertEqual(self.lines_of(run, self.invoice_kind, "failed").res_id, bad.id)
                self.assertEqual(self.lines_of(run, self.invoice_kind, "exported").res_id, good.id)
                session.deliver_bus_notifications()
            session.run_tour(f"{self.tour_prefix}_notified")
        finally:
            session.close()
        self.assert_sent(good)
