from . import recruitment_sync_integration
from . import recruitment_sync_run
from . import recruitment_sync_token
from . import recruitment_sync_oauth
from . import recruitment_sync_binding
from . import bound_records
from . import res_config_settings
from . import hr_employee
