"""Writing SQLite's customer search entries ahead of a bulk insert, so the insert is short.

SQLite has one writer at a time. Filling the FTS5 trigram index is most of the cost of
inserting customers, so an import that let the trigger do it inside its final write would make
every operator's save wait for it. Instead the import reserves the new customers' ids, writes
their entries in its short staging steps, and inserts the rows with the trigger paused. An
entry whose row never arrives matches no customer, and is removed when the import is dropped.
PostgreSQL's trigram index needs none of this: its writers do not wait on each other.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from azukari.customers.models import Customer, SearchIndexPause
from azukari.customers.search import FTS_TABLE


def written_ahead() -> bool:
    """Whether this database's search index is filled ahead of bulk inserts."""
    return connection.vendor == "sqlite"


def customer_ids_reserve(n: int) -> range:
    """Ids no other writer will take: SQLite's AUTOINCREMENT never hands out a lower one.

    Call inside the transaction that records the ids, so that a rollback releases them.
    """
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        top = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, %s) + %s WHERE name = %s", [top, n, table]
        )
        if cursor.rowcount == 0:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top + n]
            )
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        end = cursor.fetchone()[0]
    return range(end - n + 1, end + 1)


def search_entries_add(entries: Sequence[tuple[int, str]]) -> None:
    """(customer id, search text) pairs, for rows that are about to be inserted."""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, search_text) VALUES (%s, %s)", list(entries)
        )


def search_entries_remove(entries: Sequence[tuple[int, str]]) -> None:
    """Takes back entries written ahead for rows that never arrived; the text must be the
    one written, as FTS5 external-content tables require."""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, search_text) VALUES ('delete', %s, %s)",
            list(entries),
        )


@contextmanager
def insert_trigger_paused() -> Iterator[None]:
    """Inside the caller's transaction: inserts made meanwhile do not add search entries.
    Other connections never see the pause, since it is gone before the transaction commits."""
    pause = SearchIndexPause.objects.create(started_at=timezone.now())
    yield  # on an error the caller's rollback takes the pause away with everything else
    SearchIndexPause.objects.filter(pk=pause.pk).delete()
