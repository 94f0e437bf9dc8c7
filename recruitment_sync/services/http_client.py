"""Generic HTTP client base of the connectors: the only code that calls ``requests``.

``HttpClient`` owns what every remote call needs: the base URL, a timeout on every call, the
auth headers, client-side rate limiting, retries with backoff for transient failures, the
mapping of failures to ``SyncError`` subclasses with messages a user can act upon, and logging
without secrets. A connector's client (``services/<system>_client.py``) subclasses it or wraps
it and adds its endpoints, pagination and payload mapping.

Pure Python: no ``odoo`` import, so it can be used and tested without a database.
"""

import contextlib
import email.utils
import http
import json as jsonlib
import logging
import math
import random
import re
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import requests

from .rate_limit import RateLimitWaitTooLong

try:  # requests-oauthlib's OAuth2Session raises these when its token is expired or refused
    from oauthlib.oauth2 import OAuth2Error

    OAUTH2_ERRORS = (OAuth2Error,)
except ImportError:  # pragma: no cover - oauthlib comes with requests-oauthlib
    OAUTH2_ERRORS = ()

_logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# OAuth2 error codes (RFC 6749 §5.2, RFC 6750 §3.1) meaning the credentials themselves are bad.
AUTH_ERROR_CODES = frozenset({"invalid_grant", "invalid_token", "unauthorized_client"})
# JSON keys holding the human-readable error of the APIs we talk to, best first.
MESSAGE_KEYS = ("message", "Message", "error_description", "error", "detail", "Detail", "title", "Title")
BODY_EXCERPT = 300
RECONNECT = "reconnect the integration."

# --------------------------------------------------------------------------- exceptions


class SyncError(Exception):
    """A call to a remote system failed.

    ``kind`` tells the runner what to do: ``"retryable"`` (try again later, after
    ``retry_after`` seconds when the server said so), ``"auth"`` (reconnect the integration)
    or ``"permanent"`` (fix the data or the configuration; retrying changes nothing).
    ``str(error)`` is a complete sentence fit for a sync-history line.
    """

    kind = "permanent"

    def __init__(self, message, *, status=None, kind=None, retry_after=None, remote_message=None):
        super().__init__(message)
        self.message = message
        self.status = status
        if kind is not None:
            self.kind = kind
        self.retry_after = retry_after
        self.remote_message = remote_message


class RetryableError(SyncError):
    """Transient: rate limited, server error, timeout, connection failure, garbled answer."""

    kind = "retryable"


class AuthError(SyncError):
    """The credentials are missing, expired or revoked: the integration must be reconnected."""

    kind = "auth"


class PermanentError(SyncError):
    """The remote system refused the request itself (validation, permission, not found)."""

    kind = "permanent"


class NotFoundError(PermanentError):
    """404: the remote record (or endpoint) does not exist."""


# --------------------------------------------------------------------------- masking

_SENSITIVE = "|".join(
    (
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "password",
        "passwd",
        "api_key",
        "apikey",
        "secret",
        "token",
    )
)
_MASK_PATTERNS = (
    # "access_token": "..."  and  'access_token': '...'  (JSON, Python reprs)
    (re.compile(r"""(["'](?:""" + _SENSITIVE + r""")["']\s*:\s*)(["'])(?:(?!\2).)*\2""", re.I), r"\1\2***\2"),
    # access_token=...  (query strings, form bodies)
    (re.compile(r"\b(" + _SENSITIVE + r")=[^&\s\"',;]+", re.I), r"\1=***"),
    # Authorization: <anything>  and  'Authorization': '<anything>'
    (re.compile(r"""(\bauthorization["']?\s*[:=]\s*["']?)[^"'\r\n,}]+""", re.I), r"\1***"),
    # Bearer/Basic credentials wherever they appear
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*", re.I), r"\1 ***"),
)


