from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from .recruitment_sync_integration import INVOICES
from .recruitment_sync_run import TSO_STATUSES

EXPORTABLE_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _inherit = "account.move"

    tso_status = fields.Selection(TSO_STATUSES, string="24SevenOffice", compute="_compute_tso_status")
    tso_invoice_number = fields.Char(string="24SevenOffice invoice", compute="_compute_tso_status")
    tso_reason = fields.Text(string="24SevenOffice remark", compute="_compute_tso_status")

    def _compute_tso_status(self):
        """The invoice in 24SevenOffice (exported, its number), else its last export's outcome."""
        moves = self.filtered("id")
        transfers = {}
        lines = {}
        if moves:
            for transfer in (
                self.env["recruitment.sync.24so.transfer"]
                .sudo()
                .search([("move_id", "in", moves.ids), ("state", "=", "saved")], order="id")
            ):
                transfers[transfer.move_id.id] = transfer
            for line in (
                self.env["recruitment.sync.run.line"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", "account.move"),
                        ("res_id", "in", moves.ids),
                        ("kind", "=", INVOICES.code),
                        ("integration_id.provider", "=", "24so"),
                    ],
                    order="id",
                )
            ):
                lines[line.res_id] = line
        for move in self:
            transfer = transfers.get(move.id)
            line = lines.get(move.id)
            if transfer:
                move.tso_status = "exported"
                move.tso_invoice_number = transfer.invoice_number or False
                move.tso_reason = False
            else:
                move.tso_status = line.tso_status if line else False
                move.tso_invoice_number = False
                move.tso_reason = line.reason if line else False

    # ------------------------------------------------------------------------ export
    def action_tso_export(self):
        """*Export to 24SevenOffice* (invoice list): queue the export, open its receipt.

        Nothing is sent from here: the run's lines are created *in transfer* and the core's
        runner exports them in the background.
        """
        if not self.env.user.has_group("recruitment_sync.group_sync_user"):
            raise AccessError(_("Only sync users can export invoices to 24SevenOffice."))
        self.check_access("read")
        eligible = self.filtered(lambda move: move.move_type in EXPORTABLE_TYPES and move.state == "posted")
        if not eligible:
            raise UserError(
                _("Select posted customer invoices or credit notes: only those can be exported to 24SevenOffice.")
            )
        Integration = self.env["recruitment.sync.integration"].sudo()
        runs = self.env["recruitment.sync.run"]
        ineligible = self - eligible
        for company in eligible.company_id:
            moves = eligible.filtered(lambda move, company=company: move.company_id == company)
            integrations = Integration.search(
                [("provider", "=", "24so"), ("company_id", "=", company.id), ("state", "=", "connected")]
            )
            if not integrations:
                if self.env.user.has_group("base.group_system"):
                    raise UserError(
                        _(
                            "24SevenOffice is not activated for %s: connect it in Invoicing > Integrations > "
                            "24SevenOffice.",
                            company.name,
                        )
                    )
                raise UserError(
                    _(
                        "24SevenOffice is not activated for %s: ask a System Administrator to activate it.",
                        company.name,
                    )
                )
            logins = {integration: integration._tso_credentials_by_department() for integration in integrations}
            targets = {}
            for move in moves:
                served = [
                    integration
                    for integration in integrations
                    if integration._tso_credential_for(move.department_id, logins[integration])
                ]
                integration = served[0] if served else integrations[0]
                targets.setdefault(integration, self.browse())
                targets[integration] |= move
            for integration, its_moves in targets.items():
                runs |= integration._tso_queue_export(its_moves, ineligible)
                ineligible = self.browse()
        return self._tso_receipt_action(runs)

    def _tso_receipt_action(self, runs):
        action = self.env["ir.actions.actions"]._for_xml_id(
            "recruitment_sync_24so.recruitment_sync_24so_receipt_action"
        )
        action["domain"] = [("run_id", "in", runs.ids), ("kind", "=", INVOICES.code)]
        action["context"] = {"create": False, "tso_receipt_run_ids": runs.ids}
        return action
