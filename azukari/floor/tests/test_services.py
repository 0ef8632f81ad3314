"""Floor services refuse bad input and write nothing when they do."""

import datetime as dt

import pytest
from django.utils import timezone

from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.floor import services
from azukari.floor.models import CallEnding, FloorIntervention, Notice, NoticeRead
from azukari.floor.tests.factories import contact, criterion


@pytest.mark.parametrize(
    ("title", "body", "expires", "field"),
    [
        ("", "Read it", None, "title"),
        ("x" * 201, "Read it", None, "title"),
        ("Title", "  ", None, "body"),
        ("Title", "Read it", -1, "expires_at"),
    ],
)
def test_a_bad_notice_is_refused_naming_the_field(cast, title, body, expires, field):
    expires_at = timezone.now() + dt.timedelta(hours=expires) if expires else None
    with pytest.raises(DomainError) as exc:
        services.notice_publish(
            actor=cast.sv, client=cast.coffee, title=title, body=body, expires_at=expires_at
        )
    assert exc.value.field == field
    assert not Notice.objects.exists()


def test_a_naive_expiry_is_refused(cast):
    with pytest.raises(DomainError) as exc:
        services.notice_publish(
            actor=cast.sv,
            client=cast.coffee,
            title="Title",
            body="Body",
            expires_at=dt.datetime(2030, 1, 1, 10, 0),  # naive on purpose
        )
    assert exc.value.field == "expires_at"


def test_people_of_another_client_see_nothing_to_act_on(cast):
    notice = services.notice_publish(actor=cast.sv, client=cast.coffee, title="T", body="B")
    with pytest.raises(NotVisible):
        services.notice_confirm_read(actor=cast.outsider, notice=notice)
    with pytest.raises(NotVisible):
        services.notice_publish(actor=cast.outsider, client=cast.coffee, title="T", body="B")
    with pytest.raises(PermissionRefused):
        services.notice_confirm_read(actor=cast.approver, notice=notice)
    call = contact(client=cast.coffee, handler=cast.operator)
    with pytest.raises(NotVisible):
        services.contact_join(actor=cast.outsider, contact=call)
    with pytest.raises(NotVisible):
        services.call_end_under_criterion(
            actor=cast.outsider, contact=call, criterion=criterion(cast.coffee)
        )
    assert not NoticeRead.objects.exists()
    assert not FloorIntervention.objects.exists() and not CallEnding.objects.exists()


def test_an_sv_cannot_take_over_their_own_call(cast):
    call = contact(client=cast.coffee, handler=cast.sv)
    with pytest.raises(DomainError):
        services.contact_take_over(actor=cast.sv, contact=call)
    assert not FloorIntervention.objects.exists()
