"""A compiled query answers exactly what its ORM queryset answers, for every new value."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from azukari.core.compiled import CompiledQuery
from azukari.customers.models import Customer
from azukari.testing.factories import CustomerFactory

BY_NUMBER = CompiledQuery[Customer](
    lambda viewer, number: Customer.objects.visible_to(viewer).filter(customer_number=number)
)
BY_IDS = CompiledQuery[Customer](
    lambda ids: Customer.objects.select_related("client").filter(pk__in=ids).order_by("pk")
)


@pytest.fixture
def customers(cast):
    return [
        CustomerFactory(client=cast.coffee, customer_number="C-1"),
        CustomerFactory(client=cast.coffee, customer_number="C-2"),
        CustomerFactory(client=cast.tea, customer_number="C-1"),
    ]


def test_each_run_answers_for_its_own_values(cast, customers):
    assert BY_NUMBER(cast.operator, "C-1") == [customers[0]]
    assert BY_NUMBER(cast.operator, "C-2") == [customers[1]]
    assert BY_NUMBER(cast.operator, "C-3") == []
    assert BY_NUMBER.first(cast.operator, "C-2") == customers[1]
    assert BY_NUMBER.first(cast.operator, "C-3") is None


def test_the_visibility_door_still_applies(cast, customers):
    assert BY_NUMBER(cast.outsider, "C-1") == [customers[2]]  # tea only
    assert BY_NUMBER(cast.outsider, "C-2") == []
    cast.operator.clients.set([cast.coffee, cast.tea])
    both = type(cast.operator).objects.get(pk=cast.operator.pk)  # a fresh list of clients
    assert sorted(c.pk for c in BY_NUMBER(both, "C-1")) == [customers[0].pk, customers[2].pk]


def test_a_viewer_who_sees_no_client_gets_nothing_without_a_query(cast, customers):
    cast.operator.is_active = False
    with CaptureQueriesContext(connection) as queries:
        assert BY_NUMBER(cast.operator, "C-1") == []
    assert len(queries) == 0


def test_lists_of_any_length_and_related_rows(customers):
    assert BY_IDS([customers[0].pk]) == [customers[0]]
    found = BY_IDS([c.pk for c in customers])
    assert found == customers
    with CaptureQueriesContext(connection) as queries:
        assert [c.client.code for c in found] == ["coffee", "coffee", "tea"]
    assert len(queries) == 0  # select_related filled the client
    assert BY_IDS([]) == []


def test_runs_are_one_query_each(customers):
    BY_IDS([customers[0].pk])
    with CaptureQueriesContext(connection) as queries:
        BY_IDS([customers[1].pk])
    assert len(queries) == 1


def test_a_value_baked_into_the_sql_is_refused(customers):
    baked = CompiledQuery[Customer](
        lambda number: Customer.objects.filter(customer_number__in=["C-1"]).extra(
            where=[f"customer_number != '{number}'"]
        )
    )
    with pytest.raises(ValueError, match="parameter"):
        baked("C-9")


@pytest.mark.django_db(transaction=True)
def test_threads_each_use_their_own_connection(cast):
    CustomerFactory(client=cast.coffee, customer_number="T-1")
    assert BY_NUMBER(cast.operator, "T-1")  # compiled on this thread's connection
    found: list[list[Customer]] = []

    def pop() -> None:
        try:
            found.append(BY_NUMBER(cast.operator, "T-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=pop) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [len(f) for f in found] == [1, 1, 1]
