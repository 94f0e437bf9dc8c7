"""The fake Xero: identity (consent with organisations, PKCE, rotation, revocation), /connections,
the Accounting API (reads, per-element write results, totals, states, payments, allocations),
idempotency keys and faults after commit, rate limits on the manual clock, date forms, and the
validation against Xero's official OpenAPI definitions; the world generator; the sandbox command."""

import json
import re
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from tests.fakes import openapi
from tests.fakes.command import served_alone
from tests.fakes.oauth2 import ManualClock, pkce_challenge
from tests.fakes.openapi import ContractMissing, contract_file
from tests.fakes.xero import (
    BROAD_SCOPES_DEFAULT,
    GRANULAR_SCOPES_DEFAULT,
    MESSAGES,
    FakeXero,
    WhereClause,
    choose_organisations,
    decode_jwt,
    document_totals,
    line_totals,
    msdate,
    parse_msdate,
    parse_request_date,
)
from tests.fakes.xero_data import generate_world

UTC = timezone.utc
REDIRECT = "https://odoo.example.com/recruitment_sync/oauth/callback"
D = Decimal


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def world():
    return generate_world(seed=3)


@pytest.fixture
def fake(world, clock):
    with FakeXero(world=world, clock=clock, registered_redirect_uris=[REDIRECT]) as running:
        yield running
        # Every answer of every test was checked against the official definitions (when present).
        assert running.violations == [], running.violations


@pytest.fixture
def lenient(world, clock):
    """A fake that does not validate: for requests the definitions forbid (no tenant header, …)."""
    with FakeXero(world=world, clock=clock, validate=False) as running:
        yield running


@pytest.fixture
def api(fake):
    client = Api(fake, fake.issue_token())
    yield client
    client.session.close()


