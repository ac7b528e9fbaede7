"""Inventory pages: the filtered list, a model's dossier, registering and editing models and versions, and the
business-unit tree.

Views only translate HTTP: reads come from the selectors (which start from the permission gate, so a model the
user may not see is a 404), writes go to the services, and what a service refuses is shown on the form.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.forms.utils import flatatt
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import roles
from core.models import User
from core.permissions import has_model_permission, user_can
from core.selectors import user_queryset
from inventory.filtersets import COMPLIANCE_CHOICES, BusinessUnitFilterSet, RegisteredModelFilterSet
from inventory.forms import (
    ColumnsForm,
    ModelVersionForm,
    RegisteredModelCreateForm,
    RegisteredModelEditForm,
    SavedViewForm,
    SavedViewRenameForm,
    add_service_errors,
    present_inventory_filters,
)
from inventory.models import (
    DEFAULT_INVENTORY_COLUMNS,
    INVENTORY_COLUMNS,
    Artifact,
    BusinessUnit,
    RegisteredModel,
    SavedView,
)
from inventory.selectors import (
    CappedPage,
    business_unit_queryset,
    capped_count,
    capped_page,
    model_lineage,
    model_version_queryset,
    object_history,
    registered_model_filter_base,
    registered_model_get,
    registered_model_page_objects,
    registered_model_queryset,
    runs_where_queryset,
    saved_view_queryset,
)
from inventory.services import model_version_create, registered_model_create, registered_model_update, saved_views
from inventory.services.saved_views import clean_columns, clean_query

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
PAGE_SIZE_CHOICES = (10, 25, 50, 100, 200)


def signed_in(request: HttpRequest) -> User:
    """The user of a request that passed ``login_required``."""
    return cast(User, request.user)


def page_size(raw: str | None) -> int:
    """Rows per page asked for in the query string, kept between 1 and ``PAGE_SIZE_MAX``."""
    try:
        size = int(raw or "")
    except ValueError:
        return PAGE_SIZE_DEFAULT
    return min(max(size, 1), PAGE_SIZE_MAX)


COLUMNS_SESSION_KEY = "inventory_columns"
COLUMN_LABELS = dict(INVENTORY_COLUMNS)
# The stylesheet's existing state colours: green, red, grey.
COMPLIANCE_BADGES = {"compliant": "state-approved", "non_compliant": "state-rejected", "exempt": "state-retired"}
# The Risk Officer's role permission; the inventory names it rather than importing governance (which sits above
# it) to decide whether to offer the bulk actions. governance.views.bulk_action checks it again on the server.
BULK_ACTION_PERMISSION = "governance.review_riskassessment"


class QuickSelect(forms.Select):
    """A ``<select>`` written in one pass instead of one template per option.

    The owner and validator filters offer every person (504 in the 100,000-model bench, twice), and Django's
    per-option widget templates made rendering them most of the inventory page's time. Same markup and
    attributes, so labels, ``aria-describedby`` and ``aria-invalid`` still work.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = set(self.format_value(value))
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        options = []
        for option_value, label in self.choices:
            option = str(option_value)
            selected = " selected" if option in chosen else ""
            options.append(f'<option value="{escape(option)}"{selected}>{escape(label)}</option>')
        return mark_safe(f"<select{flatatt(final_attrs)}>{''.join(options)}</select>")  # noqa: S308 - every value is escaped above  # nosec B308 B703


def _quick_pickers(form: forms.Form) -> None:
    """The unit, owner and validator pickers as :class:`QuickSelect`, their options read once (the owner and
    validator pickers offer the same people) with only the columns their labels show. The fields, and so what
    the filters accept, are unchanged."""
    fields = form.fields
    fields["unit"].queryset = fields["unit"].queryset.only("code", "name", "path")  # type: ignore[attr-defined]
    fields["owner"].queryset = fields["owner"].queryset.only("username", "first_name", "last_name")  # type: ignore[attr-defined]
    # iter(): list() of the choices themselves would ask their len(), a COUNT query of its own.
    people = list(iter(fields["owner"].choices))  # type: ignore[attr-defined]
    units = list(iter(fields["unit"].choices))  # type: ignore[attr-defined]
    for name, choices in (("unit", units), ("owner", people), ("validator", people)):
        quick = QuickSelect()
        quick.choices = choices
        fields[name].widget = quick


