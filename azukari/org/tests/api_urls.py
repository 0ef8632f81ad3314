"""Serves the sites and routing routers for tests until the API mounts them itself."""

from django.urls import path
from ninja import NinjaAPI

from azukari.api import errors
from azukari.api.routers import routing, sites

api = NinjaAPI(urls_namespace="api-v1-sites-tests", docs_url=None)
errors.install(api)
api.add_router("/", routing.router)
api.add_router("/", sites.router)

urlpatterns = [path("api/v1/", api.urls)]
