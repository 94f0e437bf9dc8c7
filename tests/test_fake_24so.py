"""The fake 24SevenOffice driven by a real zeep client built from the WSDLs it serves: login and
identities, sessions, every service the exporter uses, per-item APIException, faults, the request
limit, timeout after commit; the seeded world; the sandbox command."""

import re
import time
from datetime import datetime
from decimal import Decimal

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.transports import Transport

from tests.fakes.command import served_alone
from tests.fakes.soap import Wsdl, parse_scalar, rewrite_addresses
from tests.fakes.twentyfour import (
    BLOCKED_IDENTITY_MESSAGE,
    LOGIN_THROTTLED_MESSAGE,
    SEARCH_PARAMETER_MESSAGE,
    SERVICE_PATHS,
    SESSION_MESSAGE,
    UNKNOWN_APPLICATION_MESSAGE,
    WSDL_DIR,
    FakeTwentyFour,
    wsdls_available,
)
from tests.fakes.twentyfour_data import (
    APPLICATION_ID,
    MAIN_CLIENT_ID,
    SECOND_CLIENT_ID,
    generate_world,
    kid_number,
    organization_number,
)

USER, PASSWORD = "api@nordlys.example", "Nordlys-API-1"
INVOICE_PROPERTIES = ["OrderId", "InvoiceId", "OrderStatus", "OrderTotalIncVat", "OCR", "ReferenceNumber"]


@pytest.fixture(scope="module")
def world():
    return generate_world(seed=3, products=30, companies=24)


@pytest.fixture
def fake(world, clock):
    with FakeTwentyFour(world=world, clock=clock) as running:
        yield running


class Soap:
    """One 24SO login as a connector would hold it: one requests session, zeep clients per service."""

    def __init__(self, fake, timeout=10):
        self.fake = fake
        self.session = requests.Session()
        self.transport = Transport(session=self.session, timeout=timeout, operation_timeout=timeout)
        self._clients = {}

    def __getattr__(self, service):
        if service not in SERVICE_PATHS:
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = zeep.Client(self.fake.wsdl_url(service), transport=self.transport)
        return self._clients[service].service

    def login(self, username=USER, password=PASSWORD, identity=None, application_id=APPLICATION_ID):
        credential = {"ApplicationId": application_id, "Username": username, "Password": password}
        if identity:
            credential["IdentityId"] = identity
        return self.Authenticate.Login(credential)

    def save(self, *orders):
        """SaveInvoices of ``orders``: the per-order results."""
        return self.InvoiceService.SaveInvoices({"InvoiceOrder": list(orders)})

    def forget_cookie(self):
        self.session.cookies.clear()

    def use_session(self, session_id):
        """Send the session id explicitly (as ``Cookie: ASP.NET_SessionId=…``)."""
        self.session.cookies.clear()
        self.session.headers["Cookie"] = f"ASP.NET_SessionId={session_id}"


@pytest.fixture
def soap(fake):
    client = Soap(fake)
    assert client.login()
    return client


def strings(*names):
    return {"string": list(names)}


def ints(*values):
    return {"int": list(values)}


def order(customer_id, *rows, **fields):
    return {"CustomerId": customer_id, "IncludeVAT": None, "InvoiceRows": {"InvoiceRow": list(rows)}, **fields}


# ------------------------------------------------------------------------------- WSDLs
def test_wsdls_are_served_with_addresses_rewritten(fake):
    for service, (path, _filename) in SERVICE_PATHS.items():
        response = requests.get(fake.wsdl_url(service), timeout=5)
        assert response.status_code == 200
        locations = re.findall(rb'address location="([^"]+)"', response.content)
        assert locations == [f"{fake.url}{path}".encode()], service  # one SOAP 1.1 port
        assert b"api.24sevenoffice.com" not in response.content
    # the path is case-insensitive (IIS) and "?WSDL" works too
    upper = requests.get(f"{fake.url}{SERVICE_PATHS['InvoiceService'][0].upper()}?WSDL", timeout=5)
    assert upper.status_code == 200 and b"SaveInvoices" in upper.content


def test_zeep_binds_to_the_fake(fake):
    client = zeep.Client(fake.wsdl_url("InvoiceService"))
    assert client.service._binding_options["address"] == fake.service_url("InvoiceService")


def test_rewrite_keeps_the_path():
    raw = b'<soap:address location="https://api.24sevenoffice.com/CRM/Company/V001/CompanyService.asmx" />'
    assert rewrite_addresses(raw, "http://127.0.0.1:9/") == (
        b'<soap:address location="http://127.0.0.1:9/CRM/Company/V001/CompanyService.asmx" />'
    )


def test_unknown_path_is_404(fake):
    assert requests.get(f"{fake.url}/nothing.asmx?wsdl", timeout=5).status_code == 404


def test_missing_wsdl_dir_is_a_clear_error(tmp_path):
    assert not wsdls_available(tmp_path)
    with pytest.raises(FileNotFoundError, match="WSDLs are not available"):
        FakeTwentyFour(wsdl_dir=tmp_path)


# ------------------------------------------------------------------------------- login
def test_login_returns_a_session_id_and_a_cookie(fake):
    soap = Soap(fake)
    session_id = soap.login()
    assert re.fullmatch(r"[a-z0-9]{24}", session_id)
    assert soap.session.cookies.get("ASP.NET_SessionId") == session_id
    assert soap.Authenticate.HasSession() is True
    assert fake.logins == 1 and fake.logins_by_user == {USER: 1}
    assert fake.sessions == [session_id]


