"""The notice board (周知/申し送り): instructions per client and site, confirmed by each operator;
SVs, the desk and managers see who has not read them yet."""

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from azukari.core.errors import DomainError
from azukari.core.visibility import get_visible
from azukari.floor import services
from azukari.floor.models import Notice, NoticeRead
from azukari.org.models import Client, EmploymentStatus, Site, User
from azukari.org.permissions import Cap, page_for, roles_with, user_can
from azukari.web.forms import apply_domain_error

PAGE_SIZE = 20


class NoticeForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.order_by("code"),
        required=False,
        empty_label=_("Every site"),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Instruction"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(
            pk__in=viewer.visible_client_ids()
        ).order_by("code")


def _is_publisher(user: User) -> bool:
    return user_can(user, Cap.NOTICES_PUBLISH)


def notices_for(viewer: User) -> QuerySet[Notice]:
    """Current notices the viewer should see: operators, those for their own site or all."""
    now = timezone.now()
    qs = (
        Notice.objects.visible_to(viewer)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("client", "site", "published_by")
        .annotate(
            read_by_me=Exists(NoticeRead.objects.filter(notice=OuterRef("pk"), reader=viewer))
        )
        .order_by("-published_at", "-id")
    )
    if not _is_publisher(viewer):
        qs = qs.filter(Q(site__isnull=True) | Q(site_id=viewer.home_site_id))
    return qs


def expected_readers(notices: list[Notice]) -> dict[int, list[User]]:
    """Who should confirm each notice: active operators and SVs serving its client (at its
    site, if it names one). Two queries whatever the number of notices."""
    if not notices:
        return {}
    client_ids = {n.client_id for n in notices}
    served = (
        User.clients.through.objects.filter(
            client_id__in=client_ids,
            user__in=User.objects.people(),
            user__role__in=roles_with(Cap.NOTICES_CONFIRM),
            user__is_active=True,
            user__employment_status=EmploymentStatus.ACTIVE,
            user__agreement_signed_on__isnull=False,
        )
        .select_related("user", "user__home_site")
        .order_by("user__home_site_id", "user__username")
    )
    by_client: dict[int, list[User]] = defaultdict(list)
    for row in served:
        by_client[row.client_id].append(row.user)
    return {
        n.pk: [
            p for p in by_client[n.client_id] if n.site_id is None or p.home_site_id == n.site_id
        ]
        for n in notices
    }


def _read_sets(notices: list[Notice]) -> dict[int, dict[int, NoticeRead]]:
    reads: dict[int, dict[int, NoticeRead]] = defaultdict(dict)
    for r in NoticeRead.objects.filter(notice__in=[n.pk for n in notices]):
        reads[r.notice_id][r.reader_id] = r
    return reads


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CENTER_PAGES)
def notices(request: HttpRequest) -> HttpResponse:
    publisher = _is_publisher(request.user)
    form = NoticeForm(request.POST or None, viewer=request.user) if publisher else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.notice_publish(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("The notice is published."))
                return redirect("notices")
    page = Paginator(notices_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    if publisher:
        readers = expected_readers(items)
        reads = _read_sets(items)
        for n in items:
            expected = readers.get(n.pk, [])
            n.unread_count = sum(1 for p in expected if p.pk not in reads[n.pk])
            n.expected_count = len(expected)
    return render(
        request,
        "web/notices/list.html",
        {"page": page, "items": items, "form": form, "publisher": publisher},
        status=400 if form is not None and form.errors else 200,
    )


def _notice(request: HttpRequest, notice_id: int) -> Notice:
    return get_visible(notices_for(request.user), request.user, pk=notice_id)


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    item = _notice(request, notice_id)
    context: dict = {"notice": item, "publisher": _is_publisher(request.user)}
    if context["publisher"]:
        reads = _read_sets([item])[item.pk]
        expected = expected_readers([item])[item.pk]
        context["read"] = sorted(reads.values(), key=lambda r: r.read_at)
        context["unread"] = [p for p in expected if p.pk not in reads]
        readers = {p.pk: p for p in expected}
        missing = [r.reader_id for r in context["read"] if r.reader_id not in readers]
        readers.update({u.pk: u for u in User.objects.filter(pk__in=missing)})
        for r in context["read"]:
            r.person = readers.get(r.reader_id)
    return render(request, "web/notices/detail.html", context)


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def notice_read(request: HttpRequest, notice_id: int) -> HttpResponse:
    item = _notice(request, notice_id)
    services.notice_confirm_read(actor=request.user, notice=item)
    if request.headers.get("HX-Request"):
        return render(request, "web/notices/_read.html", {"n": item, "read": True})
    messages.success(request, _("Marked as read."))
    return redirect("notices")
