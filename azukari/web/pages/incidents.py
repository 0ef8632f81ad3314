"""The APPI incident register for managers: the list with its legal deadlines, one incident's
history, and a form for the step that is owed next. Every write goes through the audit
services (`incident_*`); nothing here changes an incident by itself."""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from azukari.audit import services
from azukari.audit.models import (
    Incident,
    IncidentEntry,
    IncidentKind,
    IncidentStatus,
    IncidentStep,
    NotifyMethod,
    ReminderError,
)
from azukari.core.errors import DomainError
from azukari.core.visibility import get_visible
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, page_for
from azukari.web.forms import PageForm, apply_domain_error

PAGE_SIZE = 50
MINUTES = "%Y-%m-%dT%H:%M"


def _when_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MINUTES),
    )


def _note_field() -> forms.CharField:
    return forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class IncidentForm(PageForm):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices)
    discovered_at = _when_field(_("Discovered at"))
    affected_count = forms.IntegerField(label=_("People affected"), min_value=0, initial=0)
    intentional = forms.BooleanField(
        label=_("For an unlawful purpose (the final report is due within 60 days)"),
        required=False,
    )
    description = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.visible_to(viewer).order_by("code")


class NotifyForm(PageForm):
    notified_at = _when_field(_("Client notified at"))
    whom = forms.CharField(label=_("Who was notified (name, department)"), max_length=200)
    how = forms.ChoiceField(label=_("How"), choices=NotifyMethod.choices)
    note = _note_field()


class ReportForm(PageForm):
    reported_at = _when_field(_("Report made at"))
    reference = forms.CharField(label=_("Reference of the report"), max_length=100)
    note = _note_field()


class CloseForm(PageForm):
    note = _note_field()


# The step owed next, by status: its form, its service, its button and its confirmation.
STEPS: dict[str, dict[str, Any]] = {
    IncidentStatus.OPEN: {
        "step": "notify",
        "form": NotifyForm,
        "title": _("Notify the client company"),
        "service": services.incident_notify_client,
        "done": _("The client company's notification is recorded."),
    },
    IncidentStatus.CLIENT_NOTIFIED: {
        "step": "preliminary",
        "form": ReportForm,
        "title": _("Preliminary report to the regulator"),
        "service": services.incident_report_preliminary,
        "done": _("The preliminary report is recorded."),
    },
    IncidentStatus.PRELIMINARY_REPORTED: {
        "step": "final",
        "form": ReportForm,
        "title": _("Final report to the regulator"),
        "service": services.incident_report_final,
        "done": _("The final report is recorded."),
    },
    IncidentStatus.FINAL_REPORTED: {
        "step": "close",
        "form": CloseForm,
        "title": _("Close the incident"),
        "service": services.incident_close,
        "done": _("The incident is closed."),
    },
}


