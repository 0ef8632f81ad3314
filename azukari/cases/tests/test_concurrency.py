"""Two people change one case at the same moment, each on their own database connection.

Exactly one change wins; the other is told plainly that the case changed meanwhile, nothing of
it is written, and nothing of the winner's change is lost. Runs on SQLite and PostgreSQL.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from azukari.cases import services
from azukari.cases.models import CallbackStatus, Case, CaseEvent, InquiryStatus
from azukari.cases.tests.builders import OPTIONS, fresh, move, new_case, row_counts, tomorrow
from azukari.core.errors import IllegalTransition, StaleVersion

pytestmark = pytest.mark.django_db(transaction=True)

CONFLICT = "This case was changed by someone else meanwhile. Reload it and try again."


def race(case_id: int, *actions: Callable[[Case], Any]) -> list[Any]:
    """Runs each action in its own thread and connection, all from the same version at once."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[Case], Any]) -> None:
        try:
            with translation.override("en"):
                case = Case.objects.select_related("client", "site").get(pk=case_id)
                barrier.wait(timeout=30)
                results[i] = action(case)
        except Exception as exc:  # the test inspects what each side got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a connection is still waiting for a lock"
    return results


def split(results: list[Any]) -> tuple[list[Any], list[Exception]]:
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    return wins, losses


@pytest.fixture
def parked(cast) -> Case:
    case = new_case(cast)
    return move(cast, case, "azukari")


def test_two_different_moves_from_one_version_one_wins(cast, parked):
    before = fresh(parked)
    events_before = CaseEvent.objects.filter(case=parked).count()

    results = race(
        parked.pk,
        lambda c: services.case_resolve(
            case=c, version=before.version, actor=cast.sv, outcome="Cancelled"
        ),
        lambda c: services.case_promise_callback(
            case=c, version=before.version, actor=cast.desk, promised_for=tomorrow()
        ),
    )

    wins, losses = split(results)
    assert len(wins) == 1 and len(losses) == 1, results
    loss = losses[0]
    assert isinstance(loss, StaleVersion), repr(loss)
    with translation.override("en"):
        assert str(loss) == CONFLICT
    assert loss.field == "version" and loss.status == 409
    assert loss.current_version == before.version + 1
    after = fresh(parked)
    assert after.version == before.version + 1
    assert after.state == wins[0].state
    assert CaseEvent.objects.filter(case=parked).count() == events_before + 1
    # The loser's side effects are absent, the winner's all there.
    promised = after.state == "callback_due"
    assert after.callbacks.exists() == promised
    assert (after.resolved_at is not None) == (not promised)


def test_the_same_move_twice_is_made_once(cast, parked):
    case = move(cast, parked, "waiting_customer")
    before = fresh(case)

    results = race(
        case.pk,
        *[
            lambda c, who=who: services.case_resume(case=c, version=before.version, actor=who)
            for who in (cast.desk, cast.sv)
        ],
    )

    wins, losses = split(results)
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], StaleVersion)
    after = fresh(case)
    assert (after.state, after.version) == ("azukari", before.version + 1)
    assert CaseEvent.objects.filter(case=case, kind="resumed").count() == 1


def test_the_loser_reloads_and_nothing_is_lost(cast, parked):
    before = fresh(parked)

    results = race(
        parked.pk,
        lambda c: services.case_assign(
            case=c, version=before.version, actor=cast.desk, team=cast.osaka_desk
        ),
        lambda c: services.case_wait_on_customer(
            case=c, version=before.version, actor=cast.sv, note="Waiting for the return form"
        ),
    )
    wins, losses = split(results)
    assert len(wins) == 1 and isinstance(losses[0], StaleVersion), results

    # Whoever lost reads the case again and makes their change on top of the winner's.
    reloaded = fresh(parked)
    if reloaded.state == "waiting_customer":
        services.case_assign(
            case=reloaded, version=reloaded.version, actor=cast.desk, team=cast.osaka_desk
        )
    else:
        services.case_wait_on_customer(
            case=reloaded, version=reloaded.version, actor=cast.sv, note="Waiting for the form"
        )
    after = fresh(parked)
    assert (after.state, after.owner_team_id) == ("waiting_customer", cast.osaka_desk.pk)
    assert after.version == before.version + 2
    kinds = list(CaseEvent.objects.filter(case=parked).values_list("kind", flat=True))
    assert sorted(kinds[-2:]) == ["assigned", "waiting_customer"]


def test_two_approvers_answer_one_inquiry_once(cast, parked):
    inquiry = services.inquiry_send(
        case=fresh(parked),
        version=fresh(parked).version,
        actor=cast.desk,
        question="May we waive the device price?",
        options=OPTIONS,
        due_at=tomorrow(),
    )
    second_approver = type(cast.approver).objects.create(
        username="approver_coffee_2",
        role="client_approver",
        client=cast.coffee,
    )
    counts = row_counts()

    results = race(
        parked.pk,
        lambda _c: services.inquiry_answer(
            inquiry=inquiry, actor=cast.approver, option="cancel_now"
        ),
        lambda _c: services.inquiry_answer(
            inquiry=inquiry, actor=second_approver, option="after_third"
        ),
    )

    wins, losses = split(results)
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], IllegalTransition | StaleVersion), repr(losses[0])
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED
    assert inquiry.answer_option == wins[0].answer_option
    after = fresh(parked)
    assert after.state == "callback_due"
    assert after.callbacks.filter(status=CallbackStatus.TO_SCHEDULE).count() == 1
    assert CaseEvent.objects.filter(case=parked, kind="inquiry_answered").count() == 1
    assert row_counts()["Callback"] == counts["Callback"] + 1


def test_a_stale_version_is_refused_before_anything_is_written(cast, parked):
    """The single-connection form: a form submitted after someone else saved."""
    old = fresh(parked)
    services.case_wait_on_customer(
        case=fresh(parked), version=old.version, actor=cast.sv, note="Form sent"
    )
    counts = row_counts()
    with translation.override("en"), pytest.raises(StaleVersion) as info:
        services.case_resolve(case=old, version=old.version, actor=cast.desk, outcome="Done")
    with translation.override("en"):
        assert str(info.value) == CONFLICT
    with translation.override("ja"):
        assert str(info.value) != CONFLICT  # each reader gets it in their own language
    assert row_counts() == counts
    assert fresh(parked).state == "waiting_customer"
    assert fresh(parked).resolved_at is None
