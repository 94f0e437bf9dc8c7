from . import recruitment_sync_integration
