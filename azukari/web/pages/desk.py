"""The operator desk: a call arrives or a number is typed, the customer pops, the call is
logged, and the case is resolved on the call or parked as azukari.

Thin views over the services: the rules (who may log, which transitions are legal, when a
callback may be promised) live in azukari.cases.services and are only called here.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from azukari.api.selectors import current_subscriptions, customer_card, load_cards
from azukari.audit.masking import mask_address, mask_postcode
from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases import selectors as case_selectors
from azukari.cases.models import (
    AzukariReason,
    CallerRelation,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Contact,
    IdentityCheck,
    Stance,
)
from azukari.cases.services import (
    case_open,
    case_park,
    case_resolve,
    contact_log,
    contact_wrap_up,
)
from azukari.core.compiled import CompiledQuery
from azukari.core.errors import DomainError, NotVisible, StaleVersion
from azukari.core.phones import mask_phone
from azukari.customers.models import Customer
from azukari.customers.search import customer_search
from azukari.org.models import SiteHours, SiteStatus, Team
from azukari.reports.models import AfterCallWorkCode, ReasonCode
from azukari.reports.services import contact_code
from azukari.subscriptions.models import CancellationStatus, Subscription
from azukari.subscriptions.selectors import cancellation_desk
from azukari.web.forms import PageForm

SEARCH_LIMIT = 20
# A PBX contact older than this that never ended is a lost event, not a call in progress.
INCOMING_WINDOW = dt.timedelta(hours=2)
POP_FIELDS = (
    "name",
    "name_kana",
    "customer_number",
    "phones_masked",
    "address_masked",
    "subscriptions",
    "contacts",
    "preferences",
    "harassment_flag",
)


def require_desk_user(request: HttpRequest) -> None:
    """The desk is for center staff; a client approver has nothing to answer here."""
    if not request.user.is_center_staff:
        raise PermissionDenied


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Puts a service's refusal next to the field it names, in the user's language."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


# ---------------------------------------------------------------- forms


class SearchForm(PageForm):
    q = forms.CharField(
        label=_("Name (kanji or kana), customer number or phone"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


@dataclass(frozen=True)
class ContactCodes:
    """The client's active reason and after-call-work codes, offered on the contact form."""

    reasons: list[ReasonCode]
    acw: list[AfterCallWorkCode]

    @classmethod
    def of(cls, client_id: int) -> "ContactCodes":
        return cls(_REASON_CODES(client_id), _ACW_CODES(client_id))

    def picked(self, data: dict[str, Any]) -> tuple[ReasonCode | None, AfterCallWorkCode | None]:
        reason = next((c for c in self.reasons if c.pk == data.get("reason_code")), None)
        acw = next((c for c in self.acw if c.pk == data.get("acw_code")), None)
        return reason, acw


# Read on every screen pop: compiled once.
_REASON_CODES = CompiledQuery[ReasonCode](
    lambda client_id: ReasonCode.objects.filter(client_id=client_id, is_active=True)
)
_ACW_CODES = CompiledQuery[AfterCallWorkCode](
    lambda client_id: AfterCallWorkCode.objects.filter(client_id=client_id, is_active=True)
)


def _code_label(code: ReasonCode | AfterCallWorkCode) -> str:
    english = get_language() == "en" and code.label_en
    return f"{code.code} · {code.label_en if english else code.label}"


