"""Staff from a file (`azukari staff import staff.csv`): CP932 or UTF-8, every row checked
first, then the whole file written or none of it; a person is found again by their employee
number, so importing the same file twice changes nothing. Rows with a leaving date go through
the leaver service, which also ends their sessions and tokens.
"""

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.dataio import cleaning
from azukari.dataio.readers import open_sheet
from azukari.org.models import Client, EmploymentStatus, Role, Site, Team, User
from azukari.org.permissions import Cap, require
from azukari.org.setup import staff_create, staff_update
from azukari.org.staff import staff_mark_left

HEADERS: dict[str, tuple[str, ...]] = {
    "employee_number": ("社員番号", "従業員番号", "employee number"),
    "username": ("ユーザー名", "ログインID", "user name"),
    "full_name": ("氏名", "名前", "name", "full name"),
    "family_name": ("姓", "family name"),
    "given_name": ("名", "given name"),
    "display_name": ("表示名", "display name"),
    "role": ("役割", "ロール", "職位"),
    "home_site": ("拠点", "所属拠点", "センター", "site", "home site"),
    "team": ("チーム", "所属チーム"),
    "clients": ("担当企業", "担当クライアント", "企業", "clients", "clients served"),
    "agreement_signed_on": ("覚書締結日", "覚書日", "agreement signed on", "agreement"),
    "agreement_version": ("覚書版", "覚書バージョン", "agreement version"),
    "agent_id": ("内線", "エージェントID", "agent id"),
    "email": ("メールアドレス", "メール", "e-mail"),
    "language": ("言語",),
    "left_on": ("退職日", "left on"),
}
LIST_SEPARATORS = (";", "、", "，", "/", "・", " ", "\u3000")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


class StaffImportRefused(DomainError):
    """The file was refused as a whole; `errors` says why, row by row."""

    code = "staff_import_refused"

    def __init__(self, errors: list[RowError]):
        super().__init__(_("The file has errors; nothing was imported."), field="file")
        self.errors = errors


@dataclass
class StaffImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _columns(header: list[str]) -> dict[int, str]:
    by_name: dict[str, str] = {}
    for name, aliases in HEADERS.items():
        for alias in (name, *aliases):
            by_name.setdefault(_fold(alias), name)
    found: dict[int, str] = {}
    for index, title in enumerate(header):
        name = by_name.get(_fold(title))
        if name and name not in found.values():
            found[index] = name
    return found


def _roles() -> dict[str, str]:
    """A role as written in a file: its code, or its label in Japanese or English."""
    words: dict[str, str] = {}
    for code, label in Role.choices:
        words[_fold(code)] = code
        for language in ("ja", "en"):
            with translation.override(language):
                words[_fold(str(label))] = code
    words.update(
        {_fold(w): Role.SV for w in ("SV", "リーダー", "スーパーバイザー")}
        | {_fold(w): Role.MANAGER for w in ("マネージャー", "センター長")}
        | {_fold(w): Role.CLIENT_APPROVER for w in ("企業担当者", "企業担当", "承認者")}
        | {_fold(w): Role.OPERATOR for w in ("OP", "オペレータ")}
        | {_fold(w): Role.DESK for w in ("預かりデスク",)}
    )
    return words


def _split_list(value: str) -> list[str]:
    value = unicodedata.normalize("NFKC", value)
    for separator in LIST_SEPARATORS:
        value = value.replace(separator, ",")
    return [part.strip() for part in value.split(",") if part.strip()]


class _Reader:
    """Turns one row's cells into the values `staff_create`/`staff_update` take."""

    def __init__(self) -> None:
        self.roles = _roles()
        self.sites = {}
        for site in Site.objects.all():
            self.sites[_fold(site.code)] = site
            self.sites[_fold(site.name)] = site
        self.teams = {_fold(t.code): t for t in Team.objects.all()}
        self.clients = {_fold(c.code): c for c in Client.objects.all()}

    def read(self, cells: dict[str, str], problem: Callable[[str, Any], None]) -> dict[str, Any]:
        values: dict[str, Any] = {}

        def attempt(name: str, fn: Callable[[], Any]) -> None:
            try:
                values[name] = fn()
            except DomainError as exc:
                problem(name, exc.message)

        for name in ("display_name", "email", "agreement_version", "agent_id"):
            if name in cells:
                values[name] = cells[name].strip()
        if "language" in cells and cells["language"].strip():
            values["language"] = _fold(cells["language"])[:2]
        if "full_name" in cells:
            parts = cleaning.split_name(cells["full_name"])
            values["family_name"], values["given_name"] = parts or (cells["full_name"].strip(), "")
        for name in ("family_name", "given_name"):
            if cells.get(name, "").strip():
                values[name] = cleaning.text(cells[name], max_length=150)
        if "role" in cells:
            role = self.roles.get(_fold(cells["role"]))
            if role is None:
                problem("role", _("“%(value)s” is not a role.") % {"value": cells["role"]})
            values["role"] = role
        for name in ("agreement_signed_on", "left_on"):
            if name in cells:
                attempt(name, lambda n=name: cleaning.date(cells[n]))
        if "home_site" in cells:
            text = cells["home_site"].strip()
            values["home_site"] = self.sites.get(_fold(text)) if text else None
            if text and values["home_site"] is None:
                problem("home_site", _("No site is called “%(value)s”.") % {"value": text})
        if "team" in cells:
            text = cells["team"].strip()
            values["team"] = self.teams.get(_fold(text)) if text else None
            if text and values["team"] is None:
                problem("team", _("No team has the code “%(value)s”.") % {"value": text})
        if "clients" in cells:
            found = []
            for code in _split_list(cells["clients"]):
                client = self.clients.get(_fold(code))
                if client is None:
                    problem("clients", _("No client has the code “%(value)s”.") % {"value": code})
                else:
                    found.append(client)
            values["clients"] = found
        return values


