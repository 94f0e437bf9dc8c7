"""Placements and consultants in Odoo: pairing, departments, access, the Sync JobAdder button."""

from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install", "recruitment_sync")
class TestConsultantPairing(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = cls.env["recruitment.sync.integration"].create({"name": "JA", "provider": "jobadder"})
        cls.Consultant = cls.env["recruitment.jobadder.user"]

    def consultant(self, email, jobadder_id=1):
        return self.Consultant.create(
            {"integration_id": self.integration.id, "jobadder_id": jobadder_id, "name": "Sam Nguyen", "email": email}
        )

    def test_paired_by_email_case_insensitively(self):
        user = new_test_user(self.env, "rs_sam", email="Sam@Agency.example")
        consultant = self.consultant("sam@agency.EXAMPLE")
        self.assertEqual(consultant.pairing_state, "unpaired")
        consultant._auto_pair()
        self.assertEqual((consultant.user_id, consultant.pairing_state), (user, "paired"))

    def test_ambiguous_is_never_guessed(self):
        new_test_user(self.env, "rs_sam1", email="sam@agency.example")
        new_test_user(self.env, "rs_sam2", email="SAM@agency.example")
        consultant = self.consultant("sam@agency.example")
        consultant._auto_pair()
        self.assertFalse(consultant.user_id)
        self.assertEqual(consultant.pairing_state, "ambiguous")
        action = consultant.action_link()
        self.assertEqual(action["res_model"], "recruitment.jobadder.user", "Link opens the choice")
        self.assertEqual(len(consultant.candidate_user_ids), 2)
        with self.assertRaises(UserError):
            consultant.action_create_user()

    def test_a_namesake_is_no_match(self):
        """JobAdder pairs by email only (``_pair_by_name`` off in the core's remote user)."""
        new_test_user(self.env, "rs_namesake", name="Sam Nguyen", email="sam.n@elsewhere.example")
        consultant = self.consultant("sam@agency.example")
        consultant._auto_pair()
        self.assertFalse(consultant.user_id)
        self.assertEqual(consultant.pairing_state, "unpaired")
        self.assertFalse(consultant.candidate_user_ids)

    def test_link_the_only_match(self):
        user = new_test_user(self.env, "rs_only", email="only@agency.example")
        consultant = self.consultant("only@agency.example")
        self.assertTrue(consultant.action_link())
        self.assertEqual(consultant.user_id, user)

    def test_create_user_on_request(self):
        consultant = self.consultant("new.consultant@agency.example")
        users_before = self.env["res.users"].search_count([])
        action = consultant.action_create_user()
        self.assertEqual(self.env["res.users"].search_count([]), users_before + 1)
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("new.consultant@agency.example", action["params"]["message"])
        invitation = self.env["mail.mail"].search(
            [("model", "=", "res.users"), ("res_id", "=", consultant.user_id.id)], order="id desc", limit=1
        )
        self.assertTrue(invitation, "an invitation to choose a password is emailed")
        self.assertEqual(invitation.email_to, "new.consultant@agency.example")
        self.assertIn("signup", invitation.body_html)
        self.assertEqual(consultant.user_id.partner_id.signup_type, "signup")
        self.assertEqual(consultant.user_id.login, "new.consultant@agency.example")
        self.assertFalse(consultant.user_id.share, "an internal user")
        self.assertEqual(consultant.pairing_state, "paired")
        without_email = self.consultant(False, jobadder_id=2)
        with self.assertRaises(UserError):
            without_email.action_create_user()


@tagged("post_install", "-at_install", "recruitment_sync")
class TestPlacements(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = cls.env["recruitment.sync.integration"].create({"name": "JA", "provider": "jobadder"})
        cls.dept_a = cls.env["hr.department"].create({"name": "Healthcare"})
        cls.dept_b = cls.env["hr.department"].create({"name": "Engineering"})
        cls.owner = new_test_user(cls.env, "rs_owner", email="owner@agency.example")
        cls.env["hr.employee"].create({"name": "Owner", "user_id": cls.owner.id, "department_id": cls.dept_a.id})
        cls.user_a = new_test_user(cls.env, "rs_dept_a", groups="recruitment_sync.group_sync_user")
        cls.env["hr.employee"].create({"name": "A", "user_id": cls.user_a.id, "department_id": cls.dept_a.id})
        cls.user_b = new_test_user(cls.env, "rs_dept_b", groups="recruitment_sync.group_sync_user")
        cls.env["hr.employee"].create({"name": "B", "user_id": cls.user_b.id, "department_id": cls.dept_b.id})
        cls.consultant = cls.env["recruitment.jobadder.user"].create(
            {"integration_id": cls.integration.id, "jobadder_id": 42, "name": "Owner", "user_id": cls.owner.id}
        )
        cls.placement = cls.env["recruitment.placement"].create(
            {
                "integration_id": cls.integration.id,
                "jobadder_id": 18234,
                "job_title": "Senior Nurse",
                "placement_type": "contract",
                "owner_jobadder_user_id": cls.consultant.id,
                "start_date": date.today() - timedelta(days=30),
                "end_date": date.today() - timedelta(days=1),
            }
        )

    def test_department_comes_from_the_owner_and_is_editable(self):
        self.assertEqual(self.placement.owner_user_id, self.owner)
        self.assertEqual(self.placement.department_id, self.dept_a)
        self.placement.department_id = self.dept_b
        self.assertEqual(self.placement.department_id, self.dept_b)

    def test_history_does_not_name_other_departments_candidates(self):
        candidate = self.env["res.partner"].create({"name": "Carla Candidate"})
        self.placement.candidate_id = candidate
        run = self.env["recruitment.sync.run"].create({"integration_id": self.integration.id})
        lines = self.env["recruitment.sync.run.line"].create(
            [
                {
                    "run_id": run.id,
                    "kind": kind,
                    "action": "created",
                    "res_model": model,
                    "res_id": record.id,
                    "name": record.display_name,
                }
                for kind, model, record in (
                    ("candidates", "res.partner", candidate),
                    ("placements", "recruitment.placement", self.placement),
                )
            ]
        )
        for user, named in ((self.user_a, True), (self.user_b, False)):
            seen = lines.with_user(user)
            self.assertEqual(seen.mapped("record_accessible"), [named, named], user.login)
            self.assertEqual(seen[0].record_label == "Carla Candidate", named, user.login)
            self.assertEqual(
                seen.mapped("kind_label"),
                ["Candidates", "Placements (with their clients, contacts, candidates, consultants)"],
            )

    def test_department_users_see_their_departments_placements_only(self):
        Placement = self.env["recruitment.placement"]
        self.assertEqual(Placement.with_user(self.user_a).search([("id", "=", self.placement.id)]), self.placement)
        self.assertFalse(Placement.with_user(self.user_b).search([("id", "=", self.placement.id)]))
        with self.assertRaises(AccessError):
            self.placement.with_user(self.user_b).read(["job_title"])
        with self.assertRaises(AccessError):
            self.placement.with_user(self.user_a).write({"job_title": "Edited"})

    def test_name_link_dates_and_search(self):
        self.assertEqual(self.placement.name, "P18234 – Senior Nurse")
        self.assertEqual(self.placement.jobadder_url, "https://app.jobadder.com/placements/18234")
        self.integration.jobadder_app_url = "http://127.0.0.1:8071/placements/{placement_id}"
        self.placement.invalidate_recordset(["jobadder_url"])
        self.assertEqual(self.placement.jobadder_url, "http://127.0.0.1:8071/placements/18234")
        self.assertEqual(self.placement.placement_date, self.placement.start_date)
        self.assertTrue(self.placement.is_ended)
        Placement = self.env["recruitment.placement"]
        self.assertIn(self.placement, Placement.search([("is_ended", "=", True)]))
        self.assertNotIn(self.placement, Placement.search([("is_ended", "=", False)]))

    def test_sync_jobadder_button(self):
        Placement = self.env["recruitment.placement"]
        warning = Placement.action_sync_jobadder()
        self.assertEqual(warning["params"]["type"], "warning", "not connected: say so")
        self.integration.sudo().state = "connected"
        action = Placement.action_sync_jobadder()
        self.assertEqual(action["res_model"], "recruitment.sync.confirm.wizard")
        self.assertEqual(action["context"]["default_integration_id"], self.integration.id)
