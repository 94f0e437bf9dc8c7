"""Customers both ways: InvoiceOcean clients ↔ res.partner (matching, incremental pages, exports, the conflict rule)."""

import functools

from odoo import _, fields, models
from odoo.tools import SQL

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import IMPORT_CONTEXT
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult, PayloadError

from ..services import invoiceocean as io

# What a customer sends to InvoiceOcean (``io.client_payload``), with its country's code.
EXPORTED_FIELDS = ["name", "is_company", "vat", "email", "phone", "mobile", "street", "zip", "city", "website"]


def _group_ids(records, value_of):
    """{value: ids of the records that have it}."""
    grouped = {}
    for record in records:
        grouped.setdefault(value_of(record), []).append(record.id)
    return grouped


class _PartnerChanges:
    """A page's writes to partners and their bindings, applied together: one ``write`` per set of
    identical values, one ``bind_many``."""

    def __init__(self):
        self.writes = {}  # frozen values: partner ids
        self.links = []

    def update(self, partner, values):
        frozen = tuple(sorted(values.items()))
        self.writes.setdefault(frozen, []).append(partner)

    def bind(self, partner, key, **values):
        self.links.append((partner, key, values))

    def apply(self, binder):
        for frozen, partners in self.writes.items():
            records = partners[0].browse([partner.id for partner in partners])
            records.with_context(**IMPORT_CONTEXT).write(dict(frozen))
        if self.links:
            binder.bind_many(self.links)


