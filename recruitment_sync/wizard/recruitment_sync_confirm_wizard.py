import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.recruitment_sync_integration import INTERACTIVE_CONTEXT
from ..models.recruitment_sync_run import kind_label
from ..services.http_client import SyncError

_logger = logging.getLogger(__name__)


class RecruitmentSyncConfirmWizard(models.TransientModel):
    """Confirmation before a manual sync: what is about to be synced, and how many."""

    _name = "recruitment.sync.confirm.wizard"
    _description = "Confirm Sync"

    integration_id = fields.Many2one("recruitment.sync.integration", required=True, readonly=True)
    line_ids = fields.One2many("recruitment.sync.confirm.wizard.line", "wizard_id", string="To sync")
    warning = fields.Text(readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        integration = self.env["recruitment.sync.integration"].browse(values.get("integration_id"))
        if integration and "line_ids" in fields_list:
            integration._check_can_sync()
            lines = []
            counting = integration.with_context(**{INTERACTIVE_CONTEXT: True})
            for kind in integration._provider_sync_kinds():
                count = self._count(counting, kind)
                lines.append(
                    fields.Command.create(
                        {
                            "kind": kind.code,
                            "label": kind_label(self.env, kind),
                            "direction": kind.direction,
                            "count": count if count is not None else -1,
                            "selected": True,
                        }
                    )
                )
            values["line_ids"] = lines
        return values

    @api.model
    def _count(self, integration, kind):
        """The provider's count, or None (unknown) when the remote system did not answer at once, or
        cannot be asked yet (a ``UserError``: e.g. no organisation chosen)."""
        try:
            return integration._provider_count(kind)
        except (SyncError, UserError) as error:
            _logger.info("%s: %s not counted: %s", integration.name, kind.code, error)
            return None

    def action_proceed(self):
        self.ensure_one()
        integration = self.integration_id
        integration._check_can_sync()
        kinds = self.line_ids.filtered("selected").mapped("kind")
        if not kinds:
            return integration._notification_action(
                _("Nothing to sync"), _("Select at least one kind of record."), "warning"
            )
        run, created = integration._queue_run("manual", kinds=kinds)
        if not created:
            return integration._notification_action(
                _("Already in progress"),
                _(
                    "A sync of %s is already queued or running; it will include the latest changes.",
                    integration.name,
                ),
                "warning",
            )
        return integration._notification_action(
            _("Sync queued"),
            _(
                "%s syncs in the background; you can keep working. You will be notified when it ends.",
                integration.name,
            ),
            "info",
            next_action={"type": "ir.actions.act_window_close"},
        )


class RecruitmentSyncConfirmWizardLine(models.TransientModel):
    _name = "recruitment.sync.confirm.wizard.line"
    _description = "Confirm Sync: a kind of record"

    wizard_id = fields.Many2one("recruitment.sync.confirm.wizard", required=True, ondelete="cascade")
    selected = fields.Boolean(default=True, string="Sync")
    kind = fields.Char(required=True)
    label = fields.Char(string="Records", readonly=True)
    direction = fields.Selection([("import", "Into Odoo"), ("export", "Out of Odoo")], readonly=True)
    count = fields.Integer(readonly=True, help="-1: the remote system cannot count them in advance.")
    count_display = fields.Char(string="How many", compute="_compute_count_display")

    @api.depends("count")
    def _compute_count_display(self):
        for line in self:
            line.count_display = str(line.count) if line.count >= 0 else _("unknown")
