"""Users (paired / unpaired / ambiguous, Link), departments (mapped to an Odoo department and sales team,
opportunities follow) and department access (department users see their departments' opportunities only)."""

from odoo.tests import new_test_user, tagged

from .common import InvoiceOceanCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestPairing(InvoiceOceanCase):
    def setUp(self):
        super().setUp()
        users = list(self.account.users.values())  # Anna Nowak, Tom Baker, Maja Lind
        self.anna = new_test_user(self.env, login="anna-io", name=users[0]["name"])
        self.toms = new_test_user(self.env, login="tom-1", name=users[1]["name"]) | new_test_user(
            self.env, login="tom-2", name=users[1]["name"]
        )
        self.io_users = users

    def row(self, io_user):
        return self.env["recruitment.sync.invoiceocean.user"].search(
            [("integration_id", "=", self.integration.id), ("remote_id", "=", str(io_user["id"]))]
        )

    def test_users_seen_on_documents_are_paired_or_not(self):
        documents = [self.new_document(user_id=user["id"]) for user in self.io_users]
        self.sync()
        anna, tom, maja = (self.row(user) for user in self.io_users)
        self.assertEqual((anna.pairing_state, anna.user_id), ("paired", self.anna))
        self.assertEqual(tom.pairing_state, "ambiguous")
        self.assertEqual(maja.pairing_state, "unpaired")
        self.assertEqual(self.lead_of(documents[0]["id"]).user_id, self.anna, "the paired salesperson")
        self.assertEqual(self.integration.io_unpaired_count, 2)
        # Link: the ambiguous one opens its row to choose; with an email, the only match links at once.
        self.assertEqual(tom.action_link()["res_id"], tom.id)
        self.toms[0].email = "tom.baker@brightstaff.example"
        tom.email = "tom.baker@brightstaff.example"
        self.assertTrue(tom.action_link())
        self.assertEqual((tom.pairing_state, tom.user_id), ("paired", self.toms[0]))

    def test_opportunities_get_the_sales_team_odoo_would_pick_for_their_salesperson(self):
        """No department team: the salesperson's team, as ``crm.lead`` computes it (asked once a page)."""
        team = self.env["crm.team"].create({"name": "Anna's team", "member_ids": [(4, self.anna.id)]})
        anna_doc, maja_doc = (self.new_document(user_id=self.io_users[n]["id"]) for n in (0, 2))
        self.sync()
        anna_lead, maja_lead = self.lead_of(anna_doc["id"]), self.lead_of(maja_doc["id"])
        self.assertEqual((anna_lead.user_id, anna_lead.team_id), (self.anna, team))
        # Maja is not paired: the opportunity has the default salesperson and the team Odoo gives it.
        reference = self.Lead.create({"name": "Reference", "type": "opportunity", "user_id": maja_lead.user_id.id})
        self.assertTrue(reference.team_id)
        self.assertEqual(maja_lead.team_id, reference.team_id)

    def test_email_decides_before_name(self):
        """The core's remote user (``recruitment.sync.remote.user``): email first, then the name."""
        self.new_document(user_id=self.io_users[1]["id"])
        self.sync()
        tom = self.row(self.io_users[1])
        self.assertEqual((tom.pairing_state, len(tom.candidate_user_ids)), ("ambiguous", 2), "two namesakes")
        tom.email = "t.baker@brightstaff.example"
        self.assertEqual(tom.pairing_state, "ambiguous", "no user has the email: the name still decides")
        self.toms[1].email = "T.Baker@brightstaff.example"
        tom.invalidate_recordset(["candidate_user_ids"])
        self.assertEqual(tom.candidate_user_ids, self.toms[1], "the email wins over the namesakes")
        tom._auto_pair()
        self.assertEqual((tom.pairing_state, tom.user_id), ("paired", self.toms[1]))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestDepartments(InvoiceOceanCase):
    def setUp(self):
        super().setUp()
        Department = self.env["hr.department"]
        self.north = Department.create({"name": "Brightstaff North"})
        self.south = Department.create({"name": "South office"})
        self.team = self.env["crm.team"].create({"name": "North sales"})
        self.rows = self.env["recruitment.sync.invoiceocean.department"].search(
            [("integration_id", "=", self.integration.id)]
        )

    def test_departments_listed_mapped_and_followed(self):
        self.assertEqual(sorted(self.rows.mapped("name")), sorted(d["name"] for d in self.account.departments.values()))
        north_row = self.rows.filtered(lambda r: r.shortcut == "North")
        hq_row = self.rows - north_row
        north_row.write({"department_id": self.north.id, "team_id": self.team.id})
        hq_row.department_id = self.south
        north_doc = self.new_document(department_id=int(north_row.remote_id))
        self.sync()
        lead = self.lead_of(north_doc["id"])
        self.assertEqual((lead.io_department_id, lead.team_id), (self.north, self.team))

    def test_department_users_see_their_departments_opportunities_only(self):
        north_row = self.rows.filtered(lambda r: r.shortcut == "North")
        hq_row = self.rows - north_row
        north_row.department_id = self.north
        hq_row.department_id = self.south
        north_doc = self.new_document(department_id=int(north_row.remote_id))
        south_doc = self.new_document(department_id=int(hq_row.remote_id))
        self.sync()
        north_lead, south_lead = self.lead_of(north_doc["id"]), self.lead_of(south_doc["id"])
        user = new_test_user(
            self.env,
            login="north-seller",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads,recruitment_sync.group_sync_user",
        )
        self.env["hr.employee"].create({"name": "North seller", "user_id": user.id, "department_id": self.north.id})
        own_lead = self.Lead.create({"name": "Not from InvoiceOcean", "type": "opportunity"})
        visible = self.Lead.with_user(user).search([("id", "in", (north_lead | south_lead | own_lead).ids)])
        self.assertEqual(visible, north_lead | own_lead)
        lines = self.env["recruitment.sync.run.line"].with_user(user).search([("res_model", "=", "crm.lead")])
        south_line = lines.filtered(lambda line: line.res_id == south_lead.id)
        north_line = lines.filtered(lambda line: line.res_id == north_lead.id)
        self.assertEqual(north_line.mapped("record_accessible"), [True])
        self.assertEqual(south_line.mapped("record_accessible"), [False], "another department's: not opened")
        self.assertEqual(south_line.mapped("record_label"), ["Another department's record"])
        manager = new_test_user(
            self.env,
            login="sync-manager",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads,recruitment_sync.group_sync_manager",
        )
        self.assertEqual(
            self.Lead.with_user(manager).search([("id", "in", (north_lead | south_lead).ids)]), north_lead | south_lead
        )
