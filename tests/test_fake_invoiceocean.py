"""The fake InvoiceOcean: the API token (query, body, Bearer, with prefix) and 401, the account's
address, paging / order / period / filters, money as strings and comma decimals, ``updated_at`` moving,
``oid_unique``, positions, payments (partial / paid), departments and products, webhooks with the real
payload shapes (immediate, queued, reversed, duplicated), injected faults (429, 5xx, after commit), the
seeded account and the command that serves it alone.

Pure Python: ``python3 -m pytest -p no:cacheprovider -p no:odoo tests/test_fake_invoiceocean.py``."""

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import requests

from tests.fakes.command import served_alone
from tests.fakes.invoiceocean import KINDS, FakeInvoiceOcean, format_money, parse_money
from tests.fakes.invoiceocean_data import generate_account
from tests.fakes.oauth2 import ManualClock
from tests.fakes.service import FakeService

CLIENTS = ("Meridian Freight", "Tasman Mining", "Summit Foods")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


class Receiver(FakeService):
    """Where webhooks land: records every POST."""

    rules = (("/hooks", "hook", ["POST"]),)

    def on_hook(self, request):
        return self.json_response({"ok": True})


@pytest.fixture
def clock():
    # Ten hours after the seeded account's now (the evening before its today): its today, 09:00.
    return ManualClock((generate_account(seed=2, clients=CLIENTS).now + timedelta(hours=10)).timestamp())


@pytest.fixture
def fake(clock):
    with FakeInvoiceOcean(account=generate_account(seed=2, clients=CLIENTS), clock=clock) as service:
        yield service


@pytest.fixture
def receiver():
    with Receiver() as service:
        yield service


def call(fake, method, path, token=True, params=None, body=None, **kwargs):
    params = dict(params or {})
    if token and method in ("GET", "DELETE"):
        params["api_token"] = fake.api_token
    if token and body is not None:
        body = {"api_token": fake.api_token, **body}
    return requests.request(method, f"{fake.account_url}{path}", params=params, json=body, timeout=10, **kwargs)


def new_invoice(fake, **fields):
    client = fake.account.notable["shared_clients"][0]
    invoice = {
        "kind": "vat",
        "client_id": client,
        "positions": [{"name": "Placement fee", "quantity": 1, "price_net": "1000", "tax": 23}],
    }
    invoice.update(fields)
    return call(fake, "POST", "/invoices.json", body={"invoice": invoice})


