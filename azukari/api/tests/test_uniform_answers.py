"""Another client's code answers as an unknown one does, on every endpoint that takes one;
bad text input is a 400 with a message, never a 500."""

from azukari.api.models import Scope
from azukari.api.services import api_token_create


def _token(cast) -> dict[str, str]:
    _token, raw = api_token_create(name="Coffee", scopes=Scope.values, client=cast.coffee)
    return {"Authorization": f"Bearer {raw}"}


def test_listing_cases_of_another_client_is_404_like_an_unknown_client(client, cast):
    headers = _token(cast)
    for path in ("/api/v1/cases?client=tea", "/api/v1/customers?client=tea&q=abc"):
        other = client.get(path, headers=headers)
        unknown = client.get(path.replace("tea", "nosuch"), headers=headers)
        assert (other.status_code, unknown.status_code) == (404, 404), path
        assert other.json() == unknown.json()
    assert client.get("/api/v1/cases?client=coffee", headers=headers).status_code == 200


def test_nul_characters_in_a_search_are_a_clear_400(client, cast, english):
    response = client.get("/api/v1/customers?q=%00%00%00", headers=_token(cast))
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]
