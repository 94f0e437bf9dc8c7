"""Client-side rate limiting of the calls made to one remote system.

A ``RateLimiter`` enforces a provider's published limits before a request leaves Odoo:

* sliding windows of ``(max_calls, period_seconds)``, e.g. ``[(60, 60), (5000, 86400)]`` for Xero
  or ``[(7200, 3600)]`` for 24SevenOffice;
* a maximum number of requests in flight at once (``max_concurrent``);
* what the server says: a pause until a deadline (``Retry-After``, a daily limit reached) and
  the number of calls it still accepts in a window (``X-MinLimit-Remaining`` style headers).

A call counts in the windows from the moment it leaves; with ``count_until_answered`` it counts
from the moment its answer came back (``acquire``'s block exits). The server counts it on
arrival, somewhere in between: then no margin on the window is needed, however long calls wait
in queues on a loaded machine or network, at the cost of each window's calls counting a
round trip later. Concurrent calls to a provider with short windows need it.

Pure Python and thread-safe; the clock and the sleep function are injectable so that tests
never really wait.
"""

import bisect
import contextlib
import threading
import time
from collections import deque


class RateLimitWaitTooLong(Exception):
    """``acquire(max_wait=...)`` would have to wait longer than allowed.

    ``seconds`` is how long until a call is allowed, ``reason`` which limit is used up.
    """

    def __init__(self, seconds, reason):
        self.seconds = seconds
        self.reason = reason
        super().__init__(f"rate limit reached ({reason}): next call allowed in {seconds:.0f} s")


def normalize_windows(windows):
    """``[(calls, seconds), ...]`` as a sorted tuple of ``(int, float)`` pairs, duplicates removed."""
    normalized = set()
    for max_calls, period in windows or ():
        max_calls, period = int(max_calls), float(period)
        if max_calls < 1 or period <= 0:
            raise ValueError(f"invalid rate-limit window ({max_calls} calls per {period:g} s)")
        normalized.add((max_calls, period))
    return tuple(sorted(normalized, key=lambda window: (window[1], window[0])))


def _normalize_concurrency(max_concurrent):
    if max_concurrent is None:
        return None
    max_concurrent = int(max_concurrent)
    if max_concurrent < 1:
        raise ValueError(f"max_concurrent must be at least 1 (got {max_concurrent})")
    return max_concurrent


