"""The project's URLs plus the cancellation desk, for page tests until the root includes it."""

from django.urls import include, path

from azukari.config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("azukari.subscriptions.urls")), *project_urlpatterns]
