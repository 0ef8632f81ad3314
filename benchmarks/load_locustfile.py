"""The people of `benchmarks/load.py`: operators taking calls, SVs and the azukari desk
watching their boards. Run by that script, which prepares the plan this file reads.

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
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import HttpUser, constant, events, task

PLAN = json.loads(Path(os.environ["AZUKARI_LOAD_PLAN"]).read_text())
RESULTS = Path(os.environ["AZUKARI_LOAD_RESULTS"])
CALL_INTERVAL = PLAN["call_interval_s"]
POLL_INTERVAL = PLAN["poll_interval_s"]
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
LOGIN_MARK = 'name="password"'


# ---------------------------------------------------------------- timings


class Timings:
    """Every request's time by name, and its failures, kept whole for exact percentiles."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.messages: dict[str, int] = {}
        self.started = time.time()

    def add(self, name: str, ms: float, exception: object) -> None:
        self.times.setdefault(name, []).append(ms)
        if exception is not None:
            self.errors[name] = self.errors.get(name, 0) + 1
            key = f"{name}: {str(exception)[:200]}"
            self.messages[key] = self.messages.get(key, 0) + 1

    def write(self) -> None:
        RESULTS.write_text(
            json.dumps(
                {
                    "started": self.started,
                    "stopped": time.time(),
                    "times": self.times,
                    "errors": self.errors,
                    "messages": self.messages,
                }
            )
        )


TIMINGS = Timings()


@events.request.add_listener
def _on_request(name, response_time, exception, **_kwargs) -> None:
    TIMINGS.add(name, response_time, exception)


@events.test_start.add_listener
def _on_start(**_kwargs) -> None:
    TIMINGS.started = time.time()


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


def page_form(response, form_id: str = "", **fields: str) -> dict | None:
    """The form with this id (or whose fields hold these values) and a CSRF token."""
    for key, form in Forms(response.text).forms.items():
        if (form_id and key != form_id) or any(
            form["fields"].get(k) != v for k, v in fields.items()
        ):
            continue
        if form["fields"].get("csrfmiddlewaretoken"):
            return form
    return None


def first_real(options: list[str]) -> str:
    return next((o for o in options if o), "")


def check(response, status: int = 200, marks: tuple[str, ...] = ()) -> bool:
    """Status and a mark of the expected page; a failure is reported as an error."""
    if response.status_code != status:
        response.failure(f"HTTP {response.status_code}, expected {status}")
        return False
    text = response.text if status == 200 else ""
    if LOGIN_MARK in text:
        response.failure("login page: the session was refused")
        return False
    missing = [m for m in marks if m not in text]
    if missing:
        response.failure(f"page lacks {missing[0]!r}")
        return False
    response.success()
    return True


def think(low: float = 1.0, high: float = 4.0) -> None:
    gevent.sleep(random.uniform(low, high))


# ---------------------------------------------------------------- users


class StaffUser(HttpUser):
    """Someone already logged in: the session made for them is sent as a cookie."""

    abstract = True
    people: list[dict] = []
    _next = None

    def on_start(self) -> None:
        cls = type(self)
        if cls._next is None:
            cls._next = itertools.cycle(cls.people)
        self.me = next(cls._next)
        self.client.cookies.set("sessionid", self.me["session"], domain=PLAN["cookie_domain"])

    def html(self, name: str, path: str, marks: tuple[str, ...] = (), form: str = "", **kwargs):
        """GETs a page; with `form`, the page must hold that form with a CSRF token, and the
        parsed form is put on the response as `r.form`."""
        with self.client.get(path, name=name, catch_response=True, **kwargs) as r:
            if not check(r, 200, marks):
                return None
            r.form = page_form(r, form) if form else None
            if form and r.form is None:
                r.failure(f"no {form} form with a CSRF token")
                return None
            return r

    def post(self, name: str, path: str, data: dict, expect: int = 302, **kwargs):
        headers = {"Referer": self.host + path}
        with self.client.post(
            path,
            data=data,
            name=name,
            catch_response=True,
            allow_redirects=False,
            headers=headers,
            **kwargs,
        ) as r:
            return r if check(r, expect) else None


