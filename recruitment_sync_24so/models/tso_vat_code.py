"""The VAT codes of each 24SevenOffice client and the Odoo taxes they stand for.

Each row is a code of ``AccountService.GetTaxCodeList`` (read-only: it comes from 24SevenOffice)
next to the Odoo sales taxes exported with it (matched automatically where unambiguous, editable
by sync managers). Every invoice row names its code (``TaxSettings.TaxCode``), so 24SevenOffice
never falls back to its product's or default VAT; a line whose tax has no code refuses its
invoice with the reason.
"""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

# What sync managers may change; the rest comes from 24SevenOffice.
MAPPING_FIELDS = {"tax_ids", "untaxed", "match_note"}


class RecruitmentSync24soVatCode(models.Model):
    _name = "recruitment.sync.24so.vat.code"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "24SevenOffice VAT code mapping"
    _order = "integration_id, client_ref, rate desc, tax_no"

    integration_id = fields.Many2one(domain=[("provider", "=", "24so")])
    client_ref = fields.Char(string="24SevenOffice client number", required=True, readonly=True)
    client_name = fields.Char(string="24SevenOffice client", readonly=True)
    tax_ref = fields.Integer(string="Tax id", required=True, readonly=True, help="24SevenOffice's TaxId.")
    tax_no = fields.Char(string="VAT code", readonly=True, help="24SevenOffice's TaxNo, sent as the row's TaxCode.")
    name = fields.Char(string="24SevenOffice VAT code", readonly=True)
    rate = fields.Float(string="Rate (%)", digits=(16, 4), readonly=True)
    account_no = fields.Integer(string="VAT account", readonly=True)
    listed = fields.Boolean(
        string="In 24SevenOffice", default=True, readonly=True, help="Still in the client's list of VAT codes."
    )
    tax_ids = fields.Many2many(
        "account.tax",
        "recruitment_sync_24so_vat_code_tax_rel",
        "code_id",
        "tax_id",
        string="Odoo taxes",
        domain="[('company_id', '=', company_id), ('type_tax_use', '=', 'sale')]",
        help="Invoice lines with one of these Odoo sales taxes are sent with this VAT code.",
    )
    untaxed = fields.Boolean(
        string="Lines without tax", help="Invoice lines without any Odoo tax are sent with this VAT code."
    )
    is_mapped = fields.Boolean(string="Mapped", compute="_compute_is_mapped", store=True)
    match_note = fields.Char(
        string="How it was mapped",
        help="Automatically (and by which rule) or by hand; set to 'By hand' when the mapping is changed by hand.",
    )

    _sql_constraints = [
        (
            "code_unique",
            "UNIQUE(integration_id, client_ref, tax_ref)",
            "This 24SevenOffice VAT code is already listed.",
        ),
    ]

    @api.depends("tax_ids", "untaxed")
    def _compute_is_mapped(self):
        for row in self:
            row.is_mapped = bool(row.tax_ids) or row.untaxed

    @api.depends("name", "tax_no", "rate", "client_name")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.name or row.tax_no} ({row.tax_no}, {row.rate:g}%)"

    def write(self, vals):
        if not self.env.su and set(vals) - MAPPING_FIELDS and not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only the mapping columns can be changed: the rest comes from 24SevenOffice."))
        if not self.env.context.get("tso_auto_match") and set(vals) & (MAPPING_FIELDS - {"match_note"}):
            vals = {**vals, "match_note": _("By hand")}
        return super().write(vals)

    @api.constrains("tax_ids", "untaxed")
    def _check_mapped_once(self):
        """One code per Odoo tax (and for lines without tax) in a client: exports must know which."""
        for row in self.sudo():
            same_client = [
                ("id", "!=", row.id),
                ("integration_id", "=", row.integration_id.id),
                ("client_ref", "=", row.client_ref),
            ]
            if row.tax_ids:
                other = self.search([*same_client, ("tax_ids", "in", row.tax_ids.ids)], limit=1)
                if other:
                    raise ValidationError(
                        _(
                            "%(taxes)s already maps to the 24SevenOffice VAT code %(other)s: an Odoo tax maps to one "
                            "VAT code of a client, so that exports know which one to send.",
                            taxes=", ".join((row.tax_ids & other.tax_ids).mapped("display_name")),
                            other=other.display_name,
                        )
                    )
            if row.untaxed and self.search_count([*same_client, ("untaxed", "=", True)]):
                raise ValidationError(_("Another VAT code of this client is already used for lines without tax."))

    # ------------------------------------------------------------------------ from 24SevenOffice
    @api.model
    def _tso_store(self, integration, client_ref, client_name, codes):
        """Upsert the client's VAT codes (``GetTaxCodeList`` items), then map what is unambiguous.

        Returns the client's rows."""
        Code = self.sudo()
        rows = Code.search([("integration_id", "=", integration.id), ("client_ref", "=", client_ref)])
        by_ref = {row.tax_ref: row for row in rows}
        seen = set()
        for code in codes:
            ref = code.get("TaxId")
            if ref is None:
                continue
            seen.add(ref)
            values = {
                "tax_no": str(code.get("TaxNo") or "").strip() or False,
                "name": code.get("TaxName") or False,
                "rate": float(code.get("TaxRate") or 0),
                "account_no": int(code.get("AccountNo") or 0),
                "client_name": client_name or False,
                "listed": True,
            }
            row = by_ref.get(ref)
            if row:
                changed = {key: value for key, value in values.items() if row[key] != value}
                if changed:
                    row.write(changed)
            else:
                by_ref[ref] = Code.create(
                    {"integration_id": integration.id, "client_ref": client_ref, "tax_ref": ref, **values}
                )
        gone = Code.browse([row.id for ref, row in by_ref.items() if ref not in seen and row.listed])
        if gone:
            gone.write({"listed": False})
        rows = Code.browse([row.id for row in by_ref.values()])
        rows._auto_match()
        return rows

    def _auto_match(self):
        """Map what is unambiguous, in the rows of one client (``self``).

        * an Odoo sales tax (percent) that no row maps: to the one listed code of the same rate,
          when exactly one has it;
        * lines without tax: to the one listed 0% code, when exactly one is 0%.

        Anything else waits for a human, and a row mapped by hand is never changed.
        """
        rows = self.filtered("listed")
        if not rows:
            return
        integration = rows.integration_id
        by_rate = {}
        for row in rows:
            by_rate.setdefault(round(row.rate, 4), []).append(row)
        taxes = (
            self.env["account.tax"]
            .sudo()
            .search(
                [
                    ("company_id", "=", integration.company_id.id),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                ]
            )
        )
        by_hand = _("By hand")
        for tax in taxes - self.tax_ids:
            candidates = by_rate.get(round(tax.amount, 4), [])
            if len(candidates) == 1 and candidates[0].match_note != by_hand:
                candidates[0].with_context(tso_auto_match=True).write(
                    {"tax_ids": [fields.Command.link(tax.id)], "match_note": _("Automatically: same rate")}
                )
        zero = by_rate.get(0.0, [])
        if not any(self.mapped("untaxed")) and len(zero) == 1 and zero[0].match_note != by_hand:
            zero[0].with_context(tso_auto_match=True).write(
                {"untaxed": True, "match_note": _("Automatically: the only 0% code")}
            )
