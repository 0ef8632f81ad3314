"""The notice board (周知/申し送り): instructions per client and site, confirmed by operators."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from azukari.core.errors import PermissionRefused
from azukari.floor import services
from azukari.floor.models import Notice, NoticeRead
from azukari.floor.tests.factories import login_verified
from azukari.org.models import Role
from azukari.testing.factories import UserFactory


def _publish(cast, title="Price change from December", site=None, client=None):
    return services.notice_publish(
        actor=cast.sv,
        client=client or cast.coffee,
        title=title,
        body="Read the new price to callers asking about December.",
        site=site,
    )


def test_an_sv_publishes_a_notice_through_the_form(cast, client):
    client.force_login(cast.sv)
    response = client.post(
        reverse("notices"),
        {
            "client": cast.coffee.pk,
            "site": cast.sapporo.pk,
            "title": "New script",
            "body": "Use it",
        },
    )
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.site == cast.sapporo and notice.published_by == cast.sv


def test_a_blank_form_keeps_what_was_typed_and_says_what_is_missing(cast, client):
    client.force_login(cast.sv)
    response = client.post(reverse("notices"), {"client": cast.coffee.pk, "title": "Half typed"})
    assert response.status_code == 400
    assert response.context["form"].errors["body"]
    assert 'value="Half typed"' in response.content.decode()
    assert not Notice.objects.exists()


def test_operators_cannot_publish(cast, client):
    with pytest.raises(PermissionRefused):
        services.notice_publish(actor=cast.operator, client=cast.coffee, title="x", body="y")
    client.force_login(cast.operator)
    assert client.post(reverse("notices"), {"title": "x"}).status_code == 404


def test_an_operator_confirms_reading_and_the_sv_sees_who_has_not(cast, client):
    notice = _publish(cast)
    colleague = UserFactory(username="op_sapporo2", home_site=cast.sapporo, clients=[cast.coffee])
    client.force_login(cast.operator)
    response = client.post(reverse("notice-read", args=[notice.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    client.post(reverse("notice-read", args=[notice.pk]))  # twice: still one confirmation
    assert NoticeRead.objects.filter(notice=notice).count() == 1
    client.force_login(cast.sv)
    detail = client.get(reverse("notice", args=[notice.pk]))
    assert colleague in detail.context["unread"]
    assert cast.operator not in detail.context["unread"]
    assert [r.reader for r in detail.context["read"]] == [cast.operator]
    listing = client.get(reverse("notices"))
    item = listing.context["items"][0]
    assert item.expected_count == 3 and item.unread_count == 2  # two operators and the SV


def test_a_site_notice_is_for_that_site_s_operators_only(cast, client):
    notice = _publish(cast, site=cast.osaka)
    client.force_login(cast.operator)  # works in Sapporo
    assert client.get(reverse("notices")).context["items"] == []
    assert client.get(reverse("notice", args=[notice.pk])).status_code == 404
    client.force_login(cast.sv)
    unread = client.get(reverse("notice", args=[notice.pk])).context["unread"]
    assert unread == [cast.sv]  # the Osaka SV is the only reader expected there


def test_outsiders_and_the_other_approver_get_404(cast, client):
    notice = _publish(cast)
    client.force_login(cast.outsider)
    assert client.get(reverse("notice", args=[notice.pk])).status_code == 404
    assert client.post(reverse("notice-read", args=[notice.pk])).status_code == 404
    assert client.get(reverse("notices")).context["items"] == []
    login_verified(client, cast.tea_approver)
    assert client.get(reverse("notice", args=[notice.pk])).status_code == 404
    assert client.get(reverse("notices")).status_code == 404
    assert not NoticeRead.objects.exists()
    client.force_login(cast.operator)
    assert client.get(reverse("notice-read", args=[notice.pk])).status_code == 405
    assert client.put(reverse("notices")).status_code == 405


def test_publish_form_fields_are_labelled(cast, client):
    client.force_login(cast.sv)
    body = client.get(reverse("notices")).content.decode()
    for field in ("client", "site", "title", "body"):
        assert f'<label for="id_{field}"' in body and f'id="id_{field}"' in body


@pytest.mark.parametrize("persona", ["sv", "operator"])
def test_query_count_does_not_grow_with_notices_or_readers(cast, client, persona):
    client.force_login(getattr(cast, persona))

    def add(n):
        for i in range(n):
            notice = _publish(cast, title=f"Notice {i}")
            services.notice_confirm_read(actor=cast.operator, notice=notice)
            UserFactory(home_site=cast.sapporo, clients=[cast.coffee], role=Role.OPERATOR)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notices")).status_code == 200
        return len(ctx.captured_queries)

    add(3)
    few = count()
    add(17)
    assert count() == few
