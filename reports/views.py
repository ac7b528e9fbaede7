"""Report pages: the Downloads page (your exports, buttons to start each kind), file downloads, and the register
streamed straight as CSV.

Views only translate HTTP: reads come from the exports selectors (another user's export is a 404), requests are
one service call, and a service's ValidationError is shown on the Downloads page with status 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST, require_safe

from core.permissions import has_model_permission
from inventory.views import page_size, signed_in
from reports import register, selectors, services
from reports.api.views import export_file_response
from reports.choices import ExportKind, ExportStatus
from reports.filtersets import ExportFilterSet
from reports.models import Export

FILTERS_MAX = 2000
CSV_BOM = "\ufeff"


def _inventory_filters(raw: str) -> QueryDict:
    """The inventory list's query string carried by the Export link (``?filters=stage%3Dproduction``)."""
    return QueryDict(raw[:FILTERS_MAX])


def _filter_summary(filters: QueryDict) -> list[tuple[str, str]]:
    return [
        (key, ", ".join(filters.getlist(key)))
        for key in sorted(filters)
        if key not in register.NON_FILTER_PARAMS and any(filters.getlist(key))
    ]


def _errors(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{field}: {message}" for field, messages_ in error.message_dict.items() for message in messages_]
    return list(error.messages)


def _page(
    request: HttpRequest, *, errors: list[str] | None = None, status: int = 200, filters: QueryDict | None = None
) -> HttpResponse:
    user = signed_in(request)
    filterset = ExportFilterSet(request.GET, queryset=selectors.export_queryset(user=user), request=request)
    form = filterset.form
    form.fields["kind"].widget = forms.CheckboxSelectMultiple(choices=form.fields["kind"].choices)
    form.fields["status"].widget = forms.CheckboxSelectMultiple(choices=form.fields["status"].choices)
    valid = filterset.is_valid()
    rows = filterset.qs if valid else Export.objects.none()
    page = Paginator(rows, page_size(request.GET.get("per_page"))).get_page(request.GET.get("page"))
    if filters is None:
        raw_filters = request.POST.get("filters") if request.method == "POST" else request.GET.get("filters")
        filters = _inventory_filters(raw_filters or "")
    context = {
        "form": form,
        "filters_valid": valid,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "sees_all": has_model_permission(user, Export, "view"),
        "pending": any(export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for export in page),
        "errors": errors or [],
        "filters": filters.urlencode(),
        "filter_summary": _filter_summary(filters),
        "register_csv_url": f"{reverse('reports:register-csv')}?{filters.urlencode()}",
        "kinds": ExportKind,
        "today": timezone.localdate().isoformat(),
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "reports/downloads.html", context, status=status if valid else 400)


@login_required
@require_safe
def downloads(request: HttpRequest) -> HttpResponse:
    """The user's exports (everyone's for Risk Officers, Auditors, Admins) with status and links, and the forms
    that start each kind of export; the inventory's Export link brings its filters here."""
    return _page(request)


def _params(kind: str, data: QueryDict) -> dict[str, Any]:
    """The service's parameters from the Downloads page's form."""
    if kind in services.REGISTER_KINDS:
        params: dict[str, Any] = {}
        filters = _inventory_filters(data.get("filters", ""))
        for key in filters:
            if key not in register.NON_FILTER_PARAMS:
                values = [value for value in filters.getlist(key) if value]
                if values:
                    params[key] = values if len(values) > 1 else values[0]
        if data.get("as_of"):
            params["as_of"] = data["as_of"]
        return params
    if kind == ExportKind.MODEL_PDF:
        return {"model": data.get("model", "").strip()}
    if kind == ExportKind.EVIDENCE_PACK:
        return {"models": [key for key in re.split(r"[\s,;]+", data.get("models", "")) if key]}
    return {}


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """Start an export of the kind of the button pressed; a worker produces it and the page shows its progress."""
    kind = request.POST.get("kind", "")
    try:
        export = services.export_request(actor=signed_in(request), kind=kind, params=_params(kind, request.POST))
    except ValidationError as error:
        return _page(request, errors=_errors(error), status=400)
    messages.success(request, f"{export.get_kind_display()} #{export.pk} queued; it appears below when ready.")
    return redirect("reports:downloads")


@login_required
@require_safe
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file of an export the user may see (404 otherwise); 409 while it is not done."""
    export = selectors.export_get(user=signed_in(request), pk=pk)
    if export.status != ExportStatus.DONE:
        message = f"Export #{export.pk} is {export.get_status_display().lower()}; it has no file to download."
        return _page(request, errors=[message], status=409)
    return export_file_response(export)


def _encoded(pieces: Iterator[str]) -> Iterator[bytes]:
    # A byte-order mark first, so spreadsheet programs read the UTF-8 right.
    yield CSV_BOM.encode("utf-8")
    for piece in pieces:
        yield piece.encode("utf-8")


@login_required
@require_GET  # not HEAD: each download is recorded in the ledger, a probe should not be
def register_csv(request: HttpRequest) -> HttpResponseBase:
    """The register with the inventory's filters (and ``as_of``) streamed as CSV, recorded in the ledger.

    Filters are checked before anything is sent: a bad one is the Downloads page with the message and a 400.
    """
    user = signed_in(request)
    try:
        as_of = register.parse_as_of(request.GET.get("as_of"))
        pieces = register.register_csv(user=user, params=request.GET, as_of=as_of)
    except ValidationError as error:
        return _page(request, errors=_errors(error), status=400, filters=request.GET)
    services.register_stream_record(actor=user, params=request.GET, as_of=as_of)
    day = (as_of or timezone.localdate()).strftime("%Y%m%d")
    response = StreamingHttpResponse(_encoded(pieces), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="register-{day}.csv"'
    return response
