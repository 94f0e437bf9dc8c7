"""The fake OAuth2 server: consent page, code and refresh grants, PKCE, rotation, revocation."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.consent import read_consent_page, submit_consent
from tests.fakes.oauth2 import FakeOAuth2Server, ManualClock, pkce_challenge

REDIRECT = "https://odoo.example.com/recruitment_sync/oauth/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


class ProtectedServer(FakeOAuth2Server):
    """A resource server on top: one route that needs a bearer token."""

    rules = (("/api/whoami", "whoami", ["GET"]),)
    extra_token_fields = {"api": "{url}/v2", "account_id": 42}

    def on_whoami(self, request):
        token = self.authenticate(request)
        return self.json_response({"client_id": token.client_id, "scope": token.scope})


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def server(clock):
    with ProtectedServer(clock=clock, registered_redirect_uris=[REDIRECT]) as running:
        yield running


def consent_form(server, **params):
    query = {
        "response_type": "code",
        "client_id": server.client_id,
        "redirect_uri": REDIRECT,
        "scope": "records.read offline_access",
        "state": "st4te",
        **params,
    }
    page, form = read_consent_page(server.authorize_url, params=query)
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    return page, form


def authorize(server, decision="accept", **params):
    """Go through the consent page like a browser; the redirect's query parameters."""
    page, form = consent_form(server, **params)
    answer = submit_consent(page, form, decision)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(server, code, redirect_uri=REDIRECT, basic=False, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
    auth = None
    if basic:
        auth = (server.client_id, server.client_secret)
    else:
        data.update(client_id=server.client_id, client_secret=server.client_secret)
    return requests.post(server.token_url, data=data, auth=auth, timeout=5)


def refresh(server, refresh_token):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return requests.post(server.token_url, data=data, auth=(server.client_id, server.client_secret), timeout=5)


def whoami(server, access_token):
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.get(f"{server.url}/api/whoami", headers=headers, timeout=5)


def test_consent_page_shows_app_scopes_buttons_and_original_parameters(server):
    page, form = consent_form(server, state="a&b<c>")
    assert "Recruitment Sync</strong> wants to access your account" in page.text
    assert "<li>records.read</li>" in page.text and "<li>offline_access</li>" in page.text
    assert form.buttons == {"accept": ("decision", "accept"), "decline": ("decision", "decline")}
    assert form.action == "/oauth/authorize"
    assert form.fields == {
        "response_type": "code",
        "client_id": server.client_id,
        "redirect_uri": REDIRECT,
        "scope": "records.read offline_access",
        "state": "a&b<c>",
    }


def test_authorize_rejects_unknown_client_and_unregistered_redirect_uri(server):
    base = {"response_type": "code", "client_id": server.client_id, "redirect_uri": REDIRECT}
    answer = requests.get(server.authorize_url, params={**base, "client_id": "intruder"}, timeout=5)
    assert answer.status_code == 400
    assert "no application with client_id &#x27;intruder&#x27;" in answer.text
    answer = requests.get(
        server.authorize_url, params={**base, "redirect_uri": "https://evil.example.com/cb"}, timeout=5
    )
    assert answer.status_code == 400
    assert "not registered" in answer.text
    # The submit is checked again: a forged form cannot redirect elsewhere.
    forged = {**base, "redirect_uri": "https://evil.example.com/cb", "decision": "accept"}
    answer = requests.post(server.authorize_url, data=forged, allow_redirects=False, timeout=5)
    assert answer.status_code == 400


def test_authorize_redirects_other_errors_to_the_client(server):
    query = {"response_type": "token", "client_id": server.client_id, "redirect_uri": REDIRECT, "state": "s"}
    answer = requests.get(server.authorize_url, params=query, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query) == {
        "error": ["unsupported_response_type"],
        "state": ["s"],
    }
    query.update(response_type="code", code_challenge=VERIFIER, code_challenge_method="plain")
    answer = requests.get(server.authorize_url, params=query, allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_request"]


def test_decline_redirects_with_access_denied(server):
    assert authorize(server, decision="decline") == {"error": "access_denied", "state": "st4te"}


def test_code_flow_without_pkce(server):
    answer = authorize(server)
    assert set(answer) == {"code", "state"} and answer["state"] == "st4te"
    response = exchange(server, answer["code"])
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "api",
        "account_id",
    }
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "records.read offline_access"
    assert tokens["api"] == f"{server.url}/v2" and tokens["account_id"] == 42
    assert server.issued_refresh_tokens == [tokens["refresh_token"]]
    assert server.token_requests == 1 and server.refresh_requests == 0
    me = whoami(server, tokens["access_token"])
    assert me.status_code == 200
    assert me.json() == {"client_id": server.client_id, "scope": "records.read offline_access"}


def test_code_flow_with_pkce_rejects_missing_and_wrong_verifiers(server):
    challenge = pkce_challenge(VERIFIER)
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
    code = authorize(server, code_challenge=challenge, code_challenge_method="S256")["code"]
    missing = exchange(server, code, basic=True)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    wrong = exchange(server, code, basic=True, code_verifier="x" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    malformed = exchange(server, code, basic=True, code_verifier="short")
    assert malformed.status_code == 400 and malformed.json()["error"] == "invalid_request"
    right = exchange(server, code, basic=True, code_verifier=VERIFIER)
    assert right.status_code == 200, right.text
    assert whoami(server, right.json()["access_token"]).status_code == 200


def test_verifier_without_challenge_is_rejected(server):
    code = authorize(server)["code"]
    answer = exchange(server, code, code_verifier=VERIFIER)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_require_pkce_refuses_authorize_requests_without_a_challenge(clock):
    with FakeOAuth2Server(clock=clock, require_pkce=True) as server:
        query = {"response_type": "code", "client_id": server.client_id, "redirect_uri": REDIRECT}
        answer = requests.get(server.authorize_url, params=query, allow_redirects=False, timeout=5)
        assert answer.status_code == 302
        assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_request"]
        challenge = {"code_challenge": pkce_challenge(VERIFIER), "code_challenge_method": "S256"}
        code = authorize(server, **challenge)["code"]
        assert exchange(server, code, code_verifier=VERIFIER).status_code == 200


def test_code_is_single_use_and_a_replay_revokes_its_tokens(server):
    code = authorize(server)["code"]
    first = exchange(server, code)
    assert first.status_code == 200
    again = exchange(server, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert whoami(server, first.json()["access_token"]).status_code == 401
    assert refresh(server, first.json()["refresh_token"]).json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token was revoked",
    }


def test_code_expires(server, clock):
    code = authorize(server)["code"]
    clock.advance(server.code_lifetime)
    answer = exchange(server, code)
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "The authorization code expired"}


def test_redirect_uri_must_equal_the_authorize_one(server):
    code = authorize(server)["code"]
    answer = exchange(server, code, redirect_uri=REDIRECT + "/other")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert exchange(server, code).status_code == 200


def test_token_endpoint_errors(server):
    code = authorize(server)["code"]
    wrong_secret = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    answer = requests.post(
        server.token_url,
        data={**wrong_secret, "client_id": server.client_id, "client_secret": "nope"},
        timeout=5,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" not in answer.headers
    answer = requests.post(server.token_url, data=wrong_secret, auth=(server.client_id, "nope"), timeout=5)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")
    credentials = (server.client_id, server.client_secret)
    answer = requests.post(server.token_url, data={"grant_type": "password"}, auth=credentials, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"
    answer = requests.post(server.token_url, data={"code": code}, auth=credentials, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    answer = requests.post(server.token_url, json=wrong_secret, auth=credentials, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    twice = {**wrong_secret, "client_secret": server.client_secret}
    answer = requests.post(server.token_url, data=twice, auth=credentials, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert requests.get(server.token_url, timeout=5).status_code == 405
    # None of that consumed the code.
    assert exchange(server, code).status_code == 200
    assert server.token_requests == 7


def test_refresh_rotates_and_rejects_used_refresh_tokens(server):
    tokens = exchange(server, authorize(server)["code"]).json()
    renewed = refresh(server, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != tokens["refresh_token"]
    assert second["access_token"] != tokens["access_token"]
    assert second["api"] == f"{server.url}/v2" and second["scope"] == tokens["scope"]
    reused = refresh(server, tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    third = refresh(server, second["refresh_token"])
    assert third.status_code == 200
    assert server.issued_refresh_tokens == [
        tokens["refresh_token"],
        second["refresh_token"],
        third.json()["refresh_token"],
    ]
    assert server.refresh_requests == 3 and server.token_requests == 4
    assert refresh(server, "never-issued").json()["error"] == "invalid_grant"
    # The access token of an earlier rotation stays valid until it expires.
    assert whoami(server, tokens["access_token"]).status_code == 200


def test_refresh_token_idle_expiry(server, clock):
    tokens = exchange(server, authorize(server)["code"]).json()
    clock.advance(server.refresh_token_idle_lifetime - 1)
    renewed = refresh(server, tokens["refresh_token"])
    assert renewed.status_code == 200
    clock.advance(server.refresh_token_idle_lifetime)
    expired = refresh(server, renewed.json()["refresh_token"])
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_grant", "error_description": "The refresh token expired"}


def test_revoking_a_refresh_token_ends_the_grant(server):
    tokens = exchange(server, authorize(server)["code"]).json()
    newer = refresh(server, tokens["refresh_token"]).json()
    answer = requests.post(
        server.revoke_url,
        data={"token": newer["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(server.client_id, server.client_secret),
        timeout=5,
    )
    assert answer.status_code == 200
    assert refresh(server, newer["refresh_token"]).json()["error"] == "invalid_grant"
    assert whoami(server, newer["access_token"]).status_code == 401
    assert whoami(server, tokens["access_token"]).status_code == 401
    unknown = requests.post(
        server.revoke_url, data={"token": "unknown"}, auth=(server.client_id, server.client_secret), timeout=5
    )
    assert unknown.status_code == 200
    anonymous = requests.post(server.revoke_url, data={"token": newer["access_token"]}, timeout=5)
    assert anonymous.status_code == 401


def test_revoking_an_access_token_keeps_the_refresh_token(server):
    tokens = exchange(server, authorize(server)["code"]).json()
    data = {
        "token": tokens["access_token"],
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }
    assert requests.post(server.revoke_url, data=data, timeout=5).status_code == 200
    assert whoami(server, tokens["access_token"]).status_code == 401
    assert refresh(server, tokens["refresh_token"]).status_code == 200


def test_bearer_authentication(server, clock):
    tokens = server.issue_token(scope="records.read")
    missing = whoami(server, None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="Fake Service"'
    assert missing.json()["error"] == "unauthorized"
    basic = "Basic " + base64.b64encode(b"user:pass").decode()
    assert requests.get(f"{server.url}/api/whoami", headers={"Authorization": basic}, timeout=5).status_code == 401
    unknown = whoami(server, "forged")
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    assert whoami(server, tokens["access_token"]).json()["scope"] == "records.read"
    clock.advance(server.access_token_lifetime)
    expired = whoami(server, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json()["error_description"] == "The access token expired"


def test_expire_access_tokens_and_revoke_all_knobs(server):
    tokens = server.issue_token()
    server.expire_access_tokens()
    assert whoami(server, tokens["access_token"]).status_code == 401
    renewed = refresh(server, tokens["refresh_token"]).json()
    assert whoami(server, renewed["access_token"]).status_code == 200
    server.revoke_all()
    assert whoami(server, renewed["access_token"]).json()["error_description"] == "The access token was revoked"
    assert refresh(server, renewed["refresh_token"]).json()["error"] == "invalid_grant"


def test_settings_paths_and_public_clients(clock):
    with pytest.raises(TypeError, match="unknown settings: client_secrte"):
        FakeOAuth2Server(client_secrte="x")
    server = FakeOAuth2Server(
        clock=clock,
        path_prefix="/connect",
        client_id="jobadder-app",
        client_secret=None,
        access_token_lifetime=60,
    )
    with server:
        assert server.token_url == f"{server.url}/connect/token"
        assert requests.post(f"{server.url}/oauth/token", timeout=5).status_code == 404
        challenge = {"code_challenge": pkce_challenge(VERIFIER), "code_challenge_method": "S256"}
        code = authorize(server, **challenge)["code"]
        answer = requests.post(
            server.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": "jobadder-app",
                "code_verifier": VERIFIER,
            },
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["expires_in"] == 60
        assert "api" not in answer.json()
