"""The screens as each sandbox user sees them, in a browser (issue: screens an Odoo user trusts).

The sandbox's stand-ins run in this process and the database is set up as ``make run`` does;
JobAdder's initial load (and, with the 24SevenOffice WSDLs, an export of the Norwegian offices'
invoices) is run by the test, as the cron would. Tours then check, as the administrator, the sync
manager and the London department's sync user, what a person reads on the screens:

* the run form's Outcome counters sit next to their own labels; run lines show kinds in words;
* the integration form follows a run from Running to Done without a reload (bus);
* a placement's JobAdder id has no thousands separator, and grouped lists do not add ids up;
* a 24SevenOffice receipt row is one line of normal height, its reason readable, the login shown;
* Create user (consultant pairing) asks first and emails an invitation;
* the London user sees no action she cannot take and meets no access error;
* in Norwegian (nb_NO), the 24SevenOffice export speaks Norwegian.

With the environment variable ``RECRUITMENT_SYNC_SCREENSHOTS`` set to a folder (the README's
``docs/screenshots``), the tours' screens are saved there as PNG files.
"""

import base64
import os
from pathlib import Path

from odoo.tests import tagged

from odoo.addons.recruitment_sync.tests.browser import BrowserSession
from odoo.addons.recruitment_sync_jobadder.tests.test_ui import JobAdderJourney

from .common import SandboxCase

ADDONS = ["recruitment_sync", "recruitment_sync_xero", "recruitment_sync_24so"]


