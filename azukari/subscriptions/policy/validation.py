"""Refusing a policy that contradicts itself, before anyone can decide with it.

Shared by the admin, the file loader and the services, so one rule gives one message everywhere.
"""

import re

from django.utils.translation import gettext_lazy as _

from azukari.subscriptions.policy.rules import (
    ApprovalLevel,
    BuiltinGround,
    ChargeMethod,
    PolicyRules,
)

GROUND_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_NOTICE_DAYS = 365

Problem = tuple[str, str]  # (field, message)


def policy_problems(rules: PolicyRules, *, decision_limit_days: int = 1) -> list[Problem]:
    """Every contradiction in one policy version; empty when it is sound."""
    problems: list[Problem] = []
    subsidy = rules.device_list_price_yen - rules.device_price_paid_yen
    if rules.min_deliveries < 0 or rules.device_list_price_yen < 0 or rules.fixed_fee_yen < 0:
        problems.append(("min_deliveries", str(_("Numbers in a policy cannot be negative."))))
    if subsidy < 0:
        problems.append(
            (
                "device_price_paid_yen",
                str(_("The price paid for the device cannot be above its list price.")),
            )
        )
    if rules.charge_method not in ChargeMethod.values:
        problems.append(("charge_method", str(_("Choose how the subsidy is charged."))))
    if rules.charge_method == ChargeMethod.FIXED:
        if rules.fixed_fee_yen <= 0:
            problems.append(
                (
                    "fixed_fee_yen",
                    str(_("A fixed fee needs an amount; choose “not charged” for no fee.")),
                )
            )
        elif rules.fixed_fee_yen > max(0, subsidy):
            problems.append(
                (
                    "fixed_fee_yen",
                    str(
                        _(
                            "The fee (%(fee)s yen) is more than the device subsidy it recovers "
                            "(%(subsidy)s yen)."
                        )
                        % {"fee": f"{rules.fixed_fee_yen:,}", "subsidy": f"{max(0, subsidy):,}"}
                    ),
                )
            )
    elif rules.fixed_fee_yen:
        problems.append(
            (
                "fixed_fee_yen",
                str(_("A fixed fee is set, but the subsidy is not charged as a fixed fee.")),
            )
        )
    charges = rules.charge_method != ChargeMethod.NONE and subsidy > 0
    if charges and rules.min_deliveries == 0:
        problems.append(
            (
                "min_deliveries",
                str(
                    _(
                        "A device subsidy is charged, but there is no minimum number of "
                        "deliveries to recover it over."
                    )
                ),
            )
        )
    if not 0 <= rules.notice_days <= MAX_NOTICE_DAYS:
        problems.append(
            (
                "notice_days",
                str(_("The notice period must be between 0 and %(max)d days."))
                % {"max": MAX_NOTICE_DAYS},
            )
        )
    if decision_limit_days < 1:
        problems.append(
            ("decision_limit_days", str(_("The time limit for a decision is at least one day.")))
        )
    if rules.grounds and not charges:
        problems.append(
            (
                "grounds",
                str(
                    _(
                        "Exception grounds are listed, but this policy never charges a fee, "
                        "so no exception could ever be needed."
                    )
                ),
            )
        )
    seen: set[str] = set()
    for ground in rules.grounds:
        if not GROUND_CODE.match(ground.code):
            problems.append(
                (
                    "grounds",
                    str(
                        _(
                            "“%(code)s” is not a valid ground code: lower-case letters, digits "
                            "and underscores, starting with a letter."
                        )
                    )
                    % {"code": ground.code},
                )
            )
        if ground.code in seen:
            problems.append(
                (
                    "grounds",
                    str(_("The ground “%(code)s” is listed twice.")) % {"code": ground.code},
                )
            )
        seen.add(ground.code)
        if ground.approval_level not in ApprovalLevel.values:
            problems.append(
                (
                    "grounds",
                    str(_("The ground “%(code)s” needs an approval level: %(levels)s."))
                    % {"code": ground.code, "levels": ", ".join(ApprovalLevel.values)},
                )
            )
        if not 1 <= ground.fee_waived_percent <= 100:
            problems.append(
                (
                    "grounds",
                    str(
                        _(
                            "The ground “%(code)s” must waive between 1 and 100 percent of the "
                            "fee; a ground that waives nothing grants nothing."
                        )
                    )
                    % {"code": ground.code},
                )
            )
        if ground.code not in BuiltinGround.values and not ground.label.strip():
            problems.append(
                (
                    "grounds",
                    str(_("The client-defined ground “%(code)s” needs a label."))
                    % {"code": ground.code},
                )
            )
    return problems
