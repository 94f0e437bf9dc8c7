"""Invoices 24SevenOffice may already hold: saved by an earlier export whose answer was lost (an
interrupted SaveInvoices), by another tool, or before a backup was restored. 24SevenOffice has
no idempotency key: they are searched for before anything is sent, so that an invoice is never
sent twice (a mixin of the export of one login's batch, ``tso_export``)."""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import fields

from ..services import mapping
from .tso_matching import ID_CHUNK

_logger = logging.getLogger(__name__)

# An interrupted SaveInvoices is searched for among the invoices changed since a little before it.
SEARCH_MARGIN = timedelta(minutes=15)
INVOICE_PROPERTIES = ("OrderId", "InvoiceId", "CustomerId", "ReferenceNumber", "InvoiceTitle", "OrderStatus")


class TsoRecovery:
    """Finds what 24SevenOffice holds of a batch's invoices and settles them without sending."""

    def _already_in_tso(self, payloads, transfers):
        """Invoices 24SevenOffice already holds under their number (an earlier export by another
        tool or database, a restored backup), before anything is sent. Their transfers are stored
        as saved; returns them.

        The invoices of the customers concerned are read once per run (GetInvoices by CustomerIds,
        1,000 a call): at the first batch, those of every invoice still in transfer on the run, so
        that later batches need no call. A customer this run created holds none of them."""
        listed = self.client_cache.setdefault("listed_customers", set())
        known = self.client_cache.setdefault("orders_by_reference", {})
        wanted = {payload["CustomerId"] for payload in payloads.values()} - self.created_customers - listed
        if wanted:
            wanted |= self._run_customers() - self.created_customers - listed
            customers = sorted(wanted)
            for start in range(0, len(customers), ID_CHUNK):
                search = {"CustomerIds": {"int": customers[start : start + ID_CHUNK]}}
                orders = self.client.get_invoices(search, INVOICE_PROPERTIES, ())
                for key, matches in self._by_reference(orders).items():
                    known.setdefault(key, []).extend(matches)
            listed |= wanted
        found = []
        for move, payload in payloads.items():
            matches = known.get((payload["ReferenceNumber"], payload["CustomerId"]))
            if matches:
                self._store_found(move, transfers, payload["CustomerId"], matches)
                found.append(move)
        if found:
            self.exporter.commit()
        return found

    def _run_customers(self):
        """The 24SevenOffice ids of this client's customers bound to the invoices still in transfer."""
        partners = self.exporter.queued_moves().commercial_partner_id
        refs = self.integration._binder(f"company@{self.client_ref}").external_ids(partners)
        return {int(ref) for ref in refs.values() if ref.isdigit()}

    @staticmethod
    def _by_reference(orders):
        by_reference = defaultdict(list)
        for order in orders:
            reference = order.get("ReferenceNumber") or order.get("InvoiceTitle")
            by_reference[(reference, order.get("CustomerId"))].append(order)
        return by_reference

    def _store_found(self, move, transfers, customer_ref, matches):
        order = min(matches, key=lambda order: order.get("OrderId") or 0)
        invoice = mapping.set_value(order.get("InvoiceId"))
        values = {
            "state": "saved",
            "order_ref": order.get("OrderId"),
            "invoice_number": str(invoice) if invoice else False,
            "customer_ref": customer_ref,
        }
        if transfers.get(move):
            transfers[move].write(values)
        else:
            transfers[move] = self.exporter.Transfer.create(
                {
                    "integration_id": self.integration.id,
                    "move_id": move.id,
                    "client_ref": self.client_ref,
                    "run_id": self.exporter.run.id,
                    **values,
                }
            )
        self._bind_move(move, order.get("OrderId"))

    def _settle_existing(self, move, transfer):
        self.exporter._settle(
            move,
            "already_exists",
            self._(
                "24SevenOffice (%(client)s) already holds an invoice numbered %(name)s for this customer (order "
                "%(order)s): bound to it, not sent again.",
                client=self.client_label,
                name=move.name,
                order=transfer.order_ref,
            ),
            order_ref=transfer.order_ref,
        )

    # ------------------------------------------------------------------------ already there
    def _already_exists(self, moves, transfers):
        missing = [transfers[move].order_ref for move in moves if not transfers[move].invoice_number]
        numbers = self._invoice_numbers(missing)
        for move in moves:
            transfer = transfers[move]
            if not transfer.invoice_number and numbers.get(transfer.order_ref):
                transfer.invoice_number = numbers[transfer.order_ref]
            self.exporter._settle(
                move,
                "already_exists",
                self._("Already in 24SevenOffice (%(client)s): not sent again.", client=self.client_label),
                order_ref=transfer.order_ref,
            )

    def _settle_found(self, move, transfer):
        self._correct_interrupted_receipt(move, transfer)
        self.exporter._settle(
            move,
            "already_exists",
            self._(
                "24SevenOffice saved this invoice although its answer was lost (found by its reference): "
                "not sent again."
            ),
            order_ref=transfer.order_ref,
        )

    def _correct_interrupted_receipt(self, move, transfer):
        """The receipt of a run that stopped while sending this invoice said it failed: 24SevenOffice
        saved it, so that receipt shows it exported now (with the run's counters)."""
        stale = (
            self.env["recruitment.sync.run.line"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", move.id),
                    ("integration_id", "=", self.integration.id),
                    ("run_id", "!=", self.exporter.run.id),
                    ("action", "=", "failed"),
                    ("run_id.state", "not in", ("queued", "running")),
                ]
            )
        )
        stale._revise(
            "exported",
            self._("24SevenOffice saved this invoice although the export stopped (found by a later export)."),
            external_id=str(transfer.order_ref) if transfer.order_ref else None,
        )

    def _search_interrupted(self, moves, transfers):
        """Find in 24SevenOffice the invoices whose last SaveInvoices got no answer.

        24SevenOffice has no search by our reference: the invoices of the customers concerned
        changed since a little before the transfer are read and matched on ReferenceNumber.
        Found ones get their OrderId stored; returns them.
        """
        found = self.env["account.move"]
        if not moves:
            return found
        by_customer = defaultdict(list)
        for move in moves:
            by_customer[transfers[move].customer_ref].append(move)
        since = min(transfers[move].sent_at or fields.Datetime.now() for move in moves) - SEARCH_MARGIN
        customers = [ref for ref in by_customer if ref]
        search = {"ChangedAfter": since}
        if customers:
            search["CustomerIds"] = {"int": customers}
        by_reference = self._by_reference(self.client.get_invoices(search, INVOICE_PROPERTIES, ()))
        for move in moves:
            transfer = transfers[move]
            key = (mapping.truncate(move.name, "reference_number"), transfer.customer_ref)
            matches = by_reference.get(key)
            if matches:
                self._store_found(move, transfers, transfer.customer_ref, matches)
                found |= move
        if found:
            self.exporter.commit()
        return found

    # ------------------------------------------------------------------------ unanswered sends
    def _unanswered(self, error, payloads, transfers, retried):
        """SaveInvoices gave no usable answer: search for what it may have saved, send the rest once more."""
        moves = list(payloads)
        if not getattr(error, "uncertain", False):
            # Certainly not processed (request limit, HTTP 429): nothing to search for on resume.
            for move in moves:
                transfers[move].state = "not_sent"
            if error.retry_after:
                self.exporter.commit()
                raise error  # the request limit: the runner pauses the run
            return self._not_sent_now(moves, error)
        # A page or fault that may hide a save, a timeout, a reset: search before any resend.
        _logger.info("24SevenOffice: SaveInvoices failed uncertainly (%s); searching for its invoices", error)
        found = self._search_interrupted(self.env["account.move"].concat(*moves), transfers)
        for move in found:
            self._settle_found(move, transfers[move])
        rest = {move: payloads[move] for move in moves if move not in found}
        if rest and not retried:
            return self._send(rest, transfers, retried=True)
        for move in rest:  # failed twice, and 24SevenOffice does not hold them (searched)
            transfers[move].state = "not_sent"
        if rest:
            reason = self._(
                "Not sent: %(error)s, twice; 24SevenOffice does not hold the invoice (searched by its number).",
                error=error,
            )
            return self._not_sent_now(rest, reason)
        return None

    def _not_sent_now(self, moves, error):
        """24SevenOffice stayed unavailable: these invoices fail for now and are sent again later."""
        for move in moves:
            self.exporter._settle(
                move,
                "failed",
                self._("%s It is sent again automatically by the next exports.", str(error).rstrip(".") + "."),
                failure_type="transient",
            )
        self.exporter.commit()
