"""Tasks the worker runs for cases: thin, idempotent, each calls a service or scan.

Delivery is at least once (a task whose worker died runs again), so each one either guards
its effect with a row lock and a mark, or writes a receipt with its effect
(`azukari.org.receipts.run_once`).
"""

import datetime as dt
import os
import time

from django.db import transaction
from django.utils import timezone

from azukari.cases import escalation
from azukari.cases.models import Callback, CallbackStatus
from azukari.cases.scheduling import callback_proposals
from azukari.org.receipts import run_once


def inquiries_remind() -> int:
    """Periodic: reminds approvers of inquiries soon due."""
    return escalation.inquiries_remind_due()


def inquiries_escalate() -> int:
    """Periodic: escalates overdue inquiries to the client's escalation contact."""
    return escalation.inquiries_escalate_overdue()


def callbacks_propose(limit: int = 1000) -> int:
    """Periodic: offers call times for callbacks still to schedule whose offers are missing
    or already past. Recomputing gives the same answer, so reruns are harmless."""
    now = timezone.now()
    refreshed = 0
    pending = (
        Callback.objects.filter(status=CallbackStatus.TO_SCHEDULE)
        .select_related("customer", "client", "team__site", "case__site")
        .order_by("created_at")[:limit]
    )
    for callback in pending:
        first = (
            dt.datetime.fromisoformat(callback.proposed_times[0])
            if callback.proposed_times
            else None
        )
        floor = max(now, callback.next_attempt_not_before or now)
        if first is not None and first >= floor:
            continue
        times = [t.isoformat() for t in callback_proposals(callback=callback, now=now)]
        with transaction.atomic():
            refreshed += Callback.objects.filter(
                pk=callback.pk, status=CallbackStatus.TO_SCHEDULE
            ).update(proposed_times=times)
    return refreshed


def worker_probe(key: str, work_ms: int = 0) -> bool:
    """A unit of work with an effect that must exist once: `azukari worker --probe` and the
    worker tests send thousands to check that workers neither lose nor repeat work."""

    def effect() -> dict:
        if work_ms:
            time.sleep(work_ms / 1000)  # stands for real work, inside the transaction
        return {"pid": os.getpid()}

    ran, _result = run_once(f"probe:{key}", effect)
    return ran


def probe_enqueue(run: str, count: int, work_ms: int = 0) -> None:
    """Queues `count` probes in one INSERT: the same packages `async_task` builds, so the
    workers see ordinary tasks, without paying one round trip per task to queue them."""
    from django_q.conf import Conf
    from django_q.humanhash import uuid
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    now = timezone.now()
    rows = []
    for n in range(count):
        name, task_id = uuid()
        package = {
            "id": task_id,
            "name": name,
            "func": "azukari.cases.background.worker_probe",
            "args": (f"{run}:{n}", work_ms),
            "kwargs": {},
            "group": f"probe-{run}",
            "save": False,
            "ack_failure": Conf.ACK_FAILURES,
            "started": now,
        }
        rows.append(OrmQ(key=Conf.CLUSTER_NAME, payload=SignedPackage.dumps(package), lock=now))
    OrmQ.objects.bulk_create(rows, batch_size=2000)
