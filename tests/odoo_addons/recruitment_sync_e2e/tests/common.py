"""What the browser tests against the sandbox share: its stand-ins, started in the test's process,
and the database set up as ``make run`` does."""

import functools
from datetime import date, timedelta

from odoo import Command
from odoo.tests import HttpCase

from odoo.addons.recruitment_sync.models import recruitment_sync_integration as integration_module
from odoo.addons.recruitment_sync.services.http_client import HttpClient
from odoo.addons.recruitment_sync.tests.common import no_sleep

from tests.fakes.sandbox import Sandbox, build_world  # noqa: I001  (on the path set by the core's tests)
from tests.sandbox_setup import setup_sandbox

SEED = 1


class SandboxCase(HttpCase):
    """The sandbox's stand-ins (``cls.sandbox``, ``cls.state``) and integrations (``cls.jobadder``,
    ``cls.xero``, ``cls.quickbooks``, ``cls.invoiceocean``, ``cls.tso``: empty without the 24SevenOffice
    WSDLs)."""

    placements = 60

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Yesterday's agency, as in recruitment_sync_jobadder's journey: its records were edited hours
        # ago, so "changed since the last sync" finds only what a test changes.
        world = build_world(seed=SEED, today=date.today() - timedelta(days=1), placements=cls.placements)
        cls.sandbox = Sandbox(world, ports={"jobadder": 0, "xero": 0, "24so": 0, "quickbooks": 0, "invoiceocean": 0})
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.classPatch(integration_module, "HttpClient", functools.partial(HttpClient, sleep=no_sleep))
        cls.state = cls.sandbox.state()
        cls.summary = setup_sandbox(cls.env, cls.state)
        Integration = cls.env["recruitment.sync.integration"]
        ids = {key: value["id"] for key, value in cls.summary["integrations"].items()}
        cls.jobadder = Integration.browse(ids["jobadder"])
        cls.xero = Integration.browse(ids["xero"])
        cls.quickbooks = Integration.browse(ids["quickbooks"])
        cls.invoiceocean = Integration.browse(ids.get("invoiceocean"))
        cls.tso = Integration.browse(ids.get("24so"))
        cls.env.flush_all()

    def setUp(self):
        super().setUp()
        # Each test's invoices are rolled back in Odoo, and their numbers come again in the next
        # test: the stand-in forgets the orders an earlier test exported.
        self.sandbox.twentyfour.forget_invoices()

    def post_norwegian_invoices(self):
        """The Norwegian offices (Oslo, Bergen) invoice two placement clients: the posted invoices."""
        clients = self.sandbox.world.invoiced_clients[1:3]
        product = self.env["product.product"].search([("default_code", "=", "CONTRACT-HOUR")])
        mva = self.env["account.tax"].search([("name", "=", "25% MVA"), ("type_tax_use", "=", "sale")])
        invoices = self.env["account.move"]
        for client, department in zip(clients, ("Oslo", "Bergen"), strict=True):
            partner = self.env["res.partner"].search([("name", "=", client), ("is_company", "=", True)], limit=1)
            office = self.env["hr.department"].search([("name", "=", department)])
            invoices |= self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "department_id": office.id,
                    # What picking the department on the form does: the office's NOK journal.
                    "journal_id": office.sale_journal_id.id or False,
                    "invoice_line_ids": [
                        Command.create({"product_id": product.id, "quantity": 37.5, "tax_ids": [Command.set(mva.ids)]})
                    ],
                }
            )
        invoices.action_post()
        return invoices
