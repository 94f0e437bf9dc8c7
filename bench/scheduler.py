"""Runs executed by Odoo's real scheduler, in the benchmark's process (``bench/run.py``).

What the cron thread of ``odoo-bin`` does (``odoo.service.server.ThreadedServer.cron_thread``):
listen on PostgreSQL's ``cron_trigger`` channel, wait for a notification or at most
``SLEEP_INTERVAL`` seconds, then ``ir.cron._process_jobs(db)`` (which acquires each ready job
and runs it through ``_process_job``, calling its action again at once while it reports
progress with work left). Here the loop runs in the main thread and stops when the watched
runs have ended, so the wall time measured from the click includes every wait a user would
see between passes. The database's other scheduled actions are deactivated, so that only
the sync's job runs.
"""

import select
import time
from contextlib import closing

import psycopg2


def only_sync_scheduler(env):
    """Leave the sync runner as the database's only scheduled action, next due after its interval.

    A run then starts because queueing it triggers the job (as after a user's click), not
    because the job happened to be due.
    """
    from datetime import timedelta

    from odoo import fields

    cron = env.ref("recruitment_sync.ir_cron_process_runs")
    env["ir.cron"].search([("id", "!=", cron.id)]).write({"active": False})
    cron.write({"active": True, "nextcall": fields.Datetime.now() + timedelta(minutes=cron.interval_number)})
    env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]).unlink()
    env.cr.commit()
    return cron


class Scheduler:
    """``with Scheduler(env) as scheduler: <queue runs, commit>; scheduler.wait(run_ids)``."""

    def __init__(self, env):
        from odoo.sql_db import connection_info_for

        self.env = env
        self.db_name = env.cr.dbname
        self.cron_id = env.ref("recruitment_sync.ir_cron_process_runs").id
        self._connection_info = connection_info_for
        self.passes = 0
        self.calls = 0  # the runner's calls, as ir.cron.progress records
        self.waited_seconds = 0.0  # between passes, waiting for a notification or the interval
        self._listen = self._watch = None

    def _connect(self, database):
        # Plain psycopg2 connections: the scheduler's own waiting and the benchmark's polling
        # are not counted among Odoo's SQL queries.
        _name, params = self._connection_info(database)
        connection = psycopg2.connect(**params)
        connection.autocommit = True
        return connection

    def __enter__(self):
        self._listen = self._connect("postgres")
        with closing(self._listen.cursor()) as cr:
            cr.execute("LISTEN cron_trigger")
        self._watch = self._connect(self.db_name)
        with closing(self._watch.cursor()) as cr:
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_progress")
            self._progress_before = cr.fetchone()[0]
        return self

    def __exit__(self, *exc):
        for connection in (self._listen, self._watch):
            if connection is not None:
                connection.close()

    def _ended(self, run_ids):
        with closing(self._watch.cursor()) as cr:
            cr.execute(
                "SELECT COUNT(*) FROM recruitment_sync_run WHERE id = ANY(%s) AND state IN ('queued', 'running')",
                [list(run_ids)],
            )
            return not cr.fetchone()[0]

    def wait(self, run_ids, max_seconds=3600):
        """Let the scheduler work until the runs end; returns the wall seconds it took."""
        from odoo.service.server import SLEEP_INTERVAL

        from odoo.addons.base.models.ir_cron import ir_cron

        started = time.perf_counter()
        while not self._ended(run_ids):
            if time.perf_counter() - started > max_seconds:
                raise SystemExit(f"the runs {run_ids} did not end within {max_seconds} s")
            before = time.perf_counter()
            select.select([self._listen], [], [], SLEEP_INTERVAL)
            self._listen.poll()
            self._listen.notifies.clear()
            self.waited_seconds += time.perf_counter() - before
            ir_cron._process_jobs(self.db_name)
            self.passes += 1
        seconds = time.perf_counter() - started
        with closing(self._watch.cursor()) as cr:
            cr.execute(
                "SELECT COUNT(*) FROM ir_cron_progress WHERE cron_id = %s AND id > %s",
                [self.cron_id, self._progress_before],
            )
            self.calls = cr.fetchone()[0]
        # The caller's cursor reads what the scheduler's transactions committed.
        self.env.cr.rollback()
        self.env.invalidate_all()
        return seconds

    def stats(self):
        return {
            "through_cron": True,
            "scheduler_passes": self.passes,
            "runner_calls": self.calls,
            "scheduler_wait_seconds": round(self.waited_seconds, 2),
        }
