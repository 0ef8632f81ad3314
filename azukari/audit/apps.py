from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "azukari.audit"
    label = "audit"
    verbose_name = _("Audit and confidentiality")

    def ready(self) -> None:
        # Session bookkeeping hooks (so a leaver's sessions can be ended at once).
        from azukari.audit import checks, sessions  # noqa: F401
