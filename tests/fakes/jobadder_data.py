"""A seeded, deterministic JobAdder agency for ``FakeJobAdder`` (``tests/fakes/jobadder.py``).

``generate_agency(seed, placements, …)`` builds a coherent world: users (consultants), client
companies with their contacts, candidates, and placements of every type that reference them,
plus the ids deleted recently. The same arguments give the same world, byte for byte.

Records are compact slotted dataclasses holding values, not JSON: the fake renders JobAdder's
JSON from them on demand, so a 10,000-placement world builds in well under a second and stays
small. The fake never mutates them in place (copy-on-write), so one world can feed many fakes.

What a connector's tests need to find is listed, by id, in ``world.notable`` (boundary dates
around ``today``, currencies, fee splits, …) and ``world.bad_placements`` (deliberately broken
records, by kind). Names and values marked [inferred] are our guesses, not JobAdder facts
(``shared/contracts/jobadder.md`` §11); they are module constants so they are easy to change.
"""

import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

UTC = timezone.utc
DEFAULT_TODAY = date(2026, 12, 1)
WORKDAY_TIME = time(9, 30)  # the world's "now" is today at this time, UTC

# [spec] PlacementType: JobAdder's names ("Temporary" is the API spelling of "Temp").
PLACEMENT_TYPES = ("Permanent", "Contract", "Temporary", "Credit")
TYPE_WEIGHTS = (40, 30, 25, 5)
UNKNOWN_TYPE = "Casual"  # not a PlacementType: the "unknown_type" bad placement
BAD_KINDS = ("missing_candidate", "missing_company", "unknown_type", "invalid_date", "dangling_candidate")

ACCOUNT_CURRENCY = "AUD"  # [inferred] the agency's own currency; chargeCurrency is ISO 4217 [inferred]
OTHER_CURRENCIES = ("NZD", "GBP", "USD", "EUR", "NOK")
UNKNOWN_CURRENCY = "XTS"  # ISO 4217's "testing" code: valid shape, no real currency

# Ids start in separate ranges so that an id of one kind used as another kind gives a 404.
USER_ID_START = 1
COMPANY_ID_START = 100_001
CONTACT_ID_START = 200_001
CANDIDATE_ID_START = 300_001
PLACEMENT_ID_START = 500_001
JOB_ID_START = 700_001
APPLICATION_ID_START = 5_000_000_001  # int64 in the spec: above the int32 range on purpose
DANGLING_CANDIDATE_DELETED_DAYS = 40  # older than the 14-day /deleted window: truly dangling

# Status lists are per account in JobAdder [spec]: (statusId, name, active, default).
PLACEMENT_STATUSES = (
    (1, "Pending", True, False),
    (2, "Active", True, True),
    (3, "Completed", False, False),
    (4, "Cancelled", False, False),
    (5, "Credited", False, False),
)
CANDIDATE_STATUSES = ((11, "Available", True, True), (12, "Placed", True, False), (13, "Do not use", False, False))
CONTACT_STATUSES = ((21, "Active", True, True), (22, "Prospect", True, False), (23, "Left", False, False))
COMPANY_STATUSES = ((31, "Client", True, True), (32, "Prospect", True, False), (33, "Inactive", False, False))
JOB_STATUS_FILLED = (41, "Filled", False, False)
STATUSES = {
    "placements": PLACEMENT_STATUSES,
    "candidates": CANDIDATE_STATUSES,
    "contacts": CONTACT_STATUSES,
    "companies": COMPANY_STATUSES,
}

# (officeId, name, street, city, state, postalCode, country, countryCode, phone, timeZone)
OFFICES = (
    (1, "Sydney", "Level 5, 1 Market St", "Sydney", "NSW", "2000", "Australia", "AU", "+61 2 9000 1000",
     "AUS Eastern Standard Time"),
    (2, "Auckland", "12 Queen St", "Auckland", None, "1010", "New Zealand", "NZ", "+64 9 300 1000",
     "New Zealand Standard Time"),
    (3, "London", "3 Old Street", "London", None, "EC1V 9HL", "United Kingdom", "GB", "+44 20 7000 1000",
     "GMT Standard Time"),
)  # fmt: skip
USER_GROUPS = ((1, "Consultants"), (2, "Managers"), (3, "Finance"))

