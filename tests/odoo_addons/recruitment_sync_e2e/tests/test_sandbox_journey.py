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
5. InvoiceOcean: paste the token and the prefix, save (the connection is tested) → the first sync
   links the customers of both sides → webhooks registered → a client edited in the stand-in comes
   to Odoo → a customer created in Odoo goes to the stand-in (scheduled sync) → a new document in the
   stand-in becomes an opportunity with its link → "+Add invoice" from another opportunity, issued
   by the background runner, and the notification that takes the user to it;

then another browser, as the sync user of the London department, finds that department's
history only. Background runs are processed by the test between two tours, as the cron would.
"""

import json
import time

from odoo import fields
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
        self.invoiceocean_before_activation()
        session = BrowserSession(self, "admin")
        try:
            self.walk_jobadder_journey(session, self.sandbox.jobadder, self.jobadder)
            # Before any London invoice: QuickBooks serves London too, and its Save & Sync imports only.
            self.walk_quickbooks_journey(session)
            invoice = self.walk_xero_journey(session)
            self.walk_24so_journey(session, invoice)
            # Last: its first sync finds the customers JobAdder brought, already paired with Xero's.
            self.walk_invoiceocean_journey(session)
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

    # ------------------------------------------------------------------------ InvoiceOcean
    def invoiceocean_before_activation(self):
        """The sandbox activates InvoiceOcean with the stand-in's token (``make run``); this journey starts
        from the form an administrator finds before pasting them: no token, no prefix, nothing queued."""
        integration = self.invoiceocean
        self.env["recruitment.sync.run"].search([("integration_id", "=", integration.id)]).unlink()
        integration.sudo().write({"io_api_token": False, "io_prefix": False})
        integration.sudo().write({"state": "not_connected", "initial_load_done": False, "io_linked_at": False})
        self.assertFalse(integration.sudo().io_api_token)

    def io_partner(self, client_id):
        binding = self.env["recruitment.sync.binding"].search(
            [
                ("integration_id", "=", self.invoiceocean.id),
                ("res_model", "=", "res.partner"),
                ("external_id", "=", str(client_id)),
            ]
        )
        return self.env["res.partner"].browse(binding.res_id).exists()

    def io_runs(self):
        return self.env["recruitment.sync.run"].search([("integration_id", "=", self.invoiceocean.id)])

    def process_io_runs(self):
        """The runner, then each run of InvoiceOcean done without a failed line."""
        before = self.io_runs()
        self.process_runs()
        for run in self.io_runs():
            failures = run.line_ids.filtered(lambda line: line.action == "failed")
            self.assertFalse(failures, "\n".join(f"{line.name}: {line.reason}" for line in failures))
            self.assertEqual(run.state, "done", run.summary)
        return self.io_runs() - before

    def wait_for_webhooks(self, fake, count, what):
        """The stand-in calls Odoo's webhook route from its own threads: wait until ``count`` calls answered."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answered = [d for d in fake.deliveries if d["status"] is not None or d["error"]]
            if len(answered) >= count:
                self.assertEqual([d["status"] for d in answered], [200] * len(answered), answered)
                return
            time.sleep(0.1)
        self.fail(f"InvoiceOcean's webhooks never reached Odoo ({what}).")

    def walk_invoiceocean_journey(self, session):
        integration, fake = self.invoiceocean, self.sandbox.invoiceocean
        account = fake.account
        shared = account.notable["shared_clients"]
        # Activation: the administrator pastes the token and the prefix and saves; the connection is tested.
        self.tour_data(session, prefix=fake.prefix, token=fake.api_token)
        session.run_tour("recruitment_sync_e2e_io_activate", url=f"/odoo/sync-integrations/{integration.id}")
        with session.server_paused():
            self.assertEqual(integration.state, "connected")
            self.assertEqual(integration.io_prefix, fake.prefix)
            initial = self.io_runs()
            self.assertEqual((initial.trigger, initial.state), ("initial_load", "queued"))
            self.assertFalse(
                [c for c in account.clients.values() if str(c.get("external_id") or "").startswith("odoo-")],
                "nothing sent from the administrator's transaction",
            )
            self.process_io_runs()
            self.assertTrue(integration.io_linked_at)
            # The agency's invoiced clients, in both systems, are linked to those JobAdder brought: not duplicated.
            for ident in shared:
                name = account.clients[ident]["name"]
                partners = self.env["res.partner"].search([("name", "=", name), ("is_company", "=", True)])
                self.assertEqual(len(partners), 1, name)
                self.assertEqual(self.io_partner(ident), partners, name)
            # InvoiceOcean's own clients came into Odoo; Odoo's customers (JobAdder's clients) went over.
            only_io = next(c for ident, c in account.clients.items() if ident not in shared and not c["deleted"])
            self.assertEqual(self.io_partner(only_io["id"]).name, " ".join(only_io["name"].split()))
            shared_names = {account.clients[ident]["name"] for ident in shared}
            clients = self.env["recruitment.placement"].search([]).client_id
            placement_client = clients.filtered(lambda partner: partner.name not in shared_names)[:1]
            self.assertTrue(placement_client)
            sent = [c for c in account.clients.values() if c["name"] == placement_client.name]
            self.assertEqual(len(sent), 1, placement_client.name)
            self.assertEqual(integration._io_id_of_key("res.partner", sent[0]["external_id"]), placement_client.id)
            # The departments came in: their mapping table is ready.
            self.assertEqual(len(integration.io_department_ids), len(account.departments))
            session.deliver_bus_notifications()
        session.run_tour("recruitment_sync_e2e_io_linked")
        with session.server_paused():
            self.process_io_runs()
            self.assertEqual(
                {hook["kind"] for hook in fake.webhooks.values() if hook["url"] == integration.io_webhook_url},
                {"client:create", "client:update", "client:destroy", "invoice:create", "invoice:update"},
            )

        # A client edited in InvoiceOcean: its webhook queues a run, the runner brings the change.
        edited = shared[1]
        deliveries = len(fake.deliveries)
        fake.update_client(edited, {"city": "Kraków", "phone": "+48 123 456 789"})
        self.wait_for_webhooks(fake, deliveries + 1, "a client edited")
        with session.server_paused():
            webhook_runs = self.io_runs().filtered(lambda run: run.trigger == "webhook")
            self.assertEqual(webhook_runs.mapped("state"), ["queued"])
            self.process_io_runs()
            partner = self.io_partner(edited)
            self.assertEqual(partner.city, "Kraków")
        session.run_tour(
            "recruitment_sync_invoiceocean_client", url=f"/odoo/action-base.action_partner_form/{partner.id}"
        )

        # A customer created in Odoo: the next scheduled sync sends it (never from the user's transaction).
        self.tour_data(session, customer="Harbour Lights Staffing")
        session.run_tour("recruitment_sync_e2e_io_customer", url="/odoo")
        with session.server_paused():
            customer = self.env["res.partner"].search([("name", "=", "Harbour Lights Staffing")])
            self.assertEqual(len(customer), 1)
            self.assertFalse([c for c in account.clients.values() if c["name"] == customer.name])
            integration.next_scheduled_sync_at = fields.Datetime.now()  # time for InvoiceOcean's next sync
            queued = self.env["recruitment.sync.integration"]._cron_schedule_syncs()
            self.assertIn(integration, queued.integration_id)
            deliveries = len(fake.deliveries)
            self.process_io_runs()
            [client] = [c for c in account.clients.values() if c["name"] == customer.name]
            self.assertEqual(self.io_partner(client["id"]), customer)
        # Its own webhook comes back: nothing changes, nothing is sent again (no loop).
        self.wait_for_webhooks(fake, deliveries + 1, "the client Odoo created")
        with session.server_paused():
            runs = self.process_io_runs()
            self.assertFalse(runs.line_ids.filtered(lambda line: line.action != "unchanged"), runs.line_ids)

        # A document issued in InvoiceOcean becomes an opportunity of its customer, with its link.
        deliveries = len(fake.deliveries)
        document = fake.create_invoice(
            {
                "kind": "vat",
                "client_id": edited,
                "positions": [{"name": "Permanent placement fee", "quantity": 1, "price_net": "4500", "tax": 23}],
            }
        )
        self.wait_for_webhooks(fake, deliveries + 1, "a document issued")
        with session.server_paused():
            self.process_io_runs()
            lead = self.env["crm.lead"].search([("io_document_number", "=", document["number"])])
            self.assertEqual(len(lead), 1)
            self.assertEqual(lead.partner_id, partner)
            self.assertEqual(lead.io_view_url, fake.view_url(document))
            # Meanwhile a salesperson opened another opportunity for that customer.
            other = self.env["crm.lead"].create(
                {"name": "Spring hiring", "type": "opportunity", "partner_id": partner.id, "expected_revenue": 800}
            )
        session.run_tour("recruitment_sync_invoiceocean_document", url=f"/odoo/crm/{lead.id}")

        # "+Add invoice" from the other opportunity: queued, issued by the runner, the user taken to it.
        session.run_tour("recruitment_sync_invoiceocean_add_invoice", url=f"/odoo/crm/{other.id}")
        oid = integration._io_our_key("crm.lead", other.id)
        deliveries = len(fake.deliveries)
        with session.server_paused():
            self.assertEqual(other.io_invoice_state, "queued")
            self.assertFalse([i for i in account.invoices.values() if i.get("oid") == oid], "not from the dialog")
            self.process_io_runs()
            [invoice] = [i for i in account.invoices.values() if i.get("oid") == oid]
            self.assertEqual(invoice["client_id"], edited)
            self.assertEqual(other.io_invoice_state, "done")
            self.assertEqual(other.io_view_url, fake.view_url(invoice))
        session.run_tour("recruitment_sync_invoiceocean_invoice_ready")
        self.assertEqual(
            session.evaluate("sessionStorage.getItem('recruitment_sync_invoiceocean_opened')"), other.io_view_url
        )
        session.evaluate(f"location.assign({other.io_view_url!r})")
        session.wait_for(
            f"location.href === {other.io_view_url!r} && document.querySelector('h1')?.textContent.includes("
            f"{invoice['number']!r})",
            "the invoice in InvoiceOcean",
        )
        # Its webhook names an invoice Odoo already has: no second opportunity.
        self.wait_for_webhooks(fake, deliveries + 1, "the invoice Odoo issued")
        with session.server_paused():
            self.process_io_runs()
            self.assertEqual(self.env["crm.lead"].search_count([("io_document_number", "=", invoice["number"])]), 1)

    # ------------------------------------------------------------------------ department user
    def walk_department_user_history(self):
        london = self.env["res.users"].search([("login", "=", "london")])
        visible = self.env["recruitment.sync.run"].with_user(london).search([])
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
