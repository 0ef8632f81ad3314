"""What an idle operator desk costs the server: the incoming-call check, over real HTTP.

    DATABASE_URL=... python benchmarks/idle_desk.py [--checks 2000] [--operators 2000]
        [--wait-seconds 60]

Starts gunicorn (one sync worker, production settings over loopback HTTP) on the database
built by `generate`, logs the Sapporo operator in by writing a session, and sends the desk's
incoming-call check one request after another, the way the page sends it:

- old: `GET /desk/?part=incoming` every 3 s, the panel rendered each time;
- new: `GET /desk/incoming/` with the ETag of the panel the page already shows
  (`If-None-Match`) and the desk's ticket: 304 and no body while nothing changed, answered
  before Django's request handling (`azukari.web.incoming.IncomingCheck`); one check in
  `full_check_every()` goes without the ticket, through the page (also measured alone);
- floor: gunicorn answering the same request from a WSGI app that does nothing, the least
  any poll through a sync worker costs;
- long wait: `azukari desk_wait` with `--operators` desks waiting at once, each asking again
  when its wait ends (`desk_wait.py`): the server's CPU over `--wait-seconds`, and how soon
  a ringing call answers a waiting desk. `met` is this way's figure; `met_polling` the poll's.

The cost is the worker's CPU time (user + system, read from /proc) divided by the number of
checks: what each check costs a core, whatever the client does. From it, the share of one
core that `--operators` idle desks take at each way's interval. It also checks that a call
the PBX announces shows at the next check and that the unchanged check is a 304. It ends the
operator's calls left open (an idle desk has none) and the call it rings.
"""

import argparse
import datetime as dt
import html
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")

import desk_wait  # noqa: E402
from common import summary, wait_listening, write_result  # noqa: E402

OLD_INTERVAL_S = 3
SECRET_KEY = secrets.token_urlsafe(50)


def server_env(database_url: str) -> dict[str, str]:
    """Production settings over plain HTTP on loopback (no HTTPS redirect, no Secure cookies)."""
    return {
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
        "DATABASE_URL": database_url,
        "AZUKARI_PRODUCTION": "true",
        "AZUKARI_DEBUG": "false",
        "AZUKARI_SECRET_KEY": SECRET_KEY,
        "AZUKARI_AUDIT_KEY": os.environ.get("AZUKARI_AUDIT_KEY") or "idle-desk-benchmark",
        "AZUKARI_ALLOWED_HOSTS": "127.0.0.1",
        "AZUKARI_SSL_REDIRECT": "false",
        "AZUKARI_SECURE_COOKIES": "false",
        "AZUKARI_HSTS_SECONDS": "0",
        "AZUKARI_DB_CONN_MAX_AGE": "60",
        "AZUKARI_LOG_LEVEL": "WARNING",
    }


def django_as_server() -> dict[str, str]:
    """Django set up in this process with the server's settings (DATABASE_URL from the
    environment); returns the environment to start the server with."""
    env = server_env(os.environ.get("DATABASE_URL", ""))
    os.environ.update(env)
    import django

    django.setup()
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def floor_app(environ, start_response):
    """Answers every request with an empty 304: what gunicorn itself costs per request."""
    start_response("304 Not Modified", [("ETag", '"floor"')])
    return []


def start_gunicorn(
    env: dict[str, str], log: Path, app: str = "azukari.config.wsgi:application"
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", app, "--pythonpath", str(ROOT / "benchmarks"),
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60",
            "--log-level", "warning",
        ],
        cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_listening(port, process, "gunicorn", log)
    return process, port


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    sys.exit("gunicorn started no worker")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session_for(user) -> str:
    """A logged-in session as `login()`, the second factor (production asks operators for
    one) and the session-lifetime middleware leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from azukari.web.security import LOGIN_AT, SEEN_AT

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="idle desk benchmark", defaults={"confirmed": True}
    )

    store = SessionStore()
    now = int(time.time())
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            DEVICE_ID_SESSION_KEY: device.persistent_id,
            LOGIN_AT: now,
            SEEN_AT: now,
        }
    )
    store.create()
    return store.session_key


def forget_device(user) -> None:
    """Takes back the benchmark's second-factor device: with it, every other benchmark's
    log-in of this operator would be asked for a second factor."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user, name="idle desk benchmark").delete()


