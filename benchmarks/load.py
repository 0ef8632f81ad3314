"""A working day's load on the web app and the PBX API, measured over loopback (figures,
not a test).

    .venv/bin/python benchmarks/load.py --database-url sqlite:///$PWD/var/bench/load.sqlite3 \
        [--operators 2000] [--watchers 200] [--duration 180] [--json var/bench/load.json]

The database must be migrated and hold generated data (`azukari generate --customers N`).
The script adds the staff it needs once (operators, SVs and azukari-desk members serving the
demo clients, reused on later runs), logs them in by writing their sessions straight into
the database (2,200 Argon2 log-ins would measure the hasher and trip the log-in throttle),
issues one PBX token per site, starts gunicorn on a free loopback port with production
settings (HTTP only, since it is loopback), and runs locust headless against it:

- operators take a call every ~300 s: the PBX's contact event and screen pop, the desk's
  incoming call, the screen pop page, the contact logged with a case opened, the case parked
  as azukari, the PBX's call end, then two or three pages (case, case lists, a search);
- SVs poll the floor board and the desk reloads the backlog board, every 10 s.

It prints count, p50/p95/p99 and errors per request type (target: p95 under 100 ms, no
errors) and writes them as JSON. locust is installed into the virtualenv when missing; it is
a benchmark tool, not a dependency of Azukari.
"""

import argparse
import importlib.util
import json
import os
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
sys.path.insert(0, str(ROOT))

# The demo's sites and the clients their operators serve (azukari/demo/story.py).
SITE_CLIENTS = {"sapporo": ("coffee",), "osaka": ("coffee", "tea"), "fukuoka": ("tea",)}
PREFIX = "load-"  # usernames of the staff this script adds
SESSION_PREFIX = "loadbench"  # session keys this script writes, replaced on every run
PBX_TOKEN_NAME = "Load test PBX {site}"
CALLERS_PER_CLIENT = 5000
TARGET_P95_MS = 100.0


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def ensure_locust() -> None:
    """locust measures; it is not a project dependency, so it is installed only here."""
    if importlib.util.find_spec("locust") is None:
        print("installing locust into the virtualenv …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "locust"], check=True)


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


def prepare(*, operators: int, watchers: int, call_interval: int) -> dict:
    """Staff, sessions, PBX tokens and callers; returns the plan the locustfile reads."""
    import django

    django.setup()
    from django.db import transaction

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
        _end_stale_calls()
        people = _staff(
            operators=operators, watchers=watchers, sites=sites, desks=desks, served=served
        )
        sessions = _sessions(people)
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
            "username": user.username,
            "session": sessions[user.pk],
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
        "call_interval_s": call_interval,
        "poll_interval_s": 10,
        "cookie_domain": "127.0.0.1",
    }


def _end_stale_calls() -> None:
    """Calls of an earlier run that locust stopped mid-way never got the PBX's `ended`;
    left open they would sit on every SV's floor board as hour-long calls."""
    from django.db.models import F
    from django.db.models.functions import Coalesce

    from azukari.cases.models import Contact

    Contact.objects.filter(pbx_call_id__startswith="load-", ended_at__isnull=True).update(
        ended_at=Coalesce(F("answered_at"), F("started_at"))
    )


