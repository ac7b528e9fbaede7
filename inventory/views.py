"""Inventory pages: the filtered list, a model's dossier, registering and editing models and versions, and the
business-unit tree.

Views only translate HTTP: reads come from the selectors (which start from the permission gate, so a model the
user may not see is a 404), writes go to the services, and what a service refuses is shown on the form.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from core.models import User
from core.permissions import has_model_permission, user_can
from inventory.filtersets import BusinessUnitFilterSet, RegisteredModelFilterSet
from inventory.forms import (
    ModelVersionForm,
    RegisteredModelCreateForm,
    RegisteredModelEditForm,
    add_service_errors,
    present_inventory_filters,
)
from inventory.models import Artifact, BusinessUnit, RegisteredModel
from inventory.selectors import (
    business_unit_queryset,
    model_lineage,
    model_version_queryset,
    object_history,
    registered_model_get,
    registered_model_queryset,
    runs_where_queryset,
)
from inventory.services import model_version_create, registered_model_create, registered_model_update

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


@login_required
@require_safe
def model_list(request: HttpRequest) -> HttpResponse:
    """The inventory the user may see, filtered, ordered and paged.

    The filters are the FilterSet the API uses; input it rejects (an unknown unit, a bad choice) is shown on
    the form and lists nothing, rather than silently listing everything.
    """
    user = signed_in(request)
    filterset = RegisteredModelFilterSet(request.GET, queryset=registered_model_queryset(user=user), request=request)
    present_inventory_filters(filterset.form)
    valid = filterset.is_valid()
    models = (filterset.qs) if valid else filterset.queryset.none()
    per_page = page_size(request.GET.get("per_page"))
    page = Paginator(models, per_page).get_page(request.GET.get("page"))
    choices = sorted({*PAGE_SIZE_CHOICES, per_page})
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "filters_valid": valid,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "per_page": per_page,
        "page_size_choices": choices,
        "today": timezone.localdate(),
        "can_register": has_model_permission(user, RegisteredModel, "add"),
    }
    return render(request, "inventory/model_list.html", context)


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
