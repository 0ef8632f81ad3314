"""The one door: each person sees their own clients' data and nothing else.

Personas from the story: the Sapporo operator serving the coffee client, the tea company's
approver, and an operator who serves only the tea client. Each looks at the other's case and
everything around it; another client's object must look exactly like a missing one.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.apps import apps

from azukari.cases import services
from azukari.cases.models import Callback, Case, CaseEvent, Contact, Inquiry
from azukari.cases.tests.builders import OPTIONS, fresh, new_case, row_counts, tomorrow
from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.core.visibility import get_visible
from azukari.customers.models import Customer, CustomerPhone
from azukari.org.models import Client, ClientClosedDay, ClientLine, EmploymentStatus, User
from azukari.testing.factories import ApproverFactory, ClientFactory, UserFactory

MODELS = (Case, Customer, CustomerPhone, Contact, Inquiry, Callback, CaseEvent)
MISSING_ID = 987_654_321
AZUKARI_APPS = {c.label for c in apps.get_app_configs() if c.name.startswith("azukari.")}


@dataclass
class ClientData:
    case: Case
    inquiry: Inquiry
    callback: Callback

    def objects(self) -> dict[type, list[int]]:
        """Every row of this client's story, by model."""
        case = self.case
        return {
            Case: [case.pk],
            Customer: [case.customer_id],
            CustomerPhone: list(case.customer.phones.values_list("pk", flat=True)),
            Contact: list(case.contacts.values_list("pk", flat=True)),
            Inquiry: [self.inquiry.pk],
            Callback: [self.callback.pk],
            CaseEvent: list(case.events.values_list("pk", flat=True)),
        }


def build(cast, *, client, operator, team, desk_actor) -> ClientData:
    case = new_case(cast, client=client, operator=operator)
    case = services.case_park(
        case=case,
        version=case.version,
        actor=operator,
        reason="sv_callback",
        team=team,
        state="callback_due",
        promised_callback_at=tomorrow(),
    )
    inquiry = services.inquiry_send(
        case=case,
        version=case.version,
        actor=desk_actor,
        question="May we waive the device price?",
        options=OPTIONS,
        due_at=tomorrow(),
    )
    return ClientData(case=fresh(case), inquiry=inquiry, callback=case.callbacks.get())


@pytest.fixture
def coffee(cast) -> ClientData:
    return build(
        cast,
        client=cast.coffee,
        operator=cast.operator,
        team=cast.sapporo_desk,
        desk_actor=cast.desk,
    )


@pytest.fixture
def tea(cast) -> ClientData:
    return build(
        cast, client=cast.tea, operator=cast.outsider, team=cast.tea_desk, desk_actor=cast.outsider
    )


def reload(user: User) -> User:
    """A fresh user, as each request loads one."""
    return User.objects.get(pk=user.pk)


# Who looks, which client's data is theirs, and which is the other's.
PERSONAS = [
    ("operator", "coffee", "tea"),
    ("tea_approver", "tea", "coffee"),
    ("outsider", "tea", "coffee"),
]


@pytest.mark.parametrize(("persona", "own", "other"), PERSONAS)
def test_each_persona_sees_own_rows_and_none_of_the_others(
    request, cast, coffee, tea, persona, own, other
):
    viewer = reload(getattr(cast, persona))
    for model in MODELS:
        mine = request.getfixturevalue(own).objects()[model]
        theirs = request.getfixturevalue(other).objects()[model]
        assert mine and theirs, model.__name__

        visible = set(model.objects.visible_to(viewer).values_list("pk", flat=True))

        assert set(mine) <= visible, model.__name__
        assert not visible & set(theirs), model.__name__


@pytest.mark.parametrize(("persona", "own", "other"), PERSONAS)
def test_another_clients_object_looks_exactly_like_a_missing_one(
    request, cast, coffee, tea, persona, own, other
):
    viewer = reload(getattr(cast, persona))
    for model in MODELS:
        theirs = request.getfixturevalue(other).objects()[model][0]
        mine = request.getfixturevalue(own).objects()[model][0]
        assert get_visible(model.objects.all(), viewer, pk=mine).pk == mine

        with pytest.raises(NotVisible) as forbidden:
            get_visible(model.objects.all(), viewer, pk=theirs)
        with pytest.raises(NotVisible) as missing:
            get_visible(model.objects.all(), viewer, pk=MISSING_ID)
        with pytest.raises(NotVisible) as garbage:
            get_visible(model.objects.all(), viewer, pk="not-a-number")

        for refusal in (missing.value, garbage.value):
            assert (str(refusal), refusal.code, refusal.status) == (
                str(forbidden.value),
                forbidden.value.code,
                forbidden.value.status,
            ), model.__name__
        assert forbidden.value.status == 404


