"""Clients, sites, teams and the people who work in Azukari."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from azukari.core.businesstime import BusinessCalendar
from azukari.core.compiled import CompiledQuery
from azukari.core.visibility import ClientManager, ClientScopedManager


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    SV = "sv", _("Supervisor / leader")
    DESK = "desk", _("Azukari desk")
    MANAGER = "manager", _("Center manager")
    ADMIN = "admin", _("Administrator")
    CLIENT_APPROVER = "client_approver", _("Client approver")


CENTER_ROLES = frozenset({Role.OPERATOR, Role.SV, Role.DESK, Role.MANAGER, Role.ADMIN})


class EmploymentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEFT = "left", _("Left")


class Client(models.Model):
    """A company whose customers the center serves: the tenant boundary."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    contract_signed_on = models.DateField(
        _("contract with the center signed on"),
        null=True,
        blank=True,
        help_text=_("Client approvers get no access without the company's contract on record."),
    )
    escalation_email = models.EmailField(_("escalation contact e-mail"), blank=True)
    reopen_window_days = models.PositiveSmallIntegerField(_("reopen window (days)"), default=14)
    inquiry_due_hours = models.PositiveSmallIntegerField(
        _("inquiry answer due (business hours)"), default=16
    )
    callback_max_attempts = models.PositiveSmallIntegerField(
        _("callback attempts before unreachable"), default=3
    )
    callback_retry_minutes = models.PositiveSmallIntegerField(
        _("minutes between callback attempts"),
        default=120,
        help_text=_("A failed attempt is not retried sooner than this."),
    )
    unreachable_next_step = models.CharField(
        _("next step for an unreachable customer"),
        max_length=16,
        choices=[
            ("desk_review", _("The azukari desk reviews the case")),
            ("letter", _("Send a letter and wait for the customer")),
        ],
        default="desk_review",
    )
    inquiry_remind_hours = models.PositiveSmallIntegerField(
        _("remind the approver this many hours before an inquiry is due"), default=4
    )
    is_active = models.BooleanField(_("active"), default=True)
    went_live_on = models.DateField(
        _("live since"),
        null=True,
        blank=True,
        help_text=_("Set by going live, once the set-up checklist is complete."),
    )

    objects = ClientManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self) -> str:
        return self.name


class ClientClosedDay(models.Model):
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="closed_days", verbose_name=_("client")
    )
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ClientScopedManager()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["client", "date"], name="closed_day_unique_per_client")
        ]
        verbose_name = _("client closed day")
        verbose_name_plural = _("client closed days")

    def __str__(self) -> str:
        return f"{self.client.code} {self.date:%Y-%m-%d}"


class ClientLine(models.Model):
    """A number customers dial; it tells the screen pop which client the call is for."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="lines", verbose_name=_("client")
    )
    number = models.CharField(_("dialled number (E.164)"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=100, blank=True)

    objects = ClientScopedManager()

    class Meta:
        verbose_name = _("client line")
        verbose_name_plural = _("client lines")

    def __str__(self) -> str:
        return f"{self.number} ({self.client.code})"


class SiteStatus(models.TextChoices):
    OPERATING = "operating", _("Operating")
    DEGRADED = "degraded", _("Degraded")
    DOWN = "down", _("Down")


class Site(models.Model):
    """A physical center; sites are spread out so one can go dark without losing work."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=SiteStatus.choices, default=SiteStatus.OPERATING
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


class SiteHours(models.Model):
    class Weekday(models.IntegerChoices):
        MON = 0, _("Monday")
        TUE = 1, _("Tuesday")
        WED = 2, _("Wednesday")
        THU = 3, _("Thursday")
        FRI = 4, _("Friday")
        SAT = 5, _("Saturday")
        SUN = 6, _("Sunday")

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="hours", verbose_name=_("site")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        ordering = ["site", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["site", "weekday"], name="site_hours_one_per_weekday"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="site_hours_close_after_open",
            ),
        ]
        verbose_name = _("site hours")
        verbose_name_plural = _("site hours")

    def __str__(self) -> str:
        return f"{self.site.code} {self.get_weekday_display()} {self.opens_at}-{self.closes_at}"

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("Closing time must be after opening time.")})


