"""The sandbox's Odoo set-up (tests/sandbox_setup.py): what ``make run`` makes on a fresh
database, and what a second run (the stand-ins restarted, maybe on other ports) changes."""

import functools
from datetime import date

from odoo.tests import TransactionCase, tagged

from odoo.addons.recruitment_sync.models import recruitment_sync_integration as integration_module
from odoo.addons.recruitment_sync.services.http_client import HttpClient
from odoo.addons.recruitment_sync.tests.common import no_sleep

from tests.fakes.sandbox import Sandbox, build_world  # noqa: I001  (on the path set by the core's tests)
from tests.sandbox_setup import MODULE, USERS, setup_sandbox

FREE_PORTS = {"jobadder": 0, "xero": 0, "24so": 0, "quickbooks": 0, "invoiceocean": 0}


@tagged("post_install", "-at_install", "recruitment_sync_e2e")
class TestSandboxSetup(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world = build_world(seed=1, today=date.today(), placements=30)
        cls.classPatch(integration_module, "HttpClient", functools.partial(HttpClient, sleep=no_sleep))

    def start_sandbox(self):
        sandbox = Sandbox(self.world, ports=FREE_PORTS).start()
        self.addCleanup(sandbox.stop)
        return sandbox

    def integrations(self, summary):
        Integration = self.env["recruitment.sync.integration"]
        return {key: Integration.browse(value["id"]) for key, value in summary["integrations"].items()}

    def test_fresh_database(self):
        sandbox = self.start_sandbox()
        summary = setup_sandbox(self.env, sandbox.state())
        company = self.env.ref("base.main_company")
        self.assertEqual((company.name, company.currency_id.name), ("Brightstaff Recruitment", "GBP"))
        self.assertTrue(company.chart_template)
        self.assertEqual([user["login"] for user in summary["users"]], ["admin", "manager", "london"])
        london = self.env["res.users"].search([("login", "=", "london")])
        self.assertTrue(london.has_group("recruitment_sync.group_sync_user"))
        self.assertFalse(london.has_group("recruitment_sync.group_sync_manager"))
        self.assertEqual(london.employee_ids.department_id.name, "London")
        manager = self.env["res.users"].search([("login", "=", "manager")])
        self.assertTrue(manager.has_group("recruitment_sync.group_sync_manager"))
        integrations = self.integrations(summary)
        for integration in integrations.values():
            self.assertTrue(integration.is_sandbox)
        jobadder, xero = integrations["jobadder"], integrations["xero"]
        self.assertEqual(jobadder.sudo().authorize_url, sandbox.jobadder.authorize_url)
        self.assertEqual(jobadder.sudo().api_base_url, sandbox.jobadder.api_url)
        self.assertEqual(jobadder.state, "not_connected")
        self.assertEqual(jobadder.department_scope, "all")
        self.assertEqual(xero.sudo().token_url, sandbox.xero.token_url)
        self.assertEqual(xero.department_ids.mapped("name"), ["London"])
        # Open in JobAdder and View in Xero lead to the stand-ins.
        self.assertTrue(jobadder.jobadder_app_url.startswith(sandbox.jobadder.url))
        self.assertEqual(xero.sudo().xero_app_url, sandbox.xero.url)
        # The 20% VAT has its own tax group; the Norwegian offices invoice in NOK.
        vat = self.env["account.tax"].search([("name", "=", "20% VAT")])
        self.assertEqual(vat.tax_group_id.name, "VAT 20%")
        for office in self.env["hr.department"].search([("name", "in", ("Oslo", "Bergen"))]):
            self.assertEqual(office.sale_journal_id.currency_id.name, "NOK")
        london = self.env["hr.department"].search([("name", "=", "London")])
        self.assertFalse(london.sale_journal_id, "London invoices in the company's pounds")
        if sandbox.twentyfour:
            tso = integrations["24so"]
            self.assertEqual(tso.state, "connected", summary["notes"])
            self.assertEqual(set(tso.department_ids.mapped("name")), {"Oslo", "Bergen"})
            logins = tso.sudo().tso_credential_ids
            self.assertEqual(set(logins.mapped("state")), {"ok"})
            self.assertEqual(logins.filtered("department_ids").department_ids.tso_department_ref, 300)
        # InvoiceOcean: activated with the stand-in's token and prefix; its first sync is queued.
        invoiceocean = integrations["invoiceocean"]
        self.assertEqual(invoiceocean.provider, "invoiceocean")
        self.assertEqual(invoiceocean.io_prefix, sandbox.invoiceocean.prefix)
        self.assertEqual(invoiceocean.sudo().io_api_token, sandbox.invoiceocean.api_token)
        self.assertEqual(invoiceocean.sudo().api_base_url, sandbox.invoiceocean.account_url)
        self.assertEqual(invoiceocean.department_scope, "all")
        self.assertEqual(invoiceocean.state, "connected", invoiceocean.connection_message)
        first_sync = self.env["recruitment.sync.run"].search([("integration_id", "=", invoiceocean.id)])
        self.assertEqual(first_sync.mapped("trigger"), ["initial_load"])

    def test_second_run_keeps_connections_and_duplicates_nothing(self):
        first = self.start_sandbox()
        jobadder = self.integrations(setup_sandbox(self.env, first.state()))["jobadder"]
        jobadder._oauth2_store(first.jobadder.issue_token("read offline_access"))
        jobadder.sudo().state = "connected"
        made = self.env["ir.model.data"].search_count([("module", "=", MODULE)])
        users = self.env["res.users"].search_count([])
        first.stop()

        second = self.start_sandbox()  # other ports, a fresh stand-in without the old grants
        self.assertNotEqual(second.jobadder.url, first.jobadder.url)
        summary = setup_sandbox(self.env, second.state())
        self.assertEqual(self.integrations(summary)["jobadder"], jobadder)
        self.assertEqual(self.env["ir.model.data"].search_count([("module", "=", MODULE)]), made)
        self.assertEqual(self.env["res.users"].search_count([]), users)
        self.assertEqual(len(USERS), self.env["res.users"].search_count([("login", "in", [u[0] for u in USERS])]))
        self.assertEqual(jobadder.sudo().api_base_url, second.jobadder.api_url)
        self.assertEqual(jobadder.state, "connected")
        answer = jobadder.action_test_connection()
        self.assertEqual(answer["params"]["type"], "success", answer["params"]["message"])
        invoiceocean = self.integrations(summary)["invoiceocean"]
        self.assertEqual(invoiceocean.sudo().api_base_url, second.invoiceocean.account_url)
        self.assertEqual(invoiceocean.state, "connected", invoiceocean.connection_message)
        self.assertEqual(
            self.env["recruitment.sync.run"].search_count([("integration_id", "=", invoiceocean.id)]),
            1,
            "saving the token again re-tests the connection, it queues no second first sync",
        )
        tso = self.integrations(summary).get("24so")
        if tso:  # activated the first time, its logins untouched since
            self.assertEqual(tso.state, "connected")
            self.assertEqual(tso.sudo().api_base_url, second.twentyfour.url)
            self.assertEqual(set(tso.sudo().tso_credential_ids.mapped("state")), {"ok"})
