"""Shared test set-up: cheap hashing, and the people of DESIGN.md's story."""

import os
from dataclasses import dataclass

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from azukari.org.models import Client, Role, Site, Team, User
from azukari.testing.factories import (
    ApproverFactory,
    ClientFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

# CI replays the same examples on every run (a failure there is reproducible by anyone);
# a developer's run explores new ones and keeps the failures it finds.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    coffee: Client
    tea: Client
    sapporo: Site
    osaka: Site
    sapporo_desk: Team
    osaka_desk: Team
    tea_desk: Team
    operator: User  # Sapporo, serves coffee
    sv: User  # Osaka, serves coffee
    desk: User  # Sapporo azukari desk, serves coffee
    approver: User  # works at the coffee company
    tea_approver: User  # works at the tea company
    outsider: User  # operator serving only the tea client


@pytest.fixture
def english():
    """Messages read in English by tests that compare their wording; the product's default
    language stays Japanese."""
    with translation.override("en"):
        yield


@pytest.fixture
def cast(db) -> Cast:
    coffee = ClientFactory(code="coffee", name="珈琲定期便株式会社")
    tea = ClientFactory(code="tea", name="お茶の友株式会社")
    sapporo = SiteFactory(code="sapporo", name="札幌センター")
    osaka = SiteFactory(code="osaka", name="大阪センター")
    return Cast(
        coffee=coffee,
        tea=tea,
        sapporo=sapporo,
        osaka=osaka,
        sapporo_desk=TeamFactory(site=sapporo, code="sapporo-desk", clients=[coffee]),
        osaka_desk=TeamFactory(site=osaka, code="osaka-desk", clients=[coffee]),
        tea_desk=TeamFactory(site=osaka, code="osaka-tea-desk", clients=[tea]),
        operator=UserFactory(
            username="op_sapporo", home_site=sapporo, clients=[coffee], agent_id="4001"
        ),
        sv=UserFactory(username="sv_osaka", role=Role.SV, home_site=osaka, clients=[coffee]),
        desk=UserFactory(
            username="desk_sapporo", role=Role.DESK, home_site=sapporo, clients=[coffee]
        ),
        approver=ApproverFactory(username="approver_coffee", client=coffee),
        tea_approver=ApproverFactory(username="approver_tea", client=tea),
        outsider=UserFactory(username="op_tea", home_site=osaka, clients=[tea]),
    )
