"""Personal-data audit, confidentiality events, security records and retention.

Access events are appended cheaply (one INSERT, no chain work) on the screen-pop path; a worker
seals them into a per-client hash chain in checkpoints (see `chain.py`).
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class AccessAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    SCREEN_POP = "screen_pop", _("Screen pop")
    SEARCH = "search", _("Search results")
    EXPORT = "export", _("Exported")
    REVEAL = "reveal", _("Revealed a masked value")
    NAMED_STAFF = "named_staff", _("Caller asked for a staff member by name")
    ERASE = "erase", _("Retention erasure")
    INCIDENT = "incident", _("Incident register entry")
    CRITERION = "criterion", _("Call-ending criterion changed")


class RetentionSource(models.TextChoices):
    COMMAND = "command", _("Command line")
    SCHEDULE = "schedule", _("Schedule")
    ADMIN = "admin", _("Administration")


class RetentionRun(models.Model):
    """One application of the retention periods; tombstones in the chain point to it.

    `ran_by` is the person a run acts for (the command line names one with `--as`); a
    scheduled run has none and says so in `source`.
    """

    client = models.ForeignKey(
        "org.Client", on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    ran_at = models.DateTimeField(_("ran at"))
    ran_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ran by"),
    )
    audit_cutoff = models.DateTimeField(_("audit events erased before"), null=True, blank=True)
    customer_cutoff = models.DateTimeField(_("customers inactive since"), null=True, blank=True)
    audit_events_erased = models.PositiveIntegerField(_("audit events erased"), default=0)
    customers_anonymised = models.PositiveIntegerField(_("customers anonymised"), default=0)
    source = models.CharField(
        _("started from"),
        max_length=10,
        choices=RetentionSource.choices,
        default=RetentionSource.COMMAND,
    )
    texts_scrubbed = models.PositiveIntegerField(_("texts scrubbed"), default=0)

    class Meta:
        ordering = ["-ran_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.client_id} {self.ran_at:%Y-%m-%d %H:%M}"


class AccessEvent(ClientOwned):
    """Who saw or exported which personal data, when, from where and why.

    `customer_ref` is a plain id, not a foreign key: the event outlives the customer's
    erasure and its hash must not change when the customer row does.
    """

    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    customer_ref = models.BigIntegerField(_("customer id"), null=True, blank=True)
    object_type = models.CharField(_("record type"), max_length=32, blank=True)
    object_ref = models.CharField(_("record"), max_length=64, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    purpose = models.CharField(_("why"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    count = models.PositiveIntegerField(_("records"), default=1)
    # The audit service's HMAC of the content, written with the row (see `chain.row_mac`).
    row_mac = models.CharField(
        _("row signature"), max_length=64, blank=True, default="", db_default=""
    )
    # Filled by the sealing task, never on the request path.
    seq = models.PositiveBigIntegerField(_("sequence"), null=True, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    chain_hash = models.CharField(_("chain hash"), max_length=64, blank=True)
    # A tombstone: content erased by retention, its hashes kept so the chain still verifies.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    erased_by = models.ForeignKey(
        RetentionRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tombstones",
        verbose_name=_("erased by"),
    )

    class Meta:
        ordering = ["client", "seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "seq"], name="audit_seq_unique_per_client")
        ]
        indexes = [
            models.Index(fields=["client", "customer_ref"], name="audit_by_customer"),
            models.Index(fields=["actor", "at"], name="audit_by_actor"),
        ]
        verbose_name = _("access event")
        verbose_name_plural = _("access events")

    def __str__(self) -> str:
        return f"{self.client_id}#{self.seq or '-'} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ChainHead(models.Model):
    """Where each client's chain ends; the sealing task locks this row, nothing else does."""

    client = models.OneToOneField(
        "org.Client", on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    last_seq = models.PositiveBigIntegerField(_("last sequence"), default=0)
    head_hash = models.CharField(_("head hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.last_seq}"


class AuditCheckpoint(ClientOwned):
    """One sealing: the range of sequence numbers it chained and the hash it ended on."""

    first_seq = models.PositiveBigIntegerField(_("first sequence"))
    last_seq = models.PositiveBigIntegerField(_("last sequence"))
    head_hash = models.CharField(_("head hash"), max_length=64)
    sealed_at = models.DateTimeField(_("sealed at"))

    class Meta:
        ordering = ["client", "last_seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "last_seq"], name="audit_checkpoint_unique_per_client"
            )
        ]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"{self.client_id} {self.first_seq}-{self.last_seq}"


class NamedStaffRequest(ClientOwned):
    """A caller asked for a staff member by name: a confidentiality event, never a lookup."""

    at = models.DateTimeField(_("at"))
    site = models.ForeignKey(
        "org.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    contact = models.ForeignKey(
        "cases.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["client", "at"], name="named_staff_by_client")]
        verbose_name = _("named-staff request")
        verbose_name_plural = _("named-staff requests")

    def __str__(self) -> str:
        return f"{self.client_id} {self.at:%Y-%m-%d %H:%M}"


class RetentionFrequency(models.TextChoices):
    NEVER = "never", _("Never (by hand only)")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class RetentionPolicy(models.Model):
    """How long a client's personal data is kept; nothing is erased without one."""

    client = models.OneToOneField(
        "org.Client",
        on_delete=models.PROTECT,
        related_name="retention_policy",
        verbose_name=_("client"),
    )
    customer_inactive_days = models.PositiveIntegerField(
        _("anonymise customers inactive for (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: customers are kept."),
    )
    audit_days = models.PositiveIntegerField(
        _("erase audit event details after (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: audit events are kept. The chain keeps their hashes."),
    )
    run_every = models.CharField(
        _("apply automatically"),
        max_length=8,
        choices=RetentionFrequency.choices,
        default=RetentionFrequency.NEVER,
    )
    run_at = models.TimeField(
        _("at (center time)"), default=dt.time(3, 0), help_text=_("When the worker applies it.")
    )

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")

    def __str__(self) -> str:
        return str(self.client_id)


class RetentionReviewMark(ClientOwned):
    """A person read an erased customer's text on the review list and found it clean.

    The mark holds the text's hash: if the text changes, it is listed again.
    """

    object_type = models.CharField(_("record"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("record id"))
    field = models.CharField(_("field"), max_length=40)
    text_hash = models.CharField(_("text hash"), max_length=64)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "field"], name="retention_review_once"
            )
        ]
        verbose_name = _("reviewed text")
        verbose_name_plural = _("reviewed texts")

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} {self.field}"