class Operator(StaffUser):
    """Takes a call about every CALL_INTERVAL seconds, the first one at a random moment of
    the first interval, so that the calls of many operators spread out as they do live."""

    people = PLAN["operators"]
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        self.next_call = time.monotonic() + random.uniform(0, CALL_INTERVAL)

    @task
    def take_calls(self) -> None:
        gevent.sleep(max(0.0, self.next_call - time.monotonic()))
        self.next_call += random.uniform(0.9, 1.1) * CALL_INTERVAL
        self.call()

    def api(self, name: str, method: str, path: str, valid, **kwargs):
        """Calls the API as the site's PBX/CTI; `valid(body)` says whether the answer is right."""
        headers = {"Authorization": f"Bearer {PLAN['pbx_tokens'][self.me['site']]}"}
        with self.client.request(
            method, path, name=name, headers=headers, catch_response=True, **kwargs
        ) as r:
            if not check(r, 200):
                return None
            try:
                body = r.json()
            except ValueError:
                body = None
            if body is None or not valid(body):
                r.failure(f"unexpected answer: {r.text[:200]}")
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

    def call(self) -> None:
        client = random.choice(self.me["clients"])
        call = {
            "id": f"load-{uuid.uuid4().hex}",
            "line": PLAN["lines"][client],
            "caller": random.choice(PLAN["callers"][client]),
        }
        # The PBX hands the call to this operator; the CTI pops the caller.
        contact = self.pbx_event("answered", call)
        if contact is None:
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
        # The desk shows the call; the operator opens the screen pop from it.
        incoming = self.html(
            "desk: incoming call (htmx)",
            "/desk/?part=incoming",
            ('id="incoming-pop"',),
            headers={"HX-Request": "true"},
        )
        if incoming is None:
            return
        link = INCOMING_LINK.search(incoming.text).group(1).replace("&amp;", "&")
        if link.startswith("/desk/?"):  # several customers share the number: pick one
            found = self.html("desk: search by number", link, ('id="search-results"',))
            match = found and POP_LINK.search(found.text)
            if not match:
                return
            link = match.group(1)
        think()
        screen = self.html("desk: screen pop", link, form="contact-form")
        if screen is None:
            return
        form = screen.form
        kind = random.choice(CASE_KINDS)
        data = {
            **form["fields"],
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "生年月日と住所",
            "reason": SUBJECTS[kind],
            "summary": "お客様のご要望を伺い、預かりとして折り返しを約束した。",
            "stance": random.choice(("neutral", "dissatisfied", "softened")),
            "kind": kind,
            "subject": SUBJECTS[kind],
            "subscription": first_real(form["options"].get("subscription", [])),
            "reason_code": first_real(form["options"].get("reason_code", [])),
            "acw_code": random.choice(form["options"].get("acw_code", [""])[1:] or [""]),
        }
        think(5, 20)  # the conversation and the identity check
        logged = self.post("desk: log contact + open case (POST)", form["action"], data)
        if logged is None:
            return
        case_match = CASE_LOCATION.search(logged.headers.get("Location", ""))
        if case_match is None:
            return
        case_id = case_match.group(1)
        case_path = f"/desk/cases/{case_id}/"
        case = self.html("desk: case", case_path, form="park-form")
        if case is None:
            return
        park = case.form
        think()
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
        if parked is None:
            return
        self.html("desk: case", case_path, ('id="case-state"',))
        self.pbx_event("ended", call)
        self.browse(int(case_id), contact["customer_id"])

    def browse(self, case_id: int, customer_id: int | None) -> None:
        """Two or three pages after the call, as operators look things up."""
        pages = [
            ("page: case detail", f"/cases/{case_id}/", ('id="h-case"',)),
            ("page: open azukari list", "/cases/?open=1", ("/cases/",)),
            ("page: case list", "/cases/", ("/cases/",)),
            ("desk: search by name", "/desk/?" + urlencode({"q": random.choice(PLAN["names"])}),
             ('id="search-results"',)),
        ]  # fmt: skip
        for name, path, marks in random.sample(pages, random.choice((2, 3))):
            think()
            page = self.html(name, path, marks)
            if page is not None and name == "page: case detail" and random.random() < 0.5:
                reveal = page_form(page, field="address")
                if reveal is not None:
                    self.post(
                        "page: reveal address (POST)",
                        reveal["action"],
                        {**reveal["fields"], "field": "address"},
                        expect=200,
                    )


class Supervisor(StaffUser):
    """Keeps the floor board open: the long-call panel refreshes itself every 10 s."""

    people = PLAN["svs"]
    wait_time = constant(POLL_INTERVAL)

    def on_start(self) -> None:
        super().on_start()
        gevent.sleep(random.uniform(0, POLL_INTERVAL))
        self.html("floor: board", "/floor/", ('id="floor-calls"',))

    @task
    def poll(self) -> None:
        self.html("floor: calls (htmx poll)", "/floor/", ("<table",), headers={"HX-Request": "1"})


class Desk(StaffUser):
    """Keeps the backlog board open and reloads it every 10 s."""

    people = PLAN["desk"]
    wait_time = constant(POLL_INTERVAL)

    def on_start(self) -> None:
        super().on_start()
        gevent.sleep(random.uniform(0, POLL_INTERVAL))

    @task
    def poll(self) -> None:
        self.html("backlog: board", "/backlog/", ('id="chart-trend"',))


Operator.fixed_count = len(Operator.people)
Supervisor.fixed_count = len(Supervisor.people)
Desk.fixed_count = len(Desk.people)
