"""The export of customer invoices to 24SevenOffice, one batch of receipt lines at a time.

The runner of the core hands the provider the receipt lines still *in transfer*, grouped by
login (``next_lines``); ``export`` sends them:

1. log the batch's login in (or re-use its session); a login that fails gives every invoice
   of the batch the status *login error*, without any other call;
2. invoices already in 24SevenOffice (an OrderId stored for this client) are *already
   exists*; an invoice whose last transfer was interrupted (sent, no answer) is searched for
   in 24SevenOffice first and never sent twice;
3. departments, products and customers are resolved in batches (stored ids, then lookups,
   then creation in 24SevenOffice), an invoice whose data cannot be sent failing alone with
   the reason;
4. one SaveInvoices call for the batch; its OrderIds are stored and committed the moment it
   answers; the 24SevenOffice invoice numbers are read back with GetInvoices.
"""

import logging
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

from odoo import fields
from odoo.tools import html2plaintext

from odoo.addons.recruitment_sync.models.recruitment_sync_run import COUNTED_ACTIONS
from odoo.addons.recruitment_sync.services.http_client import PermanentError, RetryableError, SyncError
from odoo.addons.recruitment_sync.services.provider import ItemResult, SyncKind

from ..services import mapping
from ..services.twentyfour import LoginError

_logger = logging.getLogger(__name__)

PRODUCTS = SyncKind("products", "Products created in 24SevenOffice", "export")
CUSTOMERS = SyncKind("customers", "Customers created in 24SevenOffice", "export")
# The receipt's status of an invoice -> the core's action of its history line.
STATUS_ACTIONS = {
    "in_transfer": "in_transfer",
    "exported": "exported",
    "already_exists": "already_exists",
    "login_error": "failed",
    "failed": "failed",
}
# A few unknown products or customers are searched one by one; more, in one call for all.
LOOKUP_ONE_BY_ONE = 5
SAVE_CHUNK = 100  # products or customers per Save call
ID_CHUNK = 1000  # ids per Get call [V S5 S17]
EVERYTHING_SINCE = datetime(1900, 1, 1)
# An interrupted SaveInvoices is searched for among the invoices changed since a little before it.
SEARCH_MARGIN = timedelta(minutes=15)
INVOICE_PROPERTIES = ("OrderId", "InvoiceId", "CustomerId", "ReferenceNumber", "InvoiceTitle", "OrderStatus")
RUN_CACHE_HOURS = 12

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


class Problem(Exception):
    """Why one invoice cannot be sent (it fails alone, with this reason)."""


