"""The engine's inputs and outputs as plain, frozen data: no database behind any of it.

Amounts are tax-inclusive whole yen (int); dates are `datetime.date`. Keeping these types free
of models lets the engine be tested exhaustively and called from anywhere.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError

TERMS_SCHEMA = 1


class ApprovalLevel(models.TextChoices):
    """Who may grant an option, lowest first."""

    OPERATOR = "operator", _("Operator")
    SV = "sv", _("Supervisor / leader")
    CLIENT = "client", _("Client company")


APPROVAL_RANK = {ApprovalLevel.OPERATOR: 0, ApprovalLevel.SV: 1, ApprovalLevel.CLIENT: 2}


class ChargeMethod(models.TextChoices):
    """How the unrecovered device subsidy is charged on an early cancellation."""

    PRO_RATA = "pro_rata", _("Pro rata to the deliveries not yet made")
    FIXED = "fixed", _("Fixed fee")
    NONE = "none", _("Not charged")


class BuiltinGround(models.TextChoices):
    """Exception grounds every policy may list; clients add their own codes."""

    DEFECT = "defect", _("Product defect")
    BEREAVEMENT = "bereavement", _("Bereavement")
    MOVING_ABROAD = "moving_abroad", _("Moving abroad")
    HARDSHIP = "hardship", _("Financial hardship")
    TERMS_UNCLEAR = "terms_unclear", _("Terms not shown clearly")


class OptionKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXCEPTION = "exception", _("Exception")


class OptionCode(models.TextChoices):
    CANCEL_NOW = "cancel_now", _("Cancel now")
    CANCEL_AFTER_REMAINING = "cancel_after_remaining", _("Cancel after the remaining deliveries")
    CANCEL_NOW_WITH_FEE = "cancel_now_with_fee", _("Cancel now, paying the unrecovered subsidy")


EXCEPTION_PREFIX = "exception:"


class PolicyError(DomainError):
    """The engine cannot give options for these inputs."""

    code = "policy"


def _int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(
            _("The sign-up terms hold an invalid “%(key)s”.") % {"key": key}, field="terms_snapshot"
        )
    return value


@dataclass(frozen=True)
class SignupTerms:
    """The cancellation terms on the customer's final confirmation screen: the floor.

    Read strictly in the customer's favour: a figure the screen did not state cannot be charged.
    """

    version: str
    text: str
    min_deliveries: int = 0
    device_subsidy_yen: int = 0
    charge_method: str = ChargeMethod.PRO_RATA
    fixed_fee_yen: int = 0
    notice_days: int = 0

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any] | None, *, version: str = "") -> "SignupTerms":
        """Reads a stored snapshot (schema 1); a missing snapshot means nothing may be charged."""
        data = data or {}
        schema = data.get("schema", TERMS_SCHEMA)
        if schema != TERMS_SCHEMA:
            raise PolicyError(
                _("The sign-up terms use an unknown format (%(schema)s).") % {"schema": schema},
                field="terms_snapshot",
            )
        subsidy = _int(data, "device_subsidy_yen")
        method = data.get("charge_method") or (
            ChargeMethod.PRO_RATA if subsidy else ChargeMethod.NONE
        )
        if method not in ChargeMethod.values:
            raise PolicyError(
                _("The sign-up terms hold an invalid “%(key)s”.") % {"key": "charge_method"},
                field="terms_snapshot",
            )
        return cls(
            version=version or str(data.get("version", "")),
            text=str(data.get("text", "")),
            min_deliveries=_int(data, "min_deliveries"),
            device_subsidy_yen=subsidy,
            charge_method=method,
            fixed_fee_yen=_int(data, "fixed_fee_yen"),
            notice_days=_int(data, "notice_days"),
        )

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "schema": TERMS_SCHEMA,
            "version": self.version,
            "text": self.text,
            "min_deliveries": self.min_deliveries,
            "device_subsidy_yen": self.device_subsidy_yen,
            "charge_method": str(self.charge_method),
            "fixed_fee_yen": self.fixed_fee_yen,
            "notice_days": self.notice_days,
        }


@dataclass(frozen=True)
class GroundRule:
    """One exception ground of a policy version and who may grant it."""

    code: str
    approval_level: str
    fee_waived_percent: int = 100
    label: str = ""

    @property
    def display(self) -> str:
        if self.code in BuiltinGround.values:
            return str(BuiltinGround(self.code).label)
        return self.label or self.code


@dataclass(frozen=True)
class PolicyRules:
    """One version of a client's cancellation policy, in force from `effective_from`."""

    number: int
    effective_from: dt.date
    min_deliveries: int
    device_list_price_yen: int
    device_price_paid_yen: int
    charge_method: str = ChargeMethod.PRO_RATA
    fixed_fee_yen: int = 0
    notice_days: int = 0
    grounds: tuple[GroundRule, ...] = ()
    effective_until: dt.date | None = None  # the next version's start, if there is one
    version_id: int | None = None

    @property
    def subsidy_yen(self) -> int:
        return max(0, self.device_list_price_yen - self.device_price_paid_yen)

    def ground(self, code: str) -> GroundRule | None:
        return next((g for g in self.grounds if g.code == code), None)

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )


@dataclass(frozen=True)
class DeliveryFact:
    sequence: int
    scheduled_on: dt.date
    shipped_on: dt.date | None = None
    shipped: bool = False


@dataclass(frozen=True)
class SubscriptionState:
    """What the engine needs to know about one subscription."""

    cancelled: bool
    started_on: dt.date
    interval_days: int
    deliveries: tuple[DeliveryFact, ...] = ()


@dataclass(frozen=True)
class FeeBasis:
    """How a fee was worked out, so that it can be explained on request."""

    method: str  # ChargeMethod.PRO_RATA or FIXED
    source: str  # "terms" or "policy"
    subsidy_yen: int = 0
    required: int = 0
    remaining: int = 0
    fixed_fee_yen: int = 0
    unrecovered_yen: int = 0
    fee_yen: int = 0


@dataclass(frozen=True)
class Facts:
    """The situation the options were computed for; explanations only quote these."""

    first_requested_on: dt.date
    today: dt.date
    deliveries_made: int
    required: int
    subsidy_yen: int
    unrecovered_yen: int
    notice_days: int
    earliest_effective_on: dt.date
    shipped_after_request: int
    terms_version: str
    policy_number: int


@dataclass(frozen=True)
class Option:
    code: str
    kind: str
    cost_yen: int
    effective_on: dt.date
    deliveries_to_ship: int
    approval_level: str
    facts: Facts
    ground: GroundRule | None = None
    basis: FeeBasis | None = None
    last_delivery_on: dt.date | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.facts.required - self.facts.deliveries_made)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly record of the option, as stored with a decision or an inquiry."""
        return {
            "code": self.code,
            "kind": str(self.kind),
            "cost_yen": self.cost_yen,
            "effective_on": self.effective_on.isoformat(),
            "deliveries_to_ship": self.deliveries_to_ship,
            "approval_level": str(self.approval_level),
            "ground": self.ground.code if self.ground else None,
            "last_delivery_on": self.last_delivery_on.isoformat()
            if self.last_delivery_on
            else None,
        }


@dataclass(frozen=True)
class Assessment:
    """Everything the engine says about one request on one day."""

    facts: Facts
    options: tuple[Option, ...] = field(default_factory=tuple)

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)
