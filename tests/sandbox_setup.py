"""The Odoo side of the sandbox: a demo company, users of each role, integrations on the fakes.

``make run`` calls it after installing the addons (``python3 -m tests.sandbox_setup -c <odoo.conf>
-d <database> --state <sandbox.json>``, the state being what ``tests/fakes/sandbox.py`` wrote), on
a fresh database and again on a reused one; the end-to-end browser test calls ``setup_sandbox(env,
sandbox.state())`` in its transaction. Running it again updates what it made (addresses, tokens)
and never duplicates it: its records carry external ids of the ``recruitment_sync_sandbox`` module.

What it makes:

* the company *Brightstaff Recruitment* (the main company: United Kingdom, GBP, Odoo's generic
  chart of accounts, plus a 20% VAT sales tax (and Norway's 25% MVA), the income accounts 201 and 202 that Xero's
  chart has too, and the agency's fee products with the numbers 24SevenOffice knows);
* departments Sydney, Auckland, London (the agency's JobAdder offices), Oslo and Bergen (the
  Norwegian office, with their 24SevenOffice department numbers and a NOK sales journal);
* users (password = login): ``admin`` (the administrator), ``manager`` (Zoë Williams, sync
  manager, Sydney) and ``london`` (Ana Jones, sync user of the London department); both are
  JobAdder consultants of the agency, paired with JobAdder by their email;
* integrations marked *sandbox* (the banner on their forms): JobAdder (every department,
  to connect), Xero (the London department, to connect) and 24SevenOffice (Oslo and Bergen,
  activated with a login for all departments and one of Bergen's); QuickBooks Online (London, to
  connect) and InvoiceOcean (every department, activated with the stand-in's token and prefix).
"""

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from tests.fakes.sandbox import PRODUCTS

MODULE = "recruitment_sync_sandbox"  # the external ids of what the sandbox made
COMPANY_NAME = "Brightstaff Recruitment"
CURRENCY = "GBP"
AGENCY_CURRENCIES = ("AUD", "NZD", "GBP", "USD", "EUR", "NOK")  # the JobAdder placements' currencies
DEPARTMENTS = ("Sydney", "Auckland", "London", "Oslo", "Bergen")
NORWEGIAN_OFFICES = ("Oslo", "Bergen")
NOK_PER_GBP = 13.5  # the sandbox's exchange rate (Odoo's rate: units of NOK for one GBP)
SALES_TAX = {"name": "20% VAT", "amount": 20.0, "description": "VAT 20%"}
NORWEGIAN_SALES_TAX = {"name": "25% MVA", "amount": 25.0, "description": "MVA 25%"}
INCOME_ACCOUNTS = {"201": "Permanent Placement Fees", "202": "Contract Placement Fees"}
# (key = login = password, name, email of the JobAdder consultant, department, group, role)
USERS = (
    (
        "manager",
        "Zoë Williams",
        "zoe.williams@brightstaff.example",
        "Sydney",
        "recruitment_sync.group_sync_manager",
        "sync manager: every department's integrations and history",
    ),
    (
        "london",
        "Ana Jones",
        "ana.jones@brightstaff.example",
        "London",
        "recruitment_sync.group_sync_user",
        "sync user of the London department: its history and placements only",
    ),
)
INTEGRATIONS = {  # key -> (name, departments served; () = all)
    "jobadder": ("JobAdder", ()),
    "xero": ("Xero", ("London",)),
    "24so": ("24SevenOffice", ("Oslo", "Bergen")),
    "quickbooks": ("QuickBooks Online", ("London",)),
    "invoiceocean": ("InvoiceOcean", ()),
}


