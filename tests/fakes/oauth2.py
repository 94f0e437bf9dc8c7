"""A fake OAuth2 authorization server: authorization-code grant, PKCE, refresh rotation, revocation.

``FakeOAuth2Server`` mirrors what JobAdder (``id.jobadder.com/connect/…``), Xero
(``login.xero.com/identity/connect/…``) and Intuit do: a consent page the user accepts in the
browser, a token endpoint speaking RFC 6749 (form-encoded requests, JSON answers, client
credentials in the body or as HTTP Basic), PKCE S256 (RFC 7636), refresh tokens that rotate on
every use (the previous one still works for ``rotated_refresh_token_grace`` seconds, 0 by
default), and revocation (RFC 7009; ``_token_to_revoke`` reads the token from the request).
Fakes of resource APIs subclass it, declare their own ``rules`` and call
``self.authenticate(request)`` in their handlers.

Every setting is a class attribute a subclass may override and a keyword of the constructor::

    server = FakeOAuth2Server(client_id="abc", require_pkce=True, clock=clock).start()
    server.authorize_url  # http://127.0.0.1:<port>/oauth/authorize

Time comes from ``clock`` (default ``time.time``); pass a ``ManualClock`` to move it forward.
"""

import base64
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from .service import FakeService

_UNSET = object()
_PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


class ManualClock:
    """A clock for ``FakeOAuth2Server(clock=...)`` that only moves when told to."""

    def __init__(self, start=1_790_000_000.0):
        self.now = float(start)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds
        return self.now


