"""One FilterSet per inventory model, shared by the web pages and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.apps import apps
from django.core.validators import RegexValidator
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from core.filtersets import InCollectedRows, PortalFilterSet
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

# Compliance states of audits.compliance.ComplianceState (a test keeps them in step), plus "unknown" for a model
# the latest sweep did not cover.
COMPLIANCE_UNKNOWN = "unknown"
COMPLIANCE_CHOICES = (
    ("compliant", "Compliant"),
    ("non_compliant", "Non-compliant"),
    ("exempt", "Exempt"),
    (COMPLIANCE_UNKNOWN, "Unknown (not in the latest sweep)"),
)
# A tag on at most this many models is listed from its own models (collected, then sorted); a tag on more is listed
# by walking the inventory in the list's order and probing each model's tags. A page of 50 from a walk reads about
# 50 x models / tagged rows; collecting reads the tagged rows: at 100,000 models the two meet near 2,000.
COLLECTED_TAG_MODELS = 2_000
# Finished sweeps as audits.sweep reads them: one that ended in "error" judged nothing.
SWEEP_FINISHED_STATUSES = ("passed", "failed")


class RegisteredModelFilterSet(PortalFilterSet):
    """Inventory filters: free text, unit (with its sub-units), owner, type, stage, tier, EU AI Act category,
    tag, validator, overdue revalidation, compliance status and broken rule in the latest finished compliance
    sweep; and the orderings the inventory list offers."""

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
    # Plain columns of the model itself: no join can repeat a row, so no DISTINCT (which PostgreSQL pays for with
    # a sort over every selected column of the filtered inventory).
    model_type = django_filters.MultipleChoiceFilter(choices=ModelType.choices, label="Type", distinct=False)
    stage = django_filters.MultipleChoiceFilter(
        field_name="lifecycle_stage", choices=LifecycleStage.choices, label="Stage", distinct=False
    )
    tier = django_filters.MultipleChoiceFilter(
        field_name="risk_tier", choices=RiskTier.choices, label="Risk tier", distinct=False
    )
    eu_ai_act_category = django_filters.MultipleChoiceFilter(
        choices=EUAIActCategory.choices, label="EU AI Act category", distinct=False
    )
    tag = django_filters.CharFilter(method="filter_tag", label="Tag", max_length=50)
    validation_overdue = django_filters.BooleanFilter(method="filter_overdue", label="Revalidation overdue")
    compliance = django_filters.MultipleChoiceFilter(
        choices=COMPLIANCE_CHOICES, method="filter_compliance", label="Compliance status"
    )
    breaks = django_filters.CharFilter(
        method="filter_breaks",
        label="Breaks rule",
        max_length=20,
        validators=[RegexValidator(r"^CMP-\d{3}$", "Give a compliance rule id such as CMP-003.")],
    )
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
        # The tag's models, counted up to the cap, decide how the list is read (one small index-only query). A rare
        # tag's models are collected first (InCollectedRows); otherwise PostgreSQL, which cannot know how common the
        # tag is, walks the inventory in key order probing each model: 855 of 100,000 models took 16 ms that way.
        through = RegisteredModel.tags.through
        tagged = through.objects.filter(tag__name=value).order_by().values("registeredmodel_id")
        carried_by = tagged[: COLLECTED_TAG_MODELS + 1].count()
        if not carried_by:
            return queryset.none()
        if carried_by <= COLLECTED_TAG_MODELS:
            return queryset.filter(InCollectedRows(F("pk"), tagged))
        # A common tag: EXISTS instead of a join, so a model with several tags is not listed twice and no DISTINCT
        # is needed. The tag's id is a scalar subquery rather than a join to the tag: then each model is one probe of
        # the unique (model, tag) index, and PostgreSQL does not collect every model of the tag to find the first
        # page and its capped count (a tag on 11,000 of 100,000 models: 4.3 -> 0.9 ms and 3.8 -> 0.8 ms).
        tag_id = Subquery(Tag.objects.filter(name=value).order_by().values("pk")[:1])
        return queryset.filter(Exists(through.objects.filter(registeredmodel_id=OuterRef("pk"), tag_id=tag_id)))

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        # A retired model needs no revalidation, so it is never overdue.
        overdue = Q(next_validation_due__lt=timezone.localdate()) & ~Q(lifecycle_stage=LifecycleStage.RETIRED)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    @staticmethod
    def latest_compliance_statuses() -> QuerySet[Any]:
        """Every model's row in the latest finished compliance sweep (none before the first sweep).

        The latest run is an uncorrelated subquery, so callers filter or annotate with this in the same SQL
        statement as the list, not in a query of their own.
        """
        # The inventory sits below audits (DESIGN: dependencies point down), so it names the audit models by
        # label at call time instead of importing them; the values below mirror audits.choices.
        compliance_status = apps.get_model("audits", "ComplianceStatus")
        audit_run = apps.get_model("audits", "AuditRun")
        latest_run = (
            audit_run.objects.filter(kind="compliance", status__in=SWEEP_FINISHED_STATUSES)
            .order_by("-finished_at", "-pk")
            .values("pk")[:1]
        )
        return compliance_status.objects.filter(run_id=Subquery(latest_run)).order_by()

    def filter_compliance(self, queryset: QuerySet[Any], name: str, value: list[str]) -> QuerySet[Any]:
        if not value:
            return queryset
        statuses = self.latest_compliance_statuses()
        known = [status for status in value if status != COMPLIANCE_UNKNOWN]
        # Served by the (run, status, model) index: one range scan per status, no per-model lookups.
        matched = Q(pk__in=statuses.filter(status__in=known).values("model_id")) if known else Q(pk__in=[])
        if COMPLIANCE_UNKNOWN in value:
            # Not covered by the latest sweep: registered since, or no sweep has finished yet.
            matched |= ~Q(pk__in=statuses.values("model_id"))
        return queryset.filter(matched)

    def filter_breaks(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip().upper()
        if not value:
            return queryset
        # rule_ids is ",CMP-001,CMP-003," text, so the delimiters make CMP-003 not match CMP-0031.
        statuses = self.latest_compliance_statuses().filter(status="non_compliant", rule_ids__contains=f",{value},")
        return queryset.filter(pk__in=statuses.values("model_id"))


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
