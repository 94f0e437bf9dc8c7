"""The fake QuickBooks Online: Intuit's identity (consent with company choice, Basic client
authentication, rotation with a grace period, expiry, revocation), the v3 API (query language and
paging, CDC window and cap, batch with per-item faults, requestid replay, SyncToken, duplicate
names and numbers, business rules), totals of US and non-US companies, payments and credits,
limits and faults, the XSD validation of requests and answers, the world generator and the
command that serves it alone.

Pure Python: ``python3 -m pytest -p no:odoo tests/test_fake_quickbooks.py`` (or through
``scripts/devstack.py test --no-lint -- tests/test_fake_quickbooks.py``)."""

import base64
import hashlib
import hmac
import json
import random
import re
import threading
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

import pytest
import requests

from tests.fakes import openapi
from tests.fakes.command import served_alone
from tests.fakes.openapi import ContractMissing
from tests.fakes.qbo_xsd import QboSchema
from tests.fakes.quickbooks import (
    ACCOUNTING_SCOPE,
    FakeQuickBooks,
    QboFault,
    choose_company,
    compute_totals,
    fault_body,
    parse_query,
    webhook_delivery,
)
from tests.fakes.quickbooks_data import generate_world

REDIRECT = "https://odoo.example.com/recruitment_sync/oauth/callback"
D = Decimal
CLIENTS = ("Meridian Freight", "Tasman Mining", "Outback Mining", "Summit Foods")


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def world():
    return generate_world(seed=3, clients=CLIENTS)


@pytest.fixture
def fake(world, clock):
    with FakeQuickBooks(world=world, clock=clock, enforce_rate_limits=False) as running:
        yield running
        # Every body sent and every answer of every test was checked against the XSDs (when present).
        assert running.violations == [], running.violations


@pytest.fixture
def schema():
    try:
        return QboSchema.load()
    except ContractMissing as missing:
        pytest.skip(str(missing))


class Api:
    """A session on one company: bearer token, Accept: application/json, minorversion=75."""

    def __init__(self, fake, token, realm_id=None):
        self.fake, self.token = fake, token
        self.realm_id = realm_id or fake.realm_of(token)
        self.base = fake.api_url(self.realm_id)
        self.session = requests.Session()
        self.session.headers.update(fake.headers(token))

    def get(self, path, **params):
        return self.session.get(f"{self.base}/{path}", params={"minorversion": 75, **params}, timeout=10)

    def post(self, path, body, **params):
        return self.session.post(f"{self.base}/{path}", params={"minorversion": 75, **params}, json=body, timeout=10)

    def query(self, statement):
        answer = self.get("query", query=statement)
        assert answer.status_code == 200, answer.text
        return answer.json()["QueryResponse"]

    def create(self, entity, body, **params):
        answer = self.post(entity.lower(), body, **params)
        assert answer.status_code == 200 and "Fault" not in answer.json(), answer.text
        return answer.json()[entity]

    def fault(self, answer):
        """(code, Detail) of a 400 Fault answer."""
        assert answer.status_code == 400, answer.text
        error = answer.json()["Fault"]["Error"][0]
        return error["code"], error["Detail"]


@pytest.fixture
def us(fake):
    api = Api(fake, fake.issue_token())
    yield api
    api.session.close()


@pytest.fixture
def uk(fake):
    api = Api(fake, fake.issue_token(fake.realm_ids[1]))
    yield api
    api.session.close()


def _id_of(fake, entity, name, realm_id=None):
    key = "DisplayName" if entity in ("Customer", "Vendor", "Employee") else "Name"
    return fake.find(entity, realm_id, **{key: name})["Id"]


def _line(item_id, amount, tax_code=None, qty=None, price=None):
    detail = {"ItemRef": {"value": item_id}}
    if tax_code:
        detail["TaxCodeRef"] = {"value": tax_code}
    if qty is not None:
        detail.update(Qty=qty, UnitPrice=price)
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


def _money(value):
    return D(str(value))


def _authorize_url(fake, state="st-1", scope=ACCOUNTING_SCOPE):
    query = {"client_id": fake.client_id, "response_type": "code", "scope": scope, "redirect_uri": REDIRECT}
    return f"{fake.authorize_url}?{urlencode({**query, 'state': state})}"


def _token(fake, data, auth=True):
    return requests.post(
        fake.token_url, data=data, auth=(fake.client_id, fake.client_secret) if auth else None, timeout=10
    )


# ------------------------------------------------------------------------------ identity (§1)
def test_consent_lists_companies_and_the_chosen_realm_comes_back_with_the_code(fake):
    page = requests.get(_authorize_url(fake), timeout=10)
    assert page.status_code == 200
    assert re.findall(r'name="realm" value="(\d+)"', page.text) == fake.realm_ids
    back = choose_company(_authorize_url(fake), realm_id=fake.realm_ids[1])
    assert back["state"] == "st-1" and back["realmId"] == fake.realm_ids[1] and back["code"]
    answer = _token(fake, {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT})
    assert answer.status_code == 200 and answer.headers["intuit_tid"]
    token = answer.json()
    assert set(token) == {"token_type", "access_token", "expires_in", "refresh_token", "x_refresh_token_expires_in"}
    assert (token["token_type"], token["expires_in"], token["x_refresh_token_expires_in"]) == ("bearer", 3600, 8726400)
    assert fake.realm_of(token) == fake.realm_ids[1]
    uk = Api(fake, token)
    assert uk.get(f"companyinfo/{uk.realm_id}").json()["CompanyInfo"]["Country"] == "GB"
    # The token is for that company only.
    other = uk.session.get(f"{fake.api_url(fake.realm_ids[0])}/preferences", params={"minorversion": 75}, timeout=10)
    assert other.status_code == 403 and other.json()["Fault"]["type"] == "AuthorizationFault"
    # Decline: access_denied back to the client.
    assert choose_company(_authorize_url(fake), decision="decline")["error"] == "access_denied"


