from datetime import date, timedelta
from decimal import Decimal

from odoo import fields
from odoo.tests import tagged

from .common import XeroCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportInvoices(XeroCase):
    def test_invoice_with_tax_excluded_prices(self):
        partner = self.customer("Exclusive Prices Ltd", email="ap@exclusive.example", vat="GB123456789")
        move = self.invoice(
            partner,
            [self.line(100.0, 3, name="Recruitment fee"), self.line(12.3456, 7, name="Timesheet hours")],
            ref="PO-77",
        )
        run = self.export()
        self.assertRunDone(run)
        remote = self.xero_invoice(move)
        self.assertEqual(remote["Type"], "ACCREC")
        self.assertEqual(remote["Status"], "AUTHORISED")
        self.assertEqual(remote["LineAmountTypes"], "Exclusive")
        self.assertEqual(remote["Reference"], "PO-77")
        self.assertEqual(remote["Total"], Decimal(str(move.amount_total)).quantize(Decimal("0.01")))
        self.assertEqual([line["UnitAmount"] for line in remote["LineItems"]], [Decimal("100"), Decimal("12.3456")])
        self.assertEqual({line["TaxType"] for line in remote["LineItems"]}, {"OUTPUT2"})
        self.assertEqual({line["AccountCode"] for line in remote["LineItems"]}, {"200"})
        contact = next(c for c in self.fake.contacts() if c["ContactID"] == remote["ContactID"])
        self.assertEqual((contact["Name"], contact["TaxNumber"]), ("Exclusive Prices Ltd", "GB123456789"))
        self.assertEqual(move.xero_id, remote["InvoiceID"])
        self.assertEqual(move.xero_status, "AUTHORISED")
        self.assertEqual(
            move.xero_url, f"https://go.xero.com/app/{self.org.short_code}/invoicing/view/{remote['InvoiceID']}"
        )
        self.assertEqual(move.action_view_in_xero()["url"], move.xero_url)
        exported = self.lines_of(run, "invoices", "exported")
        self.assertEqual(exported.mapped("res_id"), move.ids)
        self.assertEqual(self.lines_of(run, "export_customers", "exported").res_id, partner.id)

    def test_invoice_with_tax_included_prices_and_discount(self):
        partner = self.customer("Inclusive Prices Ltd")
        move = self.invoice(
            partner,
            [
                self.line(119.99, 2, taxes=self.tax20_included, discount=10),
                self.line(33.33, 3, taxes=self.tax20_included),
            ],
        )
        run = self.export()
        self.assertRunDone(run)
        remote = self.xero_invoice(move)
        self.assertEqual(remote["LineAmountTypes"], "Inclusive")
        self.assertEqual(remote["LineItems"][0]["DiscountRate"], Decimal("10"))
        self.assertEqual(remote["Total"], Decimal(str(move.amount_total)).quantize(Decimal("0.01")))
        self.assertEqual(remote["TotalTax"], Decimal(str(move.amount_tax)).quantize(Decimal("0.01")))

    def test_vendor_bills_are_never_exported(self):
        partner = self.customer("Supplier Ltd")
        bill = self.invoice(partner, [self.line(50.0, taxes=self.env["account.tax"])], move_type="in_invoice")
        self.assertEqual(bill.state, "posted")
        self.export()
        self.assertFalse(bill.xero_id)
        self.assertFalse([i for i in self.fake.invoices() if i["Type"] == "ACCPAY"])

    def test_draft_invoices_wait_until_posted(self):
        move = self.invoice(self.customer("Drafty Ltd"), [self.line(10.0)], post=False)
        self.export()
        self.assertFalse(move.xero_id)
        move.action_post()
        self.export()
        self.assertTrue(move.xero_id)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportBadInput(XeroCase):
    def test_a_batch_with_invalid_documents(self):
        good = self.customer("Good Customer Ltd")
        unmapped_tax = self.invoice(good, [self.line(10.0, taxes=self.tax_unmapped)])
        other_account = self.env["account.account"].create(
            {"name": "Unmapped income", "code": "499999", "account_type": "income"}
        )
        unmapped_account = self.invoice(good, [self.line(10.0, account_id=other_account.id)])
        nameless = self.customer("Nameless")
        nameless_invoice = self.invoice(nameless, [self.line(10.0)])
        nameless.name = " "
        foreign = self.invoice(good, [self.line(10.0)], currency_id=self.not_in_xero.id)
        locked = self.invoice(good, [self.line(10.0)], invoice_date=date(self.org.period_lock_date.year, 1, 15))
        taken = self.invoice(good, [self.line(10.0)])
        xero_user_invoice = self.fake.add_invoice(
            Type="ACCREC",
            InvoiceNumber=taken.name,
            Contact={"ContactID": self.org.notable["with_contact_number"][0]},
            Status="AUTHORISED",
            LineItems=[{"Description": "Typed in Xero", "Quantity": 1, "UnitAmount": 99, "AccountCode": "200"}],
        )
        fine = self.invoice(good, [self.line(10.0)])
        run = self.export()
        self.assertEqual(run.state, "done_errors", run.summary)
        failed = {line.res_id: line.reason for line in self.lines_of(run, "invoices", "failed")}
        self.assertIn("Xero test VAT 12.5%", failed[unmapped_tax.id])
        self.assertIn("has no Xero tax rate", failed[unmapped_tax.id])
        self.assertIn("499999", failed[unmapped_account.id])
        self.assertIn("has no Xero account", failed[unmapped_account.id])
        self.assertIn("is not in Xero", failed[nameless_invoice.id])
        self.assertIn("not subscribed to currency CHF", failed[foreign.id])
        self.assertIn("lock date", failed[locked.id])
        self.assertIn("Invoice # must be unique", failed[taken.id])
        customers = {line.res_id: line.reason for line in self.lines_of(run, "export_customers", "failed")}
        self.assertIn("has no name", customers[nameless.id])
        self.assertEqual(self.lines_of(run, "invoices", "exported").mapped("res_id"), fine.ids)
        self.assertTrue(fine.xero_id)
        self.assertEqual(self.fake.invoice(taken.name)["InvoiceID"], xero_user_invoice["InvoiceID"])
        self.assertEqual(self.fake.invoice(taken.name)["Total"], xero_user_invoice["Total"], "not overwritten")
        # Nothing was exported twice, and a second run tries the failed ones again, only them.
        again = self.export()
        self.assertEqual(len(self.lines_of(again, "invoices", "failed")), 6)
        self.assertFalse(self.lines_of(again, "invoices", "exported"))
        self.assertEqual(self.fake.duplicate_count(), 0)

    def test_to_export_counts_for_the_confirmation(self):
        partner = self.customer("Counted Ltd")
        self.invoice(partner, [self.line(10.0)])
        self.invoice(partner, [self.line(20.0)])
        wizard = (
            self.env["recruitment.sync.confirm.wizard"]
            .with_context(default_integration_id=self.integration.id)
            .create({})
        )
        counts = {line.kind: line.count for line in wizard.line_ids}
        self.assertEqual(counts["invoices"], 2)
        self.assertEqual(counts["export_customers"], 1)
        self.assertEqual(counts["tax_rates"], len(self.org.tax_rates))
        self.assertEqual(
            [line.kind for line in wizard.line_ids],
            ["tax_rates", "accounts", "customers", "export_customers", "invoices", "credit_notes", "payments"],
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportChanges(XeroCase):
    def test_reset_to_draft_and_reposted_updates_the_invoice(self):
        partner = self.customer("Changing Ltd")
        move = self.invoice(partner, [self.line(100.0)])
        self.export()
        xero_id = move.xero_id
        move.button_draft()
        move.invoice_line_ids[0].price_unit = 150.0
        move.action_post()
        run = self.export()
        self.assertEqual(self.lines_of(run, "invoices", "updated").res_id, move.id)
        remote = self.fake.invoice(xero_id)
        self.assertEqual(remote["Total"], Decimal("180.00"))
        self.assertEqual(self.fake.duplicate_count(), 0)
        # Reposted without a change: nothing to send.
        move.button_draft()
        move.action_post()
        calls = self.fake.api_calls
        run = self.export()
        self.assertFalse(self.lines_of(run, "invoices"))
        self.assertEqual(self.fake.api_calls, calls)

    def test_paid_or_voided_in_xero_is_reported_not_overwritten(self):
        partner = self.customer("Paid Elsewhere Ltd")
        paid = self.invoice(partner, [self.line(100.0)])
        voided = self.invoice(partner, [self.line(50.0)])
        self.export()
        self.fake.pay(paid.xero_id)
        self.fake.void(voided.xero_id)
        for move in paid | voided:
            move.button_draft()
            move.invoice_line_ids[0].price_unit += 1
            move.action_post()
        run = self.export()
        failed = {line.res_id: line.reason for line in self.lines_of(run, "invoices", "failed")}
        self.assertIn("PAID in Xero", failed[paid.id])
        self.assertIn("VOIDED in Xero", failed[voided.id])
        self.assertEqual(self.fake.invoice(paid.xero_id)["Total"], Decimal("120.00"))
        self.assertEqual(paid.xero_status, "PAID")
        # Reported once, not at every sync.
        self.assertFalse(self.lines_of(self.export(), "invoices"))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportCreditNotesAndPayments(XeroCase):
    def test_credit_note_allocated_to_the_invoice_it_reverses(self):
        partner = self.customer("Refunded Ltd")
        invoice = self.invoice(partner, [self.line(200.0)])
        credit_note = invoice._reverse_moves([{"invoice_date": fields.Date.today()}], cancel=True)
        self.assertEqual(credit_note.move_type, "out_refund")
        run = self.export()
        self.assertRunDone(run)
        remote = self.xero_invoice(credit_note)
        self.assertEqual(remote["Type"], "ACCRECCREDIT")
        self.assertEqual(remote["Total"], Decimal("240.00"))
        self.assertEqual(remote["AmountDue"], Decimal("0"))
        self.assertEqual(remote["Allocations"][0]["InvoiceID"], invoice.xero_id)
        self.assertEqual(self.fake.invoice(invoice.xero_id)["Status"], "PAID")
        self.assertTrue(credit_note.xero_url.startswith("https://go.xero.com/organisationlogin/default.aspx?"))
        allocations = self.lines_of(run, "credit_notes", "exported").filtered(lambda line: "Allocation" in line.name)
        self.assertEqual(len(allocations), 1)
        # Allocated once.
        again = self.export()
        self.assertFalse(self.lines_of(again, "credit_notes"))

    def test_partial_payment_then_the_rest(self):
        partner = self.customer("Paying Ltd")
        invoice = self.invoice(partner, [self.line(100.0)])
        self.pay(invoice, amount=50.0)
        run = self.export()
        self.assertRunDone(run)
        remote = self.fake.invoice(invoice.xero_id)
        self.assertEqual((remote["AmountPaid"], remote["AmountDue"], remote["Status"]), (50, 70, "AUTHORISED"))
        payment = self.fake.payments()[0]
        self.assertEqual(payment["AccountID"], self.account_row("090").xero_id)
        self.pay(invoice)
        self.export()
        remote = self.fake.invoice(invoice.xero_id)
        self.assertEqual((remote["AmountDue"], remote["Status"]), (0, "PAID"))
        self.assertEqual(len(self.fake.payments()), 2)
        self.assertEqual(self.fake.duplicate_count(), 0)

    def test_foreign_currency_invoice_and_payment(self):
        partner = self.customer("Abroad GmbH")
        invoice = self.invoice(partner, [self.line(1000.0)], currency_id=self.foreign.id)
        self.pay(invoice, amount=1200.0)
        run = self.export()
        self.assertRunDone(run)
        remote = self.fake.invoice(invoice.xero_id)
        self.assertEqual(remote["CurrencyCode"], self.foreign.name)
        self.assertEqual(remote["Total"], Decimal("1200.00"))
        self.assertEqual(remote["Status"], "PAID")

    def test_payment_journal_without_mapping_is_refused(self):
        other_bank = self.env["account.journal"].create({"name": "Other bank", "type": "bank", "code": "XOB"})
        invoice = self.invoice(self.customer("Other Bank Ltd"), [self.line(10.0)])
        self.pay(invoice, journal=other_bank)
        run = self.export()
        failed = self.lines_of(run, "payments", "failed")
        self.assertIn("Other bank", failed.reason)
        self.assertIn("has no Xero bank account", failed.reason)
        self.integration.xero_payment_account_id = self.account_row("091")
        run = self.export()
        self.assertEqual(len(self.lines_of(run, "payments", "exported")), 1)
        self.assertEqual(self.fake.payments()[0]["AccountID"], self.account_row("091").xero_id)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportResilience(XeroCase):
    def test_timeout_after_commit_then_retry_gives_no_duplicate(self):
        self.env["ir.config_parameter"].sudo().set_param("recruitment_sync_xero.read_timeout", "0.5")
        partner = self.customer("Slow Network Ltd")
        moves = self.invoice(partner, [self.line(10.0)]) | self.invoice(partner, [self.line(20.0)])
        self.sync(["export_customers"])
        puts, replays = self.fake.count("PUT /Invoices"), self.fake.idempotent_replays
        self.fake.inject_after_commit(times=1, delay=2.0)
        run = self.sync(["invoices"])
        self.assertRunDone(run)
        self.assertEqual(self.fake.count("PUT /Invoices") - puts, 2, "sent, timed out, sent again")
        self.assertEqual(self.fake.idempotent_replays - replays, 1)
        self.assertEqual(self.fake.duplicate_count(), 0)
        self.assertTrue(all(moves.mapped("xero_id")))

    def test_dropped_connection_after_commit(self):
        moves = self.invoice(self.customer("Dropped Ltd"), [self.line(10.0)])
        self.fake.inject_after_commit(times=1, drop=True, delay=0)
        run = self.export()
        self.assertRunDone(run)
        self.assertTrue(moves.xero_id)
        self.assertEqual(self.fake.duplicate_count(), 0)

    def test_invoice_created_by_an_earlier_attempt_is_linked_not_duplicated(self):
        """The answer of a first attempt was lost and its key expired: Xero says the number is taken."""
        partner = self.customer("Lost Answer Ltd")
        move = self.invoice(partner, [self.line(80.0)])
        self.sync(["export_customers"])
        contact_id = partner.sync_binding_ids.external_id
        earlier = self.fake.add_invoice(
            Type="ACCREC",
            InvoiceNumber=move.name,
            Contact={"ContactID": contact_id},
            CurrencyCode=move.currency_id.name,
            Status="AUTHORISED",
            LineItems=[
                {
                    "Description": "Consulting",
                    "Quantity": 1,
                    "UnitAmount": 80,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                }
            ],
        )
        run = self.sync(["invoices"])
        self.assertRunDone(run)
        line = self.lines_of(run, "invoices")
        self.assertEqual((line.action, line.external_id), ("already_exists", earlier["InvoiceID"]))
        self.assertIn("earlier attempt", line.reason)
        self.assertEqual(move.xero_id, earlier["InvoiceID"])
        self.assertEqual(self.fake.duplicate_count(), 0)

    def test_429_with_retry_after(self):
        move = self.invoice(self.customer("Throttled Ltd"), [self.line(10.0)])
        self.fake.throttle("minute", retry_after=1, times=1)
        run = self.export()
        self.assertRunDone(run)
        self.assertTrue(move.xero_id)
        self.assertEqual(self.fake.served_429["minute"], 1)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportScope(XeroCase):
    def test_refund_paid_out_on_a_credit_note(self):
        partner = self.customer("Refund Cash Ltd")
        credit_note = self.invoice(partner, [self.line(40.0)], move_type="out_refund")
        self.pay(credit_note)
        run = self.export()
        self.assertRunDone(run)
        remote = self.fake.credit_note(credit_note.xero_id)
        self.assertEqual((remote["Status"], remote["AmountDue"]), ("PAID", 0))
        payment = self.fake.payments()[0]
        self.assertEqual(payment["CreditNoteID"], credit_note.xero_id)
        self.assertEqual(payment["PaymentType"], "ARCREDITPAYMENT")

    def test_documents_before_the_start_date_stay_in_odoo(self):
        partner = self.customer("Old Business Ltd")
        old = self.invoice(partner, [self.line(10.0)], invoice_date=fields.Date.today() - timedelta(days=40))
        new = self.invoice(partner, [self.line(10.0)])
        self.integration.export_start_date = fields.Date.today() - timedelta(days=7)
        self.export()
        self.assertFalse(old.xero_id)
        self.assertTrue(new.xero_id)

    def test_an_integration_of_some_departments_exports_their_documents_only(self):
        sales = self.env["hr.department"].create({"name": "Xero Sales"})
        other = self.env["hr.department"].create({"name": "Xero Other"})
        self.integration.write({"department_scope": "selected", "department_ids": [(6, 0, sales.ids)]})
        partner = self.customer("Departmental Ltd")
        ours = self.invoice(partner, [self.line(10.0)], department_id=sales.id)
        theirs = self.invoice(partner, [self.line(10.0)], department_id=other.id)
        self.export()
        self.assertTrue(ours.xero_id)
        self.assertFalse(theirs.xero_id)
