"""An internal note through the API is the same service as the workspace's note form."""

from azukari.api.tests.factories import open_case
from azukari.cases.models import CaseEvent
from azukari.testing.factories import CustomerFactory

CASES = "/api/v1/cases"


def test_a_note_through_the_api_joins_the_history_like_the_pages(api, cast, coffee_desk_token):
    customer = CustomerFactory(client=cast.coffee, phones=["+819012345678"])
    case = open_case(customer=customer, operator=cast.operator)
    answer = api.post(f"{CASES}/{case.pk}/notes", coffee_desk_token, {"note": "Prefers e-mail"})
    assert answer.status_code == 200
    assert answer.json()["version"] == case.version  # a note is not a move
    event = CaseEvent.objects.get(case=case, kind="note")
    assert event.note == "Prefers e-mail"


def test_an_empty_note_is_refused_and_another_clients_case_is_not_found(
    api, cast, coffee_desk_token, tea_token
):
    customer = CustomerFactory(client=cast.coffee, phones=["+819012345678"])
    case = open_case(customer=customer, operator=cast.operator)
    assert api.post(f"{CASES}/{case.pk}/notes", coffee_desk_token, {"note": ""}).status_code == 422
    assert api.post(f"{CASES}/{case.pk}/notes", tea_token, {"note": "x"}).status_code == 404
    assert not CaseEvent.objects.filter(case=case, kind="note").exists()
