"""The integrations API, version 1: one NinjaAPI, one router per area.

To add an area, write `azukari/api/routers/<area>.py` with `router = Router(tags=[...])` and add
its name to ROUTERS; it is mounted under /api/v1/ and appears in the OpenAPI document.
"""

from importlib import import_module

from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI

from azukari.api import errors
from azukari.api.parsing import NulRefusingParser
from azukari.api.throttle import TokenRateThrottle

ROUTERS = [
    "screen_pop",
    "customers",
    "contacts",
    "sync",
    "cases",
    "inquiries",
    "webhooks",
    "routing",
    "sites",
    "reports",
    "selfservice",
]

api = NinjaAPI(
    title="Azukari integrations API",
    version="1",
    description=str(
        _(
            "Screen pop, PBX contact events, data sync, cases, inquiries and webhooks. "
            "Authenticate with `Authorization: Bearer <token>`."
        )
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    throttle=[TokenRateThrottle()],
    parser=NulRefusingParser(),
)
errors.install(api)

for _name in ROUTERS:
    api.add_router("/", import_module(f"azukari.api.routers.{_name}").router)
