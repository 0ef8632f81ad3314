"""Cancellation requests, exceptions, decisions, what the customer was told, and client events."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned
from azukari.subscriptions.policy.rules import ApprovalLevel


class CancellationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AWAITING_APPROVAL = "awaiting_approval", _("Exception awaiting approval")
    DECIDED = "decided", _("Decided")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_CANCELLATION_STATES = (CancellationStatus.PENDING, CancellationStatus.AWAITING_APPROVAL)


class CancellationRequest(ClientOwned):
    """A customer's request to cancel (解約申出), dated the first time the customer asked.

    `requested_on` is fixed when the request is recorded and never edited; it survives the case
    being closed and reopened, and asking again adds to `asks`, not a new date. Only an explicit
    withdrawal ends it.
    """

    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        related_name="cancellation_requests",
        verbose_name=_("subscription"),
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="cancellation_requests",
        verbose_name=_("case"),
    )
    requested_on = models.DateField(_("first asked on"), editable=False)
    policy_version = models.ForeignKey(
        "subscriptions.PolicyVersion",
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("policy version in force on the first request"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CancellationStatus.choices,
        default=CancellationStatus.PENDING,
    )
    asks = models.PositiveSmallIntegerField(_("times the customer asked"), default=1)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawal recorded by"),
    )
    withdrawal_note = models.TextField(_("why the customer withdrew"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(status__in=["pending", "awaiting_approval"]),
                name="one_open_cancellation_per_subscription",
            )
        ]
        indexes = [
            models.Index(fields=["client", "status", "requested_on"], name="cancellation_backlog")
        ]
        verbose_name = _("cancellation request")
        verbose_name_plural = _("cancellation requests")

    def __str__(self) -> str:
        return f"{self.subscription} {self.requested_on}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CANCELLATION_STATES


class ExceptionOutcome(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ExceptionRequest(ClientOwned):
    """An exception asked for on one ground, and the approver's ruling with its reason.

    Rulings are the data behind precedents and the consistency report, so each one keeps what
    the approver knew: deliveries made, contacts so far, the policy version and the terms.
    """

    request = models.ForeignKey(
        CancellationRequest,
        on_delete=models.PROTECT,
        related_name="exceptions",
        verbose_name=_("cancellation request"),
    )
    ground = models.ForeignKey(
        "subscriptions.ExceptionGround",
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("ground"),
    )
    ground_code = models.SlugField(_("ground code"), max_length=32)
    approval_level = models.CharField(
        _("approval needed"), max_length=12, choices=ApprovalLevel.choices
    )
    option = models.JSONField(_("option asked for"), default=dict)
    options = models.JSONField(_("options presented"), default=list)
    asked_at = models.DateTimeField(_("asked at"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    reason = models.TextField(_("what the customer said"), blank=True)
    deliveries_made = models.PositiveSmallIntegerField(_("deliveries made"))
    policy_version = models.ForeignKey(
        "subscriptions.PolicyVersion",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("policy version"),
    )
    terms_version = models.CharField(_("terms version"), max_length=32, blank=True)
    terms_snapshot = models.JSONField(_("terms shown at sign-up"), default=dict, blank=True)
    inquiry = models.ForeignKey(
        "cases.Inquiry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inquiry to the client"),
    )
    outcome = models.CharField(
        _("outcome"),
        max_length=12,
        choices=ExceptionOutcome.choices,
        default=ExceptionOutcome.PENDING,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approver"),
    )
    approver_role = models.CharField(_("approver's role"), max_length=20, blank=True)
    approver_reason = models.TextField(_("approver's reason"), blank=True)
    site = models.ForeignKey(
        "org.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    contacts_before = models.PositiveSmallIntegerField(
        _("contacts before the decision"), null=True, blank=True
    )

    class Meta:
        ordering = ["-asked_at"]
        indexes = [
            models.Index(
                fields=["client", "ground_code", "outcome", "-decided_at"],
                name="exception_precedents",
            ),
            models.Index(fields=["client", "decided_at"], name="exception_report"),
        ]
        verbose_name = _("exception request")
        verbose_name_plural = _("exception requests")

    def __str__(self) -> str:
        return f"{self.ground_code} — {self.get_outcome_display()}"


class CancellationDecision(ClientOwned):
    """The option the customer ends with, and everything it was decided from."""

    request = models.OneToOneField(
        CancellationRequest,
        on_delete=models.PROTECT,
        related_name="decision",
        verbose_name=_("cancellation request"),
    )
    option_code = models.CharField(_("option"), max_length=64)
    option = models.JSONField(_("option chosen"), default=dict)
    options = models.JSONField(_("options presented"), default=list)
    cost_yen = models.PositiveIntegerField(_("cost (yen, tax incl.)"))
    effective_on = models.DateField(_("effective on"))
    deliveries_to_ship = models.PositiveSmallIntegerField(_("deliveries still to ship"))
    approval_level = models.CharField(
        _("approval needed"), max_length=12, choices=ApprovalLevel.choices
    )
    exception = models.OneToOneField(
        ExceptionRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decision",
        verbose_name=_("exception"),
    )
    ground_code = models.SlugField(_("ground"), max_length=32, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approver"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    decided_at = models.DateTimeField(_("decided at"))
    note = models.TextField(_("note"), blank=True)
    first_requested_on = models.DateField(_("first asked on"))
    policy_version = models.ForeignKey(
        "subscriptions.PolicyVersion",
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("policy version"),
    )
    terms_version = models.CharField(_("terms version"), max_length=32, blank=True)
    terms_snapshot = models.JSONField(_("terms shown at sign-up"), default=dict)
    contacts_before = models.PositiveSmallIntegerField(_("contacts before the decision"))

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("cancellation decision")
        verbose_name_plural = _("cancellation decisions")

    def __str__(self) -> str:
        return f"{self.request} → {self.option_code}"


class DisclosureKind(models.TextChoices):
    OPTIONS = "options", _("The options and how to cancel")
    FEE_BASIS = "fee_basis", _("The basis of a fee")
    TERMS = "terms", _("The sign-up terms, verbatim")


class CancellationDisclosure(ClientOwned):
    """What the customer was told about cancelling, word for word, and by whom.

    Giving the information needed to cancel is itself an obligation (Consumer Contract Act
    art. 3(1)); a fee's basis is given on request (art. 9(2)). This is the record of both.
    """

    request = models.ForeignKey(
        CancellationRequest,
        on_delete=models.PROTECT,
        related_name="disclosures",
        verbose_name=_("cancellation request"),
    )
    kind = models.CharField(_("what was told"), max_length=12, choices=DisclosureKind.choices)
    option_code = models.CharField(_("option"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=8)
    text = models.TextField(_("text read out"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("cancellation disclosure")
        verbose_name_plural = _("cancellation disclosures")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class ClientEventKind(models.TextChoices):
    HOLD_SHIPMENT = "hold_shipment", _("Hold the next shipment")
    RELEASE_HOLD = "release_hold", _("Release the held shipment")
    DELIVERY_NOT_CHARGEABLE = "delivery_not_chargeable", _("Delivery not chargeable")
    CANCELLATION_DECIDED = "cancellation_decided", _("Cancellation decided")
    CANCELLATION_WITHDRAWN = "cancellation_withdrawn", _("Cancellation withdrawn")


class ClientEvent(ClientOwned):
    """An outbox row for the client's systems: written in the same transaction as the change.

    Integrations deliver undelivered rows (webhook or API pull) and set `delivered_at`; the
    unique `key` makes writing the same event twice impossible.
    """

    kind = models.CharField(_("event"), max_length=32, choices=ClientEventKind.choices)
    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        related_name="client_events",
        verbose_name=_("subscription"),
    )
    delivery = models.ForeignKey(
        "subscriptions.Delivery",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="client_events",
        verbose_name=_("delivery"),
    )
    request = models.ForeignKey(
        CancellationRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="client_events",
        verbose_name=_("cancellation request"),
    )
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["client", "delivered_at", "created_at"], name="client_event_outbox"
            )
        ]
        verbose_name = _("client event")
        verbose_name_plural = _("client events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
