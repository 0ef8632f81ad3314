"""Operator desk customer search: latency (p50/p95) through the index, and its query count.

    python benchmarks/desk_search.py --customers 100000 [--queries 300] [--database-url URL]

Without --database-url it works in a fresh SQLite file in a temporary directory: migrate,
`azukari generate --customers N`, then random queries cut from real customers' readings and
names (hiragana, katakana, half-width kana, kanji, partial), customer numbers and phones,
run through `customer_search` as an operator serving every client sees it.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label: str, samples: list[float]) -> None:
    print(
        f"{label:<24} n={len(samples):<5} p50={percentile(samples, 50):7.2f} ms  "
        f"p95={percentile(samples, 95):7.2f} ms  mean={statistics.fmean(samples):7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="azukari-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("AZUKARI_DATA_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    import jaconv
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from azukari.core.phones import display_phone
    from azukari.customers.models import Customer
    from azukari.customers.search import customer_search
    from azukari.org.models import Client, Role, Site, User

    print(f"database: {connection.vendor} ({database_url})")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        call_command("generate", customers=args.customers, verbosity=0)
    print(f"data: {Customer.objects.count():,} customers ({time.perf_counter() - started:.0f} s)")

    site = Site.objects.first() or Site.objects.create(code="bench", name="Bench")
    viewer, _ = User.objects.get_or_create(
        username="bench-operator",
        defaults={"role": Role.OPERATOR, "home_site": site, "agreement_signed_on": "2024-04-01"},
    )
    viewer.clients.set(Client.objects.all())
    viewer = User.objects.get(pk=viewer.pk)

    rng = random.Random(args.seed)
    sample = list(
        Customer.objects.order_by("?").prefetch_related("phones")[: max(20, args.queries // 5)]
    )
    kinds = {
        "kanji family name": lambda c: c.family_name,
        "hiragana reading": lambda c: jaconv.kata2hira(c.family_name_kana + c.given_name_kana),
        "half-width kana part": lambda c: jaconv.z2h(c.family_name_kana[:3], kana=True),
        "customer number": lambda c: c.customer_number,
        "phone (national, hyphens)": lambda c: (
            display_phone(c.phones.all()[0].number) if c.phones.all() else c.customer_number
        ),
    }
    for label, make in kinds.items():
        samples, found, counts = [], 0, set()
        for _ in range(max(1, args.queries // len(kinds))):
            query = make(rng.choice(sample))
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                rows = list(customer_search(viewer=viewer, query=query, limit=20))
                samples.append((time.perf_counter() - t0) * 1000)
            found += bool(rows)
            counts.add(len(ctx.captured_queries))
        report(label, samples)
        print(f"{'':<24} found={found}/{len(samples)}  queries per search={sorted(counts)}")


if __name__ == "__main__":
    main()
