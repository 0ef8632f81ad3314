"""The PBX contact event and the case-list pages, in one process, on data built by `generate`.

    DATABASE_URL=... python benchmarks/case_pages.py [--runs 200] [--json FILE]

Measures, with the SQL queries of one request each: the PBX "answered" event of a known
caller (through the service, as the API calls it); the pages `/cases/` and `/cases/?open=1`
as the Sapporo azukari desk sees them, first page, the page its "next" link leads to, and a
page near the oldest case. The events write contacts (ordinary ones, with call ids of their own).
"""

import argparse
import datetime as dt
import json
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")

import django  # noqa: E402

django.setup()

from common import machine, measure, print_row  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as TestClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from azukari.api.selectors import encode_cursor  # noqa: E402
from azukari.api.services import contact_event_record  # noqa: E402
from azukari.cases.models import AZUKARI_STATES, Case, Contact  # noqa: E402
from azukari.customers.models import Customer, CustomerPhone  # noqa: E402
from azukari.org.models import Client, User  # noqa: E402

NEXT = re.compile(r'<a href="(\?[^"]*)">[^<]*</a>\s*</nav>')


def next_link(html: str) -> str | None:
    found = NEXT.search(html)
    return found.group(1).replace("&amp;", "&") if found else None


def deep_link(base: str, oldest: Case, html: str) -> str:
    """The page after the 26th-oldest case: by cursor where the page has one, else the last
    page by number (Django's paginator answers an out-of-range number with the last page)."""
    join = "&" if "?" in base else "?"
    if "after=" in (next_link(html) or ""):
        return f"{base}{join}after={encode_cursor(oldest)}"
    return f"{base}{join}page=999999"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []

    def add(row: dict[str, Any]) -> None:
        print_row(row)
        rows.append(row)

    counts = {"customers": Customer.objects.count(), "cases": Case.objects.count()}
    print(f"{connection.vendor}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    coffee = Client.objects.get(code="coffee")
    operator = User.objects.get(username="op_sapporo")
    callers = list(
        CustomerPhone.objects.filter(client=coffee)
        .order_by("?")
        .values_list("number", flat=True)[: args.runs + 10]
    )
    run = uuid.uuid4().hex[:8]

    def answered(i: int) -> None:
        contact_event_record(
            viewer=operator,
            client=coffee,
            call_id=f"bench-{run}-{i}",
            event="answered",
            at=timezone.now() - dt.timedelta(seconds=5),
            caller_number=callers[i % len(callers)],
        )

    add(measure("PBX event answered, known caller", answered, runs=args.runs, target_p95_ms=5))
    # The calls end (as the PBX would say): left open, they would sit on every SV's floor board
    # as hour-long calls, and every later floor measured would render them.
    Contact.objects.filter(pbx_call_id__startswith=f"bench-{run}-", ended_at__isnull=True).update(
        ended_at=timezone.now()
    )

    page = TestClient()
    page.force_login(User.objects.get(username="desk_sapporo"))
    for label, base, states in (
        ("all cases", "/cases/", None),
        ("open azukari", "/cases/?open=1", AZUKARI_STATES),
    ):
        first = page.get(base)
        assert first.status_code == 200, first.status_code
        html = first.content.decode()
        oldest = Case.objects.order_by("opened_at", "id")
        if states:
            oldest = oldest.filter(state__in=states)
        urls = {
            "first page": base,
            "second page": "/cases/" + (next_link(html) or ""),
            "near the oldest": deep_link(base, list(oldest[:26])[-1], html),
        }
        for which, url in urls.items():

            def get(_i: int, url: str = url) -> None:
                response = page.get(url)
                assert response.status_code == 200, response.status_code

            add(measure(f"{label}, {which}", get, runs=args.runs, target_p95_ms=50))

    result = {"database": connection.vendor, "counts": counts, "machine": machine(), "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
