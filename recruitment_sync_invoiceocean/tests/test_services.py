"""The pure mapping rules: tolerant amounts (comma decimals), names, tax numbers, documents, the client that
sends the token the documented way and never shows it."""

from odoo.tests import BaseCase, tagged

from odoo.addons.recruitment_sync.services.provider import PayloadError
from odoo.addons.recruitment_sync_invoiceocean.services import invoiceocean as io


@tagged("post_install", "-at_install", "recruitment_sync")
class TestMapping(BaseCase):
    def test_amounts_as_invoiceocean_writes_them(self):
        for text, expected in (
            ("339.99", "339.99"), ("59,00", "59.00"), ("1 234,5", "1234.5"), ("1,234.50", "1234.50"),
            ("1.234,50", "1234.50"), (60.23, "60.23"), ("0.0", "0.0"), (None, "0"),
        ):  # fmt: skip
            self.assertEqual(str(io.parse_money(text)), expected, text)
        for bad in ("abc", True, "NaN"):
            with self.assertRaises(PayloadError):
                io.parse_money(bad)

    def test_names_tax_numbers_prefixes(self):
        self.assertEqual(io.client_name({"name": "", "first_name": "Zoë", "last_name": "Wiśniewska"}), "Zoë Wiśniewska")
        with self.assertRaisesRegex(PayloadError, "no name"):
            io.client_name({"name": "  "})
        self.assertEqual(io.normalized_tax_number("PL 525-244-57-67"), io.normalized_tax_number("5252445767"))
        self.assertEqual(io.clean_prefix("https://Acme.invoiceocean.com/"), "acme")

    def test_document_summary(self):
        document = {
            "id": 7, "number": "1/12/2026", "kind": "vat", "status": "paid", "client_id": 3, "currency": "eur",
            "price_net": "1 000,50", "price_gross": "1230.62", "updated_at": "2026-12-01T10:00:00.000+01:00",
        }  # fmt: skip
        summary = io.document_summary(document, {"vat"})
        self.assertEqual((str(summary["price_net"]), summary["currency"]), ("1000.50", "EUR"))
        self.assertEqual(summary["updated_at"].isoformat(), "2026-12-01T09:00:00")
        self.assertIsNone(io.document_summary(document, {"proforma"}), "a kind not chosen")
        with self.assertRaisesRegex(PayloadError, "Unknown InvoiceOcean document kind"):
            io.document_summary({**document, "kind": "vat_rr"}, {"vat"})
        with self.assertRaisesRegex(PayloadError, "no client"):
            io.document_summary({**document, "client_id": None}, {"vat"})

    def test_positions(self):
        self.assertEqual(
            io.position_payload("Fee", 2.0, 10, 23.0),
            {"name": "Fee", "quantity": "2", "price_net": "10.00", "tax": "23"},
        )
        self.assertEqual(io.position_payload("Fee", 1, 10, "zw")["tax"], "zw")
        with self.assertRaises(PayloadError):
            io.position_payload(" ", 1, 10, 23)

    def test_token_in_query_and_body_never_in_messages(self):
        sent = []

        class Session:
            def request(self, method, url, **kwargs):
                sent.append((method, url, kwargs))
                raise OSError(f"connection refused for {url}")

        client = io.InvoiceOceanHttpClient(
            "https://acme.invoiceocean.com",
            api_token="s3cret-token",
            session=Session(),
            max_retries=0,
            sleep=lambda s: None,
        )
        with self.assertRaises(Exception) as caught:
            client.get("clients.json", params={"page": 1})
        self.assertEqual(sent[0][2]["params"]["api_token"], "s3cret-token")
        self.assertNotIn("s3cret-token", str(caught.exception))
        with self.assertRaises(Exception) as caught:
            client.post("clients.json", json={"client": {"name": "X"}})
        self.assertEqual(sent[1][2]["json"]["api_token"], "s3cret-token")
        self.assertNotIn("s3cret-token", str(caught.exception))
        self.assertEqual(
            client.remote_error_details({"code": "error", "message": {"oid": ["has already been taken"]}}),
            ["oid has already been taken"],
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestFirstMatchMerge(BaseCase):
    def test_what_one_side_lacks_comes_from_the_other(self):
        odoo = {"name": "Acme", "vat": "PL 525-244-57-67", "email": False, "city": False, "phone": "+47 1"}
        client = {"name": "Acme", "vat": "5252445767", "email": "A@acme.example", "city": "Oslo", "phone": False}
        updates, send = io.merge_first_match(odoo, client, odoo_is_newer=False)
        self.assertEqual(updates, {"email": "A@acme.example", "city": "Oslo"})
        self.assertTrue(send, "InvoiceOcean lacks the phone")

    def test_agreeing_sides_write_nothing(self):
        odoo = {"name": "Acme  Ltd", "vat": "PL5252445767", "email": "a@acme.example", "is_company": True}
        client = {"name": "Acme Ltd", "vat": "5252445767", "email": "A@Acme.example ", "is_company": True}
        self.assertEqual(io.merge_first_match(odoo, client, odoo_is_newer=True), ({}, False))

    def test_different_values_go_the_newer_sides_way(self):
        odoo = {"name": "Acme", "city": "Bergen", "is_company": True}
        client = {"name": "Acme", "city": "Oslo", "is_company": False}
        self.assertEqual(
            io.merge_first_match(odoo, client, odoo_is_newer=False), ({"city": "Oslo", "is_company": False}, False)
        )
        self.assertEqual(io.merge_first_match(odoo, client, odoo_is_newer=True), ({}, True))
