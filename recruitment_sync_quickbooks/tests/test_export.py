import functools
import random
from datetime import date
from decimal import Decimal
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.recruitment_sync_quickbooks.services import quickbooks as qbo_services

from .common import QboCase


def money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportUK(QboCase):
    """A non-US (VAT) company: a tax code on every line, tax included or excluded per document."""

    def test_invoice_with_new_customer_exported_with_tax_codes(self):
        partner = self.customer("Brand New Client Ltd", email="ap@brandnew.example")
        move = self.invoice(partner, [self.line(1000), self.line(100, taxes=self.tax5)])
        run = self.export()
        self.assertRunDone(run)
        document = self.qbo_document(move)
        self.assertEqual(money(document["TotalAmt"]), money(move.amount_total))
        self.assertEqual(document["GlobalTaxCalculation"], "TaxExcluded")
        codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in document["Line"][:2]]
        self.assertEqual(codes, [self.tax_code("20.0% S").qbo_id, self.tax_code("5.0% R").qbo_id])
        customer = self.fake.find("Customer", self.realm_id, DisplayName="Brand New Client Ltd")
        self.assertTrue(customer["AcctNum"].startswith("ODOO-"), "a database-unique customer number")
        status = move.sync_status_ids.filtered(lambda s: s.integration_id == self.integration)
        self.assertEqual(status.state, "exported")
        self.assertIn(f"txnId={document['Id']}", status.url)
        # Nothing changed: a second sync sends nothing.
        batches = self.fake.count("POST /batch")
        self.assertRunDone(self.export())
        self.assertEqual(self.fake.count("POST /batch"), batches)

    def test_tax_included_discount_and_foreign_currency(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create({"currency_id": eur.id, "rate": 1.16, "name": "2020-01-01"})
        partner = self.customer("Euro Client GmbH")
        included = self.invoice(
            partner, [self.line(1200, taxes=self.tax20_included), self.line(60, 1, self.tax20_included)]
        )
        # 3 x 59.99 tax included: Odoo totals 1379.98 (tax on the rounded nets), the gross is 1379.97:
        # sent tax-excluded with the nets, QuickBooks lands on Odoo's total.
        rounded_nets = self.invoice(
            partner, [self.line(1200, taxes=self.tax20_included), self.line(59.99, 3, self.tax20_included)]
        )
        discounted = self.invoice(
            self.customer("Euro Client Two GmbH"), [self.line(333.33, 3, discount=12.5)], currency_id=eur.id
        )
        run = self.export()
        self.assertRunDone(run)
        first, second = self.qbo_document(included), self.qbo_document(discounted)
        self.assertEqual(first["GlobalTaxCalculation"], "TaxInclusive")
        self.assertEqual(money(first["TotalAmt"]), money(included.amount_total))
        self.assertEqual(money(second["TotalAmt"]), money(discounted.amount_total))
        third = self.qbo_document(rounded_nets)
        self.assertEqual(third["GlobalTaxCalculation"], "TaxExcluded")
        self.assertEqual(money(third["TotalAmt"]), money(rounded_nets.amount_total))
        self.assertEqual(second["CurrencyRef"]["value"], "EUR")
        self.assertEqual(
            self.fake.find("Customer", self.realm_id, DisplayName="Euro Client Two GmbH")["CurrencyRef"]["value"],
            "EUR",
            "a customer is created in the currency of its documents (QuickBooks fixes it)",
        )
        self.assertTrue(second.get("ExchangeRate") is None or second["ExchangeRate"] > 0)

    def test_bad_documents_fail_alone_with_reasons(self):
        partner = self.customer("Mixed Batch Ltd")
        good = self.invoice(partner, [self.line(100)])
        unmapped = self.invoice(partner, [self.line(100, taxes=self.tax_unmapped)])
        untaxed = self.invoice(partner, [self.line(100, taxes=self.env["account.tax"])])
        inactive_item = self.rows("recruitment.sync.qbo.item").filtered(lambda row: not row.active_in_qbo)
        product = self.env["product.product"].create({"name": "Retired consulting"})
        inactive_item.product_ids = product
        retired = self.invoice(partner, [self.line(100, product_id=product.id)])
        self.integration.export_start_date = False
        self.fake.set_book_close_date(date(2021, 1, 1), self.realm_id)
        closed = self.invoice(partner, [self.line(100)], invoice_date="2020-01-15")
        run = self.export()
        self.assertEqual(self.lines_of(run, "qbo_invoices", "exported").res_id, good.id)
        reasons = {line.res_id: line.reason for line in self.lines_of(run, "qbo_invoices", "failed")}
        self.assertIn("has no QuickBooks tax code", reasons[unmapped.id])
        self.assertIn("needs a VAT code on every line", reasons[untaxed.id])
        self.assertIn("is inactive", reasons[retired.id])
        self.assertIn("closing date", reasons[closed.id])
        self.assertIn("(code 6000)", reasons[closed.id], "QuickBooks' message and code")
        self.assertIn("intuit_tid", reasons[closed.id])

    def test_customer_name_used_by_a_vendor_is_refused_with_what_to_do(self):
        vendor = self.company_data.notable["vendor_name"]
        move = self.invoice(self.customer(vendor), [self.line(100)])
        run = self.export()
        [line] = self.lines_of(run, "qbo_export_customers", "failed")
        self.assertIn("vendor or an employee", line.reason)
        self.assertIn("6240", line.reason)
        [refused] = self.lines_of(run, "qbo_invoices", "failed")
        self.assertEqual(refused.res_id, move.id)

    def test_existing_customer_of_the_same_name_is_linked(self):
        currency = {"value": self.env.company.currency_id.name}
        self.fake.add("Customer", {"DisplayName": "Typed By Hand Ltd", "CurrencyRef": currency}, self.realm_id)
        move = self.invoice(self.customer("Typed By Hand Ltd"), [self.line(50)])
        run = self.export()
        self.assertRunDone(run)
        [line] = self.lines_of(run, "qbo_export_customers")
        self.assertEqual(line.action, "already_exists")
        self.assertEqual(self.qbo_document(move)["CustomerRef"]["value"], line.external_id)

    def test_products_mapped_by_sku_and_missing_items_created(self):
        fee = self.env["product.product"].create({"name": "Perm fee", "default_code": "PERM-FEE", "list_price": 6000})
        self.rows("recruitment.sync.qbo.item")._auto_match()
        self.assertEqual(
            self.rows("recruitment.sync.qbo.item").filtered(lambda r: fee in r.product_ids).sku, "PERM-FEE"
        )
        income = self.env["account.account"].search([("account_type", "=", "income")], limit=1)
        self.rows("recruitment.sync.qbo.account").filtered(lambda r: r.name == "Services").account_ids = income
        new = self.env["product.product"].create({"name": "Executive search", "property_account_income_id": income.id})
        move = self.invoice(
            self.customer("Item Client"), [self.line(6000, product_id=fee.id), self.line(900, product_id=new.id)]
        )
        run = self.export()
        self.assertRunDone(run)
        item = self.fake.find("Item", self.realm_id, Name="Executive search")
        self.assertEqual(item["Type"], "Service")
        lines = self.qbo_document(move)["Line"]
        self.assertEqual([line["SalesItemLineDetail"]["ItemRef"]["value"] for line in lines[:2]][1], item["Id"])

    def test_credit_memo_applied_to_its_invoice_and_partial_payment(self):
        partner = self.customer("Paying Client")
        invoice = self.invoice(partner, [self.line(1000)])
        credit = invoice._reverse_moves([{"invoice_date": invoice.invoice_date}])
        credit.invoice_line_ids.price_unit = 200
        credit.action_post()
        self.assertRunDone(self.export())
        self.pay(invoice, amount=300)
        run = self.export()
        self.assertRunDone(run)
        document = self.qbo_document(invoice)
        self.assertEqual(money(document["Balance"]), money(invoice.amount_residual))
        self.assertEqual(money(self.qbo_document(credit)["RemainingCredit"]), 0)
        self.assertEqual(len(self.lines_of(run, "qbo_payments", "exported")), 1)

    def test_timeout_after_commit_creates_no_duplicate(self):
        partner = self.customer("Timeout Client")
        moves = self.invoice(partner, [self.line(100)]) | self.invoice(partner, [self.line(200)])
        self.assertRunDone(self.sync(["qbo_export_customers"]))
        self.integration.sudo().env["ir.config_parameter"].set_param("recruitment_sync_quickbooks.read_timeout", "1")
        self.fake.inject_after_commit(times=1, delay=3)
        run = self.sync(["qbo_invoices"])
        self.assertRunDone(run)
        self.assertEqual(self.fake.duplicate_count(), 0)
        self.assertGreaterEqual(self.fake.idempotent_replays, 1, "the retry carried the same requestid")
        for move in moves:
            self.qbo_document(move)

    def test_lost_answer_looked_up_by_doc_number_before_resend(self):
        partner = self.customer("Lost Answer Client")
        move = self.invoice(partner, [self.line(100)])
        self.assertRunDone(self.sync(["qbo_export_customers"]))
        self.fake.inject_after_commit(times=1, delay=0, drop=True)
        no_retry = functools.partial(qbo_services.QboHttpClient, max_retries=0)
        with patch.object(qbo_services, "QboHttpClient", no_retry):
            run = self.sync(["qbo_invoices"])
        [line] = self.lines_of(run, "qbo_invoices", "failed")
        self.assertEqual(line.failure_type, "transient", "the answer was lost: uncertain")
        self.assertTrue(self.qbo_document(move), "QuickBooks did create it")
        batches = self.fake.count("POST /batch")
        self.integration.action_retry_failed_items()
        self.process_all_runs()
        retry = self.Run.search([("integration_id", "=", self.integration.id)], limit=1)
        [found] = self.lines_of(retry, "qbo_invoices")
        self.assertEqual(found.action, "already_exists", found.reason)
        self.assertEqual(self.fake.count("POST /batch"), batches, "found by DocNumber: not sent again")
        self.assertEqual(self.fake.duplicate_count(), 0)

    def test_stale_sync_token_is_read_again_once(self):
        move = self.invoice(self.customer("Stale Client"), [self.line(100)])
        self.assertRunDone(self.export())
        document = self.qbo_document(move)
        move.button_draft()
        move.invoice_line_ids.price_unit = 150
        move.action_post()
        real_read = type(self.integration)._qbo_read

        edits = []

        def stale_read(integration, client, entity, ids):
            found = real_read(integration, client, entity, ids)
            if not edits:  # someone edits it in QuickBooks between our read and our update, once
                edits.append(self.fake.edit("Invoice", document["Id"], self.realm_id, PrivateNote="typed meanwhile"))
            return found

        with patch.object(type(self.integration), "_qbo_read", stale_read):
            run = self.export()
        self.assertRunDone(run)
        self.assertEqual(self.lines_of(run, "qbo_invoices").action, "updated")
        self.assertEqual(money(self.qbo_document(move)["TotalAmt"]), money(move.amount_total))

    def test_paid_document_is_reported_not_overwritten(self):
        move = self.invoice(self.customer("Paid Client"), [self.line(100)])
        self.assertRunDone(self.export())
        document = self.qbo_document(move)
        self.fake.add(
            "Payment",
            {
                "CustomerRef": document["CustomerRef"],
                "TotalAmt": document["TotalAmt"],
                "Line": [
                    {"Amount": document["TotalAmt"], "LinkedTxn": [{"TxnId": document["Id"], "TxnType": "Invoice"}]}
                ],
            },
            self.realm_id,
        )
        move.button_draft()
        move.invoice_line_ids.price_unit = 150
        move.action_post()
        run = self.export()
        [line] = self.lines_of(run, "qbo_invoices", "failed")
        self.assertIn("paid", line.reason)
        self.assertEqual(money(self.qbo_document(move)["TotalAmt"]), money(120))

    def test_429_is_waited_out(self):
        move = self.invoice(self.customer("Throttled Client"), [self.line(100)])
        self.fake.throttle(times=1)
        run = self.export()
        self.assertRunDone(run)
        self.assertTrue(self.qbo_document(move))
        self.assertTrue(sum(self.fake.served_429.values()) >= 1)

    def test_randomized_documents_total_to_the_cent_or_refused(self):
        self._randomized(110)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportUS(QboCase):
    """A US company: lines TAX/NON, the transaction's tax code, the tax total sent explicitly."""

    realm_index = 0

    def test_us_invoice_sends_the_tax_total(self):
        move = self.invoice(
            self.customer("US Client Inc"), [self.line(1000), self.line(33.33, 3, taxes=self.env["account.tax"])]
        )
        run = self.export()
        self.assertRunDone(run)
        document = self.qbo_document(move)
        self.assertEqual(money(document["TotalAmt"]), money(move.amount_total))
        self.assertEqual(money(document["TxnTaxDetail"]["TotalTax"]), money(move.amount_tax))
        self.assertEqual(document["TxnTaxDetail"]["TxnTaxCodeRef"]["value"], self.tax_code("California").qbo_id)
        codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in document["Line"][:2]]
        self.assertEqual(codes, ["TAX", "NON"])

    def test_randomized_documents_total_to_the_cent_or_refused(self):
        self._randomized(100)


