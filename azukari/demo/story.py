"""The demo world: two clients, three sites, staff in every role, and DESIGN.md's story."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from azukari.cases import services as cases
from azukari.cases.models import CaseEvent, CaseKind, Contact
from azukari.cases.tasks import case_clocks_recompute
from azukari.customers.services import customer_create
from azukari.org.checklist import client_go_live
from azukari.org.models import Client, EmploymentStatus, Role, Site, Team, User
from azukari.org.setup import client_create, site_create, staff_create, team_create
from azukari.org.staff import staff_mark_left
from azukari.reports.models import AfterCallWorkCode, ReasonCode
from azukari.subscriptions.models import (
    CancellationRequest,
    Delivery,
    DeliveryStatus,
    Plan,
    Subscription,
)
from azukari.subscriptions.services import (
    cancellation_exception_ask,
    cancellation_request_record,
    plan_create,
    policy_load,
)

DEMO_PASSWORD = "azukari-demo"

COFFEE_POLICY = {
    "policy": {"code": "standard", "name": "マシン割引つき定期便"},
    "versions": [
        {
            "effective_from": dt.date(2024, 1, 1),
            "min_deliveries": 3,
            "device_list_price_yen": 19800,
            "device_price_paid_yen": 4980,
            "charge_method": "pro_rata",
            "fixed_fee_yen": 0,
            "notice_days": 0,
            "decision_limit_days": 10,
            "grounds": [
                {"code": "defect", "approval": "sv", "fee_waived_percent": 100},
                {"code": "bereavement", "approval": "sv", "fee_waived_percent": 100},
                {"code": "moving_abroad", "approval": "client", "fee_waived_percent": 100},
                {"code": "hardship", "approval": "client", "fee_waived_percent": 50},
                {"code": "terms_unclear", "approval": "client", "fee_waived_percent": 100},
            ],
        }
    ],
}
TEA_POLICY = {
    "policy": {"code": "standard", "name": "季節のお茶便"},
    "versions": [
        {
            "effective_from": dt.date(2025, 1, 1),
            "min_deliveries": 0,
            "device_list_price_yen": 0,
            "device_price_paid_yen": 0,
            "charge_method": "none",
            "fixed_fee_yen": 0,
            "notice_days": 0,
            "decision_limit_days": 10,
            "grounds": [],
        }
    ],
}

SITES = [("sapporo", "札幌センター"), ("osaka", "大阪センター"), ("fukuoka", "福岡センター")]

# (username, role, site, clients, display name, family, given, agent id)
STAFF = [
    ("admin", Role.ADMIN, "sapporo", ["coffee", "tea"], "管理者", "管理", "太郎", None),
    ("manager", Role.MANAGER, "osaka", ["coffee", "tea"], "小野", "小野", "真理", None),
    ("op_sapporo", Role.OPERATOR, "sapporo", ["coffee"], "三浦", "三浦", "彩", "4001"),
    ("op_osaka", Role.OPERATOR, "osaka", ["coffee", "tea"], "西田", "西田", "葵", "4002"),
    ("op_fukuoka", Role.OPERATOR, "fukuoka", ["tea"], "古賀", "古賀", "翼", "4003"),
    ("sv_sapporo", Role.SV, "sapporo", ["coffee"], "工藤", "工藤", "誠", "4101"),
    ("sv_osaka", Role.SV, "osaka", ["coffee", "tea"], "大西", "大西", "隆", "4102"),
    ("desk_sapporo", Role.DESK, "sapporo", ["coffee", "tea"], "菅原", "菅原", "恵子", None),
    ("desk_osaka", Role.DESK, "osaka", ["coffee", "tea"], "上田", "上田", "直樹", None),
]


DEMO_HOURS = {
    weekday: (dt.time(10), dt.time(18)) if weekday == 6 else (dt.time(9), dt.time(21))
    for weekday in range(7)
}


def _site(code: str, name: str) -> Site:
    site = Site.objects.filter(code=code).first()
    return site or site_create(actor=None, code=code, name=name, hours=DEMO_HOURS)


REASON_CODES = [
    ("cancel", "解約", "Cancellation"),
    ("change", "内容変更", "Change of plan or address"),
    ("delivery", "お届け", "Delivery"),
    ("billing", "ご請求", "Billing"),
    ("product", "商品・機器", "Product or machine"),
    ("other", "その他", "Other"),
]
ACW_CODES = [
    ("done", "完了", "Done on the call"),
    ("azukari", "預かり", "Taken into azukari"),
    ("callback", "折返し予定", "Callback promised"),
]


def _contact_codes(client: Client) -> None:
    for model, rows in ((ReasonCode, REASON_CODES), (AfterCallWorkCode, ACW_CODES)):
        for position, (code, label, label_en) in enumerate(rows):
            model.objects.get_or_create(
                client=client,
                code=code,
                defaults={"label": label, "label_en": label_en, "position": position},
            )


def _plan(*, client: Client, code: str, **values) -> Plan:
    """Through the set-up service, as a manager's page adds one; kept when the demo runs again."""
    return Plan.objects.filter(client=client, code=code).first() or plan_create(
        actor=None, client=client, code=code, **values
    )


