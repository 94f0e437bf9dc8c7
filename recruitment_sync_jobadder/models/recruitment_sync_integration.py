"""The JobAdder connector: placements and everyone they involve, JobAdder → Odoo."""

import logging
from datetime import datetime, timedelta

import pytz

from odoo import _, fields, models
from odoo.tools.translate import LazyTranslate

from odoo.addons.recruitment_sync.models.recruitment_sync_binding import FROM_REMOTE, IMPORT_CONTEXT
from odoo.addons.recruitment_sync.services.http_client import SyncError
from odoo.addons.recruitment_sync.services.provider import Batch, ItemResult, OAuth2Config, RateLimits, SyncKind

from ..services import jobadder

_logger = logging.getLogger(__name__)

_lt = LazyTranslate(__name__)
PLACEMENTS = SyncKind("placements", _lt("Placements (with their clients, contacts, candidates, consultants)"), "import")
DELETED = SyncKind("deleted_placements", _lt("Placements deleted in JobAdder (archived)"), "import", batch_size=1000)
# Kinds of the history lines of records a placement brings along.
CONSULTANTS = SyncKind("consultants", _lt("Consultants"))
COMPANIES = SyncKind("companies", _lt("Clients"))
CONTACTS = SyncKind("contacts", _lt("Client contacts"))
CANDIDATES = SyncKind("candidates", _lt("Candidates"))

