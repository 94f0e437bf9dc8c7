"""JobAdder API v2: constants, lenient parsing and the pure mapping rules of the connector.

Facts marked [inferred] come from ``shared/contracts/jobadder.md`` where JobAdder documents
nothing: they are constants here so that they are easy to change.
"""

import re
from datetime import date

from odoo.addons.recruitment_sync.services.provider import PayloadError, naive_utc

AUTHORIZE_URL = "https://id.jobadder.com/connect/authorize"
TOKEN_URL = "https://id.jobadder.com/connect/token"
API_URL = "https://api.jobadder.com/v2"  # the token's ``api`` field wins (regional instances)
# Where a placement opens in JobAdder's web app [inferred: no URL is documented].
APP_PLACEMENT_URL = "https://app.jobadder.com/placements/{placement_id}"
SCOPES = ("read", "offline_access")
TOKEN_EXTRA_FIELDS = ("api", "instance", "account")
# No limits are published; a third-party client paces at 120 calls a minute [inferred].
RATE_WINDOWS = ((120, 60),)
MAX_CONCURRENT = 4
MAX_PAGE_SIZE = 1000
# Re-read this much before the watermark: clock skew between JobAdder and us loses nothing.
OVERLAP_MINUTES = 10

PLACEMENT_TYPES = {
    "Permanent": "permanent",
    "Contract": "contract",
    "Temporary": "temporary",
    "Credit": "credit",
}
RATE_PER = {"Hour": "hour", "Day": "day", "Week": "week", "Month": "month"}

_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$",
)


def parse_datetime(value, field="date-time"):
    """JobAdder date-times as naive UTC: ``Z``, an offset, or no zone at all (= UTC)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{field} is not a date-time: {value!r}")
    match = _DATETIME.match(value.strip())
    if not match:
        raise PayloadError(f"{field} is not a date-time: {value!r}")
    day, clock, fraction, zone = match.groups()
    text = f"{day}T{clock}{fraction or ''}"
    if zone and zone != "Z":
        text += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return naive_utc(text, value, f"{field} is not a date-time")


def parse_date(value, field="date"):
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{field} is not a date: {value!r}")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError as error:
        raise PayloadError(f"{field} is not a date: {value!r}") from error


def format_filter_datetime(moment):
    """A date filter value (UTC, no zone suffix: "UTC assumed")."""
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


def placement_type(payload):
    raw = payload.get("type")
    if raw not in PLACEMENT_TYPES:
        raise PayloadError(f"Unknown placement type {raw!r} (expected one of {', '.join(PLACEMENT_TYPES)}).")
    return PLACEMENT_TYPES[raw]


def placement_date(payload):
    """The placement date of the load rules: the start date, for every type (documented)."""
    return parse_date(payload.get("startDate"), "startDate")


def in_initial_load(summary, today):
    """Whether the initial load imports this placement (from its list summary).

    Approved placements only, except Permanent ones whose placement date is before today and
    other types whose end date is before today. A date equal to today is not in the past.
    """
    if not summary.get("approved"):
        return False
    kind = placement_type(summary)
    if kind == "permanent":
        start = placement_date(summary)
        return not (start and start < today)
    end = parse_date(summary.get("endDate"), "endDate")
    return not (end and end < today)


def full_name(payload):
    parts = [payload.get("firstName"), payload.get("lastName")]
    return " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())


def address_values(address, countries):
    """res.partner address values from an ``AddressModel``; ``countries`` maps ISO code → id."""
    if not isinstance(address, dict):
        return {}
    street = address.get("street") or []
    if isinstance(street, str):
        street = [street]
    values = {
        "street": street[0] if street else False,
        "street2": ", ".join(street[1:]) or False,
        "city": address.get("city") or False,
        "zip": address.get("postalCode") or False,
    }
    code = (address.get("countryCode") or "").upper()
    if code in countries:
        values["country_id"] = countries[code]
    return values


def company_values(payload, countries):
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PayloadError("The company has no name.")
    return {
        "name": name.strip(),
        "is_company": True,
        **address_values(payload.get("primaryAddress"), countries),
    }


def person_values(payload, what):
    name = full_name(payload)
    if not name:
        raise PayloadError(f"The {what} has neither a first nor a last name.")
    email = payload.get("email")
    return {
        "name": name,
        "email": email.strip() if isinstance(email, str) and email.strip() else False,
        "phone": payload.get("phone") or False,
        "mobile": payload.get("mobile") or False,
    }


def number(value, field):
    if value in (None, ""):
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{field} is not a number: {value!r}")
    return float(value)


def placement_values(detail):
    """The placement's own fields (not its relations) from ``GET /placements/{id}``."""
    salary = detail.get("salary") or {}
    rate = detail.get("contractRate") or {}
    billing = detail.get("billing") or {}
    status = detail.get("status") or {}
    approved_at = parse_datetime(detail.get("approvedAt"), "approvedAt")
    start = parse_date(detail.get("startDate"), "startDate")
    end = parse_date(detail.get("endDate"), "endDate")
    kind = placement_type(detail)
    data_note = False
    if start and end and end < start:
        if kind != "permanent":
            raise PayloadError(f"The end date {end} is before the start date {start}: correct the dates in JobAdder.")
        # A Permanent placement has no end: its end date never blocks the import.
        data_note = (
            f"In JobAdder the end date {end} is before the start date {start}; "
            "a Permanent placement's end date is kept as it is and not used."
        )
    return {
        "job_title": (detail.get("jobTitle") or "").strip() or False,
        "placement_type": kind,
        "jobadder_data_note": data_note,
        "jobadder_status": status.get("name") or False,
        "approved": bool(detail.get("approved")),
        "approved_at": approved_at,
        "start_date": start,
        "end_date": end,
        "salary": number(salary.get("base"), "salary.base"),
        "fee": number(salary.get("fee"), "salary.fee"),
        "rate_per": RATE_PER.get(rate.get("ratePer")) or False,
        "client_rate": number(rate.get("clientRate"), "contractRate.clientRate"),
        "candidate_rate": number(rate.get("candidateRate"), "contractRate.candidateRate"),
        "hours_per_week": number(rate.get("hoursPerWeek"), "contractRate.hoursPerWeek"),
        "days_per_week": number(rate.get("daysPerWeek"), "contractRate.daysPerWeek"),
        "fee_split_type": {"Fixed": "fixed", "Percent": "percent"}.get(detail.get("feeSplit")) or False,
        "billing_email": billing.get("email") or False,
        "billing_order_ref": billing.get("orderRef") or False,
        "billing_terms": billing.get("terms") or False,
    }


def related_ids(detail):
    """The ids a placement references: {"company": …, "contact": …, "candidate": …, "user": …}."""
    ids = {"company": set(), "contact": set(), "candidate": set(), "user": set()}
    for key, id_field in (("company", "companyId"), ("contact", "contactId"), ("candidate", "candidateId")):
        node = detail.get(key)
        if isinstance(node, dict) and node.get(id_field) is not None:
            ids[key].add(node[id_field])
    for person in [detail.get("owner"), *(detail.get("recruiters") or [])]:
        if isinstance(person, dict) and person.get("userId") is not None:
            ids["user"].add(person["userId"])
    return ids
