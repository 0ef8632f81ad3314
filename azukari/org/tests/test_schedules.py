"""The worker's periodic schedules, as the migrations install them, name functions that exist."""

import pytest
from django.utils.module_loading import import_string
from django_q.models import Schedule

pytestmark = pytest.mark.django_db

EXPECTED = {
    "azukari.cases.background.inquiries_remind",
    "azukari.cases.background.inquiries_escalate",
    "azukari.cases.background.callbacks_propose",
    "azukari.cases.tasks.cases_close_expired",
}


def test_every_schedule_names_a_callable_and_repeats_forever():
    schedules = list(Schedule.objects.all())
    assert {s.func for s in schedules} >= EXPECTED
    for schedule in schedules:
        assert callable(import_string(schedule.func)), schedule.name
        assert schedule.repeats == -1, schedule.name
    assert len({s.name for s in schedules}) == len(schedules)
