"""The export of customer invoices to 24SevenOffice, one batch at a time.

The runner of the core hands the provider the invoices still *in transfer* on a run, those of
one login at a time (``_provider_fetch_queued``); ``export`` sends them:

1. log the batch's login in (or re-use its session); a login that fails gives every invoice
   of the batch the status *login error*, without any other call;
2. invoices already in 24SevenOffice (an OrderId stored for this client) are *already
   exists*; an invoice whose last transfer was interrupted (sent, no answer) is searched for
   in 24SevenOffice first and never sent twice (``tso_recovery``);
3. departments, products and customers are resolved in batches (stored ids, then lookups,
   then creation in 24SevenOffice: ``tso_matching``), the payloads built and checked
   (``tso_payload``), an invoice whose data cannot be sent failing alone with the reason;
4. one SaveInvoices call for the batch; its OrderIds are stored and committed the moment it
   answers; the 24SevenOffice invoice numbers are read back with GetInvoices.
"""

import logging
import threading
import time
from collections import defaultdict

from odoo import fields
from odoo.tools.translate import LazyTranslate

from odoo.addons.recruitment_sync.services.binder import Binder
from odoo.addons.recruitment_sync.services.http_client import PermanentError, RetryableError, SyncError
from odoo.addons.recruitment_sync.services.provider import ItemResult, SyncKind

from ..services import mapping
from ..services.tso_client import LoginError
from .recruitment_sync_run import LOGIN_ERROR_TYPE
from .tso_matching import ID_CHUNK, TsoMatching
from .tso_payload import TsoPayloads
from .tso_recovery import TsoRecovery

_logger = logging.getLogger(__name__)

_lt = LazyTranslate(__name__)
INVOICES = SyncKind("invoices", _lt("Invoices and credit notes"), "export", batch_size=50)
# The receipt's status of an invoice -> the core's action of its history line.
STATUS_ACTIONS = {
    "exported": "exported",
    "already_exists": "already_exists",
    "login_error": "failed",
    "failed": "failed",
}
RUN_CACHE_HOURS = 12
# Invoices of later batches whose products and customers a batch resolves with its own.
LOOK_AHEAD = 1000

_RUN_CACHE = {}
_RUN_CACHE_LOCK = threading.Lock()


def run_cache(dbname, run_id):
    """What a run learnt of 24SevenOffice in this process (confirmed ids, catalogs), across batches."""
    now = time.monotonic()
    with _RUN_CACHE_LOCK:
        for key in [key for key, entry in _RUN_CACHE.items() if now - entry["at"] > RUN_CACHE_HOURS * 3600]:
            del _RUN_CACHE[key]
        entry = _RUN_CACHE.setdefault((dbname, run_id), {"at": now, "verified": set(), "clients": {}})
        entry["at"] = now
        return entry


def forget_run_cache(dbname, run_id):
    with _RUN_CACHE_LOCK:
        _RUN_CACHE.pop((dbname, run_id), None)


