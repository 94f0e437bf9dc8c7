from . import recruitment_sync_confirm_wizard