def test_wrong_password_gives_an_empty_result_not_a_fault(fake):
    soap = Soap(fake)
    assert not soap.login(password="wrong")
    assert not soap.login(username="nobody@example.no")
    assert fake.failed_logins == 2 and fake.sessions == []
    raw = _post(fake, "Authenticate", "Login", _login_body(PASSWORD + "x"))
    assert raw.status_code == 200 and re.search(rb"<LoginResult\s*/>|<LoginResult></LoginResult>", raw.content)


def test_login_result_omitted_when_configured(world):
    with FakeTwentyFour(world=world, empty_login_result="omitted") as fake:
        raw = _post(fake, "Authenticate", "Login", _login_body("wrong"))
        assert raw.status_code == 200 and b"LoginResult" not in raw.content.replace(b"LoginResponse", b"")


def test_bad_application_id_is_a_fault(fake):
    soap = Soap(fake)
    with pytest.raises(Fault, match=UNKNOWN_APPLICATION_MESSAGE):
        soap.login(application_id="11111111-2222-3333-4444-555555555555")
    raw = _post(fake, "Authenticate", "Login", _login_body(PASSWORD, application_id="not-a-guid"))
    assert raw.status_code == 500 and b"Instance validation error" in raw.content
    raw = _post(fake, "Authenticate", "Login", _login_body(PASSWORD, application_id=None))
    assert raw.status_code == 500 and b"<faultstring>" in raw.content


def test_md5_password_form_is_accepted(fake):
    import hashlib

    digest = hashlib.md5(PASSWORD.encode("utf-16-le")).hexdigest()  # noqa: S324
    assert Soap(fake).login(password=digest)


def test_credential_elements_in_any_order(fake):
    body = (
        f"<credential><Username>{USER}</Username><Password>{PASSWORD}</Password>"
        f"<ApplicationId>{APPLICATION_ID}</ApplicationId></credential>"
    )
    raw = _post(fake, "Authenticate", "Login", body)
    assert raw.status_code == 200
    assert re.search(rb"<LoginResult>[a-z0-9]{24}</LoginResult>", raw.content)


def test_identities_select_the_client(fake, world):
    login = world.login(USER)
    main_identity, second_identity = login.identities
    soap = Soap(fake)
    soap.login()
    identities = soap.Authenticate.GetIdentities()
    assert [(i.Id, i.Client.Id, i.IsCurrent, i.IsDefault) for i in identities] == [
        (main_identity.id, MAIN_CLIENT_ID, True, True),
        (second_identity.id, SECOND_CLIENT_ID, False, False),
    ]
    assert soap.ClientService.GetClientInformation().Name == world.main.name
    # switch with SetIdentityById: the session now reaches the second client
    assert soap.Authenticate.SetIdentityById(second_identity.id) is True
    assert soap.Authenticate.GetIdentity().Client.Id == SECOND_CLIENT_ID
    assert soap.ClientService.GetClientInformation().Name == world.second.name
    assert soap.Authenticate.SetIdentityById("99999999-9999-4999-8999-999999999999") is False
    # or pick it at login
    other = Soap(fake)
    other.login(identity=second_identity.id)
    assert other.ClientService.GetClientInformation().OrganizationNumber == world.second.organization_number


def test_blocked_identity_is_a_fault(fake, world):
    blocked = world.login("blocked@nordlys.example")
    with pytest.raises(Fault, match=BLOCKED_IDENTITY_MESSAGE):
        Soap(fake).login("blocked@nordlys.example", blocked.password)
    with pytest.raises(Fault, match=BLOCKED_IDENTITY_MESSAGE):
        Soap(fake).login("blocked@nordlys.example", blocked.password, identity=blocked.identities[0].id)


def test_identity_the_user_does_not_have_is_a_fault(fake, world):
    other = world.login("fjord@fjord.example").identities[0].id
    with pytest.raises(Fault, match="IdentityId"):
        Soap(fake).login("bergen@nordlys.example", "Bergen-API-2", identity=other)


def test_identities_with_credential_need_no_session(fake, world):
    soap = Soap(fake)
    found = soap.Authenticate.GetIdentitiesWithCredential(
        {"ApplicationId": APPLICATION_ID, "Username": USER, "Password": PASSWORD}
    )
    assert [identity.Id for identity in found] == [identity.id for identity in world.login(USER).identities]


# ----------------------------------------------------------------------------- sessions
def test_calls_without_a_session_fault(fake):
    soap = Soap(fake)
    assert soap.Authenticate.HasSession() is False
    with pytest.raises(Fault, match=SESSION_MESSAGE):
        soap.ClientService.GetDepartmentList()
    soap.use_session("abcdefghijklmnopqrstuvwx")
    with pytest.raises(Fault, match=SESSION_MESSAGE):
        soap.ClientService.GetDepartmentList()


def test_session_id_sent_as_an_explicit_cookie_header(fake):
    soap = Soap(fake)
    session_id = soap.login()
    other = Soap(fake)
    other.use_session(session_id)
    assert len(other.ClientService.GetDepartmentList()) == 4


def test_expired_session_faults_until_a_new_login(fake, soap):
    assert soap.ClientService.GetDepartmentList()
    assert fake.expire_sessions() == 1
    assert soap.Authenticate.HasSession() is False
    with pytest.raises(Fault, match=SESSION_MESSAGE):
        soap.ClientService.GetDepartmentList()
    soap.login()
    assert soap.ClientService.GetDepartmentList()
    assert fake.logins == 2


def test_session_lifetime_with_the_clock(world, clock):
    with FakeTwentyFour(world=world, clock=clock, session_lifetime=600) as fake:
        soap = Soap(fake)
        soap.login()
        clock.advance(599)
        assert soap.Authenticate.HasSession() is True
        soap.ClientService.GetDepartmentList()  # using it keeps it alive
        clock.advance(599)
        assert soap.ClientService.GetDepartmentList()
        clock.advance(601)
        assert soap.Authenticate.HasSession() is False


