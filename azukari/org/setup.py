"""Setting up the center's structure: clients with their lines and calendar, sites, teams and
staff. The admin, the commands (`azukari client|site|staff`) and the demo builder all write
through these services, so a client made in any of them obeys the same rules.

`actor` None is the command line: whoever runs commands on the app server is trusted.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import display_phone, normalize_phone
from azukari.org.calendars import validate_closed_day, validate_site_hours
from azukari.org.models import (
    Client,
    ClientClosedDay,
    ClientLine,
    EmploymentStatus,
    Role,
    Site,
    SiteHours,
    SiteStatus,
    Team,
    User,
)
from azukari.org.permissions import Cap, require


def _require(actor: User | None, capability: Cap) -> None:
    if actor is not None:
        require(actor, capability)


def _require_serves(actor: User | None, clients: Iterable[Client]) -> None:
    """A person sets up only what concerns clients they serve (the command line: any)."""
    if actor is None or actor.is_superuser:
        return
    visible = actor.visible_client_ids()
    if any(c.pk not in visible for c in clients):
        raise NotVisible(field="clients")


def _text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > max_length:
        raise DomainError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return value


def _code(value: str | None, *, field: str = "code", max_length: int = 32) -> str:
    value = _text(value, field=field, max_length=max_length, required=True)
    try:
        validate_slug(value)
    except ValidationError as exc:
        raise DomainError(
            _("Use only letters, digits, hyphens and underscores."), field=field
        ) from exc
    return value


def _past_date(value: dt.date | None, *, field: str) -> dt.date | None:
    if value is not None and value > timezone.localdate():
        raise DomainError(_("The signing date cannot be in the future."), field=field)
    return value


def _email(value: str | None, *, field: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            EmailValidator()(value)
        except ValidationError as exc:
            raise DomainError(_("Enter a valid e-mail address."), field=field) from exc
    return value


# ---------------------------------------------------------------- clients


@transaction.atomic
def client_line_add(
    *, actor: User | None, client: Client, number: str, label: str = ""
) -> ClientLine:
    """A number customers dial for this client; it tells the screen pop whose call it is."""
    _require(actor, Cap.CLIENTS_SET_UP)
    _require_serves(actor, [client])
    dialled = normalize_phone(number, field="lines")
    if not dialled:
        raise DomainError(_("Enter the number customers dial."), field="lines")
    holder = ClientLine.objects.filter(number=dialled).select_related("client").first()
    if holder is not None:
        if actor is None or actor.is_superuser or holder.client_id in actor.visible_client_ids():
            message = _("%(number)s is already a line of %(client)s.") % {
                "number": display_phone(dialled),
                "client": holder.client.name,
            }
        else:  # a client the person does not serve is not named to them
            message = _("%(number)s is already the line of another client.") % {
                "number": display_phone(dialled)
            }
        raise DomainError(message, field="lines")
    label = _text(label, field="lines", max_length=100)
    return ClientLine.objects.create(client=client, number=dialled, label=label)


@transaction.atomic
def client_line_remove(*, actor: User | None, line: ClientLine) -> None:
    """The number no longer reaches this client. Nothing refers to a line (a contact keeps its
    client), so no history is lost; but a live client keeps at least one line, or its calls
    would pop as nobody's."""
    _require(actor, Cap.CLIENTS_SET_UP)
    client = Client.objects.select_for_update().get(pk=line.client_id)
    _require_serves(actor, [client])
    client_lines_kept_check(client=client, kept=client.lines.exclude(pk=line.pk).count())
    line.delete()


def client_lines_kept_check(*, client: Client, kept: int) -> None:
    """A live client keeps at least one line; the admin's line list asks it too."""
    if client.went_live_on is not None and kept < 1:
        raise DomainError(
            _(
                "%(client)s is live and this is its only line: add the new number first, "
                "or its calls would no longer be recognised."
            )
            % {"client": client.name},
            field="lines",
        )


CLIENT_FIELDS = (
    "name",
    "name_kana",
    "escalation_email",
    "contract_signed_on",
    "reopen_window_days",
    "inquiry_due_hours",
    "callback_max_attempts",
    "callback_retry_minutes",
    "unreachable_next_step",
    "inquiry_remind_hours",
    "is_active",
)


