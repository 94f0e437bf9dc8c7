import contextlib
import datetime
import logging
import math
import secrets
import time
from collections import Counter

import psycopg2.errors
from markupsafe import Markup
from psycopg2.errors import TransactionRollbackError

from odoo import _, api, fields, models, modules, tools
from odoo.exceptions import UserError, ValidationError

from odoo.addons.base.models.ir_cron import MAX_BATCH_PER_CRON_JOB

from ..services.http_client import AuthError, RetryableError, SyncError
from ..services.provider import ItemResult, PayloadError
from .recruitment_sync_failed_item import FAILURE_TYPES, open_record_action

_logger = logging.getLogger(__name__)

# Key space of the session-level advisory locks that keep two runs of one integration
# from overlapping (the second key is the integration id). A crashed worker's connection
# closes, which releases its lock: that is how an interrupted run is recognised.
ADVISORY_LOCK_NAMESPACE = 482_117_301
# Context key: a user's transaction (e.g. Sync now closing a dead run) must never be committed.
NO_COMMIT = "recruitment_sync_no_commit"
# Share of Odoo's cron time limit the runner's calls of one scheduler pass may use.
CRON_LIMIT_SHARE = 0.8

RUN_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("done_errors", "Done with errors"),
    ("failed", "Failed"),
]
LINE_ACTIONS = [
    # A record a user selected for export, waiting on its run (see _queue_export): "In transfer".
    ("queued", "In transfer"),
    ("created", "Created"),
    ("updated", "Updated"),
    ("skipped", "Skipped"),
    ("exported", "Exported"),
    ("already_exists", "Already exists"),
    ("failed", "Failed"),
]
HISTORY_RETENTION_PARAM = "recruitment_sync.history_retention_days"
DEFAULT_RETENTION_DAYS = 180
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


# A concurrent transaction held the row: trying again later succeeds.
TRANSIENT_DATABASE_ERRORS = (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable)


def classify_error(error):
    """What kind of failure ``error`` is: data, transient, auth or internal (see FAILURE_TYPES).

    Only the remote system's answers and explicit data errors (``PayloadError``, Odoo's own
    ``UserError`` / ``ValidationError``) are the data's fault; any other exception is a bug of
    ours, never blamed on the remote record.
    """
    if isinstance(error, AuthError):
        return "auth"
    if isinstance(error, SyncError):
        return "transient" if error.kind == "retryable" else "data"
    if isinstance(error, TRANSIENT_DATABASE_ERRORS):
        return "transient"
    if isinstance(error, PayloadError | UserError | ValidationError):
        return "data"
    return "internal"


def describe_failure(env, error):
    """(failure type, reason a user can act on) of ``error``, for a history line or a failed run.

    An internal error is logged here at ERROR with its traceback, under a short reference
    that the reason repeats, so that whoever reads the line finds the log entry.
    """
    failure_type = classify_error(error)
    if failure_type != "internal":
        return failure_type, str(error.args[0] if error.args else error)
    reference = secrets.token_hex(4)
    _logger.error("Sync internal error %s: %s", reference, error, exc_info=error)
    # Not an f-string inside the _() call: the terms extraction (babel) cannot read one there.
    detail = f"{type(error).__name__}: {error}"[:200]
    reason = env._(
        "An internal error happened in the sync code, not a problem of the data (%(error)s; logged on the "
        "server under the reference %(reference)s)",
        error=detail,
        reference=reference,
    )
    return failure_type, reason


def describe_error(env, error):
    """A reason a user can act on, for a history line or a failed run."""
    return describe_failure(env, error)[1]


def kind_label(env, kind):
    """A ``SyncKind``'s label in the user's language (connectors declare labels with ``_lt``)."""
    return kind.label if isinstance(kind.label, str) else env._(kind.label)


