from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from odoo.addons.recruitment_sync.tests.test_security import setup_security_fixtures

TAX_RATE = "recruitment.sync.xero.tax.rate"
ACCOUNT = "recruitment.sync.xero.account"
TENANT = "recruitment.sync.xero.tenant"


@tagged("post_install", "-at_install", "recruitment_sync")
class TestXeroSecurity(TransactionCase):
    """Mapping tables and organisations follow their integration's departments, as the core's records do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_security_fixtures(cls)
        Integration = cls.env["recruitment.sync.integration"].sudo()
        cls.xero_all = Integration.create({"name": "Xero all", "provider": "xero"})
        cls.xero_b = Integration.create(
            {
                "name": "Xero B",
                "provider": "xero",
                "department_scope": "selected",
                "department_ids": [Command.set(cls.dept_b.ids)],
            }
        )
        cls.rows = {}
        for integration in (cls.xero_all, cls.xero_b):
            cls.rows[integration] = (
                cls.env[TAX_RATE].create({"integration_id": integration.id, "tax_type": "OUTPUT2", "use": "sale"}),
                cls.env[ACCOUNT].create({"integration_id": integration.id, "xero_id": "a-1", "code": "200"}),
                cls.env[TENANT].create({"integration_id": integration.id, "tenant_id": "t-1", "name": "Org"}),
            )

    def visible(self, user, model):
        return self.env[model].with_user(user).search([("integration_id", "in", (self.xero_all | self.xero_b).ids)])

    def test_department_users_see_their_integrations_mappings_only(self):
        for model in (TAX_RATE, ACCOUNT, TENANT):
            self.assertEqual(self.visible(self.user_a, model).integration_id, self.xero_all, model)
            self.assertEqual(self.visible(self.user_b, model).integration_id, self.xero_all | self.xero_b, model)
            self.assertEqual(self.visible(self.manager, model).integration_id, self.xero_all | self.xero_b, model)
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.plain).search([])

    def test_sync_users_read_sync_managers_map_administrators_own(self):
        tax_rate, account, tenant = self.rows[self.xero_all]
        tax = self.env["account.tax"].search([("type_tax_use", "=", "sale")], limit=1)
        for record, values in ((tax_rate, {"tax_ids": [Command.set(tax.ids)]}), (account, {"account_ids": []})):
            with self.assertRaises(AccessError):
                record.with_user(self.user_a).write(values)
            record.with_user(self.manager).write(values)
            with self.assertRaises(AccessError):
                record.with_user(self.manager).unlink()
        with self.assertRaises(AccessError):
            self.env[TAX_RATE].with_user(self.manager).create({"integration_id": self.xero_all.id, "tax_type": "X"})
        with self.assertRaises(AccessError):
            tenant.with_user(self.manager).write({"name": "Renamed"})
        tenant.with_user(self.admin).write({"name": "Renamed"})

    def test_connection_settings_are_the_administrators(self):
        with self.assertRaises(AccessError):
            self.xero_all.with_user(self.manager).write({"xero_daily_limit": 10})
        with self.assertRaises(AccessError):
            self.xero_all.with_user(self.manager).write({"xero_scope_set": "broad"})
        self.xero_all.with_user(self.manager).write({"export_payments": False})
        self.xero_all.with_user(self.admin).write({"xero_daily_limit": 1000})
        self.assertEqual(self.xero_all.xero_daily_limit, 1000)
        self.assertEqual(self.env["recruitment.sync.integration"]._fields["client_secret"].groups, "base.group_system")
