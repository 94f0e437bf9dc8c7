from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install", "recruitment_sync")
class TestIntegration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Integration = cls.env["recruitment.sync.integration"]
        cls.sync_user = new_test_user(cls.env, "rs_sync_user", groups="recruitment_sync.group_sync_user")
        cls.admin = new_test_user(cls.env, "rs_admin", groups="base.group_system")

    def test_defaults(self):
        integration = self.Integration.with_user(self.admin).create({"name": "Agency", "provider": "jobadder"})
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
        self.assertEqual(integration.display_name, "Agency (JobAdder)")

    def test_only_administrators_create_integrations(self):
        with self.assertRaises(AccessError):
            self.Integration.with_user(self.sync_user).create({"name": "Sneaky", "provider": "jobadder"})
        administrators = self.env.ref("base.group_system")
        self.assertIn(
            self.env.ref("recruitment_sync.group_sync_manager"),
            administrators.trans_implied_ids,
            "administrators must be sync managers too",
        )
