import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..services.binder import Binder
from ..services.http_client import AuthError, HttpClient, SyncError
from ..services.provider import Batch, ConnectionTest, RateLimits
from ..services.rate_limit import get_rate_limiter
from .recruitment_sync_run import ADVISORY_LOCK_NAMESPACE

_logger = logging.getLogger(__name__)

# Context key of code running inside a user's request that may call the provider once, never
# wait (the confirmation's counts): its HTTP clients neither sleep nor retry.
INTERACTIVE_CONTEXT = "recruitment_sync_interactive"
INTERACTIVE_TIMEOUT = (5, 10)
# How long an export of selected records waits while the runner works on its integration.
QUEUE_LOCK_TIMEOUT = "20s"

# What a provider's Disconnect may keep (``_provider_on_disconnect``'s answer): the OAuth2 grant.
DISCONNECT_KEEPS = frozenset({"grant"})

# Fields only a System Administrator may change (credentials, endpoints, activation,
# scope). Sync managers may change the rest: schedule, responsible, error recipients.
ADMIN_ONLY_FIELDS = {
    "name",
    "provider",
    "company_id",
    "active",
    "department_scope",
    "department_ids",
    "client_id",
    "client_secret",
    "authorize_url",
    "token_url",
    "revoke_url",
    "api_base_url",
    "rate_limit_per_minute",
    "is_sandbox",
}


