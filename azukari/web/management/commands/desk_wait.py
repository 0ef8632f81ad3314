"""`azukari desk_wait`: serves the idle desks' long wait (`azukari.web.incoming_wait`).

Run one per app machine beside gunicorn and send `/desk/incoming/wait/` to it from the load
balancer; the desk pages then wait for their calls instead of polling. It holds every waiting
desk in one process and reads the database once a second whatever their number, so one is
enough for a floor; a second on another machine shares the desks the balancer sends it.
"""

import resource

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serves the desks' long wait for incoming calls (ASGI, uvicorn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, **options) -> None:
        import uvicorn

        from azukari.web.incoming_wait import application

        # Each waiting desk holds a socket: allow as many as the system lets this process.
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        uvicorn.run(
            application,
            host=options["host"],
            port=options["port"],
            http="httptools",
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=30,
        )
