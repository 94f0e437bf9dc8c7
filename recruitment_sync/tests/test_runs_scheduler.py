"""Runs executed by Odoo's own scheduler: ``ir.cron``'s job processing, as the cron thread calls it."""

from unittest.mock import patch

from odoo import fields, tools
from odoo.tests import tagged

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter

from .common import SyncCase, connect, create_test_integration

# What ``_acquire_one_job`` adds to a job's row: the progress of its last call (none yet).
NO_PROGRESS = {"done": 0, "remaining": 0, "timed_out_counter": 0}


@tagged("post_install", "-at_install", "recruitment_sync")
class TestRunsInOdooScheduler(SyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref("recruitment_sync.ir_cron_process_runs")
        # A slice of 0 seconds: each call of the runner commits one batch, then yields.
        cls.env["ir.config_parameter"].sudo().set_param("recruitment_sync.run_time_budget", 0)

    def scheduler_pass(self):
        """One pass of the cron thread over our job (``_process_jobs`` → ``_process_job``).

        As Odoo's own ir.cron tests do: the job runs on cursors of the registry in test mode
        (their commits are savepoints of this test's transaction). Returns the progress each
        call of the runner reported to the scheduler, in order.
        """
        Progress = self.env["ir.cron.progress"].sudo()
        before = Progress.search([("cron_id", "=", self.cron.id)]).ids
        self.env.flush_all()
        self.registry.enter_test_mode(self.cr)
        try:
            self.registry["ir.cron"]._process_job(
                self.registry.db_name, self.registry.cursor(), {**self.cron.read(load=None)[0], **NO_PROGRESS}
            )
        finally:
            self.registry.leave_test_mode()
        self.env.invalidate_all()
        calls = Progress.search([("cron_id", "=", self.cron.id), ("id", "not in", before)], order="id")
        return [(progress.done, progress.remaining) for progress in calls]

    def test_run_of_three_slices_ends_in_one_scheduler_pass(self):
        self.fake.seed(250)  # three batches of 100
        run, _created = self.integration._queue_run("manual")
        calls = self.scheduler_pass()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.created_count, 250)
        # Two slices yield with progress and work left: the scheduler calls again at once.
        self.assertEqual(calls, [(1, 1), (1, 1), (1, 0)])

    def test_next_integration_run_starts_right_after(self):
        other = connect(create_test_integration(self.env, self.fake, name="Second system"), self.fake)
        self.fake.seed(250)
        first, _created = self.integration._queue_run("manual")
        second, _created = other._queue_run("manual")
        calls = self.scheduler_pass()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual((first.created_count, second.created_count), (250, 250))
        self.assertLessEqual(first.ended_at, second.started_at)
        # Three slices of the first run (the second waiting), then three of the second.
        self.assertEqual(calls, [(1, 2), (1, 2), (1, 1), (1, 1), (1, 1), (1, 0)])

    def test_yielding_run_triggers_the_next_pass(self):
        """Odoo calls a job at most 10 times in a row: a longer run wakes the scheduler again."""
        self.fake.seed(1200)  # twelve batches
        run, _created = self.integration._queue_run("manual")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search([]).ids
        calls = self.scheduler_pass()
        self.assertEqual(len(calls), 10)
        self.assertEqual((run.state, run.created_count), ("running", 1000))
        # A trigger due now: its commit wakes the cron workers (NOTIFY), not the interval.
        new = Trigger.search([("cron_id", "=", self.cron.id), ("id", "not in", before)])
        self.assertTrue(new)
        self.assertLessEqual(max(new.mapped("call_at")), fields.Datetime.now())
        jobs = self.registry["ir.cron"]._get_all_ready_jobs(self.cr)
        self.assertIn(self.cron.id, [job["id"] for job in jobs])
        calls = self.scheduler_pass()
        self.assertEqual(calls, [(1, 1), (1, 0)])
        self.assertEqual((run.state, run.created_count), ("done", 1200))

    def test_paused_run_leaves_the_scheduler_until_its_resume_time(self):
        self.fake.seed(50)
        self.addCleanup(drop_rate_limiter, (self.env.cr.dbname, self.integration.id))
        run, _created = self.integration._queue_run("manual")
        self.fake.inject(status=429, retry_after=3600)
        calls = self.scheduler_pass()
        self.assertTrue(run.resume_at, "the run waits for the remote limit")
        self.assertEqual(calls, [(1, 0)], "a paused run is not work left for the next call")

    def test_time_slice_fits_odoo_cron_time_limit(self):
        """Odoo calls the runner up to 10 times a pass, all within its cron time limit."""
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("recruitment_sync.run_time_budget", 60)
        for cron_limit, real_limit, expected in ((-1, 120, 9.6), (300, 120, 24.0), (0, 0, 60), (-1, 1200, 60)):
            options = {"limit_time_real_cron": cron_limit, "limit_time_real": real_limit}
            with self.subTest(**options), patch.dict(tools.config.options, options):
                self.assertAlmostEqual(self.Run._time_slice(), expected)
