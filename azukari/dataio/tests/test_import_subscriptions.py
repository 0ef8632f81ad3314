"""Subscription and delivery files: checked whole through the sync services, written once."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from azukari.dataio.models import ImportStatus
from azukari.dataio.services import import_run, import_start
from azukari.subscriptions.models import Delivery, Subscription
from azukari.testing.factories import CustomerFactory, PlanFactory

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

SUBSCRIPTIONS = ["契約番号", "顧客番号", "プランコード", "開始日", "状態"]
DELIVERIES = ["配送番号", "契約番号", "回数", "予定日", "状態", "出荷日"]


@pytest.fixture
def customers(cast):
    PlanFactory(client=cast.coffee)
    return [
        CustomerFactory(client=cast.coffee, customer_number="C001", family_name="髙橋"),
        CustomerFactory(client=cast.coffee, customer_number="C002", family_name="山﨑"),
    ]


def run(path, client, kind):
    return import_run(batch=import_start(actor=None, client=client, kind=kind, path=path))


@pytest.mark.django_db
def test_subscription_file_with_a_broken_row_writes_nothing_then_once(cast, customers, client_file):
    good = [
        ["S001", "C001", "beans-monthly", "２０２６／９／１", "active"],
        ["S002", "C002", "beans-monthly", "2026-09-15", "active"],
    ]
    broken = ["S003", "C999", "beans-monthly", "2026年9月31日", "active"]

    refused = run(client_file([SUBSCRIPTIONS, *good, broken]), cast.coffee, "subscriptions")

    assert refused.status == ImportStatus.FAILED
    assert {(e["row"], e["column"]) for e in refused.errors} == {(4, "開始日")}
    for error in refused.errors:
        assert error["message"]["en"] and error["message"]["ja"]
        assert error["message"]["en"] != error["message"]["ja"]
    assert not Subscription.objects.exists()

    # A row the service refuses (no such customer) is named too, and rolls back the file.
    unknown = ["S003", "C999", "beans-monthly", "2026-09-30", "active"]
    refused = run(client_file([SUBSCRIPTIONS, *good, unknown]), cast.coffee, "subscriptions")
    assert refused.status == ImportStatus.FAILED
    assert {(e["row"], e["column"]) for e in refused.errors} == {(4, "顧客番号")}
    assert not Subscription.objects.exists()

    fixed = client_file([SUBSCRIPTIONS, *good])
    done = run(fixed, cast.coffee, "subscriptions")
    assert done.status == ImportStatus.DONE, done.errors
    assert (done.created, done.updated, done.unchanged) == (2, 0, 0)
    s1 = Subscription.objects.get(client=cast.coffee, external_id="S001")
    assert (s1.customer, s1.started_on) == (customers[0], dt.date(2026, 9, 1))

    again = run(fixed, cast.coffee, "subscriptions")
    assert (again.status, again.created, again.updated, again.unchanged) == (
        ImportStatus.DONE,
        0,
        0,
        2,
    )
    assert Subscription.objects.count() == 2


@pytest.mark.django_db
def test_delivery_file_through_the_command_is_all_or_nothing_and_idempotent(
    cast, customers, client_file
):
    subs = client_file(
        [SUBSCRIPTIONS, ["S001", "C001", "beans-monthly", "2026-09-01", "active"]], name="s.csv"
    )
    call_command("import", "subscriptions", str(subs), "--client", "coffee", "--no-progress")
    rows = [
        ["D001", "S001", "1", "2026-09-01", "shipped", "2026-09-01"],
        ["D002", "S001", "２", "2026-10-01", "scheduled", ""],
    ]
    broken = ["D003", "S001", "3", "2026-11-01", "shipped", ""]  # shipped without a date

    with pytest.raises(CommandError):
        call_command(
            "import",
            "deliveries",
            str(client_file([DELIVERIES, *rows, broken], name="d.csv")),
            "--client",
            "coffee",
            "--no-progress",
        )
    assert not Delivery.objects.exists()

    path = client_file([DELIVERIES, *rows], name="d.csv")
    done = run(path, cast.coffee, "deliveries")
    assert done.status == ImportStatus.DONE, done.errors
    assert done.created == 2
    assert list(Delivery.objects.order_by("sequence").values_list("sequence", "status")) == [
        (1, "shipped"),
        (2, "scheduled"),
    ]
    again = run(path, cast.coffee, "deliveries")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.django_db
def test_the_worker_sweeps_killed_imports_on_a_schedule():
    schedule = Schedule.objects.get(func="azukari.dataio.tasks.import_journal_sweep_task")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 15, -1)
