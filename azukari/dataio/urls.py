from django.urls import path

from azukari.dataio import views

app_name = "dataio"

urlpatterns = [
    path("<slug:client_code>/", views.export_download, name="export"),
]
