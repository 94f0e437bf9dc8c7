"""The webhook route: the shared secret checked (wrong secret or malformed body: refused, nothing queued),
only an incremental run queued; duplicate deliveries and deliveries out of order change nothing more."""

import json

from odoo.tests import tagged

from .common import InvoiceOceanHttpCase


@tagged("post_install", "-at_install", "recruitment_sync")
class TestWebhooks(InvoiceOceanHttpCase):
    def setUp(self):
        super().setUp()
        self.path = f"/recruitment_sync_invoiceocean/webhook/{self.integration.id}"
        self.secret = self.integration.sudo().io_webhook_secret
        self.fake.add_webhook(f"{self.base_url()}{self.path}", api_token=self.secret)

    def queued_runs(self):
        return self.Run.search([("integration_id", "=", self.integration.id), ("state", "=", "queued")])

    def post(self, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.url_open(self.path, data=data, headers={"Content-Type": "application/json"})

    def test_right_secret_queues_an_incremental_run_only(self):
        self.fake.update_client(self.shared_ids[2], {"city": "Gdańsk"})
        [delivery] = self.fake.deliver_webhooks()
        self.assertEqual(delivery["status"], 200)
        [run] = self.queued_runs()
        self.assertEqual(run.trigger, "webhook")
        self.assertEqual(self.partner_of(self.shared_ids[2]).city != "Gdańsk", True, "nothing written by the request")
        self.process_all_runs()
        self.assertEqual(self.partner_of(self.shared_ids[2]).city, "Gdańsk")

    def test_wrong_secret_or_malformed_body_is_refused_and_queues_nothing(self):
        client = self.fake.rendered("clients", self.shared_ids[2])
        for body, status in (
            ({"client": client, "api_token": "guessed", "app_name": "InvoiceOcean"}, 403),
            ({"client": client, "app_name": "InvoiceOcean"}, 403),
            (b"{not json", 400),
            ({"api_token": self.secret, "something": "else"}, 400),
            ({"api_token": self.secret, "client": {"name": "no id"}}, 400),
        ):
            self.assertEqual(self.post(body).status_code, status, body)
        self.assertFalse(self.queued_runs())
        self.assertFalse(self.integration.io_pending_events)

    def test_duplicate_and_out_of_order_deliveries(self):
        ident = self.shared_ids[2]
        self.fake.update_client(ident, {"city": "First"})
        self.fake.update_client(ident, {"city": "Second"})
        document = self.new_document(client_id=ident)
        deliveries = self.fake.deliver_webhooks(reverse=True, duplicate=True)
        self.assertTrue(deliveries)
        self.assertTrue(all(d["status"] == 200 for d in deliveries), deliveries)
        self.assertEqual(len(self.queued_runs()), 1, "one run for all of them")
        self.process_all_runs()
        self.assertEqual(self.partner_of(ident).city, "Second", "the latest state, whatever the order")
        self.assertEqual(self.Lead.search_count([("io_document_number", "=", document["number"])]), 1)
        # The same events once more: nothing changes, nothing is created twice.
        for delivery in deliveries[:2]:
            self.fake.redeliver(delivery)
        self.process_all_runs()
        self.assertEqual(self.Lead.search_count([("io_document_number", "=", document["number"])]), 1)
