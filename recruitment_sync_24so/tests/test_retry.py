"""An invoice 24SevenOffice could not take for a passing reason is sent again by itself, once."""

from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.recruitment_sync.services.http_client import RetryableError

from ..services import tso_client
from .common import TsoCase

UNAVAILABLE = "24SevenOffice is unavailable (HTTP 503) (SaveInvoices)."


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportRetry(TsoCase):
    def setUp(self):
        super().setUp()
        self.outages = 0
        original = tso_client.TsoClient.save_invoices
        test = self

        def save_invoices(client, invoices):
            if test.outages:
                test.outages -= 1
                raise RetryableError(UNAVAILABLE, status=503)
            return original(client, invoices)

        self.startPatcher(patch.object(tso_client.TsoClient, "save_invoices", save_invoices))

    def failed_item(self, move):
        return self.env["recruitment.sync.failed.item"].search(
            [("integration_id", "=", self.integration.id), ("item_key", "=", f"account.move,{move.id}")]
        )

    def retry_due_items(self, item):
        item.sudo().next_attempt_at = fields.Datetime.now()
        queued = self.env["recruitment.sync.integration"]._cron_schedule_syncs()
        self.process_runs()
        return queued.filtered(lambda run: run.integration_id == self.integration)

    def test_unavailable_then_sent_again_by_itself_once(self):
        invoice = self.make_invoice()
        self.outages = 1
        runs = self.export(invoice)
        status, _number, reason = self.receipt(runs)[invoice.name]
        self.assertEqual(status, "failed")
        self.assertIn("sent again automatically", reason)
        line = runs.line_ids.filtered(lambda line: line.tso_move_id == invoice)
        self.assertEqual(line.failure_type, "transient")
        item = self.failed_item(invoice)
        self.assertEqual((item.state, item.attempts), ("retrying", 1))
        self.assertFalse(self.orders_for(invoice))
        # No export is scheduled: when the item is due, a run of that item is queued all the same.
        self.assertFalse(self.integration.schedule_active)
        retry = self.retry_due_items(item)
        self.assertEqual((retry.trigger, retry.state), ("retry", "done"))
        self.assertEqual(self.status(retry, invoice), "exported")
        self.assertEqual(len(self.orders_for(invoice)), 1)
        self.assertFalse(item.exists())
        self.assertEqual(invoice.tso_status, "exported")

    def test_after_the_last_attempt_it_stays_failed_and_is_listed(self):
        self.integration.retry_max_attempts = 2
        invoice = self.make_invoice()
        self.outages = 2
        self.export(invoice)
        self.retry_due_items(self.failed_item(invoice))
        item = self.failed_item(invoice)
        self.assertRecordValues(item, [{"state": "given_up", "attempts": 2}])
        self.assertFalse(
            self.env["recruitment.sync.integration"]
            ._cron_schedule_syncs()
            .filtered(lambda run: run.integration_id == self.integration)
        )
        self.assertIn(item, self.integration.failed_item_ids)
        self.assertFalse(self.orders_for(invoice))
