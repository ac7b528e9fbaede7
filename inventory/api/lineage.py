"""Lineage API v1: a model's whole chain as JSON with its drawn graph, and "what runs where".

``GET /api/v1/lineage/{key}/``: business unit → owners → model → versions → artifacts and deployments, the
upstream/downstream models the caller may see, and the laid-out graph the lineage page draws.
``GET /api/v1/runs-where/``: for every (model, environment) the caller may see, the deployment reported last and
whether it matches the version's approval now. Both read through the inventory's selectors, so a model the
caller may not see is a 404 (lineage) or absent (runs-where).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from core.api import schema
from core.api.serializers import detail_url, list_url
from core.api.viewsets import PortalViewSet
from inventory import selectors
from inventory.api.serializers import LineageNodeSerializer
from inventory.choices import ArtifactKind, DeploymentStatus, LifecycleStage, ModelType, RiskTier, VersionState
from inventory.filtersets import RunsWhereFilterSet
from inventory.lineage_graph import build_graph
from inventory.models import Deployment

MISMATCH_CHOICES = list(selectors.MismatchReason.MESSAGES)


def parse_versions(raw: str | None) -> int:
    """The ``versions`` parameter: how many of the newest versions to include; a 400 naming it when invalid."""
    if raw is None or not raw.strip():
        return selectors.LINEAGE_VERSIONS_DEFAULT
    message = f"Give a whole number from 1 to {selectors.LINEAGE_VERSIONS_MAX}."
    try:
        value = int(raw)
    except ValueError:
        raise serializers.ValidationError({"versions": [message]}) from None
    if not 1 <= value <= selectors.LINEAGE_VERSIONS_MAX:
        raise serializers.ValidationError({"versions": [message]})
    return value


# --- output ------------------------------------------------------------------------------------------------------


class LineageModelSerializer(serializers.Serializer):
    """The model at the centre of the lineage."""

    key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    model_type = serializers.ChoiceField(choices=ModelType.choices, read_only=True)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, read_only=True)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, read_only=True, allow_null=True)


class LineageUnitSerializer(serializers.Serializer):
    """The business unit that owns the model; ``path`` is its chain of codes from the root."""

    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    path = serializers.CharField(read_only=True)


class LineagePersonSerializer(serializers.Serializer):
    """An owner of the model."""

    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)


class LineageArtifactSerializer(serializers.Serializer):
    """One artifact of a version."""

    identity = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    uri = serializers.CharField(read_only=True)
    digest = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class LineageArtifactGroupSerializer(serializers.Serializer):
    """A version's artifacts of one kind: how many there are and the newest few."""

    kind = serializers.ChoiceField(choices=ArtifactKind.choices, read_only=True)
    kind_label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True, help_text="All artifacts of this kind, listed or not.")
    shown = LineageArtifactSerializer(
        many=True, read_only=True, help_text=f"The newest {selectors.LINEAGE_ARTIFACTS_PER_KIND}."
    )


class DeploymentStateSerializer(serializers.Serializer):
    """A deployment and whether its digest matches the version's approval now."""

    id = serializers.IntegerField(read_only=True)
    environment = serializers.CharField(read_only=True)
    target = serializers.CharField(read_only=True)
    version = serializers.CharField(read_only=True, help_text="The deployed version's label.")
    digest = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=DeploymentStatus.choices, read_only=True)
    deployed_at = serializers.DateTimeField(read_only=True)
    reported_by = serializers.CharField(read_only=True, allow_null=True)
    matches_approval = serializers.BooleanField(
        read_only=True, help_text="Judged now: the approval may have expired or been withdrawn since the report."
    )
    mismatch_reason = serializers.ChoiceField(choices=MISMATCH_CHOICES, read_only=True, allow_null=True)
    matched_when_reported = serializers.BooleanField(read_only=True)


class VersionDeploymentSerializer(DeploymentStateSerializer):
    """A version's latest deployment to an environment; ``running_now`` is false once another replaced it."""

    running_now = serializers.BooleanField(read_only=True)


class LineageVersionSerializer(serializers.Serializer):
    """A version with its evidence and deployments."""

    id = serializers.IntegerField(read_only=True)
    version = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=VersionState.choices, read_only=True)
    artifact_digest = serializers.CharField(read_only=True)
    approved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approved_by = serializers.CharField(read_only=True, allow_null=True)
    approval_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approval_status = serializers.ChoiceField(choices=["approved", "expired", "not_approved"], read_only=True)
    artifacts = LineageArtifactGroupSerializer(many=True, read_only=True)
    deployments = VersionDeploymentSerializer(many=True, read_only=True)


