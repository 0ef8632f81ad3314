"""Exactly-once effects on top of at-least-once delivery.

django-q2 hands a task out again when its worker dies, so a task may run twice. A task whose
effect must exist once writes a receipt with a unique key in the same transaction as the
effect: a second run finds the receipt, skips the effect and counts itself as a duplicate.
Killed before commit, the effect and the receipt vanish together and the rerun does the work.
"""

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from azukari.org.models import TaskReceipt


def run_once(key: str, effect: Callable[[], dict[str, Any] | None]) -> tuple[bool, dict]:
    """Runs `effect` unless a receipt for `key` exists; returns (ran, result).

    `effect` runs inside the transaction that writes the receipt, so both commit or neither.
    """
    try:
        with transaction.atomic():
            receipt = TaskReceipt.objects.create(key=key, done_at=timezone.now())
            result = effect() or {}
            if result:
                TaskReceipt.objects.filter(pk=receipt.pk).update(result=result)
            return True, result
    except IntegrityError:
        # An earlier delivery of this task already did it (the unique index made this run
        # wait for that commit); count this run. A conflict inside the effect itself is not
        # ours to swallow.
        counted = TaskReceipt.objects.filter(key=key).update(duplicate_runs=F("duplicate_runs") + 1)
        if not counted:
            raise
        receipt = TaskReceipt.objects.get(key=key)
        return False, receipt.result


def duplicate_runs(prefix: str = "") -> int:
    """How many deliveries found their work already done, for keys starting with `prefix`."""
    total = TaskReceipt.objects.filter(key__startswith=prefix).aggregate(n=Sum("duplicate_runs"))
    return total["n"] or 0
