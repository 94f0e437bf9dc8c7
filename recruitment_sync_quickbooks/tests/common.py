"""The QuickBooks connector's test base: the fake QuickBooks Online over loopback, a connected
integration (US or UK company), its tax codes, accounts, items and customers imported, invoices
(the accounting connectors' base, recruitment_sync/tests/accounting.py, with QuickBooks' hooks).

Every request the connector sends and every answer the fake returns is checked against Intuit's
v3 XSDs (the fake's ``validate``, on when ``../shared/contracts`` is there): ``tearDown`` fails a
test that made the fake record a violation.
"""

from odoo import fields
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.recruitment_sync.tests.accounting import AccountingConnectorMixin
from odoo.addons.recruitment_sync_quickbooks.services import quickbooks as qbo_services

from tests.fakes.quickbooks import FakeQuickBooks  # noqa: I001  (on the path set by the core's tests)
from tests.fakes.quickbooks_data import generate_world


class QboMixin(AccountingConnectorMixin):
    """A company with sales taxes, a QuickBooks integration connected to one of the fake's companies
    (``realm_index``: 0 the US one, 1 the UK one), its settings and customers imported, taxes mapped."""

    world_seed = 7
    realm_index = 1
    rounding_method = "round_globally"
    tax_prefix = "QBO test"
    contract = "Intuit's XSDs"
    export_kinds = ("qbo_export_items", "qbo_export_customers", "qbo_invoices", "qbo_credit_notes", "qbo_payments")
    extra_rate_limiters = ("batch",)

    @classmethod
    def make_world(cls):
        return generate_world(seed=cls.world_seed, today=fields.Date.today())

    @classmethod
    def make_fake(cls):
        return FakeQuickBooks(world=cls.world, enforce_rate_limits=False)

    @classmethod
    def http_client(cls):
        return qbo_services, "QboHttpClient"

    @classmethod
    def prepare_company(cls):
        # QuickBooks' 40 batch requests a minute would pace the tests in real time.
        cls.env["ir.config_parameter"].sudo().set_param("recruitment_sync_quickbooks.batch_per_minute", "100000")
        cls.realm_id = cls.fake.realm_ids[cls.realm_index]
        cls.company_data = cls.world.companies[cls.realm_index]

    @classmethod
    def make_provider_taxes(cls):
        cls.sales_tax = cls.make_tax("California 8.625%", 8.625)

    @classmethod
    def integration_values(cls):
        return {
            "name": "QuickBooks",
            "provider": "quickbooks",
            "api_base_url": cls.fake.api_base,
        }

    @classmethod
    def connect_initially(cls):
        cls.connect(cls.integration, cls.realm_id)

    @classmethod
    def connect(cls, integration, realm_id):
        """Tokens as after the consent flow for ``realm_id``, then Connect's own follow-up."""
        return cls.store_consent(integration, cls.fake.issue_token(realm_id), {"realmId": realm_id})

    @classmethod
    def tax_code(cls, name, integration=None):
        return cls.rows("recruitment.sync.qbo.tax.code", integration).filtered(lambda row: row.name == name)

    @classmethod
    def map_defaults(cls):
        """What a sync manager maps by hand after the import."""
        if cls.integration.qbo_is_us:
            cls.tax_code("California").tax_ids = cls.sales_tax | cls.tax20 | cls.tax5
        else:
            cls.tax_code("20.0% S").tax_ids = cls.tax20 | cls.tax20_included
            cls.tax_code("5.0% R").tax_ids = cls.tax5
            cls.tax_code("0.0% Z").tax_ids = cls.tax_zero

    def default_taxes(self):
        return self.sales_tax if self.integration.qbo_is_us else self.tax20

    def qbo_document(self, move):
        entity = "Invoice" if move.move_type == "out_invoice" else "CreditMemo"
        found = self.fake.find(entity, self.realm_id, DocNumber=move.name)
        self.assertTrue(found, f"{move.name} should be in QuickBooks")
        return found


class QboCase(QboMixin, TransactionCase):
    pass


class QboHttpCase(QboMixin, HttpCase):
    pass
