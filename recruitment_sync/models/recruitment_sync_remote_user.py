from odoo import _, api, fields, models


class RecruitmentSyncRemoteUser(models.AbstractModel):
    """A person of the remote system (consultant, salesperson) and the Odoo user paired with them.

    Odoo users are never created by a sync: a row pairs by email (case-insensitive), then by name
    where ``_pair_by_name``, when exactly one active internal user matches; otherwise it stays
    *unpaired* or *ambiguous* until someone links it (``action_link``).
    """

    _name = "recruitment.sync.remote.user"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "Remote user paired with an Odoo user"

    # A connector whose users carry reliable emails (JobAdder) pairs by email only.
    _pair_by_name = True

    name = fields.Char()
    email = fields.Char()
    user_id = fields.Many2one("res.users", string="Odoo user", index=True, domain=[("share", "=", False)])
    pairing_state = fields.Selection(
        [("paired", "Paired"), ("unpaired", "Unpaired"), ("ambiguous", "Ambiguous")],
        compute="_compute_pairing_state",
        store=True,
    )
    candidate_user_ids = fields.Many2many(
        "res.users", compute="_compute_candidate_user_ids", string="Matching Odoo users"
    )

    def _matching_users(self):
        """Internal users with this row's email, else (``_pair_by_name``) with its name."""
        self.ensure_one()
        Users = self.env["res.users"].sudo()
        if self.email:
            found = Users.search([("share", "=", False), ("email", "=ilike", self.email.strip())])
            if found or not self._pair_by_name:
                return found
        if self._pair_by_name and self.name:
            return Users.search([("share", "=", False), ("name", "=ilike", self.name.strip())])
        return Users

    @api.depends("email", "name")
    def _compute_candidate_user_ids(self):
        for row in self:
            row.candidate_user_ids = row._matching_users()

    @api.depends("user_id", "email", "name")
    def _compute_pairing_state(self):
        for row in self:
            if row.user_id:
                row.pairing_state = "paired"
            else:
                row.pairing_state = "ambiguous" if len(row._matching_users()) > 1 else "unpaired"

    def _auto_pair(self):
        """Pair where exactly one Odoo user matches (never creates a user)."""
        for row in self.filtered(lambda r: not r.user_id):
            matches = row._matching_users()
            if len(matches) == 1:
                row.user_id = matches

    def action_link(self):
        """Link the only matching Odoo user, or open the row to choose one."""
        self.ensure_one()
        matches = self._matching_users()
        if len(matches) == 1:
            self.user_id = matches
            return True
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Link %s to an Odoo user", self.name),
        }
