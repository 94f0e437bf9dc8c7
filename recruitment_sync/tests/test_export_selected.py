"""Export of selected records: queued on a run *in transfer*, sent by the runner in background
batches, each line settled by its record's result; the hooks at the end of a run and of a
connection test with partial results (the test provider's ``test_export`` integration)."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.recruitment_sync.services.provider import ConnectionTest, ItemResult

from .common import require_test_provider


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportSelected(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        require_test_provider(cls.env)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.Run = cls.env["recruitment.sync.run"]
        cls.integration = cls.env["recruitment.sync.integration"].create(
            {"name": "Selected exports", "provider": "test_export", "state": "connected"}
        )
        cls.kind = cls.integration._provider_sync_kinds()[0]
        cls.contacts = cls.env["res.partner"].create(
            [
                {"name": "Ann Sent", "email": "ann@example.com"},
                {"name": "Bob Noemail"},
                {"name": "Cid Sent", "email": "cid@example.com"},
            ]
        )

    def process_runs(self):
        for _attempt in range(20):
            if not self.Run._cron_process_runs(time_budget=600):
                return
        raise AssertionError("the runner never finished")

    def lines(self, run):
        return {line.name: (line.action, line.external_id or None, line.reason or "") for line in run.line_ids}

    def test_selected_records_wait_in_transfer_then_each_line_gets_its_outcome(self):
        draft = self.env["res.partner"].create({"name": "Dee Refused"})
        run = self.integration._queue_export(self.contacts, self.kind, refused={draft: "Not a customer."})
        self.assertEqual((run.trigger, run.state, run.direction), ("selection", "queued", "export"))
        self.assertEqual(run.queued_count, 3)
        self.assertEqual(
            self.lines(run),
            {
                "Ann Sent": ("queued", None, ""),
                "Bob Noemail": ("queued", None, ""),
                "Cid Sent": ("queued", None, ""),
                "Dee Refused": ("failed", None, "Not a customer."),
            },
        )
        self.assertEqual(run.line_ids.mapped("action").count("queued"), 3, "nothing sent from the user's request")
        self.process_runs()
        lines = self.lines(run)
        self.assertEqual(lines["Ann Sent"][:2], ("exported", f"contact-{self.contacts[0].id}"))
        self.assertEqual(lines["Cid Sent"][:2], ("exported", f"contact-{self.contacts[2].id}"))
        self.assertEqual(lines["Bob Noemail"][0], "failed")
        self.assertIn("no email address", lines["Bob Noemail"][2])
        self.assertEqual(len(run.line_ids), 4, "results settle the queued lines, none is added")
        self.assertEqual((run.state, run.exported_count, run.failed_count), ("done_errors", 2, 2))
        self.assertEqual((run.queued_count, run.items_done), (0, 3))
        # The failed one is kept for Retry failed items, by its record.
        item = self.env["recruitment.sync.failed.item"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual(item.item_key, f"res.partner,{self.contacts[1].id}")

    def test_batches_follow_the_provider_choice_in_queue_order(self):
        seen = []
        Integration = type(self.integration)
        original = Integration._provider_process_batch

        def process_batch(integration, run, kind, batch):
            seen.append(batch.items.mapped("name"))
            return original(integration, run, kind, batch)

        with patch.object(Integration, "_provider_process_batch", process_batch):
            self.integration._queue_export(self.contacts[2] | self.contacts[0] | self.contacts[1], self.kind)
            self.process_runs()
        self.assertEqual(seen, [["Cid Sent", "Ann Sent"], ["Bob Noemail"]], "batches of 2, in the order queued")

    def test_a_second_selection_joins_the_queued_run_once_per_record(self):
        run = self.integration._queue_export(self.contacts[0], self.kind)
        again = self.integration._queue_export(self.contacts[:2], self.kind)
        self.assertEqual(run, again)
        self.assertEqual(sorted(run.line_ids.mapped("name")), ["Ann Sent", "Bob Noemail"])

    def test_a_record_left_without_result_waits_for_the_next_batch_but_never_forever(self):
        Integration = type(self.integration)

        def settle_nothing(integration, run, kind, batch):
            return None

        with patch.object(Integration, "_provider_process_batch", settle_nothing):
            run = self.integration._queue_export(self.contacts[0], self.kind)
            self.process_runs()
        self.assertEqual(self.lines(run)["Ann Sent"][0], "failed")
        self.assertIn("did not process", self.lines(run)["Ann Sent"][2])
        self.assertEqual(run.state, "done_errors")

    def test_a_stopped_run_fails_what_is_still_in_transfer_after_the_provider_hook(self):
        calls = []
        Integration = type(self.integration)

        def on_finished(integration, run, state, reason):
            calls.append((state, reason))
            kind = integration._provider_sync_kinds()[0]
            first = run._queued_records(kind)[:1]
            run._record(kind, ItemResult("failed", first, reason="Sent, its answer lost."))

        run = self.integration._queue_export(self.contacts[:2], self.kind)
        with patch.object(Integration, "_provider_on_run_finished", on_finished):
            run._finish("failed", "The worker stopped.")
        self.assertEqual(calls, [("failed", "The worker stopped.")])
        lines = self.lines(run)
        self.assertEqual(lines["Ann Sent"], ("failed", None, "Sent, its answer lost."))
        self.assertEqual(lines["Bob Noemail"][0], "failed")
        self.assertIn("Not sent (the run stopped: The worker stopped)", lines["Bob Noemail"][2])
        self.assertEqual((run.failed_count, run.queued_count), (2, 0))

    def test_revise_corrects_an_earlier_line_and_its_run_counters(self):
        run = self.integration._queue_export(self.contacts[0], self.kind)
        run._finish("failed", "The worker stopped.")
        self.assertEqual((run.exported_count, run.failed_count), (0, 1))
        run.line_ids._revise("exported", "It reached the remote system after all.", external_id="contact-x")
        self.assertEqual(
            self.lines(run)["Ann Sent"], ("exported", "contact-x", "It reached the remote system after all.")
        )
        self.assertEqual((run.exported_count, run.failed_count), (1, 0))

    def test_busy_runner_makes_the_user_try_again(self):
        with patch.object(type(self.integration), "_wait_for_runner", lambda integration, lock_timeout: False):
            with self.assertRaisesRegex(UserError, "again in a minute"):
                self.integration._queue_export(self.contacts[0], self.kind)
        self.assertFalse(self.Run.search([("integration_id", "=", self.integration.id)]))

    def test_connection_test_with_partial_results(self):
        integration = self.integration.copy({"name": "Two logins", "state": "not_connected"})
        partial = ConnectionTest(successes=("Oslo logs in.",), failures=("Bergen: wrong password.",))
        with patch.object(type(integration), "_provider_test_connection", lambda integration: partial):
            tested = integration.action_test_connection()
            connect = integration.action_connect()
        self.assertEqual(tested["params"]["type"], "danger")
        self.assertEqual(tested["params"]["message"], "Bergen: wrong password.\nOslo logs in.")
        self.assertEqual((connect["params"]["type"], connect["params"]["title"]), ("danger", "Not connected"))
        self.assertEqual(integration.state, "not_connected", "one failure: nothing is connected")
        connect = integration.action_connect()
        self.assertEqual(
            (connect["params"]["type"], connect["params"]["message"]), ("success", "Test export provider ready.")
        )
        self.assertEqual(integration.state, "connected")
