"""+Add invoice: the dialog prefilled from the opportunity, the invoice issued by the runner with oid +
oid_unique (a double click or a retry after a time-out after commit: one invoice), linked to the
opportunity (its own listing never makes a second opportunity); a 422 fails the line with its reason."""

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import InvoiceOceanCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestAddInvoice(InvoiceOceanCase):
    def setUp(self):
        super().setUp()
        self.lead = self.Lead.create(
            {
                "name": "Winter staffing",
                "type": "opportunity",
                "partner_id": self.odoo_by_vat.id,
                "expected_revenue": 5000,
            }
        )

    def open_wizard(self, lead=None):
        action = (lead or self.lead).action_io_add_invoice()
        return Form(self.env[action["res_model"]].with_context(**action["context"]))

    def invoices_of(self, lead):
        oid = self.integration._io_our_key("crm.lead", lead.id)
        return [i for i in self.fake.account.invoices.values() if i.get("oid") == oid]

    def test_prefilled_then_created_in_the_background_and_linked(self):
        form = self.open_wizard()
        self.assertEqual(form.integration_id, self.integration)
        self.assertEqual(len(form.line_ids), 1)
        with form.line_ids.edit(0) as line:
            self.assertEqual(line.name, "Winter staffing")
            self.assertEqual(line.price_net, 5000)
        action = form.save().action_confirm()
        self.assertEqual(action["tag"], "recruitment_sync_invoiceocean.wait_invoice")
        self.assertFalse(self.invoices_of(self.lead), "nothing sent from the user's transaction")
        self.assertEqual(self.lead.io_invoice_state, "queued")
        self.process_all_runs()
        [invoice] = self.invoices_of(self.lead)
        self.assertEqual(invoice["client_id"], self.shared_ids[0])
        self.assertEqual(str(invoice["price_net"]), "5000.00")
        self.assertEqual(self.lead.io_invoice_state, "done")
        self.assertEqual(self.lead.io_view_url, self.fake.view_url(invoice))
        self.assertEqual(self.lead_of(invoice["id"]), self.lead)
        # Its listing (or webhook) does not make a second opportunity.
        before = self.Lead.search_count([])
        self.fake.update_invoice(invoice["id"], {"description": "seen again"})
        self.sync()
        self.assertEqual(self.Lead.search_count([]), before)

    def test_double_click_issues_one_invoice(self):
        wizard = self.open_wizard().save()
        wizard.action_confirm()
        with self.assertRaises(UserError):
            self.open_wizard().save().action_confirm()
        self.process_all_runs()
        self.assertEqual(len(self.invoices_of(self.lead)), 1)

    def test_retry_after_a_timeout_after_commit_issues_one_invoice(self):
        self.fake.inject_after_commit(times=1, drop=True, path_prefix="/invoices.json")
        self.open_wizard().save().action_confirm()
        self.process_all_runs()
        self.assertEqual(len(self.invoices_of(self.lead)), 1)
        self.assertEqual(self.lead.io_invoice_state, "done")
        self.assertTrue(self.lead.io_view_url)

    def test_customer_not_in_invoiceocean_yet_goes_first(self):
        newcomer = self.Partner.create({"name": "Newcomer Ltd", "is_company": True})
        lead = self.Lead.create(
            {"name": "First deal", "type": "opportunity", "partner_id": newcomer.id, "expected_revenue": 100}
        )
        self.open_wizard(lead).save().action_confirm()
        self.process_all_runs()
        [invoice] = self.invoices_of(lead)
        self.assertEqual(self.fake.account.clients[invoice["client_id"]]["name"], "Newcomer Ltd")
        self.assertEqual(len([c for c in self.fake.account.clients.values() if c["name"] == "Newcomer Ltd"]), 1)

    def test_refused_invoice_fails_with_the_reason(self):
        self.fake.inject(
            status=422, body={"code": "error", "message": {"positions": ["are invalid"]}}, path_prefix="/invoices.json"
        )
        self.open_wizard().save().action_confirm()
        run = self.Run.search([("integration_id", "=", self.integration.id)], limit=1, order="id desc")
        self.process_all_runs()
        failed = self.lines_of(run, "io_add_invoices", "failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("positions are invalid", failed.reason)
        self.assertFalse(self.invoices_of(self.lead))
