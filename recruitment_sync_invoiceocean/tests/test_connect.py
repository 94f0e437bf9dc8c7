"""Activation: token (administrators only, never shown) and prefix; saving tests them; a refused token →
Needs reconnect with the reason; a 401 during a run too."""

from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from .common import InvoiceOceanCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestActivation(InvoiceOceanCase):
    activate_on_setup = False

    def test_refused_token_needs_reconnect_with_the_reason_then_the_right_one_connects(self):
        self.integration.io_api_token = "wrong-token"
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertIn("401", self.integration.connection_message)
        self.assertNotIn("wrong-token", self.integration.connection_message)
        self.activate()
        self.assertEqual(self.integration.state, "connected")
        self.assertTrue(self.integration.io_linked_at)
        self.assertEqual(self.integration.action_test_connection()["params"]["type"], "success")

    def test_token_is_for_administrators_only(self):
        manager = new_test_user(
            self.env, login="io-manager", groups="base.group_user,recruitment_sync.group_sync_manager"
        )
        integration = self.integration.with_user(manager)
        with self.assertRaises(AccessError):
            integration.write({"io_api_token": "stolen"})
        self.assertNotIn("io_api_token", integration.fields_get(attributes=["type"]))

    def test_token_refused_during_a_run_needs_reconnect(self):
        self.activate()
        self.fake.inject(status=401, times=5, path_prefix="/clients.json")
        self.sync()
        self.assertEqual(self.integration.state, "needs_reconnect")

    def test_neutralize_wipes_the_token_and_the_webhook_secret(self):
        self.activate()
        for query in get_neutralization_queries(["recruitment_sync", "recruitment_sync_invoiceocean"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        integration = self.integration.sudo()
        self.assertEqual(integration.state, "needs_reconnect")
        self.assertFalse(integration.io_api_token)
        self.assertFalse(integration.io_webhook_secret)
        self.assertFalse(integration._io_check_webhook_secret(""), "no webhook is accepted any more")
