"""How a member of staff is named to someone else: by name within a site, by site and role
across sites.

Customers ask for operators by name, and a name read on a page travels; so center staff below
manager, and client approvers, see staff of other sites as "大阪センター・SV・リーダー", never by
name. Managers and administrators (`staff.names_all_sites`) see names everywhere. Client
approvers and integrations are named as they are: they are not center staff.

    from azukari.org.people import staff_label
    staff_label(viewer, case.assignee)   # templates: {{ person|staff_label:user }}
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from azukari.org.models import CENTER_ROLES, Role, Site
from azukari.org.permissions import Cap, user_can

# The name of the account a client's self-service acts through: read in the reader's language.
SELF_SERVICE_NAME = gettext_noop("Self-service")


def person_name(person) -> str:
    name = person.display_name or person.get_full_name() or person.get_username()
    if getattr(person, "is_service_account", False) and name == SELF_SERVICE_NAME:
        return _(SELF_SERVICE_NAME)
    return name


def staff_label(viewer, person) -> str:
    """The name of `person` as `viewer` may read it ("" for nobody)."""
    if person is None:
        return ""
    if (
        person.role not in CENTER_ROLES
        or getattr(person, "is_service_account", False)
        or same_site_or_all_sites(viewer, person)
    ):
        return person_name(person)
    return _("%(site)s · %(role)s") % {
        "site": _site_name(viewer, person.home_site_id),
        "role": Role(person.role).label,
    }


def same_site_or_all_sites(viewer, person) -> bool:
    if getattr(viewer, "pk", None) is not None and viewer.pk == getattr(person, "pk", None):
        return True
    if user_can(viewer, Cap.STAFF_NAMES_ALL_SITES):
        return True
    viewer_site = getattr(viewer, "home_site_id", None)
    return (
        viewer_site is not None
        and getattr(viewer, "role", None) in CENTER_ROLES
        and viewer_site == person.home_site_id
    )


def _site_name(viewer, site_id: int | None) -> str:
    """Site names, read once per viewer object (that is, once per request)."""
    if site_id is None:
        return _("Another site")
    names = viewer.__dict__.setdefault("_azukari_site_names", {})
    if site_id not in names:
        names.update(dict(Site.objects.values_list("pk", "name")))
    return names.get(site_id, _("Another site"))
