"""Customers both ways: the first sync's matching rules and direction, incremental pages, exports, the
conflict rule (freezegun, both ways), destroyed clients archived, archived customers never deleted, no loop."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import InvoiceOceanCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestFirstSync(InvoiceOceanCase):
    def test_activation_links_the_accounts_and_matches_by_tax_number_and_name(self):
        self.assertEqual(self.integration.state, "connected")
        self.assertTrue(self.integration.io_linked_at)
        first, second = self.shared_ids[:2]
        self.assertEqual(self.partner_of(first), self.odoo_by_vat, "matched by tax number")
        self.assertEqual(self.partner_of(second), self.odoo_by_name, "matched by exact name")
        # The shared third company and the made-up clients came into Odoo; the deleted one did not.
        third = self.account.clients[self.shared_ids[2]]
        self.assertEqual(self.partner_of(third["id"]).name, third["name"])
        self.assertFalse(self.partner_of(self.account.notable["deleted_client"]))
        person = self.partner_of(self.account.notable["person"])
        self.assertFalse(person.is_company)
        # Odoo's own customer went to InvoiceOcean, with our external id.
        remote = [c for c in self.fake.account.clients.values() if c["name"] == "Odoo Only Staffing AS"]
        self.assertEqual(len(remote), 1)
        self.assertEqual(self.partner_of(remote[0]["id"]), self.odoo_only)
        self.assertTrue(remote[0]["external_id"].endswith(f"res.partner-{self.odoo_only.id}"))

    def test_match_by_email_and_by_our_external_id(self):
        client = self.fake.create_client({"name": "Fjord Talent", "email": "Accounts@Fjord.example"}, notify=False)
        ours = self.Partner.create({"name": "Fjord Talent AS", "is_company": True, "email": "accounts@fjord.example"})
        other = self.Partner.create({"name": "Renamed In InvoiceOcean", "is_company": True})
        external = self.integration._io_our_key("res.partner", other.id)
        by_id = self.fake.create_client({"name": "Quite Another Name", "external_id": external}, notify=False)
        self.sync(["io_clients"])
        self.assertEqual(self.partner_of(client["id"]), ours)
        self.assertEqual(self.partner_of(by_id["id"]), other)

    def test_the_first_rule_that_finds_a_customer_decides_and_a_binding_before_all(self):
        """Rules in order: the binding, our external_id, the tax number, the email, the exact name."""
        by_name = self.Partner.create({"name": "Ordered Match Ltd", "is_company": True})
        by_email = self.Partner.create({"name": "Email Holder", "is_company": True, "email": "ap@ordered.example"})
        by_tax = self.Partner.create({"name": "Tax Holder", "is_company": True, "vat": "PL 761-000-11-22"})
        plain = self.Partner.create({"name": "Plain Name Ltd", "is_company": True})
        same = {"name": "Ordered Match Ltd", "email": "AP@ordered.example"}
        tax_wins = self.fake.create_client({**same, "tax_no": "7610001122"}, notify=False)
        email_wins = self.fake.create_client(same, notify=False)
        external_id = self.integration._io_our_key("res.partner", by_name.id)
        id_wins = self.fake.create_client({**same, "tax_no": "7610001122", "external_id": external_id}, notify=False)
        name_only = self.fake.create_client({"name": "Plain  Name Ltd"}, notify=False)
        run = self.sync(["io_clients"])
        self.assertEqual(self.partner_of(tax_wins["id"]), by_tax, "the tax number before the email and the name")
        self.assertEqual(self.partner_of(email_wins["id"]), by_email, "the email before the name")
        self.assertEqual(self.partner_of(id_wins["id"]), by_name, "our external_id before the tax number")
        self.assertEqual(self.partner_of(name_only["id"]), plain, "the exact name alone (spaces aside)")
        self.assertFalse(self.lines_of(run, "io_clients", "created"), "nobody duplicated")
        # Bound: renamed in InvoiceOcean after another customer's name, it stays with its own.
        self.fake.update_client(email_wins["id"], {"name": "Tax Holder", "email": ""}, notify=False)
        run = self.sync(["io_clients"])
        self.assertEqual(self.partner_of(email_wins["id"]), by_email)
        self.assertEqual(by_email.name, "Tax Holder")
        self.assertEqual(self.lines_of(run, "io_clients", "updated").mapped("external_id"), [str(email_wins["id"])])
        self.assertFalse(self.lines_of(run, "io_clients", "created"))

    def test_ambiguous_match_is_reported_and_neither_side_duplicated(self):
        twins = self.Partner.create([{"name": "Twin Staffing", "is_company": True}] * 2)
        client = self.fake.create_client({"name": "Twin Staffing"}, notify=False)
        run = self.sync()
        failed = self.lines_of(run, "io_clients", "failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("several Odoo customers", failed.reason)
        self.assertFalse(self.partner_of(client["id"]))
        self.assertEqual(self.Partner.search_count([("name", "=", "Twin Staffing")]), 2)
        names = [c["name"] for c in self.fake.account.clients.values()]
        self.assertEqual(names.count("Twin Staffing"), 1, "the ambiguous Odoo customers are not sent either")
        self.assertTrue(twins)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestFirstSyncFromInvoiceOceanOnly(InvoiceOceanCase):
    first_sync = "from_io"

    def test_odoo_customers_stay_in_odoo(self):
        names = [c["name"] for c in self.fake.account.clients.values()]
        self.assertNotIn("Odoo Only Staffing AS", names)
        third = self.account.clients[self.shared_ids[2]]
        self.assertTrue(self.partner_of(third["id"]))
        # A customer created afterwards goes over.
        new = self.Partner.create({"name": "Late Customer Ltd", "is_company": True})
        self.sync()
        self.assertIn("Late Customer Ltd", [c["name"] for c in self.fake.account.clients.values()])
        self.assertTrue(new.sync_external_id)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestFirstSyncToInvoiceOceanOnly(InvoiceOceanCase):
    first_sync = "to_io"

    def test_invoiceocean_clients_stay_there_new_ones_come(self):
        third = self.account.clients[self.shared_ids[2]]
        self.assertFalse(self.partner_of(third["id"]), "not brought over by the first sync")
        self.assertEqual(self.partner_of(self.shared_ids[0]), self.odoo_by_vat, "matching ones are linked all the same")
        self.assertIn("Odoo Only Staffing AS", [c["name"] for c in self.fake.account.clients.values()])
        client = self.fake.create_client({"name": "Brand New Client"}, notify=False)
        self.sync()
        self.assertEqual(self.partner_of(client["id"]).name, "Brand New Client")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestBothWays(InvoiceOceanCase):
    def test_client_edited_in_invoiceocean_comes_to_odoo(self):
        ident = self.shared_ids[2]
        self.fake.update_client(ident, {"city": "Bergen", "email": "new@summit.example"}, notify=False)
        run = self.sync()
        partner = self.partner_of(ident)
        self.assertEqual((partner.city, partner.email), ("Bergen", "new@summit.example"))
        self.assertEqual(len(self.lines_of(run, "io_clients", "updated")), 1, "only the changed client")
        self.assertFalse(partner.sync_local_changed_at and partner.sync_local_changed_at > fields.Datetime.now())

    def test_customer_edited_in_odoo_goes_to_invoiceocean_once(self):
        with freeze_time(fields.Datetime.now() + timedelta(seconds=5)):  # a later second than the first sync's
            self.odoo_by_vat.write({"city": "Trondheim"})
        run = self.sync()
        self.assertEqual(self.fake.account.clients[self.shared_ids[0]]["city"], "Trondheim")
        self.assertEqual(len(self.lines_of(run, "io_export_clients", "exported")), 1)
        # No loop: what we wrote comes back unchanged and is not sent again.
        run = self.sync()
        self.assertFalse(self.lines_of(run, "io_export_clients"))
        self.assertFalse(self.lines_of(run, "io_clients"))

    def test_incremental_pages_stop_at_the_watermark(self):
        for number in range(3):
            self.fake.create_client({"name": f"Paged Client {number}"}, notify=False)
        run = self.sync(["io_clients"])
        self.assertEqual(len(self.lines_of(run, "io_clients", "created")), 3)
        self.assertFalse(
            self.lines_of(run, "io_clients", "updated"), "the clients before the watermark are not read again"
        )

    def test_newer_remote_change_wins_over_older_local_one(self):
        ident = self.shared_ids[0]
        with freeze_time(fields.Datetime.now() - timedelta(hours=1)):
            self.odoo_by_vat.write({"city": "Old Odoo City"})
        self.fake.update_client(ident, {"city": "Newer Remote City"}, notify=False)
        self.sync()
        self.assertEqual(self.odoo_by_vat.city, "Newer Remote City")
        self.assertEqual(self.fake.account.clients[ident]["city"], "Newer Remote City")

    def test_newer_local_change_wins_over_older_remote_one(self):
        ident = self.shared_ids[0]
        self.fake.update_client(ident, {"city": "Older Remote City"}, notify=False)
        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):
            self.odoo_by_vat.write({"city": "Newer Odoo City"})
        run = self.sync()
        self.assertEqual(self.odoo_by_vat.city, "Newer Odoo City")
        self.assertEqual(self.fake.account.clients[ident]["city"], "Newer Odoo City")
        self.assertEqual(len(self.lines_of(run, "io_clients", "skipped")), 1)
        run = self.sync()
        self.assertFalse(self.lines_of(run, "io_export_clients"), "sent once, not at every run")

    def test_destroyed_client_is_archived_and_archived_customer_never_deleted(self):
        ident = self.shared_ids[2]
        self.fake.delete_client(ident, notify=False)
        self.integration._io_receive_webhook({"client": {"id": ident, "deleted": True}})
        self.process_all_runs()
        partner = self.partner_of(ident)
        self.assertTrue(partner, "kept")
        self.assertFalse(partner.active, "archived, not deleted")
        # Archiving in Odoo deletes nothing in InvoiceOcean.
        self.odoo_by_vat.action_archive()
        self.sync()
        self.assertFalse(self.fake.account.clients[self.shared_ids[0]]["deleted"])

    def test_client_without_name_fails_alone(self):
        self.fake.account.clients[self.shared_ids[2]]["name"] = ""
        self.fake.update_client(self.shared_ids[2], {"city": "Nowhere"}, notify=False)
        good = self.fake.create_client({"name": "Good Client"}, notify=False)
        run = self.sync(["io_clients"])
        failed = self.lines_of(run, "io_clients", "failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("no name", failed.reason)
        self.assertTrue(self.partner_of(good["id"]))
