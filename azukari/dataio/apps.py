from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "azukari.dataio"
    label = "dataio"
    verbose_name = _("Imports and exports")
