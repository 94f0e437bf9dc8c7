from odoo import fields, models


class RecruitmentSyncAccountingOptions(models.AbstractModel):
    """What an accounting connector syncs: its settings and customers in, documents out.

    An accounting connector adds it to the integration (``_inherit = ["recruitment.sync.integration",
    "recruitment.sync.accounting.options"]``) and builds its kinds with ``_accounting_sync_kinds``;
    its form shows the fields under its own labels (e.g. "Tax rates and accounts").
    """

    _name = "recruitment.sync.accounting.options"
    _description = "What an accounting integration syncs"

    import_settings = fields.Boolean(
        string="Taxes and accounts", default=True, help="The ledger's tax codes and accounts (mapping tables)."
    )
    import_customers = fields.Boolean(string="Customers", default=True)
    export_invoices = fields.Boolean(string="Sales invoices", default=True)
    export_credit_notes = fields.Boolean(string="Credit notes", default=True)
    export_payments = fields.Boolean(string="Payments", default=True)
    export_start_date = fields.Date(
        string="Export documents from",
        default=fields.Date.context_today,
        help="Posted invoices and credit notes dated from this day are exported; older ones are not "
        "(they are usually in the ledger already). Empty: all of them.",
    )

    def _accounting_sync_kinds(self, settings, customers, document_needs, invoices, credit_notes, payments):
        """The ``SyncKind``s a run processes, in order, as the options say.

        ``settings``: the kinds importing the mapping tables; ``customers``: the customer import;
        ``document_needs``: exports the documents need first (their customers, items), run when
        invoices or credit notes are exported; then ``invoices``, ``credit_notes``, ``payments``.
        """
        documents = self.export_invoices or self.export_credit_notes
        wanted = [
            *((kind, self.import_settings) for kind in settings),
            (customers, self.import_customers),
            *((kind, documents) for kind in document_needs),
            (invoices, self.export_invoices),
            (credit_notes, self.export_credit_notes),
            (payments, self.export_payments),
        ]
        return [kind for kind, enabled in wanted if enabled]