class Team(models.Model):
    """A group at one site; the azukari desk of a site owns that site's azukari."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="teams", verbose_name=_("site")
    )
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_azukari_desk = models.BooleanField(_("azukari desk"), default=False)
    clients = models.ManyToManyField(
        Client, related_name="teams", blank=True, verbose_name=_("clients served")
    )

    class Meta:
        ordering = ["site", "code"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return f"{self.site.name} / {self.name}"


class AzukariUserQuerySet(models.QuerySet):
    def people(self):
        """People, without the accounts that integrations and customers online act through:
        every list a person picks from or reviews starts here."""
        return self.filter(is_service_account=False)

    def center_staff(self):
        return self.people().filter(role__in=CENTER_ROLES)


class AzukariUserManager(UserManager.from_queryset(AzukariUserQuerySet)):
    pass


class User(AbstractUser):
    """Center staff and client approvers. The role decides what the rest of the fields mean."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    # NULL, not "", like the agent id: many people are recorded without one.
    employee_number = models.CharField(
        _("employee number"), max_length=32, null=True, blank=True, unique=True
    )
    display_name = models.CharField(
        _("display name"),
        max_length=50,
        blank=True,
        help_text=_("The only name customers are told."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=[("ja", "日本語"), ("en", "English")], default="ja"
    )
    home_site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("home site"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    clients = models.ManyToManyField(
        Client, blank=True, related_name="staff", verbose_name=_("clients served")
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approvers",
        verbose_name=_("company (client approvers)"),
    )
    # NULL, not "", so that many people without an agent id fit the unique constraint.
    agent_id = models.CharField(
        _("PBX agent id"), max_length=64, null=True, blank=True, unique=True
    )
    agreement_signed_on = models.DateField(
        _("confidentiality agreement signed on"), null=True, blank=True
    )
    agreement_version = models.CharField(_("agreement version"), max_length=32, blank=True)
    employment_status = models.CharField(
        _("employment status"),
        max_length=8,
        choices=EmploymentStatus.choices,
        default=EmploymentStatus.ACTIVE,
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    # An integration's API token or a client's self-service acts through such an account: it
    # keeps records honest about who acted, and is never offered or listed as a person.
    is_service_account = models.BooleanField(
        _("service account"),
        default=False,
        editable=False,
        help_text=_("Acts for an integration or for customers online; not a person."),
    )

    objects = AzukariUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="client_approver") | models.Q(client__isnull=False),
                name="client_approver_has_company",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_center_staff(self) -> bool:
        return self.role in CENTER_ROLES

    @property
    def is_client_approver(self) -> bool:
        return self.role == Role.CLIENT_APPROVER

    @property
    def has_access(self) -> bool:
        """Access needs an active account and the agreement that binds this person."""
        if not self.is_active or self.employment_status != EmploymentStatus.ACTIVE:
            return False
        if self.is_client_approver:
            return self.client_id is not None and self.client.contract_signed_on is not None
        return self.agreement_signed_on is not None

    @cached_property
    def _visible_client_ids(self) -> frozenset[int]:
        if not self.has_access:
            return frozenset()
        if self.is_client_approver:
            return frozenset({self.client_id})
        return frozenset(_CLIENTS_SERVED(self.pk))

    def visible_client_ids(self) -> frozenset[int]:
        return self._visible_client_ids

    def clean(self) -> None:
        if self.is_client_approver:
            if not self.client_id:
                raise ValidationError({"client": _("A client approver belongs to one company.")})
            if self.home_site_id:
                raise ValidationError({"home_site": _("Client approvers have no site.")})
        elif self.role in CENTER_ROLES and self.client_id:
            raise ValidationError(
                {"client": _("Center staff serve clients; they have no company.")}
            )


def business_calendar(*, client: Client, site: Site | None) -> BusinessCalendar:
    """The calendar a case's clocks run on; built by `azukari.org.calendars`, its one home."""
    from azukari.org.calendars import business_calendar as build

    return build(client=client, site=site)


class SiteOutage(models.Model):
    """One period in which a site was down; the moves it caused hang off it."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="outages", verbose_name=_("site")
    )
    started_at = models.DateTimeField(_("down since"))
    ended_at = models.DateTimeField(_("operating again at"), null=True, blank=True)
    started_by = models.ForeignKey(
        "org.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked down by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # At most one outage still running per site: a second `down` finds it.
            models.UniqueConstraint(
                fields=["site"],
                condition=models.Q(ended_at__isnull=True),
                name="site_outage_one_open_per_site",
            )
        ]
        verbose_name = _("site outage")
        verbose_name_plural = _("site outages")

    def __str__(self) -> str:
        return f"{self.site.code} {self.started_at:%Y-%m-%d %H:%M}"


class MoveKind(models.TextChoices):
    CASE = "case", _("Azukari")
    CALLBACK = "callback", _("Callback")


class AssignmentMove(models.Model):
    """One azukari or callback moved away from a site that went down (who had it, who has it)."""

    outage = models.ForeignKey(
        SiteOutage, on_delete=models.PROTECT, related_name="moves", verbose_name=_("outage")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=MoveKind.choices)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    callback = models.ForeignKey(
        "cases.Callback",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("callback"),
    )
    from_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_assignee = models.ForeignKey(
        "org.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    to_assignee = models.ForeignKey(
        "org.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    batch = models.PositiveIntegerField(_("batch"))
    moved_at = models.DateTimeField(_("moved at"))

    objects = ClientScopedManager()

    class Meta:
        ordering = ["moved_at", "id"]
        constraints = [
            # Within one outage a piece of work moves once: a rerun cannot duplicate it.
            models.UniqueConstraint(
                fields=["outage", "case"],
                condition=models.Q(kind="case"),
                name="move_case_once_per_outage",
            ),
            models.UniqueConstraint(
                fields=["outage", "callback"],
                condition=models.Q(kind="callback"),
                name="move_callback_once_per_outage",
            ),
        ]
        verbose_name = _("assignment move")
        verbose_name_plural = _("assignment moves")

    def __str__(self) -> str:
        return f"{self.kind} {self.case_id} → {self.to_team_id}"


class RebalanceStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPLIED = "applied", _("Applied")
    DISMISSED = "dismissed", _("Dismissed")


class RebalanceProposal(models.Model):
    """When a site operates again, work is offered back to it; nothing moves until applied."""

    outage = models.OneToOneField(
        SiteOutage, on_delete=models.PROTECT, related_name="rebalance", verbose_name=_("outage")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="rebalances", verbose_name=_("site")
    )
    created_at = models.DateTimeField(_("proposed at"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RebalanceStatus.choices,
        default=RebalanceStatus.PROPOSED,
    )
    # [{"case": id, "from_team": id, "to_team": id, "to_assignee": id|None}, ...]
    items = models.JSONField(_("proposed moves"), default=list)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "org.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("rebalance proposal")
        verbose_name_plural = _("rebalance proposals")

    def __str__(self) -> str:
        return f"{self.site.code} {self.created_at:%Y-%m-%d %H:%M} ({len(self.items)})"


class TaskReceipt(models.Model):
    """Background work's ledger: one row per task effect, written in the effect's transaction.

    Delivery is at least once; a second run of the same task finds its receipt, changes
    nothing and only counts itself in `duplicate_runs`.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    done_at = models.DateTimeField(_("done at"))
    duplicate_runs = models.PositiveIntegerField(_("duplicate runs"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("task receipt")
        verbose_name_plural = _("task receipts")

    def __str__(self) -> str:
        return self.key


# Asked on every request of every member of staff.
_CLIENTS_SERVED = CompiledQuery[int](
    lambda user_id: Client.objects.filter(staff__id=user_id).values_list("id", flat=True)
)
