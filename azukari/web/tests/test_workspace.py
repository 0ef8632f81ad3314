"""The case workspace as the desk, SVs and operators use it: every daily action is a form on
the case's page, goes through its service, says that it worked, and refuses bad input with
the reason and nothing changed."""

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from azukari.cases import services as cases
from azukari.cases.models import (
    AzukariReason,
    Callback,
    CallbackStatus,
    Case,
    CaseKind,
    CaseState,
    Contact,
    Inquiry,
    InquiryStatus,
)
from azukari.core.businesstime import TOKYO
from azukari.subscriptions.models import CancellationRequest
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
from azukari.testing.times import callable_time

# A Tuesday morning in Tokyo, not a public holiday.
NOW = dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO)
SUNDAY_AFTERNOON = dt.datetime(2026, 10, 25, 14, 0, tzinfo=TOKYO)


@pytest.fixture(autouse=True)
def tuesday_morning():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def english(cast):
    """The people of the story read the pages in English, so the tests can quote them."""
    for person in (cast.operator, cast.desk, cast.sv):
        person.language = "en"
        person.save(update_fields=["language"])


@pytest.fixture
def story(cast):
    """The customer after two of three deliveries, who asked never to be called on Sundays."""
    coffee_policy(cast.coffee)
    subscription = story_subscription(cast.coffee, started_on=dt.date(2026, 9, 1))
    customer = subscription.customer
    customer.days_off = [6]
    customer.save(update_fields=["days_off"])
    return subscription


def _open_case(cast, story, kind=CaseKind.CANCELLATION) -> Case:
    contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=story.customer)
    return cases.case_open(
        contact=contact,
        actor=cast.operator,
        kind=kind,
        subject="Wants to cancel after two deliveries",
        subscription=story,
    )


@pytest.fixture
def parked(cast, story) -> Case:
    case = _open_case(cast, story)
    return cases.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason=AzukariReason.INVESTIGATION,
        team=cast.sapporo_desk,
    )


def _post(client, user, case, action, **fields):
    client.force_login(user)
    case.refresh_from_db()
    data = {"action": action, f"{action}-version": case.version}
    data.update({f"{action}-{k}": v for k, v in fields.items()})
    return client.post(reverse("desk-case", args=[case.pk]), data, follow=True)


def _said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _local(at: dt.datetime) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------- what the page offers


def test_the_desk_sees_who_owns_a_parked_case_and_every_action_it_may_take(client, cast, parked):
    client.force_login(cast.desk)
    page = client.get(reverse("desk-case", args=[parked.pk])).content.decode()
    assert "札幌センター" in page  # the owner team with its site
    assert 'id="whose-turn"' in page
    for action in ("note", "assign", "wait", "promise", "inquiry", "resolve"):
        assert f'id="{action}-form"' in page, action
    assert 'id="park-form"' not in page  # already parked


def test_an_operator_works_the_case_but_does_not_hand_it_around(client, cast, parked):
    client.force_login(cast.operator)
    page = client.get(reverse("desk-case", args=[parked.pk])).content.decode()
    assert 'id="note-form"' in page and 'id="resolve-form"' in page
    assert 'id="assign-form"' not in page
    response = _post(client, cast.operator, parked, "assign", team=cast.osaka_desk.pk)
    parked.refresh_from_db()
    assert parked.owner_team == cast.sapporo_desk
    assert any("not open to you" in m or "できません" in m for m in _said(response))


def test_a_client_approver_never_sees_the_workspace(client, cast, parked):
    client.force_login(cast.approver)
    response = client.get(reverse("desk-case", args=[parked.pk]), follow=True)
    assert response.status_code in (200, 404)
    assert parked.subject not in response.content.decode()
    assert 'id="note-form"' not in response.content.decode()


# ---------------------------------------------------------------- the desk's daily actions


