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
    Callback,
    CallbackStatus,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Contact,
    Inquiry,
    InquiryStatus,
)
from azukari.cases.overdue import case_is_overdue, inquiry_is_overdue
from azukari.cases.statemachine import CLOCK_OF_STATE
from azukari.core.businesstime import business_seconds
from azukari.core.compiled import CompiledQuery
from azukari.core.errors import DomainError, NotVisible, StaleVersion
from azukari.org.models import Team, User
from azukari.org.people import staff_label
from azukari.org.permissions import Cap, page_for, user_can
from azukari.subscriptions.models import CancellationRequest, CancellationStatus
from azukari.subscriptions.selectors import cancellation_desk, option_label
from azukari.subscriptions.services import cancellation_exception_ask
from azukari.web.forms import PageForm, apply_domain_error

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


class _ListedChoiceIterator(forms.models.ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.listed:
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.field.listed) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.listed)


class TeamChoiceField(forms.ModelChoiceField):
    """A team among those the case may go to, read once for all the page's forms: showing
    and checking the choice read nothing more."""

    iterator = _ListedChoiceIterator

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Team.objects.none(), **kwargs)
        self.listed: list[Team] = []

    def offer(self, teams: list[Team]) -> None:
        self.listed = teams
        self.widget.choices = self.choices

    def to_python(self, value: Any) -> Team | None:
        if value in self.empty_values:
            return None
        found = next((t for t in self.listed if str(t.pk) == str(value)), None)
        if found is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found


def case_teams(case: Case) -> list[Team]:
    """`teams_for(case)`, read once per case object."""
    if not hasattr(case, "_page_teams"):
        case._page_teams = case_selectors.team_list_for(case)
    return case._page_teams


