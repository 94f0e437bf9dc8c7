"""The confirmation before a manual sync: counts from the connector, Proceed, Cancel."""

from datetime import datetime
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import SyncCase, create_test_integration


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConfirmWizard(SyncCase):
    def open_wizard(self, integration=None, user=None):
        action = (integration or self.integration).with_user(user or self.manager).action_sync_now()
        self.assertEqual(action["res_model"], "recruitment.sync.confirm.wizard")
        Wizard = self.env["recruitment.sync.confirm.wizard"].with_user(user or self.manager)
        return Form(Wizard.with_context(**action["context"])).save()

    def test_shows_counts_and_queues_one_run(self):
        self.fake.seed(42)
        wizard = self.open_wizard()
        [line] = wizard.line_ids
        self.assertEqual((line.label, line.count, line.count_display), ("Contacts", 42, "42"))
        result = wizard.action_proceed()
        self.assertEqual(result["params"]["title"], "Sync queued")
        run = self.Run.search([("integration_id", "=", self.integration.id)])
        self.assertEqual(
            (run.state, run.trigger, run.kinds, run.user_id), ("queued", "manual", ["records"], self.manager)
        )
        again = self.open_wizard().action_proceed()
        self.assertEqual(again["params"]["title"], "Already in progress")
        self.assertEqual(self.Run.search_count([("integration_id", "=", self.integration.id)]), 1)

    def test_a_count_the_provider_cannot_give_yet_shows_as_unknown(self):
        Integration = type(self.env["recruitment.sync.integration"])
        refusal = UserError("Choose the organisation of this company first.")
        with patch.object(Integration, "_provider_count", side_effect=refusal):
            [line] = self.open_wizard().line_ids
        self.assertEqual((line.count, line.count_display), (-1, "unknown"))

    def test_counts_follow_the_watermark(self):
        # the test provider is a test-only addon: imported here, once SyncCase found it installed
        from odoo.addons.recruitment_sync_test_provider.models.recruitment_sync_integration import OVERLAP

        self.fake.seed(20)
        self.sync()
        watermark = datetime.fromisoformat(self.integration.sync_checkpoint["records"]["watermark"])
        in_overlap = [
            record
            for record in self.fake.records
            if datetime.fromisoformat(record["updated_at"].replace("Z", "")) >= watermark - OVERLAP
        ]
        self.assertTrue(0 < len(in_overlap) < 20)
        self.assertEqual(self.open_wizard().line_ids.count, len(in_overlap), "only the overlap window is re-read")
        self.integration.sudo().sync_checkpoint = {"records": {"watermark": "2030-01-01T00:00:00"}}
        self.assertEqual(self.open_wizard().line_ids.count, 0)

    def test_not_connected_refuses(self):
        other = create_test_integration(self.env, self.fake, name="Unconnected")
        with self.assertRaises(UserError):
            other.with_user(self.manager).action_sync_now()

    def test_deselected_kinds_are_not_synced(self):
        wizard = self.open_wizard()
        wizard.line_ids.selected = False
        result = wizard.action_proceed()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertFalse(self.Run.search([("integration_id", "=", self.integration.id)]))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConnectionCheck(SyncCase):
    def test_test_connection_says_what_answered(self):
        action = self.integration.with_user(self.admin).action_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("Fake Agency Ltd", action["params"]["message"])
        self.assertEqual(len(self.fake.requests_to("/api/v1/me")), 1)
