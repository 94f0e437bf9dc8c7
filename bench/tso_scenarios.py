"""The 24SevenOffice benchmark step, in a fresh process on an installed database (``bench/run.py``).

``export``: set up an activated 24SevenOffice integration against the fake (its address is
given), N posted customer invoices with 3 lines each over 300 products (the fake knows the
first 200) and 150 customers (50 of them in 24SevenOffice by organisation number), then export
them all as a user does (*Export to 24SevenOffice*) and let Odoo's scheduler run the export
(``bench/scheduler.py``; batches committed one by one). Measured: the wall time from the click to the end of the
run, the SOAP calls the fake received.

The step writes its measurements as one JSON object into ``--result``; progress goes to stderr.
"""

import argparse
import json
import random
import sys
import time
import urllib.request
from collections import Counter
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scheduler import Scheduler, only_sync_scheduler  # noqa: E402  (on the path set above)
from bench.tso_fake import bench_world  # noqa: E402

INTEGRATION_NAME = "24SevenOffice (benchmark)"
PRODUCTS = 300  # in Odoo; the fake knows P00001..P00200
LINES_PER_INVOICE = 3
CUSTOMERS = 150
CUSTOMERS_IN_24SO = 50  # matched by organisation number; the others are created
NEW_PRODUCTS_CATEGORY = 30


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def fake_stats(fake):
    with urllib.request.urlopen(f"{fake['url']}/bench/stats", timeout=30) as answer:
        return json.load(answer)


def open_registry(config, database):
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", config, "-d", database, "--log-level=warn"])
    return Registry(database)


def setup(env, fake, args):
    """The integration, its login, products, customers and posted invoices (not measured)."""
    from odoo import Command

    world = bench_world(args.seed, fake["products"], fake["companies"])
    department = env["hr.department"].create({"name": "Oslo (benchmark)", "tso_department_ref": 1})
    integration = env["recruitment.sync.integration"].create(
        {
            "name": INTEGRATION_NAME,
            "provider": "24so",
            "api_base_url": fake["url"],
            "tso_application_id": fake["application_id"],
        }
    )
    credential = env["recruitment.sync.24so.credential"].create(
        {
            "integration_id": integration.id,
            "username": fake["username"],
            "password": fake["password"],
            "product_category_ref": NEW_PRODUCTS_CATEGORY,
        }
    )
    credential.identity_id = env["recruitment.sync.24so.identity"].create(
        {"credential_id": credential.id, "guid": fake["identity"]}
    )
    integration.write({"state": "connected"})
    products = env["product.product"].create(
        [
            {"name": f"Benchmark service {n}", "default_code": f"P{n:05d}", "lst_price": 100 + n, "type": "service"}
            for n in range(1, PRODUCTS + 1)
        ]
    )
    known_numbers = [c["OrganizationNumber"] for c in world.main.companies if c.get("OrganizationNumber")]
    partners = env["res.partner"].create(
        [
            {
                "name": f"Benchmark customer {n} AS",
                "is_company": True,
                "company_registry": known_numbers[n] if n < CUSTOMERS_IN_24SO else f"8{n:08d}",
                "email": f"invoice{n}@example.no",
            }
            for n in range(CUSTOMERS)
        ]
    )
    rng = random.Random(f"24so-bench-{args.seed}")
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partners[n % CUSTOMERS].id,
                "invoice_date": date(2026, 11, 2),
                "department_id": department.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": rng.choice(products).id,
                            "quantity": rng.randrange(1, 40),
                            "price_unit": rng.randrange(100, 2000),
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for _line in range(LINES_PER_INVOICE)
                ],
            }
            for n in range(args.invoices)
        ]
    )
    moves.action_post()
    used = moves.invoice_line_ids.product_id
    log(
        f"{len(moves)} invoices, {len(moves.invoice_line_ids)} lines over {len(used)} products "
        f"({len(used.filtered(lambda p: int(p.default_code[1:]) > fake['products']))} unknown to 24SevenOffice), "
        f"{len(moves.partner_id)} customers"
    )
    return integration, moves


def step_export(env, fake, args):
    integration, moves = setup(env, fake, args)
    env.cr.commit()
    only_sync_scheduler(env)
    before = fake_stats(fake)
    Run = env["recruitment.sync.run"]
    admin = env.ref("base.user_admin")
    with Scheduler(env) as scheduler:
        started = time.monotonic()
        action = moves.with_user(admin).action_tso_export()
        env.cr.commit()  # the runs' trigger wakes the scheduler, as after the click
        scheduler.wait(action["context"]["tso_receipt_run_ids"])
        seconds = time.monotonic() - started
    after = fake_stats(fake)
    runs = Run.browse(action["context"]["tso_receipt_run_ids"])
    lines = env["recruitment.sync.run.line"].search([("run_id", "in", runs.ids)])
    statuses = Counter(line.tso_status for line in lines if line.kind == "invoices")
    calls = Counter(after["calls"])
    calls.subtract(before["calls"])
    return {
        "invoices": len(moves),
        "lines": len(moves.invoice_line_ids),
        "seconds": round(seconds, 2),
        **scheduler.stats(),
        "soap_calls": after["soap_calls"] - before["soap_calls"],
        "save_invoices_calls": after["save_invoices_calls"] - before["save_invoices_calls"],
        "logins": after["logins"] - before["logins"],
        "calls": {name: count for name, count in sorted(calls.items()) if count},
        "statuses": dict(statuses),
        "products_created": len(lines.filtered(lambda line: line.kind == "products")),
        "customers_created": len(lines.filtered(lambda line: line.kind == "customers")),
        "run_states": sorted(set(runs.mapped("state"))),
        "credentials": 1,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("step", choices=("export",))
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--fake", required=True, help="the fake's JSON line")
    parser.add_argument("--result", required=True)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from odoo import SUPERUSER_ID, api

    fake = json.loads(args.fake)
    registry = open_registry(args.config, args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = step_export(env, fake, args)
        cr.commit()
    Path(args.result).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