CLIENTS = {
    "coffee": {
        "name": "カフェ・ミル株式会社",
        "name_kana": "カフェミル",
        "contract_signed_on": dt.date(2024, 4, 1),
        "escalation_email": "escalation@cafe-mill.example",
        "lines": [("+81120111222", "解約・変更窓口")],
    },
    "tea": {
        "name": "みどり茶園株式会社",
        "name_kana": "ミドリチャエン",
        "contract_signed_on": dt.date(2025, 1, 6),
        "escalation_email": "cs-lead@midori-chaen.example",
        "lines": [("+81120333444", "お客様窓口")],
    },
}


def _client(code: str) -> Client:
    """Through the set-up service, as a center would; the year-end days still ahead are the
    coffee client's closed days."""
    client = Client.objects.filter(code=code).first()
    if client is not None:
        return client
    today = timezone.localdate()
    year = today.year
    closed = []
    if code == "coffee":
        days = [dt.date(year, 12, d) for d in (29, 30, 31)]
        days += [dt.date(year + 1, 1, d) for d in (2, 3)]
        closed = [(day, "年末年始休業") for day in days if day >= today]
    return client_create(actor=None, code=code, closed_days=closed, **CLIENTS[code])


def reference_data() -> dict[str, object]:
    coffee, tea = _client("coffee"), _client("tea")
    for client in (coffee, tea):
        _contact_codes(client)
    sites = {code: _site(code, name) for code, name in SITES}
    teams = {}
    for code, site in sites.items():
        teams[code] = Team.objects.filter(code=f"{code}-desk").first() or team_create(
            actor=None,
            site=site,
            code=f"{code}-desk",
            name="預かり管理",
            is_azukari_desk=True,
            clients=[tea] if code == "fukuoka" else [coffee, tea],
        )
    _plan(
        client=coffee,
        code="beans-monthly",
        name="豆の定期便(月1回)",
        interval_days=30,
        price_yen=3240,
        min_deliveries=3,
        device_list_price_yen=19800,
        device_price_paid_yen=4980,
    )
    _plan(
        client=coffee,
        code="beans-biweekly",
        name="豆の定期便(隔週)",
        interval_days=14,
        price_yen=2160,
        min_deliveries=6,
        device_list_price_yen=19800,
        device_price_paid_yen=0,
    )
    _plan(
        client=tea,
        code="tea-monthly",
        name="季節のお茶便",
        interval_days=30,
        price_yen=2700,
        min_deliveries=0,
    )
    clients = {"coffee": coffee, "tea": tea}
    policy_load(client=coffee, data=COFFEE_POLICY)
    policy_load(client=tea, data=TEA_POLICY)
    for username, role, site, served, display, family, given, agent in STAFF:
        _staff(
            username,
            role,
            sites[site],
            [clients[c] for c in served],
            display,
            family,
            given,
            agent,
            team=teams.get(site) if role == Role.DESK else None,
        )
    _approver("approver_coffee", coffee, "承認", "花子")
    _approver("approver_tea", tea, "緑川", "修")
    leaver = _staff(
        "left_staff", Role.OPERATOR, sites["osaka"], [coffee], "退職", "退職", "済", None
    )
    if leaver.employment_status != EmploymentStatus.LEFT:
        staff_mark_left(
            staff=leaver, left_on=dt.date(2026, 3, 31), by=User.objects.get(username="manager")
        )
    for client in (coffee, tea):
        if client.went_live_on is None:
            client_go_live(actor=None, client=client)
    _criteria_and_incident(coffee, tea)
    return {"clients": clients, "sites": sites, "teams": teams}