FIRST_NAMES = (
    "Zoë", "José", "Søren", "Małgorzata", "François", "Siobhán", "Łukasz", "Chloé", "Björn", "Aoife",
    "Mohammed", "Priya", "Emma", "Oliver", "Noémie", "Jürgen", "Ana", "Tomás", "Yuki", "Olivia",
    "Ngaio", "Thảo", "Ólafur", "Iñaki", "Zeynep", "Kwame", "Mei", "Sam", "Dana", "Alex",
)  # fmt: skip
LAST_NAMES = (
    "Ångström", "García Márquez", "Kierkegaard", "Wiśniewska", "Lefèvre", "O'Brien", "Dvořák", "Müller",
    "Nguyễn", "Smith", "Patel", "van der Berg", "Çelik", "Jones", "Brontë", "Takahashi", "Fernández",
    "Ní Bhriain", "Johansson", "Williams", "Te Rangi", "Đặng", "Østergaard", "Lee", "Brown", "Wang",
)  # fmt: skip
CJK_NAMES = (("美咲", "佐藤"), ("伟", "王"), ("지훈", "김"))  # no ASCII form: their emails fall back to ids
COMPANY_WORDS = (
    "Acme", "Bluegum", "Kōwhai", "Nordlys", "Café Ñandú", "Müller & Söhne", "Harbour", "Southern Cross",
    "Ørsted", "Pacific", "Île-de-France", "Redgum", "Thames", "Fjord", "Wattle", "Sakura", "Kauri",
    "Brightpath", "Ironbark", "Coastal", "Summit", "Meridian", "Tasman", "Albion", "Outback", "Aurora",
)  # fmt: skip
COMPANY_NOUNS = (
    "Logistics", "Health", "Engineering", "Foods", "Mining", "Finance", "Software", "Construction",
    "Retail", "Energy", "Hospitality", "Legal", "Design", "Freight", "Labs", "Consulting", "Education",
)  # fmt: skip
COMPANY_SUFFIXES = ("Pty Ltd", "Ltd", "Limited", "AS", "GmbH", "Group", "& Co", "Inc", "")
JOB_TITLES = (
    "Senior Accountant", "Développeur Python", "Registered Nurse – ICU", "Warehouse Operator", "Payroll Officer",
    "Site Engineer", "Receptionist", "Data Analyst", "Project Manager", "Forklift Driver", "Chef de Partie",
    "Solicitor", "Care Worker", "Electrician", "Customer Service Representative", "Head of Finance",
    "Teacher's Aide", "Mechanical Fitter", "Barista / Café Manager", "Løsningsarkitekt",
)  # fmt: skip
POSITIONS = ("CFO", "HR Manager", "Hiring Manager", "Operations Director", "Office Manager", "Talent Partner", None)
SALUTATIONS = ("Mr", "Ms", "Mrs", "Dr", "Mx", None)
CITIES = (
    ("Sydney", "NSW", "2000", "Australia", "AU"),
    ("Melbourne", "VIC", "3000", "Australia", "AU"),
    ("Brisbane", "QLD", "4000", "Australia", "AU"),
    ("Auckland", None, "1010", "New Zealand", "NZ"),
    ("Wellington", None, "6011", "New Zealand", "NZ"),
    ("London", None, "EC2A 4NE", "United Kingdom", "GB"),
    ("Oslo", None, "0150", "Norway", "NO"),
    ("Tromsø", None, "9008", "Norway", "NO"),
)
STREETS = ("King St", "Rue de la Paix", "Queen St", "Storgata", "Bahnhofstraße", "High St", "George St", "Te Ara")
PHONE_PREFIX = {"AU": "+61", "NZ": "+64", "GB": "+44", "NO": "+47"}
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
AGENCY_DOMAIN = "brightstaff.example"
PAYMENT_TYPES = ("PAYG", "Contractor (ABN)", "Umbrella", "Limited company")
BILLING_TERMS = ("7 days", "14 days", "30 days", "End of month")
RATINGS = ("A", "B", "C", None)
SOURCES = ("LinkedIn", "Seek", "Referral", "Website", "Indeed", None)
SEEKING = ("Yes", "Maybe", "No", None)
PERCENT_SPLITS = ((100.0,), (50.0, 50.0), (60.0, 40.0), (70.0, 30.0), (34.0, 33.0, 33.0), (50.0, 25.0, 25.0))
SPLIT_WEIGHTS = (60, 12, 10, 8, 5, 5)
# Placement custom fields: (fieldId, name, type); values drawn per placement.
PLACEMENT_CUSTOM_FIELDS = ((1, "Cost centre", "Text"), (2, "Division", "List"), (3, "Review date", "Date"))

_NOT_DECOMPOSED = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "Đ": "D"}
)


# ---------------------------------------------------------------------------------- records
@dataclass(slots=True, frozen=True)
class Address:
    """A ``CompanyAddressModel`` / ``AddressModel`` ([spec]); ``street`` is a tuple of lines."""

    address_id: str
    street: tuple
    city: str = None
    state: str = None
    postal_code: str = None
    country: str = None
    country_code: str = None
    name: str = None
    phone: str = None


@dataclass(slots=True)
class User:
    user_id: int
    first_name: str
    last_name: str
    email: str = None
    position: str = None
    phone: str = None
    mobile: str = None
    inactive: bool = False
    deleted: bool = False
    admin: bool = False
    office_id: int = None
    group_ids: tuple = ()
    created_at: datetime = None
    updated_at: datetime = None


