from django.urls import path

from azukari.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("language/", views.language_set, name="language-set"),
]
