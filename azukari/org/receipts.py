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

    The effect and its receipt commit together or not at all. A run that finds the receipt
    rolls its effect back when the receipt's unique key refuses it (if both run at the same
    moment, the second waits for the first's commit first). So `effect` must only
    write to the database (mail and webhooks go through their own idempotent paths).
    """
    try:
        with transaction.atomic():
            result = effect() or {}
            TaskReceipt.objects.create(key=key, done_at=timezone.now(), result=result)
            return True, result
    except IntegrityError:
        if not TaskReceipt.objects.filter(key=key).exists():
            raise  # a conflict inside the effect itself is not ours to swallow
        return False, _count_duplicate(key)


def _count_duplicate(key: str) -> dict:
    TaskReceipt.objects.filter(key=key).update(duplicate_runs=F("duplicate_runs") + 1)
    return TaskReceipt.objects.filter(key=key).values_list("result", flat=True).first() or {}


def duplicate_runs(prefix: str = "") -> int:
    """How many deliveries found their work already done, for keys starting with `prefix`."""
    total = TaskReceipt.objects.filter(key__startswith=prefix).aggregate(n=Sum("duplicate_runs"))
    return total["n"] or 0
