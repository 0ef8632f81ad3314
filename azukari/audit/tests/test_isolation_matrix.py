"""Isolation matrix: every page URL and every API operation, for every role, pointed at a real
object of another client, answers 404 exactly like a missing one.

URLs come from the resolver and operations from the served OpenAPI document, so a new page or
endpoint is covered without anyone adding it; a new kind of id in a path fails here until it
gets a builder in TEA_OBJECTS.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.api.services import api_token_create
from azukari.audit.tests.conftest import open_case
from azukari.cases import services as cases
from azukari.cases.models import AzukariReason, Callback
from azukari.cases.tests.builders import tomorrow
from azukari.org.models import Role
from azukari.testing.factories import UserFactory

# Paths outside the product's own pages: Django's admin (staff-only, its own permission
# system), the API (covered below from its OpenAPI document) and static files.
SKIPPED_PREFIXES = ("admin/", "api/", "static/")
# Path parameters that do not name a client's object, with a value that routes.
PLAIN_PARAMS = {"kind": "callbacks"}


def _patterns(resolvers=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, route)
        else:
            yield route, entry


def _page_routes() -> list[str]:
    routes = []
    for route, _pattern in _patterns():
        names = {m.group(2) for m in PARAM.finditer(route)}
        if route.startswith(SKIPPED_PREFIXES) or not names - PLAIN_PARAMS.keys():
            continue
        routes.append(route)
    return sorted(set(routes))


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
PAGE_ROUTES = _page_routes()


@pytest.fixture
def tea(cast) -> dict[str, int]:
    """One real object of the tea client for each kind of id a path can carry."""
    world: dict[str, Callable[[], int]] = {}
    case = open_case(client=cast.tea, operator=cast.outsider, phone="+819087654321")
    world["case_id"] = case.pk
    world["customer_id"] = case.customer_id
    world["client_code"] = cast.tea.code
    world["contact_id"] = case.contacts.first().pk
    asked = open_case(client=cast.tea, operator=cast.outsider, phone="+819011112222")
    inquiry = cases.inquiry_send(
        case=asked,
        version=asked.version,
        actor=cast.outsider,
        question="May the customer cancel without the fee?",
        options=[{"code": "waive", "label": "Waive"}, {"code": "charge", "label": "Charge"}],
        team=cast.tea_desk,
    )
    world["inquiry_id"] = inquiry.pk
    parked = open_case(client=cast.tea, operator=cast.outsider, phone="+819033334444")
    parked = cases.case_park(
        case=parked,
        version=parked.version,
        actor=cast.outsider,
        reason=AzukariReason.SV_CALLBACK,
        team=cast.tea_desk,
    )
    cases.case_promise_callback(
        case=parked,
        version=parked.version,
        actor=cast.outsider,
        promised_for=tomorrow(),
    )
    world["callback_id"] = Callback.objects.filter(case=parked).first().pk
    world.update(_tea_cancellation(cast))
    world.update(_tea_floor(cast))
    return world


def _tea_cancellation(cast) -> dict[str, int]:
    from azukari.subscriptions.services.cancellations import (
        cancellation_exception_ask,
        cancellation_request_record,
    )
    from azukari.subscriptions.tests.factories import (
        cancellation_call,
        coffee_policy,
        story_subscription,
    )

    coffee_policy(cast.tea)
    subscription = story_subscription(
        cast.tea,
        started_on=timezone.localdate() - dt.timedelta(days=70),
        customer=None,
    )
    case = cancellation_call(actor=cast.outsider, subscription=subscription)
    request = cancellation_request_record(actor=cast.outsider, case=case)
    exception = cancellation_exception_ask(
        actor=cast.outsider,
        request=request,
        ground_code="defect",
        reason="The machine leaks",
        team=cast.tea_desk,
    )
    return {"request_id": request.pk, "exception_id": exception.pk}


def _tea_floor(cast) -> dict[str, int]:
    from azukari.floor.models import Notice

    notice = Notice.objects.create(
        client=cast.tea,
        title="Tea only",
        body="For tea operators",
        published_at=timezone.now(),
        published_by=cast.outsider,
    )
    return {"notice_id": notice.pk}


def _verified_browser(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return browser


@pytest.fixture
def coffee_people(cast) -> dict[str, object]:
    manager = UserFactory(
        username="mgr_coffee", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )
    admin = UserFactory(
        username="adm_coffee", role=Role.ADMIN, home_site=cast.sapporo, clients=[cast.coffee]
    )
    return {
        "operator": cast.operator,
        "sv": cast.sv,
        "desk": cast.desk,
        "manager": manager,
        "admin": admin,
        "client_approver": cast.approver,
    }


def _fill(route: str, tea: dict[str, int]) -> str:
    def value(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        if name in PLAIN_PARAMS:
            return PLAIN_PARAMS[name]
        assert name in tea, (
            f"{route}: no builder for <{converter}:{name}>; add one to the tea fixture"
        )
        return str(tea[name])

    return "/" + PARAM.sub(value, route)


def test_every_page_route_is_in_the_matrix():
    """Guards the generator itself: the product's object pages are found."""
    assert "cases/<int:case_id>/" in PAGE_ROUTES
    assert "customers/<int:customer_id>/reveal/" in PAGE_ROUTES


