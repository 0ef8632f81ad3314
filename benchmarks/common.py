"""Timing helpers shared by the benchmarks: percentiles, repeated runs, query counts, and
the desk's most common work (a contact logged, a case opened and parked)."""

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples_ms, 50), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "p99_ms": round(percentile(samples_ms, 99), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
        "runs": len(samples_ms),
    }


def measure(
    name: str,
    call: Callable[[int], Any],
    *,
    runs: int,
    warm: int = 5,
    target_p95_ms: float | None = None,
    count_queries: bool = True,
) -> dict[str, Any]:
    """Times `call(i)` for i in range(runs) after `warm` untimed calls; counts the SQL
    queries of one more call (Django's connection must be set up)."""
    for i in range(warm):
        call(i)
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    row: dict[str, Any] = {"name": name, **summary(samples)}
    if count_queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            call(runs)
        row["queries"] = len(queries)
    if target_p95_ms is not None:
        row["target"] = f"p95 <= {target_p95_ms:g} ms"
        row["met"] = row["p95_ms"] <= target_p95_ms
    return row


def print_row(row: dict[str, Any]) -> None:
    met = {True: "yes", False: "NO"}.get(row.get("met"), "")
    queries = row.get("queries", "")
    if "p50_ms" in row:
        figures = f"p50 {row['p50_ms']:8.2f}  p95 {row['p95_ms']:8.2f}  p99 {row['p99_ms']:8.2f}"
    else:
        figures = f"{row.get('figure', ''):>44}"
    print(f"{row['name']:<52} {figures}  q={queries!s:<4} {row.get('target', ''):<18} {met}")


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)}


def write_result(
    benchmark: str,
    *,
    database: str,
    counts: dict[str, int],
    rows: list[dict[str, Any]],
    figures: dict[str, Any],
    json_path: str,
) -> None:
    """The run's result, with the machine and the command that made it, written to
    `json_path` when one is given; its figures printed on one line."""
    result = {
        "benchmark": benchmark,
        "database": database,
        "counts": counts,
        "machine": machine(),
        "command": f"python benchmarks/{benchmark}.py " + " ".join(sys.argv[1:]),
        "rows": rows,
        "figures": figures,
    }
    if json_path:
        Path(json_path).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps({"benchmark": benchmark, "figures": figures}, ensure_ascii=False))


def open_and_park(customer: Any, *, operator: Any, client: Any, team: Any) -> None:
    """What the desk does for most calls, service after service: the contact logged and a case
    opened from it (one transaction, as the pop's form does), the case parked with a team for
    two days, and the name read (audited)."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from azukari.audit.services import personal_data_access
    from azukari.cases import services
    from azukari.cases.models import IdentityCheck

    with transaction.atomic():  # as the pop's contact form posted with a case to open
        now = timezone.now()
        contact = services.contact_log(
            actor=operator,
            client=client,
            customer=customer,
            started_at=now,
            ended_at=now,  # logged by hand, ended when saved (left open, a live call for ever)
            caller_number=None,
            identity_check=IdentityCheck.VERIFIED,
            reason="解約希望",
        )
        case = services.case_open(
            contact=contact, actor=operator, kind="cancellation", subject="解約希望"
        )
    services.case_park(
        case=case,
        version=case.version,
        actor=operator,
        reason="client_decision",
        team=team,
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    personal_data_access(viewer=operator, customers=[customer], fields=["name"])


def wait_listening(port: int, process: Any, what: str, log: Path, seconds: float = 60) -> None:
    """Until a server started as `process` takes connections on `port`; exits, naming its log,
    if it dies or does not listen in time."""
    import socket

    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                sys.exit(f"{what} did not start; see {log}")
            time.sleep(0.2)
