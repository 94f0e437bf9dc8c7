"""What the benchmarks' fake services share: each runs in a process of its own (so its work is
not counted as Odoo's), says where it listens on one JSON line, and stops when told."""

import json
import sys


def serve(fake, describe):
    """Start ``fake``, print ``describe()`` as one JSON line, serve until stdin is closed."""
    fake.start()
    try:
        print(json.dumps(describe()), flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin (or ends)
    finally:
        fake.stop()
