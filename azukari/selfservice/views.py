"""The customer's pages: thin views over the self-service services.

A customer is never a Django user: a one-time link is exchanged for a signed cookie that
names a short server-side session on the link. Nothing personal goes into a URL or a log.
"""

import functools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from azukari.audit.models import AccessAction
from azukari.audit.netaddr import client_ip
from azukari.audit.services import personal_data_access
from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.core.ratelimit import window_count
from azukari.org.models import Client
from azukari.selfservice import selectors, services
from azukari.selfservice.forms import (
    ExceptionForm,
    IdentityForm,
    PreferencesForm,
    PublicAskForm,
    QuestionForm,
    SubscriptionForm,
)
from azukari.selfservice.models import IdentityFact, Link, OfferShown, SelfServiceSettings

COOKIE = "azk_self"
COOKIE_SALT = "azukari.selfservice.session"
# Per address: the public form and the link exchange, in a window of this many seconds.
RATE_WINDOW = 600
PUBLIC_FORM_LIMIT = 5
EXCHANGE_LIMIT = 20
PAGE_FIELDS = ("name", "subscriptions", "cases", "preferences")


class CustomerViewer:
    """The customer behind a session, as the audit and the door see him: of one client, his
    acts written by the client's self-service user."""

    def __init__(self, link: Link, ss: SelfServiceSettings):
        self.link = link
        self.service_user_id = ss.service_user_id
        self._clients = frozenset({link.client_id})

    def visible_client_ids(self) -> frozenset[int]:
        return self._clients


def _limited(request: HttpRequest, name: str, limit: int) -> bool:
    count, _wait = window_count(f"selfservice:{name}", client_ip(request) or "-", RATE_WINDOW)
    return count > limit


def _session(view: Callable) -> Callable:
    """The page needs a live session whose identity fact was confirmed."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        link = services.session_link(request.get_signed_cookie(COOKIE, None, salt=COOKIE_SALT))
        if link is None:
            return render(request, "selfservice/ended.html", status=403)
        if link.identity_confirmed_at is None:
            return redirect("selfservice-identity")
        ss = services.selfservice_settings_ensure(client=link.client)
        return view(request, link, ss, *args, **kwargs)

    return wrapper


def _audit(request: HttpRequest, link: Link, ss: SelfServiceSettings, page: str) -> None:
    """The same personal-data event as the desk's, the customer's session as the actor."""
    personal_data_access(
        viewer=CustomerViewer(link, ss),
        customers=[link.customer],
        fields=PAGE_FIELDS,
        action=AccessAction.VIEW,
        purpose=f"self-service: the customer's own {page} page",
        request=request,
        object_type="selfservice",
        object_ref=str(link.pk),
    )


def _brand(client: Client, ss: SelfServiceSettings | None) -> dict[str, Any]:
    return {"client": client, "brand": ss.brand_colour if ss else ""}


def _refusal(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, str(exc.message))


# ---------------------------------------------------------------- getting in


@require_GET
@cache_control(no_store=True)
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    """A button only: a mail scanner following the link must not spend it. The button posts
    the token in the form, so no log line of a refused POST ever carries it."""
    return render(request, "selfservice/open.html", {"token": token[:128]})


@require_POST
@cache_control(no_store=True)
def exchange(request: HttpRequest) -> HttpResponse:
    """Exchanges the one-time link for the session; the token stays behind."""
    if _limited(request, "exchange", EXCHANGE_LIMIT):
        return render(request, "selfservice/ended.html", {"limited": True}, status=429)
    try:
        _link, secret = services.link_open(token=request.POST.get("token", "")[:128])
    except services.LinkInvalid:
        return render(request, "selfservice/ended.html", {"invalid": True}, status=404)
    response = redirect("selfservice-identity")
    response.set_signed_cookie(
        COOKIE,
        secret,
        salt=COOKIE_SALT,
        max_age=services.SESSION_MINUTES * 60,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path="/self/",
    )
    return response


@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest) -> HttpResponse:
    link = services.session_link(request.get_signed_cookie(COOKIE, None, salt=COOKIE_SALT))
    if link is None:
        return render(request, "selfservice/ended.html", status=403)
    if link.identity_confirmed_at is not None:
        return redirect("selfservice-home")
    ss = services.selfservice_settings_ensure(client=link.client)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.identity_confirm(link=link, answer=form.cleaned_data["answer"]):
            return redirect("selfservice-home")
        link.refresh_from_db()
        if link.locked_at is not None:
            return render(
                request,
                "selfservice/ended.html",
                {"locked": True, **_brand(link.client, ss)},
                status=403,
            )
        left = services.MAX_WRONG_ANSWERS - link.failed_answers
        form.add_error(
            "answer",
            _("That does not match our records. %(n)d tries left.") % {"n": left},
        )
    return render(
        request,
        "selfservice/identity.html",
        {
            "form": form,
            "fact": IdentityFact(ss.identity_fact),
            **_brand(link.client, ss),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def public_ask(request: HttpRequest, client_code: str) -> HttpResponse:
    """Customer number and phone: the same answer whether they matched or not."""
    client = Client.objects.filter(code=client_code, is_active=True).first()
    if client is None:
        raise Http404
    ss = SelfServiceSettings.objects.filter(client=client).first()
    form = PublicAskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not _limited(request, "public_form", PUBLIC_FORM_LIMIT):
            services.link_request_public(
                client=client,
                customer_number=form.cleaned_data["customer_number"],
                phone=form.cleaned_data["phone"],
            )
        # Limited or not, matched or not: one answer.
        return render(request, "selfservice/asked.html", _brand(client, ss))
    return render(request, "selfservice/ask.html", {"form": form, **_brand(client, ss)})


@require_POST
def end(request: HttpRequest) -> HttpResponse:
    link = services.session_link(request.get_signed_cookie(COOKIE, None, salt=COOKIE_SALT))
    if link is not None:
        services.session_end(link=link)
    response = render(request, "selfservice/ended.html", {"signed_out": True})
    response.delete_cookie(COOKIE, path="/self/")
    return response


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@require_GET
@cache_control(max_age=300)
def brand_css(request: HttpRequest, client_code: str) -> HttpResponse:
    """The client's colour as a stylesheet (the pages allow no inline styles)."""
    colour = (
        SelfServiceSettings.objects.filter(client__code=client_code)
        .values_list("brand_colour", flat=True)
        .first()
    )
    css = f":root{{--brand:{colour}}}\n" if colour and _COLOUR.match(colour) else ""
    return HttpResponse(css, content_type="text/css")


