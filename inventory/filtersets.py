"""One FilterSet per inventory model, shared by the web pages and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.models import User
from inventory.choices import (
    ArtifactKind,
    DeploymentStatus,
    EUAIActCategory,
    ExternalModelStatus,
    LifecycleStage,
    ModelType,
    RiskTier,
    VersionState,
)
from inventory.models import (
    Artifact,
    BusinessUnit,
    Deployment,
    ExternalRegistryModel,
    ModelDependency,
    ModelVersion,
    RegisteredModel,
    Tag,
)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering that always ends on the unique key, so paging never repeats or skips a row when many models
    share a tier or a stage."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        ordered = super().filter(qs, value)
        fields = [str(field) for field in ordered.query.order_by]
        if fields and not {"key", "-key"} & set(fields):
            ordered = ordered.order_by(*fields, "key")
        return ordered


PEOPLE = User.objects.filter(is_service_account=False)


class RegisteredModelFilterSet(django_filters.FilterSet):
    """Inventory filters: free text, unit (with its sub-units), owner, type, stage, tier, EU AI Act category,
    tag, validator, overdue revalidation; and the orderings the inventory list offers."""

    q = django_filters.CharFilter(method="filter_text", label="Search", max_length=200)
    unit = django_filters.ModelChoiceFilter(
        queryset=BusinessUnit.objects.all(), to_field_name="code", method="filter_unit", label="Business unit"
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=PEOPLE, to_field_name="username", method="filter_owner", label="Owner"
    )
    validator = django_filters.ModelChoiceFilter(
        queryset=PEOPLE, to_field_name="username", method="filter_validator", label="Validator"
    )
    model_type = django_filters.MultipleChoiceFilter(choices=ModelType.choices, label="Type")
    stage = django_filters.MultipleChoiceFilter(
        field_name="lifecycle_stage", choices=LifecycleStage.choices, label="Stage"
    )
    tier = django_filters.MultipleChoiceFilter(field_name="risk_tier", choices=RiskTier.choices, label="Risk tier")
    eu_ai_act_category = django_filters.MultipleChoiceFilter(
        choices=EUAIActCategory.choices, label="EU AI Act category"
    )
    tag = django_filters.CharFilter(method="filter_tag", label="Tag", max_length=50)
    validation_overdue = django_filters.BooleanFilter(method="filter_overdue", label="Revalidation overdue")
    ordering = StableOrderingFilter(
        fields=(
            ("key", "key"),
            ("name", "name"),
            ("risk_tier", "tier"),
            ("lifecycle_stage", "stage"),
            ("next_validation_due", "next_validation_due"),
            ("updated_at", "updated"),
        ),
        label="Order by",
    )

    class Meta:
        model = RegisteredModel
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(key__icontains=value)
            | Q(name__icontains=value)
            | Q(business_owner__username__iexact=value)
            | Q(technical_owner__username__iexact=value)
            | Q(business_owner__last_name__iexact=value)
            | Q(technical_owner__last_name__iexact=value)
        )

    def filter_unit(self, queryset: QuerySet[Any], name: str, value: BusinessUnit | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        # The unit and everything below it: one indexed prefix match on the materialised path.
        return queryset.filter(business_unit__path__startswith=value.path)

    def filter_owner(self, queryset: QuerySet[Any], name: str, value: User | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(Q(business_owner=value) | Q(technical_owner=value))

    def filter_validator(self, queryset: QuerySet[Any], name: str, value: User | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        through = RegisteredModel.validators.through
        return queryset.filter(Exists(through.objects.filter(registeredmodel_id=OuterRef("pk"), user_id=value.pk)))

    def filter_tag(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip().lower()
        if not value:
            return queryset
        # EXISTS instead of a join, so a model with several tags is not listed twice and no DISTINCT is needed.
        through = RegisteredModel.tags.through
        return queryset.filter(Exists(through.objects.filter(registeredmodel_id=OuterRef("pk"), tag__name=value)))

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        # A retired model needs no revalidation, so it is never overdue.
        overdue = Q(next_validation_due__lt=timezone.localdate()) & ~Q(lifecycle_stage=LifecycleStage.RETIRED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class BusinessUnitFilterSet(django_filters.FilterSet):
    """Business units by text, and the subtree under a unit."""

    q = django_filters.CharFilter(method="filter_text", label="Search", max_length=200)
    within = django_filters.ModelChoiceFilter(
        queryset=BusinessUnit.objects.all(), to_field_name="code", method="filter_within", label="Within unit"
    )

    class Meta:
        model = BusinessUnit
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else queryset

    def filter_within(self, queryset: QuerySet[Any], name: str, value: BusinessUnit | None) -> QuerySet[Any]:
        return queryset.filter(path__startswith=value.path) if value else queryset


class ModelVersionFilterSet(django_filters.FilterSet):
    """Versions of a model, by workflow state."""

    model = django_filters.CharFilter(field_name="model__key", label="Model key", max_length=20)
    state = django_filters.MultipleChoiceFilter(choices=VersionState.choices)
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created"), ("version", "version")))

    class Meta:
        model = ModelVersion
        fields: list[str] = []


class ModelDependencyFilterSet(django_filters.FilterSet):
    """Dependencies touching a model, in either direction."""

    model = django_filters.CharFilter(method="filter_model", label="Model key (either side)", max_length=20)
    upstream = django_filters.CharFilter(field_name="upstream__key", max_length=20)
    downstream = django_filters.CharFilter(field_name="downstream__key", max_length=20)

    class Meta:
        model = ModelDependency
        fields = ["kind"]

    def filter_model(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(Q(upstream__key=value) | Q(downstream__key=value))


class TagFilterSet(django_filters.FilterSet):
    """Tags by name prefix (for pickers)."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="startswith", max_length=50)

    class Meta:
        model = Tag
        fields: list[str] = []


