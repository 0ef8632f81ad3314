"""A worker killed in the middle of a webhook attempt: its delivery goes out again once the
claim's lease has run out, and a deployment can shorten that lease."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from azukari.api import services, tasks
from azukari.api.models import DeliveryState, WebhookDelivery
from azukari.api.tests.factories import open_case
from azukari.api.tests.test_webhooks import _park, _register, loopback, receiver, yamada

__all__ = ["loopback", "receiver", "yamada"]  # fixtures


def test_a_killed_workers_delivery_goes_out_once_the_shortened_lease_ends(
    api,
    cast,
    coffee_token,
    coffee_desk_token,
    yamada,
    receiver,
    loopback,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS = 150
    _register(api, coffee_token, receiver.url, ["case.parked"])
    case = open_case(customer=yamada, operator=cast.operator)
    with django_capture_on_commit_callbacks(execute=False):  # the task is not run here
        assert _park(api, cast, coffee_desk_token, case).status_code == 200
    delivery = WebhookDelivery.objects.get()
    taken = timezone.now()
    with time_machine.travel(taken, tick=False) as clock:
        # A worker claims it, then is killed before it sends anything.
        assert services.webhook_delivery_claim(delivery_id=delivery.pk) is not None
        clock.shift(dt.timedelta(seconds=149))
        assert tasks.webhooks_retry_due() == 0  # still the dead worker's
        clock.shift(dt.timedelta(seconds=2))
        assert tasks.webhooks_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)
    assert len(receiver.requests) == 1


def test_a_lease_shorter_than_the_task_timeout_is_refused(monkeypatch):
    import importlib

    import azukari.config.settings as product_settings

    monkeypatch.setenv("AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS", "60")
    with pytest.raises(ImproperlyConfigured, match="AZUKARI_TASK_TIMEOUT"):
        importlib.reload(product_settings)
    monkeypatch.delenv("AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS")
    importlib.reload(product_settings)
