"""Azukari against django-helpdesk, the nearest open-source peer, on the same machine and scale.

    .venv/bin/python benchmarks/peer_helpdesk.py [--tickets 100000] [--cases 100000]
        [--runs 200] [--budget 120] [--work var/bench/peer] [--json var/bench/peer.json] [--reuse]

One run: a virtual environment for django-helpdesk (pinned below) under the work folder, a
minimal Django project for it (SQLite, e-mail to Django's locmem backend so its mails are
built and counted), its tickets; an Azukari database of the same size built by
`azukari migrate` and `azukari generate`; then both sides are started, each in its own
interpreter, and measured in process through Django's test client (real URLs, middleware,
views and templates) with a logged-in staff member. The two sides take turns, request by
request (helpdesk first on even runs, Azukari first on odd ones), so that whatever else the
machine does falls on both alike, and each pair gets the same number of runs: `--runs`, or
fewer when the pair's timed runs pass `--budget` seconds. Every operation is warmed up first;
one extra request gives the SQL query count and the rows it wrote. Each pair says what work
each side does: they are each system's own way to the same answer, not the same algorithm.
Prints a table and writes JSON.

Why: the target is that an operator's everyday screens answer at least 3x faster at p95 than
a general helpdesk's do on the same data; this checks it, operation by operation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HELPDESK_VERSION = "2.6.1"
TARGET = 3.0
WARMUP = 5

# Each pair: (name, helpdesk operation, Azukari operation, scored against the target).
PAIRS = [
    ("create ticket / open case from a contact", "create", "create", True),
    ("staff list, first page (25 rows)", "list", "list", True),
    ("dashboard / backlog board", "dashboard", "dashboard", True),
    ("keyword search", "search", "search", True),
    ("open count by queue x status / site x state", "open_count", "open_count", True),
    # For reading the line above: the same counts as one bare GROUP BY on each side.
    ("(reference) open count as one bare GROUP BY", "open_count_sql", "open_count_sql", False),
]

# What work each side does for a pair: the same question, each system's own way of answering.
PAIR_WORK = {
    "create": "helpdesk writes a ticket, its follow-up and e-mails; Azukari writes a contact,"
    " its reason code, the case and its first event",
    "list": "helpdesk's page and its datatables request (with a count of every row); Azukari's"
    " keyset page through its newest-first index, with an access-audit row per customer shown",
    "dashboard": "helpdesk's dashboard; Azukari's backlog board from trigger-kept tallies",
    "search": "helpdesk: an unindexed substring search (LIKE %word%) over titles and text;"
    " Azukari: a trigram-indexed name search (SQLite FTS5), with an access-audit row per"
    " customer found",
    "open_count": "helpdesk: its report code, a Python loop over every open ticket;"
    " Azukari: the board's breakdowns from tallies kept by triggers",
    "open_count_sql": "both: one bare GROUP BY over the open rows (no tallies, no loop)",
}

SIDE_NOTES = {
    "helpdesk": {
        "create": "POST tickets/submit/ (staff CreateTicketView), 302 not followed",
        "list": "GET tickets/ + GET datatables_ticket_list/<query> (the rows the page fetches)",
        "dashboard": "GET dashboard/",
        "search": "GET tickets/?q=WORD + its datatables request (all statuses, as the page does)",
        "open_count": "update_summary_tables('queuestatus') over open tickets: the report's code,"
        " no HTTP",
        "open_count_sql": "Ticket open statuses .values(queue, status).annotate(Count), no HTTP",
    },
    "azukari": {
        "create": "POST desk/customers/<id>/ (contact form with a case kind), 302 not followed",
        "list": "GET cases/?open=1 (25 rows, open azukari)",
        "dashboard": "GET backlog/",
        "search": "GET desk/?q=NAME (kanji or katakana family name)",
        "open_count": "backlog_board() selector: every breakdown, age buckets, clocks; no HTTP",
        "open_count_sql": "open_azukari(viewer).values(site, state).annotate(Count), no HTTP",
    },
}

# ---------------------------------------------------------------- measuring (both sides)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row_counts() -> dict[str, int]:
    """Rows per model: the difference around one request is what that request wrote."""
    from django.apps import apps

    counts = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            counts[model._meta.label] = model._base_manager.count()
    return counts


def count_one(call: Callable[[int], Any], i: int) -> dict[str, Any]:
    """One request with its SQL queries and the rows (and e-mails) it wrote."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = row_counts()
    mails = len(getattr(mail, "outbox", []))
    with CaptureQueriesContext(connection) as ctx:
        call(i)
    # Read now: the list is a view of the connection's log, which the next request clears.
    queries = len(ctx.captured_queries)
    after = row_counts()
    effects = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    sent = len(getattr(mail, "outbox", [])) - mails
    if sent:
        effects["e-mails sent (locmem)"] = sent
    return {"queries": queries, "side_effects": effects}


