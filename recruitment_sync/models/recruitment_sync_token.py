from odoo import fields, models


class RecruitmentSyncToken(models.Model):
    """OAuth2 tokens of an integration: readable by System Administrators only.

    Kept apart from the integration row so a token refresh (committed in its own short
    transaction, because refresh tokens rotate) never contends with a run that is writing
    the integration. Wiped by ``data/neutralize.sql`` and by Disconnect.
    """

    _name = "recruitment.sync.token"
    _description = "Sync Integration OAuth2 Tokens"

    integration_id = fields.Many2one("recruitment.sync.integration", required=True, ondelete="cascade", index=True)
    access_token = fields.Char(copy=False)
    refresh_token = fields.Char(copy=False)
    expires_at = fields.Datetime(string="Access token expires at", copy=False)
    scope = fields.Char(copy=False)
    extra = fields.Json(
        copy=False, help="Token-response fields the provider needs (e.g. the API base URL it returns with the tokens)."
    )
    last_refreshed_at = fields.Datetime(copy=False)
    refresh_count = fields.Integer(copy=False, help="How many times the access token was refreshed.")
    pending_state_nonce = fields.Char(copy=False, help="Nonce of the consent flow in progress.")
    pending_code_verifier = fields.Char(copy=False, help="PKCE verifier of the consent flow in progress.")

    _sql_constraints = [
        ("integration_unique", "UNIQUE(integration_id)", "An integration has one set of tokens."),
    ]
