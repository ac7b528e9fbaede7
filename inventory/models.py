"""The model inventory: who owns which model, what it is for, its versions and how models depend on each other.

Every model here keeps field-level history (django-simple-history) with the acting user and the reason given,
so the inventory can be read as it stood on any past date.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.history import PortalHistoricalRecords
from core.models import TimeStampedModel
from inventory.choices import (
    ArtifactKind,
    DataSensitivity,
    DependencyKind,
    DeploymentStatus,
    EUAIActCategory,
    ExternalModelStatus,
    LifecycleStage,
    ModelType,
    RiskTier,
    VersionState,
)
from inventory.validators import (
    LONG_TEXT_MAX,
    validate_digest,
    validate_environment,
    validate_key_prefix,
    validate_model_key,
    validate_tag,
    validate_unit_code,
    validate_version_label,
)


class BusinessUnit(TimeStampedModel):
    """An organisational unit (division, department, team) in a hierarchy.

    ``path`` is the chain of codes from the root (``GROUP/RETAIL/CARDS/``), kept by the services, so "models
    of Retail and everything below it" is one indexed prefix match instead of a recursive query.
    """

    code = models.CharField(max_length=30, unique=True, validators=[validate_unit_code])
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=1000, editable=False, db_index=True)
    key_prefix = models.CharField(
        max_length=8,
        blank=True,
        validators=[validate_key_prefix],
        help_text="Prefix of the keys of models registered in this unit, e.g. CR gives CR-0042.",
    )
    description = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_units",
    )

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1


class Tag(models.Model):
    """A free label on models (``pd``, ``retail``, ``genai``) for grouping and filtering."""

    name = models.CharField(max_length=50, unique=True, validators=[validate_tag])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelKeySequence(models.Model):
    """The last number issued for a key prefix, so generated keys never repeat even after a failed insert."""

    prefix = models.CharField(max_length=8, unique=True, validators=[validate_key_prefix])
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_number}"


class RegisteredModel(TimeStampedModel):
    """One model in the inventory: the SR 11-7 / EU AI Act record of what it is, who owns it and how risky it is.

    ``key`` is the human identifier (``CR-0042``) used everywhere a person or a pipeline names the model; it
    never changes. ``risk_tier`` and ``eu_ai_act_category`` come from the latest approved risk assessment.
    """

    object_permissions = True

    key = models.CharField(max_length=20, unique=True, validators=[validate_model_key])
    name = models.CharField(max_length=200)
    purpose = models.TextField(max_length=LONG_TEXT_MAX, help_text="The business purpose and intended use.")
    restrictions_on_use = models.TextField(
        blank=True, max_length=LONG_TEXT_MAX, help_text="Uses the model is not approved for."
    )
    inputs = models.TextField(
        blank=True,
        max_length=LONG_TEXT_MAX,
        help_text="Data inputs and their sources (upstream models are linked).",
    )
    outputs = models.TextField(
        blank=True, max_length=LONG_TEXT_MAX, help_text="What the model produces and how the output is used."
    )
    limitations = models.TextField(blank=True, max_length=LONG_TEXT_MAX, help_text="Known limitations and weaknesses.")
    model_type = models.CharField(max_length=20, choices=ModelType.choices)
    vendor_name = models.CharField(max_length=200, blank=True, help_text="Supplier of a vendor or hosted model.")
    lifecycle_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.PROPOSED)
    business_unit = models.ForeignKey(BusinessUnit, on_delete=models.PROTECT, related_name="models")
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="business_owned_models"
    )
    technical_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="technically_owned_models"
    )
    validators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="validated_models")
    regulatory_uses: models.JSONField[Any, Any] = models.JSONField(
        default=list, blank=True, help_text="Regulated decisions or reports the model feeds."
    )
    data_sensitivity = models.CharField(
        max_length=20, choices=DataSensitivity.choices, default=DataSensitivity.INTERNAL
    )
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, null=True, blank=True)
    eu_ai_act_category = models.CharField(
        "EU AI Act category", max_length=20, choices=EUAIActCategory.choices, blank=True
    )
    last_validated_on = models.DateField(null=True, blank=True)
    next_validation_due = models.DateField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = PortalHistoricalRecords(m2m_fields=[validators, tags])

    class Meta:
        ordering = ["key"]
        permissions = [
            ("validate_registeredmodel", "Can validate the model's versions"),
            ("report_registeredmodel", "Can report artifacts and deployments for the model"),
        ]
        indexes = [
            # Inventory list filtered by one facet and ordered by key (the default order): one index each.
            models.Index(fields=["lifecycle_stage", "key"], name="model_stage_key_idx"),
            models.Index(fields=["business_unit", "key"], name="model_unit_key_idx"),
            models.Index(fields=["risk_tier", "key"], name="model_tier_key_idx"),
            models.Index(fields=["model_type", "key"], name="model_type_key_idx"),
            models.Index(fields=["eu_ai_act_category", "key"], name="model_euai_key_idx"),
            # The inventory filtered by tier and stage together (the dashboard's links, the bench's filtered page):
            # the first page is read in key order straight from the index, and its capped count from the index.
            models.Index(fields=["risk_tier", "lifecycle_stage", "key"], name="model_tier_stage_key_idx"),
            # "My models" and the owner filter (either owner).
            models.Index(fields=["business_owner", "key"], name="model_bowner_key_idx"),
            models.Index(fields=["technical_owner", "key"], name="model_towner_key_idx"),
            # Overdue revalidations: next_validation_due < today, soonest first.
            models.Index(fields=["next_validation_due"], name="model_next_due_idx"),
            # Sort by name and by recent change in the inventory list.
            models.Index(fields=["name"], name="model_name_idx"),
            models.Index(fields=["-updated_at"], name="model_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"


class RegisteredModelUserObjectPermission(UserObjectPermissionBase):
    """Per-user object permissions on models with a real foreign key, so the gate joins on an indexed integer."""

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)


class RegisteredModelGroupObjectPermission(GroupObjectPermissionBase):
    """Per-group object permissions on models (a team granted access to a model)."""

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)


class ModelVersion(TimeStampedModel):
    """A version of a registered model: what was built, from which data, and where it stands in the workflow.

    ``state`` and the submitted/approved fields are moved only by the approval workflow; owners edit the
    description, the artifact digest, the training data reference and the metrics.
    """

    permission_parent = "model"

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=50, validators=[validate_version_label])
    description = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    state = models.CharField(max_length=30, choices=VersionState.choices, default=VersionState.DRAFT)
    artifact_digest = models.CharField(
        max_length=71,
        blank=True,
        validators=[validate_digest],
        help_text="sha256 digest of the model artifact.",
    )
    training_data_ref = models.CharField(
        max_length=500, blank=True, help_text="Where the training data lives (URI, table, dataset version)."
    )
    metrics: models.JSONField[Any, Any] = models.JSONField(
        default=dict, blank=True, help_text='Evaluation metrics by name, e.g. {"auc": 0.81}.'
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_expires_at = models.DateTimeField(null=True, blank=True)

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["model__key", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="version_unique_per_model"),
        ]
        indexes = [
            # A model's versions, newest first (model detail page and API filter ?model=).
            models.Index(fields=["model", "-created_at"], name="version_model_created_idx"),
            # Review queues: versions in a workflow state, oldest first.
            models.Index(fields=["state", "created_at"], name="version_state_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model.key} v{self.version}"


class ModelDependency(TimeStampedModel):
    """``downstream`` uses ``upstream`` (its output as an input, as a component, as a fallback).

    The link belongs to the downstream model: its owners declare what their model consumes. Links never form
    a cycle, so aggregate risk can be traced through the graph in both directions.
    """

    permission_parent = "downstream"
    permission_also_visible = ("upstream",)

    upstream = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="downstream_links")
    downstream = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="upstream_links")
    kind = models.CharField(max_length=20, choices=DependencyKind.choices, default=DependencyKind.INPUT)
    description = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["downstream__key", "upstream__key"]
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="dependency_unique_pair"),
            models.CheckConstraint(condition=~Q(upstream=models.F("downstream")), name="dependency_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream.key} → {self.downstream.key}"


class Artifact(TimeStampedModel):
    """A piece of DevOps or MLOps evidence behind a model version: a commit, a CI run, an image, a dataset...

    ``identity`` is the kind's natural key in canonical form (a commit is ``repository@sha``, an image its
    digest, an experiment run ``tracking_uri#run_id``), computed by the ingestion service. A version holds at
    most one artifact per kind and identity, so a pipeline that reports the same thing twice updates the
    record instead of duplicating it. Kind-specific fields (repository, run id, triggering actor, metrics...)
    live in ``metadata``; ``uri`` and ``digest`` are the two every kind may have and lineage queries use.
    """

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="artifacts")
    kind = models.CharField(max_length=30, choices=ArtifactKind.choices)
    identity = models.CharField(max_length=600)
    name = models.CharField(max_length=300, blank=True, help_text="Short label shown in lineage views.")
    uri = models.CharField(max_length=2000, blank=True)
    digest = models.CharField(max_length=71, blank=True, validators=[validate_digest])
    metadata: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["version", "kind", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind", "identity"], name="artifact_unique_identity"),
        ]
        indexes = [
            # "Which versions were built into this image / trained on this dataset?"
            models.Index(fields=["digest"], name="artifact_digest_idx", condition=~Q(digest="")),
            models.Index(fields=["kind", "identity"], name="artifact_kind_identity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.identity}"


class Deployment(TimeStampedModel):
    """What a pipeline reports it deployed: a version's artifact, by digest, to an environment and target.

    ``matches_approval`` is fixed when the report arrives: whether the deployed digest is the one approved for
    the version. Reports are idempotent on the pipeline's own ``external_id`` when it sends one.
    """

    permission_parent = "version"

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=50, validators=[validate_environment])
    target = models.CharField(max_length=300, blank=True, help_text="Cluster, namespace, endpoint or host.")
    digest = models.CharField(max_length=71, validators=[validate_digest])
    status = models.CharField(max_length=20, choices=DeploymentStatus.choices, default=DeploymentStatus.SUCCEEDED)
    deployed_at = models.DateTimeField()
    external_id = models.CharField(max_length=200, blank=True, help_text="The pipeline's own deployment id.")
    matches_approval = models.BooleanField(default=False)
    decision_id = models.CharField(
        max_length=64, blank=True, help_text="Id of the gate decision the pipeline cited, if any."
    )
    metadata: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = PortalHistoricalRecords()

    class Meta:
        ordering = ["-deployed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment", "external_id"],
                condition=~Q(external_id=""),
                name="deployment_unique_external_id",
            ),
        ]
        indexes = [
            # "What runs where": the latest deployment per environment of a model's versions.
            models.Index(fields=["version", "environment", "-deployed_at"], name="deployment_version_env_idx"),
            models.Index(fields=["environment", "-deployed_at"], name="deployment_env_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.version} to {self.environment}"


class ExternalRegistryModel(TimeStampedModel):
    """A model found in an external registry (an MLflow tracking server), kept for triage and re-sync.

    Linked entries feed versions and artifacts into ``registered_model``; unregistered ones wait for a Risk
    Officer to register or ignore them. Entries are never deleted by a sync, so a model that disappears from
    MLflow stays visible with its ``last_seen_at``.
    """

    source = models.CharField(max_length=20, default="mlflow")
    tracking_uri = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    tags: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    latest_versions: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    owner_hint = models.CharField(max_length=200, blank=True, help_text="Owner named by the registry's tags.")
    status = models.CharField(
        max_length=20, choices=ExternalModelStatus.choices, default=ExternalModelStatus.UNREGISTERED
    )
    registered_model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="external_records"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["source", "tracking_uri", "name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "tracking_uri", "name"], name="external_model_unique"),
        ]
        indexes = [models.Index(fields=["status"], name="external_model_status_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


# Columns the inventory table can show, in display order; the first two link to the model's page.
INVENTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "Key"),
    ("name", "Name"),
    ("unit", "Business unit"),
    ("owners", "Owners"),
    ("type", "Type"),
    ("stage", "Stage"),
    ("tier", "Risk tier"),
    ("eu_ai_act", "EU AI Act"),
    ("compliance", "Compliance"),
    ("next_validation", "Next validation due"),
    ("tags", "Tags"),
    ("updated", "Updated"),
)
DEFAULT_INVENTORY_COLUMNS: tuple[str, ...] = (
    "key",
    "name",
    "unit",
    "owners",
    "type",
    "stage",
    "tier",
    "compliance",
    "next_validation",
    "tags",
)


class SavedView(TimeStampedModel):
    """A person's named inventory filter: the list page's query string and the columns to show.

    Private to its owner: nobody else, whatever their role, lists, applies, renames or deletes it. It holds no
    governance fact, so it keeps no field history.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000, blank=True, help_text="The inventory list's query string.")
    columns: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name_per_owner")]

    def __str__(self) -> str:
        return self.name
