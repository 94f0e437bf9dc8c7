"""The JobAdder connector brings its screens: Invoicing > Placements, and under Integrations its
integrations and the consultant pairing."""

from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderMenus(TransactionCase):
    def test_placements_and_pairing_menus(self):
        user = new_test_user(
            self.env, "rs_ja_menu_user", groups="recruitment_sync.group_sync_user,account.group_account_invoice"
        )
        manager = new_test_user(
            self.env, "rs_ja_menu_manager", groups="recruitment_sync.group_sync_manager,account.group_account_invoice"
        )
        placements = self.env.ref("recruitment_sync_jobadder.menu_recruitment_placements")
        pairing = self.env.ref("recruitment_sync_jobadder.menu_recruitment_jobadder_users")
        integrations = self.env.ref("recruitment_sync_jobadder.menu_recruitment_sync_jobadder")
        self.assertEqual(placements.parent_id, self.env.ref("account.menu_finance"))
        self.assertEqual(placements.action.res_model, "recruitment.placement")
        self.assertEqual(pairing.parent_id, self.env.ref("recruitment_sync.menu_recruitment_sync_root"))
        Menu = self.env["ir.ui.menu"]
        user_menus = Menu.with_user(user)._visible_menu_ids()
        manager_menus = Menu.with_user(manager)._visible_menu_ids()
        self.assertIn(placements.id, user_menus)
        self.assertNotIn(pairing.id, user_menus, "pairing consultants is a sync manager's job")
        self.assertTrue({placements.id, pairing.id, integrations.id} <= set(manager_menus))