def wait_for(condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# ------------------------------------------------------------------------------ auth and address
def test_token_in_query_in_body_as_bearer_and_with_prefix(fake):
    assert call(fake, "GET", "/clients.json").status_code == 200
    answer = call(fake, "POST", "/clients.json", body={"client": {"name": "Body Token Ltd"}})
    assert answer.status_code == 201 and answer.json()["name"] == "Body Token Ltd"
    bearer = {"Authorization": f"Bearer {fake.api_token}"}
    assert call(fake, "GET", "/departments.json", token=False, headers=bearer).status_code == 200
    with_prefix = {"api_token": f"{fake.api_token}/{fake.prefix}"}
    assert call(fake, "GET", "/products.json", token=False, params=with_prefix).status_code == 200


@pytest.mark.parametrize("params", [{}, {"api_token": "wrong"}])
def test_missing_or_wrong_token_is_401_with_the_error_shape(fake, params):
    answer = call(fake, "GET", "/clients.json", token=False, params=params)
    assert answer.status_code == 401
    assert answer.json()["code"] == "error" and answer.json()["message"]
    wrong_body = call(fake, "POST", "/clients.json", token=False, body={"api_token": "x", "client": {"name": "N"}})
    assert wrong_body.status_code == 401
    assert not any(client["name"] == "N" for client in fake.account.clients.values())


def test_account_is_addressed_by_path_prefix_or_host(fake):
    params = {"api_token": fake.api_token}
    by_host = requests.get(
        f"{fake.url}/clients.json", params=params, headers={"Host": f"{fake.prefix}.invoiceocean.com"}, timeout=10
    )
    assert by_host.status_code == 200 and by_host.json()
    other_host = requests.get(
        f"{fake.url}/clients.json", params=params, headers={"Host": "other.invoiceocean.com"}, timeout=10
    )
    assert other_host.status_code == 404
    assert requests.get(f"{fake.url}/other/clients.json", params=params, timeout=10).status_code == 404


# ------------------------------------------------------------------------------ lists
def test_paging_caps_per_page_at_100_without_totals(fake):
    for number in range(120):
        fake.create_client({"name": f"Paging Client {number:03d}"}, notify=False)
    total = len([c for c in fake.account.clients.values() if not c["deleted"]])
    first = call(fake, "GET", "/clients.json", params={"per_page": 500, "page": 1})
    assert isinstance(first.json(), list) and len(first.json()) == 100
    assert "X-Total-Count" not in first.headers and "Link" not in first.headers
    second = call(fake, "GET", "/clients.json", params={"per_page": 100, "page": 2})
    assert len(second.json()) == total - 100
    assert not {c["id"] for c in first.json()} & {c["id"] for c in second.json()}
    assert len(call(fake, "GET", "/clients.json").json()) == 25  # default page size
    assert call(fake, "GET", "/clients.json", params={"page": 9}).json() == []


def test_order_updated_at_desc_and_updated_at_moves_on_every_change(fake, clock):
    client = fake.account.notable["shared_clients"][1]
    before = call(fake, "GET", f"/clients/{client}.json").json()["updated_at"]
    answer = call(fake, "PUT", f"/clients/{client}.json", body={"client": {"phone": "+44 20 7946 0000"}})
    after = answer.json()["updated_at"]
    assert STAMP.match(after) and after > before
    again = call(fake, "PUT", f"/clients/{client}.json", body={"client": {"phone": "+44 20 7946 0001"}}).json()
    assert again["updated_at"] > after  # same clock second: still later
    newest = call(fake, "GET", "/clients.json", params={"order": "updated_at.desc", "per_page": 3}).json()
    assert newest[0]["id"] == client
    stamps = [c["updated_at"] for c in call(fake, "GET", "/clients.json", params={"order": "updated_at.desc"}).json()]
    assert stamps == sorted(stamps, reverse=True)
    by_id = [c["id"] for c in call(fake, "GET", "/clients.json", params={"order": "id", "per_page": 100}).json()]
    assert by_id == sorted(by_id)
    assert call(fake, "GET", "/clients.json", params={"order": "password"}).status_code == 422


def test_period_filters_documents_by_issue_date(fake):
    today = fake.today()
    everything = call(fake, "GET", "/invoices.json", params={"period": "all", "per_page": 100}).json()
    assert len(everything) == len(fake.account.invoices)
    dates = {i["id"]: i["issue_date"] for i in everything}
    this_month = call(fake, "GET", "/invoices.json", params={"period": "this_month", "per_page": 100}).json()
    assert this_month and all(i["issue_date"][:7] == today.isoformat()[:7] for i in this_month)
    assert call(fake, "GET", "/invoices.json", params={"per_page": 100}).json() == this_month  # undocumented default
    last_year = call(fake, "GET", "/invoices.json", params={"period": "last_year", "per_page": 100}).json()
    assert last_year and all(i["issue_date"].startswith(str(today.year - 1)) for i in last_year)
    date_from = (today - timedelta(days=100)).isoformat()
    more = call(fake, "GET", "/invoices.json", params={"period": "more", "date_from": date_from, "per_page": 100})
    assert {i["id"] for i in more.json()} == {k for k, v in dates.items() if v >= date_from}
    assert len(more.json()) < len(everything)
    assert call(fake, "GET", "/invoices.json", params={"period": "someday"}).status_code == 422


def test_positions_only_with_include_positions_and_on_get(fake):
    listed = call(fake, "GET", "/invoices.json", params={"period": "all"}).json()
    assert listed and all("positions" not in invoice for invoice in listed)
    with_lines = call(fake, "GET", "/invoices.json", params={"period": "all", "include_positions": "true"}).json()
    assert all(invoice["positions"] for invoice in with_lines)
    one = call(fake, "GET", f"/invoices/{listed[0]['id']}.json").json()
    assert one["positions"][0]["invoice_id"] == one["id"]
    total = sum(Decimal(line["total_price_gross"]) for line in one["positions"])
    assert Decimal(one["price_gross"]) == total


def test_invoice_filters_kinds_client_and_oid(fake):
    new_invoice(fake, oid="SO-77", kind="proforma")
    params = {"period": "all", "per_page": 100}
    proformas = call(fake, "GET", "/invoices.json", params={**params, "kind": "proforma"}).json()
    assert proformas and {i["kind"] for i in proformas} == {"proforma"}
    some = call(fake, "GET", "/invoices.json?kinds[]=vat&kinds[]=receipt", params=params).json()
    assert some and {i["kind"] for i in some} <= {"vat", "receipt"}
    assert [i["oid"] for i in call(fake, "GET", "/invoices.json", params={**params, "oid": "SO-77"}).json()] == [
        "SO-77"
    ]
    client = fake.account.notable["shared_clients"][0]
    mine = call(fake, "GET", "/invoices.json", params={**params, "client_id": client}).json()
    assert mine and all(i["client_id"] == client for i in mine)


def test_clients_search_and_external_id(fake):
    call(fake, "POST", "/clients.json", body={"client": {"name": "Odoo Partner", "external_id": "odoo-res.partner-42"}})
    found = call(fake, "GET", "/clients.json", params={"external_id": "odoo-res.partner-42"}).json()
    assert [c["name"] for c in found] == ["Odoo Partner"]
    tax_no = fake.account.clients[fake.account.notable["shared_clients"][0]]["tax_no"]
    assert [c["tax_no"] for c in call(fake, "GET", "/clients.json", params={"tax_no": tax_no}).json()] == [tax_no]
    assert call(fake, "POST", "/clients.json", body={"client": {"name": " "}}).json() == {
        "code": "error",
        "message": {"name": ["can't be blank"]},
    }


def test_deleted_client_leaves_the_list_but_answers_get(fake):
    client = fake.account.notable["shared_clients"][2]
    assert call(fake, "DELETE", f"/clients/{client}.json").status_code == 200
    assert client not in [c["id"] for c in call(fake, "GET", "/clients.json", params={"per_page": 100}).json()]
    assert call(fake, "GET", f"/clients/{client}.json").json()["deleted"] is True
    assert call(fake, "GET", "/clients/1.json").status_code == 404


# ------------------------------------------------------------------------------ money and documents
def test_money_as_strings_and_comma_decimals_accepted():
    assert parse_money("59,00") == Decimal("59.00") and parse_money("1 234,5") == Decimal("1234.5")
    assert parse_money(12.5) == Decimal("12.5") and parse_money(None) is None
    assert [format_money(Decimal(v)) for v in ("60.23", "100", "0", "2.5")] == ["60.23", "100.0", "0.0", "2.5"]


def test_invoice_with_comma_amounts_answers_money_strings(fake):
    answer = new_invoice(
        fake,
        positions=[
            {"name": "Screening", "quantity": "2", "price_net": "59,50", "tax": "23"},
            {"name": "Advert", "quantity": 1, "total_price_gross": "108,00", "tax": 8},
            {"name": "Exempt", "quantity": 1, "price_net": 10, "tax": "zw"},
        ],
    )
    assert answer.status_code == 201, answer.text
    invoice = answer.json()
    assert invoice["price_net"] == "229.0" and invoice["price_gross"] == "264.37" and invoice["price_tax"] == "35.37"
    assert all(isinstance(invoice[key], str) for key in ("price_net", "price_gross", "price_tax", "paid"))
    assert invoice["status"] == "issued" and invoice["paid"] == "0.0"
    assert invoice["view_url"].startswith(f"{fake.account_url}/f/") and invoice["token"] in invoice["view_url"]
    assert requests.get(invoice["view_url"], timeout=10).status_code == 200
    bad = new_invoice(fake, positions=[{"name": "X", "quantity": 1, "price_net": "ten"}])
    assert bad.status_code == 422 and bad.json()["code"] == "error"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_can_be_issued_and_an_unknown_one_is_422(fake, kind):
    answer = new_invoice(fake, kind=kind)
    assert answer.status_code == 201 and answer.json()["kind"] == kind and answer.json()["number"]
    assert new_invoice(fake, kind="bogus").status_code == 422


def test_oid_unique_refuses_a_second_document_with_422(fake):
    first = new_invoice(fake, oid="odoo-crm.lead-7", oid_unique="yes")
    assert first.status_code == 201
    second = new_invoice(fake, oid="odoo-crm.lead-7", oid_unique="yes")
    assert second.status_code == 422
    assert second.json() == {"code": "error", "message": {"oid": ["has already been taken"]}}
    assert new_invoice(fake, oid="odoo-crm.lead-7").status_code == 201  # without oid_unique: a duplicate
    assert len([i for i in fake.account.invoices.values() if i["oid"] == "odoo-crm.lead-7"]) == 2


def test_put_updates_appends_and_destroys_positions(fake):
    invoice = new_invoice(fake).json()
    line = invoice["positions"][0]["id"]
    changes = [{"id": line, "quantity": 3}, {"name": "Extra", "quantity": 1, "price_net": "5", "tax": 23}]
    updated = call(fake, "PUT", f"/invoices/{invoice['id']}.json", body={"invoice": {"positions": changes}}).json()
    assert [(p["name"], p["quantity"]) for p in updated["positions"]] == [("Placement fee", "3.0"), ("Extra", "1.0")]
    assert updated["price_net"] == "3005.0" and updated["updated_at"] > invoice["updated_at"]
    gone = {"positions": [{"id": line, "_destroy": 1}]}
    assert call(fake, "PUT", f"/invoices/{invoice['id']}.json", body={"invoice": gone}).json()["price_net"] == "5.0"


def test_buyer_matched_or_created_without_client_id(fake):
    known = fake.account.clients[fake.account.notable["shared_clients"][0]]
    matched = new_invoice(fake, client_id=None, buyer_name="whatever", buyer_tax_no=known["tax_no"]).json()
    assert matched["client_id"] == known["id"]
    created = new_invoice(fake, client_id=-1, buyer_name="Brand New Buyer Ltd").json()
    assert fake.account.clients[created["client_id"]]["name"] == "Brand New Buyer Ltd"
    assert new_invoice(fake, client_id=424242).status_code == 422


def test_payments_make_invoices_partial_then_paid(fake):
    invoice = new_invoice(fake).json()  # 1230.00 gross
    body = {"banking_payment": {"name": "Part", "price": "500,00", "invoice_id": invoice["id"], "paid": True}}
    payment = call(fake, "POST", "/banking/payments.json", body=body)
    assert payment.status_code == 201 and payment.json()["price"] == "500.0"
    partial = call(fake, "GET", f"/invoices/{invoice['id']}.json").json()
    assert (partial["status"], partial["paid"]) == ("partial", "500.0") and partial["updated_at"] > invoice[
        "updated_at"
    ]
    other = new_invoice(fake).json()
    body = {"banking_payment": {"price": 1960, "invoice_ids": [invoice["id"], other["id"]], "kind": "api"}}
    call(fake, "POST", "/banking/payments.json", body=body)
    assert call(fake, "GET", f"/invoices/{invoice['id']}.json").json()["status"] == "paid"
    assert call(fake, "GET", f"/invoices/{other['id']}.json").json()["paid"] == "1230.0"
    singular = call(fake, "GET", f"/banking/payment/{payment.json()['id']}.json")
    assert singular.status_code == 200 and singular.json()["invoice_ids"] == [invoice["id"]]
    status = call(
        fake,
        "POST",
        f"/invoices/{new_invoice(fake).json()['id']}/change_status.json",
        params={"api_token": fake.api_token, "status": "paid"},
    )
    assert status.json()["status"] == "paid" and status.json()["paid"] == status.json()["price_gross"]


def test_departments_products_and_users_on_documents(fake):
    departments = call(fake, "GET", "/departments.json").json()
    assert len(departments) == 2 and {"id", "name", "shortcut", "tax_no"} <= set(departments[0])
    created = call(fake, "POST", "/departments.json", body={"department": {"name": "Oslo", "shortcut": "OSL"}})
    assert created.status_code == 201
    invoice = new_invoice(fake, department_id=created.json()["id"]).json()
    assert invoice["department_id"] == created.json()["id"] and invoice["seller_name"] == "Oslo"
    documents = call(fake, "GET", "/invoices.json", params={"period": "all", "per_page": 100}).json()
    users = fake.account.users
    assert {d["user_id"] for d in documents} <= set(users)
    assert all(d["seller_person"] == users[d["user_id"]]["name"] for d in documents)
    product = call(fake, "GET", "/products.json").json()[0]
    changed = call(
        fake,
        "PUT",
        f"/products/{product['id']}.json",
        body={"product": {"price_gross": "123,00", "tax": 23, "price_net": "1"}},
    ).json()
    assert changed["price_net"] == "100.0" and changed["price_gross"] == "123.0"


# ------------------------------------------------------------------------------ webhooks
def test_webhooks_post_the_real_payload_shapes(fake, receiver):
    fake.add_webhook(f"{receiver.url}/hooks", "shared-secret")
    client = call(fake, "POST", "/clients.json", body={"client": {"name": "Hooked Ltd", "tax_no": "5252445767"}}).json()
    wait_for(lambda: len(receiver.requests) == 1)
    payload = receiver.requests[0].json()
    assert set(payload) == {"client", "client_id", "app_name", "api_token", "locale"}
    assert payload["app_name"] == "InvoiceOcean" and payload["api_token"] == "shared-secret"
    assert payload["client"]["external_ids"] == {"invoiceocean": client["id"]} and payload["client_id"] == client["id"]
    invoice = new_invoice(fake, client_id=client["id"]).json()
    wait_for(lambda: len(receiver.requests) == 2)
    deal = receiver.requests[1].json()["deal"]
    assert deal == {
        "name": "Placement fee",
        "invoice_no": invoice["number"],
        "kind": "vat",
        "price": "1230.0",
        "paid": False,
        "date": invoice["issue_date"],
        "url": invoice["view_url"],
        "external_ids": {"invoiceocean": invoice["id"]},
        "client": {"name": "Hooked Ltd", "tax_no": "5252445767", "external_ids": {"invoiceocean": client["id"]}},
    }
    call(
        fake,
        "POST",
        f"/invoices/{invoice['id']}/change_status.json",
        params={"api_token": fake.api_token, "status": "paid"},
    )
    call(fake, "DELETE", f"/clients/{client['id']}.json")
    wait_for(lambda: len(receiver.requests) == 4)
    bodies = [r.json() for r in receiver.requests[2:]]
    assert any(b.get("deal", {}).get("paid") for b in bodies)
    assert any(b.get("client", {}).get("deleted") for b in bodies)
    wait_for(lambda: len(fake.deliveries) == 4)  # the fake records a delivery once its answer is back
    assert {d["kind"] for d in fake.deliveries} == {
        "client:create",
        "invoice:create",
        "invoice:update",
        "client:destroy",
    }


def test_webhooks_registered_through_the_api_only_get_their_kind(fake, receiver):
    body = {"webhook": {"kind": "client:update", "url": f"{receiver.url}/hooks", "api_token": "s", "active": True}}
    assert call(fake, "POST", "/webhooks.json", body=body).status_code == 201
    assert [w["kind"] for w in call(fake, "GET", "/webhooks.json").json()] == ["client:update"]
    fake.webhook_delivery = "manual"
    client = fake.create_client({"name": "Quiet"})
    fake.update_client(client["id"], {"name": "Loud"})
    assert [kind for _, _, kind in fake.pending_webhooks] == ["client:update"]


def test_queued_webhooks_delivered_out_of_order_and_twice(fake, receiver):
    fake.webhook_delivery = "manual"
    fake.add_webhook(f"{receiver.url}/hooks", "s", kinds=("client:create", "client:update"))
    client = fake.create_client({"name": "First"})
    fake.update_client(client["id"], {"name": "Second"})
    assert receiver.requests == [] and len(fake.pending_webhooks) == 2
    deliveries = fake.deliver_webhooks(reverse=True, duplicate=True)
    assert [d["status"] for d in deliveries] == [200] * 4
    assert [r.json()["client"]["name"] for r in receiver.requests] == ["Second", "Second", "First", "First"]
    fake.redeliver(deliveries[-1])
    assert receiver.requests[-1].json()["client"]["name"] == "First" and fake.pending_webhooks == []


def test_webhook_to_a_dead_url_is_recorded_not_raised(fake):
    fake.webhook_delivery = "manual"
    fake.add_webhook("http://127.0.0.1:9/nowhere", "s", kinds=("client:create",))
    fake.create_client({"name": "Lost"})
    assert fake.deliver_webhooks()[0]["error"]


# ------------------------------------------------------------------------------ faults
@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_429_and_5xx_then_normal_answers(fake, status):
    fake.inject(status, times=2, retry_after=7 if status == 429 else None)
    first = call(fake, "GET", "/clients.json")
    assert first.status_code == status and first.json()["code"] == "error"
    assert (first.headers.get("Retry-After") == "7") == (status == 429)
    assert call(fake, "GET", "/clients.json").status_code == status
    assert call(fake, "GET", "/clients.json").status_code == 200


def test_injected_401_refuses_a_valid_token(fake):
    fake.inject(401)
    assert call(fake, "GET", "/clients.json").status_code == 401


def test_fault_after_commit_drops_the_answer_but_keeps_the_invoice(fake):
    fake.inject_after_commit(drop=True, path_prefix="/invoices")
    with pytest.raises(requests.ConnectionError):
        new_invoice(fake, oid="lead-9", oid_unique="yes")
    assert [i["oid"] for i in fake.account.invoices.values()].count("lead-9") == 1
    retry = new_invoice(fake, oid="lead-9", oid_unique="yes")
    assert retry.status_code == 422  # the retry with the same oid issues nothing
    found = call(fake, "GET", "/invoices.json", params={"period": "all", "oid": "lead-9"}).json()
    assert len(found) == 1


def test_fault_after_commit_delays_past_the_client_timeout(fake):
    fake.inject_after_commit(delay=2, path_prefix="/clients")
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{fake.account_url}/clients.json",
            json={"api_token": fake.api_token, "client": {"name": "Slow"}},
            timeout=0.5,
        )
    assert any(c["name"] == "Slow" for c in fake.account.clients.values())
    assert call(fake, "GET", "/clients.json").status_code == 200  # reads are not affected