class DependencyLinkSerializer(serializers.Serializer):
    """``downstream`` uses ``upstream``; only links between models the caller may see."""

    upstream = serializers.CharField(read_only=True)
    downstream = serializers.CharField(read_only=True)


class GraphNodeSerializer(serializers.Serializer):
    """A box of the drawn graph with its position (SVG user units, origin top left)."""

    id = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    # A field named like DRF's own Field attributes (label, source) is fine at run time; the stubs object.
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    sublabel = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    column = serializers.IntegerField(read_only=True)
    x = serializers.FloatField(read_only=True)
    y = serializers.FloatField(read_only=True)
    width = serializers.FloatField(read_only=True)
    height = serializers.FloatField(read_only=True)


class GraphEdgeSerializer(serializers.Serializer):
    """A line between two boxes; ``path`` is SVG path data."""

    source = serializers.CharField(read_only=True)  # type: ignore[assignment]
    target = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    indirect = serializers.BooleanField(read_only=True)
    path = serializers.CharField(read_only=True)


class GraphColumnSerializer(serializers.Serializer):
    """A column heading of the drawn graph."""

    title = serializers.CharField(read_only=True)
    x = serializers.FloatField(read_only=True)


class GraphSerializer(serializers.Serializer):
    """The laid-out graph, left to right."""

    nodes = GraphNodeSerializer(many=True, read_only=True)
    edges = GraphEdgeSerializer(many=True, read_only=True)
    columns = GraphColumnSerializer(many=True, read_only=True)
    width = serializers.FloatField(read_only=True)
    height = serializers.FloatField(read_only=True)


class ModelLineageSerializer(serializers.Serializer):
    """Everything behind one model, from its business unit to what runs in each environment."""

    model = LineageModelSerializer(read_only=True)
    business_unit = LineageUnitSerializer(read_only=True)
    business_owner = LineagePersonSerializer(read_only=True)
    technical_owner = LineagePersonSerializer(read_only=True)
    versions = LineageVersionSerializer(many=True, read_only=True, help_text="The newest versions, newest first.")
    versions_total = serializers.IntegerField(read_only=True)
    versions_shown = serializers.IntegerField(read_only=True)
    versions_hidden = serializers.IntegerField(read_only=True, help_text="Older versions left out; see `versions`.")
    running = DeploymentStateSerializer(many=True, read_only=True, help_text="What runs in each environment now.")
    upstream = LineageNodeSerializer(many=True, read_only=True)
    downstream = LineageNodeSerializer(many=True, read_only=True)
    dependencies = DependencyLinkSerializer(many=True, read_only=True)
    graph = GraphSerializer(read_only=True)


class RunsWhereSerializer(serializers.ModelSerializer):
    """What runs in one environment for one model: the deployment reported last, judged against the approval now."""

    model = serializers.CharField(source="version.model.key", read_only=True)
    model_name = serializers.CharField(source="version.model.name", read_only=True)
    unit = serializers.CharField(source="version.model.business_unit.code", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    version_state = serializers.ChoiceField(source="version.state", choices=VersionState.choices, read_only=True)
    approval_expires_at = serializers.DateTimeField(source="version.approval_expires_at", read_only=True)
    deployed_by = serializers.SerializerMethodField()
    matches_approval = serializers.BooleanField(
        source="matches_now", read_only=True, help_text="Judged now, not when the deployment was reported."
    )
    mismatch_reason = serializers.SerializerMethodField()
    matched_when_reported = serializers.BooleanField(source="matches_approval", read_only=True)
    model_url = serializers.SerializerMethodField()
    lineage_url = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "model",
            "model_name",
            "unit",
            "environment",
            "target",
            "version",
            "version_state",
            "digest",
            "status",
            "deployed_at",
            "deployed_by",
            "matches_approval",
            "mismatch_reason",
            "matched_when_reported",
            "approval_expires_at",
            "decision_id",
            "model_url",
            "lineage_url",
        ]
        read_only_fields = fields

    def get_deployed_by(self, deployment: Deployment) -> str | None:
        """Username of the account that reported the deployment."""
        return deployment.reported_by.username if deployment.reported_by else None

    @extend_schema_field(serializers.ChoiceField(choices=MISMATCH_CHOICES, allow_null=True))
    def get_mismatch_reason(self, deployment: Deployment) -> str | None:
        """Why it does not match (``not_approved``, ``approval_expired``, ``digest_mismatch``), or null."""
        return selectors.mismatch_reason(deployment)

    def get_model_url(self, deployment: Deployment) -> str:
        """API URL of the model."""
        return detail_url(self.context, "registeredmodel-detail", deployment.version.model.key)

    def get_lineage_url(self, deployment: Deployment) -> str:
        """API URL of the model's lineage."""
        return detail_url(self.context, "lineage-detail", deployment.version.model.key)


