"""The cancellation desk as an operator meets it: terms verbatim, options, one click per act."""

import pytest
from django.urls import reverse

from azukari.subscriptions.models import CancellationDecision, CancellationDisclosure
from azukari.subscriptions.services import cancellation_request_record
from azukari.subscriptions.tests.factories import STORY_TERMS_TEXT, cancellation_call

pytestmark = pytest.mark.urls("azukari.subscriptions.tests.urls")


@pytest.fixture
def recorded(cast, subscription, first_call):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    return cancellation_request_record(actor=cast.operator, case=case)


def test_operator_records_the_request_from_the_case_and_sees_the_desk(
    client, cast, subscription, first_call
):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    client.force_login(cast.operator)
    url = reverse("cancellation-record", args=[case.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    page = client.get(response["Location"] + "?say=en")
    body = page.content.decode()
    assert page.status_code == 200
    assert STORY_TERMS_TEXT in body
    assert "You can also cancel now by paying 4,940 yen, tax included" in body
    assert "2026-10-31" in body


def test_outsider_gets_404_everywhere(client, cast, recorded):
    client.force_login(cast.outsider)
    assert client.get(reverse("cancellation-desk", args=[recorded.pk])).status_code == 404
    response = client.post(
        reverse("cancellation-decide", args=[recorded.pk]), {"option_code": "cancel_now_with_fee"}
    )
    assert response.status_code == 404
    assert not CancellationDecision.objects.exists()


def test_operator_tells_the_options_then_the_customer_chooses(client, cast, recorded):
    client.force_login(cast.operator)
    desk = reverse("cancellation-desk", args=[recorded.pk])
    assert client.post(desk).status_code == 405
    client.post(
        reverse("cancellation-disclose", args=[recorded.pk]), {"kind": "options", "language": "ja"}
    )
    assert CancellationDisclosure.objects.get().language == "ja"
    response = client.post(
        reverse("cancellation-decide", args=[recorded.pk]), {"option_code": "no_such_option"}
    )
    assert response.status_code == 302
    assert not CancellationDecision.objects.exists()
    client.post(
        reverse("cancellation-decide", args=[recorded.pk]),
        {"option_code": "cancel_after_remaining"},
    )
    assert CancellationDecision.objects.get().option_code == "cancel_after_remaining"
    closed = client.get(desk).content.decode()
    assert "残りのお届け後に解約" in closed and "2026-10-31" in closed  # its name, not its code
    assert "<td>cancel_after_remaining</td>" not in closed


def test_consistency_report_exports_csv(client, cast, recorded):
    client.force_login(cast.sv)
    url = reverse("cancellation-report")
    assert client.get(url).status_code == 200
    response = client.get(
        url,
        {"client": "coffee", "date_from": "2026-01-01", "date_to": "2026-12-31", "format": "csv"},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("section,dimension,key,decided,granted")
    assert client.get(reverse("cancellation-overdue")).status_code == 200
