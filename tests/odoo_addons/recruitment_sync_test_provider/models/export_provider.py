"""The "test_export" provider: exports only what a user selects (``integration._queue_export``).

No OAuth2, a connection test returning a ``ConnectionTest``, the runner's queue of selected
records. It sends a contact by checking it can be sent (an email address) and naming it remotely
after its id: the core's tests watch the queue, not a remote system.
"""

from odoo import _, models

from odoo.addons.recruitment_sync.services.provider import Batch, ConnectionTest, ItemResult, PayloadError, SyncKind

CONTACTS_OUT = SyncKind("contacts_out", "Contacts sent", "export", batch_size=2)


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    def _provider_test_connection(self):
        if self.provider != "test_export":
            return super()._provider_test_connection()
        return ConnectionTest(successes=(_("Test export provider ready."),))

    def _provider_sync_kinds(self):
        if self.provider != "test_export":
            return super()._provider_sync_kinds()
        return [CONTACTS_OUT]

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "test_export":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        return Batch(items=self.env["res.partner"], checkpoint=None, done=True)  # only selected contacts

    def _provider_process_item(self, run, kind, item):
        if self.provider != "test_export":
            return super()._provider_process_item(run, kind, item)
        if not item.email:
            raise PayloadError(_("%s has no email address: add one, then export it again.", item.display_name))
        return ItemResult("exported", item, external_id=f"contact-{item.id}")
