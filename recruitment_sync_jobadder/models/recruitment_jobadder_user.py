from odoo import _, fields, models
from odoo.exceptions import UserError


class RecruitmentJobadderUser(models.Model):
    """A JobAdder user (consultant) and the Odoo user they are paired with.

    Odoo users are never created silently: a sync pairs by email (case-insensitive) when
    exactly one active internal user matches; otherwise the consultant stays *unpaired* or
    *ambiguous* in the pairing view, where a manager links or creates the user.
    """

    _name = "recruitment.jobadder.user"
    _inherit = ["recruitment.sync.remote.user"]
    _description = "JobAdder consultant"
    _order = "name, id"
    _check_company_auto = True
    # Consultants pair by email only: a namesake is not evidence of the same person.
    _pair_by_name = False

    integration_id = fields.Many2one(check_company=True)
    jobadder_id = fields.Integer(string="JobAdder ID", required=True, index=True, aggregator=None)
    name = fields.Char(required=True)
    position = fields.Char()
    inactive = fields.Boolean(help="Inactive or deleted in JobAdder.")
    placement_count = fields.Integer(compute="_compute_placement_count")

    _sql_constraints = [
        ("jobadder_unique", "UNIQUE(integration_id, jobadder_id)", "This JobAdder user is already known."),
    ]

    def _compute_placement_count(self):
        counts = dict(
            self.env["recruitment.placement"]._read_group(
                [("owner_jobadder_user_id", "in", self.ids)], ["owner_jobadder_user_id"], ["__count"]
            )
        )
        for consultant in self:
            consultant.placement_count = counts.get(consultant, 0)

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
