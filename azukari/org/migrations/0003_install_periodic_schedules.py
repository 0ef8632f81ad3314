"""Installs the worker's periodic schedules (idempotent: updates them by name)."""

from django.db import migrations

SCHEDULES = [
    # name, function, every N minutes
    ("azukari: remind approvers of inquiries soon due", "azukari.cases.background.inquiries_remind", 5),
    ("azukari: escalate overdue inquiries", "azukari.cases.background.inquiries_escalate", 5),
    ("azukari: propose callback times", "azukari.cases.background.callbacks_propose", 10),
    ("azukari: close cases past their reopen window", "azukari.cases.tasks.cases_close_expired", 60),
]


def install(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1},
        )


def remove(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _f, _m in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_failover_moves_task_receipts_client_policy"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(install, remove)]
