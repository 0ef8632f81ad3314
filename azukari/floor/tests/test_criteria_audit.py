"""Every change of a client's call-ending criteria is an event of that client's audit chain:
an auditor sees who changed which criterion, when, and can prove the kept wordings were not
rewritten afterwards, while the chain itself copies none of the text."""

import pytest
from django.core.management import call_command

from azukari.audit.models import AccessAction, AccessEvent
from azukari.audit.services import audit_seal_all, wording_digest
from azukari.audit.verify import audit_verify
from azukari.core.errors import PermissionRefused
from azukari.floor import services
from azukari.org.models import Role
from azukari.testing.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr_coffee", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


def _events(cast):
    return list(
        AccessEvent.objects.filter(client=cast.coffee, action=AccessAction.CRITERION).order_by("id")
    )


def test_adding_and_rewording_a_criterion_are_chained_and_the_chain_verifies(cast, manager, capsys):
    threat = services.criterion_create(
        actor=manager, client=cast.coffee, code="threat", label="Threats of violence"
    )
    services.criterion_update(
        actor=manager,
        criterion=threat,
        label="Threats of violence or of harm to staff",
        description="After one warning",
    )
    services.criterion_update(
        actor=manager,
        criterion=threat,
        label="Threats of violence or of harm to staff",
        description="After one warning",
        is_active=False,
    )
    added, reworded, retired = _events(cast)
    first, second, third = threat.versions.order_by("id")
    assert {e.actor_id for e in (added, reworded, retired)} == {manager.pk}
    assert [e.object_ref for e in (added, reworded, retired)] == [
        f"{threat.pk}/{first.pk}",
        f"{threat.pk}/{second.pk}",
        f"{threat.pk}/{third.pk}",
    ]
    # Which parts changed, and the old and new wording as digests of the kept versions.
    assert sorted(added.fields) == ["description", "is_active", "label"]
    assert sorted(reworded.fields) == ["description", "label"]
    assert retired.fields == ["is_active"]
    assert added.purpose == f"threat ->{wording_digest(first)}"
    assert reworded.purpose == f"threat {wording_digest(first)}>{wording_digest(second)}"
    assert retired.purpose == f"threat {wording_digest(second)}>{wording_digest(third)}"
    # The chain holds no wording: nothing typed into a criterion is copied into it.
    for event in (added, reworded, retired):
        assert "Threats" not in event.purpose and "warning" not in event.purpose
    assert added.customer_ref is None
    audit_seal_all()
    assert all(e.seq for e in _events(cast))
    assert audit_verify(client=cast.coffee).ok
    call_command("audit", "verify", "--client", "coffee")
    assert "All chains verify." in capsys.readouterr().out


def test_audit_verify_names_a_kept_wording_rewritten_behind_the_services_back(cast, manager):
    threat = services.criterion_create(
        actor=manager, client=cast.coffee, code="threat", label="Threats of violence"
    )
    audit_seal_all()
    assert audit_verify(client=cast.coffee).ok
    version = threat.versions.get()
    version.label = "Raised voice"
    version.save(update_fields=["label"])
    (event,) = _events(cast)
    problems = audit_verify(client=cast.coffee).problems
    assert [(p.kind, p.event_id) for p in problems] == [("wording_rewritten", event.pk)]


def test_a_refused_change_writes_nothing_to_the_chain(cast, manager):
    with pytest.raises(PermissionRefused):
        services.criterion_create(actor=cast.sv, client=cast.coffee, code="threat", label="T")
    assert _events(cast) == []