def test_identity_blocked_after_login(fake, soap, world):
    fake.block_identity(world.login(USER).identities[0].id)
    with pytest.raises(Fault, match="Client is not authenticated on this identity"):
        soap.ClientService.GetDepartmentList()


# ------------------------------------------------------------------------ ClientService
def test_departments_and_client_information(soap, world):
    departments = soap.ClientService.GetDepartmentList()
    assert [(d.Id, d.Name) for d in departments] == [(d["Id"], d["Name"]) for d in world.main.departments]
    info = soap.ClientService.GetClientInformation()
    assert (info.Name, info.OrganizationNumber, info.DefaultCurrency) == (
        world.main.name,
        world.main.organization_number,
        "NOK",
    )
    assert [c.Symbol for c in soap.ClientService.GetCurrencyList()][:2] == ["NOK", "EUR"]
    assert soap.ClientService.GetVatTypeList()[0].Rate == Decimal(25)
    assert soap.ClientService.GetTypeGroupList("Sale")[0].Id == 1
    assert soap.AccountService.GetTaxCodeList()[0].TaxRate == Decimal(25)
    assert {user.Name for user in soap.ClientService.GetUsers()} >= {"Nordlys API", "Bergen API"}


# ----------------------------------------------------------------------- ProductService
def test_products_by_number_exact_and_ambiguous(soap, world):
    product = world.main.products[0]
    found = soap.ProductService.GetProducts({"No": product["No"]}, strings("Id", "No", "Name", "Price"))
    assert [(p.Id, p.No, p.Name, p.Price) for p in found] == [
        (product["Id"], product["No"], product["Name"], product["Price"])
    ]
    assert found[0].CategoryId is None  # only the returnProperties come back
    assert soap.ProductService.GetProducts({"No": "P0000"}, strings("Id")) is None  # exact, not a prefix
    twin = world.ambiguous_numbers[0]
    assert len(soap.ProductService.GetProducts({"No": twin}, strings("Id", "No"))) == 2


def test_products_in_one_call(soap, world):
    ids = [p["Id"] for p in world.main.products[:5]]
    found = soap.ProductService.GetProducts({"ProductIds": ints(*ids)}, strings("Id", "No"))
    assert [p.Id for p in found] == ids
    everything = soap.ProductService.GetProducts({}, strings("Id", "No"))
    assert len(everything) == len(world.main.products)
    since = soap.ProductService.GetProducts({"DateChanged": world.now.replace(tzinfo=None)}, strings("Id"))
    assert since is None  # zeep: an empty result wrapper is None


def test_no_match_prefix_setting(world):
    with FakeTwentyFour(world=world, product_no_match="prefix") as fake:
        soap = Soap(fake)
        soap.login()
        expected = [p["Id"] for p in world.main.products if p["No"].startswith("P0000")]
        assert len(expected) >= 9
        assert [p.Id for p in soap.ProductService.GetProducts({"No": "P0000"}, strings("Id"))] == expected


def test_save_products_creates_and_reports_errors_per_item(fake, soap):
    long_name = "x" * 126
    saved = soap.ProductService.SaveProducts(
        {
            "Product": [
                {"No": "NEW-1", "Name": "Ny vare", "CategoryId": 30, "Price": Decimal("99.50")},
                {"No": "NEW-2", "Name": "Ukjent kategori", "CategoryId": 999},
                {"No": "NEW-3", "Name": "Uten kategori"},
                {"No": "NEW-4", "Name": long_name, "CategoryId": 30},
                {"No": "NEW-5", "CategoryId": 30},
            ]
        }
    )
    assert saved[0].Id and saved[0].APIException is None and saved[0].Price == Decimal("99.50")
    assert [bool(item.APIException) for item in saved] == [False, True, True, True, True]
    assert "Category" in saved[1].APIException.Message and "ParameterNotFound" in saved[1].APIException.Type
    assert "too long" in saved[3].APIException.Message
    found = soap.ProductService.GetProducts({"No": "NEW-1"}, strings("Id", "CategoryId"))
    assert [(p.Id, p.CategoryId) for p in found] == [(saved[0].Id, 30)]
    assert soap.ProductService.GetProducts({"No": "NEW-2"}, strings("Id")) is None


def test_too_long_names_truncated_when_not_enforced(world):
    with FakeTwentyFour(world=world, enforce_lengths=False) as fake:
        soap = Soap(fake)
        soap.login()
        saved = soap.ProductService.SaveProducts({"Product": [{"No": "L", "Name": "y" * 200, "CategoryId": 1}]})
        assert saved[0].APIException is None and len(saved[0].Name) == 125


def test_save_products_updates_by_id(soap, world):
    product = world.main.products[1]
    saved = soap.ProductService.SaveProducts({"Product": [{"Id": product["Id"], "Name": "Omdøpt"}]})
    assert saved[0].APIException is None
    found = soap.ProductService.GetProducts({"Id": product["Id"]}, strings("Name", "No"))
    assert (found[0].Name, found[0].No) == ("Omdøpt", product["No"])


def test_categories(soap):
    categories = soap.ProductService.GetCategories(strings("Id", "Name"))
    assert [(c.Id, c.Name) for c in categories][:2] == [(1, "Standard"), (10, "Bemanning")]
    saved = soap.ProductService.SaveCategories({"Category": [{"Name": "Odoo-import"}]})
    assert saved[0].Id and saved[0].APIException is None
    assert saved[0].Id in [c.Id for c in soap.ProductService.GetCategories(strings("Id"))]


