"""Records synced with remote systems carry bindings and a local-change stamp."""

from odoo import api, fields, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "recruitment.sync.bound.mixin"]


class ResUsers(models.Model):
    _name = "res.users"
    _inherit = ["res.users", "recruitment.sync.bound.mixin"]


class RecruitmentSyncDepartmentMixin(models.AbstractModel):
    """A record that belongs to a department: sync access and exports follow it.

    The model computes its default (``_compute_department_id``); users may change it.
    """

    _name = "recruitment.sync.department.mixin"
    _description = "Record of a department"

    department_id = fields.Many2one(
        "hr.department",
        compute="_compute_department_id",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
    )

    def _compute_department_id(self):
        for record in self:
            record.department_id = record.department_id


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "recruitment.sync.bound.mixin", "recruitment.sync.department.mixin"]

    department_id = fields.Many2one(
        check_company=True,
        help="The department this document belongs to: defaults to the salesperson's department. "
        "Exports and sync access follow it.",
    )

    @api.depends("invoice_user_id", "company_id")
    def _compute_department_id(self):
        # One query per salesperson and company: the department of their employee there, fetched
        # with its company (which check_company reads next). Invoicing pays at most this query.
        departments = {}
        for move in self:
            if not move.is_sale_document(include_receipts=True) or not move.invoice_user_id:
                move.department_id = move.department_id
                continue
            key = (move.invoice_user_id.id, move.company_id.id)
            if key not in departments:
                departments[key] = self.env["hr.department"].search_fetch(
                    [("member_ids", "any", [("user_id", "=", key[0]), ("company_id", "=", key[1])])],
                    ["company_id"],
                    limit=1,
                )
            move.department_id = departments[key] or move.department_id

    @api.onchange("department_id")
    def _onchange_department_id_journal(self):
        # An office that invoices in its own currency has its own sales journal (e.g. NOK).
        journal = self.department_id.sale_journal_id
        if journal and self.state == "draft" and self.is_sale_document(include_receipts=True):
            self.journal_id = journal
