"""The account a client's self-service acts through is not a member of staff: nobody picks it,
reviews it or waits for it; case histories name it "Self-service" in the reader's language."""

import html
import re

import pytest
from django.utils import timezone, translation

from azukari.cases.models import Direction
from azukari.cases.selectors import assignees_for
from azukari.cases.services import case_assign, case_open, case_park, contact_log
from azukari.core.errors import DomainError
from azukari.floor.models import Notice
from azukari.org.checklist import client_checklist
from azukari.org.models import Role, User
from azukari.org.people import staff_label
from azukari.org.staff import agreement_register
from azukari.selfservice.services import selfservice_settings_ensure
from azukari.testing.factories import CustomerFactory, UserFactory
from azukari.web.pages.notices import expected_readers


@pytest.fixture
def online_case(cast):
    """A request a customer recorded online, handed to the Sapporo desk."""
    actor = selfservice_settings_ensure(client=cast.coffee).service_user
    customer = CustomerFactory(client=cast.coffee)
    contact = contact_log(
        actor=actor, client=cast.coffee, customer=customer, direction=Direction.ONLINE
    )
    case = case_open(contact=contact, actor=actor, kind="billing", subject="online request")
    return case_park(
        case=case,
        version=case.version,
        actor=actor,
        reason="sv_callback",
        team=cast.sapporo_desk,
    )


def _select(page: str, field_id: str) -> str:
    match = re.search(rf'<select[^>]*id="{field_id}".*?</select>', page, re.S)
    assert match, field_id
    return match.group(0)


@pytest.mark.django_db
def test_the_hand_over_list_offers_people_only(cast, online_case, client):
    actor = online_case.opened_by
    assert actor.is_service_account
    assert actor not in assignees_for(online_case)
    assert cast.desk in assignees_for(online_case)

    client.force_login(cast.desk)
    page = client.get(f"/desk/cases/{online_case.pk}/").content.decode()
    people = _select(page, "id_assign-assignee")
    assert f'value="{cast.desk.pk}"' in people
    assert f'value="{actor.pk}"' not in people
    # Nor can a case be handed to it another way in.
    with pytest.raises(DomainError):
        case_assign(
            case=online_case,
            version=online_case.version,
            actor=cast.desk,
            team=cast.sapporo_desk,
            assignee=actor,
        )


@pytest.mark.django_db
def test_case_history_names_self_service_in_the_readers_language(cast, online_case, client):
    client.force_login(cast.desk)
    for language, name in (("en", "Self-service"), ("ja", "セルフサービス")):
        cast.desk.language = language
        cast.desk.save(update_fields=["language"])
        page = html.unescape(client.get(f"/desk/cases/{online_case.pk}/").content.decode())
        assert f"<td>{name}</td>" in page, language
    # Named as it is to anyone, never as "another site's operator".
    with translation.override("en"):
        assert staff_label(cast.sv, online_case.opened_by) == "Self-service"


@pytest.mark.django_db
def test_registers_readers_and_checklist_leave_it_out(cast, online_case):
    actor = online_case.opened_by
    manager = UserFactory(
        username="manager", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )
    register = agreement_register(viewer=manager)
    assert {row.user.pk for row in register} >= {cast.operator.pk, cast.desk.pk}
    assert actor.pk not in {row.user.pk for row in register}

    notice = Notice.objects.create(
        client=cast.coffee,
        title="New price",
        body="From December.",
        published_at=timezone.now(),
        published_by=cast.sv,
    )
    readers = expected_readers([notice])[notice.pk]
    assert cast.operator in readers and actor not in readers

    # The coffee client's only operator leaves: self-service does not answer its calls.
    User.objects.filter(pk=cast.operator.pk).update(employment_status="left")
    operators = next(i for i in client_checklist(client=cast.coffee) if i.code == "operators")
    assert not operators.done
    assert actor not in User.objects.people()
    assert actor in User.objects.filter(is_service_account=True)


@pytest.mark.django_db
def test_the_staff_admin_lists_people_with_service_accounts_one_click_away(
    cast, online_case, client
):
    from azukari.audit.tests.test_admin_scope import _staff, _verified

    actor = online_case.opened_by
    _verified(client, _staff(cast, "adm_coffee", Role.ADMIN))
    people = client.get("/admin/org/user/").content.decode()
    assert cast.operator.username in people
    assert actor.username not in people
    accounts = client.get("/admin/org/user/?accounts=service").content.decode()
    assert actor.username in accounts
    assert cast.operator.username not in accounts


@pytest.mark.django_db
def test_staff_changes_leave_the_account_alone(cast, online_case):
    from azukari.org.setup import staff_update

    manager = UserFactory(
        username="manager", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )
    with translation.override("en"):
        with pytest.raises(DomainError) as refused:
            staff_update(actor=manager, staff=online_case.opened_by, display_name="Tanaka")
        assert "it is not a person" in str(refused.value)
    online_case.opened_by.refresh_from_db()
    assert online_case.opened_by.display_name == "Self-service"
