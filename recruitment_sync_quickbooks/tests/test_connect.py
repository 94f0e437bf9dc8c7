from datetime import datetime, timedelta

from odoo.tests import tagged

from tests.fakes.quickbooks import choose_company  # noqa: I001

from .common import QboCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConnect(QboCase):
    connect_on_setup = False

    def consent(self, integration, realm_id):
        admin = self.env.ref("base.user_admin")
        url = integration.with_user(admin).action_connect()["url"]
        answer = choose_company(url, realm_id=realm_id)
        found = integration.with_user(admin)._oauth2_integration_from_state(answer["state"])
        params = {key: value for key, value in answer.items() if key not in ("state", "code", "error")}
        return found._oauth2_complete(
            answer["state"], code=answer.get("code"), error=answer.get("error"), params=params
        )

    def test_consent_ties_the_chosen_company_and_loads_settings(self):
        self.assertIsNone(self.consent(self.integration, self.fake.realm_ids[1]))
        integration = self.integration
        self.assertEqual(integration.state, "connected")
        self.assertEqual(integration.qbo_realm_id, self.fake.realm_ids[1])
        self.assertEqual(integration.qbo_country, "GB")
        self.assertEqual(integration.qbo_home_currency, "GBP")
        self.assertFalse(integration.qbo_is_us)
        exchange = [r for r in self.fake.requests_to("/oauth2/v1/tokens/bearer") if b"authorization_code" in r.body][-1]
        self.assertTrue(exchange.headers["Authorization"].startswith("Basic "), "Intuit takes Basic client auth")
        self.assertNotIn(b"client_secret", exchange.body)
        expires = integration.qbo_refresh_expires_at
        self.assertAlmostEqual(expires, datetime.now() + timedelta(seconds=8_726_400), delta=timedelta(minutes=5))
        run = self.Run.search([("integration_id", "=", integration.id)])
        self.assertEqual(run.trigger, "initial_load")
        self.process_all_runs()
        self.assertEqual(run.state, "done", run.summary)
        self.assertTrue(integration.qbo_tax_code_ids and integration.qbo_account_ids and integration.qbo_item_ids)
        self.assertEqual(self.fake.minorversions.keys(), {"75"}, "minorversion 75 on every call")

    def test_minorversion_setting_goes_on_every_call(self):
        self.connect(self.integration, self.realm_id)
        self.integration.qbo_minorversion = 76
        self.fake.minorversions.clear()
        self.integration._qbo_load_company()
        self.assertEqual(set(self.fake.minorversions), {"76"})

    def test_a_realm_serves_one_integration(self):
        self.connect(self.integration, self.realm_id)
        other = self.integration.copy(
            {"name": "Second QuickBooks", "client_id": self.fake.client_id, "client_secret": self.fake.client_secret}
        )
        message = self.consent(other, self.realm_id)
        self.assertIn("already used by", message)
        self.assertNotEqual(other.state, "connected")

    def test_rotation_persisted_and_invalid_grant_needs_reconnect(self):
        self.connect(self.integration, self.realm_id)
        self.process_all_runs()
        token = self.integration._token_sudo()
        first = token.refresh_token
        token.expires_at = datetime.now() - timedelta(seconds=5)
        self.integration._qbo_load_company()
        self.assertNotEqual(token.refresh_token, first, "the rotated refresh token is kept")
        self.fake.revoke_all()
        token.expires_at = datetime.now() - timedelta(seconds=5)
        run = self.sync(["qbo_tax_codes"])
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.integration.state, "needs_reconnect")

    def test_expired_refresh_token_needs_reconnect(self):
        self.connect(self.integration, self.realm_id)
        self.process_all_runs()
        self.addCleanup(setattr, self.fake, "refresh_token_idle_lifetime", self.fake.refresh_token_idle_lifetime)
        self.fake.refresh_token_idle_lifetime = 0  # 101 days without a sync: Intuit refuses it
        self.integration._token_sudo().expires_at = datetime.now() - timedelta(seconds=5)
        api_calls = len(self.fake.requests_to("/v3/"))
        run = self.sync(["qbo_tax_codes"])
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertTrue(self.integration.connection_message)
        self.assertEqual(len(self.fake.requests_to("/v3/")), api_calls, "no API call with a refused grant")

    def test_expired_access_token_is_refreshed_once_on_401(self):
        self.connect(self.integration, self.realm_id)
        self.process_all_runs()
        self.fake.expire_access_tokens()
        run = self.sync(["qbo_tax_codes"])
        self.assertRunDone(run)
        self.assertEqual(self.integration.state, "connected")

    def test_disconnect_revokes_with_json(self):
        self.connect(self.integration, self.realm_id)
        refresh = self.integration._token_sudo().refresh_token
        self.integration.with_user(self.env.ref("base.user_admin")).action_disconnect()
        [revoke] = self.fake.requests_to("/v2/oauth2/tokens/revoke")
        self.assertEqual(revoke.headers.get("Content-Type"), "application/json")
        self.assertIn(refresh.encode(), revoke.body)
        self.assertEqual(self.integration.state, "disconnected")

    def test_activity_two_weeks_before_the_refresh_token_expires(self):
        self.connect(self.integration, self.realm_id)
        token = self.integration._token_sudo()
        token.extra = {**token.extra, "refresh_expires_at": (datetime.now() + timedelta(days=20)).isoformat()}
        self.integration._cron_qbo_reconnect_reminders()
        self.assertFalse(self.integration.activity_ids, "20 days left: no reminder yet")
        token.extra = {**token.extra, "refresh_expires_at": (datetime.now() + timedelta(days=10)).isoformat()}
        self.integration.invalidate_recordset()
        self.integration._cron_qbo_reconnect_reminders()
        self.integration._cron_qbo_reconnect_reminders()
        self.assertEqual(len(self.integration.activity_ids), 1, "one reminder, not one a day")
        self.assertIn("Reconnect QuickBooks", self.integration.activity_ids.summary)
