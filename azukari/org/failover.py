"""A site goes dark: its open azukari and callbacks move to sites that still operate.

`site_down` marks the site down (so no new work lands there), then moves what is left at the
site in batches, one transaction per batch, least-loaded team and person first, each move
recorded (an AssignmentMove and a case event). It is resumable: a run cut short is finished by
the next `site_down`, and a site with nothing left to move makes `site_down` a no-op.
`site_up` lets the site work again and only proposes a rebalance; `rebalance_apply` moves
the work back when a manager says so.
"""

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import AZUKARI_STATES, Callback, CallbackStatus, Case, CaseEvent
from azukari.cases.moves import CaseMove, case_move_bulk
from azukari.cases.texts import SystemText
from azukari.core.errors import DomainError, IllegalTransition, NotVisible, PermissionRefused
from azukari.core.tasks import enqueue
from azukari.org.models import (
    AssignmentMove,
    Client,
    EmploymentStatus,
    MoveKind,
    RebalanceProposal,
    RebalanceStatus,
    Role,
    Site,
    SiteOutage,
    SiteStatus,
    Team,
    User,
)
from azukari.org.permissions import Cap, require

BATCH_SIZE = 500
OPEN_CALLBACK = (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
# People who work azukari and callbacks; operators take the phones.
CASE_WORKERS = (Role.SV, Role.DESK, Role.MANAGER)
MOVE_EVENT = "moved_site_down"
REBALANCE_EVENT = "moved_rebalance"


def require_site_manager(actor: User | None) -> None:
    """Managers and admins change a site's status; the CLI acts as the system (None)."""
    if actor is None:
        return
    require(actor, Cap.SITES_FAILOVER)


def require_site_authority(actor: User | None, site: Site) -> None:
    """A site's status concerns every client it serves, so changing it needs a center-level
    credential: a manager or administrator, or a center integration (its token's scope checked
    by the API) serving every client with work or a team at the site. The CLI is the system."""
    if actor is None:
        return
    token = getattr(actor, "api_token", None)
    if token is None:
        require_site_manager(actor)
        return
    if not token.is_active or token.client_id is not None:
        raise PermissionRefused(_("Only a center integration can change a site's status."))
    if not clients_at_site(site) <= actor.visible_client_ids():
        raise PermissionRefused(
            _("This integration does not serve every client of this site."), field="site"
        )


def clients_at_site(site: Site) -> frozenset[int]:
    """The clients a site's status concerns: those its teams serve and those with open work
    there."""
    served = Team.clients.through.objects.filter(team__site=site).values_list(
        "client_id", flat=True
    )
    with_work = (
        Case.objects.filter(_at_site(site.pk), state__in=AZUKARI_STATES)
        .values_list("client_id", flat=True)
        .distinct()
    )
    return frozenset(served) | frozenset(with_work)


@dataclass
class FailoverReport:
    """What a `site_down` did (or, in a drill, would do)."""

    site: str
    drill: bool
    outage_id: int | None = None
    already_down: bool = False
    cases_moved: int = 0
    callbacks_moved: int = 0
    batches: int = 0
    seconds: float = 0.0
    # client code → how many pieces of work found no operating team serving that client.
    stranded: Counter = field(default_factory=Counter)
    # team code → how many pieces of work it received.
    to_teams: Counter = field(default_factory=Counter)

    @property
    def noop(self) -> bool:
        return self.cases_moved == 0 and self.callbacks_moved == 0

    def as_dict(self) -> dict:
        return {
            "site": self.site,
            "drill": self.drill,
            "outage": self.outage_id,
            "already_down": self.already_down,
            "cases_moved": self.cases_moved,
            "callbacks_moved": self.callbacks_moved,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "stranded": dict(self.stranded),
            "to_teams": dict(self.to_teams),
        }


class LoadBook:
    """Who may take which client's work, and how much each already has.

    Built once per run with a few aggregate queries; each pick takes the least-loaded
    candidate (ties by id, so runs are reproducible) and counts the new piece of work.
    """

    def __init__(self, *, excluded_site_id: int | None = None) -> None:
        operating = Team.objects.filter(site__status=SiteStatus.OPERATING)
        if excluded_site_id is not None:
            operating = operating.exclude(site_id=excluded_site_id)
        self.team_site: dict[int, int] = {}
        self.team_code: dict[int, str] = {}
        self.is_desk: dict[int, bool] = {}
        self.teams_by_client: dict[int, list[int]] = defaultdict(list)
        for team_id, site_id, code, desk, client_id in operating.values_list(
            "id", "site_id", "code", "is_azukari_desk", "clients"
        ).order_by("id"):
            self.team_site[team_id] = site_id
            self.team_code[team_id] = code
            self.is_desk[team_id] = desk
            if client_id is not None:
                self.teams_by_client[client_id].append(team_id)
        # Prefer azukari desks; other teams serving the client take work only without one.
        for client_id, teams in self.teams_by_client.items():
            desks = [t for t in teams if self.is_desk[t]]
            self.teams_by_client[client_id] = desks or teams
        self.team_load: Counter = Counter(
            dict(
                Case.objects.filter(state__in=AZUKARI_STATES, owner_team_id__in=self.team_site)
                .values_list("owner_team_id")
                .annotate(n=Count("id"))
                .values_list("owner_team_id", "n")
            )
        )
        sites = set(self.team_site.values())
        staff = User.objects.people().filter(
            role__in=CASE_WORKERS,
            is_active=True,
            employment_status=EmploymentStatus.ACTIVE,
            agreement_signed_on__isnull=False,
            home_site_id__in=sites,
        )
        self.staff_by_site_client: dict[tuple[int, int], list[int]] = defaultdict(list)
        for user_id, site_id, client_id in staff.values_list(
            "id", "home_site_id", "clients"
        ).order_by("id"):
            if client_id is not None:
                self.staff_by_site_client[(site_id, client_id)].append(user_id)
        self.staff_load: Counter = Counter(
            dict(
                Case.objects.filter(state__in=AZUKARI_STATES, assignee_id__in=staff.values("id"))
                .values_list("assignee_id")
                .annotate(n=Count("id"))
                .values_list("assignee_id", "n")
            )
        )

    def serves(self, team_id: int | None, client_id: int) -> bool:
        return team_id is not None and team_id in self.teams_by_client.get(client_id, ())

    def pick_team(self, client_id: int) -> int | None:
        teams = self.teams_by_client.get(client_id)
        if not teams:
            return None
        team_id = min(teams, key=lambda t: (self.team_load[t], t))
        self.team_load[team_id] += 1
        return team_id

    def pick_staff(self, team_id: int, client_id: int) -> int | None:
        people = self.staff_by_site_client.get((self.team_site[team_id], client_id))
        if not people:
            return None
        user_id = min(people, key=lambda u: (self.staff_load[u], u))
        self.staff_load[user_id] += 1
        return user_id

    def staff_ok(self, user_id: int | None, team_id: int, client_id: int) -> bool:
        return user_id is not None and user_id in self.staff_by_site_client.get(
            (self.team_site[team_id], client_id), ()
        )


@dataclass(frozen=True)
class Move:
    kind: str
    client_id: int
    case_id: int
    callback_id: int | None
    from_team_id: int | None
    from_assignee_id: int | None
    to_team_id: int
    to_assignee_id: int | None
    version: int | None = None  # a case's, as read under lock; callbacks have none


def _at_site(site_id: int, *, prefix: str = "") -> Q:
    """Work is at a site when its team is there, or (cases) it was filed there, or its
    person works there."""
    q = Q(**{f"{prefix}owner_team__site_id": site_id}) | Q(**{f"{prefix}site_id": site_id})
    return q | Q(**{f"{prefix}assignee__home_site_id": site_id})


def _callback_at_site(site_id: int) -> Q:
    return Q(team__site_id=site_id) | Q(assignee__home_site_id=site_id)


def _plan_case(row: dict, book: LoadBook) -> Move | None:
    client_id = row["client_id"]
    team_id = row["owner_team_id"]
    # A team that still operates keeps its case; only its person at the dark site changes.
    if not book.serves(team_id, client_id):
        team_id = book.pick_team(client_id)
        if team_id is None:
            return None
    assignee_id = row["assignee_id"]
    if assignee_id is not None and not book.staff_ok(assignee_id, team_id, client_id):
        assignee_id = book.pick_staff(team_id, client_id)
    return Move(
        kind=MoveKind.CASE,
        client_id=client_id,
        case_id=row["id"],
        callback_id=None,
        from_team_id=row["owner_team_id"],
        from_assignee_id=row["assignee_id"],
        to_team_id=team_id,
        to_assignee_id=assignee_id,
        version=row["version"],
    )


def _plan_callback(row: dict, book: LoadBook) -> Move | None:
    client_id = row["client_id"]
    # A callback follows its case when the case's team operates; else it is placed alone.
    team_id = row["case__owner_team_id"]
    assignee_id = row["case__assignee_id"]
    if not book.serves(team_id, client_id):
        team_id = book.pick_team(client_id)
        if team_id is None:
            return None
        assignee_id = None
    if assignee_id is not None and not book.staff_ok(assignee_id, team_id, client_id):
        assignee_id = None
    if row["assignee_id"] is not None and assignee_id is None:
        assignee_id = book.pick_staff(team_id, client_id)
    return Move(
        kind=MoveKind.CALLBACK,
        client_id=client_id,
        case_id=row["case_id"],
        callback_id=row["id"],
        from_team_id=row["team_id"],
        from_assignee_id=row["assignee_id"],
        to_team_id=team_id,
        to_assignee_id=assignee_id,
    )


CASE_FIELDS = ("id", "client_id", "owner_team_id", "assignee_id", "version")
CALLBACK_FIELDS = (
    "id",
    "client_id",
    "case_id",
    "team_id",
    "assignee_id",
    "case__owner_team_id",
    "case__assignee_id",
)


def _apply_moves(
    moves: list[Move],
    *,
    outage: SiteOutage,
    batch: int,
    actor: User | None,
    now: dt.datetime,
) -> int:
    """Writes one batch: the cases through the move primitive (clocks settled on the dark
    site's hours, one event each), callbacks alone in grouped UPDATEs with one event each, and
    one move record per piece of work. A case's pending callbacks go with it; returns how many
    did."""
    records: list[AssignmentMove] = []
    case_moves = [m for m in moves if m.kind == MoveKind.CASE]
    by_case = {m.case_id: m for m in case_moves}
    pending = Callback.objects.filter(case_id__in=list(by_case), status__in=OPEN_CALLBACK)
    followers = 0
    for callback_id, case_id, from_team, from_assignee in pending.values_list(
        "id", "case_id", "team_id", "assignee_id"
    ):
        move = by_case[case_id]
        records.append(
            AssignmentMove(
                outage=outage,
                client_id=move.client_id,
                kind=MoveKind.CALLBACK,
                case_id=case_id,
                callback_id=callback_id,
                from_team_id=from_team,
                from_assignee_id=from_assignee,
                to_team_id=move.to_team_id,
                to_assignee_id=move.to_assignee_id,
                batch=batch,
                moved_at=now,
            )
        )
        followers += 1
    note = gettext("Moved from %(site)s: the site is down.") % {"site": outage.site.name}
    case_move_bulk(
        moves=[
            CaseMove(
                case_id=m.case_id,
                version=m.version,
                team_id=m.to_team_id,
                assignee_id=m.to_assignee_id,
                data=_event_data(m, outage=outage.pk),
            )
            for m in case_moves
        ],
        actor=actor,
        kind=MOVE_EVENT,
        note=note,
        now=now,
    )
    callback_moves = [m for m in moves if m.kind == MoveKind.CALLBACK]
    for (team_id, assignee_id), group in _group(callback_moves).items():
        Callback.objects.filter(pk__in=[m.callback_id for m in group]).update(
            team_id=team_id, assignee_id=assignee_id
        )
    # A callback moved alone leaves its case where it is: its event names no site.
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                client_id=m.client_id,
                case_id=m.case_id,
                at=now,
                actor=actor,
                kind=MOVE_EVENT,
                note=note,
                data=_event_data(m, outage=outage.pk),
            )
            for m in callback_moves
        ],
        batch_size=1000,
    )
    records.extend(
        AssignmentMove(
            outage=outage,
            client_id=m.client_id,
            kind=m.kind,
            case_id=m.case_id,
            callback_id=m.callback_id,
            from_team_id=m.from_team_id,
            from_assignee_id=m.from_assignee_id,
            to_team_id=m.to_team_id,
            to_assignee_id=m.to_assignee_id,
            batch=batch,
            moved_at=now,
        )
        for m in moves
    )
    AssignmentMove.objects.bulk_create(records, batch_size=1000)
    return followers


