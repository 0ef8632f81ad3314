"""Pages for the daily work; thin: fetch through selectors, call services, render."""

import datetime as dt
from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.api.selectors import decode_cursor, encode_cursor
from azukari.audit.masking import mask_address, mask_postcode
from azukari.audit.models import AccessAction
from azukari.audit.netaddr import client_ip
from azukari.audit.selectors import named_staff_report
from azukari.audit.services import (
    named_staff_request_record,
    personal_data_access,
    personal_data_reveal,
)
from azukari.audit.throttle import login_failure_record, login_failures_clear, login_wait
from azukari.cases import selectors
from azukari.cases.clocks import live_clocks
from azukari.cases.models import AzukariReason, CaseState
from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.core.phones import mask_phone
from azukari.org.enrolment import enrolment_code_needed, two_factor_enrolment_redeem
from azukari.org.permissions import Cap, page_for, user_can
from azukari.org.staff import agreement_register
from azukari.web.forms import (
    EnrolmentCodeForm,
    NamedStaffForm,
    RevealForm,
    ThrottledAuthenticationForm,
    TokenForm,
)

PAGE_SIZE = 25


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not user_can(request.user, Cap.CENTER_PAGES) and user_can(request.user, Cap.PORTAL_USE):
        return redirect("portal-inquiries")
    return redirect("case-list")


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES)
def case_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    reason = request.GET.get("reason", "")
    open_azukari = request.GET.get("open") == "1"
    try:  # a cursor that does not decode shows the newest page
        after = decode_cursor(request.GET["after"]) if request.GET.get("after") else None
        before = decode_cursor(request.GET["before"]) if request.GET.get("before") else None
    except DomainError:
        after = before = None
    page = selectors.case_list(
        viewer=request.user,
        state=state if state in CaseState.values else "",
        reason=reason if reason in AzukariReason.values else "",
        open_azukari=open_azukari,
        after=after,
        before=None if after else before,
        limit=PAGE_SIZE,
    )
    personal_data_access(
        viewer=request.user,
        customers=[case.customer for case in page.rows],
        fields=("name",),
        action=AccessAction.SEARCH,
        purpose="case list",
        request=request,
        object_type="case_list",
    )
    filters = {"state": state, "reason": reason, **({"open": "1"} if open_azukari else {})}
    return render(
        request,
        "web/case_list.html",
        {
            "page": page,
            "newer": page.has_newer and page.rows and encode_cursor(page.rows[0]),
            "older": page.has_older and page.rows and encode_cursor(page.rows[-1]),
            "filters": urlencode(filters),
            "states": CaseState.choices,
            "reasons": AzukariReason.choices,
            "state": state,
            "reason": reason,
            "open_azukari": open_azukari,
        },
    )


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_detail(viewer=request.user, case_id=case_id)
    customer = case.customer
    phones = [mask_phone(p.number) for p in customer.phones.all()]
    personal_data_access(
        viewer=request.user,
        customers=[customer],
        fields=CASE_DETAIL_FIELDS,
        action=AccessAction.VIEW,
        purpose=f"case:{case.pk}",
        request=request,
        object_type="case",
        object_ref=str(case.pk),
    )
    return render(
        request,
        "web/case_detail.html",
        {
            "case": case,
            "clocks": live_clocks(case, now=timezone.now()),
            "phones": phones,
            "address": mask_address(customer.address),
            "postcode": mask_postcode(customer.postcode),
        },
    )


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Stores the choice on the account, so it follows the person to any workstation."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = redirect(target)
    if language not in {"ja", "en"}:
        return response
    if request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    response.set_cookie("django_language", language, samesite="Lax", httponly=True)
    return response


# ---------------------------------------------------------------- personal data


