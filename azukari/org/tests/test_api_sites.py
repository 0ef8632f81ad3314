"""The PBX asks where to route calls; a center integration marks a site down."""

import datetime as dt

import pytest
import time_machine
from django.test import Client as HttpClient

from azukari.api.models import Scope
from azukari.api.services import api_token_create
from azukari.cases.models import Case
from azukari.core.businesstime import TOKYO
from azukari.org.models import SiteStatus
from azukari.org.tests.builders import open_azukari


def _mounted() -> bool:
    from azukari.api.api import ROUTERS

    return "routing" in ROUTERS and "sites" in ROUTERS


pytestmark = pytest.mark.urls("azukari.config.urls" if _mounted() else "azukari.org.tests.api_urls")


def _token(cast, *, client=None, center_clients=()):
    scopes = [s for s in Scope.values if s != Scope.SITES_FAILOVER]
    token, raw = api_token_create(
        name="pbx", scopes=scopes, client=client, center_clients=center_clients
    )
    # Written directly: a client token cannot be issued with it, but may hold it from before.
    token.scopes = [*token.scopes, "routing:read", "sites:failover"]
    token.save(update_fields=["scopes"])
    return {"Authorization": f"Bearer {raw}"}


@time_machine.travel(dt.datetime(2026, 6, 2, 10, tzinfo=TOKYO), tick=False)
def test_routing_lists_the_sites_taking_each_clients_calls_now(cast):
    pbx = _token(cast, center_clients=(cast.coffee, cast.tea))
    http = HttpClient()
    answer = http.get("/api/v1/routing", headers=pbx).json()
    by_client = {c["client"]: c for c in answer["clients"]}
    assert [s["code"] for s in by_client["coffee"]["taking_calls"]] == ["osaka", "sapporo"]
    assert [s["code"] for s in by_client["tea"]["taking_calls"]] == ["osaka"]

    cast.sapporo.status = SiteStatus.DOWN
    cast.sapporo.save()
    answer = http.get("/api/v1/routing", headers=pbx).json()
    coffee = next(c for c in answer["clients"] if c["client"] == "coffee")
    assert [s["code"] for s in coffee["taking_calls"]] == ["osaka"]

    # A client's own token sees only its own routing; no token, no answer.
    tea_only = _token(cast, client=cast.tea)
    answer = http.get("/api/v1/routing", headers=tea_only).json()
    assert [c["client"] for c in answer["clients"]] == ["tea"]
    assert http.get("/api/v1/routing").status_code == 401
    assert http.post("/api/v1/routing", headers=pbx).status_code == 405


def test_site_down_by_api_drill_then_for_real(cast, django_capture_on_commit_callbacks):
    ids = open_azukari(client=cast.coffee, team=cast.sapporo_desk, count=3, opened_by=cast.desk)
    pbx = _token(cast, center_clients=(cast.coffee,))
    http = HttpClient()

    drill = http.post("/api/v1/sites/sapporo/down?drill=true", headers=pbx)
    assert drill.status_code == 200
    assert drill.json()["cases_to_move"] == 3 and drill.json()["drill"] is True
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING

    with django_capture_on_commit_callbacks(execute=True):
        real = http.post("/api/v1/sites/sapporo/down", headers=pbx)
    assert real.status_code == 202
    assert real.json()["status"] == "down" and real.json()["outage"]
    assert set(Case.objects.filter(pk__in=ids).values_list("owner_team", flat=True)) == {
        cast.osaka_desk.pk
    }
    assert http.post("/api/v1/sites/nowhere/down", headers=pbx).status_code == 404


def test_client_tokens_cannot_take_a_site_down(cast):
    coffee = _token(cast, client=cast.coffee)
    response = HttpClient().post("/api/v1/sites/sapporo/down", headers=coffee)
    assert response.status_code == 403
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING
