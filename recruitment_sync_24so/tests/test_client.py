"""The SOAP client (sessions, faults) against the fake, and the pure mapping functions."""

from datetime import UTC, date, datetime
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged

from odoo.addons.recruitment_sync.services.http_client import PermanentError, RetryableError
from odoo.addons.recruitment_sync.services.rate_limit import RateLimiter

from ..services import mapping, tso_client
from .common import MAIN_CLIENT_ID, MAIN_LOGIN, TsoCase, identity_of


@tagged("post_install", "-at_install", "recruitment_sync")
class TestMapping(TransactionCase):
    def test_fixed_point_decimals(self):
        self.assertEqual(mapping.decimal(1122062.5), "1122062.50")
        self.assertEqual(mapping.decimal(1e-7), "0.00")
        self.assertEqual(mapping.decimal(-0.001), "0.00")
        self.assertEqual(mapping.decimal(1e20), "100000000000000000000.00")
        self.assertEqual(mapping.decimal(2.5, mapping.FOUR_PLACES), "2.5000")

    def test_truncate_and_dates(self):
        self.assertEqual(mapping.truncate("  a   b  ", 10), "a b")
        self.assertEqual(len(mapping.truncate("x" * 300, "your_reference")), 50)
        self.assertIsNone(mapping.truncate(False, "your_reference"))
        self.assertEqual(mapping.local_date(date(2026, 1, 1)), datetime(2026, 1, 1))
        self.assertEqual(mapping.local_date(datetime(2026, 1, 1, 23, 30)), datetime(2026, 1, 1))
        self.assertEqual(mapping.payment_days(date(2026, 1, 1), date(2026, 1, 15)), 14)

    def test_organisation_numbers_and_keys(self):
        self.assertEqual(mapping.organization_number("912 345 674"), "912345674")
        self.assertEqual(mapping.organization_number("", "NO912345674MVA", "NO"), "912345674")
        self.assertIsNone(mapping.organization_number("", "DE123456789", "DE"))
        self.assertEqual(mapping.customer_external_id("abc", 42), "odoo-abc-42")

    def test_api_exceptions_and_faults(self):
        self.assertIsNone(mapping.api_exception({"Id": 1}))
        self.assertEqual(
            mapping.api_exception({"APIException": {"Type": "A.B.ParameterNotFoundException", "Message": "Gone"}}),
            "Gone (ParameterNotFoundException)",
        )
        self.assertEqual(
            tso_client.remote_message("Server was unable ---> Session is not authenticated"),
            ("Session is not authenticated"),
        )
        now = datetime(2026, 11, 21, 13, 20, tzinfo=UTC)
        message = "Limit exceeded by 1. Request is blocked. Quarantine ends at 2026-11-21 14:00:00 UTC"
        self.assertEqual(tso_client.quarantine_seconds(message, now), 2400)
        self.assertIsNone(tso_client.quarantine_seconds("Limit exceeded by 1.", now))
        self.assertEqual(tso_client.items(None, "Product"), [])
        self.assertEqual(tso_client.items({"Product": {"Id": 1}}, "Product"), [{"Id": 1}])


