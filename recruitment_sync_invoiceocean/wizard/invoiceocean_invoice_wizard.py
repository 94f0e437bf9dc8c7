"""The "+Add invoice" dialog: an InvoiceOcean invoice filled from an opportunity, created in the background."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import invoiceocean as io


class InvoiceOceanInvoiceWizard(models.TransientModel):
    _name = "recruitment.sync.invoiceocean.invoice.wizard"
    _description = "Add an InvoiceOcean invoice"

    lead_id = fields.Many2one("crm.lead", required=True, readonly=True)
    integration_id = fields.Many2one(
        "recruitment.sync.integration",
        string="InvoiceOcean account",
        required=True,
        domain=[("provider", "=", "invoiceocean"), ("state", "=", "connected")],
    )
    partner_id = fields.Many2one(related="lead_id.partner_id", string="Customer")
    kind = fields.Selection([("vat", "VAT invoice"), ("proforma", "Proforma invoice")], default="vat", required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    department_row_id = fields.Many2one(
        "recruitment.sync.invoiceocean.department",
        string="InvoiceOcean department",
        domain="[('integration_id', '=', integration_id)]",
    )
    line_ids = fields.One2many("recruitment.sync.invoiceocean.invoice.wizard.line", "wizard_id", string="Positions")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        lead = self.env["crm.lead"].browse(values.get("lead_id") or self.env.context.get("default_lead_id"))
        if not lead:
            return values
        integrations = self.env["recruitment.sync.integration"].search(
            [
                ("provider", "=", "invoiceocean"),
                ("state", "=", "connected"),
                ("company_id", "=", lead.company_id.id or self.env.company.id),
            ]
        )
        integration = lead.io_integration_id or integrations[:1]
        values.setdefault("integration_id", integration.id)
        values.setdefault("currency_id", lead.company_currency.id or self.env.company.currency_id.id)
        row = self.env["recruitment.sync.invoiceocean.department"].search(
            [
                ("integration_id", "=", integration.id),
                ("department_id", "!=", False),
                ("department_id", "in", self._lead_departments(lead).ids),
            ],
            limit=1,
        )
        values.setdefault("department_row_id", row.id)
        values.setdefault("line_ids", [fields.Command.create(line) for line in self._lead_lines(lead)])
        return values

    def _lead_departments(self, lead):
        return lead.io_department_id or lead.user_id.employee_ids.department_id

    def _lead_lines(self, lead):
        """One position per line of the opportunity's quotations (when Sales is installed), else one of its
        expected revenue."""
        orders = lead.order_ids.filtered(lambda o: o.state != "cancel") if "order_ids" in lead._fields else []
        lines = []
        for line in orders.order_line.filtered(lambda order_line: not order_line.display_type) if orders else []:
            lines.append(
                {
                    "name": line.name,
                    "quantity": line.product_uom_qty,
                    "price_net": line.price_unit * (1 - (line.discount or 0.0) / 100),
                    "tax": str(int(line.tax_id[:1].amount)) if line.tax_id[:1].amount_type == "percent" else "disabled",
                }
            )
        return lines or [{"name": lead.name, "quantity": 1, "price_net": lead.expected_revenue, "tax": "23"}]

    def action_confirm(self):
        """Keep the invoice to create and queue it: the background runner issues it exactly once."""
        self.ensure_one()
        lead = self.lead_id
        if lead.io_invoice_state == "queued" and not lead.io_invoice_refusal:
            raise UserError(_("The invoice of %s is already being created.", lead.name))
        if lead.io_view_url or lead.io_invoice_state == "done":
            raise UserError(_("%s already has an InvoiceOcean document: open it with Open in InvoiceOcean.", lead.name))
        if not lead.partner_id:
            raise UserError(_("Choose the opportunity's customer first."))
        if not self.line_ids:
            raise UserError(_("Add at least one position."))
        positions = []
        for line in self.line_ids:
            io.position_payload(line.name or "", line.quantity, line.price_net, line.tax)  # refused here, not later
            positions.append(
                {"name": line.name, "quantity": line.quantity, "price_net": line.price_net, "tax": line.tax}
            )
        request = {
            "kind": self.kind,
            "currency": self.currency_id.name,
            "department_id": self.department_row_id.remote_id or False,
            "positions": positions,
        }
        self.integration_id._io_queue_invoice(lead, request)
        return {
            "type": "ir.actions.client",
            "tag": "recruitment_sync_invoiceocean.wait_invoice",
            "params": {"lead_id": lead.id},
        }


class InvoiceOceanInvoiceWizardLine(models.TransientModel):
    _name = "recruitment.sync.invoiceocean.invoice.wizard.line"
    _description = "Position of an InvoiceOcean invoice to add"

    wizard_id = fields.Many2one("recruitment.sync.invoiceocean.invoice.wizard", required=True, ondelete="cascade")
    name = fields.Char(required=True)
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    price_net = fields.Float(string="Net price", digits="Product Price")
    tax = fields.Char(default="23", help="A rate (23, 8, 0) or np (not subject), zw (exempt), disabled.")
