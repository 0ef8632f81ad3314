"""`azukari backlog check` and `azukari backlog rebuild`: the backlog's tallies and trend
against a fresh count of the cases and their history, and their repair."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.cases.backlog_data import backlog_check, backlog_rebuild


class Command(BaseCommand):
    help = "Checks the backlog tallies and trend against a fresh count, or rebuilds them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="Compare the stored figures with a fresh count.")
        sub.add_parser("rebuild", help="Replace the stored figures by a fresh count.")

    def handle(self, *args, **options) -> None:
        if options["action"] == "rebuild":
            counted = backlog_rebuild()
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Rebuilt %(tallies)d tally rows, %(clocks)d clock rows, %(days)d trend "
                        "days, %(due)d due-day rows."
                    )
                    % {
                        "tallies": len(counted.tallies),
                        "clocks": len(counted.clocks),
                        "days": len(counted.trend),
                        "due": len(counted.due),
                    }
                )
            )
            return
        differences = backlog_check()
        for line in differences[:50]:
            self.stdout.write(line)
        if differences:
            raise CommandError(
                _("%(n)d figures differ from a fresh count; run 'azukari backlog rebuild'.")
                % {"n": len(differences)}
            )
        self.stdout.write(
            self.style.SUCCESS(_("The backlog tallies and trend match a fresh count."))
        )
