import pytest

from azukari.audit.tests.conftest import open_case


@pytest.fixture
def coffee_case(cast):
    return open_case(client=cast.coffee, operator=cast.operator)


@pytest.fixture
def tea_case(cast):
    return open_case(client=cast.tea, operator=cast.outsider, phone="+819087654321")