class RecruitmentSyncIntegration(models.Model):
    """One connection between this Odoo company and a remote system.

    The provider selection is extended by each connector addon (the payment-provider
    pattern): ``selection_add=[('xero', "Xero")]`` with ``ondelete={'xero': 'set default'}``,
    so uninstalling a connector resets its integrations to "none" instead of deleting them
    and their history.

    **Provider interface.** A connector overrides the ``_provider_*`` methods below, each
    starting with ``if self.provider != '<code>': return super()...`` (as payment providers
    do). Everything else (OAuth2, runs, locking, history, notifications, scheduling) is the
    core's. See ``recruitment_sync/doc/PROVIDERS.md``.
    """

    _name = "recruitment.sync.integration"
    _description = "Sync Integration"
    _inherit = ["mail.thread", "mail.activity.mixin", "recruitment.sync.oauth2.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    provider = fields.Selection(
        selection=[("none", "No provider set")],
        default="none",
        required=True,
        tracking=True,
        help="The remote system this integration talks to.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    state = fields.Selection(
        selection=[
            ("not_connected", "Not connected"),
            ("connected", "Connected"),
            ("needs_reconnect", "Needs reconnect"),
            ("disconnected", "Disconnected"),
        ],
        default="not_connected",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    connection_message = fields.Text(
        readonly=True,
        copy=False,
        help="Why the integration needs attention (for instance, why it must be reconnected).",
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Receives an activity when a sync fails or the connection needs attention.",
    )
    error_email_to = fields.Char(
        string="Error emails to",
        tracking=True,
        help="Comma-separated email addresses that receive a message when a sync fails or has "
        "failed records. Leave empty to notify the responsible user only.",
    )
    is_sandbox = fields.Boolean(
        string="Sandbox",
        copy=False,
        help="This integration talks to a stand-in of the remote system (a sandbox), not to the real service.",
    )

    # -- department scope -------------------------------------------------------------------
    department_scope = fields.Selection(
        selection=[("all", "All departments"), ("selected", "Specific departments")],
        default="all",
        required=True,
        tracking=True,
        help="Sync users see this integration, its runs and bindings when it serves all "
        "departments or one of the departments of their employee records.",
    )
    department_ids = fields.Many2many(
        "hr.department",
        string="Departments",
        check_company=True,
        help="The departments this integration serves.",
    )

    # -- schedule ------------------------------------------------------------------------
    schedule_active = fields.Boolean(
        string="Scheduled sync",
        default=True,
        tracking=True,
        help="Sync automatically on the schedule below while connected.",
    )
    schedule_interval_number = fields.Integer(string="Every", default=1, tracking=True)
    schedule_interval_type = fields.Selection(
        selection=[("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days"), ("weeks", "Weeks")],
        string="Interval unit",
        default="hours",
        required=True,
        tracking=True,
    )
    next_scheduled_sync_at = fields.Datetime(string="Next scheduled sync", copy=False)
    rate_limit_per_minute = fields.Integer(
        string="Calls per minute",
        help="Leave 0 to use the provider's published limit. Set it when your plan with the provider "
        "allows another rate.",
    )

    # -- OAuth2 client and endpoints (administrators only) -----------------------------
    uses_oauth2 = fields.Boolean(compute="_compute_uses_oauth2")
    client_id = fields.Char(string="Client ID", groups="base.group_system", copy=False)
    client_secret = fields.Char(string="Client secret", groups="base.group_system", copy=False)
    authorize_url = fields.Char(
        string="Authorize endpoint",
        groups="base.group_system",
        help="Leave empty for the provider's own; set it to point the integration at a sandbox.",
    )
    token_url = fields.Char(string="Token endpoint", groups="base.group_system")
    revoke_url = fields.Char(string="Revocation endpoint", groups="base.group_system")
    api_base_url = fields.Char(string="API base URL", groups="base.group_system")
    token_ids = fields.One2many("recruitment.sync.token", "integration_id", groups="base.group_system")

    # -- sync state ----------------------------------------------------------------------
    sync_checkpoint = fields.Json(
        copy=False,
        help="Per kind of record, where the next run resumes (watermarks, page cursors). "
        "Advanced only after the batch it covers is committed.",
    )
    initial_load_done = fields.Boolean(
        string="Initial load done",
        copy=False,
        readonly=True,
        help="Cleared by Disconnect: connecting again loads the remote records anew.",
    )
    retry_max_attempts = fields.Integer(
        string="Attempts per failed item",
        default=5,
        tracking=True,
        help="How many times a record that failed for a passing reason (time-out, the remote system "
        "unavailable) is tried, by the following syncs with a growing delay (5 minutes, 20 minutes, "
        "80 minutes, ...), before it stays failed and is listed under Failed items.",
    )
    failed_item_ids = fields.One2many("recruitment.sync.failed.item", "integration_id", string="Failed items")
    failed_item_count = fields.Integer(compute="_compute_failed_item_count")
    run_ids = fields.One2many("recruitment.sync.run", "integration_id", string="Sync runs")
    run_count = fields.Integer(compute="_compute_run_stats")
    last_run_id = fields.Many2one("recruitment.sync.run", compute="_compute_run_stats")
    last_run_state = fields.Selection(
        selection=lambda self: self.env["recruitment.sync.run"]._fields["state"].selection,
        compute="_compute_run_stats",
        string="Last run status",
    )
    last_run_at = fields.Datetime(compute="_compute_run_stats", string="Last run started")
    last_run_progress = fields.Char(compute="_compute_run_stats", string="Progress")

    _sql_constraints = [
        (
            "schedule_interval_positive",
            "CHECK(schedule_interval_number > 0)",
            "The sync interval must be positive.",
        ),
        ("retry_max_attempts_positive", "CHECK(retry_max_attempts > 0)", "A failed item is tried at least once."),
    ]

    # ------------------------------------------------------------------------ computes
    @api.depends("name", "provider")
    def _compute_display_name(self):
        labels = dict(self._fields["provider"]._description_selection(self.env))
        for integration in self:
            provider = labels.get(integration.provider)
            if provider and provider not in (integration.name or ""):
                integration.display_name = f"{integration.name} ({provider})"
            else:
                integration.display_name = integration.name

    @api.depends("provider")
    def _compute_uses_oauth2(self):
        for integration in self:
            integration.uses_oauth2 = bool(integration._provider_oauth2_config())

    def _compute_run_stats(self):
        Run = self.env["recruitment.sync.run"]
        counts = dict(Run._read_group([("integration_id", "in", self.ids)], ["integration_id"], ["__count"]))
        for integration in self:
            integration.run_count = counts.get(integration, 0)
            last_run = Run.search([("integration_id", "=", integration.id)], limit=1)
            integration.last_run_id = last_run
            integration.last_run_state = last_run.state
            integration.last_run_at = last_run.started_at or last_run.create_date
            integration.last_run_progress = last_run.progress_display

    def _compute_failed_item_count(self):
        counts = dict(
            self.env["recruitment.sync.failed.item"]._read_group(
                [("integration_id", "in", self.ids)], ["integration_id"], ["__count"]
            )
        )
        for integration in self:
            integration.failed_item_count = counts.get(integration, 0)

    @api.constrains("department_scope", "department_ids")
    def _check_departments(self):
        for integration in self:
            if integration.department_scope == "selected" and not integration.department_ids:
                raise ValidationError(
                    _(
                        "Integration %(name)s serves specific departments: choose at least one.",
                        name=integration.name,
                    )
                )

    # ------------------------------------------------------------------------ ORM
    def write(self, vals):
        # Record rules and ACLs let sync managers write; credentials, endpoints and
        # activation are the administrators' alone.
        if not self.env.su and ADMIN_ONLY_FIELDS & set(vals) and not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only System Administrators can change an integration's connection settings."))
        if {"schedule_interval_number", "schedule_interval_type", "schedule_active"} & set(vals):
            vals.setdefault("next_scheduled_sync_at", False)
        return super().write(vals)

    # ------------------------------------------------------------------------ provider hooks
    def _provider_oauth2_config(self):
        """OAuth2 settings of the provider (an ``OAuth2Config``), or None when it does not use OAuth2."""
        return None

    def _provider_rate_limits(self):
        """The provider's published limits, as a ``RateLimits``."""
        return RateLimits()

    def _provider_sync_kinds(self):
        """What a sync of this integration processes: ``SyncKind`` items, dependencies first."""
        return []

    def _provider_line_kinds(self):
        """Every ``SyncKind`` a history line of this integration may carry: the sync kinds, plus
        those of records a sync brings along (e.g. the clients of placements). Lines show their labels."""
        return self._provider_sync_kinds()

    def _provider_lines_out_of_reach(self, lines):
        """History ``lines`` of this integration whose record the current user may read but should
        not see named (e.g. another department's candidates): they read "Another department's record"
        and cannot be opened. Default: none (records the user cannot read are hidden anyway)."""
        return lines.browse()

    def _provider_count(self, kind):
        """How many records a sync of ``kind`` would send or bring now (shown in the confirmation), or None.

        Called inside the user's request: count from Odoo's data, or with at most one bounded
        call (the confirmation's context makes ``_http_client`` never sleep nor retry; a
        ``SyncError`` then shows the count as unknown). None: unknown.
        """
        return None

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        """Return a ``Batch`` (items, next checkpoint, done) of ``kind`` to process after ``checkpoint``."""
        raise NotImplementedError(f"{self.provider} does not sync {kind.code}")

    def _provider_fetch_items(self, run, kind, keys):
        """A ``Batch`` of the items of ``kind`` named by ``keys`` (to retry them), or None if unsupported.

        Keys are what the runner keeps of a failed item: the remote id of an import, ``model,id``
        of the Odoo record of an export. The default fetches the records of an export again.
        """
        if kind.direction != "export":
            return None
        by_model = {}
        for key in keys:
            model, _sep, record_id = key.rpartition(",")
            if model in self.env and record_id.isdigit():
                by_model.setdefault(model, []).append(int(record_id))
        if len(by_model) != 1:
            return None
        [(model, ids)] = by_model.items()
        return Batch(items=self.env[model].sudo().browse(ids).exists(), checkpoint=None, done=True)

    def _provider_fetch_queued(self, run, kind, records, batch_size):
        """A ``Batch`` of the records selected for export that ``run`` sends next.

        ``records``: every record of ``kind`` still in transfer on the run, in the order they were
        queued. Default: the first ``batch_size``. Override to group them (e.g. by the login that
        sends them); a record left without a result stays in transfer for a later batch.
        """
        return Batch(items=records[:batch_size], checkpoint=None, done=False)

    def _provider_on_run_finished(self, run, state, reason):
        """Called as ``run`` ends (``state``, with the failure ``reason`` if any), before the records
        still in transfer are failed as not sent: forget per-run caches, or give those records a
        better outcome with ``run._record(kind, ItemResult(...))`` (e.g. "sent, answer lost")."""
        return None

    def _provider_follow_up(self, run):
        """As ``run`` ends without failing: ``(trigger, kind codes)`` of a run to queue at once for work
        that came meanwhile and that it did not do, or ``None`` (default). Only for work a run clears:
        what the follow-up run cannot do must not ask for another one."""
        return None

    def _failed_items_of(self, kind, records, states=None):
        """The failed items of these integrations' ``kind`` (a ``SyncKind``) about ``records`` (an
        export's Odoo records), in ``states`` when given (e.g. ``["waiting_change"]``: refused, waiting
        for a change); sudo, one query."""
        FailedItem = self.env["recruitment.sync.failed.item"].sudo()
        if not records:
            return FailedItem
        domain = [
            ("integration_id", "in", self.ids),
            ("kind", "=", kind.code),
            ("res_model", "=", records._name),
            ("res_id", "in", records.ids),
        ]
        if states:
            domain.append(("state", "in", list(states)))
        return FailedItem.search(domain)

    def _failed_items_held_back_sql(self, kind, model):
        """SQL: ids of ``model`` records an export's normal batches leave to the retry pass.

        Those retried automatically (not before their next attempt is due) and those given up
        (until Retry failed items); use it in an export selection as ``id NOT IN (...)``.
        """
        return SQL(
            """SELECT res_id FROM recruitment_sync_failed_item
                WHERE integration_id = %s AND kind = %s AND res_model = %s AND state IN ('retrying', 'given_up')""",
            self.id,
            kind.code,
            model,
        )

    def _provider_process_batch(self, run, kind, batch):
        """Process a batch; the default processes each item in its own savepoint."""
        for item in batch.items:
            run._process_item(kind, item, self._provider_process_item)

    def _provider_process_item(self, run, kind, item):
        """Import or export one item; return an ``ItemResult`` (or raise to fail that item only)."""
        raise NotImplementedError(f"{self.provider} does not process {kind.code} items")

    def _provider_describe_item(self, kind, item):
        """(external id, label) of a raw item, for the history line of an item that failed."""
        if isinstance(item, dict):
            external_id = item.get("id")
            return (str(external_id) if external_id is not None else None), item.get("name") or item.get("title")
        if isinstance(item, models.BaseModel):
            return None, item.display_name
        return None, str(item)[:200]

    def _provider_test_connection(self):
        """Call the remote system and return a short human description of what answered, or a
        ``ConnectionTest`` (partial results: what works, what fails) when it checks several things."""
        raise UserError(_("This provider has no connection test."))

    def _provider_on_connected(self, first_time):
        """Called after a successful Connect (``first_time``: no initial load was done yet)."""
        return None

    def _provider_on_disconnect(self):
        """Provider clean-up before the tokens are wiped (e.g. remove a remote connection).

        Returns what Disconnect keeps (``DISCONNECT_KEEPS``): ``{}`` nothing; ``{"grant": True}``
        the OAuth2 grant is not revoked (other connections still use it), while this
        integration's tokens are deleted all the same.
        """
        return {}

    def _provider_api_base_url(self):
        """Where API calls go: the administrator's override, else what the provider says."""
        self.ensure_one()
        return self.sudo().api_base_url or None

    def _provider_http_client_class(self):
        """The ``HttpClient`` (sub)class the provider is called with, e.g. one reading its own headers."""
        return HttpClient

    def _provider_record_url(self, record, external_id):
        """The address of ``record`` (exported as ``external_id``) in the remote system, or False."""
        return False

    def _provider_retry_export(self, moves):
        """Retry on an invoice: queue the export of ``moves`` in the background (never send from here).

        The default queues a manual run of the export kinds, which picks up every invoice not
        exported yet, these included; a connector exporting selected invoices overrides it.
        """
        self.ensure_one()
        kinds = [kind.code for kind in self._provider_sync_kinds() if kind.direction == "export"]
        if not kinds:
            raise UserError(_("%s exports nothing.", self.name))
        run, _created = self.sudo()._queue_run("manual", kinds=kinds, direction="export")
        return run

    # ------------------------------------------------------------------------ helpers
    def _binder(self, external_model="default"):
        """The ``Binder`` of this integration's bindings of one remote type (services/binder.py)."""
        return Binder(self, external_model)

    def _get_oauth2_config(self):
        """The provider's OAuth2 settings with the administrator's endpoint overrides applied."""
        self.ensure_one()
        # The base hook returns None; OAuth2 connectors return their settings.
        config = self._provider_oauth2_config()  # pylint: disable=assignment-from-none
        if not config:
            return None
        sudo = self.sudo()
        return config.with_overrides(
            authorize_url=sudo.authorize_url,
            token_url=sudo.token_url,
            revoke_url=sudo.revoke_url,
            client_id=sudo.client_id,
            client_secret=sudo.client_secret,
        )

    def _http_client(self, base_url=None, **options):
        """The HTTP client a connector talks to its provider with.

        Timeouts, retries, the provider's rate limits (shared by every client of this
        integration in this process), bearer tokens refreshed on demand, secrets masked.
        """
        self.ensure_one()
        base_url = base_url or self._provider_api_base_url()
        if not base_url:
            raise UserError(_("%s has no API address: connect it first.", self.name))
        limits = self._provider_rate_limits()
        if self.rate_limit_per_minute > 0:
            limits = RateLimits(
                windows=((self.rate_limit_per_minute, 60),)
                + tuple(window for window in limits.windows if window[1] != 60),
                max_concurrent=limits.max_concurrent,
                count_until_answered=limits.count_until_answered,
            )
        limiter = None
        if limits.windows or limits.max_concurrent:
            limiter = get_rate_limiter(
                (self.env.cr.dbname, self.id), limits.windows, limits.max_concurrent, limits.count_until_answered
            )
        secrets = [self.sudo().client_secret]
        auth = on_auth_error = None
        if self.uses_oauth2:
            token = self._token_sudo()
            secrets += [token.access_token, token.refresh_token]
            # The ORM is not thread-safe: only the thread that made the client reads or
            # refreshes tokens; worker threads (concurrent fetches) use the last token it saw.
            # A token refused in a worker stops the other workers from sending it again; the
            # owner renews it once and resends their requests (see _http_get_many).
            owner = threading.get_ident()
            seen = {}

            def auth():
                if threading.get_ident() == owner:
                    seen["token"] = self._oauth2_access_token()
                elif "token" not in seen or seen.get("refused") == seen["token"]:
                    raise AuthError(_("%s refused the access token; it is renewed before retrying.", self.name))
                return {"Authorization": f"Bearer {seen['token']}"}

            def on_auth_error():
                if threading.get_ident() != owner:
                    seen["refused"] = seen.get("token")
                    raise AuthError(_("%s refused the access token; it is renewed before retrying.", self.name))
                seen["token"] = self._oauth2_force_refresh(refused_token=seen.get("token"))

            auth()  # a valid token before any request, for the worker threads too
        if self.env.context.get(INTERACTIVE_CONTEXT):
            # Inside a user's request (a confirmation's counts): one bounded call, no waiting on
            # the provider's limits, no retries; an answer that does not come at once is unknown.
            options.update(max_wait=0, max_retries=0, timeout=INTERACTIVE_TIMEOUT)
        labels = dict(self._fields["provider"]._description_selection(self.env))
        return self._provider_http_client_class()(
            base_url,
            name=labels.get(self.provider, self.provider),
            rate_limiter=limiter,
            auth=auth,
            on_auth_error=on_auth_error,
            secrets=secrets,
            **options,
        )

    def _http_get_many(self, client, paths):
        """GET many paths at once within the provider's concurrency limit: [answer or SyncError]."""
        return self._http_call_many([functools.partial(client.get, path) for path in paths])

    def _http_call_many(self, calls):
        """Run ``calls`` at once within the provider's concurrency limit: [result or SyncError].

        Each call is a function of no argument making one request with a client of this
        integration (e.g. ``functools.partial(client.post, "batch", json=...)``); the results come
        back in the order of ``calls``. The client's rate limiter still paces every request.
        Worker threads never renew a refused token (the ORM is not thread-safe, see
        ``_http_client``): those calls run again here, in the thread that owns the cursor, where
        a refresh is possible and an AuthError still stops the run.
        """

        def run(call):
            try:
                return call()
            except SyncError as error:
                return error

        workers = max(1, min(self._provider_rate_limits().max_concurrent or 1, len(calls) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recruitment_sync") as pool:
            answers = list(pool.map(run, calls))
        for index, answer in enumerate(answers):
            if isinstance(answer, AuthError):
                try:
                    answers[index] = calls[index]()
                except AuthError:
                    raise
                except SyncError as error:
                    answers[index] = error
        return answers

    def _schedule_delta(self):
        return relativedelta(**{self.schedule_interval_type: self.schedule_interval_number})

    def _notify_connection_problem(self, message):
        """Set *needs reconnect* and say so everywhere a user looks (form, chatter, activity)."""
        for integration in self:
            first = integration.state != "needs_reconnect" or integration.connection_message != message
            integration.sudo().write({"state": "needs_reconnect", "connection_message": message})
            if first:
                integration.sudo().message_post(body=message, subtype_xmlid="mail.mt_note")
                integration.sudo()._schedule_attention_activity(_("Reconnect %s", integration.name), message)

    def _schedule_attention_activity(self, summary, note):
        """One open to-do for the responsible user, never a pile of them."""
        self.ensure_one()
        user = self.responsible_user_id or self.create_uid
        todo = self.env.ref("mail.mail_activity_data_todo")
        existing = self.activity_ids.filtered(lambda a: a.activity_type_id == todo and a.user_id == user)
        if existing:
            existing[:1].note = note
            return existing[:1]
        return self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=user.id,
            date_deadline=fields.Date.context_today(self),
        )

    # ------------------------------------------------------------------------ actions
    def _check_can_manage(self):
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only System Administrators can connect or disconnect an integration."))

    def action_connect(self):
        """Start the provider's consent flow (OAuth2) or check the stored credentials."""
        self.ensure_one()
        self._check_can_manage()
        if self.provider == "none":
            raise UserError(_("Choose the provider of this integration first."))
        if self.uses_oauth2:
            return self._oauth2_authorize_action()
        test = self._connection_test()
        if test.failures:  # nothing is connected; what failed first, then what works
            return self._notification_action(
                _("Not connected"), "\n".join(test.failures + test.successes), "danger", True
            )
        self._mark_connected()
        return self._notification_action(_("Connected"), "\n".join(test.successes), "success")

    def action_reconnect(self):
        """Run the consent flow again (new tokens), keeping history and bindings."""
        return self.action_connect()

    def action_disconnect(self):
        self._check_can_manage()
        for integration in self:
            keeps = integration._provider_on_disconnect() or {}
            if unknown := set(keeps) - DISCONNECT_KEEPS:
                raise ValueError(f"_provider_on_disconnect() returned unknown keys: {sorted(unknown)}")
            if integration.uses_oauth2:
                integration._oauth2_revoke_and_wipe(revoke=not keeps.get("grant"))
            integration.write({"schedule_active": False})
            integration.sudo().write(
                {
                    "state": "disconnected",
                    "connection_message": False,
                    "next_scheduled_sync_at": False,
                    # Connecting again loads the remote records anew: they may have changed meanwhile.
                    "initial_load_done": False,
                    "sync_checkpoint": False,
                }
            )
            integration.message_post(body=_("Disconnected by %s.", self.env.user.name), subtype_xmlid="mail.mt_note")
        return True

    def action_test_connection(self):
        self.ensure_one()
        test = self._connection_test()
        if test.failures:
            message = "\n".join(test.failures + test.successes)
            return self._notification_action(_("Connection test failed"), message, "danger", True)
        return self._notification_action(_("Connection works"), "\n".join(test.successes), "success")

    def _connection_test(self):
        """``_provider_test_connection()`` as a ``ConnectionTest`` (a provider may return a text)."""
        result = self._provider_test_connection()
        if isinstance(result, ConnectionTest):
            return ConnectionTest(tuple(result.successes), tuple(result.failures))
        return ConnectionTest(successes=(result,) if result else ())

    def action_sync_now(self):
        """Open the confirmation (what is about to be synced, and how many)."""
        self.ensure_one()
        self._check_can_sync()
        return {
            "type": "ir.actions.act_window",
            "name": _("Sync %s", self.name),
            "res_model": "recruitment.sync.confirm.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_integration_id": self.id},
        }

    def action_view_failed_items(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("recruitment_sync.recruitment_sync_failed_item_action")
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"search_default_group_state": 1}
        return action

    def action_retry_failed_items(self):
        """Queue a run of every item of this integration that has not gone through yet."""
        self.ensure_one()
        return self.failed_item_ids.action_retry()

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("recruitment_sync.recruitment_sync_run_action")
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"default_integration_id": self.id}
        return action

    def _check_can_sync(self):
        if not self.env.user.has_group("recruitment_sync.group_sync_user"):
            raise AccessError(_("Only sync users can start a sync."))
        self.check_access("read")
        for integration in self:
            if integration.state != "connected":
                raise UserError(
                    _(
                        "%(name)s is not connected (%(state)s). Connect it before syncing.",
                        name=integration.name,
                        state=dict(self._fields["state"]._description_selection(self.env))[integration.state],
                    )
                )

    def _mark_connected(self):
        for integration in self.sudo():
            first_time = not integration.initial_load_done
            values = {"state": "connected", "connection_message": False}
            if not integration.next_scheduled_sync_at:
                values["next_scheduled_sync_at"] = fields.Datetime.now() + integration._schedule_delta()
            integration.write(values)
            integration.activity_feedback(
                ["mail.mail_activity_data_todo"], feedback=_("The integration is connected again.")
            )
            integration._provider_on_connected(first_time)

    @api.model
    def _notification_action(self, title, message, kind="info", sticky=False, next_action=None):
        params = {"title": title, "message": message, "type": kind, "sticky": sticky}
        if next_action:
            params["next"] = next_action
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    def _notify_run_queued(self, run):
        """Tell the current user that ``run`` works in the background (for actions that cannot
        return a notification themselves, e.g. a form save that starts an import)."""
        self.ensure_one()
        if self.env.user._is_public():
            return
        self.env.user._bus_send(
            "simple_notification",
            {
                "type": "info",
                "title": self.env._("%s: started in the background", self.name),
                "message": self.env._(
                    "The sync runs in the background; this screen updates as it goes, and you are notified when "
                    "it ends. Sync History shows run %s meanwhile.",
                    run.display_name,
                ),
                "sticky": False,
            },
        )

    # ------------------------------------------------------------------------ scheduling
    @api.model
    def _cron_schedule_syncs(self):
        """The one generic scheduled action: queue a run for each integration that is due."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("state", "=", "connected"),
                ("schedule_active", "=", True),
                "|",
                ("next_scheduled_sync_at", "=", False),
                ("next_scheduled_sync_at", "<=", now),
            ]
        )
        queued = self.env["recruitment.sync.run"]
        for integration in due:
            integration.next_scheduled_sync_at = now + integration._schedule_delta()
            run, _created = integration._queue_run("scheduled")
            queued |= run
        return queued | self._queue_due_retries()

    @api.model
    def _queue_due_retries(self):
        """A run of the failed items due for their next attempt, for integrations no run is about to serve.

        Exports run when users send documents, and a schedule may be paused: the items that failed
        for a passing reason are tried again in time all the same.
        """
        items = self.env["recruitment.sync.failed.item"].sudo()
        due = items.search(
            [
                ("state", "=", "retrying"),
                ("next_attempt_at", "<=", fields.Datetime.now()),
                ("integration_id.state", "=", "connected"),
            ]
        )
        queued = self.env["recruitment.sync.run"]
        for integration in due.integration_id:
            mine = due.filtered(lambda item, integration=integration: item.integration_id == integration)
            run, created = integration._queue_run("retry", kinds=sorted(set(mine.mapped("kind"))))
            if created:
                run.retry_item_ids = mine
                queued |= run
        return queued

    def _wait_for_runner(self, lock_timeout="20s"):
        """Wait up to ``lock_timeout`` (a PostgreSQL interval) while the runner works on this
        integration, then keep it from starting or ending a run until this transaction ends: lines
        a connector adds to a run meanwhile are never left behind its last batch. False when the
        runner kept working longer (the caller says so to the user)."""
        self.ensure_one()
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
                cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, self.id])
        except psycopg2.errors.LockNotAvailable:
            return False
        cr.execute("SET LOCAL lock_timeout TO DEFAULT")
        return True

    def _queue_export(self, records, kind, refused=None, lock_timeout=QUEUE_LOCK_TIMEOUT):
        """Queue the export of exactly ``records`` (a user's selection) of ``kind``: their lines are
        *in transfer* at once and the runner sends them in the background, in this order, in batches
        (``_provider_fetch_queued``); nothing is sent from the caller's transaction. Joins the run
        queued or running for the integration; a record already in transfer there is not added again.
        ``refused``: {record: reason} of selected records that cannot be exported (failed lines).
        Returns the run.
        """
        self.ensure_one()
        if not self._wait_for_runner(lock_timeout):
            raise UserError(
                _("%s is sending records right now: export these records again in a minute.", self.display_name)
            )
        run, _created = self._queue_run("selection", kinds=[kind.code], user=self.env.user, direction="export")
        run = run.sudo()
        Line = self.env["recruitment.sync.run.line"].sudo()
        waiting = set(
            Line.search(
                [
                    ("run_id", "=", run.id),
                    ("kind", "=", kind.code),
                    ("action", "=", "queued"),
                    ("res_model", "=", records._name),
                    ("res_id", "in", records.ids),
                ]
            ).mapped("res_id")
        )

        def line(record, action, reason=False):
            return {
                "run_id": run.id,
                "kind": kind.code,
                "action": action,
                "res_model": record._name,
                "res_id": record.id,
                "name": self._provider_describe_item(kind, record)[1],
                "reason": reason,
                "failure_type": action == "failed" and "data",
            }

        values = [line(record, "queued") for record in records if record.id not in waiting]
        values += [line(record, "failed", reason) for record, reason in (refused or {}).items()]
        Line.create(values)
        if refused:
            run._count_actions({"failed": len(refused)})
        if records._name == "account.move":
            self.env["account.move"]._sync_mark_queued(self, records)  # the invoices' Ledgers tab says queued
        run._notify_progress()
        return run

    def _queue_run(self, trigger, kinds=None, user=None, direction=None):
        """Queue a run unless one is already queued or running; return (run, created)."""
        self.ensure_one()
        return self.env["recruitment.sync.run"]._queue_for(
            self, trigger, kinds=kinds, user=user or self.env.user, direction=direction
        )