@dataclass(slots=True)
class Company:
    company_id: int
    name: str
    status_id: int
    owner_id: int = None
    legal_name: str = None
    main_contact_id: int = None
    address: Address = None
    parent_id: int = None
    summary: str = None
    recruiter_ids: tuple = ()
    created_by: int = None
    created_at: datetime = None
    updated_by: int = None
    updated_at: datetime = None


@dataclass(slots=True)
class Contact:
    contact_id: int
    company_id: int
    first_name: str
    last_name: str
    status_id: int
    position: str = None
    salutation: str = None
    email: str = None
    phone: str = None
    mobile: str = None
    inactive: bool = False
    hiring_manager: bool = False
    owner_id: int = None
    created_by: int = None
    created_at: datetime = None
    updated_by: int = None
    updated_at: datetime = None


@dataclass(slots=True)
class Candidate:
    candidate_id: int
    first_name: str
    last_name: str
    status_id: int
    email: str = None
    phone: str = None
    mobile: str = None
    salutation: str = None
    address: Address = None
    rating: str = None
    source: str = None
    seeking: str = None
    date_of_birth: date = None
    current_position: str = None
    current_employer: str = None
    recruiter_ids: tuple = ()
    created_by: int = None
    created_at: datetime = None
    updated_by: int = None
    updated_at: datetime = None


@dataclass(slots=True)
class Placement:
    """One placement as JobAdder's database holds it; the fake renders list and detail JSON.

    ``start_date``/``end_date`` are dates, or a raw string for the "invalid_date" bad placement.
    ``recruiters`` holds ``(userId, feeSplit)`` pairs; ``salary``, ``contract_rate`` and the
    ``rates`` lines are dicts already in JobAdder's field names (``PlacementSalaryModel``, …).
    """

    placement_id: int
    type: str
    job_id: int
    job_title: str
    candidate_id: int = None
    company_id: int = None
    contact_id: int = None
    owner_id: int = None
    status_id: int = 2
    approved: bool = False
    approved_at: datetime = None
    approved_by: int = None
    start_date: object = None
    end_date: object = None
    recruiters: tuple = ()
    fee_split: str = None
    salary: dict = None
    contract_rate: dict = None
    rates: tuple = ()
    charge_currency: str = None
    payment_type: str = None
    billing: dict = None  # {"contact_id", "email", "orderRef", "invoiceRef", "terms", "dueDate"}
    custom: tuple = ()  # ((fieldId, name, type, value), …)
    summary: str = None
    workplace: bool = False  # the company's primary address is the workplace
    application_id: int = None
    credits_id: int = None
    credited_by_id: int = None
    created_by: int = None
    created_at: datetime = None
    updated_by: int = None
    updated_at: datetime = None
    bad: str = None  # one of BAD_KINDS for a deliberately broken placement


@dataclass
class AgencyWorld:
    """Everything ``FakeJobAdder.load`` serves; lists are in id order."""

    seed: object
    today: date
    now: datetime
    account_currency: str
    users: list
    companies: list
    contacts: list
    candidates: list
    placements: list
    deleted: dict  # resource -> [(id, deletedAt)]; deleted candidates stay in ``candidates``
    notable: dict = field(default_factory=dict)  # name -> [placementId] (or other ids, see keys)
    current_user_id: int = USER_ID_START
    account_name: str = "Brightstaff Recruitment"

    @property
    def bad_placements(self):
        """``{placementId: kind}`` of the deliberately broken placements."""
        return {p.placement_id: p.bad for p in self.placements if p.bad}

    def by_id(self, resource):
        """``{id: record}`` of ``resource`` ("placements", "candidates", …)."""
        key = _ID_ATTRIBUTE[resource]
        return {getattr(record, key): record for record in getattr(self, resource)}


_ID_ATTRIBUTE = {
    "users": "user_id",
    "companies": "company_id",
    "contacts": "contact_id",
    "candidates": "candidate_id",
    "placements": "placement_id",
}


# --------------------------------------------------------------------------------- helpers
def ascii_slug(text):
    """``"Zoë García Márquez"`` -> ``"zoe.garcia.marquez"``; empty for scripts without Latin letters."""
    plain = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED)).encode("ascii", "ignore").decode()
    return ".".join(part for part in plain.lower().replace("'", "").replace("&", " ").split())


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _moment(rng, now, low_days, high_days):
    """A UTC instant between ``high_days`` and ``low_days`` days before ``now``, some with milliseconds."""
    seconds = rng.randint(int(low_days * 86400), int(high_days * 86400))
    when = now - timedelta(seconds=seconds)
    if rng.random() < 0.1:
        when = when.replace(microsecond=rng.randint(1, 999) * 1000)
    return when


