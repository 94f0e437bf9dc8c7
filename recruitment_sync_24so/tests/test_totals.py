import random
from decimal import Decimal

from odoo import Command
from odoo.tests import tagged

from .common import MAIN_CLIENT_ID
from .test_ledger import CENT, TsoVatCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRandomizedTotals(TsoVatCase):
    """24SevenOffice's totals equal Odoo's to the cent, or the document is refused with its reason,
    over many invoices and credit notes (several VAT rates, 0%, no tax, discounts)."""

    documents = 220

    def test_randomized_documents_have_odoos_totals_in_24so(self):
        rng = random.Random(20261203)
        self.tax25_included = self.env["account.tax"].create(
            {
                "name": "MVA 25% inkl.",
                "amount": 25,
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
                "company_id": self.company.id,
            }
        )
        self.read_codes()
        self.code("3").write({"tax_ids": [Command.link(self.tax25_included.id)]})
        products = [self.product_known, self.product_new] + [self.make_product(f"RND-{n}") for n in range(4)]
        partners = self.env["res.partner"].create(
            [{"name": f"Tilfeldig Kunde {n} AS", "is_company": True} for n in range(10)]
        )
        bases = (
            *([[self.tax25, self.tax15, self.tax0, None]] * 6),
            *([[self.tax25_included]] * 2),
            [self.tax25_included, self.tax15],  # a mixed basis: sent without VAT, may round differently
        )
        moves = self.env["account.move"]
        for _index in range(self.documents):
            taxes = rng.choice(bases)
            lines = []
            for _line in range(rng.randint(1, 5)):
                places = rng.choice((0, 2, 2, 3, 4))
                lines.append(
                    (
                        rng.choice(products),
                        rng.choice((1, 1, 2, 3, 0.5, 7.5, 37.5, 12.25, 0.3333)),
                        round(rng.uniform(0.5, 2500), places),
                        rng.choice(taxes),
                        rng.choice((0, 0, 0, 5, 10, 12.5, 33.33)),
                    )
                )
            credit_note = rng.random() < 0.3
            moves |= self.taxed_invoice(
                lines, move_type="out_refund" if credit_note else "out_invoice", partner=rng.choice(partners)
            )
        refunds = moves.filtered(lambda move: move.move_type == "out_refund")
        self.assertGreaterEqual(len(refunds), 50)
        runs = self.export(moves)
        receipt = self.receipt(runs)
        exported = refused = 0
        for move in moves:
            status, _number, reason = receipt[move.name]
            orders = self.fake.invoices_for(move.name, client_id=MAIN_CLIENT_ID)
            if status == "failed":
                refused += 1
                self.assertIn("24SevenOffice would total this invoice", reason)
                self.assertIn("Odoo totals", reason)
                self.assertFalse(orders, move.name)
                continue
            self.assertEqual(status, "exported", (move.name, reason))
            self.assertNotIn("Warning", reason or "")
            exported += 1
            sign = -1 if move.move_type == "out_refund" else 1
            self.assertEqual(len(orders), 1, move.name)
            self.assertEqual(orders[0]["OrderTotalIncVat"], sign * Decimal(str(move.amount_total)).quantize(CENT))
            self.assertEqual(orders[0]["OrderTotalVat"], sign * Decimal(str(move.amount_tax)).quantize(CENT))
        self.assertGreaterEqual(exported, 200, f"{refused} refused")
        self.assertFalse(self.fake.duplicates())