class CorrectionForm(PageForm):
    """Every recorded value, prefilled; what is changed is recorded as a correction."""

    reason = forms.CharField(
        label=_("Why the correction"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        reached = [s for s in STEP_FIELDS if _reached(incident, s)]
        fields: dict[str, forms.Field] = {}
        for status in reached:
            for name, field in STEP_FIELDS[status]().items():
                field.initial = _initial(getattr(incident, name))
                fields[name] = field
        fields["reason"] = self.fields.pop("reason")
        self.fields = fields
        self.incident = incident

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the recorded one (to the minute for times)."""
        changed = {}
        for name, value in self.cleaned_data.items():
            if name == "reason":
                continue
            current = getattr(self.incident, name)
            if isinstance(current, dt.datetime) and isinstance(value, dt.datetime):
                if value == current.replace(second=0, microsecond=0):
                    continue
            elif value == current:
                continue
            changed[name] = value
        return changed


def _initial(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime(MINUTES)
    return value


STEP_FIELDS = {
    IncidentStatus.OPEN: lambda: {
        "title": forms.CharField(label=_("Title"), max_length=200),
        "kind": forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices),
        "discovered_at": _when_field(_("Discovered at")),
        "affected_count": forms.IntegerField(label=_("People affected"), min_value=0),
        "intentional": forms.BooleanField(label=_("For an unlawful purpose"), required=False),
        "description": forms.CharField(
            label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 3})
        ),
    },
    IncidentStatus.CLIENT_NOTIFIED: lambda: {
        "client_notified_at": _when_field(_("Client notified at")),
        "client_notified_whom": forms.CharField(label=_("Who was notified"), max_length=200),
        "client_notified_how": forms.ChoiceField(label=_("How"), choices=NotifyMethod.choices),
    },
    IncidentStatus.PRELIMINARY_REPORTED: lambda: {
        "preliminary_reported_at": _when_field(_("Preliminary report made at")),
        "preliminary_reference": forms.CharField(
            label=_("Preliminary report reference"), max_length=100
        ),
    },
    IncidentStatus.FINAL_REPORTED: lambda: {
        "final_reported_at": _when_field(_("Final report made at")),
        "final_reference": forms.CharField(label=_("Final report reference"), max_length=100),
    },
}
_ORDER = list(IncidentStatus.values)


def _reached(incident: Incident, status: str) -> bool:
    return _ORDER.index(incident.status) >= _ORDER.index(status)


# ---------------------------------------------------------------- the register


def _register(viewer: User):
    """The viewer's clients' incidents: those still owed something first, newest first."""
    done = [IncidentStatus.FINAL_REPORTED, IncidentStatus.CLOSED]
    return (
        Incident.objects.visible_to(viewer)
        .select_related("client")
        .annotate(
            finished=Case(
                When(status__in=done, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("finished", "-discovered_at", "-id")
    )


@require_GET
@login_required
@page_for(Cap.INCIDENTS_RECORD)
def incident_register(request: HttpRequest) -> HttpResponse:
    page = Paginator(_register(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    items = list(page)
    for incident in items:
        incident.preliminary_late = incident.preliminary_overdue(now)
        incident.final_late = incident.final_overdue(now)
    return render(
        request,
        "web/incidents/register.html",
        {"page": page, "items": items, "errors": sum(1 for i in items if i.reminder_error)},
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.INCIDENTS_RECORD)
def incident_new(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_record(
                by=request.user, request=request, **form.cleaned_data
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The incident is recorded; its deadlines are running."))
            return redirect("incident", incident_id=incident.pk)
    return render(
        request,
        "web/incidents/new.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- one incident


def _value_text(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name.endswith("_at"):
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    if name == "kind":
        return str(IncidentKind(value).label)
    if name in ("client_notified_how", "how"):
        return str(NotifyMethod(value).label)
    if name == "intentional":
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int):
        return number_format(value, force_grouping=True)
    return str(value)


def _field_label(name: str) -> str:
    label = str(Incident._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def _entry_lines(entry: IncidentEntry) -> list[str]:
    """What an entry says, in the reader's language."""
    d = entry.details or {}
    if entry.step == IncidentStep.RECORDED:
        count = d.get("affected_count", 0)
        return [
            ngettext(
                "%(kind)s, %(count)s person affected", "%(kind)s, %(count)s people affected", count
            )
            % {"kind": _value_text("kind", d.get("kind")), "count": _value_text("n", count)}
        ]
    if entry.step == IncidentStep.CLIENT_NOTIFIED:
        return [
            gettext("%(whom)s, %(how)s")
            % {"whom": d.get("whom", ""), "how": _value_text("how", d.get("how"))}
        ]
    if entry.step in (IncidentStep.PRELIMINARY, IncidentStep.FINAL):
        lines = [gettext("Reference: %(ref)s") % {"ref": d.get("reference", "")}]
        if d.get("late"):
            lines.append(gettext("Made after its deadline."))
        return lines
    if entry.step == IncidentStep.CORRECTED:
        return [
            gettext("%(field)s: %(before)s → %(after)s")
            % {
                "field": _field_label(name),
                "before": _value_text(name, d.get("before", {}).get(name)),
                "after": _value_text(name, value),
            }
            for name, value in d.get("after", {}).items()
        ]
    stage = (
        gettext("preliminary report")
        if d.get("stage") == "preliminary"
        else gettext("final report")
    )
    if entry.step == IncidentStep.REMINDER_SENT:
        n = d.get("recipients", 0)
        return [
            ngettext(
                "Reminder of the %(stage)s sent to %(n)s person.",
                "Reminder of the %(stage)s sent to %(n)s people.",
                n,
            )
            % {"stage": stage, "n": n}
        ]
    if entry.step == IncidentStep.REMINDER_FAILED:
        error = d.get("error", ReminderError.NO_RECIPIENT)
        label = ReminderError(error).label if error in ReminderError.values else error
        return [
            gettext("Reminder of the %(stage)s not sent: %(why)s") % {"stage": stage, "why": label}
        ]
    return []


def _incident(request: HttpRequest, incident_id: int) -> Incident:
    return get_visible(
        Incident.objects.select_related("client", "recorded_by"), request.user, pk=incident_id
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.INCIDENTS_RECORD, refuse_with_404=True)
def incident_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _incident(request, incident_id)
    posted = request.POST.get("step") if request.method == "POST" else None
    next_step = STEPS.get(incident.status)
    step_form = None
    if next_step is not None:
        data = request.POST if posted == next_step["step"] else None
        step_form = next_step["form"](data, prefix="step")
    correction = CorrectionForm(
        request.POST if posted == "correct" else None, incident=incident, prefix="fix"
    )
    if request.method == "POST":
        if posted == "correct":
            if correction.is_valid():
                try:
                    services.incident_correct(
                        by=request.user,
                        incident=incident,
                        changes=correction.changes(),
                        reason=correction.cleaned_data["reason"],
                        request=request,
                    )
                except DomainError as exc:
                    apply_domain_error(correction, exc)
                else:
                    messages.success(request, _("The correction is recorded."))
                    return redirect("incident", incident_id=incident.pk)
        elif next_step is not None and posted == next_step["step"]:
            if step_form.is_valid():
                try:
                    next_step["service"](
                        by=request.user,
                        incident=incident,
                        request=request,
                        **step_form.cleaned_data,
                    )
                except DomainError as exc:
                    apply_domain_error(step_form, exc)
                else:
                    messages.success(request, next_step["done"])
                    return redirect("incident", incident_id=incident.pk)
        else:
            messages.error(
                request, _("This step is no longer the next one; the page shows where it stands.")
            )
            return redirect("incident", incident_id=incident.pk)
    entries = list(incident.entries.select_related("by").order_by("at", "id"))
    for entry in entries:
        entry.lines = _entry_lines(entry)
    now = timezone.now()
    invalid = (step_form is not None and step_form.errors) or correction.errors
    return render(
        request,
        "web/incidents/detail.html",
        {
            "incident": incident,
            "entries": entries,
            "next_step": next_step,
            "step_form": step_form,
            "correction": correction,
            "correction_open": posted == "correct",
            "preliminary_late": incident.preliminary_overdue(now),
            "final_late": incident.final_overdue(now),
        },
        status=400 if invalid else 200,
    )
