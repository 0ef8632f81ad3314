"""Every benchmark whose figures the README shows, in one command, into results.json.

    .venv/bin/python benchmarks/run.py                                   # SQLite
    DATABASE_URL=postgres://user@host/db .venv/bin/python benchmarks/run.py   # and PostgreSQL

Builds 1,000,000 customers, about 5,000,000 contacts and 1,000,000 cases with
`azukari generate --defer-indexes` (timed) in a SQLite file under the work folder and, when
DATABASE_URL is set, in that PostgreSQL database (one the benchmark may empty: it is flushed
first unless --reuse finds data there). Then, on each database: `scale.py`, `case_pages.py`,
`open_park.py`, `idle_desk.py` and `selfservice_pages.py` (those present), and the floor's
capacity curve (`load.py`: one app server on SQLite, two on PostgreSQL); on SQLite, the
side-by-side run against django-helpdesk (`peer_helpdesk.py`).

Each benchmark's figures go into `benchmarks/results.json` with the command that made them,
the 1-minute load average before and after, the date, the commit and the data's scale;
entries a run did not make are kept from earlier runs (each with its own date), so one part
can be measured again alone (--only, --skip-*). Then the README's tables are written anew
from results.json (`readme_tables.py`). Not part of the test suite: figures, not pass/fail.
"""

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results.json"
sys.path.insert(0, str(BENCH))

from common import machine  # noqa: E402

PYTHON = sys.executable
# Scripts that write their figures to a file (--json) rather than a last line of output.
JSON_OUT = ("scale", "case_pages", "selfservice_pages")


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


def vendor_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def shown(text: str) -> str:
    """A command as the README may show it: paths from the checkout, no database address."""
    text = text.replace(str(ROOT) + "/", "")
    if "postgres" in os.environ.get("DATABASE_URL", ""):
        text = text.replace(os.environ["DATABASE_URL"], "$DATABASE_URL")
    return text


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return done.stdout.strip() + ("+uncommitted" if dirty else "")


def stamp(figures: Any, command: str, load_before: float, **extra: Any) -> dict[str, Any]:
    return {
        "figures": json.loads(shown(json.dumps(figures, ensure_ascii=False))),
        "command": shown(command),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit(),
        "cores": machine()["cores"],
        **extra,
    }


