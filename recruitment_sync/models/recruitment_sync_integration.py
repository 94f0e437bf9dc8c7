from odoo import api, fields, models


class RecruitmentSyncIntegration(models.Model):
    """One connection between this Odoo company and a remote system.

    The provider selection is extended by each connector addon (the payment-provider
    pattern): ``selection_add=[('xero', "Xero")]`` with ``ondelete={'xero': 'set default'}``,
    so uninstalling a connector resets its integrations to "none" instead of deleting them
    and their history.
    """

    _name = "recruitment.sync.integration"
    _description = "Sync Integration"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    provider = fields.Selection(
        selection=[("none", "No provider set"), ("jobadder", "JobAdder")],
        default="none",
        required=True,
        tracking=True,
        help="The remote system this integration talks to.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    state = fields.Selection(
        selection=[
            ("not_connected", "Not connected"),
            ("connected", "Connected"),
            ("needs_reconnect", "Needs reconnect"),
            ("disconnected", "Disconnected"),
        ],
        default="not_connected",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Receives an activity when a sync fails or the connection needs attention.",
    )

    @api.depends("name", "provider")
    def _compute_display_name(self):
        labels = dict(self._fields["provider"]._description_selection(self.env))
        for integration in self:
            provider = labels.get(integration.provider)
            if provider and provider not in (integration.name or ""):
                integration.display_name = f"{integration.name} ({provider})"
            else:
                integration.display_name = integration.name
