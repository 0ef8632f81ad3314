"""A new client's set-up checklist and going live: what is missing before its calls can be
taken, read by the checklist page, `azukari client show` and `client_go_live`."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.core.phones import display_phone
from azukari.org.models import Client, EmploymentStatus, Role, User
from azukari.org.permissions import Cap, require


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str  # what the client needs, as a manager reads it
    done: bool
    required: bool  # go-live is refused while a required item is missing
    detail: str = ""  # what is there now


def _active_people(**filters) -> int:
    """How many active, employed people match `filters`."""
    return (
        User.objects.people()
        .filter(is_active=True, employment_status=EmploymentStatus.ACTIVE, **filters)
        .count()
    )


def _counted(code: str, label: str, n: int, required: bool, detail: str) -> ChecklistItem:
    """An item done when there is at least one; its detail the count, nothing when none."""
    return ChecklistItem(code, str(label), n > 0, required, str(detail) % {"n": n} if n else "")


def client_checklist(*, client: Client, today: dt.date | None = None) -> list[ChecklistItem]:
    """Every item a client needs before go-live, in the order they are usually set up."""
    from azukari.reports.models import ReasonCode
    from azukari.subscriptions.models import Plan, PolicyVersion

    today = today or timezone.localdate()
    # As a person dials them (0120-555-666), not as stored.
    lines = [display_phone(n) for n in client.lines.values_list("number", flat=True)]
    plans = list(Plan.objects.filter(client=client).values_list("name", flat=True))
    in_force = (
        PolicyVersion.objects.filter(client=client, effective_from__lte=today)
        .select_related("policy")
        .order_by("-effective_from")
        .first()
    )
    closed = client.closed_days.filter(date__gte=today).count()
    approvers = _active_people(client=client, role=Role.CLIENT_APPROVER)
    reasons = ReasonCode.objects.filter(client=client, is_active=True).count()
    operators = _active_people(
        clients=client, role=Role.OPERATOR, agreement_signed_on__isnull=False
    )
    contract = client.contract_signed_on
    return [
        ChecklistItem(
            "lines", str(_("A phone line customers dial")), bool(lines), True, ", ".join(lines)
        ),
        ChecklistItem("plans", str(_("A subscription plan")), bool(plans), True, ", ".join(plans)),
        ChecklistItem(
            "policy",
            str(_("A cancellation policy version in force")),
            in_force is not None,
            True,
            (
                str(_("“%(policy)s” version %(n)d, from %(date)s"))
                % {
                    "policy": in_force.policy.name,
                    "n": in_force.number,
                    "date": in_force.effective_from.isoformat(),
                }
                if in_force
                else ""
            ),
        ),
        _counted(
            "calendar",
            _("The client's closed days (its calendar beyond public holidays)"),
            closed,
            False,
            _("%(n)d closed days ahead"),
        ),
        ChecklistItem(
            "approver",
            str(_("A client approver, with the company's contract on record")),
            approvers > 0 and contract is not None,
            True,
            (
                str(_("%(n)d approvers; contract signed on %(date)s"))
                % {"n": approvers, "date": contract.isoformat() if contract else "-"}
            ),
        ),
        ChecklistItem(
            "escalation",
            str(_("An escalation contact for overdue inquiries")),
            bool(client.escalation_email),
            True,
            client.escalation_email,
        ),
        _counted("reasons", _("Contact reason codes"), reasons, False, _("%(n)d codes")),
        _counted(
            "operators",
            _("Operators trained on the client, with an agreement on record"),
            operators,
            True,
            _("%(n)d operators"),
        ),
    ]


def checklist_missing(items: list[ChecklistItem]) -> list[ChecklistItem]:
    return [item for item in items if item.required and not item.done]


@transaction.atomic
def client_go_live(*, actor: User | None, client: Client) -> Client:
    """The client's calls may be taken from today; refused while a required item is missing."""
    if actor is not None:
        require(actor, Cap.CLIENTS_SET_UP)
        if not actor.is_superuser and client.pk not in actor.visible_client_ids():
            from azukari.core.errors import NotVisible

            raise NotVisible()
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.went_live_on is not None:
        raise DomainError(
            _("%(client)s is live since %(date)s.")
            % {"client": client.name, "date": client.went_live_on.isoformat()},
            field="client",
        )
    missing = checklist_missing(client_checklist(client=client))
    if missing:
        raise DomainError(
            _("%(client)s cannot go live yet; missing: %(items)s.")
            % {"client": client.name, "items": "; ".join(item.label for item in missing)},
            field="client",
        )
    client.went_live_on = timezone.localdate()
    client.save(update_fields=["went_live_on"])
    return client
