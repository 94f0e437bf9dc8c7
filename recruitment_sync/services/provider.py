"""Value objects of the provider interface (see ``doc/PROVIDERS.md``).

Plain, immutable Python: connectors build them, the core's runner and OAuth2 code read them.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime


class PayloadError(ValueError):
    """A remote record that cannot be imported, or a document that cannot be sent, as it is.

    The message says why, for the item's history line (connectors raise it from their pure
    mapping functions).
    """


def naive_utc(text, value, message):
    """An ISO 8601 ``text`` as the naive UTC datetime Odoo stores (no zone: UTC already).

    ``value`` is what the remote system sent and ``message`` the reason when it is no date-time:
    both go into the ``PayloadError`` a history line shows.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise PayloadError(f"{message}: {value!r}") from error
    if parsed.tzinfo:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


@dataclass(frozen=True)
class OAuth2Config:
    """How a provider does OAuth2 (authorization code grant)."""

    authorize_url: str
    token_url: str
    scopes: tuple = ()
    revoke_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    use_pkce: bool = False
    # Extra query parameters of the authorize request (e.g. ``prompt=consent``).
    authorize_params: dict = field(default_factory=dict)
    # Token-response fields kept next to the tokens (e.g. JobAdder's ``api`` base URL).
    token_extra_fields: tuple = ()
    # Seconds before expiry at which the access token is refreshed.
    refresh_margin: int = 60
    # How the token endpoint takes the client's credentials: "body" (client_id and client_secret
    # in the form) or "basic" (HTTP Basic, RFC 6749 §2.3.1; e.g. Intuit accepts nothing else).
    client_auth: str = "body"
    # How the revocation endpoint takes the token: "form" (RFC 7009) or "json" ({"token": ...}).
    revoke_format: str = "form"

    def with_overrides(self, **overrides):
        """A copy where every non-empty override replaces the provider's default."""
        return replace(self, **{key: value for key, value in overrides.items() if value})


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of a connection test that checks several things (e.g. one login per department):
    what works and what fails, each a message a user can act on. ``_provider_test_connection`` may
    return one instead of a text: any failure keeps Connect from connecting, and both lists are shown."""

    successes: tuple = ()
    failures: tuple = ()


@dataclass(frozen=True)
class RateLimits:
    """A provider's published limits: sliding windows of (calls, seconds) and concurrency.

    ``count_until_answered``: a call counts in the windows from its answer, not from its
    sending (``RateLimiter``): no margin on the windows needed, e.g. for concurrent calls.
    """

    windows: tuple = ()
    max_concurrent: int | None = None
    count_until_answered: bool = False


@dataclass(frozen=True)
class SyncKind:
    """One kind of record a sync processes, e.g. ``SyncKind("placements", _lt("Placements"), "import")``.

    Declare the label with ``odoo.tools.LazyTranslate`` (``_lt``) so history lines show it in the
    user's language.
    """

    code: str
    label: str
    direction: str = "import"  # "import" (remote → Odoo) or "export" (Odoo → remote)
    batch_size: int = 100


@dataclass
class Batch:
    """What a provider hands the runner: items to process and where the next batch starts."""

    items: list
    checkpoint: dict | None
    done: bool
    # What the provider fetched alongside the items and needs to process them (e.g. the
    # records a page of placements references).
    context: dict = field(default_factory=dict)
    # How many items of this kind the whole run processes, when the remote system tells
    # (e.g. a page's total count): the run's progress figure shows "done of total".
    total: int | None = None


@dataclass
class ItemResult:
    """The outcome of one item, which becomes a sync-history line."""

    action: str  # created / updated / skipped / exported / already_exists / failed / unchanged
    record: object = None  # the Odoo record (a recordset of one), if any
    external_id: str | None = None
    reason: str | None = None
    label: str | None = None  # how the line names the item when there is no record
    # Of a failed item: "data" (the default: fix the record), "transient" (retried automatically),
    # "auth" or "internal" (a bug of ours, retried after an upgrade).
    failure_type: str | None = None