def test_the_desk_hands_a_case_to_another_team_and_a_person(client, cast, parked, english):
    response = _post(
        client,
        cast.desk,
        parked,
        "assign",
        team=cast.osaka_desk.pk,
        assignee=cast.sv.pk,
        note="Osaka takes the callbacks this week",
    )
    parked.refresh_from_db()
    assert (parked.owner_team, parked.assignee, parked.site) == (
        cast.osaka_desk,
        cast.sv,
        cast.osaka,
    )
    assert "The case was handed over." in _said(response)
    assert parked.events.filter(kind="assigned", note__contains="Osaka").exists()


def test_an_internal_note_joins_the_history(client, cast, parked, english):
    response = _post(client, cast.desk, parked, "note", note="Customer prefers e-mail")
    assert "The note was added to the case." in _said(response)
    assert "Customer prefers e-mail" in response.content.decode()
    assert parked.events.filter(kind="note", actor=cast.desk).count() == 1


def test_an_empty_note_is_refused_and_nothing_is_written(client, cast, parked):
    before = parked.events.count()
    response = _post(client, cast.desk, parked, "note", note="   ")
    assert response.status_code == 400
    assert parked.events.count() == before


def test_waiting_on_the_customer_then_back_to_the_center(client, cast, parked, english):
    response = _post(
        client,
        cast.desk,
        parked,
        "wait",
        note="Send the photo of the machine",
        due_at=_local(NOW + dt.timedelta(days=7)),
    )
    parked.refresh_from_db()
    assert parked.state == CaseState.WAITING_CUSTOMER
    assert "The case now waits for the customer." in _said(response)
    assert "The customer's" in response.content.decode()  # whose turn

    response = _post(client, cast.desk, parked, "resume", note="The photo arrived")
    parked.refresh_from_db()
    assert parked.state == CaseState.AZUKARI
    assert "It is the center's turn again." in _said(response)


def test_a_general_inquiry_parks_an_open_case_with_the_operators_desk(client, cast, story, english):
    case = _open_case(cast, story, kind=CaseKind.COMPLAINT)
    client.force_login(cast.operator)
    page = client.get(reverse("desk-case", args=[case.pk])).content.decode()
    assert f'<option value="{cast.sapporo_desk.pk}" selected>' in page  # preselected
    response = _post(
        client,
        cast.operator,
        case,
        "inquiry",
        question="May we refund the broken grinder?",
        options="Refund in full\nReplace the grinder\n",
        team=cast.sapporo_desk.pk,
    )
    case.refresh_from_db()
    inquiry = Inquiry.objects.get(case=case)
    assert case.state == CaseState.WAITING_CLIENT
    assert case.owner_team == cast.sapporo_desk
    assert [o["label"] for o in inquiry.options] == ["Refund in full", "Replace the grinder"]
    assert inquiry.due_at > NOW  # from the client's agreed answer time
    assert "The inquiry was sent to the client." in _said(response)
    page = response.content.decode()
    assert 'id="open-inquiry"' in page and "answer due by" in page


def test_an_inquiry_without_options_is_refused_with_the_reason(client, cast, parked):
    response = _post(client, cast.desk, parked, "inquiry", question="?", options="\n \n")
    assert response.status_code == 400
    assert not Inquiry.objects.filter(case=parked).exists()


def test_resolve_close_and_reopen(client, cast, parked, english, tuesday_morning):
    response = _post(client, cast.desk, parked, "resolve", outcome="Cancelled after delivery 3")
    parked.refresh_from_db()
    assert parked.state == CaseState.RESOLVED
    assert "The case is resolved." in _said(response)

    response = _post(client, cast.desk, parked, "close")
    parked.refresh_from_db()
    assert response.status_code == 400
    assert parked.state == CaseState.RESOLVED
    assert "can be reopened until" in response.content.decode()

    tuesday_morning.shift(dt.timedelta(days=cast.coffee.reopen_window_days + 1))
    response = _post(client, cast.desk, parked, "close")
    parked.refresh_from_db()
    assert parked.state == CaseState.CLOSED
    assert "The case is closed." in _said(response)

    response = _post(
        client,
        cast.operator,
        parked,
        "reopen",
        note="The customer was charged again",
        team=cast.sapporo_desk.pk,
    )
    parked.refresh_from_db()
    assert parked.state == CaseState.AZUKARI
    assert "The case is reopened." in _said(response)


