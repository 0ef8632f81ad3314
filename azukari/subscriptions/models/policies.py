"""Cancellation policies as versioned data: each client's rules, per plan or client-wide."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned
from azukari.subscriptions.policy.rules import (
    ApprovalLevel,
    ChargeMethod,
    GroundRule,
    PolicyRules,
)


class Policy(ClientOwned):
    """A client's cancellation rules for one plan, or for all its plans when `plan` is empty."""

    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    plan = models.ForeignKey(
        "subscriptions.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        verbose_name=_("plan"),
        help_text=_("Leave empty for the policy that applies to every plan of the client."),
    )

    class Meta:
        ordering = ["client", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "code"], name="policy_code_unique_per_client"
            ),
            models.UniqueConstraint(fields=["client", "plan"], name="policy_one_per_plan"),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(plan__isnull=True),
                name="policy_one_client_wide",
            ),
        ]
        verbose_name = _("cancellation policy")
        verbose_name_plural = _("cancellation policies")

    def __str__(self) -> str:
        return self.name


class PolicyVersion(ClientOwned):
    """One version of a policy, in force from `effective_from` until the next version starts.

    A version that a request or decision has used is never changed again: a change is a new
    version, so every decision can be traced to the exact rules it applied.
    """

    policy = models.ForeignKey(
        Policy, on_delete=models.PROTECT, related_name="versions", verbose_name=_("policy")
    )
    number = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("in force from"))
    min_deliveries = models.PositiveSmallIntegerField(_("minimum number of deliveries"))
    device_list_price_yen = models.PositiveIntegerField(
        _("device list price (yen, tax incl.)"), default=0
    )
    device_price_paid_yen = models.PositiveIntegerField(
        _("device price paid (yen, tax incl.)"), default=0
    )
    charge_method = models.CharField(
        _("how the unrecovered subsidy is charged"),
        max_length=12,
        choices=ChargeMethod.choices,
        default=ChargeMethod.PRO_RATA,
    )
    fixed_fee_yen = models.PositiveIntegerField(
        _("fixed fee (yen, tax incl.)"),
        default=0,
        help_text=_("Only with the fixed-fee method; never more than the device subsidy."),
    )
    notice_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=0)
    decision_limit_days = models.PositiveSmallIntegerField(
        _("days allowed from first request to decision"), default=10
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["policy", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_number"),
            models.UniqueConstraint(
                fields=["policy", "effective_from"], name="policy_version_one_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(device_price_paid_yen__lte=models.F("device_list_price_yen")),
                name="policy_device_paid_not_above_list",
            ),
        ]
        indexes = [models.Index(fields=["policy", "effective_from"], name="policy_in_force")]
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")

    def __str__(self) -> str:
        return f"{self.policy} v{self.number} ({self.effective_from:%Y-%m-%d})"

    @property
    def device_subsidy_yen(self) -> int:
        return self.device_list_price_yen - self.device_price_paid_yen

    def rules(self, *, effective_until: dt.date | None = None) -> PolicyRules:
        """The engine's view of this version (reads the grounds; prefetch them for lists)."""
        return PolicyRules(
            number=self.number,
            effective_from=self.effective_from,
            min_deliveries=self.min_deliveries,
            device_list_price_yen=self.device_list_price_yen,
            device_price_paid_yen=self.device_price_paid_yen,
            charge_method=self.charge_method,
            fixed_fee_yen=self.fixed_fee_yen,
            notice_days=self.notice_days,
            grounds=tuple(g.rule() for g in self.grounds.all()),
            effective_until=effective_until,
            version_id=self.pk,
        )


class ExceptionGround(ClientOwned):
    """A ground on which a policy version allows an exception, and who may grant it."""

    version = models.ForeignKey(
        PolicyVersion,
        on_delete=models.CASCADE,
        related_name="grounds",
        verbose_name=_("policy version"),
    )
    code = models.SlugField(
        _("code"),
        max_length=32,
        help_text=_(
            "defect, bereavement, moving_abroad, hardship, terms_unclear, or the client's own code."
        ),
    )
    label = models.CharField(
        _("label"), max_length=100, blank=True, help_text=_("Required for the client's own codes.")
    )
    approval_level = models.CharField(
        _("approval needed"), max_length=12, choices=ApprovalLevel.choices
    )
    fee_waived_percent = models.PositiveSmallIntegerField(_("fee waived (%)"), default=100)

    class Meta:
        ordering = ["version", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="ground_unique_per_version")
        ]
        verbose_name = _("exception ground")
        verbose_name_plural = _("exception grounds")

    def __str__(self) -> str:
        return self.rule().display

    def rule(self) -> GroundRule:
        return GroundRule(
            code=self.code,
            approval_level=self.approval_level,
            fee_waived_percent=self.fee_waived_percent,
            label=self.label,
        )
