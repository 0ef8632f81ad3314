from django.urls import path

from azukari.demo import views

urlpatterns = [
    path("call/", views.call_ring, name="demo-call-ring"),
]
