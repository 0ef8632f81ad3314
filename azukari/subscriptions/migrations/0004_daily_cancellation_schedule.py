"""Schedules the daily pass that cancels subscriptions once their decided cancellation took effect."""

import datetime as dt

from django.conf import settings
from django.db import migrations
from zoneinfo import ZoneInfo

NAME = "subscriptions: cancel subscriptions whose cancellation took effect"
FUNC = "azukari.subscriptions.tasks.subscriptions_cancel_due_task"
AT = dt.time(0, 10)  # local time of the center


def _next_run() -> dt.datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    now = dt.datetime.now(zone)
    run = dt.datetime.combine(now.date(), AT, tzinfo=zone)
    return run if run > now else run + dt.timedelta(days=1)


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={"func": FUNC, "schedule_type": "D", "repeats": -1, "next_run": _next_run()},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0003_exception_requests_keep_the_terms"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