class TsoExporter:
    """Exports a batch of invoices (``account.move``) queued on one run."""

    def __init__(self, integration, run):
        self.integration = integration
        self.run = run
        self.env = integration.env
        self.Transfer = self.env["recruitment.sync.24so.transfer"].sudo()
        self.cache = run_cache(self.env.cr.dbname, run.id)
        self.settled = set()  # ids of the invoices given an outcome

    def _(self, source, *args, **kwargs):
        return self.env._(source, *args, **kwargs)

    # ------------------------------------------------------------------------ batches
    def export(self, moves):
        """Export a batch of invoices; each one gets its outcome, or stays in transfer for the next
        batch (a credit note whose invoice is sent in this one)."""
        logins = self.integration._tso_credentials_by_department()
        by_credential = defaultdict(lambda: self.env["account.move"])
        for move in moves:
            credential = self.integration._tso_credential_for(move.department_id, logins)
            by_credential[credential] |= move
        for credential, group in by_credential.items():
            if not credential:
                for move in group:
                    self._settle(move, "login_error", self._no_login_reason(move))
                continue
            self._export_with(credential, group)

    def _no_login_reason(self, move):
        if move.department_id:
            return self._(
                "No 24SevenOffice login serves the department %(department)s, and no login serves all "
                "departments: ask a System Administrator to add one on the Credentials tab.",
                department=move.department_id.display_name,
            )
        return self._(
            "The invoice has no department and no 24SevenOffice login serves all departments: set its "
            "department, or ask a System Administrator to add a login for all departments."
        )

    # ------------------------------------------------------------------------ one login
    def _export_with(self, credential, moves):
        client = self.integration._tso_client(credential)
        try:
            try:
                first_use = credential.id not in self.cache["verified"]
                client.ensure_session(verify=first_use)
                self.cache["verified"].add(credential.id)
            except LoginError as error:
                credential.sudo().write({"state": "failed", "message": str(error), "tested_at": fields.Datetime.now()})
                for move in moves:
                    self._settle(move, "login_error", str(error))
                return
            try:
                _ExportWithLogin(self, credential, client).run(moves)
            except LoginError as error:  # the login stopped working mid-export (e.g. its password changed)
                for move in moves.filtered(lambda move: move.id not in self.settled):
                    self._settle(move, "login_error", str(error))
        finally:
            client.close()

    # ------------------------------------------------------------------------ outcomes
    def _settle(self, move, status, reason=None, order_ref=None, failure_type=None):
        """The invoice's outcome: its line in transfer on the run says it (the runner writes it)."""
        if status == "login_error":
            failure_type = LOGIN_ERROR_TYPE
        result = ItemResult(
            STATUS_ACTIONS[status],
            move,
            external_id=str(order_ref) if order_ref else None,
            reason=reason or None,
            failure_type=failure_type,
        )
        self.run._record(INVOICES, result)
        self.settled.add(move.id)

    def queued_moves(self):
        """The invoices still in transfer on the run (this batch's and the next ones)."""
        # A retry run's invoices are not queued: then none.
        return self.run._queued_records(INVOICES) or self.env["account.move"]

    def commit(self):
        """Make what 24SevenOffice answered durable now (the runner's commit; none in tests), with the
        outcomes so far: the receipt shows them at once."""
        self.run._flush_results()
        self.env.flush_all()
        self.run._commit()
        self.run._notify_progress()