# --- views -------------------------------------------------------------------------------------------------------

VERSIONS_PARAMETER = OpenApiParameter(
    "versions",
    OpenApiTypes.INT,
    description=f"How many of the newest versions to include, 1 to {selectors.LINEAGE_VERSIONS_MAX} "
    f"(default {selectors.LINEAGE_VERSIONS_DEFAULT}); `versions_hidden` counts the others.",
    required=False,
)


@extend_schema_view(
    retrieve=extend_schema(
        summary="A model's lineage",
        description="The chain business unit → business owner and technical owner → model → its newest versions → "
        "their artifacts (by kind, the newest "
        f"{selectors.LINEAGE_ARTIFACTS_PER_KIND} of each listed, all counted) and deployments (each with whether "
        "its digest matches the approval now), what runs in each environment, the upstream and downstream models "
        "the caller may see with the links between them, and the laid-out graph (`graph`) the lineage page draws. "
        "A model reached only through models the caller may not see has no link and is drawn with an indirect edge.",
        parameters=[VERSIONS_PARAMETER],
        responses={200: ModelLineageSerializer, **schema.error_responses(400, *schema.DETAIL_ERRORS)},
    ),
)
class LineageViewSet(PortalViewSet):
    """Lineage of one model, looked up by key."""

    output_serializer_class = ModelLineageSerializer
    lookup_field = "key"
    filter_backends: list[Any] = []
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        """Models the caller may see (the schema generator reads the model from it)."""
        return selectors.registered_model_queryset(user=self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The lineage of the model (404 when the caller may not see it)."""
        max_versions = parse_versions(request.query_params.get("versions"))
        chain = selectors.model_lineage_chain(user=request.user, key=kwargs["key"], max_versions=max_versions)
        context = self.get_serializer_context()
        graph = build_graph(
            chain,
            model_url=lambda key: detail_url(context, "lineage-detail", key),
            environment_url=lambda key, environment: list_url(
                context, "runs-where-list", model=key, environment=environment
            ),
            more_versions_url=detail_url(context, "lineage-detail", chain["model"]["key"])
            + f"?versions={selectors.LINEAGE_VERSIONS_MAX}",
        )
        for direction in ("upstream", "downstream"):
            for row in chain[direction]:
                row["url"] = detail_url(context, "registeredmodel-detail", row["key"])
        return Response(ModelLineageSerializer({**chain, "graph": graph.as_dict()}, context=context).data)


@extend_schema_view(
    list=extend_schema(
        summary="What runs where",
        description="For every (model, environment) the caller may see, the deployment reported last (a failed or "
        "rolled-back report leaves the previous one running; a decommission removes the row), with the version, "
        "digest, when and by whom, and whether the digest matches the version's approval **now** "
        "(`matches_approval`; `mismatch_reason` says why not). Ordered by model key and environment. Filters: "
        "`model` (key), `environment`, `unit` (a unit code: that unit and every unit below it), `mismatch` "
        "(true: only deployments that do not match).",
        responses={200: RunsWhereSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
)
class RunsWhereViewSet(mixins.ListModelMixin, PortalViewSet):
    """What runs in each environment, from the latest deployment reports."""

    output_serializer_class = RunsWhereSerializer
    filterset_class = RunsWhereFilterSet

    def get_queryset(self) -> QuerySet[Deployment]:
        """The latest deployment per model and environment the caller may see."""
        return selectors.runs_where_queryset(user=self.request.user)


def register(router: BaseRouter) -> None:
    """Register the lineage and runs-where endpoints on the API router."""
    router.register("lineage", LineageViewSet, basename="lineage")
    router.register("runs-where", RunsWhereViewSet, basename="runs-where")
