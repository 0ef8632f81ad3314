"""Background tasks of clients, sites and staff: thin and safe to run twice."""

from azukari.org.failover import site_down
from azukari.org.models import Site, SiteStatus, User


def site_failover_continue(site_id: int, actor_id: int | None = None) -> dict | None:
    """Moves whatever open work is still at a down site. A rerun (redelivery after a worker
    died) finds less or nothing left: each batch commits once, moved work no longer matches."""
    site = Site.objects.filter(pk=site_id).first()
    if site is None or site.status != SiteStatus.DOWN:
        return None
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return site_down(site=site, actor=actor).as_dict()
