"""What the 24SevenOffice tests share: the fake 24SevenOffice (real zeep over loopback), an
activated integration with two logins, departments, products, customers and invoices."""

from datetime import date

from odoo import Command
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.recruitment_sync.services.rate_limit import drop_rate_limiter
from odoo.addons.recruitment_sync.tests.common import sole_integration, start_fake

from tests.fakes.twentyfour import FakeTwentyFour  # noqa: I001
from tests.fakes.twentyfour_data import MAIN_CLIENT_ID, SECOND_CLIENT_ID, generate_world

from ..services import tso_client

MAIN_LOGIN = ("api@nordlys.example", "Nordlys-API-1")  # reaches the main and the second client
BERGEN_LOGIN = ("bergen@nordlys.example", "Bergen-API-2")  # the main client only
FJORD_LOGIN = ("fjord@fjord.example", "Fjord-API-3")  # the second client only
NEW_PRODUCTS_CATEGORY = 30  # "Odoo" in the main client of the fake


def setup_tso_world(cls, seed=1, **world_options):
    """A fake 24SevenOffice with a generated world, for a test class."""
    cls.world_options = dict(seed=seed, **world_options)
    cls.world = generate_world(**cls.world_options)
    cls.fake = start_fake(cls, FakeTwentyFour(world=cls.world))
    cls.classPatch(tso_client, "READ_BACKOFF", 0.0)


def identity_of(world, username, client_id=MAIN_CLIENT_ID):
    return next(login for login in world.logins if login.username == username).identity_for(client_id).id


class TsoMixin:
    """An activated 24SevenOffice integration on the fake: the main login serves all departments,
    Bergen has its own login, Tromsø none (when the main login is given specific departments)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_tso()

    def setUp(self):
        super().setUp()
        self.reset_tso()

    @classmethod
    def setup_tso(cls):
        setup_tso_world(cls)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        env = cls.env
        cls.company = env.company
        cls.company.company_registry = "999888777"
        Department = env["hr.department"]
        cls.oslo = Department.create({"name": "Oslo", "tso_department_ref": 1})
        cls.bergen = Department.create({"name": "Bergen", "tso_department_ref": 300})
        cls.tromso = Department.create({"name": "Tromsø"})
        cls.integration = sole_integration(
            env,
            {
                "name": "24SevenOffice",
                "provider": "24so",
                "api_base_url": cls.fake.url,
                "tso_application_id": cls.world.application_id,
            },
        )
        cls.main_login = cls.add_login(MAIN_LOGIN, identity=identity_of(cls.world, MAIN_LOGIN[0]))
        cls.bergen_login = cls.add_login(BERGEN_LOGIN, departments=cls.bergen)
        cls.integration.sudo().write({"state": "connected"})
        cls.admin = new_test_user(env, "tso_sysadmin", groups="base.group_system,account.group_account_invoice")
        cls.Run = env["recruitment.sync.run"]
        cls.Line = env["recruitment.sync.run.line"]
        cls.Transfer = env["recruitment.sync.24so.transfer"]
        cls.Binding = env["recruitment.sync.binding"]
        cls.product_known = cls.make_product("P00002")  # in 24SevenOffice
        cls.product_new = cls.make_product("ODOO-NEW-1", name="Odoo-only service")
        cls.customer = env["res.partner"].create(
            {
                "name": "Kunde Nord AS",
                "is_company": True,
                "company_registry": "912345674",
                "country_id": env.ref("base.no").id,
            }
        )

    @classmethod
    def add_login(cls, login, identity=None, departments=None, category=NEW_PRODUCTS_CATEGORY, integration=None):
        username, password = login
        values = {
            "integration_id": (integration or cls.integration).id,
            "username": username,
            "password": password,
            "product_category_ref": category,
            "department_scope": "specific" if departments else "all",
            "department_ids": [Command.set(departments.ids)] if departments else [],
        }
        credential = cls.env["recruitment.sync.24so.credential"].create(values)
        if identity:
            credential.identity_id = cls.env["recruitment.sync.24so.identity"].create(
                {"credential_id": credential.id, "guid": identity}
            )
        return credential

    @classmethod
    def make_product(cls, code, name=None, price=100.0):
        return cls.env["product.product"].create(
            {"name": name or f"Product {code}", "default_code": code, "lst_price": price, "type": "service"}
        )

    def reset_tso(self):
        self.world = generate_world(**self.world_options)
        self.fake.load(self.world)
        self.fake.reset_counters()
        self.fake.set_request_limit(7200)
        tso_client.SESSIONS.clear()
        drop_rate_limiter((self.env.cr.dbname, self.integration.id))

    # ------------------------------------------------------------------------ helpers
    def make_invoice(self, partner=None, lines=None, department=None, move_type="out_invoice", post=True, **values):
        """A customer invoice: ``lines`` are (product or None, quantity, price[, name]) tuples."""
        lines = lines or [(self.product_known, 2, 150.0)]
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": (partner or self.customer).id,
                "invoice_date": values.pop("invoice_date", date(2026, 11, 20)),
                "department_id": (department or self.oslo).id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id if product else False,
                            "quantity": quantity,
                            "price_unit": price,
                            "name": rest[0] if rest else (product.display_name if product else "Service"),
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, quantity, price, *rest in lines
                ],
                **values,
            }
        )
        if post:
            move.action_post()
        return move

    def credit_note(self, invoice):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Credit"})
        )
        reversal = wizard.refund_moves()
        refund = self.env["account.move"].browse(reversal["res_id"])
        refund.action_post()
        return refund

    def export(self, moves, process=True):
        """Export to 24SevenOffice as the list action does; run the export unless told not to."""
        action = moves.action_tso_export()
        runs = self.Run.browse(action["context"]["tso_receipt_run_ids"])
        if process:
            self.process_runs()
        return runs

    def process_runs(self, time_budget=600):
        for _attempt in range(20):
            if not self.Run._cron_process_runs(time_budget=time_budget):
                return
        raise AssertionError("the runner never finished")

    def receipt(self, runs):
        """{invoice name: (status, 24SO invoice number, reason)} of the receipt of ``runs``."""
        lines = self.Line.search([("run_id", "in", runs.ids), ("kind", "=", "invoices")])
        return {line.name: (line.tso_status, line.tso_invoice_number or None, line.reason or "") for line in lines}

    def status(self, runs, move):
        return self.receipt(runs)[move.name][0]

    def orders_for(self, move, client_id=MAIN_CLIENT_ID):
        return self.fake.invoices_for(move.name, client_id=client_id)


class TsoCase(TsoMixin, TransactionCase):
    """The 24SevenOffice set-up in a TransactionCase."""


__all__ = ["MAIN_CLIENT_ID", "SECOND_CLIENT_ID", "TsoCase", "TsoMixin", "identity_of", "setup_tso_world"]