# ------------------------------------------------------------------------------ seed and command
def test_seeded_account_is_deterministic_and_coherent():
    first, again = generate_account(seed=5, clients=CLIENTS), generate_account(seed=5, clients=CLIENTS)
    assert first == again and generate_account(seed=6, clients=CLIENTS).clients != first.clients
    shared = [first.clients[i] for i in first.notable["shared_clients"]]
    assert [c["name"] for c in shared] == list(CLIENTS) and all(c["tax_no"] for c in shared)
    clock = ManualClock(first.now.timestamp())
    with FakeInvoiceOcean(account=first, clock=clock) as one, FakeInvoiceOcean(account=again, clock=clock) as two:
        documents = [one.rendered("invoices", i) for i in one.account.invoices]
        assert documents != [two.rendered("invoices", i) for i in two.account.invoices]  # view_url: their own port
        same = [{**d, "view_url": d["view_url"].replace(one.url, two.url)} for d in documents]
        assert same == [two.rendered("invoices", i) for i in two.account.invoices]
    kinds = {d["kind"] for d in documents}
    assert {"vat", "proforma", "receipt", "final", "vat_margin"} <= kinds
    assert {d["status"] for d in documents} >= {"issued", "partial", "paid"}
    assert all(d["created_at"] < first.now.isoformat() or d["issue_date"] == str(first.today) for d in documents)
    assert len(first.payments) == len([d for d in documents if d["status"] in ("paid", "partial")])


def test_command_serves_the_account_alone():
    with served_alone("tests.fakes.invoiceocean", "--port", "0", "--seed", "1") as banner:
        base = re.search(r"account URL:\s+(\S+)", banner).group(1)
        token = re.search(r"api_token:\s+(\S+)", banner).group(1)
        answer = requests.get(f"{base}/clients.json", params={"api_token": token}, timeout=10)
        assert answer.status_code == 200 and answer.json()
