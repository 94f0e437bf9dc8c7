# The integration row first: the run model (imported by the integration's module) inherits it.
from . import recruitment_sync_integration_row
from . import recruitment_sync_oauth
from . import recruitment_sync_integration
from . import recruitment_sync_integration_toolkit
from . import recruitment_sync_accounting
from . import recruitment_sync_remote_user
from . import recruitment_sync_failed_item
from . import recruitment_sync_run
from . import recruitment_sync_token
from . import recruitment_sync_binding
from . import bound_records
from . import res_config_settings
from . import hr_employee
from . import hr_department
from . import ledger
