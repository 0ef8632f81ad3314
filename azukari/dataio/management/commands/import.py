"""`azukari import customers|subscriptions|deliveries FILE --client CODE [--encoding cp932]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.core.errors import DomainError
from azukari.dataio.models import ImportKind, ImportStatus
from azukari.dataio.progress import ProgressBar
from azukari.dataio.services import import_run, import_start
from azukari.org.models import Client


class Command(BaseCommand):
    help = "Import a client's CSV (UTF-8 or CP932) or .xlsx file: all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--client", required=True, help="The client's code.")
        parser.add_argument("--encoding", default="", help="utf-8 or cp932 (detected if left out).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        client = Client.objects.filter(code=options["client"]).first()
        if client is None:
            raise CommandError(_("No client has this code."))
        try:
            batch = import_start(
                actor=None,
                client=client,
                kind=options["kind"],
                path=Path(options["file"]),
                encoding=options["encoding"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        bar = None if options["no_progress"] else ProgressBar(self.stderr._out)
        batch = import_run(batch=batch, progress=bar)
        if bar:
            bar.close()
        language = "ja" if (self.stdout._out.encoding or "").lower().startswith("utf") else "en"
        for error in batch.errors:
            self.stdout.write(
                _("row %(row)s, column %(column)s: %(message)s")
                % {
                    "row": error["row"],
                    "column": error["column"],
                    "message": error["message"][language],
                }
            )
        if batch.error_count > len(batch.errors):
            self.stdout.write(
                _("… and %(n)s more errors.") % {"n": batch.error_count - len(batch.errors)}
            )
        summary = _(
            "%(status)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(errors)s errors (import #%(id)s)."
        ) % {
            "status": batch.get_status_display(),
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "errors": batch.error_count,
            "id": batch.pk,
        }
        if batch.status != ImportStatus.DONE:
            raise CommandError(summary)
        self.stdout.write(summary)
