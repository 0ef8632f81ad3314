"""`azukari export customers|cases|contacts|audit --client CODE --user NAME --output FILE`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.core.errors import DomainError
from azukari.dataio.exports import (
    SPECS,
    XLSX_MAX_ROWS,
    csv_stream,
    export_header,
    export_rows,
    xlsx_write,
)
from azukari.org.models import Client, User


class Command(BaseCommand):
    help = "Export a client's records as CSV (UTF-8 with BOM, or CP932) or .xlsx, streamed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=sorted(SPECS))
        parser.add_argument("--client", required=True, help="The client's code.")
        parser.add_argument(
            "--user", required=True, help="Who exports: the audit trail names this person."
        )
        parser.add_argument("--output", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--encoding", choices=["utf-8", "cp932"], default="utf-8")
        parser.add_argument("--purpose", default="")
        parser.add_argument("--sheet-rows", type=int, default=XLSX_MAX_ROWS)

    def handle(self, *args, **options) -> None:
        client = Client.objects.filter(code=options["client"]).first()
        user = User.objects.filter(username=options["user"]).first()
        if client is None or user is None:
            raise CommandError(_("No such client or user."))
        output = Path(options["output"])
        try:
            rows = export_rows(
                viewer=user, client=client, what=options["what"], purpose=options["purpose"]
            )
            header = export_header(options["what"])
            if options["format"] == "xlsx":
                sheets = xlsx_write(
                    header,
                    rows,
                    output,
                    sheet_title=options["what"],
                    max_rows=options["sheet_rows"],
                )
                if sheets > 1:
                    self.stderr.write(
                        _("More rows than one sheet holds: written on %(n)s sheets.")
                        % {"n": sheets}
                    )
            else:
                with output.open("wb") as f:
                    for chunk in csv_stream(header, rows, encoding=options["encoding"]):
                        f.write(chunk)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Written to %(path)s.") % {"path": output})
