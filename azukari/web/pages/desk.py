"""The operator desk: a call arrives or a number is typed, the customer pops, the call is
logged, and the case is resolved on the call or parked as azukari.

Thin views over the services: the rules (who may log, which transitions are legal, when a
callback may be promised) live in azukari.cases.services and are only called here.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import (
    condition,
    require_GET,
    require_http_methods,
    require_POST,
)

from azukari.audit.masking import mask_address, mask_birth_date, mask_postcode
from azukari.audit.models import AccessAction
from azukari.audit.services import named_staff_request_record, personal_data_access
from azukari.cases import selectors as case_selectors
from azukari.cases.models import (
    CallerRelation,
    Case,
    CaseKind,
    Contact,
    IdentityCheck,
    Stance,
)
from azukari.cases.overdue import inquiry_is_overdue
from azukari.cases.services import (
    case_contact_add,
    case_open,
    contact_log,
    contact_wrap_up,
)
from azukari.core.compiled import CompiledQuery
from azukari.core.dbrouting import primary_reads
from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import mask_phone
from azukari.customers.models import Customer
from azukari.customers.search import customer_search
from azukari.customers.selectors import current_subscriptions, customer_card, load_cards
from azukari.org.models import SiteHours
from azukari.org.people import staff_label
from azukari.org.permissions import Cap, page_for
from azukari.reports.models import AfterCallWorkCode, ReasonCode
from azukari.reports.services import contact_code
from azukari.subscriptions.models import Subscription
from azukari.subscriptions.selectors import DeskOption, subscription_options
from azukari.subscriptions.services import cancellation_request_record
from azukari.web.forms import NamedStaffForm, PageForm, apply_domain_error
from azukari.web.incoming import (
    POLL_SECONDS,
    full_check_every,
    incoming_call,
    incoming_tag,
    ticket_for,
)

SEARCH_LIMIT = 20
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
    identity_check = forms.ChoiceField(label=_("Identity check"), choices=IdentityCheck.choices)
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


# ---------------------------------------------------------------- reads


def _visible_contact(user, contact_id: Any) -> Contact | None:
    try:
        pk = int(contact_id)
    except (TypeError, ValueError):
        return None
    return Contact.objects.visible_to(user).filter(pk=pk, handler=user).first()


def _pop_customer(user, customer_id: int, *, card: bool = True) -> Customer:
    """The customer with the whole card, or (`card=False`, for saving a log that then
    redirects) with only the subscriptions the form offers."""
    customer = _VISIBLE_CUSTOMER.first(user, customer_id)
    if customer is None:
        raise Http404
    if card:
        return load_cards([customer])[0]
    customer.current_subscriptions = _CURRENT_SUBSCRIPTIONS(customer.pk)
    return customer


_VISIBLE_CUSTOMER = CompiledQuery[Customer](
    lambda viewer, pk: Customer.objects.visible_to(viewer).filter(pk=pk).select_related("client")
)
# What `current_subscriptions()` prefetches, for the customer read just above.
_CURRENT_SUBSCRIPTIONS = CompiledQuery[Subscription](
    lambda customer_id: current_subscriptions().queryset.filter(customer_id=customer_id)
)


def _card(customer: Customer, viewer) -> dict[str, Any]:
    """The API's screen-pop card, with phones and address masked for the screen and staff of
    other sites named by site and role."""
    card = customer_card(customer)
    card["recent_contacts"] = [
        {**row, "handler": staff_label(viewer, contact.handler)}
        for row, contact in zip(card["recent_contacts"], customer.recent_contacts, strict=True)
    ]
    card["phones"] = [{**p, "display": mask_phone(p["number"])} for p in card["phones"]]
    card["address"] = mask_address(customer.address)
    card["postcode"] = mask_postcode(customer.postcode)
    card["birth_date"] = mask_birth_date(customer.birth_date)
    weekdays = dict(SiteHours.Weekday.choices)
    card["days_off_names"] = [str(weekdays[d]) for d in customer.days_off if d in weekdays]
    return card


# ---------------------------------------------------------------- views


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES)
def desk(request: HttpRequest) -> HttpResponse:
    """Search, and the incoming call (the panel asks `desk_incoming`; `?part=incoming` still
    answers a desk page loaded before it did)."""
    incoming = incoming_call(request.user)
    if request.GET.get("part") == "incoming":
        return render(request, "web/desk/_incoming.html", {"incoming": incoming})
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
            "incoming": incoming,
            "incoming_tag": incoming_tag(incoming, get_language()),
            "incoming_ticket": ticket_for(request.user),
            "incoming_poll_s": POLL_SECONDS,
            "incoming_full_every": full_check_every(),
        },
    )


def _incoming_tag(request: HttpRequest) -> str:
    request.incoming = incoming_call(request.user)
    return incoming_tag(request.incoming, get_language())


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES)
@condition(etag_func=_incoming_tag)
def desk_incoming(request: HttpRequest) -> HttpResponse:
    """The incoming-call panel. The idle desk asks every few seconds with the tag of the panel
    it shows (`If-None-Match`); while nothing changed the answer is a 304 without a body,
    most often from `azukari.web.incoming.IncomingCheck` before the request gets here."""
    return render(request, "web/desk/_incoming.html", {"incoming": request.incoming})


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
@primary_reads()
def pop(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The screen pop, and the contact log: one transaction logs the call and opens a case,
    adds it to an open case (継続対応), or records the customer's cancellation request."""
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
    open_cases = case_selectors.open_cases_of(viewer=request.user, customer_id=customer.pk)
    if request.method == "POST" and form.is_valid():
        case = _log_contact(request, customer, form, open_cases)
        if case is not None:
            return redirect("desk-case", case_id=case.pk)
        if not form.errors:
            messages.success(request, _("The contact was logged."))
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
        {
            "customer": customer,
            "card": _card(customer, request.user),
            "form": form,
            "open_cases": open_cases,
            "overdue_inquiries": {
                i.pk
                for c in open_cases
                for i in c.open_inquiries
                if inquiry_is_overdue(i, now=timezone.now())
            },
            "offers": _offers(request, customer),
        },
        status=400 if form.errors else 200,
    )


