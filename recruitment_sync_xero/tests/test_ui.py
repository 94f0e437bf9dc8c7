"""The Xero journey in a browser, against the fake Xero over loopback HTTP: the accounting
connectors' Save & Sync journey (recruitment_sync/tests/accounting.py) with Xero's tours, and the
retry of a failed export from the invoice.
"""

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.accounting import SaveAndSyncJourney

from .common import XeroHttpCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestXeroUi(SaveAndSyncJourney, XeroHttpCase):
    tour_prefix = "recruitment_sync_xero"
    invoice_kind = "invoices"

    def assert_sent(self, move):
        self.assertTrue(move.xero_id)

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
