from . import test_provider
from . import test_services
from . import test_connect
from . import test_mapping
from . import test_customers
from . import test_export
from . import test_limits
from . import test_totals
