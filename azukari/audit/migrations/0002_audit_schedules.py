"""Schedules the audit sealing (every minute) and the incident deadline reminders (daily)."""

from django.db import migrations

SCHEDULES = [
    ("audit: seal pending events", "azukari.audit.tasks.audit_seal_pending", "I", 1),
    ("audit: incident report reminders", "azukari.audit.tasks.incidents_remind", "D", None),
]


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, kind, minutes in SCHEDULES:
        defaults = {"func": func, "schedule_type": kind, "repeats": -1}
        if minutes:
            defaults["minutes"] = minutes
        Schedule.objects.get_or_create(name=name, defaults=defaults)


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_audit_chain_confidentiality_retention"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