def _randomized(self, count):
    """Random invoices and credit notes: QuickBooks' totals equal Odoo's, or the document is refused."""
    rng = random.Random(f"qbo-{self.realm_index}")
    partners = [self.customer(f"Random Client {index}") for index in range(5)]
    us = self.integration.qbo_is_us
    taxes = (
        [self.sales_tax, self.tax20, self.tax5, self.env["account.tax"]]
        if us
        else [self.tax20, self.tax5, self.tax_zero, self.tax20_included]
    )
    moves = self.Move
    for index in range(count):
        lines = []
        kind = rng.choice(["included", "excluded", "mixed"])
        for _line in range(rng.randint(1, 4)):
            if us:
                tax = rng.choice(taxes)
            elif kind == "included":
                tax = self.tax20_included
            elif kind == "excluded":
                tax = rng.choice(taxes[:3])
            else:
                tax = rng.choice(taxes)
            lines.append(
                self.line(
                    round(rng.uniform(1, 2000), rng.choice([0, 2, 2, 3])),
                    rng.choice([1, 1, 2, 3, 7.5, 0.25]),
                    taxes=tax,
                    discount=rng.choice([0, 0, 0, 5, 12.5]),
                )
            )
        move_type = "out_refund" if index % 5 == 4 else "out_invoice"
        moves |= self.invoice(rng.choice(partners), lines, move_type=move_type)
    batches = self.fake.count("POST /batch")
    run = self.export()
    results = {}
    for line in run.line_ids.filtered(lambda line: line.res_model == "account.move"):
        results[line.res_id] = line
    refused = 0
    for move in moves:
        line = results.get(move.id)
        self.assertTrue(line, f"{move.name} has a history line")
        if line.action == "failed":
            refused += 1
            self.assertIn("Not exported: QuickBooks would total", line.reason, line.reason)
            self.assertIsNone(
                self.fake.find(
                    "Invoice" if move.move_type == "out_invoice" else "CreditMemo", self.realm_id, DocNumber=move.name
                )
            )
            continue
        self.assertEqual(line.action, "exported", line.reason)
        self.assertEqual(money(self.qbo_document(move)["TotalAmt"]), money(move.amount_total), move.name)
    self.assertLess(refused, count // 2, "most documents go through")
    self.assertEqual(self.fake.duplicate_count(), 0)
    self.assertLessEqual(self.fake.count("POST /batch") - batches, -(-count // 30) + 5)


TestExportUK._randomized = _randomized
TestExportUS._randomized = _randomized