class Setup:
    """One pass of the sandbox setup over ``env`` (superuser) with the fakes' ``state``."""

    def __init__(self, env, state):
        self.env = env
        self.state = state
        self.notes = []

    # -- external ids ----------------------------------------------------------------------
    def ref(self, name):
        return self.env.ref(f"{MODULE}.{name}", raise_if_not_found=False)

    def upsert(self, name, model, values, create_values=None):
        """The record of external id ``name``: ``values`` written, or created with ``create_values`` too."""
        record = self.ref(name)
        if record:
            record.write(values)
            return record
        record = self.env[model].create({**values, **(create_values or {})})
        self.env["ir.model.data"].create(
            {"module": MODULE, "name": name, "model": model, "res_id": record.id, "noupdate": True}
        )
        return record

    # -- the whole setup -------------------------------------------------------------------
    def run(self):
        company = self.company()
        departments = self.departments(company)
        self.accounting(company)
        self.users(company, departments)
        integrations = {
            "jobadder": self.jobadder(company),
            "xero": self.xero(company, departments),
            "24so": self.twentyfour(company, departments),
        }
        if self.state.get("quickbooks") and "recruitment.sync.qbo.tax.code" in self.env:
            integrations["quickbooks"] = self.quickbooks(company, departments)
        if self.state.get("invoiceocean") and "io_prefix" in self.env["recruitment.sync.integration"]._fields:
            integrations["invoiceocean"] = self.invoiceocean(company, departments)
        self.env.flush_all()
        return self.summary(integrations)

    def company(self):
        company = self.env.ref("base.main_company")
        env = self.env
        if not company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        currency = env.ref(f"base.{CURRENCY}")
        for code in AGENCY_CURRENCIES:
            env.ref(f"base.{code}").active = True
        values = {"name": COMPANY_NAME, "country_id": env.ref("base.uk").id}
        if company.currency_id != currency and not env["account.move.line"].search_count(
            [("company_id", "=", company.id)], limit=1
        ):
            values["currency_id"] = currency.id
        company.write(values)
        company.partner_id.write({"email": "accounts@brightstaff.example", "city": "London"})
        return company

    def departments(self, company):
        departments = {}
        refs = (self.state.get("24so") or {}).get("departments") or {}
        norwegian_journal = self.norwegian_sales_journal(company)
        for name in DEPARTMENTS:
            values = {"name": name, "company_id": company.id}
            if name in NORWEGIAN_OFFICES:
                values["sale_journal_id"] = norwegian_journal.id
            if name in refs and "tso_department_ref" in self.env["hr.department"]._fields:
                values["tso_department_ref"] = refs[name]
            departments[name] = self.upsert(f"department_{name.lower()}", "hr.department", values)
        return departments

    def norwegian_sales_journal(self, company):
        """The Norwegian offices invoice in NOK: their own sales journal (picked with the department)."""
        nok = self.env.ref("base.NOK")
        if not nok.rate_ids.filtered(lambda rate: rate.company_id in (company, self.env["res.company"])):
            nok.rate_ids = [
                (
                    0,
                    0,
                    {
                        "name": date.fromisoformat(self.state["today"]) - timedelta(days=30),
                        "rate": NOK_PER_GBP,
                        "company_id": company.id,
                    },
                )
            ]
        return self.upsert(
            "journal_sales_nok",
            "account.journal",
            {"name": "Customer Invoices (NOK)", "type": "sale", "currency_id": nok.id, "company_id": company.id},
            {"code": "INVNO"},
        )

    def accounting(self, company):
        """A 20% VAT sales tax, the income accounts Xero has too, the agency's fee products."""
        # Its own tax group, so that invoice totals say "VAT 20%" (not the chart's first group's name).
        tax_group = self.upsert(
            "tax_group_vat_20", "account.tax.group", {"name": SALES_TAX["description"], "company_id": company.id}
        )
        tax = self.upsert(
            "tax_vat_20",
            "account.tax",
            {
                **SALES_TAX,
                "type_tax_use": "sale",
                "amount_type": "percent",
                "company_id": company.id,
                "tax_group_id": tax_group.id,
            },
        )
        company.account_sale_tax_id = tax
        # The Norwegian offices invoice with Norway's standard VAT (24SevenOffice's code 3).
        self.upsert(
            "tax_mva_25",
            "account.tax",
            {**NORWEGIAN_SALES_TAX, "type_tax_use": "sale", "amount_type": "percent", "company_id": company.id},
        )
        accounts = {}
        for code, name in INCOME_ACCOUNTS.items():
            accounts[code] = self.upsert(
                f"account_{code}",
                "account.account",
                {"code": code, "name": name, "account_type": "income", "company_ids": [(6, 0, company.ids)]},
            )
        for number, name, price, account_code, _category in PRODUCTS:
            self.upsert(
                f"product_{number.lower().replace('-', '_')}",
                "product.product",
                {
                    "name": name,
                    "default_code": number,
                    "type": "service",
                    "list_price": float(price),
                    "taxes_id": [(6, 0, tax.ids)],
                    "property_account_income_id": accounts[account_code].id,
                    "company_id": company.id,
                },
            )
        self.env["product.product"].flush_model()

    def users(self, company, departments):
        env = self.env
        users = {}
        base_groups = ["base.group_user", "account.group_account_invoice"]
        for login, name, email, department, group, _role in USERS:
            groups = [env.ref(xmlid).id for xmlid in (*base_groups, group)]
            user = self.upsert(
                f"user_{login}",
                "res.users",
                {"name": name, "email": email, "company_id": company.id, "company_ids": [(6, 0, company.ids)]},
                {"login": login, "password": login, "groups_id": [(6, 0, groups)]},
            )
            employee = self.upsert(
                f"employee_{login}",
                "hr.employee",
                {
                    "name": name,
                    "user_id": user.id,
                    "work_email": email,
                    "department_id": departments[department].id,
                    "company_id": company.id,
                },
            )
            employee.flush_recordset()
            users[login] = user
        return users

    # -- integrations ----------------------------------------------------------------------
    def _integration(self, key, company, departments, values, create_values=None):
        name, served = INTEGRATIONS[key]
        scope = (
            {"department_scope": "selected", "department_ids": [(6, 0, [departments[d].id for d in served])]}
            if served
            else {"department_scope": "all", "department_ids": [(5,)]}
        )
        return self.upsert(
            f"integration_{key.replace('24so', 'tso')}",
            "recruitment.sync.integration",
            {**values, **scope, "is_sandbox": True, "company_id": company.id},
            {"name": name, "responsible_user_id": self.env.ref("base.user_admin").id, **(create_values or {})},
        )

    def _oauth2_values(self, fake):
        return {
            "client_id": fake["client_id"],
            "client_secret": fake["client_secret"],
            "authorize_url": fake["authorize_url"],
            "token_url": fake["token_url"],
            "revoke_url": fake["revoke_url"],
            "api_base_url": fake["api_url"],
        }

    def _renew_tokens(self, integration, token):
        """A connected integration of an earlier run: the restarted fake's fresh tokens."""
        if integration.state in ("connected", "needs_reconnect") and integration.sudo().has_tokens:
            integration._oauth2_store(token)
            integration.write({"state": "connected", "connection_message": False})
            return True
        return False

    def jobadder(self, company):
        fake = self.state["jobadder"]
        integration = self._integration(
            "jobadder",
            company,
            {},
            {
                "provider": "jobadder",
                **self._oauth2_values(fake),
                # Open in JobAdder leads to the stand-in, not to JobAdder's real app.
                "jobadder_app_url": f"{fake['url']}/placements/{{placement_id}}",
            },
        )
        if self._renew_tokens(integration, fake["token"]):
            integration.jobadder_user_ids._auto_pair()
        return integration

    def xero(self, company, departments):
        fake = self.state["xero"]
        integration = self._integration(
            "xero",
            company,
            departments,
            # View in Xero leads to the stand-in, not to go.xero.com.
            {"provider": "xero", **self._oauth2_values(fake), "xero_app_url": fake["url"]},
            {"export_start_date": date.fromisoformat(self.state["today"]) - timedelta(days=30)},
        )
        if self._renew_tokens(integration, fake["token"]):
            from odoo.exceptions import UserError

            from odoo.addons.recruitment_sync.services.http_client import SyncError

            try:
                integration._xero_refresh_tenants()
            except (SyncError, UserError) as error:  # the sandbox still starts; the form says why
                self.notes.append(f"Xero: the organisations could not be listed again: {error}")
        return integration

    def quickbooks(self, company, departments):
        """QuickBooks Online for the London department, to connect to the stand-in's UK company."""
        fake = self.state["quickbooks"]
        integration = self._integration(
            "quickbooks",
            company,
            departments,
            # View in QuickBooks leads to the stand-in, not to app.qbo.intuit.com.
            {"provider": "quickbooks", **self._oauth2_values(fake), "qbo_app_url": fake["url"]},
            {"export_start_date": date.fromisoformat(self.state["today"]) - timedelta(days=30)},
        )
        self._renew_tokens(integration, fake["token"])
        return integration

    def invoiceocean(self, company, departments):
        """InvoiceOcean for every department, activated with the stand-in's token and prefix.

        Saving the token tests the connection and queues the first sync (customers both ways); a
        second run saves them again, which tests the stand-in's new address.
        """
        fake = self.state["invoiceocean"]
        return self._integration(
            "invoiceocean",
            company,
            departments,
            # The stand-in serves the account under {url}/{prefix}, not at https://{prefix}.invoiceocean.com.
            {
                "provider": "invoiceocean",
                "api_base_url": fake["account_url"],
                "io_prefix": fake["prefix"],
                "io_api_token": fake["api_token"],
            },
        )

    def twentyfour(self, company, departments):
        fake = self.state.get("24so")
        if not fake:
            self.notes.append("24SevenOffice: the sandbox has no 24SevenOffice stand-in.")
            return None
        integration = self._integration(
            "24so",
            company,
            departments,
            {"provider": "24so", "api_base_url": fake["url"], "tso_application_id": fake["application_id"]},
        )
        Credential = self.env["recruitment.sync.24so.credential"]
        for sequence, login in enumerate(fake["logins"], start=1):
            served = [departments[name].id for name in login["departments"]]
            self.upsert(
                f"tso_login_{sequence}",
                Credential._name,
                {
                    "integration_id": integration.id,
                    "sequence": sequence,
                    "department_scope": "specific" if served else "all",
                    "department_ids": [(6, 0, served)],
                    "product_category_ref": fake["product_category"],
                },
                # Written once: changing them logs the login out and makes it untested.
                {"username": login["username"], "password": login["password"]},
            )
        if integration.state != "connected":
            self._activate_24so(integration, fake)
        return integration

    def _activate_24so(self, integration, fake):
        """Log every login in, choosing the identity of the sandbox's client, then activate."""
        credentials = integration.sudo().tso_credential_ids
        for credential in credentials:
            _message, kind = credential._test_login()
            if kind != "success" and not credential.identity_id:
                main = credential.identity_ids.filtered(lambda identity: identity.client_name == fake["client_name"])
                if main:
                    credential.identity_id = main[:1]
                    _message, kind = credential._test_login()
        failed = credentials.filtered(lambda credential: credential.state != "ok")
        if failed:
            self.notes.append("24SevenOffice: not activated, a login failed: " + "; ".join(failed.mapped("message")))
            return
        integration._mark_connected()

    # -- what to tell people -----------------------------------------------------------------
    def summary(self, integrations):
        return {
            "company": COMPANY_NAME,
            "users": [
                {
                    "login": "admin",
                    "password": "admin",
                    "name": "Administrator",
                    "role": "administrator: connects the integrations",
                },
                *(
                    {"login": login, "password": login, "name": name, "role": role}
                    for login, name, _email, _department, _group, role in USERS
                ),
            ],
            "integrations": {
                key: {"id": integration.id, "name": integration.name, "state": integration.state}
                for key, integration in integrations.items()
                if integration
            },
            "notes": self.notes,
        }


