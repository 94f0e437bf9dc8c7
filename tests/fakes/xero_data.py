"""A seeded, deterministic set of Xero organisations for ``FakeXero`` (``tests/fakes/xero.py``).

``generate_world(seed, customers=40)`` builds what a staffing agency's Xero looks like before the
connector runs: a UK organisation (the default tenant, GBP, EUR and USD enabled, VAT) and a
smaller NZ one (NZD, AUD enabled, GST), each with Xero's region-specific tax rates, a chart of
accounts and contacts already in Xero. Same arguments, same world, byte for byte.

Records are plain dicts in Xero's field names (the JSON of ``shared/contracts/xero.md`` §3)
holding Python values: ``date`` for document dates, aware ``datetime`` for ``UpdatedDateUTC``,
``Decimal`` for money and rates. The fake copies them and renders ``/Date(…)/`` strings.

What tests look for is listed in ``org.notable`` (ids by name): archived contacts, contacts with
a ContactNumber or VAT number, name clashes, suppliers that are not customers, the ambiguous tax
rates, the bank accounts. Values marked [I] are our guesses, not Xero facts (module constants).
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

UTC = timezone.utc
DEFAULT_TODAY = date(2026, 12, 1)
WORKDAY_TIME = time(9, 30)

# (TaxType, Name, rate, ReportTaxType, Status, revenue?). UK VAT as a Xero UK org has it [V: type
# codes in the spec's TaxType enum]; TAX001/TAX002 are user-created rates (Xero numbers them so)
# [I]. "Ambiguous" on purpose: OUTPUT2 and TAX002 share rate and report type; the 0% sales
# rates differ only by type.
UK_TAX_RATES = (
    ("OUTPUT2", "20% (VAT on Income)", "20.0000", "OUTPUT", "ACTIVE", True),
    ("RROUTPUT", "5% (VAT on Income)", "5.0000", "OUTPUT", "ACTIVE", True),
    ("ZERORATEDOUTPUT", "Zero Rated Income", "0.0000", "OUTPUT", "ACTIVE", True),
    ("EXEMPTOUTPUT", "Exempt Income", "0.0000", "EXEMPTOUTPUT", "ACTIVE", True),
    ("ECZROUTPUTSERVICES", "Zero Rated EC Services", "0.0000", "ECOUTPUTSERVICES", "ACTIVE", True),
    ("NONE", "No VAT", "0.0000", "NONE", "ACTIVE", True),
    ("TAX002", "20% (VAT on Income) - Agency", "20.0000", "OUTPUT", "ACTIVE", True),
    ("TAX001", "17.5% (VAT on Income)", "17.5000", "OUTPUT", "ARCHIVED", True),
    ("INPUT2", "20% (VAT on Expenses)", "20.0000", "INPUT", "ACTIVE", False),
    ("RRINPUT", "5% (VAT on Expenses)", "5.0000", "INPUT", "ACTIVE", False),
    ("ZERORATEDINPUT", "Zero Rated Expenses", "0.0000", "INPUT", "ACTIVE", False),
    ("EXEMPTINPUT", "Exempt Expenses", "0.0000", "EXEMPTINPUT", "ACTIVE", False),
    ("CAPEXOUTPUT2", "20% (VAT on Capital Sales)", "20.0000", "CAPITALSALESOUTPUT", "ACTIVE", True),
    ("CAPEXINPUT2", "20% (VAT on Capital Purchases)", "20.0000", "CAPITALEXPENSESINPUT", "ACTIVE", False),
    ("REVERSECHARGES", "Reverse Charge Expenses (20%)", "20.0000", "REVERSECHARGES", "ACTIVE", False),
)
NZ_TAX_RATES = (
    ("OUTPUT2", "15% GST on Income", "15.0000", "OUTPUT", "ACTIVE", True),
    ("INPUT2", "15% GST on Expenses", "15.0000", "INPUT", "ACTIVE", False),
    ("ZERORATED", "Zero Rated", "0.0000", "NONE", "ACTIVE", True),
    ("NONE", "No GST", "0.0000", "NONE", "ACTIVE", True),
    ("GSTONIMPORTS", "GST on Imports", "0.0000", "GSTONIMPORTS", "ACTIVE", False),
)

# (Code, Name, Type, TaxType, extras). Xero's default UK chart [I: names], plus agency accounts.
UK_ACCOUNTS = (
    ("090", "Business Bank Account", "BANK", "NONE", {"BankAccountNumber": "20304012345678", "CurrencyCode": "GBP"}),
    ("091", "Business Savings Account", "BANK", "NONE", {"BankAccountNumber": "20304087654321", "CurrencyCode": "GBP"}),
    ("092", "Euro Account", "BANK", "NONE", {"BankAccountNumber": "DE89370400440532013000", "CurrencyCode": "EUR"}),
    (None, "PayPal", "BANK", "NONE", {"BankAccountType": "PAYPAL", "CurrencyCode": "GBP"}),
    ("200", "Sales", "REVENUE", "OUTPUT2", {}),
    ("201", "Permanent Placement Fees", "REVENUE", "OUTPUT2", {}),
    ("202", "Contract Placement Fees", "REVENUE", "OUTPUT2", {}),
    ("250", "Old Sales", "REVENUE", "OUTPUT2", {"Status": "ARCHIVED"}),
    ("260", "Other Revenue", "OTHERINCOME", "OUTPUT2", {}),
    ("270", "Interest Income", "OTHERINCOME", "EXEMPTOUTPUT", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", {}),
    ("400", "Advertising", "OVERHEADS", "INPUT2", {}),
    ("477", "Salaries", "OVERHEADS", "NONE", {}),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("620", "Prepayments", "CURRENT", "NONE", {}),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "VAT", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("860", "Rounding", "CURRLIAB", "NONE", {"SystemAccount": "ROUNDING"}),
    ("880", "Owner A Drawings", "EQUITY", "NONE", {"EnablePaymentsToAccount": True}),
    ("960", "Retained Earnings", "EQUITY", "NONE", {"SystemAccount": "RETAINEDEARNINGS"}),
)
NZ_ACCOUNTS = (
    ("090", "Business Bank Account", "BANK", "NONE", {"BankAccountNumber": "0201234567890000", "CurrencyCode": "NZD"}),
    ("200", "Sales", "REVENUE", "OUTPUT2", {}),
    ("260", "Other Revenue", "OTHERINCOME", "OUTPUT2", {}),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("820", "GST", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("860", "Rounding", "CURRLIAB", "NONE", {"SystemAccount": "ROUNDING"}),
)
ACCOUNT_CLASSES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "PREPAYMENT": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}

CURRENCY_NAMES = {
    "GBP": "British Pound",
    "EUR": "Euro",
    "USD": "United States Dollar",
    "NZD": "New Zealand Dollar",
    "AUD": "Australian Dollar",
}
# Units of the currency for one unit of the base currency [I]: the fake's "XE day rate".
EXCHANGE_RATES = {
    ("GBP", "EUR"): Decimal("1.170000"),
    ("GBP", "USD"): Decimal("1.270000"),
    ("NZD", "AUD"): Decimal("0.910000"),
}

COMPANY_WORDS = (
    "Acme",
    "Brightwater",
    "Cedar",
    "Dunmore",
    "Eastfield",
    "Fjord",
    "Glenview",
    "Harbour",
    "Ironbridge",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Millbrook",
    "Northgate",
    "Oakridge",
    "Pemberton",
    "Quayside",
    "Riverside",
    "Søndergaard",
    "Thornbury",
    "Ulverston",
    "Vale",
    "Whitcombe",
    "Yarrow",
    "Zeller & Söhne",
)
COMPANY_KINDS = ("Ltd", "Holdings Ltd", "Group plc", "LLP", "Services Ltd", "Logistics Ltd", "Care Homes Ltd")
CITIES = (("London", "N1 1AA"), ("Manchester", "M1 2AB"), ("Leeds", "LS1 4AP"), ("Bristol", "BS1 5TR"))


@dataclass
class Organisation:
    """One tenant: settings (``Organisation`` fields) and the records it starts with."""

    organisation_id: str  # == the tenantId of its connections [V]
    name: str
    legal_name: str
    short_code: str  # deep links [V]
    base_currency: str
    currencies: tuple  # enabled currencies, the base one first
    country_code: str
    version: str
    timezone: str
    tax_number: str
    period_lock_date: date
    end_of_year_lock_date: date
    financial_year_end: tuple  # (day, month)
    created_at: datetime
    tax_rates: list
    accounts: list
    contacts: list
    invoices: list = field(default_factory=list)
    notable: dict = field(default_factory=dict)


@dataclass
class XeroWorld:
    """What ``FakeXero.load`` serves: the user's organisations (the default tenant first)."""

    seed: object
    today: date
    now: datetime
    organisations: list
    user_email: str = "alex.admin@brightstaff.example"
    user_first_name: str = "Alex"
    user_last_name: str = "Admin"
    xero_user_id: str = ""

    def organisation(self, tenant_id=None):
        if tenant_id is None:
            return self.organisations[0]
        return next(org for org in self.organisations if org.organisation_id == tenant_id)


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _short_code(rng):
    return "!" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz0123456789") for _ in range(5))


