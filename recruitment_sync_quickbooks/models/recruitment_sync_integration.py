"""The QuickBooks Online provider: connection (realm), settings, imports and the provider hooks."""

import logging
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.recruitment_sync.services.http_client import SyncError
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult, OAuth2Config, RateLimits
from odoo.addons.recruitment_sync.services.rate_limit import get_rate_limiter

from ..services import quickbooks as qbo
from .qbo_mapping import account_values, item_values, tax_code_values

_logger = logging.getLogger(__name__)

QBO_ADMIN_FIELDS = {"qbo_environment", "qbo_minorversion", "qbo_app_url"}
CUSTOMER = "customer"  # binding type of QuickBooks customers (res.partner)
OVERLAP = timedelta(minutes=2)  # re-read this much before the watermark: clock skews lose nothing [I]
READ_TIMEOUT = 120  # §9: QuickBooks' own request timeout


class RecruitmentSyncIntegration(models.Model):
    _name = "recruitment.sync.integration"
    _inherit = ["recruitment.sync.integration", "recruitment.sync.accounting.options", "recruitment.sync.qbo.export"]

    provider = fields.Selection(
        selection_add=[("quickbooks", "QuickBooks Online")], ondelete={"quickbooks": "set default"}
    )

    # -- the company (realm) --------------------------------------------------------------------
    qbo_realm_id = fields.Char(
        string="QuickBooks company ID (realm)",
        readonly=True,
        copy=False,
        help="The company the administrator picked on Intuit's consent page; each realm serves one Odoo company.",
    )
    qbo_company_name = fields.Char(string="QuickBooks company", readonly=True, copy=False)
    qbo_country = fields.Char(string="Country", readonly=True, copy=False)
    qbo_home_currency = fields.Char(string="Home currency", readonly=True, copy=False)
    qbo_is_us = fields.Boolean(
        string="US sales tax",
        compute="_compute_qbo_is_us",
        help="US companies tax lines marked taxable with the transaction's tax code; the others (VAT/GST) "
        "need a tax code on every line.",
    )
    qbo_refresh_expires_at = fields.Datetime(
        string="Authorisation expires",
        compute="_compute_qbo_refresh_expires_at",
        help="Intuit's refresh token expires after 101 days without a sync; reconnect before then. An "
        "activity reminds the administrator two weeks before.",
    )

    # -- connection settings (administrators) --------------------------------------------------
    qbo_environment = fields.Selection(
        [("production", "Production"), ("sandbox", "Intuit sandbox company")],
        string="QuickBooks environment",
        default="production",
        required=True,
    )
    qbo_minorversion = fields.Integer(
        string="Minor version",
        default=qbo.MINORVERSION,
        help="The API minor version sent with every call (QuickBooks serves 75 and later).",
    )
    qbo_app_url = fields.Char(
        string="QuickBooks web app URL",
        groups="base.group_system",
        help="Where View in QuickBooks links go; empty: QuickBooks' own (a sandbox sets its stand-in).",
    )

    # -- what to sync (and recruitment.sync.accounting.options) ---------------------------------
    qbo_create_items = fields.Boolean(
        string="Create missing items",
        default=True,
        help="Products of exported invoices that no QuickBooks item stands for are created as service items "
        "(with the QuickBooks income account mapped to the product's income account).",
    )
    qbo_default_item_id = fields.Many2one(
        "recruitment.sync.qbo.item",
        string="Default item",
        domain="[('integration_id', '=', id), ('active_in_qbo', '=', True)]",
        help="The QuickBooks item of invoice lines without a product (and, when missing items are not created, of "
        "lines whose product has no item).",
    )
    qbo_deposit_account_id = fields.Many2one(
        "recruitment.sync.qbo.account",
        string="Deposit payments to",
        domain="[('integration_id', '=', id), ('accepts_payments', '=', True)]",
        help="Payments of Odoo journals not mapped to a QuickBooks account go there; empty: Undeposited Funds.",
    )

    # -- mappings -------------------------------------------------------------------------------
    qbo_tax_code_ids = fields.One2many("recruitment.sync.qbo.tax.code", "integration_id", string="QuickBooks tax codes")
    qbo_account_ids = fields.One2many("recruitment.sync.qbo.account", "integration_id", string="QuickBooks accounts")
    qbo_item_ids = fields.One2many("recruitment.sync.qbo.item", "integration_id", string="QuickBooks items")
    qbo_tax_code_count = fields.Integer(compute="_compute_qbo_counts")
    qbo_account_count = fields.Integer(compute="_compute_qbo_counts")
    qbo_item_count = fields.Integer(compute="_compute_qbo_counts")

    _sql_constraints = [
        ("qbo_minorversion_75", "CHECK(qbo_minorversion IS NULL OR qbo_minorversion = 0 OR qbo_minorversion >= 75)",
         "QuickBooks serves minor versions 75 and later only."),
    ]  # fmt: skip

    @api.depends("qbo_country")
    def _compute_qbo_is_us(self):
        for integration in self:
            integration.qbo_is_us = (integration.qbo_country or "").upper() in ("US", "USA", "UNITED STATES")

    def _compute_qbo_refresh_expires_at(self):
        for integration in self:
            expires = integration.provider == "quickbooks" and (integration._token_sudo().extra or {}).get(
                "refresh_expires_at"
            )
            integration.qbo_refresh_expires_at = datetime.fromisoformat(expires) if expires else False

    @api.depends("qbo_tax_code_ids", "qbo_account_ids", "qbo_item_ids")
    def _compute_qbo_counts(self):
        for integration in self:
            integration.qbo_tax_code_count = len(integration.qbo_tax_code_ids)
            integration.qbo_account_count = len(integration.qbo_account_ids)
            integration.qbo_item_count = len(integration.qbo_item_ids)

    @api.constrains("qbo_realm_id")
    def _check_qbo_realm(self):
        for integration in self.filtered("qbo_realm_id"):
            other = self.sudo().search(
                [
                    ("id", "!=", integration.id),
                    ("provider", "=", "quickbooks"),
                    ("qbo_realm_id", "=", integration.qbo_realm_id),
                ],
                limit=1,
            )
            if other:
                raise ValidationError(
                    _(
                        "The QuickBooks company %(realm)s is already used by %(other)s: each QuickBooks company maps "
                        "to one Odoo company.",
                        realm=integration.qbo_company_name or integration.qbo_realm_id,
                        other=other.display_name,
                    )
                )

    def write(self, vals):
        if not self.env.su and QBO_ADMIN_FIELDS & set(vals) and not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only System Administrators can change the QuickBooks connection."))
        return super().write(vals)

    # ------------------------------------------------------------------------ OAuth2
    def _provider_oauth2_config(self):
        if self.provider != "quickbooks":
            return super()._provider_oauth2_config()
        return OAuth2Config(
            authorize_url=qbo.AUTHORIZE_URL,
            token_url=qbo.TOKEN_URL,
            revoke_url=qbo.REVOKE_URL,
            scopes=qbo.SCOPES,
            client_auth="basic",
            revoke_format="json",
            token_extra_fields=("x_refresh_token_expires_in",),
            refresh_margin=300,
        )

    def _oauth2_store(self, answer, token=None):
        token = super()._oauth2_store(answer, token)
        if self.provider == "quickbooks" and answer.get("x_refresh_token_expires_in"):
            # Rolling: every refresh moves it; kept with the tokens (same row, same transaction).
            expires = fields.Datetime.now() + timedelta(seconds=int(answer["x_refresh_token_expires_in"]))
            token.extra = {**(token.extra or {}), "refresh_expires_at": expires.isoformat()}
        return token

    def _provider_oauth2_callback(self, params):
        if self.provider != "quickbooks":
            return super()._provider_oauth2_callback(params)
        realm_id = (params.get("realmId") or "").strip()
        if not realm_id.isdigit():
            return _("Intuit did not say which QuickBooks company was connected (no realmId): click Connect again.")
        if self.qbo_realm_id and self.qbo_realm_id != realm_id and self._qbo_has_bindings():
            self._token_sudo().unlink()
            return _(
                "%(name)s already synced with the QuickBooks company %(old)s; Intuit connected %(new)s. To sync "
                "with another company, create another integration (the history and links stay with this one).",
                name=self.name,
                old=self.qbo_company_name or self.qbo_realm_id,
                new=realm_id,
            )
        try:
            with self.env.cr.savepoint():
                self.sudo().qbo_realm_id = realm_id
        except ValidationError as error:
            self._token_sudo().unlink()
            return str(error)
        return None

    def _qbo_has_bindings(self):
        return bool(
            self.env["recruitment.sync.binding"].sudo().search_count([("integration_id", "=", self.id)], limit=1)
        )

    def _provider_on_connected(self, first_time):
        if self.provider != "quickbooks":
            return super()._provider_on_connected(first_time)
        try:
            self._qbo_load_company()
        except (SyncError, UserError) as error:
            message = _("Connected, but the QuickBooks company could not be read: %s", error)
            self.message_post(body=message, subtype_xmlid="mail.mt_note")
            self.sudo().connection_message = message
            return None
        if first_time:
            self._queue_initial_load()
        return None

    def _provider_on_disconnect(self):
        if self.provider != "quickbooks":
            return super()._provider_on_disconnect()
        self.activity_unlink(["mail.mail_activity_data_todo"])
        return None

    # ------------------------------------------------------------------------ hooks
    def _provider_rate_limits(self):
        if self.provider != "quickbooks":
            return super()._provider_rate_limits()
        per_minute = self.rate_limit_per_minute if self.rate_limit_per_minute > 0 else qbo.MINUTE_LIMIT
        return RateLimits(
            windows=((per_minute, qbo.MINUTE_WINDOW_SECONDS), (qbo.SECOND_LIMIT, qbo.SECOND_WINDOW_SECONDS)),
            max_concurrent=qbo.MAX_CONCURRENT,
            count_until_answered=True,
        )

    def _provider_api_base_url(self):
        if self.provider != "quickbooks":
            return super()._provider_api_base_url()
        return self.sudo().api_base_url or qbo.API_URLS[self.qbo_environment or "production"]

    def _provider_http_client_class(self):
        if self.provider != "quickbooks":
            return super()._provider_http_client_class()
        return qbo.QboHttpClient

    def _provider_sync_kinds(self):
        if self.provider != "quickbooks":
            return super()._provider_sync_kinds()
        return self._accounting_sync_kinds(
            (qbo.TAX_CODES, qbo.ACCOUNTS, qbo.ITEMS),
            qbo.CUSTOMERS,
            (qbo.EXPORT_ITEMS, qbo.EXPORT_CUSTOMERS) if self.qbo_create_items else (qbo.EXPORT_CUSTOMERS,),
            qbo.INVOICES,
            qbo.CREDIT_NOTES,
            qbo.PAYMENTS,
        )

    def _provider_line_kinds(self):
        if self.provider != "quickbooks":
            return super()._provider_line_kinds()
        return list(qbo.ALL_KINDS)

    def _provider_count(self, kind):
        if self.provider != "quickbooks":
            return super()._provider_count(kind)
        if kind.direction == "export":
            return self._qbo_export_count(kind)
        return self._qbo_import_count(kind)  # the confirmation shows a SyncError or UserError as unknown

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "quickbooks":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        if kind.direction == "export":
            return self._qbo_fetch_export(kind, checkpoint, batch_size)
        if kind.code == qbo.CUSTOMERS.code:
            return self._qbo_fetch_customers(checkpoint, batch_size)
        if kind.code == qbo.TAX_CODES.code:
            client = self._qbo_client()
            rates = {rate["Id"]: rate for rate in self._qbo_query_all(client, "TaxRate")}
            codes = self._qbo_query_all(client, "TaxCode")
            return Batch(items=codes, checkpoint=None, done=True, context={"rates": rates})
        entity = "Account" if kind.code == qbo.ACCOUNTS.code else "Item"
        return Batch(items=self._qbo_query_all(self._qbo_client(), entity, active_too=True), checkpoint=None, done=True)

    def _provider_process_batch(self, run, kind, batch):
        if self.provider != "quickbooks":
            return super()._provider_process_batch(run, kind, batch)
        if not batch.items:
            return None
        processors = {
            qbo.TAX_CODES.code: self._qbo_import_mapping_rows,
            qbo.ACCOUNTS.code: self._qbo_import_mapping_rows,
            qbo.ITEMS.code: self._qbo_import_mapping_rows,
            qbo.CUSTOMERS.code: self._qbo_process_customers,
            qbo.EXPORT_ITEMS.code: self._qbo_export_items,
            qbo.EXPORT_CUSTOMERS.code: self._qbo_export_customers,
            qbo.INVOICES.code: self._qbo_export_documents,
            qbo.CREDIT_NOTES.code: self._qbo_export_documents,
            qbo.PAYMENTS.code: self._qbo_export_payments,
        }
        processors[kind.code](run, kind, batch)
        return None

    def _provider_test_connection(self):
        if self.provider != "quickbooks":
            return super()._provider_test_connection()
        info = self._qbo_load_company()
        return _(
            "Connected to the QuickBooks company %(name)s (%(country)s, home currency %(currency)s).",
            name=info.get("CompanyName") or "?",
            country=self.qbo_country or "-",
            currency=self.qbo_home_currency or "-",
        )

    def _provider_record_url(self, record, external_id):
        if self.provider != "quickbooks":
            return super()._provider_record_url(record, external_id)
        if record._name == "account.move":
            entity = {"out_invoice": "Invoice", "out_refund": "CreditMemo"}.get(record.move_type)
        else:
            entity = {"res.partner": "Customer", "account.partial.reconcile": "Payment"}.get(record._name)
        return self._qbo_view_url(entity, external_id)

    def _qbo_view_url(self, entity, external_id):
        """Where View in QuickBooks goes for QuickBooks' ``entity`` ``external_id`` (False: no page)."""
        app = self.sudo().qbo_app_url or qbo.APP_URLS[self.qbo_environment or "production"]
        return qbo.app_url(app, entity, external_id)

    def _provider_describe_item(self, kind, item):
        if self.provider != "quickbooks" or not isinstance(item, dict):
            return super()._provider_describe_item(kind, item)
        if item.get("Id"):
            return str(item["Id"]), item.get("DisplayName") or item.get("Name")
        return super()._provider_describe_item(kind, item)

    def _provider_fetch_items(self, run, kind, keys):
        if self.provider != "quickbooks" or kind.code != qbo.CUSTOMERS.code:
            return super()._provider_fetch_items(run, kind, keys)
        ids = [key for key in keys if str(key).isdigit()]
        if not ids:
            return Batch(items=[], checkpoint=None, done=True)
        statement = (
            f"SELECT * FROM Customer WHERE Active IN (true,false) AND Id IN ({','.join(qbo.quote(i) for i in ids)})"
        )
        return Batch(items=self._qbo_query_all(self._qbo_client(), statement=statement), checkpoint=None, done=True)

    # ------------------------------------------------------------------------ client, company
    def _qbo_client(self):
        self.ensure_one()
        if not self.qbo_realm_id:
            raise UserError(_("%s: connect it to a QuickBooks company first.", self.name))
        parameters = self.env["ir.config_parameter"].sudo()
        read_timeout = parameters.get_param("recruitment_sync_quickbooks.read_timeout")
        batches = int(parameters.get_param("recruitment_sync_quickbooks.batch_per_minute") or qbo.BATCH_MINUTE_LIMIT)
        return self._http_client(
            batch_limiter=get_rate_limiter(
                (self.env.cr.dbname, self.id, "batch"),
                ((batches, qbo.MINUTE_WINDOW_SECONDS),),
                count_until_answered=True,
            ),
            base_url=f"{self._provider_api_base_url().rstrip('/')}/{self.qbo_realm_id}",
            minorversion=self.qbo_minorversion or qbo.MINORVERSION,
            timeout=(5, float(read_timeout or READ_TIMEOUT)),
            max_wait=qbo.THROTTLE_WAIT + 30,
        )

    def _qbo_load_company(self):
        client = self._qbo_client()
        info = (client.get(f"companyinfo/{self.qbo_realm_id}") or {}).get("CompanyInfo") or {}
        preferences = (client.get("preferences") or {}).get("Preferences") or {}
        currency = ((preferences.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
        self.sudo().write(
            {
                "qbo_company_name": info.get("CompanyName") or self.qbo_realm_id,
                "qbo_country": info.get("Country") or False,
                "qbo_home_currency": currency or False,
            }
        )
        return info

    def _qbo_query_all(self, client, entity=None, active_too=False, statement=None):
        """Every row of a query, page after page (§5: no next token; stop at a short page)."""
        if statement is None:
            statement = f"SELECT * FROM {entity}" + (" WHERE Active IN (true,false)" if active_too else "")
        found, position = [], 1
        while True:
            page = self._qbo_query(client, f"{statement} STARTPOSITION {position} MAXRESULTS {qbo.MAX_RESULTS}")
            found += page
            if len(page) < qbo.MAX_RESULTS:
                return found
            position += qbo.MAX_RESULTS

    @staticmethod
    def _qbo_query(client, statement):
        answer = (client.get("query", params={"query": statement}) or {}).get("QueryResponse") or {}
        rows = next((value for key, value in answer.items() if isinstance(value, list)), [])
        return [row for row in rows if isinstance(row, dict)]

    # ------------------------------------------------------------------------ refresh-token expiry
    @api.model
    def _cron_qbo_reconnect_reminders(self):
        """An activity for the administrator two weeks before a refresh token expires."""
        soon = fields.Datetime.now() + timedelta(days=qbo.REFRESH_TOKEN_WARNING_DAYS)
        for integration in self.sudo().search([("provider", "=", "quickbooks"), ("state", "=", "connected")]):
            expires = integration.qbo_refresh_expires_at
            if expires and expires <= soon:
                integration._qbo_remind_reconnect(expires)

    def _qbo_remind_reconnect(self, expires):
        summary = _("Reconnect QuickBooks before %s", fields.Date.to_string(expires.date()))
        if self.activity_ids.filtered(lambda activity: activity.summary == summary):
            return
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=expires.date(),
            summary=summary,
            note=_(
                "Intuit's authorisation of %s expires then (it is renewed by every sync; none ran for a long time, "
                "or the 5-year limit is near). Click Reconnect on the integration.",
                self.name,
            ),
            user_id=self.env.ref("base.user_admin").id,
        )

    # ------------------------------------------------------------------------ imports
    def _qbo_import_count(self, kind):
        client = self._qbo_client()
        entity = {qbo.TAX_CODES.code: "TaxCode", qbo.ACCOUNTS.code: "Account", qbo.ITEMS.code: "Item"}.get(kind.code)
        if entity:
            where = "" if entity == "TaxCode" else " WHERE Active IN (true,false)"
            answer = client.get("query", params={"query": f"SELECT COUNT(*) FROM {entity}{where}"}) or {}
            return (answer.get("QueryResponse") or {}).get("totalCount")
        watermark = (self.sync_checkpoint or {}).get(qbo.CUSTOMERS.code, {}) or {}
        where = " WHERE Active IN (true,false)"
        if watermark.get("watermark"):
            since = datetime.fromisoformat(watermark["watermark"]) - OVERLAP
            where += f" AND MetaData.LastUpdatedTime > {qbo.quote(qbo.format_datetime(since))}"
        answer = client.get("query", params={"query": f"SELECT COUNT(*) FROM Customer{where}"}) or {}
        return (answer.get("QueryResponse") or {}).get("totalCount")

    def _qbo_import_mapping_rows(self, run, kind, batch):
        """Upsert the mapping rows of a kind; then map what is unambiguous."""
        if kind.code == qbo.TAX_CODES.code:
            rates = batch.context.get("rates") or {}
            model = "recruitment.sync.qbo.tax.code"

            def values_of(payload):
                return tax_code_values(payload, rates)
        elif kind.code == qbo.ACCOUNTS.code:
            model, values_of = "recruitment.sync.qbo.account", account_values
        else:
            model, values_of = "recruitment.sync.qbo.item", item_values
        rows = self._import_rows(run, kind, model, "qbo_id", batch.items, values_of)
        rows._auto_match()
        if kind.code == qbo.ITEMS.code and not self.qbo_default_item_id:
            services = rows.filtered(lambda row: row.name == "Services" and row.active_in_qbo)
            if len(services) == 1:
                self.sudo().qbo_default_item_id = services

    def _qbo_fetch_customers(self, checkpoint, batch_size):
        """Customers changed since the watermark: CDC within 30 days (§6), else a query (§5).

        CDC has no paging and returns at most 1,000 objects, oldest change first: a saturated
        answer moves the window's start to its newest change and asks again.
        """
        checkpoint = dict(checkpoint or {})
        client = self._qbo_client()
        watermark = checkpoint.get("watermark")
        since = datetime.fromisoformat(watermark) - OVERLAP if watermark else None
        recent = since and qbo.now_utc() - since < timedelta(days=qbo.CDC_LOOKBACK_DAYS, hours=-1)
        if checkpoint.get("mode") != "query" and (recent or checkpoint.get("mode") == "cdc"):
            start = datetime.fromisoformat(checkpoint["cdc_since"]) if checkpoint.get("cdc_since") else since
            answer = (
                client.get("cdc", params={"entities": "Customer", "changedSince": qbo.format_datetime(start)}) or {}
            )
            sections = [
                section
                for response in answer.get("CDCResponse") or ()
                for section in (response.get("QueryResponse") or ())
                if isinstance(section, dict)
            ]
            customers = [row for section in sections for row in section.get("Customer") or () if isinstance(row, dict)]
            stamps = [qbo.parse_datetime((row.get("MetaData") or {}).get("LastUpdatedTime")) for row in customers]
            stamps = [stamp for stamp in stamps if stamp]
            pass_started = (
                checkpoint.get("pass_started")
                or (qbo.parse_datetime(answer.get("time"), "time") or qbo.now_utc()).isoformat()
            )
            if len(customers) >= qbo.CDC_MAX_OBJECTS and stamps:
                newest = max(stamps)
                if newest - timedelta(seconds=1) <= start:  # one instant holds more than the cap: query instead
                    return Batch(items=[], checkpoint={"mode": "query", "watermark": watermark}, done=False)
                # Saturated: the rest is newer than what came; ask again from the newest change.
                next_checkpoint = {
                    "mode": "cdc",
                    "cdc_since": (newest - timedelta(seconds=1)).isoformat(),
                    "watermark": watermark,
                    "pass_started": pass_started,
                }
                return Batch(items=customers, checkpoint=next_checkpoint, done=False)
            return Batch(items=customers, checkpoint={"watermark": pass_started}, done=True)
        # A first load, or a watermark older than CDC's 30 days: the query language, page after page.
        position = checkpoint.get("position", 1)
        where = "WHERE Active IN (true,false)"
        if since:
            where += f" AND MetaData.LastUpdatedTime > {qbo.quote(qbo.format_datetime(since))}"
        statement = (
            f"SELECT * FROM Customer {where} ORDERBY MetaData.LastUpdatedTime "
            f"STARTPOSITION {position} MAXRESULTS {qbo.MAX_RESULTS}"
        )
        answer = client.get("query", params={"query": statement}) or {}
        pass_started = (
            checkpoint.get("pass_started")
            or (qbo.parse_datetime(answer.get("time"), "time") or qbo.now_utc()).isoformat()
        )
        rows = [row for row in (answer.get("QueryResponse") or {}).get("Customer") or () if isinstance(row, dict)]
        if len(rows) < qbo.MAX_RESULTS:
            return Batch(items=rows, checkpoint={"watermark": pass_started}, done=True)
        next_checkpoint = {
            "mode": "query",
            "position": position + qbo.MAX_RESULTS,
            "watermark": watermark,
            "pass_started": pass_started,
        }
        return Batch(items=rows, checkpoint=next_checkpoint, done=False)

    def _qbo_prefetch_partners(self, customers):
        """Everything the matching rules need for a page of customers, in a few queries."""
        uuid = self._database_uuid()
        return self._partner_candidates(
            CUSTOMER,
            [c.get("Id") for c in customers],
            ids={qbo.partner_id_from_customer_number(c.get("AcctNum"), uuid) for c in customers},
            names={qbo.without_deleted_suffix(c.get("DisplayName")) for c in customers},
            emails={(c.get("PrimaryEmailAddr") or {}).get("Address") for c in customers},
            vats={c.get("PrimaryTaxIdentifier") for c in customers if c.get("PrimaryTaxIdentifier")},
        )

    def _qbo_match_partner(self, customer, prefetched):
        """The one Odoo partner a QuickBooks customer is, by the first rule that finds any: (partner, rule).

        Rules: our customer number (AcctNum), VAT number, email, exact name (without the
        " (deleted)" QuickBooks adds to inactive ones). Several partners: refused, never a guess.
        """
        partner_id = qbo.partner_id_from_customer_number(customer.get("AcctNum"), self._database_uuid())
        rules = [
            (_("customer number"), lambda p: partner_id and p.id == partner_id),
            *self._partner_rules(
                customer.get("PrimaryTaxIdentifier"),
                (customer.get("PrimaryEmailAddr") or {}).get("Address"),
                qbo.without_deleted_suffix(customer.get("DisplayName")),
            ),
        ]
        hint = _("merge the duplicates or correct their VAT number or email, then sync again.")
        return self._match_partner(prefetched, customer.get("Id"), rules, _("The QuickBooks customer"), hint)

    def _qbo_partner_values(self, customer):
        name = qbo.without_deleted_suffix(customer.get("DisplayName") or customer.get("CompanyName"))
        if not name:
            raise qbo.PayloadError(_("The QuickBooks customer has no name."))
        address = customer.get("BillAddr") or {}
        country = self._country_of(address.get("Country"))
        return {
            "name": name,
            "email": ((customer.get("PrimaryEmailAddr") or {}).get("Address") or "").strip() or False,
            "vat": (customer.get("PrimaryTaxIdentifier") or "").strip() or False,
            "phone": ((customer.get("PrimaryPhone") or {}).get("FreeFormNumber") or "").strip() or False,
            "street": address.get("Line1") or False,
            "city": address.get("City") or False,
            "zip": address.get("PostalCode") or False,
            "country_id": country.id or False,
        }

    def _qbo_import_customer(self, run, kind, customer, prefetched):
        customer_id = str(customer.get("Id") or "")
        if not customer_id:
            raise qbo.PayloadError(_("The QuickBooks customer has no Id."))
        Binding = self.env["recruitment.sync.binding"]
        binding = prefetched["bindings"].get(customer_id, False)
        if customer.get("status") == "Deleted":
            reason = _("Deleted in QuickBooks: the Odoo partner is kept.")
            return ItemResult("skipped", external_id=customer_id, label=customer_id, reason=reason)
        remote_updated_at = qbo.parse_datetime((customer.get("MetaData") or {}).get("LastUpdatedTime"))
        inactive = customer.get("Active") is False
        values = self._qbo_partner_values(customer)
        if not binding:
            if inactive:
                reason = _("Inactive in QuickBooks and not in Odoo: not imported.")
                return ItemResult("skipped", external_id=customer_id, label=customer.get("DisplayName"), reason=reason)
            partner, rule = self._qbo_match_partner(customer, prefetched)
            if partner:
                return self._adopt_partner(prefetched, CUSTOMER, partner, customer_id, values, remote_updated_at, rule)
        if inactive:
            values.pop("name")  # " (deleted)" is QuickBooks' marker, not the customer's name
        result, binding = Binding._import_record(
            self,
            "res.partner",
            customer_id,
            remote_updated_at,
            values,
            external_model=CUSTOMER,
            binding=binding,
            create_values={"company_id": False, "is_company": True, "customer_rank": 1},
        )
        prefetched["bindings"][customer_id] = binding
        if inactive and result.action == "updated":
            result.reason = _("Inactive in QuickBooks: new invoices of this customer are refused until it is active.")
        return result

    def _qbo_process_customers(self, run, kind, batch):
        prefetched = self._qbo_prefetch_partners(batch.items)
        for customer in batch.items:
            run._process_item(
                kind, customer, lambda run_, kind_, item: self._qbo_import_customer(run_, kind_, item, prefetched)
            )

    # ------------------------------------------------------------------------ actions
    def action_qbo_save_and_sync(self):
        self.ensure_one()
        return self.action_sync_now()

    def action_qbo_view_tax_codes(self):
        return self._rows_action("recruitment_sync_quickbooks.recruitment_sync_qbo_tax_code_action")

    def action_qbo_view_accounts(self):
        return self._rows_action("recruitment_sync_quickbooks.recruitment_sync_qbo_account_action")

    def action_qbo_view_items(self):
        return self._rows_action("recruitment_sync_quickbooks.recruitment_sync_qbo_item_action")