REPLY = "@@ "  # marks the worker's answers among whatever else it prints


def serve(ops: dict[str, Callable[[int], Any]]) -> None:
    """Answers the orchestrator, one JSON command a line: warm an operation up, count one
    request's queries and writes, or time one request. The counted request is kept out of
    the timings: capturing SQL adds its own cost."""
    from django.core import mail

    for line in sys.stdin:
        command = json.loads(line)
        call = ops.get(command.get("op", ""))
        answer: dict[str, Any] = {}
        if command["do"] == "quit":
            return
        if command["do"] == "warm":  # WARMUP runs or 10 seconds, whichever comes first
            until = time.perf_counter() + 10
            for i in range(WARMUP):
                call(i)
                if time.perf_counter() > until:
                    break
        elif command["do"] == "count":
            answer = count_one(call, WARMUP)
        elif command["do"] == "time":
            started = time.perf_counter()
            call(command["i"])
            answer = {"ms": (time.perf_counter() - started) * 1000}
        if hasattr(mail, "outbox"):
            mail.outbox.clear()
        print(REPLY + json.dumps(answer), flush=True)


def summary(samples: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "runs": len(samples),
    }


def expect(response, *codes: int):
    """A benchmark of error pages proves nothing: every response must be the real one."""
    if response.status_code not in codes:
        raise SystemExit(
            f"unexpected {response.status_code} for {response.request.get('PATH_INFO')}: "
            f"{response.content[:300]!r}"
        )
    return response


# ---------------------------------------------------------------- the helpdesk project

HELPDESK_SETTINGS = '''"""Settings for django-helpdesk, written by benchmarks/peer_helpdesk.py."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "peer-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# The same SQLite settings as Azukari's, so neither side wins on journal mode.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "helpdesk.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
MEDIA_ROOT = BASE_DIR / "media"
LOGIN_URL = "helpdesk:login"
LOGIN_REDIRECT_URL = "helpdesk:home"
# helpdesk e-mails on ticket creation: kept on, delivered to memory so their cost counts.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
# Teams mode needs pinax-teams; nothing measured here uses teams.
HELPDESK_TEAMS_MODE_ENABLED = False
'''

HELPDESK_URLS = """from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""

HELPDESK_MANAGE = """import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

WORDS = [
    "cancel",
    "subscription",
    "delivery",
    "delayed",
    "billing",
    "refund",
    "coffee",
    "tea",
    "machine",
    "capsule",
    "broken",
    "leak",
    "address",
    "change",
    "payment",
    "card",
    "invoice",
    "discount",
    "campaign",
    "trial",
    "renewal",
    "skip",
    "pause",
    "return",
    "damaged",
    "missing",
    "package",
    "grinder",
    "filter",
    "descale",
    "warranty",
    "repair",
    "exchange",
    "complaint",
    "callback",
    "password",
    "account",
    "login",
    "points",
    "coupon",
    "schedule",
    "weekend",
    "holiday",
]
SEARCH_WORDS = ["refund", "grinder", "warranty", "capsule", "invoice", "holiday", "leak"]


def write_helpdesk_project(work: Path) -> None:
    site = work / "helpdesk" / "hdsite"
    site.mkdir(parents=True, exist_ok=True)
    (site / "__init__.py").write_text("")
    (site / "settings.py").write_text(HELPDESK_SETTINGS)
    (site / "urls.py").write_text(HELPDESK_URLS)
    (work / "helpdesk" / "manage.py").write_text(HELPDESK_MANAGE)


