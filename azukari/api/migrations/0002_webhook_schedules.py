"""Schedules the webhook retry and case-history sweep tasks every minute."""

from django.db import migrations

SCHEDULES = [
    ("webhooks: retry due deliveries", "azukari.api.tasks.webhooks_retry_due"),
    ("webhooks: sweep outboxes", "azukari.api.tasks.webhooks_sweep"),
]


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        Schedule.objects.get_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1},
        )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _func in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_api_tokens_and_webhooks"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
