"""The customer self-service pages: bytes sent per page and server time per page.

    python benchmarks/selfservice_pages.py [--runs 100] [--json FILE]

Without DATABASE_URL it builds a fresh SQLite database in a temporary folder (migrated, with
the story's coffee client, its policy and one customer after two of three deliveries), so it
never touches the demo's data; with DATABASE_URL it adds that customer to the database named.
Page weight is the HTML plus the stylesheets the page loads (the self-service pages load no
script and no image). Server time is one request through Django's test client, in-process:
the view, its queries (the audit event and the page record included) and the template.
"""

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "azukari.config.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/selfservice.sqlite3"

import django  # noqa: E402

django.setup()

from common import machine, measure, print_row  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.signing import get_cookie_signer  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as TestClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from azukari.org.models import Client, Site, Team  # noqa: E402
from azukari.selfservice.models import Link, LinkChannel, LinkOrigin  # noqa: E402
from azukari.selfservice.services import link_issue, link_open, link_token  # noqa: E402
from azukari.selfservice.views import COOKIE, COOKIE_SALT  # noqa: E402

STYLESHEETS = ("selfservice/selfservice.css",)


def story(code: str) -> Any:
    """The coffee client (created if missing), its policy, a desk, and one customer."""
    from azukari.subscriptions.models import Policy
    from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
    from azukari.testing.factories import (
        ClientFactory,
        CustomerFactory,
        SiteFactory,
        SubscriptionFactory,
        TeamFactory,
    )

    client = Client.objects.filter(code="coffee").first() or ClientFactory(
        code="coffee", name="珈琲定期便株式会社"
    )
    if not Team.objects.filter(clients=client, is_azukari_desk=True).exists():
        site = Site.objects.filter(code="sapporo").first() or SiteFactory(
            code="sapporo", name="札幌センター"
        )
        TeamFactory(site=site, code=f"bench-desk-{code}", clients=[client])
    if not Policy.objects.filter(client=client).exists():
        coffee_policy(client)
    customer = CustomerFactory(
        client=client,
        customer_number=f"BENCH-{code}",
        family_name="山田",
        given_name="太郎",
        postcode="060-0001",
        phones=["+819012345678"],
    )
    # The run's own subscription number, so the script runs again on the same database.
    SubscriptionFactory.reset_sequence(int(code, 16))
    return story_subscription(
        client, started_on=timezone.localdate() - dt.timedelta(days=45), customer=customer
    )


def browser_for(link: Link, *, confirmed: bool) -> TestClient:
    _link, secret = link_open(token=link_token(link))
    if confirmed:
        Link.objects.filter(pk=link.pk).update(identity_confirmed_at=timezone.now())
    browser = TestClient()
    browser.cookies[COOKIE] = get_cookie_signer(salt=COOKIE + COOKIE_SALT).sign(secret)
    browser.cookies["django_language"] = "ja"
    return browser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    if connection.vendor == "sqlite" and "selfservice.sqlite3" in str(connection.settings_dict):
        call_command("migrate", verbosity=0)
    code = uuid.uuid4().hex[:8]
    subscription = story(code)
    customer = subscription.customer
    css = sum(Path(finders.find(name)).stat().st_size for name in STYLESHEETS)

    def new_link() -> Link:
        return link_issue(customer=customer, channel=LinkChannel.SMS, origin=LinkOrigin.API)

    landing = new_link()
    pages = {
        "link landing (GET, spends nothing)": (
            TestClient(),
            f"/self/l/{link_token(landing)}/",
        ),
        "identity question": (browser_for(new_link(), confirmed=False), "/self/check/"),
        "subscription, terms, options, status": (
            browser_for(new_link(), confirmed=True),
            "/self/",
        ),
        "final confirmation of an option": (
            browser_for(new_link(), confirmed=True),
            f"/self/choose/{subscription.pk}/cancel_after_remaining/",
        ),
        "call-time preferences": (browser_for(new_link(), confirmed=True), "/self/preferences/"),
        "public form (customer number + phone)": (TestClient(), "/self/c/coffee/"),
    }
    print(f"{connection.vendor}; stylesheet {css:,} bytes (cached after the first page)")
    rows: list[dict[str, Any]] = []
    for name, (browser, url) in pages.items():
        first = browser.get(url)
        assert first.status_code == 200, (url, first.status_code)
        html = len(first.content)

        def get(_i: int, browser: TestClient = browser, url: str = url) -> None:
            response = browser.get(url)
            assert response.status_code == 200, response.status_code

        row = measure(name, get, runs=args.runs)
        row["html_bytes"] = html
        row["page_bytes"] = html + css
        print_row(row)
        print(f"{'':<52} html {html:>7,} B   with stylesheet {html + css:>7,} B")
        rows.append(row)
    result = {"database": connection.vendor, "machine": machine(), "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
