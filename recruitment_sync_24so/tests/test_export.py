from odoo.tests import tagged

from .common import TsoCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExport(TsoCase):
    def test_invoice_is_exported_with_its_number(self):
        invoice = self.make_invoice(lines=[(self.product_known, 2, 150.0), (self.product_new, 1, 99.5)])
        runs = self.export(invoice)
        status, number, reason = self.receipt(runs)[invoice.name]
        self.assertEqual(status, "exported", reason)
        orders = self.orders_for(invoice)
        self.assertEqual(len(orders), 1)
        self.assertEqual(str(orders[0]["InvoiceId"]), number)
        self.assertEqual(invoice.tso_status, "exported")
        self.assertEqual(invoice.tso_invoice_number, number)
