"""Each client's written criteria under which a call may be ended (カスハラ), kept by managers:
the clients they serve, and per client its criteria to add, reword or take out of use, with
each one's earlier wordings. The floor's end-call form offers the active ones."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from azukari.core.errors import DomainError
from azukari.core.visibility import get_visible
from azukari.floor import services
from azukari.floor.models import HarassmentCriterion, HarassmentCriterionVersion
from azukari.org.models import Client
from azukari.org.permissions import Cap, page_for
from azukari.web.forms import PageForm, apply_domain_error


class CriterionForm(PageForm):
    label = forms.CharField(label=_("Criterion"), max_length=200)
    description = forms.CharField(
        label=_("What it covers"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class NewCriterionForm(CriterionForm):
    code = forms.SlugField(
        label=_("Code"),
        max_length=32,
        help_text=_("Letters, digits and hyphens; it never changes once saved."),
    )
    field_order = ["code", "label", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]


@require_GET
@login_required
@page_for(Cap.CRITERIA_EDIT)
def criteria_clients(request: HttpRequest) -> HttpResponse:
    counts = {
        row["client_id"]: row
        for row in HarassmentCriterion.objects.visible_to(request.user)
        .values("client_id")
        .annotate(total=Count("id"), active=Count("id", filter=Q(is_active=True)))
        .order_by()
    }
    clients = list(Client.objects.visible_to(request.user).order_by("code"))
    for client in clients:
        row = counts.get(client.pk, {})
        client.criteria_active = row.get("active", 0)
        client.criteria_out = row.get("total", 0) - client.criteria_active
    return render(request, "web/criteria/clients.html", {"clients": clients})


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CRITERIA_EDIT, refuse_with_404=True)
def criteria_edit(request: HttpRequest, client_code: str) -> HttpResponse:
    client = get_visible(Client.objects.all(), request.user, code=client_code)
    criteria = list(
        HarassmentCriterion.objects.visible_to(request.user)
        .filter(client=client)
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=HarassmentCriterionVersion.objects.select_related("by").order_by(
                    "-at", "-id"
                ),
            )
        )
    )
    posted = request.POST.get("criterion") if request.method == "POST" else None
    new_form = NewCriterionForm(request.POST if posted == "new" else None, prefix="new")
    for c in criteria:
        data = request.POST if posted == str(c.pk) else None
        c.form = CriterionForm(
            data,
            prefix=f"c{c.pk}",
            initial={"label": c.label, "description": c.description, "is_active": c.is_active},
        )
    if request.method == "POST":
        target = next((c for c in criteria if str(c.pk) == posted), None)
        form = new_form if posted == "new" else getattr(target, "form", None)
        if form is None:
            messages.error(request, _("Choose one of the client's criteria."))
            return redirect("criteria-edit", client_code=client.code)
        if form.is_valid():
            try:
                if target is None:
                    services.criterion_create(
                        actor=request.user, client=client, request=request, **form.cleaned_data
                    )
                    messages.success(request, _("The criterion is added."))
                else:
                    services.criterion_update(
                        actor=request.user, criterion=target, request=request, **form.cleaned_data
                    )
                    messages.success(request, _("The criterion is saved."))
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                return redirect("criteria-edit", client_code=client.code)
    invalid = new_form.errors or any(c.form.errors for c in criteria)
    return render(
        request,
        "web/criteria/edit.html",
        {"client": client, "criteria": criteria, "new_form": new_form},
        status=400 if invalid else 200,
    )
