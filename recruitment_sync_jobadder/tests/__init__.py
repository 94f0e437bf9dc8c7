from . import test_provider
from . import test_rules
from . import test_models
from . import test_sync
from . import test_import_batches
from . import test_retry
from . import test_ui
from . import test_menus
