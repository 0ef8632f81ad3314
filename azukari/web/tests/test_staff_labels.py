"""Other sites' staff are shown as site and role to center staff below manager and to client
approvers; names stay within a site; a PBX token's case reads show no other site's agent ids."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from azukari.api.models import Scope
from azukari.api.services import api_token_create
from azukari.audit.tests.conftest import open_case
from azukari.cases import services as cases
from azukari.cases.models import AzukariReason
from azukari.floor import services as floor
from azukari.org.models import Role
from azukari.org.people import staff_label
from azukari.testing.factories import UserFactory


@pytest.fixture
def people(cast):
    """Suzuki is an SV in Osaka; Tanaka an operator in Osaka; Sato an SV in Sapporo."""
    suzuki = UserFactory(
        username="sv_suzuki", display_name="鈴木", role=Role.SV, home_site=cast.osaka,
        clients=[cast.coffee], agent_id="7001",
    )  # fmt: skip
    tanaka = UserFactory(
        username="op_tanaka", display_name="田中", home_site=cast.osaka, clients=[cast.coffee],
        agent_id="7002",
    )  # fmt: skip
    sato = UserFactory(
        username="sv_sato", display_name="佐藤", role=Role.SV, home_site=cast.sapporo,
        clients=[cast.coffee],
    )  # fmt: skip
    manager = UserFactory(
        username="mgr", display_name="部長", role=Role.MANAGER, home_site=cast.sapporo,
        clients=[cast.coffee],
    )  # fmt: skip
    return suzuki, tanaka, sato, manager


def test_the_rule(cast, people):
    suzuki, tanaka, sato, manager = people
    assert staff_label(cast.operator, suzuki) == "大阪センター・SV・リーダー"
    assert staff_label(cast.operator, sato) == "佐藤"
    assert staff_label(tanaka, suzuki) == "鈴木"
    assert staff_label(manager, suzuki) == "鈴木"
    assert staff_label(cast.approver, sato) == "札幌センター・SV・リーダー"


def _case_handled_in_osaka(cast, suzuki):
    case = open_case(client=cast.coffee, operator=cast.operator)
    case = cases.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason=AzukariReason.INVESTIGATION,
        team=cast.osaka_desk,
    )
    return cases.case_assign(
        case=case, version=case.version, actor=suzuki, team=cast.osaka_desk, assignee=suzuki
    )


def test_a_sapporo_operator_sees_osaka_staff_as_site_and_role_on_the_case(client, cast, people):
    suzuki = people[0]
    case = _case_handled_in_osaka(cast, suzuki)
    client.force_login(cast.operator)
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "鈴木" not in page
    assert "大阪センター・SV・リーダー" in page
    client.force_login(suzuki)
    assert "鈴木" in client.get(reverse("case-detail", args=[case.pk])).content.decode()


def test_a_notices_unread_list_names_only_the_readers_own_site(client, cast, people):
    suzuki, _tanaka, sato, _manager = people
    notice = floor.notice_publish(actor=suzuki, client=cast.coffee, title="Script", body="Use")
    client.force_login(sato)
    listing = client.get(reverse("notices")).content.decode()
    assert "鈴木" not in listing and "大阪センター・SV・リーダー" in listing
    detail = client.get(reverse("notice", args=[notice.pk])).content.decode()
    assert "田中" not in detail and "大阪センター・オペレーター" in detail
    assert cast.operator.display_name in detail  # a Sapporo operator: same site, by name


def test_a_pbx_tokens_case_read_shows_no_other_sites_agent_ids(client, cast, people):
    suzuki = people[0]
    case = _case_handled_in_osaka(cast, suzuki)
    _token, raw = api_token_create(
        name="Sapporo PBX", scopes=[Scope.CASES_READ], center_clients=[cast.coffee]
    )
    body = client.get(f"/api/v1/cases/{case.pk}", headers={"Authorization": f"Bearer {raw}"})
    assert body.status_code == 200
    text = body.content.decode()
    assert "7001" not in text and "sv_suzuki" not in text
    assert body.json()["assignee"] == "大阪センター・SV・リーダー"
    listed = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {raw}"}).json()
    assert listed["items"][0]["assignee"] == "大阪センター・SV・リーダー"
    assert dt.datetime.fromisoformat(body.json()["opened_at"]) <= timezone.now()
