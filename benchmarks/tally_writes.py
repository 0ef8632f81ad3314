"""What the database triggers that keep the board's tallies add to a case write (figures, not a
test): cases inserted in bulk in each state, and open cases resolved one UPDATE each.

Run:  .venv/bin/python benchmarks/tally_writes.py [--rows N]

Runs on a throw-away test database (SQLite by default, PostgreSQL when DATABASE_URL says so).
Every row of the resolved kind touches the closing tally, every open azukari the backlog, clock
and due tallies.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from azukari.cases.models import Case, CaseState  # noqa: E402
from azukari.org.models import Role  # noqa: E402
from azukari.testing.factories import (  # noqa: E402
    ClientFactory,
    CustomerFactory,
    SiteFactory,
    UserFactory,
)


def cases(n: int, state: str, *, client, customer, site, opener) -> list[Case]:
    now = timezone.now()
    parked = state != CaseState.OPEN
    return [
        Case(
            client=client,
            customer=customer,
            kind="cancellation",
            subject="bench",
            state=state,
            site=site,
            opened_by=opener,
            opened_at=now - dt.timedelta(days=3, minutes=i),
            parked_at=now - dt.timedelta(days=2, minutes=i) if parked else None,
            resolved_at=now - dt.timedelta(hours=i % 50) if state == CaseState.RESOLVED else None,
            clock_since=now - dt.timedelta(hours=i % 70) if state == CaseState.AZUKARI else None,
            due_at=now + dt.timedelta(hours=i % 90 - 45) if state == CaseState.AZUKARI else None,
            azukari_reason="client_decision" if parked else "",
        )
        for i in range(n)
    ]


def timed(work) -> float:
    with transaction.atomic():
        started = time.perf_counter()
        work()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        client = ClientFactory(code="tally-bench")
        site = SiteFactory(code="tally-site")
        people = {
            "client": client,
            "customer": CustomerFactory(client=client),
            "site": site,
            "opener": UserFactory(
                username="tally-bench", role=Role.OPERATOR, home_site=site, clients=[client]
            ),
        }
        figures: dict[str, float] = {}
        for state in (CaseState.OPEN, CaseState.AZUKARI, CaseState.RESOLVED):
            per_row = [
                timed(lambda s=state: Case.objects.bulk_create(cases(args.rows, s, **people)))
                / args.rows
                for _ in range(args.rounds)
            ]
            figures[f"insert_{state}_ms_per_case"] = round(statistics.median(per_row) * 1000, 3)
        ids = list(
            Case.objects.filter(state=CaseState.AZUKARI).values_list("pk", flat=True)[: args.rows]
        )
        now = timezone.now()

        def resolve() -> None:
            for pk in ids:
                Case.objects.filter(pk=pk).update(state=CaseState.RESOLVED, resolved_at=now)

        figures["resolve_update_ms_per_case"] = round(timed(resolve) / len(ids) * 1000, 3)
        result = {"benchmark": "tally_writes", "database": connection.vendor, **figures}
        for name, value in figures.items():
            print(f"{connection.vendor:10s} {name:34s} {value:8.3f}")
        print(json.dumps(result))
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


if __name__ == "__main__":
    main()
