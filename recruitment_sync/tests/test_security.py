"""Access rights: groups, department scope (child_of), multi-company rules, admin-only fields.

Everything is checked as the user concerned, through the ORM (``with_user``) and, for the
department scope and the administrators' fields, through XML-RPC on the running server.
"""

from contextlib import contextmanager
from xmlrpc.client import Fault

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.base.controllers.rpc import RPC_FAULT_CODE_ACCESS_ERROR

from .common import require_test_provider

INTEGRATION = "recruitment.sync.integration"
RUN = "recruitment.sync.run"
LINE = "recruitment.sync.run.line"
BINDING = "recruitment.sync.binding"
TOKEN = "recruitment.sync.token"
FAILED = "recruitment.sync.failed.item"


def setup_security_fixtures(cls):
    """Departments A and B, a user of each role, integrations of A, B and all, their history."""
    env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True, no_reset_password=True))
    require_test_provider(env)  # its integrations stand for any provider's
    cls.company = env.company
    Department = env["hr.department"]
    cls.dept_a = Department.create({"name": "Sec Dept A", "company_id": cls.company.id})
    cls.dept_b = Department.create({"name": "Sec Dept B", "company_id": cls.company.id})

    def user(login, groups, department=None):
        # Logins of 8+ characters: new_test_user's password is then the login itself.
        new_user = new_test_user(env, login, groups=groups, company_id=cls.company.id)
        env["hr.employee"].create(
            {
                "name": login,
                "user_id": new_user.id,
                "company_id": cls.company.id,
                "department_id": department.id if department else False,
            }
        )
        return new_user

    cls.user_a = user("rs_sec_user_a", "recruitment_sync.group_sync_user", cls.dept_a)
    cls.user_b = user("rs_sec_user_b", "recruitment_sync.group_sync_user", cls.dept_b)
    cls.manager = user("rs_sec_manager", "recruitment_sync.group_sync_manager")
    cls.admin = user("rs_sec_admin", "base.group_system")
    cls.plain = user("rs_sec_plain", "base.group_user")

    def integration(name, departments=None, company=None):
        return (
            env[INTEGRATION]
            .sudo()
            .create(
                {
                    "name": name,
                    "provider": "test_rest",
                    "company_id": (company or cls.company).id,
                    "department_scope": "selected" if departments else "all",
                    "department_ids": [Command.set(departments.ids)] if departments else [],
                    "client_id": f"{name}-client",
                    "client_secret": f"{name}-secret",
                    "token_url": "https://auth.test-provider.invalid/oauth/token",
                }
            )
        )

    cls.int_a = integration("Sec A", cls.dept_a)
    cls.int_b = integration("Sec B", cls.dept_b)
    cls.int_all = integration("Sec All")
    cls.integrations = cls.int_a | cls.int_b | cls.int_all

    partners = env["res.partner"].create([{"name": f"Sec partner {i}"} for i in range(3)])
    cls.runs = env[RUN]
    cls.lines = env[LINE]
    cls.bindings = env[BINDING]
    cls.run_of, cls.line_of, cls.binding_of = {}, {}, {}
    for integration_rec, partner in zip(cls.integrations, partners, strict=True):
        run, line, binding = history(env, integration_rec, partner)
        cls.run_of[integration_rec] = run
        cls.line_of[integration_rec] = line
        cls.binding_of[integration_rec] = binding
        cls.runs |= run
        cls.lines |= line
        cls.bindings |= binding
    cls.failed_of = {
        integration_rec: env[FAILED]
        .sudo()
        .create(
            {
                "integration_id": integration_rec.id,
                "kind": "records",
                "item_key": f"R-{integration_rec.id}",
                "failure_type": "transient",
                "state": "given_up",
            }
        )
        for integration_rec in cls.integrations
    }


def history(env, integration, partner):
    """A finished run of ``integration`` with one line, and a binding of ``partner``."""
    run = env[RUN].sudo().create({"integration_id": integration.id, "trigger": "manual", "state": "done"})
    line = (
        env[LINE]
        .sudo()
        .create(
            {
                "run_id": run.id,
                "kind": "records",
                "name": partner.name,
                "res_model": "res.partner",
                "res_id": partner.id,
                "external_id": f"ext-{partner.id}",
                "action": "created",
            }
        )
    )
    binding = (
        env[BINDING]
        .sudo()
        .create(
            {
                "integration_id": integration.id,
                "res_model": "res.partner",
                "res_id": partner.id,
                "external_id": f"ext-{partner.id}",
            }
        )
    )
    return run, line, binding