def _after(rng, start, now):
    """An instant between ``start`` and ``now`` (inclusive)."""
    span = max(0, int((now - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, span))


def _phone(rng, country_code, mobile=False):
    prefix = PHONE_PREFIX.get(country_code, "+61")
    if mobile:
        return f"{prefix} 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return f"{prefix} {rng.randint(2, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def _name(rng, index):
    if index % 97 == 13:
        return CJK_NAMES[index % len(CJK_NAMES)]
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _address(rng, with_name=False, sparse=False):
    city, state, postal, country, code = rng.choice(CITIES)
    street = (f"{rng.randint(1, 400)} {rng.choice(STREETS)}",)
    if rng.random() < 0.2:
        street += (f"Level {rng.randint(1, 30)}",)
    if sparse:  # missing optional parts
        return Address(address_id=_uuid(rng), street=street, city=city, country_code=code)
    return Address(
        address_id=_uuid(rng),
        street=street,
        city=city,
        state=state,
        postal_code=postal,
        country=country,
        country_code=code,
        name="Head office" if with_name else None,
        phone=_phone(rng, code) if with_name else None,
    )


def money(kind, rng=None, currency=None):
    """``(salary, contract_rate, rates)`` of a placement of ``kind`` (JobAdder field names).

    Permanent: salary with base, superannuation, total and fee. Contract: a contract rate (per
    hour or day) and one rate line. Temporary: a contract rate plus Standard/Overtime lines.
    Credit: the salary fee negated is left to the caller (it mirrors the credited placement).
    Without ``rng`` the values are fixed (``FakeJobAdder.add_placement``).
    """
    rng = rng or random.Random(0)
    if kind == "Permanent":
        base = float(rng.randrange(50_000, 200_001, 1000))
        superannuation = round(base * 0.115, 2)
        benefits = float(rng.choice((0, 0, 2500, 5000)))
        fee = round(base * rng.choice((0.15, 0.18, 0.2, 0.22, 0.25)), 2)
        salary = {
            "base": base,
            "superannuation": superannuation,
            "benefits": benefits,
            "total": round(base + superannuation + benefits, 2),
            "fee": fee,
        }
        return salary, None, ()
    if kind not in ("Contract", "Temporary"):
        return None, None, ()
    per_day = rng.random() < 0.3
    candidate_rate = float(rng.randrange(400, 1200, 5) if per_day else rng.randrange(28, 140))
    client_rate = round(candidate_rate * rng.choice((1.2, 1.25, 1.3, 1.4)), 2)
    on_costs = rng.choice((10.0, 12.5, 15.0))
    contract_rate = {
        "ratePer": "Day" if per_day else "Hour",
        "hoursPerWeek": rng.choice((37.5, 38.0, 40.0)),
        "daysPerWeek": 5.0,
        "clientRate": client_rate,
        "candidateRate": candidate_rate,
        "onCostsType": "Percent",
        "onCosts": on_costs,
        "netMargin": round(client_rate - candidate_rate * (1 + on_costs / 100), 2),
    }
    lines = [("Standard", "Normal", 1.0)]
    if kind == "Temporary":
        lines += [("Overtime x1.5", "Overtime", 1.5), ("Weekend", "Penalty", 2.0)][: rng.randint(1, 2)]
    rates = tuple(
        {
            "name": name,
            "type": rate_type,
            "default": index == 0,
            "displayIndex": index,
            "payRate": round(candidate_rate * factor, 2),
            "chargeRate": round(client_rate * factor, 2),
            "chargeCurrency": currency,
        }
        for index, (name, rate_type, factor) in enumerate(lines)
    )
    return None, contract_rate, rates


# ------------------------------------------------------------------------------- generator
def generate_agency(
    seed=0,
    placements=200,
    companies=None,
    contacts=None,
    candidates=None,
    users=12,
    today=DEFAULT_TODAY,
    bad=None,
):
    """A deterministic agency world; see the module docstring.

    Defaults scale with ``placements``: ``companies`` = 2/5 of it, ``contacts`` = 2 per company,
    ``candidates`` = 1 per placement (10,000 placements: 4,000 companies, 8,000 contacts,
    10,000 candidates). ``bad`` broken placements (default: one of each ``BAD_KINDS`` per
    2,000 placements, at least one of each when there are enough placements).
    """
    n_companies = max(1, placements * 2 // 5) if companies is None else companies
    n_contacts = 2 * n_companies if contacts is None else contacts
    n_candidates = max(1, placements) if candidates is None else candidates
    if placements and not (n_companies and n_candidates and users):
        raise ValueError("placements need at least one company, candidate and user")
    if bad is None:
        bad = min(placements // 10, len(BAD_KINDS) * max(1, placements // 2000))
    rng = random.Random(f"jobadder-agency:{seed}")
    now = datetime.combine(today, WORKDAY_TIME, UTC)
    world = AgencyWorld(
        seed=seed,
        today=today,
        now=now,
        account_currency=ACCOUNT_CURRENCY,
        users=_users(rng, users, now),
        companies=[],
        contacts=[],
        candidates=[],
        placements=[],
        deleted={"placements": [], "candidates": [], "contacts": [], "companies": []},
    )
    user_ids = [user.user_id for user in world.users]
    world.companies = _companies(rng, n_companies, user_ids, now)
    world.contacts = _contacts(rng, n_contacts, world.companies, user_ids, now)
    world.candidates = _candidates(rng, n_candidates, user_ids, now)
    _PlacementMaker(rng, world).make(placements, bad)
    _deleted_elsewhere(rng, world)
    _note_people(world)
    return world


def _users(rng, count, now):
    """Consultants; by position in each block of 12: 0 admin, 5 shares 4's email in other case,
    7 has no email, 9 inactive, 10 deleted, 11 a personal email on another domain."""
    users, seen = [], set()
    for index in range(count):
        first, last = ("Alex", "Admin") if index == 0 else _name(rng, index + 1)
        user_id = USER_ID_START + index
        slot = index % 12
        slug = ascii_slug(f"{first} {last}") or f"user{user_id}"
        email = f"{slug}@{AGENCY_DOMAIN}"
        while email.lower() in seen:
            slug += str(rng.randint(0, 9))
            email = f"{slug}@{AGENCY_DOMAIN}"
        if slot == 5 and users:
            email = _case_variant(users[-1].email or email)
        elif slot == 7:
            email = None
        elif slot == 11:
            email = f"{slug}@{rng.choice(EMAIL_DOMAINS)}"
        if email:
            seen.add(email.lower())
        office = OFFICES[index % len(OFFICES)]
        created = _moment(rng, now, 200, 2000)
        users.append(
            User(
                user_id=user_id,
                first_name=first,
                last_name=last,
                email=email,
                position="Director" if index == 0 else rng.choice(("Consultant", "Senior Consultant", "Team Lead")),
                phone=office[8],
                mobile=_phone(rng, office[7], mobile=True) if rng.random() < 0.8 else None,
                inactive=slot == 9,
                deleted=slot == 10,
                admin=index == 0,
                office_id=office[0],
                group_ids=(1,) if index else (1, 2, 3),
                created_at=created,
                updated_at=_after(rng, created, now),
            )
        )
    return users


def _case_variant(email):
    """The same address in other letter case: ``Sam.Nguyen@BrightStaff.example``."""
    local, _, domain = email.partition("@")
    return f"{local.title()}@{domain.upper()}" if local.title() != local else email.upper()


def _companies(rng, count, user_ids, now):
    companies = []
    for index in range(count):
        company_id = COMPANY_ID_START + index
        suffix = rng.choice(COMPANY_SUFFIXES)
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)}" + (f" {suffix}" if suffix else "")
        created = _moment(rng, now, 30, 1500)
        created_by = rng.choice(user_ids)
        roll = rng.random()
        companies.append(
            Company(
                company_id=company_id,
                name=name,
                status_id=31 if roll < 0.8 else (32 if roll < 0.93 else 33),
                owner_id=rng.choice(user_ids) if rng.random() < 0.9 else None,
                legal_name=f"{name} Holdings" if rng.random() < 0.3 else None,
                address=None if rng.random() < 0.1 else _address(rng, with_name=True, sparse=rng.random() < 0.1),
                parent_id=rng.choice(companies).company_id if companies and rng.random() < 0.05 else None,
                summary=rng.choice((None, None, "Key account – payroll via Ørsted shared services.")),
                recruiter_ids=tuple(sorted(set(rng.sample(user_ids, min(len(user_ids), rng.randint(0, 2)))))),
                created_by=created_by,
                created_at=created,
                updated_by=rng.choice(user_ids),
                updated_at=_after(rng, created, now),
            )
        )
    return companies


def _contacts(rng, count, companies, user_ids, now):
    contacts = []
    for index in range(count):
        contact_id = CONTACT_ID_START + index
        # Every company gets one contact first (its main contact), then they are spread at random.
        company = companies[index] if index < len(companies) else rng.choice(companies)
        first, last = _name(rng, index)
        domain = (ascii_slug(company.name.split()[0]).replace(".", "") or "client") + ".example"
        email = f"{ascii_slug(first + ' ' + last) or f'contact{contact_id}'}@{domain}" if rng.random() < 0.9 else None
        if index < len(companies) and rng.random() < 0.95:
            company.main_contact_id = contact_id
        code = company.address.country_code if company.address else "AU"
        inactive = rng.random() < 0.05
        created = max(_moment(rng, now, 1, 1400), company.created_at)
        contacts.append(
            Contact(
                contact_id=contact_id,
                company_id=company.company_id,
                first_name=first,
                last_name=last,
                status_id=23 if inactive else (21 if rng.random() < 0.85 else 22),
                position=rng.choice(POSITIONS),
                salutation=rng.choice(SALUTATIONS),
                email=email,
                phone=_phone(rng, code) if rng.random() < 0.7 else None,
                mobile=_phone(rng, code, mobile=True) if rng.random() < 0.6 else None,
                inactive=inactive,
                hiring_manager=rng.random() < 0.4,
                owner_id=company.owner_id,
                created_by=rng.choice(user_ids),
                created_at=created,
                updated_by=rng.choice(user_ids),
                updated_at=_after(rng, created, now),
            )
        )
    return contacts


def _candidates(rng, count, user_ids, now, start_id=CANDIDATE_ID_START):
    candidates = []
    for index in range(count):
        candidate_id = start_id + index
        first, last = _name(rng, index + 7)
        slug = ascii_slug(f"{first} {last}") or f"candidate{candidate_id}"
        address = None if rng.random() < 0.2 else _address(rng, sparse=rng.random() < 0.15)
        code = address.country_code if address else "AU"
        created = _moment(rng, now, 1, 1800)
        candidates.append(
            Candidate(
                candidate_id=candidate_id,
                first_name=first,
                last_name=last,
                status_id=rng.choice((11, 11, 12, 13)),
                email=f"{slug}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}" if rng.random() < 0.9 else None,
                phone=_phone(rng, code) if rng.random() < 0.5 else None,
                mobile=_phone(rng, code, mobile=True) if rng.random() < 0.8 else None,
                salutation=rng.choice(SALUTATIONS),
                address=address,
                rating=rng.choice(RATINGS),
                source=rng.choice(SOURCES),
                seeking=rng.choice(SEEKING),
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randint(0, 16000)) if rng.random() < 0.5 else None,
                current_position=rng.choice(JOB_TITLES) if rng.random() < 0.6 else None,
                current_employer=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)}"
                if rng.random() < 0.5
                else None,
                recruiter_ids=(rng.choice(user_ids),) if rng.random() < 0.7 else (),
                created_by=rng.choice(user_ids),
                created_at=created,
                updated_by=rng.choice(user_ids),
                updated_at=_after(rng, created, now),
            )
        )
    return candidates


