"""The Binder: an integration's external ids of one remote type, read and written in batches.

Obtained with ``integration._binder(external_model)``. Every method costs a fixed number of
queries whatever the number of records (never one per record); it reads and writes the
bindings as superuser (they are technical rows, the caller decides what the user may do).
``Binder.pair`` is the one policy for pairing a batch answer with what was sent.
"""

from odoo import _, fields
from odoo.tools import SQL

from .provider import ItemResult


def _key(value):
    """Keys compare as text (an id sent as a number may come back as a string)."""
    return None if value in (None, "") else str(value)


class Binder:
    """Bindings (``recruitment.sync.binding``) of ``integration`` for the remote type ``external_model``."""

    def __init__(self, integration, external_model="default"):
        integration.ensure_one()
        self.integration = integration
        self.external_model = external_model
        self.env = integration.env
        self.Binding = integration.env["recruitment.sync.binding"].sudo()

    def __repr__(self):
        return f"Binder({self.integration!r}, {self.external_model!r})"

    # ------------------------------------------------------------------------ reading
    def _domain(self, res_models):
        return [
            ("integration_id", "=", self.integration.id),
            ("external_model", "=", self.external_model),
            ("res_model", "in", list(res_models)),
        ]

    def _fetch(self, domain, field_names=None):
        """Bindings of ``domain`` with their fields in cache: one query."""
        if field_names is None:
            # Every column, those connectors add included: reading them costs no second query.
            field_names = [name for name, field in self.Binding._fields.items() if field.store and field.column_type]
        return self.Binding.search_fetch(domain, field_names)

    def external_ids(self, records):
        """{record id: external id} of ``records`` (those bound)."""
        if not records:
            return {}
        bindings = self._fetch(
            self._domain([records._name]) + [("res_id", "in", records.ids)], ["res_id", "external_id"]
        )
        return {binding.res_id: binding.external_id for binding in bindings}

    def bindings_of(self, records):
        """{record id: binding} of ``records`` (those bound)."""
        if not records:
            return {}
        bindings = self._fetch(self._domain([records._name]) + [("res_id", "in", records.ids)])
        return {binding.res_id: binding for binding in bindings}

    def bindings_for(self, res_model, external_ids):
        """{external id (str): binding} of the bindings of ``res_model`` records with those ids."""
        keys = list({key for key in map(_key, external_ids) if key})
        if not keys:
            return {}
        bindings = self._fetch(self._domain([res_model]) + [("external_id", "in", keys)])
        return {binding.external_id: binding for binding in bindings}

    def records_for(self, res_model, external_ids):
        """{external id (str): record} of ``res_model`` bound to those ids; a binding whose record
        was deleted in Odoo is left out (joined in the same query)."""
        keys = list({key for key in map(_key, external_ids) if key})
        if not keys:
            return {}
        Model = self.env[res_model]
        self.Binding.flush_model(["integration_id", "external_model", "res_model", "res_id", "external_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT b.external_id, b.res_id FROM recruitment_sync_binding b
                     JOIN %(table)s r ON r.id = b.res_id
                    WHERE b.integration_id = %(integration)s AND b.external_model = %(external_model)s
                      AND b.res_model = %(res_model)s AND b.external_id IN %(keys)s""",
                table=SQL.identifier(Model._table),
                integration=self.integration.id,
                external_model=self.external_model,
                res_model=res_model,
                keys=tuple(keys),
            )
        )
        return {external_id: Model.browse(res_id) for external_id, res_id in rows}

    # ------------------------------------------------------------------------ writing
    def bind_many(self, pairs, values=None, known_unbound=False):
        """Bind each record to its external id: ``pairs`` [(record, external id)] or [(record,
        external id, extra values)]; ``values`` apply to all (a pair's own extra values win).

        A record already bound (or an external id bound to another record: it moves to this
        one) has its binding updated; the others are created in one ``create``. Returns the
        bindings in the order of ``pairs``.

        ``known_unbound``: the caller knows that neither the records nor the external ids are
        bound (records it just created for ids its own lookup did not find): the bindings are
        created without looking them up (the unique keys still refuse a duplicate).
        """
        pairs = [self._normalize(pair) for pair in pairs]
        if not pairs:
            return self.Binding
        if known_unbound:
            return self._write(pairs, [None] * len(pairs), values)
        domain = self._domain({record._name for record, _id, _values in pairs}) + [
            "|",
            ("res_id", "in", list({record.id for record, _id, _values in pairs})),
            ("external_id", "in", list({external_id for _record, external_id, _values in pairs})),
        ]
        by_record, by_external_id = {}, {}
        for binding in self._fetch(domain):
            by_record[binding.res_model, binding.res_id] = binding
            by_external_id[binding.res_model, binding.external_id] = binding
        existing = [
            by_record.get((record._name, record.id)) or by_external_id.get((record._name, external_id))
            for record, external_id, _values in pairs
        ]
        return self._write(pairs, existing, values)

    def bind(self, record, external_id, **values):
        """Bind one record (``bind_many`` of one); returns its binding."""
        return self.bind_many([(record, external_id, values)])

    def unbind(self, records):
        """Remove the bindings of ``records``."""
        if records:
            self.Binding.search(self._domain([records._name]) + [("res_id", "in", records.ids)]).unlink()

    def unbind_external(self, res_model, external_ids):
        """Remove the bindings of ``res_model`` records with those external ids."""
        keys = list({key for key in map(_key, external_ids) if key})
        if keys:
            self.Binding.search(self._domain([res_model]) + [("external_id", "in", keys)]).unlink()

    @staticmethod
    def _normalize(pair):
        record, external_id, *extra = pair
        record.ensure_one()
        if not _key(external_id):
            raise ValueError(f"No external id to bind {record!r} to.")
        return record, _key(external_id), dict(extra[0]) if extra and extra[0] else {}

    def _write(self, pairs, existing, values=None):
        """Update the ``existing`` binding of each pair (None or False: create one); all new ones
        in one ``create``. The bindings in the order of ``pairs``."""
        common = {"last_synced_at": fields.Datetime.now(), **(values or {})}
        bindings, new, new_at = list(existing), [], []
        for index, ((record, external_id, extra), binding) in enumerate(zip(pairs, existing, strict=True)):
            vals = {**common, **extra}
            if binding:
                # Written in the cache; the flush updates them together (one UPDATE per set of changed fields).
                binding.write({**vals, "external_id": external_id, "res_id": record.id})
                continue
            new_at.append(index)
            new.append(
                {
                    "integration_id": self.integration.id,
                    "company_id": self.integration.company_id.id,
                    "res_model": record._name,
                    "res_id": record.id,
                    "external_model": self.external_model,
                    "external_id": external_id,
                    **vals,
                }
            )
        if new:
            for index, binding in zip(new_at, self.Binding.create(new), strict=True):
                bindings[index] = binding
        return self.Binding.browse([binding.id for binding in bindings])

    # ------------------------------------------------------------------------ importing
    def import_record(
        self,
        res_model,
        external_id,
        remote_updated_at,
        values,
        binding=None,
        record=None,
        create_values=None,
        still_same=None,
    ):
        """Create or update the Odoo record of a remote one and bind it; (ItemResult, binding).

        The rules every import follows: a record whose remote updated-at did not move is
        *unchanged* (unless ``still_same(record)`` says otherwise); one changed in Odoo after its
        remote change is *skipped* (Odoo's version is kept: the local-change stamp, never
        write_date); otherwise the remote values win. ``binding``: what the batch already looked
        up (``False``: known absent, no query); ``record``: the record when found another way;
        ``create_values``: added to ``values`` when the record is new.
        """
        from ..models.recruitment_sync_binding import IMPORT_CONTEXT  # models import this module

        Model = self.env[res_model].with_context(**IMPORT_CONTEXT)
        key = _key(external_id)
        if binding is None:
            binding = self.bindings_for(res_model, [external_id]).get(key) or False
        record = record.with_context(**IMPORT_CONTEXT) if record else Model
        if not record and binding:
            record = Model.browse(binding.res_id).exists()
        if record:
            outcome = self.env["recruitment.sync.binding"]._remote_change_outcome(
                binding, record, remote_updated_at, still_same
            )
            if outcome == "unchanged":
                return ItemResult("unchanged", record, key), binding
            if outcome == "skipped":
                reason = _("Changed in Odoo after its last remote change: Odoo's version is kept.")
                return ItemResult("skipped", record, key, reason=reason), binding
            record.write(values)
            action = "updated"
        else:
            record = Model.create({**values, **(create_values or {})})
            action = "created"
        extra = {"remote_updated_at": remote_updated_at} if remote_updated_at else {}
        binding = self._write([self._normalize((record, external_id, extra))], [binding])
        return ItemResult(action, record, key), binding

    # ------------------------------------------------------------------------ pairing
    @staticmethod
    def pair(sent, answered, sent_key, answer_key=None):
        """The answer of each sent element (same length and order as ``sent``); None: unknown.

        1. Every sent element has a key (``sent_key(element)``) and the keys are unique: answers
           pair by the key they echo (``answer_key(answer)``, default ``sent_key``); an answer
           whose key nobody sent is ignored, two answers with the same key pair with nothing.
        2. Otherwise by position, only when there are as many answers as sent elements and no
           answer echoes a key that contradicts its position; else None for every element.
        3. None means the outcome is uncertain: look the element up on the remote side before
           any resend (exactly once), never assume it failed.

        ``sent_key=None``: elements have no key (position only, rule 2).
        """
        answered = list(answered or ())
        if sent_key is None:
            keys = [None] * len(sent)
        else:
            keys = [_key(sent_key(element)) for element in sent]
        echo = answer_key or sent_key or (lambda _answer: None)
        echoed = [_key(echo(answer)) for answer in answered]
        if keys and all(keys) and len(set(keys)) == len(keys):
            by_key, ambiguous = {}, set()
            for key, answer in zip(echoed, answered, strict=True):
                if key in by_key:
                    ambiguous.add(key)
                by_key[key] = answer
            return [None if key in ambiguous else by_key.get(key) for key in keys]
        if len(answered) != len(sent):
            return [None] * len(sent)
        known = {key for key in keys if key}
        for own, key in zip(keys, echoed, strict=True):
            if key and key != own and (own or key in known):
                return [None] * len(sent)
        return answered
