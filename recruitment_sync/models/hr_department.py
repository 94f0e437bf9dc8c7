from odoo import fields, models


class HrDepartment(models.Model):
    _inherit = "hr.department"

    sale_journal_id = fields.Many2one(
        "account.journal",
        string="Sales journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Customer invoices of this department go to this journal, and in its currency (e.g. NOK for a "
        "Norwegian office). Empty: the company's default sales journal.",
    )