# ----------------------------------------------------------------------- CompanyService
COMPANY_PROPERTIES = strings("Id", "Name", "ExternalId", "OrganizationNumber", "Type")


def test_companies_by_each_search_parameter(soap, world):
    with_external = next(c for c in world.main.companies if c["ExternalId"])
    found = soap.CompanyService.GetCompanies({"ExternalId": with_external["ExternalId"]}, COMPANY_PROPERTIES)
    assert [c.Id for c in found] == [with_external["Id"]]
    with_org = next(c for c in world.main.companies if c["OrganizationNumber"])
    spaced = f"{with_org['OrganizationNumber'][:3]} {with_org['OrganizationNumber'][3:]}"
    found = soap.CompanyService.GetCompanies({"OrganizationNumber": spaced}, COMPANY_PROPERTIES)
    assert [c.Id for c in found] == [with_org["Id"]]
    found = soap.CompanyService.GetCompanies({"CompanyId": with_org["Id"]}, COMPANY_PROPERTIES)
    assert (found[0].Name, found[0].OrganizationNumber) == (with_org["Name"], with_org["OrganizationNumber"])
    ids = [c["Id"] for c in world.main.companies[:4]]
    assert [c.Id for c in soap.CompanyService.GetCompanies({"CompanyIds": ints(*ids)}, strings("Id"))] == ids
    assert soap.CompanyService.GetCompanies({"ExternalId": "nope"}, COMPANY_PROPERTIES) is None
    changed = soap.CompanyService.GetCompanies({"ChangedAfter": world.now.replace(tzinfo=None)}, strings("Id"))
    assert changed is None


def test_company_sync_list_pages_every_customer_dated_or_not(soap, fake):
    undated = fake.add_company("Gammel Kunde AS", external_id="odoo-old-1", undated=True)
    everyone = [c["Id"] for c in fake.client()["companies"]]
    page = soap.CompanyService.GetCompanySyncList({"Page": 1, "Active": None})
    assert (page.CurrentPage, page.TotalPages, page.TotalItems) == (1, 1, len(everyone))
    assert [item.CompanyId for item in page.Items.SyncCompany] == everyone
    assert next(i for i in page.Items.SyncCompany if i.CompanyId == undated["Id"]).ExternalId == "odoo-old-1"
    changed = soap.CompanyService.GetCompanySyncList({"Page": 1, "Active": None, "ChangedAfter": datetime(1900, 1, 1)})
    assert undated["Id"] not in [item.CompanyId for item in changed.Items.SyncCompany]  # no change date [I]


def test_companies_without_search_parameter_fault(soap):
    with pytest.raises(Fault, match=SEARCH_PARAMETER_MESSAGE):
        soap.CompanyService.GetCompanies({}, COMPANY_PROPERTIES)


def test_save_companies_assigns_ids_and_keeps_external_id(soap, fake):
    saved = soap.CompanyService.SaveCompanies(
        {
            "Company": [
                {
                    "ExternalId": "odoo-res.partner-42",
                    "OrganizationNumber": "999888777",
                    "Name": "Eksempel AS",
                    "Type": "Business",
                    "EmailAddresses": {"Invoice": {"Value": "faktura@eksempel.no"}},
                },
                {"ExternalId": "odoo-res.partner-43", "Name": "", "Type": "Business"},
                {"Id": 99999, "Name": "Gjettet id", "Type": "Business"},
                {"Name": "z" * 201, "Type": "Business"},
                {
                    "ExternalId": "odoo-res.partner-44",
                    "Name": "Kari Nordmann",
                    "FirstName": "Kari",
                    "Type": "Consumer",
                    "Private": True,
                },
            ]
        }
    )
    assert [bool(item.APIException) for item in saved] == [False, True, True, True, False]
    assert saved[0].Id and saved[4].Id == saved[0].Id + 1
    found = soap.CompanyService.GetCompanies({"ExternalId": "odoo-res.partner-42"}, COMPANY_PROPERTIES)
    assert [(c.Id, c.OrganizationNumber, c.Type) for c in found] == [(saved[0].Id, "999888777", "Business")]
    assert soap.CompanyService.GetCompanies({"CompanyEmail": "faktura@eksempel.no"}, strings("Id"))[0].Id == saved[0].Id
    # an existing Id updates (an upsert: S17's warning)
    again = soap.CompanyService.SaveCompanies({"Company": [{"Id": saved[0].Id, "Name": "Eksempel Nytt AS"}]})
    assert again[0].APIException is None
    assert fake.client()["companies"][-2]["Name"] == "Eksempel Nytt AS"


# ----------------------------------------------------------------------- InvoiceService
def _row(product, quantity="1", **fields):
    return {"ProductId": product["Id"], "Price": product["Price"], "Quantity": Decimal(quantity), **fields}