def _as_approver(values: dict[str, Any], problem: Callable[[str, Any], None]) -> None:
    """A client approver's "clients" column names their one company."""
    if values.get("role") != Role.CLIENT_APPROVER:
        return
    companies = values.pop("clients", [])
    if len(companies) != 1:
        problem("clients", _("A client approver belongs to one company."))
        return
    values["company"] = companies[0]
    values["home_site"] = None


def _changes(person: User, values: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the record: an unchanged row writes nothing."""
    attribute = {"family_name": "last_name", "given_name": "first_name", "company": "client"}
    changed: dict[str, Any] = {}
    for name, value in values.items():
        if name == "clients":
            if {c.pk for c in value} != set(person.clients.values_list("pk", flat=True)):
                changed[name] = value
            continue
        current = getattr(person, attribute.get(name, name))
        if (current or None) != (value or None):
            changed[name] = value
    return changed


def staff_import(
    *, actor: User, path: Path, encoding: str | None = None, dry_run: bool = False
) -> StaffImportResult:
    """Imports a staff file whole, or refuses it with every row's errors (StaffImportRefused).

    The messages are in the active language when the refusal is raised."""
    require(actor, Cap.STAFF_MANAGE)
    sheet = open_sheet(Path(path), encoding=encoding)
    columns = _columns(sheet.header)
    errors: list[RowError] = []
    header_of = {name: sheet.header[i] for i, name in columns.items()}
    if "employee_number" not in columns.values():
        errors.append(
            RowError(1, "employee_number", str(_("The employee number column is missing.")))
        )
    if not {"full_name", "family_name"} & set(columns.values()):
        errors.append(RowError(1, "full_name", str(_("The name column is missing."))))
    if errors:
        raise StaffImportRefused(errors)
    reader = _Reader()
    rows: list[tuple[int, str, dict[str, Any], dt.date | None]] = []
    seen: dict[str, int] = {}
    for number, record in sheet.rows:
        cells = {name: (record[i] if i < len(record) else "") for i, name in columns.items()}

        def problem(name: str, message: Any, row: int = number) -> None:
            errors.append(RowError(row, header_of.get(name, name), str(message)))

        employee = unicodedata.normalize("NFKC", cells.get("employee_number", "")).strip()
        if not employee:
            problem("employee_number", _("This field is required."))
            continue
        if employee in seen:
            problem(
                "employee_number",
                _("This employee number is also in row %(row)s.") % {"row": seen[employee]},
            )
            continue
        seen[employee] = number
        values = reader.read(cells, problem)
        _as_approver(values, problem)
        left_on = values.pop("left_on", None)
        username = cells.get("username", "").strip() or employee
        rows.append((number, username, {"employee_number": employee, **values}, left_on))
    if errors:
        raise StaffImportRefused(errors)
    result = StaffImportResult()
    with transaction.atomic():
        for number, username, values, left_on in rows:
            try:
                _import_row(actor, username, values, left_on, result)
            except DomainError as exc:
                column = header_of.get(exc.field or "", exc.field or "")
                errors.append(RowError(number, column, str(exc.message)))
        if errors or dry_run:
            transaction.set_rollback(True)
    if errors:
        raise StaffImportRefused(errors)
    return result


def _import_row(
    actor: User,
    username: str,
    values: dict[str, Any],
    left_on: dt.date | None,
    result: StaffImportResult,
) -> None:
    employee = values["employee_number"]
    person = (
        User.objects.people()
        .filter(Q(employee_number=employee) | Q(employee_number__isnull=True, username=username))
        .first()
    )
    if person is not None and person.employment_status == EmploymentStatus.LEFT:
        result.unchanged.append(employee)
        return
    if person is None:
        person = staff_create(actor=actor, username=username, **values)
        result.created.append(employee)
    else:
        changes = _changes(person, values)
        if changes:
            staff_update(actor=actor, staff=person, **changes)
            result.updated.append(employee)
        elif left_on is None:
            result.unchanged.append(employee)
    if left_on is not None:
        staff_mark_left(staff=person, left_on=left_on, by=actor)
        result.left.append(employee)