# Each client's written grounds for ending a call (カスハラ): code, label, what it covers.
CRITERIA = [
    ("abuse", "注意後も続く暴言", "一度注意した後も、人格を否定する発言や怒鳴り声が続く場合。"),
    (
        "threat",
        "危害をほのめかす発言",
        "本人や家族、センターへの危害をほのめかす発言があった場合。",
    ),
    (
        "length",
        "要求の繰り返しによる長時間拘束",
        "同じ要求を30分以上繰り返し、新しい話がない場合。",
    ),
]


def _criteria_and_incident(*clients: Client) -> None:
    """The manager's registers: each client's criteria, and one incident under way."""
    from azukari.audit.models import Incident, IncidentKind, NotifyMethod
    from azukari.audit.services import incident_notify_client, incident_record
    from azukari.floor.models import HarassmentCriterion
    from azukari.floor.services import criterion_create

    manager = User.objects.get(username="manager")
    for client in clients:
        for code, label, description in CRITERIA:
            if not HarassmentCriterion.objects.filter(client=client, code=code).exists():
                criterion_create(
                    actor=manager, client=client, code=code, label=label, description=description
                )
    coffee = clients[0]
    if Incident.objects.filter(client=coffee).exists():
        return
    discovered = timezone.now() - dt.timedelta(days=3)
    incident = incident_record(
        by=manager,
        client=coffee,
        title="お届け予定のお知らせメールの誤送信",
        kind=IncidentKind.LEAK,
        discovered_at=discovered,
        affected_count=38,
        description="配送予定の案内メールが、宛先を1行ずらした一覧で送信された。",
    )
    incident_notify_client(
        by=manager,
        incident=incident,
        notified_at=discovered + dt.timedelta(hours=2),
        whom="珈琲定期便 お客様相談室長",
        how=NotifyMethod.PHONE,
    )


def _staff(username, role, site, served, display, family, given, agent, team=None) -> User:
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = staff_create(
        actor=None,
        username=username,
        role=role,
        home_site=site,
        clients=served,
        display_name=display,
        family_name=family,
        given_name=given,
        agent_id=agent,
        team=team,
        agreement_signed_on=dt.date(2024, 4, 1),
        agreement_version="2024-04",
    )
    user.is_superuser = role == Role.ADMIN  # the demo's administrator may do everything
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["is_superuser", "password"])
    return user


