"""No connector imports a private name of the core (PROVIDERS.md: "never import a private name").

A connector is every addon of the repository that depends on ``recruitment_sync``. What it uses
from the core must be public: no ``_name`` imported from ``odoo.addons.recruitment_sync…``, no
module of the core whose path has a ``_part``, and no ``_name`` read from a core module it
imported (``from odoo.addons.recruitment_sync.models import recruitment_sync_run as run;
run._LOCK``). Model methods (``integration._queue_run()``) are Odoo's inheritance, not imports.
When a connector needs something of the core, the core exposes it with a documented hook.
"""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE = "odoo.addons.recruitment_sync"


def connector_addons():
    for manifest in sorted([*REPO.glob("*/__manifest__.py"), *REPO.glob("tests/odoo_addons/*/__manifest__.py")]):
        values = ast.literal_eval(manifest.read_text(encoding="utf-8"))
        if "recruitment_sync" in values.get("depends", ()):
            yield manifest.parent


def _is_core(module):
    return module == CORE or module.startswith(CORE + ".")


def _private(dotted):
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def private_core_names(source):
    """(line, what) of every private name of the core that ``source`` imports or reads."""
    found = []
    core_aliases = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _is_core(node.module):
            for alias in node.names:
                if _private(node.module) or _private(alias.name):
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
                core_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_core(alias.name):
                    if _private(alias.name):
                        found.append((node.lineno, f"import {alias.name}"))
                    if alias.asname:
                        core_aliases.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in core_aliases
            and _private(node.attr)
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


def test_the_check_finds_private_imports():
    source = (
        "from odoo.addons.recruitment_sync.models.recruitment_sync_run import _LOCK, COUNTED\n"
        "from odoo.addons.recruitment_sync.services import _internal\n"
        "from odoo.addons.recruitment_sync.models import recruitment_sync_run as run\n"
        "import odoo.addons.recruitment_sync._private\n"
        "value = run._NAMESPACE\n"
        "from odoo.addons.recruitment_sync_xero.services import _own  # the connector's own: allowed\n"
    )
    assert [what for _line, what in private_core_names(source)] == [
        "from odoo.addons.recruitment_sync.models.recruitment_sync_run import _LOCK",
        "from odoo.addons.recruitment_sync.services import _internal",
        "import odoo.addons.recruitment_sync._private",
        "run._NAMESPACE",
    ]


def test_connectors_use_only_public_names_of_the_core():
    addons = list(connector_addons())
    assert {addon.name for addon in addons} >= {
        "recruitment_sync_jobadder",
        "recruitment_sync_xero",
        "recruitment_sync_24so",
    }
    violations = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for addon in addons
        for path in sorted(addon.rglob("*.py"))
        for line, what in private_core_names(path.read_text(encoding="utf-8"))
    ]
    assert not violations, "connectors import private names of the core:\n" + "\n".join(violations)
