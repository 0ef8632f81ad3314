"""`azukari backup FILE`: a consistent copy of the database, taken online (docs/topology.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.core.backups import database_backup
from azukari.core.errors import DomainError


class Command(BaseCommand):
    help = "Writes a consistent copy of the database to FILE while the service keeps running."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A new file: SQLite database, or pg_dump archive.")

    def handle(self, *args, **options) -> None:
        try:
            backup = database_backup(destination=Path(options["file"]))
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Backup written: %(path)s (%(mb).1f MB, %(method)s, %(s).1f s).")
            % {
                "path": backup.path,
                "mb": backup.size / 1_000_000,
                "method": backup.method,
                "s": backup.seconds,
            }
        )
        self.stdout.write(
            _(
                "Restore it with the same audit key (AZUKARI_AUDIT_KEY, fingerprint "
                "%(fingerprint)s), or `azukari audit verify` fails on the restored copy."
            )
            % {"fingerprint": backup.audit_key_fingerprint}
        )
