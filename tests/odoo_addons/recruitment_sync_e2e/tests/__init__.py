from . import test_sandbox_journey
