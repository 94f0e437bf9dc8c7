"""The Xero connector's test base: the fake Xero over loopback, a connected integration, invoices
(the accounting connectors' base, recruitment_sync/tests/accounting.py, with Xero's hooks).

Every request the connector sends and every answer the fake returns is checked against Xero's
official OpenAPI definition (the fake's ``validate``, on when ``../shared/contracts`` is there):
``tearDown`` fails a test that made the fake record a contract violation.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.recruitment_sync.tests.accounting import AccountingConnectorMixin
from odoo.addons.recruitment_sync_xero.services import xero as xero_services

from tests.fakes.xero import GRANULAR_SCOPES_DEFAULT, FakeXero  # noqa: I001  (on the path set by the core's tests)
from tests.fakes.xero_data import generate_world


class XeroMixin(AccountingConnectorMixin):
    """A company with sales taxes, a Xero integration connected to the fake's UK organisation, its
    tax rates, accounts and customers imported, the taxes and accounts the invoices use mapped."""

    world_seed = 11
    customers = 20
    tax_prefix = "Xero test"
    contract = "Xero's OpenAPI definition"
    export_kinds = ("export_customers", "invoices", "credit_notes", "payments")

    @classmethod
    def make_world(cls):
        return generate_world(seed=cls.world_seed, customers=cls.customers, today=fields.Date.today())

    @classmethod
    def make_fake(cls):
        return FakeXero(world=cls.world)

    @classmethod
    def http_client(cls):
        return xero_services, "XeroHttpClient"

    @classmethod
    def prepare_company(cls):
        company = cls.env.company
        cls.env.ref("product.decimal_price").digits = 4  # unit prices with 4 decimals, as Xero's unitdp=4
        cls.org = cls.world.organisations[0]
        cls.foreign = next(cls.env.ref(f"base.{code}") for code in ("EUR", "USD", "GBP") if code != cls.currency.name)
        cls.foreign.active = True
        cls.not_in_xero = cls.env.ref("base.CHF")
        cls.not_in_xero.active = True
        for currency in (cls.foreign, cls.not_in_xero):
            cls.env["res.currency.rate"].create(
                {"currency_id": currency.id, "rate": 1.25, "name": fields.Date.today() - timedelta(days=30)}
            )
        cls.sales_journal = cls.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        cls.income = cls.sales_journal.default_account_id

    @classmethod
    def integration_values(cls):
        return {
            "name": "Xero UK",
            "provider": "xero",
            "api_base_url": cls.fake.api_url,
        }

    @classmethod
    def connect_initially(cls):
        cls.connect(cls.integration, tenants=[cls.fake.tenant_id])

    @classmethod
    def connect(cls, integration, tenants=None, scope=GRANULAR_SCOPES_DEFAULT):
        """Tokens as after the consent flow for ``tenants``, then Connect's own follow-up."""
        return cls.store_consent(integration, cls.fake.issue_token(scope, tenants=tenants))

    @classmethod
    def tax_row(cls, tax_type, integration=None):
        rows = cls.rows("recruitment.sync.xero.tax.rate", integration)
        return rows.filtered(lambda row: row.tax_type == tax_type)

    @classmethod
    def account_row(cls, code, integration=None):
        return cls.rows("recruitment.sync.xero.account", integration).filtered(lambda row: row.code == code)

    @classmethod
    def map_defaults(cls):
        """What a sync manager maps by hand after the import (20%, 0%, income account, bank)."""
        cls.tax_row("OUTPUT2").tax_ids = cls.tax20 | cls.tax20_included
        cls.tax_row("ZERORATEDOUTPUT").tax_ids = cls.tax_zero
        cls.account_row("200").account_ids = cls.income
        cls.account_row("090").journal_ids = cls.bank

    def xero_invoice(self, move):
        found = self.fake.invoice(move.name) if move.move_type == "out_invoice" else self.fake.credit_note(move.name)
        self.assertTrue(found, f"{move.name} should be in Xero")
        return found


class XeroCase(XeroMixin, TransactionCase):
    pass


class XeroHttpCase(XeroMixin, HttpCase):
    pass