class Api:
    """A requests session for one tenant: bearer token, tenant header, Accept: application/json."""

    def __init__(self, fake, token, tenant_id=None):
        self.fake = fake
        self.token = token
        self.session = requests.Session()
        self.session.headers.update(fake.headers(token, tenant_id))

    def call(self, method, path, body=None, params=None, headers=None, timeout=10):
        extra = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            extra.setdefault("Content-Type", "application/json")
        url = f"{self.fake.api_url}{path}"
        return self.session.request(method, url, data=data, params=params, headers=extra, timeout=timeout)

    def get(self, path, params=None, headers=None):
        return self.call("GET", path, params=params, headers=headers)

    def ok(self, path, params=None, headers=None):
        answer = self.get(path, params, headers)
        assert answer.status_code == 200, (answer.status_code, answer.text)
        return answer.json()

    def write(self, method, path, body, summarize=False, params=None, **kwargs):
        query = {"summarizeErrors": "false"} if not summarize else {}
        query.update(params or {})
        return self.call(method, path, body, params=query, **kwargs)

    def put_invoices(self, *invoices, params=None, **kwargs):
        answer = self.write("PUT", "/Invoices", {"Invoices": list(invoices)}, params=params, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()["Invoices"]


def customer(fake, index=0, tenant_id=None):
    """An active customer of the tenant (by position)."""
    found = [c for c in fake.contacts(tenant_id) if c["ContactStatus"] == "ACTIVE" and c["IsCustomer"]]
    return found[index]


def invoice(fake, number, lines=None, **fields):
    """An ACCREC invoice request: AUTHORISED, dated in an open period, one 20% line by default."""
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": customer(fake)["ContactID"]},
        "Date": "2026-11-20",
        "DueDate": "2026-12-20",
        "InvoiceNumber": number,
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": lines
        or [
            {
                "Description": "Placement fee",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
        **fields,
    }


def messages(element):
    return [error["Message"] for error in element.get("ValidationErrors", [])]


# --------------------------------------------------------------------------------- OAuth
def authorize_params(fake, scope=GRANULAR_SCOPES_DEFAULT, **extra):
    return {
        "response_type": "code",
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st4te",
        **extra,
    }


def token_request(fake, basic=True, **form):
    if basic:
        return requests.post(fake.token_url, data=form, auth=(fake.client_id, fake.client_secret), timeout=5)
    return requests.post(
        fake.token_url, data={"client_id": fake.client_id, "client_secret": fake.client_secret, **form}, timeout=5
    )


def exchange(fake, code, **extra):
    return token_request(fake, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, **extra)


def refresh(fake, refresh_token):
    return token_request(fake, basic=False, grant_type="refresh_token", refresh_token=refresh_token)


def test_consent_with_pkce_connects_the_ticked_organisations(fake, world):
    verifier = secrets.token_urlsafe(48)
    params = authorize_params(fake, code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
    page = requests.get(fake.authorize_url, params=params, timeout=5)
    assert page.status_code == 200 and 'name="tenant"' in page.text
    assert all(org.name in page.text for org in world.organisations)
    nz = world.organisations[1].organisation_id
    callback = choose_organisations(fake.authorize_url, tenants=[nz], params=params)
    assert set(callback) == {"code", "state"} and callback["state"] == "st4te"
    assert exchange(fake, callback["code"]).json()["error"] == "invalid_grant"  # no verifier
    callback = choose_organisations(fake.authorize_url, tenants=[nz], params=params)
    wrong = exchange(fake, callback["code"], code_verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    callback = choose_organisations(fake.authorize_url, tenants=[nz], params=params)
    answer = exchange(fake, callback["code"], code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert {"id_token", "access_token", "expires_in", "token_type", "refresh_token", "scope"} <= set(tokens)
    assert tokens["expires_in"] == 1800 and tokens["token_type"] == "Bearer"
    claims = decode_jwt(tokens["access_token"])
    assert claims["exp"] - claims["nbf"] == 1800 and "accounting.invoices" in claims["scope"]
    assert decode_jwt(tokens["id_token"])["email"] == world.user_email
    connections = requests.get(fake.connections_url, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert [c["tenantId"] for c in connections.json()] == [nz]
    assert connections.json()[0]["authEventId"] == claims["authentication_event_id"]
    assert exchange(fake, callback["code"], code_verifier=verifier).json()["error"] == "invalid_grant"  # single use


def test_consent_default_decline_and_scope_errors(fake, world):
    default = choose_organisations(fake.authorize_url, params=authorize_params(fake))  # the pre-ticked one
    tokens = exchange(fake, default["code"]).json()
    assert [c["tenantId"] for c in fake.connections()] == [world.organisations[0].organisation_id]
    assert "refresh_token" in tokens
    none = choose_organisations(fake.authorize_url, tenants=[], params=authorize_params(fake))
    assert len(fake.connections()) == 1 and exchange(fake, none["code"]).status_code == 200
    assert len(fake.connections()) == 1  # nothing ticked, nothing more connected
    declined = choose_organisations(fake.authorize_url, decision="decline", params=authorize_params(fake))
    assert declined == {"error": "access_denied", "state": "st4te"}
    for scope in ("", "openid accounting.everything"):
        answer = choose_organisations(fake.authorize_url, params=authorize_params(fake, scope=scope))
        assert answer["error"] == "invalid_scope", scope
    broad = choose_organisations(fake.authorize_url, params=authorize_params(fake, scope=BROAD_SCOPES_DEFAULT))
    assert "code" in broad  # an older app may use the broad set
    fake.granular_only = True  # an app created after 2 March 2026
    answer = choose_organisations(fake.authorize_url, params=authorize_params(fake, scope=BROAD_SCOPES_DEFAULT))
    assert answer["error"] == "invalid_scope"
    no_offline = exchange(
        fake,
        choose_organisations(fake.authorize_url, params=authorize_params(fake, scope="openid accounting.settings"))[
            "code"
        ],
    )
    assert "refresh_token" not in no_offline.json()


def test_refresh_rotates_with_a_grace_period_and_idles_out_after_60_days(fake, clock):
    first = fake.issue_token()
    second = refresh(fake, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    # The answer was lost: the old token works again within 30 minutes and gives the same answer.
    clock.advance(600)
    assert refresh(fake, first["refresh_token"]).json() == second
    clock.advance(1300)  # 31 minutes after the rotation
    late = refresh(fake, first["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    third = refresh(fake, second["refresh_token"]).json()
    assert refresh(fake, second["refresh_token"]).json() == third  # within the grace
    fourth = refresh(fake, third["refresh_token"]).json()
    assert refresh(fake, second["refresh_token"]).json()["error"] == "invalid_grant"  # its successor was used
    clock.advance(59 * 86400)
    fifth = refresh(fake, fourth["refresh_token"])
    assert fifth.status_code == 200
    clock.advance(60 * 86400)
    assert refresh(fake, fifth.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_revocation_ends_the_grant_and_removes_every_connection(fake, api):
    assert len(fake.connections()) == 2
    answer = requests.post(
        fake.revoke_url, data={"token": api.token["refresh_token"]}, auth=(fake.client_id, fake.client_secret)
    )
    assert answer.status_code == 200
    assert fake.connections() == []
    assert refresh(fake, api.token["refresh_token"]).json()["error"] == "invalid_grant"
    denied = api.get("/Organisation")
    assert denied.status_code == 401 and denied.json()["Detail"] == "AuthorizationUnsuccessful"


def test_connections_filter_and_disconnect(fake, world):
    first = fake.issue_token(tenants=[world.organisations[0].organisation_id])
    second = fake.issue_token(tenants=[world.organisations[1].organisation_id])
    bearer = {"Authorization": f"Bearer {second['access_token']}"}
    assert requests.get(fake.connections_url).status_code == 401
    listed = requests.get(fake.connections_url, headers=bearer).json()
    assert len(listed) == 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}", c["createdDateUtc"]) for c in listed)
    event = decode_jwt(first["access_token"])["authentication_event_id"]
    only = requests.get(fake.connections_url, params={"authEventId": event}, headers=bearer).json()
    assert [c["tenantId"] for c in only] == [world.organisations[0].organisation_id]
    uk = only[0]["id"]
    assert requests.delete(f"{fake.connections_url}/{uk}", headers=bearer).status_code == 204
    assert requests.delete(f"{fake.connections_url}/{uk}", headers=bearer).status_code == 404
    # The grant still works for the other organisation; the disconnected one is refused.
    assert Api(fake, first, world.organisations[1].organisation_id).get("/Organisation").status_code == 200
    refused = Api(fake, first, world.organisations[0].organisation_id).get("/Organisation")
    assert refused.status_code == 403 and refused.json()["Detail"] == "AuthenticationUnsuccessful"


def test_accounting_calls_need_token_tenant_and_scope(lenient, clock):
    fake = lenient
    bare = requests.get(f"{fake.api_url}/Organisation", headers={"Accept": "application/json"})
    assert bare.status_code == 401 and bare.json()["Title"] == "Unauthorized"
    token = fake.issue_token()
    headers = {k: v for k, v in fake.headers(token).items() if k != "xero-tenant-id"}
    no_tenant = requests.get(f"{fake.api_url}/Organisation", headers=headers)
    assert no_tenant.status_code == 403
    unknown = Api(fake, token, "00000000-0000-0000-0000-000000000000").get("/Organisation")
    assert unknown.status_code == 403 and unknown.json()["Detail"] == "AuthenticationUnsuccessful"
    settings_only = Api(fake, fake.issue_token("accounting.settings.read"))
    assert settings_only.get("/TaxRates").status_code == 200
    assert settings_only.get("/Contacts").status_code == 403
    read_only = Api(fake, fake.issue_token("accounting.contacts.read accounting.invoices.read"))
    assert read_only.get("/Invoices").status_code == 200
    assert read_only.write("PUT", "/Contacts", {"Contacts": [{"Name": "New Ltd"}]}).status_code == 403
    assert read_only.get("/Payments").status_code == 403  # payments need accounting.payments(.read)
    broad = Api(fake, fake.issue_token(BROAD_SCOPES_DEFAULT))
    for path in ("/Invoices", "/CreditNotes", "/Payments", "/Contacts", "/Accounts"):
        assert broad.get(path).status_code == 200, path
    clock.advance(1800)
    expired = broad.get("/Invoices")
    assert expired.status_code == 401 and expired.json()["Detail"].startswith("TokenExpired: token expired at ")


# ------------------------------------------------------------------------------ settings
def test_organisation_has_the_deep_link_short_code_and_lock_dates(api, fake, world):
    org = api.ok("/Organisation")["Organisations"][0]
    uk = world.organisations[0]
    assert org["OrganisationID"] == fake.tenant_id == uk.organisation_id
    assert re.fullmatch(r"![A-Za-z0-9]{5}", org["ShortCode"]) and org["ShortCode"] == uk.short_code
    assert org["BaseCurrency"] == "GBP" and org["CountryCode"] == "GB" and org["Version"] == "UK"
    assert parse_msdate(org["PeriodLockDate"]).date() == uk.period_lock_date
    fake.set_lock_dates(date(2026, 10, 31), None)
    org = api.ok("/Organisation")["Organisations"][0]
    assert parse_msdate(org["PeriodLockDate"]).date() == date(2026, 10, 31) and "EndOfYearLockDate" not in org
    nz = Api(fake, api.token, world.organisations[1].organisation_id).ok("/Organisation")["Organisations"][0]
    assert nz["BaseCurrency"] == "NZD" and nz["ShortCode"] != org["ShortCode"]


def test_tax_rates_accounts_and_currencies(api, fake):
    rates = api.ok("/TaxRates")["TaxRates"]
    by_type = {rate["TaxType"]: rate for rate in rates}
    assert by_type["OUTPUT2"]["EffectiveRate"] == 20.0 and by_type["OUTPUT2"]["ReportTaxType"] == "OUTPUT"
    # Same rate and report type, different TaxType: what a mapping must not guess between.
    assert (by_type["TAX002"]["EffectiveRate"], by_type["TAX002"]["ReportTaxType"]) == (20.0, "OUTPUT")
    assert by_type["TAX001"]["Status"] == "ARCHIVED"
    active = api.ok("/TaxRates", {"where": 'Status=="ACTIVE"'})["TaxRates"]
    assert "TAX001" not in {rate["TaxType"] for rate in active} and len(active) == len(rates) - 1
    accounts = api.ok("/Accounts")["Accounts"]
    bank = next(a for a in accounts if a.get("Code") == "090")
    assert bank["AccountID"] == fake.organisation().notable["bank_account_id"] and bank["Type"] == "BANK"
    assert {"200", "260"} <= {a.get("Code") for a in accounts if a["Class"] == "REVENUE"}
    banks = api.ok("/Accounts", {"where": 'Type=="BANK"'})["Accounts"]
    assert {a["AccountID"] for a in banks} == set(fake.organisation().notable["bank_accounts"])
    assert any("Code" not in a for a in banks)  # a bank account may have no code
    currencies = api.ok("/Currencies")["Currencies"]
    assert [c["Code"] for c in currencies] == ["GBP", "EUR", "USD"]


# ------------------------------------------------------------------------------ contacts
def test_contacts_filters_archived_where_ids_and_search(api, fake):
    notable = fake.organisation().notable
    everyone = fake.contacts()
    listed = api.ok("/Contacts")["Contacts"]
    assert "pagination" not in api.ok("/Contacts")
    assert {c["ContactID"] for c in listed} == {c["ContactID"] for c in everyone if c["ContactStatus"] != "ARCHIVED"}
    with_archived = api.ok("/Contacts", {"includeArchived": "true"})["Contacts"]
    assert len(with_archived) == len(everyone) and set(notable["archived"]) <= {c["ContactID"] for c in with_archived}
    customers = api.ok("/Contacts", {"where": "IsCustomer==true", "includeArchived": "true"})["Contacts"]
    assert all(c["IsCustomer"] for c in customers) and not set(notable["suppliers_only"]) & {
        c["ContactID"] for c in customers
    }
    numbered = fake.contacts()[0]
    found = api.ok("/Contacts", {"where": f'ContactNumber=="{numbered["ContactNumber"]}"'})["Contacts"]
    assert [c["ContactID"] for c in found] == [numbered["ContactID"]]
    ids = [c["ContactID"] for c in listed[:3]]
    assert [c["ContactID"] for c in api.ok("/Contacts", {"IDs": ",".join(ids)})["Contacts"]] == ids
    name = listed[1]["Name"]
    assert listed[1]["ContactID"] in {
        c["ContactID"] for c in api.ok("/Contacts", {"searchTerm": name.upper()})["Contacts"]
    }
    twins = api.ok("/Contacts", {"where": f'Name=="{fake.contacts()[-1]["Name"]}"', "includeArchived": "true"})
    assert {c["ContactID"] for c in twins["Contacts"]} == set(notable["duplicate_name"])
    assert api.ok(f"/Contacts/{numbered['ContactNumber']}")["Contacts"][0]["ContactID"] == numbered["ContactID"]
    missing = api.get("/Contacts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("text/plain")
    bad = api.get("/Contacts", {"where": "Name=="})
    assert bad.status_code == 400 and bad.json()["Type"] == "QueryParseException"


def test_contacts_paging_and_summary(api, fake):
    total = len([c for c in fake.contacts() if c["ContactStatus"] != "ARCHIVED"])
    seen, page = [], 1
    while True:
        answer = api.ok("/Contacts", {"page": page, "pageSize": 7})
        assert answer["pagination"] == {
            "page": page,
            "pageSize": 7,
            "pageCount": -(-total // 7),
            "itemCount": total,
        }
        seen += [c["ContactID"] for c in answer["Contacts"]]
        if len(answer["Contacts"]) < 7:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total
    assert api.ok("/Contacts", {"page": 1, "pageSize": 5000})["pagination"]["pageSize"] == 1000
    assert api.ok("/Contacts", {"page": 1})["pagination"]["pageSize"] == 100
    full = api.ok("/Contacts", {"page": 1})["Contacts"][0]
    light = api.ok("/Contacts", {"page": 1, "summaryOnly": "true"})["Contacts"][0]
    assert "Addresses" in full and "Balances" in full and "Addresses" not in light and "Balances" not in light


def test_contacts_if_modified_since_in_every_date_form(api, fake, clock):
    clock.advance(600)
    before = datetime.fromtimestamp(clock(), UTC)
    clock.advance(10)
    target = fake.contacts()[4]["ContactID"]
    fake.touch_contact(target, EmailAddress="new@acme.example")
    forms = (
        before.strftime("%Y-%m-%dT%H:%M:%S"),  # UTC without a zone
        before.astimezone(timezone(timedelta(hours=-8))).isoformat(),  # with an offset
    )
    for since in forms:
        changed = api.ok("/Contacts", headers={"If-Modified-Since": since})["Contacts"]
        assert [c["ContactID"] for c in changed] == [target], since
    later = (before + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%S")
    assert api.ok("/Contacts", headers={"If-Modified-Since": later})["Contacts"] == []
    updated = parse_msdate(api.ok(f"/Contacts/{target}")["Contacts"][0]["UpdatedDateUTC"])
    assert updated == datetime.fromtimestamp(clock(), UTC)


def test_if_modified_since_as_an_http_date(lenient, clock):
    """Xero's definition says date-time (a validating fake refuses an HTTP date); parsed all the same."""
    api = Api(lenient, lenient.issue_token())
    before = datetime.fromtimestamp(clock(), UTC)
    clock.advance(5)
    target = lenient.contacts()[4]["ContactID"]
    lenient.touch_contact(target, Name="Renamed Ltd")
    http_date = {"If-Modified-Since": before.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    assert [c["ContactID"] for c in api.ok("/Contacts", headers=http_date)["Contacts"]] == [target]
    assert api.get("/Contacts", headers={"If-Modified-Since": "last Tuesday"}).status_code == 400


def test_contact_writes_give_per_element_results(api, fake):
    taken = customer(fake)["Name"]
    body = {
        "Contacts": [
            {"Name": "Northwind Staffing Ltd", "ContactNumber": "ODOO-RP-42", "EmailAddress": "ap@northwind.example"},
            {"Name": taken.upper()},
            {"Name": "  ", "EmailAddress": "not-an-email"},
        ]
    }
    answer = api.write("PUT", "/Contacts", body)
    assert answer.status_code == 200, answer.text
    ok, clash, empty = answer.json()["Contacts"]
    assert ok["StatusAttributeString"] == "OK" and ok["HasValidationErrors"] is False and ok["ContactID"]
    assert clash["StatusAttributeString"] == "ERROR" and clash["HasValidationErrors"] is True
    assert messages(clash) == [MESSAGES["contact_name_unique"].format(name=taken.upper())]
    assert messages(empty) == [MESSAGES["contact_name_required"], MESSAGES["email"]]
    # Summarised: 400 with the failing elements only, yet the valid ones are created (§5.3).
    summarized = api.write("PUT", "/Contacts", {"Contacts": [{"Name": "Valid Ltd"}, {"Name": taken}]}, summarize=True)
    assert summarized.status_code == 400
    error = summarized.json()
    assert (error["ErrorNumber"], error["Type"]) == (10, "ValidationException")
    assert [e["Name"] for e in error["Elements"]] == [taken]
    assert any(c["Name"] == "Valid Ltd" for c in fake.contacts())
    # POST: update by id (archive), upsert by ContactNumber.
    # Single-record POSTs have no summarizeErrors parameter in the definition: errors are a 400.
    archived = api.write("POST", f"/Contacts/{ok['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]}, True)
    assert archived.json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    upsert = api.write("POST", "/Contacts", {"Contacts": [{"ContactNumber": "ODOO-RP-42", "Name": "Northwind Ltd"}]})
    assert upsert.json()["Contacts"][0]["ContactID"] == ok["ContactID"]


def test_a_bare_object_is_no_data_processed(lenient):
    api = Api(lenient, lenient.issue_token())
    bare = api.call("PUT", "/Contacts", {"Name": "Bare object"}, params={"summarizeErrors": "false"})
    assert bare.status_code == 400 and bare.json()["ErrorNumber"] == 17
    assert bare.json()["Type"] == "NoDataProcessedException" and "Contact data" in bare.json()["Message"]


# ------------------------------------------------------------------------------ invoices
def test_line_and_document_totals_round_per_line():
    # Three lines of 1.13 at 20%: 0.226 each rounds to 0.23 -> 0.69 (not round(3.39 * 0.2) = 0.68).
    lines = []
    for _ in range(3):
        amount, tax, discount = line_totals({"Quantity": 1, "UnitAmount": 1.13}, 20, "Exclusive")
        lines.append({"LineAmount": amount, "TaxAmount": tax, "_discount": discount})
    assert document_totals(lines, "Exclusive") == {
        "SubTotal": D("3.39"),
        "TotalTax": D("0.69"),
        "Total": D("4.08"),
        "TotalDiscount": D("0.00"),
    }
    assert line_totals({"Quantity": 3, "UnitAmount": 10.0049}, 20, "Exclusive", unitdp=4)[:2] == (D("30.01"), D("6.00"))
    assert line_totals({"Quantity": 3, "UnitAmount": 10.0049}, 20, "Exclusive")[:2] == (D("30.00"), D("6.00"))
    assert line_totals({"Quantity": 1, "UnitAmount": 119.99}, 20, "Inclusive")[:2] == (D("119.99"), D("20.00"))
    assert line_totals({"Quantity": 2, "UnitAmount": 50, "DiscountRate": 12.5}, 20, "Exclusive") == (
        D("87.50"),
        D("17.50"),
        D("12.50"),
    )
    assert line_totals({"Quantity": 2, "UnitAmount": 50, "DiscountAmount": 0.01}, 15, "Exclusive")[:2] == (
        D("99.99"),
        D("15.00"),
    )
    assert line_totals({"Quantity": 2, "UnitAmount": 50}, 20, "NoTax")[:2] == (D("100.00"), D("0.00"))


def test_invoice_totals_exclusive_inclusive_discounts_and_unitdp(api, fake):
    lines = [
        {"Description": "Week 1", "Quantity": 37.5, "UnitAmount": 18.4567, "AccountCode": "202", "TaxType": "OUTPUT2"},
        {"Description": "Fee", "Quantity": 1, "UnitAmount": 1500, "DiscountRate": 10, "AccountCode": "201"},
        {
            "Description": "Zero-rated",
            "Quantity": 3,
            "UnitAmount": 1.13,
            "AccountCode": "200",
            "TaxType": "ZERORATEDOUTPUT",
        },
        {"Description": "Note line only"},
    ]
    exclusive, inclusive, no_tax = api.put_invoices(
        invoice(fake, "EX-1", lines),
        invoice(fake, "IN-1", lines, LineAmountTypes="Inclusive"),
        invoice(fake, "NT-1", lines, LineAmountTypes="NoTax"),
        params={"unitdp": 4},
    )
    # 37.5 x 18.4567 = 692.13 (tax 138.43); 1500 less 10% = 1350 (account 201's default OUTPUT2: 270); 3.39, 0.
    assert [line["LineAmount"] for line in exclusive["LineItems"]] == [692.13, 1350.0, 3.39, 0.0]
    assert [line["TaxAmount"] for line in exclusive["LineItems"]] == [138.43, 270.0, 0.0, 0.0]
    assert exclusive["LineItems"][0]["UnitAmount"] == 18.4567 and exclusive["LineItems"][1]["TaxType"] == "OUTPUT2"
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"]) == (2045.52, 408.43, 2453.95)
    assert exclusive["TotalDiscount"] == 150.0 and exclusive["AmountDue"] == 2453.95
    # Inclusive: tax = round(amount x 20/120) per line; total = sum of amounts.
    assert [line["TaxAmount"] for line in inclusive["LineItems"]] == [115.36, 225.0, 0.0, 0.0]
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (1705.16, 340.36, 2045.52)
    assert (no_tax["TotalTax"], no_tax["Total"]) == (0.0, 2045.52)
    # Without unitdp=4 the unit price is rounded to 2 decimals first (and shown so).
    (rounded,) = api.put_invoices(invoice(fake, "EX-2", lines[:1]))
    assert rounded["LineItems"][0]["UnitAmount"] == 18.46 and rounded["LineItems"][0]["LineAmount"] == 692.25
    shown = api.ok(f"/Invoices/{exclusive['InvoiceID']}")["Invoices"][0]["LineItems"][0]["UnitAmount"]
    assert shown == 18.46  # GET without unitdp shows 2 decimals...
    assert (
        api.ok(f"/Invoices/{exclusive['InvoiceID']}", {"unitdp": 4})["Invoices"][0]["LineItems"][0]["UnitAmount"]
        == 18.4567
    )


def test_invoice_batch_with_invalid_documents(api, fake, world):
    uk = fake.organisation()
    archived = uk.notable["archived"][0]
    batch = [
        invoice(fake, "OK-1"),
        invoice(fake, "INV-0001"),  # taken by an invoice already in Xero
        invoice(fake, "OK-1"),  # taken by the first of this batch
        invoice(fake, "CUR-1", CurrencyCode="JPY"),
        invoice(fake, "LOCK-1", Date="2026-06-15"),
        invoice(fake, "YEAR-1", Date="2026-02-01"),
        invoice(fake, "ARCH-1", Contact={"ContactID": archived}),
        invoice(fake, "NOC-1", Contact={}),
        invoice(fake, "ACC-1", [{"Description": "x", "Quantity": 1, "UnitAmount": 5, "AccountCode": "999"}]),
        invoice(fake, "BANK-1", [{"Description": "x", "Quantity": 1, "UnitAmount": 5, "AccountCode": "090"}]),
        invoice(fake, "TAX-1", [{"Description": "x", "UnitAmount": 5, "AccountCode": "200", "TaxType": "TAX001"}]),
        invoice(fake, "INP-1", [{"Description": "x", "UnitAmount": 5, "AccountCode": "200", "TaxType": "INPUT2"}]),
        invoice(fake, "NOACC-1", [{"Description": "x", "Quantity": 1, "UnitAmount": 5}]),
        invoice(
            fake,
            "DISC-1",
            [{"Description": "x", "Quantity": 1, "UnitAmount": 5, "DiscountRate": 120, "AccountCode": "200"}],
        ),
        invoice(fake, "PAID-1", Status="PAID"),
        invoice(fake, "DATE-1", Date="31/12/2026"),
        invoice(fake, "EUR-1", CurrencyCode="EUR"),
    ]
    results = api.put_invoices(*batch)
    by_number = {}
    for element in results:
        by_number.setdefault(element["InvoiceNumber"], []).append(element)
    assert by_number["OK-1"][0]["StatusAttributeString"] == "OK"
    assert messages(by_number["OK-1"][1]) == [MESSAGES["number_unique"]]
    assert messages(by_number["INV-0001"][0]) == ["Invoice # must be unique."]
    assert messages(by_number["CUR-1"][0]) == ["Organisation is not subscribed to currency JPY"]
    assert messages(by_number["LOCK-1"][0]) == [
        "The document date cannot be before the period lock date, currently set at 30-Jun-2026"
    ]
    assert messages(by_number["YEAR-1"][0]) == [MESSAGES["year_lock"].format(date="31-Mar-2026")]
    assert messages(by_number["ARCH-1"][0]) == [MESSAGES["contact_archived"]]
    assert messages(by_number["NOC-1"][0]) == [MESSAGES["contact_missing"]]
    assert messages(by_number["ACC-1"][0]) == [MESSAGES["account_code"].format(code="999")]
    assert messages(by_number["BANK-1"][0]) == [MESSAGES["account_code"].format(code="090")]
    assert messages(by_number["TAX-1"][0]) == [MESSAGES["tax_type"].format(code="TAX001")]
    assert messages(by_number["INP-1"][0]) == ["The TaxType code 'INPUT2' cannot be used with account code '200'."]
    assert messages(by_number["NOACC-1"][0]) == [MESSAGES["account_required"]]
    assert messages(by_number["DISC-1"][0]) == [MESSAGES["discount_too_big"]]
    assert messages(by_number["PAID-1"][0]) == [MESSAGES["not_creatable"]]
    assert messages(by_number["DATE-1"][0]) == [MESSAGES["date"].format(value="31/12/2026")]
    assert all(e["HasErrors"] for number, es in by_number.items() for e in es if number not in ("OK-1", "EUR-1"))
    eur = by_number["EUR-1"][0]
    assert eur["StatusAttributeString"] == "OK" and eur["CurrencyCode"] == "EUR" and eur["CurrencyRate"] == 1.17
    stored = {i["InvoiceNumber"] for i in fake.invoices()}
    assert stored == {"INV-0001", "INV-0002", "INV-0003", "OK-1", "EUR-1"}
    assert fake.duplicates()["Invoices"] == {}


def test_invoice_contact_by_number_or_name_and_inline_creation(api, fake):
    numbered = fake.contacts()[0]
    by_number, by_name, new = api.put_invoices(
        invoice(fake, "C-1", Contact={"ContactNumber": numbered["ContactNumber"]}),
        invoice(fake, "C-2", Contact={"Name": numbered["Name"].lower()}),
        invoice(fake, "C-3", Contact={"Name": "Brand New Client Ltd"}),
    )
    assert by_number["Contact"]["ContactID"] == numbered["ContactID"] == by_name["Contact"]["ContactID"]
    created = next(c for c in fake.contacts() if c["Name"] == "Brand New Client Ltd")
    assert new["Contact"]["ContactID"] == created["ContactID"] and created["IsCustomer"] is True


def test_invoice_lookups_paging_and_line_items(api, fake):
    api.put_invoices(*(invoice(fake, f"INV/2026/{n:05d}") for n in range(1, 6)))
    listed = api.ok("/Invoices")["Invoices"]
    assert len(listed) == 8 and all("LineItems" not in i for i in listed)  # no lines unless paged
    paged = api.ok("/Invoices", {"page": 1, "pageSize": 3})
    assert len(paged["Invoices"]) == 3 and all(i["LineItems"] for i in paged["Invoices"])
    assert paged["pagination"]["pageCount"] == 3
    wanted = "INV/2026/00002,INV/2026/00004"
    assert [i["InvoiceNumber"] for i in api.ok("/Invoices", {"InvoiceNumbers": wanted})["Invoices"]] == wanted.split(
        ","
    )
    one = api.ok("/Invoices", {"where": 'InvoiceNumber=="INV/2026/00003"'})["Invoices"]
    assert len(one) == 1
    by_ids = api.ok("/Invoices", {"IDs": one[0]["InvoiceID"]})["Invoices"]
    assert [i["InvoiceNumber"] for i in by_ids] == ["INV/2026/00003"]
    assert len(api.ok("/Invoices", {"Statuses": "AUTHORISED,PAID"})["Invoices"]) == 8
    assert api.ok("/Invoices", {"Statuses": "DRAFT"})["Invoices"] == []
    assert api.ok(f"/Invoices/{one[0]['InvoiceID']}")["Invoices"][0]["LineItems"]
    combined = api.ok("/Invoices", {"where": 'Status=="AUTHORISED" AND (Total>100 || Contact.Name.StartsWith("zz"))'})
    assert len(combined["Invoices"]) == 8
    dated = api.ok("/Invoices", {"where": "Date>=DateTime(2026,11,20)"})["Invoices"]
    assert {i["InvoiceNumber"] for i in dated} == {f"INV/2026/{n:05d}" for n in range(1, 6)}
    assert api.get("/Invoices/00000000-0000-0000-0000-000000000000").status_code == 404
    mine = api.ok("/Invoices", {"createdByMyApp": "true"})["Invoices"]
    assert {i["InvoiceNumber"] for i in mine} == {f"INV/2026/{n:05d}" for n in range(1, 6)}  # not INV-0001..3
    huge = api.write("PUT", "/Invoices", {"Invoices": [invoice(fake, "BIG", Reference="x" * 3_600_000)]})
    assert huge.status_code == 413 and not fake.invoice("BIG")


def test_invoice_updates_follow_xeros_states(api, fake):
    (created,) = api.put_invoices(invoice(fake, "UPD-1"))
    # POST with the same ACCREC number updates it; the lines sent replace the stored ones.
    lines = [{"Description": "Two", "Quantity": 2, "UnitAmount": 100, "AccountCode": "200", "TaxType": "OUTPUT2"}]
    answer = api.write("POST", "/Invoices", {"Invoices": [invoice(fake, "UPD-1", lines, Reference="R2")]})
    updated = answer.json()["Invoices"][0]
    assert updated["InvoiceID"] == created["InvoiceID"] and updated["Total"] == 240.0 and updated["Reference"] == "R2"
    assert len(fake.invoices()) == 4
    fake.pay(created["InvoiceID"], 10)
    refused = api.write("POST", f"/Invoices/{created['InvoiceID']}", {"Invoices": [{"Reference": "R3"}]}, True)
    assert refused.status_code == 400 and messages(refused.json()["Elements"][0]) == [MESSAGES["not_modifiable"]]
    (other,) = api.put_invoices(invoice(fake, "UPD-2"))
    voided = api.write("POST", f"/Invoices/{other['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]}, True).json()
    assert voided["Invoices"][0]["Status"] == "VOIDED" and voided["Invoices"][0]["AmountDue"] == 0.0
    again = api.write("POST", f"/Invoices/{other['InvoiceID']}", {"Invoices": [{"Reference": "late"}]}, True).json()
    assert messages(again["Elements"][0]) == ["Invoice not of valid status for modification"]
    (draft,) = api.put_invoices(invoice(fake, "UPD-3", Status="DRAFT", Date="2026-01-05"))  # drafts ignore locks
    back = api.write("POST", "/Invoices", {"Invoices": [{"InvoiceID": draft["InvoiceID"], "Status": "AUTHORISED"}]})
    assert messages(back.json()["Invoices"][0]) == [MESSAGES["year_lock"].format(date="31-Mar-2026")]


# ------------------------------------------------------------------- credit notes & payments
def credit_note(fake, lines=None, **fields):
    return {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": customer(fake)["ContactID"]},
        "Date": "2026-11-25",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": lines
        or [{"Description": "Refund", "Quantity": 1, "UnitAmount": 50, "AccountCode": "200", "TaxType": "OUTPUT2"}],
        **fields,
    }


def test_credit_notes_and_their_allocation(api, fake):
    (inv,) = api.put_invoices(invoice(fake, "CN-TARGET"))  # 120.00
    answer = api.write(
        "PUT",
        "/CreditNotes",
        {
            "CreditNotes": [
                credit_note(fake, Reference="RINV/1"),
                credit_note(
                    fake,
                    [{"Description": "d", "Quantity": 1, "UnitAmount": 5, "DiscountRate": 5, "AccountCode": "200"}],
                ),
            ]
        },
    )
    credit, refused = answer.json()["CreditNotes"]
    assert credit["Type"] == "ACCRECCREDIT" and credit["Total"] == 60.0 and credit["RemainingCredit"] == 60.0
    assert credit["CreditNoteNumber"].startswith("CN-") and credit["StatusAttributeString"] == "OK"
    assert messages(refused) == [MESSAGES["no_discount_on_credit_notes"]]
    body = {"Allocations": [{"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Amount": 60, "Date": "2026-11-26"}]}
    allocated = api.write("PUT", f"/CreditNotes/{credit['CreditNoteID']}/Allocations", body)
    assert allocated.status_code == 200, allocated.text
    assert allocated.json()["Allocations"][0]["StatusAttributeString"] == "OK"
    after = api.ok(f"/Invoices/{inv['InvoiceID']}")["Invoices"][0]
    assert (after["AmountDue"], after["AmountCredited"], after["Status"]) == (60.0, 60.0, "AUTHORISED")
    assert after["CreditNotes"][0]["CreditNoteID"] == credit["CreditNoteID"]
    cn = api.ok(f"/CreditNotes/{credit['CreditNoteID']}")["CreditNotes"][0]
    assert (cn["RemainingCredit"], cn["Status"]) == (0.0, "PAID") and cn["Allocations"][0]["Amount"] == 60.0
    used_up = api.write("PUT", f"/CreditNotes/{credit['CreditNoteID']}/Allocations", body).json()["Allocations"][0]
    assert messages(used_up) == [MESSAGES["payment_not_authorised"]] and used_up["StatusAttributeString"] == "ERROR"
    (spare,) = api.write("PUT", "/CreditNotes", {"CreditNotes": [credit_note(fake)]}).json()["CreditNotes"]
    over = {"Allocations": [{**body["Allocations"][0], "Amount": 60.01}]}
    too_much = api.write("PUT", f"/CreditNotes/{spare['CreditNoteID']}/Allocations", over).json()["Allocations"][0]
    assert messages(too_much) == [MESSAGES["allocation_exceeds"]]
    other = customer(fake, 1)["ContactID"]
    (foreign,) = api.write(
        "PUT", "/CreditNotes", {"CreditNotes": [credit_note(fake, Contact={"ContactID": other})]}
    ).json()["CreditNotes"]
    mismatch = api.write("PUT", f"/CreditNotes/{foreign['CreditNoteID']}/Allocations", body).json()["Allocations"][0]
    assert messages(mismatch) == [MESSAGES["allocation_mismatch"]]
    # Allocating the rest pays the invoice.
    api.write("PUT", f"/CreditNotes/{spare['CreditNoteID']}/Allocations", body)
    paid = api.ok(f"/Invoices/{inv['InvoiceID']}")["Invoices"][0]
    assert (
        paid["Status"] == "PAID"
        and paid["AmountDue"] == 0.0
        and parse_msdate(paid["FullyPaidOnDate"]).date() == date(2026, 11, 26)
    )


def test_payments_partial_full_refused_and_deleted(api, fake):
    (inv,) = api.put_invoices(invoice(fake, "PAY-1"))  # 120.00
    bank_id = fake.organisation().notable["bank_account_id"]
    first = {
        "Invoice": {"InvoiceID": inv["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-11-28",
        "Amount": 20.5,
        "Reference": "BNK1/0007",
    }
    batch = [
        first,
        {"Invoice": {"InvoiceNumber": "PAY-1"}, "Account": {"AccountID": bank_id}, "Date": "2026-11-29", "Amount": 500},
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Account": {"Code": "200"}, "Date": "2026-11-29", "Amount": 1},
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Account": {"Code": "880"}, "Date": "2026-11-29", "Amount": 1},
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Date": "2026-11-29", "Amount": 1},
        {"Account": {"Code": "090"}, "Date": "2026-11-29", "Amount": 1},
        {"Invoice": {"InvoiceID": inv["InvoiceID"]}, "Account": {"Code": "090"}, "Date": "2026-06-01", "Amount": 1},
    ]
    results = api.write("PUT", "/Payments", {"Payments": batch}).json()["Payments"]
    assert results[0]["StatusAttributeString"] == "OK" and results[0]["PaymentType"] == "ACCRECPAYMENT"
    assert results[0]["Invoice"]["InvoiceID"] == inv["InvoiceID"] and results[0]["Account"]["Code"] == "090"
    assert messages(results[1]) == [MESSAGES["payment_exceeds"]]
    assert messages(results[2]) == [MESSAGES["payment_account"].format(code="200")]
    assert results[3]["StatusAttributeString"] == "OK"  # EnablePaymentsToAccount
    assert messages(results[4]) == [MESSAGES["payment_account_missing"]]
    assert messages(results[5]) == [MESSAGES["payment_target"]]
    assert messages(results[6]) == [MESSAGES["period_lock"].format(date="30-Jun-2026")]
    partial = api.ok(f"/Invoices/{inv['InvoiceID']}")["Invoices"][0]
    assert (partial["AmountPaid"], partial["AmountDue"], partial["Status"]) == (21.5, 98.5, "AUTHORISED")
    rest = {**first, "Amount": 98.5, "Reference": "BNK1/0008"}
    assert api.write("PUT", "/Payments", {"Payments": [rest]}).json()["Payments"][0]["StatusAttributeString"] == "OK"
    paid = api.ok(f"/Invoices/{inv['InvoiceID']}")["Invoices"][0]
    assert paid["Status"] == "PAID" and len(paid["Payments"]) == 3 and paid["FullyPaidOnDate"]
    again = api.write("PUT", "/Payments", {"Payments": [{**first, "Amount": 1}]}).json()["Payments"][0]
    assert messages(again) == [MESSAGES["payment_not_authorised"]]
    deleted = api.write("POST", f"/Payments/{results[0]['PaymentID']}", {"Status": "DELETED"}, True)  # PaymentDelete
    assert deleted.json()["Payments"][0]["Status"] == "DELETED"
    reopened = api.ok(f"/Invoices/{inv['InvoiceID']}")["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"]) == ("AUTHORISED", 20.5)
    listed = api.ok("/Payments")["Payments"]
    assert sorted(p["Status"] for p in listed) == ["AUTHORISED", "AUTHORISED", "DELETED"]


def test_foreign_currency_payment_and_credit_note_refund(api, fake):
    (eur,) = api.put_invoices(invoice(fake, "EUR-9", CurrencyCode="EUR"))
    gbp_bank = {
        "Invoice": {"InvoiceID": eur["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-11-28",
        "Amount": 50,
    }
    eur_bank = {**gbp_bank, "Account": {"Code": "092"}}
    results = api.write("PUT", "/Payments", {"Payments": [gbp_bank, eur_bank]}).json()["Payments"]
    assert [r["StatusAttributeString"] for r in results] == ["OK", "OK"]
    (usd,) = api.put_invoices(invoice(fake, "USD-9", CurrencyCode="USD"))
    wrong = api.write("PUT", "/Payments", {"Payments": [{**eur_bank, "Invoice": {"InvoiceID": usd["InvoiceID"]}}]})
    assert messages(wrong.json()["Payments"][0]) == [MESSAGES["payment_currency"]]
    (credit,) = api.write("PUT", "/CreditNotes", {"CreditNotes": [credit_note(fake)]}).json()["CreditNotes"]
    refund = {
        "CreditNote": {"CreditNoteID": credit["CreditNoteID"]},
        "Account": {"Code": "090"},
        "Date": "2026-11-28",
        "Amount": 60,
    }
    refunded = api.write("PUT", "/Payments", {"Payments": [refund]}).json()["Payments"][0]
    assert refunded["PaymentType"] == "ARCREDITPAYMENT"
    assert api.ok(f"/CreditNotes/{credit['CreditNoteID']}")["CreditNotes"][0]["Status"] == "PAID"


# ------------------------------------------------------------------------------ idempotency
def test_idempotency_key_replays_the_first_answer(api, fake, clock):
    key = {"Idempotency-Key": "odoo:db:account.move:42:abc123"}
    first = api.write("PUT", "/Invoices", {"Invoices": [invoice(fake, "IDEM-1")]}, headers=key)
    second = api.write("PUT", "/Invoices", {"Invoices": [invoice(fake, "IDEM-1")]}, headers=key)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert fake.idempotent_replays == 1 and len([i for i in fake.invoices() if i["InvoiceNumber"] == "IDEM-1"]) == 1
    too_long = api.write(
        "PUT", "/Invoices", {"Invoices": [invoice(fake, "IDEM-3")]}, headers={"Idempotency-Key": "k" * 129}
    )
    assert too_long.status_code == 400 and not fake.invoice("IDEM-3")
    other_body = api.write("PUT", "/Invoices", {"Invoices": [invoice(fake, "IDEM-2")]}, headers=key)
    assert other_body.status_code == 400 and other_body.json()["Message"] == MESSAGES["idempotency_reuse"]
    # Without the key (or after the retention window) the write is applied again: here refused.
    clock.advance(fake.idempotency_retention + 1)
    api = Api(fake, fake.issue_token())
    late = api.write("PUT", "/Invoices", {"Invoices": [invoice(fake, "IDEM-1")]}, headers=key)
    assert messages(late.json()["Invoices"][0]) == [MESSAGES["number_unique"]]


@pytest.mark.parametrize("drop", [False, True])
def test_timeout_after_commit_then_retry_with_the_same_key_gives_no_duplicate(api, fake, drop):
    payment_invoice = api.put_invoices(invoice(fake, "TO-0"))[0]
    payment = {
        "Invoice": {"InvoiceID": payment_invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-11-28",
        "Amount": 10,
    }
    fake.inject_after_commit(delay=3, drop=drop)
    key = {"Idempotency-Key": "pay-1"}
    with pytest.raises((requests.ConnectionError, requests.Timeout)):
        api.write("PUT", "/Payments", {"Payments": [payment]}, headers=key, timeout=0.5)
    assert len(fake.payments()) == 1  # committed on Xero's side
    assert fake.in_flight() == 0  # a late answer does not hold a concurrency slot
    retry = api.write("PUT", "/Payments", {"Payments": [payment]}, headers=key)
    assert retry.status_code == 200 and retry.json()["Payments"][0]["StatusAttributeString"] == "OK"
    assert len(fake.payments()) == 1 and fake.duplicates()["Payments"] == {} and fake.duplicate_count() == 0
    # The same retry without a key is what duplicates a payment.
    api.write("PUT", "/Payments", {"Payments": [payment]})
    assert fake.duplicate_count() == 1 and len(fake.duplicates()["Payments"]) == 1


# ------------------------------------------------------------------------------ rate limits
def test_minute_limit_headers_and_429(api, fake, clock):
    answer = api.get("/Organisation")
    assert answer.headers["X-MinLimit-Remaining"] == "59" and answer.headers["X-DayLimit-Remaining"] == "4999"
    assert answer.headers["X-AppMinLimit-Remaining"] == "9999" and answer.headers["Xero-Correlation-Id"]
    clock.advance(20)
    for _ in range(59):
        assert api.get("/Organisation").status_code == 200
    limited = api.get("/Organisation")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert limited.headers["Retry-After"] == "40" and limited.headers["X-MinLimit-Remaining"] == "0"
    other = Api(fake, api.token, fake.tenant_ids[1])
    assert other.get("/Organisation").status_code == 200  # limits are per tenant
    clock.advance(40)
    assert api.get("/Organisation").status_code == 200
    assert fake.served_429 == {"minute": 1} and fake.count("GET /Organisation") == 63


def test_day_limit_and_app_minute_limit(world, clock):
    with FakeXero(world=world, clock=clock, day_limit=5, app_minute_limit=8) as fake:
        api = Api(fake, fake.issue_token())
        for _ in range(5):
            clock.advance(1)
            assert api.get("/Accounts").status_code == 200
        limited = api.get("/Accounts")
        assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
        assert int(limited.headers["Retry-After"]) == 86400 - 5 + 1 and limited.headers["X-DayLimit-Remaining"] == "0"
        other = Api(fake, api.token, fake.tenant_ids[1])
        for _ in range(3):
            assert other.get("/Accounts").status_code == 200
        app = other.get("/Accounts")
        assert app.status_code == 429 and app.headers["X-Rate-Limit-Problem"] == "appminute"
        clock.advance(86400)
        api = Api(fake, fake.issue_token())
        assert api.get("/Accounts").status_code == 200
        assert fake.served_429 == {"day": 1, "appminute": 1}
        assert fake.violations == []


def test_concurrent_limit(api, fake):
    fake.inject(delay=2, times=5)
    threads = [threading.Thread(target=api.get, args=("/Organisation",)) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while fake.in_flight() < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.in_flight() == 5
    limited = requests.get(f"{fake.api_url}/Organisation", headers=fake.headers(api.token), timeout=5)
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert limited.headers["Retry-After"] == "1"
    for thread in threads:
        thread.join()
    assert fake.in_flight() == 0 and api.get("/Organisation").status_code == 200


def test_injected_429_and_500_and_unenforced_limits(world, clock):
    with FakeXero(world=world, clock=clock, enforce_rate_limits=False) as fake:
        api = Api(fake, fake.issue_token())
        for _ in range(70):
            assert api.get("/Currencies").status_code == 200
        assert api.get("/Currencies").headers["X-MinLimit-Remaining"] == "0"
        fake.throttle("day", retry_after=66975)
        answer = api.get("/Currencies")
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "66975"
        assert answer.headers["X-Rate-Limit-Problem"] == "day" and "X-DayLimit-Remaining" in answer.headers
        fake.inject(500)
        assert api.get("/Currencies").status_code == 500
        assert fake.served_429 == {"day": 1} and fake.violations == []


def test_rate_limits_on_their_own_clock(world, clock):
    wall = ManualClock(0)
    with FakeXero(world=world, clock=clock, rate_limit_clock=wall, minute_limit=2) as fake:
        api = Api(fake, fake.issue_token())
        assert [api.get("/Accounts").status_code for _ in range(3)] == [200, 200, 429]
        clock.advance(120)  # the token clock moves; the limiter's does not
        assert api.get("/Accounts").status_code == 429
        wall.advance(60)
        assert api.get("/Accounts").status_code == 200


# ------------------------------------------------------------------------------ dates
def test_date_forms():
    assert msdate(date(2018, 2, 15)) == "/Date(1518652800000+0000)/"
    moment = datetime(2018, 2, 15, 9, 12, 30, 940000, tzinfo=UTC)
    assert msdate(moment) == "/Date(1518685950940+0000)/" and msdate(moment, offset=False) == "/Date(1518685950940)/"
    assert parse_msdate("/Date(1518685950940+0000)/") == moment
    assert parse_msdate("\\/Date(1419937200000+1300)\\/") == datetime(2014, 12, 30, 11, 0, tzinfo=UTC)
    for text in ("2026-05-01", "2026-05-01T00:00:00", "2026-05-01T23:30:00+13:00", "/Date(1777593600000+0000)/"):
        assert parse_request_date(text) == date(2026, 5, 1), text
    for bad in ("01/05/2026", "2026-13-01", "", "yesterday"):
        with pytest.raises(ValueError):
            parse_request_date(bad)


def test_documents_answer_both_date_forms_and_accept_iso_datetimes(api, fake):
    (created,) = api.put_invoices(invoice(fake, "DT-1", Date="2026-11-20T00:00:00", DueDate="2026-12-20T15:45:00"))
    assert created["Date"] == "/Date(1795132800000+0000)/" and created["DateString"] == "2026-11-20T00:00:00"
    assert (
        parse_msdate(created["DueDate"]).date() == date(2026, 12, 20)
        and created["DueDateString"] == "2026-12-20T00:00:00"
    )
    assert re.fullmatch(r"/Date\(\d+\+0000\)/", created["UpdatedDateUTC"])
    assert re.fullmatch(r"/Date\(\d+\)/", api.ok("/Invoices")["DateTimeUTC"])


# ------------------------------------------------------------------------------ validation
@pytest.fixture
def strict(world, clock):
    """A fake that must validate (skips with the reason when the shared contracts are absent)."""
    try:
        contract_file("xero", "xero_accounting.yaml")
    except ContractMissing as missing:
        pytest.skip(str(missing))
    with FakeXero(world=world, clock=clock, validate=True) as running:
        yield running


def test_validation_catches_invalid_requests_and_answers_500(strict):
    api = Api(strict, strict.issue_token())
    misspelt = invoice(strict, "VAL-1")
    misspelt["InvoiceNumbr"] = misspelt.pop("InvoiceNumber")
    answer = api.write("PUT", "/Invoices", {"Invoices": [misspelt]})
    assert answer.status_code == 500 and "InvoiceNumbr" in answer.json()["Message"]
    assert strict.invoices() == strict.invoices()[:3]  # nothing was created
    read_only = {**invoice(strict, "VAL-2"), "Total": 120.0}
    answer = api.write("PUT", "/Invoices", {"Invoices": [read_only]})
    assert answer.status_code == 500 and "read-only" in answer.json()["Message"]
    assert api.get("/Contacts", params={"pagesize": 10}).status_code == 500  # the spec spells it pageSize
    assert api.get("/Contacts", params={"page": "one"}).status_code == 500
    assert api.get("/Contacts", headers={"If-Modified-Since": "Tue, 01 Dec 2026 09:40:00 GMT"}).status_code == 500
    xml = requests.get(f"{strict.api_url}/Contacts", headers={**strict.headers(api.token), "Accept": "*/*"})
    assert xml.status_code == 500 and "Accept" in xml.json()["Message"]
    empty_key = api.write("PUT", "/Invoices", {"Invoices": [invoice(strict, "VAL-3")]}, headers={"Idempotency-Key": ""})
    assert empty_key.status_code == 500
    no_tenant = requests.get(
        f"{strict.api_url}/Contacts",
        headers={"Authorization": f"Bearer {api.token['access_token']}", "Accept": "application/json"},
    )
    assert no_tenant.status_code == 500 and "xero-tenant-id" in no_tenant.json()["Message"]
    assert len(strict.violations) == 8
    assert strict.violations[0]["path"] == "/api.xro/2.0/Invoices"
    assert len(strict.invoices()) == 3
    strict.violations.clear()


def test_validation_checks_the_fakes_own_answers(strict):
    """The check has teeth on answers too: a record broken in the store makes its GET fail."""
    api = Api(strict, strict.issue_token())
    contact_id = strict.contacts()[0]["ContactID"]
    strict.touch_contact(contact_id, ContactStatus="DORMANT")
    answer = api.get(f"/Contacts/{contact_id}")
    assert answer.status_code == 500 and "DORMANT" in answer.json()["Message"]
    strict.violations.clear()


def test_validation_is_off_with_a_note_without_the_contracts(world, clock, monkeypatch, tmp_path):
    monkeypatch.setattr(openapi, "CONTRACTS", tmp_path / "absent")
    fake = FakeXero(world=world, clock=clock)
    assert fake.openapi is None and "not found" in fake.validation_note
    with pytest.raises(ContractMissing):
        FakeXero(world=world, clock=clock, validate=True)
    monkeypatch.setenv("FAKE_XERO_VALIDATE", "0")
    assert "off" in FakeXero(world=world, clock=clock).validation_note


def test_where_clause_subset():
    record = {
        "Name": "Acme Ltd",
        "IsCustomer": True,
        "Total": 12.5,
        "Contact": {"ContactID": "4f0f9ec0-1cc3-4b2f-bd6d-3c1c6c0e0e5a"},
    }
    assert WhereClause('Name=="acme ltd" AND IsCustomer==true').matches(record)
    assert WhereClause('Contact.ContactID==Guid("4F0F9EC0-1CC3-4B2F-BD6D-3C1C6C0E0E5A")').matches(record)
    assert WhereClause('Name.Contains("ME") && Total>=12.5').matches(record)
    assert not WhereClause('Name!="Acme Ltd" || Total<10').matches(record)
    for bad in ("Name==", 'Name="x"', '(Name=="x"', "Total>>1"):
        with pytest.raises(ValueError):
            WhereClause(bad)


# ------------------------------------------------------------------------------ generator & sandbox
def test_generator_is_deterministic_and_has_what_tests_need():
    first, again, other = generate_world(seed=5), generate_world(seed=5), generate_world(seed=6)
    assert first == again and first.organisations[0].contacts != other.organisations[0].contacts
    uk, nz = first.organisations
    assert uk.base_currency == "GBP" and set(uk.currencies) == {"GBP", "EUR", "USD"} and nz.base_currency == "NZD"
    for key in ("with_contact_number", "with_tax_number", "archived", "suppliers_only", "duplicate_name"):
        assert uk.notable[key], key
    names = [c["Name"].casefold() for c in uk.contacts if c["ContactStatus"] == "ACTIVE"]
    assert len(names) == len(set(names))  # Xero's rule holds in the seed
    assert any(c.get("TaxNumber", "").startswith("GB") for c in uk.contacts)
    assert uk.notable["taken_invoice_numbers"] == ["INV-0001", "INV-0002", "INV-0003"]
    bigger = generate_world(seed=5, customers=500)
    assert len(bigger.organisations[0].contacts) == 501


def test_sandbox_command_serves_until_ctrl_c():
    with served_alone("tests.fakes.xero", "--port", "0", "--seed", "1") as output:
        base = re.search(r"API base:\s+(\S+)", output).group(1)
        access = re.search(r"access token:\s+(\S+)", output).group(1)
        tenant = re.search(r"^\s+([0-9a-f-]{36})\s", output, re.MULTILINE).group(1)
        assert re.search(r"authorize URL:\s+http://127\.0\.0\.1:\d+/identity/connect/authorize", output)
        headers = {"Authorization": f"Bearer {access}", "xero-tenant-id": tenant, "Accept": "application/json"}
        answer = requests.get(f"{base}/Organisation", headers=headers, timeout=5)
        assert answer.status_code == 200 and answer.json()["Organisations"][0]["OrganisationID"] == tenant
