"""The cancellation policy engine: pure functions over plain data (no database access)."""

from azukari.subscriptions.policy.engine import assess, deliveries_made, delivery_slots
from azukari.subscriptions.policy.explain import explain, explain_fee_basis
from azukari.subscriptions.policy.rules import (
    EXCEPTION_PREFIX,
    ApprovalLevel,
    Assessment,
    BuiltinGround,
    ChargeMethod,
    DeliveryFact,
    Facts,
    FeeBasis,
    GroundRule,
    Option,
    OptionCode,
    OptionKind,
    PolicyError,
    PolicyRules,
    SignupTerms,
    SubscriptionState,
)
from azukari.subscriptions.policy.validation import policy_problems

__all__ = [
    "EXCEPTION_PREFIX",
    "ApprovalLevel",
    "Assessment",
    "BuiltinGround",
    "ChargeMethod",
    "DeliveryFact",
    "Facts",
    "FeeBasis",
    "GroundRule",
    "Option",
    "OptionCode",
    "OptionKind",
    "PolicyError",
    "PolicyRules",
    "SignupTerms",
    "SubscriptionState",
    "assess",
    "deliveries_made",
    "delivery_slots",
    "explain",
    "explain_fee_basis",
    "policy_problems",
]
