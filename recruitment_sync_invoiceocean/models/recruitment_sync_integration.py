"""The InvoiceOcean provider: activation (API token and prefix), settings, webhooks and the provider hooks."""

import hmac
import logging
import secrets
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.recruitment_sync.services.http_client import AuthError, SyncError
from odoo.addons.recruitment_sync.services.provider import Batch, PayloadError, RateLimits

from ..services import invoiceocean as io

_logger = logging.getLogger(__name__)

# Settings only a System Administrator may change: the credentials and where calls go.
IO_ADMIN_FIELDS = {"io_api_token", "io_prefix", "io_webhook_secret"}
# InvoiceOcean documents no call limit (§5): no window is imposed (an administrator may set *Calls
# per minute*); a 429 is retried after its Retry-After, which pauses every call of the integration.
# At most this many requests in flight (concurrent GETs of single records).
MAX_CONCURRENT = 4


class RecruitmentSyncIntegration(models.Model):
    _name = "recruitment.sync.integration"
    _inherit = [
        "recruitment.sync.integration",
        "recruitment.sync.invoiceocean.clients",
        "recruitment.sync.invoiceocean.documents",
    ]

    provider = fields.Selection(
        selection_add=[("invoiceocean", "InvoiceOcean")],
        ondelete={"invoiceocean": "set default"},
    )

    # -- activation (administrators) -------------------------------------------------------------
    io_api_token = fields.Char(
        string="InvoiceOcean API token",
        groups="base.group_system",
        copy=False,
        help="InvoiceOcean: Settings > Account settings > Integration > API authorization code.",
    )
    io_prefix = fields.Char(
        string="Account prefix",
        copy=False,
        help="The first part of your InvoiceOcean address: acme for https://acme.invoiceocean.com.",
    )
    io_webhook_secret = fields.Char(
        string="Webhook secret",
        groups="base.group_system",
        copy=False,
        default=lambda self: secrets.token_urlsafe(24),
        help="InvoiceOcean sends it with every webhook (its api_token field); other calls are refused.",
    )
    io_webhook_url = fields.Char(string="Webhook URL", compute="_compute_io_webhook_url")

    # -- what to sync ------------------------------------------------------------------------------
    io_first_sync = fields.Selection(
        [
            ("both", "Both ways: each side gets the other's customers"),
            ("from_io", "InvoiceOcean's clients into Odoo"),
            ("to_io", "Odoo's customers into InvoiceOcean"),
        ],
        string="First sync",
        default="both",
        required=True,
        help="What the first sync does with the customers only one side has (matching ones are linked "
        "either way). Afterwards, new and changed customers go both ways.",
    )
    io_linked_at = fields.Datetime(
        string="Accounts linked on",
        readonly=True,
        copy=False,
        help="When the first sync matched the customers of both sides; documents issued since become opportunities.",
    )
    io_document_kind_ids = fields.Many2many(
        "recruitment.sync.invoiceocean.kind",
        "recruitment_sync_integration_io_kind_rel",
        "integration_id",
        "kind_id",
        string="Documents as opportunities",
        default=lambda self: self.env["recruitment.sync.invoiceocean.kind"].search([("code", "in", io.DEFAULT_KINDS)]),
        help="Each new InvoiceOcean document of these kinds becomes an opportunity of its customer.",
    )
    io_documents_from = fields.Date(
        string="Also earlier documents from",
        help="Bring the documents issued from this day as opportunities too. Empty: only documents issued "
        "after the accounts were linked.",
    )
    io_pending_events = fields.Json(
        readonly=True,
        copy=False,
        help="Clients and documents InvoiceOcean's webhooks named, read again at the next run.",
    )
    io_user_ids = fields.One2many("recruitment.sync.invoiceocean.user", "integration_id", string="InvoiceOcean users")
    io_department_ids = fields.One2many(
        "recruitment.sync.invoiceocean.department", "integration_id", string="InvoiceOcean departments"
    )
    io_user_count = fields.Integer(compute="_compute_io_counts")
    io_unpaired_count = fields.Integer(compute="_compute_io_counts", string="Unpaired users")
    io_department_count = fields.Integer(compute="_compute_io_counts")

    @api.depends("provider")
    def _compute_io_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        for integration in self:
            integration.io_webhook_url = (
                f"{base}/recruitment_sync_invoiceocean/webhook/{integration.id}"
                if integration.provider == "invoiceocean" and integration.id
                else False
            )

    @api.depends("io_user_ids.pairing_state", "io_department_ids")
    def _compute_io_counts(self):
        for integration in self:
            integration.io_user_count = len(integration.io_user_ids)
            integration.io_unpaired_count = len(
                integration.io_user_ids.filtered(lambda row: row.pairing_state != "paired")
            )
            integration.io_department_count = len(integration.io_department_ids)

    @api.constrains("io_prefix")
    def _check_io_prefix(self):
        for integration in self.filtered("io_prefix"):
            if not io.PREFIX_PATTERN.match(integration.io_prefix):
                raise ValidationError(
                    _("%s is not an InvoiceOcean account prefix (letters, digits and dashes).", integration.io_prefix)
                )

    # ------------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("io_prefix"):
                vals["io_prefix"] = io.clean_prefix(vals["io_prefix"])
        integrations = super().create(vals_list)
        if any(vals.get("io_api_token") for vals in vals_list):
            integrations.filtered(lambda i: i.provider == "invoiceocean")._io_activate()
        return integrations

    def write(self, vals):
        if not self.env.su and IO_ADMIN_FIELDS & set(vals) and not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only System Administrators can change the InvoiceOcean token and account."))
        if vals.get("io_prefix"):
            vals = dict(vals, io_prefix=io.clean_prefix(vals["io_prefix"]))
        result = super().write(vals)
        if {"io_api_token", "io_prefix"} & set(vals):
            self.filtered(lambda i: i.provider == "invoiceocean" and i.sudo().io_api_token)._io_activate()
        if vals.get("io_documents_from"):
            self.filtered(lambda i: i.provider == "invoiceocean" and i.io_linked_at)._io_bring_earlier_documents()
        return result

    def _io_bring_earlier_documents(self):
        """*Also earlier documents from* set on linked accounts: the next documents pass reads that period
        (``_io_fetch_earlier_documents``), queued now."""
        for integration in self:
            integration.sudo().io_pending_events = {**(integration.io_pending_events or {}), "documents_from": True}
            if integration.state == "connected":
                integration.sudo()._queue_run("manual", kinds=[io.DOCUMENTS.code], direction="import")

    def _io_activate(self):
        """Saving the token and prefix tests them and links the accounts (Connect, without a button).

        A refused token leaves the integration in *Needs reconnect* with InvoiceOcean's reason: the
        administrator corrects it and saves again.
        """
        for integration in self:
            try:
                integration.action_connect()
            except (SyncError, UserError) as error:
                integration._notify_connection_problem(
                    _("InvoiceOcean refused the connection: %s", error)
                    if isinstance(error, AuthError)
                    else _("InvoiceOcean could not be reached: %s", error)
                )

    # ------------------------------------------------------------------------ provider hooks
    def _provider_rate_limits(self):
        if self.provider != "invoiceocean":
            return super()._provider_rate_limits()
        return RateLimits(max_concurrent=MAX_CONCURRENT)

    def _provider_api_base_url(self):
        if self.provider != "invoiceocean":
            return super()._provider_api_base_url()
        if self.sudo().api_base_url:
            return self.sudo().api_base_url
        return io.account_url(self.io_prefix) if self.io_prefix else None

    def _provider_http_client_class(self):
        if self.provider != "invoiceocean":
            return super()._provider_http_client_class()
        return io.InvoiceOceanHttpClient

    def _provider_sync_kinds(self):
        if self.provider != "invoiceocean":
            return super()._provider_sync_kinds()
        return list(io.ALL_KINDS)

    def _provider_count(self, kind):
        if self.provider != "invoiceocean":
            return super()._provider_count(kind)
        if kind.code == io.EXPORT_CLIENTS.code:
            return self.env["res.partner"].sudo().search_count(self._io_export_domain())
        if kind.code == io.ADD_INVOICES.code:
            return self.env["crm.lead"].sudo().search_count(self._io_invoice_request_domain())
        return None  # InvoiceOcean's lists tell no totals (§4)

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "invoiceocean":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        if kind.code == io.DEPARTMENTS.code:
            departments = self._io_client().get("departments.json", params={"page": 1, "per_page": io.PER_PAGE})
            return Batch(items=departments or [], checkpoint=None, done=True)
        if kind.code in (io.CLIENTS.code, io.CLIENTS_AFTER_EXPORT.code):
            return self._io_fetch_clients(checkpoint, kind)
        if kind.code == io.EXPORT_CLIENTS.code:
            return self._io_fetch_export_clients(batch_size)
        if kind.code == io.DOCUMENTS.code:
            return self._io_fetch_documents(checkpoint)
        return self._io_fetch_invoice_requests(batch_size)

    def _provider_fetch_items(self, run, kind, keys):
        if self.provider != "invoiceocean":
            return super()._provider_fetch_items(run, kind, keys)
        if kind.code in (io.CLIENTS.code, io.DOCUMENTS.code):
            resource = "clients" if kind.code == io.CLIENTS.code else "invoices"
            return Batch(items=self._io_get_each(resource, keys), checkpoint=None, done=True)
        batch = super()._provider_fetch_items(run, kind, keys)
        if batch is not None:
            batch.context["retry"] = True  # an earlier attempt may have reached InvoiceOcean: look before resending
        return batch

    def _provider_process_batch(self, run, kind, batch):
        if self.provider != "invoiceocean":
            return super()._provider_process_batch(run, kind, batch)
        if not batch.items:
            return None
        processors = {
            io.DEPARTMENTS.code: self._io_import_departments,
            io.CLIENTS.code: self._io_import_clients,
            # Lines of the second reading are the clients' lines.
            io.CLIENTS_AFTER_EXPORT.code: lambda run, _kind, batch: self._io_import_clients(run, io.CLIENTS, batch),
            io.EXPORT_CLIENTS.code: self._io_export_clients,
            io.DOCUMENTS.code: self._io_import_documents,
            io.ADD_INVOICES.code: self._io_create_invoices,
        }
        processors[kind.code](run, kind, batch)
        return None

    def _provider_describe_item(self, kind, item):
        if self.provider != "invoiceocean" or not isinstance(item, dict):
            return super()._provider_describe_item(kind, item)
        external_id = str(item["id"]) if item.get("id") is not None else None
        return external_id, item.get("number") or item.get("name") or external_id

    def _provider_test_connection(self):
        if self.provider != "invoiceocean":
            return super()._provider_test_connection()
        if not self.io_prefix or not self.sudo().io_api_token:
            raise UserError(_("Paste the InvoiceOcean API token and the account prefix first."))
        departments = self._io_client(interactive=True).get("departments.json", params={"page": 1, "per_page": 1})
        return _(
            "Connected to the InvoiceOcean account %(prefix)s (%(count)s).",
            prefix=self.io_prefix,
            count=_("its departments answered") if isinstance(departments, list) else _("it answered"),
        )

    def _provider_on_connected(self, first_time):
        if self.provider != "invoiceocean":
            return super()._provider_on_connected(first_time)
        if first_time:
            run, created = self._queue_run("initial_load")
            if created:
                self._notify_run_queued(run)
        return None

    def _provider_follow_up(self, run):
        """Work that came while ``run`` ran and that it did not do gets a run at once: "+Add invoice"
        clicked during an import run (a run is only queued when none is active), clients and documents
        webhooks named after the run read those lists, earlier documents asked during an export run.

        Invoices refused before (their failed item waits for a retry or a change) ask for no run: each
        follow-up clears what asked for it, so runs never follow each other for ever.
        """
        if self.provider != "invoiceocean":
            return super()._provider_follow_up(run)
        pending = self.io_pending_events or {}
        kinds = []
        if pending.get("clients") or pending.get("documents") or pending.get("documents_from"):
            kinds += [io.CLIENTS.code, io.DOCUMENTS.code]
        requests = self.env["crm.lead"].sudo().search(self._io_invoice_request_domain())
        if requests:
            tried = self._failed_items_of(io.ADD_INVOICES, requests)
            if set(requests.ids) - set(tried.mapped("res_id")):
                kinds.append(io.ADD_INVOICES.code)
        if not kinds:
            return None
        return ("manual" if io.ADD_INVOICES.code in kinds else "webhook"), kinds

    def _provider_record_url(self, record, external_id):
        if self.provider != "invoiceocean":
            return super()._provider_record_url(record, external_id)
        if record._name == "crm.lead":
            return record.io_view_url or False
        if record._name == "res.partner" and self._provider_api_base_url():
            return f"{self._provider_api_base_url()}/clients/{external_id}"
        return False

    # ------------------------------------------------------------------------ client
    def _io_client(self, interactive=False):
        self.ensure_one()
        token = self.sudo().io_api_token
        if not token:
            raise UserError(_("%s has no InvoiceOcean API token: an administrator pastes it first.", self.name))
        integration = self.with_context(recruitment_sync_interactive=True) if interactive else self
        return integration._http_client(api_token=token)

    def _io_get_each(self, resource, keys):
        """The records of ``resource`` named by ``keys`` (one GET each); one that answers 404 comes
        back as ``{"id": key, "_missing": True}`` so that it fails (or is archived) alone."""
        client = self._io_client()
        paths = [f"{resource}/{int(key)}.json" for key in keys if str(key).isdigit()]
        answers = self._http_get_many(client, paths)
        items = []
        for path, answer in zip(paths, answers, strict=True):
            key = path.split("/")[1].split(".")[0]
            if isinstance(answer, SyncError):
                if getattr(answer, "status", None) == 404:
                    items.append({"id": int(key), "_missing": True})
                    continue
                raise answer
            items.append(answer)
        return items

    def _io_list_page(self, path, params, checkpoint, in_step):
        """One page of ``path``, newest change first, down to the watermark: a ``Batch`` of its rows.

        InvoiceOcean has no "changed since" filter (§4): pages of ``order=updated_at.desc`` are read
        until a row older than the watermark less ``OVERLAP_SECONDS`` (a change committed while we
        read is not lost), or until a page with nothing to do that reaches back to the watermark:
        ``in_step([(row, updated_at)])`` says every row of it is already in step (read before, or
        written by us, at that ``updated_at``), so what lies below was read before too. The done
        batch's checkpoint holds the new watermark: the newest ``updated_at`` seen.
        """
        checkpoint = dict(checkpoint or {})
        page = checkpoint.get("page") or 1
        watermark = checkpoint.get("watermark")
        mark = datetime.fromisoformat(watermark) if watermark else None
        since = mark - timedelta(seconds=io.OVERLAP_SECONDS) if mark else None
        rows = self._io_client().get(path, params={**params, "page": page, "per_page": io.PER_PAGE}) or []
        items, stamped, reached = [], [], False
        for row in rows:
            try:
                stamp = io.parse_stamp(row.get("updated_at"))
            except PayloadError:
                items.append(row)  # fails alone, with the reason
                continue
            if since and stamp < since:
                reached = True
                break
            items.append(row)
            stamped.append((row, stamp))
            checkpoint["newest"] = max(checkpoint.get("newest") or "", stamp.isoformat())
        settled = (
            not reached
            and mark is not None
            and len(stamped) == len(rows)
            and stamped
            and stamped[-1][1] <= mark
            and in_step(stamped)
        )
        if not (reached or settled or len(rows) < io.PER_PAGE):
            return Batch(items=items, checkpoint={**checkpoint, "page": page + 1}, done=False)
        newest = max(checkpoint.get("newest") or "", watermark or "")
        return Batch(items=items, checkpoint={"watermark": newest or None}, done=True)

    # ------------------------------------------------------------------------ our keys
    def _io_our_key(self, model_name, res_id=""):
        """The key a record of ours carries in InvoiceOcean (a client's ``external_id``, an invoice's
        ``oid``): this database's, the model, then the record's id; without ``res_id``, the prefix."""
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or ""
        return f"odoo-{uuid[:8]}-{model_name}-{res_id}"

    def _io_id_of_key(self, model_name, key):
        """The id of our ``model_name`` record that ``key`` names, or None (not ours, or another database's)."""
        prefix = self._io_our_key(model_name)
        text = str(key or "")
        rest = text[len(prefix) :]
        return int(rest) if text.startswith(prefix) and rest.isdigit() else None

    # ------------------------------------------------------------------------ webhooks
    def _io_check_webhook_secret(self, given):
        self.ensure_one()
        expected = self.sudo().io_webhook_secret or ""
        return bool(expected) and hmac.compare_digest(expected.encode(), str(given or "").encode())

    def _io_receive_webhook(self, payload):
        """A checked webhook: remember which client or document changed and queue an incremental run.

        The body is only a hint: the run reads the record again from InvoiceOcean (its current state),
        so a duplicate delivery or deliveries out of order change nothing.
        """
        self.ensure_one()
        pending = dict(self.io_pending_events or {})
        if isinstance(payload.get("client"), dict):
            ident = payload["client"].get("id") or payload.get("client_id")
            bucket = "clients"
        else:
            deal = payload["deal"]
            ident = (deal.get("external_ids") or {}).get("invoiceocean") or deal.get("id")
            bucket = "documents"
        if not str(ident or "").isdigit():
            raise ValueError("the webhook names no record")
        known = pending.get(bucket) or []
        if str(ident) not in known:
            pending[bucket] = [*known, str(ident)]
        self.sudo().io_pending_events = pending
        run, _created = self.sudo()._queue_run(
            "webhook", kinds=[io.CLIENTS.code, io.DOCUMENTS.code], user=self.responsible_user_id, direction="import"
        )
        return run

    def _io_take_pending(self, bucket):
        pending = dict(self.io_pending_events or {})
        ids = pending.pop(bucket, None) or []
        if ids:
            self.sudo().io_pending_events = pending
        return ids

    # ------------------------------------------------------------------------ actions
    def action_io_view_users(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("recruitment_sync_invoiceocean.invoiceocean_user_action")
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"default_integration_id": self.id}
        return action

    def action_io_view_departments(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "recruitment_sync_invoiceocean.invoiceocean_department_action"
        )
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"default_integration_id": self.id}
        return action

    def action_io_register_webhooks(self):
        """Ask InvoiceOcean to call this Odoo on client and document changes (queued: never from here)."""
        self.ensure_one()
        self._check_can_manage()
        self.sudo().io_pending_events = {**(self.io_pending_events or {}), "register_webhooks": True}
        run, _created = self.sudo()._queue_run("manual", kinds=[io.DEPARTMENTS.code], direction="import")
        return self._notification_action(
            _("Webhooks"), _("InvoiceOcean is asked to call %s in the background.", self.io_webhook_url)
        )

    def _io_register_webhooks(self):
        """POST /webhooks.json for each kind not registered yet at our URL [FK S2]."""
        client = self._io_client()
        existing = client.get("webhooks.json", params={"page": 1, "per_page": io.PER_PAGE}) or []
        have = {
            hook.get("kind") for hook in existing if isinstance(hook, dict) and hook.get("url") == self.io_webhook_url
        }
        for kind in io.WEBHOOK_KINDS:
            if kind not in have:
                client.post(
                    "webhooks.json",
                    json={
                        "webhook": {
                            "kind": kind,
                            "url": self.io_webhook_url,
                            "api_token": self.sudo().io_webhook_secret,
                            "active": True,
                        }
                    },
                )
