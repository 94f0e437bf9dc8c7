"""Shared helpers of the addons' tests: fakes started per class, integrations, base cases."""

import ast
import functools
import unittest
from contextlib import contextmanager
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import Form, TransactionCase, new_test_user

from odoo.addons.recruitment_sync.models import recruitment_sync_integration as integration_module
from odoo.addons.recruitment_sync.services.http_client import HttpClient

from tests.fakes.records_api import FakeRecordsApi  # noqa: I001


def no_sleep(_seconds):
    """Backoffs and Retry-After waits are recorded by the fakes, never really slept in tests."""


def start_fake(test_class, fake=None):
    """Start a fake remote service for a test class; it stops when the class is done."""
    fake = fake or FakeRecordsApi()
    fake.start()
    test_class.addClassCleanup(fake.stop)
    return fake


def use_company_of_its_own(test_class, name, chart_template="generic_coa"):
    """Make ``test_class`` work in a new company with its chart of accounts and no documents yet.

    A database with demo data (as Odoo shops, runbot and odoo.sh test in) has posted invoices and
    credit notes in its first company, with taxes the test does not map: an export test would
    send them too. The new company becomes the current one of the class's environment and the
    default company of its user and of the administrator (whom the browser tests log in as).
    """
    env = test_class.env
    main = env.company
    company = env["res.company"].create(
        {"name": name, "currency_id": main.currency_id.id, "country_id": main.country_id.id}
    )
    env["account.chart.template"].try_loading(chart_template, company, install_demo=False)
    for user in env.user | env.ref("base.user_admin"):
        user.write({"company_ids": [Command.link(company.id)], "company_id": company.id})
    test_class.env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    return company


TEST_PROVIDER_ADDON = "recruitment_sync_test_provider"


def require_test_provider(env):
    """Skip the calling test (or class) when the core's test provider is not installed.

    The test provider is a test-only addon (tests/odoo_addons, installed by ``make test``): where
    it is not installed (``odoo-bin -i recruitment_sync --test-enable`` with the repository's
    addons alone), the tests that need it are skipped with that reason.
    """
    if "test_rest" not in dict(env["recruitment.sync.integration"]._fields["provider"].selection):
        raise unittest.SkipTest(
            f"the core's test provider ({TEST_PROVIDER_ADDON}, in tests/odoo_addons) is not installed; "
            "install it to run the tests that need it (make test does)"
        )


def create_test_integration(env, fake, **values):
    """An integration of the core's test provider pointed at ``fake`` (skips without the provider)."""
    require_test_provider(env)
    return env["recruitment.sync.integration"].create(
        {
            "name": "Test system",
            "provider": "test_rest",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "authorize_url": fake.authorize_url,
            "token_url": fake.token_url,
            "revoke_url": fake.revoke_url,
            "api_base_url": f"{fake.url}/api/v1",
            **values,
        }
    )


def sole_integration(env, values):
    """A new integration of ``values["provider"]``, the only active one of its provider (others, e.g.
    the demo data's, are archived), so that the screens listing the provider's integrations show it."""
    Integration = env["recruitment.sync.integration"]
    Integration.search([("provider", "=", values["provider"])]).write({"active": False})
    return Integration.create(values)


def connect(integration, fake):
    """Store tokens as the consent flow would, and mark the integration connected."""
    integration._oauth2_store(fake.issue_token("read offline_access"))
    integration.sudo().write({"state": "connected"})
    return integration


class CommittedIntegration:
    """An integration whose data and runs live in committed transactions, as in production.

    A test's own transaction cannot show what another cursor commits (a token refresh, for
    one). ``env()`` opens a cursor of its own, committed when the block ends; the integration,
    what its runs created (records with ids above those existing at the start) and its runs
    are deleted at the end of the test class, once the test's savepoint released its locks.
    """

    # Models a run may create records of, in creation order (purged in reverse); a connector's
    # tests extend it with the models of their provider.
    CREATED_MODELS = ("res.partner",)

    def __init__(self, test, values, setup=None):
        self.registry = test.registry
        with self.env() as env:
            self.max_ids = {}
            for model in self.CREATED_MODELS:
                env.cr.execute(f"SELECT COALESCE(MAX(id), 0) FROM {env[model]._table}")  # noqa: S608
                self.max_ids[model] = env.cr.fetchone()[0]
            integration = env["recruitment.sync.integration"].create(values)
            if setup:
                setup(integration)
            self.id = integration.id
        test.addClassCleanup(self.purge)

    @contextmanager
    def env(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True})

    def integration(self, env):
        return env["recruitment.sync.integration"].browse(self.id)

    def purge(self):
        with self.env() as env:
            env = env(context=dict(env.context, active_test=False))
            for model in reversed(self.CREATED_MODELS):
                env[model].search([("id", ">", self.max_ids[model])]).unlink()
            env["recruitment.sync.binding"].search([("integration_id", "=", self.id)]).unlink()
            env["recruitment.sync.run"].search([("integration_id", "=", self.id)]).unlink()
            self.integration(env).unlink()


