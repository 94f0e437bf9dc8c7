from odoo import api, models

# The sync record rules read ``user.employee_ids.department_id``, and ir.rule caches each
# user's evaluated domains: these changes must drop that cache, or a transferred employee
# keeps the old department's access until the server restarts.
RULE_FIELDS = {"user_id", "department_id", "active"}


class HrEmployee(models.Model):
    _inherit = "hr.employee"

    @api.model_create_multi
    def create(self, vals_list):
        employees = super().create(vals_list)
        if employees.filtered("user_id"):
            employees._drop_rule_cache()
        return employees

    def write(self, vals):
        result = super().write(vals)
        if RULE_FIELDS & set(vals):
            self._drop_rule_cache()
        return result

    def _drop_rule_cache(self):
        # Flush first: every rule is evaluated anew after the clear, and a rule reading employees
        # (hr's own reads user.employee_id) would flush these pending writes inside safe_eval,
        # which turns a database error (hr's one employee per user and company) into a ValueError.
        self.flush_recordset()
        self.env.registry.clear_cache()

    def unlink(self):
        clear = bool(self.filtered("user_id"))
        result = super().unlink()
        if clear:
            self.env.registry.clear_cache()
        return result
