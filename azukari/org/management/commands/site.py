"""`azukari site down NAME [--drill]` and `azukari site up NAME`: a site's status from a shell;
`azukari site create CODE --name NAME --hours mon-fri=09:00-18:00`: a new site.

Runs as the system (no user): whoever can run commands on the app server is trusted.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils.translation import gettext as _

from azukari.core.errors import DomainError
from azukari.org.failover import site_down, site_up
from azukari.org.models import Site, SiteStatus
from azukari.org.setup import site_create

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hours(specs: list[str]) -> dict[int, tuple[dt.time, dt.time]]:
    """`mon-fri=09:00-18:00`, `sat=10:00-17:00`, `sun=`: weekdays (a range or one) and times."""
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    for spec in specs:
        days, _sep, times = spec.partition("=")
        first, _sep, last = days.strip().lower().partition("-")
        try:
            start = WEEKDAYS.index(first)
            end = WEEKDAYS.index(last) if last else start
        except ValueError as exc:
            raise CommandError(
                _("“%(spec)s”: name weekdays as mon … sun, e.g. mon-fri=09:00-18:00.")
                % {"spec": spec}
            ) from exc
        for weekday in range(start, end + 1):
            if not times.strip():
                hours.pop(weekday, None)
                continue
            opens, _sep, closes = times.partition("-")
            try:
                hours[weekday] = (dt.time.fromisoformat(opens), dt.time.fromisoformat(closes))
            except ValueError as exc:
                raise CommandError(
                    _("“%(spec)s”: write the times as 09:00-18:00.") % {"spec": spec}
                ) from exc
    return hours


class Command(BaseCommand):
    help = "Marks a site down (moving its open work away) or operating again."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        down = sub.add_parser("down", help="Mark the site down and move its open work away.")
        down.add_argument("name", help="The site's code or name.")
        down.add_argument(
            "--drill", action="store_true", help="Show what would move; change nothing."
        )
        down.add_argument("--note", default="")
        down.add_argument("--batch-size", type=int, default=500)
        down.add_argument("--json", action="store_true", help="Print the report as JSON.")
        up = sub.add_parser("up", help="Mark the site operating; propose a rebalance.")
        up.add_argument("name", help="The site's code or name.")
        up.add_argument("--note", default="")
        create = sub.add_parser("create", help="Create a site with its opening hours.")
        create.add_argument("code", help="Short code, e.g. sendai.")
        create.add_argument("--name", required=True, help="The site's name.")
        create.add_argument(
            "--hours",
            action="append",
            default=[],
            help="Opening hours, e.g. mon-fri=09:00-18:00 (repeat for other days).",
        )
        create.add_argument(
            "--status",
            choices=[SiteStatus.OPERATING, SiteStatus.DEGRADED],
            default=SiteStatus.OPERATING,
        )

    def handle(self, *args, **options) -> None:
        if options["action"] == "create":
            self._create(options)
            return
        name = options["name"]
        site = Site.objects.filter(Q(code=name) | Q(name=name)).first()
        if site is None:
            raise CommandError(_("No site named “%(name)s”.") % {"name": name})
        try:
            if options["action"] == "down":
                self._down(site, options)
            else:
                proposal = site_up(site=site, actor=None, note=options["note"])
                count = len(proposal.items) if proposal else 0
                self.stdout.write(
                    _("%(site)s is operating. Rebalance proposed: %(n)d azukari could move back.")
                    % {"site": site.name, "n": count}
                )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, options: dict) -> None:
        try:
            site = site_create(
                actor=None,
                code=options["code"],
                name=options["name"],
                hours=parse_hours(options["hours"]),
                status=options["status"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc}" if exc.field else str(exc)) from exc
        days = site.hours.count()
        self.stdout.write(
            _("Site %(name)s (%(code)s) created, open %(days)d days a week.")
            % {"name": site.name, "code": site.code, "days": days}
            if days
            else _("Site %(name)s (%(code)s) created with the default hours (Mon-Fri 9:00-18:00).")
            % {"name": site.name, "code": site.code}
        )

    def _down(self, site: Site, options: dict) -> None:
        from rich.progress import Progress

        with Progress(transient=True, disable=options["json"]) as bar:
            task = bar.add_task(_("Moving work"), total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = site_down(
                site=site,
                actor=None,
                drill=options["drill"],
                note=options["note"],
                batch_size=options["batch_size"],
                progress=progress,
            )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        if options["drill"]:
            self.stdout.write(_("Drill: nothing was changed."))
        elif report.already_down and report.noop:
            self.stdout.write(
                _("%(site)s was already down; nothing left to move.") % {"site": site.name}
            )
        self.stdout.write(
            _("%(verb)s %(cases)d azukari and %(callbacks)d callbacks in %(s).2f s.")
            % {
                "verb": _("Would move") if options["drill"] else _("Moved"),
                "cases": report.cases_moved,
                "callbacks": report.callbacks_moved,
                "s": report.seconds,
            }
        )
        for team, n in sorted(report.to_teams.items()):
            self.stdout.write(f"  → {team}: {n}")
        for client, n in sorted(report.stranded.items()):
            self.stderr.write(
                _("  ! %(n)d for client %(client)s found no operating team; they stay put.")
                % {"n": n, "client": client}
            )
