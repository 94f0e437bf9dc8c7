"""The whole product in a browser, against the sandbox of ``make run`` over loopback.

The sandbox's stand-ins (``tests/fakes/sandbox.py``) run in this process; the database gets the
sandbox's company, users and integrations (``tests/sandbox_setup.py``), as ``make run`` does.
One headless Chromium walks, as the administrator:

1. JobAdder: recruitment_sync_jobadder's journey (Connect → consent page → initial load → Placements → Sync
   JobAdder from the Placements screen → Sync History), ``JobAdderJourney``;
2. Xero: Connect → consent page, where both organisations are ticked → pick the UK one in Odoo →
   tax rates, accounts and customers come in → map the 20% tax → post an invoice for a
   placement's client (London department) → Save & Sync, its confirmation → the notification
   → the run's lines in Sync History;
3. QuickBooks Online: Connect → consent page, where the UK company is chosen → back in Odoo, the
   company is named on the form and its tax codes, accounts and customers come in → Save &
   Sync, its confirmation with the counts → Proceed → the notification → the runs in Sync History;
4. 24SevenOffice: select the Norwegian offices' invoices → Export to 24SevenOffice → the receipt,
   in transfer, then exported;

then another browser, as the sync user of the London department, finds that department's
history only. Background runs are processed by the test between two tours, as the cron would.
"""

import json

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.browser import BrowserSession
from odoo.addons.recruitment_sync_jobadder.tests.test_ui import JobAdderJourney

from .common import SandboxCase


