"""What an integration knows of its QuickBooks company: tax codes, accounts and items.

Each row is a QuickBooks entry (imported, read-only) next to the Odoo records it stands for
(matched automatically where unambiguous, editable by sync managers). Exports refuse a line
whose Odoo tax, account or product has no row (products: the default item stands in).
"""

from odoo import _, api, fields, models

from odoo.addons.recruitment_sync.services import money

from ..services import quickbooks as qbo


class RecruitmentSyncQboMappingMixin(models.AbstractModel):
    _name = "recruitment.sync.qbo.mapping.mixin"
    _inherit = ["recruitment.sync.mapping.row"]
    _description = "QuickBooks mapping row"
    _order = "name, id"

    integration_id = fields.Many2one(domain=[("provider", "=", "quickbooks")])
    qbo_id = fields.Char(string="QuickBooks ID", required=True, readonly=True, index=True)
    name = fields.Char(required=True, readonly=True)
    active_in_qbo = fields.Boolean(string="Active in QuickBooks", readonly=True, default=True)

    _sql_constraints = [
        ("qbo_id_unique", "unique(integration_id, qbo_id)", "A QuickBooks entry appears once per integration."),
    ]

    def _mapping_active(self):
        return self.active_in_qbo


class RecruitmentSyncQboTaxCode(models.Model):
    _name = "recruitment.sync.qbo.tax.code"
    _inherit = ["recruitment.sync.qbo.mapping.mixin"]
    _description = "QuickBooks tax code"
    _mapping_targets = ("tax_ids",)

    description = fields.Char(readonly=True)
    rate = fields.Float(string="Sales rate (%)", digits=(16, 4), readonly=True, help="The sum of its sales rates.")
    rates = fields.Char(
        string="Sales rates", readonly=True, help="QuickBooks' tax rates of the code, with their rates."
    )
    taxable = fields.Boolean(readonly=True)
    tax_ids = fields.Many2many(
        "account.tax",
        string="Odoo taxes",
        domain="[('type_tax_use', '=', 'sale'), ('company_id', '=', company_id)]",
        help="The Odoo sales taxes this QuickBooks tax code stands for.",
    )

    def _auto_match(self):
        """Odoo sales taxes of the same rate (the only row of that rate)."""
        Tax = self.env["account.tax"].sudo()
        for company in self.company_id:
            rows = self.filtered(lambda r, c=company: r.company_id == c and r.taxable)
            taxes = Tax.search(
                [("type_tax_use", "=", "sale"), ("company_id", "=", company.id), ("amount_type", "=", "percent")]
            )

            def candidates(row, rows=rows, taxes=taxes):
                same_rate = rows.filtered(lambda other: abs(other.rate - row.rate) < 0.0001 and other.active_in_qbo)
                if len(same_rate) != 1:
                    return Tax
                return taxes.filtered(lambda tax: abs(tax.amount - row.rate) < 0.0001)

            rows._auto_map("tax_ids", candidates, _("Automatically: same rate"))


class RecruitmentSyncQboAccount(models.Model):
    _name = "recruitment.sync.qbo.account"
    _inherit = ["recruitment.sync.qbo.mapping.mixin"]
    _description = "QuickBooks account"
    _mapping_targets = ("account_ids", "journal_ids")

    acct_num = fields.Char(string="Number", readonly=True)
    account_type = fields.Char(readonly=True)
    classification = fields.Char(readonly=True)
    account_ids = fields.Many2many(
        "account.account",
        string="Odoo accounts",
        help="The Odoo income accounts whose lines go to this QuickBooks account (items created by the connector).",
    )
    journal_ids = fields.Many2many(
        "account.journal",
        string="Payment journals",
        help="Payments received in these Odoo journals are deposited to this QuickBooks account.",
    )
    accepts_payments = fields.Boolean(compute="_compute_accepts_payments", store=True)

    @api.depends("account_type")
    def _compute_accepts_payments(self):
        for row in self:
            row.accepts_payments = row.account_type in ("Bank", "Other Current Asset")

    def _auto_match(self):
        """Odoo accounts with the QuickBooks account's number as their code."""
        Account = self.env["account.account"].sudo()
        for company in self.company_id:
            rows = self.filtered(lambda r, c=company: r.company_id == c and r.acct_num)
            accounts = Account.search([("code", "in", rows.mapped("acct_num"))]).filtered(
                lambda account, c=company: c in account.company_ids
            )
            rows._auto_map(
                "account_ids",
                lambda row, accounts=accounts: accounts.filtered(lambda account: account.code == row.acct_num),
                _("Automatically: same number"),
            )


