"""Schedules the daily backlog snapshot, taken just before the day ends in the center's time zone."""

import datetime as dt

from django.db import migrations

from azukari.core.schedules import daily


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_contact_codes_and_backlog_snapshots"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        daily(
            "reports: daily backlog snapshot",
            "azukari.reports.tasks.backlog_snapshot_daily",
            at=dt.time(23, 55),
        )
    ]
