"""Writes the figures of `benchmarks/README.md` from `benchmarks/results.json`.

    .venv/bin/python benchmarks/readme_tables.py [--check]

Every table of figures in the README sits between `<!-- results:NAME -->` and
`<!-- /results:NAME -->` and is replaced by what results.json holds, with the command that
made it, its date, commit and load average; a table whose benchmark has no entry says so.
`run.py` calls this after each run; --check exits 1 when the README does not match.
"""

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"
RESULTS = BENCH / "results.json"
VENDORS = ("sqlite", "postgresql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def ms(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def trio(row: dict[str, Any]) -> str:
    return f"{ms(row['p50_ms'])} / {ms(row['p95_ms'])} / {ms(row['p99_ms'])}"


def met(value: Any) -> str:
    return {True: "**yes**", False: "no"}.get(value, "")


def provenance(entry: dict[str, Any]) -> str:
    load = entry.get("load_1min") or ["?", "?"]
    return (
        f"`{entry['command']}` — {entry['date']}, commit {entry['commit']}, "
        f"1-minute load average {load[0]} before, {load[1]} after, {entry.get('cores', '?')} cores"
    )


def missing(key: str) -> str:
    return f"*No figures: `{key}` has not been run into results.json.*"


# ---------------------------------------------------------------- tables


def generate(results: dict) -> str:
    lines = ["| database | data | time |", "|---|---|---|"]
    notes = []
    for vendor in VENDORS:
        entry = results.get(f"generate-{vendor}")
        if entry is None:
            continue
        f = entry["figures"]
        said = re.split(r"[:：]", f["said"], maxsplit=1)[-1].strip()  # the rows, not the words
        lines.append(f"| {NAMES[vendor]} | {said} | **{f['seconds']:,.0f} s** |")
        notes.append(f"- {NAMES[vendor]}: {provenance(entry)}")
    if len(lines) == 2:
        return missing("generate")
    return "\n".join([*lines, "", *notes])


def side_by_side(results: dict, key: str) -> str:
    """Rows of a per-database latency script (scale.py, case_pages.py), one column each."""
    entries = {v: results.get(f"{key}-{v}") for v in VENDORS}
    entries = {v: e for v, e in entries.items() if e is not None}
    if not entries:
        return missing(key)
    names: list[str] = []
    by = {}
    for vendor, entry in entries.items():
        by[vendor] = {row["name"]: row for row in entry["figures"]["rows"]}
        names += [n for n in by[vendor] if n not in names]
    head = (
        "| request | "
        + " | ".join(f"{NAMES[v]} p50 / p95 / p99 ms" for v in entries)
        + " | queries | target | met ("
        + " / ".join(NAMES[v] for v in entries)
        + ") |"
    )
    lines = [head, "|---" * (4 + len(entries)) + "|"]
    for name in names:
        cells, queries, target, verdicts = [], [], "", []
        for vendor in entries:
            row = by[vendor].get(name)
            if row is None:
                cells.append("—")
                verdicts.append("")
                continue
            figure = trio(row) if "p50_ms" in row else ""
            if row.get("per_second"):
                figure += f": **{row['per_second']:,}/s**"
            if row.get("ratio_to_ceiling"):
                figure += f" ({row['ratio_to_ceiling']}× the ceiling)"
            cells.append(figure)
            queries.append(str(row.get("queries", "")))
            target = target or row.get("target", "")
            verdicts.append(met(row.get("met")))
        q = " / ".join(dict.fromkeys(queries))
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {q} | {target} | {' / '.join(verdicts)} |"
        )
    notes = []
    for vendor, entry in entries.items():
        counts = entry["figures"].get("counts", {})
        scale = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        notes.append(f"- {NAMES[vendor]} ({scale}): {provenance(entry)}")
    return "\n".join([*lines, "", *notes])


def flat(results: dict, key: str) -> str:
    """Figures of a script that prints its own summary (`{"benchmark": ..., "figures": ...}`)."""
    entries = {v: results.get(f"{key}-{v}") for v in VENDORS}
    entries = {v: e for v, e in entries.items() if e is not None}
    if not entries:
        return missing(key)
    keys: list[str] = []
    for entry in entries.values():
        keys += [k for k in walk(entry["figures"]) if k not in keys]
    lines = ["| figure | " + " | ".join(NAMES[v] for v in entries) + " |"]
    lines.append("|---" * (1 + len(entries)) + "|")
    for k in keys:
        values = [walk(e["figures"]).get(k, "—") for e in entries.values()]
        lines.append(f"| {k} | " + " | ".join(str(v) for v in values) + " |")
    notes = [f"- {NAMES[v]}: {provenance(e)}" for v, e in entries.items()]
    return "\n".join([*lines, "", *notes])


