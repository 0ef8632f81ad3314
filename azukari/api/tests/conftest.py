"""API test set-up: tokens for the story's clients and the PBX, client lines, an HTTP client."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient

from azukari.api.models import ApiToken, Scope
from azukari.api.services import api_token_create
from azukari.org.models import Client, ClientLine

COFFEE_LINE = "0120-123-456"
TEA_LINE = "0120-987-654"


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """django-q2 reads Q_CLUSTER once at import, so the settings fixture cannot make queued
    tasks run inline; its Conf can."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@dataclass
class Issued:
    token: ApiToken
    raw: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw}"}


class Api:
    """The test client with a token: `api.get(path, token)` returns the response."""

    def __init__(self) -> None:
        self.http = HttpClient()

    def _headers(self, issued: Issued | None) -> dict[str, str]:
        return issued.headers if issued else {}

    def get(self, path: str, issued: Issued | None, **params):
        return self.http.get(path, params, headers=self._headers(issued))

    def post(self, path: str, issued: Issued | None, body: dict | list | None = None):
        return self.http.post(
            path, body or {}, content_type="application/json", headers=self._headers(issued)
        )

    def delete(self, path: str, issued: Issued | None):
        return self.http.delete(path, headers=self._headers(issued))


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def issue(db) -> Callable[..., Issued]:
    def make(
        client: Client | None = None,
        *,
        center_clients: tuple[Client, ...] = (),
        scopes: list[str] | None = None,
        name: str = "test integration",
    ) -> Issued:
        token, raw = api_token_create(
            name=name,
            scopes=scopes or Scope.values,
            client=client,
            center_clients=center_clients,
        )
        return Issued(token, raw)

    return make


@pytest.fixture
def lines(cast) -> dict[str, ClientLine]:
    return {
        "coffee": ClientLine.objects.create(
            client=cast.coffee, number="+81120123456", label="Coffee support"
        ),
        "tea": ClientLine.objects.create(client=cast.tea, number="+81120987654", label="Tea"),
    }


@pytest.fixture
def coffee_token(cast, issue) -> Issued:
    """The coffee company's order system."""
    return issue(cast.coffee, name="coffee order system")


@pytest.fixture
def tea_token(cast, issue) -> Issued:
    """The tea company's system: an outsider to every coffee object."""
    return issue(cast.tea, name="tea order system")


@pytest.fixture
def pbx_token(cast, issue) -> Issued:
    """The center's PBX/CTI, serving both clients."""
    return issue(center_clients=(cast.coffee, cast.tea), name="center PBX")


@pytest.fixture
def coffee_desk_token(cast, issue) -> Issued:
    """The center's CTI desktop integration for the coffee client only."""
    return issue(center_clients=(cast.coffee,), name="coffee CTI")
