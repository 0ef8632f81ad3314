"""Contacts, cases and what keeps a case moving: events, inquiries and callbacks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.cases.texts import options_shown, render
from azukari.core.visibility import ClientOwned, ClientScopedManager


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    # The customer acted on the self-service pages: no call, counted apart from calls.
    ONLINE = "online", _("Self-service (online)")


class CallerRelation(models.TextChoices):
    HOLDER = "holder", _("The contract holder")
    FAMILY = "family", _("Family member")
    OTHER = "other", _("Someone else")
    UNKNOWN = "unknown", _("Not known")


class IdentityCheck(models.TextChoices):
    NOT_CHECKED = "not_checked", _("Not checked")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Could not be verified")


class Stance(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neutral")
    SOFTENED = "softened", _("Softened")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    HARDENED = "hardened", _("Hardened")
    ANGRY = "angry", _("Angry")


class Contact(ClientOwned):
    """One call or message with a customer (応対)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("case"),
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("handled by"),
    )
    site = models.ForeignKey(
        "org.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.INBOUND
    )
    caller_number = models.CharField(_("caller number (E.164)"), max_length=20, blank=True)
    started_at = models.DateTimeField(_("started at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    caller_relation = models.CharField(
        _("who called"),
        max_length=8,
        choices=CallerRelation.choices,
        default=CallerRelation.UNKNOWN,
    )
    identity_check = models.CharField(
        _("identity check"),
        max_length=12,
        choices=IdentityCheck.choices,
        default=IdentityCheck.NOT_CHECKED,
    )
    identity_method = models.CharField(_("identity checked by"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    stance = models.CharField(
        _("customer's stance at the end"), max_length=12, choices=Stance.choices, blank=True
    )
    pbx_call_id = models.CharField(  # noqa: DJ001 (NULL keeps the unique constraint sparse)
        _("PBX call id"), max_length=100, null=True, blank=True
    )
    recording_id = models.CharField(_("recording id"), max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "pbx_call_id"], name="contact_pbx_call_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="contact_by_customer"),
            models.Index(fields=["handler", "ended_at"], name="contact_by_handler"),
            # The floor board's calls in progress, oldest answered first.
            models.Index(
                fields=["answered_at", "id"],
                condition=models.Q(ended_at__isnull=True),
                name="contact_in_progress",
            ),
            # The board's self-service count: the few `online` rows of a client in a window,
            # never a pass over every call.
            models.Index(fields=["direction", "client", "started_at"], name="contact_by_direction"),
        ]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.started_at:%Y-%m-%d %H:%M}"


class CaseState(models.TextChoices):
    OPEN = "open", _("Open (on the call)")
    AZUKARI = "azukari", _("Azukari (center's turn)")
    WAITING_CLIENT = "waiting_client", _("Waiting for the client")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    CALLBACK_DUE = "callback_due", _("Callback due")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


AZUKARI_STATES = frozenset(
    {
        CaseState.AZUKARI,
        CaseState.WAITING_CLIENT,
        CaseState.WAITING_CUSTOMER,
        CaseState.CALLBACK_DUE,
    }
)


# A case still being worked: on the call or in azukari. Asked as `state__in`, so the
# (customer, state) index answers it; "not resolved or closed" let SQLite walk all of a
# client's cases when the query joins the client.
WORKED_STATES = (CaseState.OPEN, *sorted(AZUKARI_STATES))


class AzukariReason(models.TextChoices):
    CLIENT_DECISION = "client_decision", _("Client decision needed")
    SV_CALLBACK = "sv_callback", _("SV callback")
    INVESTIGATION = "investigation", _("Investigation")
    CUSTOMER_ACTION = "customer_action", _("Customer action needed")


class CaseKind(models.TextChoices):
    CANCELLATION = "cancellation", _("Cancellation")
    DELIVERY = "delivery", _("Delivery change")
    BILLING = "billing", _("Billing")
    DEFECT = "defect", _("Product defect")
    COMPLAINT = "complaint", _("Complaint")
    INFORMATION = "information", _("Information")
    OTHER = "other", _("Other")


class Case(ClientOwned):
    """What a customer wants (案件); parked cases are azukari."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("customer"),
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("subscription"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    state = models.CharField(
        _("state"), max_length=16, choices=CaseState.choices, default=CaseState.OPEN
    )
    azukari_reason = models.CharField(
        _("azukari reason"), max_length=16, choices=AzukariReason.choices, blank=True
    )
    site = models.ForeignKey(
        "org.Site", on_delete=models.PROTECT, related_name="cases", verbose_name=_("site")
    )
    owner_team = models.ForeignKey(
        "org.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("owning team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"))
    parked_at = models.DateTimeField(_("first parked at"), null=True, blank=True)
    promised_callback_at = models.DateTimeField(_("callback promised for"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Waiting clocks in business seconds, up to `clock_since`; the running one is derived from
    # the state (center, client or customer).
    center_seconds = models.PositiveIntegerField(_("center's time (s)"), default=0)
    client_seconds = models.PositiveIntegerField(_("client's time (s)"), default=0)
    customer_seconds = models.PositiveIntegerField(_("customer's time (s)"), default=0)
    clock_since = models.DateTimeField(_("clock running since"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            # The board's counts of the days its tallies do not cover whole (the edges of the
            # age buckets): the keys it groups by are in the index, so no case row is read.
            models.Index(
                fields=["client", "state", "parked_at", "site", "owner_team", "azukari_reason"],
                name="case_board_client",
            ),
            models.Index(
                fields=["site", "state", "parked_at", "client", "owner_team", "azukari_reason"],
                name="case_board_site",
            ),
            # The board's overdue count (`overdue.cases_overdue_count`): past due, and
            # promised callbacks more than a call slot late.
            models.Index(fields=["client", "state", "due_at"], name="case_due_client"),
            models.Index(
                fields=["client", "state", "promised_callback_at", "due_at"],
                name="case_callback_client",
            ),
            models.Index(fields=["customer", "state"], name="case_by_customer"),
            models.Index(fields=["owner_team", "state"], name="case_by_team"),
            models.Index(fields=["assignee", "state"], name="case_by_assignee"),
            # Case lists, newest first, keyset-paginated on (opened_at, id).
            models.Index(fields=["opened_at", "id"], name="case_list_newest"),
            # The same order within one state, and within one azukari reason (the list's filters).
            models.Index(fields=["state", "opened_at", "id"], name="case_list_state"),
            models.Index(fields=["azukari_reason", "opened_at", "id"], name="case_list_reason"),
            # The board counts the clocks that started in the current hour exactly.
            models.Index(
                fields=["clock_since"],
                name="case_clock_running",
                condition=models.Q(clock_since__isnull=False),
            ),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_azukari(self) -> bool:
        return self.state in AZUKARI_STATES


EVENT_LABELS = {
    "opened": _("Opened"),
    "parked": _("Parked as azukari"),
    "assigned": _("Reassigned"),
    "resumed": _("Center's turn again"),
    "waiting_customer": _("Waiting for the customer"),
    "callback_promised": _("Callback promised"),
    "inquiry_sent": _("Inquiry sent to the client"),
    "inquiry_answered": _("Client answered"),
    "callback_scheduled": _("Callback scheduled"),
    "callback_attempt": _("Callback attempt"),
    "callback_unreachable": _("Customer unreachable"),
    "resolved": _("Resolved"),
    "closed": _("Closed"),
    "reopened": _("Reopened"),
    "cancellation_requested": _("Cancellation requested"),
    "cancellation_asked_again": _("Customer asked again to cancel"),
    "cancellation_disclosed": _("Cancellation information given"),
    "cancellation_decided": _("Cancellation decided"),
    "cancellation_withdrawn": _("Cancellation request withdrawn"),
    "exception_asked": _("Exception asked for"),
    "exception_granted": _("Exception granted"),
    "exception_refused": _("Exception refused"),
    "moved_site_down": _("Moved: site down"),
    "moved_rebalance": _("Moved back after a site outage"),
    "inquiry_reminded": _("Client approver reminded"),
    "inquiry_escalated": _("Escalated to the client"),
    "note": _("Internal note"),
    "contact_added": _("The customer called again"),
}


class CaseEvent(ClientOwned):
    """Append-only history of a case: who did what, when, and why."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    kind = models.CharField(_("event"), max_length=32)
    from_state = models.CharField(_("from state"), max_length=16, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    # A note the system wrote: its code and parameters, shown in the reader's language
    # (see cases.texts); `note` keeps the words as first written.
    note_code = models.CharField(_("system text"), max_length=40, blank=True, default="")
    note_params = models.JSONField(_("system text parameters"), default=dict, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline")]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.kind} {self.from_state}→{self.to_state}"

    @property
    def note_text(self) -> str:
        """The note in the reader's language when the system wrote it, else as written."""
        return (self.note_code and render(self.note_code, self.note_params)) or self.note


class InquiryStatus(models.TextChoices):
    OPEN = "open", _("Awaiting the client")
    ANSWERED = "answered", _("Answered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Inquiry(ClientOwned):
    """A question from the center to the client about one case (伺い)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="inquiries", verbose_name=_("case")
    )
    question = models.TextField(_("question"))
    question_code = models.CharField(_("system text"), max_length=40, blank=True, default="")
    question_params = models.JSONField(_("system text parameters"), default=dict, blank=True)
    options = models.JSONField(_("options proposed"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=InquiryStatus.choices, default=InquiryStatus.OPEN
    )
    sent_at = models.DateTimeField(_("sent at"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    due_at = models.DateTimeField(_("answer due at"))
    answer_option = models.CharField(_("option chosen"), max_length=64, blank=True)
    answer_note = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    # Escalation marks: each is set once, in the transaction that sends its e-mail.
    reminded_at = models.DateTimeField(_("approver reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["client", "status", "due_at"], name="inquiry_due")]
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")

    def __str__(self) -> str:
        return f"{self.case} — {self.get_status_display()}"

    @property
    def question_text(self) -> str:
        """The question in the reader's language when the system wrote it, else as written."""
        return (self.question_code and render(self.question_code, self.question_params)) or (
            self.question
        )

    @property
    def options_shown(self) -> list[dict]:
        """The options with the labels the system wrote in the reader's language."""
        return options_shown(self.question_code, self.question_params, self.options)


class CallbackStatus(models.TextChoices):
    TO_SCHEDULE = "to_schedule", _("To schedule")
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    UNREACHABLE = "unreachable", _("Unreachable")
    CANCELLED = "cancelled", _("Cancelled")


class Callback(ClientOwned):
    """A call the center owes the customer (折り返し)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("case")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="callbacks",
        verbose_name=_("customer"),
    )
    origin = models.CharField(_("why it is due"), max_length=32)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CallbackStatus.choices,
        default=CallbackStatus.TO_SCHEDULE,
    )
    created_at = models.DateTimeField(_("created at"))
    promised_for = models.DateTimeField(_("promised for"), null=True, blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    team = models.ForeignKey(
        "org.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
        verbose_name=_("assignee"),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_not_before = models.DateTimeField(
        _("next attempt not before"), null=True, blank=True
    )
    # Times offered to whoever schedules the call, inside the customer's windows (ISO strings).
    proposed_times = models.JSONField(_("proposed times"), default=list, blank=True)

    class Meta:
        ordering = ["scheduled_for"]
        indexes = [models.Index(fields=["client", "status", "scheduled_for"], name="callback_due")]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")

    def __str__(self) -> str:
        return f"{self.case} — {self.get_status_display()}"


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the customer")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class CallbackAttempt(ClientOwned):
    callback = models.ForeignKey(
        Callback, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("callback")
    )
    contact = models.OneToOneField(
        Contact,
        on_delete=models.PROTECT,
        related_name="callback_attempt",
        verbose_name=_("contact"),
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices)

    class Meta:
        ordering = ["at"]
        verbose_name = _("callback attempt")
        verbose_name_plural = _("callback attempts")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"


class BacklogTally(models.Model):
    """Open azukari counted per board key and day first parked, kept by database triggers on
    cases_case (migration 0005), so the backlog board reads a few thousand rows instead of every
    open case. Rows are never written by the application; a row at zero may remain."""

    client_id = models.IntegerField(_("client"))
    site_id = models.IntegerField(_("site"))
    team_id = models.IntegerField(_("owning team"))  # 0: no owning team
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices)
    azukari_reason = models.CharField(_("azukari reason"), max_length=16, blank=True)
    parked_day = models.CharField(_("first parked on (UTC)"), max_length=10, blank=True)
    n = models.IntegerField(_("cases"), default=0)
    center_seconds = models.BigIntegerField(_("center's time (s)"), default=0)
    client_seconds = models.BigIntegerField(_("client's time (s)"), default=0)
    customer_seconds = models.BigIntegerField(_("customer's time (s)"), default=0)

    objects = ClientScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "site_id", "team_id", "state", "azukari_reason", "parked_day"],
                name="backlog_tally_key",
            )
        ]
        verbose_name = _("backlog tally")
        verbose_name_plural = _("backlog tallies")

    def __str__(self) -> str:
        return f"{self.state} {self.parked_day or '-'}: {self.n}"


class ClockTally(models.Model):
    """Running waiting clocks of open azukari per (client, site, state, UTC hour they started),
    with the sum of their minute-and-second offsets inside that hour; kept by the same
    triggers as BacklogTally."""

    client_id = models.IntegerField(_("client"))
    site_id = models.IntegerField(_("site"))
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices)
    since_hour = models.CharField(_("clock started in hour (UTC)"), max_length=13)
    n = models.IntegerField(_("cases"), default=0)
    offset_seconds = models.BigIntegerField(_("seconds into the hour, summed"), default=0)

    objects = ClientScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "site_id", "state", "since_hour"], name="clock_tally_key"
            )
        ]
        # The board prices each day's hours of a (client, site, state) from the index alone.
        indexes = [
            models.Index(
                fields=["client_id", "site_id", "state", "since_hour", "n", "offset_seconds"],
                name="clock_tally_priced",
            )
        ]
        verbose_name = _("clock tally")
        verbose_name_plural = _("clock tallies")

    def __str__(self) -> str:
        return f"{self.state} {self.since_hour}: {self.n}"


class DueTally(models.Model):
    """Open azukari with a due time, counted per (client, site, state, UTC day due), kept by
    database triggers on cases_case (migration 0016): the board counts the overdue from a few
    hundred rows and the cases of today, not from every overdue case."""

    client_id = models.IntegerField(_("client"))
    site_id = models.IntegerField(_("site"))
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices)
    due_day = models.CharField(_("due on (UTC)"), max_length=10)
    n = models.IntegerField(_("cases"), default=0)

    objects = ClientScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "site_id", "state", "due_day"], name="due_tally_key"
            )
        ]
        verbose_name = _("due tally")
        verbose_name_plural = _("due tallies")

    def __str__(self) -> str:
        return f"{self.state} {self.due_day}: {self.n}"


class BacklogTrendDay(models.Model):
    """How much one client's open azukari grew or shrank on one day (Japan time), kept by
    database triggers on cases_caseevent (migration 0007): the backlog trend adds up a few
    hundred of these instead of every state change in the case history."""

    client_id = models.IntegerField(_("client"))
    day = models.CharField(_("day (Japan time)"), max_length=10)
    delta = models.IntegerField(_("change in open azukari"), default=0)

    objects = ClientScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "day"], name="backlog_trend_day_key")
        ]
        verbose_name = _("backlog trend day")
        verbose_name_plural = _("backlog trend days")

    def __str__(self) -> str:
        return f"{self.day}: {self.delta:+d}"


# The closing tally's histogram of times to close: buckets on tenths of an hour (the board's
# precision), exact up to 3.2 h, then 16 buckets per doubling (each at most 1/16 of its lower
# edge wide) up to 3,276.8 h; the last bucket holds every longer time.
CLOSING_UNIT_SECONDS = 360
CLOSING_SUB_BUCKETS = 16
CLOSING_BUCKETS = 193


class ClosingTally(models.Model):
    """Azukari (parked at least once) with a resolution time, per board key and Japan-time day
    of resolution: how many, the sum of their times to close (resolved − opened) in
    microseconds, and how many fell in each duration bucket (`h0`…`h192`). Kept by database
    triggers on cases_case (migration 0014); the board's time to close adds up a month of
    these rows instead of reading every case resolved in it."""

    resolved_day = models.CharField(_("resolved on (Japan time)"), max_length=10)
    client_id = models.IntegerField(_("client"))
    site_id = models.IntegerField(_("site"))
    team_id = models.IntegerField(_("owning team"))  # 0: no owning team
    azukari_reason = models.CharField(_("azukari reason"), max_length=16, blank=True)
    n = models.IntegerField(_("cases"), default=0)
    micros = models.BigIntegerField(_("times to close, summed (µs)"), default=0)
    for _bucket in range(CLOSING_BUCKETS):
        locals()[f"h{_bucket}"] = models.IntegerField(default=0)
    del _bucket

    objects = ClientScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resolved_day", "client_id", "site_id", "team_id", "azukari_reason"],
                name="closing_tally_key",
            )
        ]
        verbose_name = _("closing tally")
        verbose_name_plural = _("closing tallies")

    def __str__(self) -> str:
        return f"{self.resolved_day}: {self.n}"
