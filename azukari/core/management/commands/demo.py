"""`azukari demo`: a database with the demo world, served on 127.0.0.1 with a worker beside it."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from azukari.demo.story import DEMO_PASSWORD, STAFF, reference_data, story
from azukari.org.models import Client

LOGINS = [
    *[(username, role.label) for username, role, *_rest in STAFF],
    ("approver_coffee", gettext_lazy("client approver (coffee)")),
    ("approver_tea", gettext_lazy("client approver (tea)")),
]


class Command(BaseCommand):
    help = "Creates and migrates the database if needed, loads the demo and serves it."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up only; do not serve")

    def handle(self, *args, customers: int, port: int, no_serve: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not Client.objects.filter(code="coffee").exists():
            self.stdout.write(_("Loading the demo world…"))
            reference_data()
            story()
            call_command("generate", customers=customers, verbosity=options["verbosity"])
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo logins (password: %(password)s):") % {"password": DEMO_PASSWORD}
            )
        )
        for username, label in LOGINS:
            self.stdout.write(f"  {username:<16} {label}")
        if no_serve:
            return
        self._serve(port)

    def _serve(self, port: int) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
            "AZUKARI_DATA_DIR": str(settings.DATA_DIR),
        }
        bind = f"127.0.0.1:{port}"
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
