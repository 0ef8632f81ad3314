from django.urls import path

from azukari.selfservice import views

urlpatterns = [
    path("", views.home, name="selfservice-home"),
    path("l/<str:token>/", views.open_link, name="selfservice-open"),
    path("open/", views.exchange, name="selfservice-exchange"),
    path("check/", views.identity, name="selfservice-identity"),
    path("request/", views.record_request, name="selfservice-request"),
    path("withdraw/", views.withdraw, name="selfservice-withdraw"),
    path("exception/", views.ask_exception, name="selfservice-exception"),
    path("question/", views.question, name="selfservice-question"),
    path("choose/<int:subscription_id>/<str:code>/", views.choose, name="selfservice-choose"),
    path("offer/<int:subscription_id>/", views.offer, name="selfservice-offer"),
    path("preferences/", views.preferences, name="selfservice-preferences"),
    path("end/", views.end, name="selfservice-end"),
    path("c/<slug:client_code>/", views.public_ask, name="selfservice-ask"),
    path("c/<slug:client_code>/brand.css", views.brand_css, name="selfservice-brand"),
]