class _ExportWithLogin(TsoRecovery, TsoMatching, TsoPayloads):
    """The invoices of one batch that one login exports to its 24SevenOffice client: the flow and
    the sending here; recovery, matching and payloads in their mixins."""

    def __init__(self, exporter, credential, client):
        self.exporter = exporter
        self.env = exporter.env
        self._ = exporter._
        self.integration = exporter.integration
        self.credential = credential.sudo()
        self.client = client
        self.client_ref = str(client.client_id or "")
        self.client_label = client.client_name or self.client_ref
        self.client_cache = exporter.cache["clients"].setdefault(self.client_ref, {})
        self.problems = {}  # move -> why it cannot be sent
        self.notes = defaultdict(list)  # move -> remarks for its receipt line
        # 24SevenOffice ids of the customers this run created (plain data: it outlives a rollback).
        self.created_customers = self.client_cache.setdefault("created_customers", set())
        self.odoo_totals = {}  # move -> its total as 24SevenOffice should show it (signed)

    # ------------------------------------------------------------------------ flow
    def run(self, moves):
        transfers = {
            transfer.move_id: transfer
            for transfer in self.exporter.Transfer.search(
                [("move_id", "in", moves.ids), ("client_ref", "=", self.client_ref)]
            )
        }
        saved = moves.filtered(lambda move: transfers.get(move) and transfers[move].state == "saved")
        self._already_exists(saved, transfers)
        uncertain = moves.filtered(lambda move: transfers.get(move) and transfers[move].state == "sending")
        found = self._search_interrupted(uncertain, transfers)
        for move in uncertain & found:
            self._settle_found(move, transfers[move])
        to_send = self._refuse_others(moves - saved - found)
        if not to_send:
            return
        payloads = self._payloads(to_send)
        for move in self._already_in_tso(payloads, transfers):
            self._settle_existing(move, transfers[move])
            del payloads[move]
        # A credit note whose invoice is sent now stays in transfer for the next batch (it needs
        # its invoice's OrderId).
        sending = set(payloads)
        for move in list(payloads):
            if move.reversed_entry_id in sending:
                del payloads[move]
        for move, reason in self.problems.items():
            if move in moves and move.id not in self.exporter.settled:
                self.exporter._settle(move, "failed", reason)
        if payloads:
            self._send(payloads, transfers)

    # ------------------------------------------------------------------------ not ours to send
    def _refuse_others(self, moves):
        """The invoices this integration may send; the others fail with the reason (no call made)."""
        allowed = moves
        for move, reason in self._refusals(moves).items():
            self.exporter._settle(move, "failed", reason)
            allowed -= move
        return allowed

    def _refusals(self, moves):
        """{move: reason} of the invoices this integration may not send: those of a department it
        does not serve, and those already in another ledger."""
        integration = self.integration
        refusals = {}
        held_elsewhere = moves._sync_ledger_refusals(integration)  # the core's one-ledger check, one query
        for move in moves:
            if integration.department_scope == "selected" and move.department_id not in integration.department_ids:
                refusals[move] = self._(
                    "The integration %(integration)s serves %(departments)s, not %(department)s: the invoice is not "
                    "exported, whatever departments its 24SevenOffice login covers.",
                    integration=integration.display_name,
                    departments=", ".join(integration.department_ids.mapped("display_name")),
                    department=move.department_id.display_name or self._("invoices without department"),
                )
            elif held_elsewhere.get(move.id):
                refusals[move] = held_elsewhere[move.id]
        return refusals

    def _invoices_ahead(self, batch):
        """The run's next invoices in transfer (up to ``LOOK_AHEAD``) that this login will send in
        later batches, when the batch holds one not resolved ahead yet: their products and customers
        are matched and created with the batch's, so that a run makes one Save call per 100 new
        products or customers, not one per batch that needs some. Those an earlier transfer may
        have saved, and those refused, are left to their own batch."""
        resolved = self.exporter.cache.setdefault("resolved_ahead", set())
        empty = self.env["account.move"]
        if all(move.id in resolved for move in batch):
            return empty
        resolved.update(batch.ids)
        logins = self.integration._tso_credentials_by_department()
        ahead = (self.exporter.queued_moves() - batch).filtered(
            lambda move: (
                move.id not in resolved
                and self.integration._tso_credential_for(move.department_id, logins).id == self.credential.id
            )
        )[:LOOK_AHEAD]
        if not ahead:
            return empty
        earlier = self.exporter.Transfer.search(
            [("move_id", "in", ahead.ids), ("client_ref", "=", self.client_ref), ("state", "in", ("saved", "sending"))]
        )
        ahead -= earlier.move_id
        ahead -= empty.concat(*self._refusals(ahead))
        resolved.update(ahead.ids)
        return ahead

    def _invoice_binder(self):
        """The bindings of invoices to their orders in this client: an invoice bound to its order is
        in this ledger, and other accounting integrations see it (one ledger per invoice). Binding
        an invoice again replaces an earlier order of it (gone from 24SevenOffice)."""
        return self.integration._binder(f"invoice@{self.client_ref}")

    def _bind_move(self, move, order_ref):
        self._invoice_binder().bind(move, order_ref)

    def _invoice_numbers(self, order_refs, totals=None):
        """{OrderId: invoice number} read from 24SevenOffice (empty when it cannot answer now);
        ``totals`` (a dict) receives {OrderId: (OrderTotalIncVat, OrderTotalVat)}."""
        numbers = {}
        order_refs = [ref for ref in order_refs if ref]
        properties = ("OrderId", "InvoiceId", "OrderTotalIncVat", "OrderTotalVat")
        try:
            for start in range(0, len(order_refs), ID_CHUNK):
                chunk = order_refs[start : start + ID_CHUNK]
                for order in self.client.get_invoices({"OrderIds": {"int": chunk}}, properties, ()):
                    invoice = mapping.set_value(order.get("InvoiceId"))
                    if invoice:
                        numbers[order.get("OrderId")] = str(invoice)
                    total, vat = (mapping.set_value(order.get(key)) for key in ("OrderTotalIncVat", "OrderTotalVat"))
                    if totals is not None and total is not None:
                        totals[order.get("OrderId")] = (mapping.money(total), mapping.money(vat))
        except SyncError as error:
            _logger.info("24SevenOffice: invoice numbers of orders %s not read: %s", order_refs, error)
        return numbers

    # ------------------------------------------------------------------------ sending
    def _send(self, payloads, transfers, retried=False):
        moves = list(payloads)
        now = fields.Datetime.now()
        for move in moves:
            values = {
                "state": "sending",
                "sent_at": now,
                "customer_ref": payloads[move]["CustomerId"],
                "run_id": self.exporter.run.id,
                "order_ref": False,
                "invoice_number": False,
            }
            if transfers.get(move):
                transfers[move].write(values)
            else:
                transfers[move] = self.exporter.Transfer.create(
                    {"integration_id": self.integration.id, "move_id": move.id, "client_ref": self.client_ref, **values}
                )
        # Before the call: a crash from now on leaves the transfers "sending", searched for next time.
        self.exporter.commit()
        try:
            answers = self.client.save_invoices([payloads[move] for move in moves])
        except RetryableError as error:
            return self._unanswered(error, payloads, transfers, retried)
        except PermanentError as error:
            for move in moves:
                transfers[move].state = "refused"
                self.exporter._settle(move, "failed", str(error))
            return None
        saved = {}
        paired = Binder.pair(
            moves,
            answers,
            lambda move: payloads[move]["ReferenceNumber"],
            lambda answer: (answer or {}).get("ReferenceNumber"),
        )
        for move, answer in zip(moves, paired, strict=True):
            if answer is None:
                # No answer names it: it may be saved. Its transfer stays "sending", so the next
                # export of it searches 24SevenOffice first (exactly once); retried by itself.
                self.exporter._settle(
                    move,
                    "failed",
                    self._(
                        "Outcome unknown: 24SevenOffice's answer did not name this invoice. It is sent again "
                        "automatically, after checking whether 24SevenOffice saved it."
                    ),
                    failure_type="transient",
                )
                continue
            error = mapping.api_exception(answer)
            order_ref = mapping.set_value(answer.get("OrderId"))
            if error or not order_ref:
                transfers[move].state = "refused"
                self.exporter._settle(
                    move,
                    "failed",
                    self._("24SevenOffice refused the invoice: %s", error or self._("no OrderId in its answer")),
                )
                continue
            invoice = mapping.set_value(answer.get("InvoiceId"))
            transfers[move].write(
                {"state": "saved", "order_ref": order_ref, "invoice_number": str(invoice) if invoice else False}
            )
            saved[move] = order_ref
        # The invoices are in this ledger: other accounting integrations see them (one ledger per invoice).
        self._invoice_binder().bind_many(list(saved.items()))
        # The OrderIds are durable before anything else can fail.
        self.exporter.commit()
        totals = {}
        numbers = self._invoice_numbers(list(saved.values()), totals)
        for move, order_ref in saved.items():
            transfer = transfers[move]
            if not transfer.invoice_number and numbers.get(order_ref):
                transfer.invoice_number = numbers[order_ref]
            notes = list(self.notes.get(move, [])) + self._customer_notes(move)
            if not transfer.invoice_number:
                notes.append(self._("24SevenOffice did not give its invoice number yet (order %s).", order_ref))
            notes += self._total_warning(move, totals.get(order_ref))
            self.exporter._settle(
                move,
                "exported",
                "\n".join(notes) or False,
                order_ref=order_ref,
            )
        return None
