"""Consistency: precedents for approvers, the squeaky-wheel report, and time to decision."""

import datetime as dt
import io
import math

import pytest
from django.core.management import call_command

from azukari.core.businesstime import TOKYO
from azukari.subscriptions.policy.trend import (
    MIN_SAMPLE,
    SIGNIFICANCE_LEVEL,
    Verdict,
    cochran_armitage,
    contact_trend,
)
from azukari.subscriptions.reports import Ruling, build_report, consistency_report, report_csv
from azukari.subscriptions.selectors import (
    cancellation_timeline,
    cancellations_overdue,
    exception_precedents,
    time_to_decision_report,
)
from azukari.subscriptions.services import (
    cancellation_decide,
    cancellation_exception_ask,
    cancellation_request_record,
)
from azukari.subscriptions.tests.factories import (
    cancellation_call,
    exception_ruling,
    story_subscription,
)

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

RISING = {1: 3, 2: 8, 3: 14, 4: 20, 5: 25}  # granted of 30 at each contact count
FLAT = {1: 12, 2: 12, 3: 12, 4: 12, 5: 12}


def _rulings(ground: str, granted_by_contacts: dict[int, int], n: int = 30) -> list[Ruling]:
    rows = []
    for contacts, granted in granted_by_contacts.items():
        for i in range(n):
            rows.append(
                Ruling(ground, i < granted, contacts, "sapporo" if i % 2 else "osaka", f"sv{i % 3}")
            )
    return rows


# ---------------------------------------------------------------- the trend test


def test_cochran_armitage_matches_the_hand_computed_value():
    z, p = cochran_armitage([(1, 10, 2), (2, 10, 5), (3, 10, 8)])
    assert z == pytest.approx(6 / math.sqrt(5))
    assert p == pytest.approx(math.erfc(6 / math.sqrt(5) / math.sqrt(2)))
    z_down, p_down = cochran_armitage([(1, 10, 8), (2, 10, 5), (3, 10, 2)])
    assert (z_down, p_down) == pytest.approx((-z, p))


def test_report_flags_grants_rising_with_contacts_and_not_a_flat_rate():
    rulings = _rulings("hardship", RISING) + _rulings("defect", FLAT)
    report = build_report(rulings, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
    verdicts = {t.ground: t.result for t in report.trends}
    assert verdicts["hardship"].verdict == Verdict.RISES_WITH_CONTACTS
    assert verdicts["hardship"].p_value < SIGNIFICANCE_LEVEL
    assert verdicts["defect"].verdict == Verdict.NO_TREND
    assert report.flagged == ["hardship"]


def test_small_samples_say_not_enough_data():
    few = _rulings("bereavement", {1: 1, 2: 3}, n=4)
    assert len(few) < MIN_SAMPLE
    report = build_report(few, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31))
    assert report.trends[0].result.verdict == Verdict.NOT_ENOUGH_DATA
    assert report.trends[0].result.p_value is None
    # Many decisions, but all at one contact count: still no verdict.
    one_level = contact_trend([(1, 50, 20)])
    assert one_level.verdict == Verdict.NOT_ENOUGH_DATA


# ---------------------------------------------------------------- from the database


@pytest.fixture
def recorded(cast, subscription, first_call):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    return cancellation_request_record(actor=cast.operator, case=case)


def _write(request, approver, ground, granted_by_contacts, start, n=30):
    at = start
    for contacts, granted in granted_by_contacts.items():
        for i in range(n):
            at += dt.timedelta(minutes=7)
            exception_ruling(
                request=request,
                ground_code=ground,
                granted=i < granted,
                contacts=contacts,
                approver=approver,
                decided_at=at,
            )


