"""What our addons cost Odoo's everyday invoicing: at most one SQL query per invoice created and posted.

The invoice is created and posted as an accountant does it (a salesperson who is an employee of a
department, so the department default is computed). The baseline is the same create and post
with what our addons add to ``account.move`` switched off in this registry (the department
default, the local-change stamp); the difference is the queries our addons cause.
"""

import logging
from collections import Counter
from contextlib import ExitStack, contextmanager
from unittest.mock import patch

from odoo import Command
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.recruitment_sync.models import recruitment_sync_binding
from odoo.addons.recruitment_sync.models.bound_records import AccountMove

_logger = logging.getLogger(__name__)


@contextmanager
def recorded_queries(cr):
    """The SQL statements ``cr`` runs inside the block, in order."""
    queries = []
    real_execute = type(cr).execute

    def execute(self, query, params=None, log_exceptions=True):
        if self is cr:
            queries.append(" ".join(getattr(query, "code", query).split()))  # the statement, not its values
        return real_execute(self, query, params, log_exceptions)

    with patch.object(type(cr), "execute", execute):
        yield queries


@tagged("post_install", "-at_install", "recruitment_sync")
class TestInvoiceQueryOverhead(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        if not cls.env.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", cls.env.company, install_demo=False)
        cls.accountant = new_test_user(
            cls.env, "rs_overhead_accountant", groups="account.group_account_invoice,base.group_user"
        )
        cls.salesperson = new_test_user(cls.env, "rs_overhead_sales", groups="base.group_user")
        department = cls.env["hr.department"].create({"name": "Overhead Oslo"})
        cls.env["hr.employee"].create(
            {"name": "Overhead sales", "user_id": cls.salesperson.id, "department_id": department.id}
        )
        cls.partner = cls.env["res.partner"].create({"name": "Overhead customer"})
        cls.product = cls.env["product.product"].create({"name": "Fee", "list_price": 100.0})

    def create_and_post(self):
        env = self.accountant.with_company(self.env.company).env  # not a superuser: record rules apply
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "invoice_user_id": self.salesperson.id,
                "invoice_line_ids": [Command.create({"product_id": self.product.id, "price_unit": 100.0})],
            }
        )
        invoice.action_post()
        env.flush_all()
        return invoice

    def queries_of_create_and_post(self):
        """The queries of the everyday case: caches warm, the fewest of two tries."""
        self.create_and_post()
        measured = []
        for _try in range(2):
            self.env.invalidate_all()
            with recorded_queries(self.env.cr) as queries:
                invoice = self.create_and_post()
            measured.append((len(queries), invoice, queries))
        _count, invoice, queries = min(measured, key=lambda measure: measure[0])
        return invoice, queries

    @contextmanager
    def our_additions_off(self):
        """``account.move`` as if our addons had not touched it (the baseline)."""

        def no_department(moves):
            moves.department_id = False

        mixin = recruitment_sync_binding.RecruitmentSyncBoundMixin
        with ExitStack() as stack:
            stack.enter_context(patch.object(AccountMove, "_compute_department_id", no_department))
            stack.enter_context(patch.object(mixin, "_is_local_change", lambda _self, _vals: False))
            yield

    def test_create_and_post_costs_at_most_one_more_query(self):
        with self.our_additions_off():
            baseline_invoice, baseline = self.queries_of_create_and_post()
        self.assertFalse(baseline_invoice.department_id)
        invoice, ours = self.queries_of_create_and_post()
        self.assertTrue(invoice.department_id, "the department default is computed")
        _logger.info("invoice create+post: %d queries, %d without our additions", len(ours), len(baseline))
        extra = len(ours) - len(baseline)
        added = Counter(ours) - Counter(baseline)
        self.assertLessEqual(
            extra,
            1,
            "our addons add %d queries to an invoice's create and post:\n%s"
            % (extra, "\n".join(f"{count} x {query[:300]}" for query, count in added.items())),
        )
