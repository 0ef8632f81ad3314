"""Stopping `azukari worker`: SIGTERM to its process group (what systemd does) stops it within
its grace period with every task in hand finished; a SIGKILL of its parent alone leaves no
process behind. Real worker processes on the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from azukari.cases.background import probe_enqueue
from azukari.dataio.tests.test_import_killed import database_url
from azukari.org.models import TaskReceipt
from azukari.org.receipts import duplicate_runs

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
GRACE = 20


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "azukari.org.tests.worker_settings",
        "AZUKARI_WORKERS": "2",
        "AZUKARI_LOG_LEVEL": "ERROR",
    }
    env.pop("AZUKARI_TEST_DB_NAME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "azukari.cli", "worker", "--grace", str(GRACE)],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group, as under a service manager
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def receipts() -> int:
    return TaskReceipt.objects.filter(key__startswith="probe:stop:").count()


@pytest.fixture
def worker_running_tasks():
    probe_enqueue("stop", 60, work_ms=400)
    worker = start_worker()
    try:
        assert wait_until(lambda: receipts() >= 2, 90), "the worker ran tasks"
        yield worker
    finally:
        if group_alive(worker.pid):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)


def test_sigterm_to_the_group_stops_the_worker_with_every_task_in_hand_finished(
    worker_running_tasks,
):
    worker = worker_running_tasks
    sent = time.monotonic()
    os.killpg(worker.pid, signal.SIGTERM)
    stopped = wait_until(lambda: worker.poll() is not None, GRACE + 10)
    took = time.monotonic() - sent
    assert stopped, "the worker's parent did not exit"
    assert worker.returncode == 0, worker.stderr.read().decode()[-2000:]
    assert took < GRACE
    assert wait_until(lambda: not group_alive(worker.pid), 5), "a process of the worker is left"
    # Nothing was cut short: no task waits to be handed out again, each effect exists once.
    assert not OrmQ.objects.filter(lock__gt=timezone.now()).exists()
    assert receipts() == 60 - OrmQ.objects.count()
    assert duplicate_runs("probe:stop:") == 0
    print(f"\nSIGTERM to the group: stopped in {took:.1f} s after {receipts()} of 60 tasks")


def test_sigkill_of_the_parent_alone_leaves_no_process_running_tasks(worker_running_tasks):
    worker = worker_running_tasks
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert wait_until(lambda: not group_alive(worker.pid), 5), "orphaned worker processes"
    done = receipts()
    time.sleep(2)
    assert receipts() == done, "tasks still ran after the parent was killed"
