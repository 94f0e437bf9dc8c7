from odoo.tests import tagged

# The module, not the class: a base class imported by name would run as a test of its own.
from odoo.addons.recruitment_sync.tests import common


@tagged("post_install", "-at_install", "recruitment_sync")
class TestProvider(common.ProviderAddonCase):
    provider = "invoiceocean"
    label = "InvoiceOcean"
    action_xmlid = "recruitment_sync_invoiceocean.recruitment_sync_integration_invoiceocean_action"