class RecruitmentSyncQboItem(models.Model):
    _name = "recruitment.sync.qbo.item"
    _inherit = ["recruitment.sync.qbo.mapping.mixin"]
    _description = "QuickBooks item"
    _mapping_targets = ("product_ids",)

    sku = fields.Char(string="SKU", readonly=True)
    item_type = fields.Char(string="Type", readonly=True)
    income_account_qbo_id = fields.Char(string="Income account ID", readonly=True)
    product_ids = fields.Many2many(
        "product.product",
        "recruitment_sync_qbo_item_product_rel",
        "item_id",
        "product_id",
        string="Odoo products",
        help="Invoice lines of these products go to QuickBooks with this item.",
    )

    def _auto_match(self):
        """Odoo products by SKU (internal reference), then by exact name."""
        Product = self.env["product.product"].sudo()
        rows = self.filtered(lambda r: r.item_type in ("Service", "NonInventory", "Inventory"))
        by_sku = Product.search([("default_code", "in", [sku for sku in rows.mapped("sku") if sku])])
        rows._auto_map(
            "product_ids",
            lambda row: by_sku.filtered(lambda product: row.sku and product.default_code == row.sku),
            _("Automatically: same SKU"),
        )
        names = Product.search([("name", "in", rows.mapped("name"))])
        rows._auto_map(
            "product_ids",
            lambda row: names.filtered(lambda product: product.name == row.name),
            _("Automatically: same name"),
        )


def tax_code_values(code, rates):
    """A mapping row's values from a TaxCode and the TaxRates (id -> TaxRate) it names."""
    if not code.get("Id") or not code.get("Name"):
        raise qbo.PayloadError("The tax code has no Id or Name.")
    details = ((code.get("SalesTaxRateList") or {}).get("TaxRateDetail")) or []
    parts, total = [], money.ZERO
    for detail in details:
        rate = rates.get(((detail.get("TaxRateRef") or {}).get("value")) or "") or {}
        value = money.decimal(rate.get("RateValue") or 0)
        total += value
        parts.append(
            f"{rate.get('Name') or (detail.get('TaxRateRef') or {}).get('name') or '?'} ({value.normalize():f}%)"
        )
    return {
        "qbo_id": str(code["Id"]),
        "name": code["Name"],
        "description": code.get("Description") or False,
        "rate": float(total),
        "rates": ", ".join(parts) or False,
        "taxable": bool(code.get("Taxable")),
        "active_in_qbo": code.get("Active", True) is not False,
    }


def account_values(account):
    if not account.get("Id") or not account.get("Name"):
        raise qbo.PayloadError("The account has no Id or Name.")
    return {
        "qbo_id": str(account["Id"]),
        "name": account["Name"],
        "acct_num": account.get("AcctNum") or False,
        "account_type": account.get("AccountType") or False,
        "classification": account.get("Classification") or False,
        "active_in_qbo": account.get("Active", True) is not False,
    }


def item_values(item):
    if not item.get("Id") or not item.get("Name"):
        raise qbo.PayloadError("The item has no Id or Name.")
    return {
        "qbo_id": str(item["Id"]),
        "name": item["Name"],
        "sku": item.get("Sku") or False,
        "item_type": item.get("Type") or False,
        "income_account_qbo_id": (item.get("IncomeAccountRef") or {}).get("value") or False,
        "active_in_qbo": item.get("Active", True) is not False,
    }
