"""Each addon installed and tested the way Odoo shops, runbot and odoo.sh do it (``make shop-test``).

    python3 scripts/shop_test.py                               # the six addons, one after the other
    python3 scripts/shop_test.py recruitment_sync_xero         # some of them

For every addon: a fresh database with demo data, then
``odoo-bin -d <db> -i <addon> --test-enable --test-tags /<addon> --stop-after-init`` with the
repository's folder and Odoo's own addons on the addons path, the test-only addons of
``tests/odoo_addons`` absent, and the repository root on ``PYTHONPATH`` (the tests import the
stand-ins as ``tests.fakes``). ``--test-tags /<addon>`` runs that addon's tests only, as
runbot and odoo.sh do for the modules of a branch (without it Odoo also runs the tests of
every dependency it installs, ``base`` and ``account`` included: hours). Odoo's dependencies
(the core's: account, hr, mail, ...) are installed once, with demo data and without tests,
into a template database that each addon's database is copied from, with its file store.

An addon passes when the install exits 0, its log has no ERROR or CRITICAL line and Odoo's
summary reads ``0 failed, 0 error(s) of N tests`` with N > 0. The logs are kept in the folder
printed at the end.

Without ``tests/odoo_addons`` the core's tests that need its test provider are skipped, each
with that reason; ``--with-test-provider`` puts that folder on the addons path and installs
``recruitment_sync_test_provider`` with the core, so that they run too (as ``make test`` does).
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devstack import (
    ADDONS,
    REPO,
    Postgres,
    check_odoo,
    ensure_prerequisites,
    free_port,
    odoo_command,
    say,
    terminate_on_signals,
    write_odoo_config,
)

TEMPLATE_DB = "rs_shop_template"
SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")


def odoo_dependencies(addons):
    """The Odoo modules our addons depend on (ours left out): the template database's modules."""
    found, todo, seen = set(), list(addons), set()
    while todo:
        addon = todo.pop()
        if addon in seen:
            continue
        seen.add(addon)
        manifest = ast.literal_eval((REPO / addon / "__manifest__.py").read_text())
        for dep in manifest.get("depends", ()):
            if dep in ADDONS:
                todo.append(dep)  # ours: installed by the test itself, its dependencies are Odoo's
            else:
                found.add(dep)
    return sorted(found)


def helpers(addon, with_test_provider):
    """The test-only addons installed with ``addon`` (the core's test provider, when asked)."""
    return ["recruitment_sync_test_provider"] if with_test_provider and addon == "recruitment_sync" else []


def run_odoo(config, log_file, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    with open(log_file, "w") as log:
        return subprocess.run(
            odoo_command(config, *args), stdout=log, stderr=subprocess.STDOUT, env=env, check=False
        ).returncode


def copy_database(pg, data_dir, source, target):
    pg.drop_database(target)
    conn = pg.connect()  # autocommit: CREATE DATABASE refuses a transaction block
    try:
        with conn.cursor() as cr:
            cr.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        conn.close()
    filestore = Path(data_dir) / "filestore"
    shutil.rmtree(filestore / target, ignore_errors=True)
    if (filestore / source).exists():
        shutil.copytree(filestore / source, filestore / target)


def verdict(code, log_file):
    """(passed, one summary line, the log's ERROR/CRITICAL/FAIL lines)."""
    lines = Path(log_file).read_text(errors="replace").splitlines()
    problems = [line for line in lines if " ERROR " in line or " CRITICAL " in line or "FAIL:" in line]
    summaries = [match for line in lines if (match := SUMMARY.search(line))]
    if not summaries:
        return False, f"exit {code}, no test summary in the log", problems
    failed, errors, total = map(int, summaries[-1].groups())
    passed = code == 0 and not problems and failed == errors == 0 and total > 0
    return passed, f"{failed} failed, {errors} error(s) of {total} tests (exit {code})", problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("addons", nargs="*", default=list(ADDONS), help="our addons to test (default: all)")
    parser.add_argument(
        "--with-test-provider",
        action="store_true",
        help="the core also with its test provider (tests/odoo_addons on the addons path)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.addons) - set(ADDONS))
    if unknown:
        raise SystemExit(f"shop-test: not one of our addons: {', '.join(unknown)}")
    check_odoo()
    ensure_prerequisites(browser=True)
    workdir = Path(tempfile.mkdtemp(prefix="rs-shop-"))
    logs = workdir / "logs"
    logs.mkdir()
    with terminate_on_signals():
        pg = Postgres()
        try:
            pg.start()
            data_dir = workdir / "data"
            config = write_odoo_config(
                pg, workdir / "odoo.conf", data_dir, with_test_addons=args.with_test_provider, http_port=free_port()
            )
            dependencies = odoo_dependencies(args.addons)
            say(f"installing Odoo's {', '.join(dependencies)} with demo data into a template database")
            pg.drop_database(TEMPLATE_DB)
            template_log = logs / "template.log"
            code = run_odoo(config, template_log, "-d", TEMPLATE_DB, "-i", ",".join(dependencies), "--stop-after-init")
            if code:
                raise SystemExit(f"shop-test: the template database did not install (exit {code}): {template_log}")
            results = {}
            for addon in args.addons:
                dbname = f"rs_shop_{addon}"
                copy_database(pg, data_dir, TEMPLATE_DB, dbname)
                say(f"{addon}: odoo-bin -i {addon} --test-enable --test-tags /{addon}")
                log_file = logs / f"{addon}.log"
                code = run_odoo(
                    config,
                    log_file,
                    "-d",
                    dbname,
                    "-i",
                    ",".join([addon, *helpers(addon, args.with_test_provider)]),
                    "--test-enable",
                    f"--test-tags=/{addon}",
                    "--stop-after-init",
                )
                results[addon] = verdict(code, log_file)
                passed, summary, problems = results[addon]
                say(f"{addon}: {'passed' if passed else 'FAILED'}: {summary}")
                for line in problems[:40]:
                    print("   ", line, flush=True)
                pg.drop_database(dbname)
                shutil.rmtree(data_dir / "filestore" / dbname, ignore_errors=True)
            say(f"logs: {logs}")
            for addon, (passed, summary, _problems) in results.items():
                print(f"{addon}: {'passed' if passed else 'FAILED'}: {summary}")
            return 0 if all(passed for passed, _s, _p in results.values()) else 1
        finally:
            if pg.params or pg.private:
                try:
                    pg.drop_database(TEMPLATE_DB)
                except Exception:  # noqa: BLE001  (the server may already be gone)
                    pass
            pg.stop(quiet=True)
            shutil.rmtree(workdir / "data", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