CASE_DETAIL_FIELDS = ("name", "name_kana", "customer_number", "phones_masked", "address_masked")


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def customer_reveal(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Shows one masked value in clear for the stated purpose; the reveal is audited."""
    form = RevealForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    try:
        value = personal_data_reveal(
            viewer=request.user,
            customer_id=customer_id,
            field=form.cleaned_data["field"],
            purpose=form.cleaned_data["purpose"],
            request=request,
        )
    except NotVisible:
        raise
    except DomainError as exc:
        return HttpResponse(escape(str(exc)), status=400)
    return render(request, "web/partials/revealed.html", {"value": value})


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def case_named_staff(request: HttpRequest, case_id: int) -> HttpResponse:
    """One click: the caller asked for a staff member by name. Nothing about staff is shown."""
    form = NamedStaffForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    try:
        case = selectors.case_detail(viewer=request.user, case_id=case_id)
        named_staff_request_record(
            operator=request.user,
            client=case.client,
            case=case,
            note=form.cleaned_data["note"],
            request=request,
        )
    except NotVisible:
        raise
    except DomainError as exc:
        return HttpResponse(escape(str(exc)), status=400)
    messages.success(
        request, _("Recorded: the caller asked for a staff member by name. Say no names.")
    )
    return redirect("desk-case", case_id=case.pk)


@require_GET
@login_required
@page_for(Cap.REPORTS_NAMED_STAFF)
def named_staff_report_view(request: HttpRequest) -> HttpResponse:
    days = 30
    rows = named_staff_report(viewer=request.user, since=timezone.now() - dt.timedelta(days=days))
    return render(request, "web/named_staff_report.html", {"rows": rows, "days": days})


@require_GET
@login_required
@page_for(Cap.STAFF_MANAGE, refuse_with_404=True)
def agreement_register_view(request: HttpRequest) -> HttpResponse:
    try:
        rows = agreement_register(viewer=request.user)
    except PermissionRefused as exc:
        raise Http404 from exc
    return render(request, "web/agreement_register.html", {"rows": rows})


# ---------------------------------------------------------------- log-in and two factors


class AzukariLoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = False


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@require_http_methods(["GET", "POST"])
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verifies a TOTP code, or enrols a first device (shown once as a key and a link)."""
    devices = list(devices_for_user(request.user, confirmed=True))
    enrolling = not devices
    code_checked = request.session.get(ENROLMENT_SESSION_KEY) == request.user.pk
    if enrolling and enrolment_code_needed() and not code_checked:
        return _enrolment_code(request)
    if enrolling:
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=request.user, name=str(_("Authenticator app")), confirmed=False
            )
        devices = [device]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip()
        wait = login_wait(username=request.user.get_username(), ip=client_ip(request))
        matched = None if wait else next((d for d in devices if d.verify_token(token)), None)
        if matched is not None:
            if enrolling:
                matched.confirmed = True
                matched.save(update_fields=["confirmed"])
                request.session.pop(ENROLMENT_SESSION_KEY, None)
                messages.success(request, _("Your authenticator app is enrolled."))
            otp_login(request, matched)
            login_failures_clear(username=request.user.get_username())
            return redirect(_safe_next(request))
        login_failure_record(username=request.user.get_username(), ip=client_ip(request))
        form.add_error("token", _("That code is not valid. Try the current one."))
    context = {"form": form, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        context["secret"] = b32encode(devices[0].bin_key).decode()
        context["config_url"] = devices[0].config_url
    return render(request, "web/account/two_factor.html", context)


ENROLMENT_SESSION_KEY = "azukari_enrolment_code_ok"


def _enrolment_code(request: HttpRequest) -> HttpResponse:
    """Before a first authenticator: the one-time code an administrator issued."""
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = request.user.get_username()
        wait = login_wait(username=username, ip=client_ip(request))
        if not wait and two_factor_enrolment_redeem(
            user=request.user, code=form.cleaned_data["code"]
        ):
            login_failures_clear(username=username)
            request.session[ENROLMENT_SESSION_KEY] = request.user.pk
            return redirect(f"{request.path}?{urlencode({'next': _safe_next(request)})}")
        login_failure_record(username=username, ip=client_ip(request))
        form.add_error("code", _("That enrolment code is not valid. Ask an administrator."))
    context = {"code_form": form, "next": _safe_next(request)}
    status = 400 if form.errors else 200
    return render(request, "web/account/two_factor.html", context, status=status)
