"""Import journal, per-client column mappings, and the staging rows an import switches in.

Staged rows live outside the live tables: a failed or killed import leaves them behind, where
nothing reads them, and `import_journal_sweep` removes them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import ClientOwned


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    DELIVERIES = "deliveries", _("Deliveries")


class ColumnMapping(ClientOwned):
    """How one client's file names our fields: {"顧客番号": "customer_number", ...}.

    `layout` is the fingerprint of the header row the mapping was chosen for (empty: every
    file of this kind), so a client sending two layouts keeps a mapping for each."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    layout = models.CharField(_("file layout"), max_length=64, blank=True, default="")
    columns = models.JSONField(_("columns"), default=dict)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "layout"], name="column_mapping_per_layout"
            )
        ]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")

    def __str__(self) -> str:
        return f"{self.client_id}:{self.kind}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Checking rows")
    SWITCHING = "switching", _("Writing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Refused: errors in the file")
    ABANDONED = "abandoned", _("Abandoned")


class ImportBatch(ClientOwned):
    """One file's import: its progress, its counts, and every error by row and column."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    filename = models.CharField(_("file"), max_length=255)
    stored_path = models.CharField(_("stored file"), max_length=500, blank=True)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    bytes_total = models.PositiveBigIntegerField(_("file size"), default=0)
    bytes_done = models.PositiveBigIntegerField(_("bytes read"), default=0)
    rows_seen = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(_("errors (first ones)"), default=list, blank=True)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    warnings = models.JSONField(_("warnings (first ones)"), default=list, blank=True)
    switch_seconds = models.FloatField(_("final write (s)"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="import_sweep")]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind} {self.filename}"


class StagedCustomer(models.Model):
    """A validated customer row waiting for the switch; the final values, not a diff."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField()
    action = models.CharField(max_length=1)  # c(reate), u(pdate), n(othing to do)
    customer_id = models.BigIntegerField(null=True)  # the live row it updates, if any
    seen_updated_at = models.DateTimeField(null=True)  # to detect edits made meanwhile
    customer_number = models.CharField(max_length=64)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100, blank=True)
    family_name_kana = models.CharField(max_length=100, blank=True)
    given_name_kana = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    address = models.CharField(max_length=300, blank=True)
    email = models.CharField(max_length=254, blank=True)
    birth_date = models.DateField(null=True)
    quiet_from = models.TimeField(null=True)
    quiet_until = models.TimeField(null=True)
    holidays_ok = models.BooleanField(default=False)
    search_text = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["batch", "customer_number"], name="staged_customer_number"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}"


class PhoneOp(models.TextChoices):
    NEW = "new"  # a phone of a customer the file creates
    ADD = "add"
    DROP = "drop"
    KIND = "kind"


class StagedPhone(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="+")
    customer_number = models.CharField(max_length=64)
    op = models.CharField(max_length=4, choices=PhoneOp.choices)
    phone_id = models.BigIntegerField(null=True)
    number = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=8, blank=True)

    class Meta:
        indexes = [models.Index(fields=["batch", "op"], name="staged_phone_op")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.op}:{self.number}"