def test_report_over_the_database_flags_only_the_squeaky_ground_and_exports_csv(cast, recorded):
    start = dt.datetime(2026, 6, 1, 9, tzinfo=TOKYO)
    _write(recorded, cast.approver, "hardship", RISING, start)
    _write(recorded, cast.sv, "defect", FLAT, start)
    _write(recorded, cast.sv, "moving_abroad", {1: 1, 3: 2}, start, n=3)
    outside = dt.datetime(2027, 2, 1, 9, tzinfo=TOKYO)
    _write(recorded, cast.sv, "defect", RISING, outside)  # after the range: ignored

    report = consistency_report(
        viewer=cast.operator,
        client_id=cast.coffee.pk,
        date_from=dt.date(2026, 6, 1),
        date_to=dt.date(2026, 12, 31),
    )
    assert report.flagged == ["hardship"]
    verdicts = {t.ground: t.result.verdict for t in report.trends}
    assert verdicts == {
        "defect": Verdict.NO_TREND,
        "hardship": Verdict.RISES_WITH_CONTACTS,
        "moving_abroad": Verdict.NOT_ENOUGH_DATA,
    }
    rates = {(r.dimension, r.key): (r.granted, r.decided) for r in report.rows}
    assert rates[("ground", "hardship")] == (70, 150)
    assert rates[("contacts", "5+")] == (37, 60)
    assert rates[("site", "sapporo")] == (133, 306)
    assert rates[("approver", cast.approver.username)] == (70, 150)
    csv_text = report_csv(report)
    assert (
        csv_text.splitlines()[0] == "section,dimension,key,decided,granted,grant_rate,verdict,z,p"
    )
    assert "trend,ground,hardship,150,70,,rises_with_contacts," in csv_text
    assert "trend,ground,moving_abroad,6,3,,not_enough_data,," in csv_text

    out = io.StringIO()
    call_command(
        "policy", "report", "--client", "coffee", "--from", "2026-06-01", "--to", "2026-12-31",
        "--csv", stdout=out,
    )  # fmt: skip
    assert out.getvalue() == csv_text

    out = io.StringIO()
    call_command(
        "policy", "report", "--client", "coffee", "--from", "2026-06-01", "--to", "2026-12-31",
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "significance level 0.05" in text
    assert "Financial hardship: Grant rate rises with contacts (z=" in text
    assert "Moving abroad: Not enough data" in text

    # Another client's staff see none of it.
    other = consistency_report(
        viewer=cast.outsider,
        client_id=cast.coffee.pk,
        date_from=dt.date(2026, 6, 1),
        date_to=dt.date(2026, 12, 31),
    )
    assert other.rows == () and other.trends == ()


def test_precedents_are_same_ground_within_one_delivery_newest_first(cast, recorded):
    base = dt.datetime(2026, 9, 1, 9, tzinfo=TOKYO)
    for i, made in enumerate([0, 1, 2, 3, 4, 2, 1, 2]):
        exception_ruling(
            request=recorded,
            ground_code="defect",
            granted=i % 2 == 0,
            contacts=1,
            approver=cast.sv,
            decided_at=base + dt.timedelta(days=i),
            deliveries_made=made,
            reason=f"ruling {i}",
        )
    exception_ruling(
        request=recorded,
        ground_code="hardship",
        granted=True,
        contacts=1,
        approver=cast.approver,
        decided_at=base + dt.timedelta(days=20),
    )
    pending = cancellation_exception_ask(
        actor=cast.operator, request=recorded, ground_code="defect", reason="Leaks"
    )
    found = exception_precedents(viewer=cast.sv, exception=pending)
    assert [p.approver_reason for p in found] == [
        "ruling 7",
        "ruling 6",
        "ruling 5",
        "ruling 3",
        "ruling 2",
    ]
    assert [p.outcome for p in found] == ["refused", "granted", "refused", "refused", "granted"]
    assert all(abs(p.deliveries_made - 2) <= 1 and p.ground_code == "defect" for p in found)
    assert exception_precedents(viewer=cast.outsider, exception=pending) == []


def test_time_to_decision_and_overdue_requests(cast, recorded, first_call):
    first_call.move_to(dt.datetime(2026, 10, 30, 10, tzinfo=TOKYO))
    assert cancellations_overdue(viewer=cast.desk) == []
    first_call.move_to(dt.datetime(2026, 10, 31, 10, tzinfo=TOKYO))
    overdue = cancellations_overdue(viewer=cast.desk)
    assert [(t.request_id, t.days_to_decision, t.limit_days) for t in overdue] == [
        (recorded.pk, 11, 10)
    ]
    assert cancellations_overdue(viewer=cast.outsider) == []
    # The board's filters narrow the list.
    site_id = recorded.case.site_id
    other_site = cast.osaka.pk if site_id != cast.osaka.pk else cast.sapporo.pk
    assert cancellations_overdue(viewer=cast.desk, client_id=cast.coffee.pk) == overdue
    assert cancellations_overdue(viewer=cast.desk, site_id=site_id) == overdue
    assert cancellations_overdue(viewer=cast.desk, client_id=cast.tea.pk) == []
    assert cancellations_overdue(viewer=cast.desk, site_id=other_site) == []

    other = story_subscription(cast.coffee, started_on=dt.date(2026, 9, 1))
    quick = cancellation_request_record(
        actor=cast.operator, case=cancellation_call(actor=cast.operator, subscription=other)
    )
    cancellation_decide(actor=cast.operator, request=quick, option_code="cancel_after_remaining")
    first_call.move_to(dt.datetime(2026, 11, 2, 10, tzinfo=TOKYO))
    cancellation_decide(actor=cast.operator, request=recorded, option_code="cancel_now_with_fee")
    timeline = cancellation_timeline(viewer=cast.desk, request_id=recorded.pk)
    assert (timeline.first_requested_on, timeline.decided_on) == (
        dt.date(2026, 10, 20),
        dt.date(2026, 11, 2),
    )
    assert (timeline.days_to_decision, timeline.overdue, timeline.days_to_effective) == (
        13,
        True,
        0,
    )
    report = time_to_decision_report(
        viewer=cast.desk,
        client_id=cast.coffee.pk,
        date_from=dt.date(2026, 10, 1),
        date_to=dt.date(2026, 10, 31),
    )
    assert (report.decided, report.within_limit, report.median_days, report.max_days) == (
        2,
        1,
        6.5,
        13,
    )
    out = io.StringIO()
    call_command(
        "policy", "timing", "--client", "coffee", "--from", "2026-10-01", "--to", "2026-10-31",
        "--csv", stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("request,case,first_requested_on")
    assert f"{recorded.pk},{recorded.case_id},2026-10-20," in lines[1]
    assert lines[1].endswith(",13,0,10,1")
