from . import test_provider
from . import test_customers
