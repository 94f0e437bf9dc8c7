"""A seeded, deterministic pair of QuickBooks Online companies for ``FakeQuickBooks``.

``generate_world(seed, today, clients=())`` builds what a staffing agency's QuickBooks looks like
before the connector runs: a US company (USD home currency, CAD and EUR enabled, US sales tax:
the pseudo tax codes ``TAX``/``NON`` and a state + county sales-tax code) and a UK one (GBP, EUR
and USD enabled, VAT codes used per line), each with a chart of accounts (income accounts for the
agency's fees), service items, customers, and a vendor and an employee whose names a customer
would clash with (6240). ``clients``: names of the agency's JobAdder clients (the sandbox's
``invoiced_clients``) that are customers of both companies already, so the sandbox world stays
coherent; without them, names in the same style are made up. Same arguments, same world.

Records are plain dicts in QuickBooks' JSON (keys = XSD element names, ``shared/contracts/
quickbooks.md`` §3), without ``Id``/``SyncToken``/``MetaData``: the fake numbers them per company
in the order given here (entities share one id sequence per company, as QBO's do [I]). What
tests look for is listed in ``company.notable`` (by name). Values marked [I] are our guesses.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal

from .jobadder_data import COMPANY_NOUNS, COMPANY_WORDS

UTC = timezone.utc
DEFAULT_TODAY = date(2026, 12, 1)
WORKDAY_TIME = time(9, 30)

# The agency's fee products (the sandbox's PRODUCTS): (Sku, Name, price, income account name).
FEE_ITEMS = (
    ("PERM-FEE", "Permanent placement fee", "6000.00", "Permanent Placement Fees"),
    ("CONTRACT-HOUR", "Contractor hour", "65.00", "Contract Placement Fees"),
    ("TEMP-HOUR", "Temporary staff hour", "32.50", "Contract Placement Fees"),
)
# (Name, AccountType, AccountSubType, AcctNum, Active). QBO's default chart [I: numbers].
ACCOUNTS = (
    ("Services", "Income", "ServiceFeeIncome", "4000", True),
    ("Permanent Placement Fees", "Income", "ServiceFeeIncome", "4010", True),
    ("Contract Placement Fees", "Income", "ServiceFeeIncome", "4020", True),
    ("Discounts given", "Income", "DiscountsRefundsGiven", "4900", True),
    ("Old Sales (deleted)", "Income", "SalesOfProductIncome", "4990", False),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "1100", True),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "1200", True),
    ("Business Checking", "Bank", "Checking", "1000", True),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "2000", True),
    ("Advertising", "Expense", "AdvertisingPromotional", "6000", True),
)
CLASSIFICATIONS = {
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Bank": "Asset",
    "Accounts Payable": "Liability",
    "Other Current Liability": "Liability",
    "Expense": "Expense",
}
# US sales tax: (TaxRate name, rate, agency). One combined code "California" = state + county.
US_TAX_RATES = (("California State", "7.25", "California Department of Tax"), ("San Francisco County", "1.375", "SF"))
# UK VAT: (code name, [(rate name, rate, SpecialTaxType)], Taxable) as QBO UK lists them [I: ids].
UK_TAX_CODES = (
    ("20.0% S", [("20.0% S", "20", "NONE")], True),
    ("5.0% R", [("5.0% R", "5", "NONE")], True),
    ("0.0% Z", [("0.0% Z", "0", "ZERO_RATE")], True),
    ("Exempt", [("Exempt", "0", "NONE")], False),
    ("No VAT", [("No VAT", "0", "NONE")], False),
    ("20.0% ECS", [("20.0% ECS", "0", "REVERSE_CHARGE")], True),
)
# Units of the currency per unit of the home currency [I]: the fake's day rate; QBO's ExchangeRate
# is the home-currency value of one foreign unit, i.e. 1 / these.
RATES_PER_HOME = {
    ("USD", "CAD"): Decimal("1.400000"),
    ("USD", "EUR"): Decimal("0.860000"),
    ("USD", "GBP"): Decimal("0.760000"),
    ("GBP", "EUR"): Decimal("1.160000"),
    ("GBP", "USD"): Decimal("1.320000"),
}
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
}
US_COMPANY = {
    "realm_id": "9341453050001001",
    "name": "BrightStaff Recruiting Inc.",
    "legal_name": "BrightStaff Recruiting Inc.",
    "country": "US",
    "home_currency": "USD",
    "currencies": ("USD", "CAD", "EUR"),
    "timezone": "America/Los_Angeles",
}
UK_COMPANY = {
    "realm_id": "9341453050002002",
    "name": "BrightStaff Recruitment Ltd",
    "legal_name": "BrightStaff Recruitment Limited",
    "country": "GB",
    "home_currency": "GBP",
    "currencies": ("GBP", "EUR", "USD"),
    "timezone": "Europe/London",
}
STREETS = (("12 Market St", "San Francisco", "CA", "94105"), ("450 Mission St", "San Francisco", "CA", "94105"))
UK_STREETS = (("8 High St", "London", None, "EC2A 4NE"), ("22 Deansgate", "Manchester", None, "M3 2EX"))


@dataclass
class Company:
    """One realm: its settings and the records it starts with (in id order)."""

    realm_id: str
    name: str
    legal_name: str
    country: str  # CompanyInfo.Country: "US" decides the tax model [V Q12]
    home_currency: str
    currencies: tuple  # enabled currencies, the home one first
    timezone: str  # the company's clock: MetaData times carry its offset [V Q35]
    book_close_date: date = None
    custom_txn_numbers: bool = True  # SalesFormsPrefs.CustomTxnNumbers: DocNumber is the user's (6210)
    records: list = field(default_factory=list)  # (entity, body)
    notable: dict = field(default_factory=dict)


@dataclass
class QuickBooksWorld:
    seed: object
    today: date
    now: datetime
    companies: list
    user_email: str = "alex.admin@brightstaff.example"

    def company(self, realm_id=None):
        if realm_id is None:
            return self.companies[0]
        return next(company for company in self.companies if company.realm_id == realm_id)


def _ref(value, name=None):
    return {"value": str(value), "name": name} if name else {"value": str(value)}


def _made_up_clients(rng, count):
    names = []
    while len(names) < count:
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)}"
        if name not in names:
            names.append(name)
    return names


def _slug(name):
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:20] or "client"


class _Builder:
    """Appends records to a company and remembers the ids it will get (1, 2, 3, ...)."""

    def __init__(self, company):
        self.company = company
        self.ids = {}

    def add(self, entity, body, key=None):
        self.company.records.append((entity, body))
        ident = str(len(self.company.records))
        self.ids[(entity, key or body.get("Name") or body.get("DisplayName"))] = ident
        return ident


def _chart(build, currency):
    for name, kind, subtype, number, active in ACCOUNTS:
        build.add(
            "Account",
            {
                "Name": name,
                "AcctNum": number,
                "AccountType": kind,
                "AccountSubType": subtype,
                "Classification": CLASSIFICATIONS[kind],
                "Active": active,
                "SubAccount": False,
                "FullyQualifiedName": name,
                "CurrentBalance": 0,
                "CurrencyRef": _ref(currency),
            },
        )


def _items(build, taxable, tax_code=None):
    for sku, name, price, account in FEE_ITEMS:
        body = {
            "Name": name,
            "Sku": sku,
            "Description": name,
            "Type": "Service",
            "Active": True,
            "UnitPrice": float(price),
            "IncomeAccountRef": _ref(build.ids[("Account", account)], account),
            "Taxable": taxable,
        }
        if tax_code:
            body["SalesTaxCodeRef"] = _ref(build.ids[("TaxCode", tax_code)], tax_code)
        build.add("Item", body)
    services = {
        "Name": "Services",
        "Type": "Service",
        "Active": True,
        "IncomeAccountRef": _ref(build.ids[("Account", "Services")], "Services"),
        "Taxable": taxable,
    }
    build.add("Item", services)
    build.add(
        "Item",
        {
            "Name": "Old consulting (deleted)",
            "Type": "Service",
            "Active": False,
            "IncomeAccountRef": _ref(build.ids[("Account", "Services")], "Services"),
        },
    )
    build.company.notable.update(default_item="Services", inactive_item="Old consulting (deleted)")


def _customers(rng, build, clients, count, streets, tax_prefix):
    company = build.company
    names = (
        list(clients)
        + [name for name in _made_up_clients(rng, count + len(clients)) if name not in clients][
            : max(0, count - len(clients))
        ]
    )
    for index, name in enumerate(names):
        street, city, region, postal = rng.choice(streets)
        body = {
            "DisplayName": name,
            "CompanyName": name,
            "PrintOnCheckName": name,
            "Active": True,
            "PrimaryEmailAddr": {"Address": f"accounts@{_slug(name)}.example"},
            "BillAddr": {"Line1": street, "City": city, "PostalCode": postal, "Country": company.country},
            "CurrencyRef": _ref(company.home_currency, CURRENCY_NAMES[company.home_currency]),
            "Taxable": True,
            "Balance": 0,
            "BalanceWithJobs": 0,
        }
        if region:
            body["BillAddr"]["CountrySubDivisionCode"] = region
        if tax_prefix and index % 3 == 1:
            body["PrimaryTaxIdentifier"] = f"{tax_prefix}{rng.randint(100000000, 999999999)}"
            company.notable.setdefault("with_tax_identifier", []).append(name)
        build.add("Customer", body)
    company.notable["clients"] = list(clients)
    # Deactivated customers get " (deleted)" appended to their name [V Q35].
    gone = f"{rng.choice(COMPANY_WORDS)} Staffing (deleted)"
    build.add("Customer", {"DisplayName": gone, "CompanyName": gone, "Active": False, "Balance": 0})
    foreign = company.currencies[1]
    abroad = f"{rng.choice(COMPANY_WORDS)} International"
    build.add(
        "Customer",
        {
            "DisplayName": abroad,
            "CompanyName": abroad,
            "Active": True,
            "CurrencyRef": _ref(foreign, CURRENCY_NAMES[foreign]),
            "Balance": 0,
        },
    )
    company.notable.update(inactive_customer=gone, foreign_customer=abroad, foreign_currency=foreign)


def _name_list_clashes(build):
    """A vendor and an employee: a customer of the same name is refused (6240) [V Q8]."""
    vendor, employee = "Harbour Office Supplies", "Priya Patel"
    build.add("Vendor", {"DisplayName": vendor, "CompanyName": vendor, "Active": True, "Balance": 0})
    build.add(
        "Employee",
        {"DisplayName": employee, "GivenName": "Priya", "FamilyName": "Patel", "Active": True},
    )
    build.company.notable.update(vendor_name=vendor, employee_name=employee)


def _invoices(build, clients, item, line_tax, txn_tax_code=None):
    """Invoices a user typed in QBO before the connector: numbered 1001, 1002 (6210 clashes)."""
    numbers = []
    for offset, client in enumerate(clients[:2]):
        number = str(1001 + offset)
        detail = {"ItemRef": _ref(build.ids[("Item", item)], item), "Qty": 1, "UnitPrice": 500.0}
        if line_tax:
            detail["TaxCodeRef"] = _ref(line_tax)
        invoice = {
            "DocNumber": number,
            "CustomerRef": _ref(build.ids[("Customer", client)], client),
            "Line": [{"Amount": 500.0, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}],
        }
        if txn_tax_code:
            invoice["TxnTaxDetail"] = {"TxnTaxCodeRef": _ref(txn_tax_code)}
        build.add("Invoice", invoice, key=number)
        numbers.append(number)
    build.company.notable["doc_numbers"] = numbers


def _tax_rate(build, name, rate, description, agency, special="NONE"):
    body = {
        "Name": name,
        "Description": description,
        "Active": True,
        "RateValue": float(rate),
        "AgencyRef": _ref("1", agency),
        "SpecialTaxType": special,
        "DisplayType": "ReadOnly",
    }
    return build.add("TaxRate", body, key=f"rate:{name}")


def _us_company(rng, today, clients):
    company = Company(**US_COMPANY)
    build = _Builder(company)
    _chart(build, "USD")
    for name, rate, agency in US_TAX_RATES:
        _tax_rate(build, name, rate, f"Sales tax: {name}", agency)
    details = [
        {
            "TaxRateRef": _ref(build.ids[("TaxRate", f"rate:{name}")], name),
            "TaxTypeApplicable": "TaxOnAmount",
            "TaxOrder": 0,
        }
        for name, _rate, _agency in US_TAX_RATES
    ]
    build.add(
        "TaxCode",
        {
            "Name": "California",
            "Description": "California + San Francisco County",
            "Active": True,
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {"TaxRateDetail": details},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    )
    company.notable["sales_tax_code"] = build.ids[("TaxCode", "California")]
    _items(build, taxable=True)
    _customers(rng, build, clients, 12, STREETS, None)
    _name_list_clashes(build)
    _invoices(build, clients, "Services", "TAX", company.notable["sales_tax_code"])
    return company


def _uk_company(rng, today, clients):
    close = date(today.year, 3, 31) if today.month > 3 else date(today.year - 1, 3, 31)
    company = Company(**UK_COMPANY, book_close_date=close)
    build = _Builder(company)
    _chart(build, "GBP")
    for code_name, rates, taxable in UK_TAX_CODES:
        details = []
        for rate_name, rate, special in rates:
            ident = _tax_rate(build, rate_name, rate, f"VAT {rate_name}", "HM Revenue & Customs", special)
            details.append({"TaxRateRef": _ref(ident, rate_name), "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0})
        build.add(
            "TaxCode",
            {
                "Name": code_name,
                "Description": code_name,
                "Active": True,
                "Taxable": taxable,
                "TaxGroup": False,
                "SalesTaxRateList": {"TaxRateDetail": details},
                "PurchaseTaxRateList": {"TaxRateDetail": []},
            },
        )
    company.notable["standard_rate_code"] = build.ids[("TaxCode", "20.0% S")]
    company.notable["zero_rate_code"] = build.ids[("TaxCode", "0.0% Z")]
    company.notable["reduced_rate_code"] = build.ids[("TaxCode", "5.0% R")]
    _items(build, taxable=True, tax_code="20.0% S")
    _customers(rng, build, clients, 10, UK_STREETS, "GB")
    _name_list_clashes(build)
    _invoices(build, clients, "Services", company.notable["standard_rate_code"])
    return company


def generate_world(seed=0, today=DEFAULT_TODAY, clients=()):
    """The deterministic world (see the module docstring); the US company is the default realm."""
    rng = random.Random(f"quickbooks-world:{seed}")
    clients = tuple(clients) or tuple(_made_up_clients(random.Random(f"quickbooks-clients:{seed}"), 4))
    now = datetime.combine(today, WORKDAY_TIME, UTC)
    companies = [_us_company(rng, today, clients), _uk_company(rng, today, clients)]
    return QuickBooksWorld(seed=seed, today=today, now=now, companies=companies)


__all__ = [
    "CURRENCY_NAMES",
    "DEFAULT_TODAY",
    "FEE_ITEMS",
    "RATES_PER_HOME",
    "Company",
    "QuickBooksWorld",
    "generate_world",
]
