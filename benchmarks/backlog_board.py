"""How long the backlog board's figures take with many cases (figures, not a test).

    .venv/bin/python benchmarks/backlog_board.py --cases 1000000 [--database-url URL]

Without --database-url it works in a fresh SQLite file in a temporary directory. It inserts
N cases in bulk (about a third still open azukari in the four azukari states, parked over the
last 60 days, the rest resolved), two to three history events per case, and one open inquiry
per tenth case; then it times each part of the board, the first page of the click-through
list and a full CSV export, and prints the number of queries of each.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ["AZUKARI_DATA_DIR"] = tempfile.mkdtemp(prefix="azukari-bench-")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from azukari.cases.models import AZUKARI_STATES, Case, CaseEvent, Inquiry
    from azukari.org.models import Role
    from azukari.testing.factories import (
        ClientFactory,
        CustomerFactory,
        SiteFactory,
        TeamFactory,
        UserFactory,
    )
    from azukari.web.pages import backlog

    run = f"{random.randrange(16**6):06x}"
    coffee = ClientFactory(code=f"coffee-{run}")
    sites = [SiteFactory(code=f"{name}-{run}") for name in ("sapporo", "osaka", "fukuoka")]
    teams = [TeamFactory(site=s, code=f"{s.code}-desk", clients=[coffee]) for s in sites]
    desk = UserFactory(username=f"desk-{run}", role=Role.DESK, home_site=sites[0], clients=[coffee])
    customer = CustomerFactory(client=coffee)
    now = timezone.now()
    states = sorted(AZUKARI_STATES)
    reasons = ["client_decision", "sv_callback", "investigation", "customer_action"]
    rng = random.Random(7)
    started = time.perf_counter()
    made = 0
    while made < args.cases:
        size = min(args.batch, args.cases - made)
        rows = []
        for _ in range(size):
            parked = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 60))
            open_ = rng.random() < 0.35
            state = rng.choice(states) if open_ else "resolved"
            team = rng.choice(teams)
            rows.append(
                Case(
                    client=coffee,
                    customer=customer,
                    kind="cancellation",
                    subject="Wants to cancel",
                    state=state,
                    azukari_reason=rng.choice(reasons),
                    site_id=team.site_id,
                    owner_team=team,
                    opened_by=desk,
                    opened_at=parked - dt.timedelta(minutes=5),
                    parked_at=parked,
                    center_seconds=rng.randrange(36000),
                    client_seconds=rng.randrange(72000),
                    customer_seconds=rng.randrange(3600),
                    clock_since=parked + dt.timedelta(hours=rng.randrange(48)) if open_ else None,
                    resolved_at=None if open_ else parked + dt.timedelta(days=2),
                )
            )
        created = Case.objects.bulk_create(rows, batch_size=2000)
        events, inquiries = [], []
        for case in created:
            events.append(CaseEvent(client=coffee, case=case, at=case.opened_at, kind="opened",
                                    to_state="open"))  # fmt: skip
            events.append(CaseEvent(client=coffee, case=case, at=case.parked_at, kind="parked",
                                    from_state="open", to_state="azukari"))  # fmt: skip
            if case.state == "resolved":
                events.append(CaseEvent(client=coffee, case=case, at=case.resolved_at,
                                        kind="resolved", from_state="azukari",
                                        to_state="resolved"))  # fmt: skip
            elif case.state != "azukari":
                events.append(CaseEvent(client=coffee, case=case, at=case.clock_since,
                                        kind="moved", from_state="azukari",
                                        to_state=case.state))  # fmt: skip
            if case.pk % 10 == 0 and case.state == "waiting_client":
                inquiries.append(Inquiry(client=coffee, case=case, question="?", options=[],
                                         sent_at=case.parked_at, sent_by=desk,
                                         due_at=case.parked_at + dt.timedelta(days=2)))  # fmt: skip
        CaseEvent.objects.bulk_create(events, batch_size=5000)
        Inquiry.objects.bulk_create(inquiries, batch_size=2000)
        made += size
    print(f"{connection.vendor}: built {args.cases} cases in {time.perf_counter() - started:.1f} s")
    opened = Case.objects.filter(state__in=AZUKARI_STATES).count()
    print(f"open azukari: {opened}; events: {CaseEvent.objects.count()}")
    filters = backlog.Filters()

    def timed(label, fn):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - t0
        print(f"{label:<34} {seconds * 1000:9.1f} ms  queries={len(ctx.captured_queries)}")
        return result

    site_filters = backlog.Filters(site=sites[0].pk, bucket="gt7")

    def board():
        return backlog.backlog_board(viewer=desk, filters=filters, now=now)

    def board_filtered():
        return backlog.backlog_board(viewer=desk, filters=site_filters, now=now)

    def inquiries():
        qs = backlog.overdue_inquiries(viewer=desk, filters=filters, now=now)
        return qs.count(), list(qs[:10])

    def callbacks():
        qs = backlog.overdue_callbacks(viewer=desk, filters=filters, now=now)
        return qs.count(), list(qs[:10])

    def first_page():
        _header, qs, row = backlog._list_rows("azukari", desk, filters, now)
        return [row(c) for c in qs[:25]], qs.count()

    for _ in range(2):  # the second round is with warm caches
        timed("board (all breakdowns + clocks)", board)
        timed("board, one site and bucket", board_filtered)
        timed("trend (30 days)", lambda: backlog.backlog_trend(viewer=desk, days=30))
        timed("overdue inquiries (count + 10)", inquiries)
        timed("overdue callbacks (count + 10)", callbacks)
        timed("list page 1 (25 rows + count)", first_page)

    # One age in every table: the same cases have the same average whichever table shows them.
    whole = board()
    averages = {
        name: sum(r.total_seconds for r in table.rows.values()) / max(whole.total.count, 1) / 3600
        for name, table in whole.by.items()
    }
    print(
        "average age (business h) by table: "
        + ", ".join(f"{k} {v:.1f}" for k, v in averages.items())
    )

    def export():
        header, qs, row = backlog._list_rows("azukari", desk, filters, now)
        return sum(1 for _ in backlog._csv_stream(header, qs, row))

    lines = timed("CSV export of every open azukari", export)
    print(f"CSV lines: {lines}")


if __name__ == "__main__":
    main()
