from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import XeroCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestMapping(XeroCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sync_user = new_test_user(cls.env, "xero_map_user", groups="recruitment_sync.group_sync_user")
        cls.manager = new_test_user(cls.env, "xero_map_manager", groups="recruitment_sync.group_sync_manager")

    def test_tax_rates_and_accounts_are_imported_next_to_their_odoo_mapping(self):
        taxes = self.rows("recruitment.sync.xero.tax.rate")
        self.assertEqual(sorted(taxes.mapped("tax_type")), sorted(r["TaxType"] for r in self.org.tax_rates))
        output2 = self.tax_row("OUTPUT2")
        self.assertEqual((output2.effective_rate, output2.use, output2.status), (20.0, "sale", "ACTIVE"))
        self.assertEqual(self.tax_row("INPUT2").use, "purchase")
        accounts = self.rows("recruitment.sync.xero.account")
        self.assertEqual(len(accounts), len(self.org.accounts))
        bank = self.account_row("090")
        self.assertTrue(bank.is_bank and bank.accepts_payments)
        self.assertEqual(self.account_row("200").account_class, "REVENUE")
        self.assertEqual(self.integration.xero_tax_rate_count, len(taxes))

    def test_taxes_are_matched_by_rate_on_sales_when_unambiguous(self):
        # 5%: one Xero sales rate has it: matched. 20%: three Xero sales rates (OUTPUT2, TAX002, capital
        # sales): ambiguous, left to a human (the test base maps OUTPUT2 by hand). 12.5%: none.
        self.assertEqual(self.tax_row("RROUTPUT").tax_ids, self.tax5)
        self.assertIn("Automatically", self.tax_row("RROUTPUT").match_note)
        self.assertEqual(self.tax_row("OUTPUT2").match_note, "By hand")
        self.assertFalse(self.tax_row("TAX002").tax_ids)
        self.assertFalse(self.tax_row("RRINPUT").tax_ids, "a purchase rate is never matched to a sales tax")
        self.assertFalse(self.rows("recruitment.sync.xero.tax.rate").filtered(lambda r: self.tax_unmapped in r.tax_ids))
        unmapped = self.env["recruitment.sync.xero.tax.rate"].search(
            [("integration_id", "=", self.integration.id), ("is_mapped", "=", False), ("use", "=", "sale")]
        )
        self.assertIn(self.tax_row("TAX002"), unmapped)
        self.assertGreater(self.integration.xero_unmapped_count, 0)

    def test_accounts_are_matched_by_code(self):
        account = self.env["account.account"].create({"name": "Contract fees", "code": "202", "account_type": "income"})
        run = self.sync(["accounts"])
        self.assertRunDone(run)
        self.assertEqual(self.account_row("202").account_ids, account)
        self.assertEqual(self.account_row("202").match_note, "Automatically: same code")
        self.assertFalse(self.account_row("201").account_ids)

    def test_reimport_keeps_the_mappings_and_reports_changes(self):
        self.fake.tenant().tax_rates["TAX002"]["Name"] = "20% agency (renamed)"
        run = self.sync(["tax_rates", "accounts"])
        self.assertRunDone(run)
        self.assertEqual(self.lines_of(run, "tax_rates", "updated").name, self.tax_row("TAX002").display_name)
        self.assertFalse(self.lines_of(run, "tax_rates", "created"))
        self.assertEqual(self.tax_row("OUTPUT2").tax_ids, self.tax20 | self.tax20_included)
        self.assertEqual(self.account_row("200").account_ids, self.income)

    def test_an_odoo_tax_maps_to_one_xero_rate(self):
        with self.assertRaises(ValidationError):
            self.tax_row("TAX002").tax_ids = self.tax20

    def test_sync_managers_map_sync_users_read(self):
        row = self.tax_row("TAX002")
        row.with_user(self.manager).tax_ids = self.tax_unmapped
        self.assertEqual(row.tax_ids, self.tax_unmapped)
        self.assertEqual(row.match_note, "By hand")
        with self.assertRaises(AccessError):
            row.with_user(self.manager).effective_rate = 12.5
        self.assertEqual(row.with_user(self.sync_user).tax_ids, self.tax_unmapped)
        with self.assertRaises(AccessError):
            row.with_user(self.sync_user).tax_ids = False
        with self.assertRaises(AccessError):
            self.account_row("200").with_user(self.sync_user).account_ids = False
        bank = self.account_row("091")
        other = self.env["account.journal"].create({"name": "Savings", "type": "bank", "code": "XSV"})
        bank.with_user(self.manager).journal_ids = other
        with self.assertRaises(ValidationError):
            self.account_row("200").with_user(self.manager).journal_ids = other | self.bank
