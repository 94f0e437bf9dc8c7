from . import test_connect
from . import test_import
from . import test_export
from . import test_ui
