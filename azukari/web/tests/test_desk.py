"""The operator desk as an operator meets it: search, screen pop, logging, resolve or park."""

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from azukari.api.services import contact_event_record
from azukari.audit.models import AccessAction, AccessEvent
from azukari.cases import services as cases
from azukari.cases.models import AzukariReason, Case, CaseKind, CaseState, Contact, IdentityCheck
from azukari.core.businesstime import TOKYO
from azukari.customers.search import customer_search
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
from azukari.testing.factories import CustomerFactory

NOW = dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def at_first_call():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tanaka(cast):
    return CustomerFactory(
        client=cast.coffee,
        customer_number="K-10042",
        family_name="田中",
        given_name="一郎",
        family_name_kana="タナカ",
        given_name_kana="イチロウ",
        phones=["+819011112222"],
    )


@pytest.fixture
def story(cast, at_first_call):
    coffee_policy(cast.coffee)
    return story_subscription(cast.coffee, started_on=dt.date(2026, 9, 1))


def _logged_in(client, user):
    client.force_login(user)
    return client


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(
    "query",
    [
        "田中",
        "田中一郎",
        "たなか",
        "タナカ",
        "ﾀﾅｶ",
        "いちろう",
        "ｲﾁﾛｳ",
        "K-10042",
        "10042",
        "090-1111-2222",
        "０９０１１１１２２２２",
    ],
)
def test_search_finds_the_customer_however_the_name_or_number_is_typed(cast, tanaka, query):
    found = list(customer_search(viewer=cast.operator, query=query, limit=10))
    assert found == [tanaka]


def test_search_never_finds_another_clients_customer(cast, tanaka):
    assert list(customer_search(viewer=cast.outsider, query="たなか", limit=10)) == []


def test_search_index_follows_a_changed_name(cast, tanaka):
    from azukari.core.text import search_text

    tanaka.search_text = search_text("鈴木一郎", "スズキイチロウ", tanaka.customer_number)
    tanaka.save(update_fields=["search_text"])
    assert list(customer_search(viewer=cast.operator, query="すずきいち", limit=5)) == [tanaka]
    assert list(customer_search(viewer=cast.operator, query="たなかいち", limit=5)) == []


def test_the_desk_search_lists_matches_and_records_who_saw_them(client, cast, tanaka):
    response = _logged_in(client, cast.operator).get(reverse("desk"), {"q": "ﾀﾅｶ"})
    assert response.status_code == 200
    assert "田中 一郎" in response.content.decode()
    assert AccessEvent.objects.filter(
        actor_id=cast.operator.pk, customer_ref=tanaka.pk, action=AccessAction.SEARCH
    ).exists()


def test_client_approvers_and_strangers_get_no_desk(client, cast):
    client.force_login(cast.approver)
    assert client.get(reverse("desk")).status_code in (302, 403)
    client.logout()
    assert client.get(reverse("desk")).status_code == 302


# ---------------------------------------------------------------- incoming call


