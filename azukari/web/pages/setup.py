"""Setting up a client, for managers: the set-up checklist with a link to fix each missing
item, going live, staff from a file, and a policy file previewed before it is put in force."""

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import display_phone
from azukari.org.calendars import client_closed_day_add, client_closed_day_remove
from azukari.org.checklist import checklist_missing, client_checklist, client_go_live
from azukari.org.models import Client, ClientClosedDay, ClientLine, User
from azukari.org.permissions import Cap, page_for
from azukari.org.setup import client_line_add, client_line_remove, client_update
from azukari.org.staff_import import StaffImportRefused, staff_import
from azukari.reports.models import ReasonCode
from azukari.reports.services import reason_code_create
from azukari.subscriptions.models import Plan, Subscription
from azukari.subscriptions.policy_preview import policy_preview, policy_put_in_force
from azukari.subscriptions.services import PolicyInvalid, plan_create, policy_file_read
from azukari.web.forms import PageForm, apply_domain_error

POLICY_SALT = "azukari.setup.policy"
MAX_UPLOAD = 5 * 1024 * 1024

T = TypeVar("T")


def _client(user: User, code: str) -> Client:
    client = Client.objects.visible_to(user).filter(code=code).first()
    if client is None:
        raise Http404
    return client


def _uploaded(upload, suffix_default: str = ".csv") -> Path:
    """The upload in a temporary file, named with its own suffix (the readers go by it)."""
    suffix = Path(upload.name).suffix.lower() or suffix_default
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return Path(out.name)


def _fix_links(client: Client) -> dict[str, str]:
    """Where each missing item is put right, on the manager's own pages."""
    contact = reverse("setup-client-contact", args=[client.code])
    staff_page = reverse("setup-staff-import")
    return {
        "lines": reverse("setup-lines", args=[client.code]),
        "plans": reverse("setup-plan-new", args=[client.code]),
        "policy": reverse("setup-policy", args=[client.code]),
        "calendar": reverse("setup-calendar", args=[client.code]),
        "approver": contact if client.contract_signed_on is None else staff_page,
        "escalation": contact,
        "reasons": reverse("setup-reasons", args=[client.code]),
        "operators": staff_page,
    }


def _refused(form: forms.Form, exc: DomainError, fields: dict[str, str] | None = None) -> None:
    """A refusal of the service, shown at the field it names (`fields`: the service's name
    for a field the form calls otherwise); a client not served is 404."""
    if isinstance(exc, NotVisible):
        raise exc
    apply_domain_error(form, exc, fields)


def _posted(
    request: HttpRequest,
    form: forms.Form,
    act: Callable[[dict], T],
    fields: dict[str, str] | None = None,
) -> T | None:
    """What the service made of the posted form; None on a GET, a form with errors, or a
    refusal of the service (then shown at the field it names, see `_refused`)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return act(form.cleaned_data)
    except DomainError as exc:
        _refused(form, exc, fields)
        return None


def _remove_row(
    request: HttpRequest,
    client: Client,
    model: type[models.Model],
    key: str,
    *,
    remove: Callable[[Any], object],
    done: Callable[[Any], str],
    back: str,
) -> HttpResponse:
    """One of the client's rows (its id posted as `key`) removed through `remove`, which says
    why when it may not; another client's row is as missing as no row."""
    raw = str(request.POST.get(key, ""))
    if not raw.isdigit():
        return HttpResponseBadRequest()
    row = model.objects.filter(client=client, pk=raw).first()
    if row is None:
        raise Http404
    try:
        remove(row)
    except DomainError as exc:
        if isinstance(exc, NotVisible):
            raise
        messages.error(request, str(exc))
    else:
        messages.success(request, done(row))
    return redirect(back, client.code)


