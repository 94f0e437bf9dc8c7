from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRecruitmentSyncUi(HttpCase):
    def test_integrations_menu_shows_empty_state(self):
        # The database may hold demo integrations: the empty state is what a new company sees.
        self.env["recruitment.sync.integration"].with_context(active_test=False).search([]).unlink()
        self.start_tour("/odoo", "recruitment_sync_integrations_empty_state", login="admin")
