from odoo import _, api, fields, models

from ..services import jobadder


class RecruitmentPlacement(models.Model):
    """A placement made in JobAdder: who was placed where, on what terms, by whom.

    The data flows one way (JobAdder → Odoo). The *placement date* of the load rules is the
    start date for every type (JobAdder has no such field; see doc/JOBADDER_FIELDS.md).
    """

    _name = "recruitment.placement"
    _description = "Placement"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "recruitment.sync.bound.mixin",
        "recruitment.sync.department.mixin",
    ]
    _order = "start_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    integration_id = fields.Many2one("recruitment.sync.integration", index=True, readonly=True, check_company=True)
    jobadder_id = fields.Integer(string="JobAdder ID", index=True, readonly=True, copy=False, aggregator=None)
    jobadder_url = fields.Char(string="Open in JobAdder", compute="_compute_jobadder_url")
    job_title = fields.Char(tracking=True)
    placement_type = fields.Selection(
        [("permanent", "Permanent"), ("contract", "Contract"), ("temporary", "Temporary"), ("credit", "Credit")],
        string="Type",
        tracking=True,
    )
    jobadder_status = fields.Char(string="JobAdder status", tracking=True)
    approved = fields.Boolean(tracking=True)
    approved_at = fields.Datetime()
    start_date = fields.Date(tracking=True)
    end_date = fields.Date(tracking=True)
    jobadder_data_note = fields.Char(
        string="JobAdder data note",
        readonly=True,
        help="An inconsistency in JobAdder's data that did not block the import (e.g. a Permanent "
        "placement's end date before its start date): correct it in JobAdder.",
    )
    placement_date = fields.Date(
        compute="_compute_placement_date",
        store=True,
        help="The date the load rules use: the start date (JobAdder has no placement-date field).",
    )
    is_ended = fields.Boolean(string="Ended", compute="_compute_is_ended", search="_search_is_ended")
    candidate_id = fields.Many2one("res.partner", index=True, tracking=True)
    client_id = fields.Many2one("res.partner", index=True, tracking=True)
    client_contact_id = fields.Many2one("res.partner", string="Client contact")
    owner_jobadder_user_id = fields.Many2one("recruitment.jobadder.user", string="Owner (JobAdder)")
    owner_user_id = fields.Many2one(
        "res.users", string="Owner consultant", related="owner_jobadder_user_id.user_id", store=True, index=True
    )
    recruiter_ids = fields.One2many("recruitment.placement.recruiter", "placement_id", string="Recruiters")
    fee_split_type = fields.Selection([("fixed", "Fixed"), ("percent", "Percent")], string="Fee split in")
    currency_id = fields.Many2one(
        "res.currency",
        string="Charge currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    salary = fields.Monetary(help="Base salary (permanent placements).")
    fee = fields.Monetary(help="Placement fee (permanent placements).")
    rate_per = fields.Selection([("hour", "Hour"), ("day", "Day"), ("week", "Week"), ("month", "Month")])
    client_rate = fields.Monetary(string="Charge rate", help="What the client pays per period.")
    candidate_rate = fields.Monetary(string="Pay rate", help="What the candidate is paid per period.")
    hours_per_week = fields.Float()
    days_per_week = fields.Float()
    rate_line_ids = fields.One2many("recruitment.placement.rate", "placement_id", string="Rate lines")
    billing_email = fields.Char()
    billing_order_ref = fields.Char(string="Order reference")
    billing_terms = fields.Char(string="Payment terms")
    department_id = fields.Many2one(help="The owner consultant's department (through their employee); editable.")

    _sql_constraints = [
        (
            "jobadder_unique",
            "UNIQUE(integration_id, jobadder_id)",
            "This JobAdder placement is already in Odoo.",
        ),
    ]

    @api.depends("jobadder_id", "job_title", "candidate_id")
    def _compute_name(self):
        for placement in self:
            parts = [f"P{placement.jobadder_id}" if placement.jobadder_id else _("New placement")]
            parts += [part for part in (placement.job_title, placement.candidate_id.name) if part]
            placement.name = " – ".join(parts)

    @api.depends("start_date")
    def _compute_placement_date(self):
        for placement in self:
            placement.placement_date = placement.start_date

    @api.depends("end_date")
    def _compute_is_ended(self):
        today = fields.Date.context_today(self)
        for placement in self:
            placement.is_ended = bool(placement.end_date and placement.end_date < today)

    def _search_is_ended(self, operator, value):
        today = fields.Date.context_today(self)
        ended = [("end_date", "!=", False), ("end_date", "<", today)]
        if (operator == "=") == bool(value):
            return ended
        return ["|", ("end_date", "=", False), ("end_date", ">=", today)]

    @api.depends("owner_user_id", "company_id")
    def _compute_department_id(self):
        for placement in self:
            employees = placement.owner_user_id.employee_ids.filtered(
                lambda employee, placement=placement: employee.company_id == placement.company_id
            )
            placement.department_id = employees[:1].department_id or placement.department_id

    @api.depends("jobadder_id", "integration_id")
    def _compute_jobadder_url(self):
        for placement in self:
            template = placement.integration_id.sudo().jobadder_app_url or jobadder.APP_PLACEMENT_URL
            placement.jobadder_url = (
                template.format(placement_id=placement.jobadder_id) if placement.jobadder_id else False
            )

    def action_open_in_jobadder(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.jobadder_url, "target": "new"}

    def action_sync_jobadder(self):
        """Sync JobAdder (Placements screen): the confirmation of the company's JobAdder integration.

        Not ``@api.model``: a list header button sends the selected ids (maybe none) as first argument.
        """
        integrations = self.env["recruitment.sync.integration"].search(
            [("provider", "=", "jobadder"), ("company_id", "=", self.env.company.id)]
        )
        connected = integrations.filtered(lambda integration: integration.state == "connected")
        if not connected:
            return self.env["recruitment.sync.integration"]._notification_action(
                _("JobAdder is not connected"),
                _("Connect it in Invoicing > Integrations > Integrations (JobAdder), then sync again.")
                if self.env.user.has_group("base.group_system")
                else _("Ask a System Administrator to connect JobAdder in Invoicing > Integrations."),
                "warning",
            )
        return connected[:1].action_sync_now()


class RecruitmentPlacementRecruiter(models.Model):
    _name = "recruitment.placement.recruiter"
    _description = "Placement recruiter and fee split"
    _order = "placement_id, sequence, id"

    placement_id = fields.Many2one("recruitment.placement", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    jobadder_user_id = fields.Many2one("recruitment.jobadder.user", string="Recruiter (JobAdder)")
    user_id = fields.Many2one("res.users", related="jobadder_user_id.user_id", string="Consultant")
    fee_split = fields.Float(help="Share of the fee: an amount or a percentage, as the placement says.")


class RecruitmentPlacementRate(models.Model):
    _name = "recruitment.placement.rate"
    _description = "Placement rate line"
    _order = "placement_id, sequence, id"

    placement_id = fields.Many2one("recruitment.placement", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True)
    rate_type = fields.Char(string="Type")
    is_default = fields.Boolean(string="Default")
    currency_id = fields.Many2one("res.currency", required=True)
    pay_rate = fields.Monetary()
    charge_rate = fields.Monetary()
