"""JobAdder → Odoo against the fake JobAdder over loopback HTTP: load, sync, conflicts, deletes."""

import functools
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from odoo.addons.recruitment_sync.models import recruitment_sync_integration as integration_module
from odoo.addons.recruitment_sync.services.http_client import HttpClient
from odoo.addons.recruitment_sync.tests.common import CommittedIntegration, no_sleep, start_fake, token_expiring_mid_run

from tests.fakes.jobadder import FakeJobAdder
from tests.fakes.jobadder_data import generate_agency
from tests.fakes.oauth2 import ManualClock
from tests.fakes.openapi import ContractMissing, OpenApi, contract_file


class CommittedJobAdderIntegration(CommittedIntegration):
    CREATED_MODELS = (*CommittedIntegration.CREATED_MODELS, "recruitment.placement", "recruitment.jobadder.user")


def expected_in_initial_load(placement, today):
    """The rule, written from the issue's words against the fake's own records."""
    if not placement.approved or placement.bad:
        return False
    if placement.type == "Permanent":
        return not (placement.start_date and placement.start_date < today)
    return not (placement.end_date and placement.end_date < today)


class JobAdderCase(TransactionCase):
    placements = 60

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.world = generate_agency(seed=7, placements=cls.placements)
        cls.fake = start_fake(cls, FakeJobAdder(world=cls.world, clock=ManualClock(cls.world.now.timestamp())))
        cls.classPatch(integration_module, "HttpClient", functools.partial(HttpClient, sleep=no_sleep))
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # The agency's currencies are active in Odoo (XTS, the deliberately unknown one, is not a real one).
        codes = {p.charge_currency for p in cls.world.placements if p.charge_currency} | {"AUD"}
        cls.env["res.currency"].with_context(active_test=False).search([("name", "in", list(codes))]).active = True
        cls.integration = cls.env["recruitment.sync.integration"].create(
            {
                "name": "JobAdder",
                "provider": "jobadder",
                "client_id": cls.fake.client_id,
                "client_secret": cls.fake.client_secret,
                "authorize_url": f"{cls.fake.url}/connect/authorize",
                "token_url": f"{cls.fake.url}/connect/token",
                "schedule_active": False,
                "rate_limit_per_minute": 100_000,  # the fake does not throttle unless told to
            }
        )
        cls.now = cls.world.now.replace(tzinfo=None)

    def setUp(self):
        super().setUp()
        self.fake.load(self.world)  # every test starts from the same agency
        self.integration._oauth2_store(self.fake.issue_token("read offline_access"))
        self.integration.sudo().state = "connected"

    def run_sync(self, trigger="manual", at=None):
        with freeze_time(at or self.now):
            run, _created = self.integration._queue_run(trigger)
            for _attempt in range(30):
                if not self.env["recruitment.sync.run"]._cron_process_runs(time_budget=600):
                    break
        return run

    def assert_requests_in_contract(self, requests):
        """Each API request is an operation of JobAdder's OpenAPI file, with only its query parameters.

        Parameter names are matched case-insensitively (contract §3: the spec writes them in
        PascalCase, JobAdder's ASP.NET binding takes camelCase).
        """
        try:
            contract = OpenApi.load(contract_file("jobadder", "jobadder-openapi-v2.2024-08-30.json"))
        except ContractMissing as missing:
            self.skipTest(str(missing))
        requests = [r for r in requests if r.path.startswith("/v2/")]
        self.assertTrue(requests)
        for request in requests:
            operation, _values = contract.operation(request.method, request.path.removeprefix("/v2"))
            self.assertIsNotNone(operation, f"{request.method} {request.path} is not in the OpenAPI file")
            names = {param["name"].lower() for param in operation.parameters if param["in"] == "query"}
            unknown = sorted(name for name in request.args if name.lower() not in names)
            self.assertFalse(unknown, f"{request.method} {request.path}: not parameters of {operation.template}")

    def placement(self, jobadder_id):
        return (
            self.env["recruitment.placement"]
            .with_context(active_test=False)
            .search([("integration_id", "=", self.integration.id), ("jobadder_id", "=", jobadder_id)])
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderInitialLoad(JobAdderCase):
    def test_initial_load_imports_what_the_rules_say(self):
        run = self.run_sync("initial_load")
        self.assertEqual(run.state, "done_errors", run.summary)
        today = self.world.today
        expected = {p.placement_id for p in self.world.placements if expected_in_initial_load(p, today)}
        imported = set(
            self.env["recruitment.placement"]
            .search([("integration_id", "=", self.integration.id)])
            .mapped("jobadder_id")
        )
        failed = run.line_ids.filtered(lambda line: line.action == "failed" and line.kind == "placements")
        reported = {int(external_id) for external_id in failed.mapped("external_id")}
        self.assertTrue(imported <= expected, imported - expected)
        # Every placement the rules take is imported, or reported with the reason it could not be.
        self.assertEqual(imported | (reported & expected), expected)
        self.assertTrue(all(failed.mapped("reason")))
        self.assertTrue(self.integration.initial_load_done)
        # The boundary placements the generator made: today is not in the past.
        notable = self.world.notable
        boundary = [
            placement_id
            for key in ("starts_yesterday", "ends_yesterday", "starts_today", "ends_today", "starts_tomorrow")
            for placement_id in notable.get(key, [])
        ]
        self.assertTrue(boundary)
        for placement_id in boundary:
            placement = self.world.by_id("placements")[placement_id]
            taken = placement_id in imported or placement_id in reported
            self.assertEqual(taken, expected_in_initial_load(placement, today), placement)

    def test_everyone_a_placement_involves_comes_along(self):
        self.run_sync("initial_load")
        placement = self.env["recruitment.placement"].search(
            [("integration_id", "=", self.integration.id), ("client_contact_id", "!=", False)], limit=1
        )
        payload = self.fake.placement_payload(placement.jobadder_id)
        self.assertEqual(placement.job_title, payload["jobTitle"])
        self.assertTrue(placement.client_id.is_company)
        self.assertEqual(placement.client_contact_id.parent_id, placement.client_id)
        self.assertIn(
            self.env.ref("recruitment_sync_jobadder.partner_category_candidate"), placement.candidate_id.category_id
        )
        self.assertEqual(placement.candidate_id.sync_binding_ids.external_model, "candidate")
        self.assertEqual(placement.owner_jobadder_user_id.jobadder_id, (payload.get("owner") or {}).get("userId") or 0)
        self.assertEqual(len(placement.recruiter_ids), len(payload.get("recruiters") or []))
        # Partners bound once each, even when several placements share them.
        bindings = self.env["recruitment.sync.binding"].search([("integration_id", "=", self.integration.id)])
        keys = [(b.res_model, b.external_model, b.external_id) for b in bindings]
        self.assertEqual(len(keys), len(set(keys)))

    def test_bad_placements_fail_with_a_reason_and_the_rest_goes_on(self):
        run = self.run_sync("initial_load")
        failed = run.line_ids.filtered(lambda line: line.action == "failed" and line.kind == "placements")
        bad = {pid for pid, kind in self.world.bad_placements.items() if self.world.by_id("placements")[pid].approved}
        self.assertTrue(bad, "the agency has broken approved placements")
        self.assertTrue({str(pid) for pid in bad} <= set(failed.mapped("external_id")), failed.mapped("reason"))
        self.assertTrue(all(failed.mapped("reason")))
        self.assertGreater(run.created_count, 10)

    def test_a_partner_that_cannot_be_saved_fails_alone(self):
        """New partners are created page by page; one that fails makes the page go one by one."""
        placement = next(p for p in self.world.placements if expected_in_initial_load(p, self.world.today))
        self.fake.touch("candidates", placement.candidate_id, self.world.now - timedelta(days=1), last_name="Refused")
        Partner = type(self.env["res.partner"])
        original_create = Partner.create

        def create(records, vals_list):
            vals_list = vals_list if isinstance(vals_list, list) else [vals_list]
            if any("Refused" in (vals.get("name") or "") for vals in vals_list):
                raise ValidationError(records.env._("The partner was refused"))
            return original_create(records, vals_list)

        with patch.object(Partner, "create", create):
            run = self.run_sync("initial_load")
        candidate_lines = run.line_ids.filtered(lambda line: line.kind == "candidates")
        failed = candidate_lines.filtered(lambda line: line.action == "failed")
        self.assertEqual(failed.mapped("external_id"), [str(placement.candidate_id)])
        self.assertIn("refused", failed.reason)
        self.assertGreater(len(candidate_lines.filtered(lambda line: line.action == "created")), 5)
        placement_line = run.line_ids.filtered(
            lambda line: line.kind == "placements" and line.external_id == str(placement.placement_id)
        )
        self.assertEqual(placement_line.action, "failed")
        self.assertIn("could not be imported", placement_line.reason)

    def test_permanent_end_before_future_start_is_imported_with_a_note(self):
        today = self.world.today
        permanent = self.fake.add_placement(
            "Permanent",
            approved=True,
            start_date=today + timedelta(days=30),
            end_date=today - timedelta(days=3),
        )
        contract = self.fake.add_placement(
            "Contract",
            approved=True,
            start_date=today + timedelta(days=30),
            end_date=today + timedelta(days=10),
        )
        run = self.run_sync("initial_load")
        placement = self.placement(permanent)
        self.assertTrue(placement, "a Permanent placement's end date never blocks its import")
        self.assertEqual(placement.end_date, today - timedelta(days=3), "kept as JobAdder has it")
        self.assertIn("end date", placement.jobadder_data_note)
        line = run.line_ids.filtered(lambda line: line.external_id == str(permanent))
        self.assertEqual((line.action, line.reason), ("created", placement.jobadder_data_note))
        self.assertFalse(self.placement(contract), "other types keep the end-before-start rule")
        line = run.line_ids.filtered(lambda line: line.external_id == str(contract))
        self.assertEqual(line.action, "failed")
        self.assertIn("is before the start date", line.reason)

    def test_currencies(self):
        run = self.run_sync("initial_load")
        placements = self.world.by_id("placements")
        today = self.world.today
        for key, check in (
            ("no_currency", lambda p: p.currency_id == self.env.company.currency_id),
            ("foreign_currency", lambda p: p.currency_id.name == placements[p.jobadder_id].charge_currency),
        ):
            taken = [pid for pid in self.world.notable.get(key, []) if expected_in_initial_load(placements[pid], today)]
            self.assertTrue(taken, f"the agency has {key} placements the initial load takes")
            for placement_id in taken:
                placement = self.placement(placement_id)
                self.assertTrue(placement and check(placement), key)
        unknown = self.world.notable.get("unknown_currency", [])
        self.assertTrue(unknown)
        for placement_id in unknown:
            self.assertFalse(self.placement(placement_id), "an unknown currency fails the placement")
            if expected_in_initial_load(placements[placement_id], today):
                line = run.line_ids.filtered(lambda line, pid=placement_id: line.external_id == str(pid))
                self.assertIn("currency", line.reason)

    def test_consultants_are_paired_by_email_never_created(self):
        users = self.world.by_id("users")
        owners = [
            users[p.owner_id]
            for p in self.world.placements
            if expected_in_initial_load(p, self.world.today) and p.owner_id in users and users[p.owner_id].email
        ]
        owner = owners[0]
        odoo_user = new_test_user(self.env, "rs_consultant", email=owner.email.upper())  # another case
        users_before = self.env["res.users"].search_count([])
        self.run_sync("initial_load")
        self.assertEqual(self.env["res.users"].search_count([]), users_before, "no user is created by a sync")
        consultant = self.env["recruitment.jobadder.user"].search([("jobadder_id", "=", owner.user_id)])
        self.assertEqual(consultant.user_id, odoo_user)
        self.assertEqual(consultant.pairing_state, "paired")
        unpaired = (
            self.env["recruitment.jobadder.user"].search([("integration_id", "=", self.integration.id)]) - consultant
        )
        self.assertTrue(unpaired)
        self.assertFalse(unpaired.filtered(lambda c: c.user_id and c.user_id.email.lower() != c.email.lower()))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderIncremental(JobAdderCase):
    placements = 30

    def setUp(self):
        super().setUp()
        self.first = self.run_sync("initial_load")
        self.some = self.env["recruitment.placement"].search([("integration_id", "=", self.integration.id)], limit=1)

    def later(self, minutes):
        return self.now + timedelta(minutes=minutes)

    def test_nothing_changed_means_nothing_imported(self):
        requests_before = dict(self.fake.route_counts)
        run = self.run_sync(at=self.later(30))
        self.assertEqual(run.state, "done")
        self.assertEqual((run.created_count, run.updated_count), (0, 0))
        detail_calls = self.fake.route_counts["GET /v2/placements/{id}"] - requests_before.get(
            "GET /v2/placements/{id}", 0
        )
        self.assertEqual(detail_calls, 0, "no detail is fetched when nothing changed")
        lists = {
            route: count - requests_before.get(route, 0)
            for route, count in self.fake.route_counts.items()
            if count - requests_before.get(route, 0) and "{id}" not in route
        }
        self.assertEqual(
            lists,
            {
                "GET /v2/placements": 2,  # changes, then approvals (read separately by default)
                "GET /v2/placements/deleted": 1,
                "GET /v2/candidates": 1,
                "GET /v2/contacts": 1,
                "GET /v2/companies": 1,
                "GET /v2/users": 1,
            },
        )

    def test_changed_placement_is_updated(self):
        self.fake.update_placement(self.some.jobadder_id, when=self.world.now + timedelta(minutes=20), job_title="CFO")
        run = self.run_sync(at=self.later(30))
        self.assertEqual(self.some.job_title, "CFO")
        line = run.line_ids.filtered(lambda line: line.kind == "placements")
        self.assertEqual((line.action, line.res_id), ("updated", self.some.id))

    def test_overlap_window_catches_a_late_change_once(self):
        # A change stamped 5 minutes before the last run started (JobAdder's clock was behind).
        self.fake.update_placement(self.some.jobadder_id, when=self.world.now - timedelta(minutes=5), job_title="Late")
        self.run_sync(at=self.later(30))
        self.assertEqual(self.some.job_title, "Late")
        again = self.run_sync(at=self.later(40))
        self.assertFalse(again.line_ids.filtered(lambda line: line.kind == "placements"), "not re-imported")

    def test_conflict_odoo_later_is_kept(self):
        with freeze_time(self.later(25)):
            self.some.write({"job_title": "Edited in Odoo"})
        self.fake.update_placement(self.some.jobadder_id, when=self.world.now + timedelta(minutes=20), job_title="JA")
        run = self.run_sync(at=self.later(30))
        line = run.line_ids.filtered(lambda line: line.kind == "placements")
        self.assertEqual(line.action, "skipped")
        self.assertIn("Odoo's version is kept", line.reason)
        self.assertEqual(self.some.job_title, "Edited in Odoo")

    def test_conflict_jobadder_later_overwrites(self):
        with freeze_time(self.later(10)):
            self.some.write({"job_title": "Edited in Odoo"})
        self.fake.update_placement(self.some.jobadder_id, when=self.world.now + timedelta(minutes=20), job_title="JA")
        self.run_sync(at=self.later(30))
        self.assertEqual(self.some.job_title, "JA")

    def test_only_approved_setting(self):
        new_id = self.fake.add_placement("Contract", when=self.world.now + timedelta(minutes=20), approved=False)
        self.run_sync(at=self.later(30))
        self.assertFalse(self.placement(new_id), "unapproved placements wait while the setting is on")
        self.integration.jobadder_only_approved = False
        self.fake.touch_placement(new_id, when=self.world.now + timedelta(minutes=35))
        self.run_sync(at=self.later(40))
        self.assertTrue(self.placement(new_id))

    def test_approval_that_moves_updated_at_is_seen_with_one_list_call(self):
        self.patch(type(self.fake), "approval_bumps_updated_at", True)
        self.integration.jobadder_read_approvals = False  # an account that knows approving moves updatedAt
        new_id = self.fake.add_placement("Contract", when=self.world.now + timedelta(minutes=20), approved=False)
        self.run_sync(at=self.later(30))
        self.assertFalse(self.placement(new_id))
        self.fake.approve_placement(new_id, when=self.world.now + timedelta(minutes=35))
        lists_before = self.fake.count("GET /v2/placements")
        self.run_sync(at=self.later(40))
        self.assertTrue(self.placement(new_id).approved)
        self.assertEqual(self.fake.count("GET /v2/placements") - lists_before, 1, "one list call for placements")

    def test_approval_without_updated_at_is_created_with_the_default_settings(self):
        self.assertTrue(self.integration.jobadder_read_approvals, "approvals are read separately by default")
        # Created early enough that the next sync's overlap (10 min) no longer lists it.
        new_id = self.fake.add_placement("Contract", when=self.world.now + timedelta(minutes=5), approved=False)
        self.run_sync(at=self.later(30))
        self.assertFalse(self.placement(new_id), "not approved yet")
        self.fake.approve_placement(new_id, when=self.world.now + timedelta(minutes=35))
        lists_before = self.fake.count("GET /v2/placements")
        run = self.run_sync(at=self.later(40))
        self.assertTrue(self.placement(new_id).approved)
        line = run.line_ids.filtered(lambda line: line.external_id == str(new_id))
        self.assertEqual(line.action, "created")
        self.assertEqual(self.fake.count("GET /v2/placements") - lists_before, 2, "changes, then approvals")

    def test_approval_without_updated_at_is_missed_when_approvals_are_not_read(self):
        self.integration.jobadder_read_approvals = False
        new_id = self.fake.add_placement("Contract", when=self.world.now + timedelta(minutes=5), approved=False)
        self.run_sync(at=self.later(30))
        self.fake.approve_placement(new_id, when=self.world.now + timedelta(minutes=35))
        self.run_sync(at=self.later(40))
        self.assertFalse(self.placement(new_id), "updatedAt did not move: only the approvals list shows it")

    # ---------------------------------------------------------------- related records on their own
    def imported(self, binding_type):
        bindings = self.env["recruitment.sync.binding"].search(
            [("integration_id", "=", self.integration.id), ("external_model", "=", binding_type)]
        )
        return {int(b.external_id): self.env["res.partner"].browse(b.res_id) for b in bindings}

    def test_related_records_changed_alone_are_updated(self):
        placement = self.env["recruitment.placement"].search(
            [
                ("integration_id", "=", self.integration.id),
                ("client_contact_id", "!=", False),
                ("owner_jobadder_user_id", "!=", False),
            ],
            limit=1,
        )
        payload = self.fake.placement_payload(placement.jobadder_id)
        changed_at = self.world.now + timedelta(minutes=20)
        self.fake.touch("candidates", payload["candidate"]["candidateId"], changed_at, last_name="Renamed")
        self.fake.touch("contacts", payload["contact"]["contactId"], changed_at, email="new.email@client.example")
        self.fake.touch("companies", payload["company"]["companyId"], changed_at, name="Renamed Client Ltd")
        self.fake.touch("users", payload["owner"]["userId"], changed_at, position="Head of Delivery")
        before = dict(self.fake.route_counts)
        requests_before = len(self.fake.requests)
        run = self.run_sync(at=self.later(30))
        self.assertEqual(run.state, "done", run.summary)
        self.assert_requests_in_contract(self.fake.requests[requests_before:])
        self.assertTrue(placement.candidate_id.name.endswith(" Renamed"), placement.candidate_id.name)
        self.assertEqual(placement.client_contact_id.email, "new.email@client.example")
        self.assertEqual(placement.client_id.name, "Renamed Client Ltd")
        self.assertEqual(placement.owner_jobadder_user_id.position, "Head of Delivery")
        updated = {(line.kind, line.external_id) for line in run.line_ids if line.action == "updated"}
        expected = {
            ("candidates", str(payload["candidate"]["candidateId"])),
            ("contacts", str(payload["contact"]["contactId"])),
            ("companies", str(payload["company"]["companyId"])),
            ("consultants", str(payload["owner"]["userId"])),
        }
        self.assertTrue(expected <= updated, updated)
        self.assertFalse(run.line_ids.filtered(lambda line: line.kind == "placements"), "the placement did not change")
        calls = {route: count - before.get(route, 0) for route, count in self.fake.route_counts.items()}
        for resource in ("candidates", "contacts", "companies", "users"):
            self.assertEqual(calls.get(f"GET /v2/{resource}"), 1, f"one list call for {resource}")
            self.assertFalse(calls.get(f"GET /v2/{resource}/{{id}}"), f"no detail call for {resource}")

    def test_changed_related_record_never_imported_is_not_created(self):
        imported = self.imported("candidate")
        outsider = next(cid for cid in self.fake.ids("candidates") if cid not in imported)
        self.fake.touch("candidates", outsider, self.world.now + timedelta(minutes=20), last_name="Outsider")
        partners_before = self.env["res.partner"].search_count([])
        run = self.run_sync(at=self.later(30))
        self.assertEqual(run.state, "done", run.summary)
        self.assertNotIn(outsider, self.imported("candidate"))
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)
        self.assertFalse(run.line_ids.filtered(lambda line: line.external_id == str(outsider)))

    def test_local_edit_after_the_jobadder_change_of_a_related_record_is_kept(self):
        candidate_id, partner = next(iter(self.imported("candidate").items()))
        self.fake.touch("candidates", candidate_id, self.world.now + timedelta(minutes=20), last_name="FromJobAdder")
        with freeze_time(self.later(25)):
            partner.write({"name": "Edited in Odoo"})
        run = self.run_sync(at=self.later(30))
        line = run.line_ids.filtered(lambda line: line.kind == "candidates" and line.external_id == str(candidate_id))
        self.assertEqual(line.action, "skipped")
        self.assertIn("Odoo's version is kept", line.reason)
        self.assertEqual(partner.name, "Edited in Odoo")

    def test_confirmation_counts_changes_not_the_overlap(self):
        placements = self.env["recruitment.placement"].search([("integration_id", "=", self.integration.id)])
        # Imported by the sync at +30, and still inside the next sync's 10-minute overlap.
        self.fake.update_placement(placements[0].jobadder_id, when=self.world.now + timedelta(minutes=25))
        self.run_sync(at=self.later(30))
        for placement in placements[1:3]:
            self.fake.update_placement(placement.jobadder_id, when=self.world.now + timedelta(minutes=35))
        candidate_id = next(iter(self.imported("candidate")))
        self.fake.touch("candidates", candidate_id, self.world.now + timedelta(minutes=35), last_name="Counted")
        outsider = next(cid for cid in self.fake.ids("candidates") if cid not in self.imported("candidate"))
        self.fake.touch("candidates", outsider, self.world.now + timedelta(minutes=35), last_name="NotCounted")
        with freeze_time(self.later(40)):
            action = self.integration.action_sync_now()
            wizard = Form(self.env["recruitment.sync.confirm.wizard"].with_context(**action["context"])).save()
        counts = {line.kind: line.count for line in wizard.line_ids}
        self.assertEqual(counts["placements"], 2, "the overlap's re-read placement is not a change")
        self.assertEqual(counts["candidates"], 1, "a candidate never imported is not counted")
        self.assertEqual((counts["companies"], counts["contacts"], counts["consultants"]), (0, 0, 0))

    def test_deleted_placement_is_archived_never_unlinked(self):
        self.fake.delete_placement(self.some.jobadder_id, when=self.world.now + timedelta(minutes=20))
        run = self.run_sync(at=self.later(30))
        self.assertTrue(self.some.exists())
        self.assertFalse(self.some.active)
        line = run.line_ids.filtered(lambda line: line.kind == "deleted_placements")
        self.assertEqual((line.action, line.res_id), ("updated", self.some.id))

    def test_reconnect_after_disconnect_runs_an_initial_load(self):
        admin = new_test_user(self.env, "rs_ja_admin", groups="base.group_system,base.group_user")
        self.integration.with_user(admin).action_disconnect()
        self.assertFalse(self.integration.initial_load_done)
        self.integration._oauth2_store(self.fake.issue_token("read offline_access"))
        with freeze_time(self.later(30)):
            self.integration._mark_connected()
        run = self.env["recruitment.sync.run"].search([("integration_id", "=", self.integration.id)], limit=1)
        self.assertEqual((run.trigger, run.state), ("initial_load", "queued"))

    def test_throttling_is_honoured(self):
        self.fake.update_placement(self.some.jobadder_id, when=self.world.now + timedelta(minutes=20), job_title="T")
        self.fake.throttle(times=2, retry_after=3)
        run = self.run_sync(at=self.later(30))
        self.assertEqual(run.state, "done", run.summary)
        self.assertEqual(self.some.job_title, "T")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderExpiredToken(JobAdderCase):
    """An access token JobAdder expired on its side mid-run, with the run's and the refresh's
    transactions apart as in production (the refresh commits on a cursor of its own)."""

    placements = 30

    def test_token_expired_server_side_mid_run_is_refreshed_once_and_the_run_completes(self):
        values = {
            "name": "JobAdder (committed)",
            "provider": "jobadder",
            "client_id": self.fake.client_id,
            "client_secret": self.fake.client_secret,
            "authorize_url": f"{self.fake.url}/connect/authorize",
            "token_url": f"{self.fake.url}/connect/token",
            "schedule_active": False,
            "rate_limit_per_minute": 100_000,
            "jobadder_batch_size": 5,
        }

        def connect(integration):
            integration._oauth2_store(self.fake.issue_token("read offline_access"))
            integration.sudo().state = "connected"

        committed = CommittedJobAdderIntegration(self, values, connect)
        with token_expiring_mid_run(self, self.fake), committed.env() as env, freeze_time(self.now):
            integration = committed.integration(env)
            run, _created = integration._queue_run("initial_load", kinds=["placements"])
            for _attempt in range(30):
                if not env["recruitment.sync.run"]._cron_process_runs(time_budget=600):
                    break
            self.assertIn(run.state, ("done", "done_errors"), run.summary)
            self.assertNotIn("reconnect", run.summary)
            self.assertGreater(run.created_count, 5)
            self.assertEqual(integration.state, "connected")
        with committed.env() as env:
            token = committed.integration(env)._token_sudo()
            self.assertEqual(token.refresh_count, 1)
            fresh = self.fake.access_token_info(token.access_token)
            self.assertGreater(fresh.expires_at, self.fake.clock(), "the stored token is the fresh one")
