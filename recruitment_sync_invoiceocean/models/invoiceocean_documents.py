"""Documents as opportunities (InvoiceOcean → crm.lead) and "+Add invoice" (crm.lead → InvoiceOcean)."""

from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import IMPORT_CONTEXT
from odoo.addons.recruitment_sync.services.http_client import PermanentError
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult, PayloadError

from ..services import invoiceocean as io


class RecruitmentSyncInvoiceOceanDocuments(models.AbstractModel):
    """Documents of an InvoiceOcean integration (mixed into ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.invoiceocean.documents"
    _description = "InvoiceOcean documents"

    # ------------------------------------------------------------------------ departments
    def _io_import_departments(self, run, kind, batch):
        Row = self.env["recruitment.sync.invoiceocean.department"].sudo()
        rows = {row.remote_id: row for row in Row.search([("integration_id", "=", self.id)])}
        for department in batch.items:
            key = str(department.get("id") or "")
            if not key or not (department.get("name") or department.get("shortcut")):
                reason = _("A department without id or name.")
                run._record(kind, ItemResult("failed", external_id=key or None, reason=reason, label=str(department)))
                continue
            values = {"name": department.get("name") or department["shortcut"], "shortcut": department.get("shortcut")}
            row = rows.get(key)
            if row and (row.name, row.shortcut or False) == (values["name"], values["shortcut"] or False):
                run._record(kind, ItemResult("unchanged", external_id=key))
            elif row:
                row.write(values)
                run._record(kind, ItemResult("updated", external_id=key, label=values["name"]))
            else:
                Row.create({**values, "integration_id": self.id, "remote_id": key})._auto_map()
                run._record(kind, ItemResult("created", external_id=key, label=values["name"]))
        if (self.io_pending_events or {}).get("register_webhooks"):
            self._io_register_webhooks()
            pending = dict(self.io_pending_events)
            pending.pop("register_webhooks")
            self.sudo().io_pending_events = pending

    # ------------------------------------------------------------------------ fetching
    def _io_fetch_documents(self, checkpoint):
        """One page of sales documents changed since the last sync, and the documents webhooks named.

        Before the accounts are linked nothing is read; the first pass reads the documents issued
        from *Also earlier documents from* when set, else none (only new documents become
        opportunities). List pages only: an opportunity needs no positions.
        """
        checkpoint = dict(checkpoint or {})
        if "earlier_resume" not in checkpoint and not checkpoint.get("page") and self._io_take_earlier_request():
            checkpoint = {"earlier_resume": checkpoint.get("watermark") or fields.Datetime.now().isoformat()}
        if "earlier_resume" in checkpoint:
            return self._io_fetch_earlier_documents(checkpoint)
        watermark = checkpoint.get("watermark")
        if not watermark and not self.io_documents_from:
            return Batch(items=[], checkpoint={"watermark": fields.Datetime.now().isoformat()}, done=True)
        params = {"order": "updated_at.desc", "period": "all"}
        if not watermark:
            params.update(period="more", date_from=self.io_documents_from.isoformat())
        first_page = not checkpoint.get("page")
        batch = self._io_list_page("invoices.json", params, checkpoint, self._io_documents_in_step)
        if first_page:
            listed = {str(row.get("id")) for row in batch.items}
            named = [key for key in self._io_take_pending("documents") if key not in listed]
            batch.items += (
                [item for item in self._io_get_each("invoices", named) if not item.get("_missing")] if named else []
            )
        if batch.done and not batch.checkpoint.get("watermark"):
            batch.checkpoint["watermark"] = fields.Datetime.now().isoformat()
        return batch

    def _io_take_earlier_request(self):
        """True once after *Also earlier documents from* was set on linked accounts (``write``)."""
        pending = dict(self.io_pending_events or {})
        if not pending.pop("documents_from", None):
            return False
        self.sudo().io_pending_events = pending
        return bool(self.io_documents_from)

    def _io_fetch_earlier_documents(self, checkpoint):
        """A page of the pass over the documents issued from *Also earlier documents from*, set after
        the accounts were linked (the incremental pages never reach documents that did not change).

        The whole period is read (no watermark stop); then the incremental reading goes on from its
        own watermark, kept aside meanwhile: a document issued earlier and changed since is not missed.
        """
        resume = checkpoint["earlier_resume"]
        params = {"order": "updated_at.desc", "period": "more", "date_from": self.io_documents_from.isoformat()}
        page = {"page": checkpoint.get("page")}
        batch = self._io_list_page("invoices.json", params, page, self._io_documents_in_step)
        if batch.done:
            batch.checkpoint = {"watermark": resume}
        else:
            batch.checkpoint = {"earlier_resume": resume, "page": batch.checkpoint["page"]}
        return batch

    def _io_documents_in_step(self, stamped):
        """Nothing to do for these (document, updated_at): bound at that ``updated_at`` or later, or
        never to become an opportunity (a kind not chosen, issued before the accounts were linked)."""
        keys = [row.get("id") for row, _stamp in stamped]
        bindings = self._binder(io.DOCUMENT).bindings_for("crm.lead", keys)
        chosen = set(self.io_document_kind_ids.mapped("code"))
        for row, stamp in stamped:
            binding = bindings.get(str(row.get("id")))
            if binding:
                if not (binding.remote_updated_at and binding.remote_updated_at >= stamp):
                    return False
            elif row.get("kind") in chosen and (
                self._io_lead_from_oid(row.get("oid"))
                or self._io_document_wanted(row, {"issue_date": row.get("issue_date"), "updated_at": stamp})
            ):
                return False
        return True

    # ------------------------------------------------------------------------ import
    def _io_lead_from_oid(self, oid):
        """The opportunity whose "+Add invoice" issued the invoice with ``oid`` (``_io_our_key``), if any."""
        lead_id = self._io_id_of_key("crm.lead", oid)
        return self.env["crm.lead"].sudo().browse(lead_id).exists() if lead_id else self.env["crm.lead"]

    def _io_document_wanted(self, document, summary):
        """A new document becomes an opportunity when issued after the accounts were linked, or from
        the administrator's *Also earlier documents from*."""
        if self.io_documents_from and summary["issue_date"] and summary["issue_date"] >= str(self.io_documents_from):
            return True
        try:
            created = io.parse_stamp(document.get("created_at"), "created_at")
        except PayloadError:
            created = summary["updated_at"]
        return bool(self.io_linked_at) and created >= self.io_linked_at - timedelta(seconds=io.OVERLAP_SECONDS)

    def _io_import_documents(self, run, kind, batch):
        chosen = set(self.io_document_kind_ids.mapped("code"))
        documents = [d for d in batch.items if isinstance(d, dict) and d.get("id")]
        bindings = self._binder(io.DOCUMENT).bindings_for("crm.lead", [str(d["id"]) for d in documents])
        summaries = []
        for document in documents:
            key = str(document["id"])
            try:
                # A document already an opportunity follows its changes even if its kind was turned off since.
                summary = io.document_summary(document, set(io.KINDS) if key in bindings else chosen)
            except PayloadError as error:
                run._record(
                    kind, ItemResult("failed", external_id=key, reason=str(error), label=document.get("number"))
                )
                continue
            if summary and (
                key in bindings or self._io_lead_from_oid(summary["oid"]) or self._io_document_wanted(document, summary)
            ):
                summaries.append(summary)
        if not summaries:
            return
        partners = self._io_partners_of(run, {s["client_id"] for s in summaries})
        users = self.env["recruitment.sync.invoiceocean.user"].sudo()._io_rows_for(self, summaries)
        departments = {
            row.remote_id: row
            for row in self.env["recruitment.sync.invoiceocean.department"]
            .sudo()
            .search([("integration_id", "=", self.id)])
        }
        currencies = {}
        new_leads = []
        for summary in summaries:
            key = summary["id"]

            def import_one(_run, _kind, item, summary=summary, key=key):
                return self._io_import_document(
                    summary, bindings.get(key), partners, users, departments.get(summary["department_id"]), currencies
                )

            if key in bindings or self._io_lead_from_oid(summary["oid"]):
                run._process_item(kind, summary, import_one)
                continue
            try:  # a new opportunity: made with the page's others in one create
                values = self._io_new_lead_values(summary, partners, users, departments, currencies)
            except Exception:  # noqa: BLE001 - imported alone, where it fails with its reason
                run._process_item(kind, summary, import_one)
                continue
            new_leads.append((summary, values, import_one))
        self._io_create_leads(run, kind, new_leads)

    def _io_new_lead_values(self, summary, partners, users, departments, currencies):
        partner = partners.get(summary["client_id"])
        if not partner:
            raise PayloadError(
                _(
                    "The document's client %s is unknown in InvoiceOcean: the opportunity needs a customer.",
                    summary["client_id"],
                )
            )
        return self._io_lead_values(
            summary, partner, users.get(summary["user_id"]), departments.get(summary["department_id"]), currencies
        )

    def _io_create_leads(self, run, kind, new_leads):
        """New opportunities of a page: one ``create``, one binding ``create``, the paid ones won together;
        one by one if that fails (a bad document fails alone)."""
        if not new_leads:
            return
        Lead = self.env["crm.lead"].sudo().with_context(**IMPORT_CONTEXT)
        vals_list = self._io_with_sales_teams(Lead, [values for _summary, values, _one in new_leads])
        try:
            with self.env.cr.savepoint():
                leads = Lead.create(vals_list)
                pairs = list(zip(leads, new_leads, strict=True))
                stamps = [
                    (lead, summary["id"], {"remote_updated_at": summary["updated_at"]})
                    for lead, (summary, *_r) in pairs
                ]
                self._binder(io.DOCUMENT).bind_many(stamps)
                paid = Lead.browse([lead.id for lead, (summary, *_r) in pairs if summary["status"] == io.PAID_STATUS])
                if paid:
                    paid.action_set_won()
            for lead, (summary, *_rest) in pairs:
                run._record(kind, ItemResult("created", lead, summary["id"]))
            return
        except Exception:  # noqa: BLE001 - one bad document must not fail the page: each alone below
            self.env.invalidate_all()
        for summary, _values, import_one in new_leads:
            run._process_item(kind, summary, import_one)

    def _io_with_sales_teams(self, Lead, vals_list):
        """The new opportunities' values with the sales team Odoo's ``crm.lead._compute_team_id`` would
        pick for their salesperson where the department mapping gives none: asked once per salesperson
        of the page rather than once per opportunity (two searches each)."""
        default_user = Lead.default_get(["user_id"]).get("user_id")
        teams = {}
        completed = []
        for values in vals_list:
            user_id = values.get("user_id", default_user)
            if "team_id" not in values and user_id:
                if user_id not in teams:
                    domain = [("use_opportunities", "=", True)]
                    teams[user_id] = Lead.env["crm.team"]._get_default_team_id(user_id=user_id, domain=domain).id
                values = {**values, "team_id": teams[user_id]}
            completed.append(values)
        return completed

    def _io_partners_of(self, run, client_ids):
        """{client id: partner} for the documents' clients; clients not bound yet are read and imported first."""
        binder = self._binder(io.CLIENT)
        bindings = binder.bindings_for("res.partner", client_ids)
        missing = [key for key in client_ids if key not in bindings]
        if missing:
            clients = [c for c in self._io_get_each("clients", missing) if not c.get("_missing")]
            if clients:
                self._io_import_clients(run, io.CLIENTS, Batch(items=clients, checkpoint=None, done=True))
                bindings = binder.bindings_for("res.partner", client_ids)
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        existing = Partner.browse([binding.res_id for binding in bindings.values()]).exists()  # one query
        return {key: Partner.browse(binding.res_id) & existing for key, binding in bindings.items()}

    def _io_lead_values(self, summary, partner, user_row, department_row, currencies=None):
        currencies = {} if currencies is None else currencies
        if summary["currency"] not in currencies:
            currencies[summary["currency"]] = (
                self.env["res.currency"].with_context(active_test=False).search([("name", "=", summary["currency"])])
            )
        currency = currencies[summary["currency"]]
        if summary["currency"] and not currency:
            raise PayloadError(_("The currency %s of the document is not known in Odoo.", summary["currency"]))
        company = self.company_id
        currency = currency or company.currency_id
        day = fields.Date.to_date(summary["issue_date"]) or fields.Date.context_today(self)
        # ``currency._convert`` with the day's rate looked up once per page (documents share their days).
        rate_key = ("rate", currency.id, day)
        if rate_key not in currencies:
            currencies[rate_key] = currency._get_conversion_rate(currency, company.currency_id, company, day)
        revenue = company.currency_id.round(float(summary["price_net"]) * currencies[rate_key])
        values = {
            "name": f"{io.KINDS[summary['kind']]} {summary['number']}",
            "partner_id": partner.id,
            "type": "opportunity",
            "company_id": company.id,
            "expected_revenue": revenue,
            "io_integration_id": self.id,
            "io_document_number": summary["number"],
            "io_document_kind": summary["kind"],
            "io_document_status": summary["status"],
            "io_amount": float(summary["price_net"]),
            "io_amount_gross": float(summary["price_gross"]),
            "io_currency_id": currency.id,
            "io_view_url": summary["view_url"],
            "date_deadline": summary["payment_to"] or False,
        }
        if user_row and user_row.user_id:
            values["user_id"] = user_row.user_id.id
        if department_row:
            values["io_department_id"] = department_row.department_id.id
            if department_row.team_id:
                values["team_id"] = department_row.team_id.id
        return values

    def _io_import_document(self, summary, binding, partners, users, department_row, currencies=None):
        """One document: its opportunity created or updated; won when paid. Never deleted on either side."""
        Lead = self.env["crm.lead"].sudo().with_context(**IMPORT_CONTEXT)
        key = summary["id"]
        lead = Lead.browse(binding.res_id).exists() if binding else self._io_lead_from_oid(summary["oid"])
        if binding and not lead:
            return ItemResult(
                "skipped",
                external_id=key,
                label=summary["number"],
                reason=_("Opportunity deleted in Odoo: not created again."),
            )
        if binding and binding.remote_updated_at and binding.remote_updated_at >= summary["updated_at"]:
            return ItemResult("unchanged", lead, key)
        partner = partners.get(summary["client_id"])
        if not partner:
            raise PayloadError(
                _(
                    "The document's client %s is unknown in InvoiceOcean: the opportunity needs a customer.",
                    summary["client_id"],
                )
            )
        values = self._io_lead_values(summary, partner, users.get(summary["user_id"]), department_row, currencies)
        if lead:
            if lead.user_id:
                values.pop("user_id", None)  # a salesperson chosen in Odoo stays
            lead.with_context(**IMPORT_CONTEXT).write(values)
            action = "updated"
        else:
            lead = Lead.create(values)
            action = "created"
        self._binder(io.DOCUMENT).bind(lead, key, remote_updated_at=summary["updated_at"])
        if summary["status"] == io.PAID_STATUS and not lead.stage_id.is_won:
            lead.with_context(**IMPORT_CONTEXT).action_set_won()
        return ItemResult(action, lead, key)

    # ------------------------------------------------------------------------ "+Add invoice"
    def _io_invoice_request_domain(self):
        return [("io_integration_id", "=", self.id), ("io_invoice_state", "=", "queued")]

    def _io_fetch_invoice_requests(self, batch_size):
        self.env.flush_all()
        self.env.cr.execute(self._failed_items_held_back_sql(io.ADD_INVOICES, "crm.lead"))
        held = [row[0] for row in self.env.cr.fetchall()]
        # A request InvoiceOcean refused is not sent again as it was: it waits for a new one (the
        # opportunity shows the reason and offers "+Add invoice" again).
        held += self.env["crm.lead"].sudo().search(self._io_invoice_request_domain()).filtered("io_invoice_refusal").ids
        leads = (
            self.env["crm.lead"]
            .sudo()
            .search([*self._io_invoice_request_domain(), ("id", "not in", held)], limit=batch_size, order="id")
        )
        return Batch(items=leads, checkpoint=None, done=len(leads) < batch_size)

    def _io_create_invoices(self, run, kind, batch):
        client = self._io_client()
        look_first = bool(batch.context.get("retry"))

        def create(_run, _kind, lead):
            return self._io_create_invoice(client, lead, look_first)

        for lead in batch.items:
            run._process_item(kind, lead, create)

    def _io_client_binding(self, partner):
        return self._binder(io.CLIENT).bindings_of(partner).get(partner.id)

    def _io_find_by_oid(self, client, oid):
        found = client.get("invoices.json", params={"oid": oid, "period": "all", "page": 1, "per_page": 1}) or []
        return found[0] if found else None

    def _io_create_invoice(self, client, lead, look_first=False):
        """POST the invoice with ``oid`` + ``oid_unique``: a resend (double click, retry after a time-out
        that InvoiceOcean had committed) is refused with 422 and the first one is found by its oid."""
        request = dict(lead.io_invoice_request or {})
        partner = lead.partner_id.commercial_partner_id
        if not partner:
            raise PayloadError(_("The opportunity has no customer: choose one, then add the invoice again."))
        client_binding = self._io_client_binding(partner)
        if not client_binding:  # a customer not in InvoiceOcean yet goes first (looked up before, never twice)
            self._io_export_partner(client, partner, False, look_first=True)
            client_binding = self._io_client_binding(partner)
        oid = self._io_our_key("crm.lead", lead.id)  # stable: a resend is refused (422)
        invoice = {
            "kind": request.get("kind") or "vat",
            "client_id": int(client_binding.external_id),
            "oid": oid,
            "oid_unique": "yes",
            "currency": request.get("currency") or lead.company_currency.name,
            "positions": [
                io.position_payload(line["name"], line["quantity"], line["price_net"], line.get("tax"))
                for line in request.get("positions") or []
            ],
        }
        if request.get("department_id"):
            invoice["department_id"] = int(request["department_id"])
        if lead.user_id:
            invoice["seller_person"] = lead.user_id.name
        if not invoice["positions"]:
            raise PayloadError(_("The invoice has no lines."))
        answer = self._io_find_by_oid(client, oid) if look_first else None
        if not answer:
            try:
                answer = client.post("invoices.json", json={"invoice": invoice})
            except PermanentError as error:
                if error.status != 422:
                    raise
                answer = self._io_find_by_oid(client, oid)  # "oid has already been taken": our first send went through
                if not answer:
                    raise
        if not isinstance(answer, dict) or not answer.get("id"):
            raise PayloadError(_("InvoiceOcean answered without the invoice's id."))
        key = str(answer["id"])
        stamp = io.parse_stamp(answer.get("updated_at"))
        lead_sudo = lead.sudo().with_context(**IMPORT_CONTEXT)
        lead_sudo.write(
            {
                "io_invoice_state": "done",
                "io_document_number": answer.get("number"),
                "io_document_kind": answer.get("kind"),
                "io_document_status": answer.get("status"),
                "io_view_url": answer.get("view_url") or False,
            }
        )
        self._binder(io.DOCUMENT).bind(lead_sudo, key, remote_updated_at=stamp)
        requester = lead.io_invoice_requested_by
        if requester and lead.io_view_url:
            requester._bus_send(
                "simple_notification",
                {
                    "type": "success",
                    "title": _("Invoice %s is ready", answer.get("number") or key),
                    "message": _("Open it from the opportunity %s (Open in InvoiceOcean).", lead.name),
                    "sticky": False,
                },
            )
        return ItemResult("exported", lead, key)

    def _io_queue_invoice(self, lead, request):
        """ "+Add invoice": keep the request on the opportunity and queue its run (never sent from here)."""
        self.ensure_one()
        if self.state != "connected":
            raise UserError(_("%s is not connected: an administrator connects it first.", self.name))
        # A new request replaces a refused one: its failed item goes (the history keeps the refusal).
        self._failed_items_of(io.ADD_INVOICES, lead, ["waiting_change"]).unlink()
        lead.sudo().write(
            {
                "io_integration_id": self.id,
                "io_invoice_state": "queued",
                "io_invoice_request": request,
                "io_invoice_requested_by": self.env.user.id,
            }
        )
        run, _created = self.sudo()._queue_run("manual", kinds=[io.ADD_INVOICES.code], direction="export")
        return run
