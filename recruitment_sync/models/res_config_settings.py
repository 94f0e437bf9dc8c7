from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    recruitment_sync_integration_count = fields.Integer(compute="_compute_recruitment_sync_integration_count")
    recruitment_sync_run_time_budget = fields.Integer(
        string="Run time slice (seconds)",
        config_parameter="recruitment_sync.run_time_budget",
        default=60,
        help="How long a background sync works before it hands back to Odoo's scheduler, which calls it "
        "again at once. Capped so that the scheduler's ten calls in a row fit in the server's cron time limit.",
    )

    recruitment_sync_history_retention_days = fields.Integer(
        string="Sync history kept for (days)",
        config_parameter="recruitment_sync.history_retention_days",
        default=180,
        help="Runs and lines older than this are removed by the daily clean-up; failed lines stay until "
        "their record goes through. 0 keeps everything.",
    )

    def _compute_recruitment_sync_integration_count(self):
        count = self.env["recruitment.sync.integration"].search_count([("company_id", "=", self.env.company.id)])
        for settings in self:
            settings.recruitment_sync_integration_count = count

    def action_open_recruitment_sync_integrations(self):
        return self.env["ir.actions.actions"]._for_xml_id("recruitment_sync.recruitment_sync_integration_action")
