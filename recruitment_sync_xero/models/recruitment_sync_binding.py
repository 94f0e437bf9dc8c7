from odoo import fields, models


class RecruitmentSyncBinding(models.Model):
    """What an export to Xero remembers of a document besides its id."""

    _inherit = "recruitment.sync.binding"

    xero_status = fields.Char(string="Xero status", readonly=True, help="The document's status in Xero when last seen.")
    xero_number = fields.Char(string="Xero number", readonly=True)
