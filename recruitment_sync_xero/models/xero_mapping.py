"""What an integration knows of its Xero organisations, tax rates and accounts.

The tax-rate and account tables are *mappings*: each row is a Xero item (imported, read-only)
next to the Odoo tax / account it stands for (matched automatically where unambiguous, editable
by sync managers). Exports refuse a line whose Odoo tax or account has no row.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from ..services import xero

_lt = LazyTranslate(__name__)

# Xero's codes in words (as Xero's own screens name them); an unknown code shows as it is.
STATUS_LABELS = {"ACTIVE": _lt("Active"), "ARCHIVED": _lt("Archived"), "DELETED": _lt("Deleted")}
ACCOUNT_TYPE_LABELS = {
    "BANK": _lt("Bank"),
    "CURRENT": _lt("Current asset"),
    "CURRLIAB": _lt("Current liability"),
    "DEPRECIATN": _lt("Depreciation"),
    "DIRECTCOSTS": _lt("Direct costs"),
    "EQUITY": _lt("Equity"),
    "EXPENSE": _lt("Expense"),
    "FIXED": _lt("Fixed asset"),
    "INVENTORY": _lt("Inventory"),
    "LIABILITY": _lt("Liability"),
    "NONCURRENT": _lt("Non-current asset"),
    "OTHERINCOME": _lt("Other income"),
    "OVERHEADS": _lt("Overhead"),
    "PREPAYMENT": _lt("Prepayment"),
    "REVENUE": _lt("Revenue"),
    "SALES": _lt("Sales"),
    "TERMLIAB": _lt("Non-current liability"),
    "PAYGLIABILITY": _lt("PAYG liability"),
    "SUPERANNUATIONEXPENSE": _lt("Superannuation expense"),
    "SUPERANNUATIONLIABILITY": _lt("Superannuation liability"),
    "WAGESEXPENSE": _lt("Wages expense"),
}
ACCOUNT_CLASS_LABELS = {
    "ASSET": _lt("Asset"),
    "EQUITY": _lt("Equity"),
    "EXPENSE": _lt("Expense"),
    "LIABILITY": _lt("Liability"),
    "REVENUE": _lt("Revenue"),
}
REPORT_TAX_TYPE_LABELS = {
    "OUTPUT": _lt("Sales (output tax)"),
    "INPUT": _lt("Purchases (input tax)"),
    "EXEMPTOUTPUT": _lt("Exempt sales"),
    "EXEMPTINPUT": _lt("Exempt purchases"),
    "ECOUTPUT": _lt("EC sales"),
    "ECINPUT": _lt("EC purchases"),
    "ECOUTPUTSERVICES": _lt("EC sales of services"),
    "ECACQUISITIONS": _lt("EC acquisitions"),
    "MOSSSALES": _lt("MOSS sales"),
    "NONE": _lt("No tax"),
    "GSTONIMPORTS": _lt("GST on imports"),
}


def code_label(env, labels, code):
    """The words for a Xero code, in the user's language (the code itself when unknown)."""
    label = labels.get(code or "")
    return env._(label) if label else code or False


class RecruitmentSyncXeroMappingMixin(models.AbstractModel):
    _name = "recruitment.sync.xero.mapping.mixin"
    _inherit = ["recruitment.sync.mapping.row"]
    _description = "Xero mapping row"

    integration_id = fields.Many2one(domain=[("provider", "=", "xero")])
    status = fields.Char(
        string="Status code", readonly=True, help="The item's status in Xero (ACTIVE, ARCHIVED, DELETED)."
    )
    status_label = fields.Char(string="Status", compute="_compute_status_label")

    @api.depends("status")
    @api.depends_context("lang")
    def _compute_status_label(self):
        for row in self:
            row.status_label = code_label(self.env, STATUS_LABELS, row.status)

    def _mapping_active(self):
        return self.status in (False, "ACTIVE")


class RecruitmentSyncXeroTenant(models.Model):
    """An organisation the connected Xero user gave this integration access to."""

    _name = "recruitment.sync.xero.tenant"
    _description = "Xero organisation"
    _order = "name, id"

    integration_id = fields.Many2one("recruitment.sync.integration", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)
    name = fields.Char(required=True, string="Organisation")
    tenant_id = fields.Char(string="Tenant ID", required=True, help="Xero's id of the organisation (xero-tenant-id).")
    connection_id = fields.Char(string="Connection ID", help="Xero's id of this app's connection to it.")
    tenant_type = fields.Char(string="Type")
    auth_event_id = fields.Char(string="Authorisation event")
    connected_at = fields.Datetime(string="Connected at")

    _sql_constraints = [
        ("tenant_unique", "UNIQUE(integration_id, tenant_id)", "This organisation is already listed."),
    ]


