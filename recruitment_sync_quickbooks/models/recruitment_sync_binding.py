from odoo import fields, models


class RecruitmentSyncBinding(models.Model):
    """What an export to QuickBooks remembers of a document besides its id."""

    _inherit = "recruitment.sync.binding"

    qbo_sync_token = fields.Char(
        string="SyncToken", readonly=True, help="QuickBooks' version of the record when last seen."
    )
    qbo_doc_number = fields.Char(string="QuickBooks number", readonly=True)