@dataclass(frozen=True)
class Offer:
    """A subscription under its commitment and the options the engine gives it today."""

    subscription: Subscription
    standard: list[DeskOption]
    exceptions: list[DeskOption]


def _offers(request: HttpRequest, customer: Customer) -> list[Offer]:
    """Options on the first screen, so the operator reads them before anything is typed."""
    offers = []
    for subscription in customer.current_subscriptions:
        if subscription.deliveries_made >= subscription.plan.min_deliveries:
            continue
        try:
            options = subscription_options(
                subscription=subscription, language=request.user.language
            )
        except DomainError:  # no policy in force: the case page says why
            continue
        offers.append(
            Offer(
                subscription,
                [o for o in options if not o.is_exception],
                [o for o in options if o.is_exception],
            )
        )
    return offers


def _log_contact(
    request: HttpRequest, customer: Customer, form: ContactForm, open_cases: list[Case]
) -> Case | None:
    data = form.cleaned_data
    on_case = _picked(request.POST.get("on_case"), open_cases)
    to_cancel = _picked(request.POST.get("record_request"), customer.current_subscriptions)
    kind, subject = data["kind"], data["subject"]
    subscription = next(
        (s for s in customer.current_subscriptions if s.pk == data.get("subscription")), None
    )
    if to_cancel is not None:  # one step: the case and the request, dated today
        kind, subscription = CaseKind.CANCELLATION, to_cancel
        subject = subject or str(_("The customer asks to cancel"))
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
            if on_case is not None:
                case = case_contact_add(case=on_case, contact=contact, actor=request.user)
                messages.success(
                    request,
                    _("The call was added to case #%(id)d.") % {"id": case.pk},
                )
                return case
            if not kind:
                return None
            case = case_open(
                contact=contact,
                actor=request.user,
                kind=kind,
                subject=subject,
                subscription=subscription,
                note=data["summary"],
            )
            if to_cancel is not None:
                cancellation_request_record(actor=request.user, case=case, subscription=to_cancel)
                messages.success(request, _("The cancellation request is recorded, dated today."))
            else:
                messages.success(request, _("Case #%(id)d is open.") % {"id": case.pk})
            return case
    except NotVisible as exc:
        raise Http404 from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
        return None


def _picked(value: str | None, among: list) -> Any:
    """The object whose id a submit button carried, if it is one the page offered."""
    try:
        pk = int(value or "")
    except ValueError:
        return None
    return next((o for o in among if o.pk == pk), None)


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def pop_named_staff(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One click on the pop: the caller asked for a staff member by name. Nothing about staff
    is shown; the request is counted per client and site."""
    customer = _pop_customer(request.user, customer_id, card=False)
    form = NamedStaffForm(request.POST)
    if form.is_valid():
        named_staff_request_record(
            operator=request.user,
            client=customer.client,
            contact=_visible_contact(request.user, request.POST.get("contact")),
            note=form.cleaned_data["note"],
            request=request,
        )
        messages.success(
            request, _("Recorded: the caller asked for a staff member by name. Say no names.")
        )
    return redirect("desk-pop", customer_id=customer.pk)
