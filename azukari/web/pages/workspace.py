"""The case workspace: the one page where a case is worked, whoever you are.

Operator on the call, azukari desk, SV or manager: the page shows the case's state, whose turn
it is and for how long, its owner, inquiry, promises and the customer's stance, and offers
the actions the person's role may take. Each action is a small form posted to this page and
handed to the service that owns the rule (`azukari.cases.services`); the page adds nothing
of its own but the words that say it worked.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases import selectors as case_selectors
from azukari.cases import services
from azukari.cases.clocks import case_calendar, live_clocks
from azukari.cases.models import (
    AZUKARI_STATES,
    AzukariReason,
    CallbackStatus,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    InquiryStatus,
)
from azukari.cases.overdue import case_is_overdue, inquiry_is_overdue
from azukari.cases.statemachine import CLOCK_OF_STATE
from azukari.core.businesstime import business_seconds
from azukari.core.errors import DomainError, StaleVersion
from azukari.org.models import User
from azukari.org.people import staff_label
from azukari.org.permissions import Cap, page_for, user_can
from azukari.subscriptions.models import CancellationRequest, CancellationStatus
from azukari.subscriptions.selectors import cancellation_desk, option_label
from azukari.subscriptions.services import cancellation_exception_ask
from azukari.web.forms import PageForm

SETTLED = frozenset({CaseState.RESOLVED, CaseState.CLOSED})
PARKED = frozenset(AZUKARI_STATES)
DATETIME_WIDGET = {"type": "datetime-local"}


def _when(label: Promise, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs=DATETIME_WIDGET, format="%Y-%m-%dT%H:%M"),
    )


def _note(label: Promise, *, required: bool = False, rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


# ---------------------------------------------------------------- forms


class CaseForm(PageForm):
    """A form about one case: the teams and people it may go to come from the case."""

    def __init__(self, *args: Any, case: Case, actor: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.case = case
        if "team" in self.fields:
            self.fields["team"].queryset = case_selectors.teams_for(case)
            # The team that holds the case, else the desk it would go to.
            team = case.owner_team or case_selectors.desk_team_for(case, actor)
            if team is not None and not self.is_bound:
                self.initial.setdefault("team", team.pk)
        if "assignee" in self.fields:
            self.fields["assignee"].queryset = case_selectors.assignees_for(case)
            # Names within the actor's site; other sites' staff by site and role.
            self.fields["assignee"].label_from_instance = lambda u: staff_label(actor, u)
            if not self.is_bound:
                self.initial.setdefault("assignee", case.assignee_id)


class VersionedForm(CaseForm):
    """Carries the version the page showed and the last event seen, for stale writes."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    seen_event = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ResolveForm(VersionedForm):
    prefix = "resolve"  # several forms on one page: ids and names must not collide
    outcome = _note(_("Outcome told to the customer"), required=True)
    note = forms.CharField(label=_("Internal note"), required=False, max_length=1000)


class ParkForm(VersionedForm):
    prefix = "park"
    reason = forms.ChoiceField(label=_("Azukari reason"), choices=AzukariReason.choices)
    team = forms.ModelChoiceField(label=_("Owning team"), queryset=None)
    promised_callback_at = _when(_("Callback promised for"))
    customer_requested = forms.BooleanField(
        label=_("The customer asked for this exact time"), required=False
    )
    due_at = _when(_("Due by"))
    note = _note(_("What the customer was told"))


class AssignForm(VersionedForm):
    prefix = "assign"
    team = forms.ModelChoiceField(label=_("Team"), queryset=None)
    assignee = forms.ModelChoiceField(label=_("Person"), queryset=None, required=False)
    note = forms.CharField(label=_("Why"), required=False, max_length=1000)


class NoteForm(CaseForm):
    prefix = "note"
    note = _note(_("Internal note"), required=True, rows=3)


class ResumeForm(VersionedForm):
    prefix = "resume"
    note = forms.CharField(label=_("What came back"), max_length=1000)


class WaitForm(VersionedForm):
    prefix = "wait"
    note = forms.CharField(label=_("What the customer must do"), max_length=1000)
    due_at = _when(_("Expected by"))


class PromiseForm(VersionedForm):
    prefix = "promise"
    promised_for = _when(_("Callback promised for"), required=True)
    customer_requested = forms.BooleanField(
        label=_("The customer asked for this exact time"), required=False
    )
    note = forms.CharField(label=_("What the customer was told"), required=False, max_length=1000)


