"""A compiled query answers exactly what its ORM queryset answers, for every new value."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from azukari.cases.models import Case
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


def test_a_lookup_whose_parameter_is_not_the_value_is_refused_when_compiled(customers):
    """`iexact` binds the value escaped for LIKE: a bound `A_1` would also match `AB1`."""
    like = CompiledQuery[Customer](
        lambda number: Customer.objects.filter(customer_number__iexact=number)
    )
    with pytest.raises(ValueError, match="exact or in"):
        like("C_1")


def test_an_id_beyond_the_columns_range_matches_nothing(customers):
    assert BY_IDS([99999999999999999999]) == []
    assert BY_IDS([customers[0].pk, 99999999999999999999]) == [customers[0]]
    by_pk = CompiledQuery[Customer](lambda pk: Customer.objects.filter(pk=pk))
    assert by_pk(customers[1].pk) == [customers[1]]
    assert by_pk(-(10**20)) == []


class _ReadsGoElsewhere:
    def __init__(self):
        self.asked: list[str] = []

    def db_for_read(self, model, **hints):
        self.asked.append(model.__name__)
        return "default"


def test_the_database_router_chooses_where_it_reads(customers, monkeypatch):
    from django.db import router

    recorder = _ReadsGoElsewhere()
    monkeypatch.setattr(router, "routers", [recorder])
    by_number = CompiledQuery[Customer](
        lambda number: Customer.objects.filter(customer_number=number)
    )
    assert by_number("C-2") == [customers[1]]
    assert by_number("C-9") == []
    assert recorder.asked.count("Customer") >= 2


def test_an_out_of_range_customer_id_in_the_address_is_not_found(client, cast, customers):
    client.force_login(cast.operator)
    assert client.get(f"/desk/customers/{customers[0].pk}/").status_code == 200
    assert client.get("/desk/customers/99999999999999999999/").status_code == 404


def test_a_foreign_key_value_is_checked_against_its_targets_range(cast, customers):
    """A foreign key's column holds its target's integer type: the range check reads that,
    on every database (PostgreSQL names no range for "ForeignKey" itself)."""
    by_client = CompiledQuery[Customer](
        lambda client_id: Customer.objects.filter(client_id=client_id)
    )
    assert {c.client_id for c in by_client(cast.coffee.pk)} == {cast.coffee.pk}
    assert list(by_client(2**70)) == []


CASES_OF = CompiledQuery(
    lambda viewer, customer_id: Case.objects.visible_to(viewer).filter(
        customer_id=customer_id, state__in=["open", "azukari"]
    ),
    sqlite_index="case_by_customer",
)


def test_an_index_named_for_sqlite_is_the_one_read(cast, customers):
    with CaptureQueriesContext(connection) as queries:
        assert CASES_OF(cast.operator, customers[0].pk) == []
        assert CASES_OF(cast.outsider, customers[0].pk) == []
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "cases_case"' in q["sql"]]
    hinted = ['INDEXED BY "case_by_customer"' in sql for sql in reads]
    assert hinted == [connection.vendor == "sqlite"] * 2