class UserSession(models.Model):
    """A login's session, kept so that marking someone as left can end all of them at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    session_key = models.CharField(_("session key"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("started at"))
    ip = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"], name="session_by_user")]
        verbose_name = _("user session")
        verbose_name_plural = _("user sessions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"


class LoginAttempt(models.Model):
    """Failed log-ins, for throttling and for the security log."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    username = models.CharField(_("user name"), max_length=150)
    ip = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    # A later successful log-in forgives the name (the row stays in the security log).
    forgiven = models.BooleanField(_("forgiven"), default=False)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="login_fail_by_user"),
            models.Index(fields=["ip", "at"], name="login_fail_by_ip"),
        ]
        verbose_name = _("failed log-in")
        verbose_name_plural = _("failed log-ins")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class IncidentKind(models.TextChoices):
    LEAK = "leak", _("Leak")
    LOSS = "loss", _("Loss")
    DAMAGE = "damage", _("Damage")
    RISK = "risk", _("Possible leak")


class IncidentStatus(models.TextChoices):
    """The steps of the register, in the order they are owed."""

    OPEN = "open", _("Discovered")
    CLIENT_NOTIFIED = "notified", _("Client notified")
    PRELIMINARY_REPORTED = "preliminary", _("Preliminary report made")
    FINAL_REPORTED = "final", _("Final report made")
    CLOSED = "closed", _("Closed")


class NotifyMethod(models.TextChoices):
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By e-mail")
    MEETING = "meeting", _("In person")
    LETTER = "letter", _("By letter")
    OTHER = "other", _("Other")


