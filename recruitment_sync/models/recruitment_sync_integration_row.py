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


class RecruitmentSyncRemoteRow(models.AbstractModel):
    """An integration row that stands for one record of the remote system (its departments, users,
    mapping entries), listed once per integration under that system's id (``remote_id``).

    Connectors name the column for their users, e.g. ``remote_id = fields.Char(string="InvoiceOcean ID")``.
    """

    _name = "recruitment.sync.remote.row"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "Record of the remote system"
    _order = "name, id"

    remote_id = fields.Char(string="Remote ID", required=True, readonly=True, index=True)
    name = fields.Char(readonly=True)

    _sql_constraints = [
        ("remote_id_unique", "UNIQUE(integration_id, remote_id)", "This record is already listed for the integration.")
    ]
