"""Isolation matrices.

Horizontal: every page URL, every API operation and every admin page, for every role, pointed
at a real object of another client, answers exactly like a missing one (404, or the admin's
"does not exist"). URLs come from the resolver, operations from the served OpenAPI document and
admin pages from the admin site's registry, so a new page, endpoint or model is covered without
anyone adding it; a new kind of id in a path fails here until it gets a builder in
`_objects`, and a request body is generated from the operation's schema so that it reaches the
lookup instead of stopping at validation.

Vertical: every page route × every role is allowed exactly when the permission table
(`azukari.org.permissions`) gives the role the capability the page declares with `page_for`.
"""

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib import admin as django_admin
from django.contrib.auth.models import Permission
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.api.services import api_token_create
from azukari.audit.tests.conftest import open_case
from azukari.cases import services as cases
from azukari.cases.models import AzukariReason, Callback
from azukari.org.models import Client, Role
from azukari.org.permissions import Cap, user_can
from azukari.testing.factories import UserFactory

# Paths outside the product's own pages: Django's admin (staff-only, its own permission
# system), the API (covered below from its OpenAPI document), static files, and the
# customers' self-service pages (no staff log-in: a link's session, tested in selfservice).
SKIPPED_PREFIXES = ("admin/", "api/", "static/", "self/")
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


# A business day and hour: promises and callbacks made by the builders are in the site's hours.
AT_WORK = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


@pytest.fixture(autouse=True)
def _at_work():
    with time_machine.travel(AT_WORK, tick=True):
        yield


def _objects(cast, client: Client, operator, team) -> dict[str, int]:
    """One real object of `client` for each kind of id a path can carry."""
    world: dict[str, int] = {}
    case = open_case(client=client, operator=operator, phone=f"+81908765{client.pk:04d}")
    world["case_id"] = case.pk
    world["customer_id"] = case.customer_id
    world["client_code"] = client.code
    world["contact_id"] = case.contacts.first().pk
    asked = open_case(client=client, operator=operator, phone=f"+81901111{client.pk:04d}")
    inquiry = cases.inquiry_send(
        case=asked,
        version=asked.version,
        actor=operator,
        question="May the customer cancel without the fee?",
        options=[{"code": "waive", "label": "Waive"}, {"code": "charge", "label": "Charge"}],
        team=team,
    )
    world["inquiry_id"] = inquiry.pk
    parked = open_case(client=client, operator=operator, phone=f"+81903333{client.pk:04d}")
    parked = cases.case_park(
        case=parked,
        version=parked.version,
        actor=operator,
        reason=AzukariReason.SV_CALLBACK,
        team=team,
    )
    cases.case_promise_callback(
        case=parked,
        version=parked.version,
        actor=operator,
        promised_for=timezone.now() + dt.timedelta(hours=2),
    )
    world["callback_id"] = Callback.objects.filter(case=parked).first().pk
    world.update(_cancellation(cast, client, operator, team))
    world.update(_floor(client, operator))
    world.update(_integrations(client, operator, case))
    world.update(_incidents(client, operator))
    return world


@pytest.fixture
def tea(cast) -> dict[str, int]:
    return _objects(cast, cast.tea, cast.outsider, cast.tea_desk)


@pytest.fixture
def coffee(cast) -> dict[str, int]:
    return _objects(cast, cast.coffee, cast.operator, cast.sapporo_desk)


def _cancellation(cast, client, operator, team) -> dict[str, int]:
    from azukari.subscriptions.services.cancellations import (
        cancellation_exception_ask,
        cancellation_request_record,
    )
    from azukari.subscriptions.tests.factories import (
        cancellation_call,
        coffee_policy,
        story_subscription,
    )

    coffee_policy(client)
    subscription = story_subscription(
        client,
        started_on=timezone.localdate() - dt.timedelta(days=70),
        customer=None,
    )
    case = cancellation_call(actor=operator, subscription=subscription)
    request = cancellation_request_record(actor=operator, case=case)
    exception = cancellation_exception_ask(
        actor=operator,
        request=request,
        ground_code="defect",
        reason="The machine leaks",
        team=team,
    )
    return {"request_id": request.pk, "exception_id": exception.pk}


