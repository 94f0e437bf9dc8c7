"""``make run`` recreates a sandbox database made before an addon existed (scripts/devstack.py).

A database made before JobAdder moved out of the core has ``recruitment_sync`` installed (with
the JobAdder models) and no ``recruitment_sync_jobadder``: updating it cannot install the new
addon, so ``run`` says so in one line and creates the database anew.
"""

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def devstack():
    spec = importlib.util.spec_from_file_location("devstack_under_test", SCRIPTS / "devstack.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


class FakePostgres:
    """The two questions ``run`` asks the server about its database."""

    def __init__(self, modules=None):
        self.modules = modules  # None: no such database

    def database_exists(self, _name):
        return self.modules is not None


BEFORE_THE_MOVE = {
    "recruitment_sync": ("installed", "18.0.1.0.0"),
    "recruitment_sync_xero": ("installed", "18.0.1.0.0"),
    "recruitment_sync_24so": ("installed", "18.0.1.0.0"),
}


@pytest.fixture
def sandbox(devstack, monkeypatch):
    said = []
    monkeypatch.setattr(devstack, "say", said.append)
    monkeypatch.setattr(devstack, "installed_addons", lambda pg, _dbname: dict(pg.modules))
    return devstack, said


def test_jobadder_is_one_of_the_addons_run_and_test_install(devstack):
    assert "recruitment_sync_jobadder" in devstack.ADDONS
    assert devstack.ADDONS[0] == "recruitment_sync"


def test_the_addons_are_the_repository_addon_folders_and_the_e2e_test_installs_them_all(devstack):
    folders = {path.parent.name for path in devstack.REPO.glob("*/__manifest__.py")}
    assert set(devstack.ADDONS) == folders
    assert {"recruitment_sync_xero", "recruitment_sync_24so", "recruitment_sync_quickbooks"} <= folders
    # An Odoo manifest is a literal: the end-to-end test addon names them, and must name every one.
    manifest = devstack.TEST_ADDONS_PATH / "recruitment_sync_e2e" / "__manifest__.py"
    assert set(ast.literal_eval(manifest.read_text())["depends"]) == set(devstack.ADDONS)


def test_database_made_before_the_move_is_recreated_with_one_clear_line(sandbox):
    devstack, said = sandbox
    pg = FakePostgres({**BEFORE_THE_MOVE, "recruitment_sync_jobadder": ("uninstalled", None)})
    assert devstack.sandbox_needs_new_database(pg, "recruitment_sync", fresh_asked=False) is True
    assert len(said) == 1
    # Every addon the database lacks is named (those added after it was made: JobAdder's among them).
    missing = [addon for addon in devstack.ADDONS if addon not in BEFORE_THE_MOVE]
    assert "recruitment_sync_jobadder" in missing
    assert f"database recruitment_sync was made before {', '.join(missing)} existed" in said[0]
    assert "existed (not installed in it)" in said[0]
    assert "creating it anew" in said[0]
    # The same without a row for the new addon at all (the database never saw its folder).
    said.clear()
    assert devstack.sandbox_needs_new_database(FakePostgres(BEFORE_THE_MOVE), "recruitment_sync", False) is True
    assert "recruitment_sync_jobadder" in said[0]


def test_up_to_date_database_is_reused_silently(sandbox):
    devstack, said = sandbox
    modules = {addon: ("installed", "18.0.1.0.0") for addon in devstack.ADDONS}
    assert devstack.sandbox_needs_new_database(FakePostgres(modules), "recruitment_sync", False) is False
    assert said == []


def test_missing_or_asked_for_database_is_created_without_a_warning(sandbox):
    devstack, said = sandbox
    assert devstack.sandbox_needs_new_database(FakePostgres(None), "recruitment_sync", False) is True
    modules = {addon: ("installed", "18.0.1.0.0") for addon in devstack.ADDONS}
    assert devstack.sandbox_needs_new_database(FakePostgres(modules), "recruitment_sync", True) is True
    assert said == []