def test_save_invoices_per_order_results(fake, soap, world):
    customer, product = world.main.companies[0], world.main.products[0]
    results = soap.InvoiceService.SaveInvoices(
        {
            "InvoiceOrder": [
                order(
                    customer["Id"],
                    _row(product, "2", DepartmentId=300),
                    {"Type": "Text", "Name": "Uke 47"},
                    OrderStatus="Invoiced",
                    DepartmentId=300,
                    ReferenceNumber="INV/2026/00001",
                    InvoiceTitle="INV/2026/00001",
                    DateInvoiced="2026-11-30T00:00:00",
                    Currency={"Symbol": "NOK"},
                ),
                order(999999, _row(product), ReferenceNumber="INV/2026/00002"),
                order(customer["Id"], {"ProductId": 1, "Quantity": 1}, ReferenceNumber="INV/2026/00003"),
                order(customer["Id"], _row(product), DepartmentId=777, ReferenceNumber="INV/2026/00004"),
                order(customer["Id"], _row(product, DepartmentId=777), ReferenceNumber="INV/2026/00005"),
                order(customer["Id"], _row(product), YourReference="r" * 51, ReferenceNumber="INV/2026/00006"),
                order(customer["Id"], _row(product), Currency={"Symbol": "XTS"}, ReferenceNumber="INV/2026/00007"),
                order(customer["Id"], _row(product), OrderStatus="Invoiced", ReferenceNumber="INV/2026/00008"),
            ]
        }
    )
    assert [bool(item.APIException) for item in results] == [False, True, True, True, True, True, True, False]
    first = results[0]
    assert first.OrderId and first.InvoiceId is None  # save_returns_invoice_id=False [I]
    assert first.InvoiceRows.InvoiceRow[0].ProductNo == product["No"]
    assert first.InvoiceRows.InvoiceRow[0].ChangeState == "Add"
    assert "Customer" in results[1].APIException.Message
    assert "Product" in results[2].APIException.Message
    assert "DepartmentId 777" in results[3].APIException.Message
    assert "InvoiceRow.DepartmentId" in results[4].APIException.Message
    assert "YourReference" in results[5].APIException.Message
    assert results[7].OrderId == first.OrderId + 1
    stored = fake.invoice(first.OrderId)
    assert stored["OrderStatus"] == "Invoiced" and stored["DateInvoiced"].isoformat() == "2026-11-30T00:00:00"
    expected = product["Price"] * 2 * Decimal("1.25")
    assert stored["OrderTotalIncVat"] == expected.quantize(Decimal("0.01"))
    fetched = soap.InvoiceService.GetInvoices({"OrderIds": ints(first.OrderId)}, strings(*INVOICE_PROPERTIES), None)
    assert [(i.OrderId, i.OrderStatus, i.InvoiceId, i.OCR) for i in fetched] == [
        (first.OrderId, "Invoiced", stored["InvoiceId"], kid_number(stored["InvoiceId"]))
    ]
    assert fetched[0].InvoiceRows is None  # no rowReturnProperties
    assert fake.invoice(first.OrderId + 1)["InvoiceId"] == stored["InvoiceId"] + 1
    assert fake.duplicates() == {}
    assert fake.calls["SaveInvoices"] == 1


def test_save_returns_invoice_id_setting(world):
    with FakeTwentyFour(world=world, save_returns_invoice_id=True) as fake:
        soap = Soap(fake)
        soap.login()
        customer, product = world.main.companies[0], world.main.products[0]
        saved = soap.save(order(customer["Id"], _row(product), OrderStatus="Invoiced"))
        assert saved[0].InvoiceId == fake.invoice(saved[0].OrderId)["InvoiceId"] and saved[0].OCR


def test_invoiced_order_is_locked(fake, soap, world):
    customer, product = world.main.companies[1], world.main.products[2]
    saved = soap.save(order(customer["Id"], _row(product), OrderStatus="Invoiced"))
    order_id = saved[0].OrderId
    again = soap.save(order(customer["Id"], _row(product, "5"), OrderId=order_id, OrderStatus="Invoiced"))
    assert "invoiced" in again[0].APIException.Message
    assert fake.invoice(order_id)["InvoiceRows"][0]["Quantity"] == Decimal(1)
    # UpdateInvoices may still change the title and reference
    updated = soap.InvoiceService.UpdateInvoices(
        {"InvoiceOrder": [{"OrderId": order_id, "IncludeVAT": None, "InvoiceTitle": "Ny tittel"}]}
    )
    assert updated[0].APIException is None and fake.invoice(order_id)["InvoiceTitle"] == "Ny tittel"


def test_draft_order_updates_by_order_id(fake, soap, world):
    customer, product = world.main.companies[2], world.main.products[3]
    saved = soap.save(order(customer["Id"], _row(product), OrderStatus="Draft"))
    order_id = saved[0].OrderId
    again = soap.save(order(customer["Id"], _row(product, "3"), OrderId=order_id, OrderStatus="Invoiced"))
    assert again[0].APIException is None and again[0].OrderId == order_id
    stored = fake.invoice(order_id)
    assert stored["OrderStatus"] == "Invoiced" and stored["InvoiceRows"][0]["Quantity"] == Decimal(3)
    assert len(fake.client()["invoices"]) == len(world.main.invoices) + 1


def test_credit_note_references_the_invoice(fake, soap, world):
    customer, product = world.main.companies[3], world.main.products[4]
    invoice = soap.save(order(customer["Id"], _row(product, "2"), OrderStatus="Invoiced"))[0]
    invoice_id = fake.invoice(invoice.OrderId)["InvoiceId"]
    credit = soap.InvoiceService.SaveInvoices(
        {
            "InvoiceOrder": [
                order(
                    customer["Id"],
                    _row(product, "-2"),
                    OrderStatus="Invoiced",
                    ReferenceInvoiceId=invoice_id,
                    ReferenceOrderId=invoice.OrderId,
                ),
                order(customer["Id"], _row(product, "-1"), OrderStatus="Invoiced", ReferenceInvoiceId=1),
            ]
        }
    )
    assert credit[0].APIException is None and "ReferenceInvoiceId" in credit[1].APIException.Message
    stored = fake.invoice(credit[0].OrderId)
    assert stored["OrderTotalIncVat"] < 0 and stored["ReferenceInvoiceId"] == invoice_id