class TsoExporter:
    """Exports receipt lines (``recruitment.sync.run.line`` of account.move) of one run."""

    def __init__(self, integration, run):
        self.integration = integration
        self.run = run
        self.env = integration.env
        self.Line = self.env["recruitment.sync.run.line"].sudo()
        self.Transfer = self.env["recruitment.sync.24so.transfer"].sudo()
        self.Binding = self.env["recruitment.sync.binding"].sudo()
        self.cache = run_cache(self.env.cr.dbname, run.id)
        self.counts = defaultdict(int)
        self.settled = set()
        self.deferred = set()

    def _(self, source, *args, **kwargs):
        return self.env._(source, *args, **kwargs)

    # ------------------------------------------------------------------------ batches
    def next_lines(self, limit):
        """The next lines to export: all of those without a login, else up to ``limit`` of one login."""
        lines = self.Line.search([("run_id", "=", self.run.id), ("tso_status", "=", "in_transfer")], order="id")
        if not lines:
            return lines
        logins = self.integration._tso_credentials_by_department()
        groups = {}
        for line in lines:
            credential = self.integration._tso_credential_for(line.tso_move_id.department_id, logins)
            groups.setdefault(credential.id or 0, []).append(line.id)
        if 0 in groups:
            return self.Line.browse(groups[0])
        return self.Line.browse(next(iter(groups.values()))[:limit])

    def export(self, lines):
        """Export a batch of lines; every line ends settled, or deferred to the next batch."""
        logins = self.integration._tso_credentials_by_department()
        by_credential = defaultdict(lambda: self.Line)
        for line in lines:
            credential = self.integration._tso_credential_for(line.tso_move_id.department_id, logins)
            by_credential[credential] |= line
        for credential, group in by_credential.items():
            if not credential:
                for line in group:
                    self._settle(line, "login_error", self._no_login_reason(line.tso_move_id))
                continue
            self._export_with(credential, group)
        for line in lines:
            if line.id not in self.settled and line.id not in self.deferred:
                self._settle(line, "failed", self._("The export did not process this invoice; export it again."))
        self._flush_counts()

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
    def _export_with(self, credential, lines):
        client = self.integration._tso_client(credential)
        try:
            try:
                first_use = credential.id not in self.cache["verified"]
                client.ensure_session(verify=first_use)
                self.cache["verified"].add(credential.id)
            except LoginError as error:
                credential.sudo().write({"state": "failed", "message": str(error), "tested_at": fields.Datetime.now()})
                for line in lines:
                    self._settle(line, "login_error", str(error))
                return
            try:
                _ExportWithLogin(self, credential, client).run(lines)
            except LoginError as error:  # the login stopped working mid-export (e.g. its password changed)
                for line in lines.filtered(lambda line: line.id not in self.settled | self.deferred):
                    self._settle(line, "login_error", str(error))
        finally:
            client.close()

    # ------------------------------------------------------------------------ receipt lines
    def _settle(self, line, status, reason=None, number=None, order_ref=None):
        line.write(
            {
                "tso_status": status,
                "action": STATUS_ACTIONS[status],
                "reason": reason or False,
                "tso_invoice_number": number or False,
                "external_id": str(order_ref) if order_ref else False,
            }
        )
        self.settled.add(line.id)
        self.counts[COUNTED_ACTIONS[STATUS_ACTIONS[status]]] += 1

    def _flush_counts(self):
        """Add the settled lines to the run's counters, and tell the receipt to refresh."""
        if self.counts:
            run = self.run.sudo()
            run.write({name: run[name] + count for name, count in self.counts.items()})
            self.counts.clear()
            if run.user_id and not run.user_id._is_public():
                run.user_id._bus_send("recruitment_sync_24so/receipt", {"run_id": run.id})

    def commit(self):
        """Make what 24SevenOffice answered durable now (the runner's commit; none in tests).

        The history lines of what was created in 24SevenOffice are written first, so that they
        survive a rollback of the rest of the batch, as the bindings do."""
        self._flush_counts()
        self.run._flush_results()
        self.env.flush_all()
        self.run._commit()


