"""Every list page and board answers in the same number of queries with 3 rows or 30.

The boards and the desk have their own query-count tests next to their stories; these are the
remaining lists: cases, overdue cancellation requests, named-staff requests, agreements.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from azukari.audit.tests.conftest import open_case
from azukari.cases.models import Case
from azukari.floor import services as floor
from azukari.floor.tests.factories import contact, criterion, login_verified, parked_case
from azukari.org.models import Role
from azukari.subscriptions.services.cancellations import cancellation_request_record
from azukari.subscriptions.tests.factories import (
    cancellation_call,
    coffee_policy,
    story_subscription,
)
from azukari.testing.factories import CustomerFactory, UserFactory


def _count(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grows(browser, url: str, add) -> tuple[int, int]:
    add(3)
    few = _count(browser, url)
    add(27)
    return few, _count(browser, url)


@pytest.mark.parametrize(
    "query", ["", "?state=azukari", "?reason=investigation", "?open=1", "?after=bad"]
)
def test_the_case_list(cast, client, query):
    def add(n):
        for i in range(n):
            parked_case(
                client=cast.coffee,
                operator=cast.operator,
                team=cast.sapporo_desk,
                subject=f"Case {i}",
            )
            open_case(client=cast.coffee, operator=cast.operator, phone=f"+81901111{i:04d}")

    client.force_login(cast.sv)
    few, many = _grows(client, reverse("case-list") + query, add)
    assert few == many


def test_overdue_cancellation_requests(cast, client):
    coffee_policy(cast.coffee)
    long_ago = timezone.now() - dt.timedelta(days=60)

    def add(n):
        for i in range(n):
            subscription = story_subscription(
                cast.coffee,
                started_on=long_ago.date() - dt.timedelta(days=45),
                customer=CustomerFactory(client=cast.coffee, phones=[f"+81902222{i:04d}"]),
            )
            with time_machine.travel(long_ago, tick=False):
                case = cancellation_call(actor=cast.operator, subscription=subscription)
                cancellation_request_record(actor=cast.operator, case=case)

    client.force_login(cast.desk)
    url = reverse("backlog-list", args=["cancellations"])
    few, many = _grows(client, url, add)
    assert few == many
    assert client.get(reverse("backlog")).context["cancellation_count"] == 30


def test_named_staff_requests(cast, client):
    def add(n):
        for i in range(n):
            case = open_case(client=cast.coffee, operator=cast.operator, phone=f"+81903333{i:04d}")
            client.force_login(cast.operator)
            client.post(reverse("case-named-staff", args=[case.pk]))

    def count_as_sv():
        client.force_login(cast.sv)
        return _count(client, reverse("named-staff-report"))

    add(3)
    few = count_as_sv()
    add(27)
    assert few == count_as_sv()


def test_the_agreement_register(cast, client):
    manager = UserFactory(role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee])
    login_verified(client, manager)

    def add(n):
        for _ in range(n):
            UserFactory(role=Role.OPERATOR, home_site=cast.sapporo, clients=[cast.coffee])

    few, many = _grows(client, reverse("agreement-register"), add)
    assert few == many


def test_the_case_list_pages_keep_the_open_azukari_filter(cast, client):
    for i in range(30):
        parked_case(
            client=cast.coffee, operator=cast.operator, team=cast.sapporo_desk, subject=f"C{i}"
        )
    client.force_login(cast.sv)
    body = client.get(reverse("case-list") + "?open=1").content.decode()
    assert "&amp;open=1&amp;after=" in body
    assert '<input type="hidden" name="open" value="1">' in body


def _link(body: str, name: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*&amp;{name}=[^"]*)"', body)
    return reverse("case-list") + found.group(1).replace("&amp;", "&") if found else None


def test_the_case_list_pages_by_keyset_without_counting_or_reading_passwords(cast, client):
    """Newest first; "next" continues after the last row, "previous" comes back; the
    same queries on every page, none of them a COUNT or a read of the password hash."""
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(20):
        with time_machine.travel(start + dt.timedelta(minutes=i // 2), tick=False):  # ties
            parked_case(
                client=cast.coffee, operator=cast.operator, team=cast.sapporo_desk, subject=f"P{i}"
            )
            open_case(client=cast.coffee, operator=cast.operator, phone=f"+81903333{i:04d}")
    client.force_login(cast.sv)
    url = reverse("case-list")
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(url)
    second_url = _link(first.content.decode(), "after")
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(second_url)
    assert _link(first.content.decode(), "before") is None
    assert _link(second.content.decode(), "after") is None
    newest = list(
        Case.objects.filter(client=cast.coffee).order_by("-opened_at", "-id").values_list("pk")
    )
    shown = [c.pk for c in first.context["page"].rows] + [c.pk for c in second.context["page"].rows]
    assert len(first.context["page"].rows) == 25
    assert shown == [pk for (pk,) in newest] and len(shown) == 40
    back = client.get(_link(second.content.decode(), "before"))
    assert [c.pk for c in back.context["page"].rows] == shown[:25]
    assert len(first_queries) == len(second_queries)
    sql = " ".join(q["sql"] for q in first_queries.captured_queries).lower()
    assert "count(" not in sql and "password" not in sql

    azukari = client.get(url + "?open=1")
    parked = [c for c in azukari.context["page"].rows]
    assert len(parked) == 20 and all(c.subject.startswith("P") for c in parked)
    assert _link(azukari.content.decode(), "after") is None


def test_a_notice_s_readers_and_non_readers(cast, client):
    notice = floor.notice_publish(actor=cast.sv, client=cast.coffee, title="New script", body="Use")

    def add(n):
        for i in range(n):
            reader = UserFactory(role=Role.OPERATOR, home_site=cast.sapporo, clients=[cast.coffee])
            UserFactory(role=Role.OPERATOR, home_site=cast.osaka, clients=[cast.coffee])
            if i % 2:
                floor.notice_confirm_read(actor=reader, notice=notice)

    client.force_login(cast.sv)
    few, many = _grows(client, reverse("notice", args=[notice.pk]), add)
    assert few == many


def test_the_floor_board_s_ended_calls_and_flagged_customers(cast, client):
    rule = criterion(cast.coffee)

    def add(n):
        for _ in range(n):
            call = contact(client=cast.coffee, handler=cast.operator)
            floor.call_end_under_criterion(
                actor=cast.operator, contact=call, criterion=rule, flag_customer=True
            )

    client.force_login(cast.sv)
    few, many = _grows(client, reverse("floor"), add)
    assert few == many