class RecruitmentSyncXeroTaxRate(models.Model):
    """A Xero tax rate and the Odoo tax it maps to."""

    _name = "recruitment.sync.xero.tax.rate"
    _inherit = ["recruitment.sync.xero.mapping.mixin"]
    _description = "Xero tax rate mapping"
    _mapping_targets = ("tax_ids",)
    _order = "integration_id, use, effective_rate, tax_type"
    _rec_name = "name"

    tax_type = fields.Char(string="Tax type", required=True, readonly=True, help="Xero's code (e.g. OUTPUT2).")
    name = fields.Char(string="Xero tax rate", readonly=True)
    report_tax_type = fields.Char(string="Report type code", readonly=True)
    report_tax_type_label = fields.Char(string="Report type", compute="_compute_report_tax_type_label")
    use = fields.Selection(
        [("sale", "Sales"), ("purchase", "Purchases"), ("other", "Other")],
        string="Used on",
        readonly=True,
    )
    effective_rate = fields.Float(string="Rate (%)", digits=(16, 4), readonly=True)
    tax_ids = fields.Many2many(
        "account.tax",
        "recruitment_sync_xero_tax_rate_tax_rel",
        "rate_id",
        "tax_id",
        string="Odoo taxes",
        domain="[('company_id', '=', company_id), ('type_tax_use', '=', 'sale')]",
        help="The Odoo sales taxes exported with this Xero tax type (tax-included and tax-excluded variants "
        "of one rate may share it: the invoice says which basis its amounts use).",
    )

    _sql_constraints = [
        ("tax_type_unique", "UNIQUE(integration_id, tax_type)", "This Xero tax rate is already listed."),
    ]

    @api.depends("report_tax_type")
    @api.depends_context("lang")
    def _compute_report_tax_type_label(self):
        for row in self:
            row.report_tax_type_label = code_label(self.env, REPORT_TAX_TYPE_LABELS, row.report_tax_type)

    @api.depends("name", "tax_type", "effective_rate")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.name or row.tax_type} ({row.tax_type}, {row.effective_rate:g}%)"

    def _auto_match(self):
        """Map each unmapped Odoo sales tax to the one Xero sales rate of the same rate, when unambiguous.

        Unambiguous: exactly one active Xero sales rate of the integration has the Odoo tax's rate
        (percent taxes; tax-included and tax-excluded variants alike). Anything else stays for a
        human to decide, and so does a row someone mapped by hand.
        """
        for integration in self.integration_id:
            rows = self.search([("integration_id", "=", integration.id)])
            rows.filtered(lambda r: r.use == "sale" and r._mapping_active())._auto_map_taxes_by_rate(
                _("Automatically: same rate, on sales"), rate_field="effective_rate"
            )


