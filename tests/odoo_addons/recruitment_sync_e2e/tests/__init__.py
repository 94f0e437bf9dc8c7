from . import test_sandbox_journey
from . import test_sandbox_setup
from . import test_screens