def helpdesk_setup(work: Path) -> None:
    import warnings

    # helpdesk's dashboard filters on date strings; the warning is noise, not a fault here.
    warnings.filterwarnings("ignore", message=r"DateTimeField .* received a naive datetime")
    sys.path.insert(0, str(work / "helpdesk"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hdsite.settings"
    import django

    django.setup()


def helpdesk_build(args: argparse.Namespace) -> None:
    """Migrate, staff, queues, then tickets and their opening follow-ups in bulk."""
    db = args.work / "helpdesk" / "helpdesk.sqlite3"
    helpdesk_setup(args.work)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    if args.reuse and db.exists():
        from helpdesk.models import Ticket

        if Ticket.objects.count() >= args.tickets:
            print(f"helpdesk: reusing {Ticket.objects.count():,} tickets", flush=True)
            return
    connection.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from helpdesk.models import FollowUp, Queue, Ticket

    User = get_user_model()
    staff = [
        User.objects.create_user(f"agent{i}", f"agent{i}@example.com", "pw", is_staff=True)
        for i in range(10)
    ]
    queues = [
        Queue.objects.create(
            title=f"{client} {topic}",
            slug=f"{client}-{topic}",
            new_ticket_cc=f"{client}-{topic}@example.com",
        )
        for client in ("coffee", "tea")
        for topic in ("cancel", "delivery", "billing")
    ]
    rng = random.Random(7)
    now = timezone.now()
    # Bulk rows carry their own dates: created/modified are auto_now fields otherwise.
    for name in ("created", "modified"):
        field = Ticket._meta.get_field(name)
        field.auto_now = field.auto_now_add = False
    statuses = [1] * 30 + [2] * 5 + [3] * 40 + [4] * 25  # open, reopened, resolved, closed
    made, batch = 0, 5000
    while made < args.tickets:
        size = min(batch, args.tickets - made)
        tickets = []
        for _ in range(size):
            created = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 120))
            title = " ".join(rng.sample(WORDS, 4)).capitalize()
            tickets.append(
                Ticket(
                    title=title,
                    queue=rng.choice(queues),
                    created=created,
                    modified=created,
                    submitter_email=f"customer{rng.randrange(10**6)}@example.com",
                    assigned_to=rng.choice(staff) if rng.random() < 0.8 else None,
                    status=rng.choice(statuses),
                    description=" ".join(rng.choices(WORDS, k=25)),
                    priority=rng.randint(1, 5),
                )
            )
        tickets = Ticket.objects.bulk_create(tickets)
        FollowUp.objects.bulk_create(
            FollowUp(
                ticket=t,
                title="Ticket Opened",
                date=t.created,
                public=True,
                comment=t.description,
                user=t.assigned_to,
            )
            for t in tickets
        )
        made += size
    print(
        f"helpdesk: {Ticket.objects.count():,} tickets in {len(queues)} queues, "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


def helpdesk_serve(args: argparse.Namespace) -> None:
    helpdesk_setup(args.work)
    import re
    from collections import defaultdict

    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client
    from helpdesk.models import Queue, Ticket
    from helpdesk.user import HelpdeskUser
    from helpdesk.views.staff import update_summary_tables

    user = get_user_model().objects.get(username="agent0")
    client = Client()
    client.force_login(user)
    queues = list(Queue.objects.order_by("id"))

    def data_url(page) -> str:
        found = re.search(rb"datatables_ticket_list/([A-Za-z0-9+/=_-]+)", page.content)
        if found is None:
            raise SystemExit("the ticket list page has no datatables URL")
        return f"/helpdesk/datatables_ticket_list/{found.group(1).decode()}"

    rows = {"draw": "1", "start": "0", "length": "25"}
    list_data = data_url(expect(client.get("/helpdesk/tickets/"), 200))
    search_data = {
        w: data_url(expect(client.get("/helpdesk/tickets/", {"q": w}), 200)) for w in SEARCH_WORDS
    }

    def create(i: int):
        queue = queues[i % len(queues)]
        expect(
            client.post(
                "/helpdesk/tickets/submit/",
                {
                    "queue": queue.pk,
                    "title": f"Caller wants to {WORDS[i % len(WORDS)]} (run {i})",
                    "body": "Customer called about the next delivery; details in the note.",
                    "priority": "3",
                    "submitter_email": f"caller{i}@example.com",
                    "assigned_to": "",
                    "due_date": "",
                },
            ),
            302,
        )

    def ticket_list(i: int):
        expect(client.get("/helpdesk/tickets/"), 200)
        expect(client.get(list_data, rows), 200)

    def dashboard(i: int):
        expect(client.get("/helpdesk/dashboard/"), 200)

    def search(i: int):
        word = SEARCH_WORDS[i % len(SEARCH_WORDS)]
        expect(client.get("/helpdesk/tickets/", {"q": word}), 200)
        expect(client.get(search_data[word], rows), 200)

    def open_count(i: int):
        visible = HelpdeskUser(user).get_queues()
        qs = Ticket.objects.select_related("assigned_to", "queue").filter(
            queue__in=visible, status__in=Ticket.OPEN_STATUSES
        )
        table: defaultdict = defaultdict(int)
        update_summary_tables(qs, "queuestatus", table, defaultdict(int))
        return table

    def open_count_sql(i: int):
        return list(
            Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
            .order_by()
            .values("queue__title", "status")
            .annotate(n=Count("id"))
        )

    ops = {
        "create": create,
        "list": ticket_list,
        "dashboard": dashboard,
        "search": search,
        "open_count": open_count,
        "open_count_sql": open_count_sql,
    }
    print(f"helpdesk {HELPDESK_VERSION}: {Ticket.objects.count():,} tickets", flush=True)
    serve(ops)


# ---------------------------------------------------------------- the Azukari side


def azukari_serve(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
    import django

    django.setup()
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from azukari.cases.models import AZUKARI_STATES, Case, CaseKind, CaseState
    from azukari.customers.models import Customer
    from azukari.customers.selectors import load_cards
    from azukari.org.models import User
    from azukari.reports.models import AfterCallWorkCode, ReasonCode
    from azukari.web.pages.backlog import Filters, backlog_board, open_azukari

    operator = User.objects.get(username="op_osaka")
    desk = User.objects.get(username="desk_osaka")
    at_desk, at_board = Client(), Client()
    at_desk.force_login(operator)
    at_board.force_login(desk)
    rng = random.Random(3)
    # One caller per request: a subscription with an open case takes no second one (the
    # desk logs the call on that case), so each case opens for a customer without one.
    busy = Case.objects.filter(state__in=[CaseState.OPEN, *AZUKARI_STATES]).values("customer_id")
    ids = list(
        Customer.objects.visible_to(operator)
        .exclude(pk__in=busy)
        .values_list("pk", flat=True)[: 20 * (args.runs + WARMUP + 2)]
    )
    wanted = min(args.runs + WARMUP + 2, len(ids))
    callers = list(load_cards(list(Customer.objects.filter(pk__in=rng.sample(ids, wanted)))))
    forms = []
    kinds = [k for k in CaseKind.values if k != CaseKind.OTHER]
    for n, customer in enumerate(callers):
        reason = ReasonCode.objects.filter(client_id=customer.client_id, is_active=True).first()
        acw = AfterCallWorkCode.objects.filter(client_id=customer.client_id, is_active=True).first()
        subscription = customer.current_subscriptions[:1]  # as the pop page offers them
        data = {
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "name and date of birth",
            "reason": "wants to change the next delivery",
            "summary": "Customer called about the next delivery; details in the note.",
            "stance": "neutral",
            "kind": kinds[n % len(kinds)],
            "subject": "Wants to change the next delivery",
            "subscription": subscription[0].pk if subscription else "",
            "reason_code": reason.pk if reason else "",
            "acw_code": acw.pk if acw else "",
        }
        forms.append((f"/desk/customers/{customer.pk}/", data))
    names = []
    for customer in callers[:20]:
        names += [customer.family_name, customer.family_name_kana]

    def create(i: int):
        url, data = forms[i % len(forms)]
        expect(at_desk.post(url, data), 302)

    def case_list(i: int):
        expect(at_board.get("/cases/", {"open": "1"}), 200)

    def board(i: int):
        expect(at_board.get("/backlog/"), 200)

    def search(i: int):
        expect(at_desk.get("/desk/", {"q": names[i % len(names)]}), 200)

    def open_count(i: int):
        return backlog_board(viewer=desk, filters=Filters(), now=timezone.now())

    def open_count_sql(i: int):
        return list(
            open_azukari(desk).order_by().values("site__name", "state").annotate(n=Count("id"))
        )

    ops = {
        "create": create,
        "list": case_list,
        "dashboard": board,
        "search": search,
        "open_count": open_count,
        "open_count_sql": open_count_sql,
    }
    print(f"azukari: {Case.objects.count():,} cases", flush=True)
    serve(ops)


# ---------------------------------------------------------------- orchestration


def helpdesk_python(work: Path) -> Path:
    """The helpdesk venv's interpreter, created and filled with the pinned version if needed."""
    venv = work / "venv"
    python = venv / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [
                str(python),
                "-c",
                "import importlib.metadata as m; print(m.version('django-helpdesk'))",
            ],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == HELPDESK_VERSION:
            return python
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"installing django-helpdesk=={HELPDESK_VERSION} into {venv}", flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"django-helpdesk=={HELPDESK_VERSION}"],
        check=True,
    )
    return python


