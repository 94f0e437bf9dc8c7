#!/usr/bin/env python3
"""Developer stack for the recruitment_sync addons: ``test`` and ``run``.

``make test`` and ``make run`` (the README's two commands) call this script. It takes
Odoo 18.0 as a prerequisite (importable by ``python3``) and provides the rest:

* the Python packages of ``requirements.txt`` and Chromium, when they are missing;
* a PostgreSQL server: the one the usual ``PG*`` variables name if it answers, otherwise a
  private one started from the machine's binaries (as an unprivileged user when run as
  root, because PostgreSQL refuses root) and always stopped at the end;
* fresh databases with the addons installed (with and without demo data), the linters
  and the pytest-odoo suite (``test``);
* the sandbox (``run``): the stand-ins of JobAdder, Xero and 24SevenOffice
  (``tests/fakes/sandbox.py``), a database set up for them (``tests/sandbox_setup.py``) and
  Odoo on http://localhost:8069, all stopped by Ctrl-C.
"""

import argparse
import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE_ADDON = "recruitment_sync"
# The product's addons are the repository's addon folders (the core first, then its connectors):
# a new connector is run, tested, linted and translated once its folder is there.
ADDONS = (
    CORE_ADDON,
    *sorted(path.parent.name for path in REPO.glob(f"{CORE_ADDON}_*/__manifest__.py")),
)
# Test-only addons (tests/odoo_addons), installed in the test database only: the core's
# tests exercise the framework through a minimal provider of their own; the end-to-end
# browser test of the sandbox needs all the addons.
TEST_ADDONS_PATH = REPO / "tests" / "odoo_addons"
TEST_ADDONS = ("recruitment_sync_test_provider", "recruitment_sync_e2e")
DB_ROLE = "odoo"  # Odoo refuses to connect as the ``postgres`` superuser
ODOO_HINT = (
    "Odoo 18.0 is not importable by python3: install Odoo 18.0 and its requirements "
    "(e.g. `pip install -e <odoo-18.0-source>`), then check `python3 -c 'import odoo'`."
)


def say(message):
    print(f"[devstack] {message}", flush=True)


