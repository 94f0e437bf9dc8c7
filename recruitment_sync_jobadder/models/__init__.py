from . import recruitment_sync_integration
from . import recruitment_jobadder_user
from . import recruitment_placement
