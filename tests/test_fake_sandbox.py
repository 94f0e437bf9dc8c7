"""The sandbox (tests/fakes/sandbox.py): one coherent world over the three fakes, its state for
Odoo, and the command ``make run`` starts (state file, Ctrl-C, SIGTERM)."""

import json
import signal
import socket
import subprocess
import sys
from datetime import date, timedelta

import pytest
import requests
import zeep

from tests.fakes.consent import consent
from tests.fakes.sandbox import (
    CLIENTS_IN_XERO,
    PRODUCTS,
    TWENTYFOUR_DEPARTMENTS,
    TWENTYFOUR_LOGINS,
    Sandbox,
    build_world,
    initial_load_companies,
)
from tests.fakes.twentyfour_data import MAIN_CLIENT_ID
from tests.test_fake_jobadder import REPO, _read_until


def expected_in_initial_load(placement, today):
    """The core's rule (recruitment_sync/tests/test_jobadder_sync.py), on the fake's records."""
    if not placement.approved or placement.bad:
        return False
    day = placement.start_date if placement.type == "Permanent" else placement.end_date
    return not (isinstance(day, date) and day < today)


TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def world():
    return build_world(seed=1, today=TODAY, placements=120)


@pytest.fixture(scope="module")
def sandbox(world):
    with Sandbox(world, ports={"jobadder": 0, "xero": 0, "24so": 0, "quickbooks": 0, "invoiceocean": 0}) as running:
        yield running


def test_world_is_deterministic_and_dated_today(world):
    again = build_world(seed=1, today=TODAY, placements=120)
    assert again.invoiced_clients == world.invoiced_clients
    assert world.agency.today == world.xero.today == TODAY
    assert world.twentyfour.now == world.agency.now
    assert build_world(seed=2, today=TODAY, placements=120).invoiced_clients != world.invoiced_clients


def test_agency_has_every_kind_of_placement(world):
    agency = world.agency
    assert {"Permanent", "Contract", "Temporary", "Credit"} <= {p.type for p in agency.placements}
    ended = [p for p in agency.placements if isinstance(p.end_date, date) and p.end_date < TODAY]
    future = [p for p in agency.placements if isinstance(p.start_date, date) and p.start_date > TODAY]
    assert ended and future
    assert len(agency.bad_placements) >= 3  # they become failed lines with a reason


def test_invoiced_clients_are_jobadder_clients_of_the_initial_load(world):
    assert len(world.invoiced_clients) == CLIENTS_IN_XERO
    for companies, today in (
        (initial_load_companies(world.agency), TODAY),
        (initial_load_companies(world.agency, margin_days=7), TODAY + timedelta(days=7)),
    ):
        for company in companies:
            placements = [p for p in world.agency.placements if p.company_id == company.company_id and not p.bad]
            assert any(expected_in_initial_load(p, today) for p in placements)
    later = [company.name.strip() for company in initial_load_companies(world.agency, margin_days=7)]
    assert list(world.invoiced_clients) == later[:CLIENTS_IN_XERO]


def test_xero_organisation_knows_the_invoiced_clients(sandbox, world):
    uk = world.xero.organisations[0]
    names = {contact["Name"] for contact in sandbox.xero.contacts(uk.organisation_id)}
    assert set(world.invoiced_clients) <= names
    codes = {account.get("Code") for account in uk.accounts}
    assert {account for _number, _name, _price, account, _category in PRODUCTS} <= codes