@tagged("post_install", "-at_install", "recruitment_sync", "recruitment_sync_e2e")
class TestSandboxJourney(JobAdderJourney, SandboxCase):
    def tour_data(self, session, **data):
        """Values the next tours read (sessionStorage of Odoo's origin: kept across pages)."""
        session.evaluate(f"sessionStorage.setItem('recruitment_sync_e2e', {json.dumps(json.dumps(data))})")

    def test_sandbox_journey(self):
        self.assertEqual(self.summary["notes"], [], "the sandbox setup reported problems")
        self.assertTrue(self.tso)
        self.assertTrue(all(self.env["recruitment.sync.integration"].search([]).mapped("is_sandbox")))
        session = BrowserSession(self, "admin")
        try:
            self.walk_jobadder_journey(session, self.sandbox.jobadder, self.jobadder)
            # Before any London invoice: QuickBooks serves London too, and its Save & Sync imports only.
            self.walk_quickbooks_journey(session)
            invoice = self.walk_xero_journey(session)
            self.walk_24so_journey(session, invoice)
        finally:
            session.close()
        self.walk_department_user_history()

    # ------------------------------------------------------------------------ Xero
    def walk_xero_journey(self, session):
        xero, fake = self.xero, self.sandbox.xero
        uk, nz = self.state["xero"]["organisation"], self.state["xero"]["other_organisation"]
        client = self.sandbox.world.invoiced_clients[0]
        # Connect: the form says it is a sandbox; the browser leaves Odoo for Xero's consent page.
        session.run_tour("recruitment_sync_e2e_xero_connect", url=f"/odoo/sync-integrations/{xero.id}")
        session.wait_for(
            f"location.href.startsWith({fake.url!r}) && document.querySelector('#organisations')",
            "Xero's consent page",
        )
        # Both organisations are ticked: back in Odoo, this company's is picked.
        session.evaluate(
            "document.querySelectorAll('#organisations input[name=tenant]').forEach(box => { box.checked = true; });"
            "document.getElementById('accept').click()"
        )
        session.wait_for(
            f"location.origin === {self.base_url()!r} && location.pathname === '/odoo/sync-integrations/{xero.id}'",
            "the Xero integration's form, back in Odoo",
        )
        session.run_tour("recruitment_sync_e2e_xero_pick_organisation")
        with session.server_paused():
            self.assertEqual(xero.state, "connected")
            self.assertEqual(xero.xero_tenant_id.tenant_id, uk["id"])
            self.assertIn(nz["id"], xero.xero_tenant_ids.mapped("tenant_id"))
            initial = self.env["recruitment.sync.run"].search([("integration_id", "=", xero.id)])
            self.assertEqual(initial.trigger, "initial_load")
            self.process_runs()
            self.assertEqual(initial.state, "done", initial.summary)
            self.assertIn("OUTPUT2", xero.xero_tax_rate_ids.mapped("tax_type"))
            self.assertTrue(xero.xero_account_ids.filtered(lambda row: row.code == "201").account_ids)
            # The JobAdder clients already in Xero are paired with those JobAdder brought.
            matched = initial.line_ids.filtered(lambda line: line.kind == "customers" and line.action == "updated")
            self.assertEqual(set(matched.mapped("name")), set(self.sandbox.world.invoiced_clients))
            partner = self.env["res.partner"].search([("name", "=", client), ("is_company", "=", True)])
            self.assertEqual(len(partner), 1)
            self.assertTrue(
                self.env["recruitment.placement"].search_count([("client_id", "=", partner.id)]),
                "the invoiced client is a placement's client",
            )

        # Map the 20% tax (Xero has three 20% sales rates), post an invoice, Save & Sync.
        self.tour_data(session, client=client)
        session.run_tour("recruitment_sync_e2e_xero_map_tax", url=f"/odoo/sync-integrations/{xero.id}")
        session.run_tour("recruitment_sync_e2e_invoice", url="/odoo")
        with session.server_paused():
            invoice = self.env["account.move"].search(
                [("partner_id", "=", partner.id), ("move_type", "=", "out_invoice")], order="id desc", limit=1
            )
            self.assertEqual(invoice.state, "posted")
            self.assertEqual(invoice.department_id.name, "London")
        self.tour_data(session, invoice=invoice.name)
        session.run_tour("recruitment_sync_e2e_xero_save_and_sync", url=f"/odoo/sync-integrations/{xero.id}")
        with session.server_paused():
            run = self.env["recruitment.sync.run"].search(
                [("integration_id", "=", xero.id), ("trigger", "=", "manual")]
            )
            self.assertEqual(run.state, "queued")
            self.process_runs()
            self.assertEqual(run.state, "done", run.summary)
            self.assertEqual(run.exported_count, 1)
            sent = fake.invoice(invoice.name, tenant_id=uk["id"])
            self.assertTrue(sent, "the invoice is in the Xero organisation")
            self.assertEqual(sent["ContactID"], self.xero_contact(client), "sent to the client already in Xero")
            # What a commit does after the run: its end reaches the user's browser on the bus.
            session.deliver_bus_notifications()
        session.run_tour("recruitment_sync_e2e_xero_notified")
        session.run_tour("recruitment_sync_e2e_xero_history", url="/odoo")
        return invoice

    def xero_contact(self, name):
        uk = self.state["xero"]["organisation"]["id"]
        return next(c["ContactID"] for c in self.sandbox.xero.contacts(uk) if c["Name"] == name)

    # ------------------------------------------------------------------------ QuickBooks Online
    def walk_quickbooks_journey(self, session):
        qbo, fake = self.quickbooks, self.sandbox.quickbooks
        uk, us = self.state["quickbooks"]["company"], self.state["quickbooks"]["other_company"]
        session.run_tour("recruitment_sync_e2e_qbo_connect", url=f"/odoo/sync-integrations/{qbo.id}")
        session.wait_for(
            f"location.href.startsWith({fake.url!r}) && document.querySelector('#companies')",
            "Intuit's consent page",
        )
        # One company per connection: the UK one (the page preselects the first, the US one).
        session.evaluate(
            f"document.querySelector('#companies input[name=realm][value=\"{uk['realm_id']}\"]').checked = true;"
            "document.getElementById('accept').click()"
        )
        session.wait_for(
            f"location.origin === {self.base_url()!r} && location.pathname === '/odoo/sync-integrations/{qbo.id}'",
            "the QuickBooks integration's form, back in Odoo",
        )
        self.tour_data(session, company=uk["name"])
        session.run_tour("recruitment_sync_e2e_qbo_connected")
        with session.server_paused():
            self.assertEqual(qbo.state, "connected")
            self.assertEqual(qbo.qbo_realm_id, uk["realm_id"])
            self.assertNotEqual(qbo.qbo_realm_id, us["realm_id"])
            initial = self.env["recruitment.sync.run"].search([("integration_id", "=", qbo.id)])
            self.assertEqual(initial.trigger, "initial_load")
            self.process_runs()
            self.assertEqual(initial.state, "done", initial.summary)
            # What came in is the UK company's: its tax codes, accounts and customers, none failed.
            self.assertTrue(qbo.qbo_tax_code_ids)
            self.assertLessEqual(
                set(qbo.qbo_tax_code_ids.mapped("qbo_id")),
                {code["Id"] for code in fake.records("TaxCode", uk["realm_id"])},
            )
            self.assertTrue(qbo.qbo_account_ids)
            self.assertLessEqual(
                set(qbo.qbo_account_ids.mapped("qbo_id")),
                {account["Id"] for account in fake.records("Account", uk["realm_id"])},
            )
            customers = initial.line_ids.filtered(lambda line: line.kind == "qbo_customers")
            self.assertTrue(customers, "the UK company's customers came in")
            self.assertLessEqual(
                set(customers.mapped("external_id")),
                {customer["Id"] for customer in fake.records("Customer", uk["realm_id"])},
            )
            self.assertFalse(initial.line_ids.filtered(lambda line: line.action == "failed").mapped("reason"))
        session.run_tour("recruitment_sync_e2e_qbo_save_and_sync", url=f"/odoo/sync-integrations/{qbo.id}")
        with session.server_paused():
            run = self.env["recruitment.sync.run"].search([("integration_id", "=", qbo.id), ("trigger", "=", "manual")])
            self.assertEqual(run.state, "queued")
            self.process_runs()
            self.assertEqual(run.state, "done", run.summary)
            session.deliver_bus_notifications()
        session.run_tour("recruitment_sync_e2e_qbo_notified")
        session.run_tour("recruitment_sync_e2e_qbo_history", url="/odoo")

    # ------------------------------------------------------------------------ 24SevenOffice
    def walk_24so_journey(self, session, xero_invoice):
        """Meanwhile the Norwegian offices invoiced two placement clients: export their invoices."""
        with session.server_paused():
            invoices = self.post_norwegian_invoices()
        self.tour_data(session, invoices=invoices.mapped("name"), other=xero_invoice.name)
        session.run_tour("recruitment_sync_e2e_24so_export", url="/odoo")
        with session.server_paused():
            run = self.env["recruitment.sync.run"].search([("integration_id", "=", self.tso.id)])
            self.assertEqual(run.state, "queued")
            lines = run.line_ids.filtered(lambda line: line.kind == "invoices")
            self.assertEqual(set(lines.mapped("tso_status")), {"in_transfer"})
            self.assertEqual(lines.tso_move_id, invoices)
            self.process_runs()
            self.assertEqual(run.state, "done", run.summary)
            self.assertEqual(set(lines.mapped("tso_status")), {"exported"})
            self.assertTrue(all(lines.mapped("tso_invoice_number")))
            departments = {
                order.get("DepartmentId")
                for move in invoices
                for order in self.sandbox.twentyfour.invoices_for(move.name)
            }
            self.assertEqual(departments, {1, 300}, "each invoice carries its office's 24SevenOffice department")
        # The receipt follows the export: it shows the statuses without being reopened.
        session.run_tour("recruitment_sync_e2e_24so_receipt")

    # ------------------------------------------------------------------------ department user
    def walk_department_user_history(self):
        london = self.env["res.users"].search([("login", "=", "london")])
        visible = self.env["recruitment.sync.run"].with_user(london).search([])
        # InvoiceOcean serves every department: its first sync (run at the start) is London's history too.
        self.assertEqual(
            set(visible.integration_id.mapped("provider")), {"jobadder", "xero", "quickbooks", "invoiceocean"}
        )
        if self.tso:
            self.assertTrue(self.env["recruitment.sync.run"].search_count([("integration_id", "=", self.tso.id)]))
        session = BrowserSession(self, "london")
        try:
            session.run_tour("recruitment_sync_e2e_department_history", url="/odoo")
        finally:
            session.close()
