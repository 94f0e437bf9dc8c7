"""The JobAdder journey in a browser, against the fake JobAdder over loopback HTTP.

Connect → JobAdder's consent page → Accept → initial load → Invoicing > Placements lists the
placements → Sync JobAdder (confirmation with counts, Proceed) → the run's lines in Sync History.

One headless Chromium serves the whole journey. The consent page is on the fake's origin, where
no tour can run: the test clicks Accept through the browser's DevTools connection, and the
browser goes back to Odoo's callback with its session cookie, as an administrator's would.
Background runs are processed by the test between two tours, as the cron would.
"""

import functools
from datetime import date, timedelta

from odoo.tests import HttpCase, tagged

from odoo.addons.recruitment_sync.models import recruitment_sync_integration as integration_module
from odoo.addons.recruitment_sync.services.http_client import HttpClient
from odoo.addons.recruitment_sync.tests.browser import BrowserSession
from odoo.addons.recruitment_sync.tests.common import no_sleep, sole_integration, start_fake

from tests.fakes.jobadder import FakeJobAdder  # noqa: I001  (the repository root is on the path: pyproject.toml, PYTHONPATH)
from tests.fakes.jobadder_data import generate_agency

from .test_sync import expected_in_initial_load


class JobAdderJourney:
    """The JobAdder journey in a browser, for an ``HttpCase`` (the end-to-end sandbox test walks it too)."""

    def process_runs(self):
        Run = self.env["recruitment.sync.run"]
        for _attempt in range(20):
            if not Run._cron_process_runs(time_budget=600):
                return
        raise AssertionError("the runner never finished")

    def walk_jobadder_journey(self, session, fake, integration):
        """Connect → consent → initial load → placements → Sync JobAdder → history, in ``session``."""
        an_hour_ago = fake.now - timedelta(hours=1)
        guide = fake.add_placement(
            "Permanent", when=an_hour_ago, job_title="Tour Guide", start_date=date.today() + timedelta(days=14)
        )
        fake.approve_placement(guide, when=an_hour_ago)

        # Connect: the browser leaves Odoo for JobAdder's consent page.
        session.run_tour("recruitment_sync_jobadder_connect", url=f"/odoo/sync-integrations/{integration.id}")
        session.wait_for(
            f"location.href.startsWith({fake.authorize_url!r}) && document.getElementById('accept')",
            "JobAdder's consent page",
        )
        scopes = session.evaluate("[...document.querySelectorAll('#scopes li')].map(li => li.textContent)")
        self.assertIn("offline_access", scopes)
        # Accept: JobAdder sends the browser back to Odoo, which lands on the integration.
        session.evaluate("document.getElementById('accept').click()")
        session.wait_for(
            f"location.origin === {self.base_url()!r} && location.pathname === "
            f"'/odoo/sync-integrations/{integration.id}'",
            "the integration's form, back in Odoo",
        )
        session.run_tour("recruitment_sync_jobadder_connected")

        with session.server_paused():
            self.assertEqual(integration.state, "connected")
            initial = self.env["recruitment.sync.run"].search([("integration_id", "=", integration.id)])
            self.assertEqual((initial.trigger, initial.state), ("initial_load", "queued"))
            self.process_runs()
            self.assertIn(initial.state, ("done", "done_errors"), initial.summary)
            self.assertTrue(integration.initial_load_done)
            placements = self.env["recruitment.placement"].search([("integration_id", "=", integration.id)])
            today = integration._jobadder_today()
            expected = {p.placement_id for p in fake.world.placements if expected_in_initial_load(p, today)}
            expected.add(guide)
            failed = initial.line_ids.filtered(lambda line: line.action == "failed" and line.kind == "placements")
            self.assertEqual(
                set(placements.mapped("jobadder_id")), expected - {int(i) for i in failed.mapped("external_id")}
            )
            self.assertGreater(len(placements), 10)
            listed = placements.filtered(lambda placement: not placement.is_ended)  # the screen's default filter

        # Placements listed: every running placement the initial load brought, nothing else.
        session.run_tour("recruitment_sync_jobadder_placements", url="/odoo")
        titles = session.evaluate(
            "[...document.querySelectorAll('.o_list_view .o_data_row td[name=\"job_title\"]')]"
            ".map(td => td.textContent.trim())"
        )
        self.assertEqual(sorted(titles), sorted(listed.mapped("job_title")))
        self.assertIn("Tour Guide", titles)

        # Meanwhile in JobAdder: a placement changes, another one is made and approved.
        fake.update_placement(guide, job_title="Senior Tour Guide")
        night = fake.add_placement(
            "Contract",
            job_title="Night Tour Guide",
            start_date=date.today(),
            end_date=date.today() + timedelta(days=90),
        )
        fake.approve_placement(night)

        # Sync JobAdder from the Placements screen: confirmation with counts, Proceed.
        session.run_tour("recruitment_sync_jobadder_sync")
        with session.server_paused():
            run = self.env["recruitment.sync.run"].search(
                [("integration_id", "=", integration.id), ("id", "!=", initial.id)]
            )
            self.assertEqual((run.trigger, run.state), ("manual", "queued"))
            self.assertEqual(run.user_id, self.env.ref("base.user_admin"))
            self.process_runs()
            self.assertEqual(run.state, "done", run.summary)
            Placement = self.env["recruitment.placement"]
            guide_placement = Placement.search([("integration_id", "=", integration.id), ("jobadder_id", "=", guide)])
            night_placement = Placement.search([("integration_id", "=", integration.id), ("jobadder_id", "=", night)])
            self.assertEqual(guide_placement.job_title, "Senior Tour Guide")
            self.assertEqual(night_placement.job_title, "Night Tour Guide")
            lines = run.line_ids.filtered(lambda line: line.kind == "placements")
            self.assertEqual(
                {line.external_id: line.action for line in lines}, {str(guide): "updated", str(night): "created"}
            )
            self.assertEqual(
                {line.external_id: line.res_id for line in lines},
                {str(guide): guide_placement.id, str(night): night_placement.id},
            )

        # The run's lines in Sync History.
        session.run_tour("recruitment_sync_jobadder_history", url="/odoo")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderUi(JobAdderJourney, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Yesterday's agency: its records were all edited hours ago, so "changed since the last
        # sync" only finds what the test changes. No time freezing: the browser needs real time.
        cls.world = generate_agency(seed=7, placements=60, today=date.today() - timedelta(days=1))
        cls.fake = start_fake(cls, FakeJobAdder(world=cls.world))
        cls.classPatch(integration_module, "HttpClient", functools.partial(HttpClient, sleep=no_sleep))
        cls.env.ref("base.AUD").active = True
        cls.integration = sole_integration(
            cls.env,
            {
                "name": "JobAdder",
                "provider": "jobadder",
                "client_id": cls.fake.client_id,
                "client_secret": cls.fake.client_secret,
                "authorize_url": cls.fake.authorize_url,
                "token_url": cls.fake.token_url,
                "schedule_active": False,
                "rate_limit_per_minute": 100_000,  # the fake does not throttle unless told to
            },
        )

    def test_connect_initial_load_sync_and_history(self):
        session = BrowserSession(self, "admin")
        try:
            self.walk_jobadder_journey(session, self.fake, self.integration)
        finally:
            session.close()
