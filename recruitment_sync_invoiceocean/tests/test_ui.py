"""The InvoiceOcean journey in a browser, against the fake InvoiceOcean over loopback HTTP: activate → a
client edited in InvoiceOcean appears in Odoo → an InvoiceOcean invoice appears as an opportunity with
its link → "+Add invoice" from another opportunity, and the notification that takes the user to the invoice
when the background runner has issued it."""

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.browser import BrowserSession

from .common import InvoiceOceanHttpCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestInvoiceOceanUi(InvoiceOceanHttpCase):
    activate_on_setup = False

    def test_activate_client_document_add_invoice(self):
        self.start_tour(
            f"/odoo/sync-invoiceocean/{self.integration.id}", "recruitment_sync_invoiceocean_activate", login="admin"
        )
        self.env.invalidate_all()
        self.assertEqual(self.integration.state, "connected")
        self.process_all_runs()

        ident = self.shared_ids[2]
        self.fake.update_client(ident, {"city": "Kraków"}, notify=False)
        document = self.new_document()
        self.sync()
        partner = self.partner_of(ident)
        self.start_tour(
            f"/odoo/action-base.action_partner_form/{partner.id}", "recruitment_sync_invoiceocean_client", login="admin"
        )
        lead = self.lead_of(document["id"])
        self.assertTrue(lead)
        self.start_tour(f"/odoo/crm/{lead.id}", "recruitment_sync_invoiceocean_document", login="admin")

        other = self.Lead.create(
            {
                "name": "Spring hiring",
                "type": "opportunity",
                "partner_id": self.odoo_by_name.id,
                "expected_revenue": 800,
            }
        )
        # One browser from the click to the invoice: the opportunity waits for the runner meanwhile.
        session = BrowserSession(self, "admin")
        try:
            session.run_tour("recruitment_sync_invoiceocean_add_invoice", url=f"/odoo/crm/{other.id}")
            with session.server_paused():
                self.assertEqual(other.io_invoice_state, "queued")
                self.process_all_runs()
                self.assertEqual(other.io_invoice_state, "done")
                oid = self.integration._io_our_key("crm.lead", other.id)
                [invoice] = [i for i in self.fake.account.invoices.values() if i.get("oid") == oid]
                self.assertEqual(other.io_view_url, self.fake.view_url(invoice))
            session.run_tour("recruitment_sync_invoiceocean_invoice_ready")
            opened = session.evaluate("sessionStorage.getItem('recruitment_sync_invoiceocean_opened')")
            self.assertEqual(opened, other.io_view_url, "the notification opens the invoice in InvoiceOcean")
        finally:
            session.close()
