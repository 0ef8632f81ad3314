"""Moving open azukari between teams, people and sites: one rule, a single and a bulk form.

A move keeps the case's state. It checks the version the caller read, settles the running
clock on the calendar of the site the case was at when the move takes it to another site (from
then on the new site's hours count), takes the case's pending callbacks along, and writes one
case event naming the site the case is at afterwards, which the clocks' recompute reads back.
The backlog tallies and trend follow from the rows written (database triggers), in the same
transaction.

`case_assign` (pages, API), the failover, the rebalance and the demo all move cases through
here; a bulk move and the same moves made one by one leave identical rows.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import ExpressionWrapper, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import AZUKARI_STATES, Callback, CallbackStatus, Case, CaseEvent
from azukari.cases.statemachine import CLOCK_OF_STATE
from azukari.cases.texts import SystemText, stored
from azukari.core.businesstime import BusinessCalendar, business_seconds
from azukari.core.compiled import CompiledQuery
from azukari.core.errors import DomainError, IllegalTransition, NotVisible, StaleVersion
from azukari.org.models import Client, Site, SiteStatus, Team, User, business_calendar

OPEN_CALLBACK = (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
CLOCK_COLUMNS = ("center", "client", "customer")


@dataclass(frozen=True)
class CaseMove:
    """One case to move: the version the caller read, where it goes, and what the event
    records besides the site."""

    case_id: int
    version: int
    team_id: int
    assignee_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def case_move_bulk(
    *,
    moves: Sequence[CaseMove],
    actor: User | None,
    kind: str,
    note: str | SystemText = "",
    now: dt.datetime | None = None,
) -> int:
    """Moves every case in `moves` or none: a case changed since its version was read, settled
    meanwhile or gone refuses the whole batch. Returns how many cases moved.

    Checks of who may move what belong to the callers (`case_assign`, the failover); this
    is the move itself. A few queries per batch whatever its size."""
    if not moves:
        return 0
    now = now or timezone.now()
    by_case = {m.case_id: m for m in moves}
    if len(by_case) != len(moves):
        raise IllegalTransition(_("A case cannot move twice in one batch."), field="case")
    rows = {
        row["id"]: row
        for row in Case.objects.select_for_update(of=("self",))
        .filter(pk__in=list(by_case))
        .order_by("id")
        .values("id", "client_id", "version", "state", "site_id", "clock_since")
    }
    for move in moves:
        row = rows.get(move.case_id)
        if row is None:
            raise NotVisible(field="case")
        if row["version"] != move.version:
            raise StaleVersion(current_version=row["version"])
        if row["state"] not in AZUKARI_STATES:
            raise IllegalTransition(_("Only an open azukari can be reassigned."), field="state")
    team_site = dict(
        Team.objects.filter(pk__in={m.team_id for m in moves}).values_list("id", "site_id")
    )
    if sites_down_locked(team_site.values()):
        raise DomainError(_("This team's site is down."), field="team")
    calendars = _Calendars(rows.values())
    # (team, site, assignee) → [(case id, clock column or None, seconds to add)]
    groups: dict[tuple[int, int, int | None], list[tuple[int, str | None, int]]] = defaultdict(list)
    for move in moves:
        row = rows[move.case_id]
        site_id = team_site[move.team_id]
        running = CLOCK_OF_STATE.get(row["state"])
        settle: tuple[str | None, int] = (None, 0)
        if running and row["clock_since"] and site_id != row["site_id"]:
            # The time so far ran on the old site's hours; from now on the new site's count.
            calendar = calendars.of(row["client_id"], row["site_id"])
            settle = (running, business_seconds(row["clock_since"], now, calendar))
        groups[(move.team_id, site_id, move.assignee_id)].append((move.case_id, *settle))
    for (team_id, site_id, assignee_id), group in groups.items():
        ids = [case_id for case_id, _clock, _spent in group]
        updates: dict[str, Any] = {
            "owner_team_id": team_id,
            "site_id": site_id,
            "assignee_id": assignee_id,
            "version": F("version") + 1,
        }
        settled = [case_id for case_id, clock, _spent in group if clock]
        if settled:
            updates["clock_since"] = SqlCase(
                When(pk__in=settled, then=Value(now)), default=F("clock_since")
            )
            for column in CLOCK_COLUMNS:
                by_spent: dict[int, list[int]] = defaultdict(list)
                for case_id, clock, spent in group:
                    if clock == column and spent:
                        by_spent[spent].append(case_id)
                if by_spent:
                    name = f"{column}_seconds"
                    column_field = Case._meta.get_field(name)
                    updates[name] = SqlCase(
                        *(
                            When(
                                pk__in=case_ids,
                                then=ExpressionWrapper(F(name) + spent, output_field=column_field),
                            )
                            for spent, case_ids in by_spent.items()
                        ),
                        default=F(name),
                        output_field=column_field,
                    )
        changed = Case.objects.filter(pk__in=ids).update(**updates)
        if changed != len(ids):  # pragma: no cover - the rows are locked above
            raise StaleVersion()
        Callback.objects.filter(case_id__in=ids, status__in=OPEN_CALLBACK).update(
            team_id=team_id, assignee_id=assignee_id
        )
    note_words, note_code, note_params = stored(note)
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                client_id=rows[m.case_id]["client_id"],
                case_id=m.case_id,
                at=now,
                actor=actor,
                kind=kind,
                note=note_words,
                note_code=note_code,
                note_params=note_params,
                data={**m.data, "site": team_site[m.team_id]},
            )
            for m in moves
        ],
        batch_size=1000,
    )
    return len(moves)


@transaction.atomic
def case_move(
    *,
    case: Case,
    version: int,
    actor: User | None,
    team: Team,
    assignee: User | None = None,
    kind: str,
    note: str | SystemText = "",
    data: dict[str, Any] | None = None,
) -> Case:
    """One case moved: the bulk move of one, and the case read back."""
    case_move_bulk(
        moves=[
            CaseMove(
                case_id=case.pk,
                version=version,
                team_id=team.pk,
                assignee_id=assignee.pk if assignee else None,
                data=data or {},
            )
        ],
        actor=actor,
        kind=kind,
        note=note,
    )
    case.refresh_from_db()
    return case


# Read by every park and move: compiled once (see core.compiled).
_SITES_DOWN = CompiledQuery[int](
    lambda ids: Site.objects.filter(pk__in=ids, status=SiteStatus.DOWN).values_list("id", flat=True)
)


def sites_down_locked(site_ids: Iterable[int]) -> frozenset[int]:
    """Which of these sites are down, read under a lock that `site_down` waits for.

    `site_down` locks the site row for update before it marks it down and reads the work at
    the site. A park or move that saw the site operating holds a key-share lock on the row
    until it commits, so the failover that follows sees (and moves) what it wrote; one that
    comes after the failover's commit reads the site down. Key-share locks do not wait for
    each other: parks at one site do not queue behind one another. SQLite serialises writers
    anyway (immediate transactions)."""
    ids = sorted(set(site_ids))
    if not ids:
        return frozenset()
    if connection.vendor != "postgresql":
        return frozenset(_SITES_DOWN(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, status FROM {connection.ops.quote_name(Site._meta.db_table)} "
            "WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",
            [ids],
        )
        return frozenset(pk for pk, status in cursor.fetchall() if status == SiteStatus.DOWN)


class _Calendars:
    """The business calendars of the (client, site) pairs of a batch, each built once."""

    def __init__(self, rows) -> None:
        rows = list(rows)
        self.clients = Client.objects.in_bulk({r["client_id"] for r in rows})
        self.sites = Site.objects.in_bulk({r["site_id"] for r in rows if r["site_id"]})
        self.built: dict[tuple[int, int | None], BusinessCalendar] = {}

    def of(self, client_id: int, site_id: int | None) -> BusinessCalendar:
        key = (client_id, site_id)
        if key not in self.built:
            self.built[key] = business_calendar(
                client=self.clients[client_id], site=self.sites.get(site_id)
            )
        return self.built[key]
