"""Documents as opportunities: kinds on and off, one opportunity per document, updates, paid → won, the
link, earlier documents from a date, deleting either side deletes nothing on the other; bad documents."""

from datetime import UTC, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.recruitment_sync.services.provider import Batch

from .common import InvoiceOceanCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestDocuments(InvoiceOceanCase):
    def test_earlier_documents_are_not_opportunities_by_default(self):
        self.assertFalse(self.Lead.search([("io_integration_id", "=", self.integration.id)]))

    def test_new_invoice_becomes_one_opportunity_with_its_link(self):
        document = self.new_document(currency="PLN")
        run = self.sync()
        lead = self.lead_of(document["id"])
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.partner_id, self.odoo_by_vat)
        self.assertEqual(lead.io_document_number, document["number"])
        self.assertEqual(lead.io_currency_id.name, "PLN")
        self.assertAlmostEqual(lead.io_amount, 1000.0)
        self.assertEqual(lead.io_view_url, self.fake.view_url(document))
        self.assertEqual(lead.action_io_open_document()["url"], lead.io_view_url)
        self.assertEqual(len(self.lines_of(run, "io_documents", "created")), 1)
        # A change updates the same opportunity; an unchanged document is not touched again.
        self.fake.update_invoice(
            document["id"], {"positions": [{"name": "Extra", "quantity": 2, "price_net": "500", "tax": 23}]}
        )
        run = self.sync()
        self.assertEqual(self.Lead.search_count([("io_document_number", "=", document["number"])]), 1)
        self.assertAlmostEqual(lead.io_amount, 2000.0)
        self.assertEqual(len(self.lines_of(run, "io_documents", "updated")), 1)
        run = self.sync()
        self.assertFalse(self.lines_of(run, "io_documents"))

    def test_paid_document_wins_its_opportunity(self):
        document = self.new_document()
        self.sync()
        lead = self.lead_of(document["id"])
        self.assertFalse(lead.stage_id.is_won)
        self.fake.pay([document["id"]], self.fake.account.invoices[document["id"]]["price_gross"])
        self.sync()
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(lead.io_document_status, "paid")
        self.assertEqual(lead.probability, 100)

    def test_kinds_on_and_off(self):
        estimate = self.new_document(kind="estimate")
        proforma = self.new_document(kind="proforma")
        self.sync()
        self.assertFalse(self.lead_of(estimate["id"]), "estimates are not chosen by default")
        self.assertTrue(self.lead_of(proforma["id"]))
        self.integration.io_document_kind_ids |= self.env.ref("recruitment_sync_invoiceocean.kind_estimate")
        self.integration.io_document_kind_ids -= self.env.ref("recruitment_sync_invoiceocean.kind_proforma")
        later = self.new_document(kind="estimate")
        off = self.new_document(kind="proforma")
        self.sync()
        self.assertTrue(self.lead_of(later["id"]))
        self.assertFalse(self.lead_of(off["id"]))

    def test_deleting_either_side_deletes_nothing_on_the_other(self):
        document = self.new_document()
        kept = self.new_document()
        self.sync()
        self.lead_of(document["id"]).unlink()
        self.fake.update_invoice(document["id"], {"description": "changed after the opportunity was deleted"})
        run = self.sync()
        self.assertFalse(self.lead_of(document["id"]), "not created again")
        self.assertIn(document["id"], self.fake.account.invoices)
        self.assertEqual(len(self.lines_of(run, "io_documents", "skipped")), 1)
        lead = self.lead_of(kept["id"])
        self.fake.delete_invoice(kept["id"])
        self.sync()
        self.assertTrue(lead.exists())

    def test_bad_documents_fail_alone(self):
        good = self.new_document()
        unknown_kind = {**self.fake.rendered("invoices", good["id"]), "id": 1, "kind": "vat_rr"}
        unknown_client = {**self.fake.rendered("invoices", good["id"]), "id": 2, "client_id": 424242}
        commas = {
            **self.fake.rendered("invoices", good["id"]),
            "id": 3,
            "price_net": "1 234,50",
            "price_gross": "1518,44",
        }
        run = self.Run.create({"integration_id": self.integration.id, "trigger": "manual"})
        kind = next(k for k in self.integration._provider_sync_kinds() if k.code == "io_documents")
        batch = Batch(items=[unknown_kind, unknown_client, commas], checkpoint=None, done=True)
        self.integration._provider_process_batch(run, kind, batch)
        run._flush_results()
        reasons = self.lines_of(run, "io_documents", "failed").mapped("reason")
        self.assertEqual(len(reasons), 2, reasons)
        self.assertTrue(any("Unknown InvoiceOcean document kind 'vat_rr'" in r for r in reasons))
        self.assertTrue(any("424242" in r for r in reasons))
        self.assertAlmostEqual(self.lead_of(3).io_amount, 1234.50)

    def test_a_pages_new_opportunities_are_made_in_one_create_a_bad_one_fails_alone(self):
        documents = [self.new_document(status="paid" if n == 0 else "issued") for n in range(4)]
        bad = self.new_document(currency="XTS")  # a currency Odoo does not know
        Lead = type(self.Lead)
        original_create = Lead.create
        sizes = []

        def create(records, vals_list):
            vals_list = vals_list if isinstance(vals_list, list) else [vals_list]
            sizes.append(len(vals_list))
            return original_create(records, vals_list)

        with patch.object(Lead, "create", create):
            run = self.sync(["io_documents"])
        self.assertEqual(sizes, [4], "the page's new opportunities: one create")
        self.assertEqual(len(self.lines_of(run, "io_documents", "created")), 4)
        self.assertTrue(all(self.lead_of(document["id"]) for document in documents))
        self.assertTrue(self.lead_of(documents[0]["id"]).stage_id.is_won, "paid: won")
        self.assertFalse(self.lead_of(documents[1]["id"]).stage_id.is_won)
        failed = self.lines_of(run, "io_documents", "failed")
        self.assertEqual(failed.external_id, str(bad["id"]))
        self.assertIn("XTS", failed.reason)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestEarlierDocuments(InvoiceOceanCase):
    activate_on_setup = False

    def chosen_documents(self):
        kinds = set(self.integration.io_document_kind_ids.mapped("code"))
        return sorted(
            (d for d in self.fake.account.invoices.values() if d["kind"] in kinds), key=lambda d: d["issue_date"]
        )

    def from_a_seeded_day(self):
        """A day some seeded documents of the chosen kinds were issued on, with some issued before it."""
        documents = self.chosen_documents()
        day = documents[len(documents) // 2]["issue_date"]
        before = [d for d in documents if d["issue_date"] < day]
        since = [d for d in documents if d["issue_date"] >= day]
        self.assertTrue(before and since, "the seeded account has documents on both sides of the day")
        return day, before, since

    def assertBroughtFrom(self, day, before, since):
        for document in since:
            self.assertTrue(self.lead_of(document["id"]), f"{document['number']} issued {document['issue_date']}")
        self.assertFalse([d["number"] for d in before if self.lead_of(d["id"])], f"issued before {day}")
        paid = [d for d in since if d["status"] == "paid"]
        self.assertTrue(paid)
        self.assertTrue(all(self.lead_of(d["id"]).stage_id.is_won for d in paid))

    def test_documents_from_a_date_come_too(self):
        day, before, since = self.from_a_seeded_day()
        self.integration.io_documents_from = day
        self.activate()
        self.assertBroughtFrom(day, before, since)

    def test_documents_from_a_date_set_after_linking_come_at_once_and_only_once(self):
        self.activate()
        day, before, since = self.from_a_seeded_day()
        # Issued before the day but made after the accounts were linked: an opportunity already.
        moved = self.new_document(issue_date=(day - timedelta(days=5)).isoformat())
        self.sync()
        lead = self.lead_of(moved["id"])
        self.assertEqual(self.Lead.search([("io_integration_id", "=", self.integration.id)]), lead)
        # It changes in InvoiceOcean, then a document of the period changes later still: reading the
        # period does not move the incremental reading past the first change.
        start = fields.Datetime.now()
        self.fake.clock = lambda: (start + timedelta(minutes=5)).replace(tzinfo=UTC).timestamp()
        extra = [{"name": "Extra", "quantity": 3, "price_net": "500", "tax": 23}]
        self.fake.update_invoice(moved["id"], {"positions": extra}, notify=False)
        self.fake.clock = lambda: (start + timedelta(minutes=10)).replace(tzinfo=UTC).timestamp()
        self.fake.update_invoice(since[0]["id"], {"description": "changed later"}, notify=False)

        self.integration.io_documents_from = day  # queues the run that reads the period
        self.process_all_runs()
        self.env.invalidate_all()
        self.assertBroughtFrom(day, before, since)
        leads = self.Lead.search([("io_integration_id", "=", self.integration.id)])
        self.assertEqual(len(leads), len(since) + 1)
        run = self.sync()
        self.assertAlmostEqual(lead.io_amount, 2500.0, msg="the earlier change is read by the next sync")
        self.assertFalse(self.lines_of(run, "io_documents", "created"), "nothing created twice")
        self.assertEqual(self.Lead.search([("io_integration_id", "=", self.integration.id)]), leads)
