"""Explicit input and output shapes of the API: no model-wide serializers, no mass assignment."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from azukari.api.models import DeliveryState, WebhookEvent
from azukari.cases.models import (
    AzukariReason,
    CaseKind,
    CaseState,
    Direction,
    Stance,
)
from azukari.customers.models import PhoneKind
from azukari.subscriptions.models import DeliveryStatus, SubscriptionStatus

Code = Field(min_length=1, max_length=64)
MAX_ID = 2**63 - 1

CaseStateName = Literal[tuple(CaseState.values)]  # type: ignore[valid-type]
ReasonName = Literal[tuple(AzukariReason.values)]  # type: ignore[valid-type]
CaseKindName = Literal[tuple(CaseKind.values)]  # type: ignore[valid-type]
StanceName = Literal[tuple(Stance.values)]  # type: ignore[valid-type]
DirectionName = Literal[tuple(Direction.values)]  # type: ignore[valid-type]
PhoneKindName = Literal[tuple(PhoneKind.values)]  # type: ignore[valid-type]
SubscriptionStatusName = Literal[tuple(SubscriptionStatus.values)]  # type: ignore[valid-type]
DeliveryStatusName = Literal[tuple(DeliveryStatus.values)]  # type: ignore[valid-type]
WebhookEventName = Literal[tuple(WebhookEvent.values)]  # type: ignore[valid-type]
DeliveryStateName = Literal[tuple(DeliveryState.values)]  # type: ignore[valid-type]


# ---------------------------------------------------------------- customers and screen pop


class PhoneOut(Schema):
    number: str = Field(description="E.164")
    display: str
    kind: str


class CallWindow(Schema):
    days: list[int] = Field(default_factory=lambda: list(range(7)), max_length=7)
    start: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM")
    end: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM")


class PreferencesOut(Schema):
    quiet_from: dt.time | None
    quiet_until: dt.time | None
    days_off: list[int]
    call_windows: list[dict[str, Any]]
    holidays_ok: bool


class SubscriptionCard(Schema):
    external_id: str
    plan_code: str
    plan_name: str
    status: str
    started_on: dt.date
    deliveries_made: int
    deliveries_required: int
    commitment_met: bool
    first_cancel_requested_on: dt.date | None


class OpenCaseCard(Schema):
    id: int
    kind: str
    subject: str
    state: str
    is_azukari: bool
    azukari_reason: str
    owner_team: str | None
    opened_at: dt.datetime
    due_at: dt.datetime | None
    promised_callback_at: dt.datetime | None
    version: int


class ContactCard(Schema):
    id: int
    direction: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    handler: str = Field(description="Display name of the staff member")
    reason: str
    summary: str
    stance: str


class CustomerCardOut(Schema):
    id: int
    customer_number: str
    name: str
    name_kana: str
    postcode: str
    address: str
    email: str
    phones: list[PhoneOut]
    harassment_flag: bool
    harassment_note: str
    preferences: PreferencesOut
    subscriptions: list[SubscriptionCard]
    open_cases: list[OpenCaseCard]
    recent_contacts: list[ContactCard]


class ClientOut(Schema):
    code: str
    name: str


class LineOut(Schema):
    number: str
    label: str


class ScreenPopOut(Schema):
    client: ClientOut
    line: LineOut
    caller_number: str | None = Field(description="E.164, or null when withheld")
    withheld: bool
    matches: list[CustomerCardOut]
    search_url: str | None = Field(
        description="Where to search by name when the number matched nobody or was withheld"
    )


class CustomerBrief(Schema):
    id: int
    client: str
    customer_number: str
    name: str
    name_kana: str
    phones: list[PhoneOut]


class CustomerSearchOut(Schema):
    items: list[CustomerBrief]
    truncated: bool


# ---------------------------------------------------------------- PBX contact events


class ContactEventIn(Schema):
    event: Literal["started", "answered", "ended", "abandoned"]
    call_id: str = Field(min_length=1, max_length=100, description="The PBX's id of the call")
    dialled_number: str = Field(min_length=1, max_length=32, description="The client line")
    caller_number: str | None = Field(None, max_length=32)
    at: dt.datetime = Field(description="When it happened, with a time zone")
    agent_id: str | None = Field(None, max_length=64, description="PBX agent id of the staff")
    recording_id: str | None = Field(None, max_length=100)


class ContactOut(Schema):
    id: int
    client: str
    call_id: str
    status: Literal["ringing", "in_progress", "ended", "abandoned"]
    caller_number: str
    customer_id: int | None
    handler: str | None = Field(description="Agent id of the staff member who took the call")
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    recording_id: str
    created: bool = Field(description="True when this event made the contact")


# ---------------------------------------------------------------- sync


class PhoneIn(Schema):
    number: str = Field(min_length=1, max_length=32)
    kind: PhoneKindName = PhoneKind.MOBILE


class CustomerSyncIn(Schema):
    customer_number: str = Field(min_length=1, max_length=64)
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field("", max_length=100)
    family_name_kana: str = Field("", max_length=100)
    given_name_kana: str = Field("", max_length=100)
    postcode: str = Field("", max_length=8)
    address: str = Field("", max_length=300)
    email: str = Field("", max_length=254)
    birth_date: dt.date | None = Field(
        None, description="Optional; left as it is when not sent, cleared when sent as null."
    )
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    quiet_from: dt.time | None = None
    quiet_until: dt.time | None = None
    days_off: list[int] = Field(default_factory=list, max_length=7)
    call_windows: list[CallWindow] = Field(default_factory=list, max_length=14)
    holidays_ok: bool = False

    @field_validator("quiet_from", "quiet_until")
    @classmethod
    def _local_time(cls, value: dt.time | None) -> dt.time | None:
        """Quiet hours are wall-clock times in the customer's day, never with a zone."""
        if value is not None and value.tzinfo is not None:
            raise ValueError("a time of day without a time zone, e.g. 21:00")
        return value