class ContactForm(PageForm):
    """What the operator records about the call, and the case it opens if any."""

    # The first thing asked once the customer pops, so the keyboard starts here.
    caller_relation = forms.ChoiceField(
        label=_("Who called"),
        choices=CallerRelation.choices,
        widget=forms.Select(attrs={"autofocus": True}),
    )
    identity_check = forms.ChoiceField(
        label=_("Identity check (本人確認)"), choices=IdentityCheck.choices
    )
    identity_method = forms.CharField(
        label=_("How identity was checked"), max_length=100, required=False
    )
    reason = forms.CharField(label=_("Reason for the call"), max_length=100, required=False)
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    stance = forms.ChoiceField(
        label=_("Customer's stance at the end"),
        choices=[("", "—"), *Stance.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("Open a case"),
        choices=[("", _("No case: log the contact only")), *CaseKind.choices],
        required=False,
    )
    subject = forms.CharField(label=_("Case subject"), max_length=200, required=False)
    subscription = forms.TypedChoiceField(
        label=_("Subscription concerned"), coerce=int, required=False, empty_value=None
    )
    reason_code = forms.TypedChoiceField(
        label=_("Reason code"), coerce=int, required=False, empty_value=None
    )
    acw_code = forms.TypedChoiceField(
        label=_("After-call work code"), coerce=int, required=False, empty_value=None
    )
    contact = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        subscriptions: list[Subscription],
        codes: ContactCodes | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].choices = [("", "—")] + [
            (s.pk, f"{s.external_id} · {s.plan.name}") for s in subscriptions
        ]
        self.codes = codes or ContactCodes([], [])
        for name, listed in (("reason_code", self.codes.reasons), ("acw_code", self.codes.acw)):
            self.fields[name].choices = [("", "—")] + [(c.pk, _code_label(c)) for c in listed]
        # A client with a list of reasons has every contact coded from it.
        self.fields["reason_code"].required = bool(self.codes.reasons)
        if not self.codes.acw:
            del self.fields["acw_code"]
        if not self.codes.reasons:
            del self.fields["reason_code"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") and not (data.get("subject") or "").strip():
            self.add_error("subject", _("Say in a few words what the customer wants."))
        return data


class VersionedForm(PageForm):
    """Carries the version the page showed and the last event seen, for stale writes."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    seen_event = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ResolveForm(VersionedForm):
    prefix = "resolve"  # two forms on one page: ids and names must not collide
    outcome = forms.CharField(
        label=_("Outcome told to the customer"), widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(label=_("Internal note"), required=False, max_length=1000)


class ParkForm(VersionedForm):
    prefix = "park"
    reason = forms.ChoiceField(label=_("Azukari reason"), choices=AzukariReason.choices)
    team = forms.ModelChoiceField(label=_("Owning team"), queryset=Team.objects.none())
    promised_callback_at = forms.DateTimeField(
        label=_("Callback promised for"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    due_at = forms.DateTimeField(
        label=_("Due by"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(
        label=_("What the customer was told"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = (
            Team.objects.filter(clients=case.client_id)
            .exclude(site__status=SiteStatus.DOWN)
            .select_related("site")
            .order_by("-is_azukari_desk", "site__code", "code")
        )


# ---------------------------------------------------------------- reads


def incoming_contact(user) -> Contact | None:
    """The operator's newest call still ringing or in progress, as the PBX reported it."""
    since = timezone.now() - INCOMING_WINDOW
    return (
        Contact.objects.visible_to(user)
        .filter(handler=user, ended_at__isnull=True, started_at__gte=since)
        .exclude(pbx_call_id=None)
        .order_by("-started_at", "-id")
        .first()
    )


def _visible_contact(user, contact_id: Any) -> Contact | None:
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        return None
    return Contact.objects.visible_to(user).filter(pk=pk, handler=user).first()


def _pop_customer(user, customer_id: int, *, card: bool = True) -> Customer:
    """The customer with the whole card, or (`card=False`, for saving a log that then
    redirects) with only the subscriptions the form offers."""
    if not card:
        customer = (
            Customer.objects.visible_to(user)
            .filter(pk=customer_id)
            .select_related("client")
            .prefetch_related(current_subscriptions())
            .first()
        )
    else:
        customer = _VISIBLE_CUSTOMER.first(user, customer_id)
    if customer is None:
        raise Http404
    return load_cards([customer])[0] if card else customer


_VISIBLE_CUSTOMER = CompiledQuery[Customer](
    lambda viewer, pk: Customer.objects.visible_to(viewer).filter(pk=pk).select_related("client")
)


def _card(customer: Customer) -> dict[str, Any]:
    """The API's screen-pop card, with phones and address masked for the screen."""
    card = customer_card(customer)
    card["phones"] = [{**p, "display": mask_phone(p["number"])} for p in card["phones"]]
    card["address"] = mask_address(customer.address)
    card["postcode"] = mask_postcode(customer.postcode)
    weekdays = dict(SiteHours.Weekday.choices)
    card["days_off_names"] = [str(weekdays[d]) for d in customer.days_off if d in weekdays]
    return card


# ---------------------------------------------------------------- views


@require_GET
@login_required
def desk(request: HttpRequest) -> HttpResponse:
    """Search, and the incoming call (polled by htmx: `?part=incoming` gives the partial)."""
    require_desk_user(request)
    if request.GET.get("part") == "incoming":
        return render(
            request, "web/desk/_incoming.html", {"incoming": incoming_contact(request.user)}
        )
    form = SearchForm(request.GET or None)
    results: list[Customer] = []
    query = ""
    from_call = _visible_contact(request.user, request.GET.get("contact"))
    if from_call is not None and from_call.caller_number:
        query = from_call.caller_number
    elif form.is_valid():
        query = form.cleaned_data["q"]
    if query:
        results = list(
            customer_search(viewer=request.user, query=query, limit=SEARCH_LIMIT)
            .select_related("client")
            .prefetch_related("phones")
        )
        personal_data_access(
            viewer=request.user,
            customers=results,
            fields=("name", "name_kana", "customer_number"),
            action=AccessAction.SEARCH,
            purpose="desk search",
            request=request,
            object_type="desk_search",
        )
    return render(
        request,
        "web/desk/desk.html",
        {
            "form": form,
            "results": results,
            "searched": bool(query),
            "from_call": from_call,
            "incoming": incoming_contact(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def pop(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The screen pop, and the contact log: one transaction logs the call and opens a case."""
    require_desk_user(request)
    posted = request.method == "POST"
    customer = _pop_customer(request.user, customer_id, card=not posted)
    subscriptions = customer.current_subscriptions
    initial = {"contact": request.GET.get("contact")}
    form = ContactForm(
        request.POST or None,
        initial=initial,
        subscriptions=subscriptions,
        codes=ContactCodes.of(customer.client_id),
    )
    if request.method == "POST" and form.is_valid():
        case = _log_contact(request, customer, form)
        if case is not None:
            return redirect("desk-case", case_id=case.pk)
        if not form.errors:
            return redirect("desk")
    if posted:  # shown again with its errors: the whole card
        customer = _pop_customer(request.user, customer_id)
    personal_data_access(
        viewer=request.user,
        customers=[customer],
        fields=POP_FIELDS,
        action=AccessAction.SCREEN_POP,
        purpose="desk screen pop",
        request=request,
        object_type="customer",
        object_ref=str(customer.pk),
    )
    return render(
        request,
        "web/desk/pop.html",
        {"customer": customer, "card": _card(customer), "form": form},
        status=400 if form.errors else 200,
    )


def _log_contact(request: HttpRequest, customer: Customer, form: ContactForm) -> Case | None:
    data = form.cleaned_data
    subscription = next(
        (s for s in customer.current_subscriptions if s.pk == data.get("subscription")), None
    )
    pbx = _visible_contact(request.user, data.get("contact"))
    now = timezone.now()
    try:
        with transaction.atomic():
            record = {
                "customer": customer,
                "caller_relation": data["caller_relation"],
                "identity_check": data["identity_check"],
                "identity_method": data["identity_method"],
                "reason": data["reason"],
                "summary": data["summary"],
                "stance": data["stance"],
            }
            if pbx is not None:  # the call the PBX announced: one call, one contact
                contact = contact_wrap_up(actor=request.user, contact=pbx, **record)
            else:  # typed in by hand: the log is the whole record, ended when saved
                contact = contact_log(
                    actor=request.user,
                    client=customer.client,
                    started_at=now,
                    ended_at=now,
                    **record,
                )
            reason_code, acw_code = form.codes.picked(data)
            if reason_code is not None:
                contact_code(
                    actor=request.user, contact=contact, reason_code=reason_code, acw_code=acw_code
                )
            if not data["kind"]:
                return None
            return case_open(
                contact=contact,
                actor=request.user,
                kind=data["kind"],
                subject=data["subject"],
                subscription=subscription,
                note=data["summary"],
            )
    except NotVisible as exc:
        raise Http404 from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
        return None


def _case_for(request: HttpRequest, case_id: int) -> Case:
    try:
        return case_selectors.case_detail(viewer=request.user, case_id=case_id)
    except NotVisible as exc:
        raise Http404 from exc


def _rebased(data: QueryDict, case: Case, prefix: str) -> QueryDict:
    """What the user typed, now against the current version (shown after a stale write)."""
    data = data.copy()
    data[f"{prefix}-version"] = str(case.version)
    last = case.events.all().order_by("-id").first()
    data[f"{prefix}-seen_event"] = str(last.pk if last else 0)
    return data


@require_http_methods(["GET", "POST"])
@login_required
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """Resolve on the call or park as azukari; a cancellation shows its terms and options."""
    require_desk_user(request)
    case = _case_for(request, case_id)
    events = list(case.events.all())
    stamp = {"version": case.version, "seen_event": events[-1].pk if events else 0}
    action = request.POST.get("action") if request.method == "POST" else None
    resolve_form = ResolveForm(request.POST if action == "resolve" else None, initial=stamp)
    park_form = ParkForm(request.POST if action == "park" else None, initial=stamp, case=case)
    changes: list[CaseEvent] = []
    form = {"resolve": resolve_form, "park": park_form}.get(action or "")
    if form is not None and form.is_valid():
        try:
            _act(request, case, action, form.cleaned_data)
            return redirect("desk-case", case_id=case.pk)
        except StaleVersion as exc:
            apply_domain_error(form, exc)
            seen = form.cleaned_data.get("seen_event") or 0
            case = _case_for(request, case_id)
            changes = [e for e in case.events.all() if e.pk > seen]
            rebased = _rebased(request.POST, case, form.prefix)
            form = ResolveForm(rebased) if action == "resolve" else ParkForm(rebased, case=case)
            form.is_valid()
            form.add_error(None, str(exc.message))
            resolve_form, park_form = (
                (form, ResolveForm(initial=stamp))
                if action == "resolve"
                else (ResolveForm(initial=stamp), form)
            )
        except NotVisible as exc:
            raise Http404 from exc
        except DomainError as exc:
            apply_domain_error(form, exc)
    personal_data_access(
        viewer=request.user,
        customers=[case.customer],
        fields=("name", "name_kana", "customer_number"),
        action=AccessAction.VIEW,
        purpose=f"case:{case.pk}",
        request=request,
        object_type="case",
        object_ref=str(case.pk),
    )
    cancellation = (
        case.cancellation_requests.select_related("subscription")
        .exclude(status=CancellationStatus.WITHDRAWN)
        .order_by("-pk")
        .first()
        if case.kind == CaseKind.CANCELLATION
        else None
    )
    options = None
    if cancellation is not None and cancellation.is_open:
        try:
            options = cancellation_desk(
                viewer=request.user, request_id=cancellation.pk, language=request.user.language
            )
        except DomainError:
            options = None
    return render(
        request,
        "web/desk/case.html",
        {
            "case": case,
            "resolve_form": resolve_form,
            "park_form": park_form,
            "changes": changes,
            "cancellation": cancellation,
            "cancellation_desk": options,
            "terms": (case.subscription.terms_snapshot or {}) if case.subscription else {},
            "is_open": case.state == CaseState.OPEN,
            "can_resolve": case.state not in (CaseState.RESOLVED, CaseState.CLOSED),
        },
        status=409 if changes else (400 if form is not None and form.errors else 200),
    )


def _act(request: HttpRequest, case: Case, action: str, data: dict[str, Any]) -> None:
    if action == "resolve":
        case_resolve(
            case=case,
            version=data["version"],
            actor=request.user,
            outcome=data["outcome"],
            note=data["note"],
        )
    else:
        case_park(
            case=case,
            version=data["version"],
            actor=request.user,
            reason=data["reason"],
            team=data["team"],
            state=CaseState.CALLBACK_DUE if data["promised_callback_at"] else CaseState.AZUKARI,
            promised_callback_at=data["promised_callback_at"],
            due_at=data["due_at"],
            note=data["note"],
        )
