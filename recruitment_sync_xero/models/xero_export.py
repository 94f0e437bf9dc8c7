"""To Xero: the customers the invoices need, sales invoices, credit notes (+ allocations), payments.

Every write is a batch of at most 50 elements with ``summarizeErrors=false`` (one result per
element, which becomes a history line with Xero's own message) and an ``Idempotency-Key``
derived from the request's content: a retry after a timeout sends the same key, so Xero does
not process it twice; a document changed since gets another key.
"""

from collections import namedtuple

from odoo import _, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.recruitment_sync.services.binder import Binder
from odoo.addons.recruitment_sync.services.http_client import AuthError, RetryableError, SyncError
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult

from ..services import xero
from .xero_import import CONTACT, normalized_email, normalized_vat

Document = namedtuple("Document", "kind move_type external_model endpoint id_field number_field xero_type label link")
INVOICE_DOC = Document(
    xero.INVOICES.code, "out_invoice", "invoice", "Invoices", "InvoiceID", "InvoiceNumber", xero.INVOICE_TYPE,
    "invoice", "invoice",
)  # fmt: skip
CREDIT_NOTE_DOC = Document(
    xero.CREDIT_NOTES.code, "out_refund", "credit_note", "CreditNotes", "CreditNoteID", "CreditNoteNumber",
    xero.CREDIT_NOTE_TYPE, "credit note", "credit_note",
)  # fmt: skip
DOCUMENTS = {doc.kind: doc for doc in (INVOICE_DOC, CREDIT_NOTE_DOC)}
DOCUMENT_TYPES = {doc.move_type: doc for doc in (INVOICE_DOC, CREDIT_NOTE_DOC)}
PAYMENT = "payment"
ALLOCATION = "allocation"
IDS_PER_QUERY = 40  # Xero's IDs filter tops out around 50 GUIDs (URL length) [R]
PAYLOAD_ERRORS = (xero.PayloadError, UserError, ValidationError)
NAME_TAKEN = "is already assigned to another contact"  # Xero's refusal of a contact's name [V]


def echoed(field):
    """The key a sent or answered element carries in ``field`` (Binder.pair)."""
    return lambda element: element.get(field) if isinstance(element, dict) else None


