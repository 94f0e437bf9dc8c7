from odoo import _, api, fields, models

TSO_STATUSES = [
    ("in_transfer", "In transfer"),
    ("exported", "Exported"),
    ("already_exists", "Already exists in 24SevenOffice"),
    ("login_error", "Login error"),
    ("failed", "Failed"),
]


class RecruitmentSyncRunLine(models.Model):
    """A receipt line: what happened to one invoice of a 24SevenOffice export."""

    _inherit = "recruitment.sync.run.line"

    action = fields.Selection(selection_add=[("in_transfer", "In transfer")], ondelete={"in_transfer": "cascade"})
    tso_status = fields.Selection(TSO_STATUSES, string="24SevenOffice status", readonly=True, index=True)
    tso_invoice_number = fields.Char(string="24SevenOffice invoice", readonly=True)
    tso_move_id = fields.Many2one("account.move", string="Invoice", readonly=True, index=True, ondelete="set null")
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

    tso_in_transfer_count = fields.Integer(compute="_compute_tso_counts", string="In transfer")

    @api.depends("line_ids.tso_status")
    def _compute_tso_counts(self):
        counts = dict(
            self.env["recruitment.sync.run.line"]._read_group(
                [("run_id", "in", self.ids), ("tso_status", "=", "in_transfer")], ["run_id"], ["__count"]
            )
        )
        for run in self:
            run.tso_in_transfer_count = counts.get(run, 0)

    def _finish(self, state, reason=None):
        if self.provider == "24so":
            self.integration_id._tso_finish_run(self)
            waiting = (
                self.env["recruitment.sync.run.line"]
                .sudo()
                .search([("run_id", "=", self.id), ("tso_status", "=", "in_transfer")])
            )
            if waiting:
                why = reason or _("the export stopped")
                sending = set(
                    self.env["recruitment.sync.24so.transfer"]
                    .sudo()
                    .search([("move_id", "in", waiting.tso_move_id.ids), ("state", "=", "sending")])
                    .move_id.ids
                )
                for line in waiting:
                    if line.tso_move_id.id in sending:
                        # Sent, no answer: 24SevenOffice may hold it. Never "not sent"; the next
                        # export searches for it and corrects this receipt when it is there.
                        text = _(
                            "Outcome unknown: the export stopped while this invoice was being sent (%s). The next "
                            "export of it checks 24SevenOffice first and shows it exported if 24SevenOffice saved it.",
                            why,
                        )
                    else:
                        text = _("Not sent (the export stopped: %s). Export the invoice again.", why.rstrip("."))
                    line.write({"tso_status": "failed", "action": "failed", "reason": text})
                self.failed_count += len(waiting)
        return super()._finish(state, reason)

    def action_tso_receipt(self):
        self.ensure_one()
        return self.env["account.move"]._tso_receipt_action(self)