def _floor(client, operator) -> dict[str, int]:
    from azukari.floor.models import Notice

    notice = Notice.objects.create(
        client=client,
        title=f"{client.code} only",
        body="For its operators",
        published_at=timezone.now(),
        published_by=operator,
    )
    return {"notice_id": notice.pk}


def _integrations(client, operator, case) -> dict[str, int]:
    from azukari.api.models import WebhookEndpoint
    from azukari.audit.services import named_staff_request_record

    endpoint = WebhookEndpoint.objects.create(
        client=client, url="https://8.8.8.8/hook", events=["case.parked"], secret="whsec_x"
    )
    api_token_create(name=f"{client.code} sync", scopes=["cases:read"], client=client)
    named_staff_request_record(operator=operator, client=client, case=case)
    return {"endpoint_id": endpoint.pk}


def _incidents(client, operator) -> dict[str, int]:
    from azukari.audit.models import IncidentKind
    from azukari.audit.services import incident_record

    manager = UserFactory(
        username=f"mgr_incidents_{client.code}",
        role=Role.MANAGER,
        home_site=operator.home_site,
        clients=[client],
    )
    incident = incident_record(
        by=manager,
        client=client,
        title="Order list mailed to the wrong customer",
        kind=IncidentKind.LEAK,
        discovered_at=timezone.now() - dt.timedelta(days=1),
    )
    return {"incident_id": incident.pk}


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


