"""The pure rules of ``services/xero.py``: Xero's arithmetic, dates, keys, element results, headers."""

from datetime import date, datetime
from decimal import Decimal

from odoo.tests import BaseCase, tagged

from odoo.addons.recruitment_sync.services.http_client import AuthError
from odoo.addons.recruitment_sync.services.rate_limit import RateLimiter
from odoo.addons.recruitment_sync_xero.services import xero

from tests.fakes.xero import document_totals, line_totals  # noqa: I001


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Answer:
    def __init__(self, status=200, headers=None, payload=None):
        self.status_code = status
        self.headers = headers or {}
        self.content = b"" if payload is None else __import__("json").dumps(payload).encode()
        self.text = self.content.decode()
        self.reason = ""


@tagged("post_install", "-at_install", "recruitment_sync")
class TestXeroRules(BaseCase):
    def test_totals_round_each_line_as_xero_does(self):
        lines = [
            {"Quantity": 3, "UnitAmount": 33.3333, "rate": 20},
            {"Quantity": 1, "UnitAmount": 0.05, "rate": 20},  # 0.01 of tax: rounded per line
            {"Quantity": 2, "UnitAmount": 10.0, "DiscountRate": 12.5, "rate": 5},
        ]
        self.assertEqual(
            xero.xero_totals(lines, xero.EXCLUSIVE), (Decimal("117.55"), Decimal("20.89"), Decimal("138.44"))
        )
        self.assertEqual(xero.xero_totals(lines, xero.INCLUSIVE)[2], Decimal("117.55"))
        self.assertEqual(xero.xero_totals(lines, xero.NO_TAX), (Decimal("117.55"), Decimal(0), Decimal("117.55")))

    def test_totals_agree_with_the_fakes_arithmetic(self):
        """Two implementations of one contract rule (§10.3) agree on awkward amounts."""
        for amount_types in (xero.EXCLUSIVE, xero.INCLUSIVE):
            for quantity, unit, discount, rate in (
                (7, 12.3456, None, 20),
                (1.5, 0.3333, 33.33, 17.5),
                (-2, 49.995, None, 5),
                (37.5, 24.9875, 10, 15),
            ):
                line = {"Quantity": quantity, "UnitAmount": unit, "rate": rate}
                if discount:
                    line["DiscountRate"] = discount
                amount, tax, _discount = line_totals(line, rate, amount_types, unitdp=4)
                fake = document_totals([{"LineAmount": amount, "TaxAmount": tax}], amount_types)
                ours = xero.xero_totals([line], amount_types)
                self.assertEqual((ours[1], ours[2]), (fake["TotalTax"], fake["Total"]), (line, amount_types))

    def test_dates_in_both_forms(self):
        self.assertEqual(xero.parse_datetime("/Date(1777593600000+0000)/"), datetime(2026, 5, 1))
        self.assertEqual(xero.parse_datetime("\\/Date(1419937200000+1300)\\/"), datetime(2014, 12, 30, 11))
        self.assertEqual(xero.parse_date("/Date(1419937200000+1300)/"), date(2014, 12, 30), "the UTC day")
        self.assertEqual(xero.parse_datetime("2026-05-01T12:00:00.1234567"), datetime(2026, 5, 1, 12, 0, 0, 123456))
        self.assertEqual(xero.parse_datetime("2026-05-01T14:00:00+02:00"), datetime(2026, 5, 1, 12))
        self.assertIsNone(xero.parse_datetime(None))
        with self.assertRaises(xero.PayloadError):
            xero.parse_datetime("yesterday")
        self.assertEqual(xero.format_if_modified_since(datetime(2026, 5, 1, 12, 0, 0, 5)), "2026-05-01T12:00:00")

    def test_idempotency_keys_follow_the_content(self):
        body = {"Invoices": [{"InvoiceNumber": "INV/1", "LineItems": [{"UnitAmount": 10}]}]}
        key = xero.idempotency_key("odoo-ab-1", "PUT", "Invoices", body)
        self.assertEqual(key, xero.idempotency_key("odoo-ab-1", "PUT", "Invoices", body), "stable on retry")
        changed = {"Invoices": [{"InvoiceNumber": "INV/1", "LineItems": [{"UnitAmount": 11}]}]}
        self.assertNotEqual(key, xero.idempotency_key("odoo-ab-1", "PUT", "Invoices", changed))
        self.assertNotEqual(key, xero.idempotency_key("odoo-ab-1", "POST", "Invoices", body))
        self.assertLessEqual(len(key), xero.IDEMPOTENCY_KEY_MAX)

    def test_element_results(self):
        self.assertEqual(xero.element_errors({"StatusAttributeString": "OK", "HasErrors": False}), [])
        failed = {
            "StatusAttributeString": "ERROR",
            "ValidationErrors": [{"Message": "Invoice # must be unique."}, {"Message": "Invoice # must be unique."}],
        }
        self.assertEqual(xero.element_errors(failed), ["Invoice # must be unique."])
        self.assertEqual(xero.element_errors({"HasValidationErrors": True}), ["Xero refused it without saying why."])

    def test_tax_rate_use_rate_and_contact_numbers(self):
        self.assertEqual(xero.tax_use({"ReportTaxType": "OUTPUT"}), "sale")
        self.assertEqual(xero.tax_use({"ReportTaxType": "INPUT"}), "purchase")
        self.assertEqual(xero.tax_use({"ReportTaxType": "NONE", "CanApplyToRevenue": True}), "sale")
        self.assertEqual(xero.tax_use({"ReportTaxType": "NONE", "CanApplyToRevenue": False}), "other")
        self.assertEqual(xero.effective_rate({"EffectiveRate": "12.5000"}), 12.5)
        self.assertEqual(xero.effective_rate({"TaxComponents": [{"Rate": 2.25}, {"Rate": 5}]}), 7.25)
        uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        other = "11111111-2222-3333-4444-555555555555"
        number = xero.contact_number(uuid, 42)
        self.assertEqual(number, "ODOO-0f1e2d3c4b5a69788796a5b4c3d2e1f0-42")
        self.assertLessEqual(len(xero.contact_number(uuid, 10**11)), xero.CONTACT_NUMBER_MAX)
        self.assertEqual(xero.partner_id_from_contact_number(number, uuid), 42)
        self.assertEqual(xero.partner_id_from_contact_number(number.upper(), uuid), 42)
        # Another database's code, the old form, or anything else names no partner of this database.
        self.assertIsNone(xero.partner_id_from_contact_number(xero.contact_number(other, 42), uuid))
        self.assertIsNone(xero.partner_id_from_contact_number("ODOO-RP-42", uuid))
        self.assertIsNone(xero.partner_id_from_contact_number("CUST-1", uuid))
        self.assertIsNone(xero.partner_id_from_contact_number(number, ""))
        for code in (number, xero.contact_number(other, 7), "ODOO-RP-42", "odoo-rp-42"):
            self.assertTrue(xero.is_connector_contact_number(code), code)
        for code in ("CUST-1", "ODOO-RP-", "ODOO-42", ""):
            self.assertFalse(xero.is_connector_contact_number(code), code)

    def test_addresses(self):
        self.assertEqual(xero.connections_url("https://api.xero.com/api.xro/2.0"), "https://api.xero.com/connections")
        self.assertEqual(xero.connections_url("http://127.0.0.1:9/api.xro/2.0/"), "http://127.0.0.1:9/connections")
        self.assertEqual(
            xero.deep_link("invoice", "abc", "!xY12z"), "https://go.xero.com/app/!xY12z/invoicing/view/abc"
        )
        self.assertIn("shortcode=!xY12z", xero.deep_link("credit_note", "abc", "!xY12z"))
        self.assertEqual(
            xero.deep_link("invoice", "abc"), "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=abc"
        )
        self.assertEqual(
            xero.deep_link("invoice", "abc", "!xY12z", "http://127.0.0.1:8072/"),
            "http://127.0.0.1:8072/app/!xY12z/invoicing/view/abc",
            "a sandbox's links lead to its stand-in",
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestXeroClientHeaders(BaseCase):
    def client(self, limiter):
        return xero.XeroHttpClient("https://api.xero.com/api.xro/2.0", tenant_id="t1", rate_limiter=limiter)

    def test_remaining_calls_that_agree_with_the_limiter_change_nothing(self):
        time = FakeTime()
        limiter = RateLimiter([(60, 60.5)], clock=time.clock, sleep=time.sleep)
        for _call in range(60):
            with limiter.acquire():
                pass
        wait = limiter.seconds_until_allowed()
        self.client(limiter)._note_rate_limit_headers(Answer(headers={xero.MINUTE_HEADER: "0"}))
        self.assertEqual(limiter.seconds_until_allowed(), wait, "no whole extra minute after the 60th call")

    def test_xero_counting_more_calls_than_we_did_pauses_the_limiter(self):
        time = FakeTime()
        limiter = RateLimiter([(60, 60.5)], clock=time.clock, sleep=time.sleep)
        client = self.client(limiter)
        client._note_rate_limit_headers(Answer(headers={xero.MINUTE_HEADER: "5", xero.DAY_HEADER: "4000"}))
        self.assertEqual(limiter.seconds_until_allowed(), 0.0)
        client._note_rate_limit_headers(Answer(headers={xero.MINUTE_HEADER: "0"}))
        self.assertEqual(limiter.seconds_until_allowed(), 60.0, "another app used this tenant's minute")
        self.assertEqual(client.last_remaining, {xero.MINUTE_HEADER: 0, xero.DAY_HEADER: 4000})

    def test_validation_errors_of_a_refused_request_say_what_to_fix(self):
        answer = Answer(
            400,
            {"Content-Type": "application/json"},
            {
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A validation exception occurred",
                "Elements": [{"ValidationErrors": [{"Message": "Email address must be valid."}]}],
            },
        )
        error = self.client(None)._status_error(answer, {"method": "PUT", "target": "/Contacts"})
        self.assertEqual(error.remote_message, "A validation exception occurred: Email address must be valid.")
        self.assertEqual(self.client(None).remote_error_details(None), [])

    def test_organisation_disconnected_is_an_auth_error_with_the_correlation_id(self):
        client = self.client(None)
        answer = Answer(
            403,
            {xero.CORRELATION_HEADER: "c-123", "Content-Type": "application/json"},
            {"Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"},
        )
        error = client._status_error(answer, {"method": "GET", "target": "/Invoices"})
        self.assertIsInstance(error, AuthError)
        self.assertIn("Reconnect the integration", str(error))
        self.assertIn("Xero-Correlation-Id c-123", str(error))
