"""Bad input at the API: oversized and malformed bodies, scripts in text fields."""

import json

from azukari.customers.models import Customer


def test_an_oversized_body_is_refused_before_any_work(api, coffee_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"items": [{"customer_number": f"{i}", "family_name": "x" * 50} for i in range(400)]}
    response = api.post("/api/v1/sync/customers", coffee_token, body)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Customer.objects.exists()


def test_a_malformed_body_gets_the_error_shape(api, coffee_token):
    response = api.http.post(
        "/api/v1/sync/customers",
        b"{not json",
        content_type="application/json",
        headers={**coffee_token.headers, "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed",
        "message": "The request body is not valid JSON.",
        "field_errors": {},
    }
    japanese = api.http.post(
        "/api/v1/sync/customers",
        b"{not json",
        content_type="application/json",
        headers={**coffee_token.headers, "Accept-Language": "ja"},
    )
    assert japanese.json()["message"] == "リクエストの本文が正しいJSONではありません。"


def test_a_script_in_a_text_field_comes_back_as_data_not_markup(api, coffee_token):
    script = "<script>alert(1)</script>"
    item = {"customer_number": "S-1", "family_name": script, "given_name": "太郎"}
    response = api.post("/api/v1/sync/customers", coffee_token, {"items": [item]})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert Customer.objects.get(customer_number="S-1").family_name == script
    card = api.get("/api/v1/customers", coffee_token, q="S-1")
    assert card["Content-Type"].startswith("application/json")
    assert json.loads(card.content)["items"][0]["name"].startswith(script)