def _approver(username, client, family, given) -> User:
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = staff_create(
        actor=None,
        username=username,
        role=Role.CLIENT_APPROVER,
        company=client,
        family_name=family,
        given_name=given,
        display_name=family,
    )
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def story() -> None:
    """DESIGN.md §1: a cancellation after 2 of 3 deliveries, parked and sent to the client."""
    coffee = Client.objects.get(code="coffee")
    if Subscription.objects.filter(client=coffee, external_id="S-STORY-1").exists():
        return
    operator = User.objects.get(username="op_sapporo")
    sv = User.objects.get(username="sv_osaka")
    team = Team.objects.get(code="sapporo-desk")
    plan = Plan.objects.get(client=coffee, code="beans-monthly")
    now = timezone.now()
    customer = customer_create(
        client=coffee,
        customer_number="CM-STORY-0001",
        family_name="北村",
        given_name="健一",
        family_name_kana="キタムラ",
        given_name_kana="ケンイチ",
        postcode="064-0810",
        address="北海道札幌市中央区南十条西5-3-12",
        phones=["090-2468-1357"],
        quiet_from=dt.time(21),
        quiet_until=dt.time(23, 59),
        days_off=[6],
        call_windows=[{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "20:30"}],
    )
    started = (now - dt.timedelta(days=75)).date()
    first_call = now - dt.timedelta(days=6, hours=3)
    sub = Subscription.objects.create(
        client=coffee,
        customer=customer,
        plan=plan,
        external_id="S-STORY-1",
        started_on=started,
        terms_version="2024-04",
        terms_snapshot={
            "text": (
                "定期便は3回以上のお受け取りが条件です。3回目のお届け前に解約される場合、"
                "コーヒーマシンの割引額(14,820円)のうち未回収分をお支払いいただきます。"
            ),
            "min_deliveries": 3,
            "device_subsidy_yen": 14820,
        },
        # The customer first asked on the first call; the request below keeps that date.
        first_cancel_requested_on=timezone.localdate(first_call),
    )
    for n in (1, 2, 3):
        day = started + dt.timedelta(days=30 * (n - 1))
        Delivery.objects.create(
            client=coffee,
            subscription=sub,
            sequence=n,
            scheduled_on=day,
            shipped_on=day if n < 3 else None,
            status=DeliveryStatus.SHIPPED if n < 3 else DeliveryStatus.SCHEDULED,
        )
    contact = cases.contact_log(
        actor=operator,
        client=coffee,
        customer=customer,
        caller_number="09024681357",
        started_at=first_call,
        ended_at=first_call + dt.timedelta(minutes=14),
        caller_relation="holder",
        identity_check="verified",
        identity_method="生年月日・住所",
        reason="解約希望",
        stance="dissatisfied",
        summary=(
            "2回受け取り後、解約を希望。3回条件と割引額の説明を受けた覚えがないとのこと。"
            "通常の選択肢を案内したが納得されず、例外の可否を企業に伺うため預かり。"
        ),
    )
    case = cases.case_open(
        contact=contact,
        actor=operator,
        kind=CaseKind.CANCELLATION,
        subject="2回目受取後の解約希望",
        subscription=sub,
    )
    request = cancellation_request_record(actor=operator, case=case, subscription=sub)
    cancellation_exception_ask(
        actor=operator,
        request=request,
        ground_code="terms_unclear",
        team=team,
        reason="申込時に3回条件と割引額の説明が見当たらなかったとのお申し出。",
    )
    second_call = now - dt.timedelta(days=3, hours=5)
    callback = cases.contact_log(
        actor=sv,
        client=coffee,
        customer=customer,
        direction="outbound",
        started_at=second_call,
        ended_at=second_call + dt.timedelta(minutes=22),
        caller_relation="holder",
        identity_check="verified",
        stance="softened",
        summary="SVより経過連絡。お話を伺い、お客様は落ち着かれた。企業回答待ちと説明。",
    )
    Contact.objects.filter(pk=callback.pk).update(case=case)
    _backdate(case, start=first_call)


def _backdate(case, *, start: dt.datetime) -> None:
    """Spreads the story's history over the past week, as it happened."""
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))
    for n, event in enumerate(events):
        offset = dt.timedelta(minutes=2 * n)
        if event.kind == "inquiry_sent":
            offset = dt.timedelta(hours=20)
        CaseEvent.objects.filter(pk=event.pk).update(at=start + offset)
    Contact.objects.filter(case=case, direction="inbound").update(started_at=start)
    case.__class__.objects.filter(pk=case.pk).update(
        opened_at=start, parked_at=start + dt.timedelta(minutes=14)
    )
    CancellationRequest.objects.filter(case=case).update(requested_on=timezone.localdate(start))
    inquiry = case.inquiries.get()
    inquiry.__class__.objects.filter(pk=inquiry.pk).update(
        sent_at=start + dt.timedelta(hours=20), due_at=start + dt.timedelta(days=3)
    )
    case_clocks_recompute(case.pk)
