from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from odoo.addons.recruitment_sync.services.http_client import SyncError

from ..services.tso_client import LoginError

# Context key: a write by Test connection itself (the login just tested keeps its state and session).
KEEP_TEST_STATE = "recruitment_sync_24so_tested"
IDENTITY_HELP = (
    "The 24SevenOffice client this login works in: invoices exported with this login go to the client of this "
    "identity. 24SevenOffice's client id is not supported: an accountant whose user reaches several clients "
    "should create a dedicated 24SevenOffice user (an API user) for this integration and enter that login here."
)


class RecruitmentSync24soCredential(models.Model):
    """A 24SevenOffice login (community user) and the departments whose invoices it exports.

    Only System Administrators see and change these records (access rights, field groups):
    they hold the password.
    """

    _name = "recruitment.sync.24so.credential"
    _inherit = ["recruitment.sync.integration.row"]
    _description = "24SevenOffice login"
    _order = "sequence, id"
    _check_company_auto = True

    integration_id = fields.Many2one(domain=[("provider", "=", "24so")], readonly=False, check_company=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    username = fields.Char(
        required=True,
        help="The e-mail address of the 24SevenOffice user (an API user ordered from 24SevenOffice).",
    )
    password = fields.Char(required=True, copy=False, groups="base.group_system")
    identity_id = fields.Many2one(
        "recruitment.sync.24so.identity",
        domain="[('credential_id', '=', id)]",
        copy=False,
        ondelete="set null",
        help=IDENTITY_HELP,
    )
    identity_ids = fields.One2many("recruitment.sync.24so.identity", "credential_id", string="Identities")
    client_ref = fields.Char(
        string="24SevenOffice client number",
        readonly=True,
        copy=False,
        help="The 24SevenOffice client the last successful test reached.",
    )
    client_name = fields.Char(string="24SevenOffice client", readonly=True, copy=False)
    department_scope = fields.Selection(
        selection=[("all", "All departments"), ("specific", "Specific departments")],
        default="all",
        required=True,
        help="All departments: this login exports the invoices of every department without a login of its own. "
        "Specific departments: only those of the departments listed.",
    )
    department_ids = fields.Many2many(
        "hr.department",
        "recruitment_sync_24so_credential_department_rel",
        "credential_id",
        "department_id",
        string="Departments",
        check_company=True,
    )
    product_category_ref = fields.Integer(
        string="Category of new products",
        help="The id of the 24SevenOffice product category given to the products the export creates "
        "(24SevenOffice needs one). Test the connection to see the categories of the client.",
    )
    state = fields.Selection(
        selection=[("untested", "Not tested"), ("ok", "Works"), ("failed", "Login failed")],
        default="untested",
        required=True,
        readonly=True,
        copy=False,
    )
    message = fields.Text(string="Last test", readonly=True, copy=False)
    tested_at = fields.Datetime(string="Tested at", readonly=True, copy=False)

    # ------------------------------------------------------------------------ display
    @api.depends("username", "client_name")
    def _compute_display_name(self):
        for credential in self:
            if credential.client_name:
                credential.display_name = f"{credential.username} ({credential.client_name})"
            else:
                credential.display_name = credential.username or _("New login")

    # ------------------------------------------------------------------------ constraints
    @api.constrains("department_scope", "department_ids", "active", "integration_id")
    def _check_department_scope(self):
        """A department is served by at most one login, and at most one login serves "all"."""
        for credential in self:
            if credential.department_scope == "specific" and not credential.department_ids:
                raise ValidationError(
                    _("The login %s serves specific departments: choose at least one.", credential.username)
                )
        logins = self.sudo().search(
            [
                ("company_id", "in", self.company_id.ids),
                ("integration_id.active", "=", True),
                ("integration_id.provider", "=", "24so"),
            ]
        )
        for company in self.company_id:
            mine = logins.filtered(lambda login, company=company: login.company_id == company)
            everything = mine.filtered(lambda login: login.department_scope == "all")
            if len(everything) > 1:
                raise ValidationError(
                    _(
                        "Only one 24SevenOffice login may serve all departments (%(logins)s do): "
                        "give the others specific departments.",
                        logins=", ".join(everything.mapped("username")),
                    )
                )
            served = {}
            for login in mine.filtered(lambda login: login.department_scope == "specific"):
                for department in login.department_ids:
                    if department in served:
                        raise ValidationError(
                            _(
                                "The department %(department)s is served by two 24SevenOffice logins "
                                "(%(first)s and %(second)s): a department may have one login only.",
                                department=department.display_name,
                                first=served[department].username,
                                second=login.username,
                            )
                        )
                    served[department] = login

    # ------------------------------------------------------------------------ ORM
    def write(self, vals):
        if {"username", "password", "identity_id"} & set(vals) and not self.env.context.get(KEEP_TEST_STATE):
            vals = dict(vals, state="untested")
            self._forget_sessions()
        return super().write(vals)

    def unlink(self):
        self._forget_sessions()
        return super().unlink()

    def _forget_sessions(self):
        for credential in self.filtered("id"):
            credential.integration_id._tso_forget_session(credential)

    # ------------------------------------------------------------------------ actions
    def _check_admin(self):
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only System Administrators can test 24SevenOffice logins."))

    def action_test_connection(self):
        """Log in (a new session), list the identities and show which client the login reaches."""
        self.ensure_one()
        self._check_admin()
        message, kind = self._test_login()
        return self.integration_id._notification_action(_("24SevenOffice login"), message, kind)

    def _test_login(self):
        """Log in; returns (message, notification type) and records the outcome on the login."""
        self.ensure_one()
        integration = self.integration_id
        client = integration._tso_client(self)
        now = fields.Datetime.now()
        try:
            client.forget_session()
            client.login()
            identities = client.identities()
            try:  # the client's VAT codes, for the mapping (a failure here does not fail the login)
                vat_codes = client.tax_codes()
            except SyncError:
                vat_codes = None
        except LoginError as error:
            self.sudo().write({"state": "failed", "message": str(error), "tested_at": now})
            return str(error), "danger"
        except SyncError as error:
            self.sudo().write({"state": "failed", "message": str(error), "tested_at": now})
            return str(error), "danger"
        finally:
            client.close()
        self._store_identities(identities, client.identity)
        if vat_codes is not None and client.client_id:
            self.env["recruitment.sync.24so.vat.code"]._tso_store(
                integration, str(client.client_id), client.client_name, vat_codes
            )
        values = {"tested_at": now, "client_ref": str(client.client_id or ""), "client_name": client.client_name}
        if not self.identity_id and len(self.identity_ids) > 1:
            message = _(
                "%(user)s logged in and reaches %(count)s 24SevenOffice clients: choose the identity to use, "
                "then test the login again.",
                user=self.username,
                count=len(self.identity_ids),
            )
            values.update(state="untested", message=message)
            self.sudo().with_context(**{KEEP_TEST_STATE: True}).write(values)
            return message, "warning"
        message = _(
            "%(user)s logged in: invoices go to the 24SevenOffice client %(client)s (%(number)s).",
            user=self.username,
            client=client.client_name or "?",
            number=client.client_id or "?",
        )
        values.update(state="ok", message=message)
        self.sudo().with_context(**{KEEP_TEST_STATE: True}).write(values)
        return message, "success"

    def _store_identities(self, identities, current):
        """Keep the identities GetIdentities listed; choose the identity when there is only one."""
        Identity = self.env["recruitment.sync.24so.identity"].sudo()
        known = {identity.guid.lower(): identity for identity in self.identity_ids}
        seen = Identity
        for data in identities:
            guid = str(data.get("Id") or "").lower()
            if not guid:
                continue
            client = data.get("Client") or {}
            values = {
                "client_ref": str(client.get("Id") or ""),
                "client_name": client.get("Name") or "",
                "is_default": bool(data.get("IsDefault")),
                "is_disabled": bool(data.get("IsDisabled")),
            }
            identity = known.get(guid)
            if identity:
                identity.write(values)
            else:
                identity = Identity.create({"credential_id": self.id, "guid": guid, **values})
            seen |= identity
        (self.identity_ids - seen).filtered(lambda identity: identity != self.identity_id).unlink()
        if not self.identity_id and len(seen) == 1:
            self.sudo().with_context(**{KEEP_TEST_STATE: True}).write({"identity_id": seen.id})
        current_guid = str((current or {}).get("Id") or "").lower()
        for identity in seen:
            identity.is_current = identity.guid.lower() == current_guid


class RecruitmentSync24soIdentity(models.Model):
    """An identity a 24SevenOffice login reaches: its access to one 24SevenOffice client."""

    _name = "recruitment.sync.24so.identity"
    _description = "24SevenOffice identity"
    _order = "client_name, id"
    _rec_name = "client_name"

    credential_id = fields.Many2one(
        "recruitment.sync.24so.credential", required=True, index=True, ondelete="cascade", readonly=True
    )
    guid = fields.Char(string="Identity id", required=True, readonly=True)
    client_ref = fields.Char(string="Client number", readonly=True)
    client_name = fields.Char(string="Client", readonly=True)
    is_default = fields.Boolean(string="Default", readonly=True)
    is_current = fields.Boolean(string="Reached by the last test", readonly=True)
    is_disabled = fields.Boolean(string="Disabled", readonly=True)

    @api.depends("client_name", "client_ref")
    def _compute_display_name(self):
        for identity in self:
            identity.display_name = f"{identity.client_name or '?'} ({identity.client_ref or identity.guid})"