def _event_data(move: Move, *, outage: int) -> dict:
    return {
        "outage": outage,
        "what": move.kind,
        "callback": move.callback_id,
        "from_team": move.from_team_id,
        "to_team": move.to_team_id,
        "from_assignee": move.from_assignee_id,
        "to_assignee": move.to_assignee_id,
    }


def _mark_down(site: Site, actor: User | None, note: str) -> tuple[SiteOutage, bool]:
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        already = site.status == SiteStatus.DOWN
        now = timezone.now()
        if not already:
            Site.objects.filter(pk=site.pk).update(status=SiteStatus.DOWN, status_changed_at=now)
        outage = SiteOutage.objects.filter(site=site, ended_at__isnull=True).first()
        if outage is None:
            outage = SiteOutage.objects.create(
                site=site, started_at=now, started_by=actor, note=note[:300]
            )
        return outage, already


def _batches(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def site_down(
    *,
    site: Site,
    actor: User | None,
    drill: bool = False,
    note: str = "",
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    client_ids: Collection[int] | None = None,
) -> FailoverReport:
    """Marks `site` down and moves its open work away; with `drill`, only says what would move.

    Not one big transaction on purpose: each batch commits on its own, so a large site does
    not hold locks for minutes and an interrupted run keeps what it moved; running it again
    finishes the rest. Moved work no longer matches "at this site", which is what makes a
    second run a no-op. A drill can be limited to `client_ids`: what its caller may see.
    """
    require_site_authority(actor, site)
    if client_ids is not None and not drill:
        raise DomainError(_("Only a drill can be limited to some clients."), field="clients")
    started = time.perf_counter()
    report = FailoverReport(site=site.code, drill=drill)
    if drill:
        report.already_down = site.status == SiteStatus.DOWN
    else:
        outage, report.already_down = _mark_down(site, actor, note)
        report.outage_id = outage.pk
    book = LoadBook(excluded_site_id=site.pk)
    client_codes = dict(Client.objects.values_list("id", "code"))
    cases_at_site = Case.objects.filter(_at_site(site.pk), state__in=AZUKARI_STATES)
    callbacks_at_site = Callback.objects.filter(
        _callback_at_site(site.pk), status__in=OPEN_CALLBACK
    )
    if client_ids is not None:
        cases_at_site = cases_at_site.filter(client_id__in=list(client_ids))
        callbacks_at_site = callbacks_at_site.filter(client_id__in=list(client_ids))
    case_ids = list(cases_at_site.order_by("id").values_list("id", flat=True))
    callback_total = callbacks_at_site.count()
    total = len(case_ids) + callback_total
    done = 0
    for chunk in _batches(case_ids, batch_size):
        if drill:
            rows = Case.objects.filter(pk__in=chunk).values(*CASE_FIELDS)
            moves = _plan(rows, _plan_case, book, report, client_codes)
        else:
            with transaction.atomic():
                # Rows locked and re-read: a case settled or reassigned since the id list
                # was taken is left alone; a concurrent edit waits, then sees a new version.
                rows = (
                    Case.objects.select_for_update(of=("self",))
                    .filter(_at_site(site.pk), pk__in=chunk, state__in=AZUKARI_STATES)
                    .order_by("id")
                    .values(*CASE_FIELDS)
                )
                moves = _plan(rows, _plan_case, book, report, client_codes)
                report.batches += 1
                report.callbacks_moved += _apply_moves(
                    moves,
                    outage=outage,
                    batch=report.batches,
                    actor=actor,
                    now=timezone.now(),
                )
        report.cases_moved += len(moves)
        for m in moves:
            report.to_teams[book.team_code[m.to_team_id]] += 1
        done += len(chunk)
        if progress:
            progress(done, total)
    # Callbacks still pointing at the site: those of cases that did not move with them
    # (their case lives elsewhere, or could not move).
    callback_ids = list(callbacks_at_site.order_by("id").values_list("id", flat=True))
    if drill:
        # Callbacks of cases that would move follow them; count only the others.
        moved_case_ids = set(case_ids)
        callback_ids = list(
            Callback.objects.filter(pk__in=callback_ids)
            .exclude(case_id__in=moved_case_ids)
            .values_list("id", flat=True)
        )
        report.callbacks_moved += Callback.objects.filter(
            case_id__in=moved_case_ids, status__in=OPEN_CALLBACK
        ).count()
    for chunk in _batches(callback_ids, batch_size):
        if drill:
            rows = Callback.objects.filter(pk__in=chunk).values(*CALLBACK_FIELDS)
            moves = _plan(rows, _plan_callback, book, report, client_codes)
        else:
            with transaction.atomic():
                rows = (
                    Callback.objects.select_for_update(of=("self",))
                    .filter(_callback_at_site(site.pk), pk__in=chunk, status__in=OPEN_CALLBACK)
                    .order_by("id")
                    .values(*CALLBACK_FIELDS)
                )
                moves = _plan(rows, _plan_callback, book, report, client_codes)
                report.batches += 1
                _apply_moves(
                    moves,
                    outage=outage,
                    batch=report.batches,
                    actor=actor,
                    now=timezone.now(),
                )
        report.callbacks_moved += len(moves)
        for m in moves:
            report.to_teams[book.team_code[m.to_team_id]] += 1
        done += len(chunk)
        if progress:
            progress(done, total)
    report.seconds = time.perf_counter() - started
    return report


def _plan(rows, planner, book: LoadBook, report: FailoverReport, codes: dict) -> list[Move]:
    moves: list[Move] = []
    for row in rows:
        move = planner(row, book)
        if move is None:
            report.stranded[codes.get(row["client_id"], "?")] += 1
        else:
            moves.append(move)
    return moves


# ---------------------------------------------------------------- back to operating


@transaction.atomic
def site_up(*, site: Site, actor: User | None, note: str = "") -> RebalanceProposal | None:
    """The site works again; work that left it is offered back, never moved back silently."""
    require_site_authority(actor, site)
    site = Site.objects.select_for_update().get(pk=site.pk)
    if site.status != SiteStatus.DOWN:
        raise IllegalTransition(_("This site is not down."), field="status")
    now = timezone.now()
    Site.objects.filter(pk=site.pk).update(status=SiteStatus.OPERATING, status_changed_at=now)
    outage = SiteOutage.objects.filter(site=site, ended_at__isnull=True).first()
    if outage is None:
        return None
    SiteOutage.objects.filter(pk=outage.pk).update(ended_at=now)
    items = []
    still_there = Case.objects.filter(
        state__in=AZUKARI_STATES,
        pk__in=AssignmentMove.objects.filter(outage=outage, kind=MoveKind.CASE).values("case_id"),
    ).values_list("id", "owner_team_id", "assignee_id")
    current = {pk: (team, assignee) for pk, team, assignee in still_there}
    for move in AssignmentMove.objects.filter(outage=outage, kind=MoveKind.CASE).order_by("id"):
        now_at = current.get(move.case_id)
        # Only work still where the failover put it: anything touched since is left alone.
        if now_at is None or now_at != (move.to_team_id, move.to_assignee_id):
            continue
        if move.from_team_id is None:
            continue
        items.append(
            {
                "case": move.case_id,
                "from_team": move.to_team_id,
                "from_assignee": move.to_assignee_id,
                "to_team": move.from_team_id,
                "to_assignee": move.from_assignee_id,
            }
        )
    return RebalanceProposal.objects.create(outage=outage, site=site, created_at=now, items=items)


def rebalance_apply(*, proposal: RebalanceProposal, actor: User | None) -> int:
    """Moves back the proposed work that is still where the failover put it; returns count."""
    require_site_authority(actor, proposal.site)
    with transaction.atomic():
        proposal = RebalanceProposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status != RebalanceStatus.PROPOSED:
            raise IllegalTransition(_("This proposal was already decided."), field="status")
        if proposal.site.status != SiteStatus.OPERATING:
            raise DomainError(_("The site is not operating."), field="site")
        book = LoadBook()
        by_case = {item["case"]: item for item in proposal.items}
        rows = (
            Case.objects.select_for_update(of=("self",))
            .filter(pk__in=list(by_case), state__in=AZUKARI_STATES)
            .order_by("id")
            .values_list("id", "client_id", "owner_team_id", "assignee_id", "version")
        )
        moves = []
        for case_id, client_id, team_id, assignee_id, version in rows:
            item = by_case[case_id]
            if (team_id, assignee_id) != (item["from_team"], item["from_assignee"]):
                continue
            if not book.serves(item["to_team"], client_id):
                continue
            to_assignee = item["to_assignee"]
            if to_assignee is not None and not book.staff_ok(
                to_assignee, item["to_team"], client_id
            ):
                to_assignee = None
            # Rebalance moves are case events only; the move records belong to the outage.
            moves.append(
                CaseMove(
                    case_id=case_id,
                    version=version,
                    team_id=item["to_team"],
                    assignee_id=to_assignee,
                    data={
                        "proposal": proposal.pk,
                        "from_team": team_id,
                        "to_team": item["to_team"],
                        "from_assignee": assignee_id,
                        "to_assignee": to_assignee,
                    },
                )
            )
        now = timezone.now()
        case_move_bulk(
            moves=moves,
            actor=actor,
            kind=REBALANCE_EVENT,
            note=SystemText("moved_back", {"site": proposal.site.name}),
            now=now,
        )
        RebalanceProposal.objects.filter(pk=proposal.pk).update(
            status=RebalanceStatus.APPLIED, decided_at=now, decided_by=actor
        )
        return len(moves)


@transaction.atomic
def rebalance_dismiss(*, proposal: RebalanceProposal, actor: User | None) -> None:
    require_site_authority(actor, proposal.site)
    updated = RebalanceProposal.objects.filter(
        pk=proposal.pk, status=RebalanceStatus.PROPOSED
    ).update(status=RebalanceStatus.DISMISSED, decided_at=timezone.now(), decided_by=actor)
    if not updated:
        raise IllegalTransition(_("This proposal was already decided."), field="status")


def _group(moves: list[Move]) -> dict[tuple[int, int | None], list[Move]]:
    groups: dict[tuple[int, int | None], list[Move]] = defaultdict(list)
    for move in moves:
        groups[(move.to_team_id, move.to_assignee_id)].append(move)
    return groups


# ---------------------------------------------------------------- lookups and routing


def site_by_code(code: str) -> Site:
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise NotVisible(_("No site with this code."))
    return site


def routing_now(*, client_ids: Iterable[int], now: dt.datetime | None = None) -> list[dict]:
    """Which sites take each client's calls now: not down, a team serving the client, open.

    Sites that are up but outside their hours are listed as standing by.
    """
    from azukari.core.businesstime import TOKYO, is_public_holiday
    from azukari.org.models import SiteHours

    now = (now or timezone.now()).astimezone(TOKYO)
    clients = Client.objects.filter(pk__in=list(client_ids), is_active=True).order_by("code")
    closed_today = set(
        Client.objects.filter(pk__in=list(client_ids), closed_days__date=now.date()).values_list(
            "id", flat=True
        )
    )
    hours = {
        site_id: (opens, closes)
        for site_id, opens, closes in SiteHours.objects.filter(weekday=now.weekday()).values_list(
            "site_id", "opens_at", "closes_at"
        )
    }
    teams = (
        Team.objects.filter(clients__in=clients)
        .exclude(site__status=SiteStatus.DOWN)
        .values_list("clients", "site_id", "site__code", "site__name", "site__status")
        .distinct()
        .order_by("site__code")
    )
    sites_by_client: dict[int, dict[int, dict]] = defaultdict(dict)
    for client_id, site_id, code, name, status in teams:
        window = hours.get(site_id)
        open_now = (
            window is not None
            and window[0] <= now.time() < window[1]
            and client_id not in closed_today
        )
        sites_by_client[client_id][site_id] = {
            "code": code,
            "name": name,
            "status": status,
            "open_now": open_now,
        }
    answer = []
    for client in clients:
        sites = list(sites_by_client[client.pk].values())
        answer.append(
            {
                "client": client.code,
                "taking_calls": [s for s in sites if s["open_now"]],
                "standing_by": [s for s in sites if not s["open_now"]],
                "public_holiday": is_public_holiday(now.date()),
                "closed_today": client.pk in closed_today,
            }
        )
    return answer


def work_at_site(site: Site, *, client_ids: Collection[int] | None = None) -> tuple[int, int]:
    """Open azukari and pending callbacks still at the site (what a `site_down` would move),
    of `client_ids` only when given."""
    cases = Case.objects.filter(_at_site(site.pk), state__in=AZUKARI_STATES)
    callbacks = Callback.objects.filter(_callback_at_site(site.pk), status__in=OPEN_CALLBACK)
    if client_ids is not None:
        cases = cases.filter(client_id__in=list(client_ids))
        callbacks = callbacks.filter(client_id__in=list(client_ids))
    return cases.count(), callbacks.count()


@transaction.atomic
def site_mark_down(*, site: Site, actor: User | None, note: str = "") -> SiteOutage:
    """Marks the site down now and queues the moves for the worker (for the admin and API,
    which should not hold a request open while 100,000 azukari move).

    The task row commits with the status change: a process killed right after the commit
    still leaves the moves queued."""
    require_site_authority(actor, site)
    outage, _already = _mark_down(site, actor, note)
    _enqueue("azukari.org.tasks.site_failover_continue", site.pk, actor.pk if actor else None)
    return outage


def _enqueue(func: str, *args) -> None:
    enqueue(func, *args, group="failover")
