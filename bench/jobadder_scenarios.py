"""One JobAdder benchmark step in a fresh process on an installed database (``bench/run.py``).

``initial_load``: set up a connected JobAdder integration against the fake (its address is
given), run the initial load as the cron runner does (batches committed one by one), measure
it, then time a plain batch ``create`` of the same records with the same values (the
baseline). ``noop_sync``: on the database of an initial load, an incremental sync with
nothing changed in JobAdder, measured twice (the first pass warms the process's caches).

The step writes its measurements as one JSON object into ``--result``; progress goes to stderr.
"""

import argparse
import contextlib
import json
import re
import resource
import sys
import time
import urllib.request
from collections import Counter, defaultdict

from scheduler import Scheduler, only_sync_scheduler  # bench/, the script's folder

INTEGRATION_NAME = "JobAdder (benchmark)"
BASELINE_NAME = "JobAdder (plain create baseline)"
# Every currency the fake's agency bills in, so that only deliberately broken placements fail.
CURRENCIES = ("AUD", "NZD", "GBP", "USD", "EUR", "NOK")
RATE_LIMIT_PER_MINUTE = 100_000  # our own limiter must not pace calls to the local fake

PARTNER_FIELDS = (
    "name",
    "is_company",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
    "email",
    "phone",
    "mobile",
    "function",
    "category_id",
    "parent_id",
)
PLACEMENT_FIELDS = (
    "job_title",
    "placement_type",
    "jobadder_status",
    "approved",
    "approved_at",
    "start_date",
    "end_date",
    "salary",
    "fee",
    "rate_per",
    "client_rate",
    "candidate_rate",
    "hours_per_week",
    "days_per_week",
    "fee_split_type",
    "billing_email",
    "billing_order_ref",
    "billing_terms",
    "candidate_id",
    "client_id",
    "client_contact_id",
    "currency_id",
    "owner_jobadder_user_id",
    "company_id",
    "jobadder_id",
)
RECRUITER_FIELDS = ("placement_id", "sequence", "jobadder_user_id", "fee_split")
RATE_FIELDS = ("placement_id", "sequence", "name", "rate_type", "is_default", "currency_id", "pay_rate", "charge_rate")
CONSULTANT_FIELDS = ("name", "email", "position", "inactive", "jobadder_id", "user_id")


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def current_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


