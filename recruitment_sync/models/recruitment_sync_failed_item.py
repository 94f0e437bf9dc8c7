import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError

# Delay before the n-th automatic retry of an item that failed for a passing reason.
RETRY_BASE_MINUTES = 5
RETRY_GROWTH = 4  # 5 min, 20 min, 80 min, 5 h 20, then at most a day
RETRY_MAX_MINUTES = 24 * 60

FAILURE_TYPES = [
    ("data", "Data to fix"),
    ("transient", "Temporary problem"),
    ("auth", "Needs reconnecting"),
    ("internal", "Internal error"),
]
FAILED_ITEM_STATES = [
    ("retrying", "Retried automatically"),
    ("waiting_change", "Waiting for a change"),
    ("waiting_upgrade", "Waiting for an upgrade"),
    ("given_up", "Given up"),
]


def retry_delay(attempts):
    """How long after its ``attempts``-th failure a passing problem is tried again."""
    minutes = RETRY_BASE_MINUTES * RETRY_GROWTH ** max(0, attempts - 1)
    return datetime.timedelta(minutes=min(minutes, RETRY_MAX_MINUTES))


def open_record_action(holder, missing_message):
    """The form of the Odoo record a history line or a failed item is about (``res_model``/``res_id``)."""
    if not holder.res_model or not holder.res_id:
        raise UserError(missing_message)
    return {
        "type": "ir.actions.act_window",
        "res_model": holder.res_model,
        "res_id": holder.res_id,
        "view_mode": "form",
        "target": "current",
    }