def test_unknown_enum_is_a_fault_for_the_whole_call(fake, soap, world):
    body = (
        f"<invoices><InvoiceOrder><CustomerId>{world.main.companies[0]['Id']}</CustomerId>"
        "<OrderStatus>Posted</OrderStatus></InvoiceOrder></invoices>"
    )
    raw = _post(fake, "InvoiceService", "SaveInvoices", body, cookie=soap.session.cookies["ASP.NET_SessionId"])
    assert raw.status_code == 500 and b"Instance validation error" in raw.content
    assert len(fake.client()["invoices"]) == len(world.main.invoices)


def test_scientific_notation_is_refused():
    with pytest.raises(ValueError, match="Instance validation error"):
        parse_scalar("decimal", "1.122062e+06")
    assert parse_scalar("decimal", "1122062.00") == Decimal("1122062.00")


def test_get_invoices_filters(fake, soap, world):
    existing = world.main.invoices
    by_customer = soap.InvoiceService.GetInvoices(
        {"CustomerIds": ints(existing[0]["CustomerId"])}, strings("OrderId", "ReferenceNumber"), strings("ProductId")
    )
    assert [(i.OrderId, i.ReferenceNumber) for i in by_customer] == [
        (existing[0]["OrderId"], existing[0]["ReferenceNumber"])
    ]
    assert by_customer[0].InvoiceRows.InvoiceRow[0].ProductId == existing[0]["InvoiceRows"][0]["ProductId"]
    by_invoice = soap.InvoiceService.GetInvoices({"InvoiceIds": ints(existing[1]["InvoiceId"])}, strings("OrderId"))
    assert [i.OrderId for i in by_invoice] == [existing[1]["OrderId"]]
    recent = soap.InvoiceService.GetInvoices({"ChangedAfter": world.now.replace(tzinfo=None)}, strings("OrderId"))
    assert recent is None
    states = soap.InvoiceService.GetInvoices({"OrderStates": {"OrderSlipStateType": ["Draft"]}}, strings("OrderId"))
    assert states is None
    with pytest.raises(Fault, match=SEARCH_PARAMETER_MESSAGE):
        soap.InvoiceService.GetInvoices({}, strings("OrderId"))


def test_find_an_invoice_saved_before_by_customer_and_time(fake, soap, world, clock):
    customer, product = world.main.companies[4], world.main.products[5]
    sent_at = world.now.replace(tzinfo=None)
    clock.advance(60)
    soap.save(order(customer["Id"], _row(product), OrderStatus="Invoiced", ReferenceNumber="INV/2026/00042"))
    found = soap.InvoiceService.GetInvoices(
        {"CustomerIds": ints(customer["Id"]), "ChangedAfter": sent_at}, strings("OrderId", "ReferenceNumber"), None
    )
    assert [i.ReferenceNumber for i in found] == ["INV/2026/00042"]


def test_payment_methods_and_order_sync_list(soap, world):
    assert [m.Name for m in soap.InvoiceService.GetPaymentMethods()] == ["Bank", "Kontant"]
    ids = soap.InvoiceService.GetOrderSyncList({"RegisteredAfter": "2000-01-01T00:00:00"})
    assert ids == [o["OrderId"] for o in world.main.invoices]


# ----------------------------------------------------------------- faults and the limit
def test_request_limit_fault_until_the_next_window(world, clock):
    with FakeTwentyFour(world=world, clock=clock, request_limit=5) as fake:
        soap = Soap(fake)
        soap.login()  # counts as one
        for _ in range(4):
            soap.ClientService.GetDepartmentList()
        with pytest.raises(Fault, match=r"Limit exceeded by 1\. Request is blocked\. Quarantine ends at"):
            soap.ClientService.GetDepartmentList()
        with pytest.raises(Fault, match="Limit exceeded by 2"):
            soap.ProductService.GetCategories(strings("Id"))
        # another client of the same user has its own budget
        other = Soap(fake)
        other.login(identity=world.login(USER).identities[1].id)
        assert other.ClientService.GetDepartmentList()
        clock.advance(3600)
        assert soap.ClientService.GetDepartmentList()


def test_limit_headers(fake, soap):
    response = _post(fake, "ClientService", "GetDepartmentList", "", cookie=soap.session.cookies["ASP.NET_SessionId"])
    assert response.status_code == 200
    assert int(response.headers["APILimitRemaining"]) == 7200 - 2
    assert response.headers["APILimitReset"].endswith("Z")


def test_fail_next_is_one_shot(fake, soap):
    fake.fail_next("GetDepartmentList", "Database timeout")
    with pytest.raises(Fault, match="Database timeout"):
        soap.ClientService.GetDepartmentList()
    assert soap.ClientService.GetDepartmentList()
    assert fake.calls["GetDepartmentList"] == 2


def test_timeout_after_commit_drop(fake, soap, world):
    customer, product = world.main.companies[5], world.main.products[6]
    fake.timeout_after_commit("SaveInvoices")
    with pytest.raises(requests.exceptions.ConnectionError):
        soap.save(order(customer["Id"], _row(product), OrderStatus="Invoiced", ReferenceNumber="INV/2026/00100"))
    saved = fake.invoices_for("INV/2026/00100")
    assert len(saved) == 1 and saved[0]["InvoiceId"]  # committed before the connection dropped
    # a careless retry duplicates it: duplicates() shows it
    soap.save(order(customer["Id"], _row(product), OrderStatus="Invoiced", ReferenceNumber="INV/2026/00100"))
    assert list(fake.duplicates()) == ["INV/2026/00100"]


