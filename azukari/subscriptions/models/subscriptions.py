"""Plans, subscriptions with the terms shown at sign-up, and their deliveries."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class Plan(ClientOwned):
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    interval_days = models.PositiveSmallIntegerField(_("delivery interval (days)"), default=30)
    price_yen = models.PositiveIntegerField(_("price per delivery (yen, tax incl.)"))
    min_deliveries = models.PositiveSmallIntegerField(_("minimum number of deliveries"), default=0)
    device_list_price_yen = models.PositiveIntegerField(
        _("device list price (yen, tax incl.)"), default=0
    )
    device_price_paid_yen = models.PositiveIntegerField(
        _("device price paid (yen, tax incl.)"), default=0
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="plan_code_unique_per_client"),
            models.CheckConstraint(
                condition=models.Q(device_price_paid_yen__lte=models.F("device_list_price_yen")),
                name="plan_device_paid_not_above_list",
            ),
        ]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name

    @property
    def device_subsidy_yen(self) -> int:
        return self.device_list_price_yen - self.device_price_paid_yen


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(ClientOwned):
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("customer"),
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("plan")
    )
    external_id = models.CharField(_("client's subscription id"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    started_on = models.DateField(_("started on"))
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    # What the customer saw on the final confirmation screen at sign-up: the floor for any
    # cancellation option. Kept verbatim with the figures it states.
    terms_version = models.CharField(_("terms version"), max_length=32, blank=True)
    terms_snapshot = models.JSONField(_("terms shown at sign-up"), default=dict, blank=True)
    # Set the first time the customer asks to cancel; never edited afterwards.
    first_cancel_requested_on = models.DateField(
        _("first asked to cancel on"), null=True, blank=True, editable=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"], name="subscription_id_unique_per_client"
            )
        ]
        indexes = [models.Index(fields=["customer", "status"], name="subscription_by_customer")]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.external_id} ({self.plan.name})"


class DeliveryStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(ClientOwned):
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    sequence = models.PositiveSmallIntegerField(_("delivery number"))
    external_id = models.CharField(_("client's delivery id"), max_length=64, blank=True)
    scheduled_on = models.DateField(_("scheduled on"))
    shipped_on = models.DateField(_("shipped on"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.SCHEDULED,
    )
    chargeable = models.BooleanField(_("chargeable"), default=True)

    class Meta:
        ordering = ["subscription", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "sequence"], name="delivery_sequence_unique"
            )
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_status_display()}"