def _stamp(rng, now, low_days, high_days):
    """A UTC instant between ``high_days`` and ``low_days`` days before ``now``, with milliseconds."""
    when = now - timedelta(seconds=rng.randint(int(low_days * 86400), int(high_days * 86400)))
    return when.replace(microsecond=rng.randint(0, 999) * 1000)


def tax_rate(tax_type, name, rate, report_tax_type, status="ACTIVE", revenue=True):
    """A ``TaxRate`` record (one component, not compound)."""
    rate = Decimal(rate)
    return {
        "Name": name,
        "TaxType": tax_type,
        "TaxComponents": [{"Name": name.split(" (")[0], "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}],
        "Status": status,
        "ReportTaxType": report_tax_type,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": not revenue or tax_type == "NONE",
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": revenue,
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
    }


def account(rng, now, code, name, account_type, tax_type, extras):
    record = {
        "AccountID": _uuid(rng),
        "Code": code,
        "Name": name,
        "Status": "ACTIVE",
        "Type": account_type,
        "TaxType": tax_type,
        "Class": ACCOUNT_CLASSES.get(account_type, "ASSET"),
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": False,
        "ReportingCode": f"{ACCOUNT_CLASSES.get(account_type, 'ASS')[:3]}",
        "ReportingCodeName": name,
        "HasAttachments": False,
        "AddToWatchlist": False,
        "UpdatedDateUTC": _stamp(rng, now, 200, 400),
        **extras,
    }
    if account_type == "BANK":
        record.setdefault("BankAccountType", "BANK")
    if code is None:
        del record["Code"]
    return record


def contact(rng, now, name, **fields):
    """A ``Contact`` record; ``fields`` in Xero's names override the defaults."""
    city, postcode = rng.choice(CITIES)
    record = {
        "ContactID": _uuid(rng),
        "ContactStatus": "ACTIVE",
        "Name": name,
        "EmailAddress": "",
        "Addresses": [
            {
                "AddressType": "POBOX",
                "AddressLine1": f"{rng.randint(1, 200)} High Street",
                "City": city,
                "PostalCode": postcode,
                "Country": "United Kingdom",
            },
            {"AddressType": "STREET"},
        ],
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"{rng.randint(2000000, 8999999)}", "PhoneAreaCode": "020"}],
        "UpdatedDateUTC": _stamp(rng, now, 1, 300),
        "ContactGroups": [],
        "IsSupplier": False,
        "IsCustomer": True,
        "HasAttachments": False,
        "HasValidationErrors": False,
        **fields,
    }
    return record


def _slug(name):
    return "".join(ch for ch in name.lower().replace("ø", "o").replace("ö", "o") if ch.isalnum())[:20]


def _customers(rng, now, count, notable):
    """``count`` contacts; by position in each block of 10: 0 ContactNumber, 1 VAT number, 2 archived,
    3 supplier only, 4 customer and supplier, 5 no email; block 0 also has the name clash cases."""
    contacts, used = [], set()
    for index in range(count):
        for attempt in range(20):
            middle = f" {rng.choice(CITIES)[0]}" if attempt >= 5 else ""
            name = f"{rng.choice(COMPANY_WORDS)}{middle} {rng.choice(COMPANY_KINDS)}"
            if name.casefold() not in used:
                break
        else:
            name = f"{name} {index + 1}"
        used.add(name.casefold())
        fields = {"EmailAddress": f"accounts@{_slug(name)}.example"}
        slot = index % 10
        if slot == 0:
            fields["ContactNumber"] = f"CUST-{index + 1:04d}"
            notable["with_contact_number"].append(index)
        elif slot == 1:
            fields["TaxNumber"] = f"GB{rng.randint(100000000, 999999999)}"
            notable["with_tax_number"].append(index)
        elif slot == 2:
            fields["ContactStatus"] = "ARCHIVED"
            notable["archived"].append(index)
        elif slot == 3:
            fields.update(IsCustomer=False, IsSupplier=True)
            notable["suppliers_only"].append(index)
        elif slot == 4:
            fields.update(IsSupplier=True)
        elif slot == 5:
            fields["EmailAddress"] = ""
            notable["without_email"].append(index)
        if slot in (6, 7):
            first, last = rng.choice((("Priya", "Patel"), ("Oliver", "Jones"), ("Zoë", "Ångström")))
            fields.update(FirstName=first, LastName=last)
        contacts.append(contact(rng, now, name, **fields))
    return contacts


def _name_clashes(rng, now, contacts, notable):
    """An archived twin of an active customer's name, and a case variant of another (both allowed by
    Xero: names are unique among ACTIVE contacts only; the case rule is [I])."""
    active = [c for c in contacts if c["ContactStatus"] == "ACTIVE" and c["IsCustomer"]]
    if len(active) < 2:
        return
    twin = contact(rng, now, active[0]["Name"], ContactStatus="ARCHIVED", EmailAddress="old@twin.example")
    contacts.append(twin)
    notable["duplicate_name"] = [active[0]["ContactID"], twin["ContactID"]]


def _invoices(rng, now, contacts, spec):
    """Sales invoices already in Xero (numbered Xero's way), as requests ``FakeXero.load`` replays."""
    customers = [c for c in contacts if c["ContactStatus"] == "ACTIVE" and c["IsCustomer"]][:3]
    revenue = spec["accounts"][1][0] if spec["country"] == "NZ" else "202"
    invoices = []
    for number, customer in enumerate(customers, start=1):
        day = now.date() - timedelta(days=10 + 7 * number)
        invoices.append(
            {
                "Type": "ACCREC",
                "InvoiceNumber": f"INV-{number:04d}",
                "Contact": {"ContactID": customer["ContactID"]},
                "Date": day.isoformat(),
                "DueDate": (day + timedelta(days=30)).isoformat(),
                "Status": "AUTHORISED",
                "LineAmountTypes": "Exclusive",
                "LineItems": [
                    {
                        "Description": f"Temporary staff, week {number + 40}",
                        "Quantity": rng.choice((37.5, 40, 22.5)),
                        "UnitAmount": rng.choice((18.45, 21.3, 24.9875)),
                        "AccountCode": revenue,
                        "TaxType": "OUTPUT2",
                    }
                ],
            }
        )
    return invoices


def _organisation(rng, now, spec):
    org_id = _uuid(rng)
    notable = {
        key: [] for key in ("with_contact_number", "with_tax_number", "archived", "suppliers_only", "without_email")
    }
    contacts = _customers(rng, now, spec["customers"], notable)
    for key in list(notable):
        notable[key] = [contacts[i]["ContactID"] for i in notable[key]]
    _name_clashes(rng, now, contacts, notable)
    accounts = [account(rng, now, *row) for row in spec["accounts"]]
    by_code = {a.get("Code"): a for a in accounts}
    notable["bank_account_id"] = by_code["090"]["AccountID"]
    notable["bank_accounts"] = [a["AccountID"] for a in accounts if a["Type"] == "BANK"]
    notable["ambiguous_tax_types"] = list(spec["ambiguous"])
    invoices = _invoices(rng, now, contacts, spec)
    notable["taken_invoice_numbers"] = [invoice["InvoiceNumber"] for invoice in invoices]
    return Organisation(
        organisation_id=org_id,
        name=spec["name"],
        legal_name=spec["legal_name"],
        short_code=_short_code(rng),
        base_currency=spec["currencies"][0],
        currencies=spec["currencies"],
        country_code=spec["country"],
        version=spec["country"],
        timezone=spec["timezone"],
        tax_number=spec["tax_number"],
        period_lock_date=spec["period_lock"],
        end_of_year_lock_date=spec["year_lock"],
        financial_year_end=spec["year_end"],
        created_at=_stamp(rng, now, 900, 1500),
        tax_rates=[tax_rate(*row) for row in spec["tax_rates"]],
        accounts=accounts,
        contacts=contacts,
        invoices=invoices,
        notable=notable,
    )


def generate_world(seed=0, customers=40, today=DEFAULT_TODAY, second_customers=6):
    """The deterministic world; see the module docstring. ``customers``: contacts of the UK org."""
    rng = random.Random(f"xero-world:{seed}")
    now = datetime.combine(today, WORKDAY_TIME, UTC)
    uk = {
        "name": "Brightstaff Recruitment (UK)",
        "legal_name": "Brightstaff Recruitment Limited",
        "currencies": ("GBP", "EUR", "USD"),
        "country": "GB",
        "timezone": "GMTSTANDARDTIME",
        "tax_number": "GB987654321",
        "period_lock": date(today.year, 6, 30) if today.month > 6 else date(today.year - 1, 12, 31),
        "year_lock": date(today.year, 3, 31) if today.month > 3 else date(today.year - 1, 3, 31),
        "year_end": (31, 3),
        "tax_rates": UK_TAX_RATES,
        "accounts": UK_ACCOUNTS,
        "customers": customers,
        "ambiguous": ("OUTPUT2", "TAX002"),
    }
    nz = {
        "name": "Brightstaff Recruitment (NZ)",
        "legal_name": "Brightstaff Recruitment NZ Limited",
        "currencies": ("NZD", "AUD"),
        "country": "NZ",
        "timezone": "NEWZEALANDSTANDARDTIME",
        "tax_number": "123-456-789",
        "period_lock": None,
        "year_lock": None,
        "year_end": (31, 3),
        "tax_rates": NZ_TAX_RATES,
        "accounts": NZ_ACCOUNTS,
        "customers": second_customers,
        "ambiguous": ("ZERORATED", "NONE"),
    }
    organisations = [_organisation(rng, now, uk), _organisation(rng, now, nz)]
    organisations[0].version = "UK"  # [V] Organisation.Version enum: UK, CountryCode: GB
    return XeroWorld(seed=seed, today=today, now=now, organisations=organisations, xero_user_id=_uuid(rng))


__all__ = [
    "CURRENCY_NAMES",
    "DEFAULT_TODAY",
    "EXCHANGE_RATES",
    "Organisation",
    "XeroWorld",
    "account",
    "contact",
    "generate_world",
    "tax_rate",
]
