"""API tokens of integrations, and the webhooks clients register with their delivery history."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class Scope(models.TextChoices):
    """What a token may do; each endpoint needs exactly one of these."""

    SCREEN_POP = "screen_pop", _("Screen pop by caller number")
    CUSTOMERS_READ = "customers:read", _("Search and read customers")
    CONTACTS_WRITE = "contacts:write", _("Contact events from a PBX/CTI")
    SYNC_WRITE = "sync:write", _("Sync customers, subscriptions and deliveries")
    CASES_READ = "cases:read", _("Read cases")
    CASES_WRITE = "cases:write", _("Act on cases")
    INQUIRIES_READ = "inquiries:read", _("Read inquiries to the client")
    INQUIRIES_ANSWER = "inquiries:answer", _("Answer inquiries")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Register webhooks and read their history")
    ROUTING_READ = "routing:read", _("Read which sites take each client's calls")
    SELFSERVICE_LINKS = "selfservice:links", _("Send customers self-service links")
    SITES_FAILOVER = (
        "sites:failover",
        _("Mark a site down and move its work (center tokens serving every client of the site)"),
    )


class ApiToken(models.Model):
    """An integration's credential: one client's, or the center's; only its hash is stored.

    Writes made through the token are made by its service user, a User row created with the
    token, so that case events and contacts name the integration like any other actor.
    """

    name = models.CharField(_("name"), max_length=100)
    client = models.ForeignKey(
        "org.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_tokens",
        verbose_name=_("client"),
        help_text=_("Empty for a center token (a PBX that serves several clients)."),
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_token",
        verbose_name=_("acts as"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.service_user.is_active

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def visible_client_ids(self) -> frozenset[int]:
        """The clients this integration may see: its service user's, never more than one
        client for a client token, nothing once revoked."""
        if not self.is_active:
            return frozenset()
        ids = self.service_user.visible_client_ids()
        if self.client_id is not None:
            return ids & frozenset({self.client_id})
        return ids


class WebhookEvent(models.TextChoices):
    CASE_PARKED = "case.parked", _("Case parked (azukari)")
    INQUIRY_CREATED = "inquiry.created", _("Inquiry sent to the client")
    CASE_RESOLVED = "case.resolved", _("Case resolved")
    CANCELLATION_DECIDED = "cancellation.decided", _("Cancellation decided")
    CANCELLATION_WITHDRAWN = "cancellation.withdrawn", _("Cancellation withdrawn")
    SHIPMENT_HOLD = "shipment.hold", _("Hold the next shipment")
    SHIPMENT_RELEASE = "shipment.release", _("Release the held shipment")
    DELIVERY_NOT_CHARGEABLE = "delivery.not_chargeable", _("Delivery not chargeable")


class WebhookEndpoint(ClientOwned):
    """A URL of the client's systems that wants to hear about some events."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # Kept in clear: the signature needs it. Shown once, at registration.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by_token = models.ForeignKey(
        ApiToken,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered with token"),
    )

    class Meta:
        ordering = ["client", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")


class WebhookDelivery(ClientOwned):
    """One event for one endpoint; `dedupe_key` makes emitting the same fact twice harmless."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.CharField(_("event"), max_length=32, choices=WebhookEvent.choices)
    dedupe_key = models.CharField(_("dedupe key"), max_length=100)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "dedupe_key"], name="webhook_delivery_once_per_fact"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"


class WebhookAttempt(ClientOwned):
    """One try to deliver: what the receiver answered, or why nothing was sent."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"


class WebhookCursor(models.Model):
    """How far an outbox (case history, client events) has been turned into deliveries."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    last_id = models.BigIntegerField(_("last id swept"), default=0)

    class Meta:
        verbose_name = _("webhook cursor")
        verbose_name_plural = _("webhook cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"
