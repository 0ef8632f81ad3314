"""`azukari staff import staff.csv --by USERNAME`: staff from a CP932 or UTF-8 file, all rows
or none, found again by employee number; leavers in the file are marked left."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from azukari.core.errors import DomainError
from azukari.org.models import User
from azukari.org.staff_import import StaffImportRefused, staff_import


class Command(BaseCommand):
    help = "Import staff from a CSV (UTF-8 or CP932) or .xlsx file: all rows or none."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="Create or update staff from a file.")
        load.add_argument("file", type=Path)
        load.add_argument(
            "--by", required=True, help="User name of the manager the changes are recorded as."
        )
        load.add_argument("--encoding", default="", help="utf-8 or cp932 (detected if left out).")
        load.add_argument(
            "--language",
            choices=["ja", "en"],
            default=settings.LANGUAGE_CODE[:2],
            help="Language of the messages.",
        )
        load.add_argument("--dry-run", action="store_true", help="Check the file; change nothing.")

    def handle(self, *args, **options) -> None:
        with translation.override(options["language"]):
            self._import(options)

    def _import(self, options) -> None:
        actor = User.objects.filter(username=options["by"]).first()
        if actor is None:
            raise CommandError(_("No one has the user name %(name)s.") % {"name": options["by"]})
        if not options["file"].is_file():
            raise CommandError(_("No such file."))
        try:
            result = staff_import(
                actor=actor,
                path=options["file"],
                encoding=options["encoding"] or None,
                dry_run=options["dry_run"],
            )
        except StaffImportRefused as exc:
            for error in exc.errors:
                self.stderr.write(
                    _("row %(row)s, column %(column)s: %(message)s")
                    % {"row": error.row, "column": error.column, "message": error.message}
                )
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            self.stdout.write(_("Checked: nothing was changed."))
        self.stdout.write(
            _(
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(left)d marked as left."
            )
            % {
                "created": len(result.created),
                "updated": len(result.updated),
                "unchanged": len(result.unchanged),
                "left": len(result.left),
            }
        )
