"""Writes of the subscriptions app: policies, cancellation requests, exceptions, decisions."""

from azukari.subscriptions.services.cancellations import (
    GRANT,
    REFUSE,
    approval_rank,
    cancellation_decide,
    cancellation_disclose,
    cancellation_exception_ask,
    cancellation_exception_rule,
    cancellation_inquiry_settle,
    cancellation_request_record,
    cancellation_request_withdraw,
    delivery_ship_record,
    subscriptions_cancel_due,
)
from azukari.subscriptions.services.plans import plan_create, plan_values_check
from azukari.subscriptions.services.policies import (
    LoadResult,
    PolicyInvalid,
    VersionSpec,
    policy_file_read,
    policy_load,
    policy_version_create,
    policy_version_replace,
    version_is_used,
    version_spec_of,
    version_start_problem,
)
from azukari.subscriptions.services.sync import delivery_upsert, subscription_upsert

__all__ = [
    "GRANT",
    "REFUSE",
    "LoadResult",
    "PolicyInvalid",
    "VersionSpec",
    "approval_rank",
    "cancellation_decide",
    "cancellation_disclose",
    "cancellation_exception_ask",
    "cancellation_exception_rule",
    "cancellation_inquiry_settle",
    "cancellation_request_record",
    "cancellation_request_withdraw",
    "delivery_ship_record",
    "delivery_upsert",
    "plan_create",
    "plan_values_check",
    "policy_file_read",
    "policy_load",
    "policy_version_create",
    "policy_version_replace",
    "subscription_upsert",
    "subscriptions_cancel_due",
    "version_is_used",
    "version_spec_of",
    "version_start_problem",
]
