"""The Xero provider: connection, organisations, settings and the provider hooks."""

import base64
import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.recruitment_sync.services.http_client import NotFoundError, SyncError
from odoo.addons.recruitment_sync.services.provider import OAuth2Config, RateLimits

from ..services import xero

_logger = logging.getLogger(__name__)


# Xero settings only a System Administrator may change (the organisation, OAuth2, limits).
XERO_ADMIN_FIELDS = {"xero_tenant_id", "xero_scope_set", "xero_use_pkce", "xero_daily_limit", "xero_app_url"}
# Seconds to wait for Xero's answer to a batch of 50 documents [I]; the system parameter
# ``recruitment_sync_xero.read_timeout`` changes it.
READ_TIMEOUT = 60


def jwt_claims(token):
    """The claims of a JWT (unverified: only to read which consent the token comes from)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (AttributeError, IndexError, ValueError):
        return {}


class RecruitmentSyncIntegration(models.Model):
    _name = "recruitment.sync.integration"
    _inherit = [
        "recruitment.sync.integration",
        "recruitment.sync.accounting.options",
        "recruitment.sync.xero.import",
        "recruitment.sync.xero.export",
        "recruitment.sync.xero.export.select",
        "recruitment.sync.xero.payload",
        "recruitment.sync.xero.send",
    ]

    provider = fields.Selection(
        selection_add=[("xero", "Xero")],
        ondelete={"xero": "set default"},
    )

    # -- the organisation ---------------------------------------------------------------------
    xero_tenant_ids = fields.One2many(
        "recruitment.sync.xero.tenant", "integration_id", string="Xero organisations", readonly=True
    )
    xero_tenant_id = fields.Many2one(
        "recruitment.sync.xero.tenant",
        string="Xero organisation",
        domain="[('integration_id', '=', id)]",
        copy=False,
        tracking=True,
        help="The Xero organisation this company's documents go to. Xero lists the organisations the "
        "connected Xero user gave access to when connecting.",
    )
    xero_organisation_name = fields.Char(string="Organisation name", readonly=True, copy=False)
    xero_app_url = fields.Char(
        string="Xero web app URL",
        groups="base.group_system",
        help="Where View in Xero links go; empty: https://go.xero.com (a sandbox sets its stand-in).",
    )
    xero_short_code = fields.Char(
        string="Short code", readonly=True, copy=False, help="Xero's short code of the organisation (for links)."
    )
    xero_base_currency = fields.Char(string="Base currency", readonly=True, copy=False)
    xero_synced_tenant = fields.Char(
        string="Synced organisation ID",
        readonly=True,
        copy=False,
        help="The organisation this integration's documents were synced with: another one needs another integration.",
    )

    # -- connection settings (administrators) ---------------------------------------------------
    xero_scope_set = fields.Selection(
        [
            ("granular", "Granular scopes (apps created from March 2026)"),
            ("broad", "Broad scopes (older Xero apps)"),
        ],
        string="Scopes",
        default="granular",
        required=True,
        help="Xero apps created from 2 March 2026 can only ask for granular scopes; older apps may keep "
        "the broad accounting.transactions scope until September 2027. Reconnect after changing it.",
    )
    xero_use_pkce = fields.Boolean(
        string="Use PKCE",
        default=True,
        help="Proof Key for Code Exchange: required by Xero apps of the 'Auth code with PKCE' type, "
        "accepted by web apps.",
    )
    xero_daily_limit = fields.Integer(
        string="Calls per day",
        default=xero.DAY_LIMIT,
        help="Xero's daily call limit of your plan, per organisation (5,000 on paid tiers, 1,000 on the "
        "Starter tier). A sync that reaches it pauses and resumes when Xero allows calls again.",
    )

    # -- what to sync (recruitment.sync.accounting.options) ----------------------------------
    xero_payment_account_id = fields.Many2one(
        "recruitment.sync.xero.account",
        string="Default bank account",
        domain="[('integration_id', '=', id), ('accepts_payments', '=', True)]",
        help="Payments received in an Odoo journal that is not mapped to a Xero bank account go to this "
        "one. Leave empty to export only payments of mapped journals.",
    )

    # -- mappings -------------------------------------------------------------------------------
    xero_tax_rate_ids = fields.One2many("recruitment.sync.xero.tax.rate", "integration_id", string="Xero tax rates")
    xero_account_ids = fields.One2many("recruitment.sync.xero.account", "integration_id", string="Xero accounts")
    xero_tax_rate_count = fields.Integer(compute="_compute_xero_counts")
    xero_account_count = fields.Integer(compute="_compute_xero_counts")
    xero_unmapped_count = fields.Integer(compute="_compute_xero_counts", string="Unmapped")

    @api.depends("xero_tax_rate_ids.is_mapped", "xero_account_ids.is_mapped")
    def _compute_xero_counts(self):
        for integration in self:
            taxes = integration.xero_tax_rate_ids
            accounts = integration.xero_account_ids
            integration.xero_tax_rate_count = len(taxes)
            integration.xero_account_count = len(accounts)
            integration.xero_unmapped_count = len(
                taxes.filtered(lambda row: row.use == "sale" and not row.is_mapped)
            ) + len(accounts.filtered(lambda row: row.account_class == "REVENUE" and not row.is_mapped))

    @api.constrains("xero_tenant_id")
    def _check_xero_tenant(self):
        for integration in self.filtered("xero_tenant_id"):
            others = self.search(
                [
                    ("id", "!=", integration.id),
                    ("provider", "=", "xero"),
                    ("xero_tenant_id.tenant_id", "=", integration.xero_tenant_id.tenant_id),
                ]
            )
            if others:
                raise ValidationError(
                    _(
                        "The Xero organisation %(organisation)s is already used by %(other)s: "
                        "each organisation maps to one Odoo company.",
                        organisation=integration.xero_tenant_id.name,
                        other=others[0].display_name,
                    )
                )

    @api.constrains("xero_daily_limit")
    def _check_xero_daily_limit(self):
        for integration in self:
            if integration.provider == "xero" and integration.xero_daily_limit < 1:
                raise ValidationError(_("The daily call limit must be at least 1."))

    # ------------------------------------------------------------------------ ORM
    def write(self, vals):
        if not self.env.su and XERO_ADMIN_FIELDS & set(vals) and not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only System Administrators can change the Xero organisation and connection."))
        tenant_changed = "xero_tenant_id" in vals and any(
            integration.xero_tenant_id.id != vals["xero_tenant_id"] for integration in self
        )
        if tenant_changed and vals["xero_tenant_id"]:
            self._xero_check_tenant_change(self.env["recruitment.sync.xero.tenant"].browse(vals["xero_tenant_id"]))
        result = super().write(vals)
        if tenant_changed:
            for integration in self.filtered(lambda i: i.provider == "xero"):
                integration._xero_tenant_chosen()
        return result

    def _xero_check_tenant_change(self, tenant):
        for integration in self:
            if not integration.xero_synced_tenant or integration.xero_synced_tenant == tenant.tenant_id:
                continue
            if (
                self.env["recruitment.sync.binding"]
                .sudo()
                .search_count([("integration_id", "=", integration.id)], limit=1)
            ):
                raise UserError(
                    _(
                        "%(name)s already synced records with another Xero organisation: to sync with "
                        "%(organisation)s, create another integration (the history and links stay with this one).",
                        name=integration.name,
                        organisation=tenant.name,
                    )
                )

    # ------------------------------------------------------------------------ provider hooks
    def _provider_oauth2_config(self):
        if self.provider != "xero":
            return super()._provider_oauth2_config()
        return OAuth2Config(
            authorize_url=xero.AUTHORIZE_URL,
            token_url=xero.TOKEN_URL,
            revoke_url=xero.REVOKE_URL,
            scopes=xero.SCOPE_SETS[self.xero_scope_set or "granular"],
            use_pkce=self.xero_use_pkce,
            refresh_margin=xero.REFRESH_MARGIN,
        )

    def _provider_rate_limits(self):
        if self.provider != "xero":
            return super()._provider_rate_limits()
        per_minute = self.rate_limit_per_minute if self.rate_limit_per_minute > 0 else xero.MINUTE_LIMIT
        return RateLimits(
            windows=(
                (per_minute, xero.MINUTE_WINDOW_SECONDS),
                (self.xero_daily_limit or xero.DAY_LIMIT, xero.DAY_SECONDS),
            ),
            max_concurrent=xero.MAX_CONCURRENT,
        )

    def _provider_api_base_url(self):
        if self.provider != "xero":
            return super()._provider_api_base_url()
        return self.sudo().api_base_url or xero.API_URL

    def _provider_http_client_class(self):
        if self.provider != "xero":
            return super()._provider_http_client_class()
        return xero.XeroHttpClient

    def _provider_sync_kinds(self):
        if self.provider != "xero":
            return super()._provider_sync_kinds()
        return self._accounting_sync_kinds(
            (xero.TAX_RATES, xero.ACCOUNTS),
            xero.CUSTOMERS,
            (xero.EXPORT_CUSTOMERS,),
            xero.INVOICES,
            xero.CREDIT_NOTES,
            xero.PAYMENTS,
        )

    def _provider_line_kinds(self):
        if self.provider != "xero":
            return super()._provider_line_kinds()
        # Lines of earlier runs keep their kinds when a setting turns a kind off.
        return [
            xero.TAX_RATES,
            xero.ACCOUNTS,
            xero.CUSTOMERS,
            xero.EXPORT_CUSTOMERS,
            xero.INVOICES,
            xero.CREDIT_NOTES,
            xero.PAYMENTS,
        ]

    def _provider_count(self, kind):
        if self.provider != "xero":
            return super()._provider_count(kind)
        if kind.direction == "export":
            return self._xero_export_count(kind)
        return self._xero_import_count(kind)  # the confirmation shows a SyncError or UserError as unknown

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "xero":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        if kind.direction == "export":
            return self._xero_fetch_export(kind, checkpoint, batch_size)
        return self._xero_fetch_import(kind, checkpoint, batch_size)

    def _provider_process_batch(self, run, kind, batch):
        if self.provider != "xero":
            return super()._provider_process_batch(run, kind, batch)
        processors = {
            xero.TAX_RATES.code: self._xero_import_mapping_rows,
            xero.ACCOUNTS.code: self._xero_import_mapping_rows,
            xero.CUSTOMERS.code: self._xero_process_contacts,
            xero.EXPORT_CUSTOMERS.code: self._xero_export_contacts,
            xero.INVOICES.code: self._xero_export_documents,
            xero.CREDIT_NOTES.code: self._xero_export_documents,
            xero.PAYMENTS.code: self._xero_export_payments,
        }
        if batch.items:
            processors[kind.code](run, kind, batch.items)
        return None

    def _provider_test_connection(self):
        if self.provider != "xero":
            return super()._provider_test_connection()
        organisation = self._xero_load_organisation()
        return _(
            "Connected to the Xero organisation %(name)s (%(code)s, base currency %(currency)s).",
            name=organisation.get("Name") or "?",
            code=organisation.get("ShortCode") or "-",
            currency=organisation.get("BaseCurrency") or "-",
        )

    def _provider_on_connected(self, first_time):
        if self.provider != "xero":
            return super()._provider_on_connected(first_time)
        try:
            self._xero_refresh_tenants()
        except SyncError as error:
            message = _("Connected, but the Xero organisations could not be listed: %s", error)
            self.message_post(body=message, subtype_xmlid="mail.mt_note")
            self.sudo().connection_message = message
        return None

    def _provider_on_disconnect(self):
        """Remove this organisation's connection in Xero; the grant is revoked only if it was the last.

        Revoking a Xero grant removes *every* organisation the user connected to this app,
        including those other Odoo companies may use.
        """
        if self.provider != "xero":
            return super()._provider_on_disconnect()
        remaining = None
        try:
            client = self._xero_connections_client()
            if self.xero_tenant_id.connection_id:
                try:
                    client.delete(self.xero_tenant_id.connection_id)
                except NotFoundError:
                    _logger.info("Xero integration %s: the connection was already removed in Xero", self.id)
            remaining = [connection for connection in client.get("") or [] if isinstance(connection, dict)]
        except (SyncError, UserError) as error:
            _logger.warning("Xero integration %s: removing the connection failed: %s", self.id, error)
        self.sudo().write({"xero_tenant_id": False, "xero_short_code": False, "xero_organisation_name": False})
        self.sudo().xero_tenant_ids.unlink()
        return {"grant": bool(remaining)}  # other organisations still use the grant: keep it alive

    def _provider_record_url(self, record, external_id):
        if self.provider != "xero":
            return super()._provider_record_url(record, external_id)
        if record._name != "account.move" or record.move_type not in ("out_invoice", "out_refund"):
            return False
        external_model = "invoice" if record.move_type == "out_invoice" else "credit_note"
        return xero.deep_link(external_model, external_id, self.xero_short_code)

    def _provider_describe_item(self, kind, item):
        if self.provider != "xero" or not isinstance(item, dict):
            return super()._provider_describe_item(kind, item)
        for key, label in (("ContactID", "Name"), ("TaxType", "Name"), ("AccountID", "Name")):
            if item.get(key):
                return str(item[key]), item.get(label) or item.get("Code")
        return super()._provider_describe_item(kind, item)

    # ------------------------------------------------------------------------ clients
    def _xero_client(self):
        """The accounting API client of the chosen organisation."""
        self.ensure_one()
        if not self.xero_tenant_id:
            raise UserError(_("%s: choose the Xero organisation of this company first.", self.name))
        read_timeout = self.env["ir.config_parameter"].sudo().get_param("recruitment_sync_xero.read_timeout")
        return self._http_client(
            tenant_id=self.xero_tenant_id.tenant_id,
            timeout=(5, float(read_timeout or READ_TIMEOUT)),
            max_wait=xero.MINUTE_WINDOW_SECONDS + 30,
            day_limit=self.xero_daily_limit,
        )

    def _xero_connections_client(self):
        """The client of ``/connections`` (the bearer token only, no organisation)."""
        self.ensure_one()
        return self._http_client(
            base_url=xero.connections_url(self._provider_api_base_url()),
            max_wait=xero.MINUTE_WINDOW_SECONDS + 30,
        )

    # ------------------------------------------------------------------------ organisations
    def _xero_refresh_tenants(self):
        """List the organisations this grant reaches; keep the chosen one, or choose the only one."""
        self.ensure_one()
        connections = self._xero_connections_client().get("") or []
        auth_event = jwt_claims(self._token_sudo().access_token or "").get("authentication_event_id")
        Tenant = self.env["recruitment.sync.xero.tenant"].sudo()
        existing = {tenant.tenant_id: tenant for tenant in self.sudo().xero_tenant_ids}
        seen = Tenant
        for connection in connections:
            if not isinstance(connection, dict) or not connection.get("tenantId"):
                continue
            values = {
                "name": connection.get("tenantName") or connection["tenantId"],
                "connection_id": connection.get("id") or False,
                "tenant_type": connection.get("tenantType") or False,
                "auth_event_id": connection.get("authEventId") or False,
                "connected_at": xero.parse_datetime(connection.get("createdDateUtc")) or False,
            }
            tenant = existing.get(connection["tenantId"])
            if tenant:
                tenant.write(values)
            else:
                tenant = Tenant.create({**values, "integration_id": self.id, "tenant_id": connection["tenantId"]})
            seen |= tenant
        (self.sudo().xero_tenant_ids - seen - self.xero_tenant_id.sudo()).unlink()
        if self.xero_tenant_id in seen:
            self._xero_tenant_chosen()
            return seen
        used = set(
            self.sudo()
            .search([("id", "!=", self.id), ("provider", "=", "xero"), ("xero_tenant_id", "!=", False)])
            .xero_tenant_id.mapped("tenant_id")
        )
        organisations = seen.filtered(
            lambda tenant: tenant.tenant_type in (False, "ORGANISATION") and tenant.tenant_id not in used
        )
        just_picked = organisations.filtered(lambda tenant: auth_event and tenant.auth_event_id == auth_event)
        for candidates in (just_picked, organisations):
            if len(candidates) == 1:
                try:
                    with self.env.cr.savepoint():
                        self.sudo().write({"xero_tenant_id": candidates.id})
                except (UserError, ValidationError) as error:  # used by another company, or another org
                    self.message_post(body=str(error), subtype_xmlid="mail.mt_note")
                    continue
                return seen
        if self.xero_tenant_id and self.xero_tenant_id not in seen:
            self.sudo().connection_message = _(
                "The organisation %s is no longer connected to this Xero app: reconnect and pick it.",
                self.xero_tenant_id.name,
            )
        elif len(organisations) > 1:
            self.message_post(
                body=_("Xero gave access to %s organisations: choose the one of this company.", len(organisations)),
                subtype_xmlid="mail.mt_note",
            )
        return seen

    def _xero_tenant_chosen(self):
        """The organisation was chosen: read its details, then import its settings (first time)."""
        self.ensure_one()
        if not self.xero_tenant_id:
            return
        self.sudo().xero_synced_tenant = self.xero_tenant_id.tenant_id
        try:
            self._xero_load_organisation()
        except SyncError as error:
            self.message_post(
                body=_("The Xero organisation's details could not be read: %s", error), subtype_xmlid="mail.mt_note"
            )
        if self.state == "connected" and not self.initial_load_done:
            self._queue_initial_load()

    def _xero_load_organisation(self):
        answer = self._xero_client().get("Organisation") or {}
        organisation = (answer.get("Organisations") or [{}])[0]
        self.sudo().write(
            {
                "xero_organisation_name": organisation.get("Name") or self.xero_tenant_id.name,
                "xero_short_code": organisation.get("ShortCode") or False,
                "xero_base_currency": organisation.get("BaseCurrency") or False,
            }
        )
        return organisation

    # ------------------------------------------------------------------------ actions
    def action_xero_save_and_sync(self):
        """Save & Sync: the form is saved before this runs; then the confirmation with the counts."""
        self.ensure_one()
        return self.action_sync_now()

    def action_xero_refresh_organisations(self):
        self.ensure_one()
        self._check_can_manage()
        self._xero_refresh_tenants()
        return True

    def action_xero_view_tax_rates(self):
        return self._rows_action(
            "recruitment_sync_xero.recruitment_sync_xero_tax_rate_action", context={"search_default_unmapped": 0}
        )

    def action_xero_view_accounts(self):
        return self._rows_action(
            "recruitment_sync_xero.recruitment_sync_xero_account_action", context={"search_default_unmapped": 0}
        )