def acts_on(cast, data: ClientData, actor: User):
    """Every lifecycle service, aimed at `data`'s client by `actor`."""
    case = fresh(data.case)
    later = tomorrow(days=2)
    contact = case.contacts.first()
    return {
        "contact_log": lambda: services.contact_log(
            actor=actor, client=case.client, customer=case.customer, summary="Peeking"
        ),
        "case_open": lambda: services.case_open(
            contact=contact, actor=actor, kind="other", subject="Peeking"
        ),
        "case_park": lambda: services.case_park(
            case=case,
            version=case.version,
            actor=actor,
            reason="investigation",
            team=case.owner_team,
        ),
        "inquiry_send": lambda: services.inquiry_send(
            case=case, version=case.version, actor=actor, question="?", options=OPTIONS
        ),
        "inquiry_answer": lambda: services.inquiry_answer(
            inquiry=data.inquiry, actor=actor, option="cancel_now"
        ),
        "case_wait_on_customer": lambda: services.case_wait_on_customer(
            case=case, version=case.version, actor=actor, note="Peeking"
        ),
        "case_promise_callback": lambda: services.case_promise_callback(
            case=case, version=case.version, actor=actor, promised_for=later
        ),
        "case_resume": lambda: services.case_resume(case=case, version=case.version, actor=actor),
        "case_assign": lambda: services.case_assign(
            case=case, version=case.version, actor=actor, team=case.owner_team
        ),
        "callback_schedule": lambda: services.callback_schedule(
            callback=data.callback, actor=actor, at=later
        ),
        "callback_attempt_record": lambda: services.callback_attempt_record(
            callback=data.callback, actor=actor, outcome="no_answer"
        ),
        "case_resolve": lambda: services.case_resolve(
            case=case, version=case.version, actor=actor, outcome="Peeking"
        ),
        "case_close": lambda: services.case_close(case=case, version=case.version, actor=actor),
        "case_reopen": lambda: services.case_reopen(
            case=case, version=case.version, actor=actor, note="Peeking"
        ),
    }


SERVICES = [
    "contact_log",
    "case_open",
    "case_park",
    "inquiry_send",
    "inquiry_answer",
    "case_wait_on_customer",
    "case_promise_callback",
    "case_resume",
    "case_assign",
    "callback_schedule",
    "callback_attempt_record",
    "case_resolve",
    "case_close",
    "case_reopen",
]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    ("persona", "other"), [("operator", "tea"), ("outsider", "coffee"), ("tea_approver", "coffee")]
)
def test_services_refuse_another_clients_case_as_not_found(
    request, cast, coffee, tea, persona, other, service
):
    actor = reload(getattr(cast, persona))
    target = request.getfixturevalue(other)
    before = fresh(target.case)
    counts = row_counts()

    with pytest.raises(NotVisible):
        acts_on(cast, target, actor)[service]()

    assert row_counts() == counts
    after = fresh(target.case)
    assert (after.state, after.version) == (before.state, before.version)


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "inquiry_answer"])
def test_an_approver_may_not_do_the_centers_work(cast, coffee, service):
    counts = row_counts()
    with pytest.raises(PermissionRefused) as info:
        acts_on(cast, coffee, reload(cast.approver))[service]()
    assert info.value.status == 403
    assert row_counts() == counts


def no_access_people(cast) -> dict[str, User]:
    """People who would see coffee's data but for a missing agreement or a lost job."""
    no_agreement = UserFactory(
        username="op_no_agreement",
        home_site=cast.sapporo,
        clients=[cast.coffee],
        agreement_signed_on=None,
    )
    leaver = UserFactory(username="op_left", home_site=cast.sapporo, clients=[cast.coffee])
    User.objects.filter(pk=leaver.pk).update(
        employment_status=EmploymentStatus.LEFT, left_on=dt.date(2026, 3, 31)
    )
    inactive = UserFactory(username="op_inactive", home_site=cast.sapporo, clients=[cast.coffee])
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    no_contract_client = ClientFactory(code="juice", contract_signed_on=None)
    approver_no_contract = ApproverFactory(username="approver_juice", client=no_contract_client)
    # And the coffee approver once the coffee company's contract is taken off record.
    return {
        "no_agreement": reload(no_agreement),
        "leaver": reload(leaver),
        "inactive": reload(inactive),
        "approver_without_contract": reload(approver_no_contract),
    }