# Forced first placements: (type, start offset, end offset, approved) in days from today, so
# that every type and every boundary around today exists in any world of 14+ placements.
BOUNDARY_CASES = (
    ("Permanent", -1, None, True),
    ("Permanent", 0, None, True),
    ("Permanent", 1, None, True),
    ("Contract", -90, -1, True),
    ("Contract", -30, 0, True),
    ("Contract", 0, 1, True),
    ("Contract", 1, 180, False),
    ("Temporary", -14, -1, True),
    ("Temporary", -7, 0, False),
    ("Temporary", -1, 1, True),
    ("Temporary", 1, 30, True),
    ("Permanent", -400, None, False),
    ("Credit", None, None, True),  # credits the first Permanent
    ("Contract", -200, None, True),  # open-ended contract: no end date
)


class _PlacementMaker:
    def __init__(self, rng, world):
        self.rng = rng
        self.world = world
        self.user_ids = [user.user_id for user in world.users]
        self.active_user_ids = [u.user_id for u in world.users if not (u.inactive or u.deleted)] or self.user_ids
        self.contacts_of = {}
        for contact in world.contacts:
            self.contacts_of.setdefault(contact.company_id, []).append(contact.contact_id)
        self.permanents = []

    def make(self, count, bad):
        rng, world = self.rng, self.world
        bad_at = {}
        free = count - min(count, len(BOUNDARY_CASES))
        for index in range(min(bad, free)):
            bad_at[len(BOUNDARY_CASES) + int((index + 0.5) * free / bad)] = BAD_KINDS[index % len(BAD_KINDS)]
        xts_at = len(BOUNDARY_CASES) + 3 if count > len(BOUNDARY_CASES) + 3 else count - 1
        while xts_at in bad_at:
            xts_at -= 1
        for index in range(count):
            case = BOUNDARY_CASES[index] if index < len(BOUNDARY_CASES) else None
            placement = self._placement(index, case)
            if index == xts_at:
                self._set_currency(placement, UNKNOWN_CURRENCY)
            if index in bad_at:
                self._break(placement, bad_at[index])
            world.placements.append(placement)
        next_id = PLACEMENT_ID_START + count
        for offset in range(max(2, count // 100) if count else 0):
            days = rng.uniform(0.1, 13.5) if offset % 2 == 0 else rng.uniform(15, 60)
            world.deleted["placements"].append((next_id + offset, world.now - timedelta(seconds=int(days * 86400))))
        world.notable.update(self._notable())

    def _placement(self, index, case):
        rng, world = self.rng, self.world
        kind = case[0] if case else rng.choices(PLACEMENT_TYPES, TYPE_WEIGHTS)[0]
        credited = None
        if kind == "Credit":
            credited = self.permanents[0] if case else (rng.choice(self.permanents) if self.permanents else None)
            if credited is None or credited.credited_by_id:
                kind = "Permanent"
                credited = None
        placement_id = PLACEMENT_ID_START + index
        if credited:
            company_id, candidate_id, contact_id = credited.company_id, credited.candidate_id, credited.contact_id
        else:
            company_id = rng.choice(world.companies).company_id
            candidate_id = rng.choice(world.candidates).candidate_id
            contacts = self.contacts_of.get(company_id)
            contact_id = rng.choice(contacts) if contacts and rng.random() < 0.9 else None
        start, end = self._dates(kind, case, credited)
        recruiters, fee_split = self._recruiters()
        owner_id = recruiters[0][0] if rng.random() < 0.85 else rng.choice(self.user_ids)
        currency = self._currency()
        salary, contract_rate, rates = money(kind if kind != "Credit" else "Permanent", rng, currency)
        if credited:
            fee = -(credited.salary or {}).get("fee", 0.0)
            salary = {"base": None, "superannuation": None, "benefits": None, "total": None, "fee": fee}
            currency = credited.charge_currency
        if fee_split == "Fixed":
            total = (salary or {}).get("fee") or 1000.0
            recruiters = _fixed_split(recruiters, total)
        created = _moment(rng, world.now, 0, 720)
        approved = case[3] if case else rng.random() < 0.75
        approved_at = _after(rng, created, world.now) if approved else None
        placement = Placement(
            placement_id=placement_id,
            type=kind,
            job_id=JOB_ID_START + index,
            job_title=rng.choice(JOB_TITLES),
            candidate_id=candidate_id,
            company_id=company_id,
            contact_id=contact_id,
            owner_id=owner_id,
            status_id=self._status(kind, start, end, approved),
            approved=approved,
            approved_at=approved_at,
            approved_by=rng.choice(self.active_user_ids) if approved else None,
            start_date=start,
            end_date=end,
            recruiters=recruiters,
            fee_split=fee_split,
            salary=salary,
            contract_rate=contract_rate,
            rates=rates,
            charge_currency=currency,
            payment_type=rng.choice(PAYMENT_TYPES) if kind in ("Contract", "Temporary") else None,
            billing=self._billing(company_id, contact_id),
            custom=self._custom(),
            summary=rng.choice((None, None, None, "Placed after 3 interviews — start confirmed by Zoë.")),
            workplace=rng.random() < 0.5,
            application_id=APPLICATION_ID_START + index,
            credits_id=credited.placement_id if credited else None,
            created_by=rng.choice(self.user_ids),
            created_at=created,
            updated_by=rng.choice(self.user_ids),
            updated_at=_after(rng, approved_at or created, world.now),
        )
        if credited:
            credited.credited_by_id = placement_id
        if kind == "Permanent":
            self.permanents.append(placement)
        return placement

    def _dates(self, kind, case, credited):
        rng, today = self.rng, self.world.today
        if credited:
            return credited.start_date, None
        if case:
            start = today + timedelta(days=case[1])
            return start, (today + timedelta(days=case[2]) if case[2] is not None else None)
        start = today + timedelta(days=rng.randint(-400, 60))
        if kind in ("Contract", "Temporary") and rng.random() < 0.92:
            return start, start + timedelta(days=rng.randint(7, 365))
        return start, None

    def _status(self, kind, start, end, approved):
        if kind == "Credit":
            return 5
        if self.rng.random() < 0.03:
            return 4
        today = self.world.today
        if end is not None and end < today:
            return 3
        return 2 if approved and start <= today else 1

    def _recruiters(self):
        rng = self.rng
        splits = rng.choices(PERCENT_SPLITS, SPLIT_WEIGHTS)[0]
        people = rng.sample(self.user_ids, min(len(splits), len(self.user_ids)))
        splits = splits if len(people) == len(splits) else (100.0,)
        pairs = tuple(zip(people, splits, strict=False))
        return pairs, ("Fixed" if rng.random() < 0.1 else "Percent")

    def _currency(self):
        roll = self.rng.random()
        if roll < 0.6:
            return ACCOUNT_CURRENCY
        if roll < 0.8:
            return None  # missing: the connector falls back to the company currency
        return self.rng.choice(OTHER_CURRENCIES)

    @staticmethod
    def _set_currency(placement, currency):
        placement.charge_currency = currency
        placement.rates = tuple({**line, "chargeCurrency": currency} for line in placement.rates)

    def _billing(self, company_id, contact_id):
        rng = self.rng
        if rng.random() < 0.2:
            return None
        return {
            "contact_id": contact_id,
            "email": f"accounts@client{company_id}.example" if rng.random() < 0.8 else None,
            "orderRef": f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.5 else None,
            "invoiceRef": None,
            "terms": rng.choice(BILLING_TERMS),
            "dueDate": None,
        }

    def _custom(self):
        rng = self.rng
        values = []
        for field_id, name, kind in PLACEMENT_CUSTOM_FIELDS:
            if rng.random() < 0.4:
                continue
            if kind == "Text":
                value = f"CC-{rng.randint(100, 999)}"
            elif kind == "List":
                value = rng.sample(["Finance", "Health", "Logistics", "Tech"], rng.randint(1, 2))
            else:
                value = (self.world.today + timedelta(days=rng.randint(-30, 120))).isoformat()
            values.append((field_id, name, kind, value))
        return tuple(values)

    def _break(self, placement, kind):
        placement.bad = kind
        self.permanents = [p for p in self.permanents if p is not placement]  # no credits of broken ones
        if kind == "missing_candidate":
            placement.candidate_id = None
        elif kind == "missing_company":
            placement.company_id = None
            placement.contact_id = None
            placement.billing = None
            placement.workplace = False
        elif kind == "unknown_type":
            placement.type = UNKNOWN_TYPE
        elif kind == "invalid_date":
            placement.start_date = f"{self.world.today.year}-02-30"
        elif kind == "dangling_candidate":
            # A candidate of its own, deleted long ago: embedded in the placement, 404 on its own.
            world = self.world
            (candidate,) = _candidates(self.rng, 1, self.user_ids, world.now, start_id=_next_candidate_id(world))
            world.candidates.append(candidate)
            days = DANGLING_CANDIDATE_DELETED_DAYS
            world.deleted["candidates"].append((candidate.candidate_id, world.now - timedelta(days=days)))
            placement.candidate_id = candidate.candidate_id

    def _notable(self):
        """``{name: [placementId]}`` of the well-formed placements with each trait."""
        today = self.world.today
        days = {"yesterday": today - timedelta(days=1), "today": today, "tomorrow": today + timedelta(days=1)}
        traits = {f"starts_{label}": (lambda p, d=day: p.start_date == d) for label, day in days.items()}
        traits.update({f"ends_{label}": (lambda p, d=day: p.end_date == d) for label, day in days.items()})
        traits.update({kind: (lambda p, k=kind: p.type == k) for kind in PLACEMENT_TYPES})
        traits.update(
            {
                "approved": lambda p: p.approved,
                "not_approved": lambda p: not p.approved,
                "unknown_currency": lambda p: p.charge_currency == UNKNOWN_CURRENCY,
                "no_currency": lambda p: p.charge_currency is None,
                "foreign_currency": lambda p: p.charge_currency not in (None, ACCOUNT_CURRENCY, UNKNOWN_CURRENCY),
                "fixed_fee_split": lambda p: p.fee_split == "Fixed",
                "multiple_recruiters": lambda p: len(p.recruiters) > 1,
                "owner_not_recruiter": lambda p: p.owner_id not in {user_id for user_id, _split in p.recruiters},
                "no_contact": lambda p: p.contact_id is None,
                "no_billing": lambda p: p.billing is None,
                "credit": lambda p: bool(p.credits_id),
                "credited": lambda p: bool(p.credited_by_id),
                "open_ended": lambda p: p.type in ("Contract", "Temporary") and p.end_date is None,
            }
        )
        good = [p for p in self.world.placements if not p.bad]
        return {name: [p.placement_id for p in good if test(p)] for name, test in traits.items()}


def _fixed_split(recruiters, total):
    """Percent shares turned into fixed amounts of ``total`` that add up exactly."""
    amounts = [round(abs(total) * share / 100, 2) for _user, share in recruiters]
    amounts[0] = round(abs(total) - sum(amounts[1:]), 2)
    return tuple((user_id, amount) for (user_id, _share), amount in zip(recruiters, amounts, strict=True))


def _next_candidate_id(world):
    return max((c.candidate_id for c in world.candidates), default=CANDIDATE_ID_START - 1) + 1


def _deleted_elsewhere(rng, world):
    """A few contacts, companies and candidates deleted recently (ids never served)."""
    for resource, records, attribute in (
        ("companies", world.companies, "company_id"),
        ("contacts", world.contacts, "contact_id"),
        ("candidates", world.candidates, "candidate_id"),
    ):
        if not records:
            continue
        next_id = max(getattr(record, attribute) for record in records) + 1
        for offset in range(2):
            days = rng.uniform(0.5, 13) if offset == 0 else rng.uniform(20, 90)
            world.deleted[resource].append((next_id + offset, world.now - timedelta(seconds=int(days * 86400))))


def _note_people(world):
    """``notable`` entries about users (ids are userIds)."""
    by_email = {}
    for user in world.users:
        if user.email:
            by_email.setdefault(user.email.lower(), []).append(user.user_id)
    world.notable["users_sharing_email"] = [ids for ids in by_email.values() if len(ids) > 1]
    world.notable["users_without_email"] = [u.user_id for u in world.users if not u.email]
    world.notable["users_inactive"] = [u.user_id for u in world.users if u.inactive]
    world.notable["users_deleted"] = [u.user_id for u in world.users if u.deleted]
    world.notable["dangling_candidates"] = [p.candidate_id for p in world.placements if p.bad == "dangling_candidate"]


__all__ = [
    "ACCOUNT_CURRENCY",
    "BAD_KINDS",
    "BOUNDARY_CASES",
    "DEFAULT_TODAY",
    "PLACEMENT_TYPES",
    "STATUSES",
    "UNKNOWN_CURRENCY",
    "UNKNOWN_TYPE",
    "Address",
    "AgencyWorld",
    "Candidate",
    "Company",
    "Contact",
    "Placement",
    "User",
    "ascii_slug",
    "generate_agency",
    "money",
]
