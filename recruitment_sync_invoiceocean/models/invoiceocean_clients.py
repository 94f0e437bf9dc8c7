"""Customers both ways: InvoiceOcean clients ↔ res.partner (matching, incremental pages, exports, the conflict rule)."""

from odoo import _, fields, models
from odoo.tools import SQL

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import IMPORT_CONTEXT
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult, PayloadError

from ..services import invoiceocean as io


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
    def _io_fetch_clients(self, checkpoint):
        """One page of clients changed since the last sync, and the clients webhooks named (a destroyed
        client leaves the lists but still answers by id, §3.1); the first pass links the accounts."""
        batch = self._io_fetch_changed("clients", "clients", checkpoint, keep_missing=True)
        if batch.done and not self.io_linked_at:
            self.sudo().io_linked_at = fields.Datetime.now()
        return batch

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
        """{client id: partner, or a recordset of several (ambiguous), or None} for unbound clients.

        The rules, in order: our ``external_id``, the tax number, the email, the exact name. The first
        rule that finds anyone decides; more than one partner there is ambiguous. Four queries a page.
        """
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        customers = self._io_customer_domain()
        ids = {c["id"]: self._io_id_of_key("res.partner", c.get("external_id")) for c in clients}
        by_id = Partner.browse([i for i in ids.values() if i]).exists()
        taxes = {c["id"]: io.normalized_tax_number(c.get("tax_no")) for c in clients}
        emails = {c["id"]: io.normalized_email(c.get("email")) for c in clients}
        names = {c["id"]: " ".join(str(c.get("name") or "").split()) for c in clients}
        variants = {v for tax in taxes.values() if tax for v in (tax, *(c + tax for c in ("PL", "GB", "DE", "NO")))}
        by_tax = Partner.search([*customers, ("vat", "!=", False), ("active", "=", True)]) if variants else Partner
        by_tax = by_tax.filtered(lambda p: io.normalized_tax_number(p.vat) in {taxes[k] for k in taxes if taxes[k]})
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
        matches = {}
        for client in clients:
            key = client["id"]
            rules = (
                by_id.filtered(lambda p, key=key: p.id == ids[key]) if ids[key] else Partner,
                by_tax.filtered(lambda p, key=key: io.normalized_tax_number(p.vat) == taxes[key])
                if taxes[key]
                else Partner,
                by_email.filtered(lambda p, key=key: p.email_normalized == emails[key]) if emails[key] else Partner,
                by_name.filtered(lambda p, key=key: p.name == names[key]) if names[key] else Partner,
            )
            matches[key] = next((found for found in rules if found), None)
        return matches

    def _io_import_clients(self, run, kind, batch):
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
        matches = self._io_match_partners(unbound) if unbound else {}
        countries = self._io_country_ids()
        held = set((self.io_pending_events or {}).get("held_partners", []))
        new_clients = []
        for client in clients:
            key = str(client["id"])
            binding = bindings.get(key)
            partner = bound.filtered(lambda p, binding=binding: p.id == binding.res_id) if binding else Partner
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
            match = matches.get(client["id"])
            if match is not None and len(match) > 1:
                held |= {str(partner_id) for partner_id in match.ids}
                reason = _(
                    "Matches several Odoo customers (%s): merge them or link one by hand.",
                    ", ".join(match.mapped("display_name")),
                )
                run._record(kind, ItemResult("failed", external_id=key, reason=reason, label=values["name"]))
                continue
            partner = partner or match or Partner
            if not partner:
                if self._io_skip_new_client(client):
                    continue
                new_clients.append((client, key, values, stamp))
                continue
            run._record(kind, self._io_update_partner(partner, binding, key, values, stamp))
        self._io_create_partners(run, kind, new_clients)
        if held != set((self.io_pending_events or {}).get("held_partners", [])):
            self.sudo().io_pending_events = {**(self.io_pending_events or {}), "held_partners": sorted(held)}

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

    def _io_update_partner(self, partner, binding, key, values, stamp):
        """The conflict rule: the newer side wins (Odoo's local-change stamp against ``updated_at``)."""
        Binding = self.env["recruitment.sync.binding"]
        outcome = Binding._remote_change_outcome(binding, partner, stamp)
        if outcome == "unchanged":
            return ItemResult("unchanged", partner, key)
        if outcome == "skipped":
            if not binding:
                # A first match whose Odoo side is newer: linked now, sent to InvoiceOcean by the export.
                self._binder(io.CLIENT).bind(partner, key, last_synced_at=stamp)
            reason = _("Changed in Odoo after its last change in InvoiceOcean: Odoo's version is kept and sent.")
            return ItemResult("skipped", partner, key, reason=reason)
        partner.with_context(**IMPORT_CONTEXT).write(values)
        self._binder(io.CLIENT).bind(partner, key, remote_updated_at=stamp)
        return ItemResult("updated", partner, key)

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
        client = self._io_client()
        bindings = self._binder(io.CLIENT).bindings_of(batch.items)
        look_first = bool(batch.context.get("retry"))

        def export(_run, _kind, partner):
            return self._io_export_partner(client, partner, bindings.get(partner.id), look_first)

        for partner in batch.items:
            run._process_item(kind, partner, export)

    def _io_export_partner(self, client, partner, binding, look_first=False):
        """Send one customer: PUT when bound; else POST, after looking it up by ``external_id`` when an
        earlier attempt may have reached InvoiceOcean (a time-out after its commit): never twice."""
        external_id = self._io_our_key("res.partner", partner.id)
        data = partner.read(
            ["name", "is_company", "vat", "email", "phone", "mobile", "street", "zip", "city", "website"]
        )[0]
        data["country_code"] = partner.country_id.code or ""
        payload = io.client_payload(data, external_id)
        if binding:
            answer = client.put(f"clients/{binding.external_id}.json", json={"client": payload})
        else:
            found = client.get("clients.json", params={"external_id": external_id}) if look_first else None
            if found:
                answer = client.put(f"clients/{found[0]['id']}.json", json={"client": payload})
            else:
                answer = client.post("clients.json", json={"client": payload})
        if not isinstance(answer, dict) or not answer.get("id"):
            raise PayloadError(_("InvoiceOcean answered without the client's id."))
        key = str(answer["id"])
        stamp = io.parse_stamp(answer.get("updated_at"))
        # In step from now on: what we wrote comes back unchanged, and is not sent again (no loop).
        now = fields.Datetime.now()
        self._binder(io.CLIENT).bind(
            partner, key, remote_updated_at=stamp, last_synced_at=max(now, partner.sync_local_changed_at or now)
        )
        return ItemResult("exported", partner, key)