@contextlib.contextmanager
def sql_profile(env, enabled, top=40):
    """With ``enabled``: count the statements run meanwhile by shape (numbers blanked) and time the
    runner's phases (fetching, processing, the rest of a batch); print them to stderr at the end."""
    if not enabled:
        yield
        return
    from odoo import sql_db

    shapes = Counter()
    phases = Counter()
    original = sql_db.Cursor.execute
    Integration = type(env["recruitment.sync.integration"])
    Run = type(env["recruitment.sync.run"])
    timed = [(Integration, "_provider_fetch_batch"), (Integration, "_provider_process_batch"), (Run, "_run_batch")]
    originals = [(cls, name, getattr(cls, name)) for cls, name in timed]

    def execute(cursor, query, params=None, log_exceptions=True):
        text = query.code if hasattr(query, "code") else str(query)
        shapes[re.sub(r"\b\d+\b", "N", " ".join(text.split()))[:160]] += 1
        return original(cursor, query, params, log_exceptions)

    def timer(name, method):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - started

        return wrapper

    sql_db.Cursor.execute = execute
    for cls, name, method in originals:
        setattr(cls, name, timer(name, method))
    try:
        yield
    finally:
        sql_db.Cursor.execute = original
        for cls, name, method in originals:
            setattr(cls, name, method)
        if phases:
            log("seconds by phase: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in phases.items()))
        log(f"SQL statements by shape ({sum(shapes.values())} in all):")
        for shape, count in shapes.most_common(top):
            log(f"  {count:7d}  {shape}")


def sql_queries():
    from odoo import sql_db

    return sql_db.sql_counter


class Fake:
    """The fake JobAdder process's addresses and control routes (``bench/fake_jobadder.py``)."""

    def __init__(self, info):
        self.info = info

    def _call(self, path, method="GET"):
        request = urllib.request.Request(
            f"{self.info['url']}/bench/{path}", method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def token(self):
        return self._call("token", "POST")

    def route_counts(self):
        return Counter(self._call("stats")["route_counts"])


def open_registry(config, database):
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", config, "-d", database, "--log-level=warn"])
    return Registry(database)


def run_sync(env, integration, trigger, kinds=None):
    """Queue a run as a click does and let Odoo's scheduler execute it: (run, wall seconds, scheduler stats).

    The wall time goes from the click (queueing) to the end of the run, waits between the
    scheduler's passes included (``bench/scheduler.py``; call ``only_sync_scheduler`` once first).
    """
    with Scheduler(env) as scheduler:
        started = time.perf_counter()
        run, _created = integration._queue_run(trigger, kinds=kinds)
        env.cr.commit()  # its trigger wakes the scheduler, as after a click
        scheduler.wait(run.ids)
        seconds = time.perf_counter() - started
    if run.state not in ("done", "done_errors"):
        raise SystemExit(f"the {trigger} run did not end well ({run.state}): {run.summary}")
    return run, seconds, scheduler.stats()


def calls_between(before, after):
    return {route: count for route, count in sorted((after - before).items()) if count}


# --------------------------------------------------------------------------- initial load


def setup_integration(env, fake, batch_size):
    for code in CURRENCIES:
        env.ref(f"base.{code}").active = True
    integration = env["recruitment.sync.integration"].create(
        {
            "name": INTEGRATION_NAME,
            "provider": "jobadder",
            "client_id": fake.info["client_id"],
            "client_secret": fake.info["client_secret"],
            "authorize_url": fake.info["authorize_url"],
            "token_url": fake.info["token_url"],
            "schedule_active": False,
            "rate_limit_per_minute": RATE_LIMIT_PER_MINUTE,
            "jobadder_batch_size": batch_size,
        }
    )
    integration._oauth2_store(fake.token())
    integration.sudo().state = "connected"
    env.cr.commit()
    only_sync_scheduler(env)
    return integration


def step_initial_load(env, fake, args):
    integration = setup_integration(env, fake, args.batch_size)
    rss_before = current_rss_mb()
    calls_before = fake.route_counts()
    queries_before = sql_queries()
    log(f"initial load of {args.placements} JobAdder placements ({args.batch_size} a batch), through ir.cron …")
    with sql_profile(env, args.sql_profile):
        run, seconds, scheduler = run_sync(env, integration, "initial_load", kinds=["placements"])
    queries = sql_queries() - queries_before
    peak = peak_rss_mb()
    calls = calls_between(calls_before, fake.route_counts())
    by_kind = created_by_kind(env, run)
    records = run.created_count
    log(
        f"  {run.state}: {records} records created {dict(by_kind)}, {run.failed_count} failed, "
        f"in {seconds:.1f} s ({records / seconds:.0f}/s) from the click, {scheduler['scheduler_passes']} scheduler "
        f"passes, {scheduler['runner_calls']} runner calls, {sum(calls.values())} API calls, "
        f"{queries / max(records, 1):.1f} SQL queries a record, peak RSS {peak:.0f} MB"
    )
    result = {
        "placements": args.placements,
        "placements_imported": by_kind.get("placements", 0),
        "records": records,
        "records_by_kind": dict(sorted(by_kind.items())),
        "failed": run.failed_count,
        "run_state": run.state,
        "batch_size": args.batch_size,
        "seconds": round(seconds, 2),
        "wall_seconds": round(seconds, 2),
        **scheduler,
        "records_per_second": round(records / seconds, 1),
        "api_calls": sum(calls.values()),
        "api_calls_per_route": calls,
        "sql_queries": queries,
        "sql_queries_per_record": round(queries / max(records, 1), 2),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
    }
    if args.baseline:
        with sql_profile(env, args.sql_profile):
            result.update(plain_create(env, integration, args.batch_size, records))
    return result


def created_by_kind(env, run):
    groups = env["recruitment.sync.run.line"]._read_group(
        [("run_id", "=", run.id), ("action", "=", "created")], ["kind"], ["__count"]
    )
    return Counter(dict(groups))


# --------------------------------------------------------------------------- plain create


def snapshot(env, integration):
    """What the load created, as ``read(load=None)`` values (taken before the baseline's clock starts)."""
    bindings = env["recruitment.sync.binding"].search_read(
        [("integration_id", "=", integration.id), ("res_model", "=", "res.partner")],
        ["res_id", "external_model"],
    )
    partner_kinds = {binding["res_id"]: binding["external_model"] for binding in bindings}
    partners = defaultdict(list)
    for values in env["res.partner"].browse(sorted(partner_kinds)).read(list(PARTNER_FIELDS), load=None):
        partners[partner_kinds[values["id"]]].append(values)
    consultants = env["recruitment.jobadder.user"].search_read(
        [("integration_id", "=", integration.id)], list(CONSULTANT_FIELDS), load=None
    )
    placements = (
        env["recruitment.placement"]
        .with_context(active_test=False)
        .search_read([("integration_id", "=", integration.id)], list(PLACEMENT_FIELDS), order="id", load=None)
    )
    lines = {}
    for model, names in (("recruiter_ids", RECRUITER_FIELDS), ("rate_line_ids", RATE_FIELDS)):
        comodel = env["recruitment.placement"]._fields[model].comodel_name
        by_placement = defaultdict(list)
        domain = [("placement_id", "in", [values["id"] for values in placements])]
        for line in env[comodel].search_read(domain, list(names), order="id", load=None):
            line.pop("id")
            by_placement[line.pop("placement_id")].append(line)
        lines[model] = by_placement
    for values in placements:
        for field_name, by_placement in lines.items():
            values[field_name] = by_placement.get(values["id"], [])
    env.invalidate_all()
    return partners, consultants, placements


def plain_create(env, integration, batch_size, records):
    """``create`` of the same records with the same values, in batches, one commit a batch.

    The records are those the load created (consultants, then companies, contacts and
    candidates, then placements with their recruiter and rate lines), with the contexts the
    connector creates them with; placements belong to a second, unconnected integration.
    """
    from odoo import Command

    from odoo.addons.recruitment_sync.models.recruitment_sync_binding import FROM_REMOTE

    partners, consultants, placements = snapshot(env, integration)
    baseline = env["recruitment.sync.integration"].create(
        {"name": BASELINE_NAME, "provider": "jobadder", "schedule_active": False}
    )
    env.cr.commit()
    models = {
        "consultant": env["recruitment.jobadder.user"],
        "partner": env["res.partner"].with_context(**{FROM_REMOTE: True}),
        "placement": env["recruitment.placement"].with_context(
            **{FROM_REMOTE: True, "tracking_disable": True, "mail_create_nolog": True}
        ),
    }
    new_ids = {key: {False: False} for key in models}  # old id -> new id

    def consultant(values):
        return {**values, "integration_id": baseline.id}

    def partner(values):
        return {
            **values,
            "company_id": False,
            "parent_id": new_ids["partner"][values["parent_id"]],
            "category_id": [Command.link(tag) for tag in values["category_id"]],
        }

    def placement(values):
        consultants_ = new_ids["consultant"]
        return {
            **values,
            "integration_id": baseline.id,
            "candidate_id": new_ids["partner"][values["candidate_id"]],
            "client_id": new_ids["partner"][values["client_id"]],
            "client_contact_id": new_ids["partner"][values["client_contact_id"]],
            "owner_jobadder_user_id": consultants_[values["owner_jobadder_user_id"]],
            "recruiter_ids": [
                Command.create({**line, "jobadder_user_id": consultants_[line["jobadder_user_id"]]})
                for line in values["recruiter_ids"]
            ],
            "rate_line_ids": [Command.create(line) for line in values["rate_line_ids"]],
        }

    steps = [
        ("consultant", consultants, consultant),
        *(("partner", partners.get(kind, []), partner) for kind in ("company", "contact", "candidate")),
        ("placement", placements, placement),
    ]
    count = sum(len(values_list) for _key, values_list, _convert in steps)
    log(f"plain batch create of the same {count} records ({batch_size} a batch) …")
    if count != records:
        log(f"  note: the load's counters say {records} records were created")
    queries_before = sql_queries()
    started = time.perf_counter()
    for key, values_list, convert in steps:
        for start in range(0, len(values_list), batch_size):
            chunk = values_list[start : start + batch_size]
            created = models[key].create([convert({k: v for k, v in old.items() if k != "id"}) for old in chunk])
            new_ids[key].update((old["id"], new.id) for old, new in zip(chunk, created, strict=True))
            env.flush_all()
            env.cr.commit()
    seconds = time.perf_counter() - started
    queries = sql_queries() - queries_before
    log(f"  {count} records in {seconds:.1f} s ({count / seconds:.0f}/s), {queries / max(count, 1):.1f} SQL a record")
    return {
        "plain_create_records": count,
        "plain_create_seconds": round(seconds, 2),
        "plain_create_records_per_second": round(count / seconds, 1),
        "plain_create_sql_queries_per_record": round(queries / max(count, 1), 2),
    }


# --------------------------------------------------------------------------- no-op sync


def step_noop_sync(env, fake, args):
    integration = env["recruitment.sync.integration"].search(
        [("provider", "=", "jobadder"), ("name", "=", INTEGRATION_NAME)], limit=1
    )
    if not integration.initial_load_done:
        raise SystemExit("the no-op sync needs a database where the initial load ran")
    only_sync_scheduler(env)
    passes = []
    for label in ("first", "second"):
        calls_before = fake.route_counts()
        queries_before = sql_queries()
        run, seconds, _scheduler = run_sync(env, integration, "scheduled")
        calls = calls_between(calls_before, fake.route_counts())
        changed = run.created_count + run.updated_count + run.failed_count
        log(
            f"no-op sync ({label} in this process): {run.state}, {changed} records changed or failed, "
            f"{seconds:.2f} s, API calls {calls}"
        )
        passes.append((run, seconds, calls, sql_queries() - queries_before))
    (run, seconds, calls, queries), (_run2, seconds2, _calls2, _queries2) = passes
    return {
        "seconds": round(seconds, 3),
        "through_cron": True,
        "seconds_second_run": round(seconds2, 3),
        "api_calls": sum(calls.values()),
        "api_calls_per_route": calls,
        "sql_queries": queries,
        "run_state": run.state,
        "records_changed": run.created_count + run.updated_count + run.failed_count,
    }


STEPS = {"initial_load": step_initial_load, "noop_sync": step_noop_sync}


def step_parser(description, steps):
    """The command line every benchmark step shares: the step, the database, the fake, the result file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("step", choices=sorted(steps))
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--fake", required=True, help="the JSON line the fake printed when it started")
    parser.add_argument("--result", required=True, help="file to write the measurements to (JSON)")
    return parser


def run_step(args, step, fake_class=Fake):
    """Run ``step(env, fake, args)`` on the installed database in one transaction, committed, and
    write what it measured as one JSON object into ``--result``."""
    from odoo import SUPERUSER_ID, api

    registry = open_registry(args.config, args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = step(env, fake_class(json.loads(args.fake)), args)
        cr.commit()
    with open(args.result, "w") as output:
        json.dump(result, output)


def main(argv=None):
    parser = step_parser(__doc__.split("\n", 1)[0], STEPS)
    parser.add_argument("--placements", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--baseline", action="store_true", help="then time a plain create of the same records")
    parser.add_argument("--sql-profile", action="store_true", help="initial_load: the SQL statements it ran, by shape")
    args = parser.parse_args(argv)
    run_step(args, STEPS[args.step])


if __name__ == "__main__":
    main()
