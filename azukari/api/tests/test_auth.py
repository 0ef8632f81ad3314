"""Tokens: shown once, stored hashed, scoped, revocable; failures use the one error shape."""

import io
import logging

import pytest
from django.core.cache import cache
from django.core.management import call_command

from azukari.api.models import ApiToken, Scope
from azukari.api.services import api_token_revoke, token_hash

SCREEN_POP = "/api/v1/screen-pop"


def test_token_is_stored_only_as_a_hash(coffee_token):
    stored = ApiToken.objects.get(pk=coffee_token.token.pk)
    assert coffee_token.raw not in (stored.secret_hash, stored.prefix)
    assert stored.secret_hash == token_hash(coffee_token.raw)


def test_missing_and_wrong_tokens_get_401_in_the_error_shape(api, lines, coffee_token):
    for headers in ({}, {"Authorization": "Bearer azk_nope_nope"}, {"Authorization": "Basic x"}):
        response = api.http.get(SCREEN_POP, {"dialled_number": "0120-123-456"}, headers=headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        body = response.json()
        assert body["code"] == "unauthorized"
        assert set(body) == {"code", "message", "field_errors"}


def test_revoked_token_fails_at_once(api, lines, coffee_token):
    ok = api.get(SCREEN_POP, coffee_token, dialled_number="0120-123-456")
    assert ok.status_code == 200
    api_token_revoke(token=coffee_token.token)
    response = api.get(SCREEN_POP, coffee_token, dialled_number="0120-123-456")
    assert response.status_code == 401


def test_scopes_are_enforced(api, cast, lines, issue):
    pop_only = issue(cast.coffee, scopes=[Scope.SCREEN_POP])
    assert api.get(SCREEN_POP, pop_only, dialled_number="0120-123-456").status_code == 200
    response = api.get("/api/v1/cases", pop_only)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    response = api.post("/api/v1/sync/customers", pop_only, {"items": []})
    assert response.status_code == 403


def test_each_token_is_rate_limited_in_the_error_shape(
    api, lines, coffee_token, tea_token, settings
):
    settings.AZUKARI_API_REQUESTS_PER_MINUTE = 3
    cache.clear()
    for _ in range(3):
        assert api.get(SCREEN_POP, coffee_token, dialled_number="0120-123-456").status_code == 200
    response = api.get(SCREEN_POP, coffee_token, dialled_number="0120-123-456")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another integration's token counts on its own.
    assert api.get(SCREEN_POP, tea_token, dialled_number="0120-987-654").status_code == 200


def test_probing_refusals_are_in_the_security_log(api, lines, coffee_token, tea_token, caplog):
    with caplog.at_level(logging.INFO, logger="azukari.security"):
        api.get(SCREEN_POP, None, dialled_number="0120-123-456")
        api.get(SCREEN_POP, tea_token, dialled_number="0120-123-456")
    refusals = [r.getMessage() for r in caplog.records if r.name == "azukari.security"]
    assert any("status=401" in m for m in refusals)
    assert any("status=404" in m and f"token={tea_token.token.pk}" in m for m in refusals)


def test_client_token_sees_only_its_client_and_needs_the_contract(cast, coffee_token):
    assert coffee_token.token.visible_client_ids() == frozenset({cast.coffee.pk})
    cast.coffee.contract_signed_on = None
    cast.coffee.save()
    fresh = ApiToken.objects.select_related("service_user").get(pk=coffee_token.token.pk)
    assert fresh.visible_client_ids() == frozenset()


def test_center_token_sees_the_clients_it_serves(cast, pbx_token, coffee_desk_token):
    assert pbx_token.token.visible_client_ids() == {cast.coffee.pk, cast.tea.pk}
    assert coffee_desk_token.token.visible_client_ids() == {cast.coffee.pk}


def test_command_prints_the_token_once_and_it_works(api, cast, lines):
    from azukari.org.models import Role
    from azukari.testing.factories import UserFactory

    UserFactory(username="manager", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.coffee])
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api", "token", "create", "--client", "coffee", "--scopes", "screen_pop",
        "--issued-by", "manager", stdout=out, stderr=err,
    )  # fmt: skip
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(secret_hash=token_hash(raw))
    assert token.client == cast.coffee and token.scopes == ["screen_pop"]
    response = api.http.get(
        SCREEN_POP,
        {"dialled_number": "0120-123-456"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200
    listing = io.StringIO()
    call_command("api", "token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and raw not in listing.getvalue()
    call_command("api", "token", "revoke", token.prefix, stdout=io.StringIO())
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_command_refuses_unknown_scopes(cast):
    from django.core.management.base import CommandError

    from azukari.org.models import Role
    from azukari.testing.factories import UserFactory

    UserFactory(username="manager", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.coffee])

    with pytest.raises(CommandError, match="scopes"):
        call_command(
            "api", "token", "create", "--client", "coffee", "--scopes", "everything",
            "--issued-by", "manager", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