def build(database_url: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """Fresh data unless --reuse finds some; the generate time is one of the figures. With
    --reuse, None: the entry of the run that built the data stays in results.json."""
    if args.reuse and customer_count(database_url) >= args.customers:
        azukari(database_url, "migrate", "-v0")  # data built before the newest migrations
        return None
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    azukari(database_url, "migrate", "-v0")
    if not database_url.startswith("sqlite"):
        azukari(database_url, "flush", "--no-input")
    command = [
        "generate", "-v1", "--defer-indexes",
        "--customers", str(args.customers),
        "--contacts-per-customer", f"{args.contacts_per_customer:g}",
        "--cases-per-customer", f"{args.cases_per_customer:g}",
    ]  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = azukari(database_url, *command)
    seconds = time.perf_counter() - started
    said = done.stdout.strip().splitlines()[-1]
    print(said)
    figures = {"seconds": round(seconds, 1), "said": said, "customers": args.customers}
    return stamp(figures, "azukari " + " ".join(command), load_before, scale=scale_of(args))


def scale_of(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "customers": args.customers,
        "contacts_per_customer": args.contacts_per_customer,
        "cases_per_customer": args.cases_per_customer,
    }


def run_script(
    script: str, options: list[str], database_url: str | None, out: Path | None = None
) -> Any:
    """Runs a benchmark, its output shown as it comes; returns the JSON it wrote to `out`, or
    else the last line of its output that is a JSON object with a "benchmark" key."""
    env = {**os.environ}
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [PYTHON, f"benchmarks/{script}", *options]
    if out is not None:
        out.unlink(missing_ok=True)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    last = None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith("{") and '"benchmark"' in line:
            last = line
    if process.wait() != 0:
        print(f"!! {script} failed (exit code {process.returncode}); its entry is not updated")
        return None
    if out is not None and out.exists():
        return json.loads(out.read_text())
    return json.loads(last)["figures"] if last else None


def measure(
    results: Path, key: str, script: str, options: list[str], database_url: str | None,
    scale: dict[str, Any], out: Path | None = None,
) -> None:  # fmt: skip
    if not (BENCH / script).exists():
        print(f"({script} is not there: skipped)")
        return
    print(f"\n== {key} ==", flush=True)
    prefix = f"DATABASE_URL={database_url} " if database_url else ""
    command = prefix + f".venv/bin/python benchmarks/{script} " + " ".join(options)
    load_before = os.getloadavg()[0]
    figures = run_script(script, options, database_url, out)
    if figures is not None:
        save(results, key, stamp(figures, command.strip(), load_before, scale=scale))


def save(path: Path, key: str, entry: dict[str, Any]) -> None:
    """Adds one entry to the file as it is now: another run may have written others since."""
    with open(Path(tempfile.gettempdir()) / "azukari-bench-results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(path.read_text()) if path.exists() else {}
        results.setdefault("benchmarks", {})[key] = entry
        results["benchmarks"] = dict(sorted(results["benchmarks"].items()))
        path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--contacts-per-customer", type=float, default=5.0)
    parser.add_argument("--cases-per-customer", type=float, default=1.0)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--reuse", action="store_true", help="keep data built earlier")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--load-steps", default="250,500,1000,1500,2000,2500")
    parser.add_argument("--load-duration", type=int, default=60, help="measured s per step")
    parser.add_argument("--load-options", default="", help="more options for load.py")
    parser.add_argument("--load-name", default="", help="entry name suffix, for a variant")
    parser.add_argument("--skip-scale", action="store_true", help="scale, case pages, idle, park")
    parser.add_argument(
        "--benches",
        default="",
        help="of scale, case_pages, open_park, idle_desk, selfservice_pages: these only",
    )
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--peer-budget", type=int, default=120, help="timed seconds per pair")
    parser.add_argument("--build-only", action="store_true", help="build the data and stop")
    parser.add_argument("--skip-build", action="store_true", help="use the data as it is")
    parser.add_argument(
        "--only", choices=("sqlite", "postgresql"), help="one database instead of each"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the figures go")
    parser.add_argument("--readme", type=Path, default=BENCH / "README.md")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()

    databases = {"sqlite": f"sqlite:///{work / 'scale.sqlite3'}"}
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        databases["postgresql"] = os.environ["DATABASE_URL"]
    if args.only:
        databases = {args.only: databases[args.only]}
    results = args.results
    scale = scale_of(args)
    for vendor, url in databases.items():
        print(f"\n== {vendor} ==", flush=True)
        built = None if args.skip_build else build(url, args)
        if built is not None:
            save(results, f"generate-{vendor}", built)
        if args.build_only:
            continue
        # The data as it is: an earlier build may have been of another size.
        scale = {**scale_of(args), "customers": customer_count(url)}
        if not args.skip_scale:
            for key, script, options in (
                ("scale", "scale.py", ["--runs", str(args.runs)]),
                ("case_pages", "case_pages.py", ["--runs", str(args.runs)]),
                ("open_park", "open_park.py", []),
                ("idle_desk", "idle_desk.py", []),
                ("selfservice_pages", "selfservice_pages.py", ["--runs", "100"]),
            ):
                if args.benches and key not in args.benches.split(","):
                    continue
                out = work / f"{key}-{vendor}.json" if key in JSON_OUT else None
                json_option = ["--json", str(out)] if out else []
                measure(results, f"{key}-{vendor}", script, options + json_option, url, scale, out)
        if not args.skip_load:
            out = work / f"load-{vendor}.json"
            options = ["--database-url", url, "--steps", args.load_steps]
            options += ["--duration", str(args.load_duration), "--json", str(out)]
            options += args.load_options.split()
            key = f"load-{vendor}" + (f"-{args.load_name}" if args.load_name else "")
            measure(results, key, "load.py", options, None, scale, out)
    if not args.skip_peer and not args.build_only and "sqlite" in databases:
        out = work / "peer.json"
        options = ["--work", str(work / "peer"), "--json", str(out)]
        options += ["--reuse"] if args.reuse else []
        options += ["--budget", str(args.peer_budget)]
        peer_scale = {"tickets": 100_000, "cases": 100_000}
        measure(results, "peer_helpdesk", "peer_helpdesk.py", options, None, peer_scale, out)
    if not args.build_only:
        tables = [PYTHON, str(BENCH / "readme_tables.py"), "--results", str(args.results)]
        subprocess.run([*tables, "--readme", str(args.readme)], cwd=ROOT, check=True)
    print(f"\nresults: {args.results}")


if __name__ == "__main__":
    main()
