import contextlib
import datetime
import logging
import math
import time

from markupsafe import Markup

from odoo import _, api, fields, models, modules, tools
from odoo.exceptions import UserError, ValidationError

from ..services.http_client import AuthError, RetryableError, SyncError
from ..services.provider import ItemResult

_logger = logging.getLogger(__name__)

# Key space of the session-level advisory locks that keep two runs of one integration
# from overlapping (the second key is the integration id). A crashed worker's connection
# closes, which releases its lock: that is how an interrupted run is recognised.
ADVISORY_LOCK_NAMESPACE = 482_117_301

RUN_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("done_errors", "Done with errors"),
    ("failed", "Failed"),
]
LINE_ACTIONS = [
    ("created", "Created"),
    ("updated", "Updated"),
    ("skipped", "Skipped"),
    ("exported", "Exported"),
    ("already_exists", "Already exists"),
    ("failed", "Failed"),
]
COUNTED_ACTIONS = {
    "created": "created_count",
    "updated": "updated_count",
    "skipped": "skipped_count",
    "exported": "exported_count",
    "already_exists": "skipped_count",
    "failed": "failed_count",
}


def can_commit():
    """Commit only in real cron runs, never inside a test (as ``account.move._can_commit``)."""
    return not tools.config["test_enable"] and not modules.module.current_test


def describe_error(env, error):
    """A reason a user can act on, for a history line or a failed run."""
    if isinstance(error, UserError | ValidationError | SyncError):
        return str(error.args[0] if error.args else error)
    if isinstance(error, KeyError):
        return env._("Required field %s is missing from the remote record.", error.args[0])
    if isinstance(error, TypeError | ValueError):
        return env._("Invalid value in the remote record: %s", error)
    return f"{type(error).__name__}: {error}"