@tagged("post_install", "-at_install", "recruitment_sync")
class TestSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_security_fixtures(cls)

    def visible(self, user, model, records):
        """Which of ``records`` ``user`` finds with a search (ids, to compare across environments)."""
        return set(self.env[model].with_user(user).search([("id", "in", records.ids)]).ids)

    def assert_sees_only(self, user, expected, hidden):
        """``user`` sees the integrations ``expected`` and their history, none of ``hidden``'s."""
        self.assertEqual(self.visible(user, INTEGRATION, self.integrations), set(expected.ids))
        for model, records_of in (
            (RUN, self.run_of),
            (LINE, self.line_of),
            (BINDING, self.binding_of),
            (FAILED, self.failed_of),
        ):
            with self.subTest(model=model):
                records = self.env[model].concat(*records_of.values())
                shown = self.env[model].concat(*(records_of[integration] for integration in expected))
                self.assertEqual(self.visible(user, model, records), set(shown.ids))
                for record in shown:
                    record.with_user(user).check_access("read")
                    self.assertTrue(record.with_user(user).read(["id"]))
                for integration in hidden:
                    record = records_of[integration].with_user(user)
                    with self.assertRaises(AccessError):
                        record.check_access("read")
                    with self.assertRaises(AccessError):
                        record.read(["id"])
        for integration in expected:
            integration.with_user(user).check_access("read")
            self.assertEqual(integration.with_user(user).read(["name"])[0]["name"], integration.name)
        for integration in hidden:
            with self.assertRaises(AccessError):
                integration.with_user(user).check_access("read")
            with self.assertRaises(AccessError):
                integration.with_user(user).read(["name"])

    # ------------------------------------------------------------------ department scope
    def test_sync_user_sees_own_department_and_all(self):
        self.assert_sees_only(self.user_a, self.int_a | self.int_all, self.int_b)

    def test_other_sync_user_sees_the_other_department(self):
        self.assert_sees_only(self.user_b, self.int_b | self.int_all, self.int_a)

    def test_sub_department_integration_is_visible_to_parent_department(self):
        env = self.env(context=dict(self.env.context, tracking_disable=True))
        sub = env["hr.department"].create({"name": "Sec Dept A/1", "parent_id": self.dept_a.id})
        int_sub = (
            env[INTEGRATION]
            .sudo()
            .create(
                {
                    "name": "Sec A/1",
                    "provider": "test_rest",
                    "department_scope": "selected",
                    "department_ids": [Command.set(sub.ids)],
                }
            )
        )
        run, line, binding = history(env, int_sub, env["res.partner"].create({"name": "Sec partner sub"}))
        self.assertEqual(self.visible(self.user_a, INTEGRATION, int_sub), set(int_sub.ids))
        self.assertEqual(self.visible(self.user_a, RUN, run), set(run.ids))
        self.assertEqual(self.visible(self.user_a, LINE, line), set(line.ids))
        self.assertEqual(self.visible(self.user_a, BINDING, binding), set(binding.ids))
        # child_of goes down the tree, not up: B's user does not see it.
        self.assertFalse(self.visible(self.user_b, INTEGRATION, int_sub))
        self.assertFalse(self.visible(self.user_b, RUN, run))
        # Nor does an employee of the sub-department see the parent department's integration.
        user_sub = new_test_user(env, "rs_sec_user_sub", groups="recruitment_sync.group_sync_user")
        env["hr.employee"].create({"name": "Sub", "user_id": user_sub.id, "department_id": sub.id})
        self.assertEqual(
            self.visible(user_sub, INTEGRATION, self.integrations | int_sub), {int_sub.id, self.int_all.id}
        )

    def test_department_change_applies_at_once(self):
        # Rule domains are cached per user: a transfer must not leave the old access behind.
        self.assertEqual(self.visible(self.user_a, INTEGRATION, self.integrations), {self.int_a.id, self.int_all.id})
        self.user_a.employee_ids.department_id = self.dept_b
        self.assertEqual(self.visible(self.user_a, INTEGRATION, self.integrations), {self.int_b.id, self.int_all.id})
        self.assertEqual(
            self.visible(self.user_a, RUN, self.runs), {self.run_of[self.int_b].id, self.run_of[self.int_all].id}
        )
        self.user_a.employee_ids.department_id = False
        self.assertEqual(self.visible(self.user_a, INTEGRATION, self.integrations), {self.int_all.id})
        self.assertEqual(self.visible(self.user_a, RUN, self.runs), {self.run_of[self.int_all].id})
        # Linking the user to another employee, of department A, gives A back.
        self.user_a.employee_ids.user_id = False
        self.env.flush_all()  # before the INSERT below, for the one-employee-per-user constraint
        self.env["hr.employee"].create({"name": "New job", "user_id": self.user_a.id, "department_id": self.dept_a.id})
        self.assertEqual(self.visible(self.user_a, INTEGRATION, self.integrations), {self.int_a.id, self.int_all.id})
        # And archiving that employee takes it away again.
        self.user_a.employee_ids.action_archive()
        self.assertEqual(self.visible(self.user_a, INTEGRATION, self.integrations), {self.int_all.id})

    def test_manager_sees_every_department(self):
        self.assert_sees_only(self.manager, self.integrations, self.env[INTEGRATION])

    def test_plain_user_has_no_access(self):
        for model, records in ((INTEGRATION, self.integrations), (RUN, self.runs), (BINDING, self.bindings)):
            with self.subTest(model=model):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(self.plain).search([])
                with self.assertRaises(AccessError):
                    records[0].with_user(self.plain).read(["id"])

    # ------------------------------------------------------------------ integration CRUD
    def test_only_admin_creates_and_unlinks_integrations(self):
        for user in (self.user_a, self.manager, self.plain):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.env[INTEGRATION].with_user(user).create({"name": "Sneaky", "provider": "test_rest"})
                with self.assertRaises(AccessError):
                    self.int_all.with_user(user).unlink()
        self.assertTrue(self.int_all.exists())
        created = self.env[INTEGRATION].with_user(self.admin).create({"name": "Admin's", "provider": "test_rest"})
        self.assertEqual(created.company_id, self.company)
        created.unlink()
        self.int_all.with_user(self.admin).unlink()
        self.assertFalse(self.int_all.exists())

    def test_sync_user_cannot_write_integrations(self):
        for field_name, value in (
            ("schedule_interval_number", 5),
            ("responsible_user_id", self.user_a.id),
            ("error_email_to", "a@example.com"),
            ("name", "Renamed"),
        ):
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                self.int_a.with_user(self.user_a).write({field_name: value})
        self.assertEqual(self.int_a.name, "Sec A")

    def test_manager_writes_schedule_and_recipients(self):
        self.int_b.with_user(self.manager).write(
            {
                "schedule_interval_number": 3,
                "schedule_interval_type": "days",
                "responsible_user_id": self.user_b.id,
                "error_email_to": "ops@example.com",
            }
        )
        self.assertRecordValues(
            self.int_b,
            [
                {
                    "schedule_interval_number": 3,
                    "schedule_interval_type": "days",
                    "responsible_user_id": self.user_b.id,
                    "error_email_to": "ops@example.com",
                }
            ],
        )

    def test_manager_cannot_write_connection_settings(self):
        for field_name, value in (
            ("client_secret", "stolen"),
            ("token_url", "https://evil.example.com/token"),
            ("api_base_url", "https://evil.example.com/api"),
            ("active", False),
            ("department_ids", [Command.set(self.dept_b.ids)]),
            ("department_scope", "all"),
            ("company_id", self.company.id),
        ):
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                self.int_a.with_user(self.manager).write({field_name: value})
        self.assertRecordValues(self.int_a, [{"active": True, "department_ids": self.dept_a.ids}])
        self.assertEqual(self.int_a.client_secret, "Sec A-secret")
        # The same changes are the administrators' to make.
        self.int_a.with_user(self.admin).write(
            {"client_secret": "rotated", "department_ids": [Command.link(self.dept_b.id)]}
        )
        self.assertEqual(self.int_a.client_secret, "rotated")
        self.assertEqual(self.int_a.department_ids, self.dept_a | self.dept_b)

    # ------------------------------------------------------------------ credentials
    def test_credentials_are_administrators_only(self):
        admin_fields = [
            name for name, field in self.env[INTEGRATION]._fields.items() if field.groups == "base.group_system"
        ]
        self.assertTrue({"client_id", "client_secret", "token_url", "api_base_url", "token_ids"} <= set(admin_fields))
        for user in (self.manager, self.user_a):
            for field_name in admin_fields:
                with self.subTest(user=user.login, field=field_name), self.assertRaises(AccessError):
                    self.int_a.with_user(user).read([field_name])
            # The form's ordinary fields stay readable.
            self.assertEqual(self.int_a.with_user(user).read(["name"])[0]["name"], "Sec A")
            self.assertNotIn("client_secret", self.int_a.with_user(user).fields_get())
        [values] = self.int_a.with_user(self.admin).read(["client_secret", "client_id"])
        self.assertEqual((values["client_secret"], values["client_id"]), ("Sec A-secret", "Sec A-client"))

    def test_tokens_are_administrators_only(self):
        token = self.env[TOKEN].create({"integration_id": self.int_a.id, "access_token": "at", "refresh_token": "rt"})
        for user in (self.manager, self.user_a, self.plain):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.env[TOKEN].with_user(user).search([])
                with self.assertRaises(AccessError):
                    token.with_user(user).read(["access_token"])
                with self.assertRaises(AccessError):
                    token.with_user(user).write({"access_token": "x"})
        self.assertEqual(self.env[TOKEN].with_user(self.admin).search([("id", "=", token.id)]), token)
        self.assertEqual(token.with_user(self.admin).read(["access_token"])[0]["access_token"], "at")
        self.assertEqual(self.int_a.with_user(self.admin).token_ids, token)

    # ------------------------------------------------------------------ history is read-only
    def test_runs_and_lines_are_read_only(self):
        run, line = self.run_of[self.int_a], self.line_of[self.int_a]
        for user in (self.user_a, self.manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    run.with_user(user).write({"summary": "tampered"})
                with self.assertRaises(AccessError):
                    self.env[RUN].with_user(user).create({"integration_id": self.int_a.id})
                with self.assertRaises(AccessError):
                    run.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    line.with_user(user).write({"reason": "tampered"})
                with self.assertRaises(AccessError):
                    self.env[LINE].with_user(user).create({"run_id": run.id, "action": "created"})
                with self.assertRaises(AccessError):
                    line.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    self.failed_of[self.int_a].with_user(user).write({"state": "retrying"})
                with self.assertRaises(AccessError):
                    self.failed_of[self.int_a].with_user(user).unlink()
        self.assertTrue(run.exists() and line.exists())
        self.assertFalse(run.summary)

    def test_sync_user_cannot_change_bindings(self):
        binding = self.binding_of[self.int_a]
        with self.assertRaises(AccessError):
            binding.with_user(self.user_a).write({"external_id": "other"})
        with self.assertRaises(AccessError):
            binding.with_user(self.user_a).unlink()
        # Sync managers correct bindings.
        binding.with_user(self.manager).write({"external_id": "corrected"})
        self.assertEqual(binding.external_id, "corrected")

    # ------------------------------------------------------------------ multi-company
    def test_other_company_is_invisible(self):
        env = self.env(context=dict(self.env.context, tracking_disable=True))
        company2 = env["res.company"].create({"name": "Sec Company 2"})
        int_c2 = env[INTEGRATION].sudo().create({"name": "Sec C2", "provider": "test_rest", "company_id": company2.id})
        run, line, binding = history(env, int_c2, env["res.partner"].create({"name": "Sec partner c2"}))
        records = {INTEGRATION: int_c2, RUN: run, LINE: line, BINDING: binding}

        # Company 1 only: not even a sync manager sees company 2's integration and history.
        for user in (self.manager, self.user_a):
            for model, record in records.items():
                with self.subTest(user=user.login, model=model):
                    self.assertFalse(self.visible(user, model, record))
                    with self.assertRaises(AccessError):
                        record.with_user(user).read(["id"])

        # Allowed in company 2 as well: visible only while company 2 is active.
        self.manager.write({"company_ids": [Command.link(company2.id)]})
        for model, record in records.items():
            with self.subTest(model=model):
                as_manager = self.env[model].with_user(self.manager)
                only_c1 = as_manager.with_context(allowed_company_ids=self.company.ids)
                both = as_manager.with_context(allowed_company_ids=(self.company | company2).ids)
                self.assertFalse(only_c1.search([("id", "=", record.id)]))
                self.assertEqual(both.search([("id", "=", record.id)]), record)
        # Across companies the department rule still applies to sync users.
        self.user_b.write({"company_ids": [Command.link(company2.id)]})
        as_user_b = self.env[INTEGRATION].with_user(self.user_b)
        found = as_user_b.with_context(allowed_company_ids=(self.company | company2).ids).search(
            [("id", "in", (self.integrations | int_c2).ids)]
        )
        self.assertEqual(set(found.ids), {self.int_b.id, self.int_all.id, int_c2.id})


@tagged("post_install", "-at_install", "recruitment_sync")
class TestInvoiceDepartment(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, no_reset_password=True))
        if not cls.env.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", cls.env.company, install_demo=False)
        setup_security_fixtures(cls)
        cls.partner = cls.env["res.partner"].create({"name": "Sec customer"})

    def invoice(self, salesperson):
        return self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "company_id": self.env.company.id,
                "partner_id": self.partner.id,
                "invoice_user_id": salesperson.id,
            }
        )

    def test_department_defaults_from_salesperson(self):
        invoice_a, invoice_b = self.invoice(self.user_a), self.invoice(self.user_b)
        self.assertEqual(invoice_a.department_id, self.dept_a)
        self.assertEqual(invoice_b.department_id, self.dept_b)
        # A salesperson without a department leaves it empty.
        self.assertFalse(self.invoice(self.manager).department_id)

    def test_department_is_editable_and_searchable(self):
        invoice_a, invoice_b = self.invoice(self.user_a), self.invoice(self.user_b)
        Move = self.env["account.move"]
        self.assertEqual(Move.search([("department_id", "=", self.dept_a.id)]) & (invoice_a | invoice_b), invoice_a)
        invoice_b.department_id = self.dept_a
        invoice_b.ref = "edited afterwards"  # another edit must not reset it
        self.env.invalidate_all()
        self.assertEqual(invoice_b.department_id, self.dept_a)
        self.assertEqual(
            Move.search([("department_id", "=", self.dept_a.id)]) & (invoice_a | invoice_b), invoice_a | invoice_b
        )
        self.assertFalse(
            Move.search([("department_id", "=", self.dept_b.id), ("id", "in", (invoice_a | invoice_b).ids)])
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestSecurityXmlRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_security_fixtures(cls)

    def login(self, user):
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, user.login, user.login, {})
        self.assertEqual(uid, user.id)
        return uid

    def call(self, user, model, method, *args):
        return self.xmlrpc_object.execute(self.env.cr.dbname, self.login(user), user.login, model, method, *args)

    @contextmanager
    def assert_access_fault(self):
        """The call fails on the server with an AccessError (not any other fault)."""
        with mute_logger("odoo.http"), self.assertRaises(Fault) as caught:
            yield
        self.assertEqual(caught.exception.faultCode, RPC_FAULT_CODE_ACCESS_ERROR, caught.exception.faultString)

    def found_ids(self, user, model, records):
        rows = self.call(user, model, "search_read", [("id", "in", records.ids)], ["id"])
        return {row["id"] for row in rows}

    def test_department_scope_over_xmlrpc(self):
        names = {row["id"]: row["name"] for row in self.call(self.user_a, INTEGRATION, "search_read", [], ["name"])}
        self.assertIn(self.int_a.id, names)
        self.assertIn(self.int_all.id, names)
        self.assertNotIn(self.int_b.id, names)
        self.assertEqual(names[self.int_a.id], "Sec A")
        for model, records_of in ((RUN, self.run_of), (LINE, self.line_of), (BINDING, self.binding_of)):
            with self.subTest(model=model):
                records = self.env[model].concat(*records_of.values())
                self.assertEqual(
                    self.found_ids(self.user_a, model, records),
                    {records_of[self.int_a].id, records_of[self.int_all].id},
                )
                self.assertEqual(
                    self.found_ids(self.user_b, model, records),
                    {records_of[self.int_b].id, records_of[self.int_all].id},
                )
        with self.assert_access_fault():
            self.call(self.user_a, INTEGRATION, "read", [self.int_b.id], ["name"])

    def test_client_secret_over_xmlrpc(self):
        # The manager reads the integration, but not its secret.
        [row] = self.call(self.manager, INTEGRATION, "read", [self.int_b.id], ["name"])
        self.assertEqual(row["name"], "Sec B")
        with self.assert_access_fault():
            self.call(self.manager, INTEGRATION, "read", [self.int_b.id], ["client_secret"])
        with self.assert_access_fault():
            self.call(self.manager, INTEGRATION, "write", [self.int_b.id], {"client_secret": "stolen"})
        with self.assert_access_fault():
            self.call(self.manager, TOKEN, "search_read", [], ["access_token"])
        # The same call works for an administrator.
        [row] = self.call(self.admin, INTEGRATION, "read", [self.int_b.id], ["client_secret"])
        self.assertEqual(row["client_secret"], "Sec B-secret")
