from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.recruitment_sync.services.http_client import HttpClient


@tagged("post_install", "-at_install", "recruitment_sync")
class TestIntegration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Integration = cls.env["recruitment.sync.integration"]
        cls.sync_user = new_test_user(cls.env, "rs_sync_user", groups="recruitment_sync.group_sync_user")
        cls.admin = new_test_user(cls.env, "rs_admin", groups="base.group_system")

    def test_defaults(self):
        integration = self.Integration.with_user(self.admin).create({"name": "Agency", "provider": "none"})
        self.assertRecordValues(
            integration,
            [
                {
                    "state": "not_connected",
                    "company_id": self.env.company.id,
                    "responsible_user_id": self.admin.id,
                    "active": True,
                }
            ],
        )
        self.assertEqual(integration.display_name, "Agency (No provider set)")

    def test_only_administrators_create_integrations(self):
        with self.assertRaises(AccessError):
            self.Integration.with_user(self.sync_user).create({"name": "Sneaky", "provider": "none"})
        administrators = self.env.ref("base.group_system")
        self.assertIn(
            self.env.ref("recruitment_sync.group_sync_manager"),
            administrators.trans_implied_ids,
            "administrators must be sync managers too",
        )

    def test_settings_block_counts_and_opens_integrations(self):
        self.Integration.create({"name": "Counted", "provider": "none"})
        settings = self.env["res.config.settings"].create({})
        expected = self.Integration.search_count([("company_id", "=", self.env.company.id)])
        self.assertEqual(settings.recruitment_sync_integration_count, expected)
        self.assertEqual(settings.action_open_recruitment_sync_integrations()["res_model"], self.Integration._name)

    def test_sync_managers_change_the_schedule_but_not_the_connection(self):
        manager = new_test_user(self.env, "rs_mgr_int", groups="recruitment_sync.group_sync_manager")
        integration = self.Integration.create({"name": "Scheduled", "provider": "none"})
        integration.with_user(manager).write({"schedule_interval_number": 3, "schedule_interval_type": "days"})
        self.assertEqual((integration.schedule_interval_number, integration.schedule_interval_type), (3, "days"))
        with self.assertRaises(AccessError):
            integration.with_user(manager).write({"rate_limit_per_minute": 10})

    def test_provider_http_client_class(self):
        class ProviderClient(HttpClient):
            pass

        integration = self.Integration.create(
            {"name": "Own client", "provider": "none", "api_base_url": "https://api.example.com/v2"}
        )
        self.assertIs(integration._provider_http_client_class(), HttpClient)
        with patch.object(type(integration), "_provider_http_client_class", return_value=ProviderClient):
            client = integration._http_client(max_wait=5.0)
        self.assertIsInstance(client, ProviderClient)
        self.assertEqual((client.base_url, client.max_wait), ("https://api.example.com/v2", 5.0))
