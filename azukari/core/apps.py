from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "azukari.core"
    label = "core"
