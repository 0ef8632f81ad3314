from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "azukari.demo"
    label = "demo"
    verbose_name = "Demo"