# Path parameters of the API that do not name a client's object, with a value that routes.
PLAIN_API_PARAMS = {"code": "osaka"}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _example(schema: dict, node: dict):
    """A value valid against `node` with only the required parts: enough for the request to
    pass validation and reach the object lookup."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        node = next(_resolve(schema, n) for n in node["anyOf"] if n.get("type") != "null")
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return {
            name: _example(schema, node["properties"][name]) for name in node.get("required", [])
        }
    if kind == "array":
        return [_example(schema, node["items"])] * max(node.get("minItems", 1), 1)
    if kind == "integer":
        return max(node.get("minimum", 1), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if node.get("format") == "date-time":
        return (AT_WORK + dt.timedelta(days=1)).isoformat()
    if node.get("format") == "date":
        return (AT_WORK + dt.timedelta(days=1)).date().isoformat()
    return "x" * max(node.get("minLength", 1), 1)


def _body(schema: dict, operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _example(schema, content["application/json"]["schema"])


def test_api_operations_answer_404_for_another_clients_objects(cast, tea, client):
    from azukari.api.models import Scope

    schema = client.get("/api/v1/openapi.json").json()
    _token, raw = api_token_create(name="Coffee", scopes=Scope.values, client=cast.coffee)
    _center, raw_center = api_token_create(
        name="Coffee PBX", scopes=Scope.values, center_clients=[cast.coffee]
    )
    leaks, covered = [], 0
    for method, path, operation in _operations(schema):
        names = set(re.findall(r"{(\w+)}", path))
        if not names - PLAIN_API_PARAMS.keys():
            continue
        for name in names - PLAIN_API_PARAMS.keys():
            assert name in tea, f"{path}: no builder for {{{name}}}; add one to _objects"

        def fill(values, path=path):
            return "/api/v1" + re.sub(
                r"{(\w+)}",
                lambda m: str(PLAIN_API_PARAMS.get(m.group(1), values[m.group(1)])),
                path,
            )

        url, missing_url = fill(tea), fill(dict.fromkeys(tea, 10**9))
        body = _body(schema, operation)
        for secret in (raw, raw_center):
            answers = []
            for target in (url, missing_url):
                answers.append(
                    getattr(client, method)(
                        target,
                        data=body if body is not None else None,
                        content_type="application/json",
                        headers={"Authorization": f"Bearer {secret}"},
                    ).status_code
                )
            covered += 1
            # Another client's object answers as a missing one does: 404, after a body valid
            # enough to reach the lookup (a 422 would prove nothing about the lookup).
            if answers != [404, 404]:
                leaks.append(f"{method.upper()} {url} -> {answers[0]} (missing: {answers[1]})")
    assert covered > 20
    assert leaks == [], "\n".join(leaks)


def test_an_unknown_id_kind_fails_loudly(tea):
    with pytest.raises(AssertionError, match="no builder"):
        _fill("widgets/<int:widget_id>/", tea)


def _client_field(model) -> str | None:
    for field in model._meta.get_fields():
        if field.name == "client" and getattr(field, "related_model", None) is Client:
            return "client"
    return None


# Admin pages that must show another client's rows: none. Models kept here are not a client's
# data even though they name one (none today).
ADMIN_NOT_CLIENT_DATA: set[str] = set()


def test_the_admin_shows_no_other_clients_rows_to_staff_of_any_role(cast, tea, coffee_people):
    """Non-superuser staff of every role, with every Django permission, find none of tea's rows
    in any admin list or change page."""
    from django.urls import reverse

    rows = []
    for model, _model_admin in django_admin.site._registry.items():
        label = f"{model._meta.app_label}_{model._meta.model_name}"
        if _client_field(model) is None or label in ADMIN_NOT_CLIENT_DATA:
            continue
        row = model._base_manager.filter(client=cast.tea).first()
        if row is not None:
            rows.append((label, row.pk))
    assert len(rows) >= 10, rows  # the builders give the admin something to leak
    everything = Permission.objects.all()
    leaks = []
    for role in ROLES:
        person = coffee_people[role]
        person.is_staff = True
        person.save(update_fields=["is_staff"])
        person.user_permissions.set(everything)
        browser = _verified_browser(person)
        for label, pk in rows:
            change = reverse(f"admin:{label}_change", args=[pk])
            got = browser.get(change).status_code
            if got == 200:
                leaks.append(f"{role}: {change} -> 200")
            listing = browser.get(reverse(f"admin:{label}_changelist"))
            if listing.status_code == 200 and change in listing.content.decode():
                leaks.append(f"{role}: {label} list links {change}")
    assert leaks == [], "\n".join(leaks)


# Pages open to anyone signed in (no capability).
OPEN_ROUTES = {"", "account/2fa/", "language/"}
# The demo's own controls exist only with AZUKARI_DEMO (off here and in production).
DEMO_PREFIX = "demo/"


def _view_of(route: str):
    from django.urls import resolve

    return resolve(_fill(route, dict.fromkeys(PARAM_NAMES, 1))).func


def _capability(route: str) -> Cap | None:
    view = _view_of(route)
    return getattr(view, "capability", None)


def _all_page_routes() -> list[str]:
    return sorted(
        {
            route
            for route, _p in _patterns()
            if not route.startswith((*SKIPPED_PREFIXES, DEMO_PREFIX))
        }
        - {"login/", "logout/", "admin/login/"}
    )


PARAM_NAMES = {
    "case_id", "customer_id", "client_code", "contact_id", "inquiry_id", "callback_id",
    "request_id", "exception_id", "notice_id", "endpoint_id", "incident_id",
}  # fmt: skip


def test_every_page_declares_who_it_is_for():
    undeclared = [
        route
        for route in _all_page_routes()
        if route not in OPEN_ROUTES and _capability(route) is None
    ]
    assert undeclared == [], f"declare these pages' capability with page_for: {undeclared}"


def test_route_by_role_follows_the_permission_table(cast, coffee, coffee_people):
    """Each role reaches exactly the pages whose capability the table gives it, for its own
    client's objects; a client approver finds every other page missing (404)."""
    wrong = []
    for role in ROLES:
        person = coffee_people[role]
        browser = _verified_browser(person)
        for route in _all_page_routes():
            cap = _capability(route)
            if cap is None:
                continue
            url = _fill(route, coffee)
            status = browser.get(url).status_code
            if status == 405:
                status = browser.post(url).status_code
            allowed = status not in (403, 404)
            if allowed != user_can(person, cap):
                wrong.append(f"{role}: /{route} ({cap}) -> {status}")
            elif not allowed and role == "client_approver" and status != 404:
                wrong.append(f"{role}: /{route} -> {status}, not 404")
    assert wrong == [], "\n".join(wrong)
