"""Recovery times (figures): an online backup and its restore, and a worker killed mid-batch.

    DATABASE_URL=sqlite:///tmp/bench.sqlite3 .venv/bin/python benchmarks/recovery_times.py
    DATABASE_URL=... .venv/bin/python benchmarks/recovery_times.py --retry 180 --skip-backup

Run it on a database filled by `azukari generate --customers N`. It prints:

- backup: `azukari backup` of the running database (SQLite `VACUUM INTO`, PostgreSQL
  `pg_dump`) while a writer keeps committing, its size and time;
- restore (SQLite): copying the backup into place and `azukari audit verify` on the copy;
- worker SIGKILL: probe tasks are queued, a worker (retry = `--retry` s) is killed with its
  whole process group mid-batch and started again at once; the time from the kill until every
  task's effect exists, with the duplicate deliveries.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")


def azukari(*args: str, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "azukari.cli", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done


def backup_and_restore(workdir: Path) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.utils.timezone import now

    from azukari.core.backups import database_backup
    from azukari.org.models import TaskReceipt

    stop = threading.Event()
    writes = [0]

    def writer() -> None:  # the service keeps writing during the backup
        from django.db import connection as own

        while not stop.is_set():
            TaskReceipt.objects.create(key=f"bench:backup:{uuid.uuid4().hex}", done_at=now())
            writes[0] += 1
            time.sleep(0.01)
        own.close()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    try:
        target = workdir / ("backup.sqlite3" if connection.vendor == "sqlite" else "backup.dump")
        backup = database_backup(destination=target)
    finally:
        stop.set()
        thread.join()
    TaskReceipt.objects.filter(key__startswith="bench:backup:").delete()
    print(
        f"backup: {backup.method}, {backup.size / 1e6:.1f} MB in {backup.seconds:.1f} s, "
        f"{writes[0]} commits by a writer meanwhile"
    )
    if connection.vendor != "sqlite":
        return
    restored = workdir / "restored.sqlite3"
    started = time.perf_counter()
    shutil.copyfile(target, restored)
    copied = time.perf_counter() - started
    took, done = azukari("audit", "verify", env={"DATABASE_URL": f"sqlite:///{restored}"})
    verdict = "verifies" if done.returncode == 0 else "DOES NOT VERIFY"
    print(f"restore: copy {copied:.1f} s, audit verify {took:.1f} s ({verdict})")


def worker_sigkill(count: int, retry: int) -> None:
    import django

    django.setup()
    from azukari.cases.background import probe_enqueue
    from azukari.org.models import TaskReceipt
    from azukari.org.receipts import duplicate_runs

    run = uuid.uuid4().hex[:8]
    prefix = f"probe:{run}:"
    probe_enqueue(run, count, work_ms=50)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "azukari.org.tests.worker_settings",
        "AZUKARI_TEST_Q_RETRY": str(retry),
        "AZUKARI_TEST_Q_TIMEOUT": str(max(5, retry - 30)),
        "AZUKARI_WORKERS": "2",
        "AZUKARI_LOG_LEVEL": "ERROR",
    }

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "azukari.cli", "worker"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def done() -> int:
        return TaskReceipt.objects.filter(key__startswith=prefix).count()

    worker = start()
    while done() < count // 5:
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at = time.monotonic()
    at_kill = done()
    worker = start()
    try:
        while done() < count:
            time.sleep(0.2)
        last = time.monotonic() - killed_at
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(90)
    print(
        f"worker SIGKILL (retry {retry} s): {at_kill}/{count} done at the kill, all done "
        f"{last:.1f} s after it, duplicate runs {duplicate_runs(prefix)}"
    )
    TaskReceipt.objects.filter(key__startswith=prefix).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--retry", type=int, default=180, help="Q_CLUSTER retry (product: 180)")
    parser.add_argument("--skip-backup", action="store_true")
    parser.add_argument("--skip-worker", action="store_true")
    args = parser.parse_args()
    if not args.skip_backup:
        with tempfile.TemporaryDirectory() as workdir:
            backup_and_restore(Path(workdir))
    if not args.skip_worker:
        worker_sigkill(args.tasks, args.retry)


if __name__ == "__main__":
    main()
