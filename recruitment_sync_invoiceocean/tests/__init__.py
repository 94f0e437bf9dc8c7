from . import test_provider
from . import test_services
from . import test_connect
from . import test_customers
from . import test_documents
from . import test_add_invoice
from . import test_webhooks
from . import test_pairing
