# pylint: disable=consider-merging-classes-inherited  # a second provider of the test addon, on purpose
from datetime import UTC, datetime, timedelta

from odoo import _, fields, models

from odoo.addons.recruitment_sync.services.provider import (
    Batch,
    OAuth2Config,
    PayloadError,
    RateLimits,
    SyncKind,
)

RECORDS = SyncKind("records", "Contacts", "import", batch_size=100)
# Re-read this much before the watermark so that a remote clock skew cannot lose a change.
OVERLAP = timedelta(minutes=5)


def parse_remote_datetime(value):
    """An ISO 8601 UTC timestamp as a naive UTC datetime (Odoo's convention)."""
    if not isinstance(value, str):
        raise PayloadError(f"updated_at is not a timestamp: {value!r}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except ValueError as error:
        raise PayloadError(f"updated_at is not a timestamp: {value!r}") from error


class RecruitmentSyncIntegration(models.Model):
    _inherit = "recruitment.sync.integration"

    provider = fields.Selection(
        selection_add=[("test_rest", "Test REST provider"), ("test_export", "Test export provider")],
        ondelete={"test_rest": "set default", "test_export": "set default"},
    )

    def _provider_oauth2_config(self):
        if self.provider != "test_rest":
            return super()._provider_oauth2_config()
        return OAuth2Config(
            authorize_url="https://auth.test-provider.invalid/oauth/authorize",
            token_url="https://auth.test-provider.invalid/oauth/token",
            revoke_url="https://auth.test-provider.invalid/oauth/revoke",
            scopes=("read", "offline_access"),
            use_pkce=True,
        )

    def _provider_rate_limits(self):
        if self.provider != "test_rest":
            return super()._provider_rate_limits()
        return RateLimits(windows=((600, 60),), max_concurrent=4)

    def _provider_sync_kinds(self):
        if self.provider != "test_rest":
            return super()._provider_sync_kinds()
        return [RECORDS]

    def _since(self, checkpoint):
        watermark = (checkpoint or {}).get("watermark")
        if not watermark:
            return None
        return (datetime.fromisoformat(watermark) - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _provider_count(self, kind):
        if self.provider != "test_rest":
            return super()._provider_count(kind)
        params = {}
        since = self._since((self.sync_checkpoint or {}).get(kind.code))
        if since:
            params["updated_since"] = since
        return self._http_client().get("records/count", params=params)["count"]

    def _provider_fetch_batch(self, run, kind, checkpoint, batch_size):
        if self.provider != "test_rest":
            return super()._provider_fetch_batch(run, kind, checkpoint, batch_size)
        checkpoint = dict(checkpoint or {})
        # A pass reads everything changed since the watermark, page by page; the
        # watermark moves only when the pass is complete.
        since = checkpoint.get("since") or self._since(checkpoint)
        params = {"limit": batch_size, "offset": checkpoint.get("offset", 0)}
        if since:
            params["updated_since"] = since
        page = self._http_client().get("records", params=params)
        items = page["items"]
        highest = checkpoint.get("pass_highest")
        for item in items:
            stamp = item.get("updated_at")
            if isinstance(stamp, str):
                try:
                    seen = parse_remote_datetime(stamp).isoformat()
                except PayloadError:
                    continue
                highest = max(highest or seen, seen)
        done = not (page.get("links") or {}).get("next")
        if done:
            next_checkpoint = {"watermark": highest or checkpoint.get("watermark")}
        else:
            next_checkpoint = {
                **checkpoint,
                "since": since,
                "offset": params["offset"] + len(items),
                "pass_highest": highest,
            }
        return Batch(items=items, checkpoint=next_checkpoint, done=done)

    def _provider_fetch_items(self, run, kind, keys):
        if self.provider != "test_rest":
            return super()._provider_fetch_items(run, kind, keys)
        page = self._http_client().get("records", params={"ids": ",".join(keys), "limit": len(keys)})
        return Batch(items=page["items"], checkpoint=None, done=True)

    def _provider_process_item(self, run, kind, item):
        if self.provider != "test_rest":
            return super()._provider_process_item(run, kind, item)
        external_id = item.get("id")
        if not external_id:
            raise PayloadError(_("the record has no id"))
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PayloadError(_("the name must be a non-empty text, got %r", name))
        remote_updated_at = parse_remote_datetime(item["updated_at"])
        values = {"name": name, "email": item.get("email") or False}
        result, _binding = self.env["recruitment.sync.binding"]._import_record(
            self, "res.partner", external_id, remote_updated_at, values, external_model="record"
        )
        return result

    def _provider_test_connection(self):
        if self.provider != "test_rest":
            return super()._provider_test_connection()
        me = self._http_client().get("me")
        return _("Connected to %(account)s as %(user)s.", account=me.get("account"), user=me.get("user"))
