"""Background runs: batches, savepoints, failed lines, resuming, escalation, scheduling."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import psycopg2.errors
from freezegun import freeze_time

from odoo.tests import Form, tagged

from odoo.addons.recruitment_sync.models.recruitment_sync_run import ADVISORY_LOCK_NAMESPACE, RecruitmentSyncRun
from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter

from .common import SyncCase


class SimulatedCrash(BaseException):
    """Stands for a worker killed mid-run: no ``except Exception`` handler sees it."""


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRuns(SyncCase):
    def bound_partners(self, integration=None):
        bindings = self.env["recruitment.sync.binding"].search(
            [("integration_id", "=", (integration or self.integration).id), ("res_model", "=", "res.partner")]
        )
        return self.env["res.partner"].browse(bindings.mapped("res_id"))

    def test_thousand_records_ten_bad(self):
        self.fake.seed(1000, bad=10)
        run = self.sync()
        self.assertEqual(run.state, "done_errors")
        self.assertEqual(run.failed_count, 10)
        self.assertEqual(run.created_count, 990)
        failed = run.line_ids.filtered(lambda line: line.action == "failed")
        self.assertEqual(len(failed), 10)
        self.assertEqual(len(self.bound_partners()), 990)
        self.assertTrue(all(line.reason for line in failed), "every failed line says why")
        # The malformed records are the ones reported, each with its remote id when it has one.
        reported = set(failed.mapped("external_id")) - {False}
        self.assertTrue(reported <= set(self.fake.bad_ids))
        # Nothing half-written: no partner exists for a failed record.
        self.assertFalse(self.env["res.partner"].search([("name", "=", False)]))
        self.assertIn("10 failed", run.summary)

    def test_unchanged_records_are_not_imported_again(self):
        self.fake.seed(120)
        first = self.sync()
        self.assertEqual(first.created_count, 120)
        second = self.sync()
        self.assertEqual(second.state, "done")
        self.assertEqual((second.created_count, second.updated_count, second.failed_count), (0, 0, 0))
        self.assertFalse(second.line_ids, "records seen again through the overlap window are not lines")

    def test_changed_records_are_updated(self):
        ids = self.fake.seed(30)
        self.sync()
        self.fake.edit(ids[3], datetime.now(UTC) + timedelta(minutes=1), name="Renamed Remotely")
        run = self.sync()
        self.assertEqual(run.updated_count, 1)
        [line] = run.line_ids
        self.assertEqual((line.action, line.external_id), ("updated", ids[3]))
        self.assertEqual(self.env["res.partner"].browse(line.res_id).name, "Renamed Remotely")

    def run_killed_in_its_second_batch(self):
        """A run of 300 records whose worker is killed in its second batch (the first is committed)."""
        self.fake.seed(300)
        run, _created = self.integration._queue_run("manual")
        original = RecruitmentSyncRun._flush_results
        calls = {"n": 0}

        def crash_in_second_batch(run_self):
            calls["n"] += 1
            if calls["n"] == 2:
                raise SimulatedCrash()
            return original(run_self)

        # Not self.assertRaises: Odoo's rolls its block back, which is not what a crash does.
        crashed = False
        with patch.object(RecruitmentSyncRun, "_flush_results", crash_in_second_batch):
            try:
                self.Run._cron_process_runs(time_budget=600)
            except SimulatedCrash:
                crashed = True
        self.assertTrue(crashed)
        self.assertEqual(run.state, "running", "a killed worker cannot clean up after itself")
        return run

    def test_killed_run_resumes_without_duplicates_or_gaps(self):
        run = self.run_killed_in_its_second_batch()
        self.assertEqual(len(self.bound_partners()), 100, "only the first batch was committed")
        # The next pass detects the interrupted run, marks it failed, and a new run resumes.
        self.Run._cron_process_runs(time_budget=600)
        self.assertEqual(run.state, "failed")
        self.assertIn("interrupted", run.summary)
        second = self.sync()
        self.assertEqual(second.state, "done")
        self.assertEqual(second.created_count, 200)
        partners = self.bound_partners()
        self.assertEqual(len(partners), 300)
        bindings = self.env["recruitment.sync.binding"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual(sorted(bindings.mapped("external_id")), sorted(r["id"] for r in self.fake.records))

    def test_sync_now_right_after_a_killed_worker_starts_a_new_run(self):
        run = self.run_killed_in_its_second_batch()
        # Sync now, before any scheduler pass: the dead run is closed and a new one queued at once.
        action = self.integration.with_user(self.manager).action_sync_now()
        Wizard = self.env["recruitment.sync.confirm.wizard"].with_user(self.manager)
        result = Form(Wizard.with_context(**action["context"])).save().action_proceed()
        self.assertEqual(result["params"]["title"], "Sync queued")
        self.assertEqual(run.state, "failed")
        self.assertIn("interrupted", run.summary)
        second = self.Run.search([("integration_id", "=", self.integration.id), ("state", "=", "queued")])
        self.assertEqual((len(second), second.trigger), (1, "manual"))
        self.process_runs()
        self.assertEqual((second.state, second.created_count), ("done", 200))
        self.assertEqual(len(self.bound_partners()), 300)

    def test_sync_now_while_a_live_worker_runs_is_already_in_progress(self):
        run, _created = self.integration._queue_run("manual")
        run.write({"state": "running"})
        with self.registry.cursor() as other:  # the worker's connection holds the integration's lock
            other.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, self.integration.id])
            queued, created = self.integration._queue_run("manual")
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, self.integration.id])
        self.assertEqual((queued, created, run.state), (run, False, "running"))

    def test_time_budget_yields_and_continues(self):
        self.fake.seed(250)
        run, _created = self.integration._queue_run("manual")
        remaining = self.Run._cron_process_runs(time_budget=0)
        self.assertEqual(remaining, 1)
        self.assertEqual((run.state, run.continuation_pending), ("running", True))
        # A paused run is not mistaken for an interrupted one.
        self.process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.created_count, 250)

    def test_transient_errors_are_retried(self):
        self.fake.seed(10)
        self.fake.inject(status=503, times=2)
        self.fake.inject(status=429, retry_after=7)
        run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.created_count, 10)

    def test_a_long_wait_pauses_the_run_until_the_remote_limit_resets(self):
        """A daily limit used up (Retry-After beyond what is worth sleeping) pauses, then resumes."""
        self.fake.seed(120)
        start = datetime(2026, 3, 2, 9, 0)
        limiter_key = (self.env.cr.dbname, self.integration.id)
        self.addCleanup(drop_rate_limiter, limiter_key)
        self.fake.inject(status=429, retry_after=3600)
        with freeze_time(start):
            run, _created = self.integration._queue_run("manual")
            self.process_runs()
        self.assertEqual(run.state, "running", "a limit is not a failure")
        self.assertEqual(run.resume_at, start + timedelta(hours=1))
        self.assertIn("3600", run.pause_reason)
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.env.ref("recruitment_sync.ir_cron_process_runs").id)], order="id desc", limit=1
        )
        self.assertEqual(trigger.call_at, start + timedelta(hours=1))
        created_before = run.created_count
        with freeze_time(start + timedelta(minutes=59)):
            self.process_runs()
        self.assertEqual((run.state, run.created_count), ("running", created_before), "still waiting")
        # The hour has passed: the in-process limiter (on the real monotonic clock, which
        # freezegun does not move) would have let calls through again by now.
        drop_rate_limiter(limiter_key)
        with freeze_time(start + timedelta(hours=1, seconds=1)):
            self.process_runs()
        self.assertEqual(run.state, "done")
        self.assertFalse(run.resume_at)
        self.assertEqual(len(self.bound_partners()), 120, "nothing lost, nothing twice")

    def test_html_error_pages_then_failure(self):
        self.fake.seed(10)
        self.fake.inject(status=200, body="<html><body>Maintenance</body></html>", content_type="text/html", times=10)
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("HTML", run.summary)
        self.assertFalse(self.bound_partners())
        # Failures escalate: chatter on run and integration, one activity, an email.
        self.assertTrue(run.message_ids.filtered(lambda m: "Failed" in (m.body or "")))
        activities = self.integration.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.integration.responsible_user_id)
        self.fake.inject(status=500, times=10)
        self.sync()
        self.assertEqual(len(self.integration.activity_ids), 1, "one open activity, not a pile")

    def test_error_email_goes_to_configured_addresses(self):
        self.integration.sudo().error_email_to = "finance@example.com"
        self.fake.seed(5, bad=1)
        run = self.sync()
        self.assertEqual(run.state, "done_errors")
        mail = self.env["mail.mail"].search([("model", "=", "recruitment.sync.run"), ("res_id", "=", run.id)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, "finance@example.com")
        self.assertIn("1 failed", mail.body_html)

    def test_user_is_notified_on_the_bus(self):
        self.fake.seed(3)
        run, _created = self.integration.with_user(self.manager)._queue_run("manual")
        self.assertEqual(run.user_id, self.manager)
        with patch.object(type(self.env["res.users"]), "_bus_send", autospec=True) as bus_send:
            self.process_runs()
        [call] = [c for c in bus_send.call_args_list if c.args[1] == "recruitment_sync/run_done"]
        user, notification_type, payload = call.args
        self.assertEqual((user, notification_type), (self.manager, "recruitment_sync/run_done"))
        self.assertEqual((payload["run_id"], payload["type"]), (run.id, "success"))

    def test_auth_error_sets_needs_reconnect(self):
        self.fake.seed(3)
        self.fake.revoke_all()
        token = self.integration._token_sudo()
        token.expires_at = datetime.now() - timedelta(minutes=1)
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertEqual(self.integration.state, "needs_reconnect")
        self.assertIn("Reconnect", self.integration.connection_message)
        self.assertTrue(self.integration.activity_ids)

    def test_one_active_run_per_integration(self):
        first, created = self.integration._queue_run("manual")
        second, created_again = self.integration._queue_run("scheduled")
        self.assertTrue(created)
        self.assertFalse(created_again)
        self.assertEqual(first, second)

    def test_conflict_rule_keeps_later_odoo_change(self):
        ids = self.fake.seed(2)
        with freeze_time("2026-11-21 08:00:00"):
            self.sync()
        partner = self.env["res.partner"].browse(
            self.env["recruitment.sync.binding"]
            ._lookup(self.integration, "res.partner", [ids[0]], "record")[ids[0]]
            .res_id
        )
        with freeze_time("2026-11-21 09:00:00"):
            partner.write({"name": "Edited in Odoo"})
        # The remote change (08:30) is older than the Odoo edit (09:00): Odoo's version stays.
        self.fake.edit(ids[0], datetime(2026, 11, 21, 8, 30, tzinfo=UTC), name="Remote edit")
        with freeze_time("2026-11-21 10:00:00"):
            run = self.sync()
        [line] = run.line_ids
        self.assertEqual(line.action, "skipped")
        self.assertIn("Changed in Odoo", line.reason)
        self.assertEqual(partner.name, "Edited in Odoo")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestScheduling(SyncCase):
    def test_due_integrations_get_a_scheduled_run(self):
        other = self.integration.copy({"name": "Not due"})
        other.sudo().write({"state": "connected"})
        with freeze_time("2026-11-21 10:00:00"):
            self.integration.sudo().write(
                {"schedule_interval_number": 2, "schedule_interval_type": "hours", "next_scheduled_sync_at": False}
            )
            other.sudo().next_scheduled_sync_at = datetime(2026, 11, 21, 11, 0)
            queued = self.env["recruitment.sync.integration"]._cron_schedule_syncs()
        self.assertEqual(queued.integration_id, self.integration)
        self.assertEqual(queued.trigger, "scheduled")
        self.assertEqual(self.integration.next_scheduled_sync_at, datetime(2026, 11, 21, 12, 0))
        with freeze_time("2026-11-21 11:00:00"):
            queued = self.env["recruitment.sync.integration"]._cron_schedule_syncs()
        self.assertEqual(queued.integration_id, other)

    def test_disconnected_or_paused_integrations_are_not_scheduled(self):
        self.integration.sudo().schedule_active = False
        self.assertFalse(self.env["recruitment.sync.integration"]._cron_schedule_syncs())


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRunScreens(SyncCase):
    """What the run and integration screens read: labels, progress, live news, reach."""

    def test_progress_and_live_news_on_the_bus(self):
        self.fake.seed(250)
        run, _created = self.integration._queue_run("manual")
        group = self.env.ref("recruitment_sync.group_sync_user")
        with patch.object(type(group), "_bus_send", autospec=True) as bus_send:
            self.process_runs()
        news = [c.args[2] for c in bus_send.call_args_list if c.args[1] == "recruitment_sync/run_progress"]
        self.assertEqual(news[0], {"run_id": run.id, "integration_id": self.integration.id, "state": "running"})
        self.assertEqual(news[-1]["state"], "done")
        self.assertGreaterEqual(len(news), 4, "start, each batch of 100, end")
        self.assertEqual(run.items_done, 250)
        run.state = "running"  # as the form shows it while the run goes on
        self.assertEqual(run.progress_display, "250 items")
        run.items_total = 400
        self.assertEqual(run.progress_display, "250 of 400 items")
        self.assertEqual(self.integration.last_run_progress, "250 of 400 items")

    def test_end_notification_of_errors_stays(self):
        self.fake.seed(5, bad=1)
        run, _created = self.integration._queue_run("manual")
        with patch.object(type(self.env["res.users"]), "_bus_send", autospec=True) as bus_send:
            self.process_runs()
        [payload] = [c.args[2] for c in bus_send.call_args_list if c.args[1] == "recruitment_sync/run_done"]
        self.assertEqual((run.state, payload["type"], payload["sticky"]), ("done_errors", "warning", True))

    def test_a_concurrent_update_retries_the_batch_instead_of_failing_the_run(self):
        self.fake.seed(30)
        run, _created = self.integration._queue_run("manual")
        original = RecruitmentSyncRun._run_batch
        calls = []

        def conflicting_once(run_self, kind):
            calls.append(kind.code)
            if len(calls) == 1:
                raise psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update")
            return original(run_self, kind)

        with patch.object(RecruitmentSyncRun, "_run_batch", conflicting_once):
            self.process_runs()
        self.assertEqual(run.state, "done", run.summary)
        self.assertEqual(run.created_count, 30)
        self.assertGreaterEqual(len(calls), 2, "the batch was done again")

    def test_lines_show_kind_labels_and_the_direction_of_their_kinds(self):
        self.fake.seed(3)
        run = self.sync()
        self.assertEqual(run.direction, "import", "a provider that only imports: not 'Import and export'")
        self.assertEqual(set(run.line_ids.mapped("kind")), {"records"})
        self.assertEqual(set(run.line_ids.mapped("kind_label")), {"Contacts"})

    def test_lines_out_of_reach_are_neither_named_nor_opened(self):
        self.fake.seed(2)
        run = self.sync()
        line = run.line_ids[0]
        self.assertTrue(line.record_accessible)
        self.assertEqual(line.record_label, line.name)
        partner = self.env["res.partner"].browse(line.res_id)
        partner.company_id = self.env["res.company"].create({"name": "Another agency"})
        line.invalidate_recordset(["record_accessible", "record_label"])
        self.assertFalse(line.with_user(self.manager).record_accessible)
        self.assertNotEqual(line.with_user(self.manager).record_label, line.name)
