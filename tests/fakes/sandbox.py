"""The sandbox: the fakes of JobAdder, Xero and 24SevenOffice serving one staffing agency.

``make run`` (``scripts/devstack.py run``) starts it next to Odoo, and the end-to-end browser
test starts it inside the test; alone::

    python3 -m tests.fakes.sandbox --seed 1                  # JobAdder :8071, Xero :8072, 24SO :8073
    python3 -m tests.fakes.sandbox --jobadder-port 0 --state-file /tmp/sandbox.json

Each fake can also run on its own (``python3 -m tests.fakes.jobadder --port 8071 --seed 1``, and
likewise ``tests.fakes.xero`` and ``tests.fakes.twentyfour``); here they serve one coherent world:

* JobAdder: the agency *Brightstaff Recruitment* (offices in Sydney, Auckland and London), its
  consultants, clients, contacts, candidates and placements of every type: running, ending,
  starting in the future, and a few broken ones that become failed lines with their reason.
* Xero: the agency's UK organisation (the one this company invoices from; a NZ one is connected
  too, so that the organisation must be picked), with its tax rates, chart of accounts (201
  Permanent Placement Fees, 202 Contract Placement Fees) and customers. The JobAdder clients the
  agency has already invoiced are among those customers, under the same names, so that importing
  Xero's customers pairs them with the clients JobAdder brought.
* 24SevenOffice: the Norwegian office's client (departments Oslo 1 and Bergen 300, products,
  customers), with the agency's fee products under the numbers Odoo uses (``PRODUCTS``), and a
  login for all departments plus one of the Bergen department.
* InvoiceOcean (``--invoiceocean-port``, 8075): the agency's account ``brightstaff`` (served under
  ``{url}/brightstaff``) with two departments, clients (the invoiced JobAdder clients among them,
  under the same names and with a tax number, so that the first sync pairs them with Odoo's
  customers) and documents of several kinds (VAT invoices, proformas, receipts, ...).

What the Odoo side needs to point integrations at the running services (addresses, app
credentials, fresh tokens for integrations connected in an earlier run) is ``Sandbox.state()``,
written as JSON by ``--state-file``.
"""

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .invoiceocean import FakeInvoiceOcean
from .invoiceocean_data import generate_account as generate_invoiceocean_account
from .jobadder import FakeJobAdder
from .jobadder_data import UNKNOWN_CURRENCY, generate_agency
from .quickbooks import FakeQuickBooks
from .quickbooks_data import generate_world as generate_quickbooks_world
from .twentyfour import FakeTwentyFour
from .twentyfour_data import MAIN_CLIENT_ID
from .twentyfour_data import generate_world as generate_24so_world
from .xero import FakeXero
from .xero_data import generate_world as generate_xero_world

DEFAULT_PORTS = {"jobadder": 8071, "xero": 8072, "24so": 8073, "quickbooks": 8074, "invoiceocean": 8075}
DEFAULT_SEED = 1
DEFAULT_PLACEMENTS = 200
# JobAdder clients that already are customers in the agency's Xero organisation.
CLIENTS_IN_XERO = 8
CLIENT_MARGIN_DAYS = 7
# The agency's fee products: (internal reference, name, price, Xero account code, 24SO category).
# Odoo's products carry these numbers; 24SevenOffice matches products by number.
PRODUCTS = (
    ("PERM-FEE", "Permanent placement fee", "6000.00", "201", 10),
    ("CONTRACT-HOUR", "Contractor hour", "65.00", "202", 10),
    ("TEMP-HOUR", "Temporary staff hour", "32.50", "202", 10),
)
# The 24SevenOffice logins of the sandbox: (user name, departments it exports for; () = all).
TWENTYFOUR_LOGINS = (("api@nordlys.example", ()), ("bergen@nordlys.example", ("Bergen",)))
# Odoo department name -> 24SevenOffice department id (of the main client's departments).
TWENTYFOUR_DEPARTMENTS = {"Oslo": 1, "Bergen": 300}


