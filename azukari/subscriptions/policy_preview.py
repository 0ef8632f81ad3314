"""A policy file tried before it is put in force: loaded by `policy_load` (the validation of
`azukari policy load`), the engine asked for a sample subscription's options, then all of it
undone. Putting it in force is the same `policy_load`, kept."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError, NotVisible
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, require
from azukari.subscriptions.models import Plan, PolicyVersion, Subscription
from azukari.subscriptions.policy import (
    ChargeMethod,
    DeliveryFact,
    SignupTerms,
    SubscriptionState,
    assess,
    explain,
)
from azukari.subscriptions.selectors import (
    DeskOption,
    option_label,
    subscription_options,
    version_in_force,
    version_rules,
)
from azukari.subscriptions.services import LoadResult, policy_load


@dataclass(frozen=True)
class PolicyPreview:
    policy_name: str
    added: int
    corrected: int
    unchanged: int
    on: dt.date  # the day the sample is assessed: today, or the file's newest version's start
    version_number: int
    sample: str  # the sample in words
    options: tuple[DeskOption, ...]


def _require(actor: User, client: Client) -> None:
    require(actor, Cap.CLIENTS_SET_UP)
    if not actor.is_superuser and client.pk not in actor.visible_client_ids():
        raise NotVisible(field="client")


def sample_state(plan: Plan, deliveries_made: int, on: dt.date) -> SubscriptionState:
    """A customer of `plan` who has received `deliveries_made` deliveries by `on`, with the
    next one due half an interval later."""
    interval = plan.interval_days
    if deliveries_made:
        started = on - dt.timedelta(days=interval * deliveries_made - interval // 2)
    else:
        started = on - dt.timedelta(days=1)
    deliveries = []
    for n in range(deliveries_made + 1):
        day = (
            started + dt.timedelta(days=interval * n)
            if deliveries_made
            else on + dt.timedelta(days=interval // 2)
        )
        shipped = n < deliveries_made
        deliveries.append(
            DeliveryFact(
                sequence=n + 1,
                scheduled_on=day,
                shipped_on=day if shipped else None,
                shipped=shipped,
            )
        )
    return SubscriptionState(
        cancelled=False, started_on=started, interval_days=interval, deliveries=tuple(deliveries)
    )


def _plan_terms(plan: Plan) -> SignupTerms:
    """What a sign-up screen stating the plan's figures gives the customer."""
    subsidy = plan.device_subsidy_yen
    return SignupTerms(
        version="",
        text="",
        min_deliveries=plan.min_deliveries,
        device_subsidy_yen=subsidy,
        charge_method=ChargeMethod.PRO_RATA if subsidy else ChargeMethod.NONE,
    )


def _loaded_day(result: LoadResult) -> dt.date:
    ids = [*result.created, *result.replaced, *result.unchanged]
    newest = (
        PolicyVersion.objects.filter(pk__in=ids)
        .order_by("-effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    today = timezone.localdate()
    return max(today, newest) if newest else today


def policy_preview(
    *,
    actor: User,
    client: Client,
    data: Mapping[str, Any],
    language: str,
    plan: Plan | None = None,
    deliveries_made: int = 2,
    subscription: Subscription | None = None,
) -> PolicyPreview:
    """What the file would give a sample subscription; nothing of it is kept. Refuses the
    file exactly as `azukari policy load` would (PolicyInvalid lists every problem)."""
    _require(actor, client)
    if deliveries_made < 0 or deliveries_made > 60:
        raise DomainError(_("Between 0 and 60 deliveries."), field="deliveries_made")
    with transaction.atomic():
        result = policy_load(client=client, data=data, actor=actor)
        day = _loaded_day(result)
        if subscription is not None:
            if subscription.client_id != client.pk:
                raise NotVisible(field="subscription")
            options = subscription_options(subscription=subscription, language=language, today=day)
            sample = str(_("Subscription %(id)s")) % {"id": subscription.external_id}
            version = version_in_force(result.policy, day)
        else:
            plan = plan or result.policy.plan or Plan.objects.filter(client=client).first()
            if plan is None:
                raise DomainError(
                    _("Add a plan first: the preview needs a sample subscription."), field="plan"
                )
            version = version_in_force(result.policy, day)
            assessment = assess(
                terms=_plan_terms(plan),
                policy=version_rules(version),
                state=sample_state(plan, deliveries_made, day),
                first_requested_on=day,
                today=day,
            )
            options = tuple(
                DeskOption(
                    code=o.code,
                    label=option_label(o.code, o.ground.label if o.ground else ""),
                    cost_yen=o.cost_yen,
                    effective_on=o.effective_on,
                    deliveries_to_ship=o.deliveries_to_ship,
                    approval_level=o.approval_level,
                    explanation=explain(o, language),
                )
                for o in assessment.options
            )
            sample = str(
                _("A customer of “%(plan)s” after %(n)d deliveries, asking on %(date)s")
            ) % {"plan": plan.name, "n": deliveries_made, "date": day.isoformat()}
        preview = PolicyPreview(
            policy_name=result.policy.name,
            added=len(result.created),
            corrected=len(result.replaced),
            unchanged=len(result.unchanged),
            on=day,
            version_number=version.number,
            sample=sample,
            options=options,
        )
        transaction.set_rollback(True)
    return preview


@transaction.atomic
def policy_put_in_force(*, actor: User, client: Client, data: Mapping[str, Any]) -> LoadResult:
    """The manager's page puts a previewed file in force: the same load as the command."""
    _require(actor, client)
    return policy_load(client=client, data=data, actor=actor)
