"""The initial load's write path: a page's new placements and their bindings in one ``create`` each."""

from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_sync import JobAdderCase, expected_in_initial_load


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderImportBatches(JobAdderCase):
    def patch_placement_create(self, refuse_jobadder_id=None):
        """Record the size of each ``create`` of placements; refuse the one with ``refuse_jobadder_id``."""
        Placement = type(self.env["recruitment.placement"])
        original_create = Placement.create
        sizes = []

        def create(records, vals_list):
            vals_list = vals_list if isinstance(vals_list, list) else [vals_list]
            sizes.append(len(vals_list))
            if any(vals.get("jobadder_id") == refuse_jobadder_id for vals in vals_list):
                raise ValidationError(records.env._("The placement was refused"))
            return original_create(records, vals_list)

        return patch.object(Placement, "create", create), sizes

    def placement_lines(self, run, action):
        return run.line_ids.filtered(lambda line: line.kind == "placements" and line.action == action)

    def test_new_placements_of_a_page_are_created_in_one_go(self):
        patcher, sizes = self.patch_placement_create()
        with patcher:
            run = self.run_sync("initial_load")
        created = self.placement_lines(run, "created")
        expected = [p for p in self.world.placements if expected_in_initial_load(p, self.world.today)]
        self.assertEqual(len(created), len(expected))
        self.assertEqual(sizes, [len(created)], "the page's new placements: one create")
        placements = self.env["recruitment.placement"].browse(created.mapped("res_id"))
        self.assertEqual(sorted(placements.mapped("jobadder_id")), sorted(p.placement_id for p in expected))
        bindings = self.env["recruitment.sync.binding"].search(
            [("integration_id", "=", self.integration.id), ("res_model", "=", "recruitment.placement")]
        )
        self.assertEqual(
            sorted((b.res_id, b.external_id, b.external_model) for b in bindings),
            sorted((p.id, str(p.jobadder_id), "placement") for p in placements),
        )
        self.assertTrue(all(bindings.mapped("remote_updated_at")))
        with_lines = placements.filtered("rate_line_ids")
        self.assertTrue(with_lines, "rate lines are created with their placements")

    def test_a_placement_that_cannot_be_saved_fails_alone(self):
        expected = [p for p in self.world.placements if expected_in_initial_load(p, self.world.today)]
        refused = expected[len(expected) // 2]
        patcher, sizes = self.patch_placement_create(refuse_jobadder_id=refused.placement_id)
        with patcher:
            run = self.run_sync("initial_load")
        failed = self.placement_lines(run, "failed").filtered(
            lambda line: line.external_id == str(refused.placement_id)
        )
        self.assertIn("refused", failed.reason)
        self.assertFalse(self.placement(refused.placement_id))
        self.assertEqual(len(self.placement_lines(run, "created")), len(expected) - 1)
        # The page's create failed as a whole; then each placement was created on its own.
        self.assertEqual(sizes, [len(expected)] + [1] * len(expected))
        self.assertEqual(
            self.env["recruitment.sync.binding"].search_count(
                [("integration_id", "=", self.integration.id), ("res_model", "=", "recruitment.placement")]
            ),
            len(expected) - 1,
        )

    def test_a_client_odoo_already_has_is_linked_not_created_twice(self):
        """Another integration (InvoiceOcean's first sync, in the sandbox) brought the client first."""
        placement = next(p for p in self.world.placements if expected_in_initial_load(p, self.world.today))
        company = self.world.by_id("companies")[placement.company_id]
        Partner = self.env["res.partner"].with_context(active_test=False)
        existing = Partner.create({"name": company.name.strip(), "is_company": True, "vat": "NO999888777MVA"})
        run = self.run_sync("initial_load")
        self.assertEqual(Partner.search_count([("name", "=", company.name.strip())]), 1, "not created twice")
        binding = self.env["recruitment.sync.binding"].search(
            [
                ("integration_id", "=", self.integration.id),
                ("external_model", "=", "company"),
                ("external_id", "=", str(company.company_id)),
            ]
        )
        self.assertEqual(binding.res_id, existing.id)
        line = run.line_ids.filtered(lambda line: line.external_id == str(company.company_id))
        self.assertEqual((line.kind, line.action), ("companies", "updated"))
        self.assertIn("same name", line.reason)
        placements = self.env["recruitment.placement"].search([("jobadder_id", "=", placement.placement_id)])
        self.assertEqual(placements.client_id, existing)

    def test_two_odoo_companies_of_that_name_are_not_guessed(self):
        placement = next(p for p in self.world.placements if expected_in_initial_load(p, self.world.today))
        company = self.world.by_id("companies")[placement.company_id]
        twins = self.env["res.partner"].create([{"name": company.name.strip(), "is_company": True}] * 2)
        self.run_sync("initial_load")
        binding = self.env["recruitment.sync.binding"].search(
            [("integration_id", "=", self.integration.id), ("external_id", "=", str(company.company_id))]
        )
        self.assertTrue(binding)
        self.assertNotIn(binding.res_id, twins.ids, "neither twin is chosen")
