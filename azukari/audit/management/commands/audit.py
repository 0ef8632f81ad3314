"""`azukari audit verify|who-saw|seal|access-review`: the personal-data audit from a shell.

Runs as the system: whoever can run commands on the app server is trusted.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from azukari.audit.selectors import access_review, customer_by_reference, who_saw
from azukari.audit.services import audit_seal_all
from azukari.audit.verify import audit_verify
from azukari.org.models import Client


class Command(BaseCommand):
    help = "Verifies the audit chains, answers who saw a customer, seals, reviews access."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Recompute the hash chains and report tampering.")
        verify.add_argument("--client", help="Only this client's chain (code).")
        who = sub.add_parser("who-saw", help="Every access to one customer's personal data.")
        who.add_argument("customer", help="Customer number (with --client) or id.")
        who.add_argument("--client", help="The customer's client (code).")
        sub.add_parser("seal", help="Chain the pending events now (the worker does it too).")
        review = sub.add_parser("access-review", help="Who can see what; unused and bulk access.")
        review.add_argument("--client", help="Only people who can see this client (code).")
        review.add_argument("--days", type=int, default=90)

    def _client(self, code: str | None) -> Client | None:
        if not code:
            return None
        client = Client.objects.filter(code=code).first()
        if client is None:
            raise CommandError(_("No client with code “%(code)s”.") % {"code": code})
        return client

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "verify":
            self._verify(self._client(options["client"]))
        elif action == "who-saw":
            self._who_saw(options["customer"], self._client(options["client"]))
        elif action == "seal":
            sealed = audit_seal_all()
            self.stdout.write(_("Sealed %(n)d events.") % {"n": sum(sealed.values())})
        else:
            self._review(self._client(options["client"]), options["days"])

    def _verify(self, client: Client | None) -> None:
        report = audit_verify(client=client)
        for result in report.results:
            self.stdout.write(
                _(
                    "%(client)s: %(events)d sealed events (%(tombstones)d erased), "
                    "%(pending)d pending, head %(seq)d %(hash)s"
                )
                % {
                    "client": result.client,
                    "events": result.events,
                    "tombstones": result.tombstones,
                    "pending": result.pending,
                    "seq": result.head_seq,
                    "hash": result.head_hash[:16] or "-",
                }
            )
        for problem in report.problems:
            self.stderr.write(str(problem))
        if not report.ok:
            raise CommandError(
                _("The audit chain does not verify: %(n)d problem(s).")
                % {"n": len(report.problems)}
            )
        self.stdout.write(_("All chains verify."))

    def _who_saw(self, reference: str, client: Client | None) -> None:
        customer = customer_by_reference(reference=reference, client=client)
        if customer is None:
            if not reference.isdigit():
                raise CommandError(_("No such customer."))
            customer_id = int(reference)  # an erased customer is still answered by id
        else:
            customer_id = customer.pk
        events = who_saw(customer_id=customer_id, client_id=client.pk if client else None)
        count = 0
        for event in events:
            count += 1
            who = "-"
            if event.actor is not None:
                who = f"{event.actor.username} ({event.actor.get_role_display()})"
            self.stdout.write(
                "\t".join(
                    [
                        timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                        who,
                        event.get_action_display(),
                        ",".join(event.fields) or "-",
                        event.purpose or "-",
                        event.ip or "-",
                    ]
                )
            )
        self.stdout.write(_("%(n)d access event(s).") % {"n": count})

    def _review(self, client: Client | None, days: int) -> None:
        for row in access_review(client=client, days=days):
            self.stdout.write(
                "\t".join(
                    [
                        row.user.username,
                        row.user.role,
                        ",".join(row.clients) or "-",
                        _("access") if row.has_access else _("no access"),
                        row.last_login.strftime("%Y-%m-%d") if row.last_login else "-",
                        str(row.customers_seen),
                        str(row.exports),
                        ",".join(row.flags) or "-",
                    ]
                )
            )
