"""Workers against PostgreSQL: no task lost, no effect twice, even when a worker is killed.

These start real `azukari worker` processes on the test database, so they need PostgreSQL
(SQLite test databases are per process) and take about a minute each. Select them with
`-k worker_postgres`.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from azukari.cases.background import probe_enqueue
from azukari.org.models import TaskReceipt
from azukari.org.receipts import duplicate_runs

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: worker processes share the test database (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[3]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(*, workers: int = 1, retry: int = 180, timeout: int = 120) -> subprocess.Popen:
    """An `azukari worker` in its own process group (killing the group kills its children)."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "azukari.org.tests.worker_settings",
        "AZUKARI_TEST_Q_RETRY": str(retry),
        "AZUKARI_TEST_Q_TIMEOUT": str(timeout),
        "AZUKARI_WORKERS": str(workers),
        "AZUKARI_LOG_LEVEL": "ERROR",
    }
    env.pop("AZUKARI_TEST_DB_NAME", None)
    return subprocess.Popen(
        [sys.executable, "-c", "from azukari.cli import main; main()", "worker"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def enqueue_probes(run: str, count: int, work_ms: int = 0) -> None:
    probe_enqueue(run, count, work_ms)


def receipts(run: str) -> int:
    return TaskReceipt.objects.filter(key__startswith=f"probe:{run}:").count()


def wait_for(predicate, *, seconds: float, procs=()) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        for proc in procs:
            assert proc.poll() is None, "a worker died"
        time.sleep(0.25)
    return predicate()


def queued() -> int:
    from django_q.models import OrmQ

    return OrmQ.objects.count()


def assert_each_effect_once(run: str, count: int) -> None:
    keys = set(
        TaskReceipt.objects.filter(key__startswith=f"probe:{run}:").values_list("key", flat=True)
    )
    assert len(keys) == count
    assert keys == {f"probe:{run}:{n}" for n in range(count)}


def test_two_workers_drain_10000_tasks_each_effect_exactly_once(record_property):
    run = "drain"
    enqueue_probes(run, 10_000)
    started = time.monotonic()
    workers = [start_worker(), start_worker()]
    try:
        done = wait_for(lambda: receipts(run) >= 10_000, seconds=600, procs=workers)
        elapsed = time.monotonic() - started
    finally:
        for proc in workers:
            stop(proc)
    assert done, f"only {receipts(run)} of 10000 effects after {elapsed:.0f} s"
    assert_each_effect_once(run, 10_000)
    pids = set(
        TaskReceipt.objects.filter(key__startswith=f"probe:{run}:").values_list(
            "result__pid", flat=True
        )
    )
    assert len(pids) >= 2, "both workers took tasks"
    duplicates = duplicate_runs(f"probe:{run}:")
    record_property("duplicate_runs", duplicates)
    record_property("tasks_per_second", round(10_000 / elapsed))
    print(f"\n10000 tasks, 2 workers: {elapsed:.1f} s, duplicate runs: {duplicates}")


def test_sigkill_mid_batch_loses_nothing_and_repeats_no_effect():
    run = "killed"
    count = 400
    enqueue_probes(run, count, work_ms=40)
    worker = start_worker(workers=2, retry=6, timeout=4)
    try:
        assert wait_for(lambda: receipts(run) >= 60, seconds=60, procs=[worker])
    finally:
        stop(worker, signal.SIGKILL)  # the whole machine goes: workers, pusher, monitor
    done_at_kill = receipts(run)
    assert done_at_kill < count, "killed in the middle of the batch"

    restarted = start_worker(workers=2, retry=6, timeout=4)
    try:
        finished = wait_for(
            lambda: receipts(run) >= count and queued() == 0, seconds=120, procs=[restarted]
        )
    finally:
        stop(restarted)
    assert finished, f"{receipts(run)} of {count} effects, {queued()} tasks still queued"
    assert_each_effect_once(run, count)
    print(
        f"\nkilled after {done_at_kill}/{count}; after restart all {count} done once; "
        f"duplicate runs: {duplicate_runs(f'probe:{run}:')}"
    )
