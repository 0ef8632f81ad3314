from django.urls import path

from azukari.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_index, name="index"),
    path("<slug:client_code>/monthly/", views.client_monthly, name="client-monthly"),
]