def fail(message, code=2):
    print(f"[devstack] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# --------------------------------------------------------------------------- prerequisites


def check_odoo():
    """Exit within seconds, with a one-line hint, unless ``python3`` imports Odoo 18.0."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", "import odoo.release as r; print(r.major_version)"],
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )
    except subprocess.TimeoutExpired:
        fail(ODOO_HINT)
    version = out.stdout.strip()
    if out.returncode or version != "18.0":
        fail(f"{ODOO_HINT} (found: {version or 'no Odoo'})")
    import odoo

    say(f"Odoo {version} found at {Path(odoo.__file__).parent}")


def _installed_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _requirement_parser():
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip always vendors it
        from pip._vendor.packaging.requirements import Requirement
    return Requirement


def missing_requirements(path):
    """The lines of ``path`` whose distribution is absent or outside its version range."""
    requirement_class = _requirement_parser()
    missing = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = requirement_class(line)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version = _installed_version(requirement.name)
        if version is None or (requirement.specifier and not requirement.specifier.contains(version, prereleases=True)):
            missing.append(line)
    return missing


def find_chrome():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def ensure_prerequisites(browser=True):
    missing = missing_requirements(REPO / "requirements.txt")
    if missing:
        say(f"installing missing Python packages: {' '.join(missing)}")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--prefer-binary", *missing],
            check=True,
        )
    if browser and not find_chrome():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            fail("Chromium is missing: install Debian's `chromium` package (browser tests need it).")
        say("installing Chromium (Debian package `chromium`) for the browser tests")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        if not find_chrome():
            fail("Chromium could not be installed.")


# --------------------------------------------------------------------------- PostgreSQL


class Postgres:
    """A PostgreSQL server for Odoo: an existing one named by PG* variables, or a private one.

    A private server lives in ``datadir`` (a temporary folder unless one is given, so that
    ``run`` can keep its database between starts) and listens on a Unix socket only, so two
    stacks never fight over a port. ``stop()`` is idempotent and always called on exit.
    """

    def __init__(self, datadir=None):
        self.persistent_datadir = Path(datadir) if datadir else None
        self.workdir = None
        self.datadir = None
        self.params = {}
        self.private = False
        self._owner = None  # (uid, gid) the private server runs as

    # -- connection -------------------------------------------------------------------
    def connect(self, dbname="postgres"):
        import psycopg2

        conn = psycopg2.connect(dbname=dbname, connect_timeout=5, **self.params)
        conn.autocommit = True
        return conn

    def _try_existing(self):
        import psycopg2

        if not any(key.startswith("PG") for key in os.environ):
            return False
        try:
            conn = psycopg2.connect(dbname=os.environ.get("PGDATABASE", "postgres"), connect_timeout=3)
        except psycopg2.Error:
            return False
        with conn, conn.cursor() as cr:
            cr.execute("SELECT current_user")
            user = cr.fetchone()[0]
        conn.close()
        if user == "postgres":
            say("the PG* server answers as role `postgres`, which Odoo refuses; starting a private one")
            return False
        self.params = {
            "host": os.environ.get("PGHOST"),
            "port": os.environ.get("PGPORT"),
            "user": user,
            "password": os.environ.get("PGPASSWORD"),
        }
        self.params = {k: v for k, v in self.params.items() if v}
        say(f"using the PostgreSQL server named by PG* variables (role {user})")
        return True

    # -- private server ---------------------------------------------------------------
    def _as_owner(self):
        if not self._owner:
            return None
        uid, gid = self._owner

        def demote():
            os.setgid(gid)
            os.setuid(uid)

        return demote

    def _pg_bin(self, name):
        found = shutil.which(name)
        if found:
            return found
        for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
            return str(candidate)
        fail(f"PostgreSQL's `{name}` was not found: install PostgreSQL (server binaries).")

    def _pg(self, *args, **kwargs):
        return subprocess.run(
            [self._pg_bin(args[0]), *args[1:]],
            preexec_fn=self._as_owner(),  # drops root before exec
            check=True,
            **kwargs,
        )

    def start(self):
        if self._try_existing():
            return self
        self.private = True
        self.workdir = Path(tempfile.mkdtemp(prefix="rs-pg-"))
        self.datadir = self.persistent_datadir or self.workdir / "data"
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: run it as the unprivileged `nobody`.
            account = pwd.getpwnam("nobody")
            self._owner = (account.pw_uid, account.pw_gid)
            for path in (self.workdir, self.datadir.parent, self.datadir):
                path.mkdir(parents=True, exist_ok=True)
                os.chown(path, *self._owner)
        self.datadir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.datadir, 0o700)
        if not (self.datadir / "PG_VERSION").exists():
            self._pg(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                DB_ROLE,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                stdout=subprocess.DEVNULL,
            )
        options = (
            f"-k {self.workdir} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.workdir / "postgresql.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            stdout=subprocess.DEVNULL,
        )
        self.params = {"host": str(self.workdir), "port": "5432", "user": DB_ROLE}
        say(f"started a private PostgreSQL server (socket in {self.workdir})")
        return self

    def stop(self, quiet=False):
        if not self.private or not self.datadir:
            return
        datadir, self.datadir = self.datadir, None
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg(
                "pg_ctl",
                "-D",
                str(datadir),
                "-m",
                "fast",
                "-w",
                "stop",
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.workdir, ignore_errors=True)
        if not quiet:
            say("stopped the private PostgreSQL server")

    # -- databases ----------------------------------------------------------------------
    def database_exists(self, name):
        with self.connect() as conn, conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return bool(cr.fetchone())

    def drop_database(self, name):
        conn = self.connect()
        try:
            with conn.cursor() as cr:
                cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()


@contextlib.contextmanager
def terminate_on_signals():
    """Turn SIGTERM/SIGHUP into SystemExit, so ``finally`` blocks stop what we started."""

    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# --------------------------------------------------------------------------- Odoo


def odoo_addons_paths(with_test_addons=False):
    import odoo

    package = Path(odoo.__file__).resolve().parent
    paths = [REPO, TEST_ADDONS_PATH] if with_test_addons else [REPO]
    for candidate in (package.parent / "addons", package / "addons"):
        if (candidate / "account" / "__manifest__.py").exists():
            paths.append(candidate)
    return paths


def write_odoo_config(pg, path, data_dir, with_test_addons=False, **extra):
    options = {
        "addons_path": ",".join(str(p) for p in odoo_addons_paths(with_test_addons)),
        "data_dir": str(data_dir),
        "db_host": pg.params.get("host", "False"),
        "db_port": pg.params.get("port", "False"),
        "db_user": pg.params.get("user", "False"),
        "db_password": pg.params.get("password", "False"),
        "admin_passwd": "admin",
        "list_db": "False",
        "max_cron_threads": "0",
        "without_demo": "False",
    }
    options.update({key: str(value) for key, value in extra.items()})
    lines = ["[options]", *(f"{key} = {value}" for key, value in options.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


def pytest_odoo_command(config, dbname, *arguments):
    """pytest-odoo on database ``dbname`` with Odoo's HTTP server (browser tours), then ``arguments``."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--odoo-config={config}",
        f"--odoo-database={dbname}",
        "--odoo-http",
        *arguments,
    ]


