from . import test_bindings
from . import test_http_client
from . import test_integration
from . import test_oauth
from . import test_runs
from . import test_ui
from . import test_wizard
from . import test_security
