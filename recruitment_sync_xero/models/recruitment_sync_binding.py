from odoo import fields, models


class RecruitmentSyncBinding(models.Model):
    """What an export to Xero remembers of a document besides its id."""

    _inherit = "recruitment.sync.binding"

    xero_status = fields.Char(string="Xero status", readonly=True, help="The document's status in Xero when last seen.")
    xero_number = fields.Char(string="Xero number", readonly=True)
    xero_content_hash = fields.Char(
        string="Exported version",
        readonly=True,
        help="Fingerprint of what was last sent: a document reposted unchanged is not sent again.",
    )
    xero_refused_hash = fields.Char(
        string="Refused version",
        readonly=True,
        help="Fingerprint of a change Xero could not take (the document was paid or voided there): "
        "reported once, not at every sync.",
    )
