from odoo import fields, models


class HrDepartment(models.Model):
    _inherit = "hr.department"

    tso_department_ref = fields.Integer(
        string="24SevenOffice department number",
        help="The Id of this department in 24SevenOffice (Client > Departments). Invoices of this department "
        "are exported with it on the invoice and its rows; leave 0 to export them without a department.",
    )