class Desk:
    """One operator's browser: the session cookie, one request at a time."""

    def __init__(self, port: int, session: str) -> None:
        self.port = port
        self.cookie = f"sessionid={session}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(
            "GET", path, headers={"Cookie": self.cookie, "HX-Request": "true", **(headers or {})}
        )
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response


def measure_checks(desk: Desk, pid: int, path: str, headers: dict, *, checks: int, status: int):
    for _ in range(20):  # warm: code paths, caches, the database's pages
        assert desk.get(path, headers).status == status
    samples = []
    cpu = cpu_seconds(pid)
    for _ in range(checks):
        started = time.perf_counter()
        response = desk.get(path, headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status == status, (response.status, response.body[:200])
    spent = cpu_seconds(pid) - cpu
    return spent / checks, samples, len(response.body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--operators", type=int, default=2000)
    parser.add_argument("--wait-seconds", type=float, default=60, help="long wait measured")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    env = django_as_server()
    from django.db import connection
    from django.utils import timezone

    from azukari.api.services import contact_event_record
    from azukari.cases.models import Contact
    from azukari.customers.models import Customer, CustomerPhone
    from azukari.org.models import Client, User
    from azukari.web.incoming import POLL_SECONDS, full_check_every

    full_every = full_check_every()

    counts = {"customers": Customer.objects.count(), "contacts": Contact.objects.count()}
    print(f"{connection.vendor}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    operator = User.objects.get(username="op_sapporo")
    coffee = Client.objects.get(code="coffee")
    # An idle desk: no call of this operator's still ringing or unrecorded.
    Contact.objects.filter(handler=operator, ended_at__isnull=True).update(ended_at=timezone.now())
    session = session_for(operator)
    connection.close()

    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    server, port = start_gunicorn(env, work / "idle-desk-gunicorn.log")
    rows: list[dict[str, Any]] = []
    try:
        pid = worker_pid(server.pid)
        desk = Desk(port, session)

        old = desk.get("/desk/?part=incoming")
        assert old.status == 200 and b"incoming-pop" not in old.body, (old.status, old.body[:300])
        cpu, samples, size = measure_checks(
            desk, pid, "/desk/?part=incoming", {}, checks=args.checks, status=200
        )
        rows.append(row("old: full panel every 3 s", cpu, samples, size, OLD_INTERVAL_S, args))

        page = desk.get("/desk/").body.decode()
        tag = html.unescape(re.search(r'data-etag="([^"]+)"', page).group(1))
        ticket = html.unescape(re.search(r'data-ticket="([^"]+)"', page).group(1))
        unchanged = {"If-None-Match": tag, "X-Desk-Ticket": ticket}
        cpu_page, samples, size = measure_checks(
            desk, pid, "/desk/incoming/", {"If-None-Match": tag}, checks=args.checks, status=304
        )
        rows.append(row("ETag, 304 from the page", cpu_page, samples, size, POLL_SECONDS, args))
        cpu_fast, samples, size = measure_checks(
            desk, pid, "/desk/incoming/", unchanged, checks=args.checks, status=304
        )
        rows.append(row("ETag, 304 before Django", cpu_fast, samples, size, POLL_SECONDS, args))
        # One check in full_every (app.js) goes through the page.
        blended = (cpu_fast * (full_every - 1) + cpu_page) / full_every
        rows.append(
            row(f"new: both, 1 in {full_every} by the page", blended, samples, 0,
                POLL_SECONDS, args)
        )  # fmt: skip

        # A call rings: the very next check carries it.
        caller = CustomerPhone.objects.filter(client=coffee).values_list("number", flat=True)[0]
        rung, _created = contact_event_record(
            viewer=operator, client=coffee, call_id=f"idle-{secrets.token_hex(4)}",
            event="started", at=timezone.now() - dt.timedelta(seconds=1),
            caller_number=caller, agent_id=operator.agent_id,
        )  # fmt: skip
        after = desk.get("/desk/incoming/", unchanged)
        rang = after.status == 200 and b'id="incoming-pop"' in after.body
        Contact.objects.filter(pk=rung.pk).update(ended_at=timezone.now())
        connection.close()
        print(f"a ringing call shows at the next check: {'yes' if rang else 'NO'}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        forget_device(operator)

    floor, port = start_gunicorn(env, work / "idle-desk-floor.log", "idle_desk:floor_app")
    try:
        cpu, samples, size = measure_checks(
            Desk(port, session), worker_pid(floor.pid), "/desk/incoming/", unchanged,
            checks=args.checks, status=304,
        )  # fmt: skip
        rows.append(row("floor: gunicorn, an empty app", cpu, samples, size, POLL_SECONDS, args))
    finally:
        floor.terminate()
        floor.wait(timeout=30)

    # The long wait: the desks ask once and the answer comes with a call.
    waiting = desk_wait.measure(
        env, operators=args.operators, seconds=args.wait_seconds, cpu_seconds=cpu_seconds,
        log=work / "desk-wait.log",
    )  # fmt: skip
    print(
        f"{waiting['name']}: {waiting['share_of_one_core_pct']:.2f} % of one core over "
        f"{waiting['window_s']} s, answers {waiting['answers']}; a ring answered the wait "
        f"in {waiting['ring_to_answer_ms']} ms"
    )

    for r in rows:
        print(
            f"{r['name']:<32} CPU {r['cpu_us_per_check']:7.0f} µs/check  "
            f"p50 {r['p50_ms']:6.2f} ms  p95 {r['p95_ms']:6.2f} ms  {r['bytes']:5d} B  "
            f"{args.operators:,} operators: {r['share_of_one_core_pct']:6.1f} % of one core"
        )
    figures = {
        "operators": args.operators,
        "old_interval_s": OLD_INTERVAL_S,
        "new_interval_s": POLL_SECONDS,
        "old_cpu_us_per_check": rows[0]["cpu_us_per_check"],
        "page_304_cpu_us_per_check": rows[1]["cpu_us_per_check"],
        "early_304_cpu_us_per_check": rows[2]["cpu_us_per_check"],
        "new_cpu_us_per_check": rows[3]["cpu_us_per_check"],
        "old_share_of_one_core_pct": rows[0]["share_of_one_core_pct"],
        "new_share_of_one_core_pct": rows[3]["share_of_one_core_pct"],
        "floor_cpu_us_per_check": rows[4]["cpu_us_per_check"],
        "ring_shows_at_next_check": rang,
        "wait_share_of_one_core_pct": waiting["share_of_one_core_pct"],
        "wait_window_s": waiting["window_s"],
        "wait_answers": waiting["answers"],
        "wait_ring_to_answer_ms": waiting["ring_to_answer_ms"],
        "target": "< 10 % of one core",
        "met_polling": rows[3]["share_of_one_core_pct"] < 10,
        "met": waiting["share_of_one_core_pct"] < 10,
    }
    write_result(
        "idle_desk",
        database=connection.vendor,
        counts=counts,
        rows=rows,
        figures=figures,
        json_path=args.json,
    )


def row(name: str, cpu: float, samples: list[float], size: int, interval: float, args) -> dict:
    per_second = args.operators / interval
    return {
        "name": name,
        "cpu_us_per_check": round(cpu * 1e6),
        "interval_s": interval,
        "bytes": size,
        "checks_per_s": round(per_second, 1),
        "share_of_one_core_pct": round(per_second * cpu * 100, 1),
        **summary(samples),
    }


if __name__ == "__main__":
    main()
