"""The floor of `benchmarks/load.py`: operators taking calls and waiting for them at the desk,
SVs watching the floor board, the azukari desk reloading its backlog board. Run by that
script, which prepares the plan this file reads (people, tokens, callers and the model).

An operator's hour: calls arrive at random (`calls_per_hour`, on average); between them the
operator sits at the desk, whose incoming-call panel asks the server every few seconds (the
interval of the desk page's own htmx trigger, read by load.py from the page) and sends what
the page's script sends: `If-None-Match` with the panel's tag and, but for one check in
`data-full-every`, the desk's ticket (`X-Desk-Ticket`). A call: the PBX's "answered" event
and the CTI's screen pop (API), the desk's next check shows the call, the operator opens the
screen pop page, talks, logs the contact; for `case_share` of the calls the log opens a
case, which the operator then parks as azukari from the case page (or, when the pop shows the
customer's open case, logs the call on that case, as the page asks); the PBX's "ended" event;
back to the desk.

Operators start where a floor in full swing would find them: most idle at the desk, some in
the middle of a call (the call's first requests are made during the warm-up, its end falls
in the measured window as it would). Only requests started in the measured window count.

Every response is checked for its status and for a mark of the right page, so a login
redirect or an error page counts as an error, not as a fast answer. Raw timings go to the
file named by AZUKARI_LOAD_RESULTS, so that load.py computes exact percentiles.
"""

import datetime as dt
import itertools
import json
import os
import random
import re
import time
import uuid
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from requests.cookies import create_cookie

PLAN = json.loads(Path(os.environ["AZUKARI_LOAD_PLAN"]).read_text())
RESULTS = Path(os.environ["AZUKARI_LOAD_RESULTS"])
MODEL = PLAN["model"]
CYCLE_S = 3600 / MODEL["calls_per_hour"]  # one call and the wait for the next, on average
HANDLE_S = MODEL["handle_s"]  # from the screen pop to the log: conversation and typing
IDLE_S = max(1.0, CYCLE_S - HANDLE_S)
INCOMING_S = MODEL["incoming"]["poll_s"]
FLOOR_S = MODEL["floor_poll_s"]
BOARD_S = MODEL["board_reload_s"]
WARMUP_S = MODEL["warmup_s"]
DURATION_S = MODEL["duration_s"]
CASE_KINDS = ("cancellation", "delivery", "billing", "defect", "complaint")
SUBJECTS = {
    "cancellation": "解約したい(お届け2回目)",
    "delivery": "お届け日を変えたい",
    "billing": "請求額の確認",
    "defect": "マシンが動かない",
    "complaint": "対応へのご不満",
}
CASE_LOCATION = re.compile(r"/desk/cases/(\d+)/$")
POP_LINK = re.compile(r'href="(/desk/customers/\d+/\?contact=\d+)"')
INCOMING_LINK = re.compile(r'id="incoming-pop" href="([^"]+)"')
ON_CASE = re.compile(r'name="on_case" value="(\d+)"')
LOGIN_MARK = 'name="password"'
PANEL = re.compile(r'<div id="incoming"[^>]*>')
PANEL_TAG = re.compile(r'data-etag="([^"]*)"')
PANEL_URL = re.compile(r'hx-get="([^"]*)"')
PANEL_TICKET = re.compile(r'data-ticket="([^"]*)"')
PANEL_FULL_EVERY = re.compile(r'data-full-every="(\d+)"')
PANEL_HEADERS = re.compile(r"hx-headers='([^']*)'|hx-headers=\"([^\"]*)\"")
# With `azukari desk_wait` (load.py's default), the desk page names the long wait: each app
# server's wait server, as its load balancer would route the path.
WAIT_URLS = PLAN.get("wait_urls", {})
# Held waits last until a call or the end of the wait: their time is not a response time.
HELD = "held: desk long wait, idle (304 when it ends)"


# ---------------------------------------------------------------- timings


