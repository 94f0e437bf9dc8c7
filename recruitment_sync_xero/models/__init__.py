from . import xero_mapping
from . import xero_import
from . import xero_export
from . import recruitment_sync_integration
from . import recruitment_sync_binding
from . import account_move
