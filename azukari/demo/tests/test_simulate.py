""" "Simulate an incoming call": only in the demo, through the PBX's own service."""

import os
import subprocess
import sys

import pytest
from django.test import override_settings
from django.urls import reverse

from azukari.cases.models import Contact
from azukari.testing.factories import CustomerFactory


@pytest.fixture
def operator(cast, client):
    CustomerFactory(client=cast.coffee, phones=["+819011112222"])
    client.force_login(cast.operator)
    return client


@override_settings(AZUKARI_DEMO=True)
def test_in_the_demo_the_operator_rings_their_own_phone_and_sees_the_call(cast, operator):
    desk = operator.get(reverse("desk")).content.decode()
    assert 'id="simulate-call"' in desk
    response = operator.post(reverse("demo-call-ring"), follow=True)
    assert response.status_code == 200
    assert "Your phone is ringing" in response.content.decode() or "着信" in (
        response.content.decode()
    )
    contact = Contact.objects.get()
    # Recorded as the PBX API records a call: a call id, the agent, the caller's customer.
    assert contact.pbx_call_id.startswith("demo-") and contact.handler == cast.operator
    assert contact.customer is not None and contact.ended_at is None
    incoming = operator.get(reverse("desk"), {"part": "incoming"}).content.decode()
    assert reverse("desk-pop", args=[contact.customer_id]) in incoming


@override_settings(AZUKARI_DEMO=True)
def test_a_login_without_an_agent_id_is_told_why_no_phone_rings(cast, client):
    client.force_login(cast.desk)
    response = client.post(reverse("demo-call-ring"), follow=True)
    assert response.status_code == 200
    assert not Contact.objects.exists()
    assert "agent id" in response.content.decode() or "エージェントID" in (
        response.content.decode()
    )


@override_settings(AZUKARI_DEMO=False)
def test_outside_the_demo_there_is_no_control_and_no_simulated_call(cast, operator):
    assert 'id="simulate-call"' not in operator.get(reverse("desk")).content.decode()
    assert operator.post(reverse("demo-call-ring")).status_code == 404
    assert operator.get(reverse("demo-call-ring")).status_code == 405
    assert not Contact.objects.exists()


def test_production_settings_refuse_the_demo_setting():
    env = {
        **os.environ,
        "AZUKARI_PRODUCTION": "true",
        "AZUKARI_SECRET_KEY": "x" * 60,
        "AZUKARI_AUDIT_KEY": "y" * 60,
        "AZUKARI_DEMO": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import azukari.config.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "AZUKARI_DEMO" in result.stderr
