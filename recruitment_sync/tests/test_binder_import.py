"""Binder.import_record: the import rule every connector follows (create, update, unchanged,
skipped when changed in Odoo after the remote change), binding the record on the Binder."""

from datetime import datetime

from odoo.tests import TransactionCase, tagged

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import FROM_REMOTE

JAN, FEB, MAR = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestBinderImport(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = cls.env["recruitment.sync.integration"].create({"name": "Import test"})
        cls.binder = cls.integration._binder("candidate")

    def test_create_then_unchanged_then_update(self):
        result, binding = self.binder.import_record(
            "res.partner", 42, JAN, {"name": "Ada"}, create_values={"ref": "R-42"}
        )
        partner = result.record
        self.assertEqual((result.action, result.external_id), ("created", "42"))
        self.assertEqual((partner.name, partner.ref), ("Ada", "R-42"))
        self.assertRecordValues(
            binding,
            [{"res_model": "res.partner", "res_id": partner.id, "external_id": "42", "remote_updated_at": JAN}],
        )
        self.assertFalse(partner.sync_local_changed_at, "an import is not a local change")

        result, same = self.binder.import_record("res.partner", 42, JAN, {"name": "Ada (again)"})
        self.assertEqual((result.action, result.record, same), ("unchanged", partner, binding))
        self.assertEqual(partner.name, "Ada")

        result, same = self.binder.import_record("res.partner", "42", FEB, {"name": "Ada Lovelace"}, binding=binding)
        self.assertEqual((result.action, same), ("updated", binding))
        self.assertEqual((partner.name, binding.remote_updated_at), ("Ada Lovelace", FEB))
        self.assertEqual(
            self.env["recruitment.sync.binding"].search_count([("integration_id", "=", self.integration.id)]), 1
        )

    def test_changed_in_odoo_after_the_remote_change_is_kept(self):
        result, binding = self.binder.import_record("res.partner", 7, JAN, {"name": "Grace"})
        partner = result.record
        partner.sync_local_changed_at = MAR  # a user's edit after the remote change of February
        result, _same = self.binder.import_record("res.partner", 7, FEB, {"name": "Grace (remote)"}, binding=binding)
        self.assertEqual(result.action, "skipped")
        self.assertIn("Odoo's version is kept", result.reason)
        self.assertEqual((partner.name, binding.remote_updated_at), ("Grace", JAN))

    def test_still_same_turns_an_unmoved_date_into_an_update(self):
        result, binding = self.binder.import_record("res.partner", 9, JAN, {"name": "Alan"})
        partner = result.record
        result, _same = self.binder.import_record(
            "res.partner", 9, JAN, {"name": "Alan T."}, binding=binding, still_same=lambda record: False
        )
        self.assertEqual((result.action, partner.name), ("updated", "Alan T."))

    def test_record_found_another_way_is_bound(self):
        partner = self.env["res.partner"].with_context(**{FROM_REMOTE: True}).create({"name": "Found by email"})
        result, binding = self.binder.import_record(
            "res.partner", 11, JAN, {"name": "Found"}, binding=False, record=partner
        )
        self.assertEqual((result.action, result.record, binding.res_id), ("updated", partner, partner.id))
        self.assertEqual(self.binder.records_for("res.partner", [11]), {"11": partner})

    def test_the_binding_model_wrapper_runs_on_the_binder(self):
        result, binding = self.env["recruitment.sync.binding"]._import_record(
            self.integration, "res.partner", 5, JAN, {"name": "Wrapped"}, external_model="candidate"
        )
        self.assertEqual(result.action, "created")
        self.assertEqual(self.binder.bindings_for("res.partner", [5]), {"5": binding})
