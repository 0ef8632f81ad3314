"""The demo's open azukari, moved on through the case services as the desk would move them.

The bulk loader leaves every open azukari in the center's turn; here the desk sends some to
the client (an inquiry), the client answers some of those (a callback to schedule), the desk
promises callbacks inside the customer's windows, waits on customers and assigns cases to
people. So every state comes with the records it implies: a case waiting for the client has
its open inquiry, a case owing a callback has the callback.
"""

import datetime as dt
import random

from django.utils import timezone

from azukari.cases import services as cases
from azukari.cases.models import Case, CaseState
from azukari.cases.scheduling import call_calendar_for, preferences_of, propose_callback_times
from azukari.core.errors import DomainError
from azukari.org.models import Role, User

QUESTION = "お客様から例外のお申し出があります。ご判断をお願いします。"
OPTIONS = [
    {"code": "accept", "label": "お申し出どおり承認"},
    {"code": "standard", "label": "通常の条件でご案内"},
]


def _people() -> tuple[dict, dict, dict]:
    desks = {u.home_site_id: u for u in User.objects.filter(role=Role.DESK).order_by("pk")}
    approvers = {
        u.client_id: u for u in User.objects.filter(role=Role.CLIENT_APPROVER).order_by("pk")
    }
    holders: dict[int, list[User]] = {}
    for user in User.objects.filter(role__in=(Role.DESK, Role.SV)).order_by("pk"):
        holders.setdefault(user.home_site_id, []).append(user)
    return desks, approvers, holders


def _promise_time(case: Case, now: dt.datetime) -> dt.datetime | None:
    proposals = propose_callback_times(
        prefs=preferences_of(case.customer),
        calendar=call_calendar_for(client=case.client, site=case.site),
        after=now + dt.timedelta(hours=1),
        count=1,
    )
    return proposals[0] if proposals else None


def demo_azukari_move_on(*, seed: int = 7) -> dict[str, int]:
    """Moves the bulk-loaded open azukari on, each step through its service; idempotent
    enough for a demo: cases already moved are no longer in the center's turn."""
    rng = random.Random(seed)
    desks, approvers, holders = _people()
    any_desk = next(iter(desks.values()), None)
    moved = {"inquiries": 0, "answered": 0, "promised": 0, "waiting_customer": 0, "assigned": 0}
    if any_desk is None:
        return moved
    parked = (
        Case.objects.filter(state=CaseState.AZUKARI, owner_team__isnull=False)
        .select_related("client", "site", "customer", "owner_team__site")
        .order_by("pk")
    )
    for case in parked.iterator(chunk_size=200):
        actor = desks.get(case.site_id, any_desk)
        roll = rng.random()
        try:
            if rng.random() < 0.5 and holders.get(case.site_id):
                case = cases.case_assign(
                    case=case,
                    version=case.version,
                    actor=actor,
                    team=case.owner_team,
                    assignee=rng.choice(holders[case.site_id]),
                )
                moved["assigned"] += 1
            if roll < 0.35:
                inquiry = cases.inquiry_send(
                    case=case, version=case.version, actor=actor, question=QUESTION,
                    options=OPTIONS,
                )  # fmt: skip
                moved["inquiries"] += 1
                approver = approvers.get(case.client_id)
                if approver is not None and rng.random() < 0.35:
                    cases.inquiry_answer(
                        inquiry=inquiry, actor=approver, option=rng.choice(OPTIONS)["code"]
                    )
                    moved["answered"] += 1
            elif roll < 0.5:
                at = _promise_time(case, timezone.now())
                if at is not None:
                    cases.case_promise_callback(
                        case=case,
                        version=case.version,
                        actor=actor,
                        promised_for=at,
                        note="お客様のご都合の時間に折り返しを約束",
                    )
                    moved["promised"] += 1
            elif roll < 0.65:
                cases.case_wait_on_customer(
                    case=case,
                    version=case.version,
                    actor=actor,
                    note="書類の返送待ち",
                )
                moved["waiting_customer"] += 1
        except DomainError:
            continue  # that step is refused (e.g. a site down): the case stays as it is
    return moved