def azukari_env(work: Path) -> dict[str, str]:
    data = work / "azukari"
    data.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{(data / 'azukari.sqlite3').resolve()}",
        "AZUKARI_DATA_DIR": str(data.resolve()),
        "AZUKARI_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
    }


def azukari_build(work: Path, cases: int, reuse: bool) -> None:
    """Azukari's own commands: migrate, then one case per generated customer."""
    db = work / "azukari" / "azukari.sqlite3"
    if reuse and db.exists():
        print("azukari: reusing the existing database", flush=True)
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = azukari_env(work)
    command = str(Path(sys.executable).parent / "azukari")
    started = time.perf_counter()
    subprocess.run([command, "migrate", "-v0"], env=env, check=True)
    per_customer = ["--cases-per-customer", "1", "--contacts-per-customer", "2"]
    generate = [command, "generate", "--customers", str(cases), *per_customer, "-v0"]
    subprocess.run(generate, env=env, check=True)
    print(f"azukari: built in {time.perf_counter() - started:.0f} s", flush=True)


def worker(python: Path, mode: str, args: argparse.Namespace, env: dict | None = None) -> Any:
    out = args.work / f"{mode}.json"
    out.unlink(missing_ok=True)
    subprocess.run(worker_command(python, mode, args), env=env, check=True)
    return json.loads(out.read_text()) if out.exists() else None


