"""The SaveInvoices payload of an invoice: VAT codes, rows, prices, the reference of a credit note,
and the totals 24SevenOffice would compute, checked against Odoo's before sending (a mixin of
the export of one login's batch, ``tso_export``)."""

from odoo.tools import html2plaintext

from odoo.addons.recruitment_sync.services.http_client import PermanentError

from ..services import mapping


class Problem(Exception):
    """Why one invoice cannot be sent (it fails alone, with this reason)."""


class TsoPayloads:
    """Builds and checks the payloads of a batch's invoices."""

    # ------------------------------------------------------------------------ payloads
    def _payloads(self, moves):
        try:
            vat_codes = self._vat_codes(moves)
        except (Problem, PermanentError) as problem:
            self._fail(moves, self._("The VAT codes of 24SevenOffice could not be read: %s", problem))
            return {}
        # The products and customers of the run's next invoices are resolved with the batch's
        # (their problems are recorded, but settled by their own batch).
        ahead = self._invoices_ahead(moves)
        for move in moves | ahead:
            if move not in self.problems:
                try:  # before any lookup or creation: an invoice that cannot be sent costs no call
                    self._row_vat_codes(move, vat_codes)
                except Problem as problem:
                    self.problems[move] = str(problem)
        moves = moves.filtered(lambda move: move not in self.problems)
        resolving = (moves | ahead).filtered(lambda move: move not in self.problems)
        departments = self._departments(resolving)
        resolving = resolving.filtered(lambda move: move not in self.problems)
        products = self._products(resolving)
        customers = self._customers(resolving)
        payloads = {}
        for move in moves:
            if move in self.problems:
                continue
            try:
                payload = self._invoice_payload(move, departments, products, customers, vat_codes)
                self._check_totals(move, payload, vat_codes)
                payloads[move] = payload
            except Problem as problem:
                self.problems[move] = str(problem)
        return payloads

    def _fail(self, moves, reason):
        for move in moves:
            self.problems.setdefault(move, reason)

    # -- VAT ----------------------------------------------------------------------------
    def _vat_codes(self, moves):
        """{"taxes": {account.tax id: code}, "untaxed": code or None, "rates": {TaxCode: Decimal}} of this
        client, a code being (TaxCode or None, its label): its VAT codes read once per run
        (GetTaxCodeList), stored and mapped where unambiguous. Plain data: it outlives a rollback."""
        cached = self.client_cache.get("vat_codes")
        if cached is not None:
            return cached
        if not self.client_ref:
            raise Problem(self._("The 24SevenOffice client of the login is unknown: test the login again."))
        rows = self.env["recruitment.sync.24so.vat.code"]._tso_store(
            self.integration, self.client_ref, self.client_label, self.client.tax_codes()
        )
        codes = {"taxes": {}, "untaxed": None, "rates": {}}
        for row in rows.filtered("listed"):
            code = (mapping.tax_code(row.tax_no), row.display_name)
            if code[0] is not None:
                codes["rates"][code[0]] = mapping.rate(row.rate)
            for tax in row.tax_ids:
                codes["taxes"][tax.id] = code
            if row.untaxed:
                codes["untaxed"] = code
        self.client_cache["vat_codes"] = codes
        return codes

    def _row_vat_codes(self, move, vat_codes):
        """{invoice line: 24SevenOffice TaxCode} of the lines with an amount; Problem when one has none."""
        result = {}
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            taxes = line.tax_ids
            label = (line.name or line.product_id.display_name or "").splitlines()[0][:60] if line.name else line.id
            if len(taxes) > 1 or any(tax.amount_type == "group" for tax in taxes):
                raise Problem(
                    self._(
                        "The line %(line)s has several taxes (%(taxes)s): 24SevenOffice takes one VAT code per row. "
                        "Use one tax per line.",
                        line=label,
                        taxes=", ".join(taxes.mapped("display_name")),
                    )
                )
            row = vat_codes["taxes"].get(taxes.id) if taxes else vat_codes["untaxed"]
            if not row:
                if taxes:
                    reason = self._(
                        "The tax %(tax)s has no 24SevenOffice VAT code in %(client)s: map it on the integration's "
                        "24SevenOffice VAT codes, then export the invoice again.",
                        tax=taxes.display_name,
                        client=self.client_label,
                    )
                else:
                    reason = self._(
                        "The line %(line)s has no tax and no 24SevenOffice VAT code of %(client)s is set for lines "
                        "without tax: tick one on the integration's 24SevenOffice VAT codes, then export the invoice "
                        "again.",
                        line=label,
                        client=self.client_label,
                    )
                raise Problem(reason)
            code, code_label = row
            if code is None:
                raise Problem(self._("The 24SevenOffice VAT code %s has no number that a row can carry.", code_label))
            result[line] = code
        return result

    def _check_totals(self, move, payload, vat_codes):
        """Refuse (before sending) an invoice whose total or VAT in 24SevenOffice would not be Odoo's."""
        sign = -1 if move.move_type == "out_refund" else 1
        ours = (mapping.money(sign * move.amount_total), mapping.money(sign * move.amount_tax))
        rows = payload["InvoiceRows"]["InvoiceRow"]
        theirs = mapping.order_totals(rows, vat_codes["rates"], payload.get("IncludeVAT"))
        self.odoo_totals[move] = ours
        if theirs != ours:
            raise Problem(
                self._(
                    "24SevenOffice would total this invoice %(theirs)s %(currency)s with %(their_vat)s VAT (row by "
                    "row, from the VAT codes %(codes)s) where Odoo totals %(ours)s with %(our_vat)s VAT: not sent. "
                    "Check the 24SevenOffice VAT codes of its taxes, or the rounding of its lines.",
                    theirs=theirs[0],
                    their_vat=theirs[1],
                    ours=ours[0],
                    our_vat=ours[1],
                    currency=move.currency_id.name,
                    codes=", ".join(sorted({str(r["TaxSettings"]["TaxCode"]) for r in rows if r.get("TaxSettings")})),
                )
            )

    # -- the invoice --------------------------------------------------------------------
    def _invoice_payload(self, move, departments, products, customers, vat_codes):
        partner = move.commercial_partner_id
        customer = customers.get(partner)
        if not customer:
            raise Problem(
                self._("The customer %s could not be matched or created in 24SevenOffice.", partner.display_name)
            )
        department = departments.get(move)
        refund = move.move_type == "out_refund"
        sign = -1 if refund else 1
        rows = []
        row_codes = self._row_vat_codes(move, vat_codes)
        include_vat = self._prices_include_vat(move)
        for line in move.invoice_line_ids.sorted(lambda line: (line.sequence, line.id)):
            if line.display_type in ("line_section", "line_note"):
                if line.name:
                    rows.append({"Type": "Text", "Name": mapping.truncate(line.name, "row_name")})
                continue
            if line.display_type != "product":
                continue
            product = self._product_of(line)
            if not product:
                if move.currency_id.is_zero(line.price_subtotal):
                    rows.append({"Type": "Text", "Name": mapping.truncate(line.name, "row_name") or "-"})
                    continue
                raise Problem(
                    self._(
                        "The line %(line)s has no product and no product of lines without product is set on the "
                        "24SevenOffice integration: its amount cannot be sent.",
                        line=(line.name or "").splitlines()[0][:60] if line.name else line.id,
                    )
                )
            row = {
                "ProductId": products.get(product),
                "Name": mapping.truncate(line.name or product.display_name, "row_name"),
                "Quantity": mapping.decimal(sign * line.quantity, mapping.FOUR_PLACES),
                "Price": self._unit_price(line, include_vat),
                "Type": "Normal",
                # Always the row's VAT code: without it 24SevenOffice applies its product's or default VAT.
                "TaxSettings": {"TaxCode": row_codes[line]},
            }
            if not row["ProductId"]:
                raise Problem(self._("The product %s is not available in 24SevenOffice.", product.display_name))
            if line.discount:
                row["DiscountRate"] = mapping.decimal(line.discount)
            if department:
                row["DepartmentId"] = department
            rows.append(row)
        if not any(row.get("Type") == "Normal" for row in rows):
            raise Problem(self._("The invoice has no line with an amount to send."))
        person = move.partner_id if move.partner_id != partner else None
        payload = {
            "CustomerId": customer,
            "CustomerName": mapping.truncate(partner.name, "customer_name"),
            "CustomerOrgNo": self._organization_number(partner),
            "OrderStatus": "Invoiced",
            "DateOrdered": mapping.local_date(move.invoice_date),
            "DateInvoiced": mapping.local_date(move.invoice_date),
            "PaymentTime": mapping.payment_days(move.invoice_date, move.invoice_date_due),
            "IncludeVAT": include_vat,
            "YourReference": mapping.truncate(person.name if person else move.ref, "your_reference"),
            "InvoiceTitle": mapping.truncate(move.name, "invoice_title"),
            "ReferenceNumber": mapping.truncate(move.name, "reference_number"),
            "InvoiceText": mapping.truncate(html2plaintext(move.narration) if move.narration else None, "invoice_text"),
            "InvoiceEmailAddress": mapping.truncate(
                (move.partner_id.email or partner.email or "").split(",")[0].strip() or None, "invoice_email"
            ),
            "Currency": {"Symbol": move.currency_id.name},
            "DepartmentId": department,
            "InvoiceRows": {"InvoiceRow": rows},
        }
        if refund:
            payload.update(self._credited(move))
        return {key: value for key, value in payload.items() if value not in (None, "")}

    @staticmethod
    def _prices_include_vat(move):
        """Whether the invoice is sent with prices including VAT: when every priced line's tax is
        tax-included, so that 24SevenOffice takes the VAT out of Odoo's gross amounts as Odoo did."""
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        return bool(lines) and all(line.tax_ids and all(line.tax_ids.mapped("price_include")) for line in lines)

    def _unit_price(self, line, include_vat=False):
        """The unit price (with VAT when ``include_vat``, else without), before discount
        (24SevenOffice applies DiscountRate)."""
        quantity = line.quantity or 0.0
        factor = 1 - (line.discount or 0.0) / 100
        if quantity and factor:
            price = (line.price_total if include_vat else line.price_subtotal) / (quantity * factor)
        else:
            price = line.price_unit
        two = mapping.decimal(price)
        four = mapping.decimal(price, mapping.FOUR_PLACES)
        return two if mapping.decimal(two, mapping.FOUR_PLACES) == four else four

    def _credited(self, move):
        """The reference of a credit note to the invoice it credits, when that one is in 24SevenOffice."""
        original = move.reversed_entry_id
        if not original:
            return {}
        transfer = self.exporter.Transfer.search(
            [("move_id", "=", original.id), ("client_ref", "=", self.client_ref), ("state", "=", "saved")], limit=1
        )
        if not transfer.order_ref:
            self.notes[move].append(
                self._(
                    "The credited invoice %(invoice)s is not in 24SevenOffice (%(client)s): the credit note was "
                    "sent without a reference to it.",
                    invoice=original.name,
                    client=self.client_label,
                )
            )
            return {}
        values = {"ReferenceOrderId": transfer.order_ref}
        if transfer.invoice_number and transfer.invoice_number.isdigit():
            values["ReferenceInvoiceId"] = int(transfer.invoice_number)
        return values

    def _total_warning(self, move, theirs):
        """The warning of an invoice whose totals read back from 24SevenOffice are not Odoo's."""
        ours = self.odoo_totals.get(move)
        if ours is None:
            return []
        currency = move.currency_id.name
        if theirs is None:
            return [
                self._(
                    "Warning: 24SevenOffice's total could not be read back; check that it is %(ours)s %(currency)s.",
                    ours=ours[0],
                    currency=currency,
                )
            ]
        if theirs == ours:
            return []
        return [
            self._(
                "Warning: 24SevenOffice totals this invoice %(theirs)s %(currency)s with %(their_vat)s VAT, Odoo "
                "%(ours)s with %(our_vat)s VAT: correct it in 24SevenOffice and check the VAT codes of its taxes.",
                theirs=theirs[0],
                their_vat=theirs[1],
                ours=ours[0],
                our_vat=ours[1],
                currency=currency,
            )
        ]
