"""+Add invoice: the dialog prefilled from the opportunity, the invoice issued by the runner with oid +
oid_unique (a double click or a retry after a time-out after commit: one invoice), linked to the
opportunity (its own listing never makes a second opportunity); a 422 fails the line with its reason.
An attempt whose outcome stayed unknown is retried by a later run, which looks the invoice up by its oid."""

import functools
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from odoo.addons.recruitment_sync_invoiceocean.services import invoiceocean as io_services

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

    def test_later_retry_run_after_a_timeout_after_commit_looks_the_oid_up_and_issues_no_second_invoice(self):
        # InvoiceOcean commits the invoice but its answer never comes, and the network stays down for
        # this run (no retry within it): Odoo cannot know whether the invoice exists.
        self.patch(
            io_services, "InvoiceOceanHttpClient", functools.partial(io_services.InvoiceOceanHttpClient, max_retries=0)
        )
        self.fake.inject_after_commit(times=1, drop=True, path_prefix="/invoices.json")
        self.open_wizard().save().action_confirm()
        run = self.Run.search([("integration_id", "=", self.integration.id)], limit=1, order="id desc")
        self.process_all_runs()
        self.assertEqual(len(self.invoices_of(self.lead)), 1, "the first send went through")
        self.assertEqual(self.lead.io_invoice_state, "queued", "its outcome is unknown in Odoo")
        self.assertTrue(self.lines_of(run, "io_add_invoices", "failed").reason)
        item = self.env["recruitment.sync.failed.item"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual((item.kind, item.state), ("io_add_invoices", "retrying"))

        # Later, the retry is due: the scheduler queues a run of it, which looks the invoice up first.
        posts = len(self.fake.requests_to("/invoices.json", "POST"))
        item.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        retry = self.env["recruitment.sync.integration"]._cron_schedule_syncs()
        self.assertEqual((retry.integration_id, retry.trigger), (self.integration, "retry"))
        self.process_all_runs()
        self.assertRunDone(retry)
        [invoice] = self.invoices_of(self.lead)
        self.assertEqual(len(self.fake.requests_to("/invoices.json", "POST")), posts, "not sent again")
        self.assertIn(
            self.integration._io_our_key("crm.lead", self.lead.id),
            [request.args.get("oid") for request in self.fake.requests_to("/invoices.json", "GET")],
        )
        self.assertEqual(self.lead.io_invoice_state, "done")
        self.assertEqual(self.lead.io_view_url, self.fake.view_url(invoice))
        self.assertEqual(self.lead_of(invoice["id"]), self.lead)
        self.assertFalse(item.exists(), "the item went through")

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

    def test_a_refused_invoice_fails_alone_the_next_one_is_issued_nothing_lost(self):
        other = self.Lead.create(
            {
                "name": "Spring staffing",
                "type": "opportunity",
                "partner_id": self.odoo_by_name.id,
                "expected_revenue": 700,
            }
        )
        self.fake.inject(
            status=422,
            body={"code": "error", "message": {"buyer_tax_no": ["is invalid"]}},
            path_prefix="/invoices.json",
        )
        self.open_wizard().save().action_confirm()  # sent first (the older opportunity): refused
        self.open_wizard(other).save().action_confirm()
        self.process_all_runs()
        lines = self.env["recruitment.sync.run.line"].search(
            [("integration_id", "=", self.integration.id), ("kind", "=", "io_add_invoices")]
        )
        failed = lines.filtered(lambda line: line.action == "failed")
        self.assertEqual(failed.mapped("res_id"), [self.lead.id])
        self.assertIn("buyer_tax_no is invalid", failed.reason)
        self.assertEqual(lines.filtered(lambda line: line.action == "exported").mapped("res_id"), [other.id])
        self.assertFalse(self.invoices_of(self.lead))
        self.assertEqual(len(self.invoices_of(other)), 1)
        self.assertEqual(other.io_invoice_state, "done")
        self.assertEqual(self.lead.io_invoice_state, "queued", "its request is kept")
        self.assertTrue(self.lead.io_invoice_request)

    def active_runs(self):
        return self.Run.search([("integration_id", "=", self.integration.id), ("state", "in", ("queued", "running"))])

    def test_invoice_asked_while_an_import_run_waits_is_issued_when_it_ends(self):
        """A webhook's import run is queued (or running): "+Add invoice" queues no second run and that run
        adds no invoice; the invoice gets a run of its own as soon as it ends."""
        webhook_run = self.integration._io_receive_webhook({"client": {"id": self.shared_ids[2]}})
        self.open_wizard().save().action_confirm()
        self.assertEqual(self.active_runs(), webhook_run)
        self.process_all_runs()
        self.assertEqual(len(self.invoices_of(self.lead)), 1)
        self.assertEqual(self.lead.io_invoice_state, "done")
        follow_up = self.Run.search([("integration_id", "=", self.integration.id)], limit=1, order="id desc")
        self.assertEqual((follow_up.kinds, follow_up.direction), (["io_add_invoices"], "export"))
        self.assertFalse(self.active_runs(), "and no run after that one")

    def test_webhook_while_an_invoice_run_waits_is_read_when_it_ends(self):
        self.open_wizard().save().action_confirm()
        [invoice_run] = self.active_runs()
        ident = self.shared_ids[2]
        self.fake.update_client(ident, {"city": "Poznań"}, notify=False)
        self.assertEqual(self.integration._io_receive_webhook({"client": {"id": ident}}), invoice_run)
        self.process_all_runs()
        self.assertEqual(self.partner_of(ident).city, "Poznań")
        self.assertFalse(self.active_runs())

    def test_a_refused_invoice_asks_for_no_further_run(self):
        self.fake.inject(status=422, body={"code": "error", "message": {"kind": ["is invalid"]}}, path_prefix="/")
        runs = self.Run.search_count([("integration_id", "=", self.integration.id)])
        self.open_wizard().save().action_confirm()
        self.process_all_runs()
        self.assertEqual(self.lead.io_invoice_state, "queued", "kept, waiting for a change")
        self.assertEqual(self.Run.search_count([("integration_id", "=", self.integration.id)]), runs + 1, "the click's")

    def test_a_refused_invoice_says_why_is_not_sent_again_and_can_be_asked_again(self):
        self.fake.inject(
            status=422,
            body={"code": "error", "message": {"buyer_tax_no": ["is invalid"]}},
            path_prefix="/invoices.json",
        )
        self.open_wizard().save().action_confirm()
        self.process_all_runs()
        self.assertEqual(self.lead.io_invoice_state, "queued")
        self.assertIn("buyer_tax_no is invalid", self.lead.io_invoice_refusal)
        # Later syncs leave it: sent as it was, it would be refused again.
        posts = len(self.fake.requests_to("/invoices.json", "POST"))
        self.sync()
        self.integration._queue_run("manual", kinds=["io_add_invoices"], direction="export")
        self.process_all_runs()
        self.assertEqual(len(self.fake.requests_to("/invoices.json", "POST")), posts, "not sent again as it was")
        # Corrected, "+Add invoice" again: one invoice, the refusal gone.
        action = self.open_wizard().save().action_confirm()
        self.assertEqual(action["tag"], "recruitment_sync_invoiceocean.wait_invoice")
        self.assertFalse(self.lead.io_invoice_refusal)
        self.process_all_runs()
        self.assertEqual(len(self.invoices_of(self.lead)), 1)
        self.assertEqual(self.lead.io_invoice_state, "done")
        self.assertFalse(self.lead.io_invoice_refusal)
