"""API of the MLflow triage: models found in a tracking server, and the Risk Officer's decisions on them.

``/api/v1/external-models/`` lists what the MLflow sync recorded (roles that read the whole inventory: Risk
Officers, Auditors, Admins; anyone else sees nothing, so a record is a 404 to them). ``link``, ``ignore`` and
``register`` call the triage services, which only Risk Officers and Admins pass: an Auditor who sees a record
gets a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.serializers import (
    InputSerializer,
    ReasonOnlyInputSerializer,
    StrictCharField,
    VisibleSlugRelatedField,
    detail_url,
)
from core.api.viewsets import PortalReadOnlyViewSet
from core.models import User
from core.selectors import user_queryset
from inventory.api.serializers import ModelRefSerializer, RegisteredModelOutputSerializer
from inventory.choices import ExternalModelStatus, ModelType
from inventory.filtersets import ExternalRegistryModelFilterSet
from inventory.models import BusinessUnit, ExternalRegistryModel, RegisteredModel
from inventory.selectors import business_unit_queryset, external_model_queryset, registered_model_queryset
from inventory.services.mlflow import external_model_ignore, external_model_link, external_model_register
from inventory.validators import LONG_TEXT_MAX

# --- output ----------------------------------------------------------------------------------------------------


class ExternalVersionSerializer(serializers.Serializer):
    """A version as the triage record keeps it (MLflow's latest version of each stage)."""

    version = serializers.CharField(read_only=True, help_text="MLflow's version number.")
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text="The portal version label it maps to."
    )
    stage = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    run_id = serializers.CharField(read_only=True)
    source = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text="Where MLflow stores the model."
    )
    digest = serializers.CharField(read_only=True, help_text="From the version's sha256 tag; empty without one.")


class ExternalModelLinksSerializer(serializers.Serializer):
    """Where to go from a triage record."""

    self = serializers.URLField(read_only=True)
    model = serializers.URLField(read_only=True, allow_null=True, help_text="The linked inventory model, if any.")


class ExternalModelOutputSerializer(serializers.Serializer):
    """A registered model found in MLflow, its triage status and the inventory model it feeds (when linked)."""

    id = serializers.IntegerField(read_only=True)
    # Declared fields live in the field map, so the name may shadow DRF Field's ``source`` attribute.
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]
    tracking_uri = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True, help_text="The registered model's name in MLflow.")
    description = serializers.CharField(read_only=True)
    tags = serializers.DictField(child=serializers.CharField(), read_only=True)
    latest_versions = ExternalVersionSerializer(many=True, read_only=True)
    owner_hint = serializers.CharField(read_only=True, help_text="The owners MLflow's tags name.")
    status = serializers.ChoiceField(choices=ExternalModelStatus.choices, read_only=True)
    registered_model = ModelRefSerializer(read_only=True, allow_null=True)
    first_seen_at = serializers.DateTimeField(read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True, help_text="The last sync that found it in MLflow.")
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(ExternalModelLinksSerializer)
    def get_links(self, record: ExternalRegistryModel) -> dict[str, str | None]:
        """API links of the record and of its linked model."""
        model = record.registered_model
        return {
            "self": detail_url(self.context, "externalmodel-detail", record.pk),
            "model": detail_url(self.context, "registeredmodel-detail", model.key) if model else None,
        }


# --- input -----------------------------------------------------------------------------------------------------


class ExternalModelLinkInput(InputSerializer):
    """The inventory model an MLflow model feeds."""

    model = VisibleSlugRelatedField(
        RegisteredModel, selector=registered_model_queryset, slug_field="key", help_text="Key of the inventory model."
    )


class ExternalModelIgnoreInput(ReasonOnlyInputSerializer):
    """Why the MLflow model is not governed (required)."""


