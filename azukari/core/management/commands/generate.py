"""`azukari generate --customers N`: large data sets for trying scale and for benchmarks."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from azukari.demo.bulk import generate
from azukari.demo.story import reference_data
from azukari.org.models import Client


class Command(BaseCommand):
    help = "Adds customers with subscriptions, deliveries, contacts and cases, in bulk."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument(
            "--client",
            action="append",
            dest="clients",
            metavar="CODE",
            help="client code (repeatable); default: every demo client",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--contacts-per-customer",
            type=float,
            default=2.0,
            help="average contacts per customer, those that opened a case included",
        )
        parser.add_argument(
            "--cases-per-customer", type=float, default=0.5, help="average cases per customer"
        )
        parser.add_argument(
            "--open-as-azukari",
            action="store_true",
            help="leave every open azukari in the center's turn (the demo moves them on "
            "through the services)",
        )
        parser.add_argument(
            "--defer-indexes",
            action="store_true",
            help="build secondary indexes once at the end: faster for large runs, "
            "for a database nobody else is using meanwhile",
        )

    def handle(self, *args, customers: int, clients: list[str] | None, seed: int, **options):
        if customers <= 0:
            raise CommandError(_("--customers must be a positive number."))
        contacts, cases = options["contacts_per_customer"], options["cases_per_customer"]
        if not 0 <= cases <= contacts <= 50:
            raise CommandError(
                _(
                    "Give at most 50 contacts per customer, and no more cases than contacts: "
                    "each case is opened by a contact."
                )
            )
        reference_data()
        codes = clients or ["coffee", "tea"]
        found = list(Client.objects.filter(code__in=codes).order_by("code"))
        missing = set(codes) - {c.code for c in found}
        if missing:
            raise CommandError(
                _("Unknown client code(s): %(codes)s") % {"codes": ", ".join(sorted(missing))}
            )
        found.sort(key=lambda c: codes.index(c.code))
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]customers"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"),
            TimeRemainingColumn(),
            disable=options["verbosity"] == 0,
        ) as progress:
            task = progress.add_task("generate", total=customers, rate="-")

            def advance(n: int) -> None:
                progress.advance(task, n)
                done = progress.tasks[0].completed
                rate = done / max(time.perf_counter() - started, 1e-6)
                progress.update(task, rate=f"{rate:,.0f}")

            counts = generate(
                clients=found,
                customers=customers,
                seed=seed,
                contacts_per_customer=contacts,
                cases_per_customer=cases,
                defer_indexes=options["defer_indexes"],
                open_as_azukari=options["open_as_azukari"],
                progress=advance,
            )
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        done = _("Generated in %(seconds).1f s: %(summary)s")
        self.stdout.write(done % {"seconds": elapsed, "summary": summary})