@dataclass
class SandboxWorld:
    """The three worlds the fakes serve, and how they refer to each other."""

    seed: object
    today: date
    agency: object  # jobadder_data.AgencyWorld
    xero: object  # xero_data.XeroWorld
    twentyfour: object  # twentyfour_data.World
    invoiced_clients: tuple  # names of JobAdder clients that are customers in Xero too
    quickbooks: object = None  # quickbooks_data.QuickBooksWorld: a US and a UK company
    invoiceocean: object = None  # invoiceocean_data.Account: clients (the invoiced ones too), documents


def initial_load_companies(agency, margin_days=0):
    """The JobAdder companies (in placement order) of the placements an initial load imports.

    The core's rule: approved placements, except Permanent ones placed before today and others
    that ended before today; sound ones only here (no deliberately broken or unknown-currency one).
    ``margin_days``: only placements still in the load that many days later.
    """
    by_id = agency.by_id("companies")
    today = agency.today + timedelta(days=margin_days)
    seen = []
    for placement in agency.placements:
        if placement.bad or not placement.approved or placement.company_id is None:
            continue
        if placement.charge_currency == UNKNOWN_CURRENCY:
            continue
        day = placement.start_date if placement.type == "Permanent" else placement.end_date
        if isinstance(day, date) and day < today:
            continue
        company = by_id.get(placement.company_id)
        if company and company not in seen:
            seen.append(company)
    return seen


def build_world(seed=DEFAULT_SEED, today=None, placements=DEFAULT_PLACEMENTS):
    """The sandbox's worlds for ``seed`` and ``today`` (default: today, UTC); deterministic."""
    today = today or datetime.now(timezone.utc).date()
    agency = generate_agency(seed=seed, placements=placements, today=today)
    xero = generate_xero_world(seed=seed, today=today)
    twentyfour = generate_24so_world(seed=seed, now=agency.now)
    # Clients of placements well inside the initial load: still there if Odoo's today is later.
    companies = initial_load_companies(agency, margin_days=CLIENT_MARGIN_DAYS)
    clients = tuple(company.name.strip() for company in companies[:CLIENTS_IN_XERO])
    quickbooks = generate_quickbooks_world(seed=seed, today=today, clients=clients)
    invoiceocean = generate_invoiceocean_account(seed=seed, today=today, clients=clients)
    return SandboxWorld(seed, today, agency, xero, twentyfour, clients, quickbooks, invoiceocean)