def mask(text, secrets=()):
    """``text`` with every string of ``secrets`` and every well-known credential replaced by ``***``.

    Masks the secrets as given and URL-encoded, then ``access_token=...``,
    ``"refresh_token": "..."``, ``client_secret=...``, ``password=...``,
    ``Authorization: Bearer ...`` and the like.
    """
    if text is None:
        return None
    text = str(text)
    values = set()
    for secret in secrets:
        if secret:
            secret = str(secret)
            values.update((secret, quote(secret, safe=""), quote_plus(secret)))
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "***")
    for pattern, replacement in _MASK_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_url(url, secrets=()):
    """``url`` for a log line: every query value and any password in it replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(":" + parts.password + "@", ":***@", 1)
    keys = [key for key, _value in parse_qsl(parts.query, keep_blank_values=True)]
    query = "&".join(quote(key, safe="[]") + "=***" for key in keys)
    return mask(urlunsplit((parts.scheme, netloc, parts.path, query, "")), secrets)


_URL_WITH_QUERY = re.compile(r"""[^\s"'<>()]*\?[^\s"'<>()]+""")


class MaskQueryFilter(logging.Filter):
    """Masks the query values of the URLs in a log record (``mask_url``).

    urllib3 logs every request's path with its query at DEBUG (``urllib3.connectionpool``) and the
    URL of a failed attempt (``urllib3.util.retry``): an API that takes its token in the query
    (InvoiceOcean's ``api_token``) would have it written in the log of a server run at DEBUG.
    """

    def filter(self, record):
        message = record.getMessage()
        masked = _URL_WITH_QUERY.sub(lambda match: mask_url(match.group()), message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    _third_party = logging.getLogger(_name)
    if not any(type(existing).__name__ == "MaskQueryFilter" for existing in _third_party.filters):  # reloads
        _third_party.addFilter(MaskQueryFilter())


# --------------------------------------------------------------------------- helpers


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delay in seconds or HTTP-date); None if absent."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _messages_in(value):
    """Human-readable messages in a list/dict of validation errors (JobAdder, ProblemDetails)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [message for item in value for message in _messages_in(item)]
    if isinstance(value, dict):
        for key in MESSAGE_KEYS:
            if isinstance(value.get(key), str) and value[key].strip():
                return [value[key]]
        # ASP.NET ProblemDetails: {"errors": {"StartDate": ["The StartDate field is required."]}}
        return [message for item in value.values() for message in _messages_in(item)]
    return []


def extract_remote_message(payload, text="", details=()):
    """The error a remote system explains in its answer, or the start of the body text.

    Looks for ``message``, ``Message``, ``error_description``, ``error``, ``detail``,
    ``Detail``, ``title``; adds ``details`` (what the provider's own error format says, see
    ``HttpClient.remote_error_details``) and the field errors of ``errors`` lists or dicts,
    which say what to fix.
    """
    if isinstance(payload, dict):
        main = None
        for key in MESSAGE_KEYS:
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                main = value.strip()
                break
            if isinstance(value, dict) and main is None:  # {"error": {"message": "..."}}
                main = "; ".join(_messages_in(value)) or None
        details = list(details) + _messages_in(payload.get("errors") or [])
        details = list(dict.fromkeys(detail.strip() for detail in details if detail.strip()))
        if main and details:
            return main if details == [main] else f"{main}: " + "; ".join(d for d in details if d != main)
        if main or details:
            return main or "; ".join(details)
    elif isinstance(payload, list):
        found = _messages_in(payload)
        if found:
            return "; ".join(found)
    text = " ".join((text or "").split())
    return text[:BODY_EXCERPT] or None


def _reason(response):
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason or ""


def _seconds(value):
    return f"{value:g}"


# --------------------------------------------------------------------------- the client


class HttpClient:
    """HTTP client of one remote system; see the module docstring.

    ``request`` returns the parsed JSON answer (``None`` for 204 or an empty body, the
    ``requests.Response`` itself with ``raw=True``) or raises a ``SyncError`` subclass.

    * ``timeout`` is passed to every call (``(connect, read)`` seconds or one number).
    * ``auth`` returns the auth headers; it is called before every attempt, so a token
      refreshed meanwhile is used. ``on_auth_error`` is called on the first 401, then the
      request is retried once; a second 401 raises ``AuthError``.
    * 429, 500, 502, 503, 504, timeouts, connection failures and 2xx answers that are not
      JSON are retried up to ``max_retries`` times, after an exponential backoff with jitter
      (``backoff_base * 2**n``, capped at ``backoff_max``) or after the server's
      ``Retry-After``. A wait longer than ``max_wait`` (a daily limit used up) is not done in
      process: ``RetryableError.retry_after`` tells the runner when to come back.
    * POST retries resend the same headers: callers creating records send an idempotency key.
    * ``secrets`` (and every header value ``auth`` returns) never appear in logs or messages.
    * Absolute URLs (``links.next``) must point to the base URL's host or to ``allowed_hosts``,
      so that the credentials are never sent elsewhere.
    """

    # (header, window in seconds) pairs of "calls remaining" headers, fed to the rate limiter;
    # e.g. Xero: (("X-MinLimit-Remaining", 60), ("X-DayLimit-Remaining", 86400)).
    rate_limit_headers = ()

    def __init__(
        self,
        base_url,
        *,
        name="remote system",
        session=None,
        timeout=(5, 30),
        max_retries=3,
        backoff_base=1.0,
        backoff_max=60.0,
        rate_limiter=None,
        auth=None,
        on_auth_error=None,
        secrets=(),
        sleep=time.sleep,
        logger=None,
        max_wait=60.0,
        allowed_hosts=(),
    ):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.rate_limiter = rate_limiter
        self.auth = auth
        self.on_auth_error = on_auth_error
        self.secrets = [secret for secret in secrets if secret]
        self.max_wait = max_wait
        self.allowed_hosts = {host.lower() for host in allowed_hosts}
        self.logger = logger or _logger
        self._sleep = sleep
        self._lock = threading.Lock()
        self._auth_secrets = {}  # recent header values returned by ``auth`` (ordered, bounded)
        self.calls = 0

    # -- public API ----------------------------------------------------------------------
    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def mask(self, text):
        """``text`` with this client's secrets and well-known credential patterns masked."""
        with self._lock:
            secrets = [*self.secrets, *self._auth_secrets]
        return mask(text, secrets)

    def add_secret(self, secret):
        """Mask ``secret`` from now on (e.g. a token obtained after the client was built)."""
        if secret:
            with self._lock:
                self.secrets.append(secret)

    def build_url(self, path):
        """Absolute URL of ``path``: relative to ``base_url`` (even with a leading slash) or absolute."""
        path = path or ""
        parts = urlsplit(path)
        if parts.netloc and not parts.scheme:  # //host/path
            path = f"{urlsplit(self.base_url).scheme}:{path}"
            parts = urlsplit(path)
        if not parts.scheme:
            return f"{self.base_url}/{path.lstrip('/')}" if path.strip("/") else self.base_url
        base = urlsplit(self.base_url)
        same_origin = (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())
        allowed = parts.scheme == "https" and (parts.hostname or "") in self.allowed_hosts
        if not (same_origin or allowed):
            raise PermanentError(
                f"{self.name}: refused to call {mask_url(path)}, which is not on {base.netloc} "
                f"(credentials are only sent to {self.name}'s own address)"
            )
        return path

    def request(self, method, path, *, params=None, json=None, data=None, headers=None, raw=False):
        """Send the request, retrying transient failures; see the class docstring."""
        method = method.upper()
        url = self.build_url(path)
        call = {
            "method": method,
            "url": url,
            "target": self._target(url),
            "params": params,
            "json": json,
            "data": data,
            "headers": headers,
            "raw": raw,
        }
        attempt = retries = 0
        refreshed = False
        while True:
            attempt += 1
            try:
                return self._attempt(call, attempt)
            except RetryableError as error:
                delay = self._retry_delay(error, retries + 1)
                if error.retry_after is not None and self.rate_limiter is not None:
                    self.rate_limiter.pause_until(self.rate_limiter.clock() + error.retry_after)
                too_long = error.retry_after is not None and error.retry_after > self.max_wait
                if too_long or retries >= self.max_retries:
                    raise self._gave_up(error, attempt) from error
                retries += 1
                self.logger.warning(
                    "%s: %s; retry %d/%d in %.1f s",
                    self.name,
                    self.mask(error),
                    retries,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)
            except AuthError as error:
                if error.status != 401 or refreshed or self.on_auth_error is None:
                    raise
                refreshed = True
                self.logger.warning(
                    "%s: %s; refreshing the credentials and retrying once",
                    self.name,
                    self.mask(error),
                )
                self.on_auth_error()

    # -- one attempt ---------------------------------------------------------------------
    def _attempt(self, call, attempt):
        headers = {"Accept": "application/json"}
        if self.auth is not None:
            auth_headers = dict(self.auth() or {})
            self._remember_auth_secrets(auth_headers.values())
            headers.update(auth_headers)
        headers.update(call["headers"] or {})
        log_url = self._log_url(call["url"], call["params"])
        limiter = self.rate_limiter.acquire(max_wait=self.max_wait) if self.rate_limiter else None
        started = time.perf_counter()
        try:
            with limiter or contextlib.nullcontext():
                with self._lock:
                    self.calls += 1
                response = self.session.request(
                    call["method"],
                    call["url"],
                    params=call["params"],
                    json=call["json"],
                    data=call["data"],
                    headers=headers,
                    timeout=self.timeout,
                )
        except RateLimitWaitTooLong as error:
            raise RetryableError(
                f"{self.name}'s call limit is used up ({error.reason}): {call['method']} {call['target']} "
                f"can only be sent in {error.seconds:.0f} s",
                retry_after=error.seconds,
            ) from error
        except requests.RequestException as error:
            elapsed = (time.perf_counter() - started) * 1000
            self.logger.debug(
                "%s %s -> %s after %.0f ms (attempt %d)",
                call["method"],
                log_url,
                type(error).__name__,
                elapsed,
                attempt,
            )
            raise self._transport_error(error, call) from error
        except OAUTH2_ERRORS as error:
            raise AuthError(
                f"{self.name} refused the credentials for {call['method']} {call['target']} "
                f"({error.error}): reconnect the integration",
                remote_message=self.mask(error.description),
            ) from error
        self.logger.debug(
            "%s %s -> %s in %.0f ms (attempt %d)",
            call["method"],
            log_url,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            attempt,
        )
        self._note_rate_limit_headers(response)
        return self._handle_response(response, call)

    def _handle_response(self, response, call):
        status = response.status_code
        if 200 <= status < 300:
            return response if call["raw"] else self._parse_json(response, call)
        if status == 304:  # Not Modified (If-Modified-Since / ETag)
            return response if call["raw"] else None
        raise self._status_error(response, call)

    def _parse_json(self, response, call):
        body = response.content
        if response.status_code == 204 or not body.strip():
            return None
        try:
            return jsonlib.loads(body)
        except ValueError as error:
            raise self._not_json_error(response, call) from error

    def _not_json_error(self, response, call):
        text = " ".join(response.text.split())
        excerpt = self.mask(text[:100])
        content_type = response.headers.get("Content-Type", "").lower()
        where = f"{call['method']} {call['target']}"
        status = f"{response.status_code} {_reason(response)}"
        if "html" in content_type or text[:14].lower().startswith(("<!doctype html", "<html")):
            message = f"{self.name} answered with an HTML page instead of JSON to {where} ({status})"
        else:
            message = f'{self.name} answered {where} with malformed JSON ({status}): "{excerpt}"'
        return RetryableError(message, status=response.status_code, remote_message=excerpt)

    def remote_error_details(self, payload):
        """Hook for a provider's own error format: the messages of an error answer's parsed JSON
        body (``None`` when not JSON) that say what to fix, beyond the generic ``message`` and
        ``errors`` keys the core reads. Default: none."""
        return []

    def _status_error(self, response, call):
        status = response.status_code
        try:
            payload = jsonlib.loads(response.content)
        except ValueError:
            payload = None
        remote = self.mask(extract_remote_message(payload, response.text, self.remote_error_details(payload)))
        where = f"{call['method']} {call['target']}"
        answered = f"{self.name} answered {status} {_reason(response)} to {where}"
        if remote:
            answered += f': "{remote}"'
        kwargs = {"status": status, "remote_message": remote}
        if status in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RetryableError(answered, retry_after=retry_after, **kwargs)
        if status == 401:
            return AuthError(
                f"{answered}. The credentials were refused: {RECONNECT}",
                **kwargs,
            )
        error_code = payload.get("error") if isinstance(payload, dict) else None
        if status == 400 and error_code in AUTH_ERROR_CODES:
            return AuthError(
                f"{answered}. The authorization is no longer valid ({error_code}): {RECONNECT}",
                **kwargs,
            )
        if status == 403:
            return PermanentError(
                f"{answered}. The connected {self.name} account lacks the permission or OAuth scope this "
                f"needs: grant it in {self.name}, then reconnect the integration.",
                **kwargs,
            )
        if status == 404:
            return NotFoundError(answered, **kwargs)
        return PermanentError(answered, **kwargs)

    def _transport_error(self, error, call):
        where = f"{call['method']} {call['target']}"
        if isinstance(error, requests.ConnectTimeout):
            limit = self.timeout[0] if isinstance(self.timeout, tuple) else self.timeout
            return RetryableError(
                f"could not connect to {self.name} for {where}: timed out after {_seconds(limit)} s",
            )
        if isinstance(error, requests.Timeout):
            limit = self.timeout[-1] if isinstance(self.timeout, tuple) else self.timeout
            return RetryableError(f"{self.name} did not answer {where}: timed out after {_seconds(limit)} s")
        if isinstance(error, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return RetryableError(
                f"could not reach {self.name} for {where}: {self._connection_reason(error)}",
            )
        return PermanentError(f"{self.name}: {where} could not be sent: {self.mask(error)}")

    @staticmethod
    def _connection_reason(error):
        text = str(error)
        lowered = text.lower()
        known = (
            ("connection refused", "connection refused"),
            ("name or service not known", "host name not found"),
            ("nodename nor servname", "host name not found"),
            ("getaddrinfo failed", "host name not found"),
            ("temporary failure in name resolution", "host name not found"),
            ("certificate verify failed", "its TLS certificate is not valid"),
            ("connection reset", "connection reset"),
            ("connection aborted", "connection closed before the answer was complete"),
            ("incompleteread", "connection closed before the answer was complete"),
        )
        for needle, reason in known:
            if needle in lowered:
                return reason
        return type(error).__name__

    # -- retries -------------------------------------------------------------------------
    def _retry_delay(self, error, retry_number):
        if error.retry_after is not None:
            return error.retry_after
        delay = self.backoff_base * 2 ** (retry_number - 1)
        return min(self.backoff_max, delay * (1 + random.random() / 2))  # up to +50 % jitter

    def _gave_up(self, error, attempts):
        message = error.message
        if error.status is not None and error.retry_after is not None and error.retry_after > self.max_wait:
            message += f" (retry after {error.retry_after:.0f} s)"
        elif attempts > 1:
            message += f" (gave up after {attempts} attempts)"
        return type(error)(
            message,
            status=error.status,
            retry_after=error.retry_after,
            remote_message=error.remote_message,
        )

    # -- logging and headers -------------------------------------------------------------
    def _target(self, url):
        """How messages name the request: its path below the base URL, without query string."""
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        base_path = base.path.rstrip("/")
        if base_path and (parts.path == base_path or parts.path.startswith(base_path + "/")):
            return "/" + parts.path[len(base_path) :].lstrip("/")
        return parts.path or "/"

    def _log_url(self, url, params):
        if params:
            query = urlencode(params, doseq=True)
            url = f"{url}{'&' if urlsplit(url).query else '?'}{query}"
        with self._lock:
            secrets = [*self.secrets, *self._auth_secrets]
        return mask_url(url, secrets)

    def _remember_auth_secrets(self, values):
        with self._lock:
            for value in values:
                if not isinstance(value, str) or not value:
                    continue
                for secret in (value, value.split(" ", 1)[-1]):
                    self._auth_secrets.pop(secret, None)
                    self._auth_secrets[secret] = True
            while len(self._auth_secrets) > 20:
                self._auth_secrets.pop(next(iter(self._auth_secrets)))

    def _note_rate_limit_headers(self, response):
        if self.rate_limiter is None:
            return
        for header, period in self.rate_limit_headers:
            value = response.headers.get(header)
            if value is not None and value.strip().isdigit():
                self.rate_limiter.update_remaining(period, int(value))
