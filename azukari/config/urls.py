from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from azukari.web.views import AzukariLoginView

urlpatterns = [
    path("login/", AzukariLoginView.as_view(), name="login"),
    # The admin logs in through the same throttled door (and then the two-factor step).
    path("admin/login/", AzukariLoginView.as_view(), name="admin-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("azukari.api.urls")),
    path("reports/", include("azukari.reports.urls")),
    path("exports/", include("azukari.dataio.urls")),
    path("demo/", include("azukari.demo.urls")),
    path("self/", include("azukari.selfservice.urls")),
    path("desk/self-service/", include("azukari.selfservice.desk_urls")),
    path("", include("azukari.web.urls")),
]

# Under /api/ an unexpected error answers in the API's JSON shape (503 when the database is
# unreachable); elsewhere the plain error page.
handler500 = "azukari.api.errors.server_error"
