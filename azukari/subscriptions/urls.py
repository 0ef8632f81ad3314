"""The cancellation desk; included at the root by the project's URL conf."""

from django.urls import path

from azukari.subscriptions import views

urlpatterns = [
    path("cases/<int:case_id>/cancellation/", views.request_record, name="cancellation-record"),
    path("cancellations/overdue/", views.overdue, name="cancellation-overdue"),
    path("cancellations/report/", views.report, name="cancellation-report"),
    path("cancellations/<int:request_id>/", views.desk, name="cancellation-desk"),
    path("cancellations/<int:request_id>/disclose/", views.disclose, name="cancellation-disclose"),
    path("cancellations/<int:request_id>/decide/", views.decide, name="cancellation-decide"),
    path(
        "cancellations/<int:request_id>/exception/",
        views.exception_ask,
        name="cancellation-exception",
    ),
    path("cancellations/<int:request_id>/withdraw/", views.withdraw, name="cancellation-withdraw"),
    path("exceptions/<int:exception_id>/rule/", views.exception_rule, name="exception-rule"),
]
