# The repository's shared ``tests`` package (fakes of remote APIs) goes on the path before any
# test module is imported, whichever runner imports them (pytest-odoo or odoo-bin).
import sys
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[2]
if (_REPOSITORY / "tests" / "fakes").is_dir() and str(_REPOSITORY) not in sys.path:
    sys.path.insert(0, str(_REPOSITORY))

from . import test_bindings
from . import test_http_client
from . import test_integration
from . import test_jobadder_models
from . import test_jobadder_rules
from . import test_jobadder_sync
from . import test_oauth
from . import test_runs
from . import test_ui
from . import test_wizard
from . import test_security
