"""Does a call ring for me? Asked once and answered when it does: the idle desk's long wait.

A desk that polls costs the server a request every few seconds even while nothing happens;
through a sync worker that is at least the worker's own accept-parse-close (docs/design.md,
"The idle desk"). Here the desk asks once and the answer waits: one asyncio process holds
every waiting desk, and a single loop reads, once a second, the newest call of all the
operators waiting, in one query (`incoming.newest_calls`). A desk whose panel no longer shows
the right call gets `200` at once and reloads the panel through the page, which checks the
session, the role and the visibility as any page does; a desk still right after `WAIT_SECONDS`
gets `304` and asks again. The request carries what the conditional poll carries: the tag of
the panel it shows (`If-None-Match`) and the desk's signed ticket, so an answer tells the
ticket's holder no more than the 304 of `IncomingCheck` does.

Served by `azukari desk_wait` (uvicorn) beside the app servers, behind the same address:
the load balancer sends `WAIT_PATH` to it. Without it the desk polls as before.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, close_old_connections

from azukari.web import incoming

WAIT_PATH = "/desk/incoming/wait/"
# A desk's wait ends after this and it asks again: under the idle timeouts of proxies.
WAIT_SECONDS = 25.0
# How often the loop reads the waiting operators' calls: the longest a ringing call waits.
TICK_SECONDS = 1.0
# A user's clients and standing are read again after this (a changed role shows within it).
STANDING_SECONDS = 60.0


@dataclass(eq=False)  # each wait is its own, hashed by identity
class Waiter:
    user_id: int
    tag: str
    language: str
    answer: asyncio.Future = field(repr=False)


@dataclass(frozen=True)
class Standing:
    active: bool
    clients: frozenset[int]
    read_at: float


class Hub:
    """Every waiting desk of this process, and the loop that wakes them."""

    def __init__(self, *, tick: float = TICK_SECONDS) -> None:
        self.tick = tick
        self.waiters: set[Waiter] = set()
        self.standing: dict[int, Standing] = {}
        # Django's connections are per thread: one thread does every read, in order.
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-wait")
        self.loop_task: asyncio.Task | None = None

    def start(self) -> None:
        if self.loop_task is None or self.loop_task.done():
            self.loop_task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            if self.waiters:
                await self.wake_changed()

    async def wake_changed(self) -> None:
        waiting = [w for w in self.waiters if not w.answer.done()]
        if not waiting:
            return
        loop = asyncio.get_running_loop()
        try:
            tags = await loop.run_in_executor(self.reader, self.read_tags, waiting)
        except DatabaseError:  # the database is away: the desks ask again, at the page
            tags = {id(w): None for w in waiting}
        for waiter in waiting:
            tag = tags.get(id(waiter), "")
            if waiter.answer.done() or tag == waiter.tag:
                continue
            waiter.answer.set_result(tag)

    def read_tags(self, waiting: list[Waiter]) -> dict[int, str | None]:
        """The tag each waiting desk's panel should carry now; None for a user who may no
        longer have the panel (the page then says why)."""
        close_old_connections()
        now = time.monotonic()
        user_ids = {w.user_id for w in waiting}
        known = self.standing
        stale = [u for u in user_ids if u not in known or now - known[u].read_at > STANDING_SECONDS]
        if stale:
            self.standing.update(read_standing(stale, now))
        calls = incoming.newest_calls(user_ids)
        tags: dict[int, str | None] = {}
        for waiter in waiting:
            standing = self.standing.get(waiter.user_id)
            if standing is None or not standing.active:
                tags[id(waiter)] = None
                continue
            call = calls.get(waiter.user_id)
            if call is not None and call.client_id not in standing.clients:
                call = None
            tags[id(waiter)] = incoming.incoming_tag(call, waiter.language)
        return tags

    async def wait(self, user_id: int, tag: str, *, seconds: float | None = None) -> str | None:
        """Until the panel tagged `tag` is no longer right: its new tag (None: ask the page),
        or `tag` itself when `seconds` (`WAIT_SECONDS`) passed without a change."""
        seconds = WAIT_SECONDS if seconds is None else seconds
        self.start()
        language = tag[1:].split(".", 1)[0]
        waiter = Waiter(user_id, tag, language, asyncio.get_running_loop().create_future())
        self.waiters.add(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.answer), seconds)
        except TimeoutError:
            return tag
        finally:
            self.waiters.discard(waiter)


def read_standing(user_ids: list[int], now: float) -> dict[int, Standing]:
    from azukari.org.models import User

    users = User.objects.filter(pk__in=user_ids)
    standing = {
        user.pk: Standing(user.is_active, frozenset(user.visible_client_ids()), now)
        for user in users
    }
    for missing in set(user_ids) - standing.keys():
        standing[missing] = Standing(False, frozenset(), now)
    return standing


HUB = Hub()


async def _respond(send, status: int, headers: list[tuple[bytes, bytes]] = ()) -> None:
    base = [(b"cache-control", b"no-store"), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": [*base, *headers]})
    await send({"type": "http.response.body", "body": b""})


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def application(scope: dict[str, Any], receive, send) -> None:
    """ASGI: `GET WAIT_PATH` with `If-None-Match` and `X-Desk-Ticket`; 200 with the new tag
    when the panel changed, 304 when it did not within `WAIT_SECONDS`, 403 when the ticket
    is not one, 404 for any other path."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    if scope["path"] != WAIT_PATH or scope["method"] != "GET":
        await _respond(send, 404)
        return
    headers = dict(scope["headers"])
    tag = headers.get(b"if-none-match", b"").decode("latin-1")
    ticket = headers.get(incoming.TICKET_HEADER.lower().encode(), b"").decode("latin-1")
    user_id = incoming.ticket_user(ticket)
    if user_id is None or not incoming.is_tag(tag):
        await _respond(send, 403)
        return
    waiting = asyncio.ensure_future(HUB.wait(user_id, tag))
    gone = asyncio.ensure_future(_disconnected(receive))
    done, _ = await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:  # the desk went away: nothing to answer
        waiting.cancel()
        return
    gone.cancel()
    answer = waiting.result()
    if answer == tag:
        await _respond(send, 304, [(b"etag", tag.encode("latin-1"))])
    elif answer is None:
        await _respond(send, 200)
    else:
        await _respond(send, 200, [(b"etag", answer.encode("latin-1"))])
