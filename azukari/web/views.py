"""Pages for the daily work; thin: fetch through selectors, call services, render."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from azukari.cases import selectors
from azukari.cases.clocks import live_clocks
from azukari.cases.models import AzukariReason, CaseState
from azukari.core.errors import NotVisible
from azukari.core.phones import mask_phone

PAGE_SIZE = 25


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("case-list")


@require_GET
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    reason = request.GET.get("reason", "")
    cases = selectors.case_list(
        viewer=request.user,
        state=state if state in CaseState.values else "",
        reason=reason if reason in AzukariReason.values else "",
        open_azukari=request.GET.get("open") == "1",
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/case_list.html",
        {
            "page": page,
            "states": CaseState.choices,
            "reasons": AzukariReason.choices,
            "state": state,
            "reason": reason,
        },
    )


@require_GET
@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = selectors.case_detail(viewer=request.user, case_id=case_id)
    except NotVisible as exc:
        raise Http404 from exc
    phones = [mask_phone(p.number) for p in case.customer.phones.all()]
    return render(
        request,
        "web/case_detail.html",
        {
            "case": case,
            "clocks": live_clocks(case, now=timezone.now()),
            "phones": phones,
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
