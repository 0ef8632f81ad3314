"""The SV floor board: long calls, joining and taking over, calls ended under criteria."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from azukari.cases.models import Contact
from azukari.core.errors import IllegalTransition, PermissionRefused
from azukari.floor import services
from azukari.floor.models import CallEnding, FloorIntervention, FloorThreshold, InterventionKind
from azukari.floor.tests.factories import contact, criterion


def _call(cast, minutes_ago: int, client=None, handler=None) -> Contact:
    return contact(
        client=client or cast.coffee,
        handler=handler or cast.operator,
        started_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_calls_past_the_threshold_show_and_the_board_polls(cast, client):
    long = _call(cast, 25)
    _call(cast, 5)
    client.force_login(cast.sv)
    response = client.get(reverse("floor"))
    assert [c.pk for c in response.context["calls"]] == [long.pk]
    body = response.content.decode()
    assert 'hx-trigger="every 10s"' in body and 'hx-get="/floor/"' in body
    partial = client.get(reverse("floor"), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert [c.pk for c in partial.context["calls"]] == [long.pk]


def test_each_client_can_set_its_own_threshold(cast, client):
    FloorThreshold.objects.create(client=cast.coffee, minutes=5)
    short = _call(cast, 7)
    client.force_login(cast.sv)
    assert [c.pk for c in client.get(reverse("floor")).context["calls"]] == [short.pk]


def test_an_sv_joins_then_takes_over_and_both_are_recorded(cast, client):
    call = _call(cast, 30)
    client.force_login(cast.sv)
    response = client.post(reverse("floor-contact-join", args=[call.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    client.post(reverse("floor-contact-take-over", args=[call.pk]))
    kinds = list(FloorIntervention.objects.filter(contact=call).values_list("kind", "by"))
    assert kinds == [(InterventionKind.JOIN, cast.sv.pk), (InterventionKind.TAKE_OVER, cast.sv.pk)]
    call.refresh_from_db()
    assert call.handler == cast.sv
    taken = FloorIntervention.objects.get(contact=call, kind=InterventionKind.TAKE_OVER)
    assert taken.previous_handler == cast.operator


def test_an_operator_cannot_take_over_and_an_ended_call_cannot_be_joined(cast):
    call = _call(cast, 30)
    with pytest.raises(PermissionRefused):
        services.contact_take_over(actor=cast.operator, contact=call)
    Contact.objects.filter(pk=call.pk).update(ended_at=timezone.now())
    with pytest.raises(IllegalTransition):
        services.contact_join(actor=cast.sv, contact=call)
    assert not FloorIntervention.objects.exists()


def test_a_call_ended_under_a_criterion_flags_the_customer_for_the_desk(cast, client):
    rule = criterion(cast.coffee)
    call = _call(cast, 25)
    client.force_login(cast.operator)
    response = client.post(
        reverse("floor-call-end", args=[call.pk]),
        {
            f"c{call.pk}-criterion": rule.pk,
            f"c{call.pk}-note": "Shouted",
            f"c{call.pk}-flag_customer": "on",
        },
    )
    assert response.status_code == 302
    ending = CallEnding.objects.get(contact=call)
    assert ending.criterion == rule and ending.by == cast.operator and ending.customer_flagged
    call.refresh_from_db()
    assert call.ended_at is not None and call.customer.harassment_flag
    client.force_login(cast.desk)
    body = client.get(reverse("floor")).content.decode()
    assert rule.label in body and call.customer.customer_number in body
    with pytest.raises(IllegalTransition):
        services.call_end_under_criterion(actor=cast.sv, contact=call, criterion=rule)


def test_another_client_s_criterion_is_refused(cast):
    tea_rule = criterion(cast.tea)
    call = _call(cast, 25)
    with pytest.raises(Exception) as exc:
        services.call_end_under_criterion(actor=cast.operator, contact=call, criterion=tea_rule)
    assert getattr(exc.value, "field", None) == "criterion"
    assert not CallEnding.objects.exists()


def test_only_the_operator_on_the_call_or_a_supervisor_ends_it(cast):
    rule = criterion(cast.coffee)
    call = _call(cast, 25, handler=cast.sv)
    with pytest.raises(PermissionRefused):
        services.call_end_under_criterion(actor=cast.operator, contact=call, criterion=rule)
    call.refresh_from_db()
    assert call.ended_at is None and not CallEnding.objects.exists()


def test_outsiders_get_404_and_wrong_methods_405(cast, client):
    call = _call(cast, 30)
    rule = criterion(cast.coffee)
    for person in (cast.outsider, cast.tea_approver):
        client.force_login(person)
        for name in ("floor-contact-join", "floor-contact-take-over", "floor-call-end"):
            response = client.post(
                reverse(name, args=[call.pk]), {f"c{call.pk}-criterion": rule.pk}
            )
            assert response.status_code in (404, 302)  # 302: an approver's second factor
    client.force_login(cast.outsider)
    assert client.post(reverse("floor-contact-join", args=[call.pk])).status_code == 404
    assert not FloorIntervention.objects.exists() and not CallEnding.objects.exists()
    client.force_login(cast.sv)
    assert client.get(reverse("floor-contact-join", args=[call.pk])).status_code == 405
    assert client.post(reverse("floor")).status_code == 405
    client.force_login(cast.outsider)
    assert client.get(reverse("floor")).context["calls"] == []


def test_form_fields_are_labelled(cast, client):
    criterion(cast.coffee)
    call = _call(cast, 30)
    client.force_login(cast.sv)
    body = client.get(reverse("floor")).content.decode()
    for field in ("criterion", "note", "flag_customer"):
        assert f'<label for="id_c{call.pk}-{field}"' in body


def test_query_count_does_not_grow_with_calls(cast, client):
    criterion(cast.coffee)
    client.force_login(cast.sv)

    def add(n):
        for _ in range(n):
            call = _call(cast, 40)
            services.contact_join(actor=cast.sv, contact=call)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("floor")).status_code == 200
        return len(ctx.captured_queries)

    add(3)
    few = count()
    add(27)
    assert count() == few


def test_the_board_follows_the_clock(cast, client):
    call = _call(cast, 10)
    client.force_login(cast.sv)
    assert client.get(reverse("floor")).context["calls"] == []
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=15)):
        client.force_login(cast.sv)
        assert [c.pk for c in client.get(reverse("floor")).context["calls"]] == [call.pk]


def test_long_calls_are_oldest_first_and_read_only_calls_in_progress(cast):
    from azukari.web.pages.floor import long_calls

    calls = [_call(cast, minutes) for minutes in (40, 90, 25, 60)]
    ended = _call(cast, 120)
    Contact.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        shown = long_calls(viewer=cast.sv, now=timezone.now())
    assert [c.pk for c in shown] == [c.pk for c in sorted(calls, key=lambda c: c.answered_at)]
    if connection.vendor == "sqlite":  # the partial index of calls in progress, no sort
        sql = next(q["sql"] for q in queries if "cases_contact" in q["sql"])
        plan = str(connection.cursor().execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        assert "contact_in_progress" in plan and "TEMP B-TREE" not in plan
