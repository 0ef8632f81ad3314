"""Export rate and peak memory of a streamed customer export.

    DATABASE_URL=... python benchmarks/export_customers.py CLIENT_CODE USERNAME [csv|xlsx]

Run it against a database holding many customers (for example after
benchmarks/import_customers.py). Prints rows/s and the process's peak RSS.
"""

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
import django

django.setup()

from azukari.dataio.exports import csv_stream, export_header, export_rows, xlsx_write  # noqa: E402
from azukari.org.models import Client, User  # noqa: E402


def main() -> None:
    code, username = sys.argv[1], sys.argv[2]
    fmt = sys.argv[3] if len(sys.argv) > 3 else "csv"
    client = Client.objects.get(code=code)
    user = User.objects.get(username=username)
    rows = 0

    def counted():
        nonlocal rows
        for row in export_rows(viewer=user, client=client, what="customers"):
            rows += 1
            yield row

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"customers.{fmt}"
        if fmt == "xlsx":
            xlsx_write(export_header("customers"), counted(), out, sheet_title="customers")
        else:
            with out.open("wb") as f:
                for chunk in csv_stream(export_header("customers"), counted()):
                    f.write(chunk)
        size = out.stat().st_size
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{fmt}: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s, ", end="")
    print(f"{size / 1e6:.0f} MB, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
