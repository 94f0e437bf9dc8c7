"""The accounting toolkit of the core (PROVIDERS.md §9), on the test provider: mapping tables,
the selection of what an export sends, customer matching, amounts and the "what to sync" options."""

from datetime import timedelta
from decimal import Decimal

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.recruitment_sync.services import money
from odoo.addons.recruitment_sync.services.provider import PayloadError, SyncKind

from .common import require_test_provider

CODES = "recruitment.sync.test.tax.code"
KIND = SyncKind("tax_codes", "Tax codes", "import")
INVOICES = SyncKind("invoices", "Invoices", "export", batch_size=1)


class ToolkitCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        require_test_provider(cls.env)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        if not cls.env.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", cls.env.company, install_demo=False)
        cls.integration = cls.env["recruitment.sync.integration"].create(
            {"name": "Toolkit ledger", "provider": "test_export", "state": "connected"}
        )

    @classmethod
    def tax(cls, amount):
        return cls.env["account.tax"].create(
            {"name": f"Toolkit {amount}%", "amount": amount, "amount_type": "percent", "type_tax_use": "sale"}
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestMappingRows(ToolkitCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_a, cls.tax_b = cls.tax(21.5), cls.tax(11.5)

    def rows(self, *specs):
        return self.env[CODES].create(
            [
                {"integration_id": self.integration.id, "code": code, "rate": rate, "ledger": ledger}
                for code, rate, ledger in specs
            ]
        )

    def test_import_rows_creates_updates_and_a_bad_entry_fails_alone(self):
        run = self.env["recruitment.sync.run"].create({"integration_id": self.integration.id})

        def values_of(payload):
            if not payload.get("code"):
                raise PayloadError("The tax code has no code.")
            return {"code": payload["code"], "name": payload["name"], "rate": payload["rate"]}

        def imported(payloads):
            run._pending_results().clear()
            rows = self.integration._import_rows(run, KIND, CODES, "code", payloads, values_of)
            results = [(result.action, result.external_id, result.reason) for _kind, result in run._pending_results()]
            return rows, results

        rows, results = imported([{"code": "S", "name": "Standard", "rate": 21.5}, {"name": "No code"}])
        self.assertEqual(rows.mapped("code"), ["S"])
        self.assertEqual(results[0], ("created", "S", None))
        self.assertEqual(results[1][0], "failed")
        self.assertIn("The tax code has no code.", results[1][2])
        rows, results = imported(
            [{"code": "S", "name": "Standard rate", "rate": 21.5}, {"code": "R", "name": "Reduced", "rate": 11.5}]
        )
        self.assertEqual([action for action, _id, _reason in results], ["updated", "created"])
        self.assertEqual(sorted(rows.mapped("code")), ["R", "S"], "every row of the integration, to map them next")
        self.assertEqual(rows.filtered(lambda row: row.code == "S").name, "Standard rate")
        _rows, results = imported([{"code": "S", "name": "Standard rate", "rate": 21.5}])
        self.assertEqual([action for action, _id, _reason in results], ["unchanged"])

    def test_a_mapping_by_hand_is_noted_and_makes_the_row_mapped(self):
        standard, zero = self.rows(("S", 21.5, "main"), ("Z", 0.0, "main"))
        self.assertFalse(standard.is_mapped)
        standard.tax_ids = self.tax_a
        zero.untaxed = True
        self.assertEqual((standard.match_note, standard.is_mapped), ("By hand", True))
        self.assertEqual((zero.match_note, zero.is_mapped), ("By hand", True))
        standard._write_match({"tax_ids": [Command.clear()]}, "Automatically: test")
        self.assertEqual((standard.match_note, standard.is_mapped), ("Automatically: test", False))

    def test_an_odoo_tax_maps_to_one_row_of_a_ledger(self):
        first, second, elsewhere = self.rows(("S", 21.5, "main"), ("S2", 21.5, "main"), ("S", 21.5, "other"))
        first.tax_ids = self.tax_a
        with self.assertRaisesRegex(ValidationError, "already maps to"):
            second.tax_ids = self.tax_a
            second.flush_recordset()
        elsewhere.tax_ids = self.tax_a  # another ledger keeps its own mapping
        self.assertTrue(elsewhere.is_mapped)
        zero, zero2 = self.rows(("Z", 0.0, "main"), ("Z2", 0.0, "main"))
        zero.untaxed = True
        with self.assertRaisesRegex(ValidationError, "Lines without tax"):
            zero2.untaxed = True
            zero2.flush_recordset()

    def test_sync_managers_change_the_mapping_columns_only(self):
        row = self.rows(("S", 21.5, "main"))
        manager = new_test_user(
            self.env,
            "rs_toolkit_manager",
            groups="recruitment_sync.group_sync_manager,account.group_account_invoice,base.group_user",
        )
        row.with_user(manager).write({"tax_ids": [Command.set(self.tax_a.ids)]})
        self.assertEqual(row.tax_ids, self.tax_a)
        with self.assertRaisesRegex(AccessError, "the rest comes from Test export provider"):
            row.with_user(manager).write({"rate": 5.0})

    def test_taxes_are_mapped_by_rate_only_where_one_row_has_it(self):
        standard, reduced, reduced_too, by_hand = self.rows(
            ("S", 21.5, "main"), ("R1", 11.5, "main"), ("R2", 11.5, "main"), ("H", 7.25, "main")
        )
        tax_c = self.tax(7.25)
        by_hand.write({"tax_ids": [Command.set(tax_c.ids)]})
        by_hand.write({"tax_ids": [Command.clear()]})  # a human unmapped it: the note stays "By hand"
        (standard | reduced | reduced_too | by_hand)._auto_map_taxes_by_rate("Automatically: same rate")
        self.assertIn(self.tax_a, standard.tax_ids)
        self.assertEqual(standard.match_note, "Automatically: same rate")
        self.assertFalse((reduced | reduced_too).tax_ids, "two rows of 11.5%: a human decides")
        self.assertFalse(by_hand.tax_ids, "a row mapped by hand is left alone")

    def test_auto_map_takes_the_one_candidate_for_active_rows_once(self):
        first, second, inactive = self.rows(("A", 1.0, "main"), ("B", 1.0, "main"), ("C", 1.0, "main"))
        inactive.active_remotely = False
        (first | second | inactive)._auto_map("tax_ids", lambda row: self.tax_b, "Automatically: test rule")
        self.assertEqual(first.tax_ids, self.tax_b)
        self.assertEqual(first.match_note, "Automatically: test rule")
        self.assertFalse(second.tax_ids, "a tax another row maps is no candidate")
        self.assertFalse(inactive.tax_ids)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestExportSelection(ToolkitCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.department = cls.env["hr.department"].create({"name": "Toolkit office"})
        cls.integration.write({"department_scope": "selected", "department_ids": [Command.set(cls.department.ids)]})
        cls.customer = cls.env["res.partner"].create({"name": "Toolkit customer"})
        cls.today = fields.Date.context_today(cls.integration)
        cls.first, cls.second = cls.invoice(cls.today), cls.invoice(cls.today)
        cls.old = cls.invoice(cls.today - timedelta(days=40))
        cls.other_office = cls.invoice(cls.today, department=cls.env["hr.department"].create({"name": "Elsewhere"}))

    @classmethod
    def invoice(cls, day, department=None):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": day,
                "department_id": (department or cls.department).id,
                "invoice_line_ids": [
                    Command.create({"name": "Fee", "quantity": 1, "price_unit": 100.0, "tax_ids": []}),
                ],
            }
        )
        move.action_post()
        return move

    def selected(self, counting=False):
        domain = self.integration._posted_moves_domain("out_invoice", self.today - timedelta(days=7))
        return self.integration._moves_to_export_sql(domain, "invoice", counting)

    def test_posted_documents_not_exported_or_changed_since_are_sent_in_batches(self):
        self.assertEqual(self.integration._count_sql(self.selected()), 2, "not the old one nor another office's")
        batch = self.integration._export_batch(INVOICES, "account.move", self.selected(), None, 1)
        self.assertEqual((batch.items, batch.checkpoint, batch.done), (self.first, {"after": self.first.id}, False))
        batch = self.integration._export_batch(INVOICES, "account.move", self.selected(), batch.checkpoint, 1)
        self.assertEqual(batch.items, self.second)
        batch = self.integration._export_batch(INVOICES, "account.move", self.selected(), batch.checkpoint, 1)
        self.assertEqual((batch.items, batch.done), (self.env["account.move"], True))

        # exported a little after it was posted (an edit in the export's own second is looked at again)
        binding = self.integration._binder("invoice").bind(
            self.first, "INV-1", last_synced_at=fields.Datetime.now() + timedelta(seconds=2)
        )
        self.assertEqual(self.integration._count_sql(self.selected()), 1, "exported and unchanged: not again")
        # an export older than the invoice's last local change (its posting)
        binding.last_synced_at = self.first.sync_local_changed_at - timedelta(minutes=1)
        self.assertEqual(self.integration._count_sql(self.selected()), 2, "changed since its export: again")
        self.env.cr.execute(self.integration._bound_ids_sql("account.move", "invoice"))
        self.assertEqual([row[0] for row in self.env.cr.fetchall()], self.first.ids)

    def test_failed_items_waiting_for_their_retry_are_left_out(self):
        self.env["recruitment.sync.failed.item"].create(
            {
                "integration_id": self.integration.id,
                "kind": INVOICES.code,
                "item_key": f"account.move,{self.first.id}",
                "res_model": "account.move",
                "res_id": self.first.id,
                "failure_type": "transient",
                "state": "retrying",
            }
        )
        batch = self.integration._export_batch(INVOICES, "account.move", self.selected(), None, 10)
        self.assertEqual(batch.items, self.second)

    def test_reconciliations_not_exported_yet_are_selected_by_their_documents(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.first.ids
        ).create({}).action_create_payments()
        paid = self.integration._reconciliations_to_export_sql(
            "payment",
            SQL(
                "debit_move.id IN (%s) AND credit_move.origin_payment_id IS NOT NULL",
                self.integration._bound_ids_sql("account.move", "invoice"),
            ),
        )
        self.assertEqual(self.integration._count_sql(paid), 0, "its invoice is not in the ledger yet")
        self.integration._binder("invoice").bind(self.first, "INV-1")
        self.env.cr.execute(paid)
        partials = self.env["account.partial.reconcile"].browse([row[0] for row in self.env.cr.fetchall()])
        self.assertEqual(partials.debit_move_id.move_id, self.first)
        self.integration._binder("payment").bind(partials, "PAY-1")
        self.assertEqual(self.integration._count_sql(paid), 0, "exported already")

    def test_customers_of_the_documents_not_in_the_ledger_go_first(self):
        customers = self.integration._customers_to_export_sql(self.selected(), "customer")
        self.env.cr.execute(customers)
        self.assertEqual([row[0] for row in self.env.cr.fetchall()], self.customer.ids)
        self.integration._binder("customer").bind(self.customer, "C-1")
        self.assertEqual(self.integration._count_sql(customers), 0)


@tagged("post_install", "-at_install", "recruitment_sync")
class TestCustomerMatching(ToolkitCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.ann = Partner.create({"name": "Toolkit Ann", "vat": "NO 123 456", "email": "ann@example.com"})
        cls.ann_twin = Partner.create({"name": "Toolkit Ann", "email": "other.ann@example.com"})
        cls.bob = Partner.create({"name": "Toolkit Bob", "email": "bob@example.com"})

    def candidates(self, **wanted):
        return self.integration._partner_candidates("customer", ["C1", "C2"], **wanted)

    def match(self, prefetched, external_id="C1", vat=None, email=None, name=None):
        rules = self.integration._partner_rules(vat, email, name)
        return self.integration._match_partner(prefetched, external_id, rules, "The test customer", "merge them.")

    def test_rules_in_order_and_several_partners_are_refused_never_guessed(self):
        prefetched = self.candidates(
            names={"Toolkit Ann", self.env.company.partner_id.name}, emails={"BOB@example.com "}, vats={"no123456"}
        )
        self.assertEqual(prefetched["candidates"], self.ann | self.ann_twin | self.bob, "never Odoo's own company")
        self.assertEqual(self.match(prefetched, vat="NO123456", name="Toolkit Ann"), (self.ann, "VAT number"))
        self.assertEqual(self.match(prefetched, email=" Bob@Example.com"), (self.bob, "email"))
        refusal = r"The test customer matches 2 Odoo partners by name: .* merge them\."
        with self.assertRaisesRegex(PayloadError, refusal):
            self.match(prefetched, name="Toolkit Ann")
        self.assertEqual(self.match(prefetched, name="Nobody"), (self.env["res.partner"], None))

    def test_a_partner_bound_to_another_customer_is_no_candidate(self):
        self.integration._binder("customer").bind(self.bob, "C9")
        prefetched = self.candidates(emails={"bob@example.com"})
        self.assertEqual(self.match(prefetched, "C2", email="bob@example.com"), (self.env["res.partner"], None))
        self.assertEqual(self.match(prefetched, "C9", email="bob@example.com"), (self.bob, "email"))

    def test_a_matched_partner_keeps_its_data_and_gets_what_it_lacks(self):
        prefetched = self.candidates(vats={"NO123456"})
        result = self.integration._adopt_partner(
            prefetched, "customer", self.ann, "C1", {"name": "Ann (ledger)", "phone": "+47 1234"}, None, "VAT number"
        )
        self.assertEqual(
            (result.action, result.external_id, result.reason), ("updated", "C1", "Matched by VAT number.")
        )
        self.assertEqual((self.ann.name, self.ann.phone), ("Toolkit Ann", "+47 1234"))
        self.assertEqual(self.integration._binder("customer").external_ids(self.ann), {self.ann.id: "C1"})
        self.assertEqual(prefetched["bound_to"][self.ann.id], "C1")

    def test_why_a_customer_of_the_same_name_is_not_the_partner(self):
        why = self.integration._partner_contradiction
        self.assertIsNone(why(self.ann, None, None, "number", "no 123456", "ANN@example.com"))
        self.assertEqual(
            why(self.ann, None, None, "number", "SE 999", None), "its VAT number is SE999, Odoo's NO123456"
        )
        self.assertEqual(
            why(self.ann, None, self.bob.id, "customer number", None, None),
            f"its customer number names the Odoo partner id {self.bob.id}",
        )
        binding = self.integration._binder("customer").bind(self.bob, "C5")
        self.assertIn("it is linked to the Odoo partner", why(self.ann, binding, None, "number", None, None))
        self.assertEqual(
            why(self.ann, None, None, "number", None, "x@example.com"),
            "its email is x@example.com, Odoo's ann@example.com",
        )


@tagged("post_install", "-at_install", "recruitment_sync")
class TestAccountingOptionsAndMoney(ToolkitCase):
    def test_the_kinds_a_run_processes_follow_the_options(self):
        settings, customers = SyncKind("s", "S", "import"), SyncKind("c", "C", "import")
        needs = SyncKind("n", "N", "export")
        invoices, credit_notes, payments = (SyncKind(code, code, "export") for code in ("i", "cn", "p"))

        def kinds():
            found = self.integration._accounting_sync_kinds(
                (settings,), customers, (needs,), invoices, credit_notes, payments
            )
            return [kind.code for kind in found]

        self.assertEqual(kinds(), ["s", "c", "n", "i", "cn", "p"])
        self.integration.write({"export_invoices": False, "import_customers": False})
        self.assertEqual(kinds(), ["s", "n", "cn", "p"])
        self.integration.write({"export_credit_notes": False, "import_settings": False})
        self.assertEqual(kinds(), ["p"], "nothing the documents need when no document goes")

    def test_amounts_travel_as_decimals_rounded_half_up(self):
        self.assertEqual(money.decimal(0.1), Decimal("0.1"))
        self.assertEqual(money.round_money(2.675), Decimal("2.68"))
        self.assertEqual(money.round_money(Decimal("-0.005")), Decimal("-0.01"))
        self.assertEqual((money.number(Decimal("4.2000")), money.number(Decimal("5.00"))), (4.2, 5))
        self.assertEqual(money.content_hash({"a": 1, "b": [1, 2]}), money.content_hash({"b": [1, 2], "a": 1}))
        self.assertNotEqual(money.content_hash({"a": 1}), money.content_hash({"a": 2}))