class RateLimiter:
    """Blocks callers until the remote system accepts one more call.

    ::

        limiter = RateLimiter([(60, 60), (5000, 86400)], max_concurrent=5)
        with limiter.acquire():
            session.get(...)

    Each window keeps the timestamps of its last ``max_calls`` calls only: a call is allowed
    when the oldest of them is older than the window's period.
    """

    def __init__(
        self, windows=(), max_concurrent=None, *, clock=time.monotonic, sleep=time.sleep, count_until_answered=False
    ):
        self.clock = clock
        self.count_until_answered = count_until_answered
        self._sleep = sleep
        self._cond = threading.Condition()
        self._calls = {}  # (max_calls, period) -> deque of the last max_calls call times
        self._max_concurrent = None
        self._active = 0
        self._paused_until = None
        self._budgets = {}  # period -> [calls still accepted, monotonic time the budget ends]
        self.configure(windows, max_concurrent)

    # -- configuration -------------------------------------------------------------------
    @property
    def windows(self):
        with self._cond:
            return tuple(self._calls)

    @property
    def max_concurrent(self):
        return self._max_concurrent

    @property
    def active(self):
        """Number of calls currently holding a concurrency slot."""
        with self._cond:
            return self._active

    def configure(self, windows, max_concurrent=None):
        """Change the limits in place; the calls already made still count in the new windows."""
        windows = normalize_windows(windows)
        max_concurrent = _normalize_concurrency(max_concurrent)
        with self._cond:
            # Every call is recorded in every window, so the longest deque holds the longest
            # recent history: it seeds the new windows (each keeps its own last max_calls).
            history = max(self._calls.values(), key=len, default=())
            self._calls = {window: deque(history, maxlen=window[0]) for window in windows}
            self._max_concurrent = max_concurrent
            self._cond.notify_all()

    # -- what the server says ------------------------------------------------------------
    def pause_until(self, deadline):
        """No caller gets a call before ``deadline`` (a value of ``clock``, e.g. from Retry-After)."""
        with self._cond:
            if self._paused_until is None or deadline > self._paused_until:
                self._paused_until = deadline

    def update_remaining(self, period_seconds, remaining):
        """The server accepts only ``remaining`` more calls in its window of ``period_seconds``.

        The limiter allows at most that many calls until a whole period has passed (by then
        every call the server counted has left its window), unless a later answer updates it.
        """
        period = float(period_seconds)
        with self._cond:
            self._budgets[period] = [max(0, int(remaining)), self.clock() + period]

    # -- waiting -------------------------------------------------------------------------
    def seconds_until_allowed(self):
        """Seconds until the windows, budgets and pause allow one more call (0.0: now).

        Concurrency is not part of it: a slot frees up when a call in flight ends.
        """
        with self._cond:
            return self._delay_locked(self.clock())[0]

    @contextlib.contextmanager
    def acquire(self, max_wait=None):
        """Wait for a free concurrency slot and for every limit to allow a call, then record it.

        The slot is released when the block exits. With ``max_wait`` (seconds), raise
        ``RateLimitWaitTooLong`` instead of waiting longer than that for the windows
        (a daily limit used up must not block a worker for hours).
        """
        sent_at = self._enter(max_wait)
        try:
            yield self
        finally:
            with self._cond:
                if self.count_until_answered:
                    self._restamp_locked(sent_at, self.clock())
                self._active -= 1
                self._cond.notify_all()

    def _enter(self, max_wait):
        while True:
            with self._cond:
                while self._max_concurrent is not None and self._active >= self._max_concurrent:
                    self._cond.wait()
                now = self.clock()
                delay, reason = self._delay_locked(now)
                if delay <= 0:
                    self._record_locked(now)
                    self._active += 1
                    return now
                if max_wait is not None and delay > max_wait:
                    raise RateLimitWaitTooLong(delay, reason)
            # Sleep outside the lock, then check everything again: other threads may have
            # taken the freed capacity, or the server may have paused us meanwhile.
            self._sleep(delay)

    def _delay_locked(self, now):
        waits = [(0.0, None)]
        if self._paused_until is not None and self._paused_until > now:
            waits.append((self._paused_until - now, "paused by the server"))
        for (max_calls, period), calls in self._calls.items():
            if len(calls) >= max_calls and calls[0] > now - period:
                waits.append((calls[0] + period - now, f"{max_calls} calls per {period:g} s"))
        for period, (remaining, ends_at) in list(self._budgets.items()):
            if ends_at <= now:
                del self._budgets[period]
            elif remaining <= 0:
                waits.append((ends_at - now, f"no call left in the server's {period:g} s window"))
        return max(waits, key=lambda wait: wait[0])

    def _restamp_locked(self, sent_at, answered_at):
        """The call sent at ``sent_at`` counts from ``answered_at`` (each window stays sorted)."""
        for calls in self._calls.values():
            try:
                calls.remove(sent_at)
            except ValueError:
                continue  # already out of this window's memory
            calls.insert(bisect.bisect_right(calls, answered_at), answered_at)

    def _record_locked(self, now):
        for calls in self._calls.values():
            calls.append(now)
        for budget in self._budgets.values():
            budget[0] -= 1


# Limits are kept per Odoo process: with several workers each process has its own registry,
# and the workers do not share their counts. That is acceptable because a given integration's
# runs never overlap: the runner takes a per-integration lock (its row, SKIP LOCKED) before it
# calls the remote system, so at any moment a single process makes that integration's calls
# and its limiter sees all of them. The rare interactive calls (e.g. "Test connection") are
# covered by the server's own Retry-After and remaining-calls headers.
_LIMITERS = {}
_LIMITERS_LOCK = threading.Lock()


def get_rate_limiter(key, windows, max_concurrent=None, count_until_answered=False):
    """The process-wide limiter of ``key`` (e.g. ``(dbname, integration_id)``).

    Created on first use; when the limits given differ from the limiter's, it is reconfigured
    in place, keeping the calls already counted.
    """
    windows = normalize_windows(windows)
    max_concurrent = _normalize_concurrency(max_concurrent)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = _LIMITERS[key] = RateLimiter(windows, max_concurrent, count_until_answered=count_until_answered)
        elif limiter.windows != windows or limiter.max_concurrent != max_concurrent:
            limiter.configure(windows, max_concurrent)
        limiter.count_until_answered = count_until_answered
        return limiter


def drop_rate_limiter(key):
    """Forget the limiter of ``key`` (an integration deleted or reset; tests)."""
    with _LIMITERS_LOCK:
        _LIMITERS.pop(key, None)
