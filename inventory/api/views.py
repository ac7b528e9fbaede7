"""Inventory API v1: business units, models, versions, dependencies; their history, lineage and the past inventory.

Each viewset reads through the inventory's selectors (so what a user may not see is a 404), filters with the one
FilterSet the web pages use, and writes through the inventory's services.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.serializers import ReasonOnlyInputSerializer
from core.api.viewsets import PortalViewSet, PortalWriteViewSet
from core.models import User
from inventory import selectors, services
from inventory.api.pagination import CappedCountPagination
from inventory.api.serializers import (
    BusinessUnitCreateInput,
    BusinessUnitOutputSerializer,
    BusinessUnitUpdateInput,
    HistoryEntrySerializer,
    LineageSerializer,
    ModelDependencyCreateInput,
    ModelDependencyOutputSerializer,
    ModelDependencyUpdateInput,
    ModelVersionCreateInput,
    ModelVersionOutputSerializer,
    ModelVersionUpdateInput,
    RegisteredModelAsOfOutputSerializer,
    RegisteredModelCreateInput,
    RegisteredModelOutputSerializer,
    RegisteredModelUpdateInput,
    history_m2m_prefetch,
    registered_model_record,
)
from inventory.filtersets import (
    BusinessUnitFilterSet,
    ModelDependencyFilterSet,
    ModelVersionFilterSet,
    RegisteredModelFilterSet,
)
from inventory.models import BusinessUnit, ModelDependency, ModelVersion, RegisteredModel

# Filters that join through current many-to-many rows; on the past inventory they would match today's tags and
# validators against yesterday's records, so they are refused there rather than answered wrongly.
AS_OF_UNSUPPORTED_FILTERS = ("tag", "validator")

AS_OF_PARAMETER = OpenApiParameter(
    "as_of",
    OpenApiTypes.STR,
    description="The inventory as it stood at this point: a date (`2026-06-30`, meaning the end of that day) or "
    "an ISO 8601 date-time (`2026-06-30T12:00:00Z`). Combines with paging, ordering and the column filters; "
    f"not with {', '.join(AS_OF_UNSUPPORTED_FILTERS)}.",
    required=False,
)


AFTER_PARAMETER = OpenApiParameter(
    "after",
    OpenApiTypes.STR,
    description="Keyset paging: the rows whose key sorts after this key, in key order (`next` then carries the "
    "last key of the page; an empty `after=` starts at the first row). Costs the same at any depth, unlike a high "
    "`page`; for walking the whole inventory. "
    "Not with `page`, `as_of` or an `ordering` other than `key`.",
    required=False,
)


def parse_as_of(value: str) -> datetime:
    """The point in time an ``as_of`` parameter names; a date means the end of that day in the portal's time zone.

    Raises a 400 naming ``as_of`` when the value is neither a date nor a date-time.
    """
    message = "Give a date (2026-06-30) or an ISO 8601 date-time (2026-06-30T12:00:00Z)."
    value = value.strip()
    try:
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError:
        raise serializers.ValidationError({"as_of": [message]}) from None
    if day is not None:
        return timezone.make_aware(datetime.combine(day, time.max))
    if moment is None:
        raise serializers.ValidationError({"as_of": [message]})
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class HistoryMixin(PortalViewSet):
    """``GET .../{lookup}/history/``: the object's field history, newest first, paginated."""

    @extend_schema(
        summary="Field history",
        description="Every change of the object, newest first: when, by whom, why, and each field's old and new value.",
        # 400: a page or page size that is not a number.
        responses={200: HistoryEntrySerializer(many=True), **schema.error_responses(400, *schema.DETAIL_ERRORS)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The object's field history (404 when the caller may not see the object)."""
        entries = selectors.object_history(obj=self.get_object())
        # DRF's paginator pages any sequence; its stubs only name querysets.
        page: list[Any] | None = self.paginate_queryset(entries)  # type: ignore[arg-type]
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)


_MODEL_FILTERS_DOC = (
    "Filters: `q` (key, name, owner's username or surname), `unit` (a unit code: that unit and every unit below "
    "it), `owner` (username: business or technical owner), `validator`, `model_type`, `stage`, `tier`, "
    "`eu_ai_act_category` (each repeatable), `tag`, `validation_overdue`; `ordering` by key, name, tier, stage, "
    "next_validation_due or updated (prefix `-` to reverse)."
)


@extend_schema_view(
    list=extend_schema(
        summary="List models",
        description="The models the caller may see. " + _MODEL_FILTERS_DOC + " With `as_of`, the inventory as it "
        "stood then (each model the caller may see now, with its fields, validators and tags as they were).",
        parameters=[AS_OF_PARAMETER, AFTER_PARAMETER],
        responses={200: RegisteredModelOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One model by key",
        responses={200: RegisteredModelOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Register a model",
        description="A Model Owner must be the business or technical owner of what they register.",
        request=RegisteredModelCreateInput,
        responses={
            201: RegisteredModelOutputSerializer,
            **schema.error_responses(
                *schema.WRITE_ERRORS, example={"business_unit": ["Business unit NOPE does not exist."]}
            ),
        },
    ),
    update=extend_schema(
        summary="Change a model (all required fields given)",
        request=RegisteredModelUpdateInput,
        responses={200: RegisteredModelOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a model",
        request=RegisteredModelUpdateInput,
        responses={200: RegisteredModelOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
)
class RegisteredModelViewSet(HistoryMixin, PortalWriteViewSet):
    """The model inventory, looked up by key (``CR-0042``)."""

    lookup_field = "key"
    filterset_class = RegisteredModelFilterSet
    output_serializer_class = RegisteredModelOutputSerializer
    create_input_class = RegisteredModelCreateInput
    update_input_class = RegisteredModelUpdateInput

    pagination_class = CappedCountPagination

    def get_queryset(self) -> QuerySet[RegisteredModel]:
        """Rows the caller may see, from the inventory's selector (writes and the detail actions read these)."""
        # The record shows the validators, which the list selector leaves out: one more query per page.
        return selectors.registered_model_queryset(user=self.request.user).prefetch_related(
            Prefetch("validators", queryset=User.objects.only("id", "username", "first_name", "last_name"))
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The inventory now, or as it stood at ``as_of``.

        The page is read as plain rows (:func:`inventory.selectors.registered_model_records`): one query with
        unit, owners, tags and validators in it, plus a capped count when the page does not tell the total.
        """
        if "as_of" in request.query_params:
            return self.list_as_of(request, parse_as_of(request.query_params["as_of"]))
        queryset = self.filter_queryset(selectors.registered_model_filter_base(user=request.user))
        paginator = self.paginator
        assert isinstance(paginator, CappedCountPagination)
        rows = paginator.paginate_rows(
            queryset,
            request,
            lambda rows, offset, limit, count_up_to: selectors.registered_model_records(
                rows, offset=offset, limit=limit, count_up_to=count_up_to
            ),
            keyset=True,
        )
        context = self.get_serializer_context()
        return paginator.get_paginated_response([registered_model_record(row, context) for row in rows])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One model's record, in one query (404 when the caller may not see it)."""
        visible = selectors.registered_model_filter_base(user=request.user).filter(key=kwargs[self.lookup_field])
        rows, _ = selectors.registered_model_records(visible)
        if not rows:
            raise Http404(f"No model {kwargs[self.lookup_field]} visible to you.")
        return Response(registered_model_record(rows[0], self.get_serializer_context()))

    def list_as_of(self, request: Request, when: datetime) -> Response:
        """The past inventory, filtered by the same FilterSet over the historical records."""
        refused = {
            name: ["Cannot be combined with as_of."]
            for name in (*AS_OF_UNSUPPORTED_FILTERS, "after")
            if name in request.query_params
        }
        if refused:
            raise serializers.ValidationError(refused)
        filterset = RegisteredModelFilterSet(
            data=request.query_params, queryset=selectors.registered_models_as_of(user=request.user, when=when)
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        queryset = filterset.qs.select_related("business_unit", "business_owner", "technical_owner").prefetch_related(
            history_m2m_prefetch(RegisteredModel, "tags"), history_m2m_prefetch(RegisteredModel, "validators")
        )
        paginator = self.paginator
        assert isinstance(paginator, CappedCountPagination)
        page = paginator.paginate_rows(
            filterset.qs, request, lambda _, offset, limit, count_up_to: (list(queryset[offset : offset + limit]), None)
        )
        # The rows come back as model instances rebuilt from history; each keeps its historical record, which
        # carries the loaded owners, unit and many-to-many snapshot.
        records = [instance._history for instance in page]
        data = RegisteredModelAsOfOutputSerializer(records, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)

    def check_create_permission(self) -> None:
        """Who may register models at all; whom a Model Owner may name as owner is checked with the body."""
        services.require_registered_model_create(self.actor)

    def check_update_permission(self, instance: RegisteredModel) -> None:
        """The update service's own check, before the body is read."""
        services.require_registered_model_update(self.actor, instance)

    def service_create(self, *, data: dict[str, Any], reason: str) -> RegisteredModel:
        """Create through the inventory's service."""
        return services.registered_model_create(actor=self.actor, reason=reason, **data)

    def service_update(self, *, instance: RegisteredModel, changes: dict[str, Any], reason: str) -> RegisteredModel:
        """Change through the inventory's service."""
        return services.registered_model_update(actor=self.actor, model=instance, changes=changes, reason=reason)

    @extend_schema(
        summary="Lineage",
        description="Models upstream (used by this one) and downstream (using it), transitively, with their "
        "distance in hops; only models the caller may see are listed.",
        responses={200: LineageSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def lineage(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upstream and downstream models of this one."""
        lineage = selectors.model_lineage(user=request.user, model=self.get_object())
        return Response(LineageSerializer(lineage, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(
        summary="List business units",
        description="Filters: `q` (code or name), `within` (a unit code: that unit and everything below it).",
        responses={200: BusinessUnitOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One business unit by code",
        responses={200: BusinessUnitOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Add a business unit",
        request=BusinessUnitCreateInput,
        responses={201: BusinessUnitOutputSerializer, **schema.error_responses(*schema.WRITE_ERRORS)},
    ),
    update=extend_schema(
        summary="Change a business unit (all required fields given)",
        request=BusinessUnitUpdateInput,
        responses={200: BusinessUnitOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a business unit",
        request=BusinessUnitUpdateInput,
        responses={200: BusinessUnitOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
)
class BusinessUnitViewSet(HistoryMixin, PortalWriteViewSet):
    """The organisation's business units, looked up by code."""

    lookup_field = "code"
    filterset_class = BusinessUnitFilterSet
    output_serializer_class = BusinessUnitOutputSerializer
    create_input_class = BusinessUnitCreateInput
    update_input_class = BusinessUnitUpdateInput

    def get_queryset(self) -> QuerySet[BusinessUnit]:
        """Rows the caller may see, from the inventory's selector."""
        return selectors.business_unit_queryset(user=self.request.user)

    def check_create_permission(self) -> None:
        """The create service's own check, before the body is read."""
        services.require_business_unit_create(self.actor)

    def check_update_permission(self, instance: BusinessUnit) -> None:
        """The update service's own check, before the body is read."""
        services.require_business_unit_update(self.actor, instance)

    def service_create(self, *, data: dict[str, Any], reason: str) -> BusinessUnit:
        """Create through the inventory's service."""
        return services.business_unit_create(actor=self.actor, reason=reason, **data)

    def service_update(self, *, instance: BusinessUnit, changes: dict[str, Any], reason: str) -> BusinessUnit:
        """Change through the inventory's service."""
        return services.business_unit_update(actor=self.actor, unit=instance, changes=changes, reason=reason)


@extend_schema_view(
    list=extend_schema(
        summary="List versions",
        description="Versions of the models the caller may see. Filters: `model` (a model key), `state` "
        "(repeatable); `ordering` by created or version.",
        responses={200: ModelVersionOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One version",
        responses={200: ModelVersionOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Add a draft version to a model",
        request=ModelVersionCreateInput,
        responses={201: ModelVersionOutputSerializer, **schema.error_responses(*schema.WRITE_ERRORS)},
    ),
    update=extend_schema(
        summary="Change a version's description and evidence",
        request=ModelVersionUpdateInput,
        responses={200: ModelVersionOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change some of a version's description and evidence",
        request=ModelVersionUpdateInput,
        responses={200: ModelVersionOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
)
class ModelVersionViewSet(HistoryMixin, PortalWriteViewSet):
    """Versions of models, looked up by id."""

    filterset_class = ModelVersionFilterSet
    output_serializer_class = ModelVersionOutputSerializer
    create_input_class = ModelVersionCreateInput
    update_input_class = ModelVersionUpdateInput

    def get_queryset(self) -> QuerySet[ModelVersion]:
        """Rows the caller may see, from the inventory's selector."""
        return selectors.model_version_queryset(user=self.request.user)

    # Creating names the model in the body: the create service decides, once the body is valid.

    def check_update_permission(self, instance: ModelVersion) -> None:
        """The update service's own check, before the body is read."""
        services.require_model_version_update(self.actor, instance)

    def service_create(self, *, data: dict[str, Any], reason: str) -> ModelVersion:
        """Create through the inventory's service."""
        return services.model_version_create(actor=self.actor, reason=reason, **data)

    def service_update(self, *, instance: ModelVersion, changes: dict[str, Any], reason: str) -> ModelVersion:
        """Change through the inventory's service."""
        return services.model_version_update(actor=self.actor, version=instance, changes=changes, reason=reason)


@extend_schema_view(
    list=extend_schema(
        summary="List dependencies",
        description="Dependencies between models the caller may see. Filters: `model` (a key, either side), "
        "`upstream`, `downstream` (keys), `kind`.",
        responses={200: ModelDependencyOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One dependency",
        responses={200: ModelDependencyOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Declare that a model uses another",
        request=ModelDependencyCreateInput,
        responses={201: ModelDependencyOutputSerializer, **schema.error_responses(*schema.WRITE_ERRORS)},
    ),
    update=extend_schema(
        summary="Change how a dependency is described",
        request=ModelDependencyUpdateInput,
        responses={200: ModelDependencyOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change some of how a dependency is described",
        request=ModelDependencyUpdateInput,
        responses={200: ModelDependencyOutputSerializer, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
    destroy=extend_schema(
        summary="Remove a dependency",
        description='The optional body `{"change_reason": "..."}` is kept in the dependency\'s history.',
        request=ReasonOnlyInputSerializer,
        responses={204: None, **schema.error_responses(*schema.CHANGE_ERRORS)},
    ),
)
class ModelDependencyViewSet(HistoryMixin, PortalWriteViewSet):
    """Dependencies between models (``downstream`` uses ``upstream``), looked up by id."""

    filterset_class = ModelDependencyFilterSet
    output_serializer_class = ModelDependencyOutputSerializer
    create_input_class = ModelDependencyCreateInput
    update_input_class = ModelDependencyUpdateInput

    def get_queryset(self) -> QuerySet[ModelDependency]:
        """Rows the caller may see, from the inventory's selector."""
        return selectors.model_dependency_queryset(user=self.request.user)

    # Declaring names both models in the body: the create service decides, once the body is valid.

    def check_update_permission(self, instance: ModelDependency) -> None:
        """The update service's own check, before the body is read."""
        services.require_model_dependency_update(self.actor, instance)

    def service_create(self, *, data: dict[str, Any], reason: str) -> ModelDependency:
        """Create through the inventory's service."""
        return services.model_dependency_create(actor=self.actor, reason=reason, **data)

    def service_update(self, *, instance: ModelDependency, changes: dict[str, Any], reason: str) -> ModelDependency:
        """Change through the inventory's service."""
        return services.model_dependency_update(actor=self.actor, dependency=instance, changes=changes, reason=reason)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Remove the dependency through the service (403 before the body is read when the caller sees it but may
        not remove it); its history keeps the record."""
        dependency = self.get_object()
        services.require_model_dependency_delete(self.actor, dependency)
        reason = self.read_input(ReasonOnlyInputSerializer).get("change_reason", "")
        services.model_dependency_delete(actor=self.actor, dependency=dependency, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)
