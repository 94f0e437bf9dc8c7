"""To Xero: the customers the invoices need, sales invoices, credit notes (+ allocations), payments.

Every write is a batch of at most 50 elements with ``summarizeErrors=false`` (one result per
element, which becomes a history line with Xero's own message) and an ``Idempotency-Key``
derived from the request's content: a retry after a timeout sends the same key, so Xero does
not process it twice; a document changed since gets another key.

This module holds each kind's export; what is selected (xero_export_select.py), the payloads
(xero_payload.py) and the batch writes with their recovery (xero_send.py) are mixins of their own,
all mixed into the Xero integration.
"""

from collections import namedtuple

from odoo import _, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.recruitment_sync.services import money
from odoo.addons.recruitment_sync.services.http_client import RetryableError
from odoo.addons.recruitment_sync.services.provider import ItemResult

from ..services import xero
from .xero_import import CONTACT

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
PAYLOAD_ERRORS = (xero.PayloadError, UserError, ValidationError)
NAME_TAKEN = "is already assigned to another contact"  # Xero's refusal of a contact's name [V]


class RecruitmentSyncXeroExport(models.AbstractModel):
    """To Xero, on a Xero integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.export"
    _description = "Xero exports"

    # ------------------------------------------------------------------------ customers
    def _xero_export_contacts(self, run, kind, partners):
        """``PUT /Contacts`` for the customers the documents need; each one bound to its ContactID.

        A customer whose name Xero already gives another contact (created by hand, a supplier,
        one with no sales yet) is looked up by name: bound to it when it is the same customer,
        else failed with both records named.
        """
        client = self._xero_client()
        uuid = self._database_uuid()
        own = self._own_company_partners()
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

    # ------------------------------------------------------------------------ documents
    def _xero_prepare_documents(self, run, kind, moves, maps, bindings, stamp):
        """Payloads of the batch's documents: (to create, to update); the others are recorded now."""
        contacts = self._binder(CONTACT).bindings_of(moves.commercial_partner_id)

        def allocations_only(move, binding):
            changed = move.sync_local_changed_at
            return binding and (not changed or binding.last_synced_at > changed)

        creates, updates = [], []
        for move, binding, _contact, payload, version in self._documents_to_send(
            run,
            kind,
            moves,
            bindings,
            contacts,
            lambda move, contact: self._xero_document_payload(move, maps, contact),
            stamp,
            skip=allocations_only,
        ):
            (updates if binding else creates).append((payload, (move, binding, version)))
        return creates, updates

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
                    binding.write({"xero_status": status, "last_synced_at": stamp, "refused_hash": version})
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
                "content_hash": version,
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
        if xero_total is not None and money.round_money(xero_total) != money.round_money(move.amount_total):
            reason = _(
                "In Xero now, but Xero totals it %(xero)s and Odoo %(odoo)s: check the document in Xero.",
                xero=money.round_money(xero_total),
                odoo=money.round_money(move.amount_total),
            )
            return ItemResult("failed", move, xero_id, reason)
        if earlier:
            reason = _("Already in Xero (sent by an earlier attempt whose answer was lost): linked to it.")
            return ItemResult("already_exists", move, xero_id, reason)
        return ItemResult("updated" if binding else "exported", move, xero_id)

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
                        "Amount": money.number(money.round_money(partial.debit_amount_currency)),
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
