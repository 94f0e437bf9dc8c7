"""JobAdder's pure rules: the initial-load boundaries, lenient dates, payload validation."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.recruitment_sync_jobadder.services import jobadder

TODAY = date(2026, 11, 21)
YESTERDAY, TOMORROW = date(2026, 11, 20), date(2026, 11, 22)


def summary(kind, start=None, end=None, approved=True):
    return {
        "placementId": 1,
        "type": kind,
        "approved": approved,
        "startDate": start.isoformat() if start else None,
        "endDate": end.isoformat() if end else None,
    }


@tagged("post_install", "-at_install", "recruitment_sync")
class TestInitialLoadRules(BaseCase):
    def test_permanent_follows_its_placement_date(self):
        self.assertFalse(jobadder.in_initial_load(summary("Permanent", start=YESTERDAY), TODAY))
        self.assertTrue(jobadder.in_initial_load(summary("Permanent", start=TODAY), TODAY), "today is not past")
        self.assertTrue(jobadder.in_initial_load(summary("Permanent", start=TOMORROW), TODAY))
        # A permanent placement's end date does not matter.
        self.assertTrue(jobadder.in_initial_load(summary("Permanent", start=TODAY, end=YESTERDAY), TODAY))

    def test_other_types_follow_their_end_date(self):
        for kind in ("Contract", "Temporary", "Credit"):
            with self.subTest(kind=kind):
                self.assertFalse(jobadder.in_initial_load(summary(kind, YESTERDAY, YESTERDAY), TODAY))
                self.assertTrue(jobadder.in_initial_load(summary(kind, YESTERDAY, TODAY), TODAY))
                self.assertTrue(jobadder.in_initial_load(summary(kind, YESTERDAY, TOMORROW), TODAY))
                self.assertTrue(jobadder.in_initial_load(summary(kind, YESTERDAY, None), TODAY), "open-ended")
                # Their start date does not matter.
                self.assertTrue(jobadder.in_initial_load(summary(kind, date(2020, 1, 1), TOMORROW), TODAY))

    def test_only_approved_placements(self):
        for kind in ("Permanent", "Contract", "Temporary", "Credit"):
            self.assertFalse(jobadder.in_initial_load(summary(kind, TOMORROW, TOMORROW, approved=False), TODAY))

    def test_unknown_type_is_an_error_not_a_guess(self):
        with self.assertRaises(jobadder.PayloadError):
            jobadder.in_initial_load(summary("Freelance", TOMORROW, TOMORROW), TODAY)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestPayloadParsing(BaseCase):
    def test_datetimes_with_or_without_zone(self):
        expected = datetime(2024, 6, 3, 4, 15)
        for value in ("2024-06-03T04:15:00Z", "2024-06-03T04:15:00", "2024-06-03T14:15:00+10:00", "2024-06-03T04:15"):
            self.assertEqual(jobadder.parse_datetime(value), expected, value)
        self.assertEqual(jobadder.parse_datetime("2024-06-03T04:15:00.123Z").microsecond, 123000)
        self.assertIsNone(jobadder.parse_datetime(None))
        for bad in ("yesterday", "2024-13-40T00:00:00", 20240603):
            with self.assertRaises(jobadder.PayloadError):
                jobadder.parse_datetime(bad)

    def test_placement_values_validate(self):
        detail = {
            "placementId": 7,
            "type": "Contract",
            "jobTitle": " Nurse ",
            "startDate": "2026-11-01",
            "endDate": "2026-12-01",
            "contractRate": {"ratePer": "Hour", "clientRate": 120, "candidateRate": 85.5, "hoursPerWeek": 38},
            "status": {"statusId": 2, "name": "Active"},
        }
        values = jobadder.placement_values(detail)
        self.assertEqual(
            (values["job_title"], values["placement_type"], values["rate_per"], values["candidate_rate"]),
            ("Nurse", "contract", "hour", 85.5),
        )
        for broken, message in (
            ({"endDate": "2026-10-01"}, "before the start date"),
            ({"startDate": "01/11/2026"}, "not a date"),
            ({"type": "Gig"}, "Unknown placement type"),
            ({"contractRate": {"clientRate": "a lot"}}, "not a number"),
        ):
            with self.subTest(broken=broken), self.assertRaisesRegex(jobadder.PayloadError, message):
                jobadder.placement_values({**detail, **broken})
        self.assertFalse(values["jobadder_data_note"])

    def test_a_permanent_placements_end_date_never_blocks_it(self):
        detail = {"placementId": 8, "type": "Permanent", "startDate": "2026-11-01", "endDate": "2026-10-01"}
        values = jobadder.placement_values(detail)
        self.assertEqual((values["start_date"], values["end_date"]), (date(2026, 11, 1), date(2026, 10, 1)))
        self.assertIn("end date 2026-10-01 is before the start date 2026-11-01", values["jobadder_data_note"])

    def test_related_ids(self):
        ids = jobadder.related_ids(
            {
                "company": {"companyId": 3},
                "contact": {"contactId": 4},
                "candidate": {"candidateId": 5},
                "owner": {"userId": 6},
                "recruiters": [{"userId": 6}, {"userId": 7}],
            }
        )
        self.assertEqual(ids, {"company": {3}, "contact": {4}, "candidate": {5}, "user": {6, 7}})


@tagged("post_install", "-at_install", "recruitment_sync")
class TestCompanyToday(TransactionCase):
    def test_today_is_the_companys(self):
        integration = self.env["recruitment.sync.integration"].create({"name": "JA", "provider": "jobadder"})
        self.env.company.partner_id.tz = "Pacific/Auckland"
        with freeze_time("2026-11-21 11:30:00"):  # 00:30 on the 22nd in Auckland
            self.assertEqual(integration._jobadder_today(), TOMORROW)
        self.env.company.partner_id.tz = "America/Los_Angeles"
        with freeze_time("2026-11-21 06:00:00"):  # 22:00 on the 20th in Los Angeles
            self.assertEqual(integration._jobadder_today(), YESTERDAY)
