from datetime import UTC, datetime
from unittest.mock import patch
from urllib.parse import urlparse

from odoo.tests import HttpCase, new_test_user, tagged

from tests.fakes.consent import consent

from .common import connect, create_test_integration, start_fake


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRecruitmentSyncUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = start_fake(cls)

    def test_integrations_menu_shows_empty_state(self):
        # The database may hold demo integrations: the empty state is what a new company sees.
        self.env["recruitment.sync.integration"].with_context(active_test=False).search([]).unlink()
        self.start_tour("/odoo", "recruitment_sync_integrations_empty_state", login="admin")

    def test_sync_now_confirm_and_history(self):
        integration = connect(create_test_integration(self.env, self.fake), self.fake)
        self.fake.seed(7)
        self.start_tour(f"/odoo/sync-integrations/{integration.id}", "recruitment_sync_sync_now", login="admin")
        run = self.env["recruitment.sync.run"].search([("integration_id", "=", integration.id)])
        self.assertEqual((run.trigger, run.state), ("manual", "queued"))
        self.assertEqual(run.user_id, self.env.ref("base.user_admin"))
        # The background runner then does the work.
        with patch.object(type(run), "_notify_end", autospec=True) as notify:
            self.env["recruitment.sync.run"]._cron_process_runs(time_budget=600)
        self.assertEqual((run.state, run.created_count), ("done", 7))
        notify.assert_called_once()

    def test_retry_failed_items_of_a_run(self):
        integration = connect(create_test_integration(self.env, self.fake), self.fake)
        self.fake.reset_records()
        self.addCleanup(self.fake.reset_records)  # the class's fake serves the other tests too
        self.fake.seed(3)
        broken = self.fake.add("Broken", updated_at=datetime(2026, 11, 19, 8, 0, tzinfo=UTC))["id"]
        self.fake.edit(broken, datetime(2026, 11, 19, 8, 0, tzinfo=UTC), name="")
        Run = self.env["recruitment.sync.run"]
        first, _created = integration._queue_run("manual")
        Run._cron_process_runs(time_budget=600)
        self.assertEqual((first.state, first.failed_count), ("done_errors", 1))
        # Fixed in the remote system without its updated-at moving: only a retry brings it.
        self.fake.edit(broken, datetime(2026, 11, 19, 8, 0, tzinfo=UTC), name="Mended")
        self.start_tour(f"/odoo/sync-history/{first.id}", "recruitment_sync_retry_failed_items", login="admin")
        retry = Run.search([("integration_id", "=", integration.id)], limit=1)
        self.assertNotEqual(retry, first)
        self.assertEqual((retry.trigger, retry.state), ("retry", "queued"))
        self.assertEqual(retry.retry_item_ids.item_key, broken)
        Run._cron_process_runs(time_budget=600)
        self.assertEqual(retry.state, "done")
        self.assertEqual(retry.line_ids.mapped("name"), ["Mended"], "a run of exactly that item")
        self.assertEqual(retry.line_ids.action, "created")
        self.assertFalse(integration.failed_item_ids)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestOAuthCallback(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = start_fake(cls)
        cls.admin = cls.env.ref("base.user_admin")

    def setUp(self):
        super().setUp()
        self.integration = create_test_integration(self.env, self.fake, name="Callback")

    def callback(self, **params):
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return self.url_open(f"/recruitment_sync/oauth/callback?{query}", allow_redirects=False)

    def test_consent_then_callback_connects(self):
        url = self.integration.with_user(self.admin).action_connect()["url"]
        answer = consent(url)
        self.authenticate("admin", "admin")
        response = self.callback(code=answer["code"], state=answer["state"])
        self.assertEqual(response.status_code, 303)
        self.assertEqual(urlparse(response.headers["Location"]).path, f"/odoo/sync-integrations/{self.integration.id}")
        self.integration.invalidate_recordset()
        self.assertEqual(self.integration.state, "connected")

    def test_forged_state_is_forbidden(self):
        self.authenticate("admin", "admin")
        self.assertEqual(self.callback(code="x", state="forged").status_code, 403)
        self.assertEqual(self.callback(code="x").status_code, 403)

    def test_only_administrators_reach_the_callback(self):
        url = self.integration.with_user(self.admin).action_connect()["url"]
        answer = consent(url)
        new_test_user(self.env, "rs_cb_manager", groups="recruitment_sync.group_sync_manager")
        self.authenticate("rs_cb_manager", "rs_cb_manager")
        self.assertEqual(self.callback(code=answer["code"], state=answer["state"]).status_code, 403)
        self.assertEqual(self.integration.state, "not_connected")
