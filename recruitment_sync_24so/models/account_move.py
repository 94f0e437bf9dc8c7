import psycopg2

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.recruitment_sync.models.recruitment_sync_run import ADVISORY_LOCK_NAMESPACE

from .recruitment_sync_integration import INVOICES
from .recruitment_sync_run import TSO_STATUSES

EXPORTABLE_TYPES = ("out_invoice", "out_refund")
# How long Export waits while the runner is sending this integration's invoices.
QUEUE_LOCK_TIMEOUT = "20s"


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
                .search([("tso_move_id", "in", moves.ids), ("tso_status", "!=", False)], order="id")
            ):
                lines[line.tso_move_id.id] = line
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
        action = self.env["ir.actions.actions"]._for_xml_id("recruitment_sync_24so.recruitment_sync_24so_receipt_action")
        action["domain"] = [("run_id", "in", runs.ids), ("kind", "=", INVOICES.code)]
        action["context"] = {"create": False, "tso_receipt_run_ids": runs.ids}
        return action


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    def _tso_queue_export(self, moves, ineligible=None):
        """Queue (or join) the export run of these invoices; their lines are *in transfer* at once."""
        self.ensure_one()
        self._tso_wait_for_runner()
        run, _created = self._queue_run("manual", kinds=[INVOICES.code], user=self.env.user, direction="export")
        Line = self.env["recruitment.sync.run.line"].sudo()
        queued = Line.search(
            [("run_id", "=", run.id), ("tso_move_id", "in", moves.ids), ("tso_status", "=", "in_transfer")]
        ).tso_move_id
        # Invoices before credit notes (a credit note refers to its invoice's OrderId).
        ordered = (moves - queued).sorted(
            lambda move: (move.move_type != "out_invoice", move.invoice_date or fields.Date.today(), move.name, move.id)
        )
        values = [self._tso_line_values(run, move, "in_transfer") for move in ordered]
        values += [
            dict(
                self._tso_line_values(run, move, "failed"),
                reason=_("Only posted customer invoices and credit notes can be exported to 24SevenOffice."),
            )
            for move in ineligible or []
        ]
        Line.create(values)
        if ineligible:
            run.sudo().failed_count += len(ineligible)
        return run

    def _tso_line_values(self, run, move, status):
        return {
            "run_id": run.id,
            "kind": INVOICES.code,
            "action": "in_transfer" if status == "in_transfer" else "failed",
            "tso_status": status,
            "res_model": "account.move",
            "res_id": move.id,
            "tso_move_id": move.id,
            "name": move.name,
        }

    def _tso_wait_for_runner(self):
        """Wait (a little) while the runner works on this integration, so a run never ends with lines
        added after its last batch: the runner holds the integration's advisory lock while it runs."""
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(f"SET LOCAL lock_timeout = '{QUEUE_LOCK_TIMEOUT}'")
                cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, self.id])
        except psycopg2.errors.LockNotAvailable as error:
            raise UserError(
                _("An export to 24SevenOffice is being sent right now: export these invoices again in a minute.")
            ) from error
        cr.execute("SET LOCAL lock_timeout = DEFAULT")