class SubscriptionSyncIn(Schema):
    external_id: str = Field(min_length=1, max_length=64)
    customer_number: str = Field(min_length=1, max_length=64)
    plan_code: str = Field(min_length=1, max_length=32)
    status: SubscriptionStatusName = SubscriptionStatus.ACTIVE
    started_on: dt.date
    cancelled_on: dt.date | None = None
    terms_version: str = Field("", max_length=32)
    terms_snapshot: dict[str, Any] = Field(
        default_factory=dict, description="The terms as shown at sign-up; recorded once"
    )


class DeliverySyncIn(Schema):
    external_id: str = Field(min_length=1, max_length=64)
    subscription_external_id: str = Field(min_length=1, max_length=64)
    sequence: int = Field(ge=1, le=32767)
    scheduled_on: dt.date
    status: DeliveryStatusName = DeliveryStatus.SCHEDULED
    shipped_on: dt.date | None = None
    chargeable: bool = True


class CustomerBatchIn(Schema):
    items: list[CustomerSyncIn] = Field(min_length=1, max_length=500)


class SubscriptionBatchIn(Schema):
    items: list[SubscriptionSyncIn] = Field(min_length=1, max_length=500)


class DeliveryBatchIn(Schema):
    items: list[DeliverySyncIn] = Field(min_length=1, max_length=500)


class ItemError(Schema):
    code: str
    message: str
    field_errors: dict[str, list[str]]


class SyncItemOut(Schema):
    index: int
    key: str = Field(description="The client's own id of the item")
    status: Literal["created", "updated", "unchanged", "error"]
    id: int | None
    error: ItemError | None


class SyncOut(Schema):
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[SyncItemOut]


# ---------------------------------------------------------------- cases


class CaseOut(Schema):
    id: int
    client: str
    customer_id: int
    customer_number: str
    subscription_external_id: str | None
    kind: str
    subject: str
    state: str
    azukari_reason: str
    site: str
    owner_team: str | None
    assignee: str | None = Field(description="Agent id or user name of the assignee")
    opened_at: dt.datetime
    parked_at: dt.datetime | None
    due_at: dt.datetime | None
    promised_callback_at: dt.datetime | None
    resolved_at: dt.datetime | None
    outcome: str
    reopen_count: int
    overdue: bool
    version: int = Field(description="Send it back with any action; a stale one gets 409")