def free_port():
    """A TCP port nobody listens on now (the kernel's pick for an ephemeral bind)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def odoo_command(config, *args):
    return [sys.executable, "-m", "odoo", "-c", str(config), *args]


def install_addons(pg, config, dbname, demo, log_file, extra_addons=()):
    """Start installing the addons into a new database ``dbname``; return the process."""
    pg.drop_database(dbname)
    args = ["-d", dbname, "-i", ",".join((*ADDONS, *extra_addons)), "--stop-after-init", "--log-level=info"]
    if not demo:
        args.append("--without-demo=all")
    log = open(log_file, "w")  # noqa: SIM115  (closed by the caller through the process)
    return subprocess.Popen(odoo_command(config, *args), stdout=log, stderr=subprocess.STDOUT)


def addons_digest():
    """A fingerprint of the addons' files: ``run`` updates a reused database when it changes."""
    digest = hashlib.sha256()
    for addon in ADDONS:
        for path in sorted((REPO / addon).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def update_addons(pg, config, dbname, log_file):
    args = ["-d", dbname, "-u", ",".join(ADDONS), "--stop-after-init", "--log-level=info"]
    with open(log_file, "w") as log:
        process = subprocess.Popen(odoo_command(config, *args), stdout=log, stderr=subprocess.STDOUT)
        return check_install(pg, dbname, process, log_file, "update")


def installed_addons(pg, dbname):
    conn = pg.connect(dbname)
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT name, state, latest_version FROM ir_module_module WHERE name = ANY(%s)",
                [list(ADDONS)],
            )
            return {name: (state, version) for name, state, version in cr.fetchall()}
    finally:
        conn.close()


def addons_missing_from(modules):
    """The addons of ``ADDONS`` a reused database lacks (``modules``: ``installed_addons``), e.g. one
    made before an addon existed (JobAdder moved out of the core into recruitment_sync_jobadder):
    updating cannot install them in the right order, so ``run`` recreates such a database."""
    return [addon for addon in ADDONS if modules.get(addon, ("",))[0] != "installed"]


def sandbox_needs_new_database(pg, dbname, fresh_asked):
    """True when ``run`` must (re)create its database: asked for, missing, or made before one of
    the addons existed (then one line says so; the old database is dropped by the install)."""
    if fresh_asked or not pg.database_exists(dbname):
        return True
    missing = addons_missing_from(installed_addons(pg, dbname))
    if missing:
        say(
            f"database {dbname} was made before {', '.join(missing)} existed (not installed in it): "
            "dropping it and creating it anew with every addon (its sandbox data is lost)"
        )
        return True
    return False


def check_install(pg, dbname, process, log_file, label):
    code = process.wait()
    log_text = Path(log_file).read_text(errors="replace")
    problems = [
        line
        for line in log_text.splitlines()
        if " ERROR " in line or " CRITICAL " in line or ("WARNING" in line and "recruitment_sync" in line)
    ]
    modules = installed_addons(pg, dbname) if pg.database_exists(dbname) else {}
    ok = code == 0 and not problems and all(modules.get(a, ("",))[0] == "installed" for a in ADDONS)
    for addon in ADDONS:
        state, version = modules.get(addon, ("missing", ""))
        say(f"{label}: {addon} {version or ''} {state}")
    if not ok:
        print("\n".join([*problems, "--- end of the log:", *log_text.splitlines()[-40:]]), file=sys.stderr)
        say(f"{label}: installation FAILED (exit {code}); full log: {log_file}")
    return ok


# --------------------------------------------------------------------------- commands


def run_linters():
    """ruff (lint + format) and pylint-odoo with the OCA configuration; True when clean."""
    python_dirs = [*ADDONS, "tests", "scripts", "bench"]
    python_dirs = [d for d in python_dirs if (REPO / d).exists()]
    steps = [
        ("ruff check", [sys.executable, "-m", "ruff", "check", "--no-fix", *python_dirs]),
        ("ruff format", [sys.executable, "-m", "ruff", "format", "--check", *python_dirs]),
        (
            "pylint-odoo",
            [sys.executable, "-m", "pylint", "--rcfile", str(REPO / ".pylintrc"), *ADDONS],
        ),
    ]
    clean = True
    for label, command in steps:
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        output = (result.stdout + result.stderr).strip()
        if result.returncode:
            clean = False
            say(f"{label}: FINDINGS")
            print(output, flush=True)
        else:
            say(f"{label}: clean")
    return clean