def test_state_serves_the_three_fakes(sandbox, world):
    state = json.loads(json.dumps(sandbox.state()))  # what --state-file writes
    jobadder = state["jobadder"]
    answer = requests.get(
        f"{jobadder['api_url']}/placements",
        headers={"Authorization": f"Bearer {jobadder['token']['access_token']}"},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["totalCount"] == len(world.agency.placements)
    query = consent(
        f"{jobadder['authorize_url']}?response_type=code&client_id={jobadder['client_id']}"
        "&redirect_uri=http://localhost:8069/cb&scope=read+offline_access&state=s"
    )
    assert query["code"] and query["state"] == "s"
    xero = state["xero"]
    organisation = requests.get(
        f"{xero['api_url']}/Organisation",
        headers=sandbox.xero.headers(xero["token"], xero["organisation"]["id"]),
        timeout=5,
    )
    assert organisation.status_code == 200
    assert organisation.json()["Organisations"][0]["Name"] == xero["organisation"]["name"]
    assert xero["other_organisation"]["id"] != xero["organisation"]["id"]


def test_deep_links_of_the_sandbox_lead_to_the_stand_ins(sandbox):
    """Open in JobAdder and View in Xero (pointed at the stand-ins by the sandbox) show a page."""
    state = sandbox.state()
    page = requests.get(f"{state['jobadder']['url']}/placements/500083", timeout=10)
    assert page.status_code == 200
    assert "Stand-in of JobAdder" in page.text and "500083" in page.text
    page = requests.get(f"{state['xero']['url']}/app/!abc12/invoicing/view/some-id", timeout=10)
    assert page.status_code == 200
    assert "Stand-in of Xero" in page.text and "invoicing/view/some-id" in page.text


def test_24so_client_has_departments_products_and_the_sandbox_logins(sandbox):
    state = sandbox.state()["24so"]
    assert state["departments"] == TWENTYFOUR_DEPARTMENTS
    assert [login["username"] for login in state["logins"]] == [username for username, _depts in TWENTYFOUR_LOGINS]
    auth = zeep.Client(sandbox.twentyfour.wsdl_url("Authenticate"))
    login = state["logins"][1]
    session = auth.service.Login(
        {"ApplicationId": state["application_id"], "Username": login["username"], "Password": login["password"]}
    )
    assert session
    client = sandbox.world.twentyfour.clients[MAIN_CLIENT_ID]
    assert {d["Id"] for d in client.departments} >= set(TWENTYFOUR_DEPARTMENTS.values())
    stored = {product["No"] for product in sandbox.twentyfour.client(MAIN_CLIENT_ID)["products"]}
    assert {number for number, *_rest in PRODUCTS} <= stored


def test_invoiceocean_account_has_the_invoiced_clients_departments_and_documents(sandbox, world):
    state = json.loads(json.dumps(sandbox.state()))["invoiceocean"]
    assert state["account_url"] == f"{state['url']}/{state['prefix']}"

    def listed(resource, **params):
        answer = requests.get(
            f"{state['account_url']}/{resource}.json",
            params={"api_token": state["api_token"], "per_page": 100, **params},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    clients = {client["name"]: client for client in listed("clients")}
    # Odoo's sandbox customers (the invoiced JobAdder clients) are InvoiceOcean clients with a tax number.
    assert set(world.invoiced_clients) <= set(clients)
    assert sorted(state["shared_clients"]) == sorted(world.invoiced_clients)
    assert all(clients[name]["tax_no"] for name in world.invoiced_clients)
    assert len(listed("departments")) >= 2
    kinds = {document["kind"] for document in listed("invoices", period="all")}
    assert {"vat", "proforma", "receipt"} <= kinds
    refused = requests.get(f"{state['account_url']}/clients.json", params={"api_token": "wrong"}, timeout=5)
    assert refused.status_code == 401


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_command_writes_its_state_and_stops_on_signals(tmp_path, stop_signal):
    state_file = tmp_path / "sandbox.json"
    command = [sys.executable, "-m", "tests.fakes.sandbox", "--placements", "30", "--state-file", str(state_file)]
    command += ["--jobadder-port", "0", "--xero-port", "0", "--tso-port", "0"]
    command += ["--quickbooks-port", "0", "--invoiceocean-port", "0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        output = _read_until(process, "Serving until Ctrl-C.", timeout=60)
        assert "JobAdder" in output and "Xero" in output and "24SevenOffice" in output
        assert "InvoiceOcean" in output
        state = json.loads(state_file.read_text())
        login = requests.get(state["jobadder"]["authorize_url"], timeout=5)
        assert login.status_code in (200, 400)  # the page answers (400: no client_id given)
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert "Sandbox stopped." in process.stdout.read().decode()
        with pytest.raises(requests.ConnectionError):
            requests.get(state["jobadder"]["authorize_url"], timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_busy_port_names_the_stand_in(world):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sandbox = Sandbox(world, ports={"jobadder": 0, "xero": port, "24so": 0, "quickbooks": 0, "invoiceocean": 0})
        with pytest.raises(OSError, match=f"the Xero stand-in, port {port}"):
            sandbox.start()
        assert sandbox.jobadder._server is None  # what had started is stopped again
