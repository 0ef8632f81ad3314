"""Dropped database connections, as in a PostgreSQL failover: no task is lost.

A real `azukari worker` drains probe tasks while the test terminates every connection of the
worker's processes with `pg_terminate_backend`, several times. A task whose transaction dies
with its connection fails; it must come back after `retry` seconds and run again, never be
deleted as "failed". Needs PostgreSQL; select with `-k dropped_connections`.
"""

import time

import pytest
from django.db import connection

from azukari.cases.tests.test_worker_postgres import (
    assert_each_effect_once,
    enqueue_probes,
    queued,
    receipts,
    start_worker,
    stop,
    wait_for,
)
from azukari.org.receipts import duplicate_runs

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: worker processes share the test database (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def terminate_other_connections() -> int:
    """What a failover does to the app: every connection to the database but ours is cut."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_tasks_failing_on_dropped_connections_run_again_each_effect_once():
    run = "dropped"
    count = 300
    enqueue_probes(run, count, work_ms=60)  # the work runs inside the task's transaction
    worker = start_worker(workers=2, retry=5, timeout=3)
    cuts = 0
    try:
        assert wait_for(lambda: receipts(run) >= 20, seconds=60, procs=[worker])
        while cuts < 8 and receipts(run) < count - 40:
            cuts += 1 if terminate_other_connections() else 0
            time.sleep(0.7)
        assert cuts >= 5, "connections were cut while tasks ran"
        drained = wait_for(lambda: queued() == 0, seconds=180, procs=[worker])
    finally:
        stop(worker)
    assert drained, f"{queued()} tasks still queued"
    assert receipts(run) == count, f"{count - receipts(run)} tasks lost"
    assert_each_effect_once(run, count)
    print(
        f"\n{cuts} connection cuts; all {count} effects once; "
        f"duplicate runs: {duplicate_runs(f'probe:{run}:')}"
    )
