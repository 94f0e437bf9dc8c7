"""The VAT codes of each 24SevenOffice client and the Odoo taxes they stand for.

Each row is a code of ``AccountService.GetTaxCodeList`` (read-only: it comes from 24SevenOffice)
next to the Odoo sales taxes exported with it (matched automatically where unambiguous, editable
by sync managers). Every invoice row names its code (``TaxSettings.TaxCode``), so 24SevenOffice
never falls back to its product's or default VAT; a line whose tax has no code refuses its
invoice with the reason.
"""

from odoo import _, api, fields, models


class RecruitmentSync24soVatCode(models.Model):
    _name = "recruitment.sync.24so.vat.code"
    _inherit = ["recruitment.sync.mapping.row"]
    _description = "24SevenOffice VAT code mapping"
    # An Odoo tax (and lines without tax) maps to one code of each client.
    _mapping_targets = ("tax_ids", "untaxed")
    _mapping_scope = ("client_ref",)
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
    _sql_constraints = [
        (
            "code_unique",
            "UNIQUE(integration_id, client_ref, tax_ref)",
            "This 24SevenOffice VAT code is already listed.",
        ),
    ]

    @api.depends("name", "tax_no", "rate", "client_name")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.name or row.tax_no} ({row.tax_no}, {row.rate:g}%)"

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
        rows._auto_map_taxes_by_rate(_("Automatically: same rate"))
        by_hand = _("By hand")
        zero = [row for row in rows if round(row.rate, 4) == 0.0]
        if not any(self.mapped("untaxed")) and len(zero) == 1 and zero[0].match_note != by_hand:
            zero[0]._write_match({"untaxed": True}, _("Automatically: the only 0% code"))
