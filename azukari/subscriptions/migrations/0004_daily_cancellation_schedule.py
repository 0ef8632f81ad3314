"""Schedules the daily pass that cancels subscriptions once their decided cancellation took effect."""

import datetime as dt

from django.db import migrations

from azukari.core.schedules import daily


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0003_exception_requests_keep_the_terms"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        daily(
            "subscriptions: cancel subscriptions whose cancellation took effect",
            "azukari.subscriptions.tasks.subscriptions_cancel_due_task",
            at=dt.time(0, 10),
        )
    ]