class RecruitmentSyncRun(models.Model):
    """One sync attempt of an integration: the sync history.

    Runs are queued by Sync now, the schedule or a connector (initial load, webhook) and
    executed in the background by the ``ir_cron_process_runs`` scheduled action.
    """

    _name = "recruitment.sync.run"
    _description = "Sync Run"
    _inherit = ["mail.thread", "recruitment.sync.integration.row"]
    _order = "id desc"
    _check_company_auto = True

    provider = fields.Selection(related="integration_id.provider", store=True)
    trigger = fields.Selection(
        selection=[
            ("manual", "Manual"),
            ("scheduled", "Scheduled"),
            ("initial_load", "Initial load"),
            ("webhook", "Webhook"),
            ("retry", "Retry failed items"),
            ("selection", "Selected records"),
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
    retried_kinds = fields.Json(
        readonly=True, copy=False, help="Kinds whose failed items due for a retry this run has tried again."
    )
    retry_item_ids = fields.Many2many(
        "recruitment.sync.failed.item",
        string="Items to retry",
        readonly=True,
        copy=False,
        help="A Retry failed items run processes exactly these items.",
    )
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
    items_done = fields.Integer(
        string="Items processed", readonly=True, copy=False, help="Items of every kind processed so far."
    )
    items_total = fields.Integer(
        string="Items in all",
        readonly=True,
        copy=False,
        help="How many items the run processes, where the remote system tells (0: not known).",
    )
    kind_totals = fields.Json(readonly=True, copy=False)
    progress_display = fields.Char(string="Progress", compute="_compute_progress_display")
    summary = fields.Text(readonly=True)
    line_ids = fields.One2many("recruitment.sync.run.line", "run_id", string="Lines", readonly=True)
    line_count = fields.Integer(compute="_compute_line_count")
    queued_count = fields.Integer(
        compute="_compute_queued_count", string="In transfer", help="Selected records still waiting to be sent."
    )
    retryable_count = fields.Integer(
        compute="_compute_retryable_count", help="Failed items of this run that have not gone through since."
    )

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

    @api.depends("items_done", "items_total", "state")
    @api.depends_context("lang")
    def _compute_progress_display(self):
        for run in self:
            if run.items_total:
                run.progress_display = self.env._(
                    "%(done)s of %(total)s items", done=run.items_done, total=max(run.items_total, run.items_done)
                )
            elif run.items_done or run.state == "running":
                run.progress_display = self.env._("%s items", run.items_done)
            else:
                run.progress_display = False

    def _compute_line_count(self):
        counts = dict(
            self.env["recruitment.sync.run.line"]._read_group([("run_id", "in", self.ids)], ["run_id"], ["__count"])
        )
        for run in self:
            run.line_count = counts.get(run, 0)

    @api.depends("line_ids.action")
    def _compute_queued_count(self):
        counts = dict(
            self.env["recruitment.sync.run.line"]
            .sudo()
            ._read_group([("run_id", "in", self.ids), ("action", "=", "queued")], ["run_id"], ["__count"])
        )
        for run in self:
            run.queued_count = counts.get(run, 0)

    def _compute_retryable_count(self):
        counts = dict(
            self.env["recruitment.sync.run.line"]._read_group(
                [("run_id", "in", self.ids), ("failed_item_id", "!=", False)],
                ["run_id"],
                ["failed_item_id:count_distinct"],
            )
        )
        for run in self:
            run.retryable_count = counts.get(run, 0)

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
        if active and active._close_if_interrupted():
            active = self.browse()
        if active:
            return active, False
        run = self.sudo().create(
            {
                "integration_id": integration.id,
                "trigger": trigger,
                "kinds": list(kinds) if kinds else False,
                "user_id": (user or self.env.user).id,
                "direction": direction or self._direction_of(integration, kinds),
            }
        )
        self.env.ref("recruitment_sync.ir_cron_process_runs")._trigger()
        return run, True

    @api.model
    def _direction_of(self, integration, kinds=None):
        """Import, export, or both: what the run's kinds do (a JobAdder sync only imports)."""
        directions = {kind.direction for kind in integration._provider_sync_kinds() if not kinds or kind.code in kinds}
        return directions.pop() if len(directions) == 1 else "both"

    # ------------------------------------------------------------------------ runner
    @api.model
    def _cron_process_runs(self, time_budget=None):
        """Execute queued runs, one integration at a time under its advisory lock.

        A call works through the runs until its time slice is spent (every run it starts
        commits at least one batch), then tells Odoo's scheduler what it did: ``done``, the
        runs it advanced, and ``remaining``, the open runs still to go on. While both are
        non-zero, ``ir.cron`` calls again at once (``_run_job``); a trigger also wakes the
        scheduler for its next pass, after the calls Odoo allows in a row. Returns ``remaining``.
        """
        deadline = time.monotonic() + (self._time_slice() if time_budget is None else time_budget)
        pending = self.search([("state", "in", ("queued", "running"))], order="id")
        done = 0
        busy = []  # integrations another worker is on: that worker reports their progress
        for integration in pending.integration_id:
            if done and time.monotonic() > deadline:
                break  # the next call starts with it
            with self._integration_lock(integration) as locked:
                if not locked:
                    busy.append(integration.id)
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
                run._execute(deadline)
                done += 1
        # Counted after the work, so that a run queued meanwhile is not left for the interval.
        remaining = self.search_count(
            [
                ("state", "in", ("queued", "running")),
                ("integration_id", "not in", busy),
                "|",
                ("resume_at", "=", False),
                ("resume_at", "<=", fields.Datetime.now()),
            ]
        )
        if remaining:
            self.env.ref("recruitment_sync.ir_cron_process_runs")._trigger()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return remaining

    @api.model
    def _time_slice(self):
        """Seconds a call of the runner works before it hands back to the scheduler.

        ``ir.cron`` calls a job that reports progress up to MAX_BATCH_PER_CRON_JOB times in a
        row, and all those calls must end within Odoo's real-time limit of a cron pass
        (``limit_time_real_cron``, else ``limit_time_real``): the slice fits in that limit.
        """
        budget = int(self.env["ir.config_parameter"].sudo().get_param("recruitment_sync.run_time_budget", 60))
        limit = tools.config["limit_time_real_cron"]
        if not limit or limit < 0:
            limit = tools.config["limit_time_real"]
        if limit and limit > 0:
            budget = min(budget, CRON_LIMIT_SHARE * limit / MAX_BATCH_PER_CRON_JOB)
        return max(budget, 0)  # 0: one batch a call

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
            run._finish("failed", run._interrupted_reason())
            self._commit()

    def _close_if_interrupted(self):
        """Close this run as interrupted if its worker died; True when it was closed.

        A worker holds its integration's advisory lock for as long as it runs a run; a crashed
        worker's connection released it. So a run that is *running*, not paused on purpose,
        whose lock is free, has no worker left (Sync now must not wait for the scheduler).
        Never commits: this is called inside a user's transaction.
        """
        self.ensure_one()
        if self.state != "running" or self.continuation_pending:
            return False
        with self._integration_lock(self.integration_id) as free:
            if not free:
                return False
            self.with_context(**{NO_COMMIT: True})._finish("failed", self._interrupted_reason())
        self.flush_recordset()  # before the next run's row: one active run per integration (index)
        return True

    def _interrupted_reason(self):
        return _(
            "The run was interrupted (its worker stopped). Records of committed batches are kept; "
            "the next run resumes from the last committed checkpoint."
        )

    def _commit(self):
        """Commit a finished batch: only the runner (a cron entry point) calls this."""
        if can_commit() and not self.env.context.get(NO_COMMIT):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _execute(self, deadline):
        """Process batches of this run until it ends (True) or the deadline passes (False)."""
        self.ensure_one()
        integration = self.integration_id
        if self.state == "queued":
            self.write({"state": "running", "started_at": fields.Datetime.now(), "continuation_pending": False})
            self._notify_progress()
        else:
            self.write({"continuation_pending": False, "resume_at": False, "pause_reason": False})
        self._commit()
        # A call always commits one batch (a slice too short still moves on), and starts another
        # only if it should end before the deadline, judging by the last one's duration.
        batch_seconds = None
        try:
            for kind in self._kinds_to_process():
                while True:
                    if batch_seconds is not None and time.monotonic() + batch_seconds > deadline:
                        self.continuation_pending = True
                        self._commit()
                        return False
                    started = time.monotonic()
                    finished = self._run_batch(kind)
                    batch_seconds = time.monotonic() - started
                    if finished:
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
        except TransactionRollbackError:
            # Another transaction changed the same rows meanwhile (e.g. the scheduler writing the
            # integration): as Odoo retries such a request, the batch is done again at the next pass.
            _logger.info("Sync run %s met a concurrent update: its batch is retried", self.id)
            self._rollback_batch()
            self.write({"continuation_pending": True})
            self._commit()
            self.env.ref("recruitment_sync.ir_cron_process_runs")._trigger()
            return False
        except Exception as error:  # the run fails, with its reason; committed batches stay
            self._rollback_batch()
            failure_type, reason = describe_failure(self.env, error)
            if failure_type != "internal":  # an internal error is logged with its traceback
                _logger.warning("Sync run %s failed: %s", self.id, reason)
            self._finish("failed", reason)
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
        """One batch of ``kind``: fetch, process (a savepoint per item), checkpoint, commit.

        The kind's failed items due for a retry go first; a Retry failed items run does only them.
        """
        if kind.code not in (self.retried_kinds or []):
            if not self._run_retry_batch(kind):
                return False
            self.retried_kinds = [*(self.retried_kinds or []), kind.code]
            self._commit()
            # No retry left: the kind's next batch follows in the same step, so an empty
            # retry pass never costs the scheduler a call of its own.
        if self.trigger in ("retry", "selection") or self._queued_lines(kind, limit=1):
            # Selected records: exactly those (a Retry failed items run: the retried ones and
            # any records queued on it meanwhile), never the kind's normal selection.
            return self._run_queued_batch(kind)
        integration = self.integration_id
        # In tests nothing is committed: a savepoint per batch stands for the commit, so an
        # interrupted batch is rolled back exactly as a crash would lose it.
        batch_guard = contextlib.nullcontext() if can_commit() else self.env.cr.savepoint()
        with batch_guard:
            checkpoint = dict(integration.sync_checkpoint or {})
            batch = integration._provider_fetch_batch(self, kind, checkpoint.get(kind.code), kind.batch_size)
            self._pending_results().clear()
            self._tracked_keys().clear()
            integration._provider_process_batch(self, kind, batch)
            self._flush_results()
            self._count_progress(kind, batch)
            checkpoint[kind.code] = batch.checkpoint
            integration.sudo().sync_checkpoint = checkpoint
            self.env.flush_all()
        self._commit()
        return batch.done

    def _count_progress(self, kind, batch, processed=None):
        """Items processed so far and, where the provider tells (``Batch.total``), how many in all."""
        values = {"items_done": self.items_done + (len(batch.items) if processed is None else processed)}
        if batch.total is not None:
            totals = {**(self.kind_totals or {}), kind.code: batch.total}
            values.update(kind_totals=totals, items_total=sum(totals.values()))
        self.write(values)
        self._notify_progress()

    def _notify_progress(self):
        """Tell the open forms (integration, run, receipts) that this run moved on.

        Sent on the sync users' group channel once the transaction commits; it carries ids
        only: each client reloads what it shows through the ORM, with its own access rights.
        """
        group = self.env.ref("recruitment_sync.group_sync_user", raise_if_not_found=False)
        if group:
            for run in self:
                group._bus_send(
                    "recruitment_sync/run_progress",
                    {"run_id": run.id, "integration_id": run.integration_id.id, "state": run.state},
                )

    # ------------------------------------------------------------------------ selected records
    def _queued_lines(self, kind, limit=None):
        """This run's lines of ``kind`` still *in transfer* (selected records to send), in queue order."""
        self.ensure_one()
        return (
            self.env["recruitment.sync.run.line"]
            .sudo()
            .search(
                [("run_id", "=", self.id), ("kind", "=", kind.code), ("action", "=", "queued")], order="id", limit=limit
            )
        )

    def _queued_records(self, kind):
        """The records of this run's lines of ``kind`` still in transfer, in queue order."""
        lines = self._queued_lines(kind)
        if not lines:
            return self.env["recruitment.sync.run.line"].browse()
        return self.env[lines[0].res_model].sudo().browse(lines.mapped("res_id"))

    def _run_queued_batch(self, kind):
        """One batch of the records queued on this run: the provider picks them among those in
        transfer (``_provider_fetch_queued``) and processes them as any batch; each result about a
        queued record settles its line. True when none is left in transfer."""
        lines = self._queued_lines(kind)
        if not lines:
            return True
        integration = self.integration_id
        batch_guard = contextlib.nullcontext() if can_commit() else self.env.cr.savepoint()
        with batch_guard:
            self._pending_results().clear()
            self._tracked_keys().clear()
            records = self._queued_records(kind)
            present = records.exists()
            gone = lines.filtered(lambda line: line.res_id not in present.ids)
            self._settle_lines(gone, "failed", _("The record was deleted before it was sent."))
            batch = integration._provider_fetch_queued(self, kind, present, kind.batch_size)
            integration._provider_process_batch(self, kind, batch)
            self._flush_results()
            left = self._queued_lines(kind).filtered(lambda line: line.res_id in batch.items.ids)
            if left and len(left) == len(batch.items):
                # Not one of them went through nor failed: a provider that leaves records queued
                # (e.g. a credit note waiting for its invoice) must settle others, or the run never ends.
                self._settle_lines(left, "failed", _("The export did not process this record; export it again."))
                left = left.browse()
            self._count_progress(kind, batch, processed=len(batch.items) - len(left))
            self.env.flush_all()
        self._commit()
        return not self._queued_lines(kind, limit=1)

    def _settle_lines(self, lines, action, reason):
        """Give lines still in transfer their outcome without a record result (e.g. the run stopped)."""
        if not lines:
            return
        lines.sudo().write({"action": action, "reason": reason, "failure_type": action == "failed" and "data"})
        self._count_actions({action: len(lines)})
        results = [
            (None, ItemResult(action, self.env[line.res_model].browse(line.res_id), reason=reason))
            for line in lines
            if line.res_model in self.env and line.res_id and self.env[line.res_model].browse(line.res_id).exists()
        ]
        self.env["account.move"]._sync_record_statuses(self, results)  # e.g. an invoice no longer "queued"

    def _run_retry_batch(self, kind):
        """Fetch and process again up to a batch of failed items of ``kind``; True when none is left."""
        items = self.env["recruitment.sync.failed.item"]._due_for(self, kind, kind.batch_size)
        if not items:
            return True
        integration = self.integration_id
        batch_guard = contextlib.nullcontext() if can_commit() else self.env.cr.savepoint()
        with batch_guard:
            items.write({"last_run_id": self.id})
            self._pending_results().clear()
            self._tracked_keys().clear()
            batch = integration._provider_fetch_items(self, kind, items.mapped("item_key"))
            if batch is None:  # the provider cannot fetch items one by one: they wait for a change
                items.write({"state": "waiting_change", "next_attempt_at": False})
            else:
                integration._provider_process_batch(self, kind, batch)
                seen = self._flush_results() | self._tracked_keys()
                # Nothing came back for them (deleted remotely, nothing left to send): nothing to retry.
                items.exists().filtered(lambda item: (item.kind, item.item_key) not in seen).unlink()
            self.env.flush_all()
        self._commit()
        return len(items) < kind.batch_size

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
        except AuthError:
            raise  # every other item would fail the same way: the run stops, the integration needs reconnecting
        except RetryableError as error:
            if error.retry_after:
                raise  # a wait too long to sleep (a daily limit): the runner pauses the run
            result = self._failed_item_result(kind, item, error)
        except Exception as error:  # one bad record never aborts the run
            result = self._failed_item_result(kind, item, error)
        self._record(kind, result)
        return result

    def _failed_item_result(self, kind, item, error):
        self.env.invalidate_all()
        failure_type, reason = describe_failure(self.env, error)
        if failure_type == "internal":
            reason = _("%s. It is tried again after the next upgrade of the sync addons.", reason)
        else:
            _logger.info("Sync run %s: %s item failed (%s): %s", self.id, kind.code, failure_type, reason)
        external_id, label = self.integration_id._provider_describe_item(kind, item)
        # An Odoo record (an export's item) stays the line's record: retried by it, its line in transfer settled.
        record = item if isinstance(item, models.BaseModel) and len(item) == 1 else None
        return ItemResult(
            "failed", record, external_id=external_id, label=label, reason=reason, failure_type=failure_type
        )

    def _pending_results(self):
        """Results of the current batch, kept on the cursor (whatever recordset is used)."""
        self.ensure_one()
        return self.env.cr.cache.setdefault("recruitment_sync_pending_results", {}).setdefault(self.id, [])

    def _record(self, kind, result):
        """Buffer a result; lines and counters are written once per batch."""
        self._pending_results().append((kind, result))

    def _flush_results(self):
        """Write the batch's lines and counters, and its failed items; the item keys it saw."""
        buffer = self._pending_results()
        pending = list(buffer)
        buffer.clear()
        actions = Counter()
        values = []
        by_model = {}
        for _kind, result in pending:
            if result.record and not result.label:
                by_model.setdefault(result.record._name, set()).add(result.record.id)
        for model, ids in by_model.items():
            self.env[model].browse(list(ids)).mapped("display_name")  # one read, not one per line
        retryable_kinds = {kind.code: kind for kind in self.integration_id._provider_sync_kinds()}
        queued = self._queued_lines_of(pending)
        settled = []  # (queued line, its values): a result about a record in transfer settles its line
        failures, successes = {}, set()
        for kind, result in pending:
            key = None
            if kind.code in retryable_kinds:
                key = self._item_key(retryable_kinds[kind.code], result)
            if key and result.action != "failed":
                successes.add((kind.code, key))
            if result.action == "unchanged":
                continue  # nothing changed remotely: neither a line nor a count
            actions[result.action] += 1
            record = result.record
            line = {
                "run_id": self.id,
                "kind": kind.code,
                "action": result.action,
                "failure_type": (result.failure_type or "data") if result.action == "failed" else False,
                "res_model": record._name if record else False,
                "res_id": record.id if record else False,
                "external_id": result.external_id,
                "name": result.label or (record.display_name if record else result.external_id),
                "reason": result.reason,
            }
            waiting = queued.pop((kind.code, record._name, record.id), None) if record else None
            if waiting:
                settled.append((waiting, line))
            else:
                values.append(line)
            if key and result.action == "failed":
                failures[(kind.code, key)] = (result, line)
        failed_items = self.env["recruitment.sync.failed.item"]._update_from_results(self, failures, successes)
        for key, (_result, line) in failures.items():
            line["failed_item_id"] = failed_items[key].id
        for waiting, line in settled:
            # The line keeps the name it was queued under.
            waiting.write({name: value for name, value in line.items() if name not in ("run_id", "kind", "name")})
        if values:
            self.env["recruitment.sync.run.line"].sudo().create(values)
        self.env["account.move"]._sync_record_statuses(self, pending)
        self._count_actions(actions)
        # A provider may flush mid-batch (to commit what the remote system answered): the retry
        # pass still knows every item the batch saw.
        self._tracked_keys().update(failures, successes)
        return set(failures) | successes

    def _queued_lines_of(self, pending):
        """{(kind code, model, id): line in transfer} of the records ``pending`` results are about."""
        ids = {result.record.id for _kind, result in pending if result.record}
        if not ids:
            return {}
        lines = (
            self.env["recruitment.sync.run.line"]
            .sudo()
            .search([("run_id", "=", self.id), ("action", "=", "queued"), ("res_id", "in", list(ids))])
        )
        return {(line.kind, line.res_model, line.res_id): line for line in lines}

    def _count_actions(self, actions):
        """Add to the run's counters: ``actions`` maps line actions (``created``, ``failed``…) to how
        many lines got them. For a connector that settles lines itself; ``unchanged`` counts nothing."""
        counters = Counter()
        for action, count in actions.items():
            if action != "unchanged" and count:
                counters[COUNTED_ACTIONS[action]] += count
        if counters:
            self.write({name: self[name] + count for name, count in counters.items()})

    def _track_items(self, kind, outcomes):
        """Keep the failed items of ``outcomes`` and forget those that went through.

        For batch processors that write their own history lines (e.g. a receipt) instead of
        ``_record``: ``outcomes`` is a list of (``ItemResult``, its ``recruitment.sync.run.line``).
        """
        failures, successes, lines = {}, set(), {}
        for result, line in outcomes:
            if result.action == "failed":
                line.sudo().failure_type = result.failure_type or "data"
            key = self._item_key(kind, result)
            if not key:
                continue
            if result.action == "failed":
                failures[(kind.code, key)] = (
                    result,
                    {
                        "reason": line.reason,
                        "name": line.name,
                        "external_id": line.external_id,
                        "res_model": line.res_model,
                        "res_id": line.res_id,
                    },
                )
                lines[(kind.code, key)] = line
            else:
                successes.add((kind.code, key))
        items = self.env["recruitment.sync.failed.item"]._update_from_results(self, failures, successes)
        for key, line in lines.items():
            line.sudo().failed_item_id = items[key]
        self._tracked_keys().update(failures, successes)
        # The invoices' status per ledger, as _flush_results keeps it for recorded results.
        self.env["account.move"]._sync_record_statuses(self, [(kind, result) for result, _line in outcomes])
        return set(failures) | successes

    def _tracked_keys(self):
        """(kind, key) of the items ``_track_items`` saw in the current batch, kept on the cursor."""
        self.ensure_one()
        return self.env.cr.cache.setdefault("recruitment_sync_tracked_keys", {}).setdefault(self.id, set())

    @api.model
    def _item_key(self, kind, result):
        """How a failed item is fetched again: its remote id (imports) or its Odoo record (exports)."""
        if kind.direction == "export" and result.record:
            return f"{result.record._name},{result.record.id}"
        return result.external_id or None

    # ------------------------------------------------------------------------ ending
    def _finish(self, state, reason=None):
        self.ensure_one()
        self._pending_results().clear()  # a batch that did not commit (a dead worker's) counts for nothing
        self.integration_id._provider_on_run_finished(self, state, reason)
        self._flush_results()  # what the hook recorded
        # Records still in transfer were not sent (the run failed or stopped before them).
        waiting = (
            self.env["recruitment.sync.run.line"].sudo().search([("run_id", "=", self.id), ("action", "=", "queued")])
        )
        why = (reason or _("the run stopped")).rstrip(".")
        self._settle_lines(waiting, "failed", _("Not sent (the run stopped: %s). Export it again.", why))
        if state == "done" and self.failed_count:
            state = "done_errors"
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
        if state != "failed":
            # Work that came while the run ran and that it did not do (a request of a kind it does
            # not process, a webhook after it read that list) gets a run of its own, now.
            follow_up = self.integration_id._provider_follow_up(self)
            if follow_up:
                trigger, kinds = follow_up
                self._queue_for(self.integration_id, trigger, kinds=kinds, user=self.user_id)
        self._notify_end()
        self._notify_progress()
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
                    # Failures and errors stay on screen until dismissed.
                    "sticky": self.state != "done",
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

    # ------------------------------------------------------------------------ history clean-up
    @api.autovacuum
    def _gc_history(self):
        """Remove runs and lines older than the retention period; failed lines stay until resolved."""
        days = int(self.env["ir.config_parameter"].sudo().get_param(HISTORY_RETENTION_PARAM, DEFAULT_RETENTION_DAYS))
        if days <= 0:  # 0 keeps the whole history
            return
        cutoff = fields.Datetime.now() - datetime.timedelta(days=days)
        old_runs = self.sudo().search(
            [("ended_at", "<", cutoff), ("state", "not in", ("queued", "running"))], order="id"
        )
        if not old_runs:
            return
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM recruitment_sync_run_line WHERE run_id = ANY(%s) AND failed_item_id IS NULL",
            [old_runs.ids],
        )
        self.env["recruitment.sync.run.line"].invalidate_model()
        still_failing = {
            run.id
            for [run] in self.env["recruitment.sync.run.line"]
            .sudo()
            ._read_group([("run_id", "in", old_runs.ids)], ["run_id"])
        }
        old_runs.filtered(lambda run: run.id not in still_failing).unlink()
        _logger.info("Sync history older than %s days removed (%s runs looked at)", days, len(old_runs))

    # ------------------------------------------------------------------------ actions
    def action_retry_failed_items(self):
        """Queue a run of exactly this run's items that have not gone through since."""
        self.ensure_one()
        items = self.line_ids.failed_item_id
        if not items:
            raise UserError(_("The failed items of this run have all gone through since, or none can be retried."))
        return items.action_retry()

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
    kind = fields.Char(string="Kind code", readonly=True, help="The kind of record, e.g. placements or invoices.")
    kind_label = fields.Char(string="Kind", compute="_compute_kind_label")
    record_accessible = fields.Boolean(
        compute="_compute_record_accessible", help="The line's Odoo record exists and the user may open it."
    )
    record_label = fields.Char(string="Record", compute="_compute_record_accessible")
    name = fields.Char(string="Record name", readonly=True)
    res_model = fields.Char(string="Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    external_id = fields.Char(string="External ID", readonly=True, index=True)
    action = fields.Selection(LINE_ACTIONS, required=True, readonly=True, index=True)
    reason = fields.Text(readonly=True)
    failure_type = fields.Selection(FAILURE_TYPES, readonly=True)
    failed_item_id = fields.Many2one(
        "recruitment.sync.failed.item",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="While set, the item has not gone through yet: the line is kept by the history clean-up.",
    )

    @api.depends("kind", "integration_id")
    @api.depends_context("lang")
    def _compute_kind_label(self):
        labels_by_integration = {}
        for line in self:
            integration = line.integration_id
            if integration not in labels_by_integration:
                labels_by_integration[integration] = {
                    kind.code: kind_label(self.env, kind) for kind in integration.sudo()._provider_line_kinds()
                }
            line.kind_label = labels_by_integration[integration].get(line.kind, line.kind)

    @api.depends("res_model", "res_id", "name")
    @api.depends_context("uid")
    def _compute_record_accessible(self):
        out_of_reach = self.browse()
        for integration in self.integration_id:
            out_of_reach |= integration._provider_lines_out_of_reach(
                self.filtered(lambda line, integration=integration: line.integration_id == integration)
            )
        for line in self:
            model = line.res_model if line.res_model in self.env else None
            record = self.env[model].browse(line.res_id).exists() if model and line.res_id else None
            line.record_accessible = bool(record) and record.has_access("read") and line not in out_of_reach
            # A record out of the user's reach (another department's) is not named either.
            hidden = bool(record) and not line.record_accessible
            line.record_label = self.env._("Another department's record") if hidden else line.name

    def action_open_record(self):
        self.ensure_one()
        return open_record_action(self, _("This line has no Odoo record."))

    def _revise(self, action, reason, external_id=None):
        """A later run learnt the real outcome of these lines (e.g. a record a stopped run was sending
        did reach the remote system): they say so now, and their runs' counters follow."""
        values = {"action": action, "reason": reason, "failure_type": action == "failed" and "data"}
        if external_id:
            values["external_id"] = external_id
        self.sudo().write(values)
        for run in self.run_id:
            counts = Counter(dict(self.sudo()._read_group([("run_id", "=", run.id)], ["action"], ["__count"])))
            run.sudo().write(
                {
                    field_name: sum(counts[action] for action, name in COUNTED_ACTIONS.items() if name == field_name)
                    for field_name in set(COUNTED_ACTIONS.values())
                }
            )
