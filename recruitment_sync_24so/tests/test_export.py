"""The export of selected invoices to the fake 24SevenOffice, through zeep over loopback HTTP."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.recruitment_sync.models.recruitment_sync_run import RecruitmentSyncRun
from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter

from ..services import tso_client
from .common import BERGEN_LOGIN, MAIN_CLIENT_ID, SECOND_CLIENT_ID, TsoCase, identity_of


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExport(TsoCase):
    # ------------------------------------------------------------------------ the basics
    def test_invoice_exported_as_24so_wants_it(self):
        invoice = self.make_invoice(
            lines=[(self.product_known, 2, 1122062.5), (self.product_new, 1.5, 99.5)],
            invoice_date=date(2026, 11, 20),
            invoice_date_due=date(2026, 12, 4),
            ref="PO-77",
        )
        runs = self.export(invoice)
        status, number, reason = self.receipt(runs)[invoice.name]
        self.assertEqual(status, "exported", reason)
        [order] = self.orders_for(invoice)
        self.assertEqual(str(order["InvoiceId"]), number)
        self.assertEqual(order["OrderStatus"], "Invoiced")
        # Local calendar dates at midnight, without a zone; payment terms in days.
        self.assertEqual(order["DateInvoiced"], datetime(2026, 11, 20))
        self.assertEqual(order["DateOrdered"], datetime(2026, 11, 20))
        self.assertEqual(order["PaymentTime"], 14)
        self.assertEqual(order["ReferenceNumber"], invoice.name)
        self.assertEqual(order["YourReference"], "PO-77")
        self.assertEqual(order["DepartmentId"], 1)  # Oslo
        rows = order["InvoiceRows"]
        self.assertEqual([row["Quantity"] for row in rows], [Decimal("2"), Decimal("1.5")])
        self.assertEqual([row["Price"] for row in rows], [Decimal("1122062.50"), Decimal("99.50")])
        self.assertEqual({row["DepartmentId"] for row in rows}, {1})
        # Fixed-point decimals on the wire, never scientific notation.
        body = next(r.body for r in reversed(self.fake.requests) if b"SaveInvoices" in r.body[:600])
        self.assertIn(b"1122062.50", body)
        self.assertNotIn(b"E+", body)
        # The invoice form shows its 24SevenOffice status and number.
        self.assertEqual((invoice.tso_status, invoice.tso_invoice_number), ("exported", number))
        # One login, one SaveInvoices; the invoice number read back with GetInvoices.
        self.assertEqual(self.fake.logins, 1)
        self.assertEqual(self.fake.calls["SaveInvoices"], 1)
        self.assertEqual(runs.state, "done", runs.summary)
        self.assertEqual(runs.exported_count, 1)

    def test_receipt_lines_are_in_transfer_before_the_runner_sends_anything(self):
        invoices = self.make_invoice() | self.make_invoice()
        runs = self.export(invoices, process=False)
        self.assertEqual(self.fake.soap_calls, 0, "nothing is sent from the user's transaction")
        self.assertEqual(set(self.receipt(runs).values()), {("in_transfer", None, "")})
        self.assertEqual(runs.queued_count, 2)
        self.assertEqual(invoices.mapped("tso_status"), ["in_transfer", "in_transfer"])
        self.assertEqual((runs.state, runs.direction), ("queued", "export"))
        # The receipt stays in the Sync History: the run and its lines.
        self.assertIn(runs, self.Run.search([("integration_id", "=", self.integration.id)]))
        self.process_runs()
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        self.assertEqual(runs.queued_count, 0)

    def test_only_posted_customer_invoices_are_exported(self):
        draft = self.make_invoice(post=False)
        posted = self.make_invoice()
        runs = self.export(draft | posted)
        receipt = self.receipt(runs)
        self.assertEqual(receipt[posted.name][0], "exported")
        self.assertEqual(receipt[draft.name][0], "failed")
        self.assertIn("posted customer invoices", receipt[draft.name][2])
        with self.assertRaisesRegex(Exception, "posted customer invoices"):
            draft.action_tso_export()

    def test_fifty_invoices_per_save_invoices_call(self):
        invoices = self.env["account.move"].concat(*(self.make_invoice() for _index in range(60)))
        runs = self.export(invoices)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        self.assertEqual(self.fake.calls["SaveInvoices"], 2)  # 50 + 10
        self.assertEqual(self.fake.logins, 1)
        # The numbers, once per batch; no lookup before sending: the customer was created by this
        # run, so 24SevenOffice holds none of its invoices.
        self.assertEqual(self.fake.calls["GetInvoices"], 2)
        self.assertLessEqual(self.fake.calls["GetProducts"] + self.fake.calls["GetCompanies"], 3)

    def test_products_and_customers_of_a_whole_run_are_created_at_its_first_batch(self):
        # Two batches (50 + 10) whose invoices need different new products and customers: one
        # SaveProducts and one SaveCompanies for the run, not one per batch.
        first_customer, later_customer = self.env["res.partner"].create(
            [{"name": "Første Kunde AS", "is_company": True}, {"name": "Senere Kunde AS", "is_company": True}]
        )
        first_product, later_product = self.make_product("RUN-NEW-1"), self.make_product("RUN-NEW-2")
        first = [self.make_invoice(partner=first_customer, lines=[(first_product, 1, 10.0)]) for _index in range(50)]
        later = [self.make_invoice(partner=later_customer, lines=[(later_product, 1, 10.0)]) for _index in range(10)]
        runs = self.export(self.env["account.move"].concat(*first, *later))
        receipt = self.receipt(runs)
        self.assertEqual({status for status, *_rest in receipt.values()}, {"exported"}, receipt)
        self.assertEqual(self.fake.calls["SaveInvoices"], 2)
        self.assertEqual((self.fake.calls["SaveProducts"], self.fake.calls["SaveCompanies"]), (1, 1))
        self.assertEqual(len(runs.line_ids.filtered(lambda line: line.kind in ("products", "customers"))), 4)
        # An invoice of the later batch still says what was created for it (created at the first batch).
        self.assertIn("no organisation number", receipt[later[0].name][2])
        self.assertNotEqual(self.customer_of(first[0]), self.customer_of(later[0]))

    def test_an_order_id_is_committed_the_moment_save_invoices_answers(self):
        invoice = self.make_invoice()
        seen = []
        Transfer = self.Transfer

        def commit(run):
            transfer = Transfer.search([("move_id", "=", invoice.id)])
            line = self.Line.search([("tso_move_id", "=", invoice.id)])
            seen.append((transfer.state, transfer.order_ref, line.tso_status))

        with patch.object(RecruitmentSyncRun, "_commit", commit):
            self.export(invoice)
        order_id = self.orders_for(invoice)[0]["OrderId"]
        # "sending" is committed before the call, the OrderId right after its answer, before
        # the invoice number is read and the receipt line settled.
        self.assertIn(("sending", 0, "in_transfer"), seen)
        self.assertIn(("saved", order_id, "in_transfer"), seen)
        self.assertLess(seen.index(("sending", 0, "in_transfer")), seen.index(("saved", order_id, "in_transfer")))

    # ------------------------------------------------------------------------ logins
    def test_invoices_go_through_the_login_of_their_department(self):
        oslo = self.make_invoice(department=self.oslo)
        bergen = self.make_invoice(department=self.bergen)
        tromso = self.make_invoice(department=self.tromso)  # no own login: the "all departments" one
        runs = self.export(oslo | bergen | tromso)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        self.assertEqual(self.fake.logins_by_user, {"api@nordlys.example": 1, "bergen@nordlys.example": 1})
        self.assertEqual(self.orders_for(bergen)[0]["DepartmentId"], 300)
        self.assertNotIn("DepartmentId", self.orders_for(tromso)[0])  # Tromsø has no 24SO number

    def test_department_without_login_is_a_login_error_without_any_call(self):
        self.main_login.write({"department_scope": "specific", "department_ids": [Command.set(self.oslo.ids)]})
        tromso = self.make_invoice(department=self.tromso)
        runs = self.export(tromso)
        status, _number, reason = self.receipt(runs)[tromso.name]
        self.assertEqual(status, "login_error")
        self.assertIn("Tromsø", reason)
        self.assertEqual(self.fake.soap_calls, 0)
        self.assertEqual(runs.state, "done_errors")
        self.assertEqual(tromso.tso_status, "login_error")

    def test_failed_login_is_a_login_error_for_its_invoices_only(self):
        self.bergen_login.password = "wrong"
        oslo = self.make_invoice(department=self.oslo)
        bergen = self.make_invoice(department=self.bergen)
        bergen_too = self.make_invoice(department=self.bergen)
        runs = self.export(oslo | bergen | bergen_too)
        receipt = self.receipt(runs)
        self.assertEqual(receipt[oslo.name][0], "exported")
        for move in bergen | bergen_too:
            self.assertEqual(receipt[move.name][0], "login_error")
            self.assertIn("refused the user name or password", receipt[move.name][2])
        self.assertEqual(self.fake.failed_logins, 1, "one failed login, not one per invoice")
        self.assertEqual(self.bergen_login.state, "failed")
        self.assertFalse(self.orders_for(bergen))

    def test_login_failing_mid_export_is_a_login_error_not_a_reconnect(self):
        self.export(self.make_invoice())  # the process keeps the session
        invoice = self.make_invoice()
        self.fake.expire_sessions_before("SaveInvoices")
        self.fake.fail_next("Login", "The provided IdentityId is blocked")  # the new login
        runs = self.export(invoice)
        status, _number, reason = self.receipt(runs)[invoice.name]
        self.assertEqual(status, "login_error")
        self.assertIn("blocked", reason)
        self.assertEqual(self.integration.state, "connected")
        self.assertEqual(runs.state, "done_errors")
        self.assertFalse(self.orders_for(invoice))

    def test_identity_the_login_cannot_reach_is_a_login_error(self):
        # The Bergen login is given the identity of another user (in another client).
        stranger = identity_of(self.world, "fjord@fjord.example", SECOND_CLIENT_ID)
        self.bergen_login.identity_id = self.env["recruitment.sync.24so.identity"].create(
            {"credential_id": self.bergen_login.id, "guid": stranger}
        )
        bergen = self.make_invoice(department=self.bergen)
        oslo = self.make_invoice(department=self.oslo)
        runs = self.export(bergen | oslo)
        receipt = self.receipt(runs)
        self.assertEqual(receipt[bergen.name][0], "login_error")
        self.assertIn("IdentityId", receipt[bergen.name][2])
        self.assertEqual(receipt[oslo.name][0], "exported")

    def test_identity_chooses_the_client_invoices_go_to(self):
        second = identity_of(self.world, "api@nordlys.example", SECOND_CLIENT_ID)
        self.main_login.identity_id.guid = second
        tso_client.SESSIONS.clear()
        invoice = self.make_invoice(department=self.tromso, currency_id=self.env.ref("base.USD").id)
        runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "exported", self.receipt(runs))
        self.assertTrue(self.orders_for(invoice, client_id=SECOND_CLIENT_ID))
        self.assertFalse(self.orders_for(invoice, client_id=MAIN_CLIENT_ID))

    # ------------------------------------------------------------------------ sessions, limits
    def test_one_session_reused_across_exports_and_checked_before_reuse(self):
        first = self.export(self.make_invoice())
        second = self.export(self.make_invoice())
        self.assertEqual(self.status(first, first.line_ids.tso_move_id), "exported")
        self.assertEqual(self.status(second, second.line_ids.tso_move_id), "exported")
        self.assertEqual(self.fake.logins, 1)
        self.assertEqual(self.fake.calls["HasSession"], 1, "the kept session is checked when an export starts")

    def test_session_expiring_mid_export_logs_in_once_more(self):
        invoices = self.env["account.move"].concat(*(self.make_invoice() for _index in range(3)))
        self.fake.expire_sessions_before("SaveInvoices")
        runs = self.export(invoices)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        self.assertEqual(self.fake.logins, 2)
        self.assertEqual(self.fake.calls["SaveInvoices"], 2)  # refused (no session), then sent
        self.assertFalse(self.fake.duplicates())

    def test_request_limit_pauses_the_export_which_resumes_later(self):
        invoices = self.make_invoice() | self.make_invoice()
        self.fake.exceed_request_limit(MAIN_CLIENT_ID)
        runs = self.export(invoices)
        self.assertEqual(runs.state, "running")
        self.assertTrue(runs.resume_at and runs.resume_at > fields.Datetime.now())
        self.assertIn("request limit", runs.pause_reason)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"in_transfer"})
        self.assertFalse(self.fake.client(MAIN_CLIENT_ID)["invoices"][5:], "nothing saved")
        # Woken too early: our own limiter (paused by 24SevenOffice's answer) pauses it again,
        # without a call.
        self.fake.set_request_limit(7200)
        self.fake.reset_counters()
        runs.resume_at = fields.Datetime.now() - timedelta(seconds=1)
        self.process_runs()
        self.assertEqual(runs.state, "running")
        self.assertGreater(runs.resume_at, fields.Datetime.now())
        self.assertIn("request limit is used up", runs.pause_reason)
        self.assertEqual(self.fake.soap_calls, 0)
        # The quarantine is over: the run goes on by itself.
        drop_rate_limiter((self.env.cr.dbname, self.integration.id))
        runs.resume_at = fields.Datetime.now() - timedelta(seconds=1)
        self.process_runs()
        self.assertEqual(runs.state, "done", runs.summary)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        self.assertFalse(self.fake.duplicates())

    # ------------------------------------------------------------------------ never twice
    def test_invoice_already_exported_is_not_sent_again(self):
        invoice = self.make_invoice()
        first = self.export(invoice)
        number = self.receipt(first)[invoice.name][1]
        second = self.export(invoice)
        status, again, reason = self.receipt(second)[invoice.name]
        self.assertEqual((status, again), ("already_exists", number))
        self.assertIn("not sent again", reason)
        self.assertEqual(self.fake.calls["SaveInvoices"], 1)
        self.assertEqual(len(self.orders_for(invoice)), 1)
        self.assertEqual((invoice.tso_status, invoice.tso_invoice_number), ("exported", number))

    def test_timeout_after_24so_saved_the_invoice_is_found_not_duplicated(self):
        invoices = self.make_invoice() | self.make_invoice()
        self.fake.timeout_after_commit("SaveInvoices", mode="drop")
        runs = self.export(invoices)
        for invoice in invoices:
            status, number, reason = self.receipt(runs)[invoice.name]
            self.assertEqual(status, "already_exists", reason)
            self.assertEqual(number, str(self.orders_for(invoice)[0]["InvoiceId"]))
            self.assertIn("answer was lost", reason)
        self.assertEqual(self.fake.calls["SaveInvoices"], 1, "found by its reference: not sent again")
        self.assertFalse(self.fake.duplicates())

    def test_an_invoice_no_answer_names_is_searched_for_never_resent_blindly(self):
        """Binder.pair: a saved invoice whose answer is missing is uncertain, not refused."""
        invoices = self.make_invoice() | self.make_invoice()
        original = tso_client.TsoClient.save_invoices

        def answers_but_one(client, payloads):
            return original(client, payloads)[:-1]  # 24SevenOffice saved both; one answer is lost

        with patch.object(tso_client.TsoClient, "save_invoices", answers_but_one):
            runs = self.export(invoices)
        lost = invoices[1]
        status, _number, reason = self.receipt(runs)[lost.name]
        self.assertEqual(status, "failed")
        self.assertIn("Outcome unknown", reason)
        self.assertEqual(self.Transfer.search([("move_id", "=", lost.id)]).state, "sending")
        self.assertEqual(self.status(runs, invoices[0]), "exported")
        again = self.export(lost)
        self.assertEqual(self.status(again, lost), "already_exists", "found in 24SevenOffice by its reference")
        self.assertEqual(len(self.orders_for(lost)), 1)
        self.assertFalse(self.fake.duplicates())

    def test_slow_answer_past_the_timeout_is_found_on_retry(self):
        invoice = self.make_invoice()
        self.fake.timeout_after_commit("SaveInvoices", mode="delay", delay=3)
        with patch.object(tso_client, "DEFAULT_TIMEOUT", 1):
            runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "already_exists")
        self.assertEqual(len(self.orders_for(invoice)), 1)

    def test_interrupted_run_searches_before_sending_again(self):
        """A transfer left *sending* by a crash: the next export finds the invoice, or sends it."""
        saved = self.make_invoice()
        lost = self.make_invoice()
        first = self.export(saved | lost)
        order = self.orders_for(saved)[0]
        # As if the run had crashed after sending, before the answers were stored:
        self.Transfer.search([("move_id", "in", (saved | lost).ids)]).write(
            {"state": "sending", "order_ref": False, "invoice_number": False, "sent_at": fields.Datetime.now()}
        )
        with self.fake.data_lock:  # ... and only the first one had reached 24SevenOffice.
            store = self.fake.client(MAIN_CLIENT_ID)
            store["invoices"] = [o for o in store["invoices"] if o.get("ReferenceNumber") != lost.name]
        self.fake.reset_counters()
        second = self.export(saved | lost)
        self.assertEqual(self.receipt(second)[saved.name][:2], ("already_exists", str(order["InvoiceId"])))
        self.assertEqual(self.receipt(second)[lost.name][0], "exported")
        self.assertEqual(self.fake.calls["GetInvoices"], 3)  # the search, the lookup before sending, the new number
        self.assertFalse(self.fake.duplicates())
        self.assertEqual(self.receipt(first)[lost.name][0], "exported")

    # ------------------------------------------------------------------------ products
    def test_products_found_created_and_bound(self):
        invoice = self.make_invoice(lines=[(self.product_known, 1, 10.0), (self.product_new, 1, 20.0)])
        runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "exported")
        products = {p["No"]: p for p in self.fake.client(MAIN_CLIENT_ID)["products"]}
        created = products["ODOO-NEW-1"]
        self.assertEqual((created["Name"], created["CategoryId"]), ("Odoo-only service", 30))
        bindings = self.Binding.search(
            [("res_model", "=", "product.product"), ("integration_id", "=", self.integration.id)]
        )
        self.assertEqual(
            {(b.res_id, b.external_model, b.external_id) for b in bindings},
            {
                (self.product_known.id, "product@1001", str(products["P00002"]["Id"])),
                (self.product_new.id, "product@1001", str(created["Id"])),
            },
        )
        lines = runs.line_ids.filtered(lambda line: line.kind == "products")
        self.assertEqual(lines.mapped("res_id"), self.product_new.ids)
        # Next time: the stored ids, confirmed in one call, no search by number.
        self.fake.reset_counters()
        self.export(self.make_invoice(lines=[(self.product_known, 1, 10.0), (self.product_new, 1, 20.0)]))
        self.assertEqual(self.fake.calls["GetProducts"], 1)
        self.assertEqual(self.fake.calls["SaveProducts"], 0)

    def test_many_unknown_numbers_are_looked_up_in_one_call(self):
        numbers = [f"P{number:05d}" for number in range(10, 40)]
        numbers = [number for number in numbers if number not in self.world.ambiguous_numbers][:12]
        products = [self.make_product(number) for number in numbers]
        products += [self.make_product(f"NEW-{number}") for number in range(6)]
        invoice = self.make_invoice(lines=[(product, 1, 5.0) for product in products])
        runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "exported", self.receipt(runs))
        # The catalog is read once, category by category (every product has one, dated or not):
        # the 6 numbers it lacks are created without a lookup each.
        categories = self.fake.client(MAIN_CLIENT_ID)["categories"]
        self.assertEqual((self.fake.calls["GetCategories"], self.fake.calls["GetProducts"]), (1, len(categories)))
        self.assertEqual(self.fake.calls["SaveProducts"], 1)

    def test_ambiguous_product_number_fails_its_invoice_only(self):
        number = self.world.ambiguous_numbers[0]
        twin = self.make_product(number)
        bad = self.make_invoice(lines=[(twin, 1, 10.0)])
        good = self.make_invoice()
        runs = self.export(bad | good)
        status, _number, reason = self.receipt(runs)[bad.name]
        self.assertEqual(status, "failed")
        self.assertIn(f"2 products numbered {number}", reason)
        self.assertEqual(self.status(runs, good), "exported")
        self.assertFalse(self.orders_for(bad))

    def test_missing_product_category_fails_invoices_needing_a_new_product(self):
        self.main_login.product_category_ref = 0
        needs_new = self.make_invoice(lines=[(self.product_new, 1, 10.0)])
        known = self.make_invoice()
        runs = self.export(needs_new | known)
        status, _number, reason = self.receipt(runs)[needs_new.name]
        self.assertEqual(status, "failed")
        self.assertIn("no category of new products", reason)
        self.assertEqual(self.status(runs, known), "exported")

    def test_unknown_product_category_in_24so_fails_with_its_message(self):
        self.main_login.product_category_ref = 999
        needs_new = self.make_invoice(lines=[(self.product_new, 1, 10.0)])
        runs = self.export(needs_new)
        status, _number, reason = self.receipt(runs)[needs_new.name]
        self.assertEqual(status, "failed")
        self.assertIn("did not create the product", reason)
        self.assertIn("999", reason)

    def test_lines_without_product(self):
        priced = self.make_invoice(lines=[(self.product_known, 1, 10.0), (None, 2, 30.0, "Travel costs")])
        runs = self.export(priced)
        self.assertEqual(self.status(runs, priced), "failed")
        self.assertIn("no product", self.receipt(runs)[priced.name][2])
        generic = self.make_product("GENERIC", name="Diverse")
        self.integration.tso_generic_product_id = generic
        again = self.make_invoice(lines=[(self.product_known, 1, 10.0), (None, 2, 30.0, "Travel costs")])
        runs = self.export(again)
        self.assertEqual(self.status(runs, again), "exported", self.receipt(runs))
        rows = self.orders_for(again)[0]["InvoiceRows"]
        self.assertEqual(rows[1]["Name"], "Travel costs")
        self.assertEqual(rows[1]["ProductNo"], "GENERIC")
        # A line without amount (a note) is a text row.
        note = self.make_invoice(lines=[(self.product_known, 1, 10.0), (None, 1, 0.0, "Delivered from Oslo")])
        self.integration.tso_generic_product_id = False
        runs = self.export(note)
        self.assertEqual(self.status(runs, note), "exported", self.receipt(runs))
        text = self.orders_for(note)[0]["InvoiceRows"][1]
        self.assertEqual((text["Type"], text["Name"]), ("Text", "Delivered from Oslo"))

    # ------------------------------------------------------------------------ customers
    def external_key(self, partner):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"odoo-{uuid}-{partner.id}"

    def customer_of(self, invoice):
        return self.orders_for(invoice)[0]["CustomerId"]

    def test_customer_created_with_our_external_id_and_bound(self):
        invoice = self.make_invoice()
        runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "exported")
        company = next(c for c in self.fake.client()["companies"] if c["Id"] == self.customer_of(invoice))
        self.assertEqual(company["ExternalId"], self.external_key(self.customer))
        self.assertEqual(company["OrganizationNumber"], "912345674")
        self.assertEqual(company["Type"], "Business")
        binding = self.Binding.search([("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)])
        self.assertEqual((binding.external_model, binding.external_id), ("company@1001", str(company["Id"])))

    def test_customer_matched_by_stored_id(self):
        company = self.fake.add_company("Renamed in 24SO AS")
        self.Binding._bind(self.integration, self.customer, str(company["Id"]), "company@1001")
        invoice = self.make_invoice()
        self.export(invoice)
        self.assertEqual(self.customer_of(invoice), company["Id"])
        self.assertEqual(self.fake.calls["SaveCompanies"], 0)

    def test_stored_id_gone_from_24so_falls_back_to_the_other_rules(self):
        self.Binding._bind(self.integration, self.customer, "999999", "company@1001")
        invoice = self.make_invoice()
        runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "exported")
        self.assertNotEqual(self.customer_of(invoice), 999999)

    def test_customer_matched_by_external_id(self):
        company = self.fake.add_company("Kunde Nord AS", external_id=self.external_key(self.customer))
        invoice = self.make_invoice()
        self.export(invoice)
        self.assertEqual(self.customer_of(invoice), company["Id"])
        self.assertEqual(self.fake.calls["SaveCompanies"], 0)

    def test_customer_matched_by_organisation_number(self):
        company = self.fake.add_company("Nord Kunde (24SO name)", organization_number="912 345 674")
        invoice = self.make_invoice()
        self.export(invoice)
        self.assertEqual(self.customer_of(invoice), company["Id"])
        self.assertEqual(self.fake.calls["SaveCompanies"], 0)

    def test_customer_never_matched_by_name_alone(self):
        twin = self.fake.add_company("Kunde Nord AS")  # same name, no organisation number
        invoice = self.make_invoice()
        self.export(invoice)
        self.assertNotEqual(self.customer_of(invoice), twin["Id"])
        self.assertEqual(self.fake.calls["SaveCompanies"], 1)

    def test_two_customers_with_the_organisation_number_is_ambiguous(self):
        self.fake.add_company("Kunde A", organization_number="912345674")
        self.fake.add_company("Kunde B", organization_number="912345674")
        invoice = self.make_invoice()
        runs = self.export(invoice)
        status, _number, reason = self.receipt(runs)[invoice.name]
        self.assertEqual(status, "failed")
        self.assertIn("ambiguous", reason)

    def test_many_customers_are_matched_from_one_directory_call(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Batch kunde {index}", "is_company": True} for index in range(8)]
        )
        known = self.fake.add_company("Batch kunde 0 (24SO)", external_id=self.external_key(partners[0]))
        invoices = self.env["account.move"].concat(*(self.make_invoice(partner=partner) for partner in partners))
        runs = self.export(invoices)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        # The directory: every customer's id (one sync-list page), their keys and numbers (one call by ids);
        # no lookup per customer.
        self.assertEqual((self.fake.calls["GetCompanySyncList"], self.fake.calls["GetCompanies"]), (1, 1))
        self.assertEqual(self.fake.calls["SaveCompanies"], 1)
        self.assertEqual(self.customer_of(invoices[0]), known["Id"])

    def test_customer_without_organisation_number_and_private_customer(self):
        business = self.env["res.partner"].create({"name": "Uten Orgnr AS", "is_company": True})
        person = self.env["res.partner"].create({"name": "Kari Nordmann", "email": "kari@example.no"})
        plain = self.make_invoice(partner=business)
        private = self.make_invoice(partner=person)
        runs = self.export(plain | private)
        status, _number, reason = self.receipt(runs)[plain.name]
        self.assertEqual(status, "exported")
        self.assertIn("no organisation number", reason)
        self.assertEqual(self.status(runs, private), "exported")
        company = next(c for c in self.fake.client()["companies"] if c["Id"] == self.customer_of(private))
        self.assertEqual(
            (company["Type"], company.get("FirstName"), company["Name"], company.get("Private")),
            ("Consumer", "Kari", "Nordmann", True),
        )

    # ------------------------------------------------------------------------ bad input
    def test_too_long_names_are_truncated_not_refused(self):
        partner = self.env["res.partner"].create({"name": "Langt Navn " * 30, "is_company": True})
        product = self.make_product("LONG-1", name="Produkt " * 30)
        invoice = self.make_invoice(partner=partner, lines=[(product, 1, 10.0, "Linje " * 80)], ref="R" * 80)
        runs = self.export(invoice)
        self.assertEqual(self.status(runs, invoice), "exported", self.receipt(runs))
        order = self.orders_for(invoice)[0]
        self.assertEqual(len(order["YourReference"]), 50)
        self.assertLessEqual(len(order["InvoiceRows"][0]["Name"]), 300)
        company = next(c for c in self.fake.client()["companies"] if c["Id"] == order["CustomerId"])
        self.assertLessEqual(len(company["Name"]), 200)
        created = next(p for p in self.fake.client()["products"] if p["No"] == "LONG-1")
        self.assertLessEqual(len(created["Name"]), 125)

    def test_unknown_department_number_fails_its_invoices_only(self):
        self.tromso.tso_department_ref = 999
        bad = self.make_invoice(department=self.tromso)
        good = self.make_invoice(department=self.oslo)
        runs = self.export(bad | good)
        status, _number, reason = self.receipt(runs)[bad.name]
        self.assertEqual(status, "failed")
        self.assertIn("no department 999", reason)
        self.assertEqual(self.status(runs, good), "exported")

    def test_item_refused_by_24so_fails_alone(self):
        first = self.make_invoice()
        second = self.make_invoice()
        self.fake.fail_items("SaveInvoices", "Timeout expired", times=1)
        runs = self.export(first | second)
        receipt = self.receipt(runs)
        self.assertEqual(receipt[first.name][0], "failed")
        self.assertIn("Timeout expired", receipt[first.name][2])
        self.assertEqual(receipt[second.name][0], "exported")
        # Refused, not uncertain: the next export sends it without searching first.
        self.fake.reset_counters()
        again = self.export(first)
        self.assertEqual(self.status(again, first), "exported")
        self.assertEqual(self.fake.calls["GetInvoices"], 2)  # the lookup of its number before sending, then its number

    # ------------------------------------------------------------------------ credit notes
    def test_credit_note_references_the_invoice_it_credits(self):
        invoice = self.make_invoice(lines=[(self.product_known, 3, 200.0)])
        first = self.export(invoice)
        number = self.receipt(first)[invoice.name][1]
        refund = self.credit_note(invoice)
        runs = self.export(refund)
        self.assertEqual(self.status(runs, refund), "exported", self.receipt(runs))
        order = self.orders_for(refund)[0]
        original = self.orders_for(invoice)[0]
        self.assertEqual(order["ReferenceOrderId"], original["OrderId"])
        self.assertEqual(str(order["ReferenceInvoiceId"]), number)
        self.assertEqual(order["InvoiceRows"][0]["Quantity"], Decimal("-3"))
        self.assertEqual(order["InvoiceRows"][0]["Price"], Decimal("200.00"))

    def test_credit_note_exported_with_its_invoice_waits_for_the_invoice(self):
        invoice = self.make_invoice()
        refund = self.credit_note(invoice)
        runs = self.export(refund | invoice)
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})
        self.assertEqual(self.orders_for(refund)[0]["ReferenceOrderId"], self.orders_for(invoice)[0]["OrderId"])

    def test_credit_note_of_an_invoice_not_in_24so_is_sent_without_reference(self):
        invoice = self.make_invoice()
        refund = self.credit_note(invoice)
        runs = self.export(refund)
        status, _number, reason = self.receipt(runs)[refund.name]
        self.assertEqual(status, "exported")
        self.assertIn("without a reference", reason)

    # ------------------------------------------------------------------------ the run
    def test_exports_are_never_scheduled(self):
        self.assertFalse(self.integration.schedule_active)
        self.integration.sudo().next_scheduled_sync_at = False
        queued = self.env["recruitment.sync.integration"]._cron_schedule_syncs()
        self.assertNotIn(self.integration, queued.integration_id)

    def test_a_failed_run_fails_the_lines_still_in_transfer(self):
        invoice = self.make_invoice()
        with (
            patch.object(tso_client.TsoClient, "ensure_session", side_effect=RuntimeError("crash")),
            self.assertLogs("odoo.addons.recruitment_sync.models.recruitment_sync_run", "ERROR") as logs,
        ):
            runs = self.export(invoice)
        self.assertIn("crash", logs.output[0], "an internal error is logged with its traceback")
        self.assertEqual(runs.state, "failed")
        status, _number, reason = self.receipt(runs)[invoice.name]
        self.assertEqual(status, "failed")
        self.assertIn("crash", reason)
        self.assertIn("Export the invoice again", reason)
        self.assertEqual(runs.failed_count, 1)

    def test_second_export_joins_the_queued_run(self):
        first = self.make_invoice()
        second = self.make_invoice()
        runs = self.export(first, process=False)
        again = self.export(first | second, process=False)
        self.assertEqual(runs, again)
        self.assertEqual(len(runs.line_ids), 2, "an invoice already in transfer is not added twice")
        self.process_runs()
        self.assertEqual({status for status, *_rest in self.receipt(runs).values()}, {"exported"})

    def test_bergen_login_for_all_in_its_own_client(self):
        """Both logins reach the main client: the same customer is created there once."""
        oslo = self.make_invoice(department=self.oslo)
        bergen = self.make_invoice(department=self.bergen)
        self.export(oslo | bergen)
        self.assertEqual(self.customer_of(oslo), self.customer_of(bergen))
        self.assertEqual(self.fake.calls["SaveCompanies"], 1)
        self.assertEqual(self.fake.logins_by_user[BERGEN_LOGIN[0]], 1)