@pytest.mark.parametrize("who", ["no_agreement", "leaver", "inactive", "approver_without_contract"])
def test_people_without_an_agreement_on_record_see_nothing(cast, coffee, tea, who):
    person = no_access_people(cast)[who]
    if who == "approver_without_contract":
        # Their own company's data, too.
        juice = build_juice_case(cast)
        assert Case.objects.filter(pk=juice.pk).exists()
    assert person.visible_client_ids() == frozenset()
    for model in MODELS:
        assert not model.objects.visible_to(person).exists(), model.__name__
    counts = row_counts()
    for act in (
        lambda: services.case_resolve(
            case=fresh(coffee.case), version=coffee.case.version, actor=person, outcome="x"
        ),
        lambda: services.inquiry_answer(inquiry=coffee.inquiry, actor=person, option="cancel_now"),
    ):
        with pytest.raises(NotVisible):
            act()
    assert row_counts() == counts


def build_juice_case(cast) -> Case:
    juice = Client.objects.get(code="juice")
    staff = UserFactory(username="op_juice", home_site=cast.sapporo, clients=[juice])
    return new_case(cast, client=juice, operator=reload(staff))


def test_a_leaver_loses_access_at_once_and_their_records_stay(cast, coffee):
    operator = reload(cast.operator)
    assert Case.objects.visible_to(operator).filter(pk=coffee.case.pk).exists()
    User.objects.filter(pk=operator.pk).update(employment_status=EmploymentStatus.LEFT)

    leaver = reload(operator)
    assert not Case.objects.visible_to(leaver).exists()
    counts = row_counts()
    with pytest.raises(NotVisible):
        services.case_resolve(
            case=fresh(coffee.case), version=coffee.case.version, actor=leaver, outcome="x"
        )
    assert row_counts() == counts
    # What they did is still on record.
    assert Contact.objects.filter(handler=leaver).exists()
    assert CaseEvent.objects.filter(actor=leaver, kind="parked").exists()


def test_an_approver_loses_access_when_the_contract_is_taken_off_record(cast, coffee):
    assert Case.objects.visible_to(reload(cast.approver)).exists()
    Client.objects.filter(pk=cast.coffee.pk).update(contract_signed_on=None)
    approver = reload(cast.approver)
    assert not Case.objects.visible_to(approver).exists()
    counts = row_counts()
    with pytest.raises(NotVisible):
        services.inquiry_answer(inquiry=coffee.inquiry, actor=approver, option="cancel_now")
    assert row_counts() == counts


def test_no_viewer_sees_nothing(coffee):
    for model in MODELS:
        assert not model.objects.visible_to(None).exists()
    with pytest.raises(NotVisible):
        get_visible(Case.objects.all(), None, pk=coffee.case.pk)


def test_staff_serving_both_clients_see_both(cast, coffee, tea):
    manager = UserFactory(
        username="manager", role="manager", home_site=cast.sapporo, clients=[cast.coffee, cast.tea]
    )
    visible = set(Case.objects.visible_to(reload(manager)).values_list("pk", flat=True))
    assert visible == {coffee.case.pk, tea.case.pk}


def test_parking_needs_a_team_serving_the_cases_client(cast):
    case = new_case(cast)
    counts = row_counts()
    with pytest.raises(DomainError) as info:
        services.case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason="investigation",
            team=cast.tea_desk,
        )
    assert info.value.field == "team"
    assert row_counts() == counts


# Rows that name a client but are not a client's data: the people and tokens who look
# (their `client` is the company an approver or integration speaks for) and center-wide
# records kept for managers.
NOT_CLIENT_DATA = {"org.User", "api.ApiToken", "audit.RetentionRun"}


def test_every_model_that_belongs_to_a_client_has_the_door():
    owned = [
        model
        for model in apps.get_models()
        if model._meta.app_label in AZUKARI_APPS
        and model._meta.label not in NOT_CLIENT_DATA
        and any(
            field.many_to_one and field.concrete and field.related_model is Client
            for field in model._meta.get_fields()
        )
    ]
    assert owned
    missing = [m._meta.label for m in [Client, *owned] if not hasattr(m.objects, "visible_to")]
    assert not missing


@pytest.mark.parametrize(("persona", "own", "other"), PERSONAS)
def test_clients_their_calendars_and_lines_are_behind_the_door(cast, persona, own, other):
    mine, theirs = getattr(cast, own), getattr(cast, other)
    for client in (mine, theirs):
        ClientClosedDay.objects.create(client=client, date=dt.date(2026, 12, 30))
        ClientLine.objects.create(client=client, number=f"+8150{client.pk:08d}")
    viewer = reload(getattr(cast, persona))

    assert set(Client.objects.visible_to(viewer)) == {mine}
    for model in (ClientClosedDay, ClientLine):
        assert {row.client_id for row in model.objects.visible_to(viewer)} == {mine.pk}
    with pytest.raises(NotVisible):
        get_visible(Client.objects.all(), viewer, code=theirs.code)
    assert not Client.objects.visible_to(None).exists()