@tagged("post_install", "-at_install", "recruitment_sync", "recruitment_sync_e2e")
class TestScreens(JobAdderJourney, SandboxCase):
    placements = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # JobAdder connected (the fake's tokens, as a second `make run` does) and its initial load run.
        cls.jobadder._oauth2_store(cls.state["jobadder"]["token"])
        cls.jobadder.write({"state": "connected", "connection_message": False})
        cls.initial_load, _created = cls.jobadder._queue_run("initial_load")
        JobAdderJourney.process_runs(cls)
        cls.env.flush_all()

    def capture(self, session, name):
        """Save what the browser shows as docs/screenshots/<name>.png (when asked to)."""
        folder = os.environ.get("RECRUITMENT_SYNC_SCREENSHOTS")
        if not folder:
            return
        answer = session.browser._websocket_request("Page.captureScreenshot", params={"format": "png"}, timeout=30)
        target = Path(folder) / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(answer["data"]))

    def browse_as(self, login, width=1920, height=1080):
        session = BrowserSession(self, login)
        session.browser._websocket_request(
            "Emulation.setDeviceMetricsOverride",
            params={"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.addCleanup(session.close)
        # The first page of a new browser loads the test tours lazily: on a busy machine, longer
        # than a tour's own wait.
        session.browser.navigate_to(self.base_url() + "/odoo", wait_stop=True)
        session.wait_for(
            "odoo.loader.modules.get('@web/core/registry').registry.category('web_tour.tours')"
            ".contains('recruitment_sync_screens_run_form')",
            "the tours of the screens",
            timeout=180,
        )
        return session

    # ------------------------------------------------------------------------ every user
    def walk_history_and_placements(self, session, login):
        with session.server_paused():  # the browser's requests share the test's cursor
            self.assertIn(self.initial_load.state, ("done", "done_errors"), self.initial_load.summary)
            user = self.env["res.users"].search([("login", "=", login)])
            running = self.env["recruitment.placement"].with_user(user).search_count([("is_ended", "=", False)])
        session.run_tour("recruitment_sync_screens_run_form", url=f"/odoo/sync-history/{self.initial_load.id}")
        if login == "admin":
            self.capture(session, "run_form")
        if not running:
            return  # none of this department's placements is running: nothing to read
        session.run_tour("recruitment_sync_screens_placements", url="/odoo/placements")
        if login == "admin":
            self.capture(session, "placements_list")
        session.run_tour("recruitment_sync_screens_placements_grouped")

    def test_admin(self):
        session = self.browse_as("admin")
        self.walk_history_and_placements(session, "admin")
        self.walk_live_integration_form(session)
        self.walk_create_user(session)
        if self.tso:
            with session.server_paused():
                run = self.export_norwegian_invoices()
            session.run_tour("recruitment_sync_screens_receipt", url=f"/odoo/sync-history/{run.id}")
            self.capture(session, "receipt")
        else:
            self.skipTest(f"no 24SevenOffice stand-in: {self.sandbox.twentyfour_missing}")

    def test_manager(self):
        session = self.browse_as("manager")
        self.walk_history_and_placements(session, "manager")

    def test_london(self):
        session = self.browse_as("london")
        self.walk_history_and_placements(session, "london")
        session.run_tour("recruitment_sync_screens_department_user", url="/odoo")

    # ------------------------------------------------------------------------ live state
    def walk_live_integration_form(self, session):
        with session.server_paused():
            run, created = self.jobadder._queue_run("manual")
            self.assertTrue(created)
            run.write({"state": "running", "started_at": run.create_date, "items_done": 120, "items_total": 200})
        session.run_tour(
            "recruitment_sync_screens_integration_running", url=f"/odoo/sync-integrations/{self.jobadder.id}"
        )
        self.capture(session, "integration_running")
        with session.server_paused():
            run._finish("done")
            # What the commit after the run does: its news reach the open browser on the bus.
            session.deliver_bus_notifications()
        session.run_tour("recruitment_sync_screens_integration_done")
        self.capture(session, "integration_done")

    # ------------------------------------------------------------------------ Create user
    def walk_create_user(self, session):
        with session.server_paused():
            unpaired = self.env["recruitment.jobadder.user"].search(
                [("user_id", "=", False), ("pairing_state", "=", "unpaired"), ("email", "!=", False)]
            )
            self.assertTrue(unpaired, "the agency has consultants without an Odoo user")
        session.run_tour("recruitment_sync_screens_create_user", url="/odoo/jobadder-consultants")
        with session.server_paused():
            created = unpaired.filtered("user_id")
            self.assertEqual(len(created), 1, "one click on Create user, after its confirmation, made one user")
            invitation = self.env["mail.mail"].search(
                [("model", "=", "res.users"), ("res_id", "=", created.user_id.id)]
            )
            self.assertTrue(invitation, "the new user is emailed an invitation to choose a password")

    # ------------------------------------------------------------------------ 24SevenOffice
    def export_norwegian_invoices(self, lang=None):
        invoices = self.post_norwegian_invoices()
        run = self.tso.with_context(lang=lang)._tso_queue_export(invoices)
        self.process_runs()
        self.assertEqual(run.state, "done", run.summary)
        return run

    def test_norwegian_24so_export(self):
        if not self.tso:
            self.skipTest(f"no 24SevenOffice stand-in: {self.sandbox.twentyfour_missing}")
        self.env["res.lang"]._activate_lang("nb_NO")
        self.env["ir.module.module"]._load_module_terms(ADDONS, ["nb_NO"], overwrite=True)
        manager = self.env["res.users"].search([("login", "=", "manager")])
        manager.lang = "nb_NO"
        # Under the test lock: no request of the server (e.g. a stand-in's late webhook) may be in
        # flight with a savepoint taken before the invoices, whose rollback would take them away.
        with self.registry.test_lock:
            invoices = self.post_norwegian_invoices()
            self.env.flush_all()
        session = self.browse_as("manager")
        session.browser.navigate_to(self.base_url() + "/odoo", wait_stop=True)  # sessionStorage is per site
        session.evaluate(f"sessionStorage.setItem('recruitment_sync_screens', {invoices.mapped('name')!r}.join(','))")
        session.run_tour(
            "recruitment_sync_screens_24so_export_nb", url="/odoo/action-account.action_move_out_invoice_type"
        )
        with session.server_paused():
            run = self.env["recruitment.sync.run"].search([("integration_id", "=", self.tso.id)], limit=1)
            self.process_runs()
            self.assertEqual(run.state, "done", run.summary)
            session.deliver_bus_notifications()
        session.run_tour("recruitment_sync_screens_24so_receipt_nb")
