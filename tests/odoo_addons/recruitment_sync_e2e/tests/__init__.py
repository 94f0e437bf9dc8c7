from . import test_sandbox_journey
from . import test_sandbox_setup