def test_timeout_after_commit_delay(world):
    with FakeTwentyFour(world=world) as fake:
        soap = Soap(fake, timeout=0.3)
        soap.login()
        customer, product = world.main.companies[5], world.main.products[6]
        fake.timeout_after_commit("SaveInvoices", mode="delay", delay=1.0)
        with pytest.raises(requests.exceptions.Timeout):
            soap.save(order(customer["Id"], _row(product), ReferenceNumber="INV/2026/00101"))
        assert len(fake.invoices_for("INV/2026/00101")) == 1


def test_transport_fault_injection(fake, soap):
    assert soap.ClientService.GetDepartmentList()  # the WSDL is loaded: the fault hits the call
    fake.inject(status=503, body="Service Unavailable", content_type="text/plain")
    with pytest.raises(zeep.exceptions.TransportError):
        soap.ClientService.GetDepartmentList()
    assert soap.ClientService.GetDepartmentList()


def test_wrong_soap_action_and_soap12(fake, soap):
    cookie = soap.session.cookies["ASP.NET_SessionId"]
    raw = _post(fake, "ClientService", "GetDepartmentList", "", cookie=cookie, action="urn:nothing")
    assert raw.status_code == 500 and b"did not recognize the value of HTTP Header SOAPAction" in raw.content
    raw = _post(fake, "ClientService", "GetDepartmentList", "", cookie=cookie, version="1.2")
    assert raw.status_code == 200 and b"http://www.w3.org/2003/05/soap-envelope" in raw.content
    assert b"<Name>Oslo</Name>" in raw.content


def test_every_operation_of_the_served_wsdls_is_implemented(fake):
    for service, (_path, filename) in SERVICE_PATHS.items():
        wsdl = Wsdl((WSDL_DIR / filename).read_bytes())
        missing = [name for name in sorted(wsdl.operations) if not hasattr(fake, f"op_{name}")]
        assert not missing, f"{service}: {missing}"


def test_operation_outside_the_wsdl_is_refused_like_asmx(fake, soap):
    cookie = soap.session.cookies["ASP.NET_SessionId"]
    raw = _post(fake, "ProductService", "GetAllPriceLists", "", cookie=cookie)
    assert raw.status_code == 500 and b"did not recognize the value of HTTP Header SOAPAction" in raw.content


def test_counters(fake, soap):
    soap.ClientService.GetDepartmentList()
    soap.ClientService.GetDepartmentList()
    assert fake.calls == {"Login": 1, "GetDepartmentList": 2}
    assert fake.soap_calls == 3
    fake.reset_counters()
    assert fake.soap_calls == 0 and fake.logins == 0


def test_expire_sessions_before_the_nth_call(fake, soap, world):
    customer, product = world.main.companies[6], world.main.products[7]
    fake.expire_sessions_before("SaveInvoices", nth=2)
    first = soap.save(order(customer["Id"], _row(product)))
    assert first[0].OrderId
    with pytest.raises(Fault, match=SESSION_MESSAGE):
        soap.save(order(customer["Id"], _row(product)))
    assert soap.Authenticate.HasSession() is False
    soap.login()
    assert soap.save(order(customer["Id"], _row(product)))[0].OrderId
    assert fake.calls["SaveInvoices"] == 3 and fake.logins == 2


def test_fail_items_fails_only_those_items(fake, soap, world):
    customer, product = world.main.companies[7], world.main.products[8]
    fake.fail_items("SaveInvoices", "Timeout expired")
    results = soap.save(*(order(customer["Id"], _row(product), ReferenceNumber=f"INV/F/{n}") for n in range(3)))
    assert [item.APIException.Type if item.APIException else None for item in results] == [
        "Office24Seven.Library.Data.DataBaseServerException",
        None,
        None,
    ]
    assert fake.invoices_for("INV/F/0") == [] and len(fake.invoices_for("INV/F/1")) == 1


def test_stats_for_the_benchmark(fake, soap, world):
    customer, product = world.main.companies[0], world.main.products[0]
    soap.save(order(customer["Id"], _row(product)))
    assert fake.stats() == {
        "soap_calls": 2,
        "save_invoices_calls": 1,
        "logins": 1,
        "calls": {"Login": 1, "SaveInvoices": 1},
    }


def test_login_throttle(world, clock):
    with FakeTwentyFour(world=world, clock=clock, login_limit_per_minute=2) as fake:
        soap = Soap(fake)
        assert soap.login() and soap.login()
        with pytest.raises(Fault, match=LOGIN_THROTTLED_MESSAGE):
            soap.login()
        clock.advance(61)
        assert soap.login()
        assert fake.logins_by_user == {USER: 4}


def test_too_many_ids_in_one_search(soap):
    with pytest.raises(Fault, match="Too many ids in OrderIds: 1001"):
        soap.InvoiceService.GetInvoices({"OrderIds": ints(*range(1, 1002))}, strings("OrderId"))
    ids = list(range(10001, 11001))  # 1,000 ids is allowed
    assert len(soap.CompanyService.GetCompanies({"CompanyIds": ints(*ids)}, strings("Id"))) == 24


def test_api_exception_first_setting(world):
    with FakeTwentyFour(world=world, api_exception_first=True) as fake:
        soap = Soap(fake)
        session_id = soap.login()
        body = "<invoices><InvoiceOrder><CustomerId>1</CustomerId><IncludeVAT xsi:nil='true'/></InvoiceOrder>"
        body += "</invoices>"
        raw = _post(fake, "InvoiceService", "SaveInvoices", body, cookie=session_id)
        item = etree.fromstring(raw.content).find(".//{http://24sevenOffice.com/webservices}InvoiceOrder")
        assert etree.QName(item[0]).localname == "APIException"


