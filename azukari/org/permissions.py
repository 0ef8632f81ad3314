"""Who may do what: one table from role to capability, read by pages, API, admin and services.

Every "may this person do X" question asks this module, never a role list of its own:

    from azukari.org.permissions import Cap, page_for, require, user_can

    if user_can(user, Cap.BACKLOG_VIEW): ...          # a link, a button, a column
    require(actor, Cap.RECORDS_IMPORT)                # a service: PermissionRefused if not

    @require_GET
    @login_required
    @page_for(Cap.CALLBACKS_WORK)                     # a page
    def callback_list(request): ...

`page_for` is also the one place where the door's `NotVisible` becomes Django's 404: a view
under it lets `NotVisible` rise from selectors and services. A person whose role lacks the
capability gets 403 with a sentence saying who the page is for; a client approver gets 404 for
every page of the center, as if it did not exist (the portal is theirs, nothing else is), and
so does anyone for a page carrying an object id (`refuse_with_404=True`): whether another
client's object exists is never told by a refusal that comes before the lookup.

Roles are the fixed codes of `Role`; capabilities are dotted names, grouped by area. The table
is `ROLE_CAPABILITIES`; `roles_with(cap)` reads it the other way, for queries such as "who is
expected to read this notice".
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import NotVisible, PermissionRefused
from azukari.org.models import Role


class Cap(StrEnum):
    # The center's own pages: case list and case page, the operator desk and screen pop,
    # customer reveal, notices to confirm, recording a named-staff request.
    CENTER_PAGES = "center.pages"
    # Working a case in its workspace: notes, parking, promises, inquiries, resolving,
    # reopening, logging a repeat call on it.
    CASES_WORK = "cases.work"
    # Running the backlog: handing cases to teams and people, moving them between the
    # azukari states, closing.
    CASES_MANAGE = "cases.manage"
    # The client's portal: its inquiries and their answers.
    PORTAL_USE = "portal.use"
    # Boards and queues.
    BACKLOG_VIEW = "backlog.view"
    CALLBACKS_WORK = "callbacks.work"
    FLOOR_WATCH = "floor.watch"  # the long-calls board
    FLOOR_INTERVENE = "floor.intervene"  # join or take over someone else's call
    # Notices: who publishes and sees who has not read; who is expected to confirm reading.
    NOTICES_PUBLISH = "notices.publish"
    NOTICES_CONFIRM = "notices.confirm"
    # Bulk records of personal data.
    RECORDS_EXPORT = "records.export"
    RECORDS_IMPORT = "records.import"
    # Reports.
    REPORTS_MONTHLY = "reports.monthly"
    REPORTS_NAMED_STAFF = "reports.named_staff"
    CANCELLATIONS_OVERSEE = "cancellations.oversee"  # overdue requests, consistency report
    # Approval levels of the cancellation policy.
    APPROVE_AS_SV = "cancellations.approve_sv"
    APPROVE_AS_CLIENT = "cancellations.approve_client"
    # Running the center.
    STAFF_MANAGE = "staff.manage"  # agreements register, leavers, staff import
    CLIENTS_SET_UP = "clients.set_up"  # new clients, sites, teams; checklist, policies, go-live
    CALENDARS_EDIT = "calendars.edit"
    INCIDENTS_RECORD = "incidents.record"
    # Each client's written criteria under which a call may be ended (カスハラ).
    CRITERIA_EDIT = "floor.criteria_edit"
    RETENTION_APPLY = "records.retention"  # apply retention, review and redact erased texts
    SITES_FAILOVER = "sites.failover"
    USERS_ADMINISTER = "users.administer"  # accounts, roles, groups, clients in the admin
    INTEGRATIONS_MANAGE = "integrations.manage"  # API tokens and webhooks of served clients
    # See staff of other sites by name (everyone else sees them as site and role).
    STAFF_NAMES_ALL_SITES = "staff.names_all_sites"
    # Read or export customers' personal data beyond one case at a time (search, the screen
    # pop, lists, exports): these roles need the second factor where the deployment says so.
    PERSONAL_DATA_BULK = "personal_data.bulk"


_CENTER = {Cap.CENTER_PAGES, Cap.PERSONAL_DATA_BULK, Cap.CASES_WORK}
_SUPERVISING = {
    Cap.CASES_MANAGE,
    Cap.BACKLOG_VIEW,
    Cap.CALLBACKS_WORK,
    Cap.FLOOR_WATCH,
    Cap.NOTICES_PUBLISH,
    Cap.REPORTS_MONTHLY,
    Cap.REPORTS_NAMED_STAFF,
    Cap.CANCELLATIONS_OVERSEE,
}
_RUNNING = {
    Cap.FLOOR_INTERVENE,
    Cap.APPROVE_AS_SV,
    Cap.RECORDS_EXPORT,
    Cap.RECORDS_IMPORT,
    Cap.STAFF_MANAGE,
    Cap.CLIENTS_SET_UP,
    Cap.CALENDARS_EDIT,
    Cap.INCIDENTS_RECORD,
    Cap.CRITERIA_EDIT,
    Cap.RETENTION_APPLY,
    Cap.SITES_FAILOVER,
    Cap.STAFF_NAMES_ALL_SITES,
    Cap.INTEGRATIONS_MANAGE,
}

ROLE_CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.OPERATOR: frozenset(_CENTER | {Cap.NOTICES_CONFIRM}),
    Role.SV: frozenset(
        _CENTER | _SUPERVISING | {Cap.NOTICES_CONFIRM, Cap.FLOOR_INTERVENE, Cap.APPROVE_AS_SV}
    ),
    Role.DESK: frozenset(_CENTER | _SUPERVISING | {Cap.RECORDS_EXPORT, Cap.RECORDS_IMPORT}),
    Role.MANAGER: frozenset(_CENTER | _SUPERVISING | _RUNNING),
    Role.ADMIN: frozenset(_CENTER | _SUPERVISING | _RUNNING | {Cap.USERS_ADMINISTER}),
    Role.CLIENT_APPROVER: frozenset(
        {Cap.PORTAL_USE, Cap.REPORTS_MONTHLY, Cap.APPROVE_AS_CLIENT, Cap.PERSONAL_DATA_BULK}
    ),
}

# What a refused person reads: who the page or action is for.
_REFUSALS: dict[Cap, str] = {
    Cap.BACKLOG_VIEW: _("The backlog is for the azukari desk, supervisors and managers."),
    Cap.CALLBACKS_WORK: _("Callbacks are for supervisors, the azukari desk and managers."),
    Cap.FLOOR_WATCH: _("The floor board is for supervisors, the azukari desk and managers."),
    Cap.FLOOR_INTERVENE: _("Only a supervisor or a manager can join or take over a call."),
    Cap.NOTICES_PUBLISH: _("Only supervisors, the azukari desk and managers publish notices."),
    Cap.RECORDS_EXPORT: _("Only the azukari desk and managers export records."),
    Cap.RECORDS_IMPORT: _("Only the azukari desk and managers import files."),
    Cap.REPORTS_MONTHLY: _("The monthly report is for supervisors, managers and the client."),
    Cap.REPORTS_NAMED_STAFF: _(
        "The named-staff report is for supervisors, the azukari desk and managers."
    ),
    Cap.CANCELLATIONS_OVERSEE: _("This page is for supervisors, the azukari desk and managers."),
    Cap.STAFF_MANAGE: _("Only a center manager or administrator manages staff."),
    Cap.CALENDARS_EDIT: _("Only a center manager or administrator edits calendars."),
    Cap.CLIENTS_SET_UP: _("Only a center manager or administrator sets up clients and sites."),
    Cap.INCIDENTS_RECORD: _("Only managers and administrators keep the incident register."),
    Cap.CRITERIA_EDIT: _("Only a center manager or administrator edits the harassment criteria."),
    Cap.RETENTION_APPLY: _("Only a center manager or administrator applies retention."),
    Cap.SITES_FAILOVER: _("Only a center manager or administrator changes a site's status."),
    Cap.USERS_ADMINISTER: _("Only an administrator manages user accounts."),
    Cap.INTEGRATIONS_MANAGE: _("Only a center manager or administrator issues API tokens."),
}


def user_can(user, capability: Cap) -> bool:
    """True when the person is signed in, has access (an agreement on record) and their
    role holds the capability. Superusers hold every capability."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "has_access", False):
        return False
    if user.is_superuser:
        return True
    return capability in ROLE_CAPABILITIES.get(user.role, frozenset())


def require(user, capability: Cap) -> None:
    """For services: refuses with a sentence the person can read."""
    if not user_can(user, capability):
        raise PermissionRefused(refusal(capability))


def refusal(capability: Cap) -> str:
    return str(_REFUSALS.get(capability, _("Your role cannot do this.")))


def roles_with(capability: Cap) -> frozenset[str]:
    return frozenset(role for role, caps in ROLE_CAPABILITIES.items() if capability in caps)


def page_for(
    capability: Cap, *, refuse_with_404: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A page for the roles holding `capability`; `NotVisible` raised inside becomes 404.

    Put it under `login_required`. Client approvers get 404 for any page that is not theirs;
    so does everyone for a page with `refuse_with_404` (pages naming an object by id)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user_can(user, capability):
                if refuse_with_404 or not user_can(user, Cap.CENTER_PAGES):
                    raise Http404
                raise PermissionDenied(refusal(capability))
            return not_visible_is_404(view)(request, *args, **kwargs)

        wrapped.capability = capability  # read by the route × role matrix
        return wrapped

    return decorate


def not_visible_is_404(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The door's answer on a page: another client's object and a missing one are both 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotVisible as exc:
            raise Http404 from exc

    return wrapped
