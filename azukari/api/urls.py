from django.urls import path

from azukari.api.api import api

urlpatterns = [
    path("v1/", api.urls),
]
