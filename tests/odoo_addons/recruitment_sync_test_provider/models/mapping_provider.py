from odoo import fields, models


class RecruitmentSyncTestTaxCode(models.Model):
    """A mapping table of the test provider: the ledger's tax codes next to the Odoo taxes they stand for.

    Two ledgers (``ledger``) keep their mappings apart, as 24SevenOffice's clients do.
    """

    _name = "recruitment.sync.test.tax.code"
    _inherit = ["recruitment.sync.mapping.row"]
    _description = "Test provider tax code"
    _mapping_targets = ("tax_ids", "untaxed")
    _mapping_scope = ("ledger",)

    code = fields.Char(required=True, readonly=True)
    ledger = fields.Char(default="main", required=True, readonly=True)
    name = fields.Char(readonly=True)
    rate = fields.Float(digits=(16, 4), readonly=True)
    active_remotely = fields.Boolean(default=True, readonly=True)
    tax_ids = fields.Many2many(
        "account.tax", "recruitment_sync_test_tax_code_tax_rel", "code_id", "tax_id", string="Odoo taxes"
    )
    untaxed = fields.Boolean(string="Lines without tax")

    def _mapping_active(self):
        return self.active_remotely


class RecruitmentSyncIntegration(models.Model):
    _name = "recruitment.sync.integration"
    _inherit = ["recruitment.sync.integration", "recruitment.sync.accounting.options"]