def cmd_test(args):
    check_odoo()
    ensure_prerequisites(browser=True)
    with terminate_on_signals():
        pg = Postgres()
        try:
            pg.start()
            return _test_with(pg, args)
        finally:
            pg.stop(quiet=True)  # pytest's summary line stays the last line


def _test_with(pg, args):
    workdir = Path(tempfile.mkdtemp(prefix="rs-test-"))
    try:
        # A free port for Odoo's HTTP server (browser tests), so that two test runs on one
        # machine, or a sandbox running beside them, never meet on 8069.
        config = write_odoo_config(
            pg, workdir / "odoo.conf", workdir / "data", with_test_addons=True, http_port=free_port()
        )
        dbname = args.database
        # Both installs run at once: they are independent and each mostly waits on SQL.
        # The tests run on the database without demo data, with the test-only addons.
        jobs = []
        for label, db, demo, extra in (
            ("no demo", dbname, False, TEST_ADDONS),
            ("with demo", f"{dbname}_demo", True, ()),
        ):
            log_file = workdir / f"install-{db}.log"
            jobs.append((label, db, install_addons(pg, config, db, demo, log_file, extra), log_file))
        say("installing the addons into two fresh databases (without and with demo data)")
        results = [check_install(pg, db, process, log_file, label) for label, db, process, log_file in jobs]
        installs_ok = all(results)
        linters_ok = True if args.no_lint else run_linters()
        if not installs_ok:
            say("not running the tests: the addons did not install")
            return 1
        targets = args.pytest_args or [*ADDONS, "tests"]
        command = pytest_odoo_command(config, dbname, "--odoo-log-level=warn", "-rfEs", *targets)
        say("running the test suite (pytest-odoo): " + " ".join(targets))
        tests = subprocess.run(command, cwd=REPO, check=False)
        if not linters_ok:
            say("linters reported findings (see above)")
        return tests.returncode or (0 if linters_ok else 1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


SANDBOX_SERVICES = (
    ("jobadder", "JobAdder"),
    ("xero", "Xero"),
    ("24so", "24SevenOffice"),
    ("quickbooks", "QuickBooks"),
    ("invoiceocean", "InvoiceOcean"),
)


def sandbox_today(state_dir, dbname, fresh):
    """The sandbox's "today": the day its database was created, so that a reused database meets
    the same remote data (the stand-ins' records are dated relative to it)."""
    marker = state_dir / f"sandbox-today-{dbname}"
    if fresh or not marker.exists():
        marker.write_text(time.strftime("%Y-%m-%d", time.gmtime()))
    return marker.read_text().strip()


def start_sandbox(args, state_dir, today):
    """Start the fakes of JobAdder, Xero and 24SevenOffice (tests/fakes/sandbox.py); (process, state)."""
    state_file = state_dir / "sandbox.json"
    state_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "tests.fakes.sandbox",
        "--seed",
        str(args.seed),
        "--today",
        today,
        "--host",
        args.sandbox_host,
        "--jobadder-port",
        str(args.jobadder_port),
        "--xero-port",
        str(args.xero_port),
        "--tso-port",
        str(args.tso_port),
        "--quickbooks-port",
        str(args.quickbooks_port),
        "--invoiceocean-port",
        str(args.invoiceocean_port),
        "--state-file",
        str(state_file),
    ]
    if args.public_host:
        command += ["--public-host", args.public_host]
    process = subprocess.Popen(command, cwd=REPO)
    deadline = time.monotonic() + 60
    while not state_file.exists():
        if process.poll() is not None:
            fail(f"the sandbox services did not start (exit {process.returncode}); see above")
        if time.monotonic() > deadline:
            process.terminate()
            fail("the sandbox services did not start within 60 s")
        time.sleep(0.2)
    return process, state_file


