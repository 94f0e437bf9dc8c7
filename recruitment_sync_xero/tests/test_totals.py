import random
from decimal import Decimal

from odoo.tests import tagged

from .common import XeroCase

CENT = Decimal("0.01")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRandomizedTotals(XeroCase):
    """Xero's totals equal Odoo's to the cent, over many invoices and credit notes of every shape."""

    documents = 240

    def random_lines(self, rng, credit_note):
        taxes = rng.choice(
            [
                [self.tax20],
                [self.tax20_included],
                [self.tax5, self.tax20],
                [self.tax20_included, self.tax5],  # a mixed basis: converted to tax-excluded amounts
                [self.tax_zero, self.tax20],
                [self.tax20_included, self.tax_zero],
            ]
        )
        lines = []
        for _index in range(rng.randint(1, 6)):
            places = rng.choice((0, 2, 3, 4))
            lines.append(
                self.line(
                    round(rng.uniform(0.5, 2500), places),
                    quantity=rng.choice((1, 1, 2, 3, 0.5, 7.5, 37.5, 12.25, 0.3333)),
                    taxes=rng.choice(taxes),
                    discount=rng.choice((0, 0, 0, 5, 10, 12.5, 33.33)),
                    name=f"Line {rng.randint(1, 10_000)}",
                )
            )
        return lines

    def test_randomized_documents_have_xeros_totals(self):
        rng = random.Random(20261121)
        partners = self.env["res.partner"].create([{"name": f"Random Customer {n}"} for n in range(12)])
        moves = self.Move
        for _index in range(self.documents):
            credit_note = rng.random() < 0.3
            currency = self.foreign if rng.random() < 0.25 else self.currency
            moves |= self.invoice(
                rng.choice(partners),
                self.random_lines(rng, credit_note),
                move_type="out_refund" if credit_note else "out_invoice",
                currency_id=currency.id,
            )
        self.assertGreaterEqual(len(moves.filtered(lambda m: m.move_type == "out_refund")), 50)
        run = self.export()
        failed = self.lines_of(run, action="failed")
        for line in failed:
            # Only a document mixing tax-included and tax-excluded prices may round differently.
            self.assertIn("Not exported: Xero would total", line.reason)
            self.assertIn("mixes tax-included and tax-excluded prices", line.reason)
        exported = moves.filtered("xero_id")
        self.assertGreaterEqual(len(exported), 200, f"{len(failed)} refused")
        for move in exported:
            remote = self.xero_invoice(move)
            odoo_total = Decimal(str(move.amount_total)).quantize(CENT)
            self.assertEqual(remote["Total"], odoo_total, move.name)
            self.assertEqual(remote["TotalTax"], Decimal(str(move.amount_tax)).quantize(CENT), move.name)
            self.assertEqual(remote["CurrencyCode"], move.currency_id.name)
        for move in moves - exported:
            self.assertIn(move.id, failed.mapped("res_id"))
        self.assertEqual(self.fake.duplicate_count(), 0)