def client_values_check(values: Mapping[str, Any]) -> dict[str, Any]:
    """The client's own fields, checked; the admin's form asks it before saving."""
    unknown = set(values) - set(CLIENT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    clean = dict(values)
    if "name" in clean:
        clean["name"] = _text(clean["name"], field="name", max_length=200, required=True)
    if "name_kana" in clean:
        clean["name_kana"] = _text(clean["name_kana"], field="name_kana", max_length=200)
    if "escalation_email" in clean:
        clean["escalation_email"] = _email(clean["escalation_email"], field="escalation_email")
    if "contract_signed_on" in clean:
        _past_date(clean["contract_signed_on"], field="contract_signed_on")
    return clean


@transaction.atomic
def client_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    name_kana: str = "",
    lines: Sequence[str | tuple[str, str]] = (),
    closed_days: Sequence[dt.date | tuple[dt.date, str]] = (),
    escalation_email: str = "",
    contract_signed_on: dt.date | None = None,
    served_by: Sequence[User] = (),
    **settings: Any,
) -> Client:
    """A new client, not live yet: its set-up checklist says what it still needs. The person
    creating it serves it from now on, so they can finish setting it up."""
    _require(actor, Cap.CLIENTS_SET_UP)
    code = _code(code)
    if Client.objects.filter(code=code).exists():
        raise DomainError(_("A client with this code already exists."), field="code")
    values = client_values_check(
        {
            "name": name,
            "name_kana": name_kana,
            "escalation_email": escalation_email,
            "contract_signed_on": contract_signed_on,
            **settings,
        }
    )
    client = Client.objects.create(code=code, **values)
    for line in lines:
        number, label = (line, "") if isinstance(line, str) else line
        client_line_add(actor=None, client=client, number=number, label=label)
    today = timezone.localdate()
    for entry in closed_days:
        day, note = (entry, "") if isinstance(entry, dt.date) else entry
        validate_closed_day(client=client, date=day, today=today)
        ClientClosedDay.objects.create(
            client=client, date=day, note=_text(note, field="closed_days", max_length=200)
        )
    people = [*served_by, *([actor] if actor is not None and actor.is_center_staff else [])]
    for person in people:
        if not person.is_center_staff:
            raise DomainError(
                _("Only center staff serve clients; %(user)s is a client approver.")
                % {"user": person.get_username()},
                field="served_by",
            )
        person.clients.add(client)
    return client


@transaction.atomic
def client_update(*, actor: User | None, client: Client, **changes: Any) -> Client:
    """Changes a client's own fields (name, escalation contact, agreement, clocks)."""
    _require(actor, Cap.CLIENTS_SET_UP)
    _require_serves(actor, [client])
    values = client_values_check(changes)
    for field, value in values.items():
        setattr(client, field, value)
    if values:
        client.save(update_fields=list(values))
    return client


# ---------------------------------------------------------------- sites and teams


@transaction.atomic
def site_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    hours: Mapping[int, tuple[dt.time, dt.time]] | None = None,
    status: str = SiteStatus.OPERATING,
) -> Site:
    """A new site with its opening hours (none given: the documented default hours)."""
    _require(actor, Cap.CLIENTS_SET_UP)
    code = _code(code)
    name = _text(name, field="name", max_length=100, required=True)
    if Site.objects.filter(code=code).exists():
        raise DomainError(_("A site with this code already exists."), field="code")
    if status not in (SiteStatus.OPERATING, SiteStatus.DEGRADED):
        raise DomainError(
            _("A new site starts operating or degraded; mark it down with “site down”."),
            field="status",
        )
    for weekday, (opens_at, closes_at) in (hours or {}).items():
        validate_site_hours(weekday=weekday, opens_at=opens_at, closes_at=closes_at)
    site = Site.objects.create(code=code, name=name, status=status, status_changed_at=None)
    SiteHours.objects.bulk_create(
        SiteHours(site=site, weekday=weekday, opens_at=opens_at, closes_at=closes_at)
        for weekday, (opens_at, closes_at) in sorted((hours or {}).items())
    )
    return site


@transaction.atomic
def team_create(
    *,
    actor: User | None,
    site: Site,
    code: str,
    name: str,
    is_azukari_desk: bool = False,
    clients: Sequence[Client] = (),
) -> Team:
    """A team at one site; an azukari desk owns the azukari of the clients it serves."""
    _require(actor, Cap.CLIENTS_SET_UP)
    _require_serves(actor, clients)
    code = _code(code)
    name = _text(name, field="name", max_length=100, required=True)
    if Team.objects.filter(code=code).exists():
        raise DomainError(_("A team with this code already exists."), field="code")
    team = Team.objects.create(site=site, code=code, name=name, is_azukari_desk=is_azukari_desk)
    team.clients.add(*clients)
    return team


# ---------------------------------------------------------------- staff

STAFF_FIELDS = (
    "role",
    "family_name",
    "given_name",
    "display_name",
    "employee_number",
    "email",
    "language",
    "home_site",
    "team",
    "clients",
    "company",
    "agreement_signed_on",
    "agreement_version",
    "agent_id",
)
_USER_FIELD = {"family_name": "last_name", "given_name": "first_name", "company": "client"}


