import time
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.recruitment_sync_quickbooks.services import quickbooks as qbo_services

from .common import QboCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestImport(QboCase):
    def test_tax_codes_accounts_items_imported_and_matched(self):
        codes = self.rows("recruitment.sync.qbo.tax.code")
        standard = codes.filtered(lambda row: row.name == "20.0% S")
        self.assertEqual(standard.rate, 20.0)
        self.assertIn("20.0% S (20%)", standard.rates)
        accounts = self.rows("recruitment.sync.qbo.account")
        self.assertIn("Old Sales (deleted)", accounts.mapped("name"), "inactive accounts come too")
        self.assertFalse(accounts.filtered(lambda row: row.name == "Old Sales (deleted)").active_in_qbo)
        items = self.rows("recruitment.sync.qbo.item")
        self.assertEqual(self.integration.qbo_default_item_id.name, "Services")
        self.assertIn("PERM-FEE", items.mapped("sku"))

    def test_tax_codes_by_rate_and_accounts_by_number_mapped_only_when_unambiguous(self):
        codes = self.rows("recruitment.sync.qbo.tax.code")
        codes.tax_ids = False
        fees = self.env["account.account"].create({"name": "Placement fees", "code": "4010", "account_type": "income"})
        accounts = self.rows("recruitment.sync.qbo.account")
        codes._auto_match()
        accounts._auto_match()
        code = {row.name: row for row in codes}
        self.assertEqual((code["5.0% R"].tax_ids, code["5.0% R"].match_note), (self.tax5, "Automatically: same rate"))
        self.assertFalse(code["20.0% S"].tax_ids, "two Odoo taxes of 20% (included and excluded): mapped by hand")
        self.assertFalse(code["0.0% Z"].tax_ids, "two QuickBooks codes of 0% (zero rate, reverse charge): by hand")
        self.assertFalse(code["Exempt"].tax_ids, "not taxable: by hand")
        placement = accounts.filtered(lambda row: row.acct_num == "4010")
        self.assertEqual((placement.account_ids, placement.match_note), (fees, "Automatically: same number"))
        self.assertFalse(accounts.filtered(lambda row: row.acct_num == "4020").account_ids)

    def test_new_customer_matched_by_vat_before_email_and_name(self):
        partner = self.customer("Odoo Spelling Ltd", vat="GB987654321", email="ap@odoo-spelling.example")
        namesake = self.customer("QuickBooks Spelling Limited")
        self.fake.add(
            "Customer",
            {
                "DisplayName": "QuickBooks Spelling Limited",
                "PrimaryTaxIdentifier": "GB987654321",
                "PrimaryEmailAddr": {"Address": "accounts@elsewhere.example"},
            },
            self.realm_id,
        )
        run = self.sync(["qbo_customers"])
        self.assertRunDone(run)
        [line] = self.lines_of(run, "qbo_customers").filtered(lambda line: line.res_id in (partner | namesake).ids)
        self.assertEqual((line.res_id, line.reason), (partner.id, "Matched by VAT number."))

    def test_customers_matched_by_rules_and_inactive_skipped(self):
        Partner = self.env["res.partner"]
        company = self.company_data
        clients = [name for entity, body in company.records if entity == "Customer" for name in [body["DisplayName"]]]
        # Bound in setUpClass: every active customer created or matched; the inactive one not imported.
        bound = self.env["recruitment.sync.binding"].search(
            [("integration_id", "=", self.integration.id), ("external_model", "=", "customer")]
        )
        partners = Partner.browse(bound.mapped("res_id"))
        self.assertIn(company.notable["foreign_customer"], partners.mapped("name"))
        self.assertNotIn(company.notable["inactive_customer"], partners.mapped("name"))
        self.assertEqual(len(bound), len(clients) - 1)

    def test_new_customer_matched_by_email_then_ambiguity_reported(self):
        partner = self.customer("Odoo Name Differs", email="ap@matchme.example")
        self.fake.add(
            "Customer",
            {"DisplayName": "Match Me Inc", "PrimaryEmailAddr": {"Address": "AP@matchme.example"}},
            self.realm_id,
        )
        self.customer("Twin Co", vat="GB123456789")
        self.customer("Twin Co Two", vat="GB 123456789")
        self.fake.add("Customer", {"DisplayName": "Twins", "PrimaryTaxIdentifier": "GB123456789"}, self.realm_id)
        run = self.sync(["qbo_customers"])
        matched = self.lines_of(run, "qbo_customers").filtered(lambda line: line.res_id == partner.id)
        self.assertEqual(matched.reason, "Matched by email.")
        [ambiguous] = self.lines_of(run, "qbo_customers", "failed")
        self.assertIn("matches 2 Odoo partners by VAT number", ambiguous.reason)

    def test_customers_matched_by_number_then_name_kept_by_binding_deleted_suffix_dropped(self):
        numbered = self.customer("Renamed In QuickBooks Ltd")
        named = self.customer("Exact Name Ltd")
        number = qbo_services.customer_number(self.integration._database_uuid(), numbered.id)
        by_number = self.fake.add("Customer", {"DisplayName": "Another Name", "AcctNum": number}, self.realm_id)
        by_name = self.fake.add("Customer", {"DisplayName": "Exact Name Ltd"}, self.realm_id)
        run = self.sync(["qbo_customers"])
        self.assertRunDone(run)
        reasons = {line.res_id: line.reason for line in self.lines_of(run, "qbo_customers")}
        self.assertEqual(reasons[numbered.id], "Matched by customer number.")
        self.assertEqual(reasons[named.id], "Matched by name.")
        # Bound from now on: QuickBooks' changes reach the same partner, whatever its name becomes.
        time.sleep(1.1)  # QuickBooks' LastUpdatedTime has whole seconds: the edits must be newer
        self.fake.edit("Customer", by_name["Id"], self.realm_id, PrimaryEmailAddr={"Address": "ap@exact.example"})
        self.fake.edit("Customer", by_number["Id"], self.realm_id, Active=False)
        run = self.sync(["qbo_customers"])
        self.assertRunDone(run)
        self.assertEqual(named.email, "ap@exact.example")
        deleted = self.fake.find("Customer", self.realm_id, Id=by_number["Id"])
        self.assertTrue(deleted["DisplayName"].endswith(" (deleted)"), "QuickBooks renames inactive customers")
        self.assertEqual(numbered.name, "Renamed In QuickBooks Ltd", "QuickBooks' ' (deleted)' is not a name")
        line = self.lines_of(run, "qbo_customers").filtered(lambda line: line.res_id == numbered.id)
        self.assertIn("Inactive in QuickBooks", line.reason)

    def test_cdc_used_within_30_days_and_a_saturated_window_shrinks(self):
        self.fake.cdc_max_objects = 5
        self.addCleanup(setattr, self.fake, "cdc_max_objects", 1000)
        for index in range(12):
            self.fake.add("Customer", {"DisplayName": f"CDC Client {index:02d}"}, self.realm_id)
        before = self.fake.count("GET /cdc")
        with patch.object(qbo_services, "CDC_MAX_OBJECTS", 5):
            run = self.sync(["qbo_customers"])
        self.assertRunDone(run)
        self.assertGreaterEqual(self.fake.count("GET /cdc") - before, 2, "5 objects per answer: asked again")
        names = set(self.env["res.partner"].search([("name", "like", "CDC Client")]).mapped("name"))
        self.assertEqual(names, {f"CDC Client {index:02d}" for index in range(12)})

    def test_watermark_older_than_30_days_falls_back_to_a_query(self):
        checkpoint = dict(self.integration.sync_checkpoint or {})
        checkpoint["qbo_customers"] = {"watermark": "2020-01-01T00:00:00"}
        self.integration.sync_checkpoint = checkpoint
        before = self.fake.count("GET /cdc")
        run = self.sync(["qbo_customers"])
        self.assertRunDone(run)
        self.assertEqual(self.fake.count("GET /cdc"), before, "CDC refuses more than 30 days: a query instead")
