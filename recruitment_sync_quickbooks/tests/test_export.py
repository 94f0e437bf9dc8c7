from odoo.tests import tagged

from .common import QboCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportUK(QboCase):
    def test_invoice_with_new_customer_exported_with_tax_codes(self):
        partner = self.customer("Brand New Client Ltd", email="ap@brandnew.example")
        move = self.invoice(partner, [self.line(1000), self.line(100, taxes=self.tax5)])
        run = self.export()
        self.assertRunDone(run)
        document = self.qbo_document(move)
        self.assertEqual(str(document["TotalAmt"]), str(move.amount_total))
        self.assertEqual(document["GlobalTaxCalculation"], "TaxExcluded")
        binding = move._recruitment_sync_other_ledger(self.env["recruitment.sync.integration"]) if False else None
        self.assertIsNone(binding)