@tagged("post_install", "-at_install", "recruitment_sync")
class TestClient(TsoCase):
    def client(self, **options):
        return tso_client.TsoClient(
            self.fake.url,
            self.world.application_id,
            *MAIN_LOGIN,
            identity_of(self.world, MAIN_LOGIN[0]),
            session_key=("test", 1),
            **options,
        )

    def test_session_kept_then_checked_with_has_session(self):
        first = self.client()
        first.departments()
        self.assertEqual(first.client_id, MAIN_CLIENT_ID)
        second = self.client()
        second.departments()
        self.assertEqual((self.fake.logins, self.fake.calls["HasSession"]), (1, 0), "kept and recently checked")
        self.fake.expire_sessions()
        third = self.client()
        third.ensure_session(verify=True)
        self.assertEqual((self.fake.logins, self.fake.calls["HasSession"]), (2, 1), "dead: a new login")
        self.assertEqual(third.client_id, MAIN_CLIENT_ID)

    def test_expired_session_logs_in_once_more_then_gives_up(self):
        client = self.client()
        client.departments()
        self.fake.expire_sessions()
        client.departments()
        self.assertEqual(self.fake.logins, 2)
        self.fake.fail_next("GetDepartmentList", "Session is not authenticated", times=2)
        with self.assertRaisesRegex(RetryableError, "ended the new session"):
            client.departments()

    def test_login_errors(self):
        with self.assertRaisesRegex(tso_client.LoginError, "refused the user name or password"):
            tso_client.TsoClient(self.fake.url, self.world.application_id, MAIN_LOGIN[0], "wrong").login()
        with self.assertRaisesRegex(tso_client.LoginError, "refused the login"):
            tso_client.TsoClient(self.fake.url, "not-a-guid", *MAIN_LOGIN).login()
        with self.assertRaisesRegex(tso_client.LoginError, "application id"):
            tso_client.TsoClient(self.fake.url, "", *MAIN_LOGIN).login()
        blocked = next(login for login in self.world.logins if login.username == "blocked@nordlys.example")
        with self.assertRaisesRegex(tso_client.LoginError, "blocked"):
            tso_client.TsoClient(
                self.fake.url, self.world.application_id, "blocked@nordlys.example", blocked.password
            ).login()

    def test_request_limit_fault_pauses_the_limiter(self):
        limiter = RateLimiter(tso_client.RATE_WINDOWS)
        client = self.client(rate_limiter=limiter)
        client.ensure_session()
        self.fake.exceed_request_limit(MAIN_CLIENT_ID)
        with self.assertRaises(RetryableError) as caught:
            client.departments()
        self.assertGreater(caught.exception.retry_after, 0)
        self.assertGreater(limiter.seconds_until_allowed(), 0)
        with self.assertRaisesRegex(RetryableError, "request limit is used up"):
            client.departments()  # waits no longer than MAX_RATE_WAIT: the run pauses instead

    def test_transient_failures_of_reads_are_retried_saves_are_not(self):
        client = self.client()
        client.ensure_session()
        self.fake.inject(status=503, times=1)
        self.assertTrue(client.departments())
        self.fake.inject(status=503, times=1)
        with self.assertRaises(RetryableError):
            client.save_companies([{"Name": "X"}])
        self.fake.fail_next("GetDepartmentList", "Something broke")
        with self.assertRaisesRegex(PermanentError, "Something broke"):
            client.departments()

    def test_uncertain_and_throttled_answers_of_saves(self):
        client = self.client()
        client.get_companies({"CompanyId": 1}, ("Id",))  # the service's WSDL is loaded: only calls meet the faults
        # A page or a fault answering a save may hide the save: uncertain (search before resending).
        self.fake.inject(status=503, times=1, body="<html>Service Unavailable</html>", content_type="text/html")
        with self.assertRaises(RetryableError) as caught:
            client.save_companies([{"Name": "X"}])
        self.assertTrue(caught.exception.uncertain)
        self.fake.fail_next("SaveCompanies", "Server was unable to process request. ---> Timeout expired")
        with self.assertRaises(RetryableError) as caught:
            client.save_companies([{"Name": "X"}])
        self.assertTrue(caught.exception.uncertain)
        self.assertNotIn("retried later", str(caught.exception))
        # A request refused by the schema was certainly not processed.
        self.fake.fail_next("SaveCompanies", "Instance validation error: 'Bad' is not a valid value")
        with self.assertRaises(PermanentError):
            client.save_companies([{"Name": "X"}])
        # 429 without Retry-After: not processed, sent again after a back-off, even a save ...
        with patch.object(tso_client, "THROTTLE_BACKOFF", (0.0, 0.0, 0.0)):
            self.fake.inject(status=429, times=2)
            self.assertEqual(client.save_companies([{"Name": "Throttled"}])[0]["Name"], "Throttled")
            # ... then the run pauses (certainly not sent: nothing to search for).
            self.fake.inject(status=429, times=4)
            with self.assertRaises(RetryableError) as caught:
                client.save_companies([{"Name": "Y"}])
        self.assertEqual(caught.exception.retry_after, tso_client.THROTTLE_PAUSE)
        self.assertFalse(getattr(caught.exception, "uncertain", False))
        self.assertEqual(len([c for c in self.fake.client(MAIN_CLIENT_ID)["companies"] if c["Name"] == "Throttled"]), 1)

    def test_wsdls_are_loaded_once_per_process(self):
        tso_client.forget_wsdl_documents()
        self.fake.requests.clear()
        self.client().departments()
        self.client().departments()
        wsdl_requests = [r for r in self.fake.requests if r.method == "GET" and "wsdl" in r.args]
        self.assertEqual(len(wsdl_requests), 2)  # Authenticate and ClientService, once each
        with patch.object(tso_client, "_DOCUMENTS", {}):
            self.assertTrue(self.client().departments())