class RunsWhereFilterSet(django_filters.FilterSet):
    """Filters of "what runs where" (the latest deployment per model and environment), for its page and API.

    Applied to ``inventory.selectors.runs_where_queryset``, whose rows carry the ``matches_now`` annotation.
    """

    model = django_filters.CharFilter(field_name="version__model__key", label="Model key", max_length=20)
    environment = django_filters.CharFilter(field_name="environment", label="Environment", max_length=50)
    unit = django_filters.ModelChoiceFilter(
        queryset=BusinessUnit.objects.all(), to_field_name="code", method="filter_unit", label="Business unit"
    )
    # A choice rather than a BooleanFilter: that one reads "perhaps" as "no filter", this one refuses it.
    mismatch = django_filters.ChoiceFilter(
        choices=[("true", "Only mismatches"), ("false", "Only matches")],
        method="filter_mismatch",
        label="Approval now",
        empty_label="Any",
    )

    class Meta:
        model = Deployment
        fields: list[str] = []

    def filter_unit(self, queryset: QuerySet[Any], name: str, value: BusinessUnit | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(version__model__business_unit__path__startswith=value.path)

    def filter_mismatch(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if not value:
            return queryset
        return queryset.filter(matches_now=value != "true")


class LowerCaseCharFilter(django_filters.CharFilter):
    """An exact match on a value stored in lower case (digests, environments), whatever case is asked for."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(qs, value.strip().lower() if isinstance(value, str) else value)


class ArtifactFilterSet(django_filters.FilterSet):
    """Artifacts by model, version, kind, digest or identity ("which versions were built into this image?")."""

    model = django_filters.CharFilter(field_name="version__model__key", label="Model key", max_length=20)
    version = django_filters.CharFilter(field_name="version__version", label="Version label", max_length=50)
    kind = django_filters.MultipleChoiceFilter(choices=ArtifactKind.choices, label="Kind")
    digest = LowerCaseCharFilter(field_name="digest", label="Digest (sha256:...)", max_length=71)
    identity = django_filters.CharFilter(field_name="identity", label="Canonical identity", max_length=600)
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created"), ("updated_at", "updated")))

    class Meta:
        model = Artifact
        fields: list[str] = []


class DeploymentFilterSet(django_filters.FilterSet):
    """Deployments by model, version, environment, digest, status and whether they matched the approval."""

    model = django_filters.CharFilter(field_name="version__model__key", label="Model key", max_length=20)
    version = django_filters.CharFilter(field_name="version__version", label="Version label", max_length=50)
    environment = LowerCaseCharFilter(field_name="environment", label="Environment", max_length=50)
    digest = LowerCaseCharFilter(field_name="digest", label="Digest (sha256:...)", max_length=71)
    status = django_filters.MultipleChoiceFilter(choices=DeploymentStatus.choices, label="Status")
    matches_approval = django_filters.BooleanFilter(label="Matches the approval")
    external_id = django_filters.CharFilter(field_name="external_id", label="Pipeline's deployment id", max_length=200)
    ordering = django_filters.OrderingFilter(fields=(("deployed_at", "deployed_at"), ("created_at", "created")))

    class Meta:
        model = Deployment
        fields: list[str] = []


class ExternalRegistryModelFilterSet(django_filters.FilterSet):
    """Triage filters of models found in MLflow: free text, status, tracking server, linked model."""

    q = django_filters.CharFilter(method="filter_text", label="Search", max_length=200)
    status = django_filters.MultipleChoiceFilter(choices=ExternalModelStatus.choices, label="Status")
    tracking_uri = django_filters.CharFilter(label="Tracking server", max_length=500)
    model = django_filters.CharFilter(field_name="registered_model__key", label="Linked model key", max_length=20)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("last_seen_at", "last_seen"), ("first_seen_at", "first_seen"))
    )

    class Meta:
        model = ExternalRegistryModel
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Name, description or named owner contains the text."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(owner_hint__icontains=value)
        )