def worker_command(python: Path, mode: str, args: argparse.Namespace) -> list[str]:
    command = [str(python), str(Path(__file__).resolve()), "--worker", mode]
    command += ["--out", str(args.work / f"{mode}.json"), "--work", str(args.work)]
    command += ["--tickets", str(args.tickets), "--runs", str(args.runs)]
    return command + (["--reuse"] if args.reuse else [])


class Side:
    """One system's worker process, answering commands (see `serve`)."""

    def __init__(self, name: str, command: list[str], env: dict | None = None) -> None:
        self.name = name
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(REPLY):
                return json.loads(line[len(REPLY) :])
            print(f"  [{self.name}] {line.rstrip()}", flush=True)
        raise SystemExit(f"{self.name} stopped (exit code {self.process.wait()})")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"do": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


def interleave(sides: tuple[Side, Side], ops: tuple[str, str], args) -> list[dict[str, Any]]:
    """Warm-up and count on each side, then timed runs taking turns, the same count each."""
    for side, op in zip(sides, ops, strict=True):
        side.ask(do="warm", op=op)
    counted = [side.ask(do="count", op=op) for side, op in zip(sides, ops, strict=True)]
    samples: tuple[list[float], list[float]] = ([], [])
    deadline = time.perf_counter() + args.budget
    for i in range(args.runs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for n in order:
            samples[n].append(sides[n].ask(do="time", op=ops[n], i=WARMUP + 1 + i)["ms"])
        if time.perf_counter() > deadline:
            break
    return [{**summary(samples[n]), **counted[n]} for n in (0, 1)]


def measure_pairs(args: argparse.Namespace, python: Path) -> tuple[dict, dict]:
    helpdesk, azukari = {}, {}
    sides = (
        Side("helpdesk", worker_command(python, "helpdesk-serve", args)),
        Side(
            "azukari",
            worker_command(Path(sys.executable), "azukari-serve", args),
            env=azukari_env(args.work),
        ),
    )
    try:
        for name, h_op, a_op, _scored in PAIRS:
            h, a = interleave(sides, (h_op, a_op), args)
            helpdesk[h_op], azukari[a_op] = h, a
            print(
                f"  {name:<52} helpdesk p95 {h['p95_ms']:8.1f}  azukari p95 {a['p95_ms']:8.1f}"
                f" ms  runs {h['runs']}/{a['runs']}",
                flush=True,
            )
    finally:
        for side in sides:
            side.close()
    return helpdesk, azukari


def report(helpdesk: dict, azukari: dict, args: argparse.Namespace) -> dict[str, Any]:
    rows, pairs = [], []
    head = (
        f"{'operation':<46} {'helpdesk p50/p95/p99 ms':>25} {'azukari p50/p95/p99 ms':>24}"
        f" {'queries':>8} {'p95 ratio':>9} {'met':>4}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for name, h_op, a_op, scored in PAIRS:
        h, a = helpdesk[h_op], azukari[a_op]
        for system, r in (("helpdesk", h), ("azukari", a)):
            rows.append(
                {"name": name, "system": system}
                | {k: r[k] for k in ("p50_ms", "p95_ms", "p99_ms", "queries", "runs")}
            )
        ratio = h["p95_ms"] / a["p95_ms"] if a["p95_ms"] else float("inf")
        met = ratio >= TARGET
        pairs.append(
            {
                "name": name,
                "helpdesk": {k: h[k] for k in ("p50_ms", "p95_ms", "p99_ms", "queries", "runs")},
                "azukari": {k: a[k] for k in ("p50_ms", "p95_ms", "p99_ms", "queries", "runs")},
                "ratio_p95": round(ratio, 2),
                "work": PAIR_WORK[a_op],
                "helpdesk_does": SIDE_NOTES["helpdesk"][h_op],
                "azukari_does": SIDE_NOTES["azukari"][a_op],
                # The reference line explains another pair; it has no target of its own.
                "target": 3 if scored else None,
                "met": met if scored else None,
            }
        )
        trio = "{p50_ms:.1f}/{p95_ms:.1f}/{p99_ms:.1f}"
        verdict = ("yes" if met else "no") if scored else "-"
        print(
            f"{name:<46} {trio.format(**h):>25} {trio.format(**a):>24}"
            f" {h['queries']:>3}/{a['queries']:<4} {ratio:>8.1f}x {verdict:>4}"
        )
    print("\nwhat each side does (and writes, for one request):")
    for _name, h_op, a_op, _scored in PAIRS:
        print(f"  {a_op}: {PAIR_WORK[a_op]}")
        for system, op, r in (("helpdesk", h_op, helpdesk[h_op]), ("azukari", a_op, azukari[a_op])):
            effects = ", ".join(f"{k} +{v}" for k, v in r["side_effects"].items())
            print(f"  {system:<9}{op:<15} {SIDE_NOTES[system][op]}")
            if effects:
                print(f"  {'':<24} writes: {effects}")
    short = [r for r in rows if r["runs"] < args.runs]
    if short:
        print(f"\nstopped early by --budget {args.budget:.0f} s (runs made): ", end="")
        print(", ".join(f"{r['system']} {r['name']} ({r['runs']})" for r in short))
    return {
        "machine": {"cores": os.cpu_count()},
        "helpdesk_version": HELPDESK_VERSION,
        "scale": {
            "tickets": args.tickets,
            "cases": args.cases,
            "runs": args.runs,
            "budget_s": args.budget,
        },
        "interleaved": True,
        "rows": rows,
        "pairs": pairs,
        "side_effects": {
            "helpdesk": {op: helpdesk[op]["side_effects"] for op in helpdesk},
            "azukari": {op: azukari[op]["side_effects"] for op in azukari},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--budget", type=float, default=120, help="seconds of timed runs at most per pair"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "peer")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "peer.json")
    parser.add_argument("--reuse", action="store_true", help="keep data built by an earlier run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work = args.work.resolve()

    if args.worker:
        steps = {
            "helpdesk-build": helpdesk_build,
            "helpdesk-serve": helpdesk_serve,
            "azukari-serve": azukari_serve,
        }
        result = steps[args.worker](args)
        if result is not None:
            args.out.write_text(json.dumps(result))
        return

    args.work.mkdir(parents=True, exist_ok=True)
    python = helpdesk_python(args.work)
    print(f"django-helpdesk {HELPDESK_VERSION} in {python.parent.parent}", flush=True)
    write_helpdesk_project(args.work)
    worker(python, "helpdesk-build", args)
    azukari_build(args.work, args.cases, args.reuse)
    print(f"\nboth sides in turns (runs {args.runs} a pair, warm-up {WARMUP}):", flush=True)
    helpdesk, azukari = measure_pairs(args, python)
    result = report(helpdesk, azukari, args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
