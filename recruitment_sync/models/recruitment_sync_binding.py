from odoo import _, api, fields, models
from odoo.exceptions import UserError

# Context key set by syncs when they write records, so the write is not a "local change".
FROM_REMOTE = "recruitment_sync_from_remote"
# How imports write: not a local change, and no "created" or tracking message per record.
IMPORT_CONTEXT = {
    FROM_REMOTE: True,
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
}


class RecruitmentSyncBinding(models.Model):
    """Links an Odoo record to its id in a remote system, for one integration.

    ``external_model`` names the remote object type (JobAdder ``company``, ``contact``,
    ``candidate`` all land in res.partner; a person can be a contact and a candidate).
    """

    _name = "recruitment.sync.binding"
    _description = "Sync Binding (external id)"
    _order = "id desc"
    _rec_name = "external_id"
    _check_company_auto = True

    integration_id = fields.Many2one(
        "recruitment.sync.integration",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    # Set on create (not a stored related field: that costs an UPDATE per binding on import).
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    provider = fields.Selection(related="integration_id.provider")
    res_model = fields.Char(string="Odoo model", required=True, index=True)
    res_id = fields.Many2oneReference(string="Odoo record ID", model_field="res_model", required=True, index=True)
    record_name = fields.Char(compute="_compute_record_name", string="Odoo record")
    res_model_name = fields.Char(compute="_compute_labels", string="Odoo type")
    external_model_label = fields.Char(compute="_compute_labels", string="Remote type")
    record_accessible = fields.Boolean(compute="_compute_record_name")
    external_model = fields.Char(string="Remote type code", required=True, default="default")
    external_id = fields.Char(string="External ID", required=True, index=True)
    url = fields.Char(
        string="Link",
        compute="_compute_url",
        help="The record's page in the remote system, where the connector knows one.",
    )
    remote_updated_at = fields.Datetime(string="Remote updated at", help="When the remote system last changed it.")
    last_synced_at = fields.Datetime(string="Last synced at", default=fields.Datetime.now)
    # Versions of an exported document (``services.money.content_hash`` of what was sent).
    content_hash = fields.Char(
        string="Exported version",
        readonly=True,
        help="Fingerprint of what was last sent: a document reposted unchanged is not sent again.",
    )
    refused_hash = fields.Char(
        string="Refused version",
        readonly=True,
        help="Fingerprint of a change the remote system could not take (the document was paid or voided "
        "there): reported once, not at every sync.",
    )

    _sql_constraints = [
        (
            "external_unique",
            "UNIQUE(integration_id, res_model, external_model, external_id)",
            "This external id is already bound to another record for this integration.",
        ),
        (
            "record_unique",
            "UNIQUE(integration_id, res_model, external_model, res_id)",
            "This record is already bound for this integration.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("company_id") and vals.get("integration_id"):
                vals["company_id"] = (
                    self.env["recruitment.sync.integration"].browse(vals["integration_id"]).company_id.id
                )
        return super().create(vals_list)

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_record_name(self):
        for binding in self:
            record = binding._get_record()
            binding.record_accessible = bool(record) and record.has_access("read")
            # A record out of the user's reach is neither named nor opened.
            binding.record_name = record.display_name if binding.record_accessible else False

    @api.depends("integration_id", "res_model", "res_id", "external_id")
    def _compute_url(self):
        for binding in self:
            record = binding._get_record()
            binding.url = bool(record) and binding.integration_id.sudo()._provider_record_url(
                record.sudo(), binding.external_id
            )

    @api.depends("res_model", "external_model")
    @api.depends_context("lang")
    def _compute_labels(self):
        for binding in self:
            # The model's description (translated), not its technical name.
            binding.res_model_name = self.env["ir.model"].sudo()._get(binding.res_model).name or binding.res_model
            # Remote types kept per remote client read "product@1001": say it in words.
            remote_type, _sep, client = (binding.external_model or "").partition("@")
            remote_type = "" if remote_type == "default" else remote_type.replace("_", " ").capitalize()
            binding.external_model_label = (
                self.env._("%(type)s (client %(client)s)", type=remote_type, client=client) if client else remote_type
            )

    def _get_record(self):
        self.ensure_one()
        if not self.res_model or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    def action_open_record(self):
        self.ensure_one()
        record = self._get_record()
        if not record:
            raise UserError(_("The bound record no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }

    # -- the binding API of imports (on the Binder: services/binder.py) -------------------
    @api.model
    def _lookup(self, integration, res_model, external_ids, external_model="default"):
        """{external id: binding} for many ids in one query (no N+1 during imports)."""
        return integration._binder(external_model).bindings_for(res_model, external_ids)

    @api.model
    def _bind(self, integration, record, external_id, external_model="default", remote_updated_at=None, existing=None):
        """Create or refresh the binding of ``record``; returns it.

        ``existing``: the binding a batch already looked up, or ``False`` when it knows there
        is none (no query then).
        """
        record.ensure_one()
        binder = integration._binder(external_model)
        values = {"remote_updated_at": remote_updated_at} if remote_updated_at else {}
        if existing is None:
            return binder.bind(record, external_id, **values)
        return binder._write([binder._normalize((record, external_id, values))], [existing])

    @api.model
    def _remote_change_outcome(self, binding, record, remote_updated_at, still_same=None):
        """What importing a remote version into an existing ``record`` does (the conflict rule).

        ``"unchanged"``: its remote updated-at did not move (and ``still_same(record)``, when
        given, agrees); ``"skipped"``: changed in Odoo after its remote change, Odoo's version
        is kept; ``"update"``: the remote values win. Also what a confirmation counts.
        """
        seen = binding and binding.remote_updated_at and remote_updated_at
        if seen and binding.remote_updated_at >= remote_updated_at and (still_same is None or still_same(record)):
            return "unchanged"
        local = record.sync_local_changed_at
        if local and remote_updated_at and local > remote_updated_at:
            return "skipped"
        return "update"

    def _bind_new(self, integration, records, remote_ids, external_model="default"):
        """Bind new ``records`` (no binding yet) in one ``create``: ``remote_ids``, their
        (external id, remote updated-at) in the same order. Returns the bindings, in that order."""
        binder = integration._binder(external_model)
        pairs = [
            binder._normalize(
                (record, external_id, {"remote_updated_at": remote_updated_at} if remote_updated_at else {})
            )
            for record, (external_id, remote_updated_at) in zip(records, remote_ids, strict=True)
        ]
        return binder._write(pairs, [False] * len(pairs))

    @api.model
    def _import_record(
        self,
        integration,
        model,
        external_id,
        remote_updated_at,
        values,
        external_model="default",
        binding=None,
        record=None,
        create_values=None,
        still_same=None,
    ):
        """``integration._binder(external_model).import_record(...)`` (services/binder.py): create or
        update the Odoo record of a remote one, binding it; returns (ItemResult, binding)."""
        return integration._binder(external_model).import_record(
            model,
            external_id,
            remote_updated_at,
            values,
            binding=binding,
            record=record,
            create_values=create_values,
            still_same=still_same,
        )


class RecruitmentSyncBoundMixin(models.AbstractModel):
    """What a record synced with remote systems carries: its bindings and a local-change stamp.

    ``sync_local_changed_at`` moves when a user edits the record, never when a sync writes it
    (syncs write with the ``recruitment_sync_from_remote`` context key). Conflict rules
    compare it with the remote system's updated-at: comparing with ``write_date`` would see
    the sync's own write as a local change on the very first sync.
    """

    _name = "recruitment.sync.bound.mixin"
    _description = "Record bound to remote systems"

    sync_local_changed_at = fields.Datetime(
        string="Changed in Odoo at",
        copy=False,
        readonly=True,
        help="When a user last changed this record in Odoo (syncs do not move it).",
    )
    sync_binding_ids = fields.Many2many(
        "recruitment.sync.binding",
        compute="_compute_sync_bindings",
        string="External ids",
        search="_search_sync_binding_ids",
    )
    sync_binding_count = fields.Integer(compute="_compute_sync_bindings", string="External ids count")
    sync_external_id = fields.Char(
        string="External ID",
        compute="_compute_sync_bindings",
        search="_search_sync_external_id",
        help="The record's ids in the remote systems it is synced with.",
    )

    # Fields whose change is not a user's edit of the record's data.
    _sync_local_change_ignored = frozenset(
        {"sync_local_changed_at", "write_date", "write_uid", "message_main_attachment_id", "activity_ids"}
    )

    def _compute_sync_bindings(self):
        bindings = self.env["recruitment.sync.binding"].search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        )
        by_record = {}
        for binding in bindings:
            by_record.setdefault(binding.res_id, self.env["recruitment.sync.binding"])
            by_record[binding.res_id] |= binding
        for record in self:
            mine = by_record.get(record.id, self.env["recruitment.sync.binding"])
            record.sync_binding_ids = mine
            record.sync_binding_count = len(mine)
            record.sync_external_id = ", ".join(mine.mapped("external_id")) or False

    def _search_sync_binding_ids(self, operator, value):
        bindings = self.env["recruitment.sync.binding"]._search(
            [("res_model", "=", self._name), ("id", operator, value)]
        )
        return [("id", "in", bindings.subselect("res_id"))]

    def _search_sync_external_id(self, operator, value):
        bindings = self.env["recruitment.sync.binding"]._search(
            [("res_model", "=", self._name), ("external_id", operator, value)]
        )
        return [("id", "in", bindings.subselect("res_id"))]

    def _is_local_change(self, vals):
        if self.env.context.get(FROM_REMOTE):
            return False
        return any(
            name not in self._sync_local_change_ignored
            and not name.startswith(("message_", "activity_"))
            and (field := self._fields.get(name)) is not None
            and field.store
            for name in vals
        )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get(FROM_REMOTE):
            now = fields.Datetime.now()
            for vals in vals_list:
                vals.setdefault("sync_local_changed_at", now)
        return super().create(vals_list)

    def write(self, vals):
        if self._is_local_change(vals):
            vals = dict(vals, sync_local_changed_at=fields.Datetime.now())
        return super().write(vals)

    def action_view_sync_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("recruitment_sync.recruitment_sync_binding_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