def test_token_endpoint_wants_basic_client_authentication(fake):
    back = choose_company(_authorize_url(fake))
    assert back["realmId"] == fake.realm_id  # the preselected company
    in_body = _token(
        fake,
        {
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": REDIRECT,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        },
        auth=False,
    )
    assert in_body.status_code == 401 and in_body.json()["error"] == "invalid_client"
    wrong = requests.post(
        fake.token_url,
        data={"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT},
        auth=(fake.client_id, "not-the-secret"),
        timeout=10,
    )
    assert wrong.status_code == 401


def test_refresh_rotates_with_a_grace_period_then_invalid_grant(fake, clock):
    first = fake.issue_token()
    second = _token(fake, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    clock.advance(fake.rotated_refresh_token_grace - 1)  # a worker that read the old value in time
    again = _token(fake, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert again.status_code == 200
    clock.advance(2)
    late = _token(fake, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
    assert fake.refusals[-1] == "The refresh token was already used"
    # The newest one still works.
    newest = _token(fake, {"grant_type": "refresh_token", "refresh_token": again.json()["refresh_token"]})
    assert newest.status_code == 200


def test_refresh_token_expires_after_x_refresh_token_expires_in(fake, clock):
    token = fake.issue_token()
    clock.advance(token["x_refresh_token_expires_in"])
    answer = _token(fake, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert fake.refusals[-1] == "The refresh token expired"


def test_expired_and_revoked_tokens_get_the_lower_case_401(fake, us, clock):
    assert us.get("preferences").status_code == 200
    clock.advance(3600)
    expired = us.get("preferences")
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    body = expired.json()
    assert set(body) == {"warnings", "intuitObject", "fault", "time"}
    error = body["fault"]["error"][0]
    assert error["code"] == "3200" and "errorCode=003200" in error["message"] and error["detail"].startswith("Token")
    fresh = fake.issue_token()
    revoked = requests.post(
        fake.revoke_url, json={"token": fresh["refresh_token"]}, auth=(fake.client_id, fake.client_secret), timeout=10
    )
    assert revoked.status_code == 200
    assert Api(fake, fresh).get("preferences").status_code == 401
    answer = _token(fake, {"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------------------ conventions (§2)
def test_minorversion_recorded_old_ones_refused_and_intuit_tid_on_every_answer(fake, us):
    assert us.session.get(f"{us.base}/preferences", timeout=10).status_code == 200  # served as 75
    old = us.session.get(f"{us.base}/preferences", params={"minorversion": 70}, timeout=10)
    assert us.fault(old)[0] == "6000" and "minorversion 70" in us.fault(old)[1]
    answers = [us.get("preferences"), us.get("customer/999999"), old]
    assert all(answer.headers.get("intuit_tid") for answer in answers)
    assert fake.minorversions[None] == 1 and fake.minorversions["75"] == 2 and fake.minorversions["70"] == 1
    fake.require_minorversion = True
    assert us.fault(us.session.get(f"{us.base}/preferences", timeout=10))[0] == "2020"


def test_company_info_and_preferences(fake, us, uk):
    info = us.get(f"companyinfo/{us.realm_id}").json()
    assert info["CompanyInfo"]["Country"] == "US" and re.match(r"\d{4}-\d\d-\d\dT.*-0[78]:00$", info["time"])
    prefs = uk.get("preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "GBP"}}
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == fake.company(uk.realm_id).book_close_date.isoformat()


# ------------------------------------------------------------------------------ query language (§5)
def test_query_filters_operators_and_the_default_active_filter(fake, us):
    customers = us.query("SELECT * FROM Customer")["Customer"]
    assert (
        all(c["Active"] for c in customers)
        and len(customers) == us.query("SELECT COUNT(*) FROM Customer")["totalCount"]
    )
    everyone = us.query("SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000")["Customer"]
    assert len(everyone) == len(customers) + 1
    assert any(c["DisplayName"].endswith(" (deleted)") for c in everyone)
    exact = us.query("SELECT * FROM Customer WHERE DisplayName = 'meridian freight'")["Customer"]
    assert [c["DisplayName"] for c in exact] == ["Meridian Freight"]  # case-insensitive [I]
    like = us.query("SELECT * FROM Item WHERE Name LIKE '%hour' ORDERBY Name DESC")["Item"]
    assert [i["Name"] for i in like] == ["Temporary staff hour", "Contractor hour"]
    ids = [c["Id"] for c in customers[:2]]
    chosen = us.query(f"SELECT * FROM Customer WHERE Id IN ('{ids[0]}', '{ids[1]}')")["Customer"]
    assert sorted(c["Id"] for c in chosen) == sorted(ids)
    numbers = us.query("SELECT * FROM Invoice WHERE TotalAmt > '100' AND DocNumber < '1002'")
    assert [i["DocNumber"] for i in numbers["Invoice"]] == ["1001"]
    assert us.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'") == {}
    apostrophe = us.create("Customer", {"DisplayName": "O'Brien Staffing"})
    escaped = us.query("SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien Staffing'")["Customer"]
    assert [c["Id"] for c in escaped] == [apostrophe["Id"]]
    by_ref = us.query(f"SELECT * FROM Invoice WHERE CustomerRef = '{_id_of(fake, 'Customer', 'Meridian Freight')}'")
    assert len(by_ref["Invoice"]) == 1


def test_query_paging_is_one_based_and_oldest_first(us):
    for n in range(7):
        us.create("Customer", {"DisplayName": f"Paging Client {n}"})
    pages, start = [], 1
    while True:
        page = us.query(f"SELECT * FROM Customer WHERE DisplayName LIKE 'Paging%' STARTPOSITION {start} MAXRESULTS 3")
        rows = page.get("Customer", [])
        if rows:
            assert page["startPosition"] == start and page["maxResults"] == len(rows)
        pages.append([row["DisplayName"] for row in rows])
        if len(rows) < 3:
            break
        start += 3
    assert pages == [[f"Paging Client {n}" for n in chunk] for chunk in ((0, 1, 2), (3, 4, 5), (6,))]


def test_query_by_last_updated_time_post_body_and_errors(fake, us, clock):
    before = fake.now().astimezone(fake.realm().tz).isoformat(timespec="seconds")
    clock.advance(10)
    changed = us.create("Customer", {"DisplayName": "Recently Changed"})
    answer = us.session.post(
        f"{us.base}/query",
        params={"minorversion": 75},
        data=f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '{before}' ORDERBY MetaData.LastUpdatedTime",
        headers={"Content-Type": "application/text"},
        timeout=10,
    )
    assert [c["Id"] for c in answer.json()["QueryResponse"]["Customer"]] == [changed["Id"]]
    assert us.fault(us.get("query", query="SELECT * FROM Customer WHERE DisplayName = ’x’"))[0] == "4000"
    assert us.fault(us.get("query", query="SELECT * FROM Customer WHERE"))[0] == "4000"
    assert us.fault(us.get("query", query="SELECT * FROM Customer MAXRESULTS 1001"))[0] == "4001"
    assert us.fault(us.get("query", query="SELECT * FROM Customer WHERE Colour = 'red'"))[0] == "4001"
    assert us.fault(us.get("query", query="SELECT * FROM Gadget"))[0] == "4001"


def test_parse_query_grammar():
    query = parse_query("select count(*) from Invoice where TxnDate >= '2026-01-01' and Balance > 0")
    assert query.count and query.entity == "Invoice"
    assert query.conditions == [("TxnDate", ">=", "2026-01-01"), ("Balance", ">", D(0))]
    query = parse_query("SELECT * FROM Customer ORDERBY DisplayName DESC, Id STARTPOSITION 11 MAXRESULTS 10")
    assert (query.order, query.start, query.max_results) == ([("DisplayName", True), ("Id", False)], 11, 10)


# ------------------------------------------------------------------------------ CDC (§6)
def test_cdc_returns_changes_and_tombstones_within_30_days(fake, us, clock):
    since = fake.now().isoformat(timespec="seconds")
    clock.advance(5)
    customer = us.create("Customer", {"DisplayName": "Fresh Client"})
    item = _id_of(fake, "Item", "Services")
    invoice = us.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item, 10.0, "NON")]})
    deleted = us.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="delete")
    assert deleted.json()["Invoice"] == {"Id": invoice["Id"], "status": "Deleted", "domain": "QBO"}
    answer = us.get("cdc", entities="Customer,Invoice", changedSince=since)
    assert answer.status_code == 200, answer.text
    sections = answer.json()["CDCResponse"][0]["QueryResponse"]
    found = {key: rows for section in sections for key, rows in section.items() if isinstance(rows, list)}
    assert [c["Id"] for c in found["Customer"]] == [customer["Id"]]
    assert found["Invoice"] == [
        {"Id": invoice["Id"], "domain": "QBO", "status": "Deleted", "MetaData": found["Invoice"][0]["MetaData"]}
    ]
    too_old = (fake.now() - timedelta(days=31)).date().isoformat()
    assert us.fault(us.get("cdc", entities="Customer", changedSince=too_old))[0] == "6000"
    assert us.fault(us.get("cdc", entities="TaxCode", changedSince=since))[0] == "6000"


def test_cdc_caps_at_1000_objects_oldest_first(fake, us, clock):
    since = fake.now().isoformat(timespec="seconds")
    for n in range(1005):
        clock.advance(1)
        fake.add("Customer", {"DisplayName": f"Bulk Client {n:04d}"})
    rows = us.get("cdc", entities="Customer", changedSince=since).json()["CDCResponse"][0]["QueryResponse"][0]
    assert rows["maxResults"] == 1000 and len(rows["Customer"]) == 1000
    assert rows["Customer"][-1]["DisplayName"] == "Bulk Client 0999"
    # Shrinking the window past the last one returned gets the rest.
    last = rows["Customer"][-1]["MetaData"]["LastUpdatedTime"]
    rest = us.get("cdc", entities="Customer", changedSince=last).json()["CDCResponse"][0]["QueryResponse"][0]
    assert [c["DisplayName"] for c in rest["Customer"]] == [f"Bulk Client {n:04d}" for n in range(1000, 1005)]


# ------------------------------------------------------------------------------ writes (§3, §4, §8)
def test_create_read_sparse_update_and_stale_sync_token(fake, us):
    created = us.create("Customer", {"DisplayName": "Gamma Ltd", "PrimaryEmailAddr": {"Address": "ap@gamma.example"}})
    assert created["SyncToken"] == "0" and created["Balance"] == 0 and created["CurrencyRef"]["value"] == "USD"
    read = us.get(f"customer/{created['Id']}").json()["Customer"]
    assert read == created
    sparse = us.create("Customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "VIP"})
    assert sparse["SyncToken"] == "1" and sparse["Notes"] == "VIP"
    assert sparse["PrimaryEmailAddr"] == {"Address": "ap@gamma.example"}  # kept: a sparse update
    stale = us.post("customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "late"})
    code, detail = us.fault(stale)
    assert code == "5010" and detail.startswith("Stale Object Error")
    full = us.create("Customer", {"Id": created["Id"], "SyncToken": "1", "DisplayName": "Gamma Ltd"})
    assert "PrimaryEmailAddr" not in full and "Notes" not in full  # a full update clears what it omits [I]
    missing = us.post("customer", {"Id": created["Id"], "sparse": True, "Notes": "x"})
    assert us.fault(missing)[0] == "2020"
    fake.edit("Customer", created["Id"], Notes="typed in QuickBooks")  # a user's change: SyncToken 3
    assert us.fault(us.post("customer", {"Id": created["Id"], "SyncToken": "2", "sparse": True}))[0] == "5010"
    deactivated = us.create("Customer", {"Id": created["Id"], "SyncToken": "3", "sparse": True, "Active": False})
    assert deactivated["DisplayName"] == "Gamma Ltd (deleted)" and deactivated["Notes"] == "typed in QuickBooks"
    reactivated = us.create("Customer", {"Id": created["Id"], "SyncToken": "4", "sparse": True, "Active": True})
    assert reactivated["DisplayName"] == "Gamma Ltd"
    assert us.fault(us.get("customer/424242"))[0] == "610"


def test_duplicate_display_name_across_name_lists_is_6240(fake, us):
    company = fake.company()
    for name in (company.notable["vendor_name"], company.notable["employee_name"], "MERIDIAN FREIGHT"):
        code, detail = us.fault(us.post("customer", {"DisplayName": name}))
        assert code == "6240" and detail.startswith("The name supplied already exists.")
    answer = us.post("customer", {"DisplayName": company.notable["vendor_name"]})
    assert "Another vendor" in answer.json()["Fault"]["Error"][0]["Detail"]
    items = us.post("item", {"Name": "Services", "IncomeAccountRef": {"value": _id_of(fake, "Account", "Services")}})
    assert us.fault(items)[0] == "6240"


def test_duplicate_doc_number_is_6210_when_the_company_numbers_by_hand(fake, us):
    customer = _id_of(fake, "Customer", "Tasman Mining")
    item = _id_of(fake, "Item", "Services")
    body = {"DocNumber": "1001", "CustomerRef": {"value": customer}, "Line": [_line(item, 20.0, "NON")]}
    code, detail = us.fault(us.post("invoice", body))
    assert code == "6210" and "DocNumber=1001 is assigned to TxnType=Invoice" in detail
    allowed = us.create("Invoice", body, include="allowduplicatedocnum")
    assert allowed["DocNumber"] == "1001"
    assert fake.duplicate_count() == 1
    fake.set_custom_txn_numbers(False)
    numbered = us.create("Invoice", {**body, "DocNumber": "ignored"})
    assert numbered["DocNumber"] == "1003"  # QuickBooks numbers: the next after 1002 [I]
    too_long = us.post("creditmemo", {**body, "DocNumber": "X" * 22})
    assert us.create("CreditMemo", {**body, "DocNumber": "X" * 22})["DocNumber"] != "X" * 22
    assert too_long.status_code == 200
    fake.set_custom_txn_numbers(True)
    assert us.fault(us.post("creditmemo", {**body, "DocNumber": "X" * 22}))[0] == "6000"


def test_business_rules_inactive_item_currency_closed_books_and_vat(fake, us, uk):
    company = fake.company()
    customer = _id_of(fake, "Customer", "Tasman Mining")
    inactive = _id_of(fake, "Item", company.notable["inactive_item"])
    code, detail = us.fault(
        us.post("invoice", {"CustomerRef": {"value": customer}, "Line": [_line(inactive, 10.0, "NON")]})
    )
    assert code == "610" and "made inactive" in detail
    service = _id_of(fake, "Item", "Services")
    line = [_line(service, 10.0, "NON")]
    gbp = us.post("invoice", {"CustomerRef": {"value": customer}, "CurrencyRef": {"value": "GBP"}, "Line": line})
    assert us.fault(gbp) == ("6000", "Business Validation Error: The currency GBP is not enabled in this company.")
    cad = us.post("invoice", {"CustomerRef": {"value": customer}, "CurrencyRef": {"value": "CAD"}, "Line": line})
    assert "must be the customer's currency" in us.fault(cad)[1]
    fake.enable_currency("GBP")
    pounds = us.create("Customer", {"DisplayName": "Sterling Client", "CurrencyRef": {"value": "GBP"}})
    in_gbp = us.create("Invoice", {"CustomerRef": {"value": pounds["Id"]}, "Line": line})
    assert in_gbp["ExchangeRate"] == 1.315789 and in_gbp["HomeTotalAmt"] == 13.16  # 1 / 0.76 USD a pound [I]
    fake.set_book_close_date(date.fromisoformat(in_gbp["TxnDate"]))
    closed_now = us.post("invoice", {"Id": in_gbp["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"})
    assert "closing date" in us.fault(closed_now)[1]
    gone = _id_of(fake, "Customer", company.notable["inactive_customer"])
    assert us.fault(us.post("invoice", {"CustomerRef": {"value": gone}, "Line": line}))[0] == "610"
    # UK: closed books and a line without a VAT code.
    uk_company = fake.company(uk.realm_id)
    uk_customer = _id_of(fake, "Customer", "Tasman Mining", uk.realm_id)
    uk_item = _id_of(fake, "Item", "Services", uk.realm_id)
    closed = uk_company.book_close_date.isoformat()
    body = {"CustomerRef": {"value": uk_customer}, "TxnDate": closed, "Line": [_line(uk_item, 10.0, "12")]}
    code, detail = uk.fault(uk.post("invoice", body))
    assert code == "6000" and "closing date" in detail
    no_vat = {"CustomerRef": {"value": uk_customer}, "Line": [_line(uk_item, 10.0)]}
    assert uk.fault(uk.post("invoice", no_vat)) == (
        "6000",
        "Business Validation Error: Make sure all your transactions have a VAT rate before you save.",
    )
    wrong_amount = {"CustomerRef": {"value": uk_customer}, "Line": [_line(uk_item, 10.0, "12", qty=3, price=3.5)]}
    assert "UnitPrice * Qty" in uk.fault(uk.post("invoice", wrong_amount))[1]


def test_items_accounts_and_tax_tables(fake, us, uk):
    account = us.create("Account", {"Name": "Payroll Service Fees", "AccountType": "Income", "AcctNum": "4030"})
    assert account["Classification"] == "Revenue"  # from the AccountType, as QuickBooks fills it in
    assert account["FullyQualifiedName"] == "Payroll Service Fees" and account["Active"] is True
    item = us.create(
        "Item",
        {"Name": "Payroll run", "Sku": "PAYROLL", "Type": "Service", "IncomeAccountRef": {"value": account["Id"]}},
    )
    assert item["IncomeAccountRef"] == {"value": account["Id"], "name": "Payroll Service Fees"}
    no_account = us.post("item", {"Name": "Loose item", "Type": "Service"})
    assert us.fault(no_account)[0] == "2020"
    assert us.fault(us.post("account", {"Name": "Services", "AccountType": "Income"}))[0] == "6240"
    assert us.fault(us.post("taxcode", {"Name": "New code"}))[0] == "6000"  # TaxService only
    codes = uk.query("SELECT * FROM TaxCode")["TaxCode"]
    standard = next(code for code in codes if code["Name"] == "20.0% S")
    rate_ref = standard["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
    assert uk.get(f"taxrate/{rate_ref}").json()["TaxRate"]["RateValue"] == 20
    assert [c["Id"] for c in us.query("SELECT * FROM TaxCode")["TaxCode"]] == [fake.company().notable["sales_tax_code"]]


def test_void_and_delete_of_transactions(fake, us):
    customer = _id_of(fake, "Customer", "Summit Foods")
    item = _id_of(fake, "Item", "Services")
    invoice = us.create("Invoice", {"CustomerRef": {"value": customer}, "Line": [_line(item, 80.0, "NON")]})
    voided = us.create("Invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")
    assert (voided["TotalAmt"], voided["Balance"], voided["PrivateNote"], voided["SyncToken"]) == (0, 0, "Voided", "1")
    paid = us.create("Invoice", {"CustomerRef": {"value": customer}, "Line": [_line(item, 50.0, "NON")]})
    us.create(
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": 50.0,
            "Line": [{"Amount": 50.0, "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Invoice"}]}],
        },
    )
    current = us.get(f"invoice/{paid['Id']}").json()["Invoice"]
    assert current["Balance"] == 0
    refused = us.post("invoice", {"Id": paid["Id"], "SyncToken": current["SyncToken"]}, operation="delete")
    assert "payments applied" in us.fault(refused)[1]
    assert us.fault(us.post("customer", {"Id": customer, "SyncToken": "0"}, operation="delete"))[0] == "6000"
    credit = us.create("CreditMemo", {"CustomerRef": {"value": customer}, "Line": [_line(item, 5.0, "NON")]})
    assert us.fault(us.post("creditmemo", {"Id": credit["Id"], "SyncToken": "0"}, operation="void"))[0] == "6000"


def test_webhook_deliveries_are_signed_in_both_shapes(fake):
    events = [(fake.realm_id, "Invoice", "130", "Update"), (fake.realm_id, "Customer", "58", "Create")]
    body, headers = webhook_delivery(events, "verifier-token")
    expected = base64.b64encode(hmac.new(b"verifier-token", body, hashlib.sha256).digest()).decode()
    assert headers["intuit-signature"] == expected
    cloud = json.loads(body)
    assert [e["type"] for e in cloud] == ["qbo.invoice.updated.v1", "qbo.customer.created.v1"]
    assert cloud[0]["intuitaccountid"] == fake.realm_id and cloud[0]["intuitentityid"] == "130"
    legacy, _headers = webhook_delivery(events, "verifier-token", cloud_events=False)
    entities = json.loads(legacy)["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Invoice", "130", "Update"),
        ("Customer", "58", "Create"),
    ]


# ------------------------------------------------------------------------------ totals
def test_us_sales_tax_taxable_and_non_taxable_lines(fake, us):
    company = fake.company()
    customer = _id_of(fake, "Customer", "Tasman Mining")
    fee, hour = _id_of(fake, "Item", "Permanent placement fee"), _id_of(fake, "Item", "Contractor hour")
    body = {
        "CustomerRef": {"value": customer},
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": company.notable["sales_tax_code"]}},
        "Line": [_line(fee, 1000.0, "TAX"), _line(hour, 130.0, "NON", qty=2, price=65)],
    }
    invoice = us.create("Invoice", body)
    # 7.25% and 1.375% of the 1000.00 taxable: 72.50 + 13.75.
    assert invoice["TxnTaxDetail"]["TotalTax"] == 86.25 and invoice["TotalAmt"] == 1216.25
    assert [t["Amount"] for t in invoice["TxnTaxDetail"]["TaxLine"]] == [72.5, 13.75]
    assert invoice["Line"][-1] == {"Amount": 1130.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    assert invoice["Balance"] == invoice["TotalAmt"] and "GlobalTaxCalculation" not in invoice
    explicit = us.create("Invoice", {**body, "TxnTaxDetail": {**body["TxnTaxDetail"], "TotalTax": 86.26}})
    assert explicit["TxnTaxDetail"]["TotalTax"] == 86.26 and explicit["TotalAmt"] == 1216.26
    discounted = us.create(
        "Invoice",
        {
            **body,
            "Line": [
                *body["Line"],
                {
                    "DetailType": "DiscountLineDetail",
                    "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
                },
            ],
        },
    )
    # 10% of 1130.00 off the total; tax still on the undiscounted 1000.00 (ApplyTaxAfterDiscount false).
    assert discounted["TotalAmt"] == 1130.0 - 113.0 + 86.25
    after = us.create(
        "Invoice",
        {"Id": discounted["Id"], "SyncToken": discounted["SyncToken"], "sparse": True, "ApplyTaxAfterDiscount": True},
    )
    # Now the tax is on 1000.00 less its share of the discount (100.00): 65.25 + 12.38.
    assert after["TxnTaxDetail"]["TotalTax"] == 77.63 and after["TotalAmt"] == 1017.0 + 77.63
    fewer = us.create(
        "Invoice",
        {"Id": after["Id"], "SyncToken": after["SyncToken"], "sparse": True, "Line": [_line(fee, 500.0, "TAX")]},
    )
    assert fewer["TxnTaxDetail"]["TotalTax"] == 43.13 and fewer["TotalAmt"] == 543.13  # worked out again


def test_non_us_vat_tax_excluded_inclusive_and_not_applicable(fake, uk):
    notable = fake.company(uk.realm_id).notable
    standard, reduced = notable["standard_rate_code"], notable["reduced_rate_code"]
    customer = _id_of(fake, "Customer", "Tasman Mining", uk.realm_id)
    item = _id_of(fake, "Item", "Services", uk.realm_id)
    lines = [_line(item, 100.05, standard), _line(item, 33.33, standard), _line(item, 19.99, reduced)]
    excluded = uk.create("Invoice", {"CustomerRef": {"value": customer}, "Line": lines})
    assert excluded["GlobalTaxCalculation"] == "TaxExcluded"
    # Per code: 20% of 133.38 = 26.676 -> 26.68; 5% of 19.99 = 0.9995 -> 1.00.
    assert [t["Amount"] for t in excluded["TxnTaxDetail"]["TaxLine"]] == [26.68, 1.0]
    assert excluded["TxnTaxDetail"]["TotalTax"] == 27.68 and excluded["TotalAmt"] == 181.05
    gross_lines = [_line(item, 100.0, standard), _line(item, 83.33, standard), _line(item, 10.0, reduced)]
    for line, gross in zip(gross_lines, (120.0, 99.99, 10.5), strict=True):
        line["SalesItemLineDetail"]["TaxInclusiveAmt"] = gross
    inclusive = uk.create(
        "Invoice", {"CustomerRef": {"value": customer}, "GlobalTaxCalculation": "TaxInclusive", "Line": gross_lines}
    )
    # 20% out of the gross 219.99: 36.665 -> 36.67; 5% out of 10.50: 0.50. The total is the gross.
    assert [t["Amount"] for t in inclusive["TxnTaxDetail"]["TaxLine"]] == [36.67, 0.5]
    assert [t["TaxLineDetail"]["NetAmountTaxable"] for t in inclusive["TxnTaxDetail"]["TaxLine"]] == [183.32, 10.0]
    assert inclusive["TotalAmt"] == 230.49 and inclusive["Line"][1]["SalesItemLineDetail"]["TaxInclusiveAmt"] == 99.99
    net_only = uk.create(
        "Invoice",
        {"CustomerRef": {"value": customer}, "GlobalTaxCalculation": "TaxInclusive", "Line": [lines[2]]},
    )
    assert net_only["TotalAmt"] == 20.99 and net_only["Line"][0]["SalesItemLineDetail"]["TaxInclusiveAmt"] == 20.99
    gross_lines[0]["Amount"] = 96.0  # not the net of 120.00 at 20%
    wrong = uk.post(
        "invoice", {"CustomerRef": {"value": customer}, "GlobalTaxCalculation": "TaxInclusive", "Line": gross_lines}
    )
    assert "is not the net of TaxInclusiveAmt 120.00 at 20% (expected 100.00)" in uk.fault(wrong)[1]
    none = uk.create(
        "Invoice", {"CustomerRef": {"value": customer}, "GlobalTaxCalculation": "NotApplicable", "Line": [lines[0]]}
    )
    assert none["TxnTaxDetail"]["TotalTax"] == 0 and none["TotalAmt"] == 100.05
    discounted = uk.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer},
            "Line": [
                _line(item, 200.0, standard),
                {"Amount": 20.0, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": False}},
            ],
        },
    )
    # VAT on the discounted 180.00.
    assert discounted["TxnTaxDetail"]["TotalTax"] == 36.0 and discounted["TotalAmt"] == 216.0


def test_foreign_currency_gets_an_exchange_rate_and_home_amounts(fake, uk):
    notable = fake.company(uk.realm_id).notable
    customer = _id_of(fake, "Customer", notable["foreign_customer"], uk.realm_id)
    item = _id_of(fake, "Item", "Services", uk.realm_id)
    line = [_line(item, 116.0, notable["standard_rate_code"])]
    default_rate = uk.create("Invoice", {"CustomerRef": {"value": customer}, "Line": line})
    assert default_rate["CurrencyRef"]["value"] == "EUR" and default_rate["ExchangeRate"] == 0.862069
    given = uk.create("Invoice", {"CustomerRef": {"value": customer}, "ExchangeRate": 0.85, "Line": line})
    assert given["TotalAmt"] == 139.2 and given["HomeTotalAmt"] == 118.32 and given["HomeBalance"] == 118.32


def test_randomized_documents_keep_quickbooks_invariants(fake, world):
    """200 random invoices and credit memos (US and UK, every tax mode, discounts): the answer's
    numbers agree with each other to the cent, and with the XSDs when they are there."""
    rng = random.Random(15)
    try:
        schema = QboSchema.load()
    except ContractMissing:
        schema = None
    us_id, uk_id = fake.realm_ids
    uk_codes = {code["Id"]: code for code in fake.records("TaxCode", uk_id)}
    uk_percent = {
        ident: sum(
            D(str(fake.record("TaxRate", d["TaxRateRef"]["value"], uk_id)["RateValue"]))
            for d in code["SalesTaxRateList"]["TaxRateDetail"]
        )
        for ident, code in uk_codes.items()
    }
    for n in range(200):
        realm_id = us_id if n % 2 else uk_id
        us_company = realm_id == us_id
        customer = _id_of(fake, "Customer", rng.choice(CLIENTS), realm_id)
        item = _id_of(fake, "Item", "Services", realm_id)
        mode = None if us_company else rng.choice(("TaxExcluded", "TaxInclusive", "NotApplicable"))
        lines = []
        for _ in range(rng.randint(1, 4)):
            code = rng.choice(("TAX", "NON")) if us_company else rng.choice(list(uk_codes))
            amount = D(rng.randint(1, 500_000)) / 100
            line = _line(item, float(amount), code)
            if mode == "TaxInclusive":
                gross = D(rng.randint(1, 500_000)) / 100
                net = (gross * 100 / (100 + uk_percent[code])).quantize(D("0.01"), ROUND_HALF_UP)
                line["Amount"] = float(net)
                line["SalesItemLineDetail"]["TaxInclusiveAmt"] = float(gross)
            lines.append(line)
        if rng.random() < 0.4:
            percent = rng.random() < 0.5
            detail = {"PercentBased": percent, **({"DiscountPercent": rng.choice((5, 10, 12.5))} if percent else {})}
            discount = {"DetailType": "DiscountLineDetail", "DiscountLineDetail": detail}
            if not percent:
                discount["Amount"] = float(D(rng.randint(1, 1000)) / 100)
            lines.append(discount)
        body = {"CustomerRef": {"value": customer}, "Line": lines, "DocNumber": f"R-{n}"}
        if us_company:
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": fake.company(us_id).notable["sales_tax_code"]}}
            body["ApplyTaxAfterDiscount"] = rng.random() < 0.5
        else:
            body["GlobalTaxCalculation"] = mode
        entity = rng.choice(("Invoice", "CreditMemo"))
        try:
            doc = fake.add(entity, body, realm_id)
        except QboFault as refused:  # a discount larger than the document: refused with its reason
            assert "can't be negative" in str(refused), refused
            continue
        if schema is not None:
            assert schema.entity_errors(entity, doc) == [], doc
        sales = [line for line in doc["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        subtotal = sum((_money(line["Amount"]) for line in sales), D(0))
        assert doc["Line"][-1] == {
            "Amount": float(subtotal),
            "DetailType": "SubTotalLineDetail",
            "SubTotalLineDetail": {},
        }
        tax_lines = doc["TxnTaxDetail"]["TaxLine"]
        total_tax = _money(doc["TxnTaxDetail"]["TotalTax"])
        assert total_tax == sum((_money(t["Amount"]) for t in tax_lines), D(0))
        for tax_line in tax_lines:
            detail = tax_line["TaxLineDetail"]
            base, percent = _money(detail["NetAmountTaxable"]), _money(detail["TaxPercent"])
            if mode != "TaxInclusive":
                assert _money(tax_line["Amount"]) == (base * percent / 100).quantize(D("0.01"), ROUND_HALF_UP)
        if mode == "TaxInclusive":
            gross = sum((_money(line["SalesItemLineDetail"]["TaxInclusiveAmt"]) for line in sales), D(0))
            assert gross - _money(doc["TotalAmt"]) >= 0  # the total is the gross less the discount
        else:
            discount = subtotal + total_tax - _money(doc["TotalAmt"])
            assert discount >= 0 and (discount > 0) == any(x["DetailType"] == "DiscountLineDetail" for x in lines)
            if mode == "TaxExcluded":  # the discount is spread over the codes to the cent
                assert sum((_money(t["TaxLineDetail"]["NetAmountTaxable"]) for t in tax_lines), D(0)) == (
                    subtotal - discount
                )
        assert doc["Balance"] == doc["TotalAmt"]


def test_compute_totals_function():
    rates = {"5": [("9", "23% S", D(23))], "6": [("10", "8%", D(5)), ("11", "3%", D(3))]}
    lines = [_line("1", 200.0, "5"), _line("1", 99.99, "6")]
    totals = compute_totals(lines, rates, us=False)
    assert totals["tax"] == D("46.00") + D("5.00") + D("3.00") and totals["total"] == D("353.99")
    us_totals = compute_totals([_line("1", 10.0, "TAX")], {"3": [("1", "x", D("8.875"))]}, us=True, txn_tax_code="3")
    assert us_totals["tax"] == D("0.89") and us_totals["total"] == D("10.89")


# ------------------------------------------------------------------------------ payments and credits
def test_partial_payment_updates_balances_and_links(fake, us):
    customer = _id_of(fake, "Customer", "Outback Mining")
    item = _id_of(fake, "Item", "Services")
    invoice = us.create("Invoice", {"CustomerRef": {"value": customer}, "Line": [_line(item, 300.0, "NON")]})
    pay = {
        "CustomerRef": {"value": customer},
        "TotalAmt": 120.0,
        "PaymentRefNum": "BANK-1",
        "Line": [{"Amount": 100.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
    }
    payment = us.create("Payment", pay)
    assert payment["UnappliedAmt"] == 20.0 and payment["DepositToAccountRef"]["name"] == "Undeposited Funds"
    after = us.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert after["Balance"] == 200.0 and after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert after["SyncToken"] == "1"
    assert fake.record("Customer", customer)["Balance"] == 200.0 - 20.0  # open invoice less the unapplied credit
    too_much = {**pay, "TotalAmt": 500.0, "Line": [{**pay["Line"][0], "Amount": 250.0}]}
    assert "more than its open balance" in us.fault(us.post("payment", too_much))[1]
    twice = {**pay, "TotalAmt": 300.0, "Line": [{**pay["Line"][0], "Amount": 150.0}] * 2}  # 300 of the 200 open
    assert "more than its open balance (50.00)" in us.fault(us.post("payment", twice))[1]
    voided = us.create(
        "Payment",
        {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
        operation="update",
        include="void",
    )
    assert voided["TotalAmt"] == 0 and us.get(f"invoice/{invoice['Id']}").json()["Invoice"]["Balance"] == 300.0


def test_credit_memo_applied_to_its_invoice_with_a_zero_payment(fake, uk):
    notable = fake.company(uk.realm_id).notable
    customer = _id_of(fake, "Customer", "Summit Foods", uk.realm_id)
    item = _id_of(fake, "Item", "Services", uk.realm_id)
    invoice = uk.create(
        "Invoice", {"CustomerRef": {"value": customer}, "Line": [_line(item, 100.0, notable["standard_rate_code"])]}
    )
    credit = uk.create(
        "CreditMemo", {"CustomerRef": {"value": customer}, "Line": [_line(item, 40.0, notable["standard_rate_code"])]}
    )
    assert credit["TotalAmt"] == 48.0 and credit["RemainingCredit"] == 48.0
    link = uk.create(
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": 0,
            "Line": [
                {"Amount": 48.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
                {"Amount": 48.0, "LinkedTxn": [{"TxnId": credit["Id"], "TxnType": "CreditMemo"}]},
            ],
        },
    )
    assert link["TotalAmt"] == 0 and link["UnappliedAmt"] == 0
    assert fake.record("Invoice", invoice["Id"], uk.realm_id)["Balance"] == 72.0
    assert fake.record("CreditMemo", credit["Id"], uk.realm_id)["RemainingCredit"] == 0


# ------------------------------------------------------------------------------ batch (§7)
def test_batch_runs_items_with_per_item_faults(fake, us, clock):
    since = fake.now().isoformat()
    clock.advance(1)
    stale = us.create("Customer", {"DisplayName": "Stale Co"})
    us.create("Customer", {"Id": stale["Id"], "SyncToken": "0", "sparse": True, "Notes": "moved on"})
    item = _id_of(fake, "Item", "Services")
    known = _id_of(fake, "Customer", "Summit Foods")
    items = [
        {"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Batch New Co"}},
        {"bId": "c2", "operation": "create", "Customer": {"DisplayName": fake.company().notable["vendor_name"]}},
        {"bId": "u1", "operation": "update", "Customer": {"Id": stale["Id"], "SyncToken": "0", "sparse": True}},
        {
            "bId": "i1",
            "operation": "create",
            "Invoice": {"CustomerRef": {"value": known}, "Line": [_line(item, 5.0, "NON")]},
        },
        {"bId": "q1", "Query": "SELECT * FROM Item WHERE Name = 'Services'"},
        {"bId": "d1", "CDCQuery": {"Entities": "Customer", "ChangedSince": since}},
    ]
    answer = us.post("batch", {"BatchItemRequest": items}, requestid="batch-1")
    assert answer.status_code == 200
    results = {entry["bId"]: entry for entry in answer.json()["BatchItemResponse"]}
    assert list(results) == ["c1", "c2", "u1", "i1", "q1", "d1"]
    changed = results["d1"]["CDCResponse"]["QueryResponse"][0]["Customer"]
    assert [c["DisplayName"] for c in changed] == ["Stale Co"]  # not what this batch created
    assert results["c1"]["Customer"]["DisplayName"] == "Batch New Co"
    assert results["c2"]["Fault"]["Error"][0]["code"] == "6240"
    assert results["u1"]["Fault"]["Error"][0]["code"] == "5010"
    assert results["i1"]["Invoice"]["TotalAmt"] == 5.0
    assert results["q1"]["QueryResponse"]["Item"][0]["Id"] == item
    assert fake.count("POST /batch") == 1 and fake.batch_calls == 1


def test_batch_items_cannot_see_what_the_same_batch_created(fake, us):
    item = _id_of(fake, "Item", "Services")
    first = {"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Same Batch Co"}}
    created = us.post("batch", {"BatchItemRequest": [first]}).json()["BatchItemResponse"][0]["Customer"]
    later = us.post(
        "batch",
        {
            "BatchItemRequest": [
                {"bId": "c2", "operation": "create", "Customer": {"DisplayName": "Other Same Batch Co"}},
                {
                    "bId": "i1",
                    "operation": "create",
                    "Invoice": {
                        "CustomerRef": {"value": str(int(created["Id"]) + 1)},
                        "Line": [_line(item, 5.0, "NON")],
                    },
                },
            ]
        },
    ).json()["BatchItemResponse"]
    assert later[1]["Fault"]["Error"][0]["code"] == "610"
    assert us.get(f"customer/{later[0]['Customer']['Id']}").status_code == 200  # visible once the batch ended


def test_batch_size_and_empty_batch(us):
    too_many = [{"bId": f"b{n}", "Query": "SELECT * FROM Item"} for n in range(31)]
    assert "at most 30" in us.fault(us.post("batch", {"BatchItemRequest": too_many}))[1]
    assert us.fault(us.post("batch", {"BatchItemRequest": []}))[1].endswith("Batch Request is Empty")
    assert us.post("batch", {"BatchItemRequest": too_many[:30]}).status_code == 200
    long_id = us.post("batch", {"BatchItemRequest": [{"bId": "b" * 11, "Query": "SELECT * FROM Item"}]})
    assert long_id.json()["BatchItemResponse"][0]["Fault"]["Error"][0]["Detail"].endswith("at most 10 characters.")
    assert "1 to 36 characters" in us.fault(us.post("batch", {"BatchItemRequest": too_many[:1]}, requestid="r" * 37))[1]


# ------------------------------------------------------------------------------ idempotency and faults
def test_requestid_replays_the_first_answer_without_a_second_write(fake, us):
    body = {"DisplayName": "Replay Co"}
    first = us.post("customer", body, requestid="rq-0001")
    again = us.post("customer", body, requestid="rq-0001")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert (
        fake.idempotent_replays == 1
        and len(us.query("SELECT * FROM Customer WHERE DisplayName = 'Replay Co'")["Customer"]) == 1
    )
    other = us.post("customer", body, requestid="rq-0002")
    assert us.fault(other)[0] == "6240"  # a new requestid runs again
    assert us.fault(us.post("customer", body, requestid="r" * 51))[0] == "6000"


def test_fault_after_commit_then_retry_with_the_same_requestid(fake, us):
    item = _id_of(fake, "Item", "Services")
    customer = _id_of(fake, "Customer", "Summit Foods")
    body = {"DocNumber": "AC-1", "CustomerRef": {"value": customer}, "Line": [_line(item, 9.0, "NON")]}
    fake.inject_after_commit(drop=True)
    with pytest.raises(requests.ConnectionError):
        us.post("invoice", body, requestid="inv-ac-1")
    assert len(fake.records("Invoice")) == 3  # the write happened (2 seeded + this one)
    retry = us.post("invoice", body, requestid="inv-ac-1")
    assert retry.status_code == 200 and retry.json()["Invoice"]["DocNumber"] == "AC-1"
    assert fake.duplicate_count() == 0 and fake.in_flight() == 0
    fake.inject_after_commit(delay=1.0)
    with pytest.raises(requests.Timeout):
        us.session.post(
            f"{us.base}/invoice", params={"requestid": "inv-ac-2"}, json={**body, "DocNumber": "AC-2"}, timeout=0.3
        )
    time.sleep(1.0)
    found = us.query("SELECT * FROM Invoice WHERE DocNumber = 'AC-2'")["Invoice"]
    assert len(found) == 1  # the uncertain write: found by its number before any resend


def test_fault_inside_http_200_and_injected_errors(fake, us):
    fake.inject(
        status=200,
        body={
            **fault_body("6190", "Invalid Company Status", "Subscription ended"),
            "time": "2026-12-01T01:30:00.000-08:00",
        },
    )
    answer = us.get("preferences")
    assert answer.status_code == 200 and answer.json()["Fault"]["Error"][0]["code"] == "6190"
    fake.inject(status=503)
    assert us.get("preferences").status_code == 503
    assert us.get("preferences").status_code == 200


# ------------------------------------------------------------------------------ limits (§9)
def test_rate_limits_per_realm_answer_429_throttle_exceeded(world, clock):
    with FakeQuickBooks(world=world, clock=clock) as fake:
        api = Api(fake, fake.issue_token())
        answers = [api.get("preferences") for _ in range(fake.second_limit + 1)]
        assert [a.status_code for a in answers].count(429) >= 1
        throttled = next(a for a in answers if a.status_code == 429)
        error = throttled.json()["Fault"]["Error"][0]
        assert (
            error["Message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429" and error["code"] == "3001"
        )
        assert fake.served_429["second"] >= 1 and throttled.headers["intuit_tid"]
        # Another company has its own budget.
        uk = Api(fake, fake.issue_token(fake.realm_ids[1]))
        assert uk.get("preferences").status_code == 200
        fake.reset_rate_limits()
        fake.second_limit = 1000
        batches = [
            api.post("batch", {"BatchItemRequest": [{"bId": "q", "Query": "SELECT * FROM Item"}]})
            for _ in range(fake.batch_minute_limit + 1)
        ]
        assert [b.status_code for b in batches][-1] == 429 and fake.served_429["batch"] == 1
        assert fake.violations == []


def test_concurrent_requests_per_realm(world, clock):
    with FakeQuickBooks(world=world, clock=clock, concurrent_limit=2, second_limit=100) as fake:
        api = Api(fake, fake.issue_token())
        fake.inject(delay=0.5, times=2)
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(api.get("preferences").status_code)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        third = requests.get(f"{api.base}/preferences", headers=fake.headers(api.token), timeout=10)
        for thread in threads:
            thread.join()
        assert third.status_code == 429 and fake.served_429["concurrent"] == 1 and sorted(results) == [200, 200]


def test_minute_limit_and_the_minimum_wall_time(world, clock):
    with FakeQuickBooks(world=world, clock=clock, minute_limit=5, second_limit=100) as fake:
        api = Api(fake, fake.issue_token())
        assert [api.get("preferences").status_code for _ in range(6)] == [200] * 5 + [429]
        assert fake.served_429 == {"minute": 1}
    standard = FakeQuickBooks(world=world)
    assert standard.minimum_seconds(0) == 0 and standard.minimum_seconds(10) == 0
    assert standard.minimum_seconds(11) == 1 and standard.minimum_seconds(501) == 60
    assert standard.minimum_seconds(105, batch_calls=100) == 120  # 100 batches: 40 a minute


def test_throttle_injection_and_the_switch_for_unit_tests(fake, us):
    fake.throttle(times=2)
    assert [us.get("preferences").status_code for _ in range(3)] == [429, 429, 200]
    for _ in range(fake.second_limit * 3):  # limits are off in this fixture
        assert us.get("preferences").status_code == 200


# ------------------------------------------------------------------------------ XSD validation
def test_xsd_validator_checks_names_types_and_repetition(schema):
    good = {
        "CustomerRef": {"value": "1"},
        "TxnDate": "2026-12-01",
        "Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 1}}],
    }
    assert schema.entity_errors("Invoice", good) == []
    assert schema.entity_errors("Invoice", {**good, "CustomerReff": {"value": "1"}}) == [
        "Invoice/CustomerReff: unknown element of Invoice"
    ]
    assert schema.entity_errors("Invoice", {**good, "TxnDate": "01/12/2026"}) == [
        "Invoice/TxnDate: must be a date YYYY-MM-DD, not '01/12/2026'"
    ]
    assert "must be an array" in schema.entity_errors("Invoice", {**good, "Line": good["Line"][0]})[0]
    assert "must be one of" in schema.entity_errors("Invoice", {**good, "GlobalTaxCalculation": "Gross"})[0]
    assert "must be a number" in schema.entity_errors("Invoice", {**good, "TotalAmt": "12.00"})[0]
    assert schema.response_errors({"Fault": {"Error": [{"Message": "x"}]}, "time": "2026-12-01T00:00:00Z"}) == [
        "IntuitResponse/Fault/Error/0: required element code is missing"
    ]
    assert schema.batch_request_errors({"BatchItemRequest": [{"bId": "1", "operation": "upsert"}]})[0].endswith(
        "must be one of create, update, revert, delete, void, send, merge, not 'upsert'"
    )


def test_a_request_with_a_wrong_element_name_is_a_recorded_violation(schema, world, clock):
    with FakeQuickBooks(world=world, clock=clock, enforce_rate_limits=False, validate=True) as fake:
        api = Api(fake, fake.issue_token())
        answer = api.post("customer", {"DisplayName": "Typo Co", "EmailAddress": "x@typo.example"})
        assert answer.status_code == 500 and "EmailAddress: unknown element of Customer" in answer.text
        assert fake.violations and fake.find("Customer", DisplayName="Typo Co") is None
        batch = api.post("batch", {"BatchItemRequest": [{"bId": "1", "Custommer": {"DisplayName": "y"}}]})
        assert batch.status_code == 500 and len(fake.violations) == 2
        bare = {"Authorization": api.session.headers["Authorization"]}
        xml = requests.get(f"{api.base}/preferences", headers=bare, timeout=10)
        assert xml.status_code == 500 and "Accept must be application/json" in xml.text
        form = api.session.post(f"{api.base}/customer", data={"DisplayName": "Form Co"}, timeout=10)
        assert form.status_code == 500 and "Content-Type must be application/json" in form.text
        assert len(fake.violations) == 4


def test_answers_are_checked_too(schema, world, clock, monkeypatch):
    with FakeQuickBooks(world=world, clock=clock, enforce_rate_limits=False, validate=True) as fake:
        api = Api(fake, fake.issue_token())
        real_render = type(fake.realm()).render

        def broken(realm, kind, record, balances=None):
            return {**real_render(realm, kind, record, balances), "Colour": "red"}

        monkeypatch.setattr(type(fake.realm()), "render", broken)
        answer = api.get(f"customer/{_id_of(fake, 'Customer', 'Summit Foods')}")
        assert answer.status_code == 500 and "answer: IntuitResponse/Customer/Colour: unknown element" in answer.text


def test_every_seeded_record_and_answer_shape_conforms(schema, fake, us, uk):
    for api in (us, uk):
        for entity in ("Customer", "Vendor", "Employee", "Item", "Account", "TaxCode", "TaxRate", "Invoice"):
            rows = api.query(
                f"SELECT * FROM {entity} WHERE Active IN (true, false)"
                if entity in ("Customer", "Vendor", "Employee", "Item", "Account")
                else f"SELECT * FROM {entity}"
            )
            assert rows[entity], entity
            for row in rows[entity]:
                assert schema.entity_errors(entity, row) == [], (entity, row)
        for path in ("preferences", f"companyinfo/{api.realm_id}"):
            assert schema.response_errors(api.get(path).json()) == []
    assert fake.violations == []


def test_validation_is_off_with_a_reason_when_the_xsds_are_absent(world, monkeypatch, tmp_path):
    monkeypatch.setattr(openapi, "CONTRACTS", tmp_path / "nowhere")
    with pytest.raises(ContractMissing, match="contract checks skipped"):
        QboSchema.load()
    fake = FakeQuickBooks(world=world)
    assert fake.schema is None and "validation is off" in fake.validation_note
    monkeypatch.setenv("FAKE_QBO_VALIDATE", "0")
    assert FakeQuickBooks(world=world).validation_note.startswith("validation is off (validate=False")


# ------------------------------------------------------------------------------ generator & command
def test_generator_is_deterministic_and_coherent_with_the_agency(world):
    again, other = generate_world(seed=3, clients=CLIENTS), generate_world(seed=4, clients=CLIENTS)
    assert world == again and world.companies[0].records != other.companies[0].records
    us_company, uk_company = world.companies
    assert (us_company.country, us_company.home_currency, uk_company.country, uk_company.home_currency) == (
        "US",
        "USD",
        "GB",
        "GBP",
    )
    for company in world.companies:
        names = [body["DisplayName"] for kind, body in company.records if kind in ("Customer", "Vendor", "Employee")]
        assert len(names) == len({name.casefold() for name in names})  # QuickBooks' rule holds in the seed
        assert set(CLIENTS) <= set(names) and company.notable["clients"] == list(CLIENTS)
        assert {company.notable["vendor_name"], company.notable["employee_name"]} <= set(names)
        skus = {body.get("Sku") for kind, body in company.records if kind == "Item"}
        assert {"PERM-FEE", "CONTRACT-HOUR", "TEMP-HOUR"} <= skus
        incomes = [body for kind, body in company.records if kind == "Account" and body["AccountType"] == "Income"]
        assert len(incomes) >= 3
    assert uk_company.book_close_date < world.today and us_company.book_close_date is None
    assert generate_world(seed=1, today=date(2026, 12, 1)).companies[0].notable["clients"]


def test_command_serves_alone_until_ctrl_c():
    with served_alone("tests.fakes.quickbooks", "--port", "0", "--seed", "1", "--no-rate-limits") as banner:
        base = re.search(r"API base:\s+(\S+)/\{realmId\}", banner).group(1)
        access = re.search(r"access token:\s+(\S+)", banner).group(1)
        realm = re.search(r"^\s+(\d{16})\s", banner, re.MULTILINE).group(1)
        assert re.search(r"authorize URL:\s+http://127\.0\.0\.1:\d+/connect/oauth2", banner)
        answer = requests.get(
            f"{base}/{realm}/query",
            params={"query": "SELECT * FROM Customer", "minorversion": 75},
            headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["QueryResponse"]["Customer"]


def test_json_numbers_and_times_are_quickbooks_shaped(fake, us):
    answer = us.get("query", query="SELECT * FROM Invoice")
    invoice = answer.json()["QueryResponse"]["Invoice"][0]
    assert isinstance(invoice["TotalAmt"], float) and isinstance(invoice["Id"], str)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[78]:00$", invoice["MetaData"]["CreateTime"])
    assert json.loads(answer.text)["time"].count(".") == 1  # milliseconds
