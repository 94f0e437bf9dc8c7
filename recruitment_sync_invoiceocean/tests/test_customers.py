"""Customers both ways: the first sync's matching rules and direction, incremental pages, exports, the
conflict rule (freezegun, both ways), destroyed clients archived, archived customers never deleted, no loop."""

from datetime import UTC, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.recruitment_sync_invoiceocean.services import invoiceocean as io_services

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
        """Both sides changed since the last sync (a conflict): InvoiceOcean's change is the later one."""
        ident = self.shared_ids[0]
        start = fields.Datetime.now()
        with freeze_time(start + timedelta(minutes=10)):
            self.odoo_by_vat.write({"city": "Older Odoo City"})
        remote_time = (start + timedelta(minutes=20)).replace(tzinfo=UTC).timestamp()
        self.fake.clock = lambda: remote_time
        self.fake.update_client(ident, {"city": "Newer Remote City"}, notify=False)
        self.fake.requests.clear()
        with freeze_time(start + timedelta(minutes=30)):
            run = self.sync()
        self.assertEqual(self.odoo_by_vat.city, "Newer Remote City")
        self.assertEqual(self.fake.account.clients[ident]["city"], "Newer Remote City", "Odoo's older change not sent")
        self.assertEqual(self.lines_of(run, "io_clients", "updated").mapped("res_id"), [self.odoo_by_vat.id])
        self.assertFalse(self.lines_of(run, "io_export_clients"))
        self.assertFalse(self.fake.requests_to(f"/clients/{ident}.json", "PUT"))

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

    def test_customer_deleted_in_odoo_stays_in_invoiceocean_and_is_not_brought_back(self):
        ident = self.shared_ids[1]
        self.odoo_by_name.unlink()
        self.fake.update_client(ident, {"city": "Still Here"}, notify=False)
        run = self.sync()
        self.assertFalse(self.fake.requests_to(f"/clients/{ident}.json", "DELETE"))
        self.assertFalse(self.fake.account.clients[ident]["deleted"])
        self.assertFalse(self.partner_of(ident), "not created again")
        name = self.account.clients[ident]["name"]
        self.assertFalse(self.Partner.with_context(active_test=False).search([("name", "=", name)]))
        [skipped] = self.lines_of(run, "io_clients", "skipped")
        self.assertIn("Deleted in Odoo", skipped.reason)

    def test_refused_customer_fails_with_the_reason_the_rest_goes_on_and_it_goes_later(self):
        """A 422 from InvoiceOcean: a failed line with its reason, the other customers go; the refused one
        goes at a later sync once InvoiceOcean takes it; nothing is lost, no client created twice."""
        refused, accepted = self.shared_ids[:2]
        with freeze_time(fields.Datetime.now() + timedelta(seconds=5)):  # a later second than the first sync's
            self.odoo_by_vat.write({"city": "Refused City"})
            self.odoo_by_name.write({"city": "Accepted City"})
            newcomer = self.Partner.create({"name": "Newcomer Staffing AS", "is_company": True})
        self.fake.inject(
            status=422,
            body={"code": "error", "message": {"tax_no": ["is invalid"]}},
            path_prefix=f"/clients/{refused}.json",
        )
        run = self.sync()
        [failed] = self.lines_of(run, "io_export_clients", "failed")
        self.assertEqual(failed.res_id, self.odoo_by_vat.id)
        self.assertIn("tax_no is invalid", failed.reason)
        self.assertEqual(
            sorted(self.lines_of(run, "io_export_clients", "exported").mapped("res_id")),
            sorted((self.odoo_by_name | newcomer).ids),
        )
        self.assertEqual(self.fake.account.clients[accepted]["city"], "Accepted City")
        self.assertNotEqual(self.fake.account.clients[refused]["city"], "Refused City")
        item = self.env["recruitment.sync.failed.item"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual((item.kind, item.res_id), ("io_export_clients", self.odoo_by_vat.id))
        # Someone corrects the customer in Odoo: it goes, once; nothing else is sent again.
        with freeze_time(fields.Datetime.now() + timedelta(seconds=10)):
            self.odoo_by_vat.write({"city": "Corrected City"})
        run = self.sync()
        self.assertEqual(self.fake.account.clients[refused]["city"], "Corrected City")
        self.assertEqual(self.lines_of(run, "io_export_clients", "exported").mapped("res_id"), [self.odoo_by_vat.id])
        self.assertFalse(item.exists(), "it went through")
        names = [client["name"] for client in self.fake.account.clients.values()]
        self.assertEqual((names.count("Newcomer Staffing AS"), names.count("Meridian Freight Ltd")), (1, 1))

    def test_client_without_name_fails_alone(self):
        self.fake.account.clients[self.shared_ids[2]]["name"] = ""
        self.fake.update_client(self.shared_ids[2], {"city": "Nowhere"}, notify=False)
        good = self.fake.create_client({"name": "Good Client"}, notify=False)
        run = self.sync(["io_clients"])
        failed = self.lines_of(run, "io_clients", "failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("no name", failed.reason)
        self.assertTrue(self.partner_of(good["id"]))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestFirstMatchAndOwnWrites(InvoiceOceanCase):
    """A first match merges both sides without a needless write-back; what the sync wrote is
    recognised, so a sync with nothing new reads one page of each list."""

    def calls(self, method=None):
        return [(r.method, r.path) for r in self.fake.requests if method is None or r.method == method]

    def test_first_match_fills_what_odoo_lacks_and_sends_back_only_what_invoiceocean_lacks(self):
        client = self.account.clients[self.shared_ids[0]]
        # Matched by tax number: Odoo had only name and tax number, InvoiceOcean has the address.
        self.assertEqual(self.odoo_by_vat.city, client["city"], "filled from InvoiceOcean")
        self.assertEqual(self.odoo_by_vat.email, client["email"])
        self.assertEqual(self.odoo_by_vat.name, "Meridian Freight Ltd", "Odoo's newer name is kept")
        # Only what InvoiceOcean lacks or has older goes back: the name (Odoo's customer is newer),
        # nothing for the customer matched by name whose details InvoiceOcean all has.
        puts = [path for method, path in self.calls("PUT")]
        self.assertEqual(puts, [f"/clients/{client['id']}.json"])
        self.assertEqual(self.fake.account.clients[client["id"]]["name"], "Meridian Freight Ltd")
        by_name = self.account.clients[self.shared_ids[1]]
        self.assertEqual(self.fake.account.clients[by_name["id"]]["updated_at"], by_name["updated_at"], "untouched")

    def test_first_match_conflict_goes_the_newer_sides_way(self):
        with freeze_time(fields.Datetime.now() - timedelta(days=1000)):  # older than InvoiceOcean's change
            older = self.Partner.create({"name": "Fjord Talent", "is_company": True, "city": "Old City"})
        newer_client = self.fake.create_client({"name": "Fjord Talent", "city": "Bergen"}, notify=False)
        client = self.fake.create_client({"name": "Nordic Crew", "city": "Oslo"}, notify=False)
        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):  # newer than InvoiceOcean's client
            newer = self.Partner.create({"name": "Nordic Crew", "is_company": True, "city": "Drammen"})
        self.fake.requests.clear()
        self.sync(["io_clients", "io_export_clients"])
        self.assertEqual(self.partner_of(newer_client["id"]), older)
        self.assertEqual(older.city, "Bergen", "InvoiceOcean's newer value wins")
        self.assertEqual(self.partner_of(client["id"]), newer)
        self.assertEqual(newer.city, "Drammen", "Odoo's newer value is kept")
        self.assertEqual(self.fake.account.clients[client["id"]]["city"], "Drammen", "and sent")
        self.assertEqual(self.fake.account.clients[newer_client["id"]]["city"], "Bergen")
        self.assertEqual([path for _method, path in self.calls("PUT")], [f"/clients/{client['id']}.json"])

    def test_two_clients_never_share_one_customer(self):
        first = self.fake.create_client({"name": "Solo Staffing AS", "tax_no": "NO999888777"}, notify=False)
        second = self.fake.create_client({"name": "Solo Staffing AS (old)", "tax_no": "999888777"}, notify=False)
        solo = self.Partner.create({"name": "Solo Staffing", "is_company": True, "vat": "NO999888777"})
        run = self.sync(["io_clients"])
        linked = {self.partner_of(first["id"]), self.partner_of(second["id"])} - {self.Partner}
        self.assertEqual(linked, {solo}, "one of them is linked, the other is not given the same customer")
        failed = self.lines_of(run, "io_clients", "failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("already linked to InvoiceOcean client", failed.reason)
        self.assertEqual(self.Partner.search_count([("vat", "in", ("NO999888777", "999888777"))]), 1)
        # The next sync neither steals the customer from the linked client nor makes a second one.
        self.fake.update_client(first["id"], {"city": "Oslo"}, notify=False)
        self.fake.update_client(second["id"], {"city": "Oslo"}, notify=False)
        run = self.sync(["io_clients"])
        self.assertEqual({self.partner_of(first["id"]), self.partner_of(second["id"])} - {self.Partner}, {solo})
        self.assertEqual(len(self.lines_of(run, "io_clients", "failed")), 1)
        self.assertEqual(self.Partner.search_count([("vat", "in", ("NO999888777", "999888777"))]), 1)

    def test_sync_with_nothing_new_reads_one_page_of_each_list(self):
        # Pages of 3 and recent changes all within the overlap: the old stop rule read them all.
        for number in range(7):
            self.fake.create_client({"name": f"Recent Client {number}"}, notify=False)
        for number in range(7):
            self.new_document(issue_date=fields.Date.today().isoformat(), number=f"FV {number}")
        with patch.object(io_services, "PER_PAGE", 3):
            self.sync()
            self.fake.requests.clear()
            run = self.sync()
        self.assertRunDone(run)
        gets = sorted(path for method, path in self.calls() if method == "GET")
        self.assertEqual(gets, ["/clients.json", "/departments.json", "/invoices.json"], self.calls())

    def test_own_writes_are_recognised_and_a_foreign_change_meanwhile_is_not_lost(self):
        for number in range(7):
            self.Partner.create({"name": f"New Odoo Customer {number}", "is_company": True})
        # Someone edits a client in InvoiceOcean while the export runs (after the clients were read).
        ident = self.shared_ids[2]
        original = type(self.integration)._io_export_clients

        def export_then_edit(integration, run, kind, batch):
            original(integration, run, kind, batch)
            self.fake.update_client(ident, {"city": "Edited Meanwhile"}, notify=False)

        with patch.object(io_services, "PER_PAGE", 3):
            with patch.object(type(self.integration), "_io_export_clients", export_then_edit):
                run = self.sync()
            self.assertEqual(len(self.lines_of(run, "io_export_clients", "exported")), 7)
            self.assertEqual(self.partner_of(ident).city, "Edited Meanwhile", "read by the reading after the export")
            self.fake.requests.clear()
            run = self.sync()
        self.assertFalse(self.lines_of(run, "io_clients"), "our own writes come back as nothing new")
        self.assertFalse(self.lines_of(run, "io_export_clients"), "and are not sent again")
        self.assertEqual([p for m, p in self.calls("GET") if p == "/clients.json"], ["/clients.json"])
