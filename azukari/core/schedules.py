"""Worker schedules installed by data migrations, so a fresh database already has them."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations


def _next_run(at: dt.time) -> dt.datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    now = dt.datetime.now(zone)
    run = dt.datetime.combine(now.date(), at, tzinfo=zone)
    return run if run > now else run + dt.timedelta(days=1)


def daily(name: str, func: str, at: dt.time) -> migrations.RunPython:
    """A schedule that runs `func` once a day at `at`, the center's local time (idempotent)."""

    def add(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.get_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "D", "repeats": -1, "next_run": _next_run(at)},
        )

    def remove(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(name=name).delete()

    return migrations.RunPython(add, remove)