ROLES = ["operator", "sv", "desk", "manager", "admin", "client_approver"]


def test_pages_answer_for_another_clients_objects_as_for_missing_ones(cast, tea, coffee_people):
    """For every role: the answer about a tea object is the answer about a missing one, and
    never a page (a role refused the page outright may get 403 for both)."""
    missing = dict.fromkeys(tea, 10**9)
    leaks = []
    for role in ROLES:
        browser = _verified_browser(coffee_people[role])
        for route in PAGE_ROUTES:
            for method in ("get", "post"):
                got = getattr(browser, method)(_fill(route, tea)).status_code
                want = getattr(browser, method)(_fill(route, missing)).status_code
                if got != want or got < 400:
                    leaks.append(f"{role}: {method.upper()} /{route} -> {got} (missing: {want})")
    assert leaks == [], "\n".join(leaks)


def test_object_pages_answer_404_to_the_roles_that_use_them(cast, tea, coffee_people):
    """The roles a page serves get exactly 404 for another client's object."""
    browser = _verified_browser(cast.operator)
    for route in ("cases/<int:case_id>/", "desk/customers/<int:customer_id>/"):
        assert browser.get(_fill(route, tea)).status_code == 404
    approver = _verified_browser(cast.approver)
    assert approver.get(_fill("portal/inquiries/<int:inquiry_id>/", tea)).status_code == 404


def _operations(schema: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, operation


def test_api_operations_answer_404_for_another_clients_objects(cast, tea, client):
    from azukari.api.models import Scope

    schema = client.get("/api/v1/openapi.json").json()
    _token, raw = api_token_create(name="Coffee", scopes=Scope.values, client=cast.coffee)
    _center, raw_center = api_token_create(
        name="Coffee PBX", scopes=Scope.values, center_clients=[cast.coffee]
    )
    leaks, covered = [], 0
    for method, path, _operation in _operations(schema):
        if "{" not in path:
            continue
        url = "/api/v1" + re.sub(r"{(\w+)}", lambda m: str(tea.get(m.group(1), 10**9)), path)
        missing_url = "/api/v1" + re.sub(r"{(\w+)}", str(10**9), path)
        for secret in (raw, raw_center):
            answers = []
            for target in (url, missing_url):
                answers.append(
                    getattr(client, method)(
                        target,
                        data={} if method != "get" else None,
                        content_type="application/json",
                        headers={"Authorization": f"Bearer {secret}"},
                    ).status_code
                )
            covered += 1
            # Another client's object answers as a missing one does: 404, or the same
            # refusal of the body (422) before any lookup.
            if answers[0] != answers[1] or answers[0] < 400:
                leaks.append(f"{method.upper()} {url} -> {answers[0]} (missing: {answers[1]})")
    assert covered > 0
    assert leaks == [], "\n".join(leaks)


def test_an_unknown_id_kind_fails_loudly(tea):
    with pytest.raises(AssertionError, match="no builder"):
        _fill("widgets/<int:widget_id>/", tea)
