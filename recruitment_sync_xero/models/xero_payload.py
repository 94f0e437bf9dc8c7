"""What Xero is sent: contacts, invoices and credit notes (checked to total as Odoo does), payments."""

from odoo import _, models

from odoo.addons.recruitment_sync.services import money

from ..services import xero
from .xero_export import CREDIT_NOTE_DOC, DOCUMENT_TYPES, INVOICE_DOC


class RecruitmentSyncXeroPayload(models.AbstractModel):
    """Payloads built from Odoo records and the integration's mappings (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.payload"
    _description = "Xero exports: payloads"

    def _xero_maps(self):
        """The mappings an export reads, once per batch."""
        rows = self.env["recruitment.sync.xero.tax.rate"].sudo().search([("integration_id", "=", self.id)])
        accounts = self.env["recruitment.sync.xero.account"].sudo().search([("integration_id", "=", self.id)])
        no_tax = rows.filtered(lambda row: row.tax_type == xero.NO_TAX_TYPE and row.status in (False, "ACTIVE"))
        return {
            "taxes": {tax.id: row for row in rows for tax in row.tax_ids},
            "no_tax": no_tax[:1],
            "accounts": {account.id: row for row in accounts for account in row.account_ids},
            "journals": {journal.id: row for row in accounts for journal in row.journal_ids},
        }

    # ------------------------------------------------------------------------ customers
    def _xero_contact_payload(self, partner, number):
        name = (partner.name or "").strip()
        if not name:
            raise xero.PayloadError(
                _("The customer (partner id %s) has no name, which Xero requires: name it in Odoo.", partner.id)
            )
        payload = {"Name": name, "ContactNumber": number}
        if partner.email:
            payload["EmailAddress"] = partner.email.strip()
        if partner.vat:
            payload["TaxNumber"] = partner.vat.strip()
        if partner.street or partner.city or partner.zip or partner.country_id:
            address = {
                "AddressType": "STREET",
                "AddressLine1": partner.street or "",
                "AddressLine2": partner.street2 or "",
                "City": partner.city or "",
                "Region": partner.state_id.name or "",
                "PostalCode": partner.zip or "",
                "Country": partner.country_id.name or "",
            }
            payload["Addresses"] = [{key: value for key, value in address.items() if value}]
        phones = [
            {"PhoneType": phone_type, "PhoneNumber": number}
            for phone_type, number in (("DEFAULT", partner.phone), ("MOBILE", partner.mobile))
            if number
        ]
        if phones:
            payload["Phones"] = phones
        return payload

    # ------------------------------------------------------------------------ documents
    def _xero_line_tax_row(self, line, maps, line_amount_types):
        taxes = line.tax_ids
        if len(taxes) > 1:
            raise xero.PayloadError(
                _(
                    "The line “%(line)s” has %(count)s taxes; Xero takes one tax rate per line: use one "
                    "tax (or a group tax mapped to a Xero rate with the same components).",
                    line=line.name or line.product_id.display_name,
                    count=len(taxes),
                )
            )
        if taxes:
            row = maps["taxes"].get(taxes.id)
            if not row:
                raise xero.PayloadError(
                    _(
                        "The Odoo tax “%(tax)s” has no Xero tax rate: map it in Xero Tax Rates, then sync again.",
                        tax=taxes.display_name,
                    )
                )
            return row
        if line_amount_types == xero.NO_TAX:
            return None
        if not maps["no_tax"]:
            raise xero.PayloadError(
                _(
                    "The line “%(line)s” has no tax, and Xero has no “%(code)s” tax rate for untaxed lines: "
                    "import the tax rates again or put a tax on the line.",
                    line=line.name or line.product_id.display_name,
                    code=xero.NO_TAX_TYPE,
                )
            )
        return maps["no_tax"]

    def _xero_line_account(self, line, maps):
        row = maps["accounts"].get(line.account_id.id)
        if not row:
            raise xero.PayloadError(
                _(
                    "The Odoo account “%(account)s” has no Xero account: map it in Xero Accounts, then sync again.",
                    account=line.account_id.display_name,
                )
            )
        return {"AccountCode": row.code} if row.code else {"AccountID": row.xero_id}

    def _xero_line_amounts(self, line, doc, line_amount_types):
        """Quantity and unit price (and discount) of a line; or its amount, where Xero could not redo Odoo's.

        Odoo's own line amount is sent (``LineAmount``) when Xero's arithmetic on the unit price
        would not give it back: a tax-included line in a tax-excluded document, a credit note
        line with a discount (Xero takes none there), a unit price with more than 4 decimals.
        """
        quantity, unit, discount = line.quantity, line.price_unit, line.discount
        included = line.tax_ids.amount and line.tax_ids.price_include and line_amount_types == xero.EXCLUSIVE
        if included or (discount and doc is CREDIT_NOTE_DOC) or money.decimal(unit) != xero.round_unit(unit):
            amount = line.price_total if line_amount_types == xero.INCLUSIVE else line.price_subtotal
            return {
                "Quantity": money.number(xero.round_unit(quantity)),
                "LineAmount": money.number(money.round_money(amount)),
            }
        values = {
            "Quantity": money.number(xero.round_unit(quantity)),
            "UnitAmount": money.number(xero.round_unit(unit)),
        }
        if discount:
            values["DiscountRate"] = money.number(xero.round_unit(discount))
        return values

    def _xero_document_payload(self, move, maps, contact_id):
        """The Invoice / CreditNote of ``move``, after checking that Xero will total it as Odoo does."""
        doc = DOCUMENT_TYPES[move.move_type]
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if not lines:
            raise xero.PayloadError(_("%s has no invoice line to export.", move.name))
        taxes = lines.tax_ids
        rated = taxes.filtered(lambda tax: tax.amount)  # a 0% tax is the same included or not
        if not taxes:
            line_amount_types = xero.NO_TAX
        elif rated and all(tax.price_include for tax in rated):
            line_amount_types = xero.INCLUSIVE
        else:
            line_amount_types = xero.EXCLUSIVE  # tax-included lines of a mixed document are converted
        items, arithmetic = [], []
        for line in lines:
            row = self._xero_line_tax_row(line, maps, line_amount_types)
            item = {
                "Description": (line.name or line.product_id.display_name or "-").strip() or "-",
                **self._xero_line_amounts(line, doc, line_amount_types),
                **self._xero_line_account(line, maps),
            }
            if row:
                item["TaxType"] = row.tax_type
            items.append(item)
            arithmetic.append({**item, "rate": row.effective_rate if row else 0.0})
        mixed = line_amount_types == xero.EXCLUSIVE and any(tax.price_include for tax in rated)
        self._xero_check_total(move, arithmetic, line_amount_types, mixed)
        payload = {
            "Type": doc.xero_type,
            "Contact": {"ContactID": contact_id},
            "Date": xero.format_date(move.invoice_date),
            doc.number_field: move.name,
            "CurrencyCode": move.currency_id.name,
            "LineAmountTypes": line_amount_types,
            "Status": "AUTHORISED",
            "LineItems": items,
        }
        if move.invoice_date_due:
            payload["DueDate"] = xero.format_date(move.invoice_date_due)
        reference = move.ref or (move.invoice_origin if doc is INVOICE_DOC else None)
        if reference:
            payload["Reference"] = reference
        if doc is INVOICE_DOC:
            payload["Url"] = f"{self.get_base_url()}/odoo/account.move/{move.id}"
        company_currency = move.company_id.currency_id
        if (
            xero.SEND_CURRENCY_RATE
            and move.currency_id != company_currency
            and self.xero_base_currency == company_currency.name
            and move.invoice_currency_rate
        ):
            payload["CurrencyRate"] = round(move.invoice_currency_rate, 6)
        return payload

    def _xero_check_total(self, move, arithmetic, line_amount_types, mixed=False):
        """Refuse a document Xero would total differently from Odoo (Xero rounds each line's tax)."""
        _sub_total, tax, total = xero.xero_totals(arithmetic, line_amount_types)
        advice = _(
            "Xero rounds the tax of each line to the cent and its unit prices to 4 decimals; Odoo's totals must be "
            "computed the same way: set the tax rounding to “Round per Line” in the Accounting settings, and check "
            "that the Xero tax rates mapped to the taxes of this document have the same rates."
        )
        if mixed:
            advice += " " + _(
                "This document mixes tax-included and tax-excluded prices: Xero takes one basis per "
                "document, and the tax-included lines converted to tax-excluded amounts round differently. "
                "Use taxes of one kind on it."
            )
        self._check_ledger_total(move, total, tax, "Xero", advice)

    # ------------------------------------------------------------------------ payments
    def _xero_payment_payload(self, partial, documents, maps):
        debit_move, credit_move = partial.debit_move_id.move_id, partial.credit_move_id.move_id
        if debit_move.id in documents.get(INVOICE_DOC.external_model, {}):
            document, payment_move = debit_move, credit_move
            target = {"Invoice": {"InvoiceID": documents[INVOICE_DOC.external_model][debit_move.id].external_id}}
            amount = partial.debit_amount_currency
        else:
            document, payment_move = credit_move, debit_move
            target = {
                "CreditNote": {"CreditNoteID": documents[CREDIT_NOTE_DOC.external_model][credit_move.id].external_id}
            }
            amount = partial.credit_amount_currency
        journal = payment_move.journal_id
        account = maps["journals"].get(journal.id) or self.xero_payment_account_id
        if not account:
            raise xero.PayloadError(
                _(
                    "The payment journal “%(journal)s” has no Xero bank account: map it in Xero Accounts, or set "
                    "a default bank account on the integration.",
                    journal=journal.display_name,
                )
            )
        reference = payment_move.origin_payment_id.name or payment_move.ref or payment_move.name
        return {
            **target,
            "Account": {"AccountID": account.xero_id},
            "Date": xero.format_date(max(payment_move.date, document.invoice_date or payment_move.date)),
            "Amount": money.number(money.round_money(amount)),
            "Reference": reference,
        }
