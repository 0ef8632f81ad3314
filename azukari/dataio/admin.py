"""Uploads from the admin: the file is stored, the worker imports it, the page shows progress."""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.dataio.forms import MappingForm, UploadForm
from azukari.dataio.models import ColumnMapping, ImportBatch, ImportKind, ImportStatus
from azukari.dataio.readers import sheet_preview
from azukari.dataio.services import (
    column_mapping_save,
    columns_for,
    field_label,
    import_abandon,
    import_queue,
    missing_required,
)
from azukari.org.models import Client
from azukari.org.permissions import Cap, user_can

UPLOAD_SALT = "azukari.dataio.upload"

RUNNING = {ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.SWITCHING}


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "client", "kind", "filename", "status", "progress", "errors_"]
    list_filter = ["status", "kind", "client"]
    change_form_template = "dataio/import_detail.html"
    actions = ["abandon"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def get_queryset(self, request: HttpRequest):
        return ImportBatch.objects.visible_to(request.user).select_related("client")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_import(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_import(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("progress"))
    def progress(self, obj: ImportBatch) -> str:
        share = obj.bytes_done / obj.bytes_total if obj.bytes_total else 0
        return format_html(
            '<progress max="100" value="{}"></progress> {} %',
            int(share * 100),
            int(share * 100),
        )

    @admin.display(description=_("errors"))
    def errors_(self, obj: ImportBatch) -> int:
        return obj.error_count

    @admin.action(description=_("Abandon the selected imports (their process was stopped)"))
    def abandon(self, request: HttpRequest, queryset) -> None:
        abandoned = 0
        for batch in queryset:
            try:
                import_abandon(actor=request.user, batch=batch)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                abandoned += 1
        if abandoned:
            self.message_user(
                request,
                _("%(n)d imports abandoned; their rows were deleted. Import the files again.")
                % {"n": abandoned},
                messages.SUCCESS,
            )

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload), name="dataio_upload"),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        batch = self.get_queryset(request).filter(pk=object_id).first()
        extra_context = {
            **(extra_context or {}),
            "batch": batch,
            "running": batch is not None and batch.status in RUNNING,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def upload(self, request: HttpRequest) -> HttpResponse:
        """Upload → preview of the first rows with a list per column → import.

        The columns start from the mapping saved for this client and file layout (else the
        usual names); the mapping chosen is saved for the next file of the same layout."""
        if not _may_import(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("step") == "mapping":
            return self._mapping_step(request)
        initial = {"client": request.GET.get("client")} if request.GET.get("client") else None
        form = UploadForm(
            request.POST or None, request.FILES or None, user=request.user, initial=initial
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = Path(upload.name).suffix.lower()
            stored = _imports_dir() / f"{uuid.uuid4().hex}{suffix}"
            stored.parent.mkdir(parents=True, exist_ok=True)
            with stored.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                preview = sheet_preview(stored, encoding=form.cleaned_data["encoding"] or None)
            except DomainError as exc:
                stored.unlink(missing_ok=True)
                form.add_error(None, str(exc))
            else:
                client, kind = form.cleaned_data["client"], form.cleaned_data["kind"]
                mapping = MappingForm(
                    kind=kind,
                    header=preview.header,
                    initial_columns=columns_for(
                        client_id=client.pk, kind=kind, header=preview.header
                    ),
                )
                state = {
                    "client": client.pk,
                    "kind": kind,
                    "stored": stored.name,
                    "filename": Path(upload.name).name,
                    "encoding": form.cleaned_data["encoding"],
                }
                return self._mapping_page(request, client, kind, preview, mapping, state)
        context = {**self.admin_site.each_context(request), "form": form, "title": _("Upload")}
        return TemplateResponse(request, "dataio/upload.html", context)

    def _mapping_page(self, request, client, kind, preview, mapping, state) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Map the columns"),
            "client": client,
            "kind_label": ImportKind(kind).label,
            "preview": preview,
            "mapping": mapping,
            "cells": [[row[i] for row in preview.rows] for i in range(len(preview.header))],
            "state": signing.dumps(state, salt=UPLOAD_SALT),
        }
        return TemplateResponse(request, "dataio/mapping.html", context)

    def _mapping_step(self, request: HttpRequest) -> HttpResponse:
        try:
            state = signing.loads(request.POST.get("state", ""), salt=UPLOAD_SALT, max_age=86400)
        except signing.BadSignature as exc:
            raise PermissionDenied from exc
        client = Client.objects.visible_to(request.user).filter(pk=state["client"]).first()
        stored = _imports_dir() / state["stored"]
        if client is None or not stored.is_file():
            messages.error(request, _("The uploaded file is gone; upload it again."))
            return redirect(reverse("admin:dataio_upload"))
        kind, encoding = state["kind"], state["encoding"]
        preview = sheet_preview(stored, encoding=encoding or None)
        mapping = MappingForm(request.POST, kind=kind, header=preview.header, initial_columns={})
        if mapping.is_valid():
            columns = mapping.columns()
            missing = missing_required(kind, set(columns.values()))
            if missing:
                mapping.add_error(
                    None,
                    _("Choose a column for: %(fields)s.")
                    % {"fields": ", ".join(field_label(kind, f) for f in missing)},
                )
            else:
                try:
                    column_mapping_save(
                        actor=request.user,
                        client=client,
                        kind=kind,
                        columns=columns,
                        header=preview.header,
                    )
                    batch = import_queue(
                        actor=request.user,
                        client=client,
                        kind=kind,
                        path=stored,
                        filename=state["filename"],
                        encoding=encoding,
                    )
                except DomainError as exc:
                    mapping.add_error(None, str(exc))
                else:
                    messages.info(
                        request,
                        _(
                            "The columns are saved for files of this layout; "
                            "the file is being imported."
                        ),
                    )
                    return redirect(reverse("admin:dataio_importbatch_change", args=[batch.pk]))
        return self._mapping_page(request, client, kind, preview, mapping, state)


def _imports_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def _may_import(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_staff and user_can(user, Cap.RECORDS_IMPORT))


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    list_display = ["client", "kind", "layout", "updated_at"]

    def get_queryset(self, request: HttpRequest):
        return ColumnMapping.objects.visible_to(request.user)
