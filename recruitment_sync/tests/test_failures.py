"""Failures classified, retried until they go through (or given up and listed), history kept bounded."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.base.models.ir_autovacuum import is_autovacuum
from odoo.addons.recruitment_sync.models.recruitment_sync_failed_item import RecruitmentSyncFailedItem
from odoo.addons.recruitment_sync.models.recruitment_sync_run import RecruitmentSyncRun
from odoo.addons.recruitment_sync.services.http_client import RetryableError

from .common import SyncCase

START = datetime(2026, 11, 21, 9, 0)
RUN_LOGGER = "odoo.addons.recruitment_sync.models.recruitment_sync_run"


class FailingItemsCase(SyncCase):
    """The test provider's import, where chosen records fail as a test says."""

    def setUp(self):
        super().setUp()
        self.failing = {}  # remote id -> exception factory
        Integration = type(self.integration)
        original = Integration._provider_process_item

        def process_item(integration, run, kind, item):
            if item.get("id") in self.failing:
                raise self.failing[item["id"]]()
            return original(integration, run, kind, item)

        self.startPatcher(patch.object(Integration, "_provider_process_item", process_item))

    def seed_early_and_late(self):
        """An early record (far before the watermark, outside the overlap window) and three later ones."""
        early = self.fake.add("Early Bird", updated_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC))["id"]
        for hour in (10, 11, 12):
            self.fake.add(f"Late {hour}", updated_at=datetime(2026, 11, 20, hour, 0, tzinfo=UTC))
        return early

    def sync_at(self, when, **kwargs):
        with freeze_time(when):
            return self.sync(**kwargs)

    def item_of(self, external_id):
        return self.env["recruitment.sync.failed.item"].search(
            [("integration_id", "=", self.integration.id), ("item_key", "=", external_id)]
        )

    def fetched_by_id(self, external_id):
        return [r for r in self.fake.requests if r.path.endswith("/records") and external_id in r.args.get("ids", "")]

    def partners_named(self, name):
        return self.env["res.partner"].search([("name", "=", name)])


