"""The export in a browser: select invoices in the list → Export to 24SevenOffice → the receipt
shows each invoice in transfer, then (after the background export) its outcome."""

from datetime import date

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.recruitment_sync.tests.browser import BrowserSession

from .common import TsoMixin


@tagged("post_install", "-at_install", "recruitment_sync")
class TestTsoUi(TsoMixin, HttpCase):
    def run_export_in_background(self):
        """The runner's pass, as the cron does; the browser's requests wait meanwhile (one cursor)."""
        with self.registry.test_lock:
            self.env.invalidate_all()
            runs = self.Run.search([("integration_id", "=", self.integration.id), ("state", "=", "queued")])
            self.process_runs()
            self.env.flush_all()
            return runs

    def test_export_selected_invoices_and_follow_the_receipt(self):
        self.main_login.write({"department_scope": "specific", "department_ids": [Command.set(self.oslo.ids)]})
        Partner = self.env["res.partner"]
        invoices = {}
        for name, department in (
            ("Tour Oslo AS", self.oslo),
            ("Tour Tromsø AS", self.tromso),
            ("Tour Bergen AS", self.bergen),
        ):
            partner = Partner.create({"name": name, "is_company": True})
            invoices[name] = self.make_invoice(partner=partner, department=department, invoice_date=date.today())
        self.export(invoices["Tour Bergen AS"])  # already in 24SevenOffice before the tour
        self.assertEqual(invoices["Tour Bergen AS"].tso_status, "exported")

        session = BrowserSession(self, "admin")
        try:
            session.run_tour("recruitment_sync_24so_export", url="/odoo")
            runs = self.run_export_in_background()
            self.assertEqual(len(runs), 1)
            self.assertEqual(runs.user_id, self.env.ref("base.user_admin"))
            receipt = self.receipt(runs)
            self.assertEqual(
                {name: receipt[move.name][0] for name, move in invoices.items()},
                {"Tour Oslo AS": "exported", "Tour Tromsø AS": "login_error", "Tour Bergen AS": "already_exists"},
            )
            session.run_tour("recruitment_sync_24so_receipt")
        finally:
            session.close()
