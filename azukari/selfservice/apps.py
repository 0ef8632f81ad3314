from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfServiceConfig(AppConfig):
    name = "azukari.selfservice"
    label = "selfservice"
    verbose_name = _("Customer self-service")

    def ready(self) -> None:
        from azukari.cases.signals import inquiry_answered

        inquiry_answered.connect(_fresh_link, dispatch_uid="selfservice-fresh-link")


def _fresh_link(sender, *, inquiry, **kwargs) -> None:
    """The client answered a customer who uses self-service: he gets a fresh link to read
    it (per the client's settings), queued with the answer."""
    from azukari.core.tasks import enqueue
    from azukari.selfservice.models import Link

    customer_id = inquiry.case.customer_id
    if customer_id and Link.objects.filter(customer_id=customer_id).exists():
        enqueue("azukari.selfservice.tasks.update_link_task", inquiry.case_id, group="selfservice")
