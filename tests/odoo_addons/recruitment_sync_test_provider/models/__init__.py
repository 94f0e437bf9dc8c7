from . import recruitment_sync_integration
from . import export_provider
from . import mapping_provider