class CasePageOut(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class CaseEventOut(Schema):
    id: int
    at: dt.datetime
    actor: str | None
    kind: str
    from_state: str
    to_state: str
    note: str
    data: dict[str, Any]


class InquiryOut(Schema):
    id: int
    case_id: int
    status: str
    question: str
    options: list[dict[str, str]]
    sent_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    answer_option: str
    answer_note: str
    answered_at: dt.datetime | None


class CallbackOut(Schema):
    id: int
    status: str
    origin: str
    promised_for: dt.datetime | None
    scheduled_for: dt.datetime | None
    attempts: int


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    inquiries: list[InquiryOut]
    callbacks: list[CallbackOut]


class VersionIn(Schema):
    version: int = Field(ge=1, le=2**31 - 1)
    note: str = Field("", max_length=2000)


class CaseOpenIn(Schema):
    contact_id: int = Field(ge=1, le=MAX_ID)
    kind: CaseKindName
    subject: str = Field(min_length=1, max_length=200)
    subscription_external_id: str | None = Field(None, max_length=64)
    note: str = Field("", max_length=2000)


class CaseParkIn(VersionIn):
    reason: ReasonName
    team: str = Field(min_length=1, max_length=32, description="Team code")
    assignee_agent_id: str | None = Field(None, max_length=64)
    state: Literal["azukari", "waiting_customer", "callback_due"] = "azukari"
    promised_callback_at: dt.datetime | None = None
    customer_requested: bool = Field(
        False, description="The customer named the promised time: their stated preferences give way"
    )
    due_at: dt.datetime | None = None


class CaseAssignIn(VersionIn):
    team: str = Field(min_length=1, max_length=32)
    assignee_agent_id: str | None = Field(None, max_length=64)


class CaseWaitIn(VersionIn):
    due_at: dt.datetime | None = None


class CasePromiseIn(VersionIn):
    promised_for: dt.datetime
    customer_requested: bool = Field(
        False, description="The customer named the time: their stated preferences give way"
    )


class OptionIn(Schema):
    code: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=200)


class InquirySendIn(Schema):
    version: int = Field(ge=1, le=2**31 - 1)
    question: str = Field(min_length=1, max_length=4000)
    options: list[OptionIn] = Field(min_length=1, max_length=10)
    due_at: dt.datetime | None = None
    team: str | None = Field(None, max_length=32)


class CaseNoteIn(Schema):
    note: str = Field(
        min_length=1,
        max_length=2000,
        description="Internal: never shown to the customer or the client",
    )


class CaseResolveIn(VersionIn):
    outcome: str = Field(min_length=1, max_length=2000)


class CaseReopenIn(VersionIn):
    team: str | None = Field(None, max_length=32)


# ---------------------------------------------------------------- inquiries for client approvers


class InquiryCaseOut(Schema):
    id: int
    kind: str
    subject: str
    state: str
    customer_number: str
    subscription_external_id: str | None


class ClientInquiryOut(InquiryOut):
    case: InquiryCaseOut


class InquiryPageOut(Schema):
    items: list[ClientInquiryOut]
    truncated: bool


class InquiryAnswerIn(Schema):
    option: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=4000)


# ---------------------------------------------------------------- webhooks


class WebhookIn(Schema):
    url: str = Field(min_length=1, max_length=500)
    events: list[WebhookEventName] = Field(min_length=1, max_length=len(WebhookEvent.values))
    description: str = Field("", max_length=200)


class WebhookOut(Schema):
    id: int
    client: str
    url: str
    description: str
    events: list[str]
    is_active: bool
    created_at: dt.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Shown once: keep it to verify signatures")


class WebhookAttemptOut(Schema):
    at: dt.datetime
    status_code: int | None
    error: str
    duration_ms: int


class WebhookDeliveryOut(Schema):
    id: int
    event: str
    state: DeliveryStateName
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    payload: dict[str, Any]
    attempt_log: list[WebhookAttemptOut]


class WebhookDeliveryPageOut(Schema):
    items: list[WebhookDeliveryOut]
    truncated: bool