class RecruitmentSyncFailedItem(models.Model):
    """An item (a remote record to import, an Odoo record to export) that still has to go through.

    One per integration, kind and item key, whatever the number of runs it failed in. The
    runner retries it by itself (see ``_due_for``) and deletes it as soon as it succeeds, so
    the remote record is never lost although the import watermark moved on: the watermark and
    this record are committed in the same transaction.
    """

    _name = "recruitment.sync.failed.item"
    _description = "Failed Sync Item"
    _order = "last_failed_at desc, id desc"
    _check_company_auto = True

    integration_id = fields.Many2one(
        "recruitment.sync.integration", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)
    kind = fields.Char(required=True, readonly=True)
    item_key = fields.Char(
        required=True,
        readonly=True,
        help="What the provider fetches the item again by: the remote id (imports) or model,id (exports).",
    )
    name = fields.Char(string="Record", readonly=True)
    external_id = fields.Char(string="External ID", readonly=True)
    res_model = fields.Char(string="Model", readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    failure_type = fields.Selection(FAILURE_TYPES, required=True, readonly=True)
    reason = fields.Text(readonly=True)
    state = fields.Selection(FAILED_ITEM_STATES, required=True, readonly=True, index=True)
    attempts = fields.Integer(readonly=True, help="How many times it failed for a passing reason in a row.")
    next_attempt_at = fields.Datetime(string="Next attempt", readonly=True, index=True)
    first_failed_at = fields.Datetime(readonly=True)
    last_failed_at = fields.Datetime(readonly=True)
    last_run_id = fields.Many2one(
        "recruitment.sync.run", string="Last attempt", readonly=True, index=True, ondelete="set null"
    )
    code_version = fields.Char(
        readonly=True, help="The addons' versions when it failed on an internal error: retried after an upgrade."
    )

    _sql_constraints = [
        ("item_unique", "UNIQUE(integration_id, kind, item_key)", "An item is listed once per integration and kind."),
    ]

    # ------------------------------------------------------------------------ bookkeeping
    @api.model
    def _code_version(self):
        """The installed versions of the sync addons: an upgrade changes it."""
        modules = (
            self.env["ir.module.module"]
            .sudo()
            .search([("name", "=like", "recruitment\\_sync%"), ("state", "=", "installed")], order="name")
        )
        return ",".join(f"{module.name}={module.latest_version}" for module in modules)

    @api.model
    def _due_for(self, run, kind, limit):
        """The items of ``kind`` that ``run`` retries now (each at most once per run)."""
        domain = [
            ("integration_id", "=", run.integration_id.id),
            ("kind", "=", kind.code),
            "|",
            ("last_run_id", "=", False),
            ("last_run_id", "!=", run.id),
        ]
        if run.trigger == "retry":  # Retry failed items: exactly those, whatever their state
            domain.append(("id", "in", run.retry_item_ids.ids))
        else:
            domain += [
                "|",
                "&",
                ("state", "=", "retrying"),
                ("next_attempt_at", "<=", fields.Datetime.now()),
                "&",
                ("state", "=", "waiting_upgrade"),
                ("code_version", "!=", self._code_version()),
            ]
        return self.sudo().search(domain, order="id", limit=limit)

    @api.model
    def _update_from_results(self, run, failures, successes):
        """Record this batch's failed items and forget the ones that went through.

        ``failures``: {(kind code, item key): (result, line values)}; ``successes``: a set of
        (kind code, item key). Returns {(kind code, item key): failed item}.
        """
        integration = run.integration_id
        keys = set(failures) | set(successes)
        if not keys:
            return {}
        existing = {
            (item.kind, item.item_key): item
            for item in self.sudo().search(
                [
                    ("integration_id", "=", integration.id),
                    ("kind", "in", list({kind for kind, _key in keys})),
                    ("item_key", "in", list({key for _kind, key in keys})),
                ]
            )
        }
        resolved = self.browse([existing[key].id for key in successes if key in existing and key not in failures])
        resolved.unlink()
        now = fields.Datetime.now()
        max_attempts = max(1, integration.retry_max_attempts)
        version = None
        items = {}
        new_values = []
        for key, (result, values) in failures.items():
            item = existing.get(key)
            failure_type = result.failure_type or "data"
            attempts = (item.attempts if item and item.failure_type == "transient" else 0) + 1
            update = {
                "failure_type": failure_type,
                "reason": values["reason"],
                "name": values["name"],
                "external_id": values["external_id"],
                "res_model": values["res_model"],
                "res_id": values["res_id"],
                "last_failed_at": now,
                "last_run_id": run.id,
                "next_attempt_at": False,
                "code_version": False,
                "attempts": attempts if failure_type == "transient" else 0,
            }
            if failure_type == "transient":
                if attempts >= max_attempts:
                    update["state"] = "given_up"
                else:
                    update.update(state="retrying", next_attempt_at=now + retry_delay(attempts))
            elif failure_type == "internal":
                version = version or self._code_version()
                update.update(state="waiting_upgrade", code_version=version)
            else:
                update["state"] = "waiting_change"
            if item:
                item.write(update)
                items[key] = item
            else:
                new_values.append(
                    {
                        **update,
                        "integration_id": integration.id,
                        "kind": key[0],
                        "item_key": key[1],
                        "first_failed_at": now,
                    }
                )
        for item in self.sudo().create(new_values):
            items[(item.kind, item.item_key)] = item
        return items

    # ------------------------------------------------------------------------ actions
    def action_retry(self):
        """Queue a run of exactly these items (Retry failed items)."""
        if not self:
            raise UserError(_("There is no failed item to retry."))
        integration = self.integration_id
        if len(integration) != 1:
            raise UserError(_("Retry the failed items of one integration at a time."))
        integration._check_can_sync()
        run, created = integration._queue_run("retry", kinds=sorted(set(self.mapped("kind"))))
        if not created:
            raise UserError(
                _(
                    "A run of %(name)s is already queued or running: retry the failed items when it has ended.",
                    name=integration.name,
                )
            )
        run.sudo().retry_item_ids = self
        return integration._notification_action(
            _("Retry queued"),
            _(
                "%(count)s failed items of %(name)s are retried in the background.",
                count=len(self),
                name=integration.name,
            ),
            "info",
            next_action={
                "type": "ir.actions.act_window",
                "res_model": "recruitment.sync.run",
                "res_id": run.id,
                "views": [[False, "form"]],
                "target": "current",
            },
        )

    def action_open_record(self):
        self.ensure_one()
        return open_record_action(self, _("This item has no Odoo record."))
