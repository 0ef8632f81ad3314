"""Every scale benchmark in one command: builds the data, measures, prints one table.

    .venv/bin/python benchmarks/run.py
    DATABASE_URL=postgres://user@host/db .venv/bin/python benchmarks/run.py   # and PostgreSQL

Builds 1,000,000 customers, about 5,000,000 contacts and 1,000,000 cases with
`azukari generate` (timed) in a SQLite file under the work folder and, when DATABASE_URL is
set, in that PostgreSQL database (which must be one the benchmark may empty: it is flushed
first unless --reuse finds data there). Then, on each database, `scale.py` (screen pop and
its hand-written SQL ceiling, backlog board, case list, open-and-park, name search); on
SQLite, the realistic load with locust against gunicorn (`load.py`) and the side-by-side run
against django-helpdesk (`peer_helpdesk.py`). Prints the table and writes it as JSON to
<work>/results.json. Not part of the test suite: figures, not pass/fail.

Options: --customers N, --contacts-per-customer X, --cases-per-customer X, --work DIR,
--reuse (keep data built by an earlier run), --runs N, --skip-load, --skip-peer.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

from common import machine, print_row  # noqa: E402

PYTHON = sys.executable


def azukari(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [PYTHON, "-m", "azukari.cli", *args], cwd=ROOT, env=env, check=True, text=True,
        capture_output=True,
    )  # fmt: skip


def customer_count(database_url: str) -> int:
    code = "from azukari.customers.models import Customer; print(Customer.objects.count())"
    try:
        out = azukari(database_url, "shell", "-v0", "-c", code).stdout.split()
        return int(out[-1]) if out else 0  # the last word: shell may announce its imports
    except (subprocess.CalledProcessError, ValueError):
        return 0


def build(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fresh data unless --reuse finds some; the generate time is one of the figures."""
    row: dict[str, Any] = {"name": "0. azukari generate (full data set)"}
    record = args.work / f"build-{vendor_of(database_url)}.json"
    if args.reuse and customer_count(database_url) >= args.customers:
        if record.exists():  # the build's own figures, from the run that made the data
            return {**json.loads(record.read_text()), "reused": True}
        row.update(figure="reused", target="< 10 min (SQLite)")
        return row
    load_before = os.getloadavg()[0]
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    azukari(database_url, "migrate", "-v0")
    if not database_url.startswith("sqlite"):
        azukari(database_url, "flush", "--no-input")
    started = time.perf_counter()
    done = azukari(
        database_url, "generate", "-v1", "--defer-indexes",
        "--customers", str(args.customers),
        "--contacts-per-customer", str(args.contacts_per_customer),
        "--cases-per-customer", str(args.cases_per_customer),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    print(done.stdout.strip().splitlines()[-1])
    row.update(
        seconds=round(seconds, 1),
        figure=f"{seconds / 60:.1f} min",
        target="< 10 min (SQLite)",
        met=seconds < 600 if database_url.startswith("sqlite") else None,
        customers=args.customers,
        command=f"azukari generate --defer-indexes --customers {args.customers}"
        f" --contacts-per-customer {args.contacts_per_customer:g}"
        f" --cases-per-customer {args.cases_per_customer:g}",
        load_1min=[round(load_before, 2), round(os.getloadavg()[0], 2)],
        date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    record.write_text(json.dumps(row, indent=2) + "\n")
    return row


def vendor_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def run_json(command: list[str], out: Path, env: dict[str, str] | None = None) -> dict:
    out.unlink(missing_ok=True)
    subprocess.run([PYTHON, *command], cwd=ROOT, env={**os.environ, **(env or {})}, check=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--contacts-per-customer", type=float, default=5.0)
    parser.add_argument("--cases-per-customer", type=float, default=1.0)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build the data and stop")
    parser.add_argument(
        "--only", choices=("sqlite", "postgresql"), help="one database instead of each"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()

    databases = {"sqlite": f"sqlite:///{work / 'scale.sqlite3'}"}
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        databases["postgresql"] = os.environ["DATABASE_URL"]
    if args.only:
        databases = {args.only: databases[args.only]}
    results: dict[str, Any] = {"machine": machine(), "databases": {}}
    for vendor, url in databases.items():
        print(f"\n== {vendor}: building {args.customers:,} customers ==")
        generated = build(url, args)
        if args.build_only:
            continue
        print(f"\n== {vendor}: scale ==")
        out = work / f"scale-{vendor}.json"
        scale = run_json(
            ["benchmarks/scale.py", "--runs", str(args.runs), "--json", str(out)],
            out,
            {"DATABASE_URL": url},
        )
        scale["rows"].insert(0, generated)
        results["databases"][vendor] = scale
    if args.build_only:
        return
    sqlite_url = databases["sqlite"]
    if not args.skip_load:
        print("\n== realistic load (locust, gunicorn, SQLite) ==")
        out = work / "load.json"
        results["load"] = run_json(
            ["benchmarks/load.py", "--database-url", sqlite_url, "--json", str(out)], out
        )
    if not args.skip_peer:
        print("\n== side by side with django-helpdesk (SQLite) ==")
        out = work / "peer.json"
        results["peer"] = run_json(
            ["benchmarks/peer_helpdesk.py", "--work", str(work / "peer"), "--json", str(out)]
            + (["--reuse"] if args.reuse else []),
            out,
        )
    results["machine"]["load_1min_end"] = machine()["load_1min"]
    (work / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    report(results)
    print(f"\nJSON: {work / 'results.json'}")


def report(results: dict[str, Any]) -> None:
    print(f"\n== results ({results['machine']['cores']} cores) ==")
    for vendor, scale in results["databases"].items():
        counts = ", ".join(f"{v:,} {k}" for k, v in scale.get("counts", {}).items())
        print(f"\n{vendor}: {counts}")
        for row in scale["rows"]:
            print_row(row)
    load = results.get("load")
    if load:
        print(f"\nload: {load.get('users', '?')} users, {load.get('duration_s', '?')} s")
        for row in load["rows"]:
            print_row({**row, "target": "p95 < 100 ms", "met": row["p95_ms"] < 100})
        print(f"errors: {load.get('errors', '?')}")
    peer = results.get("peer")
    if peer:
        print("\npeer (p95, django-helpdesk / Azukari):")
        for pair in peer.get("pairs", []):
            met = "yes" if pair.get("met") else "NO"
            print(f"  {pair['name']:<60} {pair.get('ratio_p95', 0):7.1f}x   >= 3x  {met}")


if __name__ == "__main__":
    main()
