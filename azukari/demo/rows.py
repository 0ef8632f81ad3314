"""Fast inserts for generated data: explicit ids and executemany, past the ORM's per-row cost.

Values are converted the way Django's own backends store them, so the ORM reads the rows back
exactly as if it had written them.
"""

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.utils import timezone


class Ids:
    """Hands out primary keys above the current maximum of each table."""

    def __init__(self) -> None:
        self._next: dict[type[models.Model], int] = {}

    def take(self, model: type[models.Model], n: int) -> range:
        if model not in self._next:
            top = model.objects.aggregate(m=models.Max("pk"))["m"] or 0
            self._next[model] = max(top, _sqlite_sequence(model)) + 1
        start = self._next[model]
        self._next[model] = start + n
        return range(start, start + n)


def _sqlite_sequence(model: type[models.Model]) -> int:
    """SQLite's AUTOINCREMENT high mark: ids below it may be reserved (an import in progress)."""
    if connection.vendor != "sqlite":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
        row = cursor.fetchone()
    return row[0] if row else 0


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ")


def _converter(field: models.Field):
    sqlite = connection.vendor == "sqlite"
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if not sqlite:
        return None
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    if isinstance(field, models.DateField | models.TimeField):
        return lambda v: None if v is None else v.isoformat()
    return None


def _default(field: models.Field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if field.blank and isinstance(field, models.CharField | models.TextField):
        return ""
    raise ValueError(f"{field.model.__name__}.{field.name} needs a value")


def insert(model: type[models.Model], rows: Sequence[dict]) -> int:
    """INSERT rows given as {attname: value}; fields left out take their model default."""
    if not rows:
        return 0
    given = list(rows[0])
    fields = [f for f in model._meta.concrete_fields]
    by_attname = {f.attname: f for f in fields}
    unknown = set(given) - set(by_attname)
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    defaults = {f.attname: _default(f) for f in fields if f.attname not in given}
    order = [*given, *defaults]
    converters = [(i, conv) for i, a in enumerate(order) if (conv := _converter(by_attname[a]))]
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(by_attname[a].column) for a in order)
    marks = ", ".join(["%s"] * len(order))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
    tail = list(defaults.values())
    batch: list[list] = []
    for row in rows:
        values = [row[a] for a in given]
        values.extend(tail)
        for i, conv in converters:
            values[i] = conv(values[i])
        batch.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, batch)
    return len(batch)


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    """PostgreSQL sequences must follow the explicit ids; SQLite needs nothing."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
