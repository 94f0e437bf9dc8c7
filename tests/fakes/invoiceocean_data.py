"""The InvoiceOcean account a staffing agency has, for ``tests/fakes/invoiceocean.py``.

``generate_account(seed, today, clients=())`` is deterministic for a seed and a today: an account
(``prefix``, ``api_token``) with departments (issuing companies), the users seen on documents,
clients (``clients``: names of the agency's JobAdder clients, the sandbox's ``invoiced_clients``,
that are clients here too, each with a tax number; then made-up ones, a private person and a
deleted client), products, documents of several kinds spread over the last fourteen months
(positions, statuses issued / partial / paid) and the payments behind the paid ones.

Records are kept as the API answers them (field names of ``shared/contracts/invoiceocean.md``
§3) except money, dates and times, which the fake formats when it answers.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .jobadder_data import COMPANY_NOUNS, COMPANY_WORDS

ZONE = ZoneInfo("Europe/Warsaw")  # the account's time zone: stamps carry its offset [V S5 shape]
DEFAULT_TODAY = date(2026, 12, 1)
PREFIX = "brightstaff"
API_TOKEN = "io-fake-secret"  # noqa: S105 - a test account's token
CITIES = (("00-001", "Warszawa", "PL"), ("EC1A 1BB", "London", "GB"), ("0150", "Oslo", "NO"), ("10115", "Berlin", "DE"))
STREETS = ("High Street", "Storgata", "Hauptstraße", "Marszałkowska")
PRODUCTS = (
    ("Permanent placement fee", "PERM-FEE", "4500.00", 23, True),
    ("Temporary staffing (hour)", "TEMP-HOUR", "38.50", 23, True),
    ("Candidate screening", "SCREEN", "120.00", 23, True),
    ("Job board advertising", "ADS", "250.00", 8, False),
)
# (kind, months back, status); the status of paid / partial documents comes from their payments.
DOCUMENTS = (
    ("vat", 0, "issued"),
    ("vat", 0, "paid"),
    ("vat", 1, "partial"),
    ("proforma", 0, "issued"),
    ("receipt", 1, "paid"),
    ("vat_margin", 2, "issued"),
    ("advance", 3, "paid"),
    ("final", 3, "issued"),
    ("estimate", 5, "issued"),
    ("correction", 6, "issued"),
    ("kp", 7, "paid"),
    ("vat", 13, "paid"),
)


@dataclass
class Account:
    """One InvoiceOcean account: its records by id (dicts in API field names)."""

    seed: object
    prefix: str
    api_token: str
    today: date
    now: datetime
    departments: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    payments: dict = field(default_factory=dict)
    notable: dict = field(default_factory=dict)  # what tests look up: shared clients, the person, ...


def tax_number(rng, country):
    digits = "".join(str(rng.randint(0, 9)) for _ in range(10))
    return {"PL": digits, "GB": f"GB{digits[:9]}", "NO": f"{digits[:9]}MVA", "DE": f"DE{digits[:9]}"}[country]


def _slug(name):
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:20] or "client"


def _made_up(rng, count, taken):
    names = []
    while len(names) < count:
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)}"
        if name not in names and name not in taken:
            names.append(name)
    return names


def generate_account(seed=0, today=DEFAULT_TODAY, clients=()):
    rng = random.Random(f"invoiceocean:{seed}")
    # The evening before ``today`` (the account's zone is ahead of UTC): every seeded stamp is in the
    # past whatever the hour a test or the sandbox starts, so nothing seeded looks newer than a change
    # made now, nor created after an integration linked today.
    now = datetime.combine(today, time(0, 0), ZONE) - timedelta(hours=1)
    account = Account(seed, PREFIX, API_TOKEN, today, now)
    start = now - timedelta(days=430)

    def stamp():
        nonlocal start
        start += timedelta(minutes=rng.randint(5, 600))
        return min(start, now)

    for number, (name, shortcut) in enumerate((("Brightstaff Ltd", "HQ"), ("Brightstaff North", "North")), 1):
        when = stamp()
        account.departments[number] = {
            "id": 290000 + number,
            "name": name,
            "shortcut": shortcut,
            "tax_no": tax_number(rng, "PL"),
            "street": f"ul. Prosta {10 * number}",
            "post_code": "00-838",
            "city": "Warszawa",
            "country": "PL",
            "email": f"invoices+{shortcut.lower()}@brightstaff.example",
            "created_at": when,
            "updated_at": when,
        }
    account.departments = {d["id"]: d for d in account.departments.values()}
    users = (("Anna Nowak", "anna.nowak"), ("Tom Baker", "tom.baker"), ("Maja Lind", "maja.lind"))
    for number, (name, login) in enumerate(users, 1):
        account.users[1200 + number] = {"id": 1200 + number, "name": name, "email": f"{login}@brightstaff.example"}

    client_id = 9850000 + rng.randint(0, 9999)
    names = [name.strip() for name in clients] + _made_up(rng, 8, set(clients))
    for index, name in enumerate(names):
        post_code, city, country = rng.choice(CITIES)
        when = stamp()
        client_id += rng.randint(1, 40)
        shared = index < len(clients)
        account.clients[client_id] = {
            "id": client_id,
            "name": name,
            "shortcut": name.split()[0],
            "tax_no": tax_number(rng, country) if shared or index % 2 else "",
            "street": f"{rng.randint(1, 200)} {rng.choice(STREETS)}",
            "post_code": post_code,
            "city": city,
            "country": country,
            "email": f"accounts@{_slug(name)}.example",
            "phone": f"+{rng.randint(10, 99)} {rng.randint(100000000, 999999999)}",
            "company": True,
            "kind": "buyer",
            "external_id": None,
            "department_id": None,
            "deleted": False,
            "note": "",
            "created_at": when,
            "updated_at": when,
        }
    account.notable["shared_clients"] = [c["id"] for c in account.clients.values()][: len(clients)]
    when = stamp()
    client_id += 7
    account.clients[client_id] = {
        **next(iter(account.clients.values())),
        "id": client_id,
        "name": "Zoë Wiśniewska",
        "shortcut": "Wiśniewska",
        "first_name": "Zoë",
        "last_name": "Wiśniewska",
        "tax_no": "",
        "email": "zoe.wisniewska@mail.example.net",
        "company": False,
        "created_at": when,
        "updated_at": when,
    }
    account.notable["person"] = client_id
    client_id += 3
    gone = f"{rng.choice(COMPANY_WORDS)} Staffing"
    account.clients[client_id] = {**account.clients[client_id - 3], "id": client_id, "name": gone, "deleted": True}
    account.clients[client_id].update(
        first_name=None, last_name=None, company=True, email=f"hello@{_slug(gone)}.example"
    )
    account.notable["deleted_client"] = client_id

    for number, (name, code, gross, tax, service) in enumerate(PRODUCTS, 1):
        when = stamp()
        gross = Decimal(gross)
        account.products[70000 + number] = {
            "id": 70000 + number,
            "name": name,
            "code": code,
            "price_gross": gross,
            "price_net": (gross / (1 + Decimal(tax) / 100)).quantize(Decimal("0.01")),
            "tax": tax,
            "currency": "PLN",
            "service": service,
            "quantity_unit": "h" if "hour" in name else "szt.",
            "disabled": False,
            "created_at": when,
            "updated_at": when,
        }
    account.notable["documents"] = [
        {
            "kind": kind,
            "issue_date": today - timedelta(days=30 * months + rng.randint(0, 20) * bool(months)),
            "status": status,
            "client_id": rng.choice(account.notable["shared_clients"] or list(account.clients)),
            "department_id": rng.choice(list(account.departments)),
            "user_id": rng.choice(list(account.users)),
            "positions": [
                {"product_id": product, "quantity": rng.choice((1, 1, 2, 8, 40))}
                for product in rng.sample(list(account.products), rng.randint(1, 3))
            ],
        }
        for kind, months, status in DOCUMENTS
    ]
    account.notable["documents"].sort(key=lambda document: document["issue_date"])
    return account
