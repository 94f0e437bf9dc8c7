"""What the benchmarks' fake services share: each runs in a process of its own (so its work is
not counted as Odoo's), says where it listens on one JSON line, and stops when told; the
accounting fakes also answer the same control routes (``BenchControls``)."""

import json
import logging
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

CONTROL_PREFIX = "/bench/"


def serve(fake, describe):
    """Start ``fake``, print ``describe()`` as one JSON line, serve until stdin is closed."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    fake.start()
    try:
        print(json.dumps(describe()), flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin (or ends)
    finally:
        fake.stop()


def accounting_today():
    """The day the accounting fakes' worlds are generated for: today once their 9:30 is past."""
    now = datetime.now(UTC)
    return now.date() if now.time() >= time(10) else now.date() - timedelta(days=1)


class BenchControls:
    """Mixed in before an accounting contract fake: its control routes, never counted as API calls.

    * ``POST /bench/token``: a token answer as after the consent flow (``bench_token``);
    * ``GET /bench/stats``: route counts, API calls, 429s, replays, timeouts injected, and the
      provider's own figures (``bench_stats``);
    * ``POST /bench/reset``: forget the calls counted so far (rate-limit windows and statistics),
      so the measured export starts with the limits untouched (``bench_reset`` for the provider's);
    * ``POST /bench/timeouts?after=20,40&delay=4``: the provider's invoice writes number 20 and 40
      of the measured export are committed, then their answer hangs ``delay`` seconds, past the
      connector's read timeout; the fake calls ``time_out_if_chosen`` on each such write.
    """

    rules = (
        (f"{CONTROL_PREFIX}token", "bench_token", ["POST"]),
        (f"{CONTROL_PREFIX}stats", "bench_stats", ["GET"]),
        (f"{CONTROL_PREFIX}reset", "bench_reset", ["POST"]),
        (f"{CONTROL_PREFIX}timeouts", "bench_timeouts", ["POST"]),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bench_lock = threading.Lock()
        self._timeouts_at = set()
        self._timeout_delay = 0.0
        self.timeouts_injected = 0
        self.invoice_writes = 0

    # -- the provider's part ---------------------------------------------------------------
    def bench_token(self):
        """The token answer of the consent flow for the benchmark's company."""
        raise NotImplementedError

    def bench_stats(self):
        """The provider's own statistics."""
        return {}

    def bench_reset(self):
        """Forget the provider's own counters (called under the fake's lock)."""

    # -- routes ------------------------------------------------------------------------------
    def on_bench_token(self, request):
        return self.json_response(self.bench_token())

    def on_bench_stats(self, request):
        with self._lock:
            counts = {route: n for route, n in self.route_counts.items() if n}
            self.requests.clear()  # the fake remembers every request: keep its memory bounded
        return self.json_response(
            {
                "route_counts": counts,
                "api_calls": self.api_calls,
                "served_429": dict(self.served_429),
                "idempotent_replays": self.idempotent_replays,
                "timeouts_injected": self.timeouts_injected,
                **self.bench_stats(),
            }
        )

    def on_bench_reset(self, request):
        self.reset_rate_limits()
        with self._lock:
            self.route_counts = Counter()
            self.served_429.clear()
            self.api_calls = 0
            self.idempotent_replays = 0
            self.bench_reset()
        with self._bench_lock:
            self.invoice_writes = 0
        return self.json_response({"reset": True})

    def on_bench_timeouts(self, request):
        with self._bench_lock:
            self._timeouts_at = {int(n) for n in request.args.get("after", "").split(",") if n.strip()}
            self._timeout_delay = float(request.args.get("delay", "5"))
        return self.json_response({"armed": sorted(self._timeouts_at)})

    def next_invoice_write(self):
        """The number of this invoice write (for a fake that does not number them itself)."""
        with self._bench_lock:
            self.invoice_writes += 1
            return self.invoice_writes

    def time_out_if_chosen(self, number):
        """Arm the contract fake's own after-commit fault when invoice write ``number`` is one of
        the chosen ones."""
        with self._bench_lock:
            if number in self._timeouts_at:
                self._timeouts_at.discard(number)
                self.timeouts_injected += 1
                self.inject_after_commit(times=1, delay=self._timeout_delay)
