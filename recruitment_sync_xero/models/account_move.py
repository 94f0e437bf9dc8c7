from odoo import _, fields, models
from odoo.exceptions import UserError

from ..services import xero

XERO_DOCUMENT_TYPES = {"out_invoice": "invoice", "out_refund": "credit_note"}


class AccountMove(models.Model):
    _inherit = "account.move"

    xero_id = fields.Char(string="Xero ID", compute="_compute_xero", compute_sudo=True)
    xero_status = fields.Char(string="Status in Xero", compute="_compute_xero", compute_sudo=True)
    xero_url = fields.Char(string="Xero link", compute="_compute_xero", compute_sudo=True)

    def _compute_xero(self):
        documents = self.filtered(lambda move: move.move_type in XERO_DOCUMENT_TYPES and move.id)
        bindings = self.env["recruitment.sync.binding"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", documents.ids),
                ("external_model", "in", list(XERO_DOCUMENT_TYPES.values())),
                ("integration_id.provider", "=", "xero"),
            ]
        )
        by_move = {binding.res_id: binding for binding in bindings}
        for move in self:
            binding = by_move.get(move.id)
            move.xero_id = binding.external_id if binding else False
            move.xero_status = binding.xero_status if binding else False
            move.xero_url = (
                xero.deep_link(
                    binding.external_model,
                    binding.external_id,
                    binding.integration_id.xero_short_code,
                    binding.integration_id.sudo().xero_app_url,
                )
                if binding
                else False
            )

    def action_view_in_xero(self):
        self.ensure_one()
        if not self.xero_url:
            raise UserError(_("%s is not in Xero yet.", self.display_name))
        return {"type": "ir.actions.act_url", "url": self.xero_url, "target": "new"}