class RecruitmentSyncInvoiceOceanClients(models.AbstractModel):
    """Clients of an InvoiceOcean integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.invoiceocean.clients"
    _description = "InvoiceOcean customers"

    def _io_customer_domain(self):
        """Odoo's customers: commercial entities of this company (or shared), not users nor companies."""
        own = self.env["res.company"].sudo().with_context(active_test=False).search([]).partner_id
        return [
            ("parent_id", "=", False),
            ("user_ids", "=", False),
            ("id", "not in", own.ids),
            ("company_id", "in", [False, self.company_id.id]),
            "|",
            ("is_company", "=", True),
            ("customer_rank", ">", 0),
        ]

    # ------------------------------------------------------------------------ fetching
    def _io_fetch_clients(self, checkpoint, kind=io.CLIENTS):
        """One page of clients, newest change first, down to the watermark (``_io_list_page``).

        The first page also reads again the clients webhooks named (a destroyed client leaves the
        lists but still answers by id, §3.1). ``CLIENTS_AFTER_EXPORT`` reads them again after an
        export wrote clients, only then: what we wrote is in step (the binding keeps the
        ``updated_at`` InvoiceOcean answered), and a change someone made in InvoiceOcean meanwhile is
        among them; the next sync then starts above all of it (one page when nothing changed).
        """
        checkpoint = dict(checkpoint or {})
        rereading = kind.code == io.CLIENTS_AFTER_EXPORT.code
        if not checkpoint.get("page"):
            if rereading and not (self.io_pending_events or {}).get("clients_written"):
                return Batch(items=[], checkpoint=checkpoint or None, done=True)
            checkpoint["watermark"] = self._io_clients_watermark()
        batch = self._io_list_page("clients.json", {"order": "updated_at.desc"}, checkpoint, self._io_clients_in_step)
        if checkpoint.get("page") in (None, 1) and not rereading:
            listed = {str(row.get("id")) for row in batch.items}
            named = [key for key in self._io_take_pending("clients") if key not in listed]
            batch.items += self._io_get_each("clients", named) if named else []
        if batch.done:
            if not self.io_linked_at:
                self.sudo().io_linked_at = fields.Datetime.now()
            # A whole pass read what the exports wrote before it: no second reading is due.
            pending = dict(self.io_pending_events or {})
            if pending.pop("clients_written", None):
                self.sudo().io_pending_events = pending
        return batch

    def _io_clients_watermark(self):
        """The newest ``updated_at`` read of the clients (by the sync's pass or the one after an export)."""
        stored = self.sync_checkpoint or {}
        marks = [(stored.get(kind.code) or {}).get("watermark") for kind in (io.CLIENTS, io.CLIENTS_AFTER_EXPORT)]
        return max((mark for mark in marks if mark), default=None)

    def _io_clients_in_step(self, stamped):
        """Nothing to do for these (client, updated_at): bound at that ``updated_at`` or later, or
        neither bound nor to be brought (destroyed, or left in InvoiceOcean by the first sync)."""
        bindings = self._binder(io.CLIENT).bindings_for("res.partner", [row.get("id") for row, _stamp in stamped])
        for row, stamp in stamped:
            binding = bindings.get(str(row.get("id")))
            if binding:
                if not (binding.remote_updated_at and binding.remote_updated_at >= stamp):
                    return False
            elif not (row.get("deleted") or self._io_skip_new_client(row)):
                return False
        return True

    def _io_export_domain(self):
        return [("id", "in", self._io_export_ids(limit=None))]

    def _io_export_ids(self, limit=100):
        """Customers changed in Odoo since they were last in step with InvoiceOcean, and new ones.

        Nothing before the first sync matched both sides (``io_linked_at``); then unbound customers
        created since, or all of them when the administrator chose to bring Odoo's customers over.
        Archived customers are never sent (nor deleted in InvoiceOcean); customers a first sync found
        ambiguous wait until someone links them by hand.
        """
        if not self.io_linked_at:
            return []
        Partner = self.env["res.partner"].sudo()
        query = Partner._search(self._io_customer_domain())
        held = [int(key) for key in (self.io_pending_events or {}).get("held_partners", [])]
        all_unbound = self.io_first_sync in ("both", "to_io")
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT p.id FROM res_partner p
                    LEFT JOIN recruitment_sync_binding b
                      ON b.res_model = 'res.partner' AND b.res_id = p.id AND b.integration_id = %(integration)s
                     AND b.external_model = %(client)s
                   WHERE p.id IN %(customers)s AND p.active
                     AND ((b.id IS NULL AND NOT p.id = ANY(%(held)s)
                           AND (%(all_unbound)s OR p.sync_local_changed_at >= %(linked)s))
                          OR (b.id IS NOT NULL AND p.sync_local_changed_at > b.last_synced_at))
                     AND p.id NOT IN (%(held_back)s)
                ORDER BY p.id
                   %(limit)s""",
                integration=self.id,
                client=io.CLIENT,
                customers=query.subselect(),
                all_unbound=all_unbound,
                linked=self.io_linked_at,
                held=held,
                held_back=self._failed_items_held_back_sql(io.EXPORT_CLIENTS, "res.partner"),
                limit=SQL("LIMIT %s", limit) if limit else SQL(""),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _io_fetch_export_clients(self, batch_size):
        ids = self._io_export_ids(limit=batch_size)
        return Batch(items=self.env["res.partner"].sudo().browse(ids), checkpoint=None, done=len(ids) < batch_size)

    # ------------------------------------------------------------------------ import
    def _io_country_ids(self):
        return {country.code: country.id for country in self.env["res.country"].sudo().search([])}

    def _io_match_partners(self, clients):
        """({client id: the partners the deciding rule found}, {partner id: the client it is linked to})
        for unbound clients.

        The rules, in order: our ``external_id``, the tax number, the email, the exact name. The first
        rule that finds anyone decides (``_io_pick_match``: one customer, one client). Five queries a page.
        """
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        customers = self._io_customer_domain()
        ids = {c["id"]: self._io_id_of_key("res.partner", c.get("external_id")) for c in clients}
        by_id = Partner.browse([i for i in ids.values() if i]).exists()
        taxes = {c["id"]: io.normalized_tax_number(c.get("tax_no")) for c in clients}
        emails = {c["id"]: io.normalized_email(c.get("email")) for c in clients}
        names = {c["id"]: " ".join(str(c.get("name") or "").split()) for c in clients}
        wanted_taxes = {tax for tax in taxes.values() if tax}
        by_tax = Partner.browse(self._io_partner_ids_by_tax(customers, wanted_taxes)) if wanted_taxes else Partner
        wanted_emails = [e for e in emails.values() if e]
        by_email = (
            Partner.search([*customers, ("email_normalized", "in", wanted_emails), ("active", "=", True)])
            if wanted_emails
            else Partner
        )
        wanted_names = [n for n in names.values() if n]
        by_name = (
            Partner.search([*customers, ("name", "in", wanted_names), ("active", "=", True)])
            if wanted_names
            else Partner
        )
        linked = self._binder(io.CLIENT).external_ids(by_id | by_tax | by_email | by_name)
        # Each rule's partners by the value it compares (a page's clients look them up, not scan them).
        indexes = (
            (ids, _group_ids(by_id, lambda p: p.id)),
            (taxes, _group_ids(by_tax, lambda p: io.normalized_tax_number(p.vat))),
            (emails, _group_ids(by_email, lambda p: p.email_normalized)),
            (names, _group_ids(by_name, lambda p: p.name)),
        )
        matches = {}
        for client in clients:
            key = client["id"]
            found = (Partner.browse(index.get(wanted[key], ())) for wanted, index in indexes if wanted[key])
            matches[key] = next((partners for partners in found if partners), Partner)
        return matches, linked

    def _io_partner_ids_by_tax(self, customers, wanted_taxes):
        """Ids of the active customers whose tax number, normalized, is among ``wanted_taxes``: the
        numbers read in one query (not through the ORM: every customer with one is compared)."""
        query = self.env["res.partner"].sudo()._search([*customers, ("vat", "!=", False), ("active", "=", True)])
        self.env.cr.execute(query.select("res_partner.id", "res_partner.vat"))
        return [ident for ident, vat in self.env.cr.fetchall() if io.normalized_tax_number(vat) in wanted_taxes]

    def _io_import_clients(self, run, kind, batch):
        """A page of clients: bound ones follow the conflict rule, unbound ones are matched (and
        linked) or created. Odoo's writes are grouped by their values, the bindings written together."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False, **IMPORT_CONTEXT)
        clients = []
        for client in batch.items:
            if not isinstance(client, dict) or not client.get("id"):
                run._record(kind, ItemResult("failed", reason=_("An answer without a client id."), label=str(client)))
                continue
            clients.append(client)
        keys = [str(client["id"]) for client in clients]
        bindings = self._binder(io.CLIENT).bindings_for("res.partner", keys)
        bound = Partner.browse([binding.res_id for binding in bindings.values()]).exists()
        unbound = [
            c for c in clients if str(c["id"]) not in bindings and not c.get("deleted") and not c.get("_missing")
        ]
        matches, linked = self._io_match_partners(unbound) if unbound else ({}, {})
        countries = self._io_country_ids()
        held = set((self.io_pending_events or {}).get("held_partners", []))
        new_clients = []
        changes = _PartnerChanges()
        for client in clients:
            key = str(client["id"])
            binding = bindings.get(key)
            partner = (bound & Partner.browse(binding.res_id)) if binding else Partner
            try:
                if client.get("deleted") or client.get("_missing"):
                    run._record(kind, self._io_client_destroyed(key, partner, client))
                    continue
                values = io.partner_values(client, countries)
                stamp = io.parse_stamp(client.get("updated_at"))
            except PayloadError as error:
                run._record(
                    kind, ItemResult("failed", partner or None, key, reason=str(error), label=client.get("name"))
                )
                continue
            if binding and not partner:
                reason = _("Deleted in Odoo: not created again (InvoiceOcean keeps its client).")
                run._record(kind, ItemResult("skipped", external_id=key, reason=reason, label=values["name"]))
                continue
            match, problem = self._io_pick_match(key, matches.get(client["id"]), linked)
            if problem:
                held |= {str(partner_id) for partner_id in match.ids}
                run._record(kind, ItemResult("failed", external_id=key, reason=problem, label=values["name"]))
                continue
            if match:
                linked[match.id] = key  # the other clients of this page cannot have it too
            partner = partner or match or Partner
            if not partner:
                if self._io_skip_new_client(client):
                    continue
                new_clients.append((client, key, values, stamp))
                continue
            if binding:
                result = self._io_update_partner(partner, binding, key, values, stamp, changes)
            else:
                result = self._io_link_partner(partner, key, values, stamp, changes)
            run._record(kind, result)
        changes.apply(self._binder(io.CLIENT))
        self._io_create_partners(run, kind, new_clients)
        if held != set((self.io_pending_events or {}).get("held_partners", [])):
            self.sudo().io_pending_events = {**(self.io_pending_events or {}), "held_partners": sorted(held)}

    def _io_pick_match(self, key, found, linked):
        """(partner, None) or (partners, why none is chosen) among what the deciding rule ``found``.

        A customer linked to another client is not a candidate; when the rule found only such
        customers, or several free ones, the client is reported, never given a guess.
        """
        if not found:
            return found, None
        free = found.filtered(lambda partner: linked.get(partner.id) in (None, key))
        if len(free) == 1:
            return free, None
        if free:
            return free, _(
                "Matches several Odoo customers (%s): merge them or link one by hand.",
                ", ".join(free.mapped("display_name")),
            )
        return found.browse(), _(
            "Matches the Odoo customer %(customers)s, already linked to InvoiceOcean client %(others)s: merge "
            "the two clients in InvoiceOcean, or link this one by hand.",
            customers=", ".join(found.mapped("display_name")),
            others=", ".join(sorted({linked[partner.id] for partner in found})),
        )

    def _io_skip_new_client(self, client):
        """On the first sync, clients only InvoiceOcean has stay there unless the administrator chose to
        bring them; afterwards, the new ones come."""
        if self.io_first_sync != "to_io":
            return False
        if not self.io_linked_at:
            return True
        try:
            return io.parse_stamp(client.get("created_at"), "created_at") < self.io_linked_at
        except PayloadError:
            return False

    def _io_update_partner(self, partner, binding, key, values, stamp, changes):
        """The conflict rule: the newer side wins (Odoo's local-change stamp against ``updated_at``)."""
        Binding = self.env["recruitment.sync.binding"]
        outcome = Binding._remote_change_outcome(binding, partner, stamp)
        if outcome == "unchanged":
            return ItemResult("unchanged", partner, key)
        if outcome == "skipped":
            reason = _("Changed in Odoo after its last change in InvoiceOcean: Odoo's version is kept and sent.")
            return ItemResult("skipped", partner, key, reason=reason)
        changes.update(partner, values)
        changes.bind(partner, key, remote_updated_at=stamp)
        return ItemResult("updated", partner, key)

    def _io_link_partner(self, partner, key, values, stamp, changes):
        """A client matched with an Odoo customer for the first time: linked, and merged field by field.

        What only one side has goes to the other; what both have differently goes the newer side's
        way. When InvoiceOcean already has everything Odoo has, nothing is sent back (a first sync of
        two agreeing sides writes nothing to InvoiceOcean).
        """
        fields_ = list(values)
        odoo_values = {name: partner[name] for name in fields_ if name != "country_id"}
        odoo_values["country_id"] = partner.country_id.id or False
        local = partner.sync_local_changed_at
        updates, send = io.merge_first_match(odoo_values, values, bool(local and local > stamp))
        if updates:
            changes.update(partner, updates)
        now = fields.Datetime.now()
        if send:
            # Picked up by the export (changed in Odoo since it was last in step): the PUT it makes
            # carries what InvoiceOcean lacks, and what Odoo had newer.
            changes.bind(partner, key, remote_updated_at=stamp, last_synced_at=min(stamp, local or stamp))
            if not local or local <= stamp:
                changes.update(partner, {"sync_local_changed_at": now})
        else:
            changes.bind(partner, key, remote_updated_at=stamp, last_synced_at=max(now, local or now))
        reason = _("Linked with the Odoo customer of the same %s.", self._io_match_rule_label(partner, values))
        if send:
            reason = _("%s Odoo's details are sent to InvoiceOcean.", reason)
        return ItemResult("updated", partner, key, reason=reason)

    def _io_match_rule_label(self, partner, values):
        if values.get("vat") and io.normalized_tax_number(partner.vat) == io.normalized_tax_number(values["vat"]):
            return _("tax number")
        if values.get("email") and partner.email_normalized == io.normalized_email(values["email"]):
            return _("email")
        if partner.name == values.get("name"):
            return _("name")
        return _("reference")

    def _io_create_partners(self, run, kind, new_clients):
        """New clients: one ``create`` and one binding ``create`` for the page; one by one if that fails."""
        if not new_clients:
            return
        Partner = self.env["res.partner"].sudo().with_context(**IMPORT_CONTEXT)
        binder = self._binder(io.CLIENT)
        company = {"company_id": False}
        try:
            with self.env.cr.savepoint():
                partners = Partner.create([{**values, **company} for _c, _k, values, _s in new_clients])
                binder.bind_many(
                    [
                        (partner, key, {"remote_updated_at": stamp})
                        for partner, (_c, key, _v, stamp) in zip(partners, new_clients, strict=True)
                    ]
                )
            for partner, (_client, key, _values, _stamp) in zip(partners, new_clients, strict=True):
                run._record(kind, ItemResult("created", partner, key))
            return
        except Exception:  # noqa: BLE001 - one bad client must not fail the page: each alone below
            self.env.invalidate_all()
        for client, key, values, stamp in new_clients:

            def create_one(_run, _kind, item, key=key, values=values, stamp=stamp):
                partner = Partner.create({**values, **company})
                binder.bind(partner, key, remote_updated_at=stamp)
                return ItemResult("created", partner, key)

            run._process_item(kind, client, create_one)

    def _io_client_destroyed(self, key, partner, client):
        """Destroyed in InvoiceOcean: archived in Odoo (its history and documents stay)."""
        if not partner:
            return ItemResult("unchanged", external_id=key)
        if not partner.active:
            return ItemResult("unchanged", partner, key)
        partner.with_context(**IMPORT_CONTEXT).write({"active": False})
        return ItemResult("updated", partner, key, reason=_("Deleted in InvoiceOcean: archived in Odoo."))

    # ------------------------------------------------------------------------ export
    def _io_export_clients(self, run, kind, batch):
        """A batch of customers to InvoiceOcean, one call each (the API has no batch write), sent a few
        at a time (``_http_call_many``); their details read in one query, their bindings written together.
        A retried batch goes one by one, each looked up first (an earlier attempt may have reached it)."""
        client = self._io_client()
        bindings = self._binder(io.CLIENT).bindings_of(batch.items)
        data = {row["id"]: row for row in batch.items.read(EXPORTED_FIELDS)}
        links = []
        if batch.context.get("retry"):
            for partner in batch.items:

                def export(_run, _kind, partner):
                    return self._io_export_partner(
                        client, partner, bindings.get(partner.id), True, data=data[partner.id], links=links
                    )

                run._process_item(kind, partner, export)
        else:
            calls, sent = [], []
            for partner in batch.items:
                try:
                    payload = {"client": self._io_client_payload(partner, data[partner.id])}
                except PayloadError as error:

                    def refuse(_run, _kind, _partner, error=error):
                        raise error

                    run._process_item(kind, partner, refuse)
                    continue
                binding = bindings.get(partner.id)
                if binding:
                    calls.append(functools.partial(client.put, f"clients/{binding.external_id}.json", json=payload))
                else:
                    calls.append(functools.partial(client.post, "clients.json", json=payload))
                sent.append(partner)
            for partner, answer in zip(sent, self._http_call_many(calls), strict=True):

                def settle(_run, _kind, partner, answer=answer):
                    if isinstance(answer, Exception):
                        raise answer
                    return self._io_client_written(partner, answer, links)

                run._process_item(kind, partner, settle)
        if links:
            self._binder(io.CLIENT).bind_many(links)
            # What we wrote moved InvoiceOcean's updated_at: read once more, after this export.
            self.sudo().io_pending_events = {**(self.io_pending_events or {}), "clients_written": True}

    def _io_client_payload(self, partner, data=None):
        data = dict(data or partner.read(EXPORTED_FIELDS)[0])
        data["country_code"] = partner.country_id.code or ""
        return io.client_payload(data, self._io_our_key("res.partner", partner.id))

    def _io_export_partner(self, client, partner, binding, look_first=False, data=None, links=None):
        """Send one customer: PUT when bound; else POST, after looking it up by ``external_id`` when an
        earlier attempt may have reached InvoiceOcean (a time-out after its commit): never twice.

        ``links``: where to add the binding to write (the caller writes a batch's together); else bound now.
        """
        payload = self._io_client_payload(partner, data)
        if binding:
            answer = client.put(f"clients/{binding.external_id}.json", json={"client": payload})
        else:
            found = client.get("clients.json", params={"external_id": payload["external_id"]}) if look_first else None
            if found:
                answer = client.put(f"clients/{found[0]['id']}.json", json={"client": payload})
            else:
                answer = client.post("clients.json", json={"client": payload})
        return self._io_client_written(partner, answer, links)

    def _io_client_written(self, partner, answer, links=None):
        """InvoiceOcean's answer to our write of ``partner``: its binding (added to ``links``, else written)."""
        if not isinstance(answer, dict) or not answer.get("id"):
            raise PayloadError(_("InvoiceOcean answered without the client's id."))
        key = str(answer["id"])
        stamp = io.parse_stamp(answer.get("updated_at"))
        # In step from now on: what we wrote comes back with this updated_at, is recognised as
        # ours and not sent again (no loop).
        now = fields.Datetime.now()
        in_step = {"remote_updated_at": stamp, "last_synced_at": max(now, partner.sync_local_changed_at or now)}
        link = (partner, key, in_step)
        if links is None:
            self._binder(io.CLIENT).bind_many([link])
        else:
            links.append(link)
        return ItemResult("exported", partner, key)
