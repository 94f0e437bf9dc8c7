"""InvoiceOcean's document kinds, users (paired with Odoo users) and departments (mapped to Odoo's)."""

from odoo import api, fields, models

from ..services import invoiceocean as io


class RecruitmentSyncInvoiceOceanKind(models.Model):
    """One kind of InvoiceOcean document (§3.2); integrations choose which become opportunities."""

    _name = "recruitment.sync.invoiceocean.kind"
    _description = "InvoiceOcean document kind"
    _order = "sequence, id"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [("code_unique", "UNIQUE(code)", "Each InvoiceOcean document kind is listed once.")]


class RecruitmentSyncInvoiceOceanRow(models.AbstractModel):
    """A record of an InvoiceOcean account listed for an integration (its users, its departments)."""

    _name = "recruitment.sync.invoiceocean.row"
    _inherit = ["recruitment.sync.remote.row"]
    _description = "InvoiceOcean record"

    integration_id = fields.Many2one(domain=[("provider", "=", "invoiceocean")])


class RecruitmentSyncInvoiceOceanUser(models.Model):
    """An InvoiceOcean user seen on documents (``user_id``, ``seller_person``) and the Odoo user paired with them.

    InvoiceOcean lists no users (§3.4): rows come from documents. Odoo users are never created by a
    sync: a row pairs by email, then by name, when exactly one internal user matches; otherwise it stays
    *unpaired* or *ambiguous* until someone links it (``recruitment.sync.remote.user``).
    """

    _name = "recruitment.sync.invoiceocean.user"
    _inherit = ["recruitment.sync.remote.user", "recruitment.sync.invoiceocean.row"]
    _description = "InvoiceOcean user"

    remote_id = fields.Char(string="InvoiceOcean user ID")
    email = fields.Char(help="InvoiceOcean shows no user's email to the API: type it to pair by email.")

    @api.model
    def _io_rows_for(self, integration, summaries):
        """{InvoiceOcean user id: row} for documents' users; new ones listed (and paired) in one create."""
        names = {}
        for summary in summaries:
            if summary["user_id"]:
                names.setdefault(summary["user_id"], summary["seller_person"])
        if not names:
            return {}
        rows = {
            row.remote_id: row
            for row in self.search([("integration_id", "=", integration.id), ("remote_id", "in", list(names))])
        }
        new = [key for key in names if key not in rows]
        if new:
            created = self.create(
                [{"integration_id": integration.id, "remote_id": key, "name": names[key] or key} for key in new]
            )
            created._auto_pair()
            rows.update({row.remote_id: row for row in created})
        for key, row in rows.items():
            if names[key] and row.name != names[key]:
                row.name = names[key]
        return rows


class RecruitmentSyncInvoiceOceanDepartment(models.Model):
    """An InvoiceOcean department (issuing company, ``/departments.json``) and the Odoo department and
    sales team its documents' opportunities go to."""

    _name = "recruitment.sync.invoiceocean.department"
    _inherit = ["recruitment.sync.invoiceocean.row"]
    _description = "InvoiceOcean department"

    remote_id = fields.Char(string="InvoiceOcean department ID")
    shortcut = fields.Char(readonly=True)
    department_id = fields.Many2one("hr.department", string="Odoo department", check_company=True)
    team_id = fields.Many2one("crm.team", string="Sales team", check_company=True)
    is_mapped = fields.Boolean(compute="_compute_is_mapped", store=True)

    @api.depends("department_id")
    def _compute_is_mapped(self):
        for row in self:
            row.is_mapped = bool(row.department_id)

    def _auto_map(self):
        """A department of the same name (or shortcut) is mapped at once; the rest waits for a manager."""
        for row in self.filtered(lambda r: not r.department_id):
            found = self.env["hr.department"].search(
                [
                    ("company_id", "in", [False, row.company_id.id]),
                    ("name", "in", [n for n in (row.name, row.shortcut) if n]),
                ]
            )
            if len(found) == 1:
                row.department_id = found
            team = self.env["crm.team"].search([("name", "in", [n for n in (row.name, row.shortcut) if n])])
            if len(team) == 1:
                row.team_id = team


def kind_selection(_model):
    """The document kinds as a selection (labels in the user's language)."""
    return [(code, str(label)) for code, label in io.KINDS.items()]