@tagged("post_install", "-at_install", "recruitment_sync")
class TestTransientFailures(FailingItemsCase):
    def test_retried_by_the_next_runs_with_a_growing_delay_then_imported_once(self):
        early = self.seed_early_and_late()
        self.failing[early] = lambda: RetryableError("Test system did not answer: timed out after 30 s")
        first = self.sync_at(START)
        self.assertEqual((first.state, first.created_count, first.failed_count), ("done_errors", 3, 1))
        [line] = first.line_ids.filtered(lambda line: line.action == "failed")
        self.assertEqual((line.external_id, line.failure_type), (early, "transient"))
        self.assertIn("timed out", line.reason)
        item = self.item_of(early)
        self.assertRecordValues(
            item, [{"state": "retrying", "attempts": 1, "next_attempt_at": START + timedelta(minutes=5)}]
        )
        self.assertEqual(line.failed_item_id, item)
        # The watermark moved on (the later records are not read again) ...
        watermark = self.integration.sync_checkpoint["records"]["watermark"]
        self.assertEqual(watermark, "2026-11-20T12:00:00")
        # ... but the failed item is not lost: not due yet, then fetched by its id.
        self.fake.requests.clear()
        self.sync_at(START + timedelta(minutes=2))
        self.assertFalse(self.fetched_by_id(early), "not due before its delay")
        second = self.sync_at(START + timedelta(minutes=6))
        self.assertEqual(len(self.fetched_by_id(early)), 1)
        self.assertEqual(second.failed_count, 1)
        self.assertRecordValues(
            item, [{"state": "retrying", "attempts": 2, "next_attempt_at": START + timedelta(minutes=6 + 20)}]
        )
        # The remote system is well again: the next due run imports it, once, and forgets the item.
        del self.failing[early]
        self.sync_at(START + timedelta(minutes=20))
        self.assertFalse(self.partners_named("Early Bird"), "still waiting for its delay")
        third = self.sync_at(START + timedelta(minutes=27))
        self.assertEqual((third.created_count, third.failed_count), (1, 0))
        self.assertEqual(len(self.partners_named("Early Bird")), 1)
        self.assertFalse(item.exists())
        self.assertFalse(line.failed_item_id, "the old failed line is resolved")
        self.fake.requests.clear()
        self.sync_at(START + timedelta(hours=3))
        self.assertFalse(self.fetched_by_id(early))
        self.assertEqual(len(self.partners_named("Early Bird")), 1)

    def test_after_the_last_attempt_it_stays_failed_and_is_listed(self):
        self.integration.retry_max_attempts = 2
        early = self.seed_early_and_late()
        self.failing[early] = lambda: RetryableError("Test system answered 503 to GET /records")
        self.sync_at(START)
        self.sync_at(START + timedelta(minutes=5))
        item = self.item_of(early)
        self.assertRecordValues(item, [{"state": "given_up", "attempts": 2, "next_attempt_at": False}])
        self.fake.requests.clear()
        self.sync_at(START + timedelta(days=2))
        self.assertFalse(self.fetched_by_id(early), "given up: no more automatic attempts")
        self.assertEqual(self.integration.failed_item_count, 1)
        action = self.integration.action_view_failed_items()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), item)

    def test_a_long_wait_on_an_item_pauses_the_run_instead_of_failing_the_others(self):
        early = self.seed_early_and_late()
        self.failing[early] = lambda: RetryableError("Daily limit reached", status=429, retry_after=3600)
        with freeze_time(START):
            run, _created = self.integration._queue_run("manual")
            self.process_runs()
        self.assertEqual(run.state, "running")
        self.assertEqual(run.resume_at, START + timedelta(hours=1))
        self.assertFalse(self.item_of(early))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestDataAndInternalFailures(FailingItemsCase):
    def test_data_failure_waits_for_a_change(self):
        record = self.fake.add("Broken", updated_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
        self.fake.edit(record["id"], datetime(2026, 11, 20, 6, 0, tzinfo=UTC), name=["not", "a", "name"])
        self.seed_early_and_late()
        first = self.sync_at(START)
        [line] = first.line_ids.filtered(lambda line: line.action == "failed")
        self.assertEqual(line.failure_type, "data")
        self.assertRecordValues(line.failed_item_id, [{"state": "waiting_change", "item_key": record["id"]}])
        self.fake.requests.clear()
        self.sync_at(START + timedelta(days=1))
        self.assertFalse(self.fetched_by_id(record["id"]), "a record with bad data is not fetched again as it is")

    def test_data_failure_resolved_when_the_remote_record_is_fixed(self):
        record = self.fake.add("Fixed Later", updated_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
        self.fake.edit(record["id"], datetime(2026, 11, 20, 6, 0, tzinfo=UTC), name="")
        self.sync_at(START)
        item = self.item_of(record["id"])
        self.assertRecordValues(item, [{"failure_type": "data", "state": "waiting_change"}])
        self.assertIn("name must be a non-empty text", item.reason)
        self.fake.edit(record["id"], datetime(2026, 11, 21, 9, 30, tzinfo=UTC), name="Fixed Later")
        run = self.sync_at(START + timedelta(hours=1))
        self.assertEqual(run.created_count, 1)
        self.assertFalse(item.exists())

    def test_a_key_error_of_our_code_is_an_internal_error_logged_with_its_traceback(self):
        early = self.seed_early_and_late()

        def mapping_bug():
            return KeyError("jobTitle")

        self.failing[early] = mapping_bug
        with self.assertLogs(RUN_LOGGER, "ERROR") as logs:
            run = self.sync_at(START)
        [line] = run.line_ids.filtered(lambda line: line.action == "failed")
        self.assertEqual(line.failure_type, "internal")
        self.assertIn("internal error", line.reason)
        self.assertIn("not a problem of the data", line.reason)
        self.assertIn("tried again after the next upgrade", line.reason)
        self.assertNotIn("remote record", line.reason)
        [record] = [r for r in logs.records if r.levelname == "ERROR"]
        self.assertIsNotNone(record.exc_info)
        self.assertIs(record.exc_info[0], KeyError)
        reference = record.args[0]
        self.assertRegex(reference, r"^[0-9a-f]{8}$")
        self.assertIn(reference, line.reason, "the line points at the log entry")
        self.assertIn(reference, logs.output[0])
        self.assertIn("Traceback", logs.output[0])
        item = self.item_of(early)
        self.assertEqual(item.state, "waiting_upgrade")
        # Not retried while the code is the same; retried once the addons were upgraded.
        del self.failing[early]
        self.fake.requests.clear()
        self.sync_at(START + timedelta(days=1))
        self.assertFalse(self.fetched_by_id(early))
        with patch.object(RecruitmentSyncFailedItem, "_code_version", return_value="recruitment_sync=18.0.1.0.1"):
            run = self.sync_at(START + timedelta(days=2))
        self.assertEqual(len(self.fetched_by_id(early)), 1)
        self.assertEqual(run.created_count, 1)
        self.assertFalse(item.exists())

    def test_run_failing_on_our_bug_says_internal_error(self):
        self.fake.seed(3)
        with (
            patch.object(type(self.integration), "_provider_fetch_batch", side_effect=TypeError("bad operand")),
            self.assertLogs(RUN_LOGGER, "ERROR") as logs,
        ):
            run = self.sync_at(START)
        self.assertEqual(run.state, "failed")
        self.assertIn("internal error", run.summary)
        self.assertIn(logs.records[0].args[0], run.summary)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRetryFailedItems(FailingItemsCase):
    def test_retry_on_a_run_queues_a_run_of_exactly_its_items(self):
        self.integration.retry_max_attempts = 1
        early = self.seed_early_and_late()
        self.failing[early] = lambda: RetryableError("Test system answered 503")
        first = self.sync_at(START)
        self.assertEqual(self.item_of(early).state, "given_up")
        self.assertEqual(first.retryable_count, 1)
        del self.failing[early]
        self.fake.add("Changed Meanwhile", updated_at=datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
        self.fake.requests.clear()
        with freeze_time(START + timedelta(minutes=1)):
            first.action_retry_failed_items()
            retry = self.Run.search([("integration_id", "=", self.integration.id)], limit=1)
            self.assertEqual((retry.trigger, retry.retry_item_ids), ("retry", self.item_of(early)))
            self.process_runs()
        self.assertEqual(retry.state, "done")
        self.assertEqual((retry.created_count, retry.line_ids.name), (1, "Early Bird"))
        listed = [r for r in self.fake.requests if r.path.endswith("/records")]
        self.assertEqual(len(listed), 1, "only the item, not the changes since the watermark")
        self.assertEqual(listed[0].args["ids"], early)
        self.assertFalse(self.partners_named("Changed Meanwhile"))
        self.assertFalse(self.integration.failed_item_ids)
        self.assertEqual(first.retryable_count, 0)

    def test_retry_on_the_integration_takes_every_failed_item(self):
        self.fake.add("Broken", updated_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC), record_id="B1")
        self.fake.edit("B1", datetime(2026, 11, 20, 6, 0, tzinfo=UTC), name="")
        early = self.seed_early_and_late()
        self.failing[early] = lambda: RetryableError("Test system answered 503")
        self.sync_at(START)
        self.assertEqual(len(self.integration.failed_item_ids), 2)
        del self.failing[early]
        with freeze_time(START + timedelta(minutes=1)):
            self.integration.action_retry_failed_items()
            self.process_runs()
        retry = self.Run.search([("integration_id", "=", self.integration.id)], limit=1)
        self.assertEqual((retry.trigger, retry.created_count, retry.failed_count), ("retry", 1, 1))
        self.assertEqual(self.integration.failed_item_ids.item_key, "B1", "the broken one still waits for a fix")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestHistoryRetention(SyncCase):
    def test_old_history_is_removed_except_unresolved_failed_lines(self):
        self.assertTrue(is_autovacuum(RecruitmentSyncRun._gc_history))
        self.fake.seed(3, bad=1)
        with freeze_time("2026-01-05 10:00:00"):
            old_failed = self.sync()
        self.fake.reset_records()
        self.fake.seed(2, start=datetime(2026, 2, 1, tzinfo=UTC))
        with freeze_time("2026-02-01 10:00:00"):
            old_clean = self.sync()
        with freeze_time("2026-06-20 10:00:00"):
            recent = self.sync()
        unresolved = old_failed.line_ids.filtered("failed_item_id")
        self.assertEqual(len(unresolved), 1)
        with freeze_time("2026-09-01 10:00:00"):  # 180 days back: 2026-03-05
            self.Run._gc_history()
        self.assertFalse(old_clean.exists())
        self.assertTrue(recent.exists())
        self.assertTrue(old_failed.exists(), "kept for its failed line")
        self.assertEqual(old_failed.line_ids, unresolved)
        # Once resolved, the clean-up takes it too.
        unresolved.failed_item_id.unlink()
        with freeze_time("2026-09-01 10:00:00"):
            self.Run._gc_history()
        self.assertFalse(old_failed.exists())
        self.assertTrue(recent.exists())

    def test_retention_is_a_setting(self):
        self.fake.seed(2)
        with freeze_time("2026-06-01 10:00:00"):
            run = self.sync()
        self.env["res.config.settings"].create({"recruitment_sync_history_retention_days": 10}).execute()
        with freeze_time("2026-06-10 10:00:00"):
            self.Run._gc_history()
        self.assertTrue(run.exists())
        with freeze_time("2026-06-12 10:00:00"):
            self.Run._gc_history()
        self.assertFalse(run.exists())
        self.env["ir.config_parameter"].set_param("recruitment_sync.history_retention_days", 0)
        self.fake.reset_records()
        self.fake.seed(1)
        with freeze_time("2026-06-01 10:00:00"):
            kept = self.sync()
        with freeze_time("2027-06-01 10:00:00"):
            self.Run._gc_history()
        self.assertTrue(kept.exists(), "0 keeps everything")
