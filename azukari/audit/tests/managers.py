"""The managers the incident register's tests share: the coffee client's, who keeps its
register, and the tea client's, for whom coffee's incidents are missing."""

import pytest

from azukari.org.models import Role, User
from azukari.testing.factories import UserFactory


def coffee_manager(cast, **extra) -> User:
    return UserFactory(
        username="mgr_coffee",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        **extra,
    )


@pytest.fixture
def tea_manager(cast) -> User:
    return UserFactory(
        username="mgr_tea", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.tea]
    )
