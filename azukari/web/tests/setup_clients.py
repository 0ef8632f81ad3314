"""What the tests of the set-up pages share: a manager without any admin permission, the new
client "bread" they set up, and a logged-in browser. Import the fixtures by name."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client as Browser
from django.urls import reverse

from azukari.org.models import Role, User
from azukari.org.setup import client_create
from azukari.org.tests.test_calendars import login_verified
from azukari.testing.factories import UserFactory


@pytest.fixture
def manager(cast):
    """A center manager with no Django model permission at all, reading English."""
    return UserFactory(
        username="mgr",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        language="en",
    )


@pytest.fixture
def bread(manager):
    return client_create(actor=manager, code="bread", name="パン工房株式会社")


@pytest.fixture
def browser(manager):
    browser = Browser()
    login_verified(browser, User.objects.get(pk=manager.pk))
    return browser


def item_state(browser, code: str) -> str:
    """The state of one item on bread's checklist page: done or missing."""
    html = browser.get(reverse("setup-checklist", args=["bread"])).content.decode()
    return html.split(f'id="item-{code}" class="')[1].split('"')[0]


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_browser(cast, bread):
    """A browser logged in as a superuser administrator of bread, on the admin's pages."""
    admin = UserFactory(
        username="adm",
        role=Role.ADMIN,
        home_site=cast.sapporo,
        clients=[bread],
        is_staff=True,
        is_superuser=True,
        language="en",
    )
    browser = Browser()
    login_verified(browser, admin)
    return browser
