"""Online backups of the database, taken while the app and the workers keep writing.

SQLite runs in WAL mode: recent commits may still sit in the `-wal` file, so a plain copy of
the database file can miss them or catch a half-written page. `VACUUM INTO` reads one
consistent snapshot through SQLite itself (the WAL included) and writes a compact copy;
writers are not blocked. PostgreSQL is dumped with `pg_dump --format=custom` (one consistent
snapshot as well), restored with `pg_restore`.

The copy is written under a temporary name and renamed when complete, so a backup cut short
never leaves a file that looks whole. The audit key is not in the database: the chains of a
restored copy verify only with the key they were sealed with, so each backup names the key's
fingerprint (never the key) for whoever restores it.
"""

import hashlib
import hmac
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError


@dataclass(frozen=True)
class Backup:
    path: Path
    method: str
    size: int
    seconds: float
    audit_key_fingerprint: str


def audit_key_fingerprint() -> str:
    """Names the audit key without revealing it: equal fingerprints, same key."""
    key = settings.AZUKARI_AUDIT_KEY.encode()
    return hmac.new(key, b"azukari audit key fingerprint", hashlib.sha256).hexdigest()[:16]


def database_backup(*, destination: Path) -> Backup:
    """Writes a consistent copy of the database to `destination`, online."""
    destination = Path(destination)
    if destination.exists():
        raise DomainError(
            _("%(path)s exists already; choose a new file name.") % {"path": destination},
            field="destination",
        )
    if not destination.parent.is_dir():
        raise DomainError(
            _("No such folder: %(path)s.") % {"path": destination.parent}, field="destination"
        )
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        if connection.vendor == "sqlite":
            method = "sqlite VACUUM INTO"
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(partial)])
        elif connection.vendor == "postgresql":
            method = "pg_dump --format=custom"
            _pg_dump(partial)
        else:
            raise DomainError(_("Backups of this database are not supported."))
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(
        path=destination,
        method=method,
        size=destination.stat().st_size,
        seconds=time.perf_counter() - started,
        audit_key_fingerprint=audit_key_fingerprint(),
    )


def _pg_dump(path: Path) -> None:
    program = shutil.which("pg_dump")
    if program is None:
        raise DomainError(_("pg_dump was not found: install the PostgreSQL client tools."))
    s = connection.settings_dict
    env = {**os.environ, "PGDATABASE": s["NAME"]}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if s.get(key):
            env[variable] = str(s[key])
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    done = subprocess.run(
        [program, "--format=custom", "--no-owner", f"--file={path}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise DomainError(_("pg_dump failed: %(error)s") % {"error": done.stderr.strip()[-500:]})
