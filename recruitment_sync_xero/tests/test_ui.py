"""The Xero journey in a browser, against the fake Xero over loopback HTTP.

Save & Sync → the confirmation with the counts → Proceed → the run (processed by the test, as the
cron would) → its notification over the bus → the run and its failed item → Sync History.
"""

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.browser import BrowserSession

from .common import XeroHttpCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestXeroUi(XeroHttpCase):
    def test_save_and_sync_confirm_notify_history(self):
        partner = self.customer("Browser Customer Ltd")
        good = self.invoice(partner, [self.line(100.0)])
        bad = self.invoice(partner, [self.line(50.0, taxes=self.tax_unmapped)])
        integration = self.integration
        session = BrowserSession(self, "admin")
        try:
            session.run_tour("recruitment_sync_xero_save_and_sync", url=f"/odoo/sync-integrations/{integration.id}")
            with session.server_paused():
                run = self.Run.search([("integration_id", "=", integration.id), ("trigger", "=", "manual")])
                self.assertEqual((run.state, run.user_id), ("queued", self.env.ref("base.user_admin")))
                self.process_all_runs()
                self.assertRunDone(run, "done_errors")
                self.assertEqual(self.lines_of(run, "invoices", "failed").res_id, bad.id)
                self.assertEqual(self.lines_of(run, "invoices", "exported").res_id, good.id)
                session.deliver_bus_notifications()
            session.run_tour("recruitment_sync_xero_notified")
        finally:
            session.close()
        self.assertTrue(good.xero_id)

    def test_a_failed_export_shows_its_reason_on_the_invoice_and_retry_sends_it(self):
        move = self.invoice(self.customer("Browser Retry Ltd"), [self.line(80.0, taxes=self.tax_unmapped)])
        self.assertRunDone(self.export(), "done_errors")
        move.button_draft()  # fixed in Odoo: a tax Xero knows
        move.invoice_line_ids.tax_ids = self.tax20
        move.action_post()
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
            "recruitment_sync_xero_invoice_retry",
            login="admin",
        )
        run = self.Run.search([("integration_id", "=", self.integration.id), ("state", "=", "queued")])
        self.assertEqual(run.direction, "export")
        self.assertFalse(move.xero_id, "nothing sent before the run")
        self.process_all_runs()
        self.env.invalidate_all()
        self.assertTrue(move.xero_id)
        self.assertEqual((move.sync_export_state, move.sync_status_ids.reason), ("exported", False))
