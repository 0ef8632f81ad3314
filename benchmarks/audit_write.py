"""Figures for the personal-data audit: what the audit write adds to the screen pop, how fast
the worker seals, how fast `audit verify` recomputes.

Run:  .venv/bin/python benchmarks/audit_write.py [--customers N] [--history N] [--pops N]
      [--with-sealer]

Prints figures; passes or fails nothing. Runs on a throw-away test database (SQLite by default,
PostgreSQL when DATABASE_URL says so). `--with-sealer` seals in a second thread meanwhile, as
the worker does in production.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")

import django

django.setup()

from django.db import connection, connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from azukari.api.selectors import screen_pop  # noqa: E402
from azukari.audit.models import AccessAction, AccessEvent  # noqa: E402
from azukari.audit.services import (  # noqa: E402
    access_events_signed,
    audit_seal,
    audit_seal_all,
    personal_data_access,
)
from azukari.audit.verify import audit_verify  # noqa: E402
from azukari.customers.models import Customer, CustomerPhone  # noqa: E402
from azukari.org.models import ClientLine  # noqa: E402
from azukari.testing.factories import ClientFactory, SiteFactory, UserFactory  # noqa: E402

SCREEN_POP_FIELDS = ("name", "name_kana", "customer_number", "phones", "address")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(label: str, values_ms: list[float]) -> None:
    print(
        f"  {label:<38} p50 {pct(values_ms, 50):7.3f} ms   p95 {pct(values_ms, 95):7.3f} ms"
        f"   p99 {pct(values_ms, 99):7.3f} ms   (n={len(values_ms)})"
    )


def build(customers: int, history: int):
    clients = [ClientFactory(code=f"bench{i}") for i in range(3)]
    site = SiteFactory(code="bench-site")
    operator = UserFactory(username="bench-op", home_site=site, clients=clients)
    numbers = []
    for c_index, client in enumerate(clients):
        ClientLine.objects.create(client=client, number=f"+8112012345{c_index}")
        rows = [
            Customer(
                client=client,
                customer_number=f"B{c_index}-{i:07d}",
                family_name="山田",
                given_name="太郎",
            )
            for i in range(customers)
        ]
        Customer.objects.bulk_create(rows, batch_size=2000)
        phones = []
        for i, customer in enumerate(Customer.objects.filter(client=client).order_by("id")):
            number = f"+8190{20_000_000 + c_index * 1_000_000 + i}"
            phones.append(CustomerPhone(client=client, customer=customer, number=number))
            numbers.append((f"+8112012345{c_index}", number))
        CustomerPhone.objects.bulk_create(phones, batch_size=2000)
    now = timezone.now()
    ids = list(Customer.objects.values_list("id", "client_id"))
    batch = []
    for n in range(history):
        pk, client_id = ids[n % len(ids)]
        batch.append(
            AccessEvent(
                client_id=client_id,
                at=now - dt.timedelta(seconds=history - n),
                actor=operator,
                action=AccessAction.SCREEN_POP,
                customer_ref=pk,
                fields=list(SCREEN_POP_FIELDS),
                purpose="history",
                ip="192.0.2.1",
            )
        )
        if len(batch) == 5000:
            AccessEvent.objects.bulk_create(access_events_signed(batch))
            batch = []
    AccessEvent.objects.bulk_create(access_events_signed(batch))
    return operator, numbers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000, help="per client (3 clients)")
    parser.add_argument("--history", type=int, default=200000, help="audit events already there")
    parser.add_argument("--pops", type=int, default=3000)
    parser.add_argument("--with-sealer", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}")
        started = time.perf_counter()
        operator, numbers = build(args.customers, args.history)
        print(
            f"built {3 * args.customers} customers and {args.history} audit events "
            f"in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        sealed = sum(audit_seal_all().values())
        elapsed = time.perf_counter() - started
        print(f"seal: {sealed} events in {elapsed:.2f} s ({sealed / elapsed:,.0f} events/s)")
        started = time.perf_counter()
        report = audit_verify()
        elapsed = time.perf_counter() - started
        events = sum(r.events for r in report.results)
        print(
            f"verify: {events} events in {elapsed:.2f} s ({events / elapsed:,.0f} events/s), "
            f"ok={report.ok}"
        )

        rng = random.Random(5)
        operator.refresh_from_db()
        stop = threading.Event()
        sealer_runs = [0]

        def sealer() -> None:
            while not stop.is_set():
                for client_id in (
                    AccessEvent.objects.filter(seq__isnull=True)
                    .values_list("client_id", flat=True)
                    .distinct()
                    .order_by()
                ):
                    audit_seal(client_id=client_id)
                    sealer_runs[0] += 1
                time.sleep(0.2)
            connections.close_all()

        thread = None
        if args.with_sealer:
            thread = threading.Thread(target=sealer, daemon=True)
            thread.start()

        plain, audited, write_only, write_cpu = [], [], [], []
        for i in range(args.pops):
            dialled, caller = rng.choice(numbers)
            t0 = time.perf_counter()
            pop = screen_pop(viewer=operator, dialled_number=dialled, caller_number=caller)
            t1 = time.perf_counter()
            if i % 2:
                c1 = time.process_time()
                personal_data_access(
                    viewer=operator,
                    customers=pop.matches,
                    fields=SCREEN_POP_FIELDS,
                    action=AccessAction.SCREEN_POP,
                    purpose=f"line:{dialled}",
                    object_type="screen_pop",
                )
                t2 = time.perf_counter()
                write_cpu.append((time.process_time() - c1) * 1000)
                audited.append((t2 - t0) * 1000)
                write_only.append((t2 - t1) * 1000)
            else:
                plain.append((t1 - t0) * 1000)
        if thread is not None:
            stop.set()
            thread.join()
        print(
            f"screen pop, {args.pops} calls"
            + (f", sealer running ({sealer_runs[0]} seals)" if args.with_sealer else "")
            + ":"
        )
        line("screen pop without audit", plain)
        line("screen pop with audit", audited)
        line("audit write alone (added time)", write_only)
        line("audit write alone, CPU time", write_cpu)
        print(
            f"  added p95 (with - without): {pct(audited, 95) - pct(plain, 95):.3f} ms; "
            f"mean added {statistics.mean(write_only):.3f} ms"
        )
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old, verbosity=0)


if __name__ == "__main__":
    main()
