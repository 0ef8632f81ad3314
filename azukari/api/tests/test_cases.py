"""Cases and inquiries through the API: the lifecycle services, scoped and versioned."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from azukari.api.tests.factories import open_case
from azukari.cases.models import Case, CaseEvent
from azukari.testing.factories import CustomerFactory, UserFactory

CASES = "/api/v1/cases"
INQUIRIES = "/api/v1/inquiries"


@pytest.fixture
def yamada(cast):
    return CustomerFactory(client=cast.coffee, customer_number="C-1", phones=["+819012345678"])


def test_story_through_the_api(
    api, cast, lines, pbx_token, coffee_desk_token, coffee_token, yamada
):
    # The PBX reports the call; the CTI desktop opens and parks the case.
    call = {
        "event": "answered",
        "call_id": "call-1",
        "dialled_number": "0120-123-456",
        "caller_number": "090-1234-5678",
        "at": timezone.now().isoformat(),
        "agent_id": "4001",
    }
    contact = api.post("/api/v1/contacts/events", pbx_token, call).json()
    opened = api.post(
        CASES,
        coffee_desk_token,
        {"contact_id": contact["id"], "kind": "cancellation", "subject": "Cancel after 2"},
    )
    assert opened.status_code == 201
    case = opened.json()
    assert (case["state"], case["customer_number"], case["site"]) == ("open", "C-1", "sapporo")
    parked = api.post(
        f"{CASES}/{case['id']}/park",
        coffee_desk_token,
        {"version": case["version"], "reason": "client_decision", "team": "sapporo-desk"},
    ).json()
    assert parked["state"] == "azukari" and parked["owner_team"] == "sapporo-desk"
    asked = api.post(
        f"{CASES}/{case['id']}/inquiries",
        coffee_desk_token,
        {
            "version": parked["version"],
            "question": "Exception for a defect?",
            "options": [{"code": "cancel_now", "label": "Cancel now, no fee"}],
        },
    ).json()
    assert asked["state"] == "waiting_client"

    # The coffee company's system sees what awaits it and answers.
    waiting = api.get(INQUIRIES, coffee_token).json()["items"]
    assert [(i["case"]["id"], i["question"]) for i in waiting] == [
        (case["id"], "Exception for a defect?")
    ]
    answered = api.post(
        f"{INQUIRIES}/{waiting[0]['id']}/answer", coffee_token, {"option": "cancel_now"}
    ).json()
    assert answered["status"] == "answered" and answered["case"]["state"] == "callback_due"
    assert api.get(INQUIRIES, coffee_token).json()["items"] == []

    detail = api.get(f"{CASES}/{case['id']}", coffee_desk_token).json()
    resolved = api.post(
        f"{CASES}/{case['id']}/resolve",
        coffee_desk_token,
        {"version": detail["version"], "outcome": "Cancelled without fee"},
    ).json()
    assert resolved["state"] == "resolved"
    assert [e["kind"] for e in resolved["events"]] == [
        "opened",
        "parked",
        "inquiry_sent",
        "inquiry_answered",
        "resolved",
    ]
    integration = coffee_desk_token.token.service_user
    assert CaseEvent.objects.filter(kind="parked").get().actor == integration


def test_stale_version_and_illegal_move_get_409(api, cast, coffee_desk_token, yamada):
    case = open_case(customer=yamada, operator=cast.operator)
    body = {"version": case.version + 5, "reason": "investigation", "team": "sapporo-desk"}
    stale = api.post(f"{CASES}/{case.pk}/park", coffee_desk_token, body)
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert "version" in stale.json()["field_errors"]
    resume = api.post(f"{CASES}/{case.pk}/resume", coffee_desk_token, {"version": case.version})
    assert resume.status_code == 409
    assert resume.json()["code"] == "illegal_transition"
    assert Case.objects.get().state == "open"


def test_bad_team_is_a_field_error(api, cast, coffee_desk_token, yamada):
    case = open_case(customer=yamada, operator=cast.operator)
    for team in ("no-such-team", "osaka-tea-desk"):
        body = {"version": case.version, "reason": "investigation", "team": team}
        response = api.post(f"{CASES}/{case.pk}/park", coffee_desk_token, body)
        assert response.status_code == 400
        assert "team" in response.json()["field_errors"]


def test_another_clients_staff_look_like_unknown_ones(api, cast, coffee_desk_token, yamada):
    UserFactory(username="tea_only", home_site=cast.osaka, clients=[cast.tea], agent_id="9100")
    case = open_case(customer=yamada, operator=cast.operator)
    answers = []
    for agent_id in ("9100", "no-such-agent"):
        body = {"version": case.version, "team": "sapporo-desk", "assignee_agent_id": agent_id}
        response = api.post(f"{CASES}/{case.pk}/assign", coffee_desk_token, body)
        assert response.status_code == 400
        answers.append(response.json())
    assert answers[0] == answers[1]


def test_isolation_on_every_case_endpoint(api, cast, issue, tea_token, coffee_token, yamada):
    case = open_case(customer=yamada, operator=cast.operator)
    tea_pbx = issue(center_clients=(cast.tea,))
    for token in (tea_token, tea_pbx):
        assert api.get(f"{CASES}/{case.pk}", token).status_code == 404
        assert api.get(CASES, token).json()["items"] == []
        for action, body in [
            ("park", {"version": 1, "reason": "investigation", "team": "sapporo-desk"}),
            ("resolve", {"version": 1, "outcome": "x"}),
            ("close", {"version": 1}),
        ]:
            response = api.post(f"{CASES}/{case.pk}/{action}", token, body)
            assert response.status_code == 404, action
    # The coffee company's own token may read, not act: only the center works cases.
    assert api.get(f"{CASES}/{case.pk}", coffee_token).status_code == 200
    response = api.post(f"{CASES}/{case.pk}/resolve", coffee_token, {"version": 1, "outcome": "x"})
    assert response.status_code == 403
    assert Case.objects.get().state == "open"


def test_inquiries_of_another_client_are_not_found(api, cast, coffee_token, tea_token, yamada):
    from azukari.cases import services

    case = open_case(customer=yamada, operator=cast.operator)
    inquiry = services.inquiry_send(
        case=case,
        version=case.version,
        actor=cast.desk,
        question="?",
        options=[{"code": "a", "label": "A"}],
        team=cast.sapporo_desk,
    )
    assert api.get(INQUIRIES, tea_token).json()["items"] == []
    assert api.get(f"{INQUIRIES}/{inquiry.pk}", tea_token).status_code == 404
    response = api.post(f"{INQUIRIES}/{inquiry.pk}/answer", tea_token, {"option": "a"})
    assert response.status_code == 404
    wrong = api.post(f"{INQUIRIES}/{inquiry.pk}/answer", coffee_token, {"option": "zzz"})
    assert wrong.status_code == 400 and "option" in wrong.json()["field_errors"]


def test_list_filters_and_cursor(api, cast, coffee_desk_token, yamada):
    from azukari.cases import services

    with time_machine.travel(timezone.now() - dt.timedelta(days=10), tick=False):
        old = open_case(customer=yamada, operator=cast.operator, subject="old")
        services.case_park(
            case=old, version=old.version, actor=cast.operator, reason="investigation",
            team=cast.sapporo_desk, due_at=timezone.now() + dt.timedelta(days=1),
        )  # fmt: skip
    recent = [open_case(customer=yamada, operator=cast.operator, subject=f"n{i}") for i in range(5)]

    def ids(**params):
        return [c["id"] for c in api.get(CASES, coffee_desk_token, **params).json()["items"]]

    assert ids(state="azukari") == [old.pk]
    assert ids(reason="investigation", overdue="true") == [old.pk]
    assert ids(min_age_days=7) == [old.pk]
    assert ids(site="sapporo", state="open") == [c.pk for c in reversed(recent)]

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(CASES, coffee_desk_token, **params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [*(c.pk for c in reversed(recent)), old.pk]
    bad = api.get(CASES, coffee_desk_token, cursor="not-a-cursor")
    assert bad.status_code == 400 and "cursor" in bad.json()["field_errors"]


def test_list_pages_read_the_newest_first_index_and_cost_the_same_at_any_size(
    api, cast, coffee_desk_token, yamada
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from azukari.api.selectors import CaseFilter, cases_list

    def add(n: int) -> None:
        now = timezone.now()
        Case.objects.bulk_create(
            Case(
                client=cast.coffee,
                customer=yamada,
                kind="information",
                subject=f"bulk {i}",
                state=("open", "azukari", "resolved")[i % 3],
                site=cast.sapporo,
                opened_by=cast.operator,
                opened_at=now - dt.timedelta(minutes=i),
            )
            for i in range(n)
        )

    def first_page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(CASES, coffee_desk_token, state=["open", "azukari"], limit=25)
        assert response.status_code == 200 and len(response.json()["items"]) == 25
        return len(queries)

    add(60)
    first_page_queries()  # the token's first use of the day is noted once
    small = first_page_queries()
    add(600)
    assert first_page_queries() == small
    # Every page in order, first to last, matches the plain ordered query.
    filters = CaseFilter(states=["open", "azukari"])
    seen, cursor = [], None
    while True:
        rows, cursor = cases_list(viewer=cast.desk, filters=filters, cursor=cursor, limit=50)
        seen += [c.pk for c in rows]
        if not cursor:
            break
    expected = Case.objects.filter(state__in=["open", "azukari"]).order_by("-opened_at", "-id")
    assert seen == list(expected.values_list("pk", flat=True))
    if connection.vendor == "sqlite":
        with CaptureQueriesContext(connection) as queries:
            cases_list(viewer=cast.desk, filters=filters, cursor=None, limit=25)
        plan = connection.cursor().execute("EXPLAIN QUERY PLAN " + queries[0]["sql"]).fetchall()
        # Each state's newest cases in index order; only the few taken are sorted together.
        reads = [row[-1] for row in plan if "cases_case" in row[-1]]
        assert reads == ["SEARCH cases_case USING INDEX case_list_state (state=?)"] * 2
        with CaptureQueriesContext(connection) as queries:
            cases_list(viewer=cast.desk, filters=CaseFilter(states=[]), cursor=None, limit=25)
        plan = connection.cursor().execute("EXPLAIN QUERY PLAN " + queries[0]["sql"]).fetchall()
        assert "case_list_newest" in str(plan) and "TEMP B-TREE" not in str(plan)


def test_list_pages_over_several_states_match_the_ordered_query_with_ties(cast, yamada):
    """Each state's newest few are merged: every page, to the last, is the plain query's."""
    from azukari.api.selectors import CaseFilter, cases_list

    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            client=cast.coffee,
            customer=yamada,
            kind="information",
            subject=f"tie {i}",
            state=("open", "azukari", "resolved", "waiting_client", "closed")[i % 5],
            site=cast.sapporo,
            opened_by=cast.operator,
            opened_at=now - dt.timedelta(minutes=(i * 7) % 4),  # many share an instant
        )
        for i in range(40)
    )
    for states in (["open", "azukari"], ["azukari", "waiting_client", "closed", "open"]):
        expected = list(
            Case.objects.filter(state__in=states)
            .order_by("-opened_at", "-id")
            .values_list("pk", flat=True)
        )
        for limit in (1, 3, 7):
            seen, cursor = [], None
            while True:
                rows, cursor = cases_list(
                    viewer=cast.desk, filters=CaseFilter(states=states), cursor=cursor, limit=limit
                )
                seen += [c.pk for c in rows]
                if not cursor:
                    break
            assert seen == expected, (states, limit)
