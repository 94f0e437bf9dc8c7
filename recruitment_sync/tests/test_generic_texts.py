"""The core speaks of no provider: a database with only some connectors (or a connector still to
come) never shows a user another provider's name in the core's screens, help, templates or errors.
Provider-specific texts belong to the connector addons (their views inherit the core's)."""

import re

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

# The providers of this repository's connectors, also when their addon is not installed here.
KNOWN_PROVIDERS = (
    "JobAdder",
    "Xero",
    "24SevenOffice",
    "24 Seven Office",
    "QuickBooks",
    "InvoiceOcean",
    "Invoice Ocean",
)


def provider_names(env):
    """The known providers, and the label of every provider a connector installed here adds."""
    labels = dict(env["recruitment.sync.integration"]._fields["provider"]._description_selection(env))
    core_values = {"none"}  # the core's own placeholder value
    return {*KNOWN_PROVIDERS, *(label for value, label in labels.items() if value not in core_values)}


def core_terms(env):
    """Every user-facing term of the core, as Odoo's translation export finds it: views and
    actions (arch, help), mail templates, field labels and help, selection labels, menus, and the
    ``_()``/``_lt()`` strings of its Python and JavaScript (code comments are not terms). The
    provider selection values a connector adds belong to that connector's module."""
    reader = TranslationModuleReader(env.cr, modules=["recruitment_sync"])
    return [
        (f"{ttype}:{name}:{res_id}", source)
        for module, ttype, name, res_id, source, *_rest in reader
        if module == "recruitment_sync"
    ]


@tagged("post_install", "-at_install", "recruitment_sync")
class TestGenericTexts(TransactionCase):
    def test_no_provider_named_in_the_core_user_facing_texts(self):
        # a source file the extraction cannot read is only logged: its terms would be missed here
        with self.assertNoLogs("odoo.tools.translate", "ERROR"):
            terms = core_terms(self.env)
        self.assertGreater(len(terms), 100, "the core's terms were found (views, fields, messages)")
        pattern = re.compile("|".join(re.escape(name) for name in sorted(provider_names(self.env))), re.IGNORECASE)
        named = [f"{where}: {source!r}" for where, source in terms if pattern.search(source)]
        self.assertFalse(
            named,
            "texts of the core that name a provider (make them generic or move them to the connector):\n"
            + "\n".join(named),
        )

    def test_the_scan_sees_a_provider_name_in_a_core_text(self):
        # The check can fail: a core view naming a provider is found.
        view = self.env.ref("recruitment_sync.recruitment_sync_integration_view_form")
        view.arch_db = view.arch_db.replace("e.g. Recruitment platform", "e.g. Xero")
        pattern = re.compile("Xero")
        self.assertTrue([source for _where, source in core_terms(self.env) if pattern.search(source)])
