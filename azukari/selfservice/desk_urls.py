from django.urls import path

from azukari.selfservice import desk

urlpatterns = [
    path("<int:customer_id>/send/", desk.send_link, name="selfservice-send"),
]