class IncidentStep(models.TextChoices):
    """What an entry of an incident's timeline records."""

    RECORDED = "recorded", _("Discovery recorded")
    CLIENT_NOTIFIED = "notified", _("Client company notified")
    PRELIMINARY = "preliminary", _("Preliminary report to the regulator")
    FINAL = "final", _("Final report to the regulator")
    CLOSED = "closed", _("Closed")
    CORRECTED = "corrected", _("Correction")
    REMINDER_SENT = "reminded", _("Reminder sent")
    REMINDER_FAILED = "remind_failed", _("Reminder not sent")


class ReminderError(models.TextChoices):
    NO_RECIPIENT = "no_recipient", _("Nobody serving this client has an e-mail address.")
    SEND_FAILED = "send_failed", _("The reminder e-mail could not be sent.")


# APPI art. 26 and its Enforcement Rules art. 8: a preliminary report "promptly" (in practice
# 3–5 days), a final report within 30 days, or 60 days when the leak was for an unlawful purpose.
PRELIMINARY_DAYS = 5
FINAL_DAYS = 30
FINAL_DAYS_INTENTIONAL = 60


class Incident(ClientOwned):
    """A personal-data incident of one client with the legal clocks that start when it is
    discovered. Its fields hold the current state; `IncidentEntry` rows are the history,
    appended by the services and never edited or deleted."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=IncidentKind.choices)
    description = models.TextField(_("what happened"), blank=True)
    discovered_at = models.DateTimeField(_("discovered at"))
    intentional = models.BooleanField(
        _("for an unlawful purpose"),
        default=False,
        help_text=_("The final report is then due within 60 days instead of 30."),
    )
    affected_count = models.PositiveIntegerField(_("people affected"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    client_notified_at = models.DateTimeField(_("client notified at"), null=True, blank=True)
    client_notified_whom = models.CharField(_("who was notified"), max_length=200, blank=True)
    client_notified_how = models.CharField(
        _("how"), max_length=8, choices=NotifyMethod.choices, blank=True
    )
    preliminary_reported_at = models.DateTimeField(
        _("preliminary report made at"), null=True, blank=True
    )
    preliminary_reference = models.CharField(
        _("preliminary report reference"), max_length=100, blank=True
    )
    final_reported_at = models.DateTimeField(_("final report made at"), null=True, blank=True)
    final_reference = models.CharField(_("final report reference"), max_length=100, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # The last reminder that could not go out, until one goes out again (shown on the register).
    reminder_error = models.CharField(
        _("reminder error"), max_length=16, choices=ReminderError.choices, blank=True
    )
    reminder_error_at = models.DateTimeField(_("reminder error at"), null=True, blank=True)

    class Meta:
        ordering = ["-discovered_at", "-id"]
        indexes = [models.Index(fields=["client", "status"], name="incident_by_client_status")]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return self.title

    @property
    def preliminary_due(self) -> dt.datetime:
        return self.discovered_at + dt.timedelta(days=PRELIMINARY_DAYS)

    @property
    def final_due(self) -> dt.datetime:
        days = FINAL_DAYS_INTENTIONAL if self.intentional else FINAL_DAYS
        return self.discovered_at + dt.timedelta(days=days)

    def preliminary_overdue(self, now: dt.datetime | None = None) -> bool:
        """Not made and past due, or made late."""
        done = self.preliminary_reported_at
        return (done or now or timezone.now()) > self.preliminary_due

    def final_overdue(self, now: dt.datetime | None = None) -> bool:
        done = self.final_reported_at
        return (done or now or timezone.now()) > self.final_due


class IncidentEntry(ClientOwned):
    """One step or correction of an incident, appended once: the register's history.

    `happened_at` is when the step took place in the world (the call to the client, the
    filing); `at` is when it was written down. `details` keeps what the step said (who, how,
    the reference; for a correction, each field's value before and after).
    """

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="entries", verbose_name=_("incident")
    )
    step = models.CharField(_("step"), max_length=16, choices=IncidentStep.choices)
    at = models.DateTimeField(_("recorded at"))
    happened_at = models.DateTimeField(_("took place at"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["incident", "at", "id"]
        verbose_name = _("incident entry")
        verbose_name_plural = _("incident entries")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.step} {self.at:%Y-%m-%d %H:%M}"
