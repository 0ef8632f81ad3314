"""The floor: notices to operators, and call safety (long calls, harassment criteria)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class Notice(ClientOwned):
    """An instruction (周知/申し送り) for the operators of one client, at one site or all."""

    site = models.ForeignKey(
        "org.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
        help_text=_("Empty: every site that serves the client."),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("instruction"))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("published by"),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["client", "-published_at"], name="notice_by_client")]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return self.title


class NoticeRead(ClientOwned):
    """One operator confirmed reading one notice; written once."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="reads", verbose_name=_("notice")
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="notice_reads",
        verbose_name=_("read by"),
    )
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        ordering = ["read_at"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "reader"], name="notice_read_once")
        ]
        verbose_name = _("notice read")
        verbose_name_plural = _("notice reads")

    def __str__(self) -> str:
        return f"{self.notice_id} / {self.reader_id}"


class HarassmentCriterion(ClientOwned):
    """One of the client's written criteria under which a call may be ended (カスハラ)."""

    code = models.SlugField(_("code"), max_length=32)
    label = models.CharField(_("criterion"), max_length=200)
    description = models.TextField(_("what it covers"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["client", "code"]
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="criterion_code_per_client")
        ]
        verbose_name = _("harassment criterion")
        verbose_name_plural = _("harassment criteria")

    def __str__(self) -> str:
        return self.label


class HarassmentCriterionVersion(ClientOwned):
    """One wording of a criterion, appended each time it is added or changed: what the floor
    was told at any moment, and who changed it (a call ended under it keeps its meaning)."""

    criterion = models.ForeignKey(
        HarassmentCriterion,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("criterion"),
    )
    label = models.CharField(_("criterion"), max_length=200)
    description = models.TextField(_("what it covers"), blank=True)
    is_active = models.BooleanField(_("active"))
    at = models.DateTimeField(_("changed at"))
    # Empty for the wording a criterion had when its history began.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["criterion", "-at", "-id"]
        verbose_name = _("criterion wording")
        verbose_name_plural = _("criterion wordings")

    def __str__(self) -> str:
        return f"{self.criterion_id} {self.at:%Y-%m-%d %H:%M}"


class CallEnding(ClientOwned):
    """A call ended by the center under one of the client's criteria: who, when, and why."""

    contact = models.OneToOneField(
        "cases.Contact",
        on_delete=models.PROTECT,
        related_name="call_ending",
        verbose_name=_("contact"),
    )
    criterion = models.ForeignKey(
        HarassmentCriterion,
        on_delete=models.PROTECT,
        related_name="endings",
        verbose_name=_("criterion"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    customer_flagged = models.BooleanField(_("customer flagged"), default=False)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["client", "-at"], name="call_ending_recent")]
        verbose_name = _("call ended under a criterion")
        verbose_name_plural = _("calls ended under a criterion")

    def __str__(self) -> str:
        return f"{self.contact_id} {self.criterion_id}"


class InterventionKind(models.TextChoices):
    JOIN = "join", _("Joined")
    TAKE_OVER = "take_over", _("Took over")


class FloorIntervention(ClientOwned):
    """An SV joined a long call or took it over."""

    contact = models.ForeignKey(
        "cases.Contact",
        on_delete=models.PROTECT,
        related_name="interventions",
        verbose_name=_("contact"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InterventionKind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))
    previous_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled before"),
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("floor intervention")
        verbose_name_plural = _("floor interventions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.contact_id}"


class FloorThreshold(ClientOwned):
    """Per client: how long a call may run before it shows on the SV board."""

    minutes = models.PositiveSmallIntegerField(_("long-call threshold (minutes)"), default=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client"], name="floor_threshold_per_client")
        ]
        verbose_name = _("long-call threshold")
        verbose_name_plural = _("long-call thresholds")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.minutes}"