class _ExportWithLogin:
    """The invoices of one batch that one login exports to its 24SevenOffice client."""

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
        self.created_customers = set()  # 24SevenOffice ids of the customers this batch created
        self.odoo_totals = {}  # move -> its total as 24SevenOffice should show it (signed)

    # ------------------------------------------------------------------------ flow
    def run(self, lines):
        line_of = {line.tso_move_id: line for line in lines}
        moves = lines.tso_move_id
        transfers = {
            transfer.move_id: transfer
            for transfer in self.exporter.Transfer.search(
                [("move_id", "in", moves.ids), ("client_ref", "=", self.client_ref)]
            )
        }
        saved = moves.filtered(lambda move: transfers.get(move) and transfers[move].state == "saved")
        self._already_exists(saved, transfers, line_of)
        uncertain = moves.filtered(lambda move: transfers.get(move) and transfers[move].state == "sending")
        found = self._search_interrupted(uncertain, transfers)
        for move in uncertain & found:
            self._settle_found(line_of[move], transfers[move])
        to_send = self._refuse_others(moves - saved - found, line_of)
        if not to_send:
            return
        payloads = self._payloads(to_send, line_of)
        for move in self._already_in_24so(payloads, transfers):
            self._settle_existing(line_of[move], transfers[move])
            del payloads[move]
        # A credit note whose invoice is sent now waits for the next batch (it needs its OrderId).
        sending = set(payloads)
        for move in list(payloads):
            if move.reversed_entry_id in sending:
                del payloads[move]
                self.exporter.deferred.add(line_of[move].id)
        for move, reason in self.problems.items():
            if move in line_of and line_of[move].id not in self.exporter.settled:
                self.exporter._settle(line_of[move], "failed", reason)
        if payloads:
            self._send(payloads, line_of, transfers)

    # ------------------------------------------------------------------------ not ours to send
    def _refuse_others(self, moves, line_of):
        """The invoices this integration may send; the others fail with the reason (no call made):
        those of a department it does not serve, and those already in another ledger."""
        integration = self.integration
        allowed = moves
        for move in moves:
            reason = None
            if integration.department_scope == "selected" and move.department_id not in integration.department_ids:
                reason = self._(
                    "The integration %(integration)s serves %(departments)s, not %(department)s: the invoice is not "
                    "exported, whatever departments its 24SevenOffice login covers.",
                    integration=integration.display_name,
                    departments=", ".join(integration.department_ids.mapped("display_name")),
                    department=move.department_id.display_name or self._("invoices without department"),
                )
            else:
                other = move._recruitment_sync_other_ledger(integration)
                if other:
                    reason = self._(
                        "The invoice is already in another ledger (%(integration)s, id %(ref)s): an invoice is "
                        "exported to one ledger only. A Sync manager can release it there first.",
                        integration=other.integration_id.display_name,
                        ref=other.external_id,
                    )
            if reason:
                self.exporter._settle(line_of[move], "failed", reason)
                allowed -= move
        return allowed

    def _already_in_24so(self, payloads, transfers):
        """Invoices 24SevenOffice already holds under their number (an earlier export by another
        tool or database, a restored backup): one GetInvoices by the batch's known customers,
        before anything is sent. Their transfers are stored as saved; returns them."""
        customers = sorted(
            {payload["CustomerId"] for payload in payloads.values()} - self.created_customers,
        )
        found = []
        if not customers:
            return found
        orders = []
        for start in range(0, len(customers), ID_CHUNK):
            search = {"CustomerIds": {"int": customers[start : start + ID_CHUNK]}}
            orders += self.client.get_invoices(search, INVOICE_PROPERTIES, ())
        by_reference = self._by_reference(orders)
        for move, payload in payloads.items():
            matches = by_reference.get((payload["ReferenceNumber"], payload["CustomerId"]))
            if matches:
                self._store_found(move, transfers, payload["CustomerId"], matches)
                found.append(move)
        if found:
            self.exporter.commit()
        return found

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

    def _bind_move(self, move, order_ref):
        """The invoice is in this ledger: other accounting integrations see it (one ledger per invoice)."""
        external_model = f"invoice@{self.client_ref}"
        self._unbind(move, external_model)  # an earlier order of it, gone from 24SevenOffice
        self._bind(move, order_ref, external_model)

    def _settle_existing(self, line, transfer):
        self.exporter._settle(
            line,
            "already_exists",
            self._(
                "24SevenOffice (%(client)s) already holds an invoice numbered %(name)s for this customer (order "
                "%(order)s): bound to it, not sent again.",
                client=self.client_label,
                name=line.tso_move_id.name,
                order=transfer.order_ref,
            ),
            number=transfer.invoice_number,
            order_ref=transfer.order_ref,
        )

    # ------------------------------------------------------------------------ already there
    def _already_exists(self, moves, transfers, line_of):
        missing = [transfers[move].order_ref for move in moves if not transfers[move].invoice_number]
        numbers = self._invoice_numbers(missing)
        for move in moves:
            transfer = transfers[move]
            if not transfer.invoice_number and numbers.get(transfer.order_ref):
                transfer.invoice_number = numbers[transfer.order_ref]
            self.exporter._settle(
                line_of[move],
                "already_exists",
                self._("Already in 24SevenOffice (%(client)s): not sent again.", client=self.client_label),
                number=transfer.invoice_number,
                order_ref=transfer.order_ref,
            )

    def _settle_found(self, line, transfer):
        self._correct_interrupted_receipt(line, transfer)
        self.exporter._settle(
            line,
            "already_exists",
            self._(
                "24SevenOffice saved this invoice although its answer was lost (found by its reference): "
                "not sent again."
            ),
            number=transfer.invoice_number,
            order_ref=transfer.order_ref,
        )

    def _correct_interrupted_receipt(self, line, transfer):
        """The receipt of a run that stopped while sending this invoice said it failed: 24SevenOffice
        saved it, so that receipt shows it exported now (with the run's counters)."""
        stale = self.exporter.Line.search(
            [
                ("tso_move_id", "=", line.tso_move_id.id),
                ("run_id", "!=", line.run_id.id),
                ("tso_status", "=", "failed"),
                ("run_id.state", "not in", ("queued", "running")),
            ]
        )
        for old in stale:
            old.write(
                {
                    "tso_status": "exported",
                    "action": "exported",
                    "reason": self._(
                        "24SevenOffice saved this invoice although the export stopped (found by a later export)."
                    ),
                    "tso_invoice_number": transfer.invoice_number or False,
                    "external_id": str(transfer.order_ref) if transfer.order_ref else False,
                }
            )
        for run in stale.run_id:  # its counters follow its lines
            counts = dict(self.exporter.Line._read_group([("run_id", "=", run.id)], ["action"], ["__count"]))
            run.sudo().write({"failed_count": counts.get("failed", 0), "exported_count": counts.get("exported", 0)})

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

    # ------------------------------------------------------------------------ payloads
    def _payloads(self, moves, line_of):
        try:
            vat_codes = self._vat_codes(moves)
        except (Problem, PermanentError) as problem:
            self._fail(moves, self._("The VAT codes of 24SevenOffice could not be read: %s", problem))
            return {}
        for move in moves:
            if move not in self.problems:
                try:  # before any lookup or creation: an invoice that cannot be sent costs no call
                    self._row_vat_codes(move, vat_codes)
                except Problem as problem:
                    self.problems[move] = str(problem)
        moves = moves.filtered(lambda move: move not in self.problems)
        departments = self._departments(moves)
        products = self._products(moves)
        customers = self._customers(moves)
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

    def _departments(self, moves):
        """{move: 24SevenOffice department id or None}; an unknown id fails its invoices."""
        result = {}
        known = self.client_cache.get("departments")
        for move in moves:
            department = move.department_id
            ref = department.tso_department_ref if department else 0
            if not ref:
                result[move] = None
                continue
            if known is None:
                known = {department_data.get("Id") for department_data in self.client.departments()}
                self.client_cache["departments"] = known
            if ref not in known:
                self._fail(
                    move,
                    self._(
                        "24SevenOffice (%(client)s) has no department %(ref)s, the number set on the department "
                        "%(department)s: correct its 24SevenOffice department number.",
                        client=self.client_label,
                        ref=ref,
                        department=department.display_name,
                    ),
                )
            result[move] = ref
        return result

    # -- products -----------------------------------------------------------------------
    def _product_of(self, line):
        return line.product_id or self.integration.tso_generic_product_id

    def _products(self, moves):
        """{product.product: 24SevenOffice product id} of the products the invoices need."""
        users = defaultdict(lambda: self.env["account.move"])  # product -> moves using it
        for move in moves:
            for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
                product = self._product_of(line)
                if product:
                    users[product] |= move
        ids = {}
        numbers = {}
        for product, used_by in users.items():
            number = mapping.product_number(product.default_code)
            if not number:
                self._fail(
                    used_by,
                    self._(
                        "The product %s has no internal reference: 24SevenOffice products are matched by their number.",
                        product.display_name,
                    ),
                )
            else:
                numbers[product] = number
        external_model = f"product@{self.client_ref}"
        ids, unbound = self._still_bound(
            "product.product",
            list(numbers),
            external_model,
            "products",
            lambda chunk: self.client.get_products({"ProductIds": {"int": chunk}}, ("Id", "No")),
        )
        confirmed = self.client_cache["products"]
        if not unbound:
            return ids
        found = self._find_products({numbers[product] for product in unbound})
        to_create = []
        for product in unbound:
            matches = found.get(numbers[product], [])
            if len(matches) == 1:
                ids[product] = matches[0]
                self._bind(product, matches[0], external_model)
                confirmed.add(matches[0])
            elif len(matches) > 1:
                self._fail(
                    users[product],
                    self._(
                        "24SevenOffice (%(client)s) has %(count)s products numbered %(number)s (ids %(ids)s): "
                        "the product %(product)s is ambiguous. Make the number unique in 24SevenOffice.",
                        client=self.client_label,
                        count=len(matches),
                        number=numbers[product],
                        ids=", ".join(str(ref) for ref in sorted(matches)),
                        product=product.display_name,
                    ),
                )
            else:
                to_create.append(product)
        if to_create:
            ids.update(self._create_products(to_create, numbers, users, external_model, confirmed))
        return ids

    def _find_products(self, numbers):
        """{number: [24SevenOffice ids]} of the products whose No is exactly one of ``numbers``."""
        if len(numbers) <= LOOKUP_ONE_BY_ONE and "catalog" not in self.client_cache:
            found = {}
            for number in sorted(numbers):
                products = self.client.get_products({"No": number}, ("Id", "No"))
                found[number] = [p.get("Id") for p in products if mapping.product_number(p.get("No")) == number]
            return found
        catalog = self.client_cache.get("catalog")
        if catalog is None:
            catalog = defaultdict(list)
            for product in self.client.get_products({"DateChanged": EVERYTHING_SINCE}, ("Id", "No")):
                catalog[mapping.product_number(product.get("No"))].append(product.get("Id"))
            self.client_cache["catalog"] = catalog
        found = {number: list(catalog.get(number, [])) for number in numbers}
        # The change-date list misses products without a change date: the numbers it did not
        # return are looked up exactly before anything is created.
        for number in sorted(number for number in numbers if not found[number]):
            products = self.client.get_products({"No": number}, ("Id", "No"))
            found[number] = [p.get("Id") for p in products if mapping.product_number(p.get("No")) == number]
            catalog[number].extend(found[number])
        return found

    def _create_products(self, products, numbers, users, external_model, confirmed):
        category = self.credential.product_category_ref
        if not category:
            for product in products:
                self._fail(
                    users[product],
                    self._(
                        "The product %(product)s is not in 24SevenOffice and the export cannot create it: no "
                        "category of new products is set on the 24SevenOffice login %(login)s.",
                        product=product.display_name,
                        login=self.credential.username,
                    ),
                )
            return {}
        catalog = self.client_cache.get("catalog")

        def payload(product):
            return {
                "No": mapping.truncate(numbers[product], "product_no"),
                "Name": mapping.truncate(product.name, "product_name") or numbers[product],
                "CategoryId": category,
                "Price": mapping.decimal(product.lst_price),
            }

        def created(product, ref):
            if catalog is not None:
                catalog[numbers[product]].append(ref)

        return self._create(
            PRODUCTS,
            products,
            payload,
            self.client.save_products,
            ("No", lambda product: mapping.truncate(numbers[product], "product_no")),
            users,
            external_model,
            confirmed,
            created,
        )

    def _create(self, kind, records, payload_of, save, echo, users, external_model, confirmed, created):
        """Create ``records`` in 24SevenOffice (``save``, a Save* call per chunk): {record: new id}.

        A record refused (APIException) fails the invoices that need it; a created one is bound,
        confirmed for the run, passed to ``created(record, id)`` and listed in the history.
        ``echo``: (key of the answer, its expected value for a record), to pair the answers.
        """
        ids = {}
        for start in range(0, len(records), SAVE_CHUNK):
            chunk = records[start : start + SAVE_CHUNK]
            answers = save([payload_of(record) for record in chunk])
            for record, answer in self._pair(chunk, answers, *echo):
                error = mapping.api_exception(answer) if answer is not None else self._("no answer")
                ref = mapping.set_value((answer or {}).get("Id"))
                if error or not ref:
                    error = error or self._("no id in its answer")
                    if kind == PRODUCTS:
                        reason = self._(
                            "24SevenOffice did not create the product %(name)s: %(error)s",
                            name=record.display_name,
                            error=error,
                        )
                    else:
                        reason = self._(
                            "24SevenOffice did not create the customer %(name)s: %(error)s",
                            name=record.display_name,
                            error=error,
                        )
                    self._fail(users[record], reason)
                    continue
                ids[record] = ref
                confirmed.add(ref)
                self._bind(record, ref, external_model)
                created(record, ref)
                self.exporter.run._record(kind, ItemResult("created", record, str(ref)))
        self.exporter.commit()
        return ids

    @staticmethod
    def _pair(records, answers, key, expected):
        """(record, answer) pairs of a Save call: by position, checked against an echoed key."""
        if len(answers) == len(records) and all(
            (answer or {}).get(key) in (None, expected(record)) for record, answer in zip(records, answers, strict=True)
        ):
            return list(zip(records, answers, strict=True))
        by_key = {(answer or {}).get(key): answer for answer in answers}
        return [(record, by_key.get(expected(record))) for record in records]

    def _still_bound(self, model, records, external_model, cache_key, read_ids):
        """Split ``records`` into ({record: 24SO id} still in 24SevenOffice, [records to match]).

        A stored id is confirmed once per client and process (``read_ids`` reads ids in chunks);
        one 24SevenOffice no longer has is unbound, and its record is matched again.
        """
        bound = self._bound(model, records, external_model)
        confirmed = self.client_cache.setdefault(cache_key, set())
        to_confirm = sorted({ref for ref in bound.values() if ref not in confirmed})
        for start in range(0, len(to_confirm), ID_CHUNK):
            confirmed.update(item.get("Id") for item in read_ids(to_confirm[start : start + ID_CHUNK]))
        ids, unbound = {}, []
        for record in records:
            ref = bound.get(record)
            if ref and ref in confirmed:
                ids[record] = ref
            else:
                if ref:
                    self._unbind(record, external_model)
                unbound.append(record)
        return ids, unbound

    # -- customers ----------------------------------------------------------------------
    def _customers(self, moves):
        """{res.partner: 24SevenOffice customer id}.

        Matched by the stored id, else our ExternalId, else the organisation number (never by
        name alone); created in 24SevenOffice when absent (never with an Id of our choosing).
        """
        users = defaultdict(lambda: self.env["account.move"])
        for move in moves:
            users[move.commercial_partner_id] |= move
        external_model = f"company@{self.client_ref}"
        ids, unbound = self._still_bound(
            "res.partner",
            list(users),
            external_model,
            "companies",
            lambda chunk: self.client.get_companies({"CompanyIds": {"int": chunk}}, ("Id",)),
        )
        confirmed = self.client_cache["companies"]
        if not unbound:
            return ids
        keys = {partner: self._external_key(partner) for partner in unbound}
        org_numbers = {partner: self._organization_number(partner) for partner in unbound}
        by_key, by_number = self._find_companies(unbound, keys, org_numbers)
        to_create = []
        for partner in unbound:
            matches = sorted(by_key.get(keys[partner], []))
            if matches:  # ours: created by this database (the lowest if it ever was twice)
                ids[partner] = matches[0]
            elif org_numbers[partner] and by_number.get(org_numbers[partner]):
                matches = sorted(set(by_number[org_numbers[partner]]))
                if len(matches) > 1:
                    self._fail(
                        users[partner],
                        self._(
                            "24SevenOffice (%(client)s) has %(count)s customers with the organisation number "
                            "%(number)s (ids %(ids)s): the customer %(partner)s is ambiguous.",
                            client=self.client_label,
                            count=len(matches),
                            number=org_numbers[partner],
                            ids=", ".join(str(ref) for ref in matches),
                            partner=partner.display_name,
                        ),
                    )
                    continue
                ids[partner] = matches[0]
            else:
                to_create.append(partner)
                continue
            self._bind(partner, ids[partner], external_model)
            confirmed.add(ids[partner])
        if to_create:
            ids.update(self._create_customers(to_create, keys, org_numbers, users, external_model, confirmed))
        return ids

    def _external_key(self, partner):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return mapping.truncate(mapping.customer_external_id(uuid, partner.id), "external_id")

    @staticmethod
    def _organization_number(partner):
        return mapping.organization_number(partner.company_registry, partner.vat, partner.country_id.code)

    def _find_companies(self, partners, keys, org_numbers):
        """({ExternalId: [ids]}, {organisation number: [ids]}) for ``partners``: searched one by one
        when few, else from the client's customer directory (one call, kept for the run)."""
        by_key, by_number = defaultdict(list), defaultdict(list)
        properties = ("Id", "ExternalId", "OrganizationNumber")
        if len(partners) <= LOOKUP_ONE_BY_ONE and "directory" not in self.client_cache:
            for partner in partners:
                self._lookup_company(keys[partner], org_numbers[partner], by_key, by_number)
            return by_key, by_number
        directory = self.client_cache.get("directory")
        if directory is None:
            directory = {"keys": defaultdict(list), "numbers": defaultdict(list)}
            for company in self.client.get_companies({"ChangedAfter": EVERYTHING_SINCE}, properties):
                if company.get("ExternalId"):
                    directory["keys"][company["ExternalId"]].append(company.get("Id"))
                number = mapping.digits(company.get("OrganizationNumber"))
                if number:
                    directory["numbers"][number].append(company.get("Id"))
            self.client_cache["directory"] = directory
        # The change-date list misses customers without a change date: those it did not return
        # are looked up exactly (our key, then the organisation number) before any is created.
        for partner in partners:
            key, number = keys[partner], org_numbers[partner]
            if not directory["keys"].get(key) and not (number and directory["numbers"].get(number)):
                self._lookup_company(key, number, directory["keys"], directory["numbers"])
        return directory["keys"], directory["numbers"]

    def _lookup_company(self, key, number, by_key, by_number):
        """Exact lookups of one customer: our ExternalId, else its organisation number."""
        properties = ("Id", "ExternalId", "OrganizationNumber")
        for company in self.client.get_companies({"ExternalId": key}, properties):
            if company.get("ExternalId") == key:
                by_key[key].append(company.get("Id"))
        if by_key.get(key) or not number:
            return
        for company in self.client.get_companies({"OrganizationNumber": number}, properties):
            if mapping.digits(company.get("OrganizationNumber")) == number:
                by_number[number].append(company.get("Id"))

    def _company_payload(self, partner, key, org_number):
        person = not partner.is_company
        name = partner.name or partner.display_name
        payload = {
            "ExternalId": key,
            "Name": mapping.truncate(name, "company_name"),
            "Type": "Consumer" if person else "Business",
            "OrganizationNumber": org_number,
            "Country": (partner.country_id.code or None),
        }
        if person:
            payload["Private"] = True
            parts = name.split()
            if len(parts) > 1:
                payload["FirstName"] = mapping.truncate(" ".join(parts[:-1]), "company_first_name")
                payload["Name"] = mapping.truncate(parts[-1], "company_name")
        email = partner.email and partner.email.split(",")[0].strip()
        if email:
            payload["EmailAddresses"] = {"Invoice": {"Value": mapping.truncate(email, "email")}}
        if partner.street or partner.zip or partner.city:
            address = {
                "Street": mapping.truncate(" ".join(filter(None, [partner.street, partner.street2])), "street"),
                "PostalCode": mapping.truncate(partner.zip, "postal_code"),
                "PostalArea": mapping.truncate(partner.city, "city"),
                "City": mapping.truncate(partner.city, "city"),
                "Country": partner.country_id.code or None,
            }
            payload["Addresses"] = {"Invoice": address, "Post": address}
        return {key_: value for key_, value in payload.items() if value not in (None, "")}

    def _create_customers(self, partners, keys, org_numbers, users, external_model, confirmed):
        directory = self.client_cache.get("directory")

        def created(partner, ref):
            self.created_customers.add(ref)
            if directory is not None:
                directory["keys"][keys[partner]].append(ref)
            if not org_numbers[partner] and partner.is_company:
                note = self._(
                    "The customer %s has no organisation number in Odoo: it was created in 24SevenOffice without one.",
                    partner.display_name,
                )
                for move in users[partner]:
                    self.notes[move].append(note)

        return self._create(
            CUSTOMERS,
            partners,
            # Never an Id: a save with an Id updates (overwrites) that customer [V S17].
            lambda partner: self._company_payload(partner, keys[partner], org_numbers[partner]),
            self.client.save_companies,
            ("ExternalId", lambda partner: keys[partner]),
            users,
            external_model,
            confirmed,
            created,
        )

    # -- bindings -----------------------------------------------------------------------
    def _bound(self, model, records, external_model):
        """{record: 24SevenOffice id} of the records bound for this client (one query)."""
        if not records:
            return {}
        bindings = self.exporter.Binding.search(
            [
                ("integration_id", "=", self.integration.id),
                ("res_model", "=", model),
                ("external_model", "=", external_model),
                ("res_id", "in", [record.id for record in records]),
            ]
        )
        by_id = {binding.res_id: int(binding.external_id) for binding in bindings if binding.external_id.isdigit()}
        return {record: by_id[record.id] for record in records if record.id in by_id}

    def _bind(self, record, ref, external_model):
        self.exporter.Binding._bind(self.integration, record, str(ref), external_model)

    def _unbind(self, record, external_model):
        self.exporter.Binding.search(
            [
                ("integration_id", "=", self.integration.id),
                ("res_model", "=", record._name),
                ("external_model", "=", external_model),
                ("res_id", "=", record.id),
            ]
        ).unlink()

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

    # ------------------------------------------------------------------------ sending
    def _send(self, payloads, line_of, transfers, retried=False):
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
            if not getattr(error, "uncertain", False):
                # Certainly not processed (request limit, HTTP 429): nothing to search for on resume.
                for move in moves:
                    transfers[move].state = "not_sent"
                self.exporter.commit()
                raise
            # A page or fault that may hide a save, a timeout, a reset: search before any resend.
            _logger.info("24SevenOffice: SaveInvoices failed uncertainly (%s); searching for its invoices", error)
            found = self._search_interrupted(self.env["account.move"].concat(*moves), transfers)
            for move in found:
                self._settle_found(line_of[move], transfers[move])
            rest = {move: payloads[move] for move in moves if move not in found}
            if rest and not retried:
                return self._send(rest, line_of, transfers, retried=True)
            for move in rest:  # failed twice, and 24SevenOffice does not hold them (searched)
                transfers[move].state = "not_sent"
                self.exporter._settle(
                    line_of[move],
                    "failed",
                    self._(
                        "Not sent: %(error)s, twice; 24SevenOffice does not hold the invoice (searched by its "
                        "number). Export it again later.",
                        error=error,
                    ),
                )
            self.exporter.commit()
            return None
        except PermanentError as error:
            for move in moves:
                transfers[move].state = "refused"
                self.exporter._settle(line_of[move], "failed", str(error))
            return None
        saved = {}
        for move, answer in self._pair(moves, answers, "ReferenceNumber", lambda m: payloads[m]["ReferenceNumber"]):
            error = mapping.api_exception(answer) if answer is not None else self._("no answer for this invoice")
            order_ref = mapping.set_value((answer or {}).get("OrderId"))
            if error or not order_ref:
                transfers[move].state = "refused"
                self.exporter._settle(
                    line_of[move],
                    "failed",
                    self._("24SevenOffice refused the invoice: %s", error or self._("no OrderId in its answer")),
                )
                continue
            invoice = mapping.set_value(answer.get("InvoiceId"))
            transfers[move].write(
                {"state": "saved", "order_ref": order_ref, "invoice_number": str(invoice) if invoice else False}
            )
            self._bind_move(move, order_ref)
            saved[move] = order_ref
        # The OrderIds are durable before anything else can fail.
        self.exporter.commit()
        totals = {}
        numbers = self._invoice_numbers(list(saved.values()), totals)
        for move, order_ref in saved.items():
            transfer = transfers[move]
            if not transfer.invoice_number and numbers.get(order_ref):
                transfer.invoice_number = numbers[order_ref]
            notes = list(self.notes.get(move, []))
            if not transfer.invoice_number:
                notes.append(self._("24SevenOffice did not give its invoice number yet (order %s).", order_ref))
            notes += self._total_warning(move, totals.get(order_ref))
            self.exporter._settle(
                line_of[move],
                "exported",
                "\n".join(notes) or False,
                number=transfer.invoice_number,
                order_ref=order_ref,
            )
        return None
