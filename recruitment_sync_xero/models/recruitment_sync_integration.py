from odoo import fields, models


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    provider = fields.Selection(
        selection_add=[("xero", "Xero")],
        ondelete={"xero": "set default"},
    )