class Sandbox:
    """The three fakes on loopback, started and stopped together.

    ``ports``: {"jobadder": …, "xero": …, "24so": …} (0 picks a free port).
    """

    def __init__(self, world=None, host="127.0.0.1", ports=None, public_host=None, **options):
        self.world = world or build_world()
        self.host = host
        self.public_host = public_host
        self.ports = {**DEFAULT_PORTS, **(ports or {})}
        self.options = options
        self.jobadder = self.xero = self.twentyfour = None
        self.quickbooks = self.invoiceocean = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self):
        try:
            self.jobadder = self._start(
                "JobAdder", FakeJobAdder(self.host, self.ports["jobadder"], world=self.world.agency)
            )
            self.xero = self._start(
                "Xero",
                FakeXero(
                    self.host,
                    self.ports["xero"],
                    world=self.world.xero,
                    validate=self.options.get("validate"),
                    enforce_rate_limits=self.options.get("rate_limits", True),
                ),
            )
            organisation = self.world.xero.organisations[0].organisation_id
            for name in self.world.invoiced_clients:
                self.xero.add_contact(name, tenant_id=organisation, EmailAddress=_accounts_email(name))
            self.twentyfour = self._start(
                "24SevenOffice", FakeTwentyFour(self.host, self.ports["24so"], world=self.world.twentyfour)
            )
            for number, name, price, _account, category in PRODUCTS:
                self.twentyfour.add_product(number, name, category_id=category, price=price)
            if self.world.quickbooks is not None:
                self.quickbooks = self._start(
                    "QuickBooks",
                    FakeQuickBooks(
                        self.host,
                        self.ports["quickbooks"],
                        world=self.world.quickbooks,
                        validate=self.options.get("validate"),
                        enforce_rate_limits=self.options.get("rate_limits", True),
                    ),
                )
            if self.world.invoiceocean is not None:
                self.invoiceocean = self._start(
                    "InvoiceOcean",
                    FakeInvoiceOcean(self.host, self.ports["invoiceocean"], account=self.world.invoiceocean),
                )
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, label, fake):
        try:
            fake.start()
        except OSError as error:
            raise OSError(error.errno, f"the {label} stand-in, port {fake.port}: {error.strerror}") from error
        if self.public_host:
            # Bound to every interface (a container), advertised under the name browsers use.
            fake.host = self.public_host
        return fake

    def stop(self):
        for fake in (self.invoiceocean, self.quickbooks, self.twentyfour, self.xero, self.jobadder):
            if fake:
                fake.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- what Odoo needs -----------------------------------------------------------------
    def state(self):
        """Addresses, app credentials and fresh tokens of the running fakes (JSON-serialisable).

        The tokens let an integration connected in an earlier run keep working: fakes start
        from their seeded world, without the grants they gave before.
        """
        jobadder, xero = self.jobadder, self.xero
        uk, nz = self.world.xero.organisations[:2]
        state = {
            "seed": self.world.seed,
            "today": self.world.today.isoformat(),
            "invoiced_clients": list(self.world.invoiced_clients),
            "jobadder": {
                "url": jobadder.url,
                "authorize_url": jobadder.authorize_url,
                "token_url": jobadder.token_url,
                "revoke_url": jobadder.revoke_url,
                "api_url": jobadder.api_url,
                "client_id": jobadder.client_id,
                "client_secret": jobadder.client_secret,
                "account_name": self.world.agency.account_name,
                "token": jobadder.issue_token("read offline_access"),
            },
            "xero": {
                "url": xero.url,
                "authorize_url": xero.authorize_url,
                "token_url": xero.token_url,
                "revoke_url": xero.revoke_url,
                "api_url": xero.api_url,
                "client_id": xero.client_id,
                "client_secret": xero.client_secret,
                "organisation": {"id": uk.organisation_id, "name": uk.name},
                "other_organisation": {"id": nz.organisation_id, "name": nz.name},
                "token": xero.issue_token(tenants=[uk.organisation_id]),
            },
            "24so": None,
        }
        if self.twentyfour:
            world = self.world.twentyfour
            client = world.clients[MAIN_CLIENT_ID]
            state["24so"] = {
                "url": self.twentyfour.url,
                "application_id": world.application_id,
                "client_name": client.name,
                "logins": [
                    {"username": username, "password": world.login(username).password, "departments": list(depts)}
                    for username, depts in TWENTYFOUR_LOGINS
                ],
                "departments": dict(TWENTYFOUR_DEPARTMENTS),
                "product_category": PRODUCTS[0][4],
            }
        if self.quickbooks:
            qbo = self.quickbooks
            us, uk = self.world.quickbooks.companies[:2]
            state["quickbooks"] = {
                "url": qbo.url,
                "authorize_url": qbo.authorize_url,
                "token_url": qbo.token_url,
                "revoke_url": qbo.revoke_url,
                "api_url": qbo.api_base,
                "client_id": qbo.client_id,
                "client_secret": qbo.client_secret,
                "company": {"realm_id": uk.realm_id, "name": uk.name},
                "other_company": {"realm_id": us.realm_id, "name": us.name},
                "token": qbo.issue_token(uk.realm_id),
            }
        if self.invoiceocean:
            account = self.world.invoiceocean
            state["invoiceocean"] = {
                "url": self.invoiceocean.url,
                "account_url": self.invoiceocean.account_url,  # stands for https://{prefix}.invoiceocean.com
                "prefix": account.prefix,
                "api_token": account.api_token,
                "shared_clients": [account.clients[ident]["name"] for ident in account.notable["shared_clients"]],
            }
        return state

    def describe(self):
        """What the sandbox serves, for people (several lines)."""
        agency = self.world.agency
        lines = [
            f"JobAdder       {self.jobadder.url}  agency {agency.account_name}: {len(agency.placements)} placements "
            f"({len(agency.bad_placements)} with problems), {len(agency.companies)} clients, "
            f"{len(agency.users)} consultants",
            f"Xero           {self.xero.url}  organisations "
            + ", ".join(org.name for org in self.world.xero.organisations)
            + f"; {len(self.world.invoiced_clients)} JobAdder clients are customers in the UK one",
        ]
        if self.twentyfour:
            client = self.world.twentyfour.clients[MAIN_CLIENT_ID]
            lines.append(
                f"24SevenOffice  {self.twentyfour.url}  client {client.name}: departments "
                + ", ".join(f"{d['Name']} ({d['Id']})" for d in client.departments)
                + f", {len(client.products) + len(PRODUCTS)} products"
            )
        if self.quickbooks:
            lines.append(
                f"QuickBooks     {self.quickbooks.url}  companies "
                + ", ".join(f"{c.name} ({c.country})" for c in self.world.quickbooks.companies)
            )
        if self.invoiceocean:
            account = self.world.invoiceocean
            lines.append(
                f"InvoiceOcean   {self.invoiceocean.account_url}  account {account.prefix}: {len(account.clients)} "
                f"clients ({len(account.notable['shared_clients'])} invoiced JobAdder clients among them), "
                f"{len(account.departments)} departments, {len(account.invoices)} documents"
            )
        return lines


