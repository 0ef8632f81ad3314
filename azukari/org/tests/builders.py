"""Bulk builders for failover tests and benchmarks: thousands of open azukari at once.

Rows are those `case_park` would leave (state, team, site, person, parked time); built with
bulk_create because building 100,000 through the services would take longer than the test.
"""

import datetime as dt
import itertools

from django.utils import timezone

from azukari.cases.models import Callback, CallbackStatus, Case, CaseKind, CaseState
from azukari.org.models import Client, Team, User
from azukari.testing.factories import CustomerFactory

OPEN_STATES = [
    CaseState.AZUKARI,
    CaseState.WAITING_CLIENT,
    CaseState.WAITING_CUSTOMER,
    CaseState.CALLBACK_DUE,
]


def open_azukari(
    *,
    client: Client,
    team: Team,
    count: int,
    opened_by: User,
    assignees: list[User | None] = (None,),
    callbacks_every: int = 0,
    batch_size: int = 5000,
) -> list[int]:
    """Creates `count` open azukari owned by `team`; every n-th gets a pending callback."""
    customer = CustomerFactory(client=client)
    now = timezone.now()
    ids: list[int] = []
    people = itertools.cycle(assignees)
    states = itertools.cycle(OPEN_STATES)
    made = 0
    while made < count:
        n = min(batch_size, count - made)
        rows = [
            Case(
                client=client,
                customer=customer,
                kind=CaseKind.CANCELLATION,
                subject=f"Azukari {made + i}",
                state=next(states),
                azukari_reason="client_decision",
                site_id=team.site_id,
                owner_team=team,
                assignee=next(people),
                opened_by=opened_by,
                opened_at=now - dt.timedelta(days=2),
                parked_at=now - dt.timedelta(days=2),
            )
            for i in range(n)
        ]
        created = Case.objects.bulk_create(rows)
        batch_ids = [c.pk for c in created]
        if callbacks_every:
            Callback.objects.bulk_create(
                [
                    Callback(
                        client=client,
                        case_id=c.pk,
                        customer=customer,
                        origin="promise",
                        status=CallbackStatus.SCHEDULED,
                        created_at=now,
                        scheduled_for=now + dt.timedelta(days=1),
                        team=team,
                        assignee=c.assignee,
                    )
                    for c in created[::callbacks_every]
                ]
            )
        ids.extend(batch_ids)
        made += n
    return ids
