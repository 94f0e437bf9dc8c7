from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter

from .common import XeroCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestDailyLimit(XeroCase):
    def invoices(self, count):
        partner = self.customer("Busy Customer Ltd")
        return self.env["account.move"].concat(*(self.invoice(partner, [self.line(10.0 + n)]) for n in range(count)))

    def resume_after_the_reset(self, run):
        """A day later: Xero counts afresh, our process's limiter has forgotten, the cron comes back."""
        self.assertTrue(run.resume_at)
        self.fake.reset_rate_limits()
        self.fake.day_limit = 5000
        drop_rate_limiter((self.env.cr.dbname, self.integration.id))
        run.resume_at = fields.Datetime.now() - timedelta(minutes=1)  # the time has come
        self.process_all_runs()
        self.env.invalidate_all()

    def test_xeros_daily_limit_pauses_the_run_then_it_resumes(self):
        moves = self.invoices(120)
        self.fake.day_limit = 2  # the customer, then one batch of 50 invoices
        run = self.export()
        self.assertEqual(run.state, "running", "paused, not failed")
        self.assertGreater(run.resume_at, fields.Datetime.now() + timedelta(hours=23))
        # Xero's X-DayLimit-Remaining said 0: the run stops before a call Xero would refuse.
        self.assertIn("no call left in the server's 86400 s window", run.pause_reason)
        self.assertFalse(self.fake.served_429)
        self.assertEqual(run.exported_count, 51)  # the customer and the first 50 invoices
        self.assertFalse(self.lines_of(run, action="failed"), "no invoice failed because of the limit")
        self.process_all_runs()
        self.assertEqual(run.state, "running", "it waits for the reset")
        self.resume_after_the_reset(run)
        self.assertRunDone(run)
        self.assertEqual(len(self.lines_of(run, "invoices", "exported")), 120)
        self.assertTrue(all(moves.mapped("xero_id")))
        self.assertEqual(self.fake.duplicate_count(), 0)

    def test_a_429_for_the_day_pauses_until_its_retry_after(self):
        moves = self.invoices(3)
        self.sync(["export_customers"])
        self.fake.throttle("day", retry_after=20000, times=1)
        run = self.sync(["invoices"])
        self.assertEqual(run.state, "running")
        self.assertIn("429", run.pause_reason)
        expected = fields.Datetime.now() + timedelta(seconds=20000)
        self.assertLess(abs((run.resume_at - expected).total_seconds()), 120)
        self.assertEqual(self.fake.served_429["day"], 1)
        self.resume_after_the_reset(run)
        self.assertRunDone(run)
        self.assertTrue(all(moves.mapped("xero_id")))

    def test_our_daily_limit_stops_before_xero_refuses(self):
        self.invoices(60)
        self.integration.xero_daily_limit = 2
        drop_rate_limiter((self.env.cr.dbname, self.integration.id))
        self.addCleanup(drop_rate_limiter, (self.env.cr.dbname, self.integration.id))
        run = self.export()
        self.assertEqual(run.state, "running")
        self.assertIn("2 calls per 86400 s", run.pause_reason)
        self.assertFalse(self.fake.served_429, "our own pacing provoked no 429")
        self.integration.xero_daily_limit = 5000
        self.resume_after_the_reset(run)
        self.assertRunDone(run)
        self.assertEqual(len(self.lines_of(run, "invoices", "exported")), 60)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestMinuteLimit(XeroCase):
    def test_minute_pacing_follows_xeros_window(self):
        """Without the test override our limiter allows 60 calls per (a little more than) a minute."""
        limits = self.integration._provider_rate_limits()
        self.assertEqual(limits.max_concurrent, 5)
        self.assertIn((100_000, 60.5), limits.windows)
        self.integration.rate_limit_per_minute = 0
        limits = self.integration._provider_rate_limits()
        self.assertEqual(set(limits.windows), {(60, 60.5), (5000, 86400)})

    def test_429_retry_after_is_waited_then_the_batch_goes_through(self):
        partner = self.customer("Patient Ltd")
        move = self.invoice(partner, [self.line(5.0)])
        self.sync(["export_customers"])
        puts = self.fake.count("PUT /Invoices")
        self.fake.throttle("minute", retry_after=1, times=2)
        run = self.sync(["invoices"])
        self.assertRunDone(run)
        self.assertTrue(move.xero_id)
        self.assertEqual(self.fake.count("PUT /Invoices") - puts, 3, "refused twice, then sent")
