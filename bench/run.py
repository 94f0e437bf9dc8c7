#!/usr/bin/env python3
"""Benchmarks: ``bench/run [SCENARIO...] [--placements N] [--invoices N]`` (see README, Benchmarks).

Starts what it needs as the test command does (``scripts/devstack.py``): a PostgreSQL server
(the one the PG* variables name, or a private one, always stopped at the end) and a template
database with the four addons installed (no demo data). Each load gets a fresh copy of the
template and a fake JobAdder of the wanted size in a process of its own
(``bench/fake_jobadder.py``); each measured step runs in a fresh Odoo process
(``bench/jobadder_scenarios.py``).

Scenarios (default: all):

* ``jobadder_initial_load``: the initial load of an agency of N placements (default 10,000,
  with 2/5 N companies, 4/5 N contacts, N candidates, 50 users), next to a plain batch
  ``create`` of the same records; then, unless ``--no-scale-check``, the same load at N/4 in
  another database, to compare SQL queries per record and peak memory;
* ``jobadder_noop_sync``: after the initial load, an incremental sync with nothing changed: one
  list call per listed resource (``NOOP_LISTINGS``), no detail call, under 2 seconds;
* ``24so_export``: N posted invoices (default 500) with 3 lines each over 300 products (100
  unknown to 24SevenOffice) and 150 customers exported to a fake 24SevenOffice
  (``bench/tso_fake.py``, ``bench/tso_scenarios.py``): SOAP calls, SaveInvoices calls, logins
  and wall time;
* ``xero_export``: N posted invoices (default 3,000; ``--new-customers`` M, default 500, of their
  customers new to Xero) exported to a fake Xero enforcing Xero's limits on the real clock
  (``bench/fake_xero.py``, ``bench/xero_scenarios.py``), with timeouts after commit injected: API
  calls, wall time, the least wall time Xero's 60-calls-a-minute limit allows for that many
  calls, duplicates;
* ``qbo_export``: the same with QuickBooks Online (``bench/fake_quickbooks.py``,
  ``bench/qbo_scenarios.py``): 30 documents per ``/batch``, QuickBooks' limits (500 a minute, 10 a
  second, 40 batches a minute) on the real clock, timeouts after commit injected.
* ``invoiceocean_sync``: the first sync of 5,000 InvoiceOcean clients against 5,000 Odoo customers
  (half of them the same companies) and 2,000 documents, then a sync with nothing new
  (``bench/fake_invoiceocean.py``, ``bench/io_scenarios.py``); compared with the same number of
  partners and opportunities made by batch ``create``.

Progress goes to stderr; stdout gets exactly one JSON object per scenario, one per line.
"""

import argparse
import contextlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "scripts"))

import devstack  # noqa: E402  (scripts/, on the path set above)

