"""An import killed midway leaves the live tables as they were, and its journal is swept."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from azukari.customers.models import Customer, CustomerPhone, HiddenImport
from azukari.customers.search import customer_search
from azukari.dataio.models import ImportBatch, ImportStatus, StagedCustomer
from azukari.dataio.services import import_journal_sweep
from azukari.dataio.tests.conftest import write_csv
from azukari.dataio.tests.test_import_search_index import search_index_matches_rows
from azukari.testing.factories import CustomerFactory

ROWS = 40_000


def database_url() -> str:
    """The test database, as a URL another process can open."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def big_file(tmp_path):
    rows = [["顧客番号", "姓", "名", "セイ", "電話番号"]]
    rows.append(["K0000001", "上書き", "されない", "ｳﾜｶﾞｷ", "090-9999-0000"])
    rows.extend(
        [f"K{n:07d}", "髙橋", "一郎", "ﾀｶﾊｼ", f"090-{1000 + n // 10000:04d}-{n % 10000:04d}"]
        for n in range(2, ROWS)
    )
    return write_csv(tmp_path / "big.csv", rows, "cp932")


def import_killed_when(path, ready) -> None:
    """Runs the import command in its own process and SIGKILLs it once `ready()` is true."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    command = ["import", "customers", str(path), "--client", "coffee", "--no-progress"]
    process = subprocess.Popen(
        [sys.executable, "-m", "azukari.cli", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if ready():
                break
            time.sleep(0.02)
        assert process.poll() is None, process.stderr.read().decode()
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()


def assert_as_before(cast, kept, before) -> None:
    assert (Customer.objects.count(), CustomerPhone.objects.count()) == before
    assert list(customer_search(viewer=cast.operator, query="たかはしいちろう")) == []
    kept_now = Customer.objects.get(pk=kept.pk)
    assert (kept_now.family_name, kept_now.updated_at) == (kept.family_name, kept.updated_at)
    assert list(kept_now.phones.values_list("number", flat=True)) == ["+819011112222"]


def sweep_and_check(cast, kept, before) -> None:
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert import_journal_sweep() == 1
    batch = ImportBatch.objects.get(client=cast.coffee)
    assert batch.status == ImportStatus.ABANDONED
    assert not StagedCustomer.objects.filter(batch=batch).exists()
    assert_as_before(cast, kept, before)
    all_rows = (Customer.all_rows.count(), CustomerPhone.all_rows.count())
    assert all_rows == before  # the hidden rows too
    assert not HiddenImport.objects.exists()
    if connection.vendor == "sqlite":  # their search entries went with them
        assert search_index_matches_rows()


@pytest.mark.django_db(transaction=True)
def test_killed_import_leaves_no_trace(cast, tmp_path):
    kept = CustomerFactory(client=cast.coffee, customer_number="K0000001", phones=["+819011112222"])
    path = big_file(tmp_path)
    before = (Customer.objects.count(), CustomerPhone.objects.count())

    def staged_a_lot() -> bool:
        batch = ImportBatch.objects.filter(client=cast.coffee).first()
        return bool(batch) and StagedCustomer.objects.filter(batch=batch).count() >= 10_000

    import_killed_when(path, staged_a_lot)

    assert_as_before(cast, kept, before)
    batch = ImportBatch.objects.get(client=cast.coffee)
    assert batch.status == ImportStatus.RUNNING  # the journal left behind, read by nothing
    assert batch.rows_seen < ROWS - 1
    sweep_and_check(cast, kept, before)


@pytest.mark.django_db(transaction=True)
def test_import_killed_while_writing_hidden_rows_shows_none_of_them(cast, tmp_path):
    kept = CustomerFactory(client=cast.coffee, customer_number="K0000001", phones=["+819011112222"])
    path = big_file(tmp_path)
    before = (Customer.objects.count(), CustomerPhone.objects.count())

    def some_written_hidden() -> bool:
        return Customer.all_rows.filter(import_batch_id__isnull=False).count() >= 5_000

    import_killed_when(path, some_written_hidden)

    assert Customer.all_rows.count() > before[0]  # written, and out of sight:
    assert_as_before(cast, kept, before)
    assert ImportBatch.objects.get(client=cast.coffee).status == ImportStatus.SWITCHING
    sweep_and_check(cast, kept, before)
