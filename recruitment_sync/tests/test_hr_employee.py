"""Odoo's everyday HR actions behave as without our addons (our rule-cache clearing included)."""

from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install", "recruitment_sync")
class TestEmployeeUser(TransactionCase):
    def test_a_user_with_an_employee_in_the_company_is_refused_by_the_database(self):
        # hr's TestHrEmployee.test_set_user_on_new_employee: the duplicate must reach the client as
        # the database's unique violation (which it shows as a validation message), not as a
        # ValueError raised while a record rule is evaluated.
        company = self.env["res.company"].create({"name": "RS employee company"})
        officer = new_test_user(self.env, "rs_hr_officer", groups="base.group_user,hr.group_hr_user")
        self.env["hr.employee"].create({"name": "Officer", "user_id": officer.id, "company_id": company.id})
        officer.write({"company_ids": [Command.set(company.ids)], "company_id": company.id})
        form = Form(self.env["hr.employee"].with_user(officer).with_company(company))
        form.name = "Second employee"
        form.user_id = officer
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.cr.savepoint():
            form.save()
