"""A site's status from outside: mark it down (or drill) when a disaster takes it out."""

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.org.failover import site_by_code, site_down, site_mark_down, work_at_site

router = Router(tags=["Sites and routing"])


class SiteDownQuery(Schema):
    drill: bool = Field(False, description="Only report what would move; change nothing.")


class SiteDownOut(Schema):
    site: str
    status: str
    drill: bool
    outage: int | None = None
    cases_to_move: int
    callbacks_to_move: int
    stranded: dict[str, int] = {}
    to_teams: dict[str, int] = {}


@router.post(
    "/sites/{code}/down",
    response=responses({200: SiteDownOut, 202: SiteDownOut}),
    auth=scoped(Scope.SITES_FAILOVER),
    operation_id="site_down",
    summary="Mark a site down; its open azukari and callbacks move to operating sites",
)
def mark_down(
    request: HttpRequest,
    code: str = Path(..., max_length=32, pattern=r"^[-a-zA-Z0-9_]+$"),
    params: Query[SiteDownQuery] = None,
):
    """A site's status concerns every client it serves: the token must be a center token
    serving all of them. The answer counts only the work of the clients the token sees."""
    token = request.auth
    actor = token.service_user
    seen = token.visible_client_ids()
    site = site_by_code(code)
    if params and params.drill:
        plan = site_down(site=site, actor=actor, drill=True, client_ids=seen)
        return Status(
            200,
            {
                "site": site.code,
                "status": site.status,
                "drill": True,
                "cases_to_move": plan.cases_moved,
                "callbacks_to_move": plan.callbacks_moved,
                "stranded": dict(plan.stranded),
                "to_teams": dict(plan.to_teams),
            },
        )
    # The moves run in the worker, batch by batch; the answer says how much is queued.
    cases, callbacks = work_at_site(site, client_ids=seen)
    outage = site_mark_down(site=site, actor=actor, note=f"API: {token}")
    site.refresh_from_db()
    return Status(
        202,
        {
            "site": site.code,
            "status": site.status,
            "drill": False,
            "outage": outage.pk,
            "cases_to_move": cases,
            "callbacks_to_move": callbacks,
        },
    )
