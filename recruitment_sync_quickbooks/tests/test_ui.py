"""The QuickBooks journey in a browser, against the fake QuickBooks Online over loopback HTTP: the
accounting connectors' Save & Sync journey (recruitment_sync/tests/accounting.py) with QuickBooks' tours.
"""

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.accounting import SaveAndSyncJourney

from .common import QboHttpCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestQuickBooksUi(SaveAndSyncJourney, QboHttpCase):
    tour_prefix = "recruitment_sync_quickbooks"
    invoice_kind = "qbo_invoices"

    def assert_sent(self, move):
        self.assertTrue(self.qbo_document(move))
