"""Opening a case from a call and parking it: in one process, and as an operator's requests.

    DATABASE_URL=... python benchmarks/open_park.py [--runs 300] [--json FILE]

On data built by `generate` (say `azukari generate --customers 1000000`):

1. In-process, the services one after the other as the desk calls them: the contact logged,
   the case opened from it, the case parked with the Sapporo desk, the access audited; opens
   and parks per second (target >= 300/s), with the SQL queries of one round.
2. Over HTTP, against gunicorn (one sync worker, production settings on loopback), the
   requests an operator makes for it, each timed: the screen pop, the contact form posted
   with a case to open, the case page it leads to, the park form posted, the case page after
   it (target: p95 <= 15 ms each). Each round is a different customer.

The cases it makes are ordinary cases of the coffee client.
"""

import argparse
import datetime as dt
import html
import http.client
import os
import re
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")

import common  # noqa: E402
from common import print_row, summary, write_result  # noqa: E402
from idle_desk import (  # noqa: E402
    cpu_seconds,
    django_as_server,
    forget_device,
    session_for,
    start_gunicorn,
    worker_pid,
)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """One operator's browser over plain HTTP: the session and CSRF cookies, one request at
    a time, no redirect followed by itself."""

    def __init__(self, port: int, session: str) -> None:
        self.port = port
        self.cookies = {"sessionid": session}

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response


def field(page: str, name: str, *, value_of: str = "input") -> str:
    """The value a form on the page starts with: an input's value or a select's chosen (or
    first non-empty) option."""
    if value_of == "input":
        found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
        return html.unescape(found.group(1)) if found else ""
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    if not select:
        return ""
    options = re.findall(r'<option value="([^"]*)"( selected)?', select.group(1))
    chosen = [v for v, selected in options if selected and v]
    return chosen[0] if chosen else next((v for v, _ in options if v), "")


def in_process(runs: int, customers: list, operator, coffee, team) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def open_and_park(i: int) -> None:
        common.open_and_park(
            customers[i % len(customers)], operator=operator, client=coffee, team=team
        )

    for i in range(5):
        open_and_park(i)
    samples = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(runs):
        one = time.perf_counter()
        open_and_park(5 + i)
        samples.append((time.perf_counter() - one) * 1000)
    per_second = runs / (time.perf_counter() - started)
    # Per second of this process's own CPU time: what a core does when it is not shared.
    per_cpu_second = runs / (time.process_time() - cpu)
    with CaptureQueriesContext(connection) as queries:
        open_and_park(5 + runs)
    return {
        "name": "open case from contact + park (+audit), in-process",
        **summary(samples),
        "queries": len(queries),
        "per_second": round(per_second),
        "per_cpu_second": round(per_cpu_second),
        "figure": f"{per_second:,.0f}/s ({per_cpu_second:,.0f}/CPU-s)",
        "target": ">= 300/s",
        "met": per_second >= 300,
    }


def over_http(
    port: int, session: str, customers: list, team_id: int, runs: int, pid: int
) -> list[dict]:
    browser = Browser(port, session)
    cpu_ms: dict[str, float] = {}
    timings: dict[str, list[float]] = {
        "pop": [],
        "open (contact form posted)": [],
        "case page": [],
        "park (park form posted)": [],
        "case page after parking": [],
    }
    due = (dt.datetime.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    def timed(name: str, method: str, path: str, form=None, expect: int = 200):
        cpu = cpu_seconds(pid)
        started = time.perf_counter()
        response = browser.request(method, path, form)
        timings[name].append((time.perf_counter() - started) * 1000)
        cpu_ms[name] = cpu_ms.get(name, 0.0) + (cpu_seconds(pid) - cpu) * 1000
        assert response.status == expect, (name, response.status, response.text[:500])
        return response

    for i in range(runs):
        customer_id = customers[i % len(customers)].pk
        pop = timed("pop", "GET", f"/desk/customers/{customer_id}/").text
        form = {
            "csrfmiddlewaretoken": TOKEN.search(pop).group(1),
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "生年月日",
            "summary": "解約したいとのこと",
            "kind": "cancellation",
            "subject": "解約希望",
            "reason_code": field(pop, "reason_code", value_of="select"),
        }
        opened = timed("open (contact form posted)", "POST", f"/desk/customers/{customer_id}/",
                       form, expect=302)  # fmt: skip
        case_path = opened.getheader("Location")
        page = timed("case page", "GET", case_path).text
        park = {
            "csrfmiddlewaretoken": TOKEN.search(page).group(1),
            "action": "park",
            "park-version": field(page, "park-version"),
            "park-seen_event": field(page, "park-seen_event"),
            "park-reason": "client_decision",
            "park-team": str(team_id),
            "park-due_at": due,
            "park-note": "お客様には2営業日以内にご連絡と伝えた",
        }
        parked = timed("park (park form posted)", "POST", case_path, park, expect=302)
        assert parked.getheader("Location") == case_path
        after = timed("case page after parking", "GET", case_path).text
        assert 'id="case-state"' in after
    return [
        {"name": f"HTTP: {name}", **summary(values), "target": "p95 <= 15 ms",
         "met": summary(values)["p95_ms"] <= 15,
         "worker_cpu_ms": round(cpu_ms[name] / len(values), 2)}
        for name, values in timings.items()
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--http-runs", type=int, default=200)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    env = django_as_server()
    from django.db import connection

    from azukari.cases.models import Case, Contact
    from azukari.customers.models import Customer
    from azukari.org.models import Client, Team, User

    counts = {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "cases": Case.objects.count(),
    }
    print(f"{connection.vendor}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    coffee = Client.objects.get(code="coffee")
    operator = User.objects.get(username="op_sapporo")
    team = Team.objects.filter(clients=coffee, is_azukari_desk=True, site__code="sapporo").first()
    # Customers without an open cancellation: opening one is refused while another is open.
    pool = list(
        Customer.objects.filter(client=coffee)
        .exclude(cases__kind="cancellation", cases__state__in=["open", "azukari"])
        .order_by("?")[: args.runs + args.http_runs + 20]
    )
    rows = [in_process(args.runs, pool[: args.runs + 10], operator, coffee, team)]
    print_row(rows[0])

    session = session_for(operator)
    connection.close()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    server, port = start_gunicorn(env, work / "open-park-gunicorn.log")
    try:
        pid = worker_pid(server.pid)
        http_pool = pool[args.runs + 10 :]
        over_http(port, session, http_pool[:5], team.pk, 5, pid)  # warm
        for row in over_http(port, session, http_pool[5:], team.pk, args.http_runs, pid):
            print_row(row)
            print(f"{'':52} worker CPU {row['worker_cpu_ms']:.2f} ms per request")
            rows.append(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
        forget_device(operator)

    figures = {
        "open_park_per_second": rows[0]["per_second"],
        "open_park_per_cpu_second": rows[0]["per_cpu_second"],
        "open_park_queries": rows[0]["queries"],
        **{
            re.sub(r"\W+", "_", r["name"].removeprefix("HTTP: ")).strip("_") + "_p95_ms": r[
                "p95_ms"
            ]
            for r in rows[1:]
        },
        "http_p95_max_ms": max(r["p95_ms"] for r in rows[1:]),
        "http_worker_cpu_ms": {
            r["name"].removeprefix("HTTP: "): r["worker_cpu_ms"] for r in rows[1:]
        },
        "met": rows[0]["met"] and all(r["met"] for r in rows[1:]),
    }
    write_result(
        "open_park",
        database=connection.vendor,
        counts=counts,
        rows=rows,
        figures=figures,
        json_path=args.json,
    )


if __name__ == "__main__":
    main()
