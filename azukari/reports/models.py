"""Per-client contact coding (reason and after-call-work codes) and daily backlog snapshots."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class CodeBase(ClientOwned):
    code = models.SlugField(_("code"), max_length=32)
    label = models.CharField(_("label"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        abstract = True
        ordering = ["client", "position", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class ReasonCode(CodeBase):
    """Why the customer contacted us (問い合わせ分類), in the client's own list."""

    class Meta(CodeBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="reason_code_unique_per_client")
        ]
        verbose_name = _("contact reason code")
        verbose_name_plural = _("contact reason codes")


class AfterCallWorkCode(CodeBase):
    """What the operator did after the call (後処理), in the client's own list."""

    class Meta(CodeBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="acw_code_unique_per_client")
        ]
        verbose_name = _("after-call work code")
        verbose_name_plural = _("after-call work codes")


class ContactCoding(ClientOwned):
    """The codes given to one contact; kept beside the contact so the cases app stays whole."""

    contact = models.OneToOneField(
        "cases.Contact", on_delete=models.CASCADE, related_name="coding", verbose_name=_("contact")
    )
    reason_code = models.ForeignKey(
        ReasonCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("reason code")
    )
    acw_code = models.ForeignKey(
        AfterCallWorkCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("after-call work code"),
    )
    coded_by = models.ForeignKey(
        "org.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("coded by")
    )
    coded_at = models.DateTimeField(_("coded at"))

    class Meta:
        indexes = [models.Index(fields=["client", "reason_code"], name="coding_by_reason")]
        verbose_name = _("contact coding")
        verbose_name_plural = _("contact codings")

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.reason_code_id}"


class BacklogSnapshot(ClientOwned):
    """The open azukari of one client at one site at the end of one day, for trend charts.

    One row per (client, site, day, state); taking the snapshot again replaces the day's rows.
    """

    day = models.DateField(_("day"))
    site = models.ForeignKey(
        "org.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site")
    )
    state = models.CharField(_("state"), max_length=16)
    open_count = models.PositiveIntegerField(_("open"))
    overdue_count = models.PositiveIntegerField(_("overdue"), default=0)
    age_0_1 = models.PositiveIntegerField(_("under 1 day"), default=0)
    age_1_3 = models.PositiveIntegerField(_("1–3 days"), default=0)
    age_3_7 = models.PositiveIntegerField(_("3–7 days"), default=0)
    age_7_plus = models.PositiveIntegerField(_("7 days or more"), default=0)
    center_seconds = models.PositiveBigIntegerField(_("center's time (s)"), default=0)
    client_seconds = models.PositiveBigIntegerField(_("client's time (s)"), default=0)
    customer_seconds = models.PositiveBigIntegerField(_("customer's time (s)"), default=0)
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        ordering = ["client", "day", "site", "state"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "site", "day", "state"], name="backlog_snapshot_unique"
            )
        ]
        verbose_name = _("backlog snapshot")
        verbose_name_plural = _("backlog snapshots")

    def __str__(self) -> str:
        return f"{self.day} {self.state}: {self.open_count}"
