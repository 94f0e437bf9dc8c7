"""Odoo's own test suites without and with our addons: the results must be identical.

    python3 scripts/peer_test.py                 # the default selection (make peer-test)
    python3 scripts/peer_test.py --tests hr      # one module's whole tests/ folder
    python3 scripts/peer_test.py --tests account/tests/test_account_move_out_invoice.py

Two fresh databases (demo data, as Odoo's own test databases have) get Odoo's modules ``account``,
``hr``, ``mail``, ``portal`` and ``web`` (``base`` comes with them); the second one also our
addons. The same test files of those modules then run on each with pytest-odoo, with the complete
registry (as in a production server, where our overrides are loaded), and the outcome of every
test is compared: any test that passes without our addons and fails or errors with them (or the
other way round) is listed and the command exits 1. Tests that fail both ways are Odoo's own
state on this machine (reported, not ours). The selection (``DEFAULT_TESTS``) is the tests of the
areas our addons touch (employees, users, record rules, invoices and their posting, chatter,
portal, the web client's read/save) that run in a few minutes on two cores; ``--tests`` picks
other module folders or files (paths relative to an Odoo addons folder).
"""

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devstack import (
    ADDONS,
    REPO,
    Postgres,
    check_odoo,
    ensure_prerequisites,
    free_port,
    odoo_addons_paths,
    odoo_command,
    pytest_odoo_command,
    say,
    terminate_on_signals,
    write_odoo_config,
)

ODOO_MODULES = ("account", "hr", "mail", "portal", "web")
DEFAULT_TESTS = (
    "hr/tests/test_hr_employee.py",
    "hr/tests/test_multi_company.py",
    "hr/tests/test_self_user_access.py",
    "hr/tests/test_scenario.py",
    "account/tests/test_account_move_out_invoice.py",
    "account/tests/test_account_move_out_refund.py",
    "account/tests/test_account_move_entry.py",
    "base/tests/test_acl.py",
    "base/tests/test_res_users.py",
    "base/tests/test_res_company.py",
    "base/tests/test_user_has_group.py",
    "mail/tests/test_res_users.py",
    "mail/tests/test_res_partner.py",
    "mail/tests/test_mail_activity.py",
    "portal/tests/test_portal_wizard.py",
    "portal/tests/test_portal.py",
    "web/tests/test_web_search_read.py",
    "web/tests/test_web_read_group.py",
    "web/tests/test_res_users.py",
)
OUTCOMES = ("passed", "failed", "error", "skipped")


def resolve_tests(selection):
    """Paths of Odoo's test files/folders named relative to an addons folder (``hr``, ``hr/tests/x.py``)."""
    import odoo

    base_addons = Path(odoo.__file__).resolve().parent / "addons"  # base, web's server side
    roots = [path for path in odoo_addons_paths() if path != REPO] + [base_addons]
    resolved, unknown = [], []
    for name in selection:
        name = name if "/" in name else f"{name}/tests"
        found = next((root / name for root in roots if (root / name).exists()), None)
        (resolved if found else unknown).append(found or name)
    if unknown:
        raise SystemExit(f"peer-test: not found in Odoo's addons folders: {', '.join(map(str, unknown))}")
    return resolved


def install(config, dbname, modules, log_file):
    args = ["-d", dbname, "-i", ",".join(modules), "--stop-after-init", "--log-level=warn"]
    with open(log_file, "w") as log:
        code = subprocess.run(odoo_command(config, *args), stdout=log, stderr=subprocess.STDOUT, check=False)
    if code.returncode:
        tail = "\n".join(Path(log_file).read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"peer-test: installing {','.join(modules)} into {dbname} failed:\n{tail}")


def run_tests(config, dbname, tests, report):
    command = pytest_odoo_command(
        config, dbname, "--odoo-log-level=critical", "-q", f"--junitxml={report}", *map(str, tests)
    )
    subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return outcomes(report)


def outcomes(report):
    """{test id: (outcome, message)} from a JUnit XML report."""
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}.{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or "").splitlines()[0][:200] if child.get("message") else ""
                break
        results[test_id] = (outcome, message)
    return results


def compare(without, with_addons):
    """The lines of a report, and whether the outcomes are the same (failures and errors alike)."""
    lines = []
    counts = {
        label: {outcome: sum(1 for o, _m in results.values() if o == outcome) for outcome in OUTCOMES}
        for label, results in (("without our addons", without), ("with our addons", with_addons))
    }
    for label, count in counts.items():
        lines.append(f"{label}: {sum(count.values())} tests, " + ", ".join(f"{n} {o}" for o, n in count.items()))
    differences = []
    for test_id in sorted(set(without) | set(with_addons)):
        before, after = without.get(test_id, ("absent", "")), with_addons.get(test_id, ("absent", ""))
        if before[0] != after[0] and {before[0], after[0]} & {"failed", "error", "absent"}:
            differences.append(f"  {test_id}: {before[0]} without, {after[0]} with our addons {after[1]}".rstrip())
    both = [test_id for test_id, (o, _m) in without.items() if o in ("failed", "error") and test_id not in differences]
    if differences:
        lines += ["DIFFERENT outcomes:", *differences]
    if both:
        lines.append(f"failing without our addons as well (Odoo's own, not compared): {len(both)}")
        lines += [f"  {test_id}: {without[test_id][0]} {without[test_id][1]}".rstrip() for test_id in both]
    return lines, not differences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), help="Odoo test folders or files")
    args = parser.parse_args(argv)
    check_odoo()
    ensure_prerequisites(browser=True)
    tests = resolve_tests(args.tests)
    with terminate_on_signals():
        pg = Postgres()
        workdir = Path(tempfile.mkdtemp(prefix="rs-peer-"))
        try:
            pg.start()
            config = write_odoo_config(pg, workdir / "odoo.conf", workdir / "data", http_port=free_port())
            databases = {"without": ("rs_peer_without", ODOO_MODULES), "with": ("rs_peer_with", ODOO_MODULES + ADDONS)}
            say("installing " + ", ".join(ODOO_MODULES) + " into two fresh databases, the second with our addons")
            with ThreadPoolExecutor(2) as pool:
                jobs = [
                    pool.submit(install, config, db, modules, workdir / f"install-{db}.log")
                    for db, modules in databases.values()
                ]
                for job in jobs:
                    job.result()
            results = {}
            for side, (db, _modules) in databases.items():
                say(f"running {len(tests)} test files of Odoo {side} our addons")
                results[side] = run_tests(config, db, tests, workdir / f"report-{side}.xml")
            lines, same = compare(results["without"], results["with"])
            for line in lines:
                print(line)
            say("same results with and without our addons" if same else "our addons change Odoo's test results")
            return 0 if same else 1
        finally:
            for db in ("rs_peer_without", "rs_peer_with"):
                if pg.params or pg.private:
                    try:
                        pg.drop_database(db)
                    except Exception:  # noqa: BLE001  (the server may already be gone)
                        pass
            pg.stop(quiet=True)
            subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())