def setup_sandbox(config, dbname, state_file, summary_file, log_file):
    """Create or update the sandbox's company, users and integrations (tests/sandbox_setup.py)."""
    command = [
        sys.executable,
        "-m",
        "tests.sandbox_setup",
        "-c",
        str(config),
        "-d",
        dbname,
        "--state",
        str(state_file),
        "--summary",
        str(summary_file),
    ]
    with open(log_file, "w") as log:
        result = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=False)
    output = Path(log_file).read_text(errors="replace")
    if result.returncode:
        print(output[-4000:], file=sys.stderr)
        say(f"sandbox setup FAILED (exit {result.returncode}); full log: {log_file}")
        return None
    for line in output.splitlines():
        if line.startswith("[sandbox]"):
            say(line[len("[sandbox] ") :])
    return json.loads(Path(summary_file).read_text())


def print_welcome(args, summary, sandbox_state):
    url = f"http://localhost:{args.port}"
    state = json.loads(sandbox_state.read_text())
    lines = [
        "",
        f"The sandbox is up: Odoo on {url}, company {summary['company']}.",
        "Stand-ins of the remote systems (they start from the same seeded data on every run):",
    ]
    for key, label in SANDBOX_SERVICES:
        service = state.get(key)
        where = service["url"] if service else "not started"
        lines.append(f"  {label:<14} {where}")
    lines.append("Logins (user / password):")
    for user in summary["users"]:
        lines.append(f"  {user['login'] + ' / ' + user['password']:<20} {user['name']}, {user['role']}")
    integrations = summary["integrations"]
    lines.append("What to click first (as admin):")
    steps = []
    if "jobadder" in integrations:
        jobadder = integrations["jobadder"]
        if jobadder["state"] == "connected":
            steps.append("Invoicing > Placements: the placements JobAdder brought; Sync JobAdder fetches changes.")
        else:
            steps.append(
                f"{url}/odoo/sync-integrations/{jobadder['id']} (Invoicing > Integrations > Integrations, "
                "JobAdder): Connect, then Accept on JobAdder's page. The initial load runs in the background "
                "(the form follows it); watch it in Invoicing > Sync History, then see Invoicing > Placements."
            )
    if "xero" in integrations and integrations["xero"]["state"] == "connected":
        steps.append(
            "Invoicing > Integrations > Xero is connected: post an invoice of the London department (Other Info "
            "tab), then Save & Sync on the Xero integration."
        )
    elif "xero" in integrations:
        xero = integrations["xero"]
        steps.append(
            f"{url}/odoo/sync-integrations/{xero['id']} (Invoicing > Integrations > Xero, Xero): Connect, tick both "
            "organisations, Accept, pick the UK one in the Xero tab and save: tax rates, accounts and customers "
            "come in. Map the 20% VAT tax under Xero tax rates, post an invoice of the London department "
            "(Other Info tab), Save & Sync."
        )
    if "24so" in integrations:
        steps.append(
            "Invoicing > Customers > Invoices: select posted invoices of the Oslo or Bergen department, Actions > "
            "Export to 24SevenOffice: the receipt shows each invoice's status."
        )
    if "invoiceocean" in integrations:
        steps.append(
            f"{url}/odoo/sync-integrations/{integrations['invoiceocean']['id']} (InvoiceOcean, activated with the "
            "stand-in's token): customers both ways; its documents become opportunities in CRM > Pipeline."
        )
    steps.append("Log in as london / london: the London department's history and placements only.")
    steps.append("More in the README: a tour of each screen, and how to point an integration at the real service.")
    lines += [f"  {number}. {step}" for number, step in enumerate(steps, start=1)]
    lines.append("Press Ctrl-C to stop everything; run again to continue, with --fresh to start over.")
    print("\n".join(lines), flush=True)


def _stop_process(process, timeout=30):
    if process and process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        if process.poll() is None:
            process.kill()
            process.wait()