class CaseForm(PageForm):
    """A form about one case: the teams and people it may go to come from the case."""

    def __init__(self, *args: Any, case: Case, actor: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.case = case
        if "team" in self.fields:
            teams = case_teams(case)
            self.fields["team"].offer(teams)
            if not self.is_bound:
                # The team that holds the case, else the desk it would go to.
                team = case.owner_team or case_selectors.desk_team_for(case, actor, teams=teams)
                if team is not None:
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
    team = TeamChoiceField(label=_("Owning team"))
    promised_callback_at = _when(_("Callback promised for"))
    customer_requested = forms.BooleanField(
        label=_("The customer asked for this exact time"), required=False
    )
    due_at = _when(_("Due by"))
    note = _note(_("What the customer was told"))


class AssignForm(VersionedForm):
    prefix = "assign"
    team = TeamChoiceField(label=_("Team"))
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
    team = TeamChoiceField(label=_("Owning team"))

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
    team = TeamChoiceField(label=_("Owning team"))


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
    return [name for name in ACTIONS if may_take(case, user, name)]


def may_take(case: Case, user: User, name: str | None) -> bool:
    action = ACTIONS.get(name or "")
    return (
        action is not None
        and case.state in action.states
        and user_can(user, action.capability)
        and action.applies(case)
    )


def pending_cancellation(case: Case) -> CancellationRequest | None:
    """The case's cancellation request that may still ask for an exception: the newest
    pending one (the actions, the form and the page all ask)."""
    return next((r for r in _cancellations(case) if r.status == CancellationStatus.PENDING), None)


def _cancellations(case: Case) -> list[CancellationRequest]:
    """The case's cancellation requests not withdrawn, newest first, read once per case object
    for the pending one and the one the page shows."""
    if case.kind != CaseKind.CANCELLATION:
        return []
    if not hasattr(case, "_cancellations"):
        case._cancellations = _CANCELLATIONS(case.pk)
    return case._cancellations


_CANCELLATIONS = CompiledQuery[CancellationRequest](
    lambda case_id: (
        CancellationRequest.objects.filter(case_id=case_id)
        .exclude(status=CancellationStatus.WITHDRAWN)
        .select_related("subscription", "policy_version")
    )
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
    cancellation = max(_cancellations(case), key=lambda r: r.pk, default=None)
    if cancellation is None or not cancellation.is_open:
        return cancellation, None
    try:
        return cancellation, cancellation_desk(
            viewer=request.user, request_id=cancellation.pk, language=request.user.language
        )
    except DomainError:
        return cancellation, None


# ---------------------------------------------------------------- the page


# The page's reads, compiled once (CONTRIBUTING: "Reads an operator waits for"): the case
# through the door, then its history, calls, inquiries and callbacks by the case's id.
_PAGE_CASE = CompiledQuery[Case](
    lambda viewer, pk: Case.objects.visible_to(viewer)
    .filter(pk=pk)
    .select_related(
        "client", "customer", "site", "owner_team__site", "assignee", "subscription__plan",
        "opened_by",
    )
)  # fmt: skip
_ACTING_CASE = CompiledQuery[Case](
    lambda viewer, pk: (
        Case.objects.visible_to(viewer)
        .filter(pk=pk)
        .select_related("client", "customer", "site", "owner_team")
    )
)
_EVENTS = CompiledQuery[CaseEvent](
    lambda case_id: (
        CaseEvent.objects.filter(case_id=case_id).select_related("actor").order_by("at", "id")
    )
)
_CONTACTS = CompiledQuery[Contact](
    lambda case_id: Contact.objects.filter(case_id=case_id).select_related("handler")
)
_INQUIRIES = CompiledQuery[Inquiry](lambda case_id: Inquiry.objects.filter(case_id=case_id))
_CALLBACKS = CompiledQuery[Callback](lambda case_id: Callback.objects.filter(case_id=case_id))


def _prefetched(case: Case, name: str, rows: list) -> None:
    """What `prefetch_related(name)` leaves: `case.<name>.all()` answers from `rows`."""
    queryset = getattr(Case, name).rel.related_model.objects.all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    case._prefetched_objects_cache[name] = queryset


def page_case(viewer: User, case_id: int) -> Case:
    """The case with all the page shows: `case_selectors.case_detail` in compiled reads."""
    case = _PAGE_CASE.first(viewer, case_id)
    if case is None:
        raise NotVisible()
    case._prefetched_objects_cache = {}
    _prefetched(case, "events", _EVENTS(case.pk))
    _prefetched(case, "contacts", _CONTACTS(case.pk))
    _prefetched(case, "inquiries", _INQUIRIES(case.pk))
    _prefetched(case, "callbacks", _CALLBACKS(case.pk))
    return case


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """The workspace; a POST names its action, runs it and comes back here saying so."""
    if request.method == "POST":
        return _act(request, case_id)
    case = page_case(request.user, case_id)
    events = list(case.events.all())
    return _render(request, case, events, _blank_forms(request, case, events), [], None)


def _blank_forms(
    request: HttpRequest, case: Case, events: list[CaseEvent], forms_by_name=None
) -> dict[str, CaseForm]:
    forms_by_name = dict(forms_by_name or {})
    stamp = _stamp(case, events)
    for name in offered(case, request.user):
        forms_by_name.setdefault(
            name, ACTIONS[name].form(initial=stamp, case=case, actor=request.user)
        )
    return forms_by_name


def _act(request: HttpRequest, case_id: int) -> HttpResponse:
    """One action: the case row and what the action reads, no more, then back to the page.
    The whole page is read only when the form comes back with what went wrong."""
    case = _ACTING_CASE.first(request.user, case_id)
    if case is None:
        raise NotVisible()
    posted = request.POST.get("action")
    if not may_take(case, request.user, posted):
        messages.error(request, _("This action is not open to you for this case now."))
        return redirect("desk-case", case_id=case.pk)
    action = ACTIONS[posted]
    form = action.form(request.POST, case=case, actor=request.user)
    changes: list[CaseEvent] = []
    if form.is_valid():
        try:
            action.run(case, request.user, form.cleaned_data)
        except StaleVersion as exc:
            seen = form.cleaned_data.get("seen_event") or 0
            case = page_case(request.user, case_id)
            events = list(case.events.all())
            changes = [e for e in events if e.pk > seen]
            form = action.form(
                _rebased(request.POST, case, form.prefix, events), case=case, actor=request.user
            )
            form.is_valid()
            form.add_error(None, str(exc.message))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, action.done)
            return redirect("desk-case", case_id=case.pk)
    if not changes:
        case = page_case(request.user, case_id)
        events = list(case.events.all())
    forms_by_name = _blank_forms(request, case, events, {posted: form})
    return _render(request, case, events, forms_by_name, changes, posted)


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
