from . import test_provider
from . import test_client
from . import test_credentials
from . import test_export
from . import test_ledger
from . import test_totals
from . import test_ui
