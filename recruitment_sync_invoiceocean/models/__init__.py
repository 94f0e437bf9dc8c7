from . import invoiceocean_rows
from . import invoiceocean_clients
from . import invoiceocean_documents
from . import recruitment_sync_integration
from . import crm_lead
