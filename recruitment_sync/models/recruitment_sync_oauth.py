"""OAuth2 (authorization code, PKCE where the provider supports it) for integrations."""

import base64
import binascii
import contextlib
import hashlib
import ipaddress
import logging
import os
import secrets
from datetime import timedelta
from urllib.parse import urlparse

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session
from werkzeug.exceptions import Forbidden

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hash_sign, verify_hash_signed

from ..services.http_client import AuthError
from .recruitment_sync_run import can_commit

_logger = logging.getLogger(__name__)

STATE_SCOPE = "recruitment_sync.oauth2_state"
CALLBACK_PATH = "/recruitment_sync/oauth/callback"
TOKEN_TIMEOUT = 20  # seconds, for every call to a token endpoint
# Cursor cache key: {integration id: tokens a refresh committed on its own cursor}.
REFRESHED_KEY = "recruitment_sync_oauth2_refreshed"


def is_loopback(url):
    host = urlparse(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def transport_allowed(*urls):
    """oauthlib insists on HTTPS; plain HTTP is allowed for loopback sandboxes only."""
    for url in urls:
        if url and not url.lower().startswith("https://") and not is_loopback(url):
            raise UserError(_("OAuth2 endpoints must use HTTPS: %s", url))
    insecure = any(url and url.lower().startswith("http://") for url in urls)
    previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    if insecure:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield
    finally:
        if insecure:
            if previous is None:
                os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
            else:
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous


def pkce_challenge(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class RecruitmentSyncOAuth2Mixin(models.AbstractModel):
    """OAuth2 for integrations (inherited by ``recruitment.sync.integration``)."""

    _name = "recruitment.sync.oauth2.mixin"
    _description = "Sync integration OAuth2"

    token_expires_at = fields.Datetime(compute="_compute_token_info", groups="base.group_system")
    has_tokens = fields.Boolean(compute="_compute_token_info", groups="base.group_system")

    def _compute_token_info(self):
        for integration in self:
            token = integration._token_sudo()
            integration.token_expires_at = token.expires_at
            integration.has_tokens = bool(token.refresh_token or token.access_token)

    def _token_sudo(self, create=False):
        self.ensure_one()
        Token = self.env["recruitment.sync.token"].sudo()
        token = Token.search([("integration_id", "=", self.id)], limit=1)
        if not token and create:
            token = Token.create({"integration_id": self.id})
        return token

    def _oauth2_redirect_uri(self):
        return self.get_base_url() + CALLBACK_PATH

    # ------------------------------------------------------------------------ consent
    def _oauth2_authorize_action(self):
        """An act_url to the provider's consent page, with a signed, expiring state."""
        self.ensure_one()
        config = self._get_oauth2_config()
        if not config.client_id:
            raise UserError(_("Set the client ID (and secret) of your %s app first.", self.name))
        nonce = secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(64) if config.use_pkce else False
        self._token_sudo(create=True).write({"pending_state_nonce": nonce, "pending_code_verifier": verifier})
        state = hash_sign(
            self.sudo().env,
            STATE_SCOPE,
            {"integration": self.id, "uid": self.env.uid, "nonce": nonce},
            expiration_hours=1,
        )
        params = dict(config.authorize_params)
        if verifier:
            params.update(code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
        session = OAuth2Session(
            config.client_id, redirect_uri=self._oauth2_redirect_uri(), scope=list(config.scopes), state=state
        )
        with transport_allowed(config.authorize_url):
            url, _state = session.authorization_url(config.authorize_url, **params)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def _oauth2_integration_from_state(self, state):
        """The integration a callback's state was issued for, or Forbidden.

        Rejects a missing, forged or expired state, one issued to another user, and a
        replayed one (its nonce is consumed by the first callback).
        """
        if not state:
            raise Forbidden(_("The authorisation answer has no state."))
        try:
            payload = verify_hash_signed(self.sudo().env, STATE_SCOPE, state)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            payload = None
        if not isinstance(payload, dict):
            raise Forbidden(_("The authorisation state is invalid or has expired. Click Connect again."))
        if payload.get("uid") != self.env.uid:
            raise Forbidden(_("This authorisation was started by another user."))
        integration = self.browse(payload.get("integration")).exists()
        if not integration:
            raise Forbidden(_("The integration of this authorisation no longer exists."))
        token = integration._token_sudo()
        if not token.pending_state_nonce or not consteq(token.pending_state_nonce, str(payload.get("nonce"))):
            raise Forbidden(_("This authorisation was already used or superseded. Click Connect again."))
        return integration

    def _oauth2_error_text(self, error, description=None):
        """The words for an OAuth2 error code of the consent page (RFC 6749 §4.1.2.1)."""
        texts = {
            "access_denied": _("the access was declined on the consent page. Click Connect and accept to connect."),
            "invalid_scope": _("the app may not ask for these permissions; check the app's settings."),
            "unauthorized_client": _("the app is not allowed to connect this way; check its client ID."),
            "server_error": _("the service had an error; try again in a moment."),
            "temporarily_unavailable": _("the service is busy; try again in a moment."),
        }
        text = texts.get(error)
        if text and description and description != error:
            return f"{text} ({description})"
        return text or description or error

    def _oauth2_client_credentials(self, config, refresh=False):
        """How the token request carries the client's credentials (``OAuth2Config.client_auth``)."""
        if config.client_auth == "basic":
            return {"auth": requests.auth.HTTPBasicAuth(config.client_id or "", config.client_secret or "")}
        if refresh:
            return {"client_id": config.client_id, "client_secret": config.client_secret, "include_client_id": True}
        return {"client_secret": config.client_secret, "include_client_id": True}

    def _provider_oauth2_callback(self, params):
        """Hook: the consent page's answer carried ``params`` besides code and state (e.g. Intuit's
        ``realmId``, the company the user picked); called after the tokens are stored, before the
        integration is marked connected. Return an error message to refuse the connection."""
        return None

    def _oauth2_complete(self, state, code=None, error=None, error_description=None, params=None):
        """Finish the consent flow: swap the code for tokens and mark the integration connected.

        ``params``: the callback's other query parameters, for ``_provider_oauth2_callback``.
        """
        self.ensure_one()
        token = self._token_sudo()
        verifier = token.pending_code_verifier
        token.write({"pending_state_nonce": False, "pending_code_verifier": False})
        if error:
            message = _(
                "Connecting was refused by %(name)s: %(error)s",
                name=self.name,
                error=self._oauth2_error_text(error, error_description),
            )
            self.message_post(body=message, subtype_xmlid="mail.mt_note")
            return message
        config = self._get_oauth2_config()
        session = OAuth2Session(config.client_id, redirect_uri=self._oauth2_redirect_uri(), state=state)
        extra = {"code_verifier": verifier} if verifier else {}
        try:
            with transport_allowed(config.token_url):
                answer = session.fetch_token(
                    config.token_url,
                    code=code,
                    timeout=TOKEN_TIMEOUT,
                    **self._oauth2_client_credentials(config),
                    **extra,
                )
        except (OAuth2Error, requests.RequestException, ValueError) as exc:
            message = _("Could not obtain tokens from %(name)s: %(error)s", name=self.name, error=exc)
            self.message_post(body=message, subtype_xmlid="mail.mt_note")
            return message
        self._oauth2_store(answer)
        # The base hook returns None; a connector may refuse the connection with a message.
        refusal = self._provider_oauth2_callback(dict(params or {}))  # pylint: disable=assignment-from-none
        if refusal:
            self.message_post(body=refusal, subtype_xmlid="mail.mt_note")
            return refusal
        self.message_post(body=_("Connected by %s.", self.env.user.name), subtype_xmlid="mail.mt_note")
        self._mark_connected()
        return None

    def _oauth2_store(self, answer, token=None):
        """Persist a token response (access, rotated refresh token, expiry, extra fields)."""
        token = token or self._token_sudo(create=True)
        config = self._get_oauth2_config()
        expires_in = int(answer.get("expires_in") or 3600)
        values = {
            "access_token": answer["access_token"],
            # Providers that rotate send a new refresh token; others keep the old one valid.
            "refresh_token": answer.get("refresh_token") or token.refresh_token,
            "expires_at": fields.Datetime.now() + timedelta(seconds=expires_in),
            "scope": " ".join(answer["scope"]) if isinstance(answer.get("scope"), list) else answer.get("scope"),
        }
        kept = {name: answer[name] for name in config.token_extra_fields if name in answer}
        if kept:
            values["extra"] = {**(token.extra or {}), **kept}
        token.write(values)
        return token

    # ------------------------------------------------------------------------ refresh
    def _oauth2_access_token(self):
        """A valid access token, refreshed first when it expires within the provider's margin."""
        self.ensure_one()
        token = self._token_sudo()
        config = self._get_oauth2_config()
        if not token.refresh_token and not token.access_token:
            raise AuthError(_("%s is not connected: no tokens. Click Connect.", self.name), status=None)
        access_token, expires_at = self._oauth2_current_token(token)
        margin = timedelta(seconds=config.refresh_margin)
        if access_token and expires_at and expires_at - margin > fields.Datetime.now():
            return access_token
        return self._oauth2_refresh()

    def _oauth2_current_token(self, token=None):
        """(access token, expiry): the stored ones, or newer ones this cursor obtained meanwhile.

        A refresh is committed on a cursor of its own; this transaction's snapshot still shows
        the tokens it replaced, so the ones the refresh returned are kept on the cursor.
        """
        token = token or self._token_sudo()
        newer = self.env.cr.cache.get(REFRESHED_KEY, {}).get(self.id)
        if newer and newer["replaced"] == token.access_token:
            return newer["access_token"], newer["expires_at"]
        return token.access_token, token.expires_at

    def _oauth2_force_refresh(self, refused_token=None):
        """Refresh now: the API answered 401 to ``refused_token`` (revoked or expired early).

        Another worker may have refreshed meanwhile: its token is used instead of refreshing
        again, unless it is the refused one.
        """
        refused_token = refused_token or self._oauth2_current_token()[0]
        return self._oauth2_refresh(refused_token=refused_token)

    def _oauth2_use_own_cursor(self):
        return can_commit()

    def _oauth2_refresh(self, refused_token=None):
        """Refresh under a row lock, committed at once in its own transaction.

        Refresh tokens rotate: a refreshed pair lost in a rolled-back transaction would
        disconnect the integration. The lock makes a second worker wait, then find the
        token the first one obtained instead of spending the rotated refresh token again.
        """
        if not self._oauth2_use_own_cursor():
            self.env["recruitment.sync.token"].flush_model()
            return self._oauth2_refresh_locked(refused_token)
        replaced = self._token_sudo().access_token  # what this transaction keeps seeing
        with self.env.registry.cursor() as cr:
            # READ COMMITTED: after waiting for the lock, see what the other worker committed.
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            own = self.with_env(self.env(cr=cr))
            access_token = own._oauth2_refresh_locked(refused_token)
            expires_at = own._token_sudo().expires_at
        self.env.cr.cache.setdefault(REFRESHED_KEY, {})[self.id] = {
            "replaced": replaced,
            "access_token": access_token,
            "expires_at": expires_at,
        }
        return access_token

    def _oauth2_refresh_locked(self, refused_token=None):
        self.ensure_one()
        cr = self.env.cr
        # Lock and read in one statement: under READ COMMITTED, a worker that waited for the
        # lock gets the row as the other worker committed it.
        cr.execute(
            """SELECT id, access_token, expires_at FROM recruitment_sync_token
                WHERE integration_id = %s FOR NO KEY UPDATE""",
            [self.id],
        )
        row = cr.fetchone()
        if not row:
            raise AuthError(_("%s is not connected: no tokens. Click Connect.", self.name), status=None)
        token_id, access_token, expires_at = row
        config = self._get_oauth2_config()
        margin = timedelta(seconds=config.refresh_margin)
        still_valid = access_token and expires_at and expires_at - margin > fields.Datetime.now()
        if still_valid and access_token != refused_token:
            return access_token  # valid, or another worker refreshed it while we waited
        token = self.env["recruitment.sync.token"].sudo().browse(token_id)
        token.invalidate_recordset()
        if not token.refresh_token:
            raise AuthError(_("%s has no refresh token: reconnect it.", self.name), status=None)
        session = OAuth2Session(config.client_id)
        try:
            with transport_allowed(config.token_url):
                answer = session.refresh_token(
                    config.token_url,
                    refresh_token=token.refresh_token,
                    timeout=TOKEN_TIMEOUT,
                    **self._oauth2_client_credentials(config, refresh=True),
                )
        except OAuth2Error as exc:
            token.write({"access_token": False, "expires_at": False})
            raise AuthError(
                _(
                    "%(name)s refused to renew the authorisation (%(error)s): it was revoked or unused for "
                    "too long. Reconnect the integration.",
                    name=self.name,
                    error=exc.error,
                ),
                status=400,
            ) from exc
        except requests.RequestException as exc:
            raise AuthError(
                _(
                    "Could not reach %(name)s to renew the authorisation: %(error)s",
                    name=self.name,
                    error=exc,
                ),
                status=None,
            ) from exc
        self._oauth2_store(answer, token)
        token.write({"last_refreshed_at": fields.Datetime.now(), "refresh_count": token.refresh_count + 1})
        # Written before the lock is released: a worker waiting for it must find these tokens.
        token.flush_recordset()
        return answer["access_token"]

    # ------------------------------------------------------------------------ disconnect
    def _oauth2_revoke_and_wipe(self, revoke=True):
        """Revoke the grant where the provider allows it (unless ``revoke`` is False: the grant is
        kept for others), then delete every token."""
        self.ensure_one()
        token = self._token_sudo()
        config = self._get_oauth2_config()
        if revoke and token.refresh_token and config.revoke_url:
            try:
                with transport_allowed(config.revoke_url):
                    body = {"token": token.refresh_token}
                    if config.revoke_format == "json":
                        sent = {"json": body, "headers": {"Accept": "application/json"}}
                    else:
                        sent = {"data": {**body, "token_type_hint": "refresh_token"}}
                    requests.post(
                        config.revoke_url,
                        auth=(config.client_id or "", config.client_secret or ""),
                        timeout=TOKEN_TIMEOUT,
                        **sent,
                    )
            except requests.RequestException as exc:
                # The tokens are wiped anyway; the grant expires on the provider's side.
                _logger.warning("Revoking the grant of integration %s failed: %s", self.id, exc)
        token.unlink()
