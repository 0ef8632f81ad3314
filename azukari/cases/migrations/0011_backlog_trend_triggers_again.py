"""Puts back the backlog trend's triggers on SQLite and recounts its days.

SQLite cannot add a column with a default to a table in place: Django rebuilds the table
(copy, drop, rename), and dropping it drops its triggers. 0010 added the system-text columns
to case events that way, so on SQLite the trend stopped following the case history. The
triggers of 0007 are made again and the days recounted from the events; PostgreSQL added the
columns in place and kept its trigger, so nothing changes there. A later column on case events
must do the same (or be nullable without a default, which SQLite adds in place).
"""

import importlib

from django.db import migrations

from azukari.core.migration_ops import RunSQLFor

TREND = importlib.import_module("azukari.cases.migrations.0007_backlog_trend_days")

SQLITE_FORWARD = [
    *TREND.SQLITE_BACKWARD,
    *TREND.SQLITE_FORWARD[:-1],
    "DELETE FROM cases_backlogtrendday",
    TREND.SQLITE_FORWARD[-1],
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_system_texts_as_codes"),
    ]

    operations = [RunSQLFor("sqlite", SQLITE_FORWARD, migrations.RunSQL.noop)]
