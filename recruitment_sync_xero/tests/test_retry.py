"""A document of an export batch that Xero could not take for a passing reason is sent again, once."""

from odoo import fields
from odoo.tests import tagged

from .common import XeroCase

ATTEMPTS_PER_CALL = 4  # the client's first call and its three retries


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportRetry(XeroCase):
    def failed_item(self, move):
        return self.env["recruitment.sync.failed.item"].search(
            [("integration_id", "=", self.integration.id), ("item_key", "=", f"account.move,{move.id}")]
        )

    def make_due(self, item):
        item.sudo().next_attempt_at = fields.Datetime.now()

    def test_xero_unavailable_for_one_document_then_sent_once(self):
        move = self.invoice(self.customer("Passing Outage Ltd"), [self.line(120.0)])
        self.sync(["export_customers"])
        puts = self.fake.count("PUT /Invoices")
        self.fake.inject(status=503, times=ATTEMPTS_PER_CALL, path_prefix="/api.xro/2.0/Invoices")
        first = self.sync(["invoices"])
        self.assertRunDone(first, "done_errors")
        [line] = self.lines_of(first, "invoices")
        self.assertEqual((line.action, line.failure_type), ("failed", "transient"), line.reason)
        self.assertIn("503", line.reason)
        item = self.failed_item(move)
        self.assertEqual((item.state, item.attempts), ("retrying", 1))
        self.assertFalse(move.xero_id)
        # Not due yet: the next run leaves it alone (no resend in a tight loop) ...
        second = self.sync(["invoices"])
        self.assertFalse(self.lines_of(second, "invoices"))
        self.assertEqual(self.fake.count("PUT /Invoices") - puts, ATTEMPTS_PER_CALL)
        # ... then, once due, sends it, once; the item is forgotten.
        self.make_due(item)
        third = self.sync(["invoices"])
        self.assertRunDone(third)
        self.assertEqual(self.lines_of(third, "invoices").action, "exported")
        self.assertTrue(move.xero_id)
        self.assertFalse(item.exists())
        self.assertEqual(self.fake.duplicate_count(), 0)
        self.assertEqual(len([i for i in self.fake.invoices() if i.get("InvoiceNumber") == move.name]), 1)
        fourth = self.sync(["invoices"])
        self.assertFalse(self.lines_of(fourth, "invoices"), "exported once")

    def test_after_the_last_attempt_it_stays_failed_and_is_listed(self):
        self.integration.retry_max_attempts = 2
        move = self.invoice(self.customer("Long Outage Ltd"), [self.line(75.0)])
        self.sync(["export_customers"])
        self.fake.inject(status=503, times=2 * ATTEMPTS_PER_CALL, path_prefix="/api.xro/2.0/Invoices")
        self.sync(["invoices"])
        self.make_due(self.failed_item(move))
        self.sync(["invoices"])
        item = self.failed_item(move)
        self.assertRecordValues(item, [{"state": "given_up", "attempts": 2, "failure_type": "transient"}])
        later = self.sync(["invoices"])
        self.assertFalse(self.lines_of(later, "invoices"), "given up: not sent again by itself")
        self.assertFalse(move.xero_id)
        self.assertIn(item, self.integration.failed_item_ids)
        # Retry failed items sends it.
        self.integration.action_retry_failed_items()
        self.process_all_runs()
        self.env.invalidate_all()
        self.assertTrue(move.xero_id)
        self.assertFalse(item.exists())
        self.assertEqual(self.fake.duplicate_count(), 0)
