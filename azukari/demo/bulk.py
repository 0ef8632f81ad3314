"""Bulk data for demos, tests of scale and benchmarks: real rows, written in batches.

Cases get an event history that the clock computation accepts, so a generated case looks
exactly like one that went through the services.
"""

import datetime as dt
import random
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from azukari.cases.clocks import clocks_from_history
from azukari.cases.models import (
    AzukariReason,
    CallerRelation,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Contact,
    Direction,
    IdentityCheck,
    Stance,
)
from azukari.core.businesstime import BusinessCalendar
from azukari.core.text import search_text
from azukari.customers.models import Customer, CustomerPhone
from azukari.demo.indexes import indexes_deferred
from azukari.demo.names import FAMILY_NAMES, GIVEN_NAMES, PLACES
from azukari.demo.rows import Ids, insert, reset_sequences
from azukari.org.calendars import business_calendar
from azukari.org.models import Client, Team, User
from azukari.subscriptions.models import Delivery, DeliveryStatus, Plan, Subscription

BATCH = 2000

STATE_WEIGHTS = [
    (CaseState.RESOLVED, 45),
    (CaseState.CLOSED, 25),
    (CaseState.AZUKARI, 10),
    (CaseState.WAITING_CLIENT, 8),
    (CaseState.WAITING_CUSTOMER, 5),
    (CaseState.CALLBACK_DUE, 5),
    (CaseState.OPEN, 2),
]
SUBJECTS = {
    CaseKind.CANCELLATION: "解約希望",
    CaseKind.DELIVERY: "配送日変更",
    CaseKind.BILLING: "請求内容の確認",
    CaseKind.DEFECT: "マシン不具合",
    CaseKind.COMPLAINT: "対応へのご不満",
    CaseKind.INFORMATION: "商品の問い合わせ",
}


# Open azukari states whose records (inquiry, callback) only the services write.
MOVED_ON_BY_SERVICES = frozenset(
    {CaseState.WAITING_CLIENT, CaseState.WAITING_CUSTOMER, CaseState.CALLBACK_DUE}
)
STANCES = list(Stance.values)
REASONS = list(AzukariReason.values)
SUBJECT_KINDS = list(SUBJECTS)
SUBJECT_TEXTS = list(SUBJECTS.values())


@dataclass
class ClientSetup:
    client: Client
    plans: list[Plan]
    teams: list[Team]
    handlers: list[User]
    calendars: dict[int, BusinessCalendar]


def _setup(client: Client) -> ClientSetup:
    plans = list(Plan.objects.filter(client=client))
    teams = list(Team.objects.filter(clients=client, is_azukari_desk=True).select_related("site"))
    handlers = list(User.objects.center_staff().filter(clients=client, home_site__isnull=False))
    if not plans or not teams or not handlers:
        raise ValueError(f"client {client.code} needs plans, azukari desk teams and staff first")
    calendars = {t.site_id: business_calendar(client=client, site=t.site) for t in teams}
    return ClientSetup(client, plans, teams, handlers, calendars)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass(frozen=True)
class Mix:
    """Average cases and other contacts per customer."""

    cases: float
    calls: float

    @staticmethod
    def draw(rng: random.Random, mean: float) -> int:
        """A count with the given mean, spread from none to twice the mean."""
        if mean <= 0:
            return 0
        whole = int(2 * mean)
        n = rng.randint(0, whole)
        # Top up so that the mean is exact when 2 * mean is not a whole number.
        return n + (rng.random() < (2 * mean - whole) / 2)


def _phone(index: int) -> str:
    """A distinct mobile number inside the real numbering plan (090/080/070, then 1–9), so
    that generated customers can be popped like real ones."""
    prefix = ("90", "80", "70")[index % 3]
    n = index // 3
    return f"+81{prefix}{1 + (n // 10_000_000) % 9}{n % 10_000_000:07d}"


