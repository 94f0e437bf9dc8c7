"""What several connectors do the same way, as helpers on the integration (PROVIDERS.md §9).

Mapping tables read from the remote system, the selection of what an export sends next,
matching remote customers with Odoo partners, the first import after connecting.
"""

from odoo import _, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..services import money
from ..services.partners import normalized_email, normalized_vat
from ..services.provider import Batch, ItemResult, PayloadError
from .recruitment_sync_binding import IMPORT_CONTEXT


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    # ------------------------------------------------------------------------ identity
    def _database_uuid(self):
        """This database's uuid: what makes the keys a connector writes remotely its own."""
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid") or ""

    def _own_company_partners(self):
        """The partners of Odoo's companies: never one of a remote system's customers."""
        return self.env["res.company"].sudo().with_context(active_test=False).search([]).partner_id

    def _country_of(self, value):
        """The country a remote address names by its ISO code or its name (empty when none)."""
        value = (value or "").strip()
        Country = self.env["res.country"]
        if not value:
            return Country
        return Country.search([("code" if len(value) == 2 else "name", "=ilike", value)], limit=1)

    def _queue_initial_load(self):
        """Queue the first import of everything the provider imports, tell the user, and mark it done."""
        self.ensure_one()
        kinds = [kind.code for kind in self._provider_sync_kinds() if kind.direction == "import"]
        if kinds:
            run, created = self._queue_run("initial_load", kinds=kinds, direction="import")
            if created:
                self._notify_run_queued(run)
        self.sudo().initial_load_done = True

    # ------------------------------------------------------------------------ rows of the integration
    def _import_rows(self, run, kind, model, key, payloads, values_of):
        """Upsert this integration's rows of ``model`` (a mapping table) from ``payloads``, one item each.

        ``values_of(payload)`` gives a row's values (raise ``PayloadError`` for a bad one: it fails
        alone); ``key`` is the field naming the remote entry. A row is created, updated with what
        changed, or left unchanged. Returns every row of the integration (to map them next).
        """
        Model = self.env[model].sudo()
        existing = {row[key]: row for row in Model.search([("integration_id", "=", self.id)])}

        def upsert(run_, kind_, payload):
            values = values_of(payload)
            row = existing.get(values[key])
            if not row:
                row = existing[values[key]] = Model.create({**values, "integration_id": self.id})
                return ItemResult("created", row, values[key])
            changed = {name: value for name, value in values.items() if row[name] != value}
            if not changed:
                return ItemResult("unchanged", row, values[key])
            row.write(changed)
            return ItemResult("updated", row, values[key])

        for payload in payloads:
            run._process_item(kind, payload, upsert)
        return Model.browse([row.id for row in existing.values()])

    def _rows_action(self, xmlid, context=None):
        """The window action ``xmlid`` narrowed to this integration's rows (mapping tables, history)."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
        action["domain"] = [("integration_id", "=", self.id)]
        if context is not None:
            action["context"] = context
        return action

    # ------------------------------------------------------------------------ export selection
    def _bound_ids_sql(self, res_model, external_model="default"):
        """SQL: ids of the ``res_model`` records this integration bound to ``external_model``."""
        return SQL(
            """SELECT res_id FROM recruitment_sync_binding
                WHERE integration_id = %s AND res_model = %s AND external_model = %s""",
            self.id,
            res_model,
            external_model,
        )

    def _posted_moves_domain(self, move_type, date_from=None):
        """Domain of this integration's posted documents of ``move_type`` (its company, its
        departments), dated from ``date_from`` when given: what an accounting export looks at."""
        domain = [("company_id", "=", self.company_id.id), ("move_type", "=", move_type), ("state", "=", "posted")]
        if date_from:
            domain.append(("invoice_date", ">=", date_from))
        if self.department_scope == "selected":
            domain.append(("department_id", "child_of", self.department_ids.ids))
        return domain

    def _moves_to_export_sql(self, domain, external_model, counting=False, also=None):
        """SQL: ids of the documents of ``domain`` never exported (no binding to ``external_model``)
        or changed in Odoo since their export.

        ``counting``: without those another ledger holds (they are refused, not sent). ``also``: an
        SQL condition on ``m`` (the move) and ``b`` (its binding) selecting more documents (e.g. a
        credit note whose allocations are pending).
        """
        Move = self.env["account.move"].sudo()
        if counting:
            domain = domain + Move._sync_ledger_held_elsewhere_domain(self)
        # ">=": an edit in the second of the export is looked at again (and found unchanged, or sent).
        stale = SQL("b.id IS NULL OR m.sync_local_changed_at >= b.last_synced_at")
        if also is not None:
            stale = SQL("%s OR %s", stale, also)
        return SQL(
            """SELECT m.id FROM account_move m
            LEFT JOIN recruitment_sync_binding b
                   ON b.integration_id = %s AND b.res_model = 'account.move'
                  AND b.external_model = %s AND b.res_id = m.id
                WHERE m.id IN %s AND (%s)""",
            self.id,
            external_model,
            Move._search(domain).subselect(),
            stale,
        )

    def _customers_to_export_sql(self, moves_sql, external_model):
        """SQL: ids of the customers (commercial partners) of the documents ``moves_sql`` selects
        that are not bound to ``external_model`` yet: those an export creates first."""
        return SQL(
            """SELECT DISTINCT m.commercial_partner_id FROM account_move m
            LEFT JOIN recruitment_sync_binding b
                   ON b.integration_id = %s AND b.res_model = 'res.partner'
                  AND b.external_model = %s AND b.res_id = m.commercial_partner_id
                WHERE m.id IN (%s) AND b.id IS NULL""",
            self.id,
            external_model,
            moves_sql,
        )

    def _reconciliations_to_export_sql(self, external_model, condition):
        """SQL: ids of the reconciliations (``account.partial.reconcile``) not bound to ``external_model``
        yet that the SQL ``condition`` selects (payments, allocations of credit notes). The condition
        reads ``debit_move`` and ``credit_move``: the documents of the reconciled lines (an invoice and
        what pays it, or a credit note and what it refunds)."""
        return SQL(
            """SELECT p.id FROM account_partial_reconcile p
                 JOIN account_move_line debit_line ON debit_line.id = p.debit_move_id
                 JOIN account_move_line credit_line ON credit_line.id = p.credit_move_id
                 JOIN account_move debit_move ON debit_move.id = debit_line.move_id
                 JOIN account_move credit_move ON credit_move.id = credit_line.move_id
            LEFT JOIN recruitment_sync_binding exported
                   ON exported.integration_id = %s AND exported.res_model = 'account.partial.reconcile'
                  AND exported.external_model = %s AND exported.res_id = p.id
                WHERE exported.id IS NULL AND (%s)""",
            self.id,
            external_model,
            condition,
        )

    def _count_sql(self, sql):
        """How many rows the query ``sql`` selects (e.g. what an export would send, for the confirmation)."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT count(*) FROM (%s) AS selected", sql))
        return self.env.cr.fetchone()[0]

    def _export_batch(self, kind, model, sql, checkpoint, batch_size):
        """The next ``Batch`` of ``model`` records an export of ``kind`` sends: those ``sql`` selects
        (a query of ids), in id order after the checkpoint, without the failed items held back
        for their retry (``_failed_items_held_back_sql``)."""
        self.env.flush_all()
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
        return Batch(
            items=self.env[model].sudo().browse(ids), checkpoint=None if done else {"after": ids[-1]}, done=done
        )

    # ------------------------------------------------------------------------ documents
    def _documents_to_send(self, run, kind, moves, bindings, customers, payload_of, stamp, skip=None):
        """The documents of a batch to send: [(move, binding or None, customer binding, payload, version)].

        ``bindings``: {move id: binding} of the documents, ``customers``: {partner id: binding} of
        their customers in the ledger; ``payload_of(move, customer external id)`` builds what is
        sent (raising ``PayloadError``, ``UserError`` or ``ValidationError`` for a document that
        cannot go). Recorded as failed now: the documents another ledger holds, those whose
        customer is not in the ledger, those without a payload. Left alone (their binding stamped
        ``stamp``): a version sent or refused already (``content_hash``, ``refused_hash``). ``skip(move,
        binding)``: documents to leave out silently (e.g. only their allocations are pending).
        """
        held_elsewhere = moves._sync_ledger_refusals(self)
        ledger = self._provider_label()
        prepared = []
        for move in moves:
            binding = bindings.get(move.id)
            external_id = binding.external_id if binding else None
            if move.id in held_elsewhere:
                run._record(kind, ItemResult("failed", move, external_id, held_elsewhere[move.id]))
                continue
            if skip and skip(move, binding):
                continue
            customer = customers.get(move.commercial_partner_id.id)
            try:
                if not customer:
                    raise PayloadError(
                        _(
                            "Its customer %(customer)s is not in %(ledger)s: it could not be created there (see the "
                            "customer's line), or customers were not part of this sync.",
                            customer=move.commercial_partner_id.display_name,
                            ledger=ledger,
                        )
                    )
                payload = payload_of(move, customer.external_id)
            except (PayloadError, UserError, ValidationError) as error:
                run._record(kind, ItemResult("failed", move, external_id, str(error.args[0])))
                continue
            version = money.content_hash(payload)
            if binding and version in (binding.content_hash, binding.refused_hash):
                binding.write({"last_synced_at": stamp})  # reposted unchanged, or refused already
                continue
            prepared.append((move, binding, customer, payload, version))
        return prepared

    def _check_ledger_total(self, move, total, tax, ledger, advice):
        """Refuse (``PayloadError``) a document ``ledger`` would total differently from Odoo.

        ``total`` and ``tax`` are the ledger's figures, computed its way; money to a ledger equals
        Odoo's totals to the cent, or is refused with ``advice`` (what to change).
        """
        odoo_total = money.round_money(move.amount_total)
        if total == odoo_total:
            return
        raise PayloadError(
            _(
                "Not exported: %(ledger)s would total %(name)s %(total)s %(currency)s (tax %(tax)s), Odoo "
                "%(odoo_total)s (tax %(odoo_tax)s). %(advice)s",
                ledger=ledger,
                name=move.name,
                total=total,
                currency=move.currency_id.name,
                tax=tax,
                odoo_total=odoo_total,
                odoo_tax=money.round_money(move.amount_tax),
                advice=advice,
            )
        )

    def _provider_label(self):
        """The provider's name, as the integration form shows it."""
        return dict(self._fields["provider"]._description_selection(self.env)).get(self.provider, "")

    # ------------------------------------------------------------------------ customers
    def _partner_candidates(self, external_model, external_ids, ids=(), refs=(), names=(), emails=(), vats=()):
        """Everything matching a page of remote customers needs, in a few queries.

        The bindings of ``external_ids``, and the Odoo companies (no parent, shared or of this
        company; never Odoo's own companies) with one of the ``ids``, references, names, emails
        or VAT numbers (compared normalized: VAT numbers are stored as typed); with which
        remote customer each is bound to already. Returns the dict ``_match_partner`` reads.
        """
        binder = self._binder(external_model)
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        base = [("parent_id", "=", False), ("company_id", "in", [False, self.company_id.id])]
        candidates = Partner.browse()
        emails = {normalized_email(email) for email in emails}
        for field, wanted in (("id", ids), ("ref", refs), ("name", names), ("email_normalized", emails)):
            wanted = set(wanted) - {None, "", False}
            if wanted:
                candidates |= Partner.search(base + [(field, "in", list(wanted))])
        vats = {normalized_vat(vat) for vat in vats} - {""}
        if vats:
            Partner.flush_model(["vat"])
            self.env.cr.execute(
                "SELECT id FROM res_partner WHERE upper(regexp_replace(vat, '\\s', '', 'g')) IN %s", [tuple(vats)]
            )
            candidates |= Partner.search(base + [("id", "in", [row[0] for row in self.env.cr.fetchall()])])
        candidates -= self._own_company_partners()
        return {
            "bindings": binder.bindings_for("res.partner", external_ids),
            "candidates": candidates,
            "bound_to": binder.external_ids(candidates),
        }

    def _partner_rules(self, vat=None, email=None, name=None):
        """The usual rules after a connector's own (its customer number): VAT number, email, exact name."""
        vat, email = normalized_vat(vat), normalized_email(email)
        return [
            (_("VAT number"), lambda p: vat and normalized_vat(p.vat) == vat),
            (_("email"), lambda p: email and (p.email_normalized or normalized_email(p.email)) == email),
            (_("name"), lambda p: name and p.name == name),
        ]

    def _match_partner(self, prefetched, external_id, rules, what, hint):
        """The one Odoo partner a new remote customer is, by the first rule that finds any: (partner, rule).

        ``rules``: [(label, predicate on a partner)], in order; partners bound to another remote
        customer are no candidates. When a rule finds several, the customer is refused
        (``PayloadError``) naming them, ``what`` (the remote customer) and ``hint`` (what to do):
        never a guess. No rule finds any: (empty partner, None).
        """
        candidates = prefetched["candidates"].filtered(
            lambda partner: prefetched["bound_to"].get(partner.id) in (None, str(external_id))
        )
        for rule, matches in rules:
            found = candidates.filtered(matches)
            if len(found) == 1:
                return found, rule
            if found:
                raise PayloadError(
                    _(
                        "%(what)s matches %(count)s Odoo partners by %(rule)s: %(partners)s. None was chosen: %(hint)s",
                        what=what,
                        count=len(found),
                        rule=rule,
                        partners=", ".join(f"{p.display_name} (id {p.id})" for p in found[:10]),
                        hint=hint,
                    )
                )
        return self.env["res.partner"], None

    def _adopt_partner(self, prefetched, external_model, partner, external_id, values, remote_updated_at, rule):
        """Bind the existing ``partner`` a remote customer matched (by ``rule``): it keeps its data,
        only what it lacks comes from ``values``. Returns the ``ItemResult``."""
        missing = {name: value for name, value in values.items() if value and not partner[name]}
        if missing:
            partner.with_context(**IMPORT_CONTEXT).write(missing)
        binding = self._binder(external_model).bind(partner, external_id, remote_updated_at=remote_updated_at)
        prefetched["bindings"][str(external_id)] = binding
        prefetched["bound_to"][partner.id] = str(external_id)
        return ItemResult("updated", partner, external_id, reason=_("Matched by %s.", rule))

    def _partner_contradiction(self, partner, binding, coded_for, number_label, vat, email):
        """Why a remote customer of the same name as ``partner`` is not it, or None when nothing contradicts.

        ``binding``: the remote customer's binding, if any; ``coded_for``: the Odoo partner id its
        customer number (``number_label``: how the remote system calls it) names; ``vat``,
        ``email``: its own. Used before linking an export's customer to one the remote system
        has already (a duplicate name, or an answer lost after creating it).
        """
        if binding and binding.res_id != partner.id:
            return _("it is linked to the Odoo partner %s", binding.record_name)
        if coded_for and coded_for != partner.id:
            return _("its %(number)s names the Odoo partner id %(id)s", number=number_label, id=coded_for)
        ours_vat, theirs_vat = normalized_vat(partner.vat), normalized_vat(vat)
        if ours_vat and theirs_vat and ours_vat != theirs_vat:
            return _("its VAT number is %(theirs)s, Odoo's %(ours)s", theirs=theirs_vat, ours=ours_vat)
        ours_email, theirs_email = normalized_email(partner.email), normalized_email(email)
        if ours_email and theirs_email and ours_email != theirs_email:
            return _("its email is %(theirs)s, Odoo's %(ours)s", theirs=theirs_email, ours=ours_email)
        return None
