from . import tso_credential
from . import tso_transfer
from . import tso_vat_code
from . import recruitment_sync_integration
from . import recruitment_sync_run
from . import account_move
from . import hr_department
