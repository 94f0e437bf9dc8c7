from odoo import fields, models


class RecruitmentSyncBinding(models.Model):
    """What an export to QuickBooks remembers of a document besides its id."""

    _inherit = "recruitment.sync.binding"

    qbo_sync_token = fields.Char(
        string="SyncToken", readonly=True, help="QuickBooks' version of the record when last seen."
    )
    qbo_doc_number = fields.Char(string="QuickBooks number", readonly=True)
    qbo_content_hash = fields.Char(
        string="Exported version (QuickBooks)",
        readonly=True,
        help="Fingerprint of what was last sent: a document reposted unchanged is not sent again.",
    )
    qbo_refused_hash = fields.Char(
        string="Refused version (QuickBooks)",
        readonly=True,
        help="Fingerprint of a change QuickBooks could not take (paid or voided there): reported once.",
    )
