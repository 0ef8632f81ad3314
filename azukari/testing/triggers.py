"""The database triggers on a table, as the tests that guard trigger-kept tallies read them."""

from django.db import connection

_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass",
}


def triggers_on(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(_SQL[connection.vendor], [table])
        return {name for (name,) in cursor.fetchall()}