@contextmanager
def token_expiring_mid_run(test, fake):
    """The provider expires every access token it issued (server-side) when the run fetches its
    second batch, and the refresh commits on a cursor of its own, as in production.

    Yields the number of batches fetched (``calls["n"]``) and checks that exactly one refresh
    reached the provider.
    """
    Integration = type(test.env["recruitment.sync.integration"])
    original = Integration._provider_fetch_batch
    calls = {"n": 0}

    def expire_after_first_batch(integration, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            fake.expire_access_tokens()  # the provider now answers 401 to the token we hold
        return original(integration, *args, **kwargs)

    before = fake.refresh_requests
    with (
        patch.object(Integration, "_oauth2_use_own_cursor", return_value=True),
        patch.object(Integration, "_provider_fetch_batch", expire_after_first_batch),
    ):
        yield calls
    test.assertGreater(calls["n"], 2, "the token expired mid-run, not before it")
    test.assertEqual(fake.refresh_requests - before, 1, "one refresh")


class SyncCase(TransactionCase):
    """A company, users of each role, and an integration of the test provider on a fake."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = start_fake(cls)
        cls.classPatch(integration_module, "HttpClient", functools.partial(HttpClient, sleep=no_sleep))
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.Run = cls.env["recruitment.sync.run"]
        cls.admin = new_test_user(cls.env, "rs_sysadmin", groups="base.group_system,base.group_user")
        cls.manager = new_test_user(cls.env, "rs_manager", groups="recruitment_sync.group_sync_manager")
        cls.integration = connect(create_test_integration(cls.env, cls.fake), cls.fake)

    def setUp(self):
        super().setUp()
        self.fake.clear_faults()
        self.fake.reset_records()
        self.fake.requests.clear()
        connect(self.integration, self.fake)  # fresh tokens: a test may revoke its grant

    def process_runs(self, time_budget=600):
        """Run the background runner until nothing is left (as the cron would, pass after pass)."""
        for _attempt in range(20):
            if not self.Run._cron_process_runs(time_budget=time_budget):
                return
        raise AssertionError("the runner never finished")

    def sync(self, integration=None, trigger="manual", **kwargs):
        integration = integration or self.integration
        run, created = integration._queue_run(trigger, **kwargs)
        self.assertTrue(created, "a run should have been queued")
        self.process_runs()
        return run

    @contextmanager
    def assert_no_new_partners(self):
        before = self.env["res.partner"].search_count([])
        yield
        self.assertEqual(self.env["res.partner"].search_count([]), before)


class ProviderAddonCase(TransactionCase):
    """What every connector addon must do to register its provider; subclass per connector."""

    # odoo-bin --test-enable runs only the test methods a class defines itself, unless told so:
    # without this the connectors' subclasses would run none of these tests there (pytest does).
    allow_inherited_tests_method = True

    provider = None  # e.g. "xero"
    label = None  # e.g. "Xero"
    action_xmlid = None  # the connector's "Invoicing > Integrations > <label>" action

    def test_menu_action_creates_and_lists_its_integrations(self):
        action = self.env.ref(self.action_xmlid)
        Integration = self.env["recruitment.sync.integration"]
        integration = Form(Integration.with_context(**ast.literal_eval(action.context))).save()
        self.assertEqual(integration.provider, self.provider)
        self.assertEqual(integration.display_name, self.label)
        listed = Integration.search(ast.literal_eval(action.domain))
        self.assertIn(integration, listed)
        self.assertEqual(set(listed.mapped("provider")), {self.provider})

    def test_uninstall_keeps_its_integrations(self):
        field = self.env["recruitment.sync.integration"]._fields["provider"]
        self.assertEqual(field.ondelete[self.provider], "set default")
        self.assertEqual(field.default(self.env["recruitment.sync.integration"]), "none")