# ---------------------------------------------------------------- the customer's pages


@require_GET
@_session
def home(request: HttpRequest, link: Link, ss: SelfServiceSettings) -> HttpResponse:
    """His subscriptions, the terms verbatim, the engine's options, and his cases."""
    language = get_language() or "ja"
    views = selectors.customer_subscriptions(link=link, settings=ss, language=language)
    statuses = selectors.case_statuses(link=link)
    _audit(request, link, ss, "options")
    record = services.page_view_record(
        link=link,
        page="options",
        language=language,
        shown={**selectors.options_record(views), "cases": [s.lines for s in statuses]},
    )
    for v in views:  # the offer is shown now: never again
        if v.offer:
            OfferShown.objects.get_or_create(
                subscription=v.subscription,
                defaults={
                    "client_id": link.client_id,
                    "offer": v.offer,
                    "shown_at": timezone.now(),
                },
            )
    return render(
        request,
        "selfservice/home.html",
        {
            "link": link,
            "ss": ss,
            "customer": link.customer,
            "subscriptions": views,
            "statuses": statuses,
            "record": record,
            "question_form": QuestionForm(),
            **_brand(link.client, ss),
        },
    )


def _act(request: HttpRequest, run: Callable[[], services.Done | int]) -> HttpResponse:
    try:
        done = run()
    except NotVisible as exc:
        raise Http404 from exc
    except (DomainError, PermissionRefused) as exc:
        _refusal(request, exc)
        return redirect("selfservice-home")
    if isinstance(done, services.Done):
        messages.success(request, done.message)
    return redirect("selfservice-home")


def _act_on_subscription(
    request: HttpRequest, link: Link, service: Callable[..., services.Done]
) -> HttpResponse:
    """`service` for the subscription posted; a subscription field not ours is not found."""
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        raise Http404
    return _act(
        request, lambda: service(link=link, subscription_id=form.cleaned_data["subscription"])
    )


@require_POST
@_session
def record_request(request: HttpRequest, link: Link, ss: SelfServiceSettings) -> HttpResponse:
    return _act_on_subscription(request, link, services.selfservice_request_record)


@require_POST
@_session
def withdraw(request: HttpRequest, link: Link, ss: SelfServiceSettings) -> HttpResponse:
    return _act_on_subscription(request, link, services.selfservice_withdraw)