class InquiryForm(VersionedForm):
    """A question to the client (伺い) about any case, with the options it may choose."""

    prefix = "inquiry"
    question = _note(_("Question to the client"), required=True, rows=3)
    options = forms.CharField(
        label=_("Options the client may choose (one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    due_at = _when(_("Answer due by (empty: the client's agreed time)"))
    team = forms.ModelChoiceField(label=_("Owning team"), queryset=None)

    def __init__(self, *args: Any, case: Case, actor: User, **kwargs: Any):
        super().__init__(*args, case=case, actor=actor, **kwargs)
        if case.state != CaseState.OPEN:
            del self.fields["team"]  # a parked case keeps its owner

    def clean_options(self) -> list[dict[str, str]]:
        lines = [line.strip() for line in self.cleaned_data["options"].splitlines()]
        labels = [line for line in lines if line]
        if not labels:
            raise forms.ValidationError(_("Propose at least one option."))
        return [{"code": f"option_{n}", "label": label} for n, label in enumerate(labels, 1)]


class ExceptionForm(CaseForm):
    """An exception on a ground the customer raised: the policy's approver decides (the
    client through an inquiry, an SV, or the operator on the call)."""

    prefix = "exception"
    ground = forms.ChoiceField(label=_("Ground the customer raised"))
    reason = _note(_("What the customer said about it"), required=True)

    def __init__(self, *args: Any, case: Case, actor: User, **kwargs: Any):
        super().__init__(*args, case=case, actor=actor, **kwargs)
        request = pending_cancellation(case)
        grounds = request.policy_version.grounds.all() if request else []
        self.fields["ground"].choices = [
            (g.code, option_label("exception:" + g.code, g.label)) for g in grounds
        ]


class CloseForm(VersionedForm):
    prefix = "close"
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class ReopenForm(VersionedForm):
    prefix = "reopen"
    note = forms.CharField(label=_("Why the case is reopened"), max_length=1000)
    team = forms.ModelChoiceField(label=_("Owning team"), queryset=None)


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    """One thing a person can do to a case from the page: in which states it is offered, to
    whom (a capability of the permission table), and the service call behind it."""

    form: type[CaseForm]
    states: frozenset[str]
    capability: Cap
    run: Callable[[Case, User, dict[str, Any]], object]
    done: Promise
    title: Promise
    button: Promise
    applies: Callable[[Case], bool] = lambda case: True


def _v(data: dict[str, Any]) -> int:
    return data["version"]


ACTIONS: dict[str, Action] = {
    "resolve": Action(
        ResolveForm,
        frozenset({CaseState.OPEN, *PARKED}),
        Cap.CASES_WORK,
        lambda case, actor, d: services.case_resolve(
            case=case, version=_v(d), actor=actor, outcome=d["outcome"], note=d["note"]
        ),
        done=_("The case is resolved."),
        title=_("Resolve"),
        button=_("Resolve the case"),
    ),
    "park": Action(
        ParkForm,
        frozenset({CaseState.OPEN}),
        Cap.CASES_WORK,
        lambda case, actor, d: services.case_park(
            case=case,
            version=_v(d),
            actor=actor,
            reason=d["reason"],
            team=d["team"],
            state=CaseState.CALLBACK_DUE if d["promised_callback_at"] else CaseState.AZUKARI,
            promised_callback_at=d["promised_callback_at"],
            customer_requested=d["customer_requested"],
            due_at=d["due_at"],
            note=d["note"],
        ),
        done=_("The case is parked as azukari."),
        title=_("Park as azukari"),
        button=_("Park as azukari"),
    ),
    "note": Action(
        NoteForm,
        frozenset(CaseState.values),
        Cap.CASES_WORK,
        lambda case, actor, d: services.case_note(case=case, actor=actor, note=d["note"]),
        done=_("The note was added to the case."),
        title=_("Internal note"),
        button=_("Add the note"),
    ),
    "inquiry": Action(
        InquiryForm,
        frozenset({CaseState.OPEN, *PARKED} - {CaseState.WAITING_CLIENT}),
        Cap.CASES_WORK,
        lambda case, actor, d: services.inquiry_send(
            case=case,
            version=_v(d),
            actor=actor,
            question=d["question"],
            options=d["options"],
            due_at=d["due_at"],
            team=d.get("team"),
        ),
        done=_("The inquiry was sent to the client."),
        title=_("Ask the client"),
        button=_("Send the inquiry"),
    ),
    "exception": Action(
        ExceptionForm,
        frozenset({CaseState.OPEN, *PARKED} - {CaseState.WAITING_CLIENT}),
        Cap.CASES_WORK,
        lambda case, actor, d: cancellation_exception_ask(
            actor=actor,
            request=pending_cancellation(case),
            ground_code=d["ground"],
            reason=d["reason"],
            team=case.owner_team or case_selectors.desk_team_for(case, actor),
        ),
        done=_("The exception was asked for; its approver decides."),
        title=_("Ask for an exception"),
        button=_("Ask for the exception"),
        applies=lambda case: pending_cancellation(case) is not None,
    ),
    "promise": Action(
        PromiseForm,
        PARKED,
        Cap.CASES_WORK,
        lambda case, actor, d: services.case_promise_callback(
            case=case,
            version=_v(d),
            actor=actor,
            promised_for=d["promised_for"],
            customer_requested=d["customer_requested"],
            note=d["note"],
        ),
        done=_("The callback is scheduled."),
        title=_("Promise a callback"),
        button=_("Schedule the callback"),
    ),
    "assign": Action(
        AssignForm,
        PARKED,
        Cap.CASES_MANAGE,
        lambda case, actor, d: services.case_assign(
            case=case,
            version=_v(d),
            actor=actor,
            team=d["team"],
            assignee=d["assignee"],
            note=d["note"],
        ),
        done=_("The case was handed over."),
        title=_("Hand to a team or person"),
        button=_("Hand over"),
    ),
    "wait": Action(
        WaitForm,
        PARKED - {CaseState.WAITING_CUSTOMER},
        Cap.CASES_MANAGE,
        lambda case, actor, d: services.case_wait_on_customer(
            case=case, version=_v(d), actor=actor, note=d["note"], due_at=d["due_at"]
        ),
        done=_("The case now waits for the customer."),
        title=_("Waiting on the customer"),
        button=_("Wait for the customer"),
    ),
    "resume": Action(
        ResumeForm,
        PARKED - {CaseState.AZUKARI},
        Cap.CASES_MANAGE,
        lambda case, actor, d: services.case_resume(
            case=case, version=_v(d), actor=actor, note=d["note"]
        ),
        done=_("It is the center's turn again."),
        title=_("Back to the center"),
        button=_("Center's turn again"),
    ),
    "close": Action(
        CloseForm,
        frozenset({CaseState.RESOLVED}),
        Cap.CASES_MANAGE,
        lambda case, actor, d: services.case_close(
            case=case, version=_v(d), actor=actor, note=d["note"]
        ),
        done=_("The case is closed."),
        title=_("Close"),
        button=_("Close the case"),
    ),
    "reopen": Action(
        ReopenForm,
        SETTLED,
        Cap.CASES_WORK,
        lambda case, actor, d: services.case_reopen(
            case=case, version=_v(d), actor=actor, note=d["note"], team=d["team"]
        ),
        done=_("The case is reopened."),
        title=_("Reopen"),
        button=_("Reopen the case"),
    ),
}


def offered(case: Case, user: User) -> list[str]:
    """The actions this person may take on this case now, in the page's order."""
    return [
        name
        for name, action in ACTIONS.items()
        if case.state in action.states
        and user_can(user, action.capability)
        and action.applies(case)
    ]


def pending_cancellation(case: Case) -> CancellationRequest | None:
    """The case's cancellation request that may still ask for an exception."""
    if case.kind != CaseKind.CANCELLATION:
        return None
    return (
        case.cancellation_requests.select_related("policy_version")
        .filter(status=CancellationStatus.PENDING)
        .first()
    )


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class Turn:
    """Whose turn it is (center, client, customer) and for how long, in business time."""

    clock: str | None
    seconds: int
    total_center: int
    total_client: int
    total_customer: int


def whose_turn(case: Case, now: dt.datetime) -> Turn:
    calendar = case_calendar(case)
    clocks = live_clocks(case, now=now, calendar=calendar)
    running = CLOCK_OF_STATE.get(case.state)
    seconds = (
        business_seconds(case.clock_since, now, calendar) if running and case.clock_since else 0
    )
    return Turn(running, seconds, clocks.center, clocks.client, clocks.customer)


def _stamp(case: Case, events: list[CaseEvent]) -> dict[str, int]:
    return {"version": case.version, "seen_event": events[-1].pk if events else 0}


def _rebased(data: QueryDict, case: Case, prefix: str, events: list[CaseEvent]) -> QueryDict:
    """What the user typed, now against the current version (shown after a stale write)."""
    data = data.copy()
    stamp = _stamp(case, events)
    data[f"{prefix}-version"] = str(stamp["version"])
    data[f"{prefix}-seen_event"] = str(stamp["seen_event"])
    return data


def _cancellation(request: HttpRequest, case: Case):
    """The case's cancellation request and, while it is open, the engine's options."""
    if case.kind != CaseKind.CANCELLATION:
        return None, None
    cancellation = (
        case.cancellation_requests.select_related("subscription")
        .exclude(status=CancellationStatus.WITHDRAWN)
        .order_by("-pk")
        .first()
    )
    if cancellation is None or not cancellation.is_open:
        return cancellation, None
    try:
        return cancellation, cancellation_desk(
            viewer=request.user, request_id=cancellation.pk, language=request.user.language
        )
    except DomainError:
        return cancellation, None


# ---------------------------------------------------------------- the page


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """The workspace; a POST names its action, runs it and comes back here saying so."""
    case = case_selectors.case_detail(viewer=request.user, case_id=case_id)
    events = list(case.events.all())
    actions = offered(case, request.user)
    posted = request.POST.get("action") if request.method == "POST" else None
    forms_by_name: dict[str, CaseForm] = {}
    changes: list[CaseEvent] = []
    failed = None
    if posted is not None and posted not in actions:
        messages.error(request, _("This action is not open to you for this case now."))
        return redirect("desk-case", case_id=case.pk)
    if posted is not None:
        action = ACTIONS[posted]
        form = action.form(request.POST, case=case, actor=request.user)
        if form.is_valid():
            try:
                action.run(case, request.user, form.cleaned_data)
            except StaleVersion as exc:
                seen = form.cleaned_data.get("seen_event") or 0
                case = case_selectors.case_detail(viewer=request.user, case_id=case_id)
                events = list(case.events.all())
                changes = [e for e in events if e.pk > seen]
                form = action.form(
                    _rebased(request.POST, case, form.prefix, events), case=case, actor=request.user
                )
                form.is_valid()
                form.add_error(None, str(exc.message))
            except DomainError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, str(exc.message))
            else:
                messages.success(request, action.done)
                return redirect("desk-case", case_id=case.pk)
        forms_by_name[posted] = form
        failed = posted
    stamp = _stamp(case, events)
    for name in offered(case, request.user):
        forms_by_name.setdefault(
            name, ACTIONS[name].form(initial=stamp, case=case, actor=request.user)
        )
    return _render(request, case, events, forms_by_name, changes, failed)


def _render(
    request: HttpRequest,
    case: Case,
    events: list[CaseEvent],
    forms_by_name: dict[str, CaseForm],
    changes: list[CaseEvent],
    failed: str | None,
) -> HttpResponse:
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
    now = timezone.now()
    cancellation, desk = _cancellation(request, case)
    inquiries = list(case.inquiries.all())
    open_inquiry = next((i for i in inquiries if i.status == InquiryStatus.OPEN), None)
    contacts = sorted(case.contacts.all(), key=lambda c: (c.started_at, c.pk))
    status = 200
    if changes:
        status = 409
    elif failed:
        status = 400
    return render(
        request,
        "web/desk/case.html",
        {
            "case": case,
            "events": events,
            "forms": [
                (name, form, ACTIONS[name].title, ACTIONS[name].button)
                for name, form in forms_by_name.items()
            ],
            "failed": failed,
            "changes": changes,
            "turn": whose_turn(case, now),
            "open_inquiry": open_inquiry,
            "inquiry_overdue": open_inquiry is not None
            and inquiry_is_overdue(open_inquiry, now=now),
            "case_overdue": case_is_overdue(case, now=now),
            "pending_callbacks": [
                c
                for c in case.callbacks.all()
                if c.status in (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
            ],
            "stance": next((c.stance for c in reversed(contacts) if c.stance), ""),
            "contacts": contacts,
            "cancellation": cancellation,
            "cancellation_desk": desk,
            "standard_options": [o for o in desk.options if not o.is_exception] if desk else [],
            "exception_options": [o for o in desk.options if o.is_exception] if desk else [],
            "terms": (case.subscription.terms_snapshot or {}) if case.subscription else {},
        },
        status=status,
    )
