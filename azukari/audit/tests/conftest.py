"""Audit test set-up: cases built through the real services, a logged-in browser per persona."""

import pytest
from django.test import Client as Browser

from azukari.cases import services as cases
from azukari.cases.models import Case, CaseKind
from azukari.org.models import Client, User
from azukari.testing.factories import CustomerFactory


def open_case(*, client: Client, operator: User, phone: str = "+819012345678") -> Case:
    customer = CustomerFactory(client=client, phones=[phone], email="taro@example.jp")
    contact = cases.contact_log(
        actor=operator,
        client=client,
        customer=customer,
        caller_number=phone,
        summary="Wants to cancel after two deliveries",
    )
    return cases.case_open(
        contact=contact, actor=operator, kind=CaseKind.CANCELLATION, subject="Wants to cancel"
    )


@pytest.fixture
def coffee_case(cast) -> Case:
    return open_case(client=cast.coffee, operator=cast.operator)


@pytest.fixture
def tea_case(cast) -> Case:
    return open_case(client=cast.tea, operator=cast.outsider, phone="+819087654321")


@pytest.fixture
def browser_for():
    """A browser logged in as `user` (through Django's log-in, so sessions are recorded)."""

    def make(user: User) -> Browser:
        browser = Browser()
        browser.force_login(user)
        return browser

    return make
