import json
import logging

from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class InvoiceOceanWebhookController(http.Controller):
    @http.route(
        "/recruitment_sync_invoiceocean/webhook/<int:integration_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,  # it writes (queues a run); Odoo 18 makes auth="none" routes read-only by default
    )
    def webhook(self, integration_id, **_kwargs):
        """InvoiceOcean's webhooks (§6): checked by the shared secret they echo, then only a run is queued.

        A wrong secret or a body that is not a client or document event is refused and queues nothing.
        """
        env = request.env(su=True)
        integration = env["recruitment.sync.integration"].browse(integration_id).exists()
        if not integration or integration.provider != "invoiceocean" or integration.state != "connected":
            raise NotFound()
        try:
            payload = json.loads(request.httprequest.get_data() or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise BadRequest("not a JSON object")
        if not integration._io_check_webhook_secret(payload.get("api_token")):
            _logger.warning("InvoiceOcean webhook for integration %s refused: wrong secret", integration_id)
            raise Forbidden()
        if not isinstance(payload.get("client"), dict) and not isinstance(payload.get("deal"), dict):
            raise BadRequest("neither a client nor a deal")
        try:
            run = integration._io_receive_webhook(payload)
        except (KeyError, TypeError, ValueError) as error:
            raise BadRequest("the event names no record") from error
        return request.make_json_response({"queued": bool(run)})
