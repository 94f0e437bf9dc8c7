from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter
from odoo.addons.recruitment_sync.tests import common as core_common
from odoo.addons.recruitment_sync_xero.models.recruitment_sync_integration import jwt_claims
from odoo.addons.recruitment_sync_xero.services import xero

from tests.fakes.consent import query_of  # noqa: I001
from tests.fakes.xero import choose_organisations

from .common import XeroCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConnect(XeroCase):
    connect_on_setup = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.uk, cls.nz = cls.fake.tenant_ids

    def consent(self, integration, tenants):
        """Connect as in the browser: Xero's consent page, the organisations ticked, Odoo's callback."""
        url = integration.with_user(self.admin).action_connect()["url"]
        answer = choose_organisations(url, tenants)
        found = integration.with_user(self.admin)._oauth2_integration_from_state(answer["state"])
        self.assertEqual(found, integration)
        error = found._oauth2_complete(answer["state"], code=answer.get("code"), error=answer.get("error"))
        self.assertFalse(error)
        return url

    def new_integration(self, **values):
        fake = self.fake
        integration = self.integration.copy(
            {
                "name": "Xero copy",
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "token_url": fake.token_url,
                "revoke_url": fake.revoke_url,
                "authorize_url": fake.authorize_url,
                "api_base_url": fake.api_url,
                **values,
            }
        )
        self.addCleanup(drop_rate_limiter, (self.env.cr.dbname, integration.id))
        return integration

    def test_oauth2_settings_and_scope_sets(self):
        config = self.integration._get_oauth2_config()
        self.assertEqual(config.scopes, xero.SCOPE_SETS["granular"])
        self.assertIn("accounting.invoices", config.scopes)
        self.assertNotIn("accounting.transactions", config.scopes)
        self.assertTrue(config.use_pkce)
        self.assertEqual(config.token_url, self.fake.token_url, "the sandbox's endpoint wins")
        self.integration.xero_scope_set = "broad"
        self.assertIn("accounting.transactions", self.integration._get_oauth2_config().scopes)
        default = self.env["recruitment.sync.integration"].create({"name": "Real Xero", "provider": "xero"})
        self.assertEqual(default._get_oauth2_config().authorize_url, xero.AUTHORIZE_URL)
        self.assertEqual(default._get_oauth2_config().refresh_margin, xero.REFRESH_MARGIN)

    def test_consent_with_pkce_and_one_organisation_chooses_it(self):
        url = self.consent(self.integration, [self.uk])
        params = query_of(url)
        self.assertEqual(params["code_challenge_method"], "S256")
        self.assertEqual(params["scope"].split(), list(xero.SCOPE_SETS["granular"]))
        integration = self.integration
        self.assertEqual(integration.state, "connected")
        self.assertEqual(integration.xero_tenant_ids.mapped("tenant_id"), [self.uk])
        self.assertEqual(integration.xero_tenant_id.name, self.org.name)
        self.assertEqual(integration.xero_short_code, self.org.short_code)
        self.assertEqual(integration.xero_base_currency, "GBP")
        self.assertTrue(integration.xero_tenant_id.connection_id)
        # The first connection imports Xero's settings and customers in the background.
        run = self.Run.search([("integration_id", "=", integration.id)])
        self.assertEqual((run.trigger, run.direction, run.state), ("initial_load", "import", "queued"))
        self.process_all_runs()
        self.assertRunDone(run)
        self.assertEqual(integration.xero_tax_rate_count, len(self.org.tax_rates))
        self.assertIn("Connected to the Xero organisation", integration._provider_test_connection())

    def test_several_organisations_map_to_companies_explicitly(self):
        self.consent(self.integration, [self.uk, self.nz])
        integration = self.integration
        self.assertEqual(sorted(integration.xero_tenant_ids.mapped("tenant_id")), sorted([self.uk, self.nz]))
        self.assertFalse(integration.xero_tenant_id, "two organisations: the administrator chooses")
        self.assertFalse(self.Run.search([("integration_id", "=", integration.id)]), "nothing to import yet")
        with self.assertRaises(UserError):
            integration._xero_client()
        with self.assertRaises(AccessError):
            manager = new_test_user(self.env, "xero_mgr_t", groups="recruitment_sync.group_sync_manager")
            integration.with_user(manager).xero_tenant_id = integration.xero_tenant_ids[0]
        nz_tenant = integration.xero_tenant_ids.filtered(lambda t: t.tenant_id == self.nz)
        with patch.object(type(self.admin), "_bus_send", autospec=True) as bus_send:
            integration.with_user(self.admin).xero_tenant_id = nz_tenant
        # Saving the organisation starts an import: the administrator is told so.
        [told] = [c.args for c in bus_send.call_args_list if c.args[1] == "simple_notification"]
        self.assertEqual(told[0], self.admin)
        self.assertIn("started in the background", told[2]["title"])
        self.assertEqual(integration.xero_short_code, self.world.organisations[1].short_code)
        self.assertEqual(integration.xero_base_currency, "NZD")
        self.assertTrue(self.Run.search([("integration_id", "=", integration.id), ("trigger", "=", "initial_load")]))
        # Another company's integration cannot take the same organisation.
        other = self.new_integration()
        self.connect(other, tenants=[self.uk, self.nz])
        self.assertEqual(other.xero_tenant_id.tenant_id, self.uk, "the one organisation still free")
        with self.assertRaises(ValidationError):
            other.xero_tenant_id = other.xero_tenant_ids.filtered(lambda t: t.tenant_id == self.nz)

    def test_disconnect_removes_the_connection_and_revokes_only_the_last(self):
        self.consent(self.integration, [self.uk, self.nz])
        integration = self.integration
        integration.xero_tenant_id = integration.xero_tenant_ids.filtered(lambda t: t.tenant_id == self.uk)
        token = integration._token_sudo().refresh_token
        integration.with_user(self.admin).action_disconnect()
        self.assertEqual(integration.state, "disconnected")
        self.assertEqual([c["tenantId"] for c in self.fake.connections()], [self.nz], "only this one is gone")
        self.assertFalse(self.fake.requests_to("/connect/revocation"), "the NZ organisation still uses the grant")
        self.assertFalse(integration.sudo().token_ids)
        self.assertFalse(integration.xero_tenant_id)
        self.assertTrue(token)
        # Reconnected to the NZ organisation alone, then disconnected: the last one, so the grant goes.
        self.consent(integration, [self.nz])
        self.assertEqual(integration.xero_tenant_id.tenant_id, self.nz)
        integration.with_user(self.admin).action_disconnect()
        self.assertFalse(self.fake.connections())
        self.assertEqual(len(self.fake.requests_to("/connect/revocation")), 1)

    def test_expired_access_token_is_refreshed(self):
        self.connect(self.integration, tenants=[self.uk])
        self.process_all_runs()
        before = self.integration._token_sudo().refresh_count
        self.fake.expire_access_tokens()
        self.assertIn(self.org.name, self.integration._provider_test_connection())
        self.assertEqual(self.integration._token_sudo().refresh_count, before + 1)
        self.assertEqual(self.integration.state, "connected")

    def test_revoked_grant_means_needs_reconnect(self):
        self.connect(self.integration, tenants=[self.uk])
        self.process_all_runs()
        self.fake.revoke_all()
        self.fake.expire_access_tokens()
        run = self.sync(["tax_rates"])
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertIn("reconnect", self.integration.connection_message.lower())

    def test_organisation_disconnected_in_xero_means_needs_reconnect(self):
        self.connect(self.integration, tenants=[self.uk])
        self.process_all_runs()
        self.fake.disconnect(self.uk)
        run = self.sync(["accounts"])
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertIn("AuthenticationUnsuccessful", run.summary)

    def test_token_names_the_consent_it_comes_from(self):
        token = self.fake.issue_token(tenants=[self.uk])
        self.assertTrue(jwt_claims(token["access_token"]).get("authentication_event_id"))
        self.assertEqual(jwt_claims("not a token"), {})


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExpiredTokenMidRun(XeroCase):
    """An access token Xero expired on its side mid-run, with the run's and the refresh's
    transactions apart as in production (the refresh commits on a cursor of its own)."""

    connect_on_setup = False

    def test_token_expired_server_side_mid_run_is_refreshed_once_and_the_run_completes(self):
        fake = self.fake
        values = {
            "name": "Xero (committed)",
            "provider": "xero",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "authorize_url": fake.authorize_url,
            "token_url": fake.token_url,
            "revoke_url": fake.revoke_url,
            "api_base_url": fake.api_url,
            "schedule_active": False,
            "rate_limit_per_minute": 100_000,
        }
        committed = core_common.CommittedIntegration(
            self, values, lambda integration: self.connect(integration, tenants=[fake.tenant_id])
        )
        self.addCleanup(drop_rate_limiter, (self.env.cr.dbname, committed.id))
        with core_common.token_expiring_mid_run(self, fake), committed.env() as env:
            integration = committed.integration(env)
            run = env["recruitment.sync.run"].search([("integration_id", "=", committed.id)])
            self.assertEqual((run.trigger, run.state), ("initial_load", "queued"), "Connect queued the import")
            for _attempt in range(20):
                if not env["recruitment.sync.run"]._cron_process_runs(time_budget=600):
                    break
            self.assertIn(run.state, ("done", "done_errors"), run.summary)
            self.assertNotIn("reconnect", run.summary.lower())
            self.assertEqual(integration.state, "connected")
            self.assertTrue(env["recruitment.sync.xero.account"].search([("integration_id", "=", committed.id)]))
        with committed.env() as env:
            token = committed.integration(env)._token_sudo()
            self.assertEqual(token.refresh_count, 1)
            self.assertGreater(fake.access_token_info(token.access_token).expires_at, fake.clock())
