"""OAuth2: consent with a signed state, PKCE, refresh with rotation, revocation, concurrency."""

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlparse

import requests
from freezegun import freeze_time
from werkzeug.exceptions import Forbidden

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.service.model import retrying
from odoo.tests import new_test_user, tagged

from odoo.addons.recruitment_sync.services.http_client import PermanentError

from tests.fakes.consent import consent

from .common import SyncCase, connect, create_test_integration


@tagged("post_install", "-at_install", "recruitment_sync")
class TestOAuthConsent(SyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin2 = new_test_user(cls.env, "rs_sysadmin2", groups="base.group_system,base.group_user")
        cls.fresh = create_test_integration(cls.env, cls.fake, name="Fresh")

    def start_consent(self, user=None):
        action = self.fresh.with_user(user or self.admin).action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        return action["url"]

    def test_connect_runs_the_code_flow_with_pkce(self):
        url = self.start_consent()
        query = parse_qs(urlparse(url).query)
        self.assertEqual(query["client_id"], [self.fake.client_id])
        self.assertEqual(query["code_challenge_method"], ["S256"])
        self.assertTrue(query["redirect_uri"][0].endswith("/recruitment_sync/oauth/callback"))
        answer = consent(url)
        integration = self.env["recruitment.sync.integration"].with_user(self.admin)
        found = integration._oauth2_integration_from_state(answer["state"])
        self.assertEqual(found, self.fresh)
        self.assertIsNone(found._oauth2_complete(answer["state"], code=answer["code"]))
        self.assertEqual(self.fresh.state, "connected")
        token = self.fresh._token_sudo()
        self.assertTrue(token.access_token and token.refresh_token)
        self.assertGreater(token.expires_at, datetime.now() + timedelta(minutes=50))
        [exchange] = [r for r in self.fake.requests_to("/oauth/token") if b"authorization_code" in r.body]
        self.assertIn(b"code_verifier=", exchange.body, "the PKCE verifier goes with the code")

    def test_forged_state_is_rejected(self):
        answer = consent(self.start_consent())
        integration = self.env["recruitment.sync.integration"].with_user(self.admin)
        state = answer["state"]
        tampered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        for forged in (tampered, "not-a-state", "", None):
            with self.assertRaises(Forbidden):
                integration._oauth2_integration_from_state(forged)

    def test_expired_state_is_rejected(self):
        answer = consent(self.start_consent())
        integration = self.env["recruitment.sync.integration"].with_user(self.admin)
        with freeze_time(datetime.now() + timedelta(hours=2)), self.assertRaises(Forbidden):
            integration._oauth2_integration_from_state(answer["state"])

    def test_another_users_state_is_rejected(self):
        answer = consent(self.start_consent(self.admin))
        with self.assertRaises(Forbidden):
            self.env["recruitment.sync.integration"].with_user(self.admin2)._oauth2_integration_from_state(
                answer["state"]
            )

    def test_a_state_is_used_once(self):
        answer = consent(self.start_consent())
        integration = self.env["recruitment.sync.integration"].with_user(self.admin)
        integration._oauth2_integration_from_state(answer["state"])._oauth2_complete(
            answer["state"], code=answer["code"]
        )
        with self.assertRaises(Forbidden):
            integration._oauth2_integration_from_state(answer["state"])

    def test_declined_consent_leaves_it_unconnected(self):
        answer = consent(self.start_consent(), decision="decline")
        self.assertEqual(answer["error"], "access_denied")
        found = (
            self.env["recruitment.sync.integration"]
            .with_user(self.admin)
            ._oauth2_integration_from_state(answer["state"])
        )
        message = found._oauth2_complete(answer["state"], error=answer["error"])
        self.assertIn("refused", message)
        self.assertIn("declined on the consent page", message, "the error code in words")
        self.assertNotIn("access_denied", message)
        self.assertEqual(self.fresh.state, "not_connected")

    def test_only_administrators_connect(self):
        with self.assertRaises(AccessError):
            self.fresh.with_user(self.manager).action_connect()
        self.assertFalse(self.fake.requests_to("/oauth"))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestOAuthTokens(SyncCase):
    def expire_locally(self, integration=None):
        (integration or self.integration)._token_sudo().expires_at = datetime.now() - timedelta(seconds=5)

    def test_refresh_before_expiry_rotates_the_refresh_token(self):
        token = self.integration._token_sudo()
        old_refresh = token.refresh_token
        token.expires_at = datetime.now() + timedelta(seconds=30)  # within the 60 s margin
        new_access = self.integration._oauth2_access_token()
        self.assertEqual(token.access_token, new_access)
        self.assertNotEqual(token.refresh_token, old_refresh)
        self.assertEqual(token.refresh_count, 1)
        # The old refresh token is spent: the provider rejects it.
        spent = requests.post(
            self.fake.token_url,
            data={"grant_type": "refresh_token", "refresh_token": old_refresh},
            auth=(self.fake.client_id, self.fake.client_secret),
            timeout=10,
        )
        self.assertEqual(spent.json()["error"], "invalid_grant")

    def test_valid_token_is_not_refreshed(self):
        before = self.fake.refresh_requests
        self.integration._oauth2_access_token()
        self.assertEqual(self.fake.refresh_requests, before)

    def test_token_expiring_mid_run_is_refreshed_once(self):
        self.fake.seed(250)
        before = self.fake.refresh_requests
        calls = {"n": 0}
        original = type(self.integration)._provider_fetch_batch

        def expire_after_first_page(integration, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                self.fake.expire_access_tokens()  # the provider now answers 401 to our token
            return original(integration, *args, **kwargs)

        with patch.object(type(self.integration), "_provider_fetch_batch", expire_after_first_page):
            run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.created_count, 250)
        self.assertEqual(self.fake.refresh_requests - before, 1)

    def test_revoked_grant_needs_reconnect(self):
        self.fake.revoke_all()
        self.expire_locally()
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertIn("revoked", self.integration.connection_message)

    def test_disconnect_revokes_and_leaves_no_token(self):
        refresh = self.integration._token_sudo().refresh_token
        self.integration.with_user(self.admin).action_disconnect()
        self.assertFalse(self.env["recruitment.sync.token"].search([("integration_id", "=", self.integration.id)]))
        self.assertEqual(self.integration.state, "disconnected")
        self.assertFalse(self.integration.schedule_active)
        [revoke] = self.fake.requests_to("/oauth/revoke")
        self.assertIn(refresh.encode(), revoke.body)
        self.assertFalse(self.integration.initial_load_done, "connecting again runs a new initial load")

    def test_disconnect_keeps_the_grant_when_the_provider_says_so(self):
        """A provider whose grant other connections still use (Xero: one grant, many organisations)."""
        Integration = self.registry["recruitment.sync.integration"]
        with patch.object(Integration, "_provider_on_disconnect", lambda integration: {"grant": True}):
            self.integration.with_user(self.admin).action_disconnect()
        self.assertFalse(self.fake.requests_to("/oauth/revoke"), "the grant is not revoked")
        self.assertFalse(self.env["recruitment.sync.token"].search([("integration_id", "=", self.integration.id)]))
        self.assertEqual(self.integration.state, "disconnected")
        # A key the core does not know is refused, not ignored (nothing is disconnected).
        connect(self.integration, self.fake)
        with (
            patch.object(Integration, "_provider_on_disconnect", lambda integration: {"tokens": True}),
            self.assertRaisesRegex(ValueError, "tokens"),
        ):
            self.integration.with_user(self.admin).action_disconnect()

    def test_neutralize_wipes_tokens_and_stops_schedules(self):
        for query in get_neutralization_queries(["recruitment_sync"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.env["recruitment.sync.token"].search([]))
        self.assertFalse(self.integration.schedule_active)
        self.assertEqual(self.integration.state, "needs_reconnect")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConcurrency(SyncCase):
    """Two workers at once, on real transactions (committed data, cleaned up afterwards)."""

    def committed_integration(self, **values):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            integration = create_test_integration(env, self.fake, name="Concurrent", **values)
            integration._oauth2_store(self.fake.issue_token("read"))
            integration.sudo().state = "connected"
            integration_id = integration.id
        self.addCleanup(self.drop_committed, integration_id)
        return integration_id

    def drop_committed(self, integration_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["recruitment.sync.integration"].browse(integration_id).unlink()

    def in_parallel(self, work, count=2):
        barrier = threading.Barrier(count, timeout=20)
        results, errors = [], []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait()
                    results.append(work(env))
            except Exception as error:  # reported to the test below
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertFalse(errors, errors)
        return results

    def test_two_workers_refresh_once(self):
        integration_id = self.committed_integration()
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE recruitment_sync_token SET expires_at = now() at time zone 'UTC' - interval '1 minute' "
                "WHERE integration_id = %s",
                [integration_id],
            )
        before = self.fake.refresh_requests
        Integration = type(self.env["recruitment.sync.integration"])
        with patch.object(Integration, "_oauth2_use_own_cursor", return_value=True):
            tokens = self.in_parallel(
                lambda env: env["recruitment.sync.integration"].browse(integration_id)._oauth2_access_token()
            )
        self.assertEqual(self.fake.refresh_requests - before, 1, "one refresh, even with two workers")
        self.assertEqual(len(set(tokens)), 1, "both workers use the one new token")
        self.assertTrue(self.fake.access_token_info(tokens[0]))

    def test_two_simultaneous_sync_now_give_one_run(self):
        integration_id = self.committed_integration()

        def sync_now(env):
            integration = env["recruitment.sync.integration"].browse(integration_id)
            integration.read(["state"])  # both transactions take their snapshot first
            return retrying(lambda: integration._queue_run("manual")[1], env)

        created = self.in_parallel(sync_now)
        self.assertEqual(sorted(created), [False, True])
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM recruitment_sync_run WHERE integration_id = %s", [integration_id])
            self.assertEqual(cr.fetchone()[0], 1)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConcurrentRequests(SyncCase):
    def test_get_many_answers_in_order_with_errors_in_place(self):
        self.fake.seed(3)
        client = self.integration._http_client()
        answers = self.integration._http_get_many(client, ["me", "records/count", "no-such-route", "me"])
        self.assertEqual(answers[0]["account"], "Fake Agency Ltd")
        self.assertEqual(answers[1], {"count": 3})
        self.assertIsInstance(answers[2], PermanentError)
        self.assertEqual(answers[3], answers[0])

    def test_a_token_refused_in_worker_threads_is_renewed_once_by_the_owner(self):
        client = self.integration._http_client()
        self.fake.expire_access_tokens()  # every worker's request now gets a 401
        before = self.fake.refresh_requests
        answers = self.integration._http_get_many(client, ["me"] * 6)
        self.assertTrue(all(answer["account"] == "Fake Agency Ltd" for answer in answers), answers)
        self.assertEqual(self.fake.refresh_requests - before, 1)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestOAuthClientAuthentication(SyncCase):
    """``OAuth2Config.client_auth="basic"``, ``revoke_format="json"`` and the callback hook."""

    def basic_config(self):
        original = type(self.integration)._provider_oauth2_config

        def config(integration):
            found = original(integration)
            return found and replace(found, client_auth="basic", revoke_format="json")

        return patch.object(type(self.integration), "_provider_oauth2_config", config)

    def test_basic_credentials_on_exchange_and_refresh_json_revocation_and_callback_params(self):
        fresh = create_test_integration(self.env, self.fake, name="Basic")
        seen = []
        integration_class = type(fresh)
        with (
            self.basic_config(),
            patch.object(integration_class, "_provider_oauth2_callback", lambda _self, params: seen.append(params)),
        ):
            answer = consent(fresh.with_user(self.admin).action_connect()["url"])
            found = fresh.with_user(self.admin)._oauth2_integration_from_state(answer["state"])
            self.assertIsNone(
                found._oauth2_complete(answer["state"], code=answer["code"], params={"realmId": "4620816365"})
            )
            self.assertEqual(seen, [{"realmId": "4620816365"}], "the callback's other parameters reach the hook")
            fresh._token_sudo().expires_at = datetime.now() - timedelta(seconds=5)
            fresh._oauth2_access_token()
            refresh = fresh._token_sudo().refresh_token
            fresh.action_disconnect()
        exchanges = self.fake.requests_to("/oauth/token")
        self.assertEqual(len(exchanges), 2)
        for exchange in exchanges:
            self.assertTrue(exchange.headers.get("Authorization", "").startswith("Basic "))
            self.assertNotIn(b"client_secret", exchange.body, "the secret goes in the Basic header only")
        [revoke] = self.fake.requests_to("/oauth/revoke")
        self.assertEqual(json.loads(revoke.body), {"token": refresh})
        self.assertTrue(revoke.headers.get("Authorization", "").startswith("Basic "))

    def test_callback_hook_can_refuse_the_connection(self):
        fresh = create_test_integration(self.env, self.fake, name="Refused")
        with patch.object(type(fresh), "_provider_oauth2_callback", lambda _self, params: "No company came back."):
            answer = consent(fresh.with_user(self.admin).action_connect()["url"])
            found = fresh.with_user(self.admin)._oauth2_integration_from_state(answer["state"])
            self.assertEqual(found._oauth2_complete(answer["state"], code=answer["code"]), "No company came back.")
        self.assertNotEqual(fresh.state, "connected")
