"""Logins: department scope, Test connection, activation, and who may see or change them."""

import logging

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import BERGEN_LOGIN, FJORD_LOGIN, MAIN_LOGIN, TsoCase

CREDENTIAL = "recruitment.sync.24so.credential"


@tagged("post_install", "-at_install", "recruitment_sync")
class TestCredentials(TsoCase):
    # ------------------------------------------------------------------------ scope
    def test_a_department_is_served_by_one_login_only(self):
        with self.assertRaisesRegex(ValidationError, "Bergen"), self.env.cr.savepoint():
            self.add_login(FJORD_LOGIN, departments=self.bergen | self.tromso)
        with self.assertRaisesRegex(ValidationError, "all departments"), self.env.cr.savepoint():
            self.add_login(FJORD_LOGIN)
        with self.assertRaisesRegex(ValidationError, "choose at least one"), self.env.cr.savepoint():
            self.env[CREDENTIAL].create(
                {
                    "integration_id": self.integration.id,
                    "username": FJORD_LOGIN[0],
                    "password": FJORD_LOGIN[1],
                    "department_scope": "specific",
                }
            )
        tromso = self.add_login(FJORD_LOGIN, departments=self.tromso)
        with self.assertRaisesRegex(ValidationError, "Tromsø"), self.env.cr.savepoint():
            self.bergen_login.department_ids = [Command.link(self.tromso.id)]
        # An archived login frees its departments... only of its integration's active logins.
        self.assertEqual(self.integration._tso_credential_for(self.tromso), tromso)
        self.assertEqual(self.integration._tso_credential_for(self.oslo), self.main_login)

    # ------------------------------------------------------------------------ test connection
    def test_test_connection_lists_identities_and_shows_the_client(self):
        login = self.add_login(BERGEN_LOGIN, departments=self.tromso)
        action = login.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Nordlys Bemanning AS", action["params"]["message"])
        self.assertEqual(login.state, "ok")
        self.assertEqual(login.identity_id.client_name, "Nordlys Bemanning AS")  # its only identity
        self.assertEqual(login.client_ref, "1001")
        self.assertEqual(login.display_name, "bergen@nordlys.example (Nordlys Bemanning AS)")

    def test_a_login_reaching_several_clients_asks_for_the_identity(self):
        self.main_login.identity_id = False
        action = self.main_login.action_test_connection()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("choose the identity", action["params"]["message"])
        self.assertEqual(
            sorted(self.main_login.identity_ids.mapped("client_name")),
            ["Fjord Rekruttering AS", "Nordlys Bemanning AS"],
        )
        self.assertFalse(self.main_login.identity_id)
        fjord = self.main_login.identity_ids.filtered(lambda identity: identity.client_ref == "1002")
        self.main_login.identity_id = fjord
        action = self.main_login.action_test_connection()
        self.assertIn("Fjord Rekruttering AS", action["params"]["message"])
        self.assertEqual((self.main_login.state, self.main_login.client_ref), ("ok", "1002"))

    def test_wrong_password_is_a_failed_test_not_an_error(self):
        self.bergen_login.password = "wrong"
        action = self.bergen_login.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("refused the user name or password", action["params"]["message"])
        self.assertEqual(self.bergen_login.state, "failed")

    def test_password_is_never_logged(self):
        logger = logging.getLogger("odoo.addons.recruitment_sync_24so")
        with self.assertLogs(logger, logging.DEBUG) as logs:
            logger.setLevel(logging.DEBUG)
            try:
                self.main_login.action_test_connection()
                self.export(self.make_invoice())
            finally:
                logger.setLevel(logging.NOTSET)
        text = "\n".join(logs.output)
        self.assertIn("Login", text)  # the envelopes are logged...
        self.assertNotIn(MAIN_LOGIN[1], text)  # ... without the password
        self.assertNotIn(self.world.application_id, text)

    # ------------------------------------------------------------------------ activation
    def test_connect_activates_when_every_login_works(self):
        integration = self.integration.copy({"name": "24SO bis", "state": "not_connected"})
        self.main_login.active = False
        self.bergen_login.active = False
        with self.assertRaisesRegex(UserError, "Add a 24SevenOffice login"):
            integration.action_connect()
        login = self.add_login(BERGEN_LOGIN, integration=integration)
        integration.sudo().tso_application_id = self.world.application_id
        login.password = "wrong"
        action = integration.action_connect()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(integration.state, "not_connected")
        self.assertEqual(login.state, "failed")
        login.password = BERGEN_LOGIN[1]
        action = integration.action_connect()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(integration.state, "connected")
        self.assertFalse(integration.uses_oauth2)
        self.assertFalse(integration.schedule_active)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestCredentialAccess(TsoCase):
    """Only System Administrators activate, see logins or change their departments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, no_reset_password=True))
        invoicing = "account.group_account_invoice"
        cls.manager = new_test_user(env, "tso_manager", groups=f"recruitment_sync.group_sync_manager,{invoicing}")
        cls.sync_user = new_test_user(env, "tso_sync_user", groups=f"recruitment_sync.group_sync_user,{invoicing}")
        cls.dept_user = new_test_user(env, "tso_dept_user", groups=f"recruitment_sync.group_sync_user,{invoicing}")
        env["hr.employee"].create({"name": "Bergen clerk", "user_id": cls.dept_user.id, "department_id": cls.bergen.id})
        cls.billing = new_test_user(env, "tso_billing", groups=invoicing)

    def others(self):
        return (self.manager, self.sync_user, self.dept_user, self.billing)

    def test_others_cannot_see_logins_or_passwords(self):
        for user in self.others():
            with self.subTest(user=user.login):
                Credential = self.env[CREDENTIAL].with_user(user)
                with self.assertRaises(AccessError):
                    Credential.search([])
                with self.assertRaises(AccessError):
                    self.main_login.with_user(user).read(["username"])
                integration = self.integration.with_user(user)
                fields = integration.fields_get()
                for name in ("tso_application_id", "tso_credential_ids", "client_secret"):
                    self.assertNotIn(name, fields)
        self.assertIn("password", self.env[CREDENTIAL].with_user(self.admin).fields_get())

    def test_others_cannot_change_logins_scope_or_activate(self):
        for user in self.others():
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.env[CREDENTIAL].with_user(user).create(
                        {"integration_id": self.integration.id, "username": "x", "password": "y"}
                    )
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.bergen_login.with_user(user).write({"department_scope": "all"})
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.integration.with_user(user).write({"department_scope": "selected"})
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.integration.with_user(user).action_connect()
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.bergen_login.with_user(user).action_test_connection()

    def test_administrator_manages_logins(self):
        login = (
            self.env[CREDENTIAL]
            .with_user(self.admin)
            .create(
                {
                    "integration_id": self.integration.id,
                    "username": FJORD_LOGIN[0],
                    "password": FJORD_LOGIN[1],
                    "department_scope": "specific",
                    "department_ids": [Command.set(self.tromso.ids)],
                }
            )
        )
        self.assertEqual(login.with_user(self.admin).action_test_connection()["params"]["type"], "success")
        login.with_user(self.admin).department_ids = [Command.set(self.tromso.ids)]
        self.assertIn(login, self.integration.with_user(self.admin).tso_credential_ids)

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_sync_users_export_and_read_their_receipt(self):
        invoice = self.make_invoice(department=self.bergen)
        action = invoice.with_user(self.dept_user).action_tso_export()
        self.process_runs()
        lines = self.env["recruitment.sync.run.line"].with_user(self.dept_user).search(action["domain"])
        self.assertEqual(lines.mapped("tso_status"), ["exported"])
        self.assertEqual(lines.tso_move_id, invoice)
        self.assertEqual(invoice.with_user(self.dept_user).tso_status, "exported")
        with self.assertRaises(AccessError):
            invoice.with_user(self.billing).action_tso_export()