def pkce_challenge(verifier):
    """The S256 code challenge of a PKCE code verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float
    code_challenge: str = None
    used: bool = False
    grant_id: str = None


@dataclass
class Grant:
    """One authorization the user gave; every token issued from it (across rotations) shares it."""

    grant_id: str
    client_id: str
    scope: str
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    client_id: str
    scope: str
    issued_at: float
    rotated: bool = False
    rotated_at: float = None


@dataclass
class AccessToken:
    """What ``authenticate`` returns: the bearer token a resource request carried."""

    token: str
    grant_id: str
    client_id: str
    scope: str
    expires_at: float
    refresh_token: str = None
    revoked: bool = False


class FakeOAuth2Server(FakeService):
    """OAuth2 authorization server; subclasses add resource ``rules`` protected by ``authenticate``."""

    path_prefix = "/oauth"
    authorize_path = "authorize"
    token_path = "token"
    revoke_path = "revoke"
    client_id = "fake-client-id"
    client_secret = "fake-client-secret"  # None: a public client, no secret checked
    client_name = "Recruitment Sync"
    service_name = "Fake Service"
    user_name = "Alex Admin"
    registered_redirect_uris = None  # None: accept any redirect_uri
    access_token_lifetime = 3600
    refresh_token_idle_lifetime = 14 * 24 * 3600
    rotated_refresh_token_grace = 0  # seconds a rotated refresh token still works (0: none)
    code_lifetime = 300
    require_pkce = False
    known_scopes = None  # a set: the authorize page refuses other scopes (invalid_scope); None: any
    extra_token_fields = None  # merged into token answers; "{url}" in string values -> self.url

    _settings = (
        "path_prefix",
        "authorize_path",
        "token_path",
        "revoke_path",
        "client_id",
        "client_secret",
        "client_name",
        "service_name",
        "user_name",
        "registered_redirect_uris",
        "access_token_lifetime",
        "refresh_token_idle_lifetime",
        "rotated_refresh_token_grace",
        "code_lifetime",
        "require_pkce",
        "extra_token_fields",
    )

    def __init__(self, host="127.0.0.1", port=0, *, clock=None, **settings):
        unknown = set(settings) - set(self._settings)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        for name, value in settings.items():
            setattr(self, name, value)
        if self.registered_redirect_uris is not None:
            self.registered_redirect_uris = tuple(self.registered_redirect_uris)
        self.clock = clock or time.time
        super().__init__(host=host, port=port)
        self.url_map = Map(
            [Rule(path, endpoint=endpoint, methods=methods) for path, endpoint, methods in self._all_rules()]
        )
        self._tokens_lock = threading.RLock()
        self._codes = {}
        self._grants = {}
        self._refresh_tokens = {}
        self._access_tokens = {}
        self.token_requests = 0
        self.refresh_requests = 0
        self.issued_refresh_tokens = []

    def _all_rules(self):
        prefix = self.path_prefix.rstrip("/")
        rules = [
            (f"{prefix}/{self.authorize_path}", "oauth_authorize", ["GET", "POST"]),
            (f"{prefix}/{self.token_path}", "oauth_token", ["POST"]),
            (f"{prefix}/{self.revoke_path}", "oauth_revoke", ["POST"]),
        ]
        for cls in reversed(type(self).__mro__):
            for rule in cls.__dict__.get("rules", ()):
                if rule not in rules:
                    rules.append(rule)
        return rules

    # -- addresses -----------------------------------------------------------------------
    @property
    def authorize_url(self):
        return f"{self.url}{self.path_prefix.rstrip('/')}/{self.authorize_path}"

    @property
    def token_url(self):
        return f"{self.url}{self.path_prefix.rstrip('/')}/{self.token_path}"

    @property
    def revoke_url(self):
        return f"{self.url}{self.path_prefix.rstrip('/')}/{self.revoke_path}"

    # -- test knobs ----------------------------------------------------------------------
    def expire_access_tokens(self):
        """Make every access token issued so far expired (as if its lifetime had passed)."""
        with self._tokens_lock:
            past = self.clock() - 1
            for access in self._access_tokens.values():
                access.expires_at = min(access.expires_at, past)

    def revoke_all(self):
        """Revoke every grant, as a user disconnecting the app in the remote system does."""
        with self._tokens_lock:
            for grant in self._grants.values():
                grant.revoked = True

    def issue_token(self, scope=""):
        """Tokens as if the browser flow had just completed: the token answer as a dict."""
        with self._tokens_lock:
            grant = self._new_grant(self.client_id, scope)
            return self._issue(grant)

    def access_token_info(self, token):
        with self._tokens_lock:
            return self._access_tokens.get(token)

    # -- GET/POST <prefix>/authorize -----------------------------------------------------
    def on_oauth_authorize(self, request):
        """The user-facing authorize page (RFC 6749 §4.1.1): a consent form, then a redirect.

        Like the real servers, an unknown client or an unregistered redirect_uri is shown to
        the user (400 page) instead of being redirected; other errors go back to the client.
        """
        params = request.args if request.method == "GET" else request.form
        error = self._check_authorize_params(params)
        if error is not None:
            return error
        if request.method == "GET":
            return self._consent_page(params)
        decision = params.get("decision")
        redirect_uri, state = params["redirect_uri"], params.get("state")
        if decision == "decline":
            return self._redirect_back(redirect_uri, state, error="access_denied")
        if decision != "accept":
            return self._html_page(400, "Bad request", "The form's decision must be accept or decline.")
        code = secrets.token_urlsafe(24)
        with self._tokens_lock:
            self._codes[code] = AuthorizationCode(
                code=code,
                client_id=params["client_id"],
                redirect_uri=redirect_uri,
                scope=params.get("scope", ""),
                expires_at=self.clock() + self.code_lifetime,
                code_challenge=params.get("code_challenge") or None,
            )
        return self._redirect_back(redirect_uri, state, code=code)

    def _check_authorize_params(self, params):
        client_id = params.get("client_id")
        if client_id != self.client_id:
            return self._html_page(400, "Unknown application", f"There is no application with client_id {client_id!r}.")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or urlsplit(redirect_uri).scheme not in ("http", "https"):
            return self._html_page(400, "Invalid redirect_uri", "The redirect_uri is missing or not a URL.")
        if self.registered_redirect_uris is not None and redirect_uri not in self.registered_redirect_uris:
            return self._html_page(
                400,
                "Invalid redirect_uri",
                f"The redirect_uri {redirect_uri!r} is not registered for this application.",
            )
        state = params.get("state")
        if params.get("response_type") != "code":
            return self._redirect_back(redirect_uri, state, error="unsupported_response_type")
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if challenge:
            if method != "S256" or not _PKCE_CHALLENGE.match(challenge):
                return self._redirect_back(
                    redirect_uri, state, error="invalid_request", error_description="PKCE: S256 only"
                )
        elif method or self.require_pkce:
            return self._redirect_back(
                redirect_uri, state, error="invalid_request", error_description="code_challenge required"
            )
        problem = self._scope_problem(params.get("scope", "").split())
        if problem:
            return self._redirect_back(redirect_uri, state, error="invalid_scope", error_description=problem)
        return None

    def _scope_problem(self, scopes):
        """Why the requested scopes are refused (None: they are fine); services add their rules."""
        if self.known_scopes is None:
            return None
        if not scopes:
            return "scope is required"
        unknown = [scope for scope in scopes if scope not in self.known_scopes]
        if unknown:
            return f"unknown scope: {' '.join(unknown)}"
        return None

    def _consent_page(self, params):
        esc = html.escape
        hidden = "\n".join(
            f'    <input type="hidden" name="{esc(key)}" value="{esc(value)}">'
            for key, value in params.items(multi=True)
            if key != "decision"
        )
        scopes = "\n".join(f"    <li>{esc(scope)}</li>" for scope in params.get("scope", "").split())
        body = f"""<p><strong>{esc(self.client_name)}</strong> wants to access your account.</p>
  <p>Signed in as {esc(self.user_name)}. It asks for:</p>
  <ul id="scopes">
{scopes}
  </ul>
  <form method="post" action="{esc(self.path_prefix.rstrip("/"))}/{esc(self.authorize_path)}">
{hidden}
    <button type="submit" id="accept" name="decision" value="accept">Accept</button>
    <button type="submit" id="decline" name="decision" value="decline">Decline</button>
  </form>"""
        return self._html_page(200, f"Authorize {self.client_name}", body, raw=True)

    def _html_page(self, status, title, text, raw=False):
        esc = html.escape
        content = text if raw else f"<p>{esc(text)}</p>"
        page = (
            f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
            f"<title>{esc(title)} - {esc(self.service_name)}</title></head>\n"
            f"<body>\n  <h1>{esc(title)}</h1>\n  {content}\n</body>\n</html>\n"
        )
        return Response(page, status=status, content_type="text/html; charset=utf-8")

    @staticmethod
    def _redirect_back(redirect_uri, state, **values):
        if state is not None:
            values["state"] = state
        parts = urlsplit(redirect_uri)
        query = urlencode(parse_qsl(parts.query, keep_blank_values=True) + list(values.items()))
        return redirect(urlunsplit(parts._replace(query=query)), code=302)

    # -- POST <prefix>/token -------------------------------------------------------------
    def on_oauth_token(self, request):
        """The token endpoint (RFC 6749 §4.1.3 and §6, RFC 7636 §4.6), rotating refresh tokens."""
        form = request.form
        grant_type = form.get("grant_type")
        with self._tokens_lock:
            self.token_requests += 1
            if grant_type == "refresh_token":
                self.refresh_requests += 1
        if request.mimetype != "application/x-www-form-urlencoded":
            return self.oauth_error("invalid_request", "The body must be application/x-www-form-urlencoded")
        client_id, error = self._authenticate_client(request)
        if error is not None:
            return error
        if not grant_type:
            return self.oauth_error("invalid_request", "grant_type is missing")
        if grant_type == "authorization_code":
            return self._grant_authorization_code(client_id, form)
        if grant_type == "refresh_token":
            return self._grant_refresh_token(client_id, form)
        return self.oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _authenticate_client(self, request):
        """Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the form; (client_id, error)."""
        form = request.form
        basic = request.authorization
        if basic is not None and basic.type == "basic":
            client_id, secret = basic.username, basic.password
            if form.get("client_secret"):
                return None, self.oauth_error("invalid_request", "Client authenticated twice")
            if form.get("client_id") not in (None, client_id):
                return None, self._invalid_client(basic=True)
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        if client_id != self.client_id:
            return None, self._invalid_client(basic=basic is not None)
        if self.client_secret is not None and not hmac.compare_digest(
            (secret or "").encode(), self.client_secret.encode()
        ):
            return None, self._invalid_client(basic=basic is not None)
        return client_id, None

    def _invalid_client(self, basic):
        headers = {"WWW-Authenticate": 'Basic realm="oauth"'} if basic else None
        return self.oauth_error("invalid_client", "Client authentication failed", status=401, headers=headers)

    def _grant_authorization_code(self, client_id, form):
        code_value = form.get("code")
        if not code_value:
            return self.oauth_error("invalid_request", "code is missing")
        verifier = form.get("code_verifier")
        with self._tokens_lock:
            code = self._codes.get(code_value)
            if code is None or code.client_id != client_id:
                return self.oauth_error("invalid_grant", "Unknown authorization code")
            if code.used:
                # RFC 6749 §4.1.2: a replayed code revokes what was issued from it.
                if code.grant_id:
                    self._grants[code.grant_id].revoked = True
                return self.oauth_error("invalid_grant", "The authorization code was already used")
            if self.clock() >= code.expires_at:
                return self.oauth_error("invalid_grant", "The authorization code expired")
            if form.get("redirect_uri") != code.redirect_uri:
                return self.oauth_error("invalid_grant", "redirect_uri differs from the authorize request")
            if code.code_challenge:
                if not verifier:
                    return self.oauth_error("invalid_grant", "code_verifier is missing")
                if not _PKCE_VERIFIER.match(verifier):
                    return self.oauth_error("invalid_request", "code_verifier is malformed")
                if not hmac.compare_digest(pkce_challenge(verifier), code.code_challenge):
                    return self.oauth_error("invalid_grant", "code_verifier does not match the challenge")
            elif verifier:
                return self.oauth_error("invalid_request", "code_verifier without a code_challenge")
            code.used = True
            grant = self._new_grant(client_id, code.scope)
            code.grant_id = grant.grant_id
            return self.token_response(self._issue(grant))

    def _grant_refresh_token(self, client_id, form):
        value = form.get("refresh_token")
        if not value:
            return self.oauth_error("invalid_request", "refresh_token is missing")
        with self._tokens_lock:
            refresh = self._refresh_tokens.get(value)
            if refresh is None or refresh.client_id != client_id:
                return self.oauth_error("invalid_grant", "Unknown refresh token")
            grant = self._grants[refresh.grant_id]
            if grant.revoked:
                return self.oauth_error("invalid_grant", "The refresh token was revoked")
            if refresh.rotated and self.clock() - refresh.rotated_at >= self.rotated_refresh_token_grace:
                return self.oauth_error("invalid_grant", "The refresh token was already used")
            if self.clock() - refresh.issued_at >= self.refresh_token_idle_lifetime:
                return self.oauth_error("invalid_grant", "The refresh token expired")
            scope = form.get("scope")
            if scope is not None and not set(scope.split()) <= set(refresh.scope.split()):
                return self.oauth_error("invalid_scope", "scope exceeds the granted scope")
            if not refresh.rotated:
                refresh.rotated, refresh.rotated_at = True, self.clock()
            return self.token_response(self._issue(grant, scope=scope))

    def _new_grant(self, client_id, scope):
        grant = Grant(grant_id=secrets.token_hex(8), client_id=client_id, scope=scope)
        self._grants[grant.grant_id] = grant
        return grant

    def _issue(self, grant, scope=None):
        """New access and refresh tokens of ``grant`` (caller holds the lock); the token answer."""
        now = self.clock()
        scope = grant.scope if scope is None else scope
        refresh = RefreshToken(
            token=secrets.token_urlsafe(32),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            scope=grant.scope,
            issued_at=now,
        )
        access = AccessToken(
            token=secrets.token_urlsafe(32),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            scope=scope,
            expires_at=now + self.access_token_lifetime,
            refresh_token=refresh.token,
        )
        self._refresh_tokens[refresh.token] = refresh
        self._access_tokens[access.token] = access
        self.issued_refresh_tokens.append(refresh.token)
        return {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": int(self.access_token_lifetime),
            "refresh_token": refresh.token,
            "scope": scope,
            **self.extra_token_fields_for(grant),
        }

    def extra_token_fields_for(self, grant):
        """Fields added to every token answer; override for per-grant values (e.g. an id_token)."""
        return {
            key: value.replace("{url}", self.url) if isinstance(value, str) else value
            for key, value in (self.extra_token_fields or {}).items()
        }

    def token_response(self, payload):
        return self.json_response(payload, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def oauth_error(self, error, description=None, status=None, headers=None):
        """An RFC 6749 §5.2 error answer: 400 (401 for invalid_client) with a JSON body."""
        payload = {"error": error}
        if description:
            payload["error_description"] = description
        if status is None:
            status = 401 if error == "invalid_client" else 400
        headers = {"Cache-Control": "no-store", **(headers or {})}
        return self.json_response(payload, status=status, headers=headers)

    # -- POST <prefix>/revoke ------------------------------------------------------------
    def on_oauth_revoke(self, request):
        """Token revocation (RFC 7009): a refresh token ends its whole grant, an access token
        only itself; unknown tokens are answered 200 like real servers do."""
        _client_id, error = self._authenticate_client(request)
        if error is not None:
            return error
        token = self._token_to_revoke(request)
        if not token:
            return self.oauth_error("invalid_request", "token is missing")
        with self._tokens_lock:
            refresh = self._refresh_tokens.get(token)
            access = self._access_tokens.get(token)
            if refresh is not None:
                self._grants[refresh.grant_id].revoked = True
            elif access is not None:
                access.revoked = True
        return Response(status=200)

    def _token_to_revoke(self, request):
        """The token a revocation request names (RFC 7009: the form's ``token``); services differ."""
        return request.form.get("token")

    # -- for resource handlers -----------------------------------------------------------
    def authenticate(self, request):
        """The ``AccessToken`` of the request's ``Authorization: Bearer`` header (RFC 6750).

        Raises an HTTPException carrying a 401 JSON answer with a ``WWW-Authenticate`` header
        when the token is missing, unknown, expired or revoked; the base dispatch returns it.
        """
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise self._unauthorized("Bearer access token required", error=None)
        value = value.strip()
        with self._tokens_lock:
            access = self._access_tokens.get(value)
            if access is None:
                raise self._unauthorized("Unknown access token")
            if access.revoked or self._grants[access.grant_id].revoked:
                raise self._unauthorized("The access token was revoked")
            if self.clock() >= access.expires_at:
                raise self._unauthorized("The access token expired")
            return access

    def _unauthorized(self, description, error="invalid_token"):
        challenge = f'Bearer realm="{self.service_name}"'
        if error:
            challenge += f', error="{error}", error_description="{description}"'
        response = self.json_response(
            {"error": error or "unauthorized", "error_description": description},
            status=401,
            headers={"WWW-Authenticate": challenge},
        )
        return HTTPException(response=response)


__all__ = [
    "AccessToken",
    "FakeOAuth2Server",
    "ManualClock",
    "pkce_challenge",
]