class RecruitmentSyncRun(models.Model):
    """One sync attempt of an integration: the sync history.

    Runs are queued by Sync now, the schedule or a connector (initial load, webhook) and
    executed in the background by the ``ir_cron_process_runs`` scheduled action.
    """

    _name = "recruitment.sync.run"
    _description = "Sync Run"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    integration_id = fields.Many2one(
        "recruitment.sync.integration",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)
    provider = fields.Selection(related="integration_id.provider", store=True)
    trigger = fields.Selection(
        selection=[
            ("manual", "Manual"),
            ("scheduled", "Scheduled"),
            ("initial_load", "Initial load"),
            ("webhook", "Webhook"),
        ],
        required=True,
        default="manual",
        readonly=True,
    )
    direction = fields.Selection(
        selection=[("import", "Import"), ("export", "Export"), ("both", "Import and export")],
        default="both",
        readonly=True,
    )
    kinds = fields.Json(readonly=True, help="Codes of the kinds of record this run processes; empty: all.")
    kinds_done = fields.Json(readonly=True, copy=False)
    user_id = fields.Many2one("res.users", string="Started by", readonly=True, default=lambda self: self.env.user)
    state = fields.Selection(RUN_STATES, default="queued", required=True, readonly=True, tracking=True, index=True)
    continuation_pending = fields.Boolean(
        readonly=True,
        help="The runner paused this run on purpose (its time budget was spent); it goes on at the next pass.",
    )
    resume_at = fields.Datetime(
        string="Paused until",
        readonly=True,
        copy=False,
        help="The remote system asked us to wait (e.g. its daily request limit is used up): the run goes on "
        "by itself at this time, from its last committed batch.",
    )
    pause_reason = fields.Char(readonly=True, copy=False)
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
    duration = fields.Float(compute="_compute_duration", string="Duration (s)")
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    skipped_count = fields.Integer(string="Skipped", readonly=True)
    exported_count = fields.Integer(string="Exported", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True)
    summary = fields.Text(readonly=True)
    line_ids = fields.One2many("recruitment.sync.run.line", "run_id", string="Lines", readonly=True)
    line_count = fields.Integer(compute="_compute_line_count")

    def init(self):
        # The last guard against two active runs of one integration (see _queue_for).
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS recruitment_sync_run_one_active
               ON recruitment_sync_run (integration_id) WHERE state IN ('queued', 'running')"""
        )

    # ------------------------------------------------------------------------ computes
    @api.depends("integration_id", "started_at", "create_date")
    def _compute_display_name(self):
        for run in self:
            when = run.started_at or run.create_date
            stamp = fields.Datetime.context_timestamp(run, when).strftime("%Y-%m-%d %H:%M") if when else ""
            run.display_name = f"{run.integration_id.name} {stamp}".strip()

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        for run in self:
            if run.started_at and run.ended_at:
                run.duration = (run.ended_at - run.started_at).total_seconds()
            else:
                run.duration = 0.0

    def _compute_line_count(self):
        counts = dict(
            self.env["recruitment.sync.run.line"]._read_group([("run_id", "in", self.ids)], ["run_id"], ["__count"])
        )
        for run in self:
            run.line_count = counts.get(run, 0)

    # ------------------------------------------------------------------------ queueing
    @api.model
    def _queue_for(self, integration, trigger, kinds=None, user=None, direction=None):
        """Queue a run of ``integration`` unless one is queued or running: (run, created).

        Writing the integration row first serialises concurrent requests: the second
        transaction fails with a serialization error, Odoo retries it, and the retry sees
        the first one's run. The partial unique index is the last guard.
        """
        integration = integration.sudo()
        integration.flush_recordset()
        self.env.cr.execute(
            "UPDATE recruitment_sync_integration SET write_date = write_date WHERE id = %s", [integration.id]
        )
        active = self.sudo().search(
            [("integration_id", "=", integration.id), ("state", "in", ("queued", "running"))], limit=1
        )
        if active:
            return active, False
        run = self.sudo().create(
            {
                "integration_id": integration.id,
                "trigger": trigger,
                "kinds": list(kinds) if kinds else False,
                "user_id": (user or self.env.user).id,
                "direction": direction or "both",
            }
        )
        self.env.ref("recruitment_sync.ir_cron_process_runs")._trigger()
        return run, True

    # ------------------------------------------------------------------------ runner
    @api.model
    def _cron_process_runs(self, time_budget=None):
        """Execute queued runs, one integration at a time under its advisory lock.

        Each run processes batches until its time budget is spent, then reports progress
        so the cron runner calls again (Odoo 18 cron progress) and the run continues.
        """
        if time_budget is None:
            time_budget = int(self.env["ir.config_parameter"].sudo().get_param("recruitment_sync.run_time_budget", 60))
        deadline = time.monotonic() + time_budget
        pending = self.search([("state", "in", ("queued", "running"))], order="id")
        done = remaining = 0
        for integration in pending.integration_id:
            with self._integration_lock(integration) as locked:
                if not locked:
                    remaining += 1  # another worker is on it
                    continue
                self._fail_interrupted(integration)
                run = self.search(
                    [("integration_id", "=", integration.id), ("state", "in", ("queued", "running"))],
                    order="id",
                    limit=1,
                )
                if not run:
                    continue
                if run.resume_at and run.resume_at > fields.Datetime.now():
                    continue  # paused: the cron is triggered for its resume time
                if run._execute(deadline):
                    done += 1
                else:
                    remaining += 1
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return remaining

    @contextlib.contextmanager
    def _integration_lock(self, integration):
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, integration.id])
        locked = cr.fetchone()[0]
        try:
            yield locked
        finally:
            if locked:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, integration.id])

    def _fail_interrupted(self, integration):
        """A run still *running* while we hold its integration's lock lost its worker."""
        stale = self.search(
            [
                ("integration_id", "=", integration.id),
                ("state", "=", "running"),
                ("continuation_pending", "=", False),
            ]
        )
        for run in stale:
            run._finish(
                "failed",
                _(
                    "The run was interrupted (its worker stopped). Records of committed batches are kept; "
                    "the next run resumes from the last committed checkpoint."
                ),
            )
            self._commit()

    def _commit(self):
        """Commit a finished batch: only the runner (a cron entry point) calls this."""
        if can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _execute(self, deadline):
        """Process batches of this run until it ends (True) or the deadline passes (False)."""
        self.ensure_one()
        integration = self.integration_id
        if self.state == "queued":
            self.write({"state": "running", "started_at": fields.Datetime.now(), "continuation_pending": False})
        else:
            self.write({"continuation_pending": False, "resume_at": False, "pause_reason": False})
        self._commit()
        try:
            for kind in self._kinds_to_process():
                while True:
                    if time.monotonic() > deadline:
                        self.continuation_pending = True
                        self._commit()
                        return False
                    if self._run_batch(kind):
                        self.kinds_done = [*(self.kinds_done or []), kind.code]
                        self._commit()
                        break
        except AuthError as error:
            self._rollback_batch()
            integration._notify_connection_problem(
                _("%(name)s needs to be reconnected: %(reason)s", name=integration.name, reason=error)
            )
            self._finish("failed", describe_error(self.env, error))
            return True
        except RetryableError as error:
            if not error.retry_after:
                self._rollback_batch()
                self._finish("failed", describe_error(self.env, error))
                return True
            # The remote system set a wait longer than is worth sleeping for (a daily limit):
            # rather than failing every remaining item, the run waits and resumes by itself.
            self._rollback_batch()
            self._pause(error.retry_after, describe_error(self.env, error))
            return False
        except Exception as error:  # the run fails, with its reason; committed batches stay
            _logger.warning("Sync run %s failed", self.id, exc_info=True)
            self._rollback_batch()
            self._finish("failed", describe_error(self.env, error))
            return True
        self._finish("done_errors" if self.failed_count else "done")
        return True

    def _pause(self, seconds, reason):
        """Keep the run open and come back after ``seconds`` (from the last committed batch)."""
        resume_at = fields.Datetime.now() + datetime.timedelta(seconds=math.ceil(seconds))
        self.write({"continuation_pending": True, "resume_at": resume_at, "pause_reason": reason})
        self.message_post(
            body=_(
                "Paused until %(when)s: %(reason)s",
                when=fields.Datetime.to_string(resume_at),
                reason=reason,
            )
        )
        self.env.ref("recruitment_sync.ir_cron_process_runs")._trigger(at=resume_at)
        self._commit()

    def _kinds_to_process(self):
        kinds = self.integration_id._provider_sync_kinds()
        wanted = set(self.kinds or [kind.code for kind in kinds])
        if self.direction in ("import", "export"):
            kinds = [kind for kind in kinds if kind.direction == self.direction]
        finished = set(self.kinds_done or [])
        return [kind for kind in kinds if kind.code in wanted and kind.code not in finished]

    def _run_batch(self, kind):
        """One batch of ``kind``: fetch, process (a savepoint per item), checkpoint, commit."""
        integration = self.integration_id
        # In tests nothing is committed: a savepoint per batch stands for the commit, so an
        # interrupted batch is rolled back exactly as a crash would lose it.
        batch_guard = contextlib.nullcontext() if can_commit() else self.env.cr.savepoint()
        with batch_guard:
            checkpoint = dict(integration.sync_checkpoint or {})
            batch = integration._provider_fetch_batch(self, kind, checkpoint.get(kind.code), kind.batch_size)
            self._pending_results().clear()
            integration._provider_process_batch(self, kind, batch)
            self._flush_results()
            checkpoint[kind.code] = batch.checkpoint
            integration.sudo().sync_checkpoint = checkpoint
            self.env.flush_all()
        self._commit()
        return batch.done

    def _rollback_batch(self):
        if can_commit():
            self.env.cr.rollback()
            self.env.invalidate_all()
        self._pending_results().clear()

    # ------------------------------------------------------------------------ items
    def _process_item(self, kind, item, processor):
        """Run ``processor(run, kind, item)`` in a savepoint: a failure fails this item only."""
        try:
            with self.env.cr.savepoint():
                result = processor(self, kind, item)
        except Exception as error:  # one bad record never aborts the run
            self.env.invalidate_all()
            _logger.info(
                "Sync run %s: %s item failed: %s",
                self.id,
                kind.code,
                error,
                exc_info=_logger.isEnabledFor(logging.DEBUG),
            )
            external_id, label = self.integration_id._provider_describe_item(kind, item)
            result = ItemResult("failed", external_id=external_id, label=label, reason=describe_error(self.env, error))
        self._record(kind, result)
        return result

    def _pending_results(self):
        """Results of the current batch, kept on the cursor (whatever recordset is used)."""
        self.ensure_one()
        return self.env.cr.cache.setdefault("recruitment_sync_pending_results", {}).setdefault(self.id, [])

    def _record(self, kind, result):
        """Buffer a result; lines and counters are written once per batch."""
        self._pending_results().append((kind, result))

    def _flush_results(self):
        buffer = self._pending_results()
        pending = list(buffer)
        buffer.clear()
        counters = {}
        values = []
        by_model = {}
        for _kind, result in pending:
            if result.record and not result.label:
                by_model.setdefault(result.record._name, set()).add(result.record.id)
        for model, ids in by_model.items():
            self.env[model].browse(list(ids)).mapped("display_name")  # one read, not one per line
        for kind, result in pending:
            if result.action == "unchanged":
                continue  # nothing changed remotely: neither a line nor a count
            field_name = COUNTED_ACTIONS[result.action]
            counters[field_name] = counters.get(field_name, 0) + 1
            record = result.record
            values.append(
                {
                    "run_id": self.id,
                    "kind": kind.code,
                    "action": result.action,
                    "res_model": record._name if record else False,
                    "res_id": record.id if record else False,
                    "external_id": result.external_id,
                    "name": result.label or (record.display_name if record else result.external_id),
                    "reason": result.reason,
                }
            )
        if values:
            self.env["recruitment.sync.run.line"].sudo().create(values)
        self.env["account.move"]._sync_record_statuses(self, pending)
        if counters:
            self.write({name: self[name] + count for name, count in counters.items()})

    # ------------------------------------------------------------------------ ending
    def _finish(self, state, reason=None):
        self.ensure_one()
        self.write(
            {
                "state": state,
                "ended_at": fields.Datetime.now(),
                "continuation_pending": False,
                "resume_at": False,
                "pause_reason": False,
                "summary": self._summary_text(reason),
            }
        )
        self._notify_end()
        self._commit()

    def _summary_text(self, reason=None):
        counts = _(
            "%(created)s created, %(updated)s updated, %(exported)s exported, %(skipped)s skipped, %(failed)s failed.",
            created=self.created_count,
            updated=self.updated_count,
            exported=self.exported_count,
            skipped=self.skipped_count,
            failed=self.failed_count,
        )
        return f"{reason}\n{counts}" if reason else counts

    def _notify_end(self):
        """Tell the user who started the run; escalate failures (chatter, activity, email)."""
        self.ensure_one()
        state_label = dict(self._fields["state"]._description_selection(self.env))[self.state]
        title = _("%(integration)s: %(state)s", integration=self.integration_id.name, state=state_label)
        if self.user_id and not self.user_id._is_public():
            self.user_id._bus_send(
                "recruitment_sync/run_done",
                {
                    "run_id": self.id,
                    "title": title,
                    "message": self.summary,
                    "type": {"done": "success", "done_errors": "warning"}.get(self.state, "danger"),
                },
            )
        if self.state in ("failed", "done_errors"):
            self._escalate(title)

    def _escalate(self, title):
        integration = self.integration_id.sudo()
        body = Markup("<p>%s</p><p>%s</p>") % (title, self.summary or "")
        self.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")
        integration.message_post(body=body, subtype_xmlid="mail.mt_note")
        integration._schedule_attention_activity(title, self.summary)
        if integration.error_email_to:
            template = self.env.ref("recruitment_sync.mail_template_run_failed", raise_if_not_found=False)
            if template:
                template.sudo().send_mail(self.id, email_values={"email_to": integration.error_email_to})

    # ------------------------------------------------------------------------ actions
    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("recruitment_sync.recruitment_sync_run_line_action")
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {"search_default_group_action": 1}
        return action

    def action_open_url(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": f"/odoo/sync-history/{self.id}", "target": "self"}


class RecruitmentSyncRunLine(models.Model):
    """What happened to one record in a run: created, updated, skipped, exported, failed."""

    _name = "recruitment.sync.run.line"
    _description = "Sync Run Line"
    _order = "id"

    run_id = fields.Many2one("recruitment.sync.run", required=True, index=True, ondelete="cascade", readonly=True)
    integration_id = fields.Many2one(related="run_id.integration_id", store=True, index=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    run_state = fields.Selection(related="run_id.state")
    kind = fields.Char(readonly=True, help="The kind of record, e.g. placements or invoices.")
    name = fields.Char(string="Record", readonly=True)
    res_model = fields.Char(string="Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    external_id = fields.Char(string="External ID", readonly=True, index=True)
    action = fields.Selection(LINE_ACTIONS, required=True, readonly=True, index=True)
    reason = fields.Text(readonly=True)

    def action_open_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            raise UserError(_("This line has no Odoo record."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }
