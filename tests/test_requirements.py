"""requirements.txt names every package the repository's code and tests import.

A fresh machine gets Odoo 18.0 with its own requirements and then ``requirements.txt`` (``make
test`` installs what is missing): a module imported anywhere in the repository must come from the
standard library, the repository itself, Odoo's requirements, or a package of requirements.txt
(or one they depend on). Imports guarded by ``except ImportError`` are optional and not counted.
"""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKIPPED_FOLDERS = {".devstack", ".git", "node_modules", "__pycache__"}


def _name(requirement):
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _requirements(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {_name(line) for line in lines if line and not line.startswith("-")}


def _with_dependencies(names):
    allowed = set(names)
    for name in names:
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        allowed |= {_name(requirement) for requirement in requires if "extra ==" not in requirement}
    return allowed


def _guarded(node, parents):
    """Whether an import sits in a ``try`` that handles ImportError (an optional import)."""
    for parent in parents.get(node, ()):
        if isinstance(parent, ast.Try) and any(
            isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            for handler in parent.handlers
        ):
            return True
    return False


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {}
    for parent in ast.walk(tree):
        if isinstance(parent, ast.Try):  # its body and its handlers (the fallback) are optional
            for statement in parent.body + [line for handler in parent.handlers for line in handler.body]:
                for child in ast.walk(statement):
                    parents.setdefault(child, []).append(parent)
    for node in ast.walk(tree):
        if _guarded(node, parents):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def _python_files():
    for path in REPO.rglob("*.py"):
        if not SKIPPED_FOLDERS & set(path.relative_to(REPO).parts):
            yield path


def test_every_imported_package_is_a_requirement():
    import odoo

    odoo_requirements = Path(odoo.__file__).resolve().parents[1] / "requirements.txt"
    if not odoo_requirements.is_file():
        pytest.skip(f"Odoo's requirements.txt is not next to its source ({odoo_requirements}): nothing to compare")
    allowed = _with_dependencies(_requirements(REPO / "requirements.txt") | _requirements(odoo_requirements))
    local = {path.stem for path in _python_files()} | {path.parent.name for path in _python_files()}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for path in _python_files():
        for module in _imports(path):
            if module in sys.stdlib_module_names or module in local or module == "odoo":
                continue
            names = {_name(dist) for dist in distributions.get(module, [])} | {_name(module)}
            if not names & allowed:
                missing.setdefault(module, str(path.relative_to(REPO)))
    assert not missing, f"imported but not in requirements.txt (module: first file): {missing}"
