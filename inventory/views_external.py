"""The MLflow triage page: models found in MLflow tracking servers, and the Risk Officer's link, ignore and register.

Reads come from the selector (the roles that read the whole inventory see the records, anyone else is refused),
filtered by the FilterSet the API uses; the three decisions call the triage services the API calls, and what a
service refuses is shown on the page with the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.models import User
from core.permissions import has_model_permission
from inventory.choices import ModelType
from inventory.filtersets import ExternalRegistryModelFilterSet
from inventory.forms import PersonChoiceField, UnitChoiceField, add_service_errors
from inventory.mlflow.mapping import owner_hints
from inventory.models import BusinessUnit, ExternalRegistryModel, RegisteredModel
from inventory.selectors import business_unit_queryset, external_model_queryset, registered_model_queryset
from inventory.services.mlflow import external_model_ignore, external_model_link, external_model_register, person_for
from inventory.validators import LONG_TEXT_MAX
from inventory.views import page_size, signed_in


def _records(user: User) -> QuerySet[ExternalRegistryModel]:
    """Records the user may see; a user whose roles show none is refused the page rather than shown an empty list."""
    if not has_model_permission(user, ExternalRegistryModel, "view"):
        raise PermissionDenied("Your roles do not include the MLflow triage.")
    return external_model_queryset(user=user)


def _record(user: User, pk: int) -> ExternalRegistryModel:
    record = _records(user).filter(pk=pk).first()
    if record is None:
        raise Http404("No such model found in MLflow.")
    return record


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the list the decision was taken on, with its filters (only a path on this site is followed)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("inventory:external-model-list")


class LinkForm(forms.Form):
    """The inventory model (by key) a record feeds."""

    model = forms.CharField(label="Inventory model key", max_length=20)
    change_reason = forms.CharField(label="Reason", max_length=1000, required=False)


class IgnoreForm(forms.Form):
    """Why a record is not a governed model."""

    change_reason = forms.CharField(label="Reason", max_length=1000, required=False)


class RegisterForm(forms.Form):
    """The inventory record to create from an MLflow model; the owners default to those MLflow names."""

    business_unit = UnitChoiceField(queryset=BusinessUnit.objects.none(), empty_label="Choose a business unit")
    name = forms.CharField(max_length=200)
    purpose = forms.CharField(
        label="Purpose and intended use", max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    model_type = forms.ChoiceField(label="Model type", choices=ModelType.choices, initial=ModelType.MACHINE_LEARNING)
    business_owner = PersonChoiceField(queryset=User.objects.none(), required=False, empty_label="As MLflow names")
    technical_owner = PersonChoiceField(queryset=User.objects.none(), required=False, empty_label="As MLflow names")
    change_reason = forms.CharField(label="Reason", max_length=1000, required=False)

    def __init__(self, *args: Any, user: User, record: ExternalRegistryModel, **kwargs: Any) -> None:
        hints = owner_hints(record.tags)
        initial = {
            "name": record.name[:200],
            "purpose": record.description,
            "business_owner": person_for(hints.business),
            "technical_owner": person_for(hints.technical),
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True, is_service_account=False).order_by("last_name", "username")
        self.fields["business_unit"].queryset = business_unit_queryset(user=user)  # type: ignore[attr-defined]
        self.fields["business_owner"].queryset = people  # type: ignore[attr-defined]
        self.fields["technical_owner"].queryset = people  # type: ignore[attr-defined]
        self.fields["business_owner"].help_text = f"MLflow names: {hints.business or 'nobody'}."
        self.fields["technical_owner"].help_text = f"MLflow names: {hints.technical or 'nobody'}."


@login_required
@require_safe
def external_model_list(request: HttpRequest) -> HttpResponse:
    """Models found in MLflow, filtered and paged; Risk Officers and Admins get the decision forms on each row."""
    user = signed_in(request)
    filterset = ExternalRegistryModelFilterSet(request.GET, queryset=_records(user), request=request)
    valid = filterset.is_valid()
    records = filterset.qs if valid else filterset.queryset.none()
    per_page = page_size(request.GET.get("per_page"))
    page = Paginator(records, per_page).get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "filters_valid": valid,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "per_page": per_page,
        "can_triage": has_model_permission(user, RegisteredModel, "change"),
        "here": request.get_full_path(),
    }
    return render(request, "inventory/external_models.html", context)


@login_required
@require_POST
def external_model_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a record to the inventory model whose key was typed."""
    user = signed_in(request)
    record = _record(user, pk)
    # Refuse a role that only reads before reading its form, as the register view does: an empty form must not
    # turn a refusal into "give the key of an inventory model".
    if not has_model_permission(user, RegisteredModel, "change"):
        raise PermissionDenied("Only a Risk Officer or an Admin links models found in MLflow.")
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{record.name}: give the key of an inventory model.")
        return _back(request)
    key = form.cleaned_data["model"].strip()
    model = registered_model_queryset(user=user).filter(key=key).first()
    if model is None:
        messages.error(request, f"{record.name}: no inventory model {key} visible to you.")
        return _back(request)
    try:
        external_model_link(actor=user, record=record, model=model, reason=form.cleaned_data["change_reason"])
    except ValidationError as error:
        messages.error(request, f"{record.name}: {' '.join(error.messages)}")
    else:
        messages.success(request, f"{record.name} is linked to {model.key}; the next sync imports its versions.")
    return _back(request)


@login_required
@require_POST
def external_model_ignore_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a record as not a governed model."""
    user = signed_in(request)
    record = _record(user, pk)
    form = IgnoreForm(request.POST)
    reason = form.cleaned_data["change_reason"] if form.is_valid() else ""
    try:
        external_model_ignore(actor=user, record=record, reason=reason)
    except ValidationError as error:
        messages.error(request, f"{record.name}: {' '.join(error.messages)}")
    else:
        messages.success(request, f"{record.name} is ignored: syncs import nothing from it.")
    return _back(request)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def external_model_register_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a record's model in the inventory (Risk Officers and Admins), then show the new model."""
    user = signed_in(request)
    record = _record(user, pk)
    if not has_model_permission(user, RegisteredModel, "change"):
        raise PermissionDenied("Only a Risk Officer or an Admin registers models found in MLflow.")
    form = RegisterForm(request.POST or None, user=user, record=record)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("change_reason")
        try:
            model = external_model_register(actor=user, record=record, reason=reason, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{model.key} registered from MLflow model {record.name} and linked to it.")
            return redirect(reverse("inventory:model-detail", args=[model.key]))
    return render(request, "inventory/external_model_register.html", {"record": record, "form": form})


urlpatterns = [
    path("", external_model_list, name="external-model-list"),
    path("<int:pk>/link/", external_model_link_view, name="external-model-link"),
    path("<int:pk>/ignore/", external_model_ignore_view, name="external-model-ignore"),
    path("<int:pk>/register/", external_model_register_view, name="external-model-register"),
]