def _staff(*, operators: int, watchers: int, sites, desks, served) -> dict[str, list]:
    """The staff by role, created once (usernames load-op-0001 …) and reused afterwards.

    SVs are three in four watchers (one per ~13 operators), the rest the azukari desk, as on
    a floor; operators and SVs carry PBX agent ids, desk members sit in their site's desk team.
    """
    import datetime as dt

    from django.contrib.auth.hashers import make_password

    from azukari.org.models import Role, User

    desk_count = watchers // 4
    wanted = (
        [("operator", f"{PREFIX}op-{i:04d}", f"9{i:05d}") for i in range(1, operators + 1)]
        + [("sv", f"{PREFIX}sv-{i:03d}", f"8{i:05d}") for i in range(1, watchers - desk_count + 1)]
        + [("desk", f"{PREFIX}desk-{i:03d}", None) for i in range(1, desk_count + 1)]
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


def _sessions(people: dict[str, list]) -> dict[int, str]:
    """Logged-in sessions as django.contrib.auth.login() and the session-lifetime middleware
    leave them (user, backend, password hash, log-in and last-seen times)."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from azukari.web.security import LOGIN_AT, SEEN_AT

    Session.objects.filter(session_key__startswith=SESSION_PREFIX).delete()
    now = int(time.time())
    expires = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    keys: dict[int, str] = {}
    rows = []
    for user in (u for group in people.values() for u in group):
        key = SESSION_PREFIX + get_random_string(32 - len(SESSION_PREFIX))
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            LOGIN_AT: now,
            SEEN_AT: now,
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


def check_rate_limit(plan: dict, workers: int) -> None:
    """Each site's PBX token makes three calls per operator call (answered, pop, ended);
    the per-token limit is counted per server process, so it must hold for one process."""
    from django.conf import settings

    from azukari.api.throttle import api_rate_per_minute

    limit = api_rate_per_minute()
    per_site: dict[str, int] = {}
    for op in plan["operators"]:
        per_site[op["site"]] = per_site.get(op["site"], 0) + 1
    worst = max(per_site.values(), default=0) * 3 * 60 / plan["call_interval_s"]
    print(
        f"API: up to {worst:.0f} calls/min per PBX token, limit {limit or 'none'}/min per token"
        f" and process ({workers} processes, cache {settings.CACHES['default']['BACKEND']})",
        flush=True,
    )
    if limit and worst > limit:
        sys.exit(
            "The PBX tokens would hit the API rate limit: raise AZUKARI_API_REQUESTS_PER_MINUTE."
        )


# ---------------------------------------------------------------- server and load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "azukari.config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--timeout", "60", "--log-level", "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
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


def run_locust(*, base: str, plan_path: Path, results: Path, users: int, args) -> None:
    env = {
        **os.environ,
        "AZUKARI_LOAD_PLAN": str(plan_path),
        "AZUKARI_LOAD_RESULTS": str(results),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", base, "--users", str(users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{args.duration}s", "--stop-timeout", str(args.stop_timeout),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    log = results.with_suffix(".locust.log")
    bound = args.duration + args.stop_timeout + 60
    with log.open("w") as out:
        try:
            subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=bound)
        except subprocess.TimeoutExpired:
            sys.exit(f"locust ran past {bound} s; see {log}")
    if not results.exists():
        sys.exit(f"locust wrote no results; see {log}")


# ---------------------------------------------------------------- report


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest rank: the smallest time that at least p% of the requests did not exceed."""
    if not sorted_ms:
        return 0.0
    rank = max(1, -(-len(sorted_ms) * p // 100))
    return sorted_ms[int(rank) - 1]


def report(raw: dict, *, users: int, duration: int) -> dict:
    elapsed = max(raw["stopped"] - raw["started"], 1e-9)
    rows = []
    for name in sorted(raw["times"]):
        times = sorted(raw["times"][name])
        rows.append(
            {
                "name": name,
                "count": len(times),
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "p99_ms": round(percentile(times, 99), 1),
                "errors": raw["errors"].get(name, 0),
                "rps": round(len(times) / elapsed, 2),
            }
        )
    return {
        "machine": {"cores": cores()},
        "rows": rows,
        "errors": sum(r["errors"] for r in rows),
        "users": users,
        "duration_s": duration,
    }


def print_table(result: dict, messages: dict[str, int]) -> None:
    width = max([len(r["name"]) for r in result["rows"]] + [12])
    header = f"{'request':<{width}} {'count':>7}" + "".join(
        f" {h:>8}" for h in ("p50 ms", "p95 ms", "p99 ms", "errors", "rps")
    )
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        miss = r["p95_ms"] >= TARGET_P95_MS or r["errors"]
        print(
            f"{r['name']:<{width}} {r['count']:>7} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
            f" {r['p99_ms']:>8.1f} {r['errors']:>8} {r['rps']:>8.2f}" + ("  ✗" if miss else "")
        )
    total = sum(r["count"] for r in result["rows"])
    print("-" * len(header))
    print(
        f"{total} requests, {result['errors']} errors, {result['users']} users,"
        f" {result['duration_s']} s on {result['machine']['cores']} cores;"
        f" target p95 < {TARGET_P95_MS:.0f} ms and no errors (✗ misses it)"
    )
    for message, n in sorted(messages.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {n} × {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--operators", type=int, default=2000)
    parser.add_argument("--watchers", type=int, default=200, help="SVs and azukari desk")
    parser.add_argument("--duration", type=int, default=180, help="seconds, ramp-up included")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "load.json")
    parser.add_argument("--workers", type=int, default=cores(), help="gunicorn workers")
    parser.add_argument("--call-interval", type=int, default=300, help="seconds between calls")
    parser.add_argument("--spawn-rate", type=float, default=200, help="users started per second")
    parser.add_argument(
        "--stop-timeout", type=int, default=30, help="seconds for calls in progress to finish"
    )
    args = parser.parse_args()
    if args.operators < 1 or args.watchers < 0:
        parser.error("give at least one operator")

    ensure_locust()
    env = server_env(args.database_url, args.workers)
    os.environ.update(env)
    work = args.json.parent
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    plan = prepare(
        operators=args.operators, watchers=args.watchers, call_interval=args.call_interval
    )
    check_rate_limit(plan, args.workers)
    from django.db import connections

    connections.close_all()
    plan_path = work / (args.json.stem + "-plan.json")  # holds sessions and tokens: var/ only
    plan_path.write_text(json.dumps(plan))
    users = len(plan["operators"]) + len(plan["svs"]) + len(plan["desk"])
    print(f"prepared {users} users in {time.perf_counter() - started:.1f} s", flush=True)

    results = work / (args.json.stem + "-raw.json")
    results.unlink(missing_ok=True)
    server, base = start_gunicorn(env, args.workers, work / (args.json.stem + "-gunicorn.log"))
    print(
        f"gunicorn: {args.workers} workers on {base}; locust: {len(plan['operators'])}"
        f" operators, {len(plan['svs'])} SVs, {len(plan['desk'])} desk for {args.duration} s",
        flush=True,
    )
    try:
        run_locust(base=base, plan_path=plan_path, results=results, users=users, args=args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    raw = json.loads(results.read_text())
    result = report(raw, users=users, duration=args.duration)
    print_table(result, raw["messages"])
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
