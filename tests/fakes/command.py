"""A fake run alone, as a developer starts it (``python3 -m tests.fakes.<name> --port 0 ...``).

For the tests of the fakes' commands::

    with served_alone("tests.fakes.quickbooks", "--port", "0", "--seed", "1") as banner:
        ...  # read addresses and tokens from the banner, call the fake
    # leaving the block pressed Ctrl-C and checked that the command stopped cleanly
"""

import queue
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from .openapi import REPOSITORY

READY = "Serving until Ctrl-C."


@contextmanager
def served_alone(module, *args, timeout=60):
    """Start the command, yield its banner (the output up to "Serving until Ctrl-C."), then
    Ctrl-C it and assert it exited 0 saying "Stopped."; it is killed if anything goes wrong."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        banner, deadline = [], time.monotonic() + timeout
        while not banner or READY not in banner[-1]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {READY!r} within {timeout} s in: {''.join(banner)}"
            try:
                banner.append(lines.get(timeout=min(remaining, 1.0)))
            except queue.Empty:
                assert process.poll() is None, f"the command ended ({process.returncode}): {''.join(banner)}"
        yield "".join(banner)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        reader.join(timeout=5)
        rest = []
        while not lines.empty():
            rest.append(lines.get())
        assert "Stopped." in "".join(rest), rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