def _accounts_email(name):
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:24] or "client"
    return f"accounts@{slug}.example"


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve the sandbox (fake JobAdder, Xero, 24SevenOffice) until Ctrl-C.")
    parser.add_argument("--seed", default=str(DEFAULT_SEED))
    parser.add_argument("--today", type=date.fromisoformat, help="the worlds' today (default: today, UTC)")
    parser.add_argument("--placements", type=int, default=DEFAULT_PLACEMENTS)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    parser.add_argument("--public-host", help="host name in the addresses given out (default: --host)")
    for name, port in DEFAULT_PORTS.items():
        parser.add_argument(f"--{name.replace('24so', 'tso')}-port", type=int, default=port, help="0 picks a free port")
    parser.add_argument("--state-file", type=Path, help="write the addresses, credentials and tokens there (JSON)")
    parser.add_argument("--verbose", action="store_true", help="log every request the stand-ins receive")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    seed = int(args.seed) if args.seed.lstrip("-").isdigit() else args.seed
    ports = {"jobadder": args.jobadder_port, "xero": args.xero_port, "24so": args.tso_port}
    ports["quickbooks"] = args.quickbooks_port
    ports["invoiceocean"] = args.invoiceocean_port
    signal.signal(signal.SIGTERM, _interrupt)  # a parent stopping us ends it like Ctrl-C does
    sandbox = Sandbox(
        build_world(seed=seed, today=args.today, placements=args.placements),
        host=args.host,
        ports=ports,
        public_host=args.public_host,
    )
    try:
        sandbox.start()
    except OSError as error:
        print(f"The sandbox could not start: {error}", file=sys.stderr, flush=True)
        return 1
    try:
        if args.state_file:
            temporary = args.state_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(sandbox.state(), indent=2))
            temporary.replace(args.state_file)  # readers never see half a file
        print("Sandbox (seed {!r}, today {}):\n  {}".format(seed, sandbox.world.today, "\n  ".join(sandbox.describe())))
        print("Serving until Ctrl-C.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        print("Sandbox stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
