"""Activation: token (administrators only, never shown) and prefix; saving tests them; a refused token →
Needs reconnect with the reason; a 401 during a run too; the token in no log line nor message."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
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

    def test_token_is_never_logged_nor_shown(self):
        """The token goes in every query and body; no log line (at DEBUG, urllib3's included), history
        line, failed item, run summary or connection message holds it, even when InvoiceOcean echoes it."""
        token = self.fake.api_token
        self.activate()
        with freeze_time(fields.Datetime.now() + timedelta(seconds=5)):  # a later second than the first sync's
            self.odoo_by_vat.write({"city": "Logged City"})
        refused = self.shared_ids[0]
        self.fake.inject(status=503, times=1, path_prefix="/departments.json")  # retried: a warning
        self.fake.inject(
            status=422,
            body={"code": "error", "message": {"api_token": [f"{token} may not write this client"]}},
            path_prefix=f"/clients/{refused}.json",
        )
        with self.assertLogs(level="DEBUG") as logs:
            run = self.sync()
            self.fake.inject(status=401, times=1, path_prefix="/departments.json")
            refused_run = self.sync()
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertTrue(self.fake.requests_to(f"/clients/{refused}.json", "PUT"), "the token went in the body")
        # werkzeug's request log is the stand-in InvoiceOcean's own (the remote server's side).
        lines = [record.getMessage() for record in logs.records if record.name != "werkzeug"]
        self.assertTrue(
            any("/clients.json?" in line and "api_token=***" in line for line in lines),
            "the requests were logged, their query masked",
        )
        self.assertTrue(any("503" in line for line in lines), "the retry was logged")
        failed = self.lines_of(run, "io_export_clients", "failed")
        self.assertIn("may not write this client", failed.reason)
        messages = [
            *lines,
            *(run | refused_run).line_ids.mapped("reason"),
            *(run | refused_run).mapped("summary"),
            *self.env["recruitment.sync.failed.item"]
            .search([("integration_id", "=", self.integration.id)])
            .mapped("reason"),
            self.integration.connection_message,
        ]
        self.assertEqual([text for text in messages if text and token in text], [])

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
