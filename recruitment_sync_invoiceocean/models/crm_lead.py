"""Opportunities from InvoiceOcean documents: the document's number, amount, status and link; "+Add invoice"."""

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..services import invoiceocean as io
from .invoiceocean_rows import kind_selection


class CrmLead(models.Model):
    _inherit = "crm.lead"

    io_integration_id = fields.Many2one(
        "recruitment.sync.integration",
        string="InvoiceOcean integration",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    io_document_number = fields.Char(string="InvoiceOcean document", readonly=True, copy=False)
    io_document_kind = fields.Selection(kind_selection, string="Document kind", readonly=True, copy=False)
    io_document_status = fields.Selection(
        [
            ("issued", "Issued"),
            ("sent", "Sent"),
            ("paid", "Paid"),
            ("partial", "Partly paid"),
            ("rejected", "Rejected"),
        ],
        string="Document status",
        readonly=True,
        copy=False,
    )
    io_amount = fields.Monetary(
        string="Document net amount", currency_field="io_currency_id", readonly=True, copy=False
    )
    io_amount_gross = fields.Monetary(
        string="Document total", currency_field="io_currency_id", readonly=True, copy=False
    )
    io_currency_id = fields.Many2one("res.currency", string="Document currency", readonly=True, copy=False)
    io_view_url = fields.Char(string="InvoiceOcean link", readonly=True, copy=False)
    io_department_id = fields.Many2one(
        "hr.department",
        string="Department",
        index="btree_not_null",
        copy=False,
        help="The Odoo department the document's InvoiceOcean department maps to: department users see "
        "their departments' opportunities only.",
    )
    io_invoice_state = fields.Selection(
        [("queued", "Being created"), ("done", "Created")],
        string="InvoiceOcean invoice",
        readonly=True,
        copy=False,
    )
    io_invoice_request = fields.Json(readonly=True, copy=False)
    io_invoice_refusal = fields.Text(
        string="Why InvoiceOcean refused the invoice",
        compute="_compute_io_invoice_refusal",
        help="InvoiceOcean refused the invoice asked with +Add invoice: correct what it says, then add the "
        "invoice again (the request is not sent again before).",
    )
    io_invoice_requested_by = fields.Many2one("res.users", readonly=True, copy=False)

    def _compute_io_invoice_refusal(self):
        """The reason of the refused "+Add invoice" request (a failed item waiting for a change)."""
        requests = self.filtered(lambda lead: lead.io_invoice_state == "queued" and lead.io_integration_id)
        refused = requests.io_integration_id._failed_items_of(io.ADD_INVOICES, requests, ["waiting_change"])
        reasons = {item.res_id: item.reason for item in refused}
        for lead in self:
            lead.io_invoice_refusal = reasons.get(lead.id, False) if lead in requests else False

    def action_io_open_document(self):
        self.ensure_one()
        if not self.io_view_url:
            raise UserError(_("This opportunity has no InvoiceOcean document yet."))
        return {"type": "ir.actions.act_url", "url": self.io_view_url, "target": "new"}

    def action_io_add_invoice(self):
        """Open the "+Add invoice" dialog, prefilled from the opportunity."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Add an InvoiceOcean invoice"),
            "res_model": "recruitment.sync.invoiceocean.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }
