"""A seeded, deterministic 24SevenOffice world for ``FakeTwentyFour`` (``tests/fakes/twentyfour.py``).

``generate_world(seed, products, companies, invoices)`` builds the integrator's ApplicationId,
the community users ("logins") with their identities, and the 24SO clients they reach, each
with departments, product categories, products, customers (CompanyService companies) and a few
invoices already posted. The same arguments give the same world.

Records are dicts keyed by the WSDL's element names (``Product.No``, ``Company.ExternalId``,
``InvoiceOrder.OrderId``…), so the fake serializes them as they are and honours
``returnProperties`` by picking keys. Keys starting with ``_`` are the fake's own bookkeeping.

The main client (``MAIN_CLIENT_ID``) is what the connector's tests export to::

    world = generate_world(seed=1)
    world.main.products           # ids from 1001, numbers P00001…; see world.ambiguous_numbers
    world.login("api@nordlys.example").identities   # a user who reaches two clients
    world.application_id          # the integrator's GUID (Credential.ApplicationId)

Logins (user name, password, identities):

* ``api@nordlys.example`` / ``Nordlys-API-1``: the main client (default identity) and the second
  client, so the identity choice matters.
* ``bergen@nordlys.example`` / ``Bergen-API-2``: the main client only (a department's own login).
* ``fjord@fjord.example`` / ``Fjord-API-3``: the second client only.
* ``blocked@nordlys.example`` / ``Blocked-API-4``: one identity, blocked (Login faults).

Values marked [inferred] are our guesses, not 24SO facts (``shared/contracts/24sevenoffice.md``).
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

UTC = timezone.utc
DEFAULT_NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
APPLICATION_ID = "3f8c2a71-5b0e-4d6a-9c1f-24a7b0c3d5e9"  # the integrator's ApplicationId (any GUID)
MAIN_CLIENT_ID = 1001
SECOND_CLIENT_ID = 1002
PRODUCT_ID_START = 1001
COMPANY_ID_START = 10001
ORDER_ID_START = 5001
INVOICE_ID_START = 20001

DEPARTMENTS = {  # client id -> (Id, Name); GetDepartmentList lists inactive ones too [V S17]
    MAIN_CLIENT_ID: ((1, "Oslo"), (300, "Bergen"), (400, "Trondheim"), (500, "Stavanger (nedlagt)")),
    SECOND_CLIENT_ID: ((1, "Hovedkontor"),),
}
CATEGORIES = {  # client id -> (Id, Name, No)
    MAIN_CLIENT_ID: ((1, "Standard", "1"), (10, "Bemanning", "10"), (20, "Kurs", "20"), (30, "Odoo", "30")),
    SECOND_CLIENT_ID: ((1, "Standard", "1"),),
}
CURRENCIES = (("NOK", 1, "1", 1), ("EUR", 2, "11.52", 1), ("SEK", 3, "98.10", 100), ("USD", 4, "10.71", 1))
CURRENCIES += (("GBP", 5, "13.48", 1), ("DKK", 6, "154.40", 100))
VAT_TYPES = ((3, "Utgående mva, høy sats", "25"), (31, "Utgående mva, middels sats", "15"), (5, "Ingen mva", "0"))
TYPE_GROUPS = ((3000, 1, "Salg, avgiftspliktig"), (3100, 2, "Salg, avgiftsfritt"))
TAX_CODES = (  # (TaxId, TaxNo, TaxName, TaxRate, AccountNo): Norway's standard codes
    (1, 3, "Utgående mva høy sats", "25", 2700),
    (2, 5, "Ingen utgående mva", "0", 0),
    (3, 31, "Utgående mva middels sats", "15", 2701),
    (4, 33, "Utgående mva lav sats", "12", 2702),
)
PAYMENT_METHODS = ((1, "Bank"), (2, "Kontant"))

PRODUCT_WORDS = (
    "Konsulenttime", "Vikartime", "Overtid 50 %", "Overtid 100 %", "Rekruttering", "Kurs", "Reisetid",
    "Kilometergodtgjørelse", "Diett", "Nattillegg", "Helgetillegg", "Prosjektledelse", "Rådgivning",
    "Lisens", "Administrasjonsgebyr", "Søknadshåndtering", "Intervju", "Referansesjekk",
)  # fmt: skip
COMPANY_WORDS = (
    "Fjellheim", "Nordkapp", "Solberg", "Havblikk", "Lysaker", "Østmarka", "Bølgen", "Ærfugl", "Skogly",
    "Tindeløp", "Vesterålen", "Fossekall", "Åsgård", "Blåbær", "Myrvold", "Kvitfjell", "Sjøstjerne",
)  # fmt: skip
COMPANY_SUFFIXES = ("AS", "ASA", "ANS", "DA", "AS", "AS")
FIRST_NAMES = ("Kari", "Ola", "Åse", "Bjørn", "Ingrid", "Øystein", "Siri", "Håkon", "Zoë", "Jørgen")
LAST_NAMES = ("Nordmann", "Hansen", "Ødegård", "Lie", "Bakke", "Sæther", "Kristiansen", "Aas")
STREETS = ("Storgata", "Kirkegata", "Bryggen", "Strandveien", "Øvre Slottsgate", "Markveien")
CITIES = (("0150", "OSLO"), ("5003", "BERGEN"), ("7011", "TRONDHEIM"), ("4006", "STAVANGER"), ("9008", "TROMSØ"))


@dataclass
class Identity:
    """A user's access to one client (``Identity`` in the WSDL)."""

    id: str  # GUID
    client_id: int
    is_default: bool = False
    blocked: bool = False  # Login / SetIdentityById with it: "The provided IdentityId is blocked"
    disabled: bool = False
    protected: bool = False


@dataclass
class Login:
    """A community user: the credential a 24SO customer orders as "API user"."""

    username: str
    password: str
    name: str
    user_id: str  # GUID
    contact_id: int
    employee_id: int
    identities: list = field(default_factory=list)

    def identity_for(self, client_id):
        return next(identity for identity in self.identities if identity.client_id == client_id)

    @property
    def default_identity(self):
        usable = [identity for identity in self.identities if not identity.disabled]
        return next((identity for identity in usable if identity.is_default), usable[0] if usable else None)


@dataclass
class Client:
    """One 24SO client (the tenant company) and its data."""

    id: int
    name: str
    organization_number: str
    currency: str = "NOK"
    country: str = "NO"
    departments: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    products: list = field(default_factory=list)
    companies: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    projects: list = field(default_factory=list)


@dataclass
class World:
    seed: object
    now: datetime
    application_id: str
    logins: list
    clients: dict
    ambiguous_numbers: tuple = ()  # product numbers held by two products of the main client
    application_ids: tuple = ()

    @property
    def main(self):
        return self.clients[MAIN_CLIENT_ID]

    @property
    def second(self):
        return self.clients[SECOND_CLIENT_ID]

    def login(self, username):
        return next(login for login in self.logins if login.username == username)


def organization_number(rng):
    """A random nine-digit Norwegian organisation number with a valid modulus-11 check digit."""
    while True:
        digits = [rng.choice((8, 9))] + [rng.randrange(10) for _ in range(7)]
        remainder = sum(d * w for d, w in zip(digits, (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return "".join(map(str, digits + [check]))


def kid_number(number):
    """A KID (OCR) reference: ``number`` followed by its Luhn (MOD10) check digit."""
    digits = [int(d) for d in str(number)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return f"{number}{(10 - total % 10) % 10}"


def new_guid(rng):
    """A random (version 4) GUID drawn from ``rng``: deterministic for a seeded ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _department(dept_id, name, domain):
    return {"Id": dept_id, "Name": name, "Email": f"{name.split()[0].lower()}@{domain}"}


def make_product(product_id, number, name, category_id, price, **extra):
    return {
        "Id": product_id,
        "No": number,
        "Name": name,
        "CategoryId": category_id,
        "Price": Decimal(price).quantize(Decimal("0.01")),
        "TaxRate": Decimal(25),
        "StatusId": 1,
        **extra,
    }


def make_company(company_id, name, *, org_no="", external_id="", type="Business", email=None, **extra):
    company = {
        "Id": company_id,
        "ExternalId": external_id,
        "OrganizationNumber": org_no,
        "Name": name,
        "Type": type,
        "Country": "NO",
        **extra,
    }
    if email:
        company["EmailAddresses"] = {"Invoice": {"Value": email}}
    return company


def _products(rng, client, count, duplicates, start, now):
    categories = [category["Id"] for category in client.categories]
    products = []
    for number in range(1, count + 1):
        word = rng.choice(PRODUCT_WORDS)
        price = Decimal(rng.randrange(150, 2500)) + Decimal(rng.choice((0, 0, 50, 99))) / 100
        products.append(
            make_product(
                start + number - 1,
                f"P{number:05d}",
                f"{word} {number}",
                rng.choice(categories),
                price,
                DateChanged=now - timedelta(days=rng.randrange(1, 400)),
            )
        )
    if products:
        products[-1]["StatusId"] = 0  # an expired product still matches by number
    ambiguous = []
    for index in rng.sample(range(len(products)), min(duplicates, len(products))):
        twin = dict(products[index], Id=start + len(products), Name=f"{products[index]['Name']} (kopi)")
        products.append(twin)
        ambiguous.append(twin["No"])
    return products, tuple(sorted(ambiguous))


def _companies(rng, count, start, now):
    companies = []
    for index in range(count):
        company_id = start + index
        kind = index % 8
        city = rng.choice(CITIES)
        address = {"Street": f"{rng.choice(STREETS)} {rng.randrange(1, 80)}", "PostalCode": city[0]}
        address.update(PostalArea=city[1], City=city[1], Country="NO")
        if kind == 7:  # a private customer: no organisation number
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = make_company(company_id, f"{first} {last}", type="Consumer", FirstName=first, Private=True)
        else:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(('Bygg', 'Helse', 'Logistikk', 'IT', 'Marine'))}"
            company = make_company(
                company_id,
                f"{name} {rng.choice(COMPANY_SUFFIXES)}",
                org_no="" if kind == 5 else organization_number(rng),  # kind 5: a business without one
                external_id=f"legacy-{company_id}" if kind in (2, 6) else "",
                email=f"faktura{company_id}@example.no",
            )
        company["Addresses"] = {"Invoice": address, "Post": dict(address)}
        company["DateChanged"] = now - timedelta(days=rng.randrange(1, 600))
        company["DateCreated"] = company["DateChanged"] - timedelta(days=rng.randrange(0, 300))
        companies.append(company)
    return companies


def _invoices(rng, client, count, now):
    invoices = []
    for index in range(min(count, len(client.companies))):
        customer = client.companies[index]
        product = client.products[index % len(client.products)]
        quantity = Decimal(rng.randrange(1, 20))
        day = (now - timedelta(days=30 + index)).replace(hour=0, minute=0, second=0, microsecond=0)
        invoices.append(
            {
                "OrderId": ORDER_ID_START + index,
                "CustomerId": customer["Id"],
                "CustomerName": customer["Name"],
                "OrderStatus": "Invoiced",
                "InvoiceId": INVOICE_ID_START + index,
                "DateOrdered": day,
                "DateInvoiced": day,
                "DateChanged": day + timedelta(hours=10),
                "PaymentTime": 14,
                "IncludeVAT": False,
                "InvoiceTitle": f"Tidligere faktura {index + 1}",
                "ReferenceNumber": f"OLD-{client.id}/{index + 1:04d}",
                "DepartmentId": client.departments[0]["Id"],
                "OCR": kid_number(INVOICE_ID_START + index),
                "Currency": {"Symbol": client.currency, "Rate": Decimal(1), "Unit": 1},
                "InvoiceRows": [
                    {
                        "RowId": 1,
                        "ProductId": product["Id"],
                        "ProductNo": product["No"],
                        "Name": product["Name"],
                        "Price": product["Price"],
                        "Quantity": quantity,
                        "VatRate": product["TaxRate"],
                        "Type": "Normal",
                    }
                ],
            }
        )
    return invoices


def _client(rng, client_id, name, *, products, duplicates, companies, invoices, now):
    client = Client(client_id, name, organization_number(rng))
    domain = f"{name.split()[0].lower()}.example"
    client.departments = [_department(dept_id, dept_name, domain) for dept_id, dept_name in DEPARTMENTS[client_id]]
    client.categories = [{"Id": cid, "Name": cname, "No": cno} for cid, cname, cno in CATEGORIES[client_id]]
    client.products, ambiguous = _products(rng, client, products, duplicates, PRODUCT_ID_START, now)
    client.companies = _companies(rng, companies, COMPANY_ID_START, now)
    client.invoices = _invoices(rng, client, invoices, now)
    return client, ambiguous


def generate_world(seed=1, products=60, companies=40, invoices=5, duplicate_numbers=3, now=DEFAULT_NOW):
    """A deterministic world: two clients, four logins, the main client's data sized by the arguments.

    ``products`` are numbered ``P00001``…; ``duplicate_numbers`` of those numbers get a second
    product (``world.ambiguous_numbers``); the last numbered product is expired (``StatusId`` 0).
    Customers cycle through kinds: businesses with an organisation number, one in four of them
    with an ``ExternalId`` (``legacy-<Id>``), a business without one, and private customers
    (``Type`` Consumer, no organisation number). ``invoices`` orders are already invoiced.
    """
    rng = random.Random(f"24so-{seed}")
    now = now.astimezone(UTC)
    stamp = now.replace(tzinfo=None)  # records hold naive UTC times, as the SOAP codec does
    main, ambiguous = _client(
        rng,
        MAIN_CLIENT_ID,
        "Nordlys Bemanning AS",
        products=products,
        duplicates=duplicate_numbers,
        companies=companies,
        invoices=invoices,
        now=stamp,
    )
    second, _ = _client(
        rng, SECOND_CLIENT_ID, "Fjord Rekruttering AS", products=8, duplicates=0, companies=6, invoices=1, now=stamp
    )
    logins = []
    people = (
        ("api@nordlys.example", "Nordlys-API-1", "Nordlys API", (MAIN_CLIENT_ID, SECOND_CLIENT_ID), ()),
        ("bergen@nordlys.example", "Bergen-API-2", "Bergen API", (MAIN_CLIENT_ID,), ()),
        ("fjord@fjord.example", "Fjord-API-3", "Fjord API", (SECOND_CLIENT_ID,), ()),
        ("blocked@nordlys.example", "Blocked-API-4", "Sperret API", (MAIN_CLIENT_ID,), (MAIN_CLIENT_ID,)),
    )
    for number, (username, password, name, client_ids, blocked) in enumerate(people, start=1):
        identities = [
            Identity(new_guid(rng), client_id, is_default=index == 0, blocked=client_id in blocked)
            for index, client_id in enumerate(client_ids)
        ]
        logins.append(Login(username, password, name, new_guid(rng), 700 + number, 900 + number, identities))
    return World(
        seed=seed,
        now=now,
        application_id=APPLICATION_ID,
        logins=logins,
        clients={MAIN_CLIENT_ID: main, SECOND_CLIENT_ID: second},
        ambiguous_numbers=ambiguous,
        application_ids=(APPLICATION_ID,),
    )


__all__ = [
    "APPLICATION_ID",
    "COMPANY_ID_START",
    "CURRENCIES",
    "INVOICE_ID_START",
    "MAIN_CLIENT_ID",
    "ORDER_ID_START",
    "PAYMENT_METHODS",
    "PRODUCT_ID_START",
    "SECOND_CLIENT_ID",
    "TAX_CODES",
    "TYPE_GROUPS",
    "VAT_TYPES",
    "Client",
    "Identity",
    "Login",
    "World",
    "generate_world",
    "kid_number",
    "make_company",
    "make_product",
    "new_guid",
    "organization_number",
]