class Timings:
    """Every measured request's time by name, its failures and its statuses."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.messages: dict[str, int] = {}
        self.started = time.time()
        self.measured_from = self.started + WARMUP_S

    def add(self, name: str, ms: float, exception: object, status: int | None) -> None:
        sent_at = time.time() - ms / 1000
        if sent_at < self.measured_from:
            return  # warm-up: people are still arriving at their places
        if sent_at > self.measured_from + DURATION_S:
            return  # locust stopping everyone at once (calls cut short go back to the desk)
        self.times.setdefault(name, []).append(ms)
        by_status = self.statuses.setdefault(name, {})
        by_status[str(status)] = by_status.get(str(status), 0) + 1
        if exception is not None:
            self.errors[name] = self.errors.get(name, 0) + 1
            key = f"{name}: {str(exception)[:200]}"
            self.messages[key] = self.messages.get(key, 0) + 1

    def write(self) -> None:
        RESULTS.write_text(
            json.dumps(
                {
                    "measured_from": self.measured_from,
                    "stopped": time.time(),
                    "times": self.times,
                    "errors": self.errors,
                    "statuses": self.statuses,
                    "messages": self.messages,
                }
            )
        )


TIMINGS = Timings()


@events.request.add_listener
def _on_request(name, response_time, exception, response=None, **_kwargs) -> None:
    TIMINGS.add(name, response_time, exception, getattr(response, "status_code", None))


@events.test_start.add_listener
def _on_start(**_kwargs) -> None:
    TIMINGS.started = time.time()
    TIMINGS.measured_from = TIMINGS.started + WARMUP_S


@events.quitting.add_listener
def _on_quit(**_kwargs) -> None:
    TIMINGS.write()


# ---------------------------------------------------------------- forms in pages


class Forms(HTMLParser):
    """The forms of a page: for each, its fields' values and its selects' options."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._form: dict | None = None
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": {}, "options": {}}
            self.forms[a.get("id") or f"form-{len(self.forms)}"] = self._form
        elif self._form is None:
            return
        elif tag in ("input", "textarea") and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button") or (
                kind in ("radio", "checkbox") and "checked" not in a
            ):
                return  # as a browser sends the form: only what is chosen
            self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"][self._select] = ""
            self._form["options"][self._select] = []
        elif tag == "option" and self._select is not None:
            self._form["options"][self._select].append(a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def page_form(text: str, form_id: str) -> dict | None:
    """The form with this id, if it carries a CSRF token."""
    form = Forms(text).forms.get(form_id)
    return form if form and form["fields"].get("csrfmiddlewaretoken") else None


def first_real(options: list[str]) -> str:
    return next((o for o in options if o), "")


def check(response, statuses: tuple[int, ...] = (200,), marks: tuple[str, ...] = ()) -> bool:
    """Status and a mark of the expected page; a failure is reported as an error."""
    if response.status_code not in statuses:
        response.failure(f"HTTP {response.status_code}, expected {statuses[0]}")
        return False
    text = response.text or "" if response.status_code == 200 else ""
    if LOGIN_MARK in text:
        response.failure("login page: the session was refused")
        return False
    missing = [m for m in marks if m not in text] if response.status_code == 200 else []
    if missing:
        response.failure(f"page lacks {missing[0]!r}")
        return False
    response.success()
    return True


def pause(low: float, high: float) -> None:
    gevent.sleep(random.uniform(low, high))


# ---------------------------------------------------------------- users


class StaffUser(FastHttpUser):
    """Someone already logged in: the session made for them is sent as a cookie. With two
    app servers, people are shared out between them as a load balancer would."""

    abstract = True
    people: list[dict] = []
    _next = None
    _hosts = itertools.cycle(PLAN["hosts"])
    insecure = True
    network_timeout = 60.0
    connection_timeout = 60.0

    def __init__(self, environment) -> None:
        self.host = next(StaffUser._hosts)
        super().__init__(environment)

    def on_start(self) -> None:
        cls = type(self)
        if cls._next is None:
            cls._next = itertools.cycle(cls.people)
        self.me = next(cls._next)
        self.client.cookiejar.set_cookie(
            create_cookie("sessionid", self.me["session"], domain=PLAN["cookie_domain"])
        )

    def html(self, name: str, path: str, marks: tuple[str, ...] = (), form: str = "", **kwargs):
        """GETs a page; with `form`, the page must hold that form with a CSRF token, and the
        parsed form is returned with the response as `(r, form)`."""
        with self.client.get(path, name=name, catch_response=True, **kwargs) as r:
            if not check(r, (200,), marks):
                return None
            if not form:
                return r
            parsed = page_form(r.text, form)
            if parsed is None:
                r.failure(f"no {form} form with a CSRF token")
                return None
            return r, parsed

    def post(self, name: str, path: str, data: dict, expect: int = 302):
        headers = {"Referer": self.host + path}
        with self.client.post(
            path, data=data, name=name, catch_response=True, allow_redirects=False,
            headers=headers,
        ) as r:  # fmt: skip
            return r if check(r, (expect,)) else None


class Operator(StaffUser):
    """Waits at the desk for calls and takes them (see the module's docstring)."""

    people = PLAN["operators"]
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        self.wait_url = WAIT_URLS.get(self.host, "")
        self.waiter = None
        self.etag = ""
        self.panel_url, self.panel_headers = MODEL["incoming"]["url"], {}
        self.ticket, self.full_every, self.checks = "", 1, 0
        self.next_check = time.monotonic() + random.uniform(0, INCOMING_S)
        self.in_call_at_start = random.random() < HANDLE_S / CYCLE_S
        if not self.in_call_at_start:  # at the desk: the page is open (during the warm-up)
            pause(0, WARMUP_S * 0.5)
            self.back_to_desk()

    @task
    def shift(self) -> None:
        if self.in_call_at_start:  # found mid-call: it began before the measured window
            self.in_call_at_start = False
            pause(0, WARMUP_S * 0.8)
            self.call(handle_until=TIMINGS.measured_from + random.uniform(0, HANDLE_S))
        self.wait_at_desk(random.expovariate(1 / IDLE_S))
        self.call(handle_until=None)

    # -- the desk

    def check_incoming(self, name: str, marks: tuple[str, ...] = ()):
        """The desk panel's own request: htmx, conditional when the page or the last answer
        gave a tag."""
        headers = {"HX-Request": "true", **self.panel_headers}
        if self.etag:
            headers["If-None-Match"] = self.etag
            # As the page's script does: the desk's ticket, but one check in `full_every`
            # without it, through the whole page.
            self.checks += 1
            if self.ticket and self.checks % self.full_every:
                headers["X-Desk-Ticket"] = self.ticket
        with self.client.get(self.panel_url, name=name, headers=headers, catch_response=True) as r:
            if not check(r, (200, 304), marks):
                return None
            if r.status_code == 200:
                self.etag = r.headers.get("ETag") or ""
            return r

    def wait_at_desk(self, seconds: float) -> None:
        if self.wait_url:  # the long wait: one held request, the page's polls skipped
            if self.waiter is None or self.waiter.dead:
                self.waiter = gevent.spawn(self.hold_waits)
            gevent.sleep(seconds)
            return
        until = time.monotonic() + seconds
        while True:
            gevent.sleep(max(0.0, min(self.next_check, until) - time.monotonic()))
            if time.monotonic() >= until:
                return
            self.next_check += INCOMING_S
            self.check_incoming("desk: incoming-call check, idle")

    def hold_waits(self) -> float | None:
        """As the page's script: wait, and wait again after each 304, until the wait answers
        that the panel changed; the poll tick's full check through the page goes on every
        `full_every` ticks (the session's idle clock). Returns when the answer came."""
        last_full = time.monotonic()
        while True:
            headers = {"If-None-Match": self.etag, "X-Desk-Ticket": self.ticket}
            with self.client.get(
                self.wait_url, name=HELD, headers=headers, catch_response=True
            ) as r:  # fmt: skip
                if r.status_code == 200:
                    r.success()
                    return time.monotonic()
                if r.status_code != 304:
                    r.failure(f"HTTP {r.status_code}, expected 304 or 200")
                    gevent.sleep(5)
                else:
                    r.success()
            if time.monotonic() - last_full >= self.full_every * INCOMING_S:
                last_full = time.monotonic()
                self.checks = self.full_every - 1  # the next check goes through the page
                self.check_incoming("desk: incoming-call check, full (session)")

    def back_to_desk(self) -> None:
        page = self.html("desk: page", "/desk/", ('id="incoming"',))
        panel = PANEL.search(page.text).group(0) if page is not None else ""
        tag, url = PANEL_TAG.search(panel), PANEL_URL.search(panel)
        extra = PANEL_HEADERS.search(panel)
        # What the page's panel asks with: its URL, its own headers, the tag it shows.
        self.etag = unescape(tag.group(1)) if tag else ""
        self.panel_url = unescape(url.group(1)) if url else self.panel_url
        self.panel_headers = json.loads(unescape(extra.group(1) or extra.group(2))) if extra else {}
        ticket, every = PANEL_TICKET.search(panel), PANEL_FULL_EVERY.search(panel)
        self.ticket = unescape(ticket.group(1)) if ticket else ""
        self.full_every = int(every.group(1)) if every else 1
        self.checks = 0  # a new page: the script's count starts anew
        self.next_check = time.monotonic() + INCOMING_S  # the page's timer starts anew

    # -- the call

    def api(self, name: str, method: str, path: str, valid, **kwargs):
        """Calls the API as the site's PBX/CTI; `valid(body)` says whether the answer is right."""
        headers = {"Authorization": f"Bearer {PLAN['pbx_tokens'][self.me['site']]}"}
        with self.client.request(
            method, path, name=name, headers=headers, catch_response=True, **kwargs
        ) as r:
            if not check(r):
                return None
            try:
                body = r.json()
            except ValueError:
                body = None
            if body is None or not valid(body):
                r.failure(f"unexpected answer: {(r.text or '')[:200]}")
                return None
            return body

    def pbx_event(self, event: str, call: dict):
        body = {
            "event": event,
            "call_id": call["id"],
            "dialled_number": call["line"],
            "caller_number": call["caller"],
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "agent_id": self.me["agent_id"],
        }
        status = "in_progress" if event == "answered" else "ended"
        return self.api(
            f"api: contact event {event}",
            "POST",
            "/api/v1/contacts/events",
            lambda b: b.get("status") == status and b.get("call_id") == call["id"],
            json=body,
        )

    def call(self, *, handle_until: float | None) -> None:
        """One call; `handle_until` (wall clock) is given for a call found in progress."""
        client = random.choice(self.me["clients"])
        call = {
            "id": f"load-{uuid.uuid4().hex}",
            "line": PLAN["lines"][client],
            "caller": random.choice(PLAN["callers"][client]),
        }
        try:
            self._call(call, client, handle_until)
        finally:
            self.back_to_desk()

    def _call(self, call: dict, client: str, handle_until: float | None) -> None:
        # The PBX hands the call to this operator; the CTI pops the caller.
        if self.pbx_event("answered", call) is None:
            return
        query = urlencode({"dialled_number": call["line"], "caller_number": call["caller"]})
        pop = self.api(
            "api: screen pop",
            "GET",
            f"/api/v1/screen-pop?{query}",
            lambda b: bool(b.get("matches")) and b["client"]["code"] == client,
        )
        if pop is None:
            return
        # The desk's next check shows the call; the operator opens the screen pop from it.
        if self.waiter is not None:  # the long wait answers, and the panel reloads
            rang = time.monotonic()
            self.waiter.join(timeout=30)
            answered = self.waiter.value if self.waiter.successful() else None
            self.waiter.kill()
            self.waiter = None
            ms = (answered - rang) * 1000 if answered else 30000.0
            events.request.fire(
                request_type="WAIT", name="notice: ring to desk, long wait answered",
                response_time=ms, response_length=0,
                exception=None if answered else TimeoutError("no answer"), context={},
            )  # fmt: skip
        else:
            gevent.sleep(max(0.0, self.next_check - time.monotonic()))
        incoming = self.check_incoming("desk: incoming-call check, call waiting")
        if incoming is None:
            return
        found = INCOMING_LINK.search(incoming.text or "") if incoming.status_code == 200 else None
        if found is None:
            incoming.failure("the waiting call is not shown")
            return
        link = found.group(1).replace("&amp;", "&")
        if link.startswith("/desk/?"):  # several customers share the number: pick one
            page = self.html("desk: search by number", link, ('id="search-results"',))
            match = page and POP_LINK.search(page.text)
            if not match:
                return
            link = match.group(1)
        pause(1, 3)
        screen = self.html("desk: screen pop page", link, form="contact-form")
        if screen is None:
            return
        page, form = screen
        open_cases = ON_CASE.findall(page.text or "")
        # The conversation and the identity check.
        if handle_until is None:
            pause(0.8 * HANDLE_S, 1.2 * HANDLE_S)
        else:
            gevent.sleep(max(0.0, handle_until - time.time()))
        opens_case = random.random() < MODEL["case_share"]
        kind = random.choice(CASE_KINDS)
        data = {
            **form["fields"],
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "生年月日と住所",
            "reason": SUBJECTS[kind],
            "summary": "お客様のご要望を伺い、ご案内した。",
            "stance": random.choice(("neutral", "dissatisfied", "softened")),
            "kind": kind if opens_case else "",
            "subject": SUBJECTS[kind] if opens_case else "",
            "subscription": first_real(form["options"].get("subscription", [])),
            "reason_code": first_real(form["options"].get("reason_code", [])),
            "acw_code": random.choice(form["options"].get("acw_code", [""])[1:] or [""]),
        }
        if opens_case and open_cases:  # the pop shows the case this call is about: log on it
            data.update(kind="", subject="", on_case=open_cases[0])
            self.post("desk: log contact on its open case (POST)", form["action"], data)
        else:
            name = (
                "desk: log contact, open case (POST)" if opens_case else "desk: log contact (POST)"
            )
            logged = self.post(name, form["action"], data)
            if logged is not None and opens_case:
                self.park(logged.headers.get("Location", ""))
        self.pbx_event("ended", call)

    def park(self, location: str) -> None:
        case_match = CASE_LOCATION.search(location)
        if case_match is None:
            return
        case_path = f"/desk/cases/{case_match.group(1)}/"
        case = self.html("desk: case page", case_path, form="park-form")
        if case is None:
            return
        _page, park = case
        pause(3, 10)
        parked = self.post(
            "desk: park as azukari (POST)",
            case_path,
            {
                **park["fields"],
                "park-reason": random.choice(("client_decision", "sv_callback", "investigation")),
                "park-team": first_real(park["options"].get("park-team", [])),
                "park-note": "折り返しのご連絡をお約束しました。",
            },
        )
        if parked is not None:
            self.html("desk: case page", case_path, ('id="case-state"',))


class Supervisor(StaffUser):
    """Keeps the floor board open: its live-call panel refreshes itself (htmx)."""

    people = PLAN["svs"]
    wait_time = constant(FLOOR_S)

    def on_start(self) -> None:
        super().on_start()
        pause(0, FLOOR_S)
        self.html("floor: board page", "/floor/", ('id="floor-calls"',))

    @task
    def poll(self) -> None:
        self.html("floor: live calls (htmx)", "/floor/", ("<table",), headers={"HX-Request": "1"})


class Desk(StaffUser):
    """Keeps the backlog board open and reloads it (the page does not refresh itself)."""

    people = PLAN["desk"]
    wait_time = constant(BOARD_S)

    def on_start(self) -> None:
        super().on_start()
        pause(0, BOARD_S)

    @task
    def reload(self) -> None:
        self.html("backlog: board", "/backlog/", ('id="chart-trend"',))


Operator.fixed_count = len(Operator.people)
Supervisor.fixed_count = len(Supervisor.people)
Desk.fixed_count = len(Desk.people)
