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
    DataSensitivity,
    DependencyKind,
    EUAIActCategory,
    LifecycleStage,
    ModelType,
    RiskTier,
    VersionState,
)
from inventory.validators import (
    LONG_TEXT_MAX,
    validate_digest,
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
