"""A policy file previewed before it is put in force: the same checks as `azukari policy load`,
the engine's options for a sample, and nothing kept until the manager puts it in force."""

import datetime as dt

import pytest
from django.utils import timezone

from azukari.core.errors import NotVisible, PermissionRefused
from azukari.org.models import Role
from azukari.subscriptions.models import Policy, PolicyVersion
from azukari.subscriptions.policy_preview import policy_preview, policy_put_in_force
from azukari.subscriptions.services import PolicyInvalid
from azukari.subscriptions.tests.factories import coffee_policy_data, story_subscription
from azukari.testing.factories import PlanFactory, UserFactory


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


def test_the_preview_gives_the_engines_options_and_keeps_nothing(cast, manager):
    plan = PlanFactory(client=cast.coffee)
    preview = policy_preview(
        actor=manager,
        client=cast.coffee,
        data=coffee_policy_data(),
        language="en",
        plan=plan,
        deliveries_made=2,
    )
    assert preview.added == 1 and preview.version_number == 1
    assert {o.code for o in preview.options} >= {"cancel_after_remaining", "cancel_now_with_fee"}
    assert not Policy.objects.filter(client=cast.coffee).exists()
    result = policy_put_in_force(actor=manager, client=cast.coffee, data=coffee_policy_data())
    assert PolicyVersion.objects.get(policy=result.policy).min_deliveries == 3


def test_a_real_subscription_gets_what_the_desk_would_show(cast, manager):
    subscription = story_subscription(
        cast.coffee, started_on=timezone.localdate() - dt.timedelta(days=45)
    )
    preview = policy_preview(
        actor=manager,
        client=cast.coffee,
        data=coffee_policy_data(),
        language="ja",
        subscription=subscription,
    )
    assert subscription.external_id in preview.sample
    assert any(o.cost_yen > 0 for o in preview.options)
    assert not Policy.objects.filter(client=cast.coffee).exists()


def test_the_preview_refuses_as_the_command_does_and_only_for_managers_of_the_client(cast, manager):
    bad = coffee_policy_data(device_list_price_yen=100, device_price_paid_yen=5000)
    with pytest.raises(PolicyInvalid) as invalid:
        policy_preview(actor=manager, client=cast.coffee, data=bad, language="en")
    assert invalid.value.problems
    with pytest.raises(PermissionRefused):
        policy_preview(actor=cast.operator, client=cast.coffee, data=bad, language="en")
    with pytest.raises(NotVisible):
        policy_preview(actor=manager, client=cast.tea, data=coffee_policy_data(), language="en")
    with pytest.raises(NotVisible):
        policy_put_in_force(actor=manager, client=cast.tea, data=coffee_policy_data())
    assert not Policy.objects.exists()
