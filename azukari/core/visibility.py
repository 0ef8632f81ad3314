"""The one door to client data: every read goes through `visible_to(viewer)`.

A viewer is anything that can say which clients it may see (a user, later an API token).
Another client's object and a missing object are indistinguishable from outside.
"""

from typing import Protocol, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import NotVisible


class Viewer(Protocol):
    def visible_client_ids(self) -> frozenset[int]: ...


class ClientScopedQuerySet(models.QuerySet):
    """For models that carry their own `client` foreign key (denormalised for indexed scoping)."""

    client_field = "client_id"

    def visible_to(self, viewer: Viewer | None):
        if viewer is None:
            return self.none()
        ids = viewer.visible_client_ids()
        if not ids:
            return self.none()
        return self.filter(**{f"{self.client_field}__in": ids})


ClientScopedManager = models.Manager.from_queryset(ClientScopedQuerySet)


class ClientQuerySet(ClientScopedQuerySet):
    """For the Client model itself: a viewer sees the companies it serves or works for."""

    client_field = "pk"


ClientManager = models.Manager.from_queryset(ClientQuerySet)

M = TypeVar("M", bound=models.Model)


def get_visible(queryset: models.QuerySet, viewer: Viewer | None, **lookup) -> models.Model:
    """Fetch one object through the door; raises NotVisible for missing and forbidden alike."""
    try:
        return queryset.visible_to(viewer).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


class ClientOwned(models.Model):
    """Abstract base: a row that belongs to exactly one client."""

    client = models.ForeignKey(
        "org.Client", on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )

    objects = ClientScopedManager()

    class Meta:
        abstract = True