JOBADDER_SCENARIOS = ("jobadder_initial_load", "jobadder_noop_sync")
SCENARIOS = (*JOBADDER_SCENARIOS, "24so_export", "xero_export", "qbo_export", "invoiceocean_sync")
DB_PREFIX = "rs_bench"
TEMPLATE_DB = f"{DB_PREFIX}_template"
USERS = 50
# The targets.
MIN_THROUGHPUT_RATIO = 0.70  # of the plain create's records per second
MAX_QUERIES_PER_RECORD = 3.5
NOOP_MAX_SECONDS = 2.0
# What an incremental sync lists, one call each when nothing changed: placements twice (changed,
# then approved: approvals are read separately by default), the deleted ones, and the related
# records changed on their own.
NOOP_LISTINGS = {
    "GET /v2/placements": 2,
    "GET /v2/placements/deleted": 1,
    "GET /v2/candidates": 1,
    "GET /v2/contacts": 1,
    "GET /v2/companies": 1,
    "GET /v2/users": 1,
}
INVOICES_PER_SAVE = 50  # 24SevenOffice: at most ceil(N/50) SaveInvoices calls
DEFAULT_INVOICES = {"24so_export": 500, "xero_export": 3000, "qbo_export": 3000}
# Xero: one call per 50 documents (75 for 3,000 invoices and 500 new customers, with 5 spare for
# retries), and a wall time within 110% of the least Xero's limits allow for that many calls.
XERO_PER_CALL = 50
XERO_SPARE_CALLS = 5
XERO_WALL_RATIO = 1.10
# QuickBooks: one /batch call per 30 documents (invoices and new customers), 5 spare.
QBO_PER_BATCH = 30
QBO_SPARE_BATCHES = 5
# invoiceocean_sync: the sizes and targets.
IO_CLIENTS, IO_CUSTOMERS, IO_DOCUMENTS = 5000, 5000, 2000
IO_RATE_SHARE = 0.4  # of the plain batch create's records a second
IO_NOOP_SECONDS = 2.0
# "Constant" and "flat" between N/4 and N: within these margins.
QUERIES_TOLERANCE = 0.10
MEMORY_TOLERANCE = 0.10


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"{', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--placements", type=int, default=10_000, help="placements in JobAdder (default 10000)")
    parser.add_argument(
        "--batch-size", type=int, default=100, help="the integration's placements per batch (default 100, max 1000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the fake agency's seed")
    parser.add_argument("--no-scale-check", action="store_true", help="skip the second initial load at N/4 placements")
    parser.add_argument(
        "--sql-profile", action="store_true", help="jobadder_initial_load: print its SQL statements by shape (stderr)"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="run each scenario step under cProfile, its statistics written to DIR/<database>-<step>.prof "
        "(read them with python3 -m pstats); the figures are then not comparable",
    )
    parser.add_argument(
        "--invoices", type=int, help="invoices exported (default: 500 by 24so_export, 3000 by xero_export)"
    )
    parser.add_argument(
        "--new-customers", type=int, default=500, help="xero_export: customers Xero does not have yet (default 500)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}: choose among {', '.join(SCENARIOS)}")
    if args.placements < 4:
        parser.error("--placements must be at least 4")
    if args.invoices is not None and args.invoices < 1:
        parser.error("--invoices must be at least 1")
    if args.new_customers < 0:
        parser.error("--new-customers must not be negative")
    args.scenarios = [name for name in SCENARIOS if name in (args.scenarios or SCENARIOS)]
    return args


