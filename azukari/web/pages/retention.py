"""The retention review for managers: texts of erased customers that still look personal, each
to redact or to mark as read and clean, through the retention services."""

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from azukari.audit.retention import (
    retention_review,
    retention_text_mark_clean,
    retention_text_redact,
)
from azukari.core.errors import DomainError
from azukari.core.visibility import get_visible
from azukari.org.models import Client
from azukari.org.permissions import Cap, page_for
from azukari.web.forms import PageForm

FLAG_LABELS = {
    "digits": _("a long number"),
    "at_sign": _("an at sign"),
    "name": _("a name with an honorific"),
}


class RedactForm(PageForm):
    text = forms.CharField(
        label=_("Text to keep"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


@require_GET
@login_required
@page_for(Cap.RETENTION_APPLY)
def retention_clients(request: HttpRequest) -> HttpResponse:
    clients = Client.objects.visible_to(request.user).order_by("code")
    return render(request, "web/retention/clients.html", {"clients": clients})


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.RETENTION_APPLY, refuse_with_404=True)
def retention_review_page(request: HttpRequest, client_code: str) -> HttpResponse:
    client = get_visible(Client.objects.all(), request.user, code=client_code)
    posted = request.POST.get("item") if request.method == "POST" else None
    rows = [
        {
            "item": item,
            "labels": [FLAG_LABELS.get(f, f) for f in item.flags],
            "record": apps.get_model(item.object_type)._meta.verbose_name,
            "field": apps.get_model(item.object_type)._meta.get_field(item.field).verbose_name,
            "form": RedactForm(
                request.POST if posted == item.key else None,
                prefix=f"item{n}",
                initial={"text": item.text},
            ),
        }
        for n, item in enumerate(retention_review(viewer=request.user, client=client))
    ]
    if request.method == "POST":
        row = next((r for r in rows if r["item"].key == posted), None)
        if row is None:
            messages.error(request, _("This text is no longer on the review list."))
            return redirect("retention-review", client_code=client.code)
        item, form = row["item"], row["form"]
        where = {
            "by": request.user,
            "client": client,
            "object_type": item.object_type,
            "object_id": item.object_id,
            "field": item.field,
        }
        try:
            if request.POST.get("action") == "clean":
                retention_text_mark_clean(**where)
                messages.success(request, _("Marked as reviewed: it leaves the list."))
            elif form.is_valid():
                retention_text_redact(**where, text=form.cleaned_data["text"])
                messages.success(request, _("The redacted text is saved."))
            else:
                return _page(request, client, rows, status=400)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("retention-review", client_code=client.code)
    return _page(request, client, rows)


def _page(request, client, rows, status: int = 200) -> HttpResponse:
    return render(
        request, "web/retention/review.html", {"client": client, "rows": rows}, status=status
    )