RELATED = (
    # (kind, endpoint, id field, binding type)
    (COMPANIES, "companies", "companyId", "company"),
    (CONTACTS, "contacts", "contactId", "contact"),
    (CANDIDATES, "candidates", "candidateId", "candidate"),
)
# Records changed in JobAdder on their own (their placements unchanged): each incremental sync
# lists them by updatedAt and updates those already in Odoo; only placements bring new ones.
# kind code: (label in the confirmation, endpoint, id field, binding type; None: consultants)
ALREADY_IN_ODOO = "changed in JobAdder (those already in Odoo)"
CHANGED = {
    CONSULTANTS.code: (f"Consultants {ALREADY_IN_ODOO}", "users", "userId", None),
    COMPANIES.code: (f"Clients {ALREADY_IN_ODOO}", "companies", "companyId", "company"),
    CONTACTS.code: (f"Client contacts {ALREADY_IN_ODOO}", "contacts", "contactId", "contact"),
    CANDIDATES.code: (f"Candidates {ALREADY_IN_ODOO}", "candidates", "candidateId", "candidate"),
}


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    provider = fields.Selection(selection_add=[("jobadder", "JobAdder")], ondelete={"jobadder": "set default"})
    jobadder_only_approved = fields.Boolean(
        string="Only approved placements",
        default=True,
        help="Match your JobAdder approval setting: when placements must be approved in JobAdder, "
        "only approved ones are synced.",
    )
    jobadder_read_approvals = fields.Boolean(
        string="Read approvals separately",
        default=True,
        help="JobAdder does not document whether approving a placement changes its 'updated' date. "
        "With this on, each sync also lists the placements approved since the last one (one more "
        "list call), so that no approval is missed. Turn it off only if you know that approving "
        "a placement in your account changes its 'updated' date.",
    )
    jobadder_batch_size = fields.Integer(
        string="Placements per batch",
        default=100,
        help="Placements fetched and committed together (JobAdder allows up to 1,000 per page).",
    )
    jobadder_app_url = fields.Char(
        string="JobAdder placement link",
        help="Address of a placement in JobAdder's web app; {placement_id} is replaced by its id.",
    )
    jobadder_user_ids = fields.One2many("recruitment.jobadder.user", "integration_id", string="Consultants")

    # ------------------------------------------------------------------------ provider hooks
    def _provider_oauth2_config(self):
        if self.provider != "jobadder":
            return super()._provider_oauth2_config()
        return OAuth2Config(
            authorize_url=jobadder.AUTHORIZE_URL,
            token_url=jobadder.TOKEN_URL,
            scopes=jobadder.SCOPES,
            token_extra_fields=jobadder.TOKEN_EXTRA_FIELDS,
        )

    def _provider_rate_limits(self):
        if self.provider != "jobadder":
            return super()._provider_rate_limits()
        return RateLimits(windows=jobadder.RATE_WINDOWS, max_concurrent=jobadder.MAX_CONCURRENT)

    def _provider_api_base_url(self):
        if self.provider != "jobadder":
            return super()._provider_api_base_url()
        # The ``api`` address of the latest token answer: accounts live on regional instances.
        extra = self._token_sudo().extra or {}
        return self.sudo().api_base_url or extra.get("api") or jobadder.API_URL

    def _provider_sync_kinds(self):
        if self.provider != "jobadder":
            return super()._provider_sync_kinds()
        batch = max(1, min(self.jobadder_batch_size or 100, jobadder.MAX_PAGE_SIZE))
        # Changed related records first: their first pass starts from the placements' last one.
        changed = [SyncKind(code, label, "import", batch_size=batch) for code, (label, *_rest) in CHANGED.items()]
        return [
            *changed,
            SyncKind(PLACEMENTS.code, PLACEMENTS.label, "import", batch_size=batch),
            DELETED,
        ]

    def _provider_line_kinds(self):
        if self.provider != "jobadder":
            return super()._provider_line_kinds()
        return [*self._provider_sync_kinds(), CONSULTANTS, *(kind for kind, *_rest in RELATED)]

    def _provider_lines_out_of_reach(self, lines):
        if self.provider != "jobadder":
            return super()._provider_lines_out_of_reach(lines)
        if self.env.su or self.env.user.has_group("recruitment_sync.group_sync_manager"):
            return lines.browse()
        # A candidate belongs to the departments of their placements: a department user sees the
        # candidates of the placements she may read, not the other departments' ones.
        candidates = lines.filtered(lambda line: line.kind == CANDIDATES.code and line.res_model == "res.partner")
        if not candidates:
            return lines.browse()
        placements = self.env["recruitment.placement"].search(
            [("candidate_id", "in", candidates.mapped("res_id")), ("integration_id", "=", self.id)]
        )
        in_reach = set(placements.candidate_id.ids)
        return candidates.filtered(lambda line: line.res_id not in in_reach)

    def _provider_on_connected(self, first_time):
        if self.provider != "jobadder":
            return super()._provider_on_connected(first_time)
        self.jobadder_user_ids._auto_pair()
        if first_time:
            self._queue_run("initial_load", kinds=[PLACEMENTS.code])
        return None

    def _provider_test_connection(self):
        if self.provider != "jobadder":
            return super()._provider_test_connection()
        me = self._http_client().get("users/current")
        return _(
            "Connected to JobAdder as %(user)s (%(account)s).",
            user=jobadder.full_name(me or {}) or "?",
            account=(me or {}).get("accountName") or _("JobAdder account"),
        )

    def _provider_count(self, kind):
        """What the sync will change: new or changed records, not those the overlap re-reads."""
        if self.provider != "jobadder":
            return super()._provider_count(kind)
        checkpoints = self.sync_checkpoint or {}
        if kind.code == PLACEMENTS.code:
            window = self._jobadder_window(checkpoints.get(kind.code))
            client = self._http_client()
            if window["mode"] == "initial":
                params = {**self._jobadder_list_params(window), "limit": 0}
                return client.get("placements", params=params).get("totalCount")
            phases = ["updated", "approved"] if self.jobadder_read_approvals else ["updated"]
            summaries = {}
            for phase in phases:
                params = self._jobadder_list_params({**window, "phase": phase})
                for summary in self._jobadder_list_all(client, "placements", params):
                    summaries[summary.get("placementId")] = summary
            return self._jobadder_count_changes("placement", list(summaries.values()), "placementId")
        if kind.code in CHANGED:
            window = self._jobadder_window(checkpoints.get(kind.code), kind.code)
            if window is None:
                return 0
            _label, endpoint, id_field, binding_type = CHANGED[kind.code]
            params = self._jobadder_list_params(window, endpoint)
            items = self._jobadder_list_all(self._http_client(), endpoint, params)
            return self._jobadder_count_changes(binding_type, items, id_field)
        return None

    def _jobadder_list_all(self, client, endpoint, params):
        """Every item of a filtered list, a page of the largest size at a time."""
        items, offset = [], 0
        while True:
            page = client.get(endpoint, params={**params, "offset": offset, "limit": jobadder.MAX_PAGE_SIZE}) or {}
            found = page.get("items") or []
            items += found
            offset += len(found)
            if not found or not (page.get("links") or {}).get("next"):
                return items

    def _jobadder_count_changes(self, binding_type, items, id_field):
        """How many of ``items`` an import would create or update (the rules of ``Binder.import_record``).

        Consultants (``binding_type`` None) and related partners are only updated, never created
        here; placements are created too.
        """
        ids = [item.get(id_field) for item in items if item.get(id_field) is not None]
        if binding_type is None:
            consultants = self.env["recruitment.jobadder.user"].search(
                [("integration_id", "=", self.id), ("jobadder_id", "in", ids)]
            )
            by_id = {consultant.jobadder_id: consultant for consultant in consultants}
            return sum(
                1
                for item in items
                if item.get(id_field) in by_id
                and any(by_id[item[id_field]][k] != v for k, v in self._jobadder_consultant_values(item).items())
            )
        model = "recruitment.placement" if binding_type == "placement" else "res.partner"
        Binding = self.env["recruitment.sync.binding"]
        bindings = self._binder(binding_type).bindings_for(model, ids)
        records = self.env[model].with_context(active_test=False).browse([b.res_id for b in bindings.values()])
        records = {record.id: record for record in records.exists()}
        changes = 0
        for item in items:
            binding = bindings.get(str(item.get(id_field)))
            record = records.get(binding.res_id) if binding else None
            if not record:
                changes += binding_type == "placement"  # related records never imported stay out
                continue
            try:
                remote_updated_at = jobadder.parse_datetime(item.get("updatedAt"), "updatedAt")
            except jobadder.PayloadError:
                changes += 1  # it will be a failed line
                continue
            still_same = None
            if binding_type == "placement":
                still_same = lambda placement, item=item: placement.approved == bool(item.get("approved"))  # noqa: E731
            changes += Binding._remote_change_outcome(binding, record, remote_updated_at, still_same) != "unchanged"
        return changes

    def _provider_describe_item(self, kind, item):
        if self.provider != "jobadder" or not isinstance(item, dict):
            return super()._provider_describe_item(kind, item)
        for key in ("placementId", "companyId", "contactId", "candidateId", "userId"):
            if item.get(key) is not None:
                label = item.get("jobTitle") or item.get("name") or jobadder.full_name(item) or None
                return str(item[key]), label
        return super()._provider_describe_item(kind, item)

    # ------------------------------------------------------------------------ windows
    def _jobadder_today(self):
        tz = self.company_id.partner_id.tz or self.responsible_user_id.tz or "UTC"
        return fields.Datetime.now().replace(tzinfo=pytz.UTC).astimezone(pytz.timezone(tz)).date()

    def _jobadder_window(self, checkpoint, kind_code=PLACEMENTS.code):
        """The pass a checkpoint belongs to: initial load, or changes since the watermark.

        Changed related records (``CHANGED``) have no initial pass (placements bring them
        along): None until the initial load is done; their first pass starts from the
        placements' last one.
        """
        checkpoint = dict(checkpoint or {})
        if checkpoint.get("mode"):
            return checkpoint
        now = jobadder.format_filter_datetime(fields.Datetime.now())
        watermark = checkpoint.get("watermark")
        if kind_code != PLACEMENTS.code:
            placements = (self.sync_checkpoint or {}).get(PLACEMENTS.code) or {}
            watermark = watermark or placements.get("watermark")
            if not self.initial_load_done or not watermark:
                return None
        elif not self.initial_load_done or not watermark:
            return {"mode": "initial", "until": now, "offset": 0}
        since = datetime.fromisoformat(watermark) - timedelta(minutes=jobadder.OVERLAP_MINUTES)
        return {
            "mode": "incremental",
            "phase": "updated",
            "since": jobadder.format_filter_datetime(since),
            "until": now,
            "offset": 0,
            "watermark": watermark,
        }

    def _jobadder_list_params(self, window, endpoint="placements"):
        if endpoint != "placements":
            params = {"updatedAt": [f">{window['since']}", f"<{window['until']}"]}
            if endpoint == "users":
                params["include"] = ["Inactive", "Deleted"]  # a consultant who left is updated too
            return params
        params = {}
        if window["mode"] == "initial" or self.jobadder_only_approved:
            params["approved"] = "true"
        if window["mode"] == "incremental":
            field = "approvedAt" if window.get("phase") == "approved" else "updatedAt"
            params[field] = [f">{window['since']}", f"<{window['until']}"]
        return params

    # ------------------------------------------------------------------------ fetching
    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "jobadder":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        if kind.code == DELETED.code:
            return self._jobadder_fetch_deleted(checkpoint)
        if kind.code in CHANGED:
            return self._jobadder_fetch_changed(kind, checkpoint, batch_size)
        window = self._jobadder_window(checkpoint)
        client = self._http_client()
        params = {**self._jobadder_list_params(window), "offset": window["offset"], "limit": batch_size}
        page = client.get("placements", params=params) or {}
        summaries = page.get("items") or []
        if window["mode"] == "initial":
            today = self._jobadder_today()
            summaries = [summary for summary in summaries if self._jobadder_initial_filter(summary, today)]
        details = self._jobadder_fetch_details(client, summaries)
        related = self._jobadder_fetch_related(client, [d for d in details if "_error" not in d])
        offset = window["offset"] + len(page.get("items") or [])
        done = not (page.get("links") or {}).get("next") or not page.get("items")
        if not done:
            next_checkpoint = {**window, "offset": offset}
        elif window["mode"] == "incremental" and window.get("phase") == "updated" and self.jobadder_read_approvals:
            # Whether approving moves updatedAt is unverified (contract §5): when the account's
            # does not, a second phase lists the approvals of the same window.
            next_checkpoint, done = {**window, "phase": "approved", "offset": 0}, False
        else:
            next_checkpoint = {"watermark": window["until"]}
            if window["mode"] == "initial":
                self.sudo().initial_load_done = True
        return Batch(items=details, checkpoint=next_checkpoint, done=done, context=related)

    def _provider_fetch_items(self, run, kind, keys):
        if self.provider != "jobadder":
            return super()._provider_fetch_items(run, kind, keys)
        if kind.code != PLACEMENTS.code:
            return None
        client = self._http_client()
        summaries = [{"placementId": int(key)} for key in keys if key.isdigit()]
        details = self._jobadder_fetch_details(client, summaries)
        related = self._jobadder_fetch_related(client, [d for d in details if "_error" not in d])
        return Batch(items=details, checkpoint=None, done=True, context=related)

    def _jobadder_initial_filter(self, summary, today):
        try:
            return jobadder.in_initial_load(summary, today)
        except jobadder.PayloadError:
            return True  # imported, so that its problem becomes a failed line with the reason

    def _jobadder_fetch_details(self, client, summaries):
        """``GET /placements/{id}`` for a page, concurrently within the rate limit.

        The list omits company, contact, owner, rates and salary. A placement whose detail
        cannot be read comes back as ``{"placementId": id, "_error": the SyncError}``: its
        import raises it, so that a passing problem fails it as transient (retried later).
        """

        paths = [f"placements/{summary.get('placementId')}" for summary in summaries]
        answers = self._http_get_many(client, paths)
        return [
            {**summary, "_error": answer} if isinstance(answer, SyncError) else answer
            for summary, answer in zip(summaries, answers, strict=True)
        ]

    def _jobadder_fetch_related(self, client, details):
        """Everyone the page's placements reference, in one list call per resource."""
        wanted = {"company": set(), "contact": set(), "candidate": set(), "user": set()}
        for detail in details:
            for key, ids in jobadder.related_ids(detail).items():
                wanted[key] |= ids
        related = {}
        for kind, endpoint, id_field, key in (*RELATED, (CONSULTANTS, "users", "userId", "user")):
            ids = sorted(wanted[key])
            records = []
            for start in range(0, len(ids), jobadder.MAX_PAGE_SIZE):
                chunk = ids[start : start + jobadder.MAX_PAGE_SIZE]
                params = {id_field: chunk, "limit": len(chunk)}
                if endpoint == "users":
                    params["include"] = ["Inactive", "Deleted"]
                records += (client.get(endpoint, params=params) or {}).get("items") or []
            related[kind.code] = records
        return related

    def _jobadder_fetch_changed(self, kind, checkpoint, batch_size):
        """A page of the companies, contacts, candidates or users changed since the last pass."""
        window = self._jobadder_window(checkpoint, kind.code)
        if window is None:
            return Batch(items=[], checkpoint=checkpoint, done=True)
        endpoint = CHANGED[kind.code][1]
        params = {**self._jobadder_list_params(window, endpoint), "offset": window["offset"], "limit": batch_size}
        page = self._http_client().get(endpoint, params=params) or {}
        items = page.get("items") or []
        if items and (page.get("links") or {}).get("next"):
            return Batch(items=items, checkpoint={**window, "offset": window["offset"] + len(items)}, done=False)
        return Batch(items=items, checkpoint={"watermark": window["until"]}, done=True)

    def _jobadder_fetch_deleted(self, checkpoint):
        """``GET /placements/deleted`` (last 14 days, no paging) since the last pass."""
        since = (checkpoint or {}).get("since")
        items = (self._http_client().get("placements/deleted") or {}).get("items") or []
        if since:
            items = [item for item in items if (item.get("deletedAt") or "") >= since]
        return Batch(
            items=items,
            checkpoint={"since": jobadder.format_filter_datetime(fields.Datetime.now() - timedelta(minutes=10))},
            done=True,
        )

    # ------------------------------------------------------------------------ processing
    def _provider_process_batch(self, run, kind, batch):
        if self.provider != "jobadder":
            return super()._provider_process_batch(run, kind, batch)
        if kind.code == DELETED.code:
            self._jobadder_cache(reset=True)
            self._jobadder_prefetch_placements([item.get("placementId") for item in batch.items])
            for item in batch.items:
                run._process_item(kind, item, self._jobadder_archive_deleted)
            return None
        if kind.code in CHANGED:
            self._jobadder_update_changed(run, kind, batch.items)
            return None
        related = batch.context or {}
        self._jobadder_cache(reset=True)
        self._jobadder_prefetch_consultants()
        for consultant in related.get(CONSULTANTS.code, []):
            run._process_item(CONSULTANTS, consultant, self._jobadder_import_consultant)
        for related_kind, _endpoint, id_field, binding_type in RELATED:
            payloads = related.get(related_kind.code, [])
            self._jobadder_prefetch_bindings(binding_type, [p.get(id_field) for p in payloads])
            payloads = self._jobadder_create_partners(run, related_kind, payloads, binding_type, id_field)
            for payload in payloads:
                result = run._process_item(
                    related_kind,
                    payload,
                    lambda run_, kind_, item, t=binding_type, f=id_field: self._jobadder_import_partner(
                        run_, kind_, item, t, f
                    ),
                )
                if result.action == "failed":
                    self._jobadder_cache()["failed"][(binding_type, str(payload.get(id_field)))] = result.reason
        self._jobadder_prefetch_placements([detail.get("placementId") for detail in batch.items])
        for detail in self._jobadder_create_placements(run, kind, batch.items):
            run._process_item(kind, detail, self._jobadder_import_placement)
        return None

    def _jobadder_update_changed(self, run, kind, payloads):
        """Update the changed records already in Odoo; the others stay out (placements bring them)."""
        _label, _endpoint, id_field, binding_type = CHANGED[kind.code]
        self._jobadder_cache(reset=True)
        if binding_type is None:
            self._jobadder_prefetch_consultants()
            known = self._jobadder_cache()["consultants"]
            for payload in payloads:
                if payload.get(id_field) in known:
                    run._process_item(kind, payload, self._jobadder_import_consultant)
            return
        self._jobadder_prefetch_bindings(binding_type, [payload.get(id_field) for payload in payloads])
        known = self._jobadder_cache()["bindings"][binding_type]
        for payload in payloads:
            if str(payload.get(id_field)) in known:
                run._process_item(
                    kind,
                    payload,
                    lambda run_, kind_, item: self._jobadder_import_partner(run_, kind_, item, binding_type, id_field),
                )

    def _jobadder_create_placements(self, run, kind, details):
        """Create a page's new placements in one go; return the details left for one-by-one import.

        Those already in Odoo, and those whose values cannot be built, are left: their own
        import updates them or fails them with the reason.
        """
        cache = self._jobadder_cache()
        existing, bound = cache.get("placements", {}), cache.get("placement_bindings", {})
        prepared, left = [], []
        for detail in details:
            external_id = detail.get("placementId")
            if detail.get("_error") or external_id is None or external_id in existing or str(external_id) in bound:
                left.append(detail)
                continue
            try:
                _id, remote_updated_at, values = self._jobadder_placement_values(detail)
            except Exception:  # noqa: BLE001  its one-by-one import reports why, as a failed line
                left.append(detail)
                continue
            values.update(integration_id=self.id, company_id=self.company_id.id, jobadder_id=external_id)
            prepared.append((detail, external_id, remote_updated_at, values))
        created = self._jobadder_create_new(kind, "recruitment.placement", "placement", prepared)
        if created is None:
            return left + [detail for detail, *_rest in prepared]
        for (_d, external_id, _u, values), (placement, _binding) in zip(prepared, created, strict=True):
            note = values.get("jobadder_data_note") or None  # what JobAdder's data left unclear
            run._record(kind, ItemResult("created", placement, str(external_id), reason=note))
        return left

    def _jobadder_cache(self, reset=False):
        """What one batch looked up (bindings, failures, placements), kept on the cursor.

        Records cannot carry attributes; the cursor's cache lives as long as the transaction.
        """
        cache = self.env.cr.cache.setdefault("recruitment_sync_jobadder", {})
        if reset or self.id not in cache:
            cache[self.id] = {"bindings": {}, "failed": {}, "placements": {}}
        return cache[self.id]

    def _jobadder_prefetch_bindings(self, binding_type, external_ids):
        bindings = self._binder(binding_type).bindings_for("res.partner", external_ids)
        self._jobadder_cache()["bindings"][binding_type] = bindings

    def _jobadder_prefetch_placements(self, jobadder_ids):
        placements = (
            self.env["recruitment.placement"]
            .with_context(active_test=False)
            .search([("integration_id", "=", self.id), ("jobadder_id", "in", [i for i in jobadder_ids if i])])
        )
        cache = self._jobadder_cache()
        cache["placements"] = {placement.jobadder_id: placement for placement in placements}
        cache["placement_bindings"] = self._binder("placement").bindings_for("recruitment.placement", jobadder_ids)

    def _jobadder_prefetch_consultants(self):
        consultants = self.env["recruitment.jobadder.user"].search([("integration_id", "=", self.id)])
        consultants.read(["jobadder_id", "name", "email", "position", "inactive"])
        self._jobadder_cache()["consultants"] = {consultant.jobadder_id: consultant for consultant in consultants}

    def _jobadder_create_partners(self, run, kind, payloads, binding_type, id_field):
        """Create a page's new partners in one go; return the payloads left for one-by-one import.

        The fast path: one savepoint and one ``create`` for all the valid new ones. If anything
        fails there, all of them go the one-by-one way (a savepoint each), so that a bad record
        still fails alone with its own reason.
        """
        known = self._jobadder_cache()["bindings"].get(binding_type, {})
        prepared, left = [], []
        for payload in payloads:
            external_id = payload.get(id_field)
            if external_id is None or str(external_id) in known:
                left.append(payload)
                continue
            try:
                prepared.append((payload, *self._jobadder_partner_values(payload, binding_type, id_field)))
            except jobadder.PayloadError:
                left.append(payload)  # its failed line says why
        if binding_type == "company":
            prepared = self._jobadder_link_existing_companies(run, kind, prepared, known)
        created = self._jobadder_create_new(kind, "res.partner", binding_type, prepared, {"company_id": False})
        if created is None:
            return left + [payload for payload, *_rest in prepared]
        for (_p, external_id, _u, _v), (partner, binding) in zip(prepared, created, strict=True):
            known[str(external_id)] = binding
            run._record(kind, ItemResult("created", partner, str(external_id)))
        self._jobadder_cache()["bindings"][binding_type] = known
        return left

    def _jobadder_link_existing_companies(self, run, kind, prepared, known):
        """New JobAdder clients Odoo already has as a company of that exact name (made by hand, or
        brought by another integration first): linked to it, not created twice; the others returned.

        Only a company no JobAdder client is linked to yet is a candidate, and only when it is the
        one of that name: with several, none is chosen (a new company is made, as before).
        """
        names = list({values["name"] for _p, _e, _u, values in prepared})
        if not names:
            return prepared
        own = self.env["res.company"].sudo().with_context(active_test=False).search([]).partner_id
        candidates = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("name", "in", names),
                    ("is_company", "=", True),
                    ("parent_id", "=", False),
                    ("company_id", "in", [False, self.company_id.id]),
                    ("id", "not in", own.ids),
                ]
            )
        )
        linked = self._binder("company").external_ids(candidates)
        by_name = {}
        for partner in candidates:
            if partner.id not in linked:
                by_name.setdefault(partner.name, []).append(partner)
        left, links = [], []
        for item in prepared:
            _payload, external_id, remote_updated_at, values = item
            found = by_name.get(values["name"]) or []
            if len(found) != 1:
                left.append(item)
                continue
            by_name[values["name"]] = []  # a second JobAdder client of that name gets its own company
            links.append((found[0], external_id, {"remote_updated_at": remote_updated_at}))
        if links:
            for (partner, external_id, _values), binding in zip(
                links, self._binder("company").bind_many(links), strict=True
            ):
                known[str(external_id)] = binding
                reason = _("Linked to the Odoo company of the same name, already in Odoo.")
                run._record(kind, ItemResult("updated", partner, str(external_id), reason=reason))
        return left

    def _jobadder_create_new(self, kind, model, binding_type, prepared, extra_values=None):
        """Create new records and their bindings in one ``create`` each: [(record, binding)], or None.

        ``prepared``: (payload, external id, remote updated-at, values) of records no binding
        knows. All or nothing (a savepoint): if any of them fails, None, and the caller imports
        them one by one, so that a bad record fails alone with its own reason.
        """
        if not prepared:
            return []
        Model = self.env[model].with_context(**IMPORT_CONTEXT)
        try:
            with self.env.cr.savepoint():
                records = Model.create([{**values, **(extra_values or {})} for _p, _e, _u, values in prepared])
                # New records, for ids the page's lookup did not find: no second lookup.
                bindings = self._binder(binding_type).bind_many(
                    [
                        (record, external_id, {"remote_updated_at": remote_updated_at})
                        for record, (_p, external_id, remote_updated_at, _v) in zip(records, prepared, strict=True)
                    ],
                    known_unbound=True,
                )
        except Exception:  # one of them is bad: let each one succeed or fail on its own
            _logger.info("Batch creation of %s failed; importing them one by one", kind.code, exc_info=True)
            self.env.invalidate_all()
            return None
        return list(zip(records, bindings, strict=True))

    def _jobadder_partner_values(self, payload, binding_type, id_field):
        """(external id, remote updated-at, res.partner values) of a company, contact or candidate."""
        external_id = payload.get(id_field)
        if external_id is None:
            raise jobadder.PayloadError(f"The {binding_type} has no {id_field}.")
        remote_updated_at = jobadder.parse_datetime(payload.get("updatedAt"), "updatedAt")
        if binding_type == "company":
            values = jobadder.company_values(payload, self._jobadder_countries())
        else:
            values = jobadder.person_values(payload, binding_type)
        if binding_type == "contact":
            company = (payload.get("company") or {}).get("companyId")
            parent = self._jobadder_cache()["bindings"].get("company", {}).get(str(company)) if company else None
            if parent is None and company is not None:
                parent = self._binder("company").bindings_for("res.partner", [company]).get(str(company))
            values["parent_id"] = parent.res_id if parent else False
            values["function"] = payload.get("position") or False
        if binding_type == "candidate":
            values["category_id"] = [fields.Command.link(self._jobadder_candidate_tag().id)]
        return external_id, remote_updated_at, values

    def _jobadder_import_partner(self, run, kind, payload, binding_type, id_field):
        external_id, remote_updated_at, values = self._jobadder_partner_values(payload, binding_type, id_field)
        known = self._jobadder_cache()["bindings"].setdefault(binding_type, {})
        result, binding = self._binder(binding_type).import_record(
            "res.partner",
            external_id,
            remote_updated_at,
            values,
            binding=known.get(str(external_id), False),  # the page's bindings were looked up at once
            create_values={"company_id": False},
        )
        known[str(external_id)] = binding
        return result

    def _jobadder_countries(self):
        cache = self._jobadder_cache()
        if "countries" not in cache:
            cache["countries"] = {
                country["code"]: country["id"] for country in self.env["res.country"].search_read([], ["code"])
            }
        return cache["countries"]

    def _jobadder_candidate_tag(self):
        cache = self._jobadder_cache()
        if "candidate_tag" not in cache:
            tag = self.env.ref("recruitment_sync_jobadder.partner_category_candidate", raise_if_not_found=False)
            cache["candidate_tag"] = tag or self.env["res.partner.category"].search(
                [("name", "=", "Candidate")], limit=1
            )
        return cache["candidate_tag"]

    def _jobadder_import_consultant(self, run, kind, payload):
        external_id = payload.get("userId")
        if external_id is None:
            raise jobadder.PayloadError("The JobAdder user has no userId.")
        Consultant = self.env["recruitment.jobadder.user"]
        known = self._jobadder_cache()["consultants"]
        consultant = known.get(external_id, Consultant)
        values = self._jobadder_consultant_values(payload)
        if consultant:
            changed = {key: value for key, value in values.items() if consultant[key] != value}
            if not changed:
                return ItemResult("unchanged", consultant, str(external_id))
            consultant.write(changed)
            consultant._auto_pair()
            return ItemResult("updated", consultant, str(external_id))
        consultant = Consultant.create({**values, "integration_id": self.id, "jobadder_id": external_id})
        known[external_id] = consultant
        consultant._auto_pair()
        reason = None
        if consultant.pairing_state != "paired":
            reason = _(
                "No single Odoo user has the email %(email)s (%(state)s): pair it in Invoicing > Integrations > "
                "Consultant pairing.",
                email=consultant.email or "-",
                state=dict(consultant._fields["pairing_state"]._description_selection(self.env))[
                    consultant.pairing_state
                ],
            )
        return ItemResult("created", consultant, str(external_id), reason=reason)

    @staticmethod
    def _jobadder_consultant_values(payload):
        return {
            "name": jobadder.full_name(payload) or payload.get("email") or f"User {payload.get('userId')}",
            "email": payload.get("email") or False,
            "position": payload.get("position") or False,
            "inactive": bool(payload.get("inactive") or payload.get("deleted")),
        }

    def _jobadder_partner_of(self, binding_type, node, id_field, required):
        external_id = (node or {}).get(id_field)
        if external_id is None:
            if required:
                raise jobadder.PayloadError(
                    _("The placement has no %(what)s in JobAdder.", what=self._jobadder_label(binding_type))
                )
            return self.env["res.partner"]
        failed = self._jobadder_cache()["failed"].get((binding_type, str(external_id)))
        if failed:
            raise jobadder.PayloadError(
                _(
                    "Its %(what)s %(id)s could not be imported: %(reason)s",
                    what=self._jobadder_label(binding_type),
                    id=external_id,
                    reason=failed,
                )
            )
        binding = self._jobadder_cache()["bindings"].get(binding_type, {}).get(str(external_id))
        if not binding:
            raise jobadder.PayloadError(
                _(
                    "Its %(what)s %(id)s was not found in JobAdder.",
                    what=self._jobadder_label(binding_type),
                    id=external_id,
                )
            )
        return self.env["res.partner"].browse(binding.res_id)

    def _jobadder_label(self, binding_type):
        return {"company": _("client company"), "contact": _("client contact"), "candidate": _("candidate")}.get(
            binding_type, binding_type
        )

    def _jobadder_placement_values(self, detail):
        """(external id, remote updated-at, recruitment.placement values) of a placement's detail.

        Recruiters and rate lines as ``create`` commands (a new placement's; an update clears
        the old ones first).
        """
        if detail.get("_error"):
            raise detail["_error"]
        external_id = detail.get("placementId")
        if external_id is None:
            raise jobadder.PayloadError("The placement has no placementId.")
        remote_updated_at = jobadder.parse_datetime(detail.get("updatedAt"), "updatedAt")
        values = jobadder.placement_values(detail)
        values["candidate_id"] = self._jobadder_partner_of("candidate", detail.get("candidate"), "candidateId", True).id
        values["client_id"] = self._jobadder_partner_of("company", detail.get("company"), "companyId", True).id
        values["client_contact_id"] = (
            self._jobadder_partner_of("contact", detail.get("contact"), "contactId", False).id or False
        )
        values["currency_id"] = self._jobadder_currency(detail.get("chargeCurrency")).id
        consultants = self._jobadder_consultants(detail)
        owner = (detail.get("owner") or {}).get("userId")
        values["owner_jobadder_user_id"] = consultants.get(owner, self.env["recruitment.jobadder.user"]).id or False
        values["recruiter_ids"] = [
            fields.Command.create(
                {
                    "sequence": index,
                    "jobadder_user_id": consultants[recruiter["userId"]].id
                    if recruiter.get("userId") in consultants
                    else False,
                    "fee_split": jobadder.number(recruiter.get("feeSplit"), "recruiters.feeSplit"),
                }
            )
            for index, recruiter in enumerate(detail.get("recruiters") or [])
        ]
        values["rate_line_ids"] = [
            fields.Command.create(
                {
                    "sequence": index,
                    "name": line.get("name") or _("Rate"),
                    "rate_type": line.get("type") or False,
                    "is_default": bool(line.get("default")),
                    "currency_id": self._jobadder_currency(
                        line.get("chargeCurrency") or detail.get("chargeCurrency")
                    ).id,
                    "pay_rate": jobadder.number(line.get("payRate"), "rates.payRate"),
                    "charge_rate": jobadder.number(line.get("chargeRate"), "rates.chargeRate"),
                }
            )
            for index, line in enumerate(detail.get("rates") or [])
        ]
        return external_id, remote_updated_at, values

    def _jobadder_import_placement(self, run, kind, detail):
        external_id, remote_updated_at, values = self._jobadder_placement_values(detail)
        for lines in ("recruiter_ids", "rate_line_ids"):
            values[lines] = [fields.Command.clear(), *values[lines]]
        cache = self._jobadder_cache()
        values["active"] = True  # deleted then restored in JobAdder
        result, _binding = self._binder("placement").import_record(
            "recruitment.placement",
            external_id,
            remote_updated_at,
            values,
            binding=cache.get("placement_bindings", {}).get(str(external_id), False),
            record=cache.get("placements", {}).get(external_id),
            create_values={"integration_id": self.id, "company_id": self.company_id.id, "jobadder_id": external_id},
            # Approving may not move updatedAt: an approval alone is a change too.
            still_same=lambda placement: placement.approved == values["approved"],
        )
        if values["jobadder_data_note"] and result.action in ("created", "updated"):
            result.reason = values["jobadder_data_note"]
        return result

    def _jobadder_consultants(self, detail):
        return self._jobadder_cache().get("consultants", {})

    def _jobadder_currency(self, code):
        if not code:
            return self.company_id.currency_id
        currencies = self._jobadder_cache().setdefault("currencies", {})
        code = str(code).upper()
        if code not in currencies:
            currencies[code] = (
                self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
            )
        currency = currencies[code]
        if not currency:
            raise jobadder.PayloadError(
                _("The currency %s is unknown to Odoo: check the placement's charge currency in JobAdder.", code)
            )
        if not currency.active:
            raise jobadder.PayloadError(
                _(
                    "The currency %s is not active in Odoo: activate it in Accounting > Configuration > Currencies.",
                    code,
                )
            )
        return currency

    def _jobadder_archive_deleted(self, run, kind, item):
        external_id = item.get("placementId")
        placement = self._jobadder_cache()["placements"].get(external_id)
        if not placement:
            return ItemResult("unchanged", external_id=str(external_id))
        if not placement.active:
            return ItemResult("unchanged", placement, str(external_id))
        placement.with_context(**{FROM_REMOTE: True}).write({"active": False})
        placement.message_post(body=_("Deleted in JobAdder: archived."), subtype_xmlid="mail.mt_note")
        return ItemResult("updated", placement, str(external_id), reason=_("Deleted in JobAdder: archived."))
