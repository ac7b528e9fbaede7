"""Serializers of the inventory API.

Input serializers (``*Input``) check the shape of a write body and resolve references among what the caller
may see (units by code, people by username, models by key); the services then decide. Output serializers
(``*Output``) render what the selectors loaded, without further queries, so a page costs a fixed number of
queries however many rows it holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import ForeignKey, ManyToManyField, Model, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import (
    InputSerializer,
    PersonSerializer,
    StrictCharField,
    VisibleSlugRelatedField,
    answer_time_zone,
    detail_url,
    detail_urls,
    iso_datetime,
    list_url,
)
from core.models import User
from core.selectors import user_queryset
from inventory.choices import (
    DataSensitivity,
    DependencyKind,
    EUAIActCategory,
    LifecycleStage,
    ModelType,
    RegulatoryUse,
    RiskTier,
    VersionState,
)
from inventory.models import BusinessUnit, ModelDependency, ModelVersion, RegisteredModel
from inventory.selectors import business_unit_queryset, registered_model_queryset
from inventory.validators import LONG_TEXT_MAX


def _history_m2m_model(model: type[Model], field_name: str) -> type[Model]:
    """django-simple-history's snapshot table of a tracked many-to-many field: (historical record, target) rows."""
    records = model._portal_history  # type: ignore[attr-defined]
    snapshot_model: type[Model] = records.m2m_models[model._meta.get_field(field_name)]
    return snapshot_model


def history_m2m_accessor(model: type[Model], field_name: str) -> str:
    """The name under which a historical record reaches its snapshot rows of a many-to-many field."""
    history_link = _history_m2m_model(model, field_name)._meta.get_field("history")
    assert isinstance(history_link, ForeignKey)
    return str(history_link.remote_field.get_accessor_name())