class ExternalModelRegisterInput(InputSerializer):
    """The inventory record to create from an MLflow model; what is left out comes from MLflow."""

    business_unit = VisibleSlugRelatedField(
        BusinessUnit, selector=business_unit_queryset, slug_field="code", help_text="Code of the business unit."
    )
    name = StrictCharField(required=False, max_length=200, help_text="Default: the model's name in MLflow.")
    purpose = StrictCharField(
        required=False, max_length=LONG_TEXT_MAX, help_text="Default: the model's description in MLflow."
    )
    model_type = serializers.ChoiceField(choices=ModelType.choices, required=False)
    business_owner = VisibleSlugRelatedField(
        User,
        selector=user_queryset,
        slug_field="username",
        required=False,
        help_text="Default: the person MLflow's portal.business_owner (or owner) tag names.",
    )
    technical_owner = VisibleSlugRelatedField(
        User,
        selector=user_queryset,
        slug_field="username",
        required=False,
        help_text="Default: the person MLflow's portal.technical_owner (or owner) tag names.",
    )
    key = StrictCharField(
        required=False, max_length=20, help_text="e.g. CR-0042; leave out to have the next key of the unit issued."
    )


# --- viewset ---------------------------------------------------------------------------------------------------

_TRIAGE_ERRORS = (400, 401, 403, 404)


@extend_schema_view(
    list=extend_schema(
        summary="List models found in MLflow",
        description="Registered models the MLflow sync found, for triage. Risk Officers, Auditors and Admins. "
        "Filters: `q` (name, description, owner), `status` (repeatable: unregistered, linked, ignored), "
        "`tracking_uri`, `model` (linked model's key); `ordering` by name, last_seen or first_seen.",
        responses={200: ExternalModelOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One model found in MLflow",
        responses={200: ExternalModelOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
)
class ExternalModelViewSet(PortalReadOnlyViewSet):
    """Models found in MLflow tracking servers, looked up by id, with the triage actions."""

    filterset_class = ExternalRegistryModelFilterSet
    output_serializer_class = ExternalModelOutputSerializer

    def get_queryset(self) -> QuerySet[ExternalRegistryModel]:
        """Records the caller may see."""
        return external_model_queryset(user=self.request.user)

    def _answer(self, record: ExternalRegistryModel) -> Response:
        return Response(self.output(self.reload(record)))

    @extend_schema(
        summary="Link to an inventory model",
        description="Later syncs import the MLflow model's versions and runs into the inventory model, and the "
        "`mlflow-sync` service account is granted reporting on it. Risk Officers and Admins.",
        request=ExternalModelLinkInput,
        responses={
            200: ExternalModelOutputSerializer,
            **schema.error_responses(*_TRIAGE_ERRORS, example={"model": ["Registered model CR-9999 does not exist."]}),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def link(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Link the record the caller can see to a model the caller can see."""
        record = self.get_object()
        data = self.read_input(ExternalModelLinkInput)
        record = external_model_link(
            actor=self.actor, record=record, model=data["model"], reason=data.get("change_reason", "")
        )
        return self._answer(record)

    @extend_schema(
        summary="Mark as not governed",
        description="Syncs keep recording the model but import nothing from it. `change_reason` is required. "
        "Risk Officers and Admins.",
        request=ExternalModelIgnoreInput,
        responses={
            200: ExternalModelOutputSerializer,
            **schema.error_responses(
                *_TRIAGE_ERRORS, example={"change_reason": ["Say why this MLflow model is not governed."]}
            ),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def ignore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ignore the record the caller can see."""
        record = self.get_object()
        data = self.read_input(ExternalModelIgnoreInput)
        record = external_model_ignore(actor=self.actor, record=record, reason=data.get("change_reason", ""))
        return self._answer(record)

    @extend_schema(
        summary="Register in the inventory",
        description="Creates the inventory model (name, purpose and owners default to what MLflow says; an owner "
        "MLflow names who is not a portal user must be chosen) and links the record to it. Risk Officers and Admins.",
        request=ExternalModelRegisterInput,
        responses={
            201: RegisteredModelOutputSerializer,
            **schema.error_responses(
                *_TRIAGE_ERRORS,
                example={"technical_owner": ["MLflow names 'ghost.user', who is not a portal user: choose the owner."]},
            ),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def register(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register the model and answer with its inventory record."""
        record = self.get_object()
        data = self.read_input(ExternalModelRegisterInput)
        reason = data.pop("change_reason", "")
        model = external_model_register(actor=self.actor, record=record, reason=reason, **data)
        context = self.get_serializer_context()
        shown = registered_model_queryset(user=self.actor).filter(pk=model.pk).first() or model
        return Response(
            RegisteredModelOutputSerializer(shown, context=context).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": detail_url(context, "registeredmodel-detail", model.key)},
        )
