from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.recruitment_sync.services.provider import SyncKind
from odoo.addons.recruitment_sync_xero.services import xero

from .common import XeroCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestCustomersImport(XeroCase):
    def bound(self, contact_id):
        binding = self.env["recruitment.sync.binding"].search(
            [
                ("integration_id", "=", self.integration.id),
                ("res_model", "=", "res.partner"),
                ("external_model", "=", "contact"),
                ("external_id", "=", contact_id),
            ]
        )
        return self.env["res.partner"].with_context(active_test=False).browse(binding.res_id)

    def add_contact(self, name, **fields):
        return self.fake.add_contact(name, IsCustomer=True, EmailAddress=fields.pop("EmailAddress", ""), **fields)

    def our_code(self, partner, database_uuid=None):
        uuid = database_uuid or self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return xero.contact_number(uuid, partner.id)

    def import_customers(self):
        run = self.sync(["customers"])
        self.assertIn(run.state, ("done", "done_errors"), run.summary)
        return run

    def test_initial_import_takes_customers_archived_ones_included(self):
        contacts = self.org.contacts
        customers = [c for c in contacts if c["IsCustomer"]]
        for contact in customers:
            self.assertTrue(self.bound(contact["ContactID"]), contact["Name"])
        for contact_id in self.org.notable["suppliers_only"]:
            self.assertFalse(self.bound(contact_id), "suppliers are not customers")
        archived = self.bound(self.org.notable["archived"][0])
        self.assertFalse(archived.active)
        with_vat = next(c for c in contacts if c["ContactID"] == self.org.notable["with_tax_number"][0])
        self.assertEqual(self.bound(with_vat["ContactID"]).vat, with_vat["TaxNumber"])
        numbered = next(c for c in contacts if c["ContactID"] == self.org.notable["with_contact_number"][0])
        partner = self.bound(numbered["ContactID"])
        self.assertEqual(partner.ref, numbered["ContactNumber"])
        self.assertEqual(partner.city, numbered["Addresses"][0]["City"])
        self.assertTrue(partner.phone)

    def test_incremental_with_if_modified_since(self):
        self.fake.requests.clear()
        run = self.import_customers()
        self.assertFalse(run.line_ids, "nothing changed in Xero")
        request = self.fake.requests_to("/api.xro/2.0/Contacts", "GET")[0]
        self.assertTrue(request.headers.get("If-Modified-Since"))
        self.assertEqual(request.args["includeArchived"], "true")
        contact_id = self.org.notable["with_tax_number"][0]
        self.fake.touch_contact(contact_id, Name="Renamed In Xero Ltd")
        run = self.import_customers()
        self.assertEqual(self.lines_of(run, "customers", "updated").res_id, self.bound(contact_id).id)
        self.assertEqual(self.bound(contact_id).name, "Renamed In Xero Ltd")

    def test_pages(self):
        for index in range(7):
            self.add_contact(f"Paged Customer {index} Ltd")
        small = SyncKind("customers", "Customers", "import", batch_size=3)
        self.fake.requests.clear()
        with patch.object(xero, "CUSTOMERS", small):
            run = self.import_customers()
        self.assertEqual(len(self.lines_of(run, "customers", "created")), 7)
        pages = [r.args["page"] for r in self.fake.requests_to("/api.xro/2.0/Contacts", "GET")]
        self.assertEqual(pages, ["1", "2", "3"])

    def test_matching_rules_in_order(self):
        Partner = self.env["res.partner"]
        by_number = Partner.create({"name": "Number Match", "ref": "CUST-9001"})
        by_id = Partner.create({"name": "Id Match"})
        by_vat = Partner.create({"name": "Vat Match", "vat": "gb 555 444 333"})
        by_email = Partner.create({"name": "Email Match", "email": "Billing@Email-Match.example"})
        by_name = Partner.create({"name": "Exact Name Match Ltd", "email": "someone@else.example"})
        decoy = Partner.create({"name": "Number Decoy", "email": "number@match.example"})
        contacts = {
            by_number: self.add_contact("Xero Number", ContactNumber="CUST-9001", EmailAddress="number@match.example"),
            by_id: self.add_contact("Xero Id", ContactNumber=self.our_code(by_id)),
            by_vat: self.add_contact("Xero Vat", TaxNumber="GB555444333"),
            by_email: self.add_contact("Xero Email", EmailAddress="billing@email-match.example"),
            by_name: self.add_contact("Exact Name Match Ltd"),
        }
        run = self.import_customers()
        reasons = {line.res_id: line.reason for line in self.lines_of(run, "customers", "updated")}
        expected = {
            by_number: "Contact Code",
            by_id: "Contact Code",
            by_vat: "VAT number",
            by_email: "email",
            by_name: "name",
        }
        for partner, contact_id in contacts.items():
            self.assertEqual(self.bound(contact_id), partner)
            self.assertEqual(reasons[partner.id], f"Matched by {expected[partner]}.")
        self.assertEqual(by_number.name, "Number Match", "a partner found in Odoo keeps its data")
        self.assertEqual(by_name.email, "someone@else.example")
        self.assertEqual(by_vat.email, False)
        self.assertFalse(decoy.sync_binding_ids, "the Contact Code wins over the email")

    def test_ambiguous_matches_are_reported_never_guessed(self):
        Partner = self.env["res.partner"]
        twins = Partner.create(
            [
                {"name": "Twin A", "email": "twins@ambiguous.example"},
                {"name": "Twin B", "email": "twins@ambiguous.example"},
            ]
        )
        contact_id = self.add_contact("Xero Twin", EmailAddress="twins@ambiguous.example")
        before = Partner.search_count([])
        run = self.import_customers()
        failed = self.lines_of(run, "customers", "failed")
        self.assertEqual(failed.external_id, contact_id)
        self.assertIn("matches 2 Odoo partners by email", failed.reason)
        for twin in twins:
            self.assertIn(f"(id {twin.id})", failed.reason)
        self.assertFalse(self.bound(contact_id))
        self.assertEqual(Partner.search_count([]), before, "no partner created either")

    def test_a_partner_bound_to_another_contact_is_not_a_candidate(self):
        first = self.add_contact("Original Ltd", EmailAddress="shared@bound.example")
        self.import_customers()
        original = self.bound(first)
        self.assertEqual(original.email, "shared@bound.example")
        second = self.add_contact("Second Ltd", EmailAddress="shared@bound.example")
        run = self.import_customers()
        self.assertEqual(self.lines_of(run, "customers", "created").external_id, second)
        self.assertNotEqual(self.bound(second), original)
