from . import test_integration
from . import test_ui