def test_a_ringing_call_for_my_agent_id_offers_the_pop(client, cast, tanaka):
    contact_event_record(
        viewer=cast.operator,
        client=cast.coffee,
        call_id="call-1",
        event="started",
        at=timezone.now(),
        caller_number="09011112222",
        agent_id="4001",
    )
    response = _logged_in(client, cast.operator).get(
        reverse("desk"), {"part": "incoming"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert reverse("desk-pop", args=[tanaka.pk]) in body
    # Another operator's desk does not see it.
    client.force_login(cast.desk)
    body = client.get(reverse("desk"), {"part": "incoming"}).content.decode()
    assert reverse("desk-pop", args=[tanaka.pk]) not in body


def test_logging_a_call_the_pbx_announced_keeps_one_contact_per_call(client, cast, tanaka):
    def pbx(event: str) -> Contact:
        return contact_event_record(
            viewer=cast.operator,
            client=cast.coffee,
            call_id="call-7",
            event=event,
            at=timezone.now(),
            caller_number="09011112222",
            agent_id="4001",
            recording_id="rec-7",
        )[0]

    pbx("started")
    call = pbx("answered")
    response = _logged_in(client, cast.operator).post(
        reverse("desk-pop", args=[tanaka.pk]),
        {
            "contact": call.pk,
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "date of birth",
            "reason": "delivery",
            "summary": "Asked when the next delivery comes",
            "stance": "neutral",
            "kind": "",
        },
    )
    assert response.status_code in (200, 302)
    contact = Contact.objects.get()  # the PBX's, filled in: not a second one
    assert contact.pk == call.pk and contact.pbx_call_id == "call-7"
    assert contact.summary == "Asked when the next delivery comes"
    assert (contact.recording_id, contact.customer_id) == ("rec-7", tanaka.pk)
    assert contact.ended_at is None  # still on the line until the PBX says it ended
    assert pbx("ended").ended_at is not None
    assert Contact.objects.count() == 1


# ---------------------------------------------------------------- pop and logging


def test_the_pop_shows_deliveries_made_against_required_and_the_flag(client, cast, story):
    customer = story.customer
    customer.harassment_flag = True
    customer.harassment_note = "Shouts at operators"
    customer.save(update_fields=["harassment_flag", "harassment_note"])
    response = _logged_in(client, cast.operator).get(reverse("desk-pop", args=[customer.pk]))
    body = response.content.decode()
    assert "2 / 3" in body
    assert "Shouts at operators" in body
    event = AccessEvent.objects.get(customer_ref=customer.pk, action=AccessAction.SCREEN_POP)
    assert event.actor_id == cast.operator.pk and "subscriptions" in event.fields


def test_the_pop_lists_open_cases_and_last_contacts_in_the_user_s_words(client, cast, story):
    case = _open_case(cast, story)
    cast.operator.language = "en"
    cast.operator.save(update_fields=["language"])
    response = _logged_in(client, cast.operator).get(reverse("desk-pop", args=[story.customer_id]))
    body = response.content.decode()
    assert reverse("desk-case", args=[case.pk]) in body
    assert "Open (on the call)</span>" in body
    recent = response.context["card"]["recent_contacts"]
    assert [k["id"] for k in recent] == [case.contacts.get().pk]
    assert "Contact preferences" in body and "Days not to call" in body


def test_logging_a_cancellation_call_opens_the_case(client, cast, story):
    response = _logged_in(client, cast.operator).post(
        reverse("desk-pop", args=[story.customer_id]),
        {
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "date of birth and postcode",
            "reason": "cancel",
            "summary": "Wants to cancel after two deliveries",
            "stance": "dissatisfied",
            "kind": CaseKind.CANCELLATION,
            "subject": "Wants to cancel",
            "subscription": story.pk,
        },
    )
    case = Case.objects.get(customer=story.customer)
    assert response.status_code == 302 and response["Location"] == reverse(
        "desk-case", args=[case.pk]
    )
    contact = Contact.objects.get(case=case)
    assert contact.identity_check == IdentityCheck.VERIFIED
    assert contact.caller_relation == "holder"
    assert case.subscription == story


def test_a_logged_contact_never_haunts_the_floor_board_as_a_call_in_progress(client, cast, story):
    _logged_in(client, cast.operator).post(
        reverse("desk-pop", args=[story.customer_id]),
        {
            "caller_relation": "holder",
            "identity_check": "verified",
            "identity_method": "date of birth",
            "summary": "Moved the next delivery",
        },
    )
    contact = Contact.objects.get(customer=story.customer)
    assert contact.ended_at is not None
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        client.force_login(cast.sv)
        assert client.get(reverse("floor")).context["calls"] == []


def test_a_refused_contact_keeps_what_was_typed_and_names_the_field(client, cast, story):
    client.force_login(cast.operator)
    response = client.post(
        reverse("desk-pop", args=[story.customer_id]),
        {
            "caller_relation": "holder",
            "identity_check": "verified",
            "summary": "Wants to cancel, typed carefully",
            "kind": CaseKind.CANCELLATION,
            "subject": "",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Wants to cancel, typed carefully" in body
    assert response.context["form"].errors["subject"]
    assert not Contact.objects.filter(customer=story.customer).exists()


def test_a_client_s_reason_codes_are_asked_for_and_recorded_on_the_contact(client, cast, story):
    from azukari.reports.models import ContactCoding
    from azukari.reports.services import acw_code_create, reason_code_create

    cancel = reason_code_create(
        actor=None, client=cast.coffee, code="cancel", label="解約", label_en="Cancel"
    )
    reason_code_create(actor=None, client=cast.tea, code="tea-only", label="お茶")
    callback = acw_code_create(
        actor=cast.desk, client=cast.coffee, code="cb", label="折返し", label_en="Callback"
    )
    client.force_login(cast.operator)
    url = reverse("desk-pop", args=[story.customer_id])
    body = client.get(url).content.decode()
    assert "cancel · " in body and "cb · " in body and "tea-only" not in body
    call = {"caller_relation": "holder", "identity_check": "verified", "summary": "Asks"}
    refused = client.post(url, call)
    assert refused.status_code == 400 and "reason_code" in refused.context["form"].errors
    assert not Contact.objects.exists()
    response = client.post(url, {**call, "reason_code": cancel.pk, "acw_code": callback.pk})
    assert response.status_code == 302
    coding = ContactCoding.objects.get(contact=Contact.objects.get())
    assert (coding.reason_code, coding.acw_code, coding.coded_by) == (
        cancel,
        callback,
        cast.operator,
    )


def test_field_errors_come_in_the_users_language(client, cast, story):
    cast.operator.language = "en"
    cast.operator.save(update_fields=["language"])
    client.force_login(cast.operator)
    response = client.post(
        reverse("desk-pop", args=[story.customer_id]),
        {"caller_relation": "holder", "identity_check": "verified", "kind": "cancellation"},
    )
    assert "Say in a few words what the customer wants." in response.content.decode()


def _open_case(cast, story) -> Case:
    contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=story.customer)
    return cases.case_open(
        contact=contact,
        actor=cast.operator,
        kind=CaseKind.CANCELLATION,
        subject="Wants to cancel",
        subscription=story,
    )


def test_a_cancellation_case_shows_the_terms_verbatim_and_the_options(client, cast, story):
    from azukari.subscriptions.services import cancellation_request_record

    case = _open_case(cast, story)
    cancellation_request_record(actor=cast.operator, case=case)
    body = _logged_in(client, cast.operator).get(reverse("desk-case", args=[case.pk]))
    text = body.content.decode()
    assert story.terms_snapshot["text"] in text
    assert 'id="cancellation-options"' in text
    assert reverse("cancellation-desk", args=[case.cancellation_requests.get().pk]) in text
    options = body.context["cancellation_desk"].options
    assert options and all(o.explanation and o.explanation in text for o in options)
    assert all(o.approval_label in text for o in options)
    assert "<td>operator</td>" not in text and "<td>client</td>" not in text


def test_parking_with_a_promise_makes_a_callback(client, cast, story):
    case = _open_case(cast, story)
    client.force_login(cast.operator)
    promised = timezone.localtime() + dt.timedelta(days=1)
    response = client.post(
        reverse("desk-case", args=[case.pk]),
        {
            "action": "park",
            "park-version": case.version,
            "park-reason": AzukariReason.CLIENT_DECISION,
            "park-team": cast.sapporo_desk.pk,
            "park-promised_callback_at": promised.strftime("%Y-%m-%dT%H:%M"),
            "park-note": "Told him the client decides within a week",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CALLBACK_DUE and case.owner_team == cast.sapporo_desk
    assert case.callbacks.count() == 1


def test_resolving_on_the_call(client, cast, story):
    case = _open_case(cast, story)
    client.force_login(cast.operator)
    client.post(
        reverse("desk-case", args=[case.pk]),
        {
            "action": "resolve",
            "resolve-version": case.version,
            "resolve-outcome": "Explained the terms",
        },
    )
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED


def test_a_stale_form_says_so_and_shows_what_changed(client, cast, story):
    case = _open_case(cast, story)
    client.force_login(cast.operator)
    page = client.get(reverse("desk-case", args=[case.pk]))
    resolve_form = next(form for name, form, *_ in page.context["forms"] if name == "resolve")
    seen = resolve_form.initial["seen_event"]
    shown_version = resolve_form.initial["version"]
    # Meanwhile the desk parks the case.
    cases.case_park(
        case=case,
        version=case.version,
        actor=cast.desk,
        reason=AzukariReason.INVESTIGATION,
        team=cast.sapporo_desk,
        note="Checking the delivery records",
    )
    response = client.post(
        reverse("desk-case", args=[case.pk]),
        {
            "action": "resolve",
            "resolve-version": shown_version,
            "resolve-seen_event": seen,
            "resolve-outcome": "My typed outcome",
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert 'id="stale-changes"' in body
    assert "Checking the delivery records" in body
    assert "My typed outcome" in body
    case.refresh_from_db()
    assert case.state == CaseState.AZUKARI


# ---------------------------------------------------------------- labels and query counts


class _FieldLabels(HTMLParser):
    """Collects form controls and the ids that a <label for> names."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.labelled: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.labelled.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
            "hidden",
            "submit",
        ):
            self.controls.append({**attrs, "_wrapped": self._label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def unlabelled_fields(html: str) -> list[dict]:
    parser = _FieldLabels()
    parser.feed(html)
    return [
        c
        for c in parser.controls
        if not c["_wrapped"] and c.get("id") not in parser.labelled and not c.get("aria-label")
    ]


def test_every_form_field_on_the_desk_has_a_label(client, cast, story):
    case = _open_case(cast, story)
    client.force_login(cast.operator)
    for url in (
        reverse("desk") + "?q=yamada",
        reverse("desk-pop", args=[story.customer_id]),
        reverse("desk-case", args=[case.pk]),
    ):
        html = client.get(url).content.decode()
        assert unlabelled_fields(html) == [], url


def _customers(cast, n: int) -> None:
    for i in range(n):
        customer = CustomerFactory(client=cast.coffee, phones=[f"+81901234{i:04d}"])
        contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
        cases.case_open(
            contact=contact, actor=cast.operator, kind=CaseKind.OTHER, subject=f"Case {i}"
        )


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_desk_query_counts_do_not_grow_with_data(client, cast, story):
    client.force_login(cast.operator)
    _customers(cast, 3)
    pop_url = reverse("desk-pop", args=[story.customer_id])
    small = (_count(client, reverse("desk") + "?q=やまだ"), _count(client, pop_url))
    _customers(cast, 27)
    for _ in range(10):
        cases.contact_log(actor=cast.operator, client=cast.coffee, customer=story.customer)
    large = (_count(client, reverse("desk") + "?q=やまだ"), _count(client, pop_url))
    assert small == large
