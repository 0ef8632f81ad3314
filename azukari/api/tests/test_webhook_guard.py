"""The webhook guard refuses the IANA special-purpose ranges, including those that reach other
networks (6to4, NAT64, Teredo, 192.0.0.0/24), and any port but 443 unless the deployment lists
more."""

import pytest

from azukari.api.models import WebhookEndpoint

HOOKS = "/api/v1/webhooks"
EVENTS = ["case.parked"]


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:a00:1::]/hook",  # 6to4 of 10.0.0.1
        "https://[2002:808:808::]/hook",  # 6to4, even of a public address
        "https://192.0.0.8/hook",  # IETF protocol assignments
        "https://192.0.0.170/hook",  # NAT64 discovery
        "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "https://[2001::1]/hook",  # Teredo
        "https://[2001:db8::1]/hook",  # documentation
        "https://100.64.0.1/hook",  # shared address space (carrier NAT)
        "https://198.18.0.1/hook",  # benchmarking
        "https://192.88.99.1/hook",  # 6to4 relay anycast
    ],
)
def test_special_purpose_addresses_are_refused(api, coffee_token, url):
    response = api.post(HOOKS, coffee_token, {"url": url, "events": EVENTS})
    assert response.status_code == 400, url
    assert "url" in response.json()["field_errors"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["https://8.8.8.8:22/hook", "https://8.8.8.8:8443/hook"])
def test_only_port_443_unless_the_deployment_lists_more(api, coffee_token, settings, url):
    response = api.post(HOOKS, coffee_token, {"url": url, "events": EVENTS})
    assert response.status_code == 400
    assert "443" in response.json()["field_errors"]["url"][0]
    settings.AZUKARI_WEBHOOK_PORTS = [443, 8443]
    listed = api.post(HOOKS, coffee_token, {"url": "https://8.8.8.8:8443/hook", "events": EVENTS})
    assert listed.status_code == 201
    assert WebhookEndpoint.objects.count() == 1