def test_a_stale_form_changes_nothing_and_shows_what_changed(client, cast, parked):
    client.force_login(cast.desk)
    seen = parked.version
    cases.case_note(case=parked, actor=cast.sv, note="ignored by versions")
    cases.case_wait_on_customer(
        case=parked, version=parked.version, actor=cast.sv, note="Waiting for the receipt"
    )
    response = client.post(
        reverse("desk-case", args=[parked.pk]),
        {"action": "resume", "resume-version": seen, "resume-note": "back"},
    )
    assert response.status_code == 409
    assert 'id="stale-changes"' in response.content.decode()
    parked.refresh_from_db()
    assert parked.state == CaseState.WAITING_CUSTOMER


# ---------------------------------------------------------------- promises


def test_a_promise_on_the_customers_day_off_is_refused_with_allowed_times(
    client, cast, story, english
):
    case = _open_case(cast, story)
    response = _post(
        client,
        cast.operator,
        case,
        "park",
        reason=AzukariReason.CLIENT_DECISION,
        team=cast.sapporo_desk.pk,
        promised_callback_at=_local(SUNDAY_AFTERNOON),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The customer asked not to be called on that weekday." in page
    assert "Times that would be allowed" in page
    case.refresh_from_db()
    assert case.state == CaseState.OPEN
    assert not Callback.objects.filter(case=case).exists()


def test_the_same_refusal_comes_from_the_api_and_the_workspace_promise(client, cast, parked):
    client.force_login(cast.desk)
    response = _post(client, cast.desk, parked, "promise", promised_for=_local(SUNDAY_AFTERNOON))
    assert response.status_code == 400
    with pytest.raises(cases.DomainError) as refused:
        cases.case_promise_callback(
            case=parked, version=parked.version, actor=cast.desk, promised_for=SUNDAY_AFTERNOON
        )
    assert refused.value.code == "call_time_refused"
    assert not Callback.objects.filter(case=parked).exists()


def test_a_promise_inside_the_windows_is_a_callback_due_at_that_time(client, cast, parked, english):
    at = callable_time(parked, after=SUNDAY_AFTERNOON)
    response = _post(client, cast.desk, parked, "promise", promised_for=_local(at))
    parked.refresh_from_db()
    callback = Callback.objects.get(case=parked)
    assert parked.state == CaseState.CALLBACK_DUE
    assert (callback.status, callback.promised_for) == (CallbackStatus.TO_SCHEDULE, at)
    assert "The callback is scheduled." in _said(response)


def test_the_customer_may_name_a_time_outside_his_own_preferences(client, cast, parked):
    response = _post(
        client,
        cast.desk,
        parked,
        "promise",
        promised_for=_local(SUNDAY_AFTERNOON),
        customer_requested="on",
    )
    assert response.status_code == 200
    assert Callback.objects.get(case=parked).promised_for == SUNDAY_AFTERNOON


# ---------------------------------------------------------------- the pop: continuity, options


def _pop_post(client, user, customer, **extra):
    client.force_login(user)
    data = {"caller_relation": "holder", "identity_check": "verified", "summary": "Again."}
    data.update(extra)
    return client.post(reverse("desk-pop", args=[customer.pk]), data, follow=True)


def test_a_repeat_call_is_logged_on_the_open_case_and_keeps_its_callback(
    client, cast, story, parked, english
):
    at = callable_time(parked, after=SUNDAY_AFTERNOON)
    cases.case_promise_callback(
        case=parked, version=parked.version, actor=cast.desk, promised_for=at
    )
    client.force_login(cast.operator)
    page = client.get(reverse("desk-pop", args=[story.customer.pk])).content.decode()
    assert 'id="open-cases-banner"' in page
    assert "we promised to call on" in page

    response = _pop_post(client, cast.operator, story.customer, on_case=parked.pk)
    assert response.redirect_chain[-1][0] == reverse("desk-case", args=[parked.pk])
    assert Case.objects.filter(customer=story.customer).count() == 1
    assert Contact.objects.filter(case=parked).count() == 2
    assert parked.events.filter(kind="contact_added").count() == 1
    callback = Callback.objects.get(case=parked)
    assert (callback.status, callback.promised_for) == (CallbackStatus.TO_SCHEDULE, at)
    assert f"The call was added to case #{parked.pk}." in _said(response)


def test_a_second_case_for_the_same_subscription_is_refused(client, cast, story, parked):
    response = _pop_post(
        client,
        cast.operator,
        story.customer,
        kind=CaseKind.CANCELLATION,
        subject="Cancel please",
        subscription=story.pk,
    )
    assert response.status_code == 400
    assert f"#{parked.pk}" in response.content.decode()
    assert Case.objects.filter(customer=story.customer).count() == 1


def test_the_pop_shows_the_options_and_records_the_request_in_one_step(
    client, cast, story, english
):
    client.force_login(cast.operator)
    page = client.get(reverse("desk-pop", args=[story.customer.pk])).content.decode()
    assert 'id="cancellation-options"' in page
    assert 'id="exception-grounds"' in page  # apart, not read out

    response = _pop_post(client, cast.operator, story.customer, record_request=story.pk)
    case = Case.objects.get(customer=story.customer)
    request = CancellationRequest.objects.get(case=case)
    assert case.kind == CaseKind.CANCELLATION
    assert request.requested_on == NOW.date()
    assert response.redirect_chain[-1][0] == reverse("desk-case", args=[case.pk])
    assert "The cancellation request is recorded, dated today." in _said(response)
    assert 'id="cancellation-options"' in response.content.decode()


def test_the_pop_shows_an_overdue_inquiry_to_the_caller_who_chases_it(
    client, cast, story, parked, tuesday_morning, english
):
    cases.inquiry_send(
        case=parked,
        version=parked.version,
        actor=cast.desk,
        question="Waive the fee?",
        options=[{"code": "yes", "label": "Yes"}],
        due_at=NOW + dt.timedelta(hours=2),
    )
    tuesday_morning.shift(dt.timedelta(days=1))
    client.force_login(cast.operator)
    page = client.get(reverse("desk-pop", args=[story.customer.pk])).content.decode()
    assert "the client's answer is due by" in page and "overdue" in page
    assert Inquiry.objects.get(case=parked).status == InquiryStatus.OPEN


def test_staff_of_another_site_are_named_by_site_and_role(client, cast, parked):
    cases.case_note(case=parked, actor=cast.sv, note="Osaka looked at it")
    client.force_login(cast.operator)  # Sapporo
    page = client.get(reverse("desk-case", args=[parked.pk])).content.decode()
    assert "Osaka looked at it" in page
    assert "大阪センター・" in page
    assert cast.sv.display_name not in page


def test_a_case_whose_person_left_goes_back_to_the_team(cast, parked):
    from azukari.org.models import Role
    from azukari.org.staff import staff_mark_left
    from azukari.testing.factories import UserFactory

    parked = cases.case_assign(
        case=parked,
        version=parked.version,
        actor=cast.desk,
        team=cast.sapporo_desk,
        assignee=cast.operator,
    )
    at = callable_time(parked, after=SUNDAY_AFTERNOON)
    parked = cases.case_promise_callback(
        case=parked, version=parked.version, actor=cast.desk, promised_for=at
    )
    manager = UserFactory(role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee])
    staff_mark_left(staff=cast.operator, left_on=NOW.date(), by=manager)
    parked.refresh_from_db()
    assert (parked.owner_team, parked.assignee) == (cast.sapporo_desk, None)
    assert Callback.objects.get(case=parked).assignee is None
    assert parked.events.filter(kind="assigned", data__released_from=cast.operator.pk).exists()
