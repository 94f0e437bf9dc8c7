from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.recruitment_sync.services.provider import Batch, ConnectionTest, ItemResult, RateLimits
from odoo.addons.recruitment_sync.services.rate_limit import get_rate_limiter

from ..services import tso_client
from .tso_export import INVOICES, TsoExporter, forget_run_cache
from .tso_matching import CUSTOMERS, PRODUCTS

# At most this many invoices per SaveInvoices call (and per batch).
MAX_INVOICES_PER_CALL = 50


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    provider = fields.Selection(
        selection_add=[("24so", "24SevenOffice")],
        ondelete={"24so": "set default"},
    )
    tso_application_id = fields.Char(
        string="Application id",
        groups="base.group_system",
        copy=False,
        default=lambda self: self.env["ir.config_parameter"].sudo().get_param("recruitment_sync_24so.application_id"),
        help="The integrator's application id (a GUID) that 24SevenOffice's API support issued for this "
        "integration. It is not tied to a 24SevenOffice client: the logins below choose the client.",
    )
    tso_credential_ids = fields.One2many(
        "recruitment.sync.24so.credential",
        "integration_id",
        string="24SevenOffice logins",
        groups="base.group_system",
        context={"active_test": False},
    )
    tso_generic_product_id = fields.Many2one(
        "product.product",
        string="Product of lines without product",
        check_company=True,
        help="Invoice lines without a product are exported with this product (matched in 24SevenOffice by its "
        "internal reference). Leave empty to export them as text rows.",
    )

    tso_vat_code_ids = fields.One2many("recruitment.sync.24so.vat.code", "integration_id", string="VAT codes")
    tso_vat_code_count = fields.Integer(compute="_compute_tso_vat_code_count", string="Number of VAT codes")

    def _compute_tso_vat_code_count(self):
        counts = dict(
            self.env["recruitment.sync.24so.vat.code"]._read_group(
                [("integration_id", "in", self.ids), ("listed", "=", True)], ["integration_id"], ["__count"]
            )
        )
        for integration in self:
            integration.tso_vat_code_count = counts.get(integration, 0)

    def action_tso_view_vat_codes(self):
        self.ensure_one()
        xmlid = "recruitment_sync_24so.recruitment_sync_24so_vat_code_action"
        action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"search_default_listed": 1, "hide_integration": True}
        return action

    # ------------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("provider") == "24so":
                # Exports run when a user exports invoices, never on a schedule.
                vals.setdefault("schedule_active", False)
        return super().create(vals_list)

    # ------------------------------------------------------------------------ provider hooks
    def _provider_oauth2_config(self):
        if self.provider != "24so":
            return super()._provider_oauth2_config()
        return None  # a SOAP login per credential: Connect logs every login in

    def _provider_rate_limits(self):
        if self.provider != "24so":
            return super()._provider_rate_limits()
        return RateLimits(windows=tso_client.RATE_WINDOWS)

    def _provider_api_base_url(self):
        if self.provider != "24so":
            return super()._provider_api_base_url()
        return self.sudo().api_base_url or tso_client.PRODUCTION_URL

    def _provider_on_disconnect(self):
        if self.provider != "24so":
            return super()._provider_on_disconnect()
        for credential in self.sudo().tso_credential_ids:
            self._tso_forget_session(credential)
        return None

    def _provider_sync_kinds(self):
        if self.provider != "24so":
            return super()._provider_sync_kinds()
        return [INVOICES]

    def _provider_line_kinds(self):
        if self.provider != "24so":
            return super()._provider_line_kinds()
        return [INVOICES, PRODUCTS, CUSTOMERS]

    def _provider_count(self, kind):
        if self.provider != "24so":
            return super()._provider_count(kind)
        return 0  # only the invoices a user exports are sent

    def _provider_test_connection(self):
        """Log every login in: the activation needs them all, and the test shows each one's outcome."""
        if self.provider != "24so":
            return super()._provider_test_connection()
        messages, failures = self._tso_test_logins()
        return ConnectionTest(successes=tuple(messages), failures=tuple(failures))

    def _tso_test_logins(self):
        """Log every active login in: (messages of those that work, messages of those that fail)."""
        self.ensure_one()
        self._check_can_manage()
        credentials = self.sudo().tso_credential_ids.filtered("active")
        if not credentials:
            raise UserError(
                _("Add a 24SevenOffice login on the Credentials tab (user name, password, departments) first.")
            )
        messages, failures = [], []
        for credential in credentials:
            message, kind = credential._test_login()
            (messages if kind == "success" else failures).append(message)
        return messages, failures

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "24so":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        # Only the invoices a user selects are sent (the runner's queue, _provider_fetch_queued).
        return Batch(items=self.env["account.move"], checkpoint=None, done=True)

    def _provider_fetch_queued(self, run, kind, records, batch_size):
        """The invoices of one login at a time (one session, one SaveInvoices); all of those no
        login serves at once (they fail without a call)."""
        if self.provider != "24so":
            return super()._provider_fetch_queued(run, kind, records, batch_size)
        logins = self._tso_credentials_by_department()
        groups = {}
        for move in records:
            credential = self._tso_credential_for(move.department_id, logins)
            groups.setdefault(credential.id or 0, []).append(move.id)
        ids = groups[0] if 0 in groups else next(iter(groups.values()), [])[: min(batch_size, MAX_INVOICES_PER_CALL)]
        return Batch(items=records.browse(ids), checkpoint=None, done=False)

    def _provider_fetch_items(self, run, kind, keys):
        """Failed invoices to send again: those still posted."""
        if self.provider != "24so":
            return super()._provider_fetch_items(run, kind, keys)
        records = super()._provider_fetch_items(run, kind, keys)
        if records is None:
            return None
        return Batch(items=records.items.filtered(lambda move: move.state == "posted"), checkpoint=None, done=True)

    def _provider_process_batch(self, run, kind, batch):
        if self.provider != "24so":
            return super()._provider_process_batch(run, kind, batch)
        return TsoExporter(self, run).export(batch.items)

    def _provider_on_run_finished(self, run, state, reason):
        """Invoices still in transfer when an export stops: those being sent have an unknown outcome
        (24SevenOffice may hold them: the next export searches first), the others were not sent."""
        if self.provider != "24so":
            return super()._provider_on_run_finished(run, state, reason)
        forget_run_cache(self.env.cr.dbname, run.id)
        waiting = run._queued_records(INVOICES)
        if not waiting:
            return None
        why = reason or _("the export stopped")
        sending = (
            self.env["recruitment.sync.24so.transfer"]
            .sudo()
            .search([("move_id", "in", waiting.ids), ("state", "=", "sending")])
            .move_id
        )
        for move in waiting:
            if move in sending:
                text = _(
                    "Outcome unknown: the export stopped while this invoice was being sent (%s). The next "
                    "export of it checks 24SevenOffice first and shows it exported if 24SevenOffice saved it.",
                    why,
                )
            else:
                text = _("Not sent (the export stopped: %s). Export the invoice again.", why.rstrip("."))
            run._record(INVOICES, ItemResult("failed", move, reason=text))
        return None

    def _provider_describe_item(self, kind, item):
        if self.provider != "24so" or not isinstance(item, models.BaseModel) or item._name != "account.move":
            return super()._provider_describe_item(kind, item)
        return None, item.name  # the receipt names invoices by their number

    # ------------------------------------------------------------------------ 24SevenOffice
    def _tso_rate_limiter(self):
        limits = self._provider_rate_limits()
        return get_rate_limiter((self.env.cr.dbname, self.id), limits.windows, limits.max_concurrent)

    def _tso_client(self, credential):
        """The SOAP client of one login (its session is kept by the process)."""
        self.ensure_one()
        credential = credential.sudo()
        return tso_client.TsoClient(
            self._provider_api_base_url(),
            self.sudo().tso_application_id,
            credential.username,
            credential.password,
            credential.identity_id.guid or None,
            rate_limiter=self._tso_rate_limiter(),
            session_key=(self.env.cr.dbname, credential.id),
        )

    def _tso_forget_session(self, credential):
        tso_client.SESSIONS.drop_prefix((self.env.cr.dbname, credential.id))

    def _tso_credentials_by_department(self):
        """(login of all departments, {department: its own login}) among the active logins."""
        self.ensure_one()
        credentials = self.sudo().tso_credential_ids.filtered("active")
        fallback = credentials.filtered(lambda credential: credential.department_scope == "all")[:1]
        own = {}
        for credential in credentials.filtered(lambda credential: credential.department_scope == "specific"):
            for department in credential.department_ids:
                own.setdefault(department.id, credential)
        return fallback, own

    def _tso_credential_for(self, department, logins=None):
        """The login exporting the invoices of ``department`` (an empty recordset: none)."""
        fallback, own = logins or self._tso_credentials_by_department()
        return own.get(department.id) or fallback

    def _tso_queue_export(self, moves, ineligible=None):
        """Queue (or join) the export run of these invoices; they are *in transfer* at once."""
        self.ensure_one()
        # Invoices before credit notes (a credit note refers to its invoice's OrderId).
        ordered = moves.sorted(
            lambda move: (move.move_type != "out_invoice", move.invoice_date or fields.Date.today(), move.name, move.id)
        )
        reason = _("Only posted customer invoices and credit notes can be exported to 24SevenOffice.")
        return self._queue_export(ordered, INVOICES, refused={move: reason for move in ineligible or []})

    def _provider_retry_export(self, moves):
        """Retry on an invoice: 24SevenOffice exports selected invoices, so queue exactly these."""
        if self.provider != "24so":
            return super()._provider_retry_export(moves)
        return self.sudo()._tso_queue_export(moves)
