"""Worker throughput: tasks/s drained by 1 and by 2 `azukari worker` processes (figures).

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/worker_throughput.py --tasks 5000

Queues probe tasks (each writes one receipt: an exactly-once effect), starts the workers,
and times from their start until every effect exists. Also prints duplicate deliveries.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")


def start_worker(bulk: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "azukari.org.tests.worker_settings",
        "AZUKARI_WORKERS": "1",
        "AZUKARI_TEST_Q_BULK": str(bulk),
        "AZUKARI_LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from azukari.cli import main; main()", "worker"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--bulk", type=int, default=1, help="Q_CLUSTER bulk (tasks per poll).")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from django_q.models import OrmQ

    from azukari.cases.background import probe_enqueue
    from azukari.org.models import TaskReceipt
    from azukari.org.receipts import duplicate_runs

    OrmQ.objects.all().delete()
    for count in args.workers:
        run = uuid.uuid4().hex[:10]
        prefix = f"probe:{run}:"
        probe_enqueue(run, args.tasks)
        started = time.perf_counter()
        workers = [start_worker(args.bulk) for _ in range(count)]
        try:
            while time.perf_counter() - started < args.timeout:
                done = TaskReceipt.objects.filter(key__startswith=prefix).count()
                if done >= args.tasks:
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            for proc in workers:
                stop(proc)
        load = os.getloadavg()[0]
        print(
            f"{connection.vendor}, {count} worker(s), bulk {args.bulk}: {done}/{args.tasks} "
            f"tasks in {elapsed:.1f} s = {done / elapsed:.0f} tasks/s "
            f"(incl. start-up); duplicate runs: {duplicate_runs(prefix)}; load avg {load:.1f}"
        )


if __name__ == "__main__":
    main()
