"""A floor in full swing against the web app and the PBX API over loopback: a capacity curve
(figures, not a test).

    .venv/bin/python benchmarks/load.py                                  # SQLite, one app server
    .venv/bin/python benchmarks/load.py --database-url postgres://user@host/bench  # two servers
        [--steps 250,500,1000,1500,2000] [--duration 60] [--warmup 60]
        [--calls-per-hour 10] [--case-share 0.3] [--handle-time 180] [--board-reload 60]
        [--servers N] [--workers N] [--no-desk-wait] [--json var/bench/load-sqlite.json]

By default it runs on the data set that `benchmarks/run.py` builds (var/bench/scale.sqlite3,
1,000,000 customers); any migrated database holding `azukari generate` data will do. The
script adds the staff it needs once (operators, SVs and azukari-desk members serving the
demo clients, reused on later runs), logs them in by writing their sessions straight into
the database (thousands of Argon2 log-ins would measure the hasher and trip the log-in
throttle), issues one PBX token per site, starts gunicorn with production settings (HTTP
only, since it is loopback) — one server, or on PostgreSQL two, standing for two app servers
behind a balancer that shares the people out — and runs locust headless against it once per
step of the curve, each step with more operators (`load_locustfile.py` says what each person
does):

- operators take `--calls-per-hour` calls on average (8–12 is a usual floor), arriving at
  random; each call is the PBX's contact event and the CTI's screen pop, the desk showing the
  call, the screen pop page, the contact log after `--handle-time` seconds of conversation,
  for `--case-share` of the calls a case opened and parked as azukari, and the PBX's call
  end; between calls they wait at the desk: by default on `azukari desk_wait` (one beside
  each app server, as a balancer would route its path), each desk holding one wait that the
  call answers, with a check through the page every `data-full-every` ticks for the session;
  with `--no-desk-wait` the incoming-call panel polls at the interval of the desk page's own
  htmx trigger (read from the page). A held wait's time is not a response time: it is
  listed, but left out of the p95 target, as is the "notice" row: the time from the PBX's
  event to the desk's wait answering (under the wait server's one-second tick; with polling
  the same delay is up to the poll interval and not measured);
- SVs (75 per 1,000 operators) keep the floor board open, which refreshes its live calls at
  its own htmx interval (read from its template);
- the azukari desk (25 per 1,000 operators) reloads the backlog board every
  `--board-reload` seconds (the page does not refresh itself).

Each step counts only requests sent after `--warmup` seconds and within the next `--duration`
seconds. The warm-up is long enough for the floor to settle: half the operators are found in
the middle of a call, whose PBX event, screen pop and pop page (set up during the warm-up) come
in a burst that a short warm-up would leave spilling into the measured window.
It prints, per step, served requests per second and count, p50/p95/p99 and errors per
request type, then the curve and the highest step at which every request type's p95 is under
100 ms with no errors; the curve stops early once a step is far past saturation. It writes
all of it as JSON, and prints one last line of JSON (`{"benchmark": "load", ...}`) that
`run.py` collects. locust is installed into the virtualenv when missing; it is a benchmark
tool, not a dependency of Azukari.
"""

import argparse
import html
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).with_name("load_locustfile.py")
TEMPLATES = ROOT / "azukari" / "web" / "templates" / "web"
DEFAULT_DATABASE = f"sqlite:///{ROOT / 'var' / 'bench' / 'scale.sqlite3'}"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import wait_listening  # noqa: E402

