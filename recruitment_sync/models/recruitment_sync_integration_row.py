from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Context key of the writes of automatic matching: they keep the rule as the row's match note.
AUTO_MATCH = "recruitment_sync_auto_match"


class RecruitmentSyncIntegrationRow(models.AbstractModel):
    """A row that belongs to one integration and goes with it (runs, mapping tables, remote lists).

    Connectors inherit it and narrow the choice to their provider, e.g.
    ``integration_id = fields.Many2one(domain=[("provider", "=", "xero")])``.
    """

    _name = "recruitment.sync.integration.row"
    _description = "Row of an integration"

    integration_id = fields.Many2one(
        "recruitment.sync.integration",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)


class RecruitmentSyncRemoteRow(models.AbstractModel):
    """An integration row that stands for one record of the remote system (its departments, users,
    mapping entries), listed once per integration under that system's id (``remote_id``).

    Connectors name the column for their users, e.g. ``remote_id = fields.Char(string="InvoiceOcean ID")``.
    """

    _name = "recruitment.sync.remote.row"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "Record of the remote system"
    _order = "name, id"

    remote_id = fields.Char(string="Remote ID", required=True, readonly=True, index=True)
    name = fields.Char(readonly=True)

    _sql_constraints = [
        ("remote_id_unique", "UNIQUE(integration_id, remote_id)", "This record is already listed for the integration.")
    ]


class RecruitmentSyncMappingRow(models.AbstractModel):
    """An entry of the remote system (imported, read-only) next to the Odoo records it stands for.

    Tax codes, accounts, items: matched automatically where unambiguous, editable by sync
    managers. A connector's model inherits it and names, in ``_mapping_targets``, the fields
    that hold the Odoo records (Many2many, or a Boolean such as "lines without tax"); an Odoo
    record maps to one row of an integration at most (within ``_mapping_scope``: e.g. one
    24SevenOffice client), so that exports know which entry to send.
    """

    _name = "recruitment.sync.mapping.row"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "Mapping row of an integration"

    _mapping_targets = ()
    _mapping_scope = ()

    is_mapped = fields.Boolean(string="Mapped", compute="_compute_is_mapped", store=True)
    match_note = fields.Char(
        string="How it was mapped",
        help="Automatically (and by which rule) or by hand; set to 'By hand' when the mapping is changed by hand.",
    )

    @api.depends(lambda self: self._mapping_targets)
    def _compute_is_mapped(self):
        for row in self:
            row.is_mapped = any(row[name] for name in row._mapping_targets)

    @api.constrains(lambda self: self._mapping_targets)
    def _check_mapped_once(self):
        for row in self.sudo():  # sync managers map without reading rights on accounting records
            same_scope = [("id", "!=", row.id), ("integration_id", "=", row.integration_id.id)]
            same_scope += [(name, "=", row[name]) for name in row._mapping_scope]
            for name in row._mapping_targets:
                if not row[name]:
                    continue
                if row._fields[name].type == "boolean":
                    other = row.search([*same_scope, (name, "=", True)], limit=1)
                    if other:
                        raise ValidationError(
                            _(
                                "%(other)s is already used for “%(what)s”: one entry only may be, so that exports "
                                "know which one to send.",
                                other=other.display_name,
                                what=row._fields[name]._description_string(self.env),
                            )
                        )
                    continue
                other = row.search([*same_scope, (name, "in", row[name].ids)], limit=1)
                if other:
                    raise ValidationError(
                        _(
                            "%(records)s already maps to %(other)s: an Odoo record maps to one %(provider)s entry "
                            "only, so that exports know which one to send.",
                            records=", ".join((row[name] & other[name]).mapped("display_name")),
                            other=other.display_name,
                            provider=row._mapping_provider_label(),
                        )
                    )

    def _mapping_provider_label(self):
        return self[:1].integration_id._provider_label()

    def write(self, vals):
        mapping = set(self._mapping_targets) | {"match_note"}
        if not self.env.su and set(vals) - mapping and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                _("Only the mapping columns can be changed: the rest comes from %s.", self._mapping_provider_label())
            )
        if not self.env.context.get(AUTO_MATCH) and set(vals) & set(self._mapping_targets):
            vals = {**vals, "match_note": _("By hand")}
        return super().write(vals)

    def _write_match(self, values, rule):
        """Map the rows automatically: ``values`` of the mapping fields, ``rule`` kept as their note."""
        return self.with_context(**{AUTO_MATCH: True}).write({**values, "match_note": rule})

    def _auto_map(self, field_name, candidates_of, rule):
        """Map each unmapped row to the one Odoo record ``candidates_of(row)`` finds (none when several),
        leaving out the records another row of the integration maps already."""
        taken = set(self.search([("integration_id", "in", self.integration_id.ids)])[field_name].ids)
        for row in self.filtered(lambda r: not r[field_name] and r._mapping_active()):
            found = candidates_of(row).filtered(lambda record: record.id not in taken)
            if len(found) == 1:
                row._write_match({field_name: [fields.Command.set(found.ids)]}, rule)
                taken.add(found.id)

    def _auto_map_taxes_by_rate(self, rule, rate_field="rate"):
        """Map each Odoo sales tax (percent) of the rows' company that no row maps yet to the one row
        of ``self`` with its rate (``rate_field``), when exactly one has it; ``rule`` is kept as the
        note. A row mapped by hand is left alone: a human decided."""
        if not self:
            return
        by_rate = {}
        for row in self:
            by_rate.setdefault(round(row[rate_field], 4), []).append(row)
        scope = [(name, "=", self[0][name]) for name in self._mapping_scope]
        taken = self.search([("integration_id", "in", self.integration_id.ids), *scope]).tax_ids
        taxes = (
            self.env["account.tax"]
            .sudo()
            .search(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                ]
            )
        )
        by_hand = _("By hand")
        for tax in taxes - taken:
            candidates = by_rate.get(round(tax.amount, 4), [])
            if len(candidates) == 1 and candidates[0].match_note != by_hand:
                candidates[0]._write_match({"tax_ids": [fields.Command.link(tax.id)]}, rule)

    def _mapping_active(self):
        """Whether the remote entry is still in use there (only those are mapped automatically)."""
        self.ensure_one()
        return True
