"""To QuickBooks: the items and customers the invoices need, invoices, credit memos, payments.

Every write goes through ``/batch`` (§7: at most 30 items) with a ``requestid`` derived from the
documents and their content version: a retry after a timeout sends the same id, and QuickBooks
replays its first answer instead of creating the documents twice. When the answer is lost for
good (the run gave up), the next attempt first looks the documents up by DocNumber.
"""

import functools

from odoo import _, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.recruitment_sync.services import money
from odoo.addons.recruitment_sync.services.binder import Binder
from odoo.addons.recruitment_sync.services.http_client import RetryableError, SyncError
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult

from ..services import quickbooks as qbo
from .qbo_mapping import item_values

CUSTOMER = "customer"
ITEM = "item"
PAYMENT = "payment"
DOCUMENTS = {
    qbo.INVOICES.code: ("out_invoice", "invoice", "Invoice"),
    qbo.CREDIT_NOTES.code: ("out_refund", "credit_note", "CreditMemo"),
}
PAYLOAD_ERRORS = (qbo.PayloadError, UserError, ValidationError)


class RecruitmentSyncQboExport(models.AbstractModel):
    """To QuickBooks, on a QuickBooks integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.qbo.export"
    _description = "QuickBooks exports"

    # ------------------------------------------------------------------------ selection
    def _qbo_moves_sql(self, move_type, external_model, counting=False):
        """Posted documents never exported, or changed in Odoo since their export."""
        domain = self._posted_moves_domain(move_type, self.export_start_date)
        return self._moves_to_export_sql(domain, external_model, counting)

    def _qbo_documents_sql(self, counting=False):
        parts = [
            self._qbo_moves_sql(move_type, external_model, counting)
            for code, (move_type, external_model, _entity) in DOCUMENTS.items()
            if (self.export_invoices if code == qbo.INVOICES.code else self.export_credit_notes)
        ]
        return SQL(" UNION ").join(parts) if parts else SQL("SELECT 1 WHERE FALSE")

    def _qbo_export_sql(self, kind, counting=False):
        if kind.code == qbo.EXPORT_ITEMS.code:
            # Products the documents need that have no item, and mapped products changed since
            # their item was mapped or pushed (the hash tells what really changed).
            return "product.product", SQL(
                """SELECT DISTINCT l.product_id FROM account_move_line l
                    WHERE l.move_id IN (%s) AND l.display_type = 'product' AND l.product_id IS NOT NULL
                      AND l.product_id NOT IN (
                          SELECT rel.product_id FROM recruitment_sync_qbo_item_product_rel rel
                            JOIN recruitment_sync_qbo_item item ON item.id = rel.item_id
                           WHERE item.integration_id = %s)
                   UNION
                   SELECT rel.product_id FROM recruitment_sync_qbo_item_product_rel rel
                     JOIN recruitment_sync_qbo_item item ON item.id = rel.item_id
                     JOIN product_product pp ON pp.id = rel.product_id
                     JOIN product_template pt ON pt.id = pp.product_tmpl_id
                    WHERE item.integration_id = %s AND item.active_in_qbo AND item.product_hash IS NOT NULL
                      AND GREATEST(pp.write_date, pt.write_date) >= item.products_synced_at""",
                self._qbo_documents_sql(counting),
                self.id,
                self.id,
            )
        if kind.code == qbo.EXPORT_CUSTOMERS.code:
            return "res.partner", self._customers_to_export_sql(self._qbo_documents_sql(counting), CUSTOMER)
        if kind.code == qbo.PAYMENTS.code:
            return "account.partial.reconcile", self._qbo_payments_sql()
        move_type, external_model, _entity = DOCUMENTS[kind.code]
        return "account.move", self._qbo_moves_sql(move_type, external_model, counting)

    def _qbo_payments_sql(self):
        """Reconciliations of an exported invoice with a payment, or with an exported credit memo."""
        bound = self._bound_ids_sql("account.move", "invoice")
        bound_credits = self._bound_ids_sql("account.move", "credit_note")
        paid = SQL(
            """debit_move.id IN (%s) AND credit_move.state = 'posted'
               AND (credit_move.origin_payment_id IS NOT NULL OR credit_move.statement_line_id IS NOT NULL
                    OR credit_move.id IN (%s))""",
            bound,
            bound_credits,
        )
        return self._reconciliations_to_export_sql(PAYMENT, paid)

    def _qbo_export_count(self, kind):
        _model, sql = self._qbo_export_sql(kind, counting=True)
        return self._count_sql(sql)

    def _qbo_fetch_export(self, kind, checkpoint, batch_size):
        model, sql = self._qbo_export_sql(kind)
        return self._export_batch(kind, model, sql, checkpoint, batch_size)

    # ------------------------------------------------------------------------ helpers
    def _qbo_bindings_of(self, model, ids, external_model):
        """{record id: binding} of ``model`` records (one query, the core's Binder)."""
        return self._binder(external_model).bindings_of(self.env[model].browse(list(ids)))

    def _qbo_requestid_prefix(self):
        uuid = self._database_uuid()
        return f"{uuid}-{self.id}-{self.qbo_realm_id}"

    def _qbo_send_batch(self, client, entries, version_parts):
        """Send ``entries`` [(batch item without bId, context)] through ``/batch``, 30 at a time,
        up to ``BATCHES_AT_ONCE`` requests at once (the client's limiters pace them).

        Yields (context, entity JSON or None, error text or None, fault codes, uncertain). An
        uncertain item (QuickBooks stayed unreachable, or its answer lacks the item) may have been
        written: look it up before sending it again. Long waits and credentials stop the run.
        """
        chunks = []
        for start in range(0, len(entries), qbo.MAX_BATCH):
            chunk = entries[start : start + qbo.MAX_BATCH]
            items = [{"bId": str(index), **item} for index, (item, _context) in enumerate(chunk)]
            requestid = qbo.batch_requestid(self._qbo_requestid_prefix(), version_parts[start : start + qbo.MAX_BATCH])
            chunks.append((chunk, items, requestid))

        def send(items, requestid):
            answer = client.post("batch", params={"requestid": requestid}, json={"BatchItemRequest": items}) or {}
            return answer, client.last_tid  # this thread's answer's tid

        for offset in range(0, len(chunks), qbo.BATCHES_AT_ONCE):
            group = chunks[offset : offset + qbo.BATCHES_AT_ONCE]
            calls = [functools.partial(send, items, requestid) for _chunk, items, requestid in group]
            results = self._http_call_many(calls)
            for (chunk, items, _requestid), result in zip(group, results, strict=True):
                yield from self._qbo_batch_outcomes(client, chunk, items, result)

    def _qbo_batch_outcomes(self, client, chunk, items, result):
        if isinstance(result, RetryableError):
            if result.retry_after and result.retry_after > client.max_wait:
                raise result
            for _item, context in chunk:
                yield context, None, str(result), set(), True
            return
        if isinstance(result, SyncError):
            for _item, context in chunk:
                yield context, None, str(result), set(), False
            return
        answer, tid = result
        answered = [element for element in answer.get("BatchItemResponse") or () if isinstance(element, dict)]
        paired = Binder.pair(items, answered, lambda element: element.get("bId"))
        for (_item, context), element in zip(chunk, paired, strict=True):
            if element is None:
                reason = _("QuickBooks' answer did not include this item: it is looked up before it is sent again.")
                yield context, None, reason, set(), True
                continue
            if "Fault" in element:
                yield context, None, qbo.fault_text(element, tid), qbo.fault_codes(element), False
                continue
            entity = next(
                (value for key, value in element.items() if key not in ("bId",) and isinstance(value, dict)), None
            )
            yield (
                context,
                entity,
                None if entity else _("QuickBooks returned nothing for it."),
                set(),
                entity is None,
            )

    def _qbo_read(self, client, entity, ids):
        """{Id: record} of ``entity`` rows, read fresh (SyncToken, Balance) in queries of 500 ids."""
        found = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            statement = f"SELECT * FROM {entity} WHERE Id IN ({','.join(qbo.quote(i) for i in chunk)}) MAXRESULTS 1000"
            for row in self._qbo_query(client, statement):
                found[str(row.get("Id"))] = row
        return found

    # ------------------------------------------------------------------------ items
    def _qbo_income_rows(self):
        """{Odoo income account id: its QuickBooks account row}."""
        accounts = self.env["recruitment.sync.qbo.account"].sudo().search([("integration_id", "=", self.id)])
        return {account.id: row for row in accounts for account in row.account_ids}

    def _qbo_item_fields(self, product, income_rows=None):
        """What the QuickBooks item of ``product`` holds (§3.7): its name, SKU, price and, when its
        income account is mapped, that account."""
        income_rows = self._qbo_income_rows() if income_rows is None else income_rows
        income = product.property_account_income_id or product.categ_id.property_account_income_categ_id
        price = money.number(money.decimal(product.list_price))
        values = {"Name": (product.name or "")[:100].strip(), "UnitPrice": price}
        if product.default_code:
            values["Sku"] = product.default_code[:100]
        if income_rows.get(income.id):
            values["IncomeAccountRef"] = qbo.ref(income_rows[income.id].qbo_id)
        return values

    def _qbo_export_items(self, run, kind, batch):
        """Service items for the products the invoices need (a name QuickBooks knows is mapped to
        it); mapped products changed in Odoo update their item."""
        client = self._qbo_client()
        Item = self.env["recruitment.sync.qbo.item"].sudo()
        income_rows = self._qbo_income_rows()
        mapped = {
            product.id: row
            for row in Item.search([("integration_id", "=", self.id), ("product_ids", "in", batch.items.ids)])
            for product in row.product_ids
        }
        self._qbo_update_items(run, kind, client, batch.items.filtered(lambda p: p.id in mapped), mapped, income_rows)
        entries, parts = [], []
        for product in batch.items.filtered(lambda p: p.id not in mapped):
            payload = {**self._qbo_item_fields(product, income_rows), "Type": "Service"}
            if not payload.get("IncomeAccountRef"):  # never another account's: its income would be booked wrong
                income = product.property_account_income_id or product.categ_id.property_account_income_categ_id
                reason = _(
                    "The product %(product)s has no QuickBooks item, and its income account %(account)s no QuickBooks "
                    "account: map the account in QuickBooks Accounts (or the product in QuickBooks Items).",
                    product=product.display_name,
                    account=income.display_name or "-",
                )
                run._record(kind, ItemResult("failed", product, reason=reason))
                continue
            if not product.list_price:
                del payload["UnitPrice"]
            entries.append(({"operation": "create", "Item": payload}, product))
            parts.append(f"item:{product.id}:{money.content_hash(payload)}")
        for product, element, error, codes, uncertain in self._qbo_send_batch(client, entries, parts):
            if error and qbo.DUPLICATE_NAME in codes:
                rows = self._qbo_query(
                    client, f"SELECT * FROM Item WHERE Name = {qbo.quote(product.name[:100].strip())}"
                )
                if rows:
                    element, error = rows[0], None
            if error:
                run._record(
                    kind, ItemResult("failed", product, reason=error, failure_type="transient" if uncertain else None)
                )
                continue
            row = Item.search([("integration_id", "=", self.id), ("qbo_id", "=", str(element["Id"]))], limit=1)
            values = {"product_ids": [(4, product.id)], "match_note": _("Created by the export")}
            if row:
                row.with_context(qbo_auto_match=True).write(values)
            else:
                Item.with_context(qbo_auto_match=True).create(
                    {**item_values(element), **values, "integration_id": self.id}
                )
            run._record(kind, ItemResult("exported", product, str(element["Id"])))

    def _qbo_update_items(self, run, kind, client, products, rows, income_rows, second_try=False):
        """Sparse updates of the items whose one product changed since it was mapped or pushed
        (§4: read right before with its SyncToken; 5010: read again, try once more)."""
        stamp = self.env.cr.now()  # the transaction's time, as the products' write_date
        wanted = {}
        for product in products:
            row = rows[product.id]
            values = self._qbo_item_fields(product, income_rows)
            version = money.content_hash(values)
            if not row.product_hash or len(row.product_ids) != 1:
                continue  # several products share the item: none of them decides its price
            if version == row.product_hash:
                row.write({"products_synced_at": stamp})  # written, but nothing the item holds changed
                continue
            wanted[product] = (row, values, version)
        if not wanted:
            return
        current = self._qbo_read(client, "Item", [row.qbo_id for row, _values, _version in wanted.values()])
        entries, parts = [], []
        for product, (row, values, version) in wanted.items():
            remote = current.get(row.qbo_id)
            if remote is None:
                reason = _(
                    "%(product)s changed, but its QuickBooks item %(item)s is inactive or deleted there: make it "
                    "active in QuickBooks or map the product to another item.",
                    product=product.display_name,
                    item=row.name,
                )
                run._record(kind, ItemResult("failed", product, row.qbo_id, reason))
                continue
            body = {**values, "Id": row.qbo_id, "SyncToken": remote["SyncToken"], "sparse": True}
            entries.append(({"operation": "update", "Item": body}, (product, row, version)))
            parts.append(f"item:{product.id}:{version}:{remote['SyncToken']}")
        stale = self.env["product.product"]
        for (product, row, version), element, error, codes, uncertain in self._qbo_send_batch(client, entries, parts):
            if error and qbo.STALE_OBJECT in codes and not second_try:
                stale |= product  # changed in QuickBooks meanwhile: read again, try once more
                continue
            if error and qbo.DUPLICATE_NAME in codes:
                error = _(
                    "%(error)s Another QuickBooks item (or customer, vendor or employee) is named %(name)s: rename "
                    "the product or that entry.",
                    error=error,
                    name=product.name,
                )
            if error:
                failure = "transient" if uncertain else None
                run._record(kind, ItemResult("failed", product, row.qbo_id, error, failure_type=failure))
                continue
            row.write({**item_values(element), "product_hash": version, "products_synced_at": stamp})
            run._record(kind, ItemResult("updated", product, str(element["Id"])))
        if stale:
            self._qbo_update_items(run, kind, client, stale, rows, income_rows, second_try=True)

    # ------------------------------------------------------------------------ customers
    def _qbo_customer_payload(self, partner, currency):
        name = (partner.name or "").strip()
        if not name:
            raise qbo.PayloadError(
                _("The customer (partner id %s) has no name, which QuickBooks requires.", partner.id)
            )
        payload = {
            "DisplayName": name[:500],
            "CompanyName": name[:100],
            "AcctNum": qbo.customer_number(self._database_uuid(), partner.id),
            "CurrencyRef": qbo.ref(currency),
        }
        if partner.email:
            payload["PrimaryEmailAddr"] = {"Address": partner.email.strip()}
        if partner.phone:
            payload["PrimaryPhone"] = {"FreeFormNumber": partner.phone.strip()}
        if partner.vat and not self.qbo_is_us:
            payload["PrimaryTaxIdentifier"] = partner.vat.strip()
        address = {
            "Line1": partner.street,
            "Line2": partner.street2,
            "City": partner.city,
            "CountrySubDivisionCode": partner.state_id.code,
            "PostalCode": partner.zip,
            "Country": partner.country_id.code,
        }
        address = {key: value for key, value in address.items() if value}
        if address:
            payload["BillAddr"] = address
        return payload

    def _qbo_export_customers(self, run, kind, batch):
        """The customers the documents need, in the currency of their documents (QuickBooks fixes a
        customer's currency). A name QuickBooks already uses (6240) is looked up: the same customer
        is linked, another customer, a vendor or an employee fails with what to rename."""
        client = self._qbo_client()
        partners = batch.items
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (m.commercial_partner_id) m.commercial_partner_id, c.name
                     FROM account_move m JOIN res_currency c ON c.id = m.currency_id
                    WHERE m.id IN (%s) AND m.commercial_partner_id IN %s ORDER BY m.commercial_partner_id, m.id""",
                self._qbo_documents_sql(),
                tuple(partners.ids) or (0,),
            )
        )
        currencies = dict(self.env.cr.fetchall())
        own = self._own_company_partners()
        entries, parts = [], []
        for partner in partners:
            try:
                if partner in own:
                    raise qbo.PayloadError(_("%s is this company's own partner: not a customer.", partner.display_name))
                currency = currencies.get(partner.id) or self.qbo_home_currency or self.company_id.currency_id.name
                payload = self._qbo_customer_payload(partner, currency)
            except PAYLOAD_ERRORS as error:
                run._record(kind, ItemResult("failed", partner, reason=str(error.args[0])))
                continue
            entries.append(({"operation": "create", "Customer": payload}, partner))
            parts.append(f"customer:{partner.id}:{money.content_hash(payload)}")
        to_bind = []
        for partner, element, error, codes, uncertain in self._qbo_send_batch(client, entries, parts):
            reason = None
            if error and (qbo.DUPLICATE_NAME in codes or uncertain):
                element, reason = self._qbo_same_customer(client, partner, error)
                if element:
                    error = None
                elif uncertain:
                    reason = error
            if error:
                failure = "transient" if uncertain else None
                run._record(kind, ItemResult("failed", partner, reason=reason or error, failure_type=failure))
                continue
            to_bind.append((partner, element["Id"], {"qbo_sync_token": element.get("SyncToken")}))
            action = "already_exists" if reason else "exported"
            run._record(kind, ItemResult(action, partner, str(element["Id"]), reason=reason))
        self._binder(CUSTOMER).bind_many(to_bind)

    def _qbo_same_customer(self, client, partner, error):
        """(QuickBooks customer that is ``partner``, why) or (None, why not) after a 6240 or a lost answer."""
        name = partner.name.strip()
        rows = self._qbo_query(
            client, f"SELECT * FROM Customer WHERE DisplayName = {qbo.quote(name)} AND Active IN (true,false)"
        )
        if not rows:
            return None, _(
                "%(error)s QuickBooks uses the name “%(name)s” for a vendor or an employee (names are unique across "
                "customers, vendors and employees): rename the customer in Odoo, or that entry in QuickBooks, then "
                "sync again.",
                error=error,
                name=name,
            )
        customer = rows[0]
        bound = self._binder(CUSTOMER).bindings_for("res.partner", [customer["Id"]])
        ours = qbo.partner_id_from_customer_number(customer.get("AcctNum"), self._database_uuid())
        why = self._partner_contradiction(
            partner,
            bound.get(customer["Id"]),
            ours,
            _("account number"),
            customer.get("PrimaryTaxIdentifier"),
            (customer.get("PrimaryEmailAddr") or {}).get("Address"),
        )
        if not why and customer.get("Active") is False:
            why = _("it is inactive in QuickBooks: make it active there")
        if why:
            return None, _(
                "QuickBooks already has a customer named “%(name)s” (Id %(id)s) that is not this Odoo partner: "
                "%(why)s. Rename one of them, then sync again.",
                name=name,
                id=customer["Id"],
                why=why,
            )
        return customer, _("Already in QuickBooks under this name, nothing contradicting: linked to it.")

    # ------------------------------------------------------------------------ documents
    def _qbo_maps(self):
        rows = self.env["recruitment.sync.qbo.tax.code"].sudo().search([("integration_id", "=", self.id)])
        items = self.env["recruitment.sync.qbo.item"].sudo().search([("integration_id", "=", self.id)])
        accounts = self.env["recruitment.sync.qbo.account"].sudo().search([("integration_id", "=", self.id)])
        return {
            "taxes": {tax.id: row for row in rows for tax in row.tax_ids},
            "percents": {row.qbo_id: row.rate for row in rows},
            "products": {product.id: row for row in items for product in row.product_ids},
            "journals": {journal.id: row for row in accounts for journal in row.journal_ids},
        }

    def _qbo_line_item(self, line, maps):
        row = maps["products"].get(line.product_id.id) if line.product_id else None
        if not row and line.product_id and self.qbo_create_items:
            # Its item should have been created before the documents: not the default item instead.
            raise qbo.PayloadError(
                _(
                    "The product %(product)s has no QuickBooks item: creating it failed (see “Items the invoices "
                    "need” in the sync history). Map its income account in QuickBooks Accounts, or the product in "
                    "QuickBooks Items, then sync again.",
                    product=line.product_id.display_name,
                )
            )
        row = row or self.qbo_default_item_id
        if not row:
            raise qbo.PayloadError(
                _(
                    "The line “%(line)s” has no QuickBooks item: map its product in QuickBooks Items, or choose a "
                    "default item on the integration.",
                    line=line.name or line.product_id.display_name,
                )
            )
        if not row.active_in_qbo:
            raise qbo.PayloadError(
                _(
                    "The QuickBooks item %s is inactive: make it active in QuickBooks or map the product to another.",
                    row.name,
                )
            )
        return row

    def _qbo_mapped_tax_code(self, taxes, maps):
        row = maps["taxes"].get(taxes.id)
        if not row:
            raise qbo.PayloadError(
                _("The Odoo tax “%s” has no QuickBooks tax code: map it in QuickBooks Tax Codes.", taxes.display_name)
            )
        return row.qbo_id

    def _qbo_sales_line(self, line, maps, us, inclusive):
        """(the SalesItemLineDetail line, its figures for the totals, the US tax code it needs or None)."""
        taxes = line.tax_ids
        if len(taxes) > 1:
            raise qbo.PayloadError(
                _("The line “%(line)s” has %(count)s taxes; QuickBooks takes one tax code per line.",
                  line=line.name or line.product_id.display_name, count=len(taxes))
            )  # fmt: skip
        item = self._qbo_line_item(line, maps)
        amount = money.round_money(line.price_subtotal)
        detail = {"ItemRef": qbo.ref(item.qbo_id, item.name)}
        unit = money.decimal(line.price_unit)
        plain = not line.discount and not (taxes.price_include and taxes.amount)
        if plain and line.quantity and money.round_money(money.decimal(line.quantity) * unit) == amount:
            detail.update(Qty=money.number(money.decimal(line.quantity)), UnitPrice=money.number(unit))
        code = us_code = None
        if us:
            taxed = bool(taxes and taxes.amount)
            detail["TaxCodeRef"] = qbo.ref("TAX" if taxed else "NON")
            us_code = self._qbo_mapped_tax_code(taxes, maps) if taxed else None
        else:
            if not taxes:
                raise qbo.PayloadError(
                    _(
                        "The line “%s” has no tax; QuickBooks needs a VAT code on every line of a non-US company: "
                        "put a tax (e.g. a 0%% or exempt one mapped to a QuickBooks code) on it.",
                        line.name or line.product_id.display_name,
                    )
                )
            code = self._qbo_mapped_tax_code(taxes, maps)
            detail["TaxCodeRef"] = qbo.ref(code)
            if inclusive:
                detail["TaxInclusiveAmt"] = money.number(money.round_money(line.price_total))
        sent = {
            "DetailType": "SalesItemLineDetail",
            "Amount": money.number(amount),
            "Description": (line.name or line.product_id.display_name or "-").strip()[:4000] or "-",
            "SalesItemLineDetail": detail,
        }
        return sent, {"amount": amount, "gross": money.round_money(line.price_total), "code": code}, us_code

    def _qbo_carry_line_rounding(self, move, lines, sent, arithmetic, us):
        """Odoo rounds the sum of a tax's bases (Round Globally), QuickBooks adds rounded line
        amounts: the cents between them go on the largest line of the tax code (its amount alone,
        without quantity and unit price), so that QuickBooks taxes the base Odoo taxed."""
        groups = {}
        for index, line in enumerate(lines):
            if line.tax_ids.price_include and line.tax_ids.amount:
                continue  # a tax-included line's net is Odoo's own rounding of its gross
            key = "all" if us else arithmetic[index]["code"]
            groups.setdefault(key, []).append(index)
        for indexes in groups.values():
            exact = sum(
                (
                    money.decimal(lines[i].quantity) * money.decimal(lines[i].price_unit)
                    * (qbo.HUNDRED - money.decimal(lines[i].discount)) / qbo.HUNDRED
                    for i in indexes
                ),
                money.ZERO,
            )  # fmt: skip
            difference = money.round_money(exact) - sum((arithmetic[i]["amount"] for i in indexes), money.ZERO)
            if not difference or abs(difference) > money.CENT * len(indexes):
                continue
            largest = max(indexes, key=lambda i: abs(arithmetic[i]["amount"]))
            arithmetic[largest]["amount"] += difference
            sent[largest]["Amount"] = money.number(arithmetic[largest]["amount"])
            sent[largest]["SalesItemLineDetail"].pop("Qty", None)
            sent[largest]["SalesItemLineDetail"].pop("UnitPrice", None)

    def _qbo_document_payload(self, move, maps, customer_id):
        """The Invoice / CreditMemo of ``move``, after checking that QuickBooks totals it as Odoo does."""
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if not lines:
            raise qbo.PayloadError(_("%s has no invoice line to export.", move.name))
        if len(move.name or "") > qbo.DOC_NUMBER_MAX:
            raise qbo.PayloadError(
                _(
                    "%s is longer than the 21 characters QuickBooks takes as a document number: shorten the sequence.",
                    move.name,
                )
            )
        us = self.qbo_is_us
        rated = lines.tax_ids.filtered(lambda tax: tax.amount)
        inclusive = not us and bool(rated) and all(tax.price_include for tax in rated)
        global_tax = "TaxInclusive" if inclusive else "TaxExcluded"
        sent, arithmetic, us_codes = [], [], set()
        for line in lines:
            sent_line, figures, us_code = self._qbo_sales_line(line, maps, us, inclusive)
            sent.append(sent_line)
            arithmetic.append(figures)
            if us_code:
                us_codes.add(us_code)
        if not inclusive:
            self._qbo_carry_line_rounding(move, lines, sent, arithmetic, us)
        payload = {
            "CustomerRef": qbo.ref(customer_id),
            "DocNumber": move.name,
            "TxnDate": move.invoice_date.isoformat(),
            "CurrencyRef": qbo.ref(move.currency_id.name),
            "Line": sent,
        }
        if move.move_type == "out_invoice" and move.invoice_date_due:
            payload["DueDate"] = move.invoice_date_due.isoformat()
        if move.ref:
            payload["PrivateNote"] = move.ref[:4000]
        company_currency = move.company_id.currency_id
        if (
            move.currency_id != company_currency
            and self.qbo_home_currency == company_currency.name
            and move.invoice_currency_rate
        ):
            payload["ExchangeRate"] = round(1 / move.invoice_currency_rate, 6)  # home value of one foreign unit
        if us:
            if len(us_codes) > 1:
                raise qbo.PayloadError(
                    _(
                        "%s has lines of several sales tax codes; a US QuickBooks transaction takes one: split it.",
                        move.name,
                    )
                )
            detail = {"TotalTax": money.number(money.round_money(move.amount_tax))}
            if us_codes:
                detail["TxnTaxCodeRef"] = qbo.ref(us_codes.pop())
            payload["TxnTaxDetail"] = detail
            tax, total = qbo.sales_totals(arithmetic, {}, us=True, total_tax=move.amount_tax)
        else:
            tax, total = qbo.sales_totals(arithmetic, maps["percents"], us=False, global_tax=global_tax)
            if inclusive and total != money.round_money(move.amount_total):
                # Odoo rounds the tax of tax-included prices on their net amounts: sent tax-excluded,
                # QuickBooks taxes the same nets and may land on Odoo's total where the gross does not.
                excluded = qbo.sales_totals(arithmetic, maps["percents"], us=False, global_tax="TaxExcluded")
                if excluded[1] == money.round_money(move.amount_total):
                    global_tax, (tax, total) = "TaxExcluded", excluded
                    for line in sent:
                        line["SalesItemLineDetail"].pop("TaxInclusiveAmt", None)
            payload["GlobalTaxCalculation"] = global_tax
        self._check_ledger_total(
            move,
            total,
            tax,
            "QuickBooks",
            _(
                "QuickBooks rounds the tax once per tax code (on the sum of its lines): set the tax rounding to “Round "
                "Globally” in the Accounting settings, use taxes of one kind (included or excluded) per document, and "
                "check the rates of the mapped QuickBooks tax codes."
            ),
        )
        return payload

    def _qbo_export_documents(self, run, kind, batch, second_try=False):
        move_type, external_model, entity = DOCUMENTS[kind.code]
        moves = batch.items
        stamp = fields.Datetime.now()
        client = self._qbo_client()
        maps = self._qbo_maps()
        bindings = self._qbo_bindings_of("account.move", moves.ids, external_model)
        customers = self._qbo_bindings_of("res.partner", moves.commercial_partner_id.ids, CUSTOMER)
        lookup = self._qbo_uncertain_moves(kind, moves - moves.filtered(lambda m: m.id in bindings))
        found_earlier = self._qbo_find_by_number(client, entity, lookup) if lookup else {}
        prepared = []  # (move, binding, payload, version)
        to_bind = []  # (move, QuickBooks id, binding values): bound together at the end
        to_send = self._documents_to_send(
            run,
            kind,
            moves,
            bindings,
            customers,
            lambda move, customer: self._qbo_document_payload(move, maps, customer),
            stamp,
        )
        for move, binding, customer, payload, version in to_send:
            earlier = found_earlier.get(move.name)
            if earlier and self._qbo_is_same_document(earlier, move, customer.external_id):
                to_bind.append(self._qbo_document_binding(move, earlier, version))
                reason = _("Already in QuickBooks (sent by an earlier attempt whose answer was lost): linked to it.")
                run._record(kind, ItemResult("already_exists", move, str(earlier["Id"]), reason))
                continue
            prepared.append((move, binding, payload, version))
        updates = [entry for entry in prepared if entry[1]]
        current = (
            self._qbo_read(client, entity, [binding.external_id for _m, binding, _p, _v in updates]) if updates else {}
        )
        entries, parts = [], []
        for move, binding, payload, version in prepared:
            if binding:
                remote = current.get(binding.external_id)
                refusal = self._qbo_update_refusal(move, remote)
                if refusal:
                    binding.write({"last_synced_at": stamp, "refused_hash": version})
                    run._record(kind, ItemResult("failed", move, binding.external_id, refusal))
                    continue
                body = {**payload, "Id": binding.external_id, "SyncToken": remote["SyncToken"], "sparse": True}
                entries.append(({"operation": "update", entity: body}, (move, binding, version)))
            else:
                entries.append(({"operation": "create", entity: payload}, (move, binding, version)))
            # An update's id names the SyncToken it was read with: a retry after a 5010 is a new request.
            token = entries[-1][0][entity].get("SyncToken", "")
            parts.append(f"{entity}:{move.id}:{version}:{token}")
        stale = []
        for (move, binding, version), element, error, codes, uncertain in self._qbo_send_batch(client, entries, parts):
            external_id = binding.external_id if binding else None
            if error and qbo.STALE_OBJECT in codes and not second_try:
                stale.append(move)  # changed in QuickBooks meanwhile: read again, try once more
                continue
            if error and qbo.DUPLICATE_NUMBER in codes and not binding:
                earlier = self._qbo_find_by_number(client, entity, move).get(move.name)
                customer = customers[move.commercial_partner_id.id].external_id
                if earlier and self._qbo_is_same_document(earlier, move, customer):
                    to_bind.append(self._qbo_document_binding(move, earlier, version))
                    reason = _("Already in QuickBooks with this number and the same customer and total: linked to it.")
                    run._record(kind, ItemResult("already_exists", move, str(earlier["Id"]), reason))
                    continue
                error = _(
                    "%(error)s QuickBooks already has a %(entity)s numbered %(number)s for another customer or amount: "
                    "renumber one of them (or let QuickBooks number documents: turn off custom transaction numbers).",
                    error=error,
                    entity=entity,
                    number=move.name,
                )
            if error:
                failure = "transient" if uncertain else None
                run._record(kind, ItemResult("failed", move, external_id, error, failure_type=failure))
                continue
            to_bind.append(self._qbo_document_binding(move, element, version))
            run._record(kind, self._qbo_document_result(move, binding, element))
        self._binder(external_model).bind_many(to_bind)
        if stale:
            self._qbo_export_documents(
                run,
                kind,
                Batch(items=self.env["account.move"].browse([m.id for m in stale]), checkpoint=None, done=True),
                second_try=True,
            )

    def _qbo_update_refusal(self, move, remote):
        if remote is None:
            return _(
                "%s is no longer in QuickBooks (deleted there): release it from this ledger to export it again.",
                move.name,
            )
        total, balance = money.decimal(remote.get("TotalAmt") or 0), money.decimal(remote.get("Balance") or 0)
        if total == 0 and "void" in (remote.get("PrivateNote") or "").lower():
            state = _("voided")
        elif total and balance == 0:
            state = _("paid (or fully credited)")
        else:
            return None
        return _(
            "%(name)s changed in Odoo after its export, but it is %(state)s in QuickBooks: not overwritten. Correct it "
            "in both systems (e.g. with a credit note).",
            name=move.name,
            state=state,
        )

    @staticmethod
    def _qbo_document_binding(move, element, version):
        values = {
            "content_hash": version,
            "qbo_sync_token": element.get("SyncToken"),
            "qbo_doc_number": element.get("DocNumber") or move.name,
            "remote_updated_at": qbo.parse_datetime((element.get("MetaData") or {}).get("LastUpdatedTime")),
        }
        return move, element["Id"], values

    def _qbo_document_result(self, move, binding, element):
        total = element.get("TotalAmt")
        if total is not None and money.round_money(total) != money.round_money(move.amount_total):
            reason = _(
                "In QuickBooks now, but QuickBooks totals it %(qbo)s and Odoo %(odoo)s: check the document in "
                "QuickBooks.",
                qbo=money.round_money(total),
                odoo=money.round_money(move.amount_total),
            )
            return ItemResult("failed", move, str(element["Id"]), reason)
        return ItemResult("updated" if binding else "exported", move, str(element["Id"]))

    def _qbo_uncertain_moves(self, kind, moves):
        """Documents an earlier attempt may have created without us hearing back (failed transiently)."""
        if not moves:
            return moves
        failed = set(self._failed_items_of(kind, moves).mapped("res_id"))
        return moves.filtered(lambda move: move.id in failed)

    def _qbo_find_by_number(self, client, entity, moves):
        """{DocNumber: document} of QuickBooks' documents numbered as ``moves``."""
        names = [move.name for move in moves if move.name]
        found = {}
        for start in range(0, len(names), 100):
            chunk = names[start : start + 100]
            statement = (
                f"SELECT * FROM {entity} WHERE DocNumber IN ({','.join(qbo.quote(n) for n in chunk)}) MAXRESULTS 1000"
            )
            for row in self._qbo_query(client, statement):
                found.setdefault(row.get("DocNumber"), row)
        return found

    @staticmethod
    def _qbo_is_same_document(element, move, customer_id):
        return (
            (element.get("CustomerRef") or {}).get("value") == customer_id
            and element.get("TotalAmt") is not None
            and money.round_money(element["TotalAmt"]) == money.round_money(move.amount_total)
        )

    # ------------------------------------------------------------------------ payments
    def _qbo_payment_payload(self, partial, documents, customers, maps):
        invoice = partial.debit_move_id.move_id
        other = partial.credit_move_id.move_id
        invoice_binding = documents["invoice"].get(invoice.id)
        customer = customers.get(invoice.commercial_partner_id.id)
        if not invoice_binding or not customer:
            raise qbo.PayloadError(_("%s is not in QuickBooks: its payment waits for it.", invoice.name))
        amount = money.number(money.round_money(partial.debit_amount_currency))
        payload = {
            "CustomerRef": qbo.ref(customer.external_id),
            "CurrencyRef": qbo.ref(invoice.currency_id.name),
            "TxnDate": max(other.date, invoice.invoice_date or other.date).isoformat(),
        }
        link = {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_binding.external_id, "TxnType": "Invoice"}]}
        credit_binding = documents["credit_note"].get(other.id)
        if credit_binding:
            # A credit memo applied to the invoice: a zero payment linking both (§3.3).
            credit = {"Amount": amount, "LinkedTxn": [{"TxnId": credit_binding.external_id, "TxnType": "CreditMemo"}]}
            return {**payload, "TotalAmt": 0, "Line": [link, credit], "PrivateNote": f"{other.name} → {invoice.name}"}
        account = maps["journals"].get(other.journal_id.id) or self.qbo_deposit_account_id
        payload.update(
            TotalAmt=amount,
            Line=[link],
            PaymentRefNum=(other.origin_payment_id.name or other.ref or other.name or "")[:21],
        )
        if account:
            payload["DepositToAccountRef"] = qbo.ref(account.qbo_id)
        return payload

    def _qbo_export_payments(self, run, kind, batch):
        client = self._qbo_client()
        maps = self._qbo_maps()
        partials = batch.items
        moves = partials.debit_move_id.move_id | partials.credit_move_id.move_id
        documents = {
            name: self._qbo_bindings_of("account.move", moves.ids, name) for name in ("invoice", "credit_note")
        }
        customers = self._qbo_bindings_of("res.partner", moves.commercial_partner_id.ids, CUSTOMER)
        entries, parts = [], []
        for partial in partials:
            label = _(
                "%(payment)s on %(invoice)s",
                payment=partial.credit_move_id.move_id.name,
                invoice=partial.debit_move_id.move_id.name,
            )
            try:
                payload = self._qbo_payment_payload(partial, documents, customers, maps)
            except PAYLOAD_ERRORS as error:
                run._record(kind, ItemResult("failed", label=label, reason=str(error.args[0])))
                continue
            entries.append(({"operation": "create", "Payment": payload}, (partial, label)))
            parts.append(f"payment:{partial.id}:{money.content_hash(payload)}")
        to_bind = []
        for (partial, label), element, error, _codes, uncertain in self._qbo_send_batch(client, entries, parts):
            if error:
                failure = "transient" if uncertain else None
                run._record(kind, ItemResult("failed", label=label, reason=error, failure_type=failure))
                continue
            to_bind.append((partial, element["Id"], {"qbo_sync_token": element.get("SyncToken")}))
            run._record(kind, ItemResult("exported", external_id=str(element["Id"]), label=label))
        self._binder(PAYMENT).bind_many(to_bind)
