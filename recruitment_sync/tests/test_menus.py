"""The core brings no connector's screens: an accounting-only database (the core and Xero or
24SevenOffice) has no Placements menu; the JobAdder connector brings it (recruitment_sync_jobadder)."""

from odoo.tests import TransactionCase, tagged

JOBADDER_MODELS = ("recruitment.placement", "recruitment.jobadder.user")


@tagged("post_install", "-at_install", "recruitment_sync")
class TestCoreMenus(TransactionCase):
    def _core_records(self, model):
        data = self.env["ir.model.data"].search([("module", "=", "recruitment_sync"), ("model", "=", model)])
        return self.env[model].browse(data.mapped("res_id")).exists()

    def test_core_menus_and_actions_serve_every_connector(self):
        menus = self._core_records("ir.ui.menu")
        self.assertTrue(menus, "the core has its Integrations and Sync History menus")
        models = {
            menu.action.res_model for menu in menus if menu.action and menu.action._name == "ir.actions.act_window"
        }
        self.assertIn("recruitment.sync.run", models)
        self.assertFalse(models & set(JOBADDER_MODELS), "no JobAdder screen in the core")
        self.assertFalse(set(self._core_records("ir.actions.act_window").mapped("res_model")) & set(JOBADDER_MODELS))
        self.assertFalse(self._core_records("ir.ui.view").filtered(lambda view: view.model in JOBADDER_MODELS))

    def test_jobadder_models_belong_to_the_jobadder_connector(self):
        for model in self.env["ir.model"].search([("model", "in", JOBADDER_MODELS)]):
            self.assertEqual(model.modules, "recruitment_sync_jobadder", model.model)

    def test_accounting_only_database_has_no_placements_menu(self):
        jobadder = self.env["ir.module.module"].search([("name", "=", "recruitment_sync_jobadder")])
        if jobadder.state == "installed":
            self.skipTest(
                "recruitment_sync_jobadder is installed here; this test checks a database without it "
                "(odoo-bin -i recruitment_sync_xero --test-enable)"
            )
        for model in JOBADDER_MODELS:
            self.assertNotIn(model, self.env)
        invoicing = self.env.ref("account.menu_finance")
        visible = self.env["ir.ui.menu"].search([("id", "child_of", invoicing.id)])
        self.assertFalse(visible.filtered(lambda menu: menu.name in ("Placements", "Consultant pairing")))
        self.assertFalse(self.env.ref("recruitment_sync.menu_recruitment_placements", raise_if_not_found=False))
