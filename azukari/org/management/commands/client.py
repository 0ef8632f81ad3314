"""`azukari client create CODE --name NAME [--line NUMBER] ...`, `azukari client show CODE` (the
set-up checklist) and `azukari client go-live CODE`: thin wrappers around the set-up services."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from azukari.core.errors import DomainError
from azukari.org.checklist import client_checklist, client_go_live
from azukari.org.models import Client, User
from azukari.org.setup import client_create


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from exc


def _pair(value: str) -> tuple[str, str]:
    """NUMBER=LABEL or DATE=NOTE; the part after = is optional."""
    head, _sep, tail = value.partition("=")
    return head.strip(), tail.strip()


class Command(BaseCommand):
    help = "Create a client, show its set-up checklist, or put it live."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a client with its lines and calendar.")
        create.add_argument("code", help="Short code, e.g. coffee.")
        create.add_argument("--name", required=True)
        create.add_argument("--kana", default="", help="The name's reading in katakana.")
        create.add_argument(
            "--line", action="append", default=[], help="A dialled number, NUMBER[=LABEL]."
        )
        create.add_argument(
            "--closed-day", action="append", default=[], help="A closed day, YYYY-MM-DD[=NOTE]."
        )
        create.add_argument("--escalation-email", default="")
        create.add_argument(
            "--contract-signed-on", type=_date, help="The company's contract with the center."
        )
        create.add_argument(
            "--served-by", action="append", default=[], help="User name of staff serving it."
        )
        show = sub.add_parser("show", help="The client and what it still needs before go-live.")
        show.add_argument("code")
        live = sub.add_parser("go-live", help="Put the client live once its checklist is done.")
        live.add_argument("code")

    def handle(self, *args, **options) -> None:
        try:
            if options["action"] == "create":
                client = self._create(options)
            else:
                client = Client.objects.filter(code=options["code"]).first()
                if client is None:
                    raise CommandError(_("No client has this code."))
                if options["action"] == "go-live":
                    client = client_go_live(actor=None, client=client)
                    self.stdout.write(
                        _("%(client)s is live from %(date)s.")
                        % {"client": client.name, "date": client.went_live_on.isoformat()}
                    )
                    return
            self._show(client)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc}" if exc.field else str(exc)) from exc

    def _create(self, options) -> Client:
        served = []
        for username in options["served_by"]:
            person = User.objects.filter(username=username).first()
            if person is None:
                raise CommandError(_("No one has the user name %(name)s.") % {"name": username})
            served.append(person)
        closed = [(_date(day), note) for day, note in map(_pair, options["closed_day"])]
        client = client_create(
            actor=None,
            code=options["code"],
            name=options["name"],
            name_kana=options["kana"],
            lines=[_pair(line) for line in options["line"]],
            closed_days=closed,
            escalation_email=options["escalation_email"],
            contract_signed_on=options["contract_signed_on"],
            served_by=served,
        )
        self.stdout.write(
            _("Client %(name)s (%(code)s) created.") % {"name": client.name, "code": client.code}
        )
        return client

    def _show(self, client: Client) -> None:
        self.stdout.write(f"{client.name} ({client.code})")
        if client.went_live_on:
            self.stdout.write(_("Live since %(date)s.") % {"date": client.went_live_on.isoformat()})
        else:
            self.stdout.write(_("Not live yet."))
        for item in client_checklist(client=client):
            mark = "✓" if item.done else ("✗" if item.required else "-")
            detail = f" ({item.detail})" if item.detail else ""
            self.stdout.write(f"  {mark} {item.label}{detail}")
