"""The product's URLs plus two that fail unexpectedly, one inside the API and one outside it:
the API's answer to an error nobody foresaw is checked against them."""

from django.urls import path
from ninja import NinjaAPI

from azukari.api import errors
from azukari.config.urls import handler500
from azukari.config.urls import urlpatterns as product_urls

api = NinjaAPI(urls_namespace="api-faults-tests", docs_url=None, openapi_url=None)
errors.install(api)


@api.get("/unexpected")
def unexpected(request):
    return {"ratio": 1 / 0}


def unexpected_outside_the_api(request):
    raise RuntimeError("a middleware or view failed before the API's handlers ran")


urlpatterns = [
    path("api/faults/", api.urls),
    path("api/faults/outside", unexpected_outside_the_api),
    *product_urls,
]

__all__ = ["handler500", "urlpatterns"]
