from odoo.tests import tagged

# The module, not the class: a base class imported by name would run as a test of its own.
from odoo.addons.recruitment_sync.tests import common


@tagged("post_install", "-at_install", "recruitment_sync")
class TestProvider(common.ProviderAddonCase):
    provider = "invoiceocean"
    label = "InvoiceOcean"
    action_xmlid = "recruitment_sync_invoiceocean.recruitment_sync_integration_invoiceocean_action"

    def test_no_invented_call_limit(self):
        """InvoiceOcean documents no limit (contract §5): no window, only the concurrency of the GETs."""
        integration = self.env["recruitment.sync.integration"].new({"provider": "invoiceocean"})
        limits = integration._provider_rate_limits()
        self.assertEqual((limits.windows, limits.max_concurrent), ((), 4))
