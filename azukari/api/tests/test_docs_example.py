"""The signature check printed in docs/api.md verifies a real delivery and rejects forgeries."""

import re
from pathlib import Path

import pytest

from azukari.api.tests.factories import open_case
from azukari.api.tests.receiver import start_receiver
from azukari.testing.factories import CustomerFactory

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def docs_verifier():
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- signature-example:start -->\s*```python\n(.*?)```\s*<!-- signature-example:end -->",
        text,
        re.DOTALL,
    )
    assert match, "docs/api.md lost its signature example"
    namespace: dict = {}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)
    return namespace["verify_azukari_webhook"]


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_docs_example_verifies_a_real_delivery(
    api, cast, coffee_token, coffee_desk_token, receiver, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.AZUKARI_WEBHOOK_ALLOW_LOOPBACK = True
    verify = docs_verifier()
    hook = api.post(
        "/api/v1/webhooks", coffee_token, {"url": receiver.url, "events": ["case.parked"]}
    ).json()
    case = open_case(
        customer=CustomerFactory(client=cast.coffee, phones=["+819012345678"]),
        operator=cast.operator,
    )
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/v1/cases/{case.pk}/park",
            coffee_desk_token,
            {"version": case.version, "reason": "investigation", "team": "sapporo-desk"},
        )
    [request] = receiver.requests
    secret = hook["secret"]
    assert verify(secret, request.headers, request.body)

    stamp = int(request.headers["X-Azukari-Timestamp"])
    assert not verify("whsec_wrong", request.headers, request.body)
    assert not verify(secret, request.headers, request.body + b" ")
    assert not verify(secret, request.headers, request.body, now=stamp + 3600)
    forged = {**request.headers, "X-Azukari-Timestamp": str(stamp + 1)}
    assert not verify(secret, forged, request.body, now=stamp)
    assert not verify(secret, {}, request.body)
