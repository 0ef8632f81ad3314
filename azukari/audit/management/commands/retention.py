"""`azukari retention apply [--client CODE] [--dry-run]`: erase personal data past its period."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.audit.models import RetentionPolicy
from azukari.audit.retention import retention_apply
from azukari.org.models import Client


class Command(BaseCommand):
    help = "Applies each client's retention periods (anonymise customers, erase audit details)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply", help="Apply the retention periods.")
        apply.add_argument("--client", help="Only this client (code).")
        apply.add_argument("--dry-run", action="store_true", help="Count; change nothing.")

    def handle(self, *args, **options) -> None:
        code = options["client"]
        if code:
            clients = list(Client.objects.filter(code=code))
            if not clients:
                raise CommandError(_("No client with code “%(code)s”.") % {"code": code})
        else:
            ids = RetentionPolicy.objects.values_list("client_id", flat=True)
            clients = list(Client.objects.filter(pk__in=ids).order_by("code"))
        for client in clients:
            result = retention_apply(client=client, dry_run=options["dry_run"])
            template = (
                _("%(client)s: would anonymise %(customers)d customers, erase %(events)d events")
                if result.dry_run
                else _("%(client)s: anonymised %(customers)d customers, erased %(events)d events")
            )
            self.stdout.write(
                template
                % {
                    "client": result.client,
                    "customers": result.customers,
                    "events": result.audit_events,
                }
            )