# The demo's sites and the clients their operators serve (azukari/demo/story.py).
SITE_CLIENTS = {"sapporo": ("coffee",), "osaka": ("coffee", "tea"), "fukuoka": ("tea",)}
PREFIX = "load-"  # usernames of the staff this script adds
# The locustfile's held waits (their time is the wait) and notices (the time from the PBX's
# event to the desk's wait answering, at most the wait server's tick): listed, not targets.
HELD = ("held:", "notice:")
SESSION_PREFIX = "loadbench"  # session keys this script writes, replaced on every step
PBX_TOKEN_NAME = "Load test PBX {site}"
CALLERS_PER_CLIENT = 5000
TARGET_P95_MS = 100.0
SVS_PER_1000, DESK_PER_1000 = 75, 25


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def ensure_locust() -> None:
    """locust measures; it is not a project dependency, so it is installed only here."""
    if importlib.util.find_spec("locust") is None:
        print("installing locust into the virtualenv …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "locust"], check=True)


def htmx_interval(template: str, marker: str) -> int:
    """The seconds of the `hx-trigger="every Ns"` on the element whose line holds `marker`,
    so that the model polls as the real page does."""
    for line in (TEMPLATES / template).read_text().splitlines():
        if marker in line:
            found = re.search(r'hx-trigger="[^"]*every (\d+)s', line)
            if found:
                return int(found.group(1))
    sys.exit(f"No htmx polling interval by {marker!r} in {template}: update load.py's model.")


def incoming_panel(base: str, operator: dict) -> dict:
    """How the desk page's incoming-call panel asks the server, read from the page itself
    as one operator gets it: its URL, its interval, and whether it sends a tag."""
    [key] = sessions([operator["id"]]).values()
    request = urllib.request.Request(base + "/desk/", headers={"Cookie": f"sessionid={key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        page = response.read().decode()
    panel = re.search(r'<div id="incoming"[^>]*>', page)
    url = panel and re.search(r'hx-get="([^"]+)"', panel.group(0))
    every = panel and re.search(r'hx-trigger="[^"]*every (\d+)s', panel.group(0))
    if not (url and every):
        sys.exit("The desk page's incoming-call panel has no htmx polling: update load.py.")
    wait = re.search(r'<meta name="azukari-desk-wait" content="([^"]+)"', page)
    return {
        "incoming": {
            "url": html.unescape(url.group(1)),
            "poll_s": int(every.group(1)),
            "tagged": "data-etag=" in panel.group(0),
            "ticket": "data-ticket=" in panel.group(0),
            "long_wait": html.unescape(wait.group(1)) if wait else "",
        },
        "incoming_poll_s": int(every.group(1)),
    }


def server_env(database_url: str, workers: int) -> dict[str, str]:
    """Production settings, but over plain HTTP on loopback: no HTTPS redirect, no HSTS and
    no Secure flag on cookies (a client drops Secure cookies on http://)."""
    return {
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
        "DATABASE_URL": database_url,
        "AZUKARI_PRODUCTION": "true",
        "AZUKARI_DEBUG": "false",
        # Fresh per run: the sessions written below are signed with it, and made anew.
        "AZUKARI_SECRET_KEY": secrets.token_urlsafe(50),
        "AZUKARI_AUDIT_KEY": os.environ.get("AZUKARI_AUDIT_KEY") or "load-benchmark-audit-key",
        "AZUKARI_ALLOWED_HOSTS": "127.0.0.1",
        "AZUKARI_SSL_REDIRECT": "false",
        "AZUKARI_SECURE_COOKIES": "false",
        "AZUKARI_HSTS_SECONDS": "0",
        "AZUKARI_DB_CONN_MAX_AGE": "60",
        "AZUKARI_LOG_LEVEL": "WARNING",
        "AZUKARI_WORKERS": str(workers),
    }


# ---------------------------------------------------------------- the people


def prepare(*, operators: int, svs: int, desk: int) -> dict:
    """Staff, PBX tokens and callers for the largest step; sessions are made per step."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:  # data built before the newest migrations
        print(f"applying {len(pending)} migrations …", flush=True)
        call_command("migrate", verbosity=0)

    from azukari.customers.models import Customer, CustomerPhone
    from azukari.org.models import Client, ClientLine, Site, Team

    available = {
        c.code: c
        for c in Client.objects.filter(code__in={"coffee", "tea"})
        if CustomerPhone.objects.filter(client=c).exists()
    }
    if not available:
        sys.exit("No generated customers: run `azukari generate --customers N` first.")
    sites = {s.code: s for s in Site.objects.filter(code__in=SITE_CLIENTS)}
    desks = {
        t.site.code: t for t in Team.objects.filter(is_azukari_desk=True, site__in=sites.values())
    }
    if set(sites) != set(SITE_CLIENTS) or set(desks) != set(SITE_CLIENTS):
        sys.exit("The demo's sites and desk teams are missing: was the data generated?")
    served = {
        site: [available[c] for c in codes if c in available] or list(available.values())
        for site, codes in SITE_CLIENTS.items()
    }
    with transaction.atomic():
        end_stale_calls()
        people = _staff(
            operators=operators, svs=svs, desk=desk, sites=sites, desks=desks, served=served
        )
        tokens = {site: _pbx_token(site, served[site]) for site in SITE_CLIENTS}
    lines = {}
    for code, client in available.items():
        line = ClientLine.objects.filter(client=client).order_by("pk").first()
        if line is None:
            sys.exit(f"Client {code} has no line to dial.")
        lines[code] = line.number
    callers = {
        code: [
            "0" + n[3:] if n.startswith("+81") else n
            for n in CustomerPhone.objects.filter(client=client)
            .order_by("?")
            .values_list("number", flat=True)[:CALLERS_PER_CLIENT]
        ]
        for code, client in available.items()
    }
    names = list(
        Customer.objects.filter(client__in=available.values())
        .order_by("?")
        .values_list("family_name_kana", flat=True)[:500]
    )

    def entry(user) -> dict:
        return {
            "id": user.pk,
            "username": user.username,
            "agent_id": user.agent_id,
            "site": user.home_site.code,
            "clients": [c.code for c in served[user.home_site.code]],
        }

    return {
        "operators": [entry(u) for u in people["operator"]],
        "svs": [entry(u) for u in people["sv"]],
        "desk": [entry(u) for u in people["desk"]],
        "pbx_tokens": tokens,
        "lines": lines,
        "callers": callers,
        "names": [n for n in names if n] or ["ヤマダ"],
        "cookie_domain": "127.0.0.1",
    }


def customer_count() -> int:
    from azukari.customers.models import Customer

    return Customer.objects.count()


def end_stale_calls() -> None:
    """Calls of an earlier run that locust stopped mid-way never got the PBX's `ended`;
    left open they would sit on every SV's floor board as hour-long calls."""
    from django.db.models import F
    from django.db.models.functions import Coalesce

    from azukari.cases.models import Contact

    Contact.objects.filter(pbx_call_id__startswith="load-", ended_at__isnull=True).update(
        ended_at=Coalesce(F("answered_at"), F("started_at"))
    )


def _staff(*, operators: int, svs: int, desk: int, sites, desks, served) -> dict[str, list]:
    """The staff by role, created once (usernames load-op-0001 …) and reused afterwards.
    Operators and SVs carry PBX agent ids, desk members sit in their site's desk team."""
    import datetime as dt

    from django.contrib.auth.hashers import make_password

    from azukari.org.models import Role, User

    wanted = (
        [("operator", f"{PREFIX}op-{i:04d}", f"9{i:05d}") for i in range(1, operators + 1)]
        + [("sv", f"{PREFIX}sv-{i:03d}", f"8{i:05d}") for i in range(1, svs + 1)]
        + [("desk", f"{PREFIX}desk-{i:03d}", None) for i in range(1, desk + 1)]
    )
    order = list(SITE_CLIENTS)
    existing = set(
        User.objects.filter(username__startswith=PREFIX).values_list("username", flat=True)
    )
    new = []
    for n, (role, username, agent) in enumerate(wanted):
        if username in existing:
            continue
        site = sites[order[n % len(order)]]
        new.append(
            User(
                username=username,
                password=make_password(None),  # nobody logs in with a password
                role=role,
                home_site=site,
                team=desks[site.code] if role == Role.DESK else None,
                agent_id=agent,
                last_name="負荷",
                first_name=username.rsplit("-", 1)[1],
                display_name=f"負荷{username.rsplit('-', 1)[1]}",
                agreement_signed_on=dt.date(2024, 4, 1),
                agreement_version="2024-04",
            )
        )
    User.objects.bulk_create(new, batch_size=500)
    if new:
        created = User.objects.filter(username__in=[u.username for u in new]).select_related(
            "home_site"
        )
        User.clients.through.objects.bulk_create(
            [
                User.clients.through(user_id=u.pk, client_id=c.pk)
                for u in created
                for c in served[u.home_site.code]
            ],
            batch_size=1000,
        )
    found = {
        u.username: u
        for u in User.objects.filter(username__in=[w[1] for w in wanted]).select_related(
            "home_site"
        )
    }
    people: dict[str, list] = {"operator": [], "sv": [], "desk": []}
    for role, username, _agent in wanted:
        people[role].append(found[username])
    print(f"staff: {len(new)} added, {len(wanted) - len(new)} reused", flush=True)
    return people


def sessions(user_ids: list[int]) -> dict[int, str]:
    """Logged-in sessions as django.contrib.auth.login(), django-otp's login and the
    session-lifetime middleware leave them (user, backend, password hash, the second factor
    passed on the person's own device, log-in and last-seen times); those of an earlier step
    are removed first."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from azukari.org.models import User
    from azukari.web.security import LOGIN_AT, SEEN_AT

    Session.objects.filter(session_key__startswith=SESSION_PREFIX).delete()
    now = int(time.time())
    expires = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    keys: dict[int, str] = {}
    rows = []
    devices = {d.user_id: d for d in TOTPDevice.objects.filter(user_id__in=user_ids, name=PREFIX)}
    TOTPDevice.objects.bulk_create(
        [
            TOTPDevice(user_id=pk, name=PREFIX, confirmed=True)
            for pk in user_ids
            if pk not in devices
        ],
        batch_size=500,
    )
    devices = {d.user_id: d for d in TOTPDevice.objects.filter(user_id__in=user_ids, name=PREFIX)}
    for user in User.objects.filter(pk__in=user_ids):
        key = SESSION_PREFIX + get_random_string(32 - len(SESSION_PREFIX))
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            LOGIN_AT: now,
            SEEN_AT: now,
            DEVICE_ID_SESSION_KEY: devices[user.pk].persistent_id,
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        keys[user.pk] = key
    Session.objects.bulk_create(rows, batch_size=500)
    return keys


def _pbx_token(site: str, clients: list) -> str:
    """One center token per site's PBX (screen pop and contact events). Only a hash is
    stored, so a token kept from an earlier run gets a new secret rather than a new user."""
    from azukari.api.models import ApiToken, Scope
    from azukari.api.services import TOKEN_PREFIX, api_token_create, token_hash

    name = PBX_TOKEN_NAME.format(site=site)
    token = ApiToken.objects.filter(name=name, revoked_at__isnull=True).first()
    if token is None:
        _token, raw = api_token_create(
            name=name, scopes=[Scope.SCREEN_POP, Scope.CONTACTS_WRITE], center_clients=clients
        )
        return raw
    raw = f"{TOKEN_PREFIX}_{token.prefix}_{secrets.token_urlsafe(32)}"
    ApiToken.objects.filter(pk=token.pk).update(secret_hash=token_hash(raw))
    return raw


def check_rate_limit(plan: dict, calls_per_hour: float) -> None:
    """Each site's PBX token makes three calls per operator call (answered, pop, ended);
    the per-token limit is counted per server process, so it must hold for one process."""
    from django.conf import settings

    from azukari.api.throttle import api_rate_per_minute

    limit = api_rate_per_minute()
    per_site: dict[str, int] = {}
    for op in plan["operators"]:
        per_site[op["site"]] = per_site.get(op["site"], 0) + 1
    worst = max(per_site.values(), default=0) * 3 * calls_per_hour / 60
    print(
        f"API: about {worst:.0f} calls/min per PBX token at the largest step, limit"
        f" {limit or 'none'}/min per token and process (cache"
        f" {settings.CACHES['default']['BACKEND']})",
        flush=True,
    )
    if limit and worst * 2 > limit:  # calls come at random: room for bursts
        sys.exit(
            "The PBX tokens would hit the API rate limit: raise AZUKARI_API_REQUESTS_PER_MINUTE."
        )


# ---------------------------------------------------------------- servers and load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_desk_wait(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """`azukari desk_wait` beside an app server: the base address its desks wait at."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("azukari")), "desk_wait", "--port", str(port)],
        cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_listening(port, process, "azukari desk_wait", log)
    return process, f"http://127.0.0.1:{port}"


def start_gunicorn(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "azukari.config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--timeout", "60", "--log-level", "warning", "--backlog", "4096",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/login/", timeout=10) as response:
                if response.status == 200:
                    return process, base
        except (OSError, urllib.error.URLError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit(f"gunicorn did not start; see {log}")
        time.sleep(0.2)  # waiting for the server to listen


def run_locust(
    *, plan_path: Path, results: Path, users: int, hosts: list[str], servers: list[int], args
) -> tuple[str, dict]:
    """One step; returns what locust said beyond the summary (its CPU warnings above all) and
    the CPU time the app servers, the database's server processes for this database and
    locust spent in the measured window."""
    env = {
        **os.environ,
        "AZUKARI_LOAD_PLAN": str(plan_path),
        "AZUKARI_LOAD_RESULTS": str(results),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", hosts[0], "--users", str(users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{args.warmup + args.duration}s", "--stop-timeout", "5",
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    log = results.with_suffix(".locust.log")
    bound = args.warmup + args.duration + 120
    with log.open("w") as out:
        locust = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        time.sleep(args.warmup)  # the window locust measures starts with its test
        before = cpu_by_part(servers, locust.pid, args.database_url)
        time.sleep(args.duration)
        after = cpu_by_part(servers, locust.pid, args.database_url)
        try:
            locust.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            locust.kill()
            sys.exit(f"locust ran past {bound} s; see {log}")
    if not results.exists():
        sys.exit(f"locust wrote no results; see {log}")
    said = log.read_text()
    cpu = {part: round(cpu_spent(before.get(part, {}), after[part]), 2) for part in after}
    return "; ".join(sorted({m for m in re.findall(r"CPU usage[^\n]*", said)}))[:300], cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (fields 14 and 15 of /proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in children] + [d for c in children for d in descendants(int(c))]


def cpu_by_part(servers: list[int], locust: int, database_url: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far, by process, of the app servers' workers, of the PostgreSQL
    backends serving this database (by their process title), and of locust. SQLite runs
    inside the workers."""
    parts = {
        "app": {p: cpu_seconds(p) for master in servers for p in [master, *descendants(master)]},
        "locust": {p: cpu_seconds(p) for p in [locust, *descendants(locust)]},
    }
    if not database_url.startswith("sqlite"):
        name = " " + database_url.rsplit("/", 1)[-1].split("?")[0] + " "
        parts["database"] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres:") and name in title:
                parts["database"][int(entry.name)] = cpu_seconds(int(entry.name))
    return parts


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """What the processes alive at the end spent since the start (all of it, for those that
    started meanwhile); a process that ended in the window is not counted."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def offered_per_operator(model: dict) -> float:
    """Requests per second one operator brings in this model, with the SVs and desk members
    that come with them: what a capacity estimate from CPU time is multiplied by."""
    per_call = 7 + 3 * model["case_share"]  # see the locustfile: a call's requests
    busy = min(3600.0, model["calls_per_hour"] * model["handle_s"])
    # Idle at the desk: a poll every few seconds, or a wait asked again when it ends.
    idle_every = model["wait_s"] if model["incoming"].get("long_wait") else model["incoming_poll_s"]
    per_hour = model["calls_per_hour"] * per_call + (3600 - busy) / idle_every
    per_hour += SVS_PER_1000 / 1000 * 3600 / model["floor_poll_s"]
    per_hour += DESK_PER_1000 / 1000 * 3600 / model["board_reload_s"]
    return per_hour / 3600


# ---------------------------------------------------------------- report


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest rank: the smallest time that at least p% of the requests did not exceed."""
    if not sorted_ms:
        return 0.0
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def step_figures(raw: dict, *, duration: float) -> dict:
    rows = []
    for name in sorted(raw["times"]):
        times = sorted(raw["times"][name])
        rows.append(
            {
                "name": name,
                "count": len(times),
                "rps": round(len(times) / duration, 2),
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "p99_ms": round(percentile(times, 99), 1),
                "errors": raw["errors"].get(name, 0),
                "statuses": raw["statuses"].get(name, {}),
            }
        )
    total = sum(r["count"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    timed = [r for r in rows if not r["name"].startswith(HELD)]  # a held wait is not slow
    return {
        "rows": rows,
        "requests": total,
        "served_rps": round((total - errors) / duration, 1),
        "errors": errors,
        "worst_p95_ms": max((r["p95_ms"] for r in timed), default=0.0),
        "met": bool(timed) and errors == 0 and all(r["p95_ms"] < TARGET_P95_MS for r in timed),
        "messages": dict(sorted(raw["messages"].items(), key=lambda kv: -kv[1])[:10]),
    }


def print_step(step: dict) -> None:
    width = max([len(r["name"]) for r in step["rows"]] + [12])
    header = f"{'request':<{width}} {'count':>7} {'rps':>7}" + "".join(
        f" {h:>8}" for h in ("p50 ms", "p95 ms", "p99 ms", "errors")
    )
    print(header)
    print("-" * len(header))
    for r in step["rows"]:
        miss = (r["p95_ms"] >= TARGET_P95_MS and not r["name"].startswith(HELD)) or r["errors"]
        print(
            f"{r['name']:<{width}} {r['count']:>7} {r['rps']:>7.1f} {r['p50_ms']:>8.1f}"
            f" {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>8}" + ("  ✗" if miss else "")
        )
    print("-" * len(header))
    print(
        f"{step['operators']} operators, {step['svs']} SVs, {step['desk']} desk: "
        f"{step['requests']} requests, {step['served_rps']} served/s, {step['errors']} errors;"
        f" load average {step['load_1min'][0]} → {step['load_1min'][1]};"
        f" CPU s in the window {step['cpu_s']}, server CPU {step['server_cpu_ms_per_request']} ms"
        f" a request, two free cores ≈ {step['estimated_operators_2_cores']} operators"
        + (f"; locust: {step['locust_said']}" if step["locust_said"] else "")
    )
    for message, n in step["messages"].items():
        print(f"  {n} × {message}")


def print_curve(result: dict) -> None:
    print(f"\n== capacity curve: {result['database']}, {result['customers']:,} customers ==")
    print(f"{'operators':>9} {'served/s':>9} {'errors':>7} {'worst p95 ms':>13}  slowest type")
    for step in result["steps"]:
        timed = [r for r in step["rows"] if not r["name"].startswith(HELD)]
        slowest = max(timed, key=lambda r: r["p95_ms"])["name"] if timed else "-"
        print(
            f"{step['operators']:>9} {step['served_rps']:>9} {step['errors']:>7}"
            f" {step['worst_p95_ms']:>13.1f}  {slowest}" + ("" if step["met"] else "  ✗")
        )
    print(
        f"capacity (every request type's p95 < {TARGET_P95_MS:.0f} ms, no errors):"
        f" {result['capacity_operators']} operators"
    )


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--steps", default="250,500,1000,1500,2000", help="operators per step")
    parser.add_argument("--duration", type=int, default=60, help="measured seconds per step")
    # Long enough for the calls found in progress to be set up before the measured window:
    # half the floor is mid-call at the start, four requests each (docs at the top).
    parser.add_argument("--warmup", type=int, default=60, help="unmeasured seconds per step")
    parser.add_argument("--calls-per-hour", type=float, default=10.0, help="per operator")
    parser.add_argument("--case-share", type=float, default=0.3, help="calls that open a case")
    parser.add_argument("--handle-time", type=float, default=180.0, help="seconds per call")
    parser.add_argument("--board-reload", type=float, default=60.0, help="backlog board, s")
    parser.add_argument("--servers", type=int, help="app servers (1 on SQLite, else 2)")
    parser.add_argument("--workers", type=int, default=cores(), help="gunicorn workers each")
    parser.add_argument("--spawn-rate", type=float, default=500, help="users started per second")
    parser.add_argument(
        "--give-up-ms", type=float, default=10000, help="stop the curve past this worst p95"
    )
    parser.add_argument(
        "--desk-wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="idle desks wait on azukari desk_wait (one beside each app server); "
        "--no-desk-wait: they poll",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    steps = sorted({int(n) for n in args.steps.split(",")})
    if not steps or steps[0] < 1 or not 0 <= args.case_share <= 1 or args.calls_per_hour <= 0:
        parser.error("give operator counts, a case share between 0 and 1 and calls per hour")
    vendor = "sqlite" if args.database_url.startswith("sqlite") else "postgresql"
    servers = args.servers or (1 if vendor == "sqlite" else 2)
    out = args.json or ROOT / "var" / "bench" / f"load-{vendor}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.reconfigure(line_buffering=True)

    ensure_locust()
    model = {
        "calls_per_hour": args.calls_per_hour,
        "case_share": args.case_share,
        "handle_s": args.handle_time,
        "floor_poll_s": htmx_interval("floor/board.html", 'id="floor-calls"'),
        "board_reload_s": args.board_reload,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
    }
    env = server_env(args.database_url, args.workers)
    os.environ.update(env)
    started = time.perf_counter()
    most = steps[-1]
    plan = prepare(
        operators=most, svs=-(-most * SVS_PER_1000 // 1000), desk=-(-most * DESK_PER_1000 // 1000)
    )
    customers = customer_count()
    check_rate_limit(plan, args.calls_per_hour)
    if args.desk_wait:
        from azukari.web.incoming_wait import WAIT_PATH, WAIT_SECONDS

        env["AZUKARI_DESK_WAIT_URL"] = WAIT_PATH
        model["wait_s"] = WAIT_SECONDS
    print(f"prepared in {time.perf_counter() - started:.1f} s; model: {model}", flush=True)

    hosts, processes = [], []
    try:
        for n in range(servers):
            process, base = start_gunicorn(
                env, args.workers, out.with_name(f"{out.stem}-gunicorn{n}.log")
            )
            processes.append(process)
            hosts.append(base)
            if args.desk_wait:
                waiter, wait_base = start_desk_wait(
                    env, out.with_name(f"{out.stem}-desk-wait{n}.log")
                )
                processes.append(waiter)
                plan.setdefault("wait_urls", {})[base] = wait_base + env["AZUKARI_DESK_WAIT_URL"]
        print(f"gunicorn: {servers} × {args.workers} workers on {', '.join(hosts)}")
        if args.desk_wait:
            print(f"azukari desk_wait beside each: {', '.join(plan['wait_urls'].values())}")
        model.update(incoming_panel(hosts[0], plan["operators"][0]))
        print(f"the desk's incoming-call panel: {model['incoming']}")
        result_steps = []
        for operators in steps:
            step = run_step(plan, operators, model, hosts, [p.pid for p in processes], out, args)
            print_step(step)
            result_steps.append(step)
            if step["worst_p95_ms"] > args.give_up_ms:
                print(f"worst p95 past {args.give_up_ms:.0f} ms: saturated, no larger steps")
                break
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    met = [s["operators"] for s in result_steps if s["met"]]
    # The highest count such that it and every smaller step met the target.
    capacity = 0
    for step in result_steps:
        if not step["met"]:
            break
        capacity = step["operators"]
    result = {
        "benchmark": f"load-{vendor}",
        "database": vendor,
        "customers": customers,
        "servers": servers,
        "workers_per_server": args.workers,
        "cores": cores(),
        "model": model,
        "offered_rps_per_operator": round(offered_per_operator(model), 4),
        "duration_s": args.duration,
        "steps": result_steps,
        "capacity_operators": capacity,
        "steps_met": met,
        "target": f"every request type's p95 < {TARGET_P95_MS:.0f} ms and no errors",
        "command": " ".join(["benchmarks/load.py", *sys.argv[1:]]),
    }
    print_curve(result)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"written: {out}")
    figures = {
        "customers": customers,
        "capacity_operators": capacity,
        "curve": {s["operators"]: [s["served_rps"], s["worst_p95_ms"], s["errors"]] for s in
                  result_steps},
        "estimated_operators_2_cores": [s["estimated_operators_2_cores"] for s in result_steps],
    }  # fmt: skip
    print(json.dumps({"benchmark": result["benchmark"], "figures": figures, "json": str(out)}))


def run_step(
    plan: dict, operators: int, model: dict, hosts: list[str], servers: list[int], out: Path,
    args,
) -> dict:  # fmt: skip
    """One point of the curve: the first `operators` operators and their SVs and desk."""
    from django.db import connections

    svs = -(-operators * SVS_PER_1000 // 1000)
    desk = -(-operators * DESK_PER_1000 // 1000)
    people = {
        "operators": plan["operators"][:operators],
        "svs": plan["svs"][:svs],
        "desk": plan["desk"][:desk],
    }
    end_stale_calls()  # calls a stopped step left open would show on desks and boards
    keys = sessions([p["id"] for group in people.values() for p in group])
    connections.close_all()
    for group in people.values():
        for person in group:
            person["session"] = keys[person["id"]]
    step_plan = {**plan, **people, "model": model, "hosts": hosts}
    plan_path = out.with_name(f"{out.stem}-plan.json")  # holds sessions and tokens: var/ only
    plan_path.write_text(json.dumps(step_plan))
    raw_path = out.with_name(f"{out.stem}-raw.json")
    raw_path.unlink(missing_ok=True)
    users = operators + svs + desk
    print(f"\n== {operators} operators, {svs} SVs, {desk} desk ({len(hosts)} servers) ==")
    load_before = os.getloadavg()[0]
    said, cpu = run_locust(
        plan_path=plan_path, results=raw_path, users=users, hosts=hosts, servers=servers,
        args=args,
    )  # fmt: skip
    raw = json.loads(raw_path.read_text())
    figures = step_figures(raw, duration=args.duration)
    served = figures["requests"] - figures["errors"]
    server_cpu = cpu["app"] + cpu.get("database", 0.0)
    per_request_ms = 1000 * server_cpu / served if served else None
    step = {
        "operators": operators,
        "svs": svs,
        "desk": desk,
        **figures,
        "cpu_s": cpu,
        "server_cpu_ms_per_request": round(per_request_ms, 2) if per_request_ms else None,
        # Operators two free cores could serve at this CPU cost per request: an estimate from
        # CPU time, for a machine busy with other work; the curve is the measurement.
        "estimated_operators_2_cores": (
            round(2000 / (per_request_ms * offered_per_operator(model))) if per_request_ms else None
        ),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "locust_said": said,
    }
    return step


if __name__ == "__main__":
    main()
