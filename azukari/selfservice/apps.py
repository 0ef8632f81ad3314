from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfServiceConfig(AppConfig):
    name = "azukari.selfservice"
    label = "selfservice"
    verbose_name = _("Customer self-service")

    def ready(self) -> None:
        from azukari.cases.signals import callback_scheduled, inquiry_answered

        inquiry_answered.connect(_fresh_link, dispatch_uid="selfservice-fresh-link")
        callback_scheduled.connect(_callback_link, dispatch_uid="selfservice-callback-link")


def _fresh_link(sender, *, inquiry, **kwargs) -> None:
    """The client answered a customer who uses self-service: he gets a fresh link to read
    it (per the client's settings), queued with the answer."""
    from azukari.core.tasks import enqueue
    from azukari.selfservice.models import Link

    customer_id = inquiry.case.customer_id
    if customer_id and Link.objects.filter(customer_id=customer_id).exists():
        enqueue("azukari.selfservice.tasks.update_link_task", inquiry.case_id, group="selfservice")


def _callback_link(sender, *, callback, actor, **kwargs) -> None:
    """The center scheduled a call to a customer who uses self-service: he gets a fresh link
    that says when (not when he moved it himself by setting his preferences)."""
    from azukari.core.tasks import enqueue
    from azukari.selfservice.models import Link, SelfServiceSettings

    if SelfServiceSettings.objects.filter(service_user_id=actor.pk).exists():
        return
    if Link.objects.filter(customer_id=callback.customer_id).exists():
        enqueue("azukari.selfservice.tasks.update_link_task", callback.case_id, group="selfservice")
