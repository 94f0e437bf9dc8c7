"""External-id bindings and the local-change stamp that conflict rules rely on."""

from datetime import UTC, datetime

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import FROM_REMOTE

from .common import SyncCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestLocalChange(SyncCase):
    def test_user_edits_move_the_stamp_and_syncs_do_not(self):
        user = new_test_user(self.env, "rs_editor", groups="base.group_user,base.group_partner_manager")
        with freeze_time("2026-11-21 10:00:00"):
            partner = self.env["res.partner"].with_user(user).create({"name": "Ada"})
        self.assertEqual(partner.sync_local_changed_at, datetime(2026, 11, 21, 10, 0))
        with freeze_time("2026-11-21 11:00:00"):
            partner.with_context(**{FROM_REMOTE: True}).write({"name": "Ada (from JobAdder)"})
            partner.flush_recordset()
        self.assertEqual(partner.sync_local_changed_at, datetime(2026, 11, 21, 10, 0), "a sync is not a local change")
        self.assertGreater(partner.write_date, partner.sync_local_changed_at, "write_date moved: never compare with it")
        with freeze_time("2026-11-21 12:00:00"):
            partner.with_user(user).write({"phone": "+47 22 00 00 00"})
        self.assertEqual(partner.sync_local_changed_at, datetime(2026, 11, 21, 12, 0))

    def test_records_created_by_a_sync_have_no_local_change(self):
        partner = self.env["res.partner"].with_context(**{FROM_REMOTE: True}).create({"name": "Imported"})
        self.assertFalse(partner.sync_local_changed_at)

    def test_first_sync_is_not_mistaken_for_a_local_change(self):
        """write_date after the first import is later than the next remote change: updated anyway."""
        [record_id] = self.fake.seed(1, start=datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
        with freeze_time("2026-11-21 10:00:00"):
            self.sync()
        self.fake.edit(record_id, datetime(2026, 11, 21, 9, 30, tzinfo=UTC), name="Changed remotely")
        with freeze_time("2026-11-21 10:05:00"):
            run = self.sync()
        [line] = run.line_ids
        self.assertEqual(line.action, "updated")
        self.assertEqual(self.env["res.partner"].browse(line.res_id).name, "Changed remotely")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestBindings(SyncCase):
    def test_binding_is_shown_and_searchable(self):
        partner = self.env["res.partner"].create({"name": "Bound"})
        move_partner = self.env["res.partner"].create({"name": "Other"})
        Binding = self.env["recruitment.sync.binding"]
        Binding._bind(self.integration, partner, "C-1001", "company", datetime(2026, 11, 1))
        self.assertEqual(partner.sync_binding_count, 1)
        self.assertEqual(partner.sync_external_id, "C-1001")
        self.assertEqual(self.env["res.partner"].search([("sync_external_id", "=", "C-1001")]), partner)
        self.assertNotIn(move_partner, self.env["res.partner"].search([("sync_external_id", "ilike", "C-10")]))
        action = partner.action_view_sync_bindings()
        self.assertEqual(self.env["recruitment.sync.binding"].search(action["domain"]).record_name, "Bound")

    def test_rebinding_updates_instead_of_duplicating(self):
        partner = self.env["res.partner"].create({"name": "Bound"})
        Binding = self.env["recruitment.sync.binding"]
        first = Binding._bind(self.integration, partner, "42", "contact", datetime(2026, 11, 1))
        again = Binding._bind(self.integration, partner, "42", "contact", datetime(2026, 11, 2))
        self.assertEqual(first, again)
        self.assertEqual(again.remote_updated_at, datetime(2026, 11, 2))
        # The same remote id of another remote type (a contact who is also a candidate) is another binding.
        candidate = Binding._bind(self.integration, partner, "42", "candidate")
        self.assertNotEqual(candidate, first)

    def test_external_id_is_unique_per_integration_and_model(self):
        one, two = self.env["res.partner"].create([{"name": "One"}, {"name": "Two"}])
        Binding = self.env["recruitment.sync.binding"]
        Binding._bind(self.integration, one, "X1")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            Binding.create(
                {
                    "integration_id": self.integration.id,
                    "res_model": "res.partner",
                    "res_id": two.id,
                    "external_id": "X1",
                }
            )

    def test_lookup_is_one_query_for_many_ids(self):
        partners = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(30)])
        Binding = self.env["recruitment.sync.binding"]
        for index, partner in enumerate(partners):
            Binding._bind(self.integration, partner, f"E{index}")
        self.env.flush_all()
        self.env.invalidate_all()
        # One query (search and fetch together), whatever the number of ids: no query per record.
        with self.assertQueryCount(1):
            found = Binding._lookup(self.integration, "res.partner", [f"E{i}" for i in range(30)])
            self.assertEqual(len(found), 30)

    def test_invoices_and_users_carry_bindings(self):
        for model in ("account.move", "res.users", "res.partner"):
            self.assertIn("sync_local_changed_at", self.env[model]._fields)
            self.assertIn("sync_external_id", self.env[model]._fields)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestDepartmentJournal(SyncCase):
    def test_an_office_invoices_in_its_own_journal_and_currency(self):
        nok = self.env.ref("base.NOK")
        nok.active = True
        journal = self.env["account.journal"].create(
            {"name": "Customer Invoices (NOK)", "code": "INVNO", "type": "sale", "currency_id": nok.id}
        )
        oslo = self.env["hr.department"].create({"name": "Oslo office", "sale_journal_id": journal.id})
        partner = self.env["res.partner"].create({"name": "Fjord AS"})
        with Form(self.env["account.move"].with_context(default_move_type="out_invoice")) as invoice:
            invoice.partner_id = partner
            default_journal = invoice.journal_id
            invoice.department_id = oslo
            self.assertEqual(invoice.journal_id, journal)
            self.assertEqual(invoice.currency_id, nok)
        self.assertNotEqual(default_journal, journal, "without a department, the company's own journal")
