"""What a run exports to Xero: the records of each kind not in Xero yet or changed since, and how many."""

from odoo import models
from odoo.tools import SQL

from odoo.addons.recruitment_sync.services import money

from ..services import xero
from .xero_export import ALLOCATION, CREDIT_NOTE_DOC, DOCUMENTS, INVOICE_DOC, PAYLOAD_ERRORS, PAYMENT
from .xero_import import CONTACT


class RecruitmentSyncXeroExportSelect(models.AbstractModel):
    """Selection of what to export, in SQL, no call to Xero (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.xero.export.select"
    _description = "Xero exports: what to send"

    def _xero_pending_allocations_sql(self, credit_note_id):
        """Reconciliations of a credit note with exported invoices that Xero has not been told of."""
        invoices = self._bound_ids_sql("account.move", INVOICE_DOC.external_model)
        return self._reconciliations_to_export_sql(
            ALLOCATION, SQL("credit_move.id = %s AND debit_move.id IN (%s)", credit_note_id, invoices)
        )

    def _xero_moves_to_export_sql(self, doc, counting=False):
        """Posted documents never exported, or changed in Odoo since (and credit notes to allocate).

        ``counting``: only the documents the run will send (not those another ledger holds,
        not credit notes whose allocations alone are pending).
        """
        also = None
        if doc is CREDIT_NOTE_DOC and not counting:
            also = SQL("(b.id IS NOT NULL AND EXISTS(%s))", self._xero_pending_allocations_sql(SQL("m.id")))
        domain = self._posted_moves_domain(doc.move_type, self.export_start_date)
        return self._moves_to_export_sql(domain, doc.external_model, counting, also)

    def _xero_customers_to_export_sql(self, counting=False):
        """Customers of the documents to export that are not in Xero yet."""
        documents = [
            self._xero_moves_to_export_sql(doc, counting)
            for doc, wanted in (
                (INVOICE_DOC, self.export_invoices),
                (CREDIT_NOTE_DOC, self.export_credit_notes),
            )
            if wanted
        ] or [SQL("SELECT 1 WHERE FALSE")]
        return self._customers_to_export_sql(SQL(" UNION ").join(documents), CONTACT)

    def _xero_payments_to_export_sql(self, counting=False):
        """Reconciliations of an exported invoice (or credit note) with a customer payment or a bank line.

        ``counting``: with the documents the coming run exports first, as if they were in Xero.
        """
        if counting:
            invoices = self._xero_sendable_documents_sql(INVOICE_DOC)
            credit_notes = self._xero_sendable_documents_sql(CREDIT_NOTE_DOC)
        else:
            invoices, credit_notes = (
                self._bound_ids_sql("account.move", doc.external_model) for doc in (INVOICE_DOC, CREDIT_NOTE_DOC)
            )
        paid = SQL(
            """(debit_move.id IN (%(invoices)s)
                AND (credit_move.origin_payment_id IS NOT NULL OR credit_move.statement_line_id IS NOT NULL)
                AND credit_move.state = 'posted')
            OR (credit_move.id IN (%(credit_notes)s)
                AND (debit_move.origin_payment_id IS NOT NULL OR debit_move.statement_line_id IS NOT NULL)
                AND debit_move.state = 'posted')""",
            invoices=invoices,
            credit_notes=credit_notes,
        )
        return self._reconciliations_to_export_sql(PAYMENT, paid)

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
            return self._count_sql(self._xero_customers_to_export_sql(counting=True))
        if kind.code == xero.PAYMENTS.code:
            return self._count_sql(self._xero_payments_to_export_sql(counting=True))
        doc = DOCUMENTS[kind.code]
        count = self._xero_documents_to_send_count(doc)
        if doc is CREDIT_NOTE_DOC:
            count += self._count_sql(self._xero_allocations_to_send_sql())
        return count

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
                version = money.content_hash(self._xero_document_payload(move, maps, contact.external_id))
            except PAYLOAD_ERRORS:
                continue  # refused by the run, not sent
            count += version not in (binding.content_hash, binding.refused_hash)
        return count

    def _xero_sendable_documents_sql(self, doc):
        """Documents in Xero now (bound) or sent by the coming run (when their kind is exported)."""
        bound = self._bound_ids_sql("account.move", doc.external_model)
        wanted = self.export_invoices if doc is INVOICE_DOC else self.export_credit_notes
        if not wanted:
            return bound
        return SQL("%s UNION %s", bound, self._xero_moves_to_export_sql(doc, counting=True))

    def _xero_allocations_to_send_sql(self):
        """Reconciliations of credit notes with invoices, both in Xero after the run, not allocated yet."""
        return self._reconciliations_to_export_sql(
            ALLOCATION,
            SQL(
                "credit_move.id IN (%s) AND debit_move.id IN (%s)",
                self._xero_sendable_documents_sql(CREDIT_NOTE_DOC),
                self._xero_sendable_documents_sql(INVOICE_DOC),
            ),
        )

    def _xero_fetch_export(self, kind, checkpoint, batch_size):
        model, sql = self._xero_export_sql(kind)
        return self._export_batch(kind, model, sql, checkpoint, batch_size)