def staff_values_check(values: dict[str, Any], staff: User | None) -> dict[str, Any]:
    """Checks one person's record as a whole (the values given over what is recorded); the
    admin's person form asks it too."""
    unknown = set(values) - set(STAFF_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(f)s.") % {"f": ", ".join(sorted(unknown))})

    def current(field: str) -> Any:
        if field in values:
            return values[field]
        if staff is None:
            return None
        if field == "clients":
            return list(staff.clients.all())
        return getattr(staff, _USER_FIELD.get(field, field))

    role = current("role") or Role.OPERATOR
    if role not in Role.values:
        raise DomainError(_("Choose a role."), field="role")
    clean = dict(values)
    for field, limit in (("family_name", 150), ("given_name", 150), ("display_name", 50)):
        if field in clean:
            clean[field] = _text(clean[field], field=field, max_length=limit)
    if not current("family_name"):
        raise DomainError(_("This field is required."), field="family_name")
    if "employee_number" in clean:
        number = _text(clean["employee_number"], field="employee_number", max_length=32)
        clean["employee_number"] = number or None
        taken = User.objects.filter(employee_number=number).exclude(pk=staff.pk if staff else None)
        if number and taken.exists():
            raise DomainError(
                _("Another person has this employee number."), field="employee_number"
            )
    if "agent_id" in clean:
        agent = _text(clean["agent_id"], field="agent_id", max_length=64)
        clean["agent_id"] = agent or None
        taken = User.objects.filter(agent_id=agent).exclude(pk=staff.pk if staff else None)
        if agent and taken.exists():
            raise DomainError(_("Another person has this PBX agent id."), field="agent_id")
    if "email" in clean:
        clean["email"] = _email(clean["email"], field="email")
    if "language" in clean and clean["language"] not in ("ja", "en"):
        raise DomainError(_("Choose Japanese or English."), field="language")
    if "agreement_version" in clean:
        clean["agreement_version"] = _text(
            clean["agreement_version"], field="agreement_version", max_length=32
        )
    if "agreement_signed_on" in clean:
        _past_date(clean["agreement_signed_on"], field="agreement_signed_on")
    site, team, company = current("home_site"), current("team"), current("company")
    if role == Role.CLIENT_APPROVER:
        if company is None:
            raise DomainError(_("A client approver belongs to one company."), field="company")
        if site is not None:
            raise DomainError(_("Client approvers have no site."), field="home_site")
        if current("clients"):
            raise DomainError(
                _("A client approver serves no clients; name their company."), field="clients"
            )
        if current("agreement_signed_on"):
            raise DomainError(
                _("Client approvers are bound by their company's contract, not an agreement."),
                field="agreement_signed_on",
            )
    else:
        if company is not None:
            raise DomainError(
                _("Center staff serve clients; they have no company."), field="company"
            )
        if site is None:
            raise DomainError(_("Center staff have a home site."), field="home_site")
        if team is not None and team.site_id != site.pk:
            raise DomainError(
                _("The team %(team)s is at another site.") % {"team": team}, field="team"
            )
        if current("agreement_signed_on") and not current("agreement_version"):
            raise DomainError(_("This field is required."), field="agreement_version")
    return clean


def _staff_write(staff: User, values: dict[str, Any]) -> User:
    creating = staff.pk is None
    clients = values.pop("clients", None)
    changed = {"display_name"}
    for field, value in values.items():
        setattr(staff, _USER_FIELD.get(field, field), value)
        changed.add(_USER_FIELD.get(field, field))
    if "display_name" not in values and not staff.display_name:
        staff.display_name = staff.last_name[:50]
    if creating or "role" in values:
        # Managers and administrators work in the admin too; a change of role decides it.
        staff.is_staff = staff.role in (Role.MANAGER, Role.ADMIN)
        changed.add("is_staff")
    if creating:
        staff.save()
    else:
        staff.save(update_fields=sorted(changed))
    if clients is not None:
        staff.clients.set(clients)
    return staff


@transaction.atomic
def staff_create(*, actor: User | None, username: str, **values: Any) -> User:
    """A new person: center staff (role, home site, clients served, agreement) or a client
    approver (their company). No password: they are given one, or a code, in person."""
    _require(actor, Cap.STAFF_MANAGE)
    _require_serves(actor, [*values.get("clients", ()), *filter(None, [values.get("company")])])
    username = _text(username, field="username", max_length=150, required=True)
    if User.objects.filter(username=username).exists():
        raise DomainError(_("A person with this user name already exists."), field="username")
    values.setdefault("role", Role.OPERATOR)
    clean = staff_values_check(values, None)
    staff = User(username=username)
    staff.set_unusable_password()
    return _staff_write(staff, clean)


@transaction.atomic
def staff_update(*, actor: User | None, staff: User, **changes: Any) -> User:
    """Changes a person's record; leaving goes through `staff_mark_left`, not here."""
    _require(actor, Cap.STAFF_MANAGE)
    _require_serves(actor, [*staff.clients.all(), *filter(None, [staff.client])])
    _require_serves(actor, [*changes.get("clients", ()), *filter(None, [changes.get("company")])])
    if actor is not None and staff.pk == actor.pk and {"role", "clients", "company"} & set(changes):
        raise DomainError(_("Ask another manager to change your own role or clients."))
    if staff.employment_status == EmploymentStatus.LEFT:
        raise DomainError(_("This person has left; their record stays as it was."), field="staff")
    if staff.is_service_account:
        raise DomainError(
            _("This account acts for an integration or for customers online; it is not a person."),
            field="staff",
        )
    clean = staff_values_check(dict(changes), staff)
    return _staff_write(staff, clean)
