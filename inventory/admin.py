"""Django admin for the inventory, for administrators fixing data by hand.

Every inventory object keeps its field history here too (SimpleHistoryAdmin). Two things the services normally
keep right are kept right by the admin as well: a business unit's materialised path (units are written through
the business-unit services) and the object permissions that follow from a model's owners and validators.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import Field, QuerySet
from django.forms import BaseForm, ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from core.admin import ReadOnlyAdmin
from core.models import User
from inventory.models import (
    Artifact,
    BusinessUnit,
    Deployment,
    ModelDependency,
    ModelKeySequence,
    ModelVersion,
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    Tag,
)
from inventory.services import business_unit_create, business_unit_update, registered_model_sync_permissions

ADMIN_REASON = "Changed in the admin site"
UNIT_FIELDS = ("name", "parent", "key_prefix", "description", "head")


def acting_user(request: HttpRequest) -> User:
    """The signed-in administrator (the admin site lets only staff in)."""
    return cast(User, request.user)


def people() -> QuerySet[User]:
    """Who may own or validate a model: active people, not service accounts."""
    return User.objects.filter(is_active=True, is_service_account=False)


def role_holders_before(form: BaseForm) -> set[int]:
    """The owners and validators of a model as the admin form found it, before the change is saved.

    The change form is built from the stored record, so its initial values are the state before this save.
    """
    initial = form.initial
    holders = {initial.get("business_owner"), initial.get("technical_owner")}
    holders.update(getattr(person, "pk", person) for person in initial.get("validators") or ())
    return {pk for pk in holders if pk is not None}


@admin.register(BusinessUnit)
class BusinessUnitAdmin(SimpleHistoryAdmin):
    """Business units. Saved through the business-unit services, so moving a unit moves its whole subtree."""

    list_display = ("code", "name", "parent", "key_prefix", "head", "path")
    list_select_related = ("parent", "head")
    search_fields = ("code", "name")
    ordering = ("path",)
    fields = ("code", "name", "parent", "key_prefix", "description", "head", "path")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """The path is derived; the code never changes once the unit exists."""
        return ("code", "path") if obj is not None else ("path",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """Offer as parents only units outside this unit's subtree, so a move can never make a cycle."""
        form = super().get_form(request, obj, change=change, **kwargs)
        parent = form.base_fields.get("parent")
        if obj is not None and isinstance(parent, ModelChoiceField):
            parent.queryset = BusinessUnit.objects.exclude(path__startswith=obj.path)
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """A unit's head is an active person."""
        if db_field.name == "head":
            kwargs["queryset"] = people()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: BusinessUnit, form: Any, change: bool) -> None:
        """Create or change the unit through the services, then point ``obj`` at what they stored."""
        values = {name: form.cleaned_data[name] for name in UNIT_FIELDS if name in form.cleaned_data}
        if change:
            changes = {name: values[name] for name in form.changed_data if name in values}
            business_unit_update(actor=acting_user(request), unit=obj, changes=changes, reason=ADMIN_REASON)
        else:
            unit = business_unit_create(
                actor=acting_user(request),
                code=form.cleaned_data["code"],
                reason=ADMIN_REASON,
                **values,
            )
            obj.pk = unit.pk
            obj._state.adding = False
        obj.refresh_from_db()