def cmd_run(args):
    check_odoo()
    ensure_prerequisites(browser=False)
    state = REPO / ".devstack"
    state.mkdir(exist_ok=True)
    with terminate_on_signals():
        pg = Postgres(datadir=state / "pgdata")
        server = sandbox = None
        try:
            pg.start()
            fresh = sandbox_needs_new_database(pg, args.database, args.fresh)
            sandbox, sandbox_state = start_sandbox(args, state, sandbox_today(state, args.database, fresh))
            config = write_odoo_config(
                pg,
                state / "odoo.conf",
                state / "filestore",
                http_port=args.port,
                dbfilter=f"^{args.database}$",
                max_cron_threads=1,
            )
            stamp = state / "addons.sha256"
            if fresh:
                say(f"creating database {args.database} with the addons (the sandbox adds its own demo data)")
                stamp.unlink(missing_ok=True)
                shutil.rmtree(state / "filestore" / "filestore" / args.database, ignore_errors=True)
                process = install_addons(pg, config, args.database, False, state / "install.log")
                if not check_install(pg, args.database, process, state / "install.log", "install"):
                    return 1
            elif not stamp.exists() or stamp.read_text() != addons_digest():
                say(f"updating the addons in database {args.database} (their code changed)")
                if not update_addons(pg, config, args.database, state / "update.log"):
                    return 1
            else:
                say(f"reusing database {args.database} (pass --fresh to start over)")
            stamp.write_text(addons_digest())
            summary = setup_sandbox(config, args.database, sandbox_state, state / "summary.json", state / "setup.log")
            if summary is None:
                return 1
            server = subprocess.Popen(odoo_command(config, "-d", args.database, f"--log-level={args.log_level}"))
            _wait_for_http(args.port, server)
            print_welcome(args, summary, sandbox_state)
            while server.poll() is None and sandbox.poll() is None:
                time.sleep(0.5)
            if sandbox.poll() is not None:
                say(f"the sandbox services stopped (exit {sandbox.returncode}): stopping Odoo")
            return server.returncode or sandbox.returncode or 0
        except KeyboardInterrupt:
            # Ctrl-C reached the whole process group: give Odoo and the stand-ins a moment to
            # stop by themselves (a second signal would force Odoo's shutdown).
            for process in (server, sandbox):
                with contextlib.suppress(subprocess.TimeoutExpired, AttributeError):
                    process.wait(timeout=15)
            return 0
        finally:
            _stop_process(server)
            _stop_process(sandbox, timeout=10)
            pg.stop()


def cmd_pot(args):
    """Regenerate each addon's i18n/<addon>.pot from a fresh database."""
    check_odoo()
    with terminate_on_signals():
        pg = Postgres()
        workdir = Path(tempfile.mkdtemp(prefix="rs-pot-"))
        try:
            pg.start()
            config = write_odoo_config(pg, workdir / "odoo.conf", workdir / "data")
            dbname = "recruitment_sync_pot"
            process = install_addons(pg, config, dbname, False, workdir / "install.log")
            if not check_install(pg, dbname, process, workdir / "install.log", "install"):
                return 1
            for addon in ADDONS:
                target = REPO / addon / "i18n" / f"{addon}.pot"
                target.parent.mkdir(exist_ok=True)
                subprocess.run(
                    odoo_command(
                        config,
                        "-d",
                        dbname,
                        f"--i18n-export={target}",
                        f"--modules={addon}",
                        "--stop-after-init",
                        "--log-level=warn",
                    ),
                    check=True,
                )
                say(f"wrote {target.relative_to(REPO)}")
            return 0
        finally:
            pg.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_http(port, process, timeout=180):
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"Odoo exited with code {process.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://localhost:{port}/web/login", timeout=5):
                return
        time.sleep(1)
    fail(f"Odoo did not answer on port {port} within {timeout} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="install the addons in fresh databases, lint, run every test")
    test.add_argument("--database", default="recruitment_sync_test")
    test.add_argument("--no-lint", action="store_true", help="skip ruff and pylint-odoo")
    test.add_argument("pytest_args", nargs="*", help="pytest targets/options (default: everything)")
    run = sub.add_parser("run", help="start the sandbox: PostgreSQL, fake JobAdder/Xero/24SevenOffice, Odoo")
    run.add_argument("--database", default="recruitment_sync")
    run.add_argument("--port", type=int, default=8069, help="Odoo's HTTP port")
    run.add_argument("--fresh", action="store_true", help="drop the database and start over")
    run.add_argument("--seed", default="1", help="the sandbox's seed (its data)")
    run.add_argument("--jobadder-port", type=int, default=8071)
    run.add_argument("--xero-port", type=int, default=8072)
    run.add_argument("--tso-port", type=int, default=8073, help="24SevenOffice's port")
    run.add_argument("--quickbooks-port", type=int, default=8074, help="QuickBooks Online's port")
    run.add_argument("--invoiceocean-port", type=int, default=8075, help="InvoiceOcean's port")
    run.add_argument("--sandbox-host", default="127.0.0.1", help="where the stand-ins listen (0.0.0.0 in Docker)")
    run.add_argument("--public-host", help="host name the stand-ins' addresses use (default: --sandbox-host)")
    run.add_argument("--log-level", default="warn", help="Odoo's log level (info shows every request)")
    sub.add_parser("pot", help="regenerate each addon's i18n/<addon>.pot")
    args = parser.parse_args(argv)
    return {"test": cmd_test, "run": cmd_run, "pot": cmd_pot}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