class RecruitmentSyncXeroAccount(models.Model):
    """A Xero account (nominal code) and the Odoo account (or bank journal) it maps to."""

    _name = "recruitment.sync.xero.account"
    _inherit = ["recruitment.sync.xero.mapping.mixin"]
    _description = "Xero account mapping"
    _mapping_targets = ("account_ids", "journal_ids")
    _order = "integration_id, code, name"

    xero_id = fields.Char(string="Xero account ID", required=True, readonly=True)
    code = fields.Char(readonly=True, help="The account's nominal code in Xero.")
    name = fields.Char(string="Xero account", readonly=True)
    account_type = fields.Char(string="Type code", readonly=True)
    account_class = fields.Char(string="Class code", readonly=True)
    account_type_label = fields.Char(string="Type", compute="_compute_account_labels")
    account_class_label = fields.Char(string="Class", compute="_compute_account_labels")
    tax_type = fields.Char(string="Default tax type", readonly=True)
    currency_code = fields.Char(string="Bank currency", readonly=True)
    is_bank = fields.Boolean(string="Bank account", readonly=True)
    accepts_payments = fields.Boolean(
        compute="_compute_accepts_payments",
        store=True,
        string="Takes payments",
        help="A bank account, or an account enabled for payments in Xero.",
    )
    enable_payments = fields.Boolean(string="Payments enabled", readonly=True)
    account_ids = fields.Many2many(
        "account.account",
        "recruitment_sync_xero_account_account_rel",
        "xero_account_id",
        "account_id",
        string="Odoo accounts",
        domain="[('company_ids', 'parent_of', company_id), ('deprecated', '=', False)]",
        help="Invoice lines on these Odoo accounts are exported to this Xero account.",
    )
    journal_ids = fields.Many2many(
        "account.journal",
        "recruitment_sync_xero_account_journal_rel",
        "xero_account_id",
        "journal_id",
        string="Odoo bank journals",
        domain="[('company_id', '=', company_id), ('type', 'in', ('bank', 'cash'))]",
        help="Customer payments received in these journals are exported to this Xero bank account.",
    )

    _sql_constraints = [
        ("xero_unique", "UNIQUE(integration_id, xero_id)", "This Xero account is already listed."),
    ]

    @api.depends("account_type", "account_class")
    @api.depends_context("lang")
    def _compute_account_labels(self):
        for row in self:
            row.account_type_label = code_label(self.env, ACCOUNT_TYPE_LABELS, row.account_type)
            row.account_class_label = code_label(self.env, ACCOUNT_CLASS_LABELS, row.account_class)

    @api.depends("is_bank", "enable_payments")
    def _compute_accepts_payments(self):
        for row in self:
            row.accepts_payments = row.is_bank or row.enable_payments

    @api.depends("code", "name")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.code} {row.name}" if row.code else (row.name or row.xero_id)

    @api.constrains("journal_ids", "is_bank", "enable_payments")
    def _check_journal(self):
        for row in self.sudo():
            if row.journal_ids and not row.accepts_payments:
                raise ValidationError(
                    _(
                        "%(account)s does not take payments in Xero: map a bank journal to a Xero bank account.",
                        account=row.display_name,
                    )
                )

    def _auto_match(self):
        """Map each Odoo account to the Xero account with the same code, when there is one."""
        Account = self.env["account.account"]
        for integration in self.integration_id:
            company = integration.company_id
            rows = self.search([("integration_id", "=", integration.id), ("code", "!=", False)])
            rows = rows.filtered(lambda r: not r.account_ids and r._mapping_active() and not r.is_bank)
            if not rows:
                continue
            taken = self.search([("integration_id", "=", integration.id)]).account_ids
            accounts = Account.with_company(company).search(
                [
                    ("company_ids", "parent_of", company.id),
                    ("code", "in", rows.mapped("code")),
                    ("deprecated", "=", False),
                ]
            )
            by_code = {}
            for account in accounts - taken:
                by_code.setdefault(account.with_company(company).code, []).append(account)
            for row in rows:
                candidates = by_code.get(row.code, [])
                if len(candidates) == 1:
                    row._write_match(
                        {"account_ids": [fields.Command.link(candidates[0].id)]}, _("Automatically: same code")
                    )


def tax_rate_values(payload):
    """Mapping-row values of a Xero TaxRate."""
    tax_type = payload.get("TaxType")
    if not tax_type:
        raise xero.PayloadError("The tax rate has no TaxType.")
    return {
        "tax_type": tax_type,
        "name": payload.get("Name") or tax_type,
        "status": payload.get("Status") or False,
        "report_tax_type": payload.get("ReportTaxType") or False,
        "use": xero.tax_use(payload),
        "effective_rate": xero.effective_rate(payload),
    }


def account_values(payload):
    """Mapping-row values of a Xero Account."""
    if not payload.get("AccountID"):
        raise xero.PayloadError("The account has no AccountID.")
    return {
        "xero_id": payload["AccountID"],
        "code": payload.get("Code") or False,
        "name": payload.get("Name") or payload.get("Code") or payload["AccountID"],
        "status": payload.get("Status") or False,
        "account_type": payload.get("Type") or False,
        "account_class": payload.get("Class") or False,
        "tax_type": payload.get("TaxType") or False,
        "currency_code": payload.get("CurrencyCode") or False,
        "is_bank": payload.get("Type") == "BANK",
        "enable_payments": bool(payload.get("EnablePaymentsToAccount")),
    }