@require_http_methods(["GET"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def clients(request: HttpRequest) -> HttpResponse:
    """Every client the manager serves, live or still being set up."""
    rows = []
    for client in Client.objects.visible_to(request.user).order_by("went_live_on", "code"):
        missing = checklist_missing(client_checklist(client=client))
        rows.append({"client": client, "missing": len(missing)})
    return render(request, "web/setup/clients.html", {"rows": rows})


@require_http_methods(["GET"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def checklist(request: HttpRequest, client_code: str) -> HttpResponse:
    client = _client(request.user, client_code)
    items = client_checklist(client=client)
    links = _fix_links(client)
    return render(
        request,
        "web/setup/checklist.html",
        {
            "client": client,
            "items": [{"item": item, "fix": links.get(item.code, "")} for item in items],
            "missing": checklist_missing(items),
            "upload_url": reverse("admin:dataio_upload") + f"?client={client.pk}",
        },
    )


@require_POST
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def go_live(request: HttpRequest, client_code: str) -> HttpResponse:
    client = _client(request.user, client_code)
    try:
        client = client_go_live(actor=request.user, client=client)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            gettext("%(client)s is live: its calls are taken from today.")
            % {"client": client.name},
        )
    return redirect("setup-checklist", client.code)


# ---------------------------------------------------------------- the client's own items


class ClientContactForm(PageForm):
    escalation_email = forms.CharField(
        label=_("Escalation contact (e-mail)"),
        max_length=254,
        widget=forms.EmailInput,
        help_text=_("Overdue inquiries are escalated to this address."),
    )
    contract_signed_on = forms.DateField(
        label=_("Contract signed on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The date of the company's contract with the center; empty if not signed."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def client_contact(request: HttpRequest, client_code: str) -> HttpResponse:
    """The escalation contact and the contract on record, through `client_update`."""
    client = _client(request.user, client_code)
    form = ClientContactForm(
        request.POST or None,
        initial={
            "escalation_email": client.escalation_email,
            "contract_signed_on": client.contract_signed_on,
        },
    )
    if _posted(
        request, form, lambda data: client_update(actor=request.user, client=client, **data)
    ):
        messages.success(
            request,
            gettext("The escalation contact and contract of %(client)s are saved.")
            % {"client": client.name},
        )
        return redirect("setup-checklist", client.code)
    return render(request, "web/setup/client_contact.html", {"client": client, "form": form})


def _plan_label(field: str):
    return Plan._meta.get_field(field).verbose_name


class PlanForm(PageForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The plan's code in the client's systems: letters, digits, - and _."),
    )
    name = forms.CharField(label=_plan_label("name"), max_length=200)
    price_yen = forms.IntegerField(label=_plan_label("price_yen"))
    interval_days = forms.IntegerField(label=_plan_label("interval_days"), initial=30)
    min_deliveries = forms.IntegerField(
        label=_("Required number of deliveries"),
        initial=0,
        help_text=_("How many deliveries the customer agreed to take; 0 if none."),
    )
    device_list_price_yen = forms.IntegerField(
        label=_plan_label("device_list_price_yen"), initial=0
    )
    device_price_paid_yen = forms.IntegerField(
        label=_plan_label("device_price_paid_yen"), initial=0
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def plan_new(request: HttpRequest, client_code: str) -> HttpResponse:
    """A plan of the client, through `plan_create` (the admin's plan page calls it too)."""
    client = _client(request.user, client_code)
    form = PlanForm(request.POST or None)
    plan = _posted(
        request, form, lambda data: plan_create(actor=request.user, client=client, **data)
    )
    if plan:
        messages.success(
            request,
            gettext("Plan “%(plan)s” added to %(client)s.")
            % {"plan": plan.name, "client": client.name},
        )
        return redirect("setup-checklist", client.code)
    plans = Plan.objects.filter(client=client).order_by("code")
    return render(
        request, "web/setup/plan_new.html", {"client": client, "form": form, "plans": plans}
    )


class ReasonCodeForm(PageForm):
    code = forms.CharField(
        label=_("Code"), max_length=32, help_text=_("Letters, digits, - and _; never changed.")
    )
    label = forms.CharField(label=_("Label (Japanese)"), max_length=100)
    label_en = forms.CharField(label=_("Label (English)"), max_length=100, required=False)


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def reasons(request: HttpRequest, client_code: str) -> HttpResponse:
    """The client's contact reason codes, and one more through `reason_code_create`."""
    client = _client(request.user, client_code)
    codes = ReasonCode.objects.filter(client=client)
    form = ReasonCodeForm(request.POST or None)
    code = _posted(
        request,
        form,
        lambda data: reason_code_create(
            actor=request.user, client=client, position=codes.count(), **data
        ),
    )
    if code:
        messages.success(
            request,
            gettext("Reason code “%(code)s” (%(label)s) added.")
            % {"code": code.code, "label": code.label},
        )
        return redirect("setup-reasons", client.code)
    return render(
        request,
        "web/setup/reasons.html",
        {"client": client, "form": form, "codes": codes.order_by("position", "code")},
    )


class ClientLineForm(PageForm):
    number = forms.CharField(
        label=_("Dialled number"),
        max_length=32,
        help_text=_("As customers dial it, e.g. 0120-555-666; it is kept as +81120555666."),
    )
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        required=False,
        help_text=_("What the line is for, e.g. cancellations; optional."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def lines(request: HttpRequest, client_code: str) -> HttpResponse:
    """The numbers customers dial for the client, and one more through `client_line_add`."""
    client = _client(request.user, client_code)
    form = ClientLineForm(request.POST or None)
    line = _posted(
        request,
        form,
        lambda data: client_line_add(actor=request.user, client=client, **data),
        {"lines": "number"},
    )
    if line:
        messages.success(
            request,
            gettext("%(number)s is now a line of %(client)s: its calls pop this client.")
            % {"number": display_phone(line.number), "client": client.name},
        )
        return redirect("setup-lines", client.code)
    rows = [
        {"line": line, "national": display_phone(line.number)}
        for line in ClientLine.objects.filter(client=client).order_by("number")
    ]
    return render(request, "web/setup/lines.html", {"client": client, "form": form, "rows": rows})


@require_POST
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def line_remove(request: HttpRequest, client_code: str) -> HttpResponse:
    """One line off the client, through `client_line_remove`, which says why when it may not."""
    client = _client(request.user, client_code)
    return _remove_row(
        request,
        client,
        ClientLine,
        "line",
        remove=lambda line: client_line_remove(actor=request.user, line=line),
        done=lambda line: (
            gettext("%(number)s is no longer a line of %(client)s.")
            % {"number": display_phone(line.number), "client": client.name}
        ),
        back="setup-lines",
    )


class ClosedDayForm(PageForm):
    date = forms.DateField(
        label=_("Closed day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("Why the client is closed, e.g. stock-taking; optional."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CALENDARS_EDIT)
def calendar(request: HttpRequest, client_code: str) -> HttpResponse:
    """The client's closed days, and one more through `client_closed_day_add`: the calendar
    service every clock and callback proposal reads."""
    client = _client(request.user, client_code)
    form = ClosedDayForm(request.POST or None)
    day = _posted(
        request, form, lambda data: client_closed_day_add(actor=request.user, client=client, **data)
    )
    if day:
        messages.success(
            request,
            gettext("%(date)s is now a closed day of %(client)s: its clocks stop that day.")
            % {"date": day.date.isoformat(), "client": client.name},
        )
        return redirect("setup-calendar", client.code)
    today = timezone.localdate()
    days = ClientClosedDay.objects.filter(client=client)
    return render(
        request,
        "web/setup/calendar.html",
        {
            "client": client,
            "form": form,
            "upcoming": days.filter(date__gte=today).order_by("date"),
            "past": days.filter(date__lt=today).order_by("-date")[:10],
        },
    )


@require_POST
@login_required
@page_for(Cap.CALENDARS_EDIT)
def closed_day_remove(request: HttpRequest, client_code: str) -> HttpResponse:
    """A closed day off the calendar, through `client_closed_day_remove` (past days stay)."""
    client = _client(request.user, client_code)
    return _remove_row(
        request,
        client,
        ClientClosedDay,
        "closed_day",
        remove=lambda day: client_closed_day_remove(actor=request.user, closed_day=day),
        done=lambda day: (
            gettext("%(date)s is no longer a closed day of %(client)s.")
            % {"date": day.date.isoformat(), "client": client.name}
        ),
        back="setup-calendar",
    )


# ---------------------------------------------------------------- staff from a file


class StaffFileForm(PageForm):
    file = forms.FileField(label=_("Staff file (CSV in UTF-8 or CP932, or .xlsx)"))


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.STAFF_MANAGE)
def staff_file(request: HttpRequest) -> HttpResponse:
    """The page of `azukari staff import`: the same service, all rows or none."""
    form = StaffFileForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            form.add_error("file", _("At most 5 MB."))
        else:
            path = _uploaded(upload)
            try:
                result = staff_import(actor=request.user, path=path)
            except StaffImportRefused as exc:
                errors = exc.errors
                form.add_error(None, str(exc))
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext(
                        "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                        "%(left)d marked as left."
                    )
                    % {
                        "created": len(result.created),
                        "updated": len(result.updated),
                        "unchanged": len(result.unchanged),
                        "left": len(result.left),
                    },
                )
                return redirect("setup-staff-import")
            finally:
                path.unlink(missing_ok=True)
    return render(request, "web/setup/staff_import.html", {"form": form, "errors": errors})


# ---------------------------------------------------------------- policies


class PolicyFileForm(PageForm):
    file = forms.FileField(label=_("Policy file (TOML)"))
    plan = forms.ModelChoiceField(
        label=_("Sample plan"), queryset=Plan.objects.none(), required=False
    )
    deliveries_made = forms.IntegerField(
        label=_("Deliveries received by the sample customer"), min_value=0, max_value=60, initial=2
    )
    subscription = forms.CharField(
        label=_("Or a real subscription (client's subscription id)"), required=False
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(client=client).order_by("code")
        self.fields["plan"].empty_label = _("The policy's plan, or the first plan")


def _policy_problems(exc: DomainError) -> list[str]:
    if isinstance(exc, PolicyInvalid):
        return [f"{field}: {message}" for field, message in exc.problems]
    return [str(exc)]


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def policy(request: HttpRequest, client_code: str) -> HttpResponse:
    """Upload → preview (the options for a sample) → put in force; nothing is kept before."""
    client = _client(request.user, client_code)
    form = PolicyFileForm(request.POST or None, request.FILES or None, client=client)
    context = {"client": client, "form": form, "problems": [], "preview": None}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        path = _uploaded(upload, ".toml")
        try:
            data = json.loads(json.dumps(policy_file_read(path), cls=DjangoJSONEncoder))
            sample = None
            if form.cleaned_data["subscription"]:
                sample = Subscription.objects.filter(
                    client=client, external_id=form.cleaned_data["subscription"].strip()
                ).first()
                if sample is None:
                    raise DomainError(_("No subscription has this id."), field="subscription")
            context["preview"] = policy_preview(
                actor=request.user,
                client=client,
                data=data,
                language=get_language() or "ja",
                plan=form.cleaned_data["plan"],
                deliveries_made=form.cleaned_data["deliveries_made"],
                subscription=sample,
            )
            context["payload"] = signing.dumps(
                {"client": client.pk, "data": data}, salt=POLICY_SALT, compress=True
            )
            context["filename"] = Path(upload.name).name
        except DomainError as exc:
            context["problems"] = _policy_problems(exc)
        finally:
            path.unlink(missing_ok=True)
    return render(request, "web/setup/policy.html", context)


@require_POST
@login_required
@page_for(Cap.CLIENTS_SET_UP)
def policy_confirm(request: HttpRequest, client_code: str) -> HttpResponse:
    client = _client(request.user, client_code)
    try:
        payload = signing.loads(request.POST.get("payload", ""), salt=POLICY_SALT, max_age=3600)
    except signing.BadSignature:
        messages.error(request, gettext("The preview has expired; upload the file again."))
        return redirect("setup-policy", client.code)
    if payload.get("client") != client.pk:
        raise Http404
    try:
        result = policy_put_in_force(actor=request.user, client=client, data=payload["data"])
    except DomainError as exc:
        for problem in _policy_problems(exc):
            messages.error(request, problem)
        return redirect("setup-policy", client.code)
    messages.success(
        request,
        gettext(
            "Policy “%(policy)s” is in force: %(added)d versions added, %(corrected)d "
            "corrected, %(unchanged)d unchanged."
        )
        % {
            "policy": result.policy.name,
            "added": len(result.created),
            "corrected": len(result.replaced),
            "unchanged": len(result.unchanged),
        },
    )
    return redirect("setup-checklist", client.code)
