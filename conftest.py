"""pytest hooks shared by every test of the repository.

The Odoo suite must never be skipped silently: Odoo's HttpCase skips a browser test when
Chromium or websocket-client is missing, so such skips are reported as failures here.
"""

import pytest


def _import_odoo_test_framework():
    """Import Odoo's test framework in test mode, before pytest-odoo does.

    pytest-odoo enables ``test_enable`` only around test modules (enabling it globally
    would rerun at_install tests while the registry loads) but imports ``odoo.tests``
    earlier, which logs a spurious error with a stack trace outside test mode.
    """
    from odoo.tools import config as odoo_config

    previous = odoo_config["test_enable"]
    odoo_config["test_enable"] = True
    try:
        import odoo.tests  # noqa: F401
    finally:
        odoo_config["test_enable"] = previous


_import_odoo_test_framework()

BROWSER_SKIP_MARKERS = ("chrome", "chromium", "websocket", "browser")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).lower()
        if any(marker in reason for marker in BROWSER_SKIP_MARKERS):
            report.outcome = "failed"
            report.longrepr = f"browser test could not run (never skipped here): {report.longrepr[2]}"
