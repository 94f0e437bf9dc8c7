from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request


class RecruitmentSyncOAuthController(http.Controller):
    @http.route("/recruitment_sync/oauth/callback", type="http", auth="user", methods=["GET"])
    def oauth_callback(self, state=None, code=None, error=None, error_description=None, **params):
        """Where the provider's consent page sends the administrator back."""
        if not request.env.user.has_group("base.group_system"):
            raise Forbidden()
        Integration = request.env["recruitment.sync.integration"]
        integration = Integration._oauth2_integration_from_state(state)
        if not code and not error:
            raise Forbidden()
        integration._oauth2_complete(state, code=code, error=error, error_description=error_description, params=params)
        # Never a URL taken from the request: back to the integration's own form.
        return request.redirect(f"/odoo/sync-integrations/{integration.id}")
