"""`azukari policy load|report|timing`: thin wrappers around the policy services and reports."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from azukari.core.errors import DomainError
from azukari.org.models import Client
from azukari.subscriptions.reports import consistency_report, report_csv, report_text
from azukari.subscriptions.selectors import time_to_decision_report
from azukari.subscriptions.services import PolicyInvalid, policy_file_read, policy_load


class _AllClients:
    """The command runs as the center's administrator: it sees the one client it is given."""

    def __init__(self, client: Client):
        self._ids = frozenset({client.pk})

    def visible_client_ids(self) -> frozenset[int]:
        return self._ids


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Load cancellation policies from a file and report on cancellation decisions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Create or update a policy from a TOML (or YAML) file.")
        load.add_argument("file", type=Path)
        load.add_argument("--client", required=True, help="client code")
        for name, text in (
            ("report", "Exception consistency: grant rates and the contact-count trend test."),
            ("timing", "Time from first request to decision, per request."),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--client", required=True, help="client code")
            p.add_argument("--from", dest="date_from", required=True, type=_date)
            p.add_argument("--to", dest="date_to", required=True, type=_date)
            p.add_argument("--csv", action="store_true", help="write CSV to standard output")

    def handle(self, *args, **options) -> None:
        client = Client.objects.filter(code=options["client"]).first()
        if client is None:
            raise CommandError(f"no client with code {options['client']!r}")
        try:
            getattr(self, f"_{options['action']}")(client, options)
        except PolicyInvalid as exc:
            raise CommandError(
                "\n".join(f"{field}: {message}" for field, message in exc.problems)
            ) from exc
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc}" if exc.field else str(exc)) from exc

    def _load(self, client: Client, options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        result = policy_load(client=client, data=policy_file_read(path))
        self.stdout.write(
            f"policy {result.policy.code}: {len(result.created)} version(s) added, "
            f"{len(result.replaced)} corrected, {len(result.unchanged)} unchanged"
        )

    def _report(self, client: Client, options) -> None:
        report = consistency_report(
            viewer=_AllClients(client),
            client_id=client.pk,
            date_from=options["date_from"],
            date_to=options["date_to"],
        )
        self.stdout.write(report_csv(report) if options["csv"] else report_text(report), ending="")
        if not options["csv"]:
            self.stdout.write("")

    def _timing(self, client: Client, options) -> None:
        report = time_to_decision_report(
            viewer=_AllClients(client),
            client_id=client.pk,
            date_from=options["date_from"],
            date_to=options["date_to"],
        )
        if options["csv"]:
            self.stdout.write(
                "request,case,first_requested_on,first_parked_on,decided_on,effective_on,"
                "days_to_decision,days_to_effective,limit_days,overdue"
            )
            for t in report.rows:
                self.stdout.write(
                    ",".join(
                        "" if v is None else str(v)
                        for v in (
                            t.request_id,
                            t.case_id,
                            t.first_requested_on,
                            t.first_parked_on,
                            t.decided_on,
                            t.effective_on,
                            t.days_to_decision,
                            t.days_to_effective,
                            t.limit_days,
                            int(t.overdue),
                        )
                    )
                )
            return
        self.stdout.write(
            f"requests: {len(report.rows)}, decided: {report.decided}, "
            f"decided within the limit: {report.within_limit}, median days: "
            f"{report.median_days}, 90th percentile: {report.p90_days}, max: {report.max_days}"
        )
