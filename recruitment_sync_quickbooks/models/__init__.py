from . import qbo_mapping
from . import qbo_export
from . import recruitment_sync_integration
from . import recruitment_sync_binding
