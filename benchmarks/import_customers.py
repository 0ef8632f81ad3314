"""Import rate for a large customer file, and how long operators' writes wait meanwhile.

    DATABASE_URL=sqlite:///var/bench.sqlite3 python benchmarks/import_customers.py 1000000
    DATABASE_URL=postgres://... python benchmarks/import_customers.py 1000000
    (BENCH_SKIP_SECOND=1 skips the second, idempotent run.)

Prints: rows/s of `import_run` (check, stage, write hidden, switch), the length of the last
transaction (the switch that shows the new customers), the writers' waits (an operator-like
write every 50 ms in another thread, its worst and p99), and the database's own bulk path on
the same rows as the ceiling (executemany on SQLite, COPY on PostgreSQL). The database is
migrated and a client `bench` created if missing.
"""

import csv
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import OperationalError, connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from azukari.customers.models import CustomerPhone  # noqa: E402
from azukari.dataio.services import import_run, import_start  # noqa: E402
from azukari.org.models import Client, ClientClosedDay  # noqa: E402


def make_file(path: Path, n: int, prefix: str) -> None:
    with path.open("w", encoding="cp932", newline="") as f:
        w = csv.writer(f)
        w.writerow(["顧客番号", "姓", "名", "セイ", "メイ", "電話番号", "郵便番号", "住所"])
        for i in range(n):
            w.writerow(
                [
                    f"{prefix}{i:08d}",
                    "髙橋",
                    "一郎",
                    "ﾀｶﾊｼ",
                    "ｲﾁﾛｳ",
                    f"090-{1000 + i // 10000 % 9000:04d}-{i % 10000:04d}",
                    "１５０－０００１",
                    "東京都渋谷区神宮前１丁目①",
                ]
            )


class Writer(threading.Thread):
    """An operator saving something every 50 ms: records how long each write took."""

    def __init__(self, client: Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.waits: list[float] = []
        self.failed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        day = 0
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                day += 1
                try:
                    with transaction.atomic():
                        ClientClosedDay.objects.create(
                            client=self.client,
                            date=timezone.localdate().replace(year=2100)
                            - timezone.timedelta(days=day),
                            note="bench",
                        )
                except OperationalError:  # gave up after the busy timeout
                    self.failed += 1
                self.waits.append(time.perf_counter() - started)
                time.sleep(0.05)
        finally:
            connections.close_all()


def ceiling(n: int, client: Client) -> float:
    """The database's own bulk path for the same customers, in a table copy."""
    now = timezone.now()
    rows = [
        (
            client.pk,
            f"X{i:08d}",
            "髙橋",
            "一郎",
            "タカハシ",
            "イチロウ",
            "150-0001",
            "東京都①",
            "",
            now,
            now,
        )
        for i in range(n)
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_ceiling")
        cursor.execute(
            "CREATE TABLE bench_ceiling AS SELECT client_id, customer_number, family_name, "
            "given_name, family_name_kana, given_name_kana, postcode, address, search_text, "
            "created_at, updated_at FROM customers_customer WHERE 1 = 0"
        )
        cursor.execute(
            "CREATE UNIQUE INDEX bench_ceiling_number ON bench_ceiling (client_id, customer_number)"
        )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                "COPY bench_ceiling (client_id, customer_number, family_name, given_name, "
                "family_name_kana, given_name_kana, postcode, address, search_text, created_at, "
                "updated_at) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                "INSERT INTO bench_ceiling VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(*r[:9], adapt(r[9]), adapt(r[10])) for r in rows],
            )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_ceiling")
    return n / elapsed


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    call_command("migrate", verbosity=0)
    client, _ = Client.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    ClientClosedDay.objects.filter(client=client, note="bench").delete()
    prefix = f"B{int(time.time()) % 100000:05d}-"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        make_file(path, n, prefix)
        print(f"{connection.vendor}: {n:,} rows, {path.stat().st_size / 1e6:.0f} MB CP932")
        writer = Writer(client)
        writer.start()
        started = time.perf_counter()
        batch = import_start(actor=None, client=client, kind="customers", path=path)
        batch = import_run(batch=batch)
        elapsed = time.perf_counter() - started
        writer.stop.set()
        writer.join()
        assert batch.status == "done", batch.errors[:3]
        print(f"import_run: {elapsed:.1f} s, {n / elapsed:,.0f} rows/s (created {batch.created:,})")
        print(f"last transaction (the switch): {batch.switch_seconds:.2f} s")
        waits = sorted(writer.waits)
        if waits:
            p99 = waits[int(len(waits) * 0.99) - 1] if len(waits) > 100 else waits[-1]
            print(
                f"writers: {len(waits)} writes, median {statistics.median(waits) * 1000:.1f} ms, "
                f"p99 {p99 * 1000:.0f} ms, worst {waits[-1] * 1000:.0f} ms, "
                f"gave up (busy timeout): {writer.failed}"
            )
        if os.environ.get("BENCH_SKIP_SECOND"):
            path.unlink()
            print(f"ceiling: {ceiling(n, client):,.0f} rows/s")
            return
        started = time.perf_counter()
        again = import_run(
            batch=import_start(actor=None, client=client, kind="customers", path=path)
        )
        print(
            f"second run (nothing new): {time.perf_counter() - started:.1f} s, "
            f"created {again.created}, updated {again.updated}, unchanged {again.unchanged:,}"
        )
    print(
        f"ceiling ({'COPY' if connection.vendor == 'postgresql' else 'executemany'}): "
        f"{ceiling(n, client):,.0f} rows/s"
    )
    print(f"phones: {CustomerPhone.objects.filter(client=client).count():,}")


if __name__ == "__main__":
    main()
