"""The board's overdue count, made of two index-served counts, is the list's count."""

import datetime as dt

import pytest
from django.utils import timezone

from azukari.cases.models import Case, CaseState
from azukari.cases.overdue import CALLBACK_GRACE, cases_overdue, cases_overdue_count
from azukari.cases.tests.builders import new_case

pytestmark = pytest.mark.django_db


def test_the_count_is_the_lists_count_with_no_case_counted_twice(cast):
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    late_promise = now - CALLBACK_GRACE - hour
    shapes = [
        (CaseState.AZUKARI, now - hour, None),  # late
        (CaseState.WAITING_CLIENT, now + hour, None),  # not yet due
        (CaseState.WAITING_CUSTOMER, None, None),  # no due time
        (CaseState.CALLBACK_DUE, now - hour, late_promise),  # late on both counts: once
        (CaseState.CALLBACK_DUE, None, late_promise),  # the promise only
        (CaseState.CALLBACK_DUE, now + hour, late_promise),  # the promise only
        (CaseState.CALLBACK_DUE, now + hour, now - CALLBACK_GRACE / 2),  # inside the grace
        (CaseState.RESOLVED, now - hour, late_promise),  # not an open azukari
    ]
    for state, due_at, promised in shapes:
        case = new_case(cast)
        # The shapes are set on the rows directly: the count reads rows, whatever made them.
        Case.objects.filter(pk=case.pk).update(
            state=state, due_at=due_at, promised_callback_at=promised
        )
    cases = Case.objects.filter(client=cast.coffee)
    listed = cases_overdue(cases, now=now).count()
    assert listed == 4
    assert cases_overdue_count(cases, now=now) == listed
