"""The idle desks' long wait, as `idle_desk.py` measures it: `--operators` desks wait at once.

`azukari desk_wait` (uvicorn) is started on the database; that many operators (the staff
`load.py` adds, created when missing) each hold a wait, over keep-alive HTTP/1.1 as a browser
does, and ask again whenever it ends (304 after `WAIT_SECONDS`). The figure is the wait
server's CPU time (all its threads, from /proc) over `seconds`, as a share of one core. Then
one waiting operator's phone rings: the time until that desk's wait answers.
"""

import asyncio
import datetime as dt
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import wait_listening  # noqa: E402


async def _desk(port: int, ticket: str, tag: str, stop: float, counts: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET /desk/incoming/wait/ HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {tag}\r\n"
        f"X-Desk-Ticket: {ticket}\r\n\r\n"
    ).encode()
    try:
        while time.monotonic() < stop:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            counts[status] = counts.get(status, 0) + 1
            if status != 304:
                await asyncio.sleep(1)  # the page would be asked; this desk just asks again
    finally:
        writer.close()


async def _all_desks(port: int, tickets: list[str], tag: str, seconds: float, counts) -> None:
    stop = time.monotonic() + seconds
    desks = []
    for ticket in tickets:  # a floor logging in, not all in one instant
        desks.append(asyncio.ensure_future(_desk(port, ticket, tag, stop, counts)))
        await asyncio.sleep(0.001)
    await asyncio.gather(*desks, return_exceptions=False)


def _wait_once(port: int, ticket: str, tag: str) -> tuple[int, float]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request(
        "GET", "/desk/incoming/wait/", headers={"If-None-Match": tag, "X-Desk-Ticket": ticket}
    )
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - started


def measure(
    env: dict[str, str], *, operators: int, seconds: float, cpu_seconds, log: Path
) -> dict[str, Any]:
    """The wait server's CPU share with `operators` desks waiting, and a ring's wake time."""
    import threading

    import load
    from django.db import connection
    from django.utils import timezone

    from azukari.api.services import contact_event_record
    from azukari.customers.models import CustomerPhone
    from azukari.org.models import Client, User
    from azukari.web.incoming import ticket_for
    from azukari.web.incoming_wait import WAIT_SECONDS

    plan = load.prepare(operators=operators, svs=1, desk=1)
    ids = [o["id"] for o in plan["operators"]]
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    tickets = [ticket_for(users[i]) for i in ids]
    tag = '"ja.none"'
    connection.close()

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = load.free_port()
    azukari = str(Path(sys.executable).with_name("azukari"))
    server = subprocess.Popen(
        [azukari, "desk_wait", "--port", str(port)],
        cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_listening(port, server, "azukari desk_wait", log)
        counts: dict[int, int] = {}
        settle = min(10.0, seconds / 3)
        before: list[float] = []

        def mark() -> None:  # the window starts once every desk waits
            time.sleep(settle)
            before.append(cpu_seconds(server.pid))
            before.append(time.monotonic())

        threading.Thread(target=mark, daemon=True).start()
        asyncio.run(_all_desks(port, tickets, tag, settle + seconds, counts))
        spent = cpu_seconds(server.pid) - before[0]
        window = time.monotonic() - before[1]

        # One desk waits; its phone rings: how long until the wait answers.
        operator = users[ids[0]]
        result: dict[str, Any] = {}

        def wait_for_the_ring() -> None:
            result["status"], result["s"] = _wait_once(port, tickets[0], tag)

        waiter = threading.Thread(target=wait_for_the_ring)
        waiter.start()
        time.sleep(1.5)
        coffee = Client.objects.get(code=plan["operators"][0]["clients"][0])
        number = CustomerPhone.objects.filter(client=coffee).values_list("number", flat=True)[0]
        rang_at = time.perf_counter()
        contact, _ = contact_event_record(
            viewer=operator, client=coffee, call_id=f"load-wait-{secrets.token_hex(4)}",
            event="started", at=timezone.now() - dt.timedelta(seconds=1),
            caller_number=number, agent_id=operator.agent_id,
        )  # fmt: skip
        waiter.join(timeout=60)
        woke_ms = (time.perf_counter() - rang_at) * 1000
        contact.ended_at = timezone.now()
        contact.save(update_fields=["ended_at"])
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    share = spent / window * 100
    return {
        "name": f"long wait: {operators:,} desks waiting (azukari desk_wait)",
        "operators": operators,
        "window_s": round(window, 1),
        "server_cpu_s": round(spent, 2),
        "share_of_one_core_pct": round(share, 2),
        "answers": {str(k): v for k, v in sorted(counts.items())},
        "wait_s": WAIT_SECONDS,
        "ring_status": result.get("status"),
        "ring_to_answer_ms": round(woke_ms),
    }
