import ast

from odoo.tests import Form, TransactionCase, tagged


@tagged("post_install", "-at_install", "recruitment_sync")
class TestProvider(TransactionCase):
    def test_menu_action_creates_24so_integrations(self):
        action = self.env.ref("recruitment_sync_24so.recruitment_sync_integration_24so_action")
        context = ast.literal_eval(action.context)
        form = Form(self.env["recruitment.sync.integration"].with_context(**context))
        integration = form.save()
        self.assertEqual(integration.provider, "24so")
        self.assertEqual(integration.display_name, "24SevenOffice")
        listed = self.env["recruitment.sync.integration"].search(ast.literal_eval(action.domain))
        self.assertIn(integration, listed)
        self.assertEqual(set(listed.mapped("provider")), {"24so"})

    def test_uninstall_keeps_integrations(self):
        field = self.env["recruitment.sync.integration"]._fields["provider"]
        self.assertEqual(field.ondelete["24so"], "set default")
        self.assertEqual(field.default(self.env["recruitment.sync.integration"]), "none")
