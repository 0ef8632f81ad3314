"""A client's customers, their phones and how they want to be called."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned, ClientScopedManager


class HiddenImport(models.Model):
    """An import whose new customers are already written but not yet switched in.

    A large file's new customers go into the live tables in short steps, each marked with the
    import's batch, and stay out of sight while this row exists; the import's last, short
    transaction deletes it and they all appear at once. A failed or killed import's rows are
    deleted before this row (see `dataio.customer_import`)."""

    batch_id = models.BigIntegerField(_("import"), unique=True)

    class Meta:
        verbose_name = _("import being written")
        verbose_name_plural = _("imports being written")

    def __str__(self) -> str:
        return f"import {self.batch_id}"


class ShownRowsManager(ClientScopedManager):
    """Leaves out the rows of imports that have not switched in yet (see HiddenImport)."""

    def get_queryset(self):
        hidden = HiddenImport.objects.values("batch_id")
        return super().get_queryset().exclude(import_batch_id__in=hidden)


class Customer(ClientOwned):
    customer_number = models.CharField(_("customer number"), max_length=64)
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=8, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Optional: one of the facts a client may have its customers confirm online.
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    # Contact preferences: when the customer may be called back.
    quiet_from = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet hours until"), null=True, blank=True)
    days_off = models.JSONField(
        _("days not to call"),
        default=list,
        blank=True,
        help_text=_("Weekdays, 0 = Monday … 6 = Sunday."),
    )
    call_windows = models.JSONField(
        _("preferred call windows"),
        default=list,
        blank=True,
        help_text=_('For example [{"days": [5, 6], "start": "10:00", "end": "12:00"}].'),
    )
    holidays_ok = models.BooleanField(_("may be called on public holidays"), default=False)
    harassment_flag = models.BooleanField(_("harassment flag"), default=False)
    harassment_note = models.CharField(_("harassment note"), max_length=300, blank=True)
    # Kana- and width-folded name, number and phones, for the search index.
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    import_batch_id = models.BigIntegerField(_("created by import"), null=True, editable=False)

    objects = ShownRowsManager()
    # Every row, shown or not: for the customer number's uniqueness and the import itself.
    all_rows = ClientScopedManager()

    class Meta:
        ordering = ["client", "customer_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "customer_number"], name="customer_number_unique_per_client"
            )
        ]
        indexes = [
            models.Index(
                fields=["import_batch_id"],
                condition=models.Q(import_batch_id__isnull=False),
                name="customer_import_batch",
            ),
            # The floor board lists the few flagged customers; without it, it reads them all.
            models.Index(
                fields=["client", "customer_number"],
                condition=models.Q(harassment_flag=True),
                name="customer_harassment_flagged",
            ),
        ]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    HOME = "home", _("Home")
    WORK = "work", _("Work")
    OTHER = "other", _("Other")


class CustomerPhone(ClientOwned):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", verbose_name=_("customer")
    )
    number = models.CharField(_("number (E.164)"), max_length=20)
    kind = models.CharField(
        _("kind"), max_length=8, choices=PhoneKind.choices, default=PhoneKind.MOBILE
    )
    import_batch_id = models.BigIntegerField(_("created by import"), null=True, editable=False)

    objects = ShownRowsManager()
    all_rows = ClientScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="phone_unique_per_customer")
        ]
        indexes = [
            models.Index(fields=["client", "number"], name="phone_screen_pop"),
            models.Index(
                fields=["import_batch_id"],
                condition=models.Q(import_batch_id__isnull=False),
                name="phone_import_batch",
            ),
        ]
        verbose_name = _("customer phone")
        verbose_name_plural = _("customer phones")

    def __str__(self) -> str:
        return self.number
