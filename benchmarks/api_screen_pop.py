"""Screen pop latency (p50/p95) in-process and over HTTP (gunicorn), and its query count.

    python benchmarks/api_screen_pop.py --customers 100000 [--requests 500] [--database-url URL]

Without --database-url it works in a fresh SQLite file in a temporary directory: migrate,
`azukari generate --customers N`, a center token, then the same random callers popped through
the Django test client and through gunicorn on a free loopback port. Half the calls are for
known numbers, half for unknown ones (the common case of a first-time caller).
"""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label: str, samples: list[float]) -> None:
    print(
        f"{label:<22} n={len(samples):<5} p50={percentile(samples, 50):7.2f} ms  "
        f"p95={percentile(samples, 95):7.2f} ms  mean={statistics.fmean(samples):7.2f} ms"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="azukari-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("AZUKARI_DATA_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    from azukari.api.models import Scope
    from azukari.api.services import api_token_create
    from azukari.core.phones import InvalidPhone, normalize_phone
    from azukari.customers.models import Customer, CustomerPhone
    from azukari.org.models import Client, ClientLine

    def is_valid(number: str) -> bool:
        try:
            return normalize_phone(number) == number
        except InvalidPhone:
            return False

    print(f"database: {connection.vendor} ({database_url})")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        call_command("generate", customers=args.customers, verbosity=0)
    print(
        f"data: {Customer.objects.count():,} customers, {CustomerPhone.objects.count():,} "
        f"phones ({time.perf_counter() - started:.0f} s to build)"
    )

    coffee = Client.objects.get(code="coffee")
    line = ClientLine.objects.filter(client=coffee).first()
    _token, raw = api_token_create(
        name="bench PBX",
        scopes=[Scope.SCREEN_POP],
        center_clients=list(Client.objects.all()),
    )
    rng = random.Random(args.seed)
    sample = list(CustomerPhone.objects.filter(client=coffee).order_by("?")[:1000])
    invalid = [p for p in sample if not is_valid(p.number)]
    if invalid:
        # Generated numbers outside the real numbering plan can never be popped (the caller's
        # number is validated first); give the sampled customers real mobile numbers.
        for i, phone in enumerate(invalid):
            phone.number = f"+8190{51_000_000 + i:08d}"
        CustomerPhone.objects.bulk_update(invalid, ["number"], batch_size=500)
        print(f"note: {len(invalid)} of {len(sample)} sampled numbers were not valid; renumbered")
    known = [p.number for p in sample]
    callers = [
        rng.choice(known) if i % 2 == 0 else f"+8180{rng.randrange(10**8):08d}"
        for i in range(args.requests)
    ]
    path = "/api/v1/screen-pop"
    headers = {"Authorization": f"Bearer {raw}"}

    client = TestClient()
    params = {"dialled_number": line.number, "caller_number": callers[0]}
    client.get(path, params, headers=headers)  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params, headers=headers)
    assert response.status_code == 200, response.content
    matches = len(response.json()["matches"])
    print(f"queries per screen pop: {len(queries)} ({matches} match(es) for a known caller)")

    samples = []
    for caller in callers:
        t0 = time.perf_counter()
        response = client.get(
            path, {"dialled_number": line.number, "caller_number": caller}, headers=headers
        )
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    report("in-process", samples)

    port = free_port()
    env = {
        **os.environ,
        "AZUKARI_ALLOWED_HOSTS": "127.0.0.1",
        "AZUKARI_DB_CONN_MAX_AGE": "600",
    }
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "azukari.config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=15).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        samples = []
        for i, caller in enumerate([callers[0], *callers]):
            query = urllib.parse.urlencode({"dialled_number": line.number, "caller_number": caller})
            request = urllib.request.Request(f"{base}{path}?{query}", headers=headers)
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=15) as response:
                json.loads(response.read())
            if i:  # the first call warms the worker
                samples.append((time.perf_counter() - t0) * 1000)
        report(f"HTTP (gunicorn x{args.workers})", samples)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
