"""Exports of personal data are capped per person and hour; the refusal is logged."""

import logging

from django.core.cache import cache

from azukari.audit.models import AccessAction, AccessEvent
from azukari.org.models import Role
from azukari.testing.factories import CustomerFactory, UserFactory


def test_a_person_over_the_hourly_export_limit_is_refused(cast, client, settings, caplog):
    settings.AZUKARI_EXPORTS_PER_HOUR = 2
    cache.clear()
    CustomerFactory(client=cast.coffee, customer_number="C1")
    client.force_login(cast.desk)
    for _ in range(2):
        response = client.get("/exports/coffee/?what=customers")
        assert response.status_code == 200
        b"".join(response.streaming_content)
    with caplog.at_level(logging.WARNING, logger="azukari.security"):
        refused = client.get("/exports/coffee/?what=customers")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3601
    assert any("export refused" in r.getMessage() for r in caplog.records)
    assert AccessEvent.objects.filter(action=AccessAction.EXPORT, actor=cast.desk).count() == 2

    colleague = UserFactory(
        username="desk_export", role=Role.DESK, home_site=cast.sapporo, clients=[cast.coffee]
    )
    client.force_login(colleague)
    assert client.get("/exports/coffee/?what=customers").status_code == 200
