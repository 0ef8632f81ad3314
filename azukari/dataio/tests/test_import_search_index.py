"""On SQLite an import's new customers get their search entries as they are written, hidden,
in short steps: the entries must end up exactly those of the live rows, whether the import
lands or not."""

import pytest
from django.db import DatabaseError, connection

from azukari.customers.models import Customer, HiddenImport
from azukari.customers.search import FTS_TABLE, customer_search
from azukari.dataio.models import StagedCustomer
from azukari.dataio.services import import_run, import_start
from azukari.testing.factories import CustomerFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'sqlite'"),
]

HEADER = ["顧客番号", "姓", "名", "セイ", "メイ", "電話番号"]


def search_index_matches_rows() -> bool:
    """FTS5's own check against the customers table: a stray or missing entry fails it."""
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rank) VALUES ('integrity-check', 1)"
            )
        except DatabaseError:
            return False
    return True


def run(path, client):
    return import_run(batch=import_start(actor=None, client=client, kind="customers", path=path))


def test_landed_import_is_found_by_search_and_its_index_is_exact(cast, client_file):
    before = CustomerFactory(client=cast.coffee, customer_number="OLD1", family_name="古川")
    rows = [HEADER, ["N001", "髙橋", "一郎", "ﾀｶﾊｼ", "ｲﾁﾛｳ", "090-1111-2222"]]
    rows.append(["OLD1", "古川", "改", "ﾌﾙｶﾜ", "ｶｲ", "090-3333-4444"])
    batch = run(client_file(rows), cast.coffee)

    assert (batch.status, batch.created, batch.updated) == ("done", 1, 1)
    new = Customer.objects.get(customer_number="N001")
    assert new.pk > before.pk
    assert list(customer_search(viewer=cast.operator, query="たかはし")) == [new]
    assert list(customer_search(viewer=cast.operator, query="ふるかわかい")) == [before]
    assert search_index_matches_rows()
    assert not HiddenImport.objects.exists()
    # Later writers get ids above the imported ones and are indexed by the trigger again.
    later = CustomerFactory(client=cast.coffee, customer_number="N002", family_name="髙橋")
    assert later.pk > new.pk
    assert search_index_matches_rows()


def test_refused_import_takes_back_the_entries_of_its_hidden_rows(cast, client_file):
    rows = [HEADER, ["N001", "髙橋", "一郎", "ﾀｶﾊｼ", "ｲﾁﾛｳ", "090-1111-2222"]]
    rows.append(["N001", "髙橋", "一郎", "ﾀｶﾊｼ", "ｲﾁﾛｳ", "090-1111-2222"])  # found after staging
    batch = run(client_file(rows), cast.coffee)

    assert batch.status == "failed"
    assert not Customer.objects.exists()
    assert not StagedCustomer.objects.exists()
    assert search_index_matches_rows()
    fixed = run(client_file(rows[:2], name="fixed.csv"), cast.coffee)
    assert fixed.status == "done"
    assert list(customer_search(viewer=cast.operator, query="髙橋一郎")) == [
        Customer.objects.get(customer_number="N001")
    ]
    assert search_index_matches_rows()
