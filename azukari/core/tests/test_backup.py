"""The restore drill: `azukari backup` copies a live SQLite database online (what was just
committed included), the copy opens as the database, and its audit chains verify with the
same audit key, and only with it."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from azukari.audit.services import audit_seal_all, personal_data_access
from azukari.customers.models import Customer
from azukari.dataio.tests.test_import_killed import database_url
from azukari.testing.factories import CustomerFactory

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="the drill restores a SQLite file; PostgreSQL uses pg_dump/pg_restore",
    ),
]


def azukari(*args: str, database: str, audit_key: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
        "AZUKARI_AUDIT_KEY": audit_key,
    }
    env.pop("AZUKARI_TEST_DB_NAME", None)
    return subprocess.run(
        [sys.executable, "-m", "azukari.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        customers = db.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
        events = db.execute("SELECT count(*) FROM audit_accessevent").fetchone()[0]
    return customers, events


def test_backup_restore_drill_keeps_every_commit_and_the_audit_chain(cast, tmp_path):
    key = settings.AZUKARI_AUDIT_KEY
    customers = [CustomerFactory(client=cast.coffee) for _ in range(20)]
    personal_data_access(viewer=cast.operator, customers=customers, fields=["phones"])
    audit_seal_all()
    last = CustomerFactory(client=cast.coffee, customer_number="LAST-COMMIT")  # in the WAL
    assert Path(f"{connection.settings_dict['NAME']}-wal").exists()

    backup = tmp_path / "azukari-backup.sqlite3"
    made = azukari("backup", str(backup), database=database_url(), audit_key=key)
    assert made.returncode == 0, made.stderr
    assert backup.exists() and not list(tmp_path.glob(".*partial"))

    # Restore: the copy becomes the database of a fresh server.
    restored = tmp_path / "restored.sqlite3"
    restored.write_bytes(backup.read_bytes())
    assert counts(restored) == (Customer.objects.count(), 20)
    with sqlite3.connect(restored) as db:
        number = db.execute(
            "SELECT customer_number FROM customers_customer WHERE id = ?", [last.pk]
        ).fetchone()
    assert number == ("LAST-COMMIT",)
    url = f"sqlite:///{restored}"
    assert azukari("migrate", "--check", database=url, audit_key=key).returncode == 0
    verified = azukari("audit", "verify", database=url, audit_key=key)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    wrong_key = azukari("audit", "verify", database=url, audit_key="another-key")
    assert wrong_key.returncode != 0


def test_backup_refuses_to_overwrite_a_file(cast, tmp_path):
    existing = tmp_path / "backup.sqlite3"
    existing.write_bytes(b"an older backup")
    made = azukari("backup", str(existing), database=database_url(), audit_key="k")
    assert made.returncode != 0
    assert existing.read_bytes() == b"an older backup"
