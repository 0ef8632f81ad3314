"""Reads that may lag go to the replica (reports, exports, the board's trend); the screen pop,
case moves and every write stay on the primary.

The replica here is a second connection (its own alias, its own session) to the test
database: what each alias ran is what reached each server. docs/topology.md measures a real
streaming replica in the failover drill.
"""

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from azukari.api.selectors import screen_pop
from azukari.cases.models import Case
from azukari.cases.moves import case_move
from azukari.cases.services import case_park
from azukari.core.dbrouting import REPLICA, primary_reads, replica_reads
from azukari.customers.models import Customer
from azukari.org.models import ClientLine, User
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

DIALLED = "0120-000-111"
WRITES = ("INSERT", "UPDATE", "DELETE")
LOCKS = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup):
    """The `replica` alias as DATABASE_REPLICA_URL would add it, on the test database."""
    if REPLICA in settings.DATABASES:  # the suite runs with a replica configured already
        yield
        return
    settings.DATABASES[REPLICA] = {
        **connections[DEFAULT_DB_ALIAS].settings_dict,
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
    }
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del settings.DATABASES[REPLICA]


@pytest.fixture
def coffee_case(cast) -> Case:
    from azukari.cases import services as cases

    customer = CustomerFactory(client=cast.coffee, phones=["+819012345678"])
    contact = cases.contact_log(
        actor=cast.operator, client=cast.coffee, customer=customer, caller_number="+819012345678"
    )
    return cases.case_open(
        contact=contact, actor=cast.operator, kind="cancellation", subject="Wants to cancel"
    )


class Seen:
    """What the primary and the replica each ran while the block was open."""

    def __enter__(self):
        self.primary = CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]).__enter__()
        self.replica = CaptureQueriesContext(connections[REPLICA]).__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    @staticmethod
    def _sql(captured) -> list[str]:
        return [q["sql"] for q in captured.captured_queries]

    def replica_read(self, table: str) -> bool:
        return any(f'"{table}"' in sql for sql in self._sql(self.replica))

    def primary_read(self, table: str) -> bool:
        return any(
            f'"{table}"' in sql and sql.startswith("SELECT") for sql in self._sql(self.primary)
        )

    def replica_wrote(self) -> list[str]:
        return [
            s for s in self._sql(self.replica) if s.startswith(WRITES) or any(k in s for k in LOCKS)
        ]


def test_the_monthly_report_reads_its_figures_from_the_replica(cast, coffee_case, client):
    client.force_login(cast.sv)
    with Seen() as seen:
        response = client.get(reverse("reports:client-monthly", args=["coffee"]))
    assert response.status_code == 200
    assert seen.replica_read("cases_case")
    assert not seen.primary_read("cases_case")
    assert not seen.replica_read("org_user"), "who may see what is read from the primary"
    assert not seen.replica_wrote()


def test_a_streamed_export_reads_from_the_replica_and_audits_on_the_primary(
    cast, coffee_case, client
):
    client.force_login(cast.desk)
    with Seen() as seen:
        response = client.get("/exports/coffee/?what=customers")
        body = b"".join(response.streaming_content).decode()
    assert coffee_case.customer.customer_number in body
    assert seen.replica_read("customers_customer")
    assert not seen.primary_read("customers_customer")
    assert not seen.replica_wrote()
    audit_writes = [q["sql"] for q in seen.primary.captured_queries if "INSERT" in q["sql"]]
    assert any("audit_" in sql for sql in audit_writes), "the export is audited on the primary"


def test_the_boards_trend_comes_from_the_replica_its_live_counts_from_the_primary(
    cast, coffee_case, client
):
    client.force_login(cast.sv)
    with Seen() as seen:
        response = client.get(reverse("backlog"))
    assert response.status_code == 200
    assert seen.replica_read("cases_backlogtrendday")
    assert seen.primary_read("cases_case"), "the board's counts are live"
    assert not seen.replica_read("cases_case")


def test_the_screen_pop_and_a_case_move_never_read_the_replica(cast, coffee_case, client):
    client.force_login(cast.operator)
    ClientLine.objects.create(client=cast.coffee, number="+81120000111")
    case = case_park(
        case=coffee_case,
        version=coffee_case.version,
        actor=cast.operator,
        reason="investigation",
        team=cast.sapporo_desk,
    )
    with Seen() as seen:
        pop = client.get(reverse("desk-pop", args=[coffee_case.customer_id]))
        with replica_reads():  # even where a caller asks for replica reads
            popped = screen_pop(
                viewer=cast.operator, dialled_number=DIALLED, caller_number="090-1234-5678"
            )
            moved = case_move(
                case=case,
                version=case.version,
                actor=cast.sv,
                team=cast.osaka_desk,
                kind="assigned",
            )
    assert pop.status_code == 200
    assert [c.pk for c in popped.matches] == [coffee_case.customer_id]
    assert moved.owner_team == cast.osaka_desk
    assert seen.primary_read("customers_customer")
    assert seen.primary_read("cases_case")
    assert seen.replica.captured_queries == []


def test_a_row_read_from_the_replica_is_saved_and_refreshed_on_the_primary(cast, coffee_case):
    with replica_reads():
        customer = Customer.objects.get(pk=coffee_case.customer_id)
    assert customer._state.db == REPLICA
    customer.family_name = "Renamed"
    with Seen() as seen:
        customer.save(update_fields=["family_name"])
        customer.refresh_from_db()
    assert seen.replica.captured_queries == []
    assert customer.family_name == "Renamed"


def test_where_the_replica_is_never_read(cast, monkeypatch):
    with replica_reads():
        assert Case.objects.all().db == REPLICA
        assert User.objects.all().db == DEFAULT_DB_ALIAS, "who may see what"
        with primary_reads():
            assert Case.objects.all().db == DEFAULT_DB_ALIAS
        with transaction.atomic():
            assert Case.objects.all().db == DEFAULT_DB_ALIAS
    assert Case.objects.all().db == DEFAULT_DB_ALIAS, "only when asked"
    monkeypatch.delitem(settings.DATABASES, REPLICA)  # DATABASE_REPLICA_URL not set
    with replica_reads():
        assert Case.objects.all().db == DEFAULT_DB_ALIAS
