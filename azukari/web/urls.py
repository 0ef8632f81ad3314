from django.urls import path

from azukari.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/named-staff/", views.case_named_staff, name="case-named-staff"),
    path("customers/<int:customer_id>/reveal/", views.customer_reveal, name="customer-reveal"),
    path("reports/named-staff/", views.named_staff_report_view, name="named-staff-report"),
    path("staff/agreements/", views.agreement_register_view, name="agreement-register"),
    path("account/2fa/", views.two_factor, name="two-factor"),
    path("language/", views.language_set, name="language-set"),
]
