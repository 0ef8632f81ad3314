"""Downloads of a client's records: the same streamed exports as `azukari export`."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from azukari.audit.throttle import export_quota_take
from azukari.core.dbrouting import replica_reads
from azukari.dataio.exports import SPECS, csv_stream, export_header, export_rows, xlsx_file
from azukari.org.models import Client
from azukari.org.permissions import Cap, page_for


@require_GET
@login_required
@page_for(Cap.RECORDS_EXPORT)
@replica_reads()
def export_download(request: HttpRequest, client_code: str) -> HttpResponse:
    """?what=customers|cases|contacts|audit&format=csv|xlsx&encoding=utf-8|cp932&purpose=…

    Every row of personal data handed out is in the audit trail (written as the rows go)."""
    client = Client.objects.visible_to(request.user).filter(code=client_code).first()
    if client is None:
        raise Http404
    what = request.GET.get("what", "customers")
    if what not in SPECS:
        raise Http404
    wait = export_quota_take(viewer_id=request.user.pk)
    if wait is not None:
        refused = HttpResponse(
            _("Too many exports this hour; try again later."), status=429, content_type="text/plain"
        )
        refused["Retry-After"] = str(wait)
        return refused
    rows = export_rows(
        viewer=request.user,
        client=client,
        what=what,
        purpose=request.GET.get("purpose", ""),
        request=request,
    )
    name = f"{client.code}-{what}-{timezone.localdate():%Y%m%d}"
    if request.GET.get("format") == "xlsx":
        workbook = xlsx_file(export_header(what), rows, sheet_title=what)
        return FileResponse(workbook, as_attachment=True, filename=f"{name}.xlsx")
    encoding = "cp932" if request.GET.get("encoding") == "cp932" else "utf-8"
    response = StreamingHttpResponse(
        csv_stream(export_header(what), rows, encoding=encoding),
        content_type=f"text/csv; charset={'shift_jis' if encoding == 'cp932' else 'utf-8'}",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