@require_POST
@_session
def ask_exception(request: HttpRequest, link: Link, ss: SelfServiceSettings) -> HttpResponse:
    form = ExceptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a ground and tell us about it in your own words."))
        return redirect("selfservice-home")
    data = form.cleaned_data
    return _act(
        request,
        lambda: services.selfservice_exception_ask(
            link=link,
            subscription_id=data["subscription"],
            ground_code=data["ground"],
            reason=data["reason"],
        ),
    )


@require_POST
@_session
def question(request: HttpRequest, link: Link, ss: SelfServiceSettings) -> HttpResponse:
    form = QuestionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your question."))
        return redirect("selfservice-home")
    return _act(
        request, lambda: services.selfservice_question(link=link, text=form.cleaned_data["text"])
    )


@require_http_methods(["GET", "POST"])
@_session
def choose(
    request: HttpRequest, link: Link, ss: SelfServiceSettings, subscription_id: int, code: str
) -> HttpResponse:
    """The final confirmation before a choice that changes the contract: what he takes,
    what it costs, when, and the cancellation terms (特定商取引法 art. 12-6)."""
    language = get_language() or "ja"
    views = selectors.customer_subscriptions(link=link, settings=ss, language=language)
    view = next((v for v in views if v.subscription.pk == subscription_id), None)
    option = next((o for o in view.standard if o.code == code), None) if view else None
    if view is None or option is None or not ss.offers_choice:
        raise Http404
    if request.method == "POST":
        return _act(
            request,
            lambda: services.selfservice_option_choose(
                link=link, subscription_id=subscription_id, option_code=code
            ),
        )
    _audit(request, link, ss, "confirmation")
    services.page_view_record(
        link=link,
        page="confirmation",
        language=language,
        shown={
            "subscription": view.subscription.pk,
            "option": option.code,
            "label": option.label,
            "cost_yen": option.cost_yen,
            "effective_on": option.effective_on,
            "deliveries_to_ship": option.deliveries_to_ship,
            "price_yen": view.subscription.plan.price_yen,
            "terms_text": view.terms_text,
        },
    )
    return render(
        request,
        "selfservice/confirm.html",
        {"view": view, "option": option, **_brand(link.client, ss)},
    )


@require_http_methods(["GET", "POST"])
@_session
def preferences(request: HttpRequest, link: Link, ss: SelfServiceSettings) -> HttpResponse:
    customer = link.customer
    window = (customer.call_windows or [{}])[0] if customer.call_windows else {}
    initial = {
        "days_off": customer.days_off,
        "window_start": window.get("start", ""),
        "window_end": window.get("end", ""),
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        start, end_ = form.times()
        try:
            services.selfservice_preferences_set(
                link=link,
                days_off=form.cleaned_data["days_off"],
                window_start=start,
                window_end=end_,
                quiet_from=customer.quiet_from,
                quiet_until=customer.quiet_until,
            )
        except (DomainError, PermissionRefused) as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Saved: we will call you only at these times."))
            return redirect("selfservice-home")
    _audit(request, link, ss, "preferences")
    return render(
        request,
        "selfservice/preferences.html",
        {"form": form, **_brand(link.client, ss)},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@_session
def offer(
    request: HttpRequest, link: Link, ss: SelfServiceSettings, subscription_id: int
) -> HttpResponse:
    """The final confirmation of the retention offer: what continues, at what price, from
    when, and the cancellation terms that still apply."""
    language = get_language() or "ja"
    views = selectors.customer_subscriptions(link=link, settings=ss, language=language)
    view = next((v for v in views if v.subscription.pk == subscription_id), None)
    shown = services.open_offer(link, view.subscription) if view else None
    if view is None or shown is None:
        raise Http404
    if request.method == "POST":
        return _act(
            request,
            lambda: services.selfservice_offer_accept(link=link, subscription_id=subscription_id),
        )
    next_delivery = next(
        (d for d in view.subscription.deliveries.all() if d.status == "scheduled"), None
    )
    _audit(request, link, ss, "offer confirmation")
    services.page_view_record(
        link=link,
        page="offer_confirmation",
        language=language,
        shown={
            "subscription": view.subscription.pk,
            "offer": shown.offer,
            "price_yen": view.subscription.plan.price_yen,
            "next_delivery_on": next_delivery.scheduled_on if next_delivery else None,
            "terms_text": view.terms_text,
        },
    )
    return render(
        request,
        "selfservice/offer.html",
        {"view": view, "offer": shown, "next_delivery": next_delivery, **_brand(link.client, ss)},
    )