def history_m2m_prefetch(model: type[Model], field_name: str) -> Prefetch:
    """Prefetch of historical records' snapshot of a many-to-many field, with the targets (tags, people) joined
    in, so a page of past records costs one query per field."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, ManyToManyField)
    rows = _history_m2m_model(model, field_name)._default_manager.select_related(field.m2m_reverse_field_name())
    return Prefetch(history_m2m_accessor(model, field_name), queryset=rows)


def long_text(**kwargs: Any) -> StrictCharField:
    """An optional prose field, at most ``LONG_TEXT_MAX`` characters (the models' own limit)."""
    return StrictCharField(required=False, allow_blank=True, max_length=LONG_TEXT_MAX, **kwargs)


# --- output ----------------------------------------------------------------------------------------------------


class UnitRefSerializer(serializers.Serializer):
    """A business unit as other records refer to it."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class ModelRefSerializer(serializers.Serializer):
    """A registered model as other records refer to it."""

    key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class RegisteredModelLinksSerializer(serializers.Serializer):
    """Where to go from a model: its API record, history, lineage, versions, and its page in the portal."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)
    lineage = serializers.URLField(read_only=True)
    versions = serializers.URLField(read_only=True)
    web = serializers.CharField(read_only=True)


class RegisteredModelOutputSerializer(serializers.Serializer):
    """A model's inventory record: what it is for, who owns and validates it, how risky it is, and its links."""

    key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    purpose = serializers.CharField(read_only=True)
    restrictions_on_use = serializers.CharField(read_only=True)
    inputs = serializers.CharField(read_only=True)
    outputs = serializers.CharField(read_only=True)
    limitations = serializers.CharField(read_only=True)
    model_type = serializers.ChoiceField(choices=ModelType.choices, read_only=True)
    vendor_name = serializers.CharField(read_only=True)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, read_only=True)
    business_unit = UnitRefSerializer(read_only=True)
    business_owner = PersonSerializer(read_only=True)
    technical_owner = PersonSerializer(read_only=True)
    # Declared fields live in the serializer's field map, not as attributes, so these names may shadow attributes
    # of DRF's Field (``validators``, ``parent``, ``label``) without clashing at run time.
    validators = serializers.SerializerMethodField(method_name="get_validator_people")  # type: ignore[assignment]
    regulatory_uses = serializers.ListField(
        child=serializers.ChoiceField(choices=RegulatoryUse.choices), read_only=True
    )
    data_sensitivity = serializers.ChoiceField(choices=DataSensitivity.choices, read_only=True)
    risk_tier = serializers.ChoiceField(
        choices=RiskTier.choices, read_only=True, allow_null=True, help_text="1 is the highest model risk."
    )
    eu_ai_act_category = serializers.ChoiceField(choices=EUAIActCategory.choices, read_only=True, allow_blank=True)
    last_validated_on = serializers.DateField(read_only=True, allow_null=True)
    next_validation_due = serializers.DateField(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(PersonSerializer(many=True))
    def get_validator_people(self, model: Any) -> list[dict[str, str]]:
        """The assigned validators, from the prefetched relation."""
        return [{"username": user.username, "display_name": user.display_name} for user in self.validator_users(model)]

    def get_tags(self, model: Any) -> list[str]:
        """Tag names, from the prefetched relation."""
        return [tag.name for tag in self.tag_objects(model)]

    def validator_users(self, model: Any) -> list[User]:
        """The validators to show, in username order."""
        return sorted(model.validators.all(), key=lambda user: user.username)

    def tag_objects(self, model: Any) -> list[Any]:
        """The tags to show, in name order."""
        return sorted(model.tags.all(), key=lambda tag: tag.name)

    @extend_schema_field(RegisteredModelLinksSerializer)
    def get_links(self, model: Any) -> dict[str, str]:
        """API links of the model, and its page in the portal."""
        key = model.key
        return {
            "self": detail_url(self.context, "registeredmodel-detail", key),
            "history": detail_url(self.context, "registeredmodel-history", key),
            "lineage": detail_url(self.context, "registeredmodel-lineage", key),
            "versions": list_url(self.context, "modelversion-list", model=key),
            "web": detail_url(self.context, "inventory:model-detail", key),
        }


def _person(username: str, first_name: str, last_name: str) -> dict[str, str]:
    # User.display_name, from the joined columns instead of a loaded user.
    return {"username": username, "display_name": f"{first_name} {last_name}".strip() or username}


def _date(value: dt.date | None) -> str | None:
    # DRF's DateField output (ISO 8601), without a field object's checks per value.
    return None if value is None else value.isoformat()


def registered_model_record(row: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """A row of :func:`inventory.selectors.registered_model_records` in the shape of
    :class:`RegisteredModelOutputSerializer`, built without model instances or per-row field objects.

    The list and detail endpoints answer with this; the serializer stays the documented schema and renders what
    the writes return, and a test keeps the two equal field for field.
    """
    key = row["key"]
    validators = sorted(row["validator_people"] or [], key=lambda person: person[0])
    zone = answer_time_zone(context)
    links = detail_urls(
        context,
        key,
        "registeredmodel-detail",
        "registeredmodel-history",
        "registeredmodel-lineage",
        "inventory:model-detail",
    )
    return {
        "key": key,
        "name": row["name"],
        "purpose": row["purpose"],
        "restrictions_on_use": row["restrictions_on_use"],
        "inputs": row["inputs"],
        "outputs": row["outputs"],
        "limitations": row["limitations"],
        "model_type": row["model_type"],
        "vendor_name": row["vendor_name"],
        "lifecycle_stage": row["lifecycle_stage"],
        "business_unit": {"code": row["business_unit__code"], "name": row["business_unit__name"]},
        "business_owner": _person(
            row["business_owner__username"], row["business_owner__first_name"], row["business_owner__last_name"]
        ),
        "technical_owner": _person(
            row["technical_owner__username"], row["technical_owner__first_name"], row["technical_owner__last_name"]
        ),
        "validators": [_person(*person) for person in validators],
        "regulatory_uses": list(row["regulatory_uses"] or []),
        "data_sensitivity": row["data_sensitivity"],
        "risk_tier": row["risk_tier"],
        "eu_ai_act_category": row["eu_ai_act_category"],
        "last_validated_on": _date(row["last_validated_on"]),
        "next_validation_due": _date(row["next_validation_due"]),
        "tags": sorted(row["tag_names"] or []),
        "created_at": iso_datetime(row["created_at"], zone),
        "updated_at": iso_datetime(row["updated_at"], zone),
        "links": {
            "self": links[0],
            "history": links[1],
            "lineage": links[2],
            "versions": list_url(context, "modelversion-list", model=key),
            "web": links[3],
        },
    }


class RegisteredModelAsOfOutputSerializer(RegisteredModelOutputSerializer):
    """The same record rendered from a historical record, with validators and tags as they were at the time.

    The view hands it django-simple-history records with their many-to-many snapshots prefetched.
    """

    def validator_users(self, model: Any) -> list[User]:
        """The validators as they were, from the record's snapshot."""
        rows = getattr(model, history_m2m_accessor(RegisteredModel, "validators")).all()
        return sorted((row.user for row in rows if row.user is not None), key=lambda user: user.username)

    def tag_objects(self, model: Any) -> list[Any]:
        """The tags as they were, from the record's snapshot."""
        rows = getattr(model, history_m2m_accessor(RegisteredModel, "tags")).all()
        return sorted((row.tag for row in rows if row.tag is not None), key=lambda tag: tag.name)


class BusinessUnitLinksSerializer(serializers.Serializer):
    """Where to go from a business unit."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)
    models = serializers.URLField(read_only=True, help_text="Models of the unit and of every unit below it.")


class BusinessUnitOutputSerializer(serializers.Serializer):
    """A business unit and its place in the hierarchy."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    parent = UnitRefSerializer(read_only=True, allow_null=True)
    path = serializers.CharField(read_only=True, help_text="Codes from the top of the hierarchy, e.g. GROUP/RETAIL/.")
    depth = serializers.IntegerField(read_only=True)
    key_prefix = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    head = PersonSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(BusinessUnitLinksSerializer)
    def get_links(self, unit: BusinessUnit) -> dict[str, str]:
        """API links of the unit."""
        return {
            "self": detail_url(self.context, "businessunit-detail", unit.code),
            "history": detail_url(self.context, "businessunit-history", unit.code),
            "models": list_url(self.context, "registeredmodel-list", unit=unit.code),
        }


class ModelVersionLinksSerializer(serializers.Serializer):
    """Where to go from a version."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)
    model = serializers.URLField(read_only=True)


class ModelVersionOutputSerializer(serializers.Serializer):
    """A version of a model: what was built from what, and where it stands in the approval workflow."""

    id = serializers.IntegerField(read_only=True)
    model = ModelRefSerializer(read_only=True)
    version = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=VersionState.choices, read_only=True)
    artifact_digest = serializers.CharField(read_only=True)
    training_data_ref = serializers.CharField(read_only=True)
    metrics = serializers.DictField(child=serializers.FloatField(), read_only=True)
    created_by = PersonSerializer(read_only=True, allow_null=True)
    submitted_by = PersonSerializer(read_only=True, allow_null=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approved_by = PersonSerializer(read_only=True, allow_null=True)
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approval_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(ModelVersionLinksSerializer)
    def get_links(self, version: ModelVersion) -> dict[str, str]:
        """API links of the version and of its model."""
        return {
            "self": detail_url(self.context, "modelversion-detail", version.pk),
            "history": detail_url(self.context, "modelversion-history", version.pk),
            "model": detail_url(self.context, "registeredmodel-detail", version.model.key),
        }


class ModelDependencyLinksSerializer(serializers.Serializer):
    """Where to go from a dependency."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)


class ModelDependencyOutputSerializer(serializers.Serializer):
    """``downstream`` uses ``upstream``, and how."""

    id = serializers.IntegerField(read_only=True)
    upstream = ModelRefSerializer(read_only=True)
    downstream = ModelRefSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=DependencyKind.choices, read_only=True)
    description = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(ModelDependencyLinksSerializer)
    def get_links(self, dependency: ModelDependency) -> dict[str, str]:
        """API links of the dependency."""
        return {
            "self": detail_url(self.context, "modeldependency-detail", dependency.pk),
            "history": detail_url(self.context, "modeldependency-history", dependency.pk),
        }


class FieldChangeSerializer(serializers.Serializer):
    """One field's value before and after a change (display values for choices and references)."""

    field = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    old = serializers.JSONField(read_only=True, allow_null=True)
    new = serializers.JSONField(read_only=True, allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One change of an object: when, by whom, why, and what moved."""

    history_id = serializers.IntegerField(read_only=True)
    date = serializers.DateTimeField(read_only=True)
    type = serializers.ChoiceField(choices=["created", "changed", "deleted"], read_only=True)
    user = serializers.CharField(read_only=True, allow_null=True, help_text="Username of who made the change.")
    reason = serializers.CharField(read_only=True)
    changes = FieldChangeSerializer(many=True, read_only=True)


class LineageNodeSerializer(serializers.Serializer):
    """A model reached through dependencies, and how many hops away it is."""

    key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, read_only=True, allow_null=True)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, read_only=True)
    distance = serializers.IntegerField(read_only=True, help_text="1 for a direct dependency.")
    url = serializers.SerializerMethodField()

    def get_url(self, node: dict[str, Any]) -> str:
        """API URL of the model."""
        return detail_url(self.context, "registeredmodel-detail", node["key"])


class LineageSerializer(serializers.Serializer):
    """The models a model draws on (upstream) and the models that draw on it (downstream), the caller may see."""

    upstream = LineageNodeSerializer(many=True, read_only=True)
    downstream = LineageNodeSerializer(many=True, read_only=True)


# --- input -----------------------------------------------------------------------------------------------------


@extend_schema_field({"type": "object", "additionalProperties": {"type": "number"}})
class MetricsField(serializers.DictField):
    """Metrics by name; the service checks that every value is a finite number."""

    child = serializers.JSONField()


class RegisteredModelUpdateInput(InputSerializer):
    """Changes to a model's inventory record. The key never changes; the risk tier and the EU AI Act category
    follow from the approved risk assessment."""

    read_only_messages = {
        "key": "The key of a model never changes.",
        "risk_tier": "The risk tier follows from the approved risk assessment.",
        "eu_ai_act_category": "The EU AI Act category follows from the approved risk assessment.",
    }

    name = StrictCharField(max_length=200)
    purpose = StrictCharField(max_length=LONG_TEXT_MAX, help_text="The business purpose and intended use.")
    restrictions_on_use = long_text(help_text="Uses the model is not approved for.")
    inputs = long_text(help_text="Data inputs and their sources.")
    outputs = long_text(help_text="What the model produces and how the output is used.")
    limitations = long_text(help_text="Known limitations and weaknesses.")
    model_type = serializers.ChoiceField(choices=ModelType.choices)
    vendor_name = StrictCharField(
        required=False, allow_blank=True, max_length=200, help_text="Needed for vendor models."
    )
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, required=False)
    business_unit = VisibleSlugRelatedField(
        BusinessUnit, selector=business_unit_queryset, slug_field="code", help_text="Code of the business unit."
    )
    business_owner = VisibleSlugRelatedField(User, selector=user_queryset, slug_field="username")
    technical_owner = VisibleSlugRelatedField(User, selector=user_queryset, slug_field="username")
    validators = VisibleSlugRelatedField(  # type: ignore[assignment]
        User,
        selector=user_queryset,
        slug_field="username",
        many=True,
        required=False,
        help_text="Usernames of the assigned validators (replaces the list).",
    )
    regulatory_uses = serializers.ListField(
        child=serializers.ChoiceField(choices=RegulatoryUse.choices), required=False, max_length=len(RegulatoryUse)
    )
    data_sensitivity = serializers.ChoiceField(choices=DataSensitivity.choices, required=False)
    last_validated_on = serializers.DateField(required=False, allow_null=True)
    next_validation_due = serializers.DateField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=StrictCharField(max_length=50),
        required=False,
        max_length=50,
        help_text="Tag names (replaces the list); new tags are created, names are lower-cased.",
    )


class RegisteredModelCreateInput(RegisteredModelUpdateInput):
    """A model to register; without ``key`` the next key of the business unit's prefix is issued."""

    key = StrictCharField(
        required=False, max_length=20, help_text="e.g. CR-0042; leave out to have the next key of the unit issued."
    )


class BusinessUnitUpdateInput(InputSerializer):
    """Changes to a business unit; a new parent moves the unit with everything below it."""

    read_only_messages = {"code": "The code of a business unit never changes.", "path": "Follows from the parent."}

    name = StrictCharField(max_length=200)
    parent = VisibleSlugRelatedField(  # type: ignore[assignment]
        BusinessUnit,
        selector=business_unit_queryset,
        slug_field="code",
        required=False,
        allow_null=True,
        help_text="Code of the parent unit; null for a top-level unit.",
    )
    key_prefix = StrictCharField(
        required=False, allow_blank=True, max_length=8, help_text="Prefix of generated model keys, e.g. CR."
    )
    description = long_text()
    head = VisibleSlugRelatedField(User, selector=user_queryset, slug_field="username", required=False, allow_null=True)


class BusinessUnitCreateInput(BusinessUnitUpdateInput):
    """A business unit to add."""

    code = StrictCharField(max_length=30, help_text="Upper-case letters, digits, '-' or '_'; never changes.")


class ModelVersionUpdateInput(InputSerializer):
    """Changes to a version's description and evidence; its state moves only through the approval workflow."""

    read_only_messages = {
        "model": "A version cannot move to another model.",
        "version": "A version label never changes; register a new version.",
        "state": "The state moves only through the approval workflow.",
    }

    description = long_text()
    artifact_digest = StrictCharField(
        required=False, allow_blank=True, max_length=71, help_text="sha256:<64 hex digits> of the model artifact."
    )
    training_data_ref = StrictCharField(
        required=False, allow_blank=True, max_length=500, help_text="Where the training data lives."
    )
    metrics = MetricsField(
        required=False,
        help_text='Evaluation metrics by name, e.g. {"auc": 0.81}; values must be finite numbers.',
    )


class ModelVersionCreateInput(ModelVersionUpdateInput):
    """A draft version to add to a model the caller may change."""

    read_only_messages = {"state": "A new version starts as a draft; the approval workflow moves it."}

    model = VisibleSlugRelatedField(
        RegisteredModel, selector=registered_model_queryset, slug_field="key", help_text="Key of the model."
    )
    version = StrictCharField(max_length=50, help_text="Version label, e.g. 2.3.0.")


class ModelDependencyUpdateInput(InputSerializer):
    """Changes to how a dependency is described; to link other models, remove it and declare a new one."""

    read_only_messages = {
        "upstream": "Remove the dependency and declare a new one instead.",
        "downstream": "Remove the dependency and declare a new one instead.",
    }

    kind = serializers.ChoiceField(choices=DependencyKind.choices, required=False)
    description = long_text()


class ModelDependencyCreateInput(ModelDependencyUpdateInput):
    """``downstream`` uses ``upstream``; declared by someone who may change the downstream model."""

    upstream = VisibleSlugRelatedField(
        RegisteredModel, selector=registered_model_queryset, slug_field="key", help_text="Key of the model used."
    )
    downstream = VisibleSlugRelatedField(
        RegisteredModel, selector=registered_model_queryset, slug_field="key", help_text="Key of the model using it."
    )
