"""Staff lifecycle: agreements on record, leaving, and the agreement register.

Access itself is decided by `User.has_access` (checked on every request by
`azukari.org.auth.AccessBackend`); these services change what it reads and end what a leaver
still holds: sessions and API tokens acting as them. Every record a leaver made stays.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError, PermissionRefused
from azukari.org.models import CENTER_ROLES, EmploymentStatus, Role, User

security_log = logging.getLogger("azukari.security")

STAFF_ADMIN_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


def _require_staff_admin(by: User) -> None:
    if by.role not in STAFF_ADMIN_ROLES or not by.has_access:
        raise PermissionRefused(_("Only managers and administrators manage staff records."))


def _session_store() -> type[SessionBase]:
    from django.conf import settings

    return import_string(settings.SESSION_ENGINE + ".SessionStore")


def staff_sessions_end(*, user: User) -> int:
    """Deletes every session recorded for `user`; their next request is anonymous."""
    from azukari.audit.models import UserSession

    store = _session_store()
    keys = list(
        UserSession.objects.filter(user=user, ended_at__isnull=True).values_list(
            "session_key", flat=True
        )
    )
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).update(ended_at=timezone.now())
    return len(keys)


def _tokens_revoke(user: User) -> int:
    """API tokens acting as this person, and those they issued (they saw the secret, which is
    shown once to its issuer), stop at once. Integrations that used them need a new token."""
    try:
        from azukari.api.models import ApiToken
        from azukari.api.services import api_token_revoke
    except ImportError:  # pragma: no cover - the API app is optional
        return 0
    revoked = 0
    tokens = ApiToken.objects.filter(
        Q(service_user=user) | Q(created_by=user), revoked_at__isnull=True
    )
    for token in tokens:
        api_token_revoke(token=token)
        revoked += 1
    return revoked


@dataclass(frozen=True)
class LeaveResult:
    user: User
    sessions_ended: int
    tokens_revoked: int


@transaction.atomic
def staff_mark_left(*, staff: User, left_on: dt.date, by: User) -> LeaveResult:
    """Marks `staff` as left: no access from their next request, sessions and tokens ended
    now, every record they made kept. Idempotent: marking a leaver again changes nothing."""
    _require_staff_admin(by)
    if staff.pk == by.pk:
        raise DomainError(_("Ask another manager to record your own leaving."), field="staff")
    if left_on is None or left_on > timezone.localdate() + dt.timedelta(days=1):
        raise DomainError(_("The leaving date cannot be in the future."), field="left_on")
    if staff.employment_status != EmploymentStatus.LEFT:
        staff.employment_status = EmploymentStatus.LEFT
        staff.left_on = left_on
        staff.save(update_fields=["employment_status", "left_on"])
    sessions = staff_sessions_end(user=staff)
    tokens = _tokens_revoke(staff)
    # Their open azukari stay with their teams, for the desk to pick up.
    from azukari.cases.services import cases_release_from

    cases_release_from(person=staff, actor=by)
    security_log.warning(
        "staff marked left: user=%s by=%s sessions=%d tokens=%d",
        staff.pk,
        by.pk,
        sessions,
        tokens,
    )
    return LeaveResult(staff, sessions, tokens)


@transaction.atomic
def staff_agreement_record(*, staff: User, signed_on: dt.date, version: str, by: User) -> User:
    """Puts a confidentiality agreement (覚書) on record; center staff get access with it."""
    _require_staff_admin(by)
    if staff.role not in CENTER_ROLES:
        raise DomainError(
            _("Client approvers are bound by their company's contract, not an agreement."),
            field="staff",
        )
    version = (version or "").strip()
    if not version:
        raise DomainError(_("This field is required."), field="version")
    if len(version) > 32:
        raise DomainError(_("At most %(n)d characters.") % {"n": 32}, field="version")
    if signed_on is None or signed_on > timezone.localdate():
        raise DomainError(_("The signing date cannot be in the future."), field="signed_on")
    staff.agreement_signed_on = signed_on
    staff.agreement_version = version
    staff.save(update_fields=["agreement_signed_on", "agreement_version"])
    return staff


@dataclass(frozen=True)
class AgreementRow:
    user: User
    role: str
    site: str
    bound_by: str  # "agreement" or "contract"
    signed_on: dt.date | None
    version: str
    status: str
    left_on: dt.date | None
    has_access: bool


def agreement_register(*, viewer: User, include_leavers: bool = True) -> list[AgreementRow]:
    """Everyone who has or had access, and what binds them: the center's register of
    confidentiality agreements (覚書) and client contracts; leavers stay on it."""
    _require_staff_admin(viewer)
    # The accounts integrations and self-service act through are not people.
    users = (
        User.objects.people()
        .select_related("home_site", "client")
        .filter(Q(role__in=CENTER_ROLES) | Q(role=Role.CLIENT_APPROVER))
    )
    if not include_leavers:
        users = users.filter(employment_status=EmploymentStatus.ACTIVE)
    rows = []
    for user in users.order_by("employment_status", "home_site__code", "username"):
        approver = user.is_client_approver
        rows.append(
            AgreementRow(
                user=user,
                role=user.get_role_display(),
                site=user.home_site.name if user.home_site_id else "",
                bound_by="contract" if approver else "agreement",
                signed_on=(
                    user.client.contract_signed_on if approver else user.agreement_signed_on
                ),
                version="" if approver else user.agreement_version,
                status=user.employment_status,
                left_on=user.left_on,
                has_access=user.has_access,
            )
        )
    return rows
