"""Permission tests generated from the served OpenAPI document, so a new endpoint is covered
before anyone remembers it: no token → 401, a token without the scope → 403, wrong method →
405, and every operation declares the one error shape."""

import pytest

from azukari.api.api import api as ninja_api
from azukari.api.models import Scope

METHODS = {"get", "post", "put", "patch", "delete"}


def _operations():
    schema = ninja_api.get_openapi_schema(path_params={})
    scopes = {}
    for path_view in _path_views():
        for operation in path_view.operations:
            [auth] = operation.auth_callbacks
            scopes[operation.operation_id] = auth.scope
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                found.append((path, method, op, scopes[op["operationId"]]))
    return found


def _path_views():
    for _prefix, router in ninja_api._routers:
        yield from router.path_operations.values()


def _concrete(path: str) -> str:
    return (
        path.replace("{case_id}", "1")
        .replace("{customer_id}", "1")
        .replace("{inquiry_id}", "1")
        .replace("{endpoint_id}", "1")
    )


OPERATIONS = _operations()
IDS = [f"{m.upper()} {p}" for p, m, _op, _s in OPERATIONS]


def test_the_document_and_browsable_docs_are_served_at_stable_urls(api):
    document = api.http.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["version"] == "1"
    assert "/api/v1/screen-pop" in document.json()["paths"]
    docs = api.http.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/api/v1/openapi.json" in docs.content


def test_an_unknown_api_path_is_a_404_in_the_error_shape(api, coffee_token):
    for url in ("/api/v1/no-such-thing", "/api/v2/screen-pop", "/api/"):
        response = api.http.get(url, headers=coffee_token.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_every_scope_is_used_by_some_operation():
    assert {s for *_rest, s in OPERATIONS} == set(Scope.values)


@pytest.mark.parametrize(("path", "method", "op", "scope"), OPERATIONS, ids=IDS)
def test_operation_declares_the_error_shape(path, method, op, scope):
    for status in (401, 403, 404, 422):
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorOut")
    assert op["security"] == [{"ScopedToken": []}]


@pytest.mark.parametrize(("path", "method", "op", "scope"), OPERATIONS, ids=IDS)
def test_operation_needs_a_token_and_its_scope(api, cast, issue, path, method, op, scope):
    url = _concrete(path)
    call = getattr(api.http, method)
    kwargs = {"content_type": "application/json"} if method != "get" else {}
    anonymous = call(url, **kwargs)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthorized"
    others = issue(cast.coffee, scopes=[s for s in Scope.values if s != scope])
    refused = call(url, headers=others.headers, **kwargs)
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing_scope"


@pytest.mark.parametrize("path", sorted({p for p, *_rest in OPERATIONS}))
def test_undeclared_methods_are_not_allowed(api, cast, issue, path):
    declared = {m for p, m, *_rest in OPERATIONS if p == path}
    token = issue(cast.coffee)
    for method in sorted(METHODS - declared - {"patch"}):
        response = getattr(api.http, method)(_concrete(path), headers=token.headers)
        assert response.status_code == 405, (method, path)
        assert response.json()["code"] == "method_not_allowed"
        assert set(response["Allow"].replace(" ", "").lower().split(",")) == declared
