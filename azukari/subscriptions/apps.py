from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "azukari.subscriptions"
    label = "subscriptions"
    verbose_name = _("Subscriptions")

    def ready(self) -> None:
        from azukari.cases.signals import inquiry_answered

        inquiry_answered.connect(_settle_exception, dispatch_uid="subscriptions-settle-exception")


def _settle_exception(sender, *, inquiry, **kwargs) -> None:
    """A client's answer through the portal or the API rules on the exception it was about."""
    from azukari.subscriptions.services import cancellation_inquiry_settle

    cancellation_inquiry_settle(inquiry=inquiry)
