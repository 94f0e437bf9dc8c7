"""The Binder: batch lookups and writes of external ids, and the one batch-pairing policy."""

from datetime import datetime

import psycopg2

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.recruitment_sync.services.binder import Binder

N = 50


@tagged("post_install", "-at_install", "recruitment_sync")
class TestBinder(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = cls.env["recruitment.sync.integration"].create({"name": "Binder test"})
        cls.other_integration = cls.env["recruitment.sync.integration"].create({"name": "Other ledger"})
        cls.partners = cls.env["res.partner"].create([{"name": f"Customer {i}"} for i in range(N)])
        cls.binder = cls.integration._binder("customer")

    def bind_all(self):
        bindings = self.binder.bind_many([(partner, f"C-{i}") for i, partner in enumerate(self.partners)])
        self.env.flush_all()
        self.env.invalidate_all()
        return bindings

    def test_lookups_are_one_query_each_for_50_records(self):
        self.bind_all()
        # Noise of the same integration (another remote type) and of another integration.
        self.integration._binder("contact").bind(self.partners[0], "C-0")
        self.other_integration._binder("customer").bind(self.partners[1], "C-0")
        external_ids = [f"C-{i}" for i in range(N)]
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            by_record = self.binder.external_ids(self.partners)
        self.assertEqual(by_record, {partner.id: f"C-{i}" for i, partner in enumerate(self.partners)})
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            bindings = self.binder.bindings_of(self.partners)
            # Their fields come with them: reading them costs nothing more.
            self.assertEqual({binding.external_id for binding in bindings.values()}, set(external_ids))
            self.assertTrue(all(binding.last_synced_at for binding in bindings.values()))
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            by_external_id = self.binder.bindings_for("res.partner", external_ids)
            self.assertEqual({key: binding.res_id for key, binding in by_external_id.items()}, by_record_ids(by_record))
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            records = self.binder.records_for("res.partner", external_ids)
        self.assertEqual(records, {f"C-{i}": partner for i, partner in enumerate(self.partners)})

    def test_bind_many_creates_50_bindings_in_one_insert(self):
        stamp = datetime(2026, 11, 1, 12, 0)
        pairs = [(partner, f"C-{i}", {"remote_updated_at": stamp}) for i, partner in enumerate(self.partners)]
        # Warm-up: the model's defaults are read once (then cached), not per call.
        self.binder.bind(self.env["res.partner"].create({"name": "Warm-up"}), "WARM-UP")
        with self.assertQueryCount(2):  # one lookup, one INSERT
            bindings = self.binder.bind_many(pairs)
        self.assertEqual(bindings.mapped("res_id"), self.partners.ids, "in the order of the pairs")
        self.assertEqual(bindings.mapped("external_id"), [f"C-{i}" for i in range(N)])
        self.assertEqual(set(bindings.mapped("external_model")), {"customer"})
        self.assertEqual(set(bindings.mapped("remote_updated_at")), {stamp})
        self.assertEqual(bindings.company_id, self.integration.company_id)

    def test_bind_many_of_records_known_unbound_is_one_insert_without_lookup(self):
        self.binder.bind(self.env["res.partner"].create({"name": "Warm-up"}), "WARM-UP")
        pairs = [(partner, f"C-{i}") for i, partner in enumerate(self.partners)]
        with self.assertQueryCount(1):  # the INSERT only: the caller looked them up already
            bindings = self.binder.bind_many(pairs, known_unbound=True)
        self.assertEqual(bindings.mapped("res_id"), self.partners.ids)
        self.assertEqual(bindings.mapped("external_id"), [f"C-{i}" for i in range(N)])
        # The unique keys still refuse an external id bound twice.
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
            other = self.env["res.partner"].create({"name": "Other"})
            self.binder.bind_many([(other, "C-0")], known_unbound=True)
            self.env.flush_all()

    def test_bind_many_updates_50_bindings_in_one_update(self):
        first = self.bind_all()
        # Half of them get new remote ids, the other half new values only: updated, never duplicated.
        pairs = [
            (partner, f"NEW-{i}" if i % 2 else f"C-{i}", {"remote_updated_at": datetime(2026, 11, 2, 0, i)})
            for i, partner in enumerate(self.partners)
        ]
        # One lookup; the flush updates them together: one UPDATE per set of changed fields (here two:
        # with a new external id, without).
        with self.assertQueryCount(3):
            again = self.binder.bind_many(pairs, values={"last_synced_at": datetime(2026, 11, 3)})
        self.assertEqual(again, first)
        self.assertEqual(again.mapped("external_id"), [f"NEW-{i}" if i % 2 else f"C-{i}" for i in range(N)])
        self.assertEqual(again[7].remote_updated_at, datetime(2026, 11, 2, 0, 7), "a pair's own values")
        self.assertEqual(set(again.mapped("last_synced_at")), {datetime(2026, 11, 3)}, "values shared by all")

    def test_bind_updates_and_moves_an_external_id(self):
        one, two, three = self.partners[:3]
        binding = self.binder.bind(one, "C-1")
        self.assertEqual(self.binder.bind(one, 77), binding, "a number is stored as text")
        self.assertEqual(binding.external_id, "77")
        # The remote record is now another Odoo record's (an import recreated it): the binding follows.
        moved = self.binder.bind(two, "77")
        self.assertEqual(moved, binding)
        self.assertEqual(moved.res_id, two.id)
        self.assertEqual(self.binder.external_ids(one | two | three), {two.id: "77"})
        # Mixed: one existing, one new, in one call.
        both = self.binder.bind_many([(three, "C-3"), (two, "C-2")])
        self.assertEqual(both[1], binding)
        self.assertEqual(self.binder.external_ids(one | two | three), {two.id: "C-2", three.id: "C-3"})

    def test_unbind_and_unbind_external(self):
        self.bind_all()
        kept = self.other_integration._binder("customer").bind(self.partners[0], "C-0")
        self.binder.unbind(self.partners[:10])
        self.assertEqual(len(self.binder.bindings_of(self.partners)), N - 10)
        self.binder.unbind_external("res.partner", ["C-10", "C-11", "C-12"])
        self.assertEqual(len(self.binder.bindings_of(self.partners)), N - 13)
        self.assertNotIn(self.partners[12].id, self.binder.external_ids(self.partners))
        self.assertTrue(kept.exists(), "another integration's binding is not touched")

    def test_records_for_leaves_out_deleted_records(self):
        partner = self.env["res.partner"].create({"name": "Deleted later"})
        self.binder.bind(partner, "GONE")
        self.binder.bind(self.partners[0], "HERE")
        partner.unlink()
        self.assertEqual(self.binder.records_for("res.partner", ["GONE", "HERE"]), {"HERE": self.partners[0]})
        self.assertEqual(self.binder.records_for("res.partner", [None, ""]), {})

    def test_legacy_binding_api_runs_on_the_binder(self):
        Binding = self.env["recruitment.sync.binding"]
        new = Binding._bind_new(
            self.integration, self.partners[:2], [("A", datetime(2026, 1, 1)), ("B", None)], "customer"
        )
        self.assertEqual(new.mapped("external_id"), ["A", "B"])
        self.assertEqual(
            Binding._lookup(self.integration, "res.partner", ["A", "B", "C"], "customer"), {"A": new[0], "B": new[1]}
        )
        with self.assertQueryCount(1):  # the binding is known: no lookup, its UPDATE only
            same = Binding._bind(
                self.integration, self.partners[0], "A", "customer", datetime(2026, 2, 1), existing=new[0]
            )
        self.assertEqual(same, new[0])
        self.assertEqual(same.remote_updated_at, datetime(2026, 2, 1))


def by_record_ids(by_record):
    return {external_id: record_id for record_id, external_id in by_record.items()}


@tagged("post_install", "-at_install", "recruitment_sync")
class TestPairing(TransactionCase):
    """The one batch-pairing policy (Binder.pair)."""

    @staticmethod
    def number(element):
        return element.get("Number")

    def test_unique_keys_pair_by_the_echoed_key(self):
        sent = [{"Number": "INV-1"}, {"Number": "INV-2"}, {"Number": "INV-3"}]
        answered = [{"Number": "INV-3", "id": 3}, {"Number": "INV-9", "id": 9}, {"Number": "INV-1", "id": 1}]
        paired = Binder.pair(sent, answered, self.number)
        # Out of order: paired by key; INV-9 (nobody sent it) ignored; INV-2 without an answer: None.
        self.assertEqual(paired, [answered[2], None, answered[0]])
        # A different echo function for the answers; keys compare as text (a number comes back a string).
        paired = Binder.pair(
            [{"Number": 1}, {"Number": 2}], [{"Ref": "2"}, {"Ref": "1"}], self.number, lambda a: a["Ref"]
        )
        self.assertEqual(paired, [{"Ref": "1"}, {"Ref": "2"}])
        # Two answers for one key: which is it? Uncertain.
        paired = Binder.pair(sent[:2], [{"Number": "INV-1"}, {"Number": "INV-1"}], self.number)
        self.assertEqual(paired, [None, None])
        # Unique keys never fall back to position, even with as many answers as sent elements.
        self.assertEqual(Binder.pair(sent[:2], [{"id": 1}, {"id": 2}], self.number), [None, None])

    def test_without_unique_keys_pair_by_position_when_nothing_contradicts(self):
        sent = [{"Number": "INV-1"}, {"Number": "INV-1"}, {}]
        answered = [{"Number": "INV-1", "id": 1}, {"id": 2}, {"Number": "INV-7", "id": 3}]
        # Duplicated and missing keys: by position; an answer without a key or with a key nobody sent
        # (the remote system numbered it) does not contradict.
        self.assertEqual(Binder.pair(sent, answered, self.number), answered)
        # Elements without keys at all.
        self.assertEqual(Binder.pair([{}, {}], [{"id": 1}, {"id": 2}], None), [{"id": 1}, {"id": 2}])

    def test_anything_else_is_uncertain_for_every_element(self):
        sent = [{"Number": "INV-1"}, {"Number": "INV-1"}, {}]
        # Fewer (or more) answers than sent elements.
        self.assertEqual(Binder.pair(sent, [{"id": 1}, {"id": 2}], self.number), [None, None, None])
        self.assertEqual(Binder.pair(sent, [{}] * 4, self.number), [None, None, None])
        self.assertEqual(Binder.pair(sent, [], self.number), [None, None, None])
        # An answer echoing another position's key.
        answered = [{"Number": "INV-1"}, {"Number": "INV-2"}, {}]
        self.assertEqual(Binder.pair(sent, answered, self.number), [None, None, None])
        answered = [{}, {}, {"Number": "INV-1"}]  # the third sent nothing, its answer names the first
        self.assertEqual(Binder.pair(sent, answered, self.number), [None, None, None])
        self.assertEqual(Binder.pair([], [{"id": 1}], self.number), [])
