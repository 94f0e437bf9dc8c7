from odoo import fields, models


class RecruitmentSync24soTransfer(models.Model):
    """What 24SevenOffice holds of one invoice, per 24SevenOffice client.

    24SevenOffice has no idempotency key: this record is how an invoice is never sent twice.
    It is written (and committed) just before SaveInvoices is called (*sending*, with the
    time) and as soon as it answers (the OrderId). A transfer still *sending* after a run was
    interrupted is uncertain: the next export searches 24SevenOffice for it before sending it.
    """

    _name = "recruitment.sync.24so.transfer"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "24SevenOffice invoice transfer"
    _order = "id desc"
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", required=True, index=True, ondelete="cascade", readonly=True)
    client_ref = fields.Char(string="24SevenOffice client", required=True, readonly=True)
    state = fields.Selection(
        selection=[("sending", "Sending"), ("saved", "Saved"), ("refused", "Refused"), ("not_sent", "Not sent")],
        required=True,
        readonly=True,
    )
    sent_at = fields.Datetime(string="Last sent at", readonly=True)
    customer_ref = fields.Integer(string="24SevenOffice customer id", readonly=True)
    order_ref = fields.Integer(string="24SevenOffice order id", readonly=True, index=True)
    invoice_number = fields.Char(string="24SevenOffice invoice number", readonly=True)
    run_id = fields.Many2one("recruitment.sync.run", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("move_client_unique", "UNIQUE(move_id, client_ref)", "An invoice has one transfer per 24SevenOffice client."),
    ]