class Bench:
    def __init__(self, pg, workdir, args):
        self.pg = pg
        self.workdir = workdir
        self.args = args
        self.config = None
        self.databases = []

    # -- databases ----------------------------------------------------------------------
    def install_template(self):
        self.config = devstack.write_odoo_config(self.pg, self.workdir / "odoo.conf", self.workdir / "data")
        log_file = self.workdir / "install.log"
        log("installing the addons into a template database (no demo data) …")
        self.databases.append(TEMPLATE_DB)
        with contextlib.redirect_stdout(sys.stderr):
            process = devstack.install_addons(self.pg, self.config, TEMPLATE_DB, False, log_file)
            if not devstack.check_install(self.pg, TEMPLATE_DB, process, log_file, "install"):
                raise SystemExit(1)

    def fresh_database(self, name):
        self.pg.drop_database(name)
        self.databases.append(name)
        conn = self.pg.connect()
        try:
            with conn.cursor() as cr:
                cr.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        finally:
            conn.close()
        filestore = self.workdir / "data" / "filestore"
        if (filestore / TEMPLATE_DB).is_dir():
            shutil.copytree(filestore / TEMPLATE_DB, filestore / name)
        return name

    def drop_databases(self):
        for name in reversed(self.databases):
            with contextlib.suppress(Exception):
                self.pg.drop_database(name)

    # -- processes ----------------------------------------------------------------------
    @contextlib.contextmanager
    def serve(self, command, what):
        """Start a fake in a process of its own; yield the JSON line it prints; stop it at the end."""
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = process.stdout.readline()
            if not line:
                raise SystemExit(f"the fake {what} did not start (exit {process.wait()})")
            yield line.strip()
        finally:
            with contextlib.suppress(OSError):
                process.stdin.close()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @contextlib.contextmanager
    def fake(self, placements):
        command = [sys.executable, str(BENCH / "fake_jobadder.py"), "--placements", str(placements)]
        command += ["--users", str(USERS), "--seed", str(self.args.seed)]
        with self.serve(command, "JobAdder") as line:
            info = json.loads(line)
            log(
                "fake JobAdder at {url} (today {today}): {placements} placements, {companies} companies, "
                "{contacts} contacts, {candidates} candidates, {users} users".format(**info)
            )
            yield line

    def scenario(self, script, verb, database, fake, *options, name=None):
        """Run ``script verb`` (a scenario of its own process) on ``database`` against ``fake``;
        return the JSON result it wrote."""
        result_file = self.workdir / f"{database}-{verb}.json"
        command = [sys.executable, str(BENCH / script), verb, "--config", str(self.config)]
        if self.args.profile:
            self.args.profile.mkdir(parents=True, exist_ok=True)
            profile = self.args.profile.resolve() / f"{database}-{verb}.prof"
            command[1:1] = ["-m", "cProfile", "-o", str(profile)]
        command += ["--database", database, "--fake", fake, "--result", str(result_file), *options]
        # The step's stdout (Odoo may print) joins stderr: our stdout holds the JSON lines only.
        code = subprocess.run(command, stdout=sys.stderr, check=False).returncode
        if code or not result_file.exists():
            raise SystemExit(f"the benchmark step {name or verb} on {database} failed (exit {code})")
        return json.loads(result_file.read_text())

    def step(self, step, database, fake, *options):
        return self.scenario(
            "jobadder_scenarios.py", step, database, fake, "--batch-size", str(self.args.batch_size), *options
        )

    # -- scenarios ----------------------------------------------------------------------
    def load(self, placements, baseline, noop):
        database = self.fresh_database(f"{DB_PREFIX}_{placements}")
        with self.fake(placements) as fake:
            options = ["--placements", str(placements), *(["--baseline"] if baseline else [])]
            options += ["--sql-profile"] if self.args.sql_profile and baseline else []
            load = self.step("initial_load", database, fake, *options)
            noop_result = self.step("noop_sync", database, fake) if noop else None
        return load, noop_result

    @contextlib.contextmanager
    def tso_fake(self):
        command = [sys.executable, str(BENCH / "tso_fake.py"), "--seed", str(self.args.seed)]
        with self.serve(command, "24SevenOffice") as line:
            log("fake 24SevenOffice at {url}: {products} products, {companies} customers".format(**json.loads(line)))
            yield line

    def tso_export(self):
        database = self.fresh_database(f"{DB_PREFIX}_24so")
        with self.tso_fake() as fake:
            options = ["--invoices", str(self.invoices("24so_export")), "--seed", str(self.args.seed)]
            return self.scenario("tso_scenarios.py", "export", database, fake, *options, name="24so_export")

    def invoices(self, scenario):
        return self.args.invoices or DEFAULT_INVOICES[scenario]

    def accounting_export(self, scenario, provider, label, describe):
        """An accounting export: ``bench/fake_<provider>.py`` serves, ``<scenario prefix>_scenarios.py``
        exports; ``describe`` formats the fake's JSON line for the log."""
        invoices = self.invoices(scenario)
        new_customers = min(self.args.new_customers, invoices)
        prefix = scenario.removesuffix("_export")
        database = self.fresh_database(f"{DB_PREFIX}_{prefix}")
        command = [sys.executable, str(BENCH / f"fake_{provider}.py"), "--seed", str(self.args.seed)]
        with self.serve(command, label) as fake:
            log(describe.format(**json.loads(fake)))
            options = [
                "--invoices",
                str(invoices),
                "--new-customers",
                str(new_customers),
                "--seed",
                str(self.args.seed),
            ]
            return self.scenario(f"{prefix}_scenarios.py", "export", database, fake, *options, name=scenario)

    def xero_export(self):
        return self.accounting_export(
            "xero_export",
            "xero",
            "Xero",
            "fake Xero at {url}: {organisation} ({base_currency}), {customers} contacts, limits "
            "{minute_limit}/minute, {concurrent_limit} concurrent, {day_limit}/day",
        )

    def qbo_export(self):
        return self.accounting_export(
            "qbo_export",
            "quickbooks",
            "QuickBooks",
            "fake QuickBooks at {url}: {company} ({home_currency}), limits {minute_limit}/minute, "
            "{second_limit}/second, {batch_minute_limit} batches/minute",
        )

    def invoiceocean_sync(self):
        database = self.fresh_database(f"{DB_PREFIX}_io")
        command = [sys.executable, str(BENCH / "fake_invoiceocean.py"), "--seed", str(self.args.seed)]
        command += ["--clients", str(IO_CLIENTS), "--documents", str(IO_DOCUMENTS)]
        with self.serve(command, "InvoiceOcean") as fake:
            log(
                "fake InvoiceOcean at {account_url}: {clients} clients ({shared} shared), {documents} documents".format(
                    **json.loads(fake)
                )
            )
            options = ["--customers", str(IO_CUSTOMERS)]
            return self.scenario("io_scenarios.py", "sync", database, fake, *options, name="invoiceocean_sync")

    def run(self):
        args = self.args
        wanted = set(args.scenarios)
        results = []
        if wanted & set(JOBADDER_SCENARIOS):
            results += self.run_jobadder(wanted)
        if "24so_export" in wanted:
            results.append(tso_export_result(self.tso_export()))
        if "xero_export" in wanted:
            results.append(xero_export_result(self.xero_export()))
        if "qbo_export" in wanted:
            results.append(qbo_export_result(self.qbo_export()))
        if "invoiceocean_sync" in wanted:
            results.append(invoiceocean_sync_result(self.invoiceocean_sync()))
        return results

    def run_jobadder(self, wanted):
        args = self.args
        load, noop = self.load(args.placements, "jobadder_initial_load" in wanted, "jobadder_noop_sync" in wanted)
        results = []
        if "jobadder_initial_load" in wanted:
            smaller = None
            if not args.no_scale_check:
                log(f"scale check: the same initial load at N/4 = {args.placements // 4} placements")
                smaller, _noop = self.load(args.placements // 4, False, False)
            results.append(initial_load_result(load, smaller))
        if noop is not None:
            results.append(noop_result(noop))
        return results


def initial_load_result(load, smaller):
    ratio = load["records_per_second"] / load["plain_create_records_per_second"]
    result = {
        "scenario": "jobadder_initial_load",
        "placements": load["placements"],
        "through_cron": load["through_cron"],
        "wall_seconds": load["wall_seconds"],
        "seconds": load["seconds"],
        "records_per_second": load["records_per_second"],
        "plain_create_records_per_second": load["plain_create_records_per_second"],
        "api_calls": load["api_calls"],
        "sql_queries_per_record": load["sql_queries_per_record"],
        "peak_rss_mb": load["peak_rss_mb"],
        "throughput_ratio": round(ratio, 3),
        **{key: load[key] for key in ("records", "placements_imported", "records_by_kind", "failed", "batch_size")},
        "api_calls_per_route": load["api_calls_per_route"],
        "plain_create_seconds": load["plain_create_seconds"],
        "plain_create_sql_queries_per_record": load["plain_create_sql_queries_per_record"],
        "rss_before_mb": load["rss_before_mb"],
        **{key: load[key] for key in ("scheduler_passes", "runner_calls", "scheduler_wait_seconds")},
    }
    targets = {
        "throughput_at_least_70pct_of_plain_create": ratio >= MIN_THROUGHPUT_RATIO,
        "sql_queries_per_record_at_most_3_5": load["sql_queries_per_record"] <= MAX_QUERIES_PER_RECORD,
    }
    if smaller:
        result["scale_check"] = {
            key: smaller[key]
            for key in (
                "placements",
                "records",
                "wall_seconds",
                "seconds",
                "records_per_second",
                "sql_queries_per_record",
                "peak_rss_mb",
                "rss_before_mb",
            )
        }
        queries, queries_small = load["sql_queries_per_record"], smaller["sql_queries_per_record"]
        targets["sql_queries_per_record_constant"] = queries <= queries_small * (1 + QUERIES_TOLERANCE)
        growth = (load["peak_rss_mb"] - load["rss_before_mb"]) - (smaller["peak_rss_mb"] - smaller["rss_before_mb"])
        result["scale_check"]["peak_rss_growth_mb"] = round(growth, 1)
        targets["memory_flat"] = load["peak_rss_mb"] <= smaller["peak_rss_mb"] * (1 + MEMORY_TOLERANCE)
    result["targets_met"] = targets
    return result


def noop_result(noop):
    calls = noop["api_calls_per_route"]
    list_routes = {route: count for route, count in calls.items() if "{id}" not in route and "/connect/" not in route}
    detail_calls = sum(count for route, count in calls.items() if "{id}" in route)
    return {
        "scenario": "jobadder_noop_sync",
        "through_cron": noop["through_cron"],
        "seconds": noop["seconds"],
        "api_calls": noop["api_calls"],
        "api_calls_per_route": calls,
        "seconds_second_run": noop["seconds_second_run"],
        "sql_queries": noop["sql_queries"],
        "records_changed": noop["records_changed"],
        "run_state": noop["run_state"],
        "targets_met": {
            "one_list_call_per_resource": detail_calls == 0 and list_routes == NOOP_LISTINGS,
            "under_2_seconds": noop["seconds"] < NOOP_MAX_SECONDS,
        },
    }


def tso_export_result(export):
    batches = math.ceil(export["invoices"] / INVOICES_PER_SAVE)
    calls = export["calls"]
    return {
        "scenario": "24so_export",
        "invoices": export["invoices"],
        "soap_calls": export["soap_calls"],
        "save_invoices_calls": export["save_invoices_calls"],
        "logins": export["logins"],
        "seconds": export["seconds"],
        **{key: export[key] for key in ("through_cron", "scheduler_passes", "runner_calls")},
        "lines": export["lines"],
        "calls": calls,
        "statuses": export["statuses"],
        "products_created": export["products_created"],
        "customers_created": export["customers_created"],
        "run_states": export["run_states"],
        "targets_met": {
            "one_login_per_credential": export["logins"] <= export["credentials"],
            # One bulk lookup per batch; exact ones only for what the bulk (change-date) list did not
            # return, i.e. for the products (1 by number) and customers (2: key, number) then created.
            "lookups_batched": calls.get("GetProducts", 0) <= batches + export["products_created"]
            and calls.get("GetCompanies", 0) <= batches + 2 * export["customers_created"],
            "save_invoices_at_most_ceil_n_50": export["save_invoices_calls"] <= batches,
        },
    }


def xero_export_result(export):
    """The issue's JSON line first, then the details; the call target scales with the sizes."""
    needed = math.ceil(export["invoices"] / XERO_PER_CALL) + math.ceil(export["new_customers"] / XERO_PER_CALL)
    max_calls = needed + XERO_SPARE_CALLS
    minimum = export["minimum_seconds"]
    return {
        "scenario": "xero_export",
        "invoices": export["invoices"],
        "api_calls": export["api_calls"],
        "seconds": export["seconds"],
        "minimum_seconds": minimum,
        **{key: export[key] for key in ("through_cron", "scheduler_passes", "runner_calls")},
        "duplicates": export["duplicates"],
        "new_customers": export["new_customers"],
        "invoices_exported": export["invoices_exported"],
        "run_state": export["run_state"],
        "failed": export["failed"],
        "rate_limited_429": export["rate_limited"],
        "timeouts_injected": export["timeouts_injected"],
        "idempotent_replays": export["idempotent_replays"],
        "wall_ratio": round(export["seconds"] / minimum, 3) if minimum else None,
        "api_calls_per_route": export["api_calls_per_route"],
        "targets_met": {
            f"at_most_{max_calls}_calls": export["api_calls"] <= max_calls,
            # Up to 60 calls, Xero's minute limit bounds nothing: there is no minimum to compare with.
            "within_110pct_of_minimum": export["seconds"] <= XERO_WALL_RATIO * minimum if minimum else None,
            "no_429_from_our_pacing": export["rate_limited"] == 0,
            "zero_duplicates": export["duplicates"] == 0,
            "every_invoice_exported": export["invoices_exported"] == export["invoices"],
        },
    }


def qbo_export_result(export):
    """The issue's JSON line first, then the details."""
    needed = math.ceil(export["invoices"] / QBO_PER_BATCH) + math.ceil(export["new_customers"] / QBO_PER_BATCH)
    max_batches = needed + QBO_SPARE_BATCHES
    minimum = export["minimum_seconds"]
    return {
        "scenario": "qbo_export",
        "invoices": export["invoices"],
        "api_calls": export["api_calls"],
        "batch_calls": export["batch_calls"],
        "seconds": export["seconds"],
        "minimum_seconds": minimum,
        "duplicates": export["duplicates"],
        "rate_limited_429": export["rate_limited"],
        **{key: export[key] for key in ("through_cron", "scheduler_passes", "runner_calls")},
        "new_customers": export["new_customers"],
        "invoices_exported": export["invoices_exported"],
        "run_state": export["run_state"],
        "failed": export["failed"],
        "timeouts_injected": export["timeouts_injected"],
        "idempotent_replays": export["idempotent_replays"],
        "wall_ratio": round(export["seconds"] / minimum, 3) if minimum else None,
        "api_calls_per_route": export["api_calls_per_route"],
        "targets_met": {
            f"at_most_{max_batches}_batches": export["batch_calls"] <= max_batches,
            # Under a minute's worth of calls (40 batches), QuickBooks' limits bound nothing worth comparing.
            "within_110pct_of_minimum": export["seconds"] <= XERO_WALL_RATIO * minimum if minimum >= 60 else None,
            "no_429_from_our_pacing": export["rate_limited"] == 0,
            "zero_duplicates": export["duplicates"] == 0,
            "every_invoice_exported": export["invoices_exported"] == export["invoices"],
        },
    }


def invoiceocean_sync_result(sync):
    """The issue's JSON line first, then the details."""
    records = sync["clients"] + sync["documents"]
    rate = records / sync["seconds"] if sync["seconds"] else None
    plain = sync["plain_create_records_per_second"]
    document_gets = sum(n for route, n in sync["api_calls_per_route"].items() if route == "GET /invoices/{id}.json")
    noop_routes = sync["noop_api_calls_per_route"]
    return {
        "scenario": "invoiceocean_sync",
        "clients": sync["clients"],
        "documents": sync["documents"],
        "api_calls": sync["api_calls"],
        "seconds": sync["seconds"],
        "records_per_second": round(rate, 1) if rate else None,
        "plain_create_records_per_second": plain,
        "noop_api_calls": sync["noop_api_calls"],
        "noop_seconds": sync["noop_seconds"],
        **{key: sync[key] for key in ("odoo_customers", "shared", "opportunities", "run_state", "failed", "lines")},
        **{key: sync[key] for key in ("through_cron", "scheduler_passes", "runner_calls", "plain_create_seconds")},
        "api_calls_per_route": sync["api_calls_per_route"],
        "noop_api_calls_per_route": noop_routes,
        "targets_met": {
            "at_least_40pct_of_plain_create": bool(rate and plain and rate >= IO_RATE_SHARE * plain),
            "no_get_per_document": document_gets == 0,
            "noop_one_list_call_per_resource": all(
                n == 1 for route, n in noop_routes.items() if route.startswith("GET ")
            )
            and not any(not route.startswith("GET ") for route in noop_routes),
            "noop_under_2_seconds": sync["noop_seconds"] < IO_NOOP_SECONDS,
        },
    }


def main(argv=None):
    args = parse_args(argv)
    with contextlib.redirect_stdout(sys.stderr):
        devstack.check_odoo()
    with devstack.terminate_on_signals():
        pg = devstack.Postgres()
        workdir = Path(tempfile.mkdtemp(prefix="rs-bench-"))
        bench = Bench(pg, workdir, args)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                pg.start()
            bench.install_template()
            results = bench.run()
        finally:
            with contextlib.redirect_stdout(sys.stderr):
                if not pg.private:
                    bench.drop_databases()
                pg.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    for result in results:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
