"""Invoices and their ledgers: where each one went (status per integration), one ledger per invoice.

Generic for every accounting connector: a run's results about ``account.move`` records (the
connector's ``ItemResult`` with the move as record) keep, per integration, one status row:
exported (with the remote id and link), queued (a Retry waits for its run) or failed (with the
reason, and an activity for the invoice's responsible user). An invoice exported by one
integration is *held* by it: another integration refuses it (``_sync_ledger_refusals``) until a
Sync manager releases it (``action_sync_release_ledger``, a chatter note says who and when).
"""

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .recruitment_sync_binding import RecruitmentSyncBoundMixin

LEDGER_STATES = [("queued", "Queued"), ("exported", "Exported"), ("failed", "Failed")]
EXPORTED_ACTIONS = ("exported", "updated", "already_exists")
LEDGER_MOVE_TYPES = ("out_invoice", "out_refund")


class RecruitmentSyncMoveStatus(models.Model):
    """Where one invoice stands with one ledger (accounting integration)."""

    _name = "recruitment.sync.move.status"
    _description = "Invoice export status"
    _order = "id"
    _rec_name = "integration_id"

    move_id = fields.Many2one("account.move", required=True, index=True, ondelete="cascade", readonly=True)
    integration_id = fields.Many2one(
        "recruitment.sync.integration", string="Ledger", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    state = fields.Selection(LEDGER_STATES, required=True, readonly=True, index=True)
    reason = fields.Text(readonly=True)
    external_id = fields.Char(string="Remote ID", readonly=True)
    url = fields.Char(string="Link", compute="_compute_url")
    run_id = fields.Many2one("recruitment.sync.run", string="Last run", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("move_integration_unique", "UNIQUE(move_id, integration_id)", "One status per invoice and ledger."),
    ]

    def _compute_url(self):
        for status in self:
            exported = status.state == "exported" and status.external_id
            status.url = exported and status.integration_id.sudo()._provider_record_url(
                status.move_id, status.external_id
            )

    def action_retry(self):
        """Queue the export of this invoice again: the run sends it in the background, never from here."""
        for status in self:
            integration = status.integration_id
            integration._check_can_sync()
            status.move_id.check_access("read")
            status.sudo().write({"state": "queued", "reason": False})
            integration._provider_retry_export(status.move_id)
        return self.integration_id[:1]._notification_action(
            _("Export queued"),
            _("The invoice is exported in the background; its status here follows."),
            "info",
            next_action={"type": "ir.actions.client", "tag": "soft_reload"},
        )


class AccountMove(models.Model):
    _inherit = "account.move"

    # Releasing an invoice from a ledger is not a change of its data.
    _sync_local_change_ignored = RecruitmentSyncBoundMixin._sync_local_change_ignored | {"sync_ledger_released_ids"}

    sync_status_ids = fields.One2many(
        "recruitment.sync.move.status", "move_id", string="Ledgers", groups="recruitment_sync.group_sync_user"
    )
    sync_export_state = fields.Selection(
        [("failed", "Export failed"), ("queued", "Export queued"), ("exported", "Exported")],
        string="Export status",
        compute="_compute_sync_export_state",
        store=True,
        index=True,
        copy=False,
        help="Where the invoice stands with its ledgers: failed when any export failed, queued when an "
        "export waits, exported when every ledger it went to holds it.",
    )
    sync_ledger_released_ids = fields.Many2many(
        "recruitment.sync.integration",
        "recruitment_sync_move_released_rel",
        "move_id",
        "integration_id",
        string="Released from",
        copy=False,
        readonly=True,
        groups="recruitment_sync.group_sync_user",
        help="Ledgers a Sync manager released this invoice from: another ledger may export it.",
    )

    @api.depends("sync_status_ids.state")
    def _compute_sync_export_state(self):
        for move in self:
            states = set(move.sudo().sync_status_ids.mapped("state"))
            order = ("failed", "queued", "exported")
            move.sync_export_state = next((state for state in order if state in states), False)

    # ------------------------------------------------------------------------ one ledger per invoice
    def _sync_ledger_holders(self):
        """{move id: the integrations holding it}: it was exported to them and not released."""
        holders = {}
        if not self.ids:
            return holders
        bindings = (
            self.env["recruitment.sync.binding"]
            .sudo()
            .search([("res_model", "=", "account.move"), ("res_id", "in", self.ids)])
        )
        statuses = (
            self.env["recruitment.sync.move.status"]
            .sudo()
            .search([("move_id", "in", self.ids), ("state", "=", "exported")])
        )
        pairs = [(b.res_id, b.integration_id) for b in bindings] + [(s.move_id.id, s.integration_id) for s in statuses]
        Integration = self.env["recruitment.sync.integration"].sudo()
        released = {move.id: move.sudo().sync_ledger_released_ids for move in self}
        for move_id, integration in pairs:
            if integration not in released.get(move_id, Integration):
                holders[move_id] = holders.get(move_id, Integration) | integration
        return holders

    def _sync_ledger_refusals(self, integration):
        """{move id: reason} of the moves ``integration`` must not export: another ledger holds them.

        Every accounting connector calls this before sending a document (and fails that
        document's line with the reason); a Sync manager may release the invoice first.
        """
        refusals = {}
        for move_id, holders in self._sync_ledger_holders().items():
            others = holders - integration
            if others:
                refusals[move_id] = _(
                    "The invoice is already in another ledger (%(ledger)s): an invoice is exported to one ledger "
                    "only. Export it there, or a Sync manager releases it on the invoice (Release from ledger) to "
                    "export it here.",
                    ledger=", ".join(others.mapped("name")),
                )
        return refusals

    def _sync_ledger_held_elsewhere_domain(self, integration):
        """A domain excluding the moves another ledger holds (for counts of what a run will send)."""
        bound = (
            self.env["recruitment.sync.binding"]
            .sudo()
            .search([("res_model", "=", "account.move"), ("integration_id", "!=", integration.id)])
            .mapped("res_id")
        )
        exported = (
            self.env["recruitment.sync.move.status"]
            .sudo()
            .search([("state", "=", "exported"), ("integration_id", "!=", integration.id)])
            .move_id.ids
        )
        held = self.sudo().browse(set(bound) | set(exported))._sync_ledger_refusals(integration)
        return [("id", "not in", list(held))]

    def action_sync_release_ledger(self):
        """A Sync manager lets another ledger export these invoices (a chatter note says it)."""
        if not self.env.user.has_group("recruitment_sync.group_sync_manager"):
            raise AccessError(_("Only Sync managers can release an invoice from its ledger."))
        holders = self._sync_ledger_holders()
        if not holders:
            raise UserError(_("No ledger holds these invoices."))
        for move in self.filtered(lambda move: move.id in holders):
            ledgers = holders[move.id]
            move.sudo().sync_ledger_released_ids |= ledgers
            move.message_post(
                body=Markup("%s")
                % _(
                    "Released from %(ledger)s by %(user)s: another ledger may export this invoice. It stays in "
                    "%(ledger)s until removed there.",
                    ledger=", ".join(ledgers.mapped("name")),
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    # ------------------------------------------------------------------------ statuses from runs
    @api.model
    def _sync_record_statuses(self, run, results):
        """Keep the status rows of the moves a run reported on: ``results`` is [(kind, ItemResult)]."""
        by_move = {}
        for _kind, result in results:
            record = result.record
            if record and record._name == "account.move" and result.action in (*EXPORTED_ACTIONS, "failed"):
                by_move[record.id] = result  # the last word about the move wins
        if not by_move:
            return
        Status = self.env["recruitment.sync.move.status"].sudo()
        integration = run.integration_id
        existing = {
            status.move_id.id: status
            for status in Status.search([("integration_id", "=", integration.id), ("move_id", "in", list(by_move))])
        }
        new = []
        for move_id, result in by_move.items():
            failed = result.action == "failed"
            values = {
                "state": "failed" if failed else "exported",
                "reason": result.reason if failed else False,
                "run_id": run.id,
            }
            if result.external_id:
                values["external_id"] = result.external_id
            if move_id in existing:
                existing[move_id].write(values)
            else:
                new.append({**values, "move_id": move_id, "integration_id": integration.id})
            if failed:
                self.sudo().browse(move_id)._sync_failure_activity(integration, result.reason, run)
        exported = [move_id for move_id, result in by_move.items() if result.action != "failed"]
        self.sudo().browse(exported)._sync_close_failure_activity(integration)
        if new:
            Status.create(new)
        self.env.flush_all()  # the invoices' export status, before the run's notifications go

    def _sync_activity_summary(self, integration):
        return _("Export to %s failed", integration.name)

    def _sync_failure_activity(self, integration, reason, run):
        """One open to-do on the invoice for its responsible user, updated, never piled up."""
        self.ensure_one()
        summary = self._sync_activity_summary(integration)
        todo = self.env.ref("mail.mail_activity_data_todo")
        existing = self.activity_ids.filtered(lambda a: a.activity_type_id == todo and a.summary == summary)
        if existing:
            existing[:1].note = reason
            return
        user = self.invoice_user_id or integration.responsible_user_id or run.user_id or self.env.user
        self.activity_schedule("mail.mail_activity_data_todo", summary=summary, note=reason, user_id=user.id)

    def _sync_close_failure_activity(self, integration):
        """Close the failure to-dos of these moves (one query for a run's exported moves)."""
        if not self:
            return
        summary = self._sync_activity_summary(integration)
        todo = self.env.ref("mail.mail_activity_data_todo")
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", todo.id),
                    ("summary", "=", summary),
                ]
            )
        )
        if activities:
            activities.action_feedback(feedback=_("Exported to %s.", integration.name))

    @api.model
    def _sync_mark_queued(self, integration, moves):
        """Connectors that queue the export of selected invoices say so here (status *queued*)."""
        Status = self.env["recruitment.sync.move.status"].sudo()
        existing = Status.search([("integration_id", "=", integration.id), ("move_id", "in", moves.ids)])
        existing.write({"state": "queued", "reason": False})
        missing = moves - existing.move_id
        Status.create([{"move_id": move.id, "integration_id": integration.id, "state": "queued"} for move in missing])