NETWORK_LOOKUP_MODULES = ("partner_autocomplete",)


def without_network_lookups(env):
    """Uninstall what looks partners up on Odoo's servers (IAP): the sandbox has no network, and
    each lookup printed a traceback in the terminal (first login, customer searches). True when
    something was uninstalled (the registry was reloaded)."""
    modules = env["ir.module.module"].search([("name", "in", NETWORK_LOOKUP_MODULES), ("state", "=", "installed")])
    if not modules:
        return False
    modules.button_immediate_uninstall()
    return True


def setup_sandbox(env, state):
    """Create (or update) the sandbox's records; a summary (users, integrations, notes)."""
    return Setup(env, state).run()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Set up (or update) the sandbox's records in an Odoo database.")
    parser.add_argument("-c", "--config", required=True, help="the Odoo configuration file")
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--state", type=Path, required=True, help="what tests.fakes.sandbox --state-file wrote")
    parser.add_argument("--summary", type=Path, help="write the summary there (JSON)")
    args = parser.parse_args(argv)
    state = json.loads(args.state.read_text())

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", str(args.config), "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if without_network_lookups(env):
            registry = Registry(args.database)  # the uninstall loaded a new registry
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        summary = setup_sandbox(env, state)
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2))
    for note in summary["notes"]:
        print(f"[sandbox] {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