def test_exceed_request_limit_on_demand(fake, soap, clock):
    fake.exceed_request_limit()
    with pytest.raises(Fault, match="Limit exceeded by 1") as caught:
        soap.ClientService.GetDepartmentList()
    window_end = (int(clock() // 3600) + 1) * 3600
    assert time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(window_end)) in str(caught.value)
    clock.advance(3600)
    assert soap.ClientService.GetDepartmentList()


def test_added_clients_users_and_data(fake):
    client_id = fake.add_client("Tredje Klient AS", departments=((7, "Tromsø"),))
    login = fake.add_user("tromso@example.no", "Tromso-5", [client_id, MAIN_CLIENT_ID])
    soap = Soap(fake)
    soap.login("tromso@example.no", "Tromso-5")
    assert soap.ClientService.GetClientInformation().Name == "Tredje Klient AS"
    assert [(d.Id, d.Name) for d in soap.ClientService.GetDepartmentList()] == [(7, "Tromsø")]
    product = fake.add_product("DUP-1", "Første", client_id=client_id)
    fake.add_product("DUP-1", "Andre", client_id=client_id)
    assert len(soap.ProductService.GetProducts({"No": "DUP-1"}, strings("Id"))) == 2
    company = fake.add_company("Kunde AS", client_id=client_id, organization_number="923609016", external_id="k-1")
    found = soap.CompanyService.GetCompanies({"OrganizationNumber": "923609016"}, strings("Id", "ExternalId"))
    assert [(c.Id, c.ExternalId) for c in found] == [(company["Id"], "k-1")]
    saved = soap.save(order(company["Id"], _row(product), DepartmentId=7, OrderStatus="Invoiced"))
    assert saved[0].APIException is None
    assert fake.invoice(saved[0].OrderId, client_id=client_id)["InvoiceId"]
    assert soap.Authenticate.SetIdentityById(login.identities[1].id) is True
    assert soap.ClientService.GetClientInformation().Name == fake.world.main.name


def test_load_starts_afresh(fake, soap, world):
    customer, product = world.main.companies[0], world.main.products[0]
    soap.save(order(customer["Id"], _row(product)))
    fake.fail_next("GetDepartmentList")
    fake.load(world)
    assert len(fake.client()["invoices"]) == len(world.main.invoices)
    assert fake.sessions == []
    soap.login()
    assert soap.ClientService.GetDepartmentList()  # the queued fault is gone
    assert world.main.invoices == generate_world(seed=3, products=30, companies=24).main.invoices


# ------------------------------------------------------------------------------- world
def test_world_is_deterministic():
    first, again = generate_world(seed=5, products=20), generate_world(seed=5, products=20)
    assert first.main.products == again.main.products and first.main.companies == again.main.companies
    assert [login.identities for login in first.logins] == [login.identities for login in again.logins]
    assert generate_world(seed=6, products=20).main.companies != first.main.companies


def test_world_has_what_the_connector_tests_need(world):
    main = world.main
    numbers = [p["No"] for p in main.products]
    assert all(numbers.count(number) == 2 for number in world.ambiguous_numbers) and world.ambiguous_numbers
    assert any(not c["OrganizationNumber"] for c in main.companies if c["Type"] == "Business")
    assert any(c["Type"] == "Consumer" for c in main.companies)
    assert any(c["ExternalId"] for c in main.companies)
    assert len(world.login(USER).identities) == 2
    assert {d["Id"] for d in main.departments} == {1, 300, 400, 500}


def test_organization_numbers_are_modulus_11():
    import random

    number = organization_number(random.Random(1))
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    remainder = sum(int(d) * w for d, w in zip(number[:8], weights, strict=True)) % 11
    assert len(number) == 9 and int(number[8]) == (0 if remainder == 0 else 11 - remainder)


def test_schema_reader_knows_the_operations(world):
    wsdl = Wsdl((WSDL_DIR / "invoiceService.wsdl").read_bytes())
    assert {"SaveInvoices", "GetInvoices", "UpdateInvoices"} <= wsdl.operations
    assert wsdl.actions["http://24sevenOffice.com/webservices/SaveInvoices"] == "SaveInvoices"


# ------------------------------------------------------------------------------ sandbox
def test_sandbox_command_prints_base_url_and_logins():
    with served_alone("tests.fakes.twentyfour", "--port", "0", "--seed", "1") as output:
        base = re.search(r"at (http://127\.0\.0\.1:\d+)", output).group(1)
        assert f"login {USER} / {PASSWORD}" in output and APPLICATION_ID in output
        assert requests.get(f"{base}{SERVICE_PATHS['Authenticate'][0]}?wsdl", timeout=5).status_code == 200


# ------------------------------------------------------------------------------ helpers
def _login_body(password, application_id=APPLICATION_ID):
    app = f"<ApplicationId>{application_id}</ApplicationId>" if application_id else ""
    return f"<credential>{app}<Username>{USER}</Username><Password>{password}</Password></credential>"


def _post(fake, service, operation, inner, cookie=None, action=None, version="1.1"):
    namespace = "http://24sevenOffice.com/webservices"
    env = "http://schemas.xmlsoap.org/soap/envelope/" if version == "1.1" else "http://www.w3.org/2003/05/soap-envelope"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{env}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><s:Body>'
        f'<web:{operation} xmlns:web="{namespace}">{inner}</web:{operation}></s:Body></s:Envelope>'
    )
    if version == "1.1":
        action = action or f"{namespace}/{operation}"
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{namespace}/{operation}"'}
    if cookie:
        headers["Cookie"] = f"ASP.NET_SessionId={cookie}"
    return requests.post(fake.service_url(service), data=body.encode(), headers=headers, timeout=5)
