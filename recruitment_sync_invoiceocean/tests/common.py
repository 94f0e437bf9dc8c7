"""The InvoiceOcean connector's test base: a fresh fake InvoiceOcean over loopback per test, an integration
activated with its token and prefix, the background runner run as the cron would."""

import functools
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter
from odoo.addons.recruitment_sync.tests import common as core_common
from odoo.addons.recruitment_sync_invoiceocean.services import invoiceocean as io_services

from tests.fakes.invoiceocean import FakeInvoiceOcean  # noqa: I001  (on the path set by the core's tests)
from tests.fakes.invoiceocean_data import generate_account

# Odoo customers that are InvoiceOcean clients too (the fake's account has them, with a tax number).
SHARED = ("Meridian Freight", "Tasman Mining", "Summit Foods")


class InvoiceOceanMixin:
    activate_on_setup = True  # False: the integration is created without its token
    first_sync = "both"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.classPatch(
            io_services,
            "InvoiceOceanHttpClient",
            functools.partial(io_services.InvoiceOceanHttpClient, sleep=core_common.no_sleep),
        )
        cls.Run = cls.env["recruitment.sync.run"]
        cls.Partner = cls.env["res.partner"]
        cls.Lead = cls.env["crm.lead"]

    def setUp(self):
        super().setUp()
        self.account = generate_account(seed=1, today=fields.Date.today(), clients=SHARED)
        self.fake = FakeInvoiceOcean(account=self.account, webhook_delivery="manual")
        self.fake.start()
        self.addCleanup(self.fake.stop)
        self.shared_ids = self.account.notable["shared_clients"]
        # Odoo's side: two of the shared companies (one found by tax number, one by name), one of its own.
        first, second = (self.account.clients[ident] for ident in self.shared_ids[:2])
        # Created a minute before the accounts are linked, as customers an agency already had.
        with freeze_time(fields.Datetime.now() - timedelta(minutes=1)):
            self._create_odoo_customers(first, second)
        self.integration = self.env["recruitment.sync.integration"].create(
            {
                "name": "InvoiceOcean",
                "provider": "invoiceocean",
                "io_prefix": self.fake.prefix,
                "api_base_url": self.fake.account_url,
                "schedule_active": False,
                "rate_limit_per_minute": 100_000,
                "io_first_sync": self.first_sync,
            }
        )
        self.addCleanup(drop_rate_limiter, (self.env.cr.dbname, self.integration.id))
        if self.activate_on_setup:
            self.activate()

    def _create_odoo_customers(self, first, second):
        self.odoo_by_vat = self.Partner.create(
            {"name": "Meridian Freight Ltd", "is_company": True, "vat": first["tax_no"]}
        )
        self.odoo_by_name = self.Partner.create({"name": second["name"], "is_company": True})
        self.odoo_only = self.Partner.create(
            {"name": "Odoo Only Staffing AS", "is_company": True, "email": "hi@odoo-only.example"}
        )

    # -- helpers -----------------------------------------------------------------------------
    def activate(self, token=None):
        """What the administrator does: paste the token, save (the connection is tested), then the runner."""
        self.integration.io_api_token = token or self.fake.api_token
        self.process_all_runs()
        self.env.invalidate_all()
        return self.integration

    def process_all_runs(self):
        for _attempt in range(30):
            if not self.Run._cron_process_runs(time_budget=600):
                return
        raise AssertionError("the runner never finished")

    def sync(self, kinds=None):
        run, created = self.integration._queue_run("manual", kinds=kinds)
        self.assertTrue(created, "a run should have been queued")
        self.process_all_runs()
        self.env.invalidate_all()
        return run

    def lines_of(self, run, kind=None, action=None):
        return run.line_ids.filtered(
            lambda line: (kind is None or line.kind == kind) and (action is None or line.action == action)
        )

    def assertRunDone(self, run, state="done"):
        failures = "\n".join(f"{line.kind} {line.name}: {line.reason}" for line in self.lines_of(run, action="failed"))
        self.assertEqual(run.state, state, f"{run.summary}\n{failures}")

    def partner_of(self, client_id):
        binding = self.env["recruitment.sync.binding"].search(
            [
                ("integration_id", "=", self.integration.id),
                ("res_model", "=", "res.partner"),
                ("external_model", "=", "client"),
                ("external_id", "=", str(client_id)),
            ]
        )
        return self.Partner.with_context(active_test=False).browse(binding.res_id).exists()

    def lead_of(self, document_id):
        binding = self.env["recruitment.sync.binding"].search(
            [
                ("integration_id", "=", self.integration.id),
                ("res_model", "=", "crm.lead"),
                ("external_id", "=", str(document_id)),
            ]
        )
        return self.Lead.with_context(active_test=False).browse(binding.res_id).exists()

    def new_document(self, client_id=None, **fields_):
        values = {
            "kind": "vat",
            "client_id": client_id or self.shared_ids[0],
            "positions": [{"name": "Placement fee", "quantity": 1, "price_net": "1000", "tax": 23}],
            **fields_,
        }
        return self.fake.create_invoice(values)


class InvoiceOceanCase(InvoiceOceanMixin, TransactionCase):
    pass


class InvoiceOceanHttpCase(InvoiceOceanMixin, HttpCase):
    pass
