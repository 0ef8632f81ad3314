"""Opening a case from a call and parking it is what a floor does all day: the services, the
case page and the park form each read and write a known number of times, and parking reads
only what parking needs."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from azukari.cases import services as cases
from azukari.cases.models import AzukariReason, CaseKind, CaseState
from azukari.core.businesstime import TOKYO
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription

NOW = dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO)  # a Tuesday morning
# The screen pop and the contact form posted with a case to open, whole (session, user and
# second factor included): they must not grow back.
POP_QUERIES = 21
OPEN_QUERIES = 14


@pytest.fixture(autouse=True)
def tuesday_morning():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def story(cast):
    coffee_policy(cast.coffee)
    return story_subscription(cast.coffee, started_on=dt.date(2026, 9, 1))


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The SQL run, without the savepoints of the test's own transaction."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def tables_read(sql: list[str]) -> list[str]:
    return [re.search(r'FROM "(\w+)"', s).group(1) for s in sql if s.startswith("SELECT")]


def test_opening_and_parking_write_and_read_only_what_they_must(cast, story):
    contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=story.customer)
    with CaptureQueriesContext(connection) as opened:
        case = cases.case_open(
            contact=contact,
            actor=cast.operator,
            kind=CaseKind.CANCELLATION,
            subject="Wants to cancel",
            subscription=story,
        )
    # The open case about the same subscription, the case, the contact, the history.
    assert len(statements(opened)) == 4, statements(opened)

    with CaptureQueriesContext(connection) as parked:
        case = cases.case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason=AzukariReason.CLIENT_DECISION,
            team=cast.sapporo_desk,
            due_at=NOW + dt.timedelta(days=2),
        )
    sql = statements(parked)
    # The team serves the client, its site is up; the move, its history entry, the two
    # tasks it queues (webhook, clocks) and the case read back. The team's site is not read.
    assert len(sql) == 7, sql
    assert tables_read(sql).count("org_site") == 1
    assert case.state == CaseState.AZUKARI


def _open(cast, story):
    contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=story.customer)
    return cases.case_open(
        contact=contact,
        actor=cast.operator,
        kind=CaseKind.CANCELLATION,
        subject="Wants to cancel",
        subscription=story,
    )


def test_the_case_page_reads_each_thing_once(client, cast, story):
    case = _open(cast, story)
    client.force_login(cast.operator)
    client.get(reverse("desk-case", args=[case.pk]))  # the session's first request
    with CaptureQueriesContext(connection) as page:
        response = client.get(reverse("desk-case", args=[case.pk]))
    assert response.status_code == 200
    read = tables_read(statements(page))
    for table in (
        "cases_case",
        "cases_caseevent",
        "cases_contact",
        "cases_inquiry",
        "cases_callback",
        "org_team",
    ):
        assert read.count(table) == 1, (table, read)
    assert read.count("subscriptions_cancellationrequest") == 1, read
    assert len(statements(page)) <= 20, statements(page)


def test_parking_reads_the_case_not_the_page(client, cast, story):
    case = _open(cast, story)
    client.force_login(cast.operator)
    html = client.get(reverse("desk-case", args=[case.pk])).content.decode()
    seen = re.search(r'name="park-seen_event" value="(\d*)"', html).group(1)
    with CaptureQueriesContext(connection) as posted:
        response = client.post(
            reverse("desk-case", args=[case.pk]),
            {
                "action": "park",
                "park-version": case.version,
                "park-seen_event": seen,
                "park-reason": AzukariReason.CLIENT_DECISION,
                "park-team": cast.sapporo_desk.pk,
                "park-due_at": "2026-10-22T10:00",
                "park-note": "Told the customer we ask the company",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("desk-case", args=[case.pk])
    read = tables_read(statements(posted))
    # None of the page's history, calls, inquiries or callbacks before parking.
    for table in ("cases_caseevent", "cases_contact", "cases_inquiry", "cases_callback"):
        assert table not in read, (table, read)
    assert read.count("org_team") == 1, read
    case.refresh_from_db()
    assert case.state == CaseState.AZUKARI
    assert case.owner_team == cast.sapporo_desk


def test_a_refused_park_shows_the_whole_page_with_the_reason(client, cast, story):
    case = _open(cast, story)
    client.force_login(cast.operator)
    response = client.post(
        reverse("desk-case", args=[case.pk]),
        {
            "action": "park",
            "park-version": case.version,
            "park-reason": AzukariReason.CLIENT_DECISION,
            "park-team": cast.sapporo_desk.pk,
            "park-due_at": "2026-10-19T10:00",  # yesterday
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="case-history"' in body and 'id="park-form"' in body
    case.refresh_from_db()
    assert case.state == CaseState.OPEN


def test_a_team_not_offered_is_refused(client, cast, story):
    case = _open(cast, story)
    client.force_login(cast.operator)
    response = client.post(
        reverse("desk-case", args=[case.pk]),
        {
            "action": "park",
            "park-version": case.version,
            "park-reason": AzukariReason.CLIENT_DECISION,
            "park-team": 999_999,
        },
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.state == CaseState.OPEN


def test_the_pop_reads_the_customer_s_open_cases_by_the_customer(client, cast, story):
    case = _open(cast, story)
    client.force_login(cast.operator)
    url = reverse("desk-pop", args=[story.customer_id])
    client.get(url)  # the session's first request
    with CaptureQueriesContext(connection) as pop:
        response = client.get(url)
    assert response.status_code == 200
    assert f'id="open-case-{case.pk}"' in response.content.decode()
    sql = statements(pop)
    scoped = [s for s in sql if s.startswith("SELECT") and 'FROM "cases_case"' in s]
    assert scoped, sql
    if connection.vendor == "sqlite":  # never by walking the client's open cases
        assert all('INDEXED BY "case_by_customer"' in s for s in scoped if '"client_id" IN' in s)
    assert len(sql) <= POP_QUERIES, sql


def test_logging_the_call_and_opening_the_case_reads_each_thing_once(client, cast, story):
    client.force_login(cast.operator)
    url = reverse("desk-pop", args=[story.customer_id])
    client.get(url)
    with CaptureQueriesContext(connection) as posted:
        response = client.post(
            url,
            {
                "caller_relation": "holder",
                "identity_check": "verified",
                "summary": "Wants to cancel",
                "kind": CaseKind.CANCELLATION,
                "subject": "Wants to cancel",
            },
        )
    assert response.status_code == 302
    read = tables_read(statements(posted))
    for table in ("customers_customer", "subscriptions_subscription", "cases_case"):
        assert read.count(table) == 1, (table, read)
    assert len(statements(posted)) <= OPEN_QUERIES, statements(posted)