def chosen_columns(request: HttpRequest) -> list[str]:
    """The columns this session shows: the last choice, or the defaults (also when a stored choice went stale)."""
    stored = request.session.get(COLUMNS_SESSION_KEY)
    if stored:
        try:
            return clean_columns(stored)
        except ValidationError:
            pass
    return list(DEFAULT_INVENTORY_COLUMNS)


def _list_query(params: QueryDict) -> str:
    """The filters of a list URL without paging or selection, as saved views and the column form keep them."""
    try:
        return clean_query(params.urlencode())
    except ValidationError:
        return ""


def _list_url(query: str) -> str:
    url = reverse("inventory:model-list")
    return f"{url}?{query}" if query else url


def _list_page(
    request: HttpRequest,
    params: QueryDict,
    *,
    save_form: SavedViewForm | None = None,
    columns_form: ColumnsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The inventory list for the filters in ``params``; a form sent back with errors is shown in place."""
    user = signed_in(request)
    columns = chosen_columns(request)
    filterset = RegisteredModelFilterSet(params, queryset=registered_model_filter_base(user=user), request=request)
    present_inventory_filters(filterset.form)
    _quick_pickers(filterset.form)
    valid = filterset.is_valid()
    models = filterset.qs if valid else filterset.queryset.none()
    annotations = {}
    if "compliance" in columns:
        # One correlated subquery in the list's own SELECT, so the column costs no query of its own.
        statuses = RegisteredModelFilterSet.latest_compliance_statuses().filter(model_id=OuterRef("pk"))
        annotations["compliance_status"] = Subquery(statuses.values("status")[:1])
    per_page = page_size(params.get("per_page"))
    page = _inventory_page(models, params.get("page"), per_page, annotations)
    query = _list_query(params)
    can_bulk = user.is_active and user.has_perm(BULK_ACTION_PERMISSION)
    select_all = can_bulk and params.get("select") == "page"
    rows = page.rows
    labels = dict(COMPLIANCE_CHOICES)
    for model in rows:
        model.tag_list = sorted(model.tag_names or [])
        if "compliance" in columns:
            model.compliance_label = labels.get(model.compliance_status, "")
            model.compliance_badge = COMPLIANCE_BADGES.get(model.compliance_status, "")
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "filters_valid": valid,
        "page_obj": page,
        "rows": rows,
        "page_range": _page_range(page),
        "count_label": f"{page.count:,}",
        "per_page": per_page,
        "page_size_choices": sorted({*PAGE_SIZE_CHOICES, per_page}),
        "today": timezone.localdate(),
        "can_register": has_model_permission(user, RegisteredModel, "add"),
        "columns": columns,
        "column_headers": [(code, COLUMN_LABELS[code]) for code in columns],
        "query": query,
        "list_url": _list_url(query),
        "saved_views": list(saved_view_queryset(user=user)),
        "save_form": save_form or SavedViewForm(initial={"query": query}, auto_id="id_save_%s"),
        "columns_form": columns_form or ColumnsForm(initial={"columns": columns}, auto_id="id_columns_%s"),
        "can_bulk": can_bulk,
        "select_all": select_all,
        "selected_count": len(rows) if select_all else 0,
        "bulk_validators": list(
            user_queryset(user=user)
            .filter(groups__name=roles.VALIDATOR, is_active=True, is_service_account=False)
            .prefetch_related(None)
            .select_related(None)
            .order_by("username")
            .distinct()
        )
        if can_bulk and rows
        else [],
    }
    return render(request, "inventory/model_list.html", context, status=status)


def _inventory_page(
    models: QuerySet[RegisteredModel], raw_number: str | None, per_page: int, annotations: dict[str, Any]
) -> CappedPage:
    """The page asked for, like Django's ``Paginator.get_page``: not a number means the first page, a page past
    the end the last one. The total is counted only up to ``INVENTORY_COUNT_CAP`` (see ``capped_page``)."""
    try:
        number = max(int(raw_number or "1"), 1)
    except ValueError:
        number = 1

    def fetch(offset: int, limit: int, count_up_to: int | None) -> tuple[list[RegisteredModel], int | None]:
        return registered_model_page_objects(
            models, offset=offset, limit=limit, annotations=annotations, count_up_to=count_up_to
        )

    page = capped_page(models, number=number, size=per_page, fetch=fetch)
    if not page.rows and number > 1:
        # Past the end (an old link, a hand-edited URL): the last page, counted exactly this once.
        count, _ = capped_count(models, cap=2**62)
        page = capped_page(models, number=max(1, -(-count // per_page)), size=per_page, fetch=fetch)
    return page


def _page_range(page: CappedPage) -> list[int | str]:
    """Page links: the first, two either side of this one and, when the total is known, the last; gaps elided."""
    last = page.num_pages
    # An uncounted list (past the cap) always has a next page; only the one after this is known to exist.
    high = page.number + 1 if last is None else min(page.number + 2, last)
    numbers = sorted({1, *range(max(1, page.number - 2), high + 1), *([last] if last else [])})
    shown: list[int | str] = []
    for number in numbers:
        if shown and isinstance(shown[-1], int) and number > shown[-1] + 1:
            shown.append(CappedPage.ELLIPSIS)
        shown.append(number)
    return shown


@login_required
@require_safe
def model_list(request: HttpRequest) -> HttpResponse:
    """The inventory the user may see, filtered, ordered and paged, in the columns the user chose.

    The filters are the FilterSet the API uses; input it rejects (an unknown unit, a bad choice) is shown on
    the form and lists nothing, rather than silently listing everything. ``?saved=<id>`` applies one of the
    user's saved views: its columns become the session's, and the page redirects to its filters.
    """
    user = signed_in(request)
    if "saved" in request.GET:
        view = get_object_or_404(saved_view_queryset(user=user), pk=_int_or_404(request.GET["saved"]))
        request.session[COLUMNS_SESSION_KEY] = list(view.columns)
        messages.info(request, f"Showing your saved view “{view.name}”.")
        return redirect(_list_url(view.query))
    return _list_page(request, request.GET)


def _int_or_404(raw: str) -> int:
    if not raw.isdigit():
        raise Http404("No such saved view.")
    return int(raw)


def _posted_filters(request: HttpRequest) -> QueryDict:
    """The list filters a form on the list page carried along in its ``query`` field."""
    return QueryDict(request.POST.get("query", "")[:4000])


@login_required
@require_POST
def columns_update(request: HttpRequest) -> HttpResponse:
    """Choose the inventory's columns for this session; the filters shown stay as they were."""
    params = _posted_filters(request)
    form = ColumnsForm(request.POST, auto_id="id_columns_%s")
    if form.is_valid():
        try:
            request.session[COLUMNS_SESSION_KEY] = clean_columns(form.cleaned_data["columns"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(_list_url(_list_query(params)))
    return _list_page(request, params, columns_form=form, status=400)


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the current filters and the session's columns under a name."""
    user = signed_in(request)
    params = _posted_filters(request)
    form = SavedViewForm(request.POST, auto_id="id_save_%s")
    if form.is_valid():
        try:
            view = saved_views.saved_view_create(
                actor=user, name=form.cleaned_data["name"], query=params.urlencode(), columns=chosen_columns(request)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the view “{view.name}”; pick it from “Saved views” to apply it.")
            return redirect(_list_url(view.query))
    return _list_page(request, params, save_form=form, status=400)


def _saved_views_page(
    request: HttpRequest, *, failed: SavedView | None = None, form: SavedViewRenameForm | None = None
) -> HttpResponse:
    """The user's saved views, each with its rename form (the one that failed keeps its errors)."""
    user = signed_in(request)
    rows = []
    for view in saved_view_queryset(user=user):
        if failed is not None and form is not None and view.pk == failed.pk:
            rename = form
        else:
            rename = SavedViewRenameForm(initial={"name": view.name}, auto_id=f"id_rename_{view.pk}_%s")
        labels = [COLUMN_LABELS.get(code, code) for code in view.columns]
        rows.append({"view": view, "form": rename, "url": _list_url(view.query), "columns": labels})
    status = 400 if form is not None else 200
    return render(request, "inventory/saved_views.html", {"rows": rows, "form": form}, status=status)


@login_required
@require_safe
def saved_view_list(request: HttpRequest) -> HttpResponse:
    """The user's saved views, to apply, rename or delete."""
    return _saved_views_page(request)


@login_required
@require_POST
def saved_view_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename one of the user's saved views; another person's is a 404."""
    user = signed_in(request)
    view = get_object_or_404(saved_view_queryset(user=user), pk=pk)
    form = SavedViewRenameForm(request.POST, auto_id=f"id_rename_{view.pk}_%s")
    if form.is_valid():
        try:
            saved_views.saved_view_rename(actor=user, view=view, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Renamed to “{form.cleaned_data['name'].strip()}”.")
            return redirect("inventory:saved-views")
    return _saved_views_page(request, failed=view, form=form)


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the user's saved views; another person's is a 404."""
    user = signed_in(request)
    view = get_object_or_404(saved_view_queryset(user=user), pk=pk)
    name = view.name
    saved_views.saved_view_delete(actor=user, view=view)
    messages.success(request, f"Deleted the view “{name}”.")
    return redirect("inventory:saved-views")


@login_required
@require_safe
def model_detail(request: HttpRequest, key: str) -> HttpResponse:
    """A model's dossier: its inventory record, versions, lineage and field history."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    context = {
        "model": model,
        "versions": model_version_queryset(user=user)
        .filter(model=model)
        .order_by("-created_at")
        .prefetch_related(Prefetch("artifacts", queryset=Artifact.objects.only("id", "version_id", "kind"))),
        "running": runs_where_queryset(user=user).filter(version__model=model).order_by("environment"),
        "lineage": model_lineage(user=user, model=model),
        "history": object_history(obj=model),
        "can_change": user_can(user, "change", model),
        "today": timezone.localdate(),
    }
    return render(request, "inventory/model_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def model_create(request: HttpRequest) -> HttpResponse:
    """Register a model (roles that may add models only)."""
    user = signed_in(request)
    if not has_model_permission(user, RegisteredModel, "add"):
        raise PermissionDenied("Your roles do not include registering models.")
    form = RegisteredModelCreateForm(request.POST or None, user=user)
    if request.method == "POST":
        if form.is_valid():
            try:
                model = registered_model_create(actor=user, **form.service_arguments())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{model.key} {model.name} is registered.")
                return redirect("inventory:model-detail", key=model.key)
        return render(request, "inventory/model_form.html", {"form": form, "model": None}, status=400)
    return render(request, "inventory/model_form.html", {"form": form, "model": None})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def model_edit(request: HttpRequest, key: str) -> HttpResponse:
    """Edit a model's record with a reason; 404 when the user may not see it, 403 when they may not change it."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    if not user_can(user, "change", model):
        raise PermissionDenied(f"You may read {model.key} but not change it.")
    form = RegisteredModelEditForm(request.POST or None, user=user, model=model)
    if request.method == "POST":
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "Nothing was changed, so nothing was recorded.")
                return redirect("inventory:model-detail", key=model.key)
            try:
                registered_model_update(
                    actor=user, model=model, changes=changes, reason=form.cleaned_data["change_reason"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Your changes to {model.key} are saved and recorded in its history.")
                if user_can(user, "view", model):
                    return redirect("inventory:model-detail", key=model.key)
                # Handing a model over to other owners can take away the editor's own access to it.
                messages.info(request, f"You no longer own or validate {model.key}, so it is not listed for you.")
                return redirect("inventory:model-list")
        return render(request, "inventory/model_form.html", {"form": form, "model": model}, status=400)
    return render(request, "inventory/model_form.html", {"form": form, "model": model})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def version_create(request: HttpRequest, key: str) -> HttpResponse:
    """Register a draft version of a model the user may change."""
    user = signed_in(request)
    model = registered_model_get(user=user, key=key)
    if not user_can(user, "change", model):
        raise PermissionDenied(f"You may read {model.key} but not add versions to it.")
    form = ModelVersionForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                version = model_version_create(actor=user, model=model, **form.service_arguments())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Version {version.version} of {model.key} is registered as a draft.")
                return redirect("inventory:model-detail", key=model.key)
        return render(request, "inventory/version_form.html", {"form": form, "model": model}, status=400)
    return render(request, "inventory/version_form.html", {"form": form, "model": model})


def _model_count(models: QuerySet[RegisteredModel]) -> Subquery:
    # A correlated COUNT per unit row: cheaper than annotate(Count()) over a join, which groups the whole
    # join and makes any COUNT around it wrap the grouped query.
    counted = models.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


@login_required
@require_safe
def unit_list(request: HttpRequest) -> HttpResponse:
    """The business-unit hierarchy with the number of models (visible to the user) in each unit and below it."""
    user = signed_in(request)
    filterset = BusinessUnitFilterSet(request.GET, queryset=business_unit_queryset(user=user), request=request)
    valid = filterset.is_valid()
    units: QuerySet[BusinessUnit] = filterset.qs if valid else filterset.queryset.none()
    visible = registered_model_queryset(user=user)
    units = units.annotate(
        model_count=_model_count(visible.filter(business_unit=OuterRef("pk"))),
        subtree_count=_model_count(visible.filter(business_unit__path__startswith=OuterRef("path"))),
    )
    return render(request, "inventory/unit_list.html", {"filterset": filterset, "units": units})