def selfservice(results: dict) -> str:
    """The self-service pages: server time, queries and bytes sent, per database."""
    entries = {v: results.get(f"selfservice_pages-{v}") for v in VENDORS}
    entries = {v: e for v, e in entries.items() if e is not None}
    if not entries:
        return missing("selfservice_pages")
    lines = [
        "| page | database | p50 / p95 / p99 ms | queries | HTML bytes | with stylesheet |",
        "|---|---|---|---|---|---|",
    ]
    for vendor, entry in entries.items():
        for row in entry["figures"]["rows"]:
            lines.append(
                f"| {row['name']} | {NAMES[vendor]} | {trio(row)} | {row.get('queries', '')} "
                f"| {row['html_bytes']:,} | {row['page_bytes']:,} |"
            )
    notes = [f"- {NAMES[v]}: {provenance(e)}" for v, e in entries.items()]
    return "\n".join([*lines, "", *notes])


def walk(figures: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(figures, dict):
        for k, v in figures.items():
            out.update(walk(v, f"{prefix}{k}" if not prefix else f"{prefix} · {k}"))
    elif isinstance(figures, list):
        out[prefix] = ", ".join(str(v) for v in figures)
    elif isinstance(figures, bool):
        out[prefix] = "yes" if figures else "no"
    else:
        out[prefix] = f"{figures:,}" if isinstance(figures, int) else figures
    return out


# load.py's rows that are not response times: held long waits and the ring-to-desk notice.
NOT_TIMED = ("held:", "notice:")


def idle_desk_model(model: dict) -> str:
    incoming = model["incoming"]
    if incoming.get("long_wait"):
        return (
            f"the idle desk waits on `azukari desk_wait` (one beside each app server; a wait"
            f" answers when the call rings, or with a 304 after {model['wait_s']:g} s and is"
            f" asked again), and goes through the page (`{incoming['url']}`) once in the page's"
            " `data-full-every` poll ticks for the session; the held waits and the time from"
            " the ring to the desk's answer are listed but are not response times, so the"
            " target leaves them out"
        )
    return (
        f"the idle desk checks every {incoming['poll_s']} s"
        + (" with `If-None-Match`" if incoming["tagged"] else "")
        + (
            " and the desk's ticket (`X-Desk-Ticket`, but for one check in the page's"
            " `data-full-every`)"
            if incoming.get("ticket")
            else " but without the desk's ticket (`X-Desk-Ticket`): every check went through"
            " Django, as the page's checks without a ticket do"
        )
        + f" (`{incoming['url']}`)"
    )


def load(results: dict, key: str) -> str:
    entry = results.get(key)
    if entry is None:
        return missing(key)
    f = entry["figures"]
    model = f["model"]
    lines = [
        f"{f['customers']:,} customers; {f['servers']} app server(s) × {f['workers_per_server']}"
        f" gunicorn workers; each step {model['warmup_s']} s warm-up, then the measured"
        f" {f['duration_s']} s."
        f" Model: {model['calls_per_hour']:g} calls per operator-hour, {model['handle_s']:g} s"
        f" from pop to log, {model['case_share']:.0%} of calls open and park a case (or are logged"
        " on the customer's open case, when the screen pop shows one), "
        + idle_desk_model(model)
        + f", the floor board every {model['floor_poll_s']} s,"
        f" the backlog board reloaded every {model['board_reload_s']:g} s.",
        "",
        "| operators (+ SVs, desk) | served req/s | errors | worst p95 ms | slowest request type"
        " | request types over 100 ms p95 | load avg | p95 < 100 ms, no errors"
        " | CPU s: app / database / locust | server CPU ms a request"
        " | two free cores ≈ operators |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in f["steps"]:
        timed = [r for r in step["rows"] if not r["name"].startswith(NOT_TIMED)]
        slowest = max(timed, key=lambda r: r["p95_ms"]) if timed else None
        cpu = step.get("cpu_s", {})
        lines.append(
            f"| {step['operators']:,} (+ {step['svs']}, {step['desk']}) | {step['served_rps']}"
            f" | {step['errors']} | {ms(step['worst_p95_ms'])}"
            f" | {slowest['name'] if slowest else '—'}"
            f" | {', '.join(r['name'] for r in timed if r['p95_ms'] >= 100) or '—'}"
            f" | {step['load_1min'][0]} → "
            f"{step['load_1min'][1]} | {met(step['met'])}"
            f" | {cpu.get('app', '—')} / {cpu.get('database', '—')} / {cpu.get('locust', '—')}"
            f" | {step.get('server_cpu_ms_per_request') or '—'}"
            f" | {step.get('estimated_operators_2_cores') or '—'} |"
        )
    lines += [
        "",
        f"**Highest operator count meeting the target: {f['capacity_operators']:,}.** The model"
        f" offers {f.get('offered_rps_per_operator', 0):.3f} requests per second per operator"
        " (SVs and desk included); the last column divides two cores' worth of CPU time by"
        " the server CPU time (app servers and database) each served request took in that step"
        " and by that rate: an estimate for a machine with nothing else running, not a"
        " measurement.",
    ]
    shown = [s for s in f["steps"] if s["operators"] == f["capacity_operators"]]
    failing = next((s for s in f["steps"] if not s["met"]), None)
    shown += [failing] if failing else []
    for step in shown:
        lines += [
            "",
            f"Per request type at {step['operators']:,} operators:",
            "",
            "| request | count | req/s | p50 / p95 / p99 ms | errors | answers |",
            "|---|---|---|---|---|---|",
        ]
        for r in step["rows"]:
            # A notice is no HTTP answer: it has no status.
            answers = sorted((s, n) for s, n in r["statuses"].items() if s != "None")
            statuses = ", ".join(f"{n}× {s}" for s, n in answers) or "—"
            lines.append(
                f"| {r['name']} | {r['count']:,} | {r['rps']} | {trio(r)} | {r['errors']}"
                f" | {statuses} |"
            )
    lines += ["", f"- {provenance(entry)}"]
    return "\n".join(lines)


def peer(results: dict) -> str:
    entry = results.get("peer_helpdesk")
    if entry is None:
        return missing("peer_helpdesk")
    f = entry["figures"]
    lines = [
        "| pair | helpdesk p50 / p95 ms | Azukari p50 / p95 ms | runs each | queries"
        " | p95 ratio | ≥ 3× | what each side does |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in f["pairs"]:
        h, a = p["helpdesk"], p["azukari"]
        lines.append(
            f"| {p['name']} | {ms(h['p50_ms'])} / {ms(h['p95_ms'])}"
            f" | {ms(a['p50_ms'])} / {ms(a['p95_ms'])} | {h['runs']} | {h['queries']} /"
            f" {a['queries']} | {p['ratio_p95']:.1f}× | "
            + (met(p["met"]) if p["target"] else "reference")
            + f" | {p['work']} |"
        )
    effects = f.get("side_effects", {})
    lines += ["", "Rows one request writes:", ""]
    for system in ("helpdesk", "azukari"):
        writes = effects.get(system, {}).get("create", {})
        text = ", ".join(f"{k} +{v}" for k, v in writes.items()) or "nothing"
        lines.append(f"- {system}, create: {text}")
    scale = f.get("scale", {})
    lines += [
        "",
        f"- {scale.get('tickets', 0):,} tickets and {scale.get('cases', 0):,} customers with a"
        f" case each; the sides take turns request by request; {provenance(entry)}",
    ]
    return "\n".join(lines)


TABLES: dict[str, Callable[[dict], str]] = {
    "generate": generate,
    "scale": lambda r: side_by_side(r, "scale"),
    "case_pages": lambda r: side_by_side(r, "case_pages"),
    "open_park": lambda r: flat(r, "open_park"),
    "idle_desk": lambda r: flat(r, "idle_desk"),
    "load-sqlite": lambda r: load(r, "load-sqlite"),
    "load-postgresql": lambda r: load(r, "load-postgresql"),
    "peer_helpdesk": peer,
    "selfservice_pages": selfservice,
}


def render(text: str, results: dict) -> str:
    def block(match: re.Match) -> str:
        name = match.group(1)
        table = TABLES[name](results) if name in TABLES else f"*Unknown table {name}.*"
        return f"<!-- results:{name} -->\n{table}\n<!-- /results:{name} -->"

    return re.sub(r"<!-- results:([\w-]+) -->.*?<!-- /results:\1 -->", block, text, flags=re.DOTALL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it matches")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args()
    if args.results.exists():
        results = json.loads(args.results.read_text()).get("benchmarks", {})
    else:
        results = {}
    before = args.readme.read_text()
    after = render(before, results)
    if args.check:
        sys.exit(0 if after == before else 1)
    args.readme.write_text(after)
    print(f"{args.readme.name}: tables written from {args.results.name} ({len(results)} entries)")


if __name__ == "__main__":
    main()
