from odoo import fields, models


class RecruitmentSyncIntegrationRow(models.AbstractModel):
    """A row that belongs to one integration and goes with it (mapping tables, remote lists).

    Connectors inherit it and narrow the choice to their provider, e.g.
    ``integration_id = fields.Many2one(domain=[("provider", "=", "xero")])``.
    """

    _name = "recruitment.sync.integration.row"
    _description = "Row of an integration"

    integration_id = fields.Many2one(
        "recruitment.sync.integration",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)
