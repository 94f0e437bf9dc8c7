"""The QuickBooks journey in a browser, against the fake QuickBooks Online over loopback HTTP.

Save & Sync → the confirmation with the counts → Proceed → the run (processed by the test, as the
cron would) → its notification over the bus → the run and its failed item → Sync History.
"""

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.browser import BrowserSession

from .common import QboHttpCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestQuickBooksUi(QboHttpCase):
    def test_save_and_sync_confirm_notify_history(self):
        partner = self.customer("Browser Customer Ltd")
        good = self.invoice(partner, [self.line(100.0)])
        bad = self.invoice(partner, [self.line(50.0, taxes=self.tax_unmapped)])
        integration = self.integration
        session = BrowserSession(self, "admin")
        try:
            session.run_tour(
                "recruitment_sync_quickbooks_save_and_sync", url=f"/odoo/sync-integrations/{integration.id}"
            )
            with session.server_paused():
                run = self.Run.search([("integration_id", "=", integration.id), ("trigger", "=", "manual")])
                self.assertEqual((run.state, run.user_id), ("queued", self.env.ref("base.user_admin")))
                self.process_all_runs()
                self.assertRunDone(run, "done_errors")
                self.assertEqual(self.lines_of(run, "qbo_invoices", "failed").res_id, bad.id)
                self.assertEqual(self.lines_of(run, "qbo_invoices", "exported").res_id, good.id)
                session.deliver_bus_notifications()
            session.run_tour("recruitment_sync_quickbooks_notified")
        finally:
            session.close()
        self.assertTrue(self.qbo_document(good))
