"""Customer self-service: what each client offers, one-time links, and what each page showed."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class IdentityFact(models.TextChoices):
    """The one fact a customer confirms before anything personal is shown."""

    POSTCODE = "postcode", _("Postcode")
    PHONE_LAST4 = "phone_last4", _("Last four digits of the registered phone")
    BIRTH_DATE = "birth_date", _("Date of birth")


class SelfServiceSettings(ClientOwned):
    """What one client lets its customers do online. A customer who signed up online may
    always record his cancellation request online, whatever is set here."""

    identity_fact = models.CharField(
        _("identity fact"),
        max_length=16,
        choices=IdentityFact.choices,
        default=IdentityFact.PHONE_LAST4,
    )
    offers_request = models.BooleanField(
        _("customers may record a cancellation request"), default=True
    )
    offers_choice = models.BooleanField(_("customers may choose a standard option"), default=True)
    offers_exception = models.BooleanField(_("customers may ask for an exception"), default=True)
    offers_preferences = models.BooleanField(_("customers may set when to be called"), default=True)
    notify_updates = models.BooleanField(
        _("send a fresh link when the client answers or a callback is set"), default=True
    )
    link_hours = models.PositiveSmallIntegerField(_("links expire after (hours)"), default=24)
    retention_offer = models.CharField(
        _("retention offer"),
        max_length=200,
        blank=True,
        help_text=_(
            "Shown once, next to cancelling, before a request is recorded; for example "
            "“Skip the next delivery at no charge”. Empty: no offer."
        ),
    )
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Write the colour as #RRGGBB."))],
        help_text=_("A dark colour as #RRGGBB; white text is written on it."),
    )
    # The actor of what customers do online: contacts, cases and audit events name it.
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="selfservice_settings",
        verbose_name=_("acts as"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client"], name="selfservice_settings_one_per_client")
        ]
        verbose_name = _("self-service settings")
        verbose_name_plural = _("self-service settings")

    def __str__(self) -> str:
        return str(self.client)

    @property
    def view_only(self) -> bool:
        return not (
            self.offers_request
            or self.offers_choice
            or self.offers_exception
            or self.offers_preferences
        )


class LinkChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class LinkOrigin(models.TextChoices):
    OPERATOR = "operator", _("Sent by an operator")
    API = "api", _("Asked for by the client's system")
    PUBLIC_FORM = "public_form", _("Asked for by the customer")
    UPDATE = "update", _("Sent with news of the case")


class Link(ClientOwned):
    """A one-time link: only its hash is stored; the token is derived from `salt` with the
    server's secret, so a retried sending task sends the same link."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="selfservice_links",
        verbose_name=_("customer"),
    )
    salt = models.CharField(_("salt"), max_length=64, editable=False)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    channel = models.CharField(_("sent by"), max_length=8, choices=LinkChannel.choices)
    # sha256 of the phone number or address it went to: no personal data in clear, and the
    # link dies when that number or address is no longer the customer's.
    destination_hash = models.CharField(_("destination hash"), max_length=64, editable=False)
    origin = models.CharField(_("origin"), max_length=12, choices=LinkOrigin.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    used_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    session_hash = models.CharField(_("session hash"), max_length=64, blank=True, editable=False)
    session_expires_at = models.DateTimeField(_("session ends at"), null=True, blank=True)
    identity_confirmed_at = models.DateTimeField(_("identity confirmed at"), null=True, blank=True)
    failed_answers = models.PositiveSmallIntegerField(_("wrong answers"), default=0)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="selfservice_link_by_cust")
        ]
        verbose_name = _("self-service link")
        verbose_name_plural = _("self-service links")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.created_at:%Y-%m-%d %H:%M}"


class PageView(ClientOwned):
    """What one page showed the customer, as shown: the options, the terms text, any offer.
    A dispute is settled from these rows; `schema` says how to read `shown`."""

    link = models.ForeignKey(
        Link, on_delete=models.CASCADE, related_name="page_views", verbose_name=_("link")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    at = models.DateTimeField(_("at"))
    page = models.CharField(_("page"), max_length=32)
    language = models.CharField(_("language"), max_length=8)
    schema = models.PositiveSmallIntegerField(_("record version"), default=1)
    shown = models.JSONField(_("what was shown"), default=dict)
    content_hash = models.CharField(_("content hash"), max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="selfservice_view_by_cust")]
        verbose_name = _("self-service page view")
        verbose_name_plural = _("self-service page views")

    def __str__(self) -> str:
        return f"{self.page} {self.at:%Y-%m-%d %H:%M}"


class OfferShown(ClientOwned):
    """A retention offer shown to a customer for a subscription: at most once, ever."""

    subscription = models.OneToOneField(
        "subscriptions.Subscription",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("subscription"),
    )
    offer = models.CharField(_("offer"), max_length=200)
    shown_at = models.DateTimeField(_("shown at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("retention offer shown")
        verbose_name_plural = _("retention offers shown")

    def __str__(self) -> str:
        return self.offer
