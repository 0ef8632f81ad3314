"""Schedules the webhook retries and the outbox sweep every minute (idempotent, by name)."""

from django.db import migrations

SCHEDULES = [
    ("azukari: retry due webhook deliveries", "azukari.api.tasks.webhooks_retry_due"),
    ("azukari: sweep outboxes into webhooks", "azukari.api.tasks.webhooks_sweep"),
]


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1},
        )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _func in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_api_tokens_and_webhooks"),
        ("django_q", "0016_schedule_intended_date_kwarg"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
