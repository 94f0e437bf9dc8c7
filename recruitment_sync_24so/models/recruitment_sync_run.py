from odoo import api, fields, models
from odoo.osv import expression

TSO_STATUSES = [
    ("in_transfer", "In transfer"),
    ("exported", "Exported"),
    ("already_exists", "Already exists in 24SevenOffice"),
    ("login_error", "Login error"),
    ("failed", "Failed"),
]
# The receipt's status of an invoice, read from the core's line: its action (and failure type).
LINE_STATUSES = {
    "queued": "in_transfer",
    "exported": "exported",
    "already_exists": "already_exists",
    "failed": "failed",
}
# A login that does not log in: the line failed "needs reconnecting".
LOGIN_ERROR_TYPE = "auth"


class RecruitmentSyncRunLine(models.Model):
    """A receipt line: what happened to one invoice of a 24SevenOffice export (computed from the
    core's line: its record, action and external id, the invoice's transfer)."""

    _inherit = "recruitment.sync.run.line"

    tso_status = fields.Selection(
        TSO_STATUSES, string="24SevenOffice status", compute="_compute_tso_status", search="_search_tso_status"
    )
    tso_invoice_number = fields.Char(string="24SevenOffice invoice", compute="_compute_tso_invoice_number")
    tso_move_id = fields.Many2one(
        "account.move", string="Invoice", compute="_compute_tso_move_id", search="_search_tso_move_id"
    )
    tso_partner_id = fields.Many2one(related="tso_move_id.partner_id", string="Customer")
    tso_invoice_date = fields.Date(related="tso_move_id.invoice_date", string="Invoice date")
    # The invoice's own currency (the Norwegian offices invoice in NOK): what 24SevenOffice receives.
    tso_currency_id = fields.Many2one(related="tso_move_id.currency_id")
    tso_amount = fields.Monetary(
        related="tso_move_id.amount_total_in_currency_signed", string="Total", currency_field="tso_currency_id"
    )
    tso_department_id = fields.Many2one(related="tso_move_id.department_id", string="Department")
    tso_login = fields.Char(
        string="Login",
        compute="_compute_tso_login",
        help="The 24SevenOffice login that exports this department's invoices.",
    )
    tso_has_warning = fields.Boolean(compute="_compute_tso_login")

    @api.depends("res_model", "res_id")
    def _compute_tso_move_id(self):
        for line in self:
            is_move = line.res_model == "account.move" and line.res_id and line.integration_id.provider == "24so"
            line.tso_move_id = line.res_id if is_move else False

    def _search_tso_move_id(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        ids = [value] if operator == "=" else list(value)
        return [("res_model", "=", "account.move"), ("res_id", "in", [i for i in ids if i])]

    @api.depends("action", "failure_type", "res_model")
    def _compute_tso_status(self):
        for line in self:
            if line.integration_id.provider != "24so" or line.res_model != "account.move":
                line.tso_status = False
            elif line.action == "failed" and line.failure_type == LOGIN_ERROR_TYPE:
                line.tso_status = "login_error"
            else:
                line.tso_status = LINE_STATUSES.get(line.action, False)

    def _search_tso_status(self, operator, value):
        receipt = [("res_model", "=", "account.move"), ("integration_id.provider", "=", "24so")]
        if operator == "!=" and not value:
            return receipt
        if operator not in ("=", "in") or not value:
            return NotImplemented
        domains = []
        for status in [value] if operator == "=" else value:
            if status == "login_error":
                domains.append([("action", "=", "failed"), ("failure_type", "=", LOGIN_ERROR_TYPE)])
            elif status == "failed":
                domains.append([("action", "=", "failed"), ("failure_type", "!=", LOGIN_ERROR_TYPE)])
            else:
                domains.append([("action", "in", [action for action, s in LINE_STATUSES.items() if s == status])])
        return expression.AND([receipt, expression.OR(domains)])

    @api.depends("external_id", "res_id")
    def _compute_tso_invoice_number(self):
        """The 24SevenOffice invoice number of the order the line names (its transfer)."""
        lines = self.filtered(lambda line: line.tso_move_id and (line.external_id or "").isdigit())
        transfers = {}
        if lines:
            for transfer in (
                self.env["recruitment.sync.24so.transfer"]
                .sudo()
                .search(
                    [
                        ("move_id", "in", lines.tso_move_id.ids),
                        ("order_ref", "in", [int(x) for x in lines.mapped("external_id")]),
                    ]
                )
            ):
                transfers[(transfer.move_id.id, transfer.order_ref)] = transfer.invoice_number
        for line in self:
            key = (line.tso_move_id.id, int(line.external_id)) if line in lines else None
            line.tso_invoice_number = transfers.get(key) or False

    @api.depends("tso_department_id", "integration_id")
    def _compute_tso_login(self):
        logins_by_integration = {}
        for line in self:
            integration = line.integration_id.sudo()
            if integration.provider != "24so" or not line.tso_status:
                line.tso_login = False
            else:
                if integration not in logins_by_integration:
                    logins_by_integration[integration] = integration._tso_credentials_by_department()
                credential = integration._tso_credential_for(line.tso_department_id, logins_by_integration[integration])
                line.tso_login = credential.username or False
            # Sent, but with a remark to read (e.g. a product or customer created on the way).
            line.tso_has_warning = line.tso_status in ("exported", "already_exists") and bool(line.reason)


class RecruitmentSyncRun(models.Model):
    _inherit = "recruitment.sync.run"

    def action_tso_receipt(self):
        self.ensure_one()
        return self.env["account.move"]._tso_receipt_action(self)
