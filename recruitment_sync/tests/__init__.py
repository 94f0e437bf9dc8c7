# First: the repository's shared tests package on the path, for every test module below.
from . import repository_path
from . import test_bindings
from . import test_http_client
from . import test_integration
from . import test_jobadder_models
from . import test_jobadder_rules
from . import test_jobadder_sync
from . import test_jobadder_ui
from . import test_oauth
from . import test_runs
from . import test_ui
from . import test_wizard
from . import test_security
from . import test_failures
from . import test_jobadder_retry
