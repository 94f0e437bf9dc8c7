from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RecruitmentJobadderUser(models.Model):
    """A JobAdder user (consultant) and the Odoo user they are paired with.

    Odoo users are never created silently: a sync pairs by email (case-insensitive) when
    exactly one active internal user matches; otherwise the consultant stays *unpaired* or
    *ambiguous* in the pairing view, where a manager links or creates the user.
    """

    _name = "recruitment.jobadder.user"
    _description = "JobAdder consultant"
    _order = "name, id"
    _check_company_auto = True

    integration_id = fields.Many2one(
        "recruitment.sync.integration", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)
    jobadder_id = fields.Integer(string="JobAdder ID", required=True, index=True, aggregator=None)
    name = fields.Char(required=True)
    email = fields.Char()
    position = fields.Char()
    inactive = fields.Boolean(help="Inactive or deleted in JobAdder.")
    user_id = fields.Many2one("res.users", string="Odoo user", index=True, domain=[("share", "=", False)])
    pairing_state = fields.Selection(
        [("paired", "Paired"), ("unpaired", "Unpaired"), ("ambiguous", "Ambiguous")],
        compute="_compute_pairing_state",
        store=True,
    )
    candidate_user_ids = fields.Many2many(
        "res.users", compute="_compute_candidate_user_ids", string="Matching Odoo users"
    )
    placement_count = fields.Integer(compute="_compute_placement_count")

    _sql_constraints = [
        ("jobadder_unique", "UNIQUE(integration_id, jobadder_id)", "This JobAdder user is already known."),
    ]

    def _matching_users(self):
        self.ensure_one()
        if not self.email:
            return self.env["res.users"]
        return self.env["res.users"].sudo().search([("share", "=", False), ("email", "=ilike", self.email.strip())])

    @api.depends("email")
    def _compute_candidate_user_ids(self):
        for consultant in self:
            consultant.candidate_user_ids = consultant._matching_users()

    @api.depends("user_id", "email")
    def _compute_pairing_state(self):
        for consultant in self:
            matches = consultant._matching_users()
            if consultant.user_id:
                consultant.pairing_state = "paired"
            else:
                consultant.pairing_state = "ambiguous" if len(matches) > 1 else "unpaired"

    def _compute_placement_count(self):
        counts = dict(
            self.env["recruitment.placement"]._read_group(
                [("owner_jobadder_user_id", "in", self.ids)], ["owner_jobadder_user_id"], ["__count"]
            )
        )
        for consultant in self:
            consultant.placement_count = counts.get(consultant, 0)

    def _auto_pair(self):
        """Pair by email where exactly one Odoo user matches (never creates a user)."""
        for consultant in self.filtered(lambda c: not c.user_id):
            matches = consultant._matching_users()
            if len(matches) == 1:
                consultant.user_id = matches

    def action_link(self):
        """Link the only matching Odoo user, or open the form to choose one."""
        self.ensure_one()
        matches = self._matching_users()
        if len(matches) == 1:
            self.user_id = matches
            return True
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Link %s to an Odoo user", self.name),
        }

    def _send_invitation(self, user):
        """Odoo's invitation to a new user (auth_signup's "set your password" email with a signup
        link), queued with the outgoing mail rather than sent inside the user's transaction: a mail
        server that does not answer never undoes the user."""
        user.partner_id.signup_prepare(signup_type="signup")
        template = self.env.ref("auth_signup.set_password_email")
        template.sudo().send_mail(
            user.id,
            force_send=False,
            email_values={
                "email_to": user.email,
                "email_cc": False,
                "recipient_ids": [],
                "partner_ids": [],
                "auto_delete": True,
                "message_type": "user_notification",
                "scheduled_date": False,
            },
        )

    def action_create_user(self):
        """Create an internal Odoo user for this consultant (on request, never by a sync)."""
        self.ensure_one()
        if self.user_id:
            raise UserError(
                _("%(consultant)s is already paired with %(user)s.", consultant=self.name, user=self.user_id.name)
            )
        if not self.email:
            raise UserError(_("%s has no email in JobAdder: create the user by hand and link it.", self.name))
        if self._matching_users():
            raise UserError(_("An Odoo user with the email %s exists: link it instead.", self.email))
        user = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": self.name,
                    "login": self.email.strip().lower(),
                    "email": self.email.strip(),
                    "company_id": self.company_id.id,
                    "company_ids": [fields.Command.link(self.company_id.id)],
                }
            )
        )
        self.user_id = user
        self._send_invitation(user)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("User created"),
                "message": _(
                    "%(user)s can now use Odoo: an invitation to choose a password was sent to %(email)s.",
                    user=user.name,
                    email=user.email,
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
