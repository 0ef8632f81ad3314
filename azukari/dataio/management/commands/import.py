"""`azukari import customers|subscriptions|deliveries FILE --client CODE [--encoding cp932]`,
and `azukari import abandon BATCH` for an import whose process was killed."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.core.errors import DomainError
from azukari.dataio.models import ImportBatch, ImportKind, ImportStatus
from azukari.dataio.progress import ProgressBar
from azukari.dataio.services import import_abandon, import_run, import_start
from azukari.org.models import Client


class Command(BaseCommand):
    help = "Import a client's CSV (UTF-8 or CP932) or .xlsx file: all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "kind",
            choices=[*ImportKind.values, "abandon"],
            help="What the file holds; or `abandon` to give up the import numbered FILE.",
        )
        parser.add_argument("file", help="The file; with `abandon`, the import's number.")
        parser.add_argument("--client", help="The client's code (required for a file).")
        parser.add_argument("--encoding", default="", help="utf-8 or cp932 (detected if left out).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        if options["kind"] == "abandon":
            self._abandon(options["file"])
            return
        if not options["client"]:
            raise CommandError(_("Say which client the file is for (--client CODE)."))
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

    def _abandon(self, number: str) -> None:
        batch = ImportBatch.objects.filter(pk=int(number) if number.isdigit() else None).first()
        if batch is None:
            raise CommandError(_("No import has this number."))
        try:
            import_abandon(actor=None, batch=batch)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Import #%(id)s (%(file)s) abandoned; its rows were deleted. Import the file again.")
            % {"id": batch.pk, "file": batch.filename}
        )
