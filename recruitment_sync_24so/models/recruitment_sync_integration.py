from odoo import fields, models


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    provider = fields.Selection(
        selection_add=[("24so", "24SevenOffice")],
        ondelete={"24so": "set default"},
    )
