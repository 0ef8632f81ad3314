"""How long marking a site down takes with many open azukari (figures, not a test).

    DATABASE_URL=postgres://... .venv/bin/python benchmarks/failover_site_down.py --cases 100000

Builds a fresh floor (three sites, two clients, desks and staff) under a run-unique prefix in
the database DATABASE_URL names (migrating it first), parks N open azukari at the first site
(a fifth with a scheduled callback), marks that site down and prints the time and the moves.
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--drill", action="store_true", help="Time the drill as well.")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    # Staff are built with passwords; the benchmark measures the failover, not argon2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from azukari.org.failover import site_down
    from azukari.org.models import AssignmentMove, Role
    from azukari.org.tests.builders import open_azukari
    from azukari.testing.factories import ClientFactory, SiteFactory, TeamFactory, UserFactory

    run = uuid.uuid4().hex[:6]
    coffee = ClientFactory(code=f"coffee-{run}")
    tea = ClientFactory(code=f"tea-{run}")
    down, b, c = (SiteFactory(code=f"{name}-{run}") for name in ("sapporo", "osaka", "fukuoka"))
    desk = TeamFactory(site=down, code=f"sapporo-desk-{run}", clients=[coffee, tea])
    for site in (b, c):
        TeamFactory(site=site, code=f"{site.code}-desk", clients=[coffee, tea])
        for n in range(5):
            UserFactory(
                username=f"sv-{site.code}-{n}", role=Role.SV, home_site=site, clients=[coffee, tea]
            )
    staff = [
        UserFactory(
            username=f"sv-{down.code}-{n}", role=Role.SV, home_site=down, clients=[coffee, tea]
        )
        for n in range(10)
    ]
    started = time.perf_counter()
    half = args.cases // 2
    for client, count in ((coffee, half), (tea, args.cases - half)):
        open_azukari(
            client=client,
            team=desk,
            count=count,
            opened_by=staff[0],
            assignees=[*staff, None],
            callbacks_every=5,
        )
    built = time.perf_counter() - started
    print(f"{connection.vendor}: built {args.cases} open azukari in {built:.1f} s")
    if args.drill:
        report = site_down(site=down, actor=None, drill=True)
        print(
            f"drill: {report.cases_moved} azukari, {report.callbacks_moved} callbacks "
            f"would move; planned in {report.seconds:.1f} s"
        )
    report = site_down(site=down, actor=None, batch_size=args.batch_size)
    rate = report.cases_moved / report.seconds if report.seconds else 0
    print(
        f"site down: moved {report.cases_moved} azukari and {report.callbacks_moved} callbacks "
        f"in {report.seconds:.1f} s ({rate:.0f} azukari/s, {report.batches} batches of "
        f"{args.batch_size}); to teams: {dict(report.to_teams)}"
    )
    moves = AssignmentMove.objects.filter(outage_id=report.outage_id).count()
    again = site_down(site=down, actor=None)
    print(f"move records: {moves}; second down: moved {again.cases_moved} in {again.seconds:.2f} s")


if __name__ == "__main__":
    main()
