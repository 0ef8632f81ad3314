"""`azukari retention apply|review|redact|clean`: erase personal data past its period, then let
a person go through what a pattern could not find.

Every run that changes something names the person it acts for (`--as USERNAME`); the run and
its audit events record them.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.audit.models import RetentionPolicy
from azukari.audit.retention import (
    retention_apply,
    retention_review,
    retention_text_mark_clean,
    retention_text_redact,
)
from azukari.core.errors import DomainError, PermissionRefused
from azukari.org.models import Client, User


class Command(BaseCommand):
    help = "Applies each client's retention periods (anonymise customers, erase audit details)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply", help="Apply the retention periods.")
        apply.add_argument("--client", help="Only this client (code).")
        apply.add_argument("--dry-run", action="store_true", help="Count; change nothing.")
        apply.add_argument("--as", dest="as_user", metavar="USERNAME", help="Who runs it.")
        review = sub.add_parser(
            "review", help="List erased customers' texts that still look personal."
        )
        review.add_argument("--client", required=True, help="The client (code).")
        review.add_argument("--as", dest="as_user", metavar="USERNAME", required=True)
        for name, text in (
            ("redact", "Replace a listed text with a redacted one."),
            ("clean", "Mark a listed text as read and clean."),
        ):
            item = sub.add_parser(name, help=text)
            item.add_argument("--client", required=True, help="The client (code).")
            item.add_argument("--as", dest="as_user", metavar="USERNAME", required=True)
            item.add_argument("item", help="The item as the review lists it (record:id:field).")
            if name == "redact":
                item.add_argument("--text", required=True, help="The text to keep.")

    def handle(self, *args, **options) -> None:
        user = self._user(options["as_user"])
        try:
            getattr(self, "_" + options["action"])(user, options)
        except (DomainError, PermissionRefused) as exc:
            raise CommandError(str(exc)) from exc

    def _user(self, username: str | None) -> User | None:
        if username is None:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user named “%(name)s”.") % {"name": username})
        return user

    def _client(self, code: str) -> Client:
        client = Client.objects.filter(code=code).first()
        if client is None:
            raise CommandError(_("No client with code “%(code)s”.") % {"code": code})
        return client

    def _apply(self, user: User | None, options) -> None:
        if user is None and not options["dry_run"]:
            raise CommandError(_("Say whom the run acts for: --as USERNAME."))
        if options["client"]:
            clients = [self._client(options["client"])]
        else:
            ids = RetentionPolicy.objects.values_list("client_id", flat=True)
            clients = list(Client.objects.filter(pk__in=ids).order_by("code"))
        for client in clients:
            result = retention_apply(client=client, dry_run=options["dry_run"], by=user)
            template = (
                _("%(client)s: would anonymise %(customers)d customers, erase %(events)d events")
                if result.dry_run
                else _(
                    "%(client)s: anonymised %(customers)d customers, erased %(events)d events,"
                    " scrubbed %(texts)d texts"
                )
            )
            self.stdout.write(
                template
                % {
                    "client": result.client,
                    "customers": result.customers,
                    "events": result.audit_events,
                    "texts": result.texts,
                }
            )

    def _review(self, user: User, options) -> None:
        items = retention_review(viewer=user, client=self._client(options["client"]))
        for item in items:
            self.stdout.write(f"{item.key}\t{','.join(item.flags)}\t{item.text!r}")
        self.stdout.write(_("%(count)d texts to review") % {"count": len(items)})

    def _item(self, options) -> tuple[str, int, str]:
        try:
            object_type, object_id, field = options["item"].split(":")
            return object_type, int(object_id), field
        except ValueError as exc:
            raise CommandError(_("Give the item as the review lists it: record:id:field.")) from exc

    def _redact(self, user: User, options) -> None:
        object_type, object_id, field = self._item(options)
        retention_text_redact(
            by=user,
            client=self._client(options["client"]),
            object_type=object_type,
            object_id=object_id,
            field=field,
            text=options["text"],
        )
        self.stdout.write(_("Text redacted."))

    def _clean(self, user: User, options) -> None:
        object_type, object_id, field = self._item(options)
        retention_text_mark_clean(
            by=user,
            client=self._client(options["client"]),
            object_type=object_type,
            object_id=object_id,
            field=field,
        )
        self.stdout.write(_("Text marked as reviewed."))
