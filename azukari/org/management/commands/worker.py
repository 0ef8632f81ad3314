"""`azukari worker`: runs queued tasks and the periodic schedules (django-q2, ORM broker).

Start one per machine (or several); they share the queue through the database. Stop it with
SIGTERM or Ctrl-C, to its process or its whole process group: the tasks in hand finish within
`--grace` seconds (see `azukari.org.cluster`). A task whose
worker died is handed out again after Q_CLUSTER["retry"] seconds, so every task is written to
be idempotent. `--probe N` sends N no-op tasks with exactly-once effects and reports how fast
the running workers drained them and how many deliveries were duplicates.
"""

import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Runs the background worker (queued tasks and schedules)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=None, help="Worker processes (default: settings)."
        )
        parser.add_argument(
            "--probe",
            type=int,
            default=0,
            metavar="N",
            help="Do not run a worker: queue N probe tasks, wait until running workers have "
            "drained them, report tasks/s and duplicate runs.",
        )
        parser.add_argument(
            "--conn-max-age",
            type=int,
            default=300,
            help="Seconds a worker keeps its database connection (settings' value if higher). "
            "django-q2 closes 'old' connections around every task; with 0 that means a new "
            "connection per task.",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=60.0,
            help="Seconds the tasks in hand get to finish after SIGTERM or Ctrl-C; the rest "
            "are killed and run again later. Keep it below the service manager's stop timeout.",
        )
        parser.add_argument("--probe-work-ms", type=int, default=0)
        parser.add_argument("--probe-timeout", type=float, default=600.0)

    def handle(self, *args, **options) -> None:
        if options["probe"]:
            self._probe(options["probe"], options["probe_work_ms"], options["probe_timeout"])
            return
        from django.db import connections
        from django_q.conf import Conf

        from azukari.org.cluster import CleanCluster

        for alias in connections:
            settings_dict = connections[alias].settings_dict
            current = settings_dict.get("CONN_MAX_AGE") or 0
            if current is not None and current < options["conn_max_age"]:
                settings_dict["CONN_MAX_AGE"] = options["conn_max_age"]
            connections[alias].close()  # children open their own after the fork
        if options["workers"] is not None:
            if options["workers"] < 1:
                raise CommandError(_("At least one worker."))
            Conf.WORKERS = options["workers"]
        grace = options["grace"]
        self.stderr.write(
            _(
                "Recovery if this worker dies: its tasks run again after %(retry)s s "
                "(AZUKARI_TASK_RETRY), its webhook deliveries after %(lease)s s "
                "(AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS) plus up to a minute."
            )
            % {"retry": Conf.RETRY, "lease": settings.AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS}
        )

        def stopping(signal_name: str) -> None:
            self.stderr.write(
                _("%(signal)s: stopping; the tasks in hand get %(grace)s s to finish.")
                % {"signal": signal_name, "grace": f"{grace:g}"}
            )

        if CleanCluster().run(grace=grace, on_stop=stopping):
            self.stderr.write(_("Worker stopped; every task in hand finished."))
        else:
            self.stderr.write(
                _(
                    "Worker stopped after %(grace)s s; the tasks still running were cut short "
                    "and run again after %(retry)s s."
                )
                % {"grace": f"{grace:g}", "retry": Conf.RETRY}
            )

    def _probe(self, count: int, work_ms: int, timeout: float) -> None:
        from azukari.cases.background import probe_enqueue
        from azukari.org.models import TaskReceipt
        from azukari.org.receipts import duplicate_runs

        run = uuid.uuid4().hex[:12]
        prefix = f"probe:{run}:"
        started = time.perf_counter()
        with transaction.atomic():
            probe_enqueue(run, count, work_ms)
        queued = time.perf_counter()
        done = 0
        while time.perf_counter() - queued < timeout:
            done = TaskReceipt.objects.filter(key__startswith=prefix).count()
            if done >= count:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - queued
        self.stdout.write(
            _(
                "%(done)d/%(count)d probe tasks done in %(s).1f s (%(rate).0f tasks/s, queued in "
                "%(q).1f s); duplicate runs: %(dup)d"
            )
            % {
                "done": done,
                "count": count,
                "s": elapsed,
                "rate": done / elapsed if elapsed else 0,
                "q": queued - started,
                "dup": duplicate_runs(prefix),
            }
        )
        if done < count:
            raise CommandError(_("Not all probe tasks finished: is a worker running?"))
