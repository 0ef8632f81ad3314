"""Schedules the sweep that marks killed imports abandoned and drops their staged rows."""

from django.db import migrations

NAME = "dataio: sweep abandoned imports"
FUNC = "azukari.dataio.tasks.import_journal_sweep_task"
MINUTES = 15


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": FUNC, "schedule_type": "I", "minutes": MINUTES, "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dataio", "0001_import_journal_and_staging"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