def generate(
    *,
    clients: list[Client],
    customers: int,
    seed: int = 7,
    contacts_per_customer: float = 2.0,
    cases_per_customer: float = 0.5,
    defer_indexes: bool = False,
    open_as_azukari: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Adds `customers` customers spread over `clients`, with their whole history.

    Each case comes with the contact that opened it; the other contacts make up the average
    number of contacts per customer asked for. With `defer_indexes`, secondary indexes are
    built once at the end (see `indexes_deferred`). With `open_as_azukari`, every open azukari
    is left in the center's turn: the demo then moves them on through the services, so that a
    case waiting for the client has its inquiry and one owing a callback has the callback.
    """
    rng = random.Random(seed)
    mix = Mix(cases=cases_per_customer, calls=max(0.0, contacts_per_customer - cases_per_customer))
    setups = [_setup(c) for c in clients]
    now = timezone.now()
    ids = Ids()
    start_index = Customer.objects.count()
    counts = dict.fromkeys(
        ["customers", "subscriptions", "deliveries", "contacts", "cases", "events"], 0
    )
    done = 0
    loaded = [Customer, CustomerPhone, Subscription, Delivery, Contact, Case, CaseEvent]
    with indexes_deferred(loaded) if defer_indexes else nullcontext():
        while done < customers:
            size = min(BATCH, customers - done)
            with transaction.atomic():
                _batch(
                    rng, setups, ids, start_index + done, size, now, counts, mix, open_as_azukari
                )
            done += size
            if progress:
                progress(size)
    reset_sequences(loaded)
    return counts


def _batch(
    rng, setups, ids: Ids, first: int, size: int, now, counts, mix: "Mix", open_as_azukari: bool
) -> None:
    customers, phones, subs, deliveries, contacts, cases, events = [], [], [], [], [], [], []
    customer_ids = ids.take(Customer, size)
    for n, i in enumerate(range(first, first + size)):
        setup = setups[0] if (len(setups) == 1 or rng.random() < 0.7) else rng.choice(setups[1:])
        family, family_kana = rng.choice(FAMILY_NAMES)
        given, given_kana = rng.choice(GIVEN_NAMES)
        postcode, town = rng.choice(PLACES)
        phone = _phone(i)
        quiet = rng.random() < 0.3
        number = f"{setup.client.code[:2].upper()}{i:08d}"
        cid = customer_ids[n]
        customers.append(
            {
                "id": cid,
                "client_id": setup.client.pk,
                "customer_number": number,
                "family_name": family,
                "given_name": given,
                "family_name_kana": family_kana,
                "given_name_kana": given_kana,
                "postcode": postcode,
                "address": f"{town}{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
                "days_off": [6] if rng.random() < 0.2 else [],
                "quiet_from": dt.time(20) if quiet else None,
                "quiet_until": dt.time(23) if quiet else None,
                "search_text": search_text(
                    family + given, family_kana + given_kana, number, phone[1:]
                ),
                "created_at": now,
                "updated_at": now,
            }
        )
        phones.append({"client_id": setup.client.pk, "customer_id": cid, "number": phone})
        plan = rng.choice(setup.plans)
        started = (now - dt.timedelta(days=rng.randint(20, 700))).date()
        subs.append(
            {
                "client_id": setup.client.pk,
                "customer_id": cid,
                "plan_id": plan.pk,
                "external_id": f"S-{number}",
                "started_on": started,
                "terms_version": "2024-04",
                "terms_snapshot": {
                    "min_deliveries": plan.min_deliveries,
                    "device_subsidy_yen": plan.device_subsidy_yen,
                    "text": "demo",
                },
            }
        )
        shipped = max(0, min((now.date() - started).days // plan.interval_days, 6))
        shipped = rng.randint(0, shipped) if rng.random() < 0.3 else shipped
        for seq in range(1, shipped + 2):
            day = started + dt.timedelta(days=(seq - 1) * plan.interval_days)
            is_shipped = seq <= shipped
            deliveries.append(
                {
                    "client_id": setup.client.pk,
                    "subscription_id": len(subs) - 1,
                    "sequence": seq,
                    "scheduled_on": day,
                    "shipped_on": day if is_shipped else None,
                    "status": DeliveryStatus.SHIPPED if is_shipped else DeliveryStatus.SCHEDULED,
                }
            )
        for _n in range(mix.draw(rng, mix.calls)):
            handler = rng.choice(setup.handlers)
            started_at = now - dt.timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 600))
            contacts.append(_contact(rng, setup, cid, handler, phone, started_at, None))
        for _n in range(mix.draw(rng, mix.cases)):
            handler = rng.choice(setup.handlers)
            opened = now - dt.timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))
            case, history = _case(
                rng, setup, cid, len(subs) - 1, handler, opened, now, open_as_azukari
            )
            cases.append(case)
            contacts.append(_contact(rng, setup, cid, handler, phone, opened, len(cases) - 1))
            for at, from_state, to_state, kind in history:
                events.append(
                    {
                        "client_id": setup.client.pk,
                        "case_id": len(cases) - 1,
                        "at": at,
                        "actor_id": handler.pk,
                        "kind": kind,
                        "from_state": from_state,
                        "to_state": to_state,
                        "note": "",
                        "data": {},
                    }
                )
    _assign(ids, CustomerPhone, phones)
    sub_ids = _assign(ids, Subscription, subs)
    _assign(ids, Delivery, deliveries, subscription_id=sub_ids)
    for case in cases:
        case["subscription_id"] = sub_ids[case["subscription_id"]]
    case_ids = _assign(ids, Case, cases)
    _assign(ids, Contact, contacts, case_id=case_ids)
    _assign(ids, CaseEvent, events, case_id=case_ids)
    insert(Customer, customers)
    for model, rows in (
        (CustomerPhone, phones),
        (Subscription, subs),
        (Delivery, deliveries),
        (Case, cases),
        (Contact, contacts),
        (CaseEvent, events),
    ):
        insert(model, rows)
    counts["customers"] += len(customers)
    counts["subscriptions"] += len(subs)
    counts["deliveries"] += len(deliveries)
    counts["contacts"] += len(contacts)
    counts["cases"] += len(cases)
    counts["events"] += len(events)


def _assign(ids: Ids, model, rows: list[dict], **links: range) -> range:
    """Gives rows their ids and turns batch-local references into real ones."""
    taken = ids.take(model, len(rows))
    for row, pk in zip(rows, taken, strict=True):
        row["id"] = pk
        for column, targets in links.items():
            if row.get(column) is not None:
                row[column] = targets[row[column]]
    return taken


def _contact(rng, setup, customer_id, handler, phone, started, case_index) -> dict:
    return {
        "client_id": setup.client.pk,
        "customer_id": customer_id,
        "case_id": case_index,
        "handler_id": handler.pk,
        "site_id": handler.home_site_id,
        "direction": Direction.INBOUND,
        "caller_number": phone,
        "started_at": started,
        "answered_at": started + dt.timedelta(seconds=rng.randint(5, 60)),
        "ended_at": started + dt.timedelta(seconds=rng.randint(120, 1200)),
        "caller_relation": (CallerRelation.HOLDER if rng.random() < 0.9 else CallerRelation.FAMILY),
        "identity_check": IdentityCheck.VERIFIED,
        "reason": rng.choice(SUBJECT_TEXTS),
        "stance": rng.choice(STANCES),
        "pbx_call_id": None,
    }


def _case(rng, setup, customer_id, sub_index, handler, opened, now, open_as_azukari=False):
    kind = rng.choice(SUBJECT_KINDS)
    final = _weighted(rng, STATE_WEIGHTS)
    if open_as_azukari and final in MOVED_ON_BY_SERVICES:
        final = CaseState.AZUKARI
    team = rng.choice(setup.teams)
    history = [(opened, "", CaseState.OPEN, "opened")]
    path: list[tuple[str, str]] = []
    if final == CaseState.RESOLVED and rng.random() < 0.6:
        path = [(CaseState.RESOLVED, "resolved")]
    elif final != CaseState.OPEN:
        path = [(CaseState.AZUKARI, "parked")]
        if (
            final
            in (
                CaseState.WAITING_CLIENT,
                CaseState.CALLBACK_DUE,
                CaseState.RESOLVED,
                CaseState.CLOSED,
            )
            and rng.random() < 0.7
        ):
            path.append((CaseState.WAITING_CLIENT, "inquiry_sent"))
            if final != CaseState.WAITING_CLIENT:
                path.append((CaseState.CALLBACK_DUE, "inquiry_answered"))
        if final == CaseState.WAITING_CUSTOMER:
            path.append((CaseState.WAITING_CUSTOMER, "waiting_customer"))
        if final in (CaseState.RESOLVED, CaseState.CLOSED):
            path.append((CaseState.RESOLVED, "resolved"))
        if final == CaseState.CLOSED:
            path.append((CaseState.CLOSED, "closed"))
        if final == CaseState.CALLBACK_DUE and path[-1][0] != CaseState.CALLBACK_DUE:
            path.append((CaseState.CALLBACK_DUE, "callback_promised"))
    span = max((now - opened).total_seconds(), 600)
    state = CaseState.OPEN
    for n, (to_state, event_kind) in enumerate(path, start=1):
        at = opened + dt.timedelta(seconds=300 if n == 1 else span * n / (len(path) + 1))
        history.append((at, state, to_state, event_kind))
        state = to_state
    parked = next((h[0] for h in history if h[3] == "parked"), None)
    clocks, since = clocks_from_history(
        [(h[0], h[1], h[2]) for h in history], setup.calendars[team.site_id]
    )
    resolved_at = next((h[0] for h in history if h[2] == CaseState.RESOLVED), None)
    case = {
        "client_id": setup.client.pk,
        "customer_id": customer_id,
        "subscription_id": sub_index,
        "kind": kind,
        "subject": SUBJECTS[kind],
        "state": state,
        "azukari_reason": rng.choice(REASONS) if parked else "",
        "site_id": team.site_id if parked else handler.home_site_id,
        "owner_team_id": team.pk if parked else None,
        "assignee_id": None,
        "opened_by_id": handler.pk,
        "opened_at": opened,
        "parked_at": parked,
        "resolved_at": resolved_at if state in (CaseState.RESOLVED, CaseState.CLOSED) else None,
        "closed_at": history[-1][0] if state == CaseState.CLOSED else None,
        "outcome": "対応完了" if state in (CaseState.RESOLVED, CaseState.CLOSED) else "",
        "center_seconds": clocks.center,
        "client_seconds": clocks.client,
        "customer_seconds": clocks.customer,
        "clock_since": since,
        "due_at": now + dt.timedelta(days=rng.randint(-3, 5)) if parked else None,
        "promised_callback_at": None,
        "version": 1,
        "reopen_count": 0,
    }
    return case, history
