"""Figures for the cancellation policy engine, its desk and its consistency report.

Run:  .venv/bin/python benchmarks/policy_engine.py [--assess N] [--rulings N] [--requests N]

Prints figures; passes or fails nothing. The database parts run on a throw-away test database
(SQLite by default, PostgreSQL when DATABASE_URL says so).
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from azukari.subscriptions.policy import (  # noqa: E402
    ApprovalLevel,
    ChargeMethod,
    DeliveryFact,
    GroundRule,
    PolicyRules,
    SignupTerms,
    SubscriptionState,
    assess,
    explain,
)
from azukari.subscriptions.reports import Ruling, build_report  # noqa: E402


def _situation(rng: random.Random):
    started = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 365))
    interval = rng.choice([14, 30, 60])
    deliveries = tuple(
        DeliveryFact(
            sequence=n + 1,
            scheduled_on=started + dt.timedelta(days=interval * n),
            shipped_on=started + dt.timedelta(days=interval * n),
            shipped=True,
        )
        for n in range(rng.randint(0, 6))
    )
    first = started + dt.timedelta(days=rng.randint(0, interval * 7))
    terms = SignupTerms(version="v", text="", min_deliveries=3, device_subsidy_yen=14820)
    policy = PolicyRules(
        number=1,
        effective_from=dt.date(2024, 1, 1),
        min_deliveries=rng.randint(2, 4),
        device_list_price_yen=19800,
        device_price_paid_yen=4980,
        charge_method=rng.choice([ChargeMethod.PRO_RATA, ChargeMethod.FIXED]),
        fixed_fee_yen=5000,
        grounds=tuple(
            GroundRule(code=c, approval_level=ApprovalLevel.SV)
            for c in ("defect", "bereavement", "moving_abroad", "hardship", "terms_unclear")
        ),
    )
    state = SubscriptionState(
        cancelled=False, started_on=started, interval_days=interval, deliveries=deliveries
    )
    return terms, policy, state, first


def bench_assess(n: int) -> None:
    rng = random.Random(4)
    cases = [_situation(rng) for _ in range(n)]
    start = time.perf_counter()
    results = [
        assess(terms=t, policy=p, state=s, first_requested_on=f, today=f) for t, p, s, f in cases
    ]
    elapsed = time.perf_counter() - start
    options = sum(len(r.options) for r in results)
    print(f"engine: {n} assessments in {elapsed:.3f} s = {elapsed / n * 1e6:.1f} µs each")
    sample = [o for r in results[:2000] for o in r.options]
    start = time.perf_counter()
    for o in sample:
        explain(o, "ja")
    elapsed = time.perf_counter() - start
    print(
        f"explain: {len(sample)} explanations in {elapsed:.3f} s = "
        f"{elapsed / len(sample) * 1e6:.1f} µs each ({options / n:.1f} options per assessment)"
    )


def bench_report(n: int) -> None:
    rng = random.Random(7)
    rulings = [
        Ruling(
            ground=rng.choice(["defect", "hardship", "bereavement", "moving_abroad"]),
            granted=rng.random() < 0.4,
            contacts=rng.randint(1, 7),
            site=rng.choice(["sapporo", "osaka", "fukuoka"]),
            approver=f"sv{rng.randint(1, 40)}",
        )
        for _ in range(n)
    ]
    start = time.perf_counter()
    report = build_report(rulings, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
    elapsed = time.perf_counter() - start
    print(
        f"report (pure): {n} rulings in {elapsed:.3f} s; {len(report.rows)} rate rows, "
        f"flagged: {report.flagged or 'none'}"
    )


def bench_database(requests: int, rulings: int) -> None:
    from azukari.subscriptions.models import ExceptionOutcome, ExceptionRequest
    from azukari.subscriptions.reports import consistency_report
    from azukari.subscriptions.selectors import cancellation_desk
    from azukari.subscriptions.services import cancellation_request_record
    from azukari.subscriptions.tests.factories import (
        cancellation_call,
        coffee_policy,
        story_subscription,
    )
    from azukari.testing.factories import ClientFactory, SiteFactory, UserFactory

    coffee = ClientFactory(code="coffee")
    site = SiteFactory(code="sapporo")
    operator = UserFactory(username="op", home_site=site, clients=[coffee])
    coffee_policy(coffee)
    started = dt.date.today() - dt.timedelta(days=50)
    durations, made = [], []
    for _ in range(requests):
        subscription = story_subscription(coffee, started_on=started)
        case = cancellation_call(actor=operator, subscription=subscription)
        with CaptureQueriesContext(connection) as recorded:
            start = time.perf_counter()
            made.append(cancellation_request_record(actor=operator, case=case))
            durations.append(time.perf_counter() - start)
    print(
        f"record request ({connection.vendor}): {requests} requests, median "
        f"{statistics.median(durations) * 1000:.1f} ms, max {max(durations) * 1000:.1f} ms, "
        f"{len(recorded)} queries each"
    )
    desk_times = []
    for request in made[:50]:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            cancellation_desk(viewer=operator, request_id=request.pk, language="ja")
            desk_times.append(time.perf_counter() - start)
    print(
        f"desk: median {statistics.median(desk_times) * 1000:.1f} ms, "
        f"{len(queries)} queries per desk"
    )
    request = made[0]
    ground = request.policy_version.grounds.get(code="hardship")
    rng = random.Random(9)
    now = dt.datetime.now(dt.UTC)
    rows = [
        ExceptionRequest(
            client_id=coffee.pk,
            request=request,
            ground=ground,
            ground_code="hardship",
            approval_level="client",
            asked_at=now,
            asked_by=operator,
            deliveries_made=2,
            policy_version=request.policy_version,
            outcome=ExceptionOutcome.GRANTED if rng.random() < 0.4 else ExceptionOutcome.REFUSED,
            decided_at=now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 300)),
            approver=operator,
            site=site,
            contacts_before=rng.randint(1, 7),
        )
        for _ in range(rulings)
    ]
    ExceptionRequest.objects.bulk_create(rows, batch_size=2000)
    start = time.perf_counter()
    report = consistency_report(
        viewer=operator,
        client_id=coffee.pk,
        date_from=dt.date.today() - dt.timedelta(days=365),
        date_to=dt.date.today(),
    )
    elapsed = time.perf_counter() - start
    print(
        f"report ({connection.vendor}): {rulings} rulings in {elapsed:.3f} s; "
        f"hardship verdict: {report.trends[0].result.verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assess", type=int, default=50_000)
    parser.add_argument("--rulings", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    bench_assess(args.assess)
    bench_report(args.rulings)
    setup_test_environment()
    os.environ.setdefault("AZUKARI_TEST_DB_NAME", "")
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        bench_database(args.requests, args.rulings)
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


if __name__ == "__main__":
    main()
