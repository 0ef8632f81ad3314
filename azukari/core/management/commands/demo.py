"""`azukari demo`: a database with the demo world, served on 127.0.0.1 with a worker beside it."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from azukari.core.errors import DomainError
from azukari.demo.second_factor import demo_code, demo_second_factors_enrol
from azukari.demo.story import DEMO_PASSWORD, STAFF, reference_data, story
from azukari.demo.workload import demo_azukari_move_on
from azukari.org.models import Client

LOGINS = [
    *[(username, role.label) for username, role, *_rest in STAFF],
    ("approver_coffee", gettext_lazy("client approver (coffee)")),
    ("approver_tea", gettext_lazy("client approver (tea)")),
]


class Command(BaseCommand):
    help = "Creates and migrates the database if needed, loads the demo and serves it."

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            nargs="?",
            choices=["code"],
            help="code USERNAME: print the current second-factor code of a demo login",
        )
        parser.add_argument("username", nargs="?", help="the demo login (with `code`)")
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up only; do not serve")

    def handle(self, *args, customers: int, port: int, no_serve: bool, **options):
        if settings.PRODUCTION:
            raise CommandError(_("The demo is not for a production deployment."))
        if options["action"] == "code":
            self._code(options["username"])
            return
        call_command("migrate", interactive=False, verbosity=0)
        if not Client.objects.filter(code="coffee").exists():
            self.stdout.write(_("Loading the demo world…"))
            reference_data()
            story()
            call_command(
                "generate",
                customers=customers,
                open_as_azukari=True,
                verbosity=options["verbosity"],
            )
            demo_azukari_move_on()
        with_key = set(demo_second_factors_enrol(usernames=[u for u, _label in LOGINS]))
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo logins (password: %(password)s):") % {"password": DEMO_PASSWORD}
            )
        )
        for username, label in LOGINS:
            line = f"  {username:<16} {label}"
            if username in with_key:
                line += "  " + _("(second factor: azukari demo code %(username)s)") % {
                    "username": username
                }
            self.stdout.write(line)
        self.stdout.write(
            _(
                "Logins marked with a second factor ask for a 6-digit code after the password: "
                "`azukari demo code USERNAME` (or `.venv/bin/azukari demo code USERNAME`) "
                "prints the current one."
            )
        )
        self.stdout.write(
            _(
                "To see a call ring, sign in as op_sapporo and press “Simulate an incoming "
                "call” on the operator desk."
            )
        )
        if no_serve:
            return
        self._serve(port)

    def _code(self, username: str | None) -> None:
        if not username:
            raise CommandError(_("Say whose code: azukari demo code USERNAME"))
        try:
            code = demo_code(username=username)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(code)

    def _serve(self, port: int) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
            "AZUKARI_DATA_DIR": str(settings.DATA_DIR),
            "AZUKARI_DEMO": "true",
        }
        bind = f"127.0.0.1:{port}"
        # The links the demo's SMS and e-mails carry lead to this server.
        env.setdefault("AZUKARI_SELFSERVICE_BASE_URL", f"http://{bind}")
        self.stdout.write(
            self.style.SUCCESS(_("Serving on %(url)s (Ctrl-C stops)") % {"url": f"http://{bind}/"})
        )
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "azukari.config.wsgi",
                "--bind",
                bind,
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            env=env,
        )
        worker = subprocess.Popen([sys.executable, "-m", "azukari.cli", "qcluster"], env=env)
        # Stopped with SIGTERM as with Ctrl-C: the web server and the worker stop with it.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for proc in (web, worker):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in (web, worker):
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
