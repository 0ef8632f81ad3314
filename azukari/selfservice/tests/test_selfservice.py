"""Customer self-service through the real pages: the link, the one identity fact, the same
options as the desk, the request landing in the desk's flow, and the abuse cases."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from azukari.audit.models import AccessEvent
from azukari.cases.models import Callback, Case, CaseKind, Contact, Direction
from azukari.cases.scheduling import call_calendar_for, preferences_of, slot_refusal
from azukari.selfservice.models import Link, LinkChannel, LinkOrigin, PageView
from azukari.selfservice.services import link_issue, selfservice_settings_ensure
from azukari.selfservice.tests.conftest import run_queued, token_of
from azukari.subscriptions.models import CancellationRequest
from azukari.subscriptions.selectors import subscription_options

pytestmark = pytest.mark.django_db


def _open(client, link: Link):
    return client.post(reverse("selfservice-exchange"), {"token": token_of(link)})


def _signed_in(client, link: Link, answer: str = "5678"):
    assert _open(client, link).status_code == 302
    response = client.post(reverse("selfservice-identity"), {"answer": answer})
    assert response.status_code == 302, response.content.decode()
    return response


class TestTheLink:
    def test_an_operator_sends_the_options_by_email_and_the_link_is_sent_once(
        self, cast, subscription, asked, settings
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        link = link_issue(
            customer=subscription.customer,
            channel=LinkChannel.EMAIL,
            origin=LinkOrigin.OPERATOR,
            issued_by=cast.operator,
        )
        assert run_queued() == [True]
        assert len(mail.outbox) == 1
        assert token_of(link) in mail.outbox[0].body
        assert cast.coffee.name in mail.outbox[0].subject
        # At least once: a second run of the same task sends nothing more.
        from azukari.selfservice.tasks import link_send_task

        assert link_send_task(link.pk) is False
        assert len(mail.outbox) == 1
        # Only the hash is stored.
        link.refresh_from_db()
        assert token_of(link) not in (link.token_hash, link.salt)

    def test_an_operator_of_another_client_cannot_send_one(self, cast, subscription):
        from azukari.core.errors import NotVisible

        with pytest.raises(NotVisible):
            link_issue(
                customer=subscription.customer,
                channel=LinkChannel.SMS,
                origin=LinkOrigin.OPERATOR,
                issued_by=cast.outsider,
            )

    def test_opening_the_link_by_get_spends_nothing(self, client, subscription, asked):
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        url = reverse("selfservice-open", kwargs={"token": token_of(link)})
        assert client.get(url).status_code == 200
        link.refresh_from_db()
        assert link.used_at is None

    def test_a_reused_link_is_refused(self, client, subscription, asked):
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        assert _open(client, link).status_code == 302
        again = _open(client.__class__(), link)
        assert again.status_code == 404
        assert "このリンクは使用できません" in again.content.decode() or again.status_code == 404

    def test_an_expired_link_is_refused(self, client, subscription, asked):
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        asked.shift(dt.timedelta(hours=24, minutes=1))
        assert _open(client, link).status_code == 404

    def test_a_link_dies_when_the_number_is_no_longer_the_customers(
        self, client, subscription, asked
    ):
        from azukari.customers.services import customer_update

        customer = subscription.customer
        link = link_issue(customer=customer, channel=LinkChannel.SMS, origin=LinkOrigin.API)
        customer_update(customer=customer, phones=["+819099990000"])
        assert _open(client, link).status_code == 404

    def test_five_wrong_answers_lock_the_link(self, client, subscription, asked):
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _open(client, link)
        for _ in range(4):
            response = client.post(reverse("selfservice-identity"), {"answer": "0000"})
            assert response.status_code == 400
        response = client.post(reverse("selfservice-identity"), {"answer": "0000"})
        assert response.status_code == 403
        # Locked: even the right answer no longer opens anything.
        assert client.post(reverse("selfservice-identity"), {"answer": "5678"}).status_code == 403
        assert client.get(reverse("selfservice-home")).status_code == 403
        link.refresh_from_db()
        assert link.locked_at is not None

    def test_nothing_personal_before_the_identity_fact(self, client, subscription, asked):
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _open(client, link)
        response = client.get(reverse("selfservice-home"))
        assert response.status_code == 302
        page = client.get(reverse("selfservice-identity")).content.decode()
        assert "山田" not in page


class TestThePublicForm:
    def test_unknown_and_known_customers_get_the_same_answer(self, client, subscription, asked):
        url = reverse("selfservice-ask", kwargs={"client_code": "coffee"})
        known = client.post(url, {"customer_number": "C-1001", "phone": "090-1234-5678"})
        unknown = client.post(url, {"customer_number": "C-9999", "phone": "090-1234-5678"})
        wrong_phone = client.post(url, {"customer_number": "C-1001", "phone": "090-0000-0000"})
        bodies = {r.content.decode().split("<main")[1] for r in (known, unknown, wrong_phone)}
        assert {r.status_code for r in (known, unknown, wrong_phone)} == {200}
        assert len(bodies) == 1
        assert Link.objects.filter(origin=LinkOrigin.PUBLIC_FORM).count() == 1

    def test_the_form_is_rate_limited_without_saying_so(self, client, subscription, asked):
        url = reverse("selfservice-ask", kwargs={"client_code": "coffee"})
        for n in range(7):
            response = client.post(url, {"customer_number": f"X-{n}", "phone": "0312345678"})
            assert response.status_code == 200
        response = client.post(url, {"customer_number": "C-1001", "phone": "090-1234-5678"})
        assert response.status_code == 200
        assert not Link.objects.filter(origin=LinkOrigin.PUBLIC_FORM).exists()


class TestWhatTheCustomerSeesAndDoes:
    def test_the_page_shows_the_desks_options_and_is_audited_and_recorded(
        self, client, cast, subscription, asked
    ):
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _signed_in(client, link)
        page = client.get(reverse("selfservice-home")).content.decode()
        for option in subscription_options(subscription=subscription, language="ja"):
            assert option.label in page
            # Exceptions are asked for on their ground; their wording is the operator's.
            assert option.is_exception or option.explanation in page
        assert subscription.terms_snapshot["text"] in page
        assert AccessEvent.objects.filter(
            object_type="selfservice",
            customer_ref=subscription.customer_id,
            actor=selfservice_settings_ensure(client=cast.coffee).service_user,
        ).exists()
        record = PageView.objects.get(page="options")
        assert record.shown["subscriptions"][0]["terms_text"] == subscription.terms_snapshot["text"]

    def test_the_request_lands_on_the_desk_dated_today_with_a_callback_in_his_windows(
        self, client, cast, subscription, asked, settings
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _signed_in(client, link)
        client.get(reverse("selfservice-home"))
        response = client.post(reverse("selfservice-request"), {"subscription": subscription.pk})
        assert response.status_code == 302
        request = CancellationRequest.objects.get(subscription=subscription)
        assert request.requested_on == dt.date(2026, 10, 20)
        case = Case.objects.get(pk=request.case_id)
        assert case.kind == CaseKind.CANCELLATION
        assert Contact.objects.get(case=case).direction == Direction.ONLINE
        # He says: never on Sunday, and only 10:00–12:00.
        response = client.post(
            reverse("selfservice-preferences"),
            {"days_off": ["6"], "window_start": "10:00", "window_end": "12:00"},
        )
        assert response.status_code == 302, response.content.decode()
        callback = Callback.objects.get(case=case)
        at = callback.scheduled_for or callback.promised_for
        customer = subscription.customer
        customer.refresh_from_db()
        assert customer.days_off == [6]
        calendar = call_calendar_for(client=cast.coffee, site=case.owner_team.site)
        assert slot_refusal(at, prefs=preferences_of(customer), calendar=calendar) is None
        # The receipt he keeps, with what the page showed him.
        run_queued()
        receipts = [m for m in mail.outbox if "受付" in m.subject or "receipt" in m.subject]
        assert receipts and subscription.terms_snapshot["text"] in receipts[0].body

    def test_another_customers_subscription_is_not_his(self, client, cast, subscription, asked):
        from azukari.subscriptions.tests.factories import story_subscription
        from azukari.testing.factories import CustomerFactory

        other = story_subscription(
            cast.coffee,
            started_on=dt.date(2026, 9, 1),
            customer=CustomerFactory(client=cast.coffee, phones=["+819011112222"]),
        )
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _signed_in(client, link)
        response = client.post(reverse("selfservice-request"), {"subscription": other.pk})
        assert response.status_code == 404
        assert not CancellationRequest.objects.filter(subscription=other).exists()

    def test_view_only_clients_offer_no_request_but_online_sign_ups_always_may(
        self, client, cast, subscription, asked
    ):
        ss = selfservice_settings_ensure(client=cast.coffee)
        ss.offers_request = ss.offers_choice = ss.offers_exception = False
        ss.offers_preferences = False
        ss.save()
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _signed_in(client, link)
        page = client.get(reverse("selfservice-home")).content.decode()
        assert reverse("selfservice-request") not in page
        client.post(reverse("selfservice-request"), {"subscription": subscription.pk})
        assert not CancellationRequest.objects.exists()
        subscription.terms_snapshot = {**subscription.terms_snapshot, "channel": "online"}
        subscription.save(update_fields=["terms_snapshot"])
        client.post(reverse("selfservice-request"), {"subscription": subscription.pk})
        assert CancellationRequest.objects.filter(subscription=subscription).exists()


class TestTheOperatorsButton:
    def test_the_pop_sends_the_options_and_an_outsider_cannot(self, client, cast, subscription):
        customer = subscription.customer
        client.force_login(cast.operator)
        pop = client.get(reverse("desk-pop", kwargs={"customer_id": customer.pk}))
        assert 'id="selfservice-send-sms"' in pop.content.decode()
        url = reverse("selfservice-send", kwargs={"customer_id": customer.pk})
        response = client.post(url, {"channel": "sms", "next": "/desk/"})
        assert response.status_code == 302 and response["Location"] == "/desk/"
        link = Link.objects.get(customer=customer)
        assert link.origin == LinkOrigin.OPERATOR and link.issued_by == cast.operator
        client.force_login(cast.outsider)
        assert client.post(url, {"channel": "sms"}).status_code == 404
        assert Link.objects.filter(customer=customer).count() == 1


class TestTheOtherActs:
    @pytest.fixture
    def signed_in(self, client, subscription, asked, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        link = link_issue(
            customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.API
        )
        _signed_in(client, link)
        client.get(reverse("selfservice-home"))
        return client

    def test_an_exception_goes_to_the_client_and_the_status_says_so(
        self, signed_in, cast, subscription
    ):
        response = signed_in.post(
            reverse("selfservice-exception"),
            {"subscription": subscription.pk, "ground": "hardship", "reason": "収入が減りました"},
        )
        assert response.status_code == 302
        from azukari.cases.models import Inquiry
        from azukari.subscriptions.models import ExceptionRequest

        exception = ExceptionRequest.objects.get(request__subscription=subscription)
        assert exception.ground_code == "hardship" and exception.reason == "収入が減りました"
        inquiry = Inquiry.objects.get(case=exception.request.case)
        page = signed_in.get(reverse("selfservice-home")).content.decode()
        due = timezone.localtime(inquiry.due_at)
        assert f"{cast.coffee.name}の回答待ちです（回答期限 {due.month}/{due.day}" in page

    def test_a_standard_option_needs_the_final_confirmation(self, signed_in, subscription):
        url = reverse(
            "selfservice-choose",
            kwargs={"subscription_id": subscription.pk, "code": "cancel_now_with_fee"},
        )
        confirmation = signed_in.get(url).content.decode()
        assert "4,940円" in confirmation and "3,240円" in confirmation
        assert subscription.terms_snapshot["text"] in confirmation
        assert not CancellationRequest.objects.exists()  # nothing recorded by reading
        assert PageView.objects.filter(page="confirmation").exists()
        assert signed_in.post(url).status_code == 302
        request = CancellationRequest.objects.get(subscription=subscription)
        assert request.decision.option_code == "cancel_now_with_fee"

    def test_withdrawing_and_asking_a_question(self, signed_in, subscription):
        signed_in.post(reverse("selfservice-request"), {"subscription": subscription.pk})
        signed_in.post(reverse("selfservice-withdraw"), {"subscription": subscription.pk})
        request = CancellationRequest.objects.get(subscription=subscription)
        assert request.status == "withdrawn"
        signed_in.post(reverse("selfservice-question"), {"text": "次回の配送日はいつですか"})
        case = Case.objects.get(kind=CaseKind.INFORMATION)
        assert Contact.objects.get(case=case).summary == "次回の配送日はいつですか"
        assert case.owner_team is not None  # with the azukari desk

    def test_the_clients_answer_sends_a_fresh_link(self, signed_in, cast, subscription):
        from azukari.cases.models import Inquiry
        from azukari.cases.services import inquiry_answer

        signed_in.post(
            reverse("selfservice-exception"),
            {"subscription": subscription.pk, "ground": "hardship", "reason": "収入が減りました"},
        )
        run_queued()
        inquiry = Inquiry.objects.get()
        inquiry_answer(inquiry=inquiry, actor=cast.approver, option="grant", note="")
        run_queued()
        assert Link.objects.filter(origin=LinkOrigin.UPDATE).count() == 1


class TestTheRetentionOffer:
    OFFER = "次回のお届けを無料でスキップ"

    @pytest.fixture
    def offering(self, cast, subscription, asked, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        ss = selfservice_settings_ensure(client=cast.coffee)
        ss.retention_offer = self.OFFER
        ss.save()
        return subscription

    def test_shown_once_beside_cancel_and_accepted_only_after_confirmation(self, client, offering):
        link = link_issue(customer=offering.customer, channel=LinkChannel.SMS, origin="api")
        _signed_in(client, link)
        first = client.get(reverse("selfservice-home")).content.decode()
        assert self.OFFER in first
        assert reverse("selfservice-request") in first  # cancel on the same screen
        assert self.OFFER not in client.get(reverse("selfservice-home")).content.decode()
        url = reverse("selfservice-offer", kwargs={"subscription_id": offering.pk})
        confirmation = client.get(url).content.decode()
        assert "3,240円" in confirmation and offering.terms_snapshot["text"] in confirmation
        assert not Case.objects.exists()
        client.post(url)
        case = Case.objects.get(kind=CaseKind.DELIVERY)
        assert self.OFFER in Contact.objects.get(case=case).summary
        assert client.get(url).status_code == 404  # taken once

    def test_never_after_the_request(self, client, offering):
        link = link_issue(customer=offering.customer, channel=LinkChannel.SMS, origin="api")
        _signed_in(client, link)
        client.post(reverse("selfservice-request"), {"subscription": offering.pk})
        assert self.OFFER not in client.get(reverse("selfservice-home")).content.decode()
        url = reverse("selfservice-offer", kwargs={"subscription_id": offering.pk})
        assert client.get(url).status_code == 404


def test_the_monthly_report_counts_self_service_apart_from_calls(client, cast, subscription, asked):
    from django.utils import translation

    from azukari.reports.selectors import monthly_report

    link = link_issue(customer=subscription.customer, channel=LinkChannel.SMS, origin="api")
    _signed_in(client, link)
    client.post(reverse("selfservice-request"), {"subscription": subscription.pk})
    report = monthly_report(
        viewer=cast.sv, client=cast.coffee, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1)
    )
    with translation.override("en"):
        figures = {str(label): value for label, value, _unit in report.figures}
    assert figures["Calls offered"] == 0
    assert figures["Self-service requests and questions (not calls)"] == 1


def test_the_pages_wear_the_clients_colour(client, cast, subscription):
    ss = selfservice_settings_ensure(client=cast.coffee)
    ss.brand_colour = "#5a2d0c"
    ss.save()
    css = client.get(reverse("selfservice-brand", kwargs={"client_code": "coffee"}))
    assert css["Content-Type"].startswith("text/css")
    assert css.content.decode() == ":root{--brand:#5a2d0c}\n"
    page = client.get(reverse("selfservice-ask", kwargs={"client_code": "coffee"}))
    assert "/self/c/coffee/brand.css" in page.content.decode()
    assert cast.coffee.name in page.content.decode()


def test_a_callback_the_center_schedules_sends_a_fresh_link(client, cast, subscription, asked):
    from azukari.cases.scheduling import call_calendar_for, preferences_of, propose_callback_times
    from azukari.cases.services import callback_schedule

    link = link_issue(customer=subscription.customer, channel=LinkChannel.SMS, origin="api")
    _signed_in(client, link)
    client.post(reverse("selfservice-request"), {"subscription": subscription.pk})
    run_queued()
    assert not Link.objects.filter(origin=LinkOrigin.UPDATE).exists()  # his own act
    callback = Callback.objects.get()
    later = propose_callback_times(
        prefs=preferences_of(subscription.customer),
        calendar=call_calendar_for(client=cast.coffee, site=callback.team.site),
        after=(callback.scheduled_for or callback.promised_for) + dt.timedelta(days=1),
        count=1,
    )[0]
    callback_schedule(callback=callback, actor=cast.desk, at=later)
    run_queued()
    assert Link.objects.filter(origin=LinkOrigin.UPDATE).count() == 1


def test_the_page_reads_in_english_in_a_bounded_number_of_queries(
    client, subscription, asked, django_assert_max_num_queries
):
    link = link_issue(customer=subscription.customer, channel=LinkChannel.SMS, origin="api")
    _signed_in(client, link)
    client.cookies["django_language"] = "en"
    client.get(reverse("selfservice-home"))  # the first view also records the settings
    with django_assert_max_num_queries(20):
        page = client.get(reverse("selfservice-home")).content.decode()
    assert "Your options" in page and "Record my cancellation request (dated today)" in page
    assert "お客様の選択肢" not in page