class RecruitmentSyncXeroExport(models.AbstractModel):
    """To Xero, on a Xero integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.export"
    _description = "Xero exports"

    # ------------------------------------------------------------------------ what is to export
    def _xero_move_domain(self, move_type):
        domain = [
            ("company_id", "=", self.company_id.id),
            ("move_type", "=", move_type),
            ("state", "=", "posted"),
        ]
        if self.xero_export_start_date:
            domain.append(("invoice_date", ">=", self.xero_export_start_date))
        if self.department_scope == "selected":
            domain.append(("department_id", "child_of", self.department_ids.ids))
        return domain

    def _xero_pending_allocations_sql(self, credit_note_id):
        """Reconciliations of a credit note with exported invoices that Xero has not been told of."""
        return SQL(
            """SELECT p.id FROM account_partial_reconcile p
                 JOIN account_move_line credit_line ON credit_line.id = p.credit_move_id
                 JOIN account_move_line debit_line ON debit_line.id = p.debit_move_id
                 JOIN recruitment_sync_binding invoice_binding
                   ON invoice_binding.integration_id = %(integration)s
                  AND invoice_binding.res_model = 'account.move'
                  AND invoice_binding.external_model = %(invoice)s
                  AND invoice_binding.res_id = debit_line.move_id
            LEFT JOIN recruitment_sync_binding allocation_binding
                   ON allocation_binding.integration_id = %(integration)s
                  AND allocation_binding.res_model = 'account.partial.reconcile'
                  AND allocation_binding.external_model = %(allocation)s
                  AND allocation_binding.res_id = p.id
                WHERE credit_line.move_id = %(credit_note)s AND allocation_binding.id IS NULL""",
            integration=self.id,
            invoice=INVOICE_DOC.external_model,
            allocation=ALLOCATION,
            credit_note=credit_note_id,
        )

    def _xero_moves_to_export_sql(self, doc, counting=False):
        """Posted documents never exported, or changed in Odoo since (and credit notes to allocate).

        ``counting``: only the documents the run will send (not those another ledger holds,
        not credit notes whose allocations alone are pending).
        """
        Move = self.env["account.move"].sudo()
        domain = self._xero_move_domain(doc.move_type)
        if counting:
            domain += Move._sync_ledger_held_elsewhere_domain(self)
        moves = Move._search(domain)
        # ">=": an edit in the second of the export is looked at again (and found unchanged, or sent).
        stale = SQL("b.id IS NULL OR m.sync_local_changed_at >= b.last_synced_at")
        if doc is CREDIT_NOTE_DOC and not counting:
            stale = SQL(
                "%s OR (b.id IS NOT NULL AND EXISTS(%s))", stale, self._xero_pending_allocations_sql(SQL("m.id"))
            )
        return SQL(
            """SELECT m.id FROM account_move m
            LEFT JOIN recruitment_sync_binding b
                   ON b.integration_id = %s AND b.res_model = 'account.move'
                  AND b.external_model = %s AND b.res_id = m.id
                WHERE m.id IN %s AND (%s)""",
            self.id,
            doc.external_model,
            moves.subselect(),
            stale,
        )

    def _xero_customers_to_export_sql(self, counting=False):
        """Customers of the documents to export that are not in Xero yet."""
        documents = [
            self._xero_moves_to_export_sql(doc, counting)
            for doc, wanted in (
                (INVOICE_DOC, self.xero_export_invoices),
                (CREDIT_NOTE_DOC, self.xero_export_credit_notes),
            )
            if wanted
        ] or [SQL("SELECT 1 WHERE FALSE")]
        return SQL(
            """SELECT DISTINCT m.commercial_partner_id FROM account_move m
            LEFT JOIN recruitment_sync_binding b
                   ON b.integration_id = %s AND b.res_model = 'res.partner'
                  AND b.external_model = %s AND b.res_id = m.commercial_partner_id
                WHERE m.id IN (%s) AND b.id IS NULL""",
            self.id,
            CONTACT,
            SQL(" UNION ").join(documents),
        )

    def _xero_payments_to_export_sql(self, counting=False):
        """Reconciliations of an exported invoice (or credit note) with a customer payment or a bank line.

        ``counting``: with the documents the coming run exports first, as if they were in Xero.
        """
        if counting:
            invoices = self._xero_sendable_documents_sql(INVOICE_DOC)
            credit_notes = self._xero_sendable_documents_sql(CREDIT_NOTE_DOC)
        else:
            invoices, credit_notes = (
                SQL(
                    """SELECT res_id FROM recruitment_sync_binding
                        WHERE integration_id = %s AND res_model = 'account.move' AND external_model = %s""",
                    self.id,
                    doc.external_model,
                )
                for doc in (INVOICE_DOC, CREDIT_NOTE_DOC)
            )
        return SQL(
            """SELECT p.id FROM account_partial_reconcile p
                 JOIN account_move_line debit_line ON debit_line.id = p.debit_move_id
                 JOIN account_move_line credit_line ON credit_line.id = p.credit_move_id
                 JOIN account_move debit_move ON debit_move.id = debit_line.move_id
                 JOIN account_move credit_move ON credit_move.id = credit_line.move_id
            LEFT JOIN recruitment_sync_binding payment_binding
                   ON payment_binding.integration_id = %(integration)s
                  AND payment_binding.res_model = 'account.partial.reconcile'
                  AND payment_binding.external_model = %(payment)s
                  AND payment_binding.res_id = p.id
                WHERE payment_binding.id IS NULL
                  AND (
                        (debit_move.id IN (%(invoices)s)
                         AND (credit_move.origin_payment_id IS NOT NULL OR credit_move.statement_line_id IS NOT NULL)
                         AND credit_move.state = 'posted')
                     OR (credit_move.id IN (%(credit_notes)s)
                         AND (debit_move.origin_payment_id IS NOT NULL OR debit_move.statement_line_id IS NOT NULL)
                         AND debit_move.state = 'posted')
                  )""",
            integration=self.id,
            payment=PAYMENT,
            invoices=invoices,
            credit_notes=credit_notes,
        )

    def _xero_export_sql(self, kind):
        if kind.code == xero.EXPORT_CUSTOMERS.code:
            return "res.partner", self._xero_customers_to_export_sql()
        if kind.code == xero.PAYMENTS.code:
            return "account.partial.reconcile", self._xero_payments_to_export_sql()
        return "account.move", self._xero_moves_to_export_sql(DOCUMENTS[kind.code])

    def _xero_export_count(self, kind):
        """What a run will send of ``kind``, from Odoo's data alone (no call to Xero).

        Payments and allocations count with the documents they go to that are exported now or
        will be by the same run (invoices and credit notes go before payments).
        """
        self.env.flush_all()
        if kind.code == xero.EXPORT_CUSTOMERS.code:
            sql = self._xero_customers_to_export_sql(counting=True)
        elif kind.code == xero.PAYMENTS.code:
            sql = self._xero_payments_to_export_sql(counting=True)
        else:
            doc = DOCUMENTS[kind.code]
            count = self._xero_documents_to_send_count(doc)
            if doc is CREDIT_NOTE_DOC:
                self.env.cr.execute(SQL("SELECT count(*) FROM (%s) AS to_export", self._xero_allocations_to_send_sql()))
                count += self.env.cr.fetchone()[0]
            return count
        self.env.cr.execute(SQL("SELECT count(*) FROM (%s) AS to_export", sql))
        return self.env.cr.fetchone()[0]

    def _xero_documents_to_send_count(self, doc):
        """Documents not in Xero yet, and those in Xero whose payload changed (a payment or a
        reconciliation marks an invoice changed without changing what Xero gets)."""
        self.env.cr.execute(self._xero_moves_to_export_sql(doc, counting=True))
        moves = self.env["account.move"].sudo().browse([row[0] for row in self.env.cr.fetchall()])
        bindings = self._binder(doc.external_model).bindings_of(moves)
        exported = moves.filtered(lambda move: move.id in bindings)
        count = len(moves) - len(exported)
        if not exported:
            return count
        maps = self._xero_maps()
        contacts = self._binder(CONTACT).bindings_of(exported.commercial_partner_id)
        for move in exported:
            binding, contact = bindings[move.id], contacts.get(move.commercial_partner_id.id)
            if not contact:
                continue  # refused by the run (its customer is not in Xero), not sent
            try:
                version = xero.content_hash(self._xero_document_payload(move, maps, contact.external_id))
            except PAYLOAD_ERRORS:
                continue  # refused by the run, not sent
            count += version not in (binding.xero_content_hash, binding.xero_refused_hash)
        return count

    def _xero_sendable_documents_sql(self, doc):
        """Documents in Xero now (bound) or sent by the coming run (when their kind is exported)."""
        bound = SQL(
            """SELECT res_id FROM recruitment_sync_binding
                WHERE integration_id = %s AND res_model = 'account.move' AND external_model = %s""",
            self.id,
            doc.external_model,
        )
        wanted = self.xero_export_invoices if doc is INVOICE_DOC else self.xero_export_credit_notes
        if not wanted:
            return bound
        return SQL("%s UNION %s", bound, self._xero_moves_to_export_sql(doc, counting=True))

    def _xero_allocations_to_send_sql(self):
        """Reconciliations of credit notes with invoices, both in Xero after the run, not allocated yet."""
        return SQL(
            """SELECT p.id FROM account_partial_reconcile p
                 JOIN account_move_line credit_line ON credit_line.id = p.credit_move_id
                 JOIN account_move_line debit_line ON debit_line.id = p.debit_move_id
            LEFT JOIN recruitment_sync_binding allocation_binding
                   ON allocation_binding.integration_id = %(integration)s
                  AND allocation_binding.res_model = 'account.partial.reconcile'
                  AND allocation_binding.external_model = %(allocation)s
                  AND allocation_binding.res_id = p.id
                WHERE credit_line.move_id IN (%(credit_notes)s) AND debit_line.move_id IN (%(invoices)s)
                  AND allocation_binding.id IS NULL""",
            integration=self.id,
            allocation=ALLOCATION,
            credit_notes=self._xero_sendable_documents_sql(CREDIT_NOTE_DOC),
            invoices=self._xero_sendable_documents_sql(INVOICE_DOC),
        )

    def _xero_fetch_export(self, kind, checkpoint, batch_size):
        self.env.flush_all()
        model, sql = self._xero_export_sql(kind)
        after = (checkpoint or {}).get("after", 0)
        self.env.cr.execute(
            SQL(
                "SELECT id FROM (%s) AS to_export(id) WHERE id > %s AND id NOT IN (%s) ORDER BY id LIMIT %s",
                sql,
                after,
                self._failed_items_held_back_sql(kind, model),
                batch_size,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        done = len(ids) < batch_size
        records = self.env[model].sudo().browse(ids)
        return Batch(items=records, checkpoint=None if done else {"after": ids[-1]}, done=done)

    # ------------------------------------------------------------------------ shared helpers
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

    def _xero_key_prefix(self):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or ""
        return f"odoo-{uuid[:8]}-{self.id}"

    def _xero_send(self, client, method, path, key, elements, params=None):
        """One batch write; Xero's answer elements (``summarizeErrors=false``: one per element)."""
        body = {key: elements}
        headers = {"Idempotency-Key": xero.idempotency_key(self._xero_key_prefix(), method, path, body)}
        answer = client.request(
            method, path, params={"summarizeErrors": "false", **(params or {})}, json=body, headers=headers
        )
        return (answer or {}).get(key) or []

    def _xero_send_batch(self, client, method, path, key, prepared, number_key=None, params=None):
        """Send ``prepared`` [(payload, context)]; yield (context, answer element, error message).

        A refusal of the request as a whole (not a rate limit, not the credentials) fails each
        of its elements with Xero's message; rate limits and auth problems stop the batch.
        """
        if not prepared:
            return
        payloads = [payload for payload, _context in prepared]
        try:
            answered = self._xero_send(client, method, path, key, payloads, params)
        except (RetryableError, AuthError):
            raise
        except SyncError as error:
            for _payload, context in prepared:
                yield context, None, str(error)
            return
        paired = Binder.pair(payloads, answered, echoed(number_key) if number_key else None)
        for (_payload, context), element in zip(prepared, paired, strict=True):
            if element is None:
                yield context, None, _("Xero's answer did not include this element: check it in Xero.")
                continue
            errors = xero.element_errors(element)
            yield context, element, "; ".join(errors) if errors else None

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

    def _xero_export_contacts(self, run, kind, partners):
        """``PUT /Contacts`` for the customers the documents need; each one bound to its ContactID.

        A customer whose name Xero already gives another contact (created by hand, a supplier,
        one with no sales yet) is looked up by name: bound to it when it is the same customer,
        else failed with both records named.
        """
        client = self._xero_client()
        uuid = self._xero_database_uuid()
        own = self._xero_own_partners()
        prepared = []
        for partner in partners:
            try:
                if partner in own:
                    raise xero.PayloadError(
                        _("%s is this company's own partner: it is not exported as a customer.", partner.display_name)
                    )
                prepared.append((self._xero_contact_payload(partner, xero.contact_number(uuid, partner.id)), partner))
            except PAYLOAD_ERRORS as error:
                run._record(kind, ItemResult("failed", partner, reason=str(error.args[0])))
        results = list(
            self._xero_send_batch(client, "PUT", "Contacts", "Contacts", prepared, number_key="ContactNumber")
        )
        taken = [partner for partner, _element, error in results if error and NAME_TAKEN in error.lower()]
        by_name = self._xero_contacts_named(client, taken)
        bindings = []
        for partner, element, error in results:
            if partner in taken:
                contact, reason = self._xero_same_customer(partner, by_name.get(partner.id), error)
                if not contact:
                    run._record(kind, ItemResult("failed", partner, reason=reason))
                    continue
                updated_at = xero.parse_datetime(contact.get("UpdatedDateUTC"), "UpdatedDateUTC")
                bindings.append((partner, contact["ContactID"], {"remote_updated_at": updated_at}))
                run._record(kind, ItemResult("already_exists", partner, contact["ContactID"], reason))
                continue
            contact_id = (element or {}).get("ContactID")
            if error or not contact_id:
                reason = error or _("Xero did not return the contact's ID.")
                run._record(kind, ItemResult("failed", partner, reason=reason))
                continue
            updated_at = xero.parse_datetime(element.get("UpdatedDateUTC"), "UpdatedDateUTC")
            bindings.append((partner, contact_id, {"remote_updated_at": updated_at}))
            run._record(kind, ItemResult("exported", partner, contact_id))
        self._binder(CONTACT).bind_many(bindings)

    def _xero_contacts_named(self, client, partners):
        """{partner id: Xero contacts of exactly its name (any status, customers or not)} or the lookup's error."""
        found = {}
        for partner in partners:
            name = partner.name.strip()
            try:
                answer = client.get(
                    "Contacts", params={"searchTerm": name, "includeArchived": "true", "page": 1, "pageSize": 100}
                )
            except (RetryableError, AuthError):
                raise
            except SyncError as error:
                found[partner.id] = error  # this customer fails, not the batch
                continue
            found[partner.id] = [
                contact
                for contact in (answer or {}).get("Contacts") or ()
                if isinstance(contact, dict)
                and contact.get("ContactID")
                and (contact.get("Name") or "").strip().casefold() == name.casefold()
            ]
        return found

    def _xero_same_customer(self, partner, contacts, error):
        """(the Xero contact that is ``partner``, reason) or (None, why not): same VAT or email, or only the name
        when nothing contradicts; never a contact bound to another partner or coded for another one."""
        if isinstance(contacts, SyncError):
            reason = _(
                "%(error)s The contact of that name could not be looked up: %(lookup)s", error=error, lookup=contacts
            )
            return None, reason
        if not contacts:
            return None, _("%s Xero did not list a contact of that name: check it in Xero, then sync again.", error)
        bound = self._binder(CONTACT).bindings_for("res.partner", [contact["ContactID"] for contact in contacts])
        uuid = self._xero_database_uuid()
        vat, email = normalized_vat(partner.vat), normalized_email(partner.email)
        refusals = []
        for contact in sorted(contacts, key=lambda contact: contact.get("ContactStatus") != "ACTIVE"):
            their_vat = normalized_vat(contact.get("TaxNumber"))
            their_email = normalized_email(contact.get("EmailAddress"))
            coded_for = xero.partner_id_from_contact_number(contact.get("ContactNumber"), uuid)
            binding = bound.get(contact["ContactID"])
            if binding and binding.res_id != partner.id:
                why = _("it is linked to the Odoo partner %s", binding.record_name)
            elif coded_for and coded_for != partner.id:
                why = _("its Contact Code names the Odoo partner id %s", coded_for)
            elif vat and their_vat and vat != their_vat:
                why = _("its VAT number is %(theirs)s, Odoo's %(ours)s", theirs=their_vat, ours=vat)
            elif email and their_email and email != their_email:
                why = _("its email is %(theirs)s, Odoo's %(ours)s", theirs=their_email, ours=email)
            else:
                if (vat and vat == their_vat) or (email and email == their_email):
                    rule = _("VAT number") if vat and vat == their_vat else _("email")
                    reason = _("Already in Xero under this name, with the same %s: linked to it.", rule)
                else:
                    reason = _("Already in Xero under this name, nothing contradicting: linked to it.")
                return contact, reason
            refusals.append(
                _(
                    "Xero's contact “%(name)s” (ContactID %(id)s): %(why)s",
                    name=contact.get("Name"),
                    id=contact["ContactID"],
                    why=why,
                )
            )
        return None, _(
            "Xero already has a contact named “%(name)s” that is not the Odoo partner %(partner)s (id %(id)s): "
            "%(refusals)s. Rename one of them (or correct the VAT number or email), then sync again.",
            name=partner.name,
            partner=partner.display_name,
            id=partner.id,
            refusals="; ".join(refusals),
        )

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
        if included or (discount and doc is CREDIT_NOTE_DOC) or xero.decimal(unit) != xero.round_unit(unit):
            amount = line.price_total if line_amount_types == xero.INCLUSIVE else line.price_subtotal
            return {
                "Quantity": xero.number(xero.round_unit(quantity)),
                "LineAmount": xero.number(xero.round_money(amount)),
            }
        values = {"Quantity": xero.number(xero.round_unit(quantity)), "UnitAmount": xero.number(xero.round_unit(unit))}
        if discount:
            values["DiscountRate"] = xero.number(xero.round_unit(discount))
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
        odoo_total = xero.round_money(move.amount_total)
        if total == odoo_total:
            return
        odoo_tax = xero.round_money(move.amount_tax)
        message = _(
            "Not exported: Xero would total %(name)s %(xero_total)s %(currency)s (tax %(xero_tax)s), Odoo "
            "totals it %(odoo_total)s (tax %(odoo_tax)s). Xero rounds the tax of each line to the cent "
            "and its unit prices to 4 decimals; Odoo's totals must be computed the same way: set the tax "
            "rounding to “Round per Line” in the Accounting settings, and check that the Xero tax rates "
            "mapped to the taxes of this document have the same rates.",
            name=move.name,
            xero_total=total,
            currency=move.currency_id.name,
            xero_tax=tax,
            odoo_total=odoo_total,
            odoo_tax=odoo_tax,
        )
        if mixed:
            message += " " + _(
                "This document mixes tax-included and tax-excluded prices: Xero takes one basis per "
                "document, and the tax-included lines converted to tax-excluded amounts round differently. "
                "Use taxes of one kind on it."
            )
        raise xero.PayloadError(message)

    def _xero_prepare_documents(self, run, kind, moves, maps, bindings, stamp):
        """Payloads of the batch's documents: (to create, to update); the others are recorded now."""
        contacts = self._binder(CONTACT).bindings_of(moves.commercial_partner_id)
        held_elsewhere = moves._sync_ledger_refusals(self)
        creates, updates = [], []
        for move in moves:
            binding = bindings.get(move.id)
            if move.id in held_elsewhere:
                external_id = binding.external_id if binding else None
                run._record(kind, ItemResult("failed", move, external_id, held_elsewhere[move.id]))
                continue
            changed = move.sync_local_changed_at
            if binding and (not changed or binding.last_synced_at > changed):
                continue  # only its allocations are pending
            contact = contacts.get(move.commercial_partner_id.id)
            try:
                if not contact:
                    raise xero.PayloadError(
                        _(
                            "Its customer %s is not in Xero: it could not be created there (see the customer's "
                            "line), or customers were not part of this sync.",
                            move.commercial_partner_id.display_name,
                        )
                    )
                payload = self._xero_document_payload(move, maps, contact.external_id)
            except PAYLOAD_ERRORS as error:
                run._record(kind, ItemResult("failed", move, binding.external_id if binding else None, str(error)))
                continue
            version = xero.content_hash(payload)
            if binding and version == binding.xero_refused_hash:
                binding.write({"last_synced_at": stamp})  # Xero refused this version: reported already
                continue
            if binding and binding.xero_content_hash == version:
                binding.write({"last_synced_at": stamp})  # reposted unchanged: nothing to tell Xero
                continue
            if binding:
                updates.append((payload, (move, binding, version)))
            else:
                creates.append((payload, (move, binding, version)))
        return creates, updates

    def _xero_current_statuses(self, client, doc, xero_ids):
        """Xero's status of exported documents, read in chunks (IDs for invoices, a filter for credit notes).

        ({xero id: status}, {xero id: error}): a chunk Xero refuses to read fails its documents
        only (rate limits and credentials still stop the batch).
        """
        statuses, errors = {}, {}
        for start in range(0, len(xero_ids), IDS_PER_QUERY):
            chunk = xero_ids[start : start + IDS_PER_QUERY]
            if doc is INVOICE_DOC:
                params = {"IDs": ",".join(chunk)}
            else:  # GET /CreditNotes has no IDs parameter
                params = {"where": " OR ".join(f'{doc.id_field}==Guid("{xero_id}")' for xero_id in chunk)}
            try:
                answer = client.get(doc.endpoint, params=params) or {}
            except (RetryableError, AuthError):
                raise
            except SyncError as error:
                errors.update(dict.fromkeys(chunk, str(error)))
                continue
            for element in answer.get(doc.endpoint) or ():
                if isinstance(element, dict) and element.get(doc.id_field):
                    statuses[element[doc.id_field]] = element.get("Status")
        return statuses, errors

    def _xero_export_documents(self, run, kind, moves):
        doc = DOCUMENTS[kind.code]
        stamp = fields.Datetime.now()  # before reading: a change made meanwhile is exported next time
        client = self._xero_client()
        maps = self._xero_maps()
        bindings = self._binder(doc.external_model).bindings_of(moves)
        creates, updates = self._xero_prepare_documents(run, kind, moves, maps, bindings, stamp)
        if updates:
            statuses, errors = self._xero_current_statuses(
                client, doc, [binding.external_id for _p, (_m, binding, _v) in updates]
            )
            allowed = []
            for payload, (move, binding, version) in updates:
                if binding.external_id in errors:
                    reason = _(
                        "Not sent: its status in Xero could not be read (%s). It is sent at the next sync.",
                        errors[binding.external_id],
                    )
                    run._record(kind, ItemResult("failed", move, binding.external_id, reason))
                    continue
                status = statuses.get(binding.external_id) or binding.xero_status
                if status in xero.FINAL_STATUSES:
                    binding.write({"xero_status": status, "last_synced_at": stamp, "xero_refused_hash": version})
                    reason = _(
                        "%(name)s changed in Odoo after its export, but it is %(status)s in Xero, which no longer "
                        "allows changes: not overwritten. Correct it in both systems (e.g. with a credit note).",
                        name=move.name,
                        status=status,
                    )
                    run._record(kind, ItemResult("failed", move, binding.external_id, reason))
                    continue
                allowed.append(({**payload, doc.id_field: binding.external_id}, (move, binding, version)))
            updates = allowed
        params = {"unitdp": 4}
        results = []
        for method, prepared in (("PUT", creates), ("POST", updates)):
            try:
                results += list(
                    self._xero_send_batch(
                        client, method, doc.endpoint, doc.endpoint, prepared, doc.number_field, params
                    )
                )
            except RetryableError as error:
                if error.retry_after:
                    raise  # a long wait: the runner pauses the run
                # Xero stayed unavailable after the client's retries: the next runs send these again.
                for _payload, (move, binding, _version) in prepared:
                    external_id = binding.external_id if binding else None
                    run._record(kind, ItemResult("failed", move, external_id, str(error), failure_type="transient"))
        earlier = self._xero_earlier_attempts(client, doc, results)
        to_bind = []
        for (move, binding, version), element, error in results:
            if move.id in earlier:
                # Created by an earlier attempt whose answer was lost: the same document, bound now.
                element, error = earlier[move.id], None
            xero_id = (element or {}).get(doc.id_field)
            if error or not xero_id:
                reason = error or _("Xero did not return the %s's ID.", doc.label)
                run._record(kind, ItemResult("failed", move, binding.external_id if binding else None, reason))
                continue
            values = {
                "xero_status": element.get("Status") or "AUTHORISED",
                "xero_content_hash": version,
                "xero_number": element.get(doc.number_field) or move.name,
                "remote_updated_at": xero.parse_datetime(element.get("UpdatedDateUTC"), "UpdatedDateUTC"),
                "last_synced_at": stamp,
            }
            to_bind.append((move, xero_id, values))
            run._record(kind, self._xero_document_result(move, binding, xero_id, element, move.id in earlier))
        self._binder(doc.external_model).bind_many(to_bind)
        if doc is CREDIT_NOTE_DOC:
            self._xero_allocate(run, kind, client, moves)

    def _xero_document_result(self, move, binding, xero_id, element, earlier):
        xero_total = element.get("Total")
        if xero_total is not None and xero.round_money(xero_total) != xero.round_money(move.amount_total):
            reason = _(
                "In Xero now, but Xero totals it %(xero)s and Odoo %(odoo)s: check the document in Xero.",
                xero=xero.round_money(xero_total),
                odoo=xero.round_money(move.amount_total),
            )
            return ItemResult("failed", move, xero_id, reason)
        if earlier:
            reason = _("Already in Xero (sent by an earlier attempt whose answer was lost): linked to it.")
            return ItemResult("already_exists", move, xero_id, reason)
        return ItemResult("updated" if binding else "exported", move, xero_id)

    def _xero_earlier_attempts(self, client, doc, results):
        """Invoices refused as duplicates that an earlier attempt of ours created: {move id: element}.

        An Idempotency-Key is only kept for a while: a retry after a long pause may see
        "Invoice # must be unique" for an invoice its first attempt did create. The invoice
        with that number is ours when it has the same customer, total and currency.
        """
        if doc is not INVOICE_DOC:
            return {}
        duplicates = {
            move.name: (move, element)
            for (move, binding, _version), element, error in results
            if error and not binding and "unique" in error.lower()
        }
        found = {}
        names = sorted(duplicates)
        for start in range(0, len(names), IDS_PER_QUERY):
            chunk = names[start : start + IDS_PER_QUERY]
            try:
                answer = client.get(doc.endpoint, params={"InvoiceNumbers": ",".join(chunk)}) or {}
            except (RetryableError, AuthError):
                raise
            except SyncError:
                continue  # not found out: these stay failed with Xero's refusal
            for element in answer.get(doc.endpoint) or ():
                if isinstance(element, dict) and element.get(doc.number_field) in duplicates:
                    found[element[doc.number_field]] = element
        earlier = {}
        customers = self.env["res.partner"].browse({duplicates[name][0].commercial_partner_id.id for name in found})
        contacts = self._binder(CONTACT).bindings_of(customers)
        for name, element in found.items():
            move, _sent = duplicates[name]
            contact = contacts.get(move.commercial_partner_id.id)
            same = (
                element.get("Type") == doc.xero_type
                and contact
                and (element.get("Contact") or {}).get("ContactID") == contact.external_id
                and element.get("CurrencyCode") in (None, move.currency_id.name)
                and element.get("Total") is not None
                and xero.round_money(element["Total"]) == xero.round_money(move.amount_total)
                and element.get("Status") not in ("DELETED", "VOIDED")
            )
            if same:
                earlier[move.id] = element
        return earlier

    # ------------------------------------------------------------------------ allocations
    def _xero_allocate(self, run, kind, client, credit_notes):
        """Allocate each exported credit note to the exported invoices Odoo reconciled it with."""
        self.env.flush_all()
        bindings = self._binder(CREDIT_NOTE_DOC.external_model).bindings_of(credit_notes)
        Partial = self.env["account.partial.reconcile"].sudo()
        for credit_note in credit_notes.filtered(lambda move: move.id in bindings):
            self.env.cr.execute(self._xero_pending_allocations_sql(credit_note.id))
            partials = Partial.browse([row[0] for row in self.env.cr.fetchall()])
            if not partials:
                continue
            invoices = self._binder(INVOICE_DOC.external_model).bindings_of(partials.debit_move_id.move_id)
            prepared = [
                (
                    {
                        "Invoice": {"InvoiceID": invoices[partial.debit_move_id.move_id.id].external_id},
                        "Amount": xero.number(xero.round_money(partial.debit_amount_currency)),
                        "Date": xero.format_date(partial.max_date),
                    },
                    partial,
                )
                for partial in partials
            ]
            path = f"{CREDIT_NOTE_DOC.endpoint}/{bindings[credit_note.id].external_id}/Allocations"
            to_bind = []
            for partial, element, error in self._xero_send_batch(client, "PUT", path, "Allocations", prepared):
                invoice = partial.debit_move_id.move_id
                label = _(
                    "Allocation of %(credit_note)s to %(invoice)s", credit_note=credit_note.name, invoice=invoice.name
                )
                if error:
                    run._record(kind, ItemResult("failed", label=label, reason=error))
                    continue
                allocation_id = element.get("AllocationID") or f"{bindings[credit_note.id].external_id}:{partial.id}"
                to_bind.append((partial, allocation_id))
                run._record(kind, ItemResult("exported", external_id=allocation_id, label=label))
            self._binder(ALLOCATION).bind_many(to_bind)

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
            "Amount": xero.number(xero.round_money(amount)),
            "Reference": reference,
        }

    def _xero_export_payments(self, run, kind, partials):
        client = self._xero_client()
        maps = self._xero_maps()
        moves = partials.debit_move_id.move_id | partials.credit_move_id.move_id
        documents = {
            doc.external_model: self._binder(doc.external_model).bindings_of(moves)
            for doc in (INVOICE_DOC, CREDIT_NOTE_DOC)
        }
        prepared = []
        for partial in partials:
            label = _(
                "%(payment)s on %(document)s",
                payment=(partial.debit_move_id | partial.credit_move_id)
                .move_id.filtered(lambda move: move.origin_payment_id or move.statement_line_id)[:1]
                .name,
                document=(partial.debit_move_id | partial.credit_move_id)
                .move_id.filtered(lambda move: move.move_type in DOCUMENT_TYPES)[:1]
                .name,
            )
            try:
                payload = self._xero_payment_payload(partial, documents, maps)
            except PAYLOAD_ERRORS as error:
                run._record(kind, ItemResult("failed", label=label, reason=str(error.args[0])))
                continue
            prepared.append((payload, (partial, label)))
        to_bind = []
        for (partial, label), element, error in self._xero_send_batch(client, "PUT", "Payments", "Payments", prepared):
            payment_id = (element or {}).get("PaymentID")
            if error or not payment_id:
                run._record(kind, ItemResult("failed", label=label, reason=error or _("Xero returned no PaymentID.")))
                continue
            updated_at = xero.parse_datetime(element.get("UpdatedDateUTC"), "UpdatedDateUTC")
            to_bind.append((partial, payment_id, {"remote_updated_at": updated_at}))
            run._record(kind, ItemResult("exported", external_id=payment_id, label=label))
        self._binder(PAYMENT).bind_many(to_bind)
