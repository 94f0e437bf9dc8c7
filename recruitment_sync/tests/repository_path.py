"""Put the repository's shared ``tests`` package (fakes of remote APIs) on ``sys.path``.

Imported first by this test package, so addon tests can ``import tests.fakes`` whichever
runner loads them (pytest-odoo or ``odoo-bin --test-enable``).
"""

import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
if (REPOSITORY / "tests" / "fakes").is_dir() and str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))