@admin.register(RegisteredModel)
class RegisteredModelAdmin(SimpleHistoryAdmin):
    """Registered models. The key is fixed once created; object permissions follow owners and validators."""

    list_display = (
        "key",
        "name",
        "business_unit",
        "model_type",
        "lifecycle_stage",
        "risk_tier",
        "business_owner",
        "technical_owner",
        "next_validation_due",
    )
    list_filter = ("lifecycle_stage", "model_type", "risk_tier", "eu_ai_act_category", "data_sensitivity")
    list_select_related = ("business_unit", "business_owner", "technical_owner")
    search_fields = ("key", "name", "business_owner__username", "technical_owner__username")
    filter_horizontal = ("validators", "tags")
    fieldsets = (
        (None, {"fields": ("key", "name", "business_unit", "model_type", "vendor_name", "lifecycle_stage")}),
        ("Purpose and use", {"fields": ("purpose", "restrictions_on_use", "inputs", "outputs", "limitations")}),
        ("Ownership", {"fields": ("business_owner", "technical_owner", "validators")}),
        (
            "Classification",
            {"fields": ("risk_tier", "eu_ai_act_category", "regulatory_uses", "data_sensitivity", "tags")},
        ),
        ("Validation", {"fields": ("last_validated_on", "next_validation_due")}),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """A model's key never changes once it exists: pipelines and documents name the model by it."""
        # The tier and EU AI Act category follow from approved risk assessments, never from a form.
        fixed = ("risk_tier", "eu_ai_act_category", "created_by", "created_at", "updated_at")
        return ("key", *fixed) if obj is not None else fixed

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Owners are active people, never service accounts."""
        if db_field.name in {"business_owner", "technical_owner"}:
            kwargs["queryset"] = people()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any) -> Any:
        """Validators are active people, never service accounts."""
        if db_field.name == "validators":
            kwargs["queryset"] = people()
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        assert field is None or isinstance(field, ModelMultipleChoiceField)
        return field

    def save_model(self, request: HttpRequest, obj: RegisteredModel, form: Any, change: bool) -> None:
        """Record who registered a model created here."""
        if not change:
            obj.created_by = acting_user(request)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """After validators are saved, bring the object permissions in line with owners and validators; whoever
        lost their role on the model loses what it gave them."""
        previous_holders = role_holders_before(form) if change else set()
        super().save_related(request, form, formsets, change)
        registered_model_sync_permissions(model=form.instance, previous_holders=previous_holders)


@admin.register(ModelVersion)
class ModelVersionAdmin(SimpleHistoryAdmin):
    """Versions of models. A version's model and label are fixed once created."""

    list_display = ("__str__", "state", "artifact_digest", "created_at", "created_by")
    list_filter = ("state",)
    list_select_related = ("model", "created_by")
    search_fields = ("model__key", "model__name", "version")
    autocomplete_fields = ("model",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Model and label identify the version: fixed once it exists."""
        # The workflow alone moves a version's state and records who submitted and approved it.
        fixed = (
            "state",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "approval_expires_at",
            "created_by",
            "created_at",
            "updated_at",
        )
        return ("model", "version", *fixed) if obj is not None else fixed

    def save_model(self, request: HttpRequest, obj: ModelVersion, form: Any, change: bool) -> None:
        """Record who registered a version created here."""
        if not change:
            obj.created_by = acting_user(request)
        super().save_model(request, obj, form, change)


@admin.register(ModelDependency)
class ModelDependencyAdmin(SimpleHistoryAdmin):
    """Which model uses which."""

    list_display = ("__str__", "kind", "created_at", "created_by")
    list_filter = ("kind",)
    list_select_related = ("upstream", "downstream", "created_by")
    search_fields = ("upstream__key", "downstream__key")
    autocomplete_fields = ("upstream", "downstream")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: ModelDependency, form: Any, change: bool) -> None:
        """Record who declared a dependency created here."""
        if not change:
            obj.created_by = acting_user(request)
        super().save_model(request, obj, form, change)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Free labels on models."""

    list_display = ("name",)
    search_fields = ("name",)


@admin.register(ModelKeySequence)
class ModelKeySequenceAdmin(ReadOnlyAdmin):
    """The last key number issued per prefix, created when the first key of a prefix is issued; read-only, since
    a number once issued is never reused (deleting a sequence could issue a key twice)."""

    list_display = ("prefix", "last_number")
    readonly_fields = ("prefix", "last_number")


@admin.register(RegisteredModelUserObjectPermission)
class ModelAccessGrantAdmin(ReadOnlyAdmin):
    """Who holds which permission on which model, read-only: grants come from the services (owners,
    validators, service accounts), so they always match the inventory; to take a grant away, remove the person's
    role on the model."""

    list_display = ("content_object", "user", "permission")
    list_select_related = ("content_object", "user", "permission")
    list_filter = (("permission", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("content_object__key", "user__username")


class ReportedRecordAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Read-only: artifacts and deployments are what pipelines reported, changed only by new reports through the
    API. Evidence is kept: a deployment the gate judged stays with its decision."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Every field: the admin shows the record and its history, it does not edit evidence."""
        return [field.name for field in self.model._meta.fields]


@admin.register(Artifact)
class ArtifactAdmin(ReportedRecordAdmin):
    """Artifacts reported for versions: commits, CI runs, images, datasets, model files, documents."""

    list_display = ("__str__", "version", "kind", "identity", "digest", "reported_by", "updated_at")
    list_filter = ("kind",)
    list_select_related = ("version__model", "reported_by")
    search_fields = ("identity", "digest", "version__model__key", "name")


@admin.register(Deployment)
class DeploymentAdmin(ReportedRecordAdmin):
    """Deployments reported by pipelines, and whether each carried the approved digest."""

    list_display = ("__str__", "environment", "status", "digest", "matches_approval", "deployed_at", "reported_by")
    list_filter = ("environment", "status", "matches_approval")
    list_select_related = ("version__model", "reported_by")
    search_fields = ("version__model__key", "digest", "external_id", "target")
    date_hierarchy = "deployed_at"
