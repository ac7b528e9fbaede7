"""Artifacts and deployments API v1: what pipelines report, and the record of it.

``POST /api/v1/artifacts/`` takes one artifact (its ``kind`` and that kind's fields, see
``inventory.artifact_kinds``), ``POST /api/v1/artifacts/batch/`` up to 100 of one version, all or nothing, and
``POST /api/v1/deployments/`` a deployment. The body names the version by model key and version label. A new
record answers 201, a report of something already recorded 200; both carry the canonical identity, the
``created`` flag and links. Reads list what the caller may see, filtered by the FilterSets the web pages use.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.exceptions import validation_error_detail
from core.api.serializers import InputSerializer, PersonSerializer, StrictCharField, detail_url
from core.api.viewsets import PortalReadOnlyViewSet
from core.permissions import restrict
from inventory import artifact_kinds
from inventory.api.serializers import ModelRefSerializer
from inventory.api.views import HistoryMixin
from inventory.choices import ArtifactKind, DeploymentStatus
from inventory.filtersets import ArtifactFilterSet, DeploymentFilterSet
from inventory.models import Artifact, Deployment, ModelVersion
from inventory.services import artifacts as services

# The fields of a report body that say where it goes; every other field belongs to the artifact's kind.
ENVELOPE_FIELDS = ("model", "version", "create_version", "kind", "change_reason")
REPORT_ERRORS = (400, 401, 403, 404)


def artifact_queryset(*, user: Any) -> QuerySet[Artifact]:
    """Artifacts of the versions the user may see, with what a page shows loaded up front."""
    return restrict(user, "view", Artifact.objects.all()).select_related("version__model", "reported_by")


def deployment_queryset(*, user: Any) -> QuerySet[Deployment]:
    """Deployments of the versions the user may see, with what a page shows loaded up front."""
    return restrict(user, "view", Deployment.objects.all()).select_related("version__model", "reported_by")


# --- output --------------------------------------------------------------------------------------------------------


class ReportedVersionRefSerializer(serializers.Serializer):
    """A model version as other records refer to it."""

    id = serializers.IntegerField(read_only=True)
    version = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)


class ReportLinksSerializer(serializers.Serializer):
    """Where to go from an artifact or a deployment."""

    self = serializers.URLField(read_only=True)
    history = serializers.URLField(read_only=True)
    version = serializers.URLField(read_only=True)
    model = serializers.URLField(read_only=True)


def _links(context: Any, basename: str, instance: Artifact | Deployment) -> dict[str, str]:
    return {
        "self": detail_url(context, f"{basename}-detail", instance.pk),
        "history": detail_url(context, f"{basename}-history", instance.pk),
        "version": detail_url(context, "modelversion-detail", instance.version_id),
        "model": detail_url(context, "registeredmodel-detail", instance.version.model.key),
    }


class ArtifactOutputSerializer(serializers.Serializer):
    """A piece of evidence behind a version: its kind, canonical identity and the fields reported for it."""

    id = serializers.IntegerField(read_only=True)
    model = ModelRefSerializer(read_only=True, source="version.model")
    version = ReportedVersionRefSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=ArtifactKind.choices, read_only=True)
    identity = serializers.CharField(read_only=True, help_text="The kind's natural key in canonical form.")
    name = serializers.CharField(read_only=True)
    uri = serializers.CharField(read_only=True)
    digest = serializers.CharField(read_only=True)
    metadata = serializers.DictField(read_only=True, help_text="The kind's fields as reported, in canonical form.")
    reported_by = PersonSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field(ReportLinksSerializer)
    def get_links(self, artifact: Artifact) -> dict[str, str]:
        """API links of the artifact, its version and its model."""
        return _links(self.context, "artifact", artifact)


class ArtifactReportOutputSerializer(ArtifactOutputSerializer):
    """The artifact as recorded by a report, and whether the report created it."""

    created = serializers.BooleanField(read_only=True, help_text="False: it was recorded already (and updated).")


class DeploymentOutputSerializer(serializers.Serializer):
    """What a pipeline reported it deployed, where, and whether the digest was the approved one."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.SerializerMethodField()
    identity = serializers.SerializerMethodField()
    model = ModelRefSerializer(read_only=True, source="version.model")
    version = ReportedVersionRefSerializer(read_only=True)
    environment = serializers.CharField(read_only=True)
    target = serializers.CharField(read_only=True)
    digest = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=DeploymentStatus.choices, read_only=True)
    deployed_at = serializers.DateTimeField(read_only=True)
    external_id = serializers.CharField(read_only=True)
    decision_id = serializers.CharField(read_only=True)
    matches_approval = serializers.BooleanField(
        read_only=True, help_text="Whether the digest was among the version's approved digests when first reported."
    )
    metadata = serializers.DictField(read_only=True)
    reported_by = PersonSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    links = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "description": "Always `deployment`."})
    def get_kind(self, deployment: Deployment) -> str:
        """Always ``deployment``, so an answer of the artifacts endpoint says what it holds."""
        return str(ArtifactKind.DEPLOYMENT)

    def get_identity(self, deployment: Deployment) -> str:
        """``environment#external_id``, or ``environment@digest`` without an external id."""
        if deployment.external_id:
            return f"{deployment.environment}#{deployment.external_id}"
        return f"{deployment.environment}@{deployment.digest}"

    @extend_schema_field(ReportLinksSerializer)
    def get_links(self, deployment: Deployment) -> dict[str, str]:
        """API links of the deployment, its version and its model."""
        return _links(self.context, "deployment", deployment)


class DeploymentReportOutputSerializer(DeploymentOutputSerializer):
    """The deployment as recorded by a report, and whether the report created it."""

    created = serializers.BooleanField(read_only=True, help_text="False: the external_id was recorded already.")


class ArtifactBatchOutputSerializer(serializers.Serializer):
    """What a batch recorded: counts and each artifact in the order sent."""

    model = ModelRefSerializer(read_only=True)
    version = ReportedVersionRefSerializer(read_only=True)
    created = serializers.IntegerField(read_only=True, help_text="How many artifacts were new.")
    existing = serializers.IntegerField(read_only=True, help_text="How many were recorded already.")
    results = ArtifactReportOutputSerializer(many=True, read_only=True)


# --- input ---------------------------------------------------------------------------------------------------------


def _target_fields() -> dict[str, serializers.Field]:
    return {
        "model": StrictCharField(max_length=20, help_text="Key of the model, e.g. CR-0042."),
        "version": StrictCharField(max_length=50, help_text="Label of the version, e.g. 2.3.0."),
        "create_version": serializers.BooleanField(
            required=False, default=False, help_text="Register the version as a draft when it does not exist yet."
        ),
        "change_reason": StrictCharField(
            required=False, allow_blank=True, help_text="Kept in the history of a version this report registers."
        ),
    }


class ReportTargetInput(serializers.Serializer):
    """Where a report goes: the model by key, the version by label, and whether to register a missing version."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """The target fields, plus ``kind`` for single-artifact reports."""
        fields = _target_fields()
        fields["kind"] = serializers.ChoiceField(choices=artifact_kinds.KIND_NAMES)
        return fields


class DeploymentReportInput(InputSerializer):
    """A deployment report: the version, where it went, and the digest of what was deployed."""

    model = StrictCharField(max_length=20, help_text="Key of the model, e.g. CR-0042.")
    version = StrictCharField(max_length=50, help_text="Label of the version, e.g. 2.3.0.")
    create_version = serializers.BooleanField(
        required=False, default=False, help_text="Register the version as a draft when it does not exist yet."
    )
    environment = StrictCharField(max_length=50, help_text="production, staging, eu-west-prod...")
    digest = StrictCharField(max_length=71, help_text="sha256:<64 hex> of the image or model file deployed.")
    target = StrictCharField(required=False, allow_blank=True, max_length=300, help_text="Cluster, namespace, host.")
    status = serializers.ChoiceField(
        choices=DeploymentStatus.choices, required=False, default=DeploymentStatus.SUCCEEDED
    )
    deployed_at = serializers.DateTimeField(required=False, allow_null=True, help_text="When; now when left out.")
    external_id = StrictCharField(
        required=False, allow_blank=True, max_length=200, help_text="The pipeline's deployment id: re-reports update."
    )
    decision_id = StrictCharField(
        required=False, allow_blank=True, max_length=64, help_text="Id of the gate decision the pipeline cited."
    )
    metadata = serializers.DictField(required=False, help_text="Anything else worth keeping (a JSON object).")


class ArtifactBatchInput(InputSerializer):
    """Up to 100 artifacts of one version, recorded all or nothing."""

    model = StrictCharField(max_length=20, help_text="Key of the model, e.g. CR-0042.")
    version = StrictCharField(max_length=50, help_text="Label of the version, e.g. 2.3.0.")
    create_version = serializers.BooleanField(
        required=False, default=False, help_text="Register the version as a draft when it does not exist yet."
    )
    artifacts = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        help_text="Each an object with `kind` and that kind's fields (as for POST /api/v1/artifacts/).",
    )


_JSON_TYPES: dict[str, type[serializers.Field]] = {
    "string": serializers.CharField,
    "integer": serializers.IntegerField,
    "object": serializers.DictField,
}


def _doc_field(spec: artifact_kinds.FieldSpec) -> serializers.Field:
    """The schema of one kind field (documentation only: ``artifact_kinds`` does the checking)."""
    options: dict[str, Any] = {"required": spec.required, "help_text": spec.help}
    if spec.json_type == "metrics":
        return serializers.DictField(child=serializers.FloatField(), **options)
    if spec.json_type == "string_map":
        return serializers.DictField(child=serializers.CharField(), **options)
    return _JSON_TYPES[spec.json_type](**options)


def _kind_doc_serializer(spec: artifact_kinds.KindSpec) -> type[serializers.Serializer]:
    """A serializer describing a report body of one kind, for the OpenAPI schema."""
    fields: dict[str, Any] = dict(_target_fields())
    # Plain text rather than a one-value enum: nine one-value enums named "kind" would crowd the schema's enums.
    fields["kind"] = serializers.CharField(help_text=f"`{spec.kind}`.")
    for field_spec in spec.fields:
        fields[field_spec.name] = _doc_field(field_spec)
    for alias, target in spec.aliases:
        fields[alias] = serializers.CharField(required=False, help_text=f"64 hex digits, instead of `{target}`.")
    name = "".join(part.capitalize() for part in spec.kind.split("_")) + "Report"
    fields["__doc__"] = spec.description
    return type(name, (serializers.Serializer,), fields)


ARTIFACT_REPORT_REQUEST = PolymorphicProxySerializer(
    component_name="ArtifactReport",
    serializers={spec.kind: _kind_doc_serializer(spec) for spec in artifact_kinds.KINDS.values()},
    resource_type_field_name="kind",
)
ARTIFACT_REPORT_RESPONSE = PolymorphicProxySerializer(
    component_name="ArtifactReportResult",
    serializers=[ArtifactReportOutputSerializer, DeploymentReportOutputSerializer],
    resource_type_field_name=None,
)
ARTIFACT_REPORT_EXAMPLES = [
    OpenApiExample(
        spec.kind,
        summary=str(spec.description.split(".")[0]),
        value={"model": "CR-0042", "version": "2.3.0", "kind": spec.kind, **spec.example()},
        request_only=True,
    )
    for spec in artifact_kinds.KINDS.values()
]


# --- views ---------------------------------------------------------------------------------------------------------


def _report_version(viewset: PortalReadOnlyViewSet, target: dict[str, Any]) -> ModelVersion:
    return services.version_for_reporting(
        actor=viewset.actor,
        model_key=target["model"],
        version_label=target["version"],
        create=target.get("create_version", False),
        reason=target.get("change_reason", ""),
    )


def _answer(
    viewset: PortalReadOnlyViewSet,
    instance: Model,
    created: bool,
    output: type[serializers.Serializer],
    basename: str,
) -> Response:
    """201 with ``Location`` for a new record, 200 for one recorded before; the body carries ``created``."""
    data = {**output(instance, context=viewset.get_serializer_context()).data, "created": created}
    if not created:
        return Response(data, status=status.HTTP_200_OK)
    url = detail_url(viewset.get_serializer_context(), f"{basename}-detail", instance.pk)
    return Response(data, status=status.HTTP_201_CREATED, headers={"Location": url})


@extend_schema_view(
    list=extend_schema(
        summary="List artifacts",
        description="Artifacts of the versions the caller may see. Filters: `model` (key), `version` (label), "
        "`kind` (repeatable), `digest`, `identity`; `ordering` by created or updated.",
        responses={200: ArtifactOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One artifact",
        responses={200: ArtifactOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Report an artifact",
        description="The body names the version (`model` key, `version` label; `create_version: true` registers a "
        "missing version as a draft) and gives `kind` with that kind's fields. Reporting the same kind and "
        "identity again updates the record: 201 when it is new, 200 when it was recorded already. A `deployment` "
        "is stored as a deployment record (as POST /api/v1/deployments/ would) and answered as one. Owners, Risk "
        "Officers and the service accounts that may report for the model; a model the caller may not see is a "
        "404, one it sees but may not report for a 403.",
        request=ARTIFACT_REPORT_REQUEST,
        examples=ARTIFACT_REPORT_EXAMPLES,
        responses={
            201: ARTIFACT_REPORT_RESPONSE,
            200: ARTIFACT_REPORT_RESPONSE,
            **schema.error_responses(
                *REPORT_ERRORS, example={"sha": ["A commit SHA is 40 hex digits (the full SHA, not an abbreviation)."]}
            ),
        },
    ),
)
class ArtifactViewSet(HistoryMixin, PortalReadOnlyViewSet):
    """Artifacts reported for model versions, looked up by id."""

    filterset_class = ArtifactFilterSet
    output_serializer_class = ArtifactOutputSerializer

    def get_queryset(self) -> QuerySet[Artifact]:
        """Rows the caller may see."""
        return artifact_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Check the body, resolve the version, record through the service, all in one transaction."""
        body = request.data
        if not isinstance(body, dict):
            raise serializers.ValidationError({"non_field_errors": ["Give the report as a JSON object."]})
        target_input = ReportTargetInput(data={k: v for k, v in body.items() if k in ENVELOPE_FIELDS})
        errors: dict[str, Any] = {} if target_input.is_valid() else dict(target_input.errors)
        kind = body.get("kind")
        fields = {k: v for k, v in body.items() if k not in ENVELOPE_FIELDS and k != "csrfmiddlewaretoken"}
        checked: dict[str, Any] = {}
        if isinstance(kind, str) and kind in artifact_kinds.KINDS:
            try:
                checked = artifact_kinds.check_fields(kind, fields)
            except DjangoValidationError as error:
                errors.update(validation_error_detail(error))
        if errors:
            raise serializers.ValidationError(errors)
        target = dict(target_input.validated_data)
        kind = str(target["kind"])
        with transaction.atomic():
            version = _report_version(self, target)
            if kind == ArtifactKind.DEPLOYMENT:
                deployment, created = self._report_deployment(version, checked)
                reloaded = deployment_queryset(user=request.user).filter(pk=deployment.pk).first() or deployment
                return _answer(self, reloaded, created, DeploymentOutputSerializer, "deployment")
            artifact, created = services.artifact_ingest(actor=self.actor, version=version, kind=kind, data=fields)
        return _answer(self, self.reload(artifact), created, ArtifactOutputSerializer, "artifact")

    def _report_deployment(self, version: ModelVersion, checked: dict[str, Any]) -> tuple[Deployment, bool]:
        """A ``deployment`` item, handed to the deployment service like the deployments endpoint does."""
        deployed_at = None
        if "deployed_at" in checked:
            try:
                deployed_at = serializers.DateTimeField().to_internal_value(checked["deployed_at"])
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"deployed_at": error.detail}) from None
        return services.deployment_report(
            actor=self.actor,
            version=version,
            environment=checked["environment"],
            digest=checked["digest"],
            target=checked.get("target", ""),
            status=checked.get("status", DeploymentStatus.SUCCEEDED),
            deployed_at=deployed_at,
            external_id=checked.get("external_id", ""),
            decision_id=checked.get("decision_id", ""),
            metadata=checked.get("metadata"),
        )

    @extend_schema(
        summary="Report up to 100 artifacts of one version",
        description="All or nothing: every item is checked first, refusals name the item by position "
        "(`artifacts[3].sha`) and nothing is recorded unless all pass. Items are `kind` plus that kind's fields; "
        "deployments are reported one at a time. 201 when at least one artifact is new, 200 otherwise.",
        request=ArtifactBatchInput,
        responses={
            201: ArtifactBatchOutputSerializer,
            200: ArtifactBatchOutputSerializer,
            **schema.error_responses(
                *REPORT_ERRORS, example={"artifacts[1].digest": ["A digest is 'sha256:' followed by 64 hex digits."]}
            ),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def batch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a batch through the service in one transaction."""
        data = self.read_input(ArtifactBatchInput)
        with transaction.atomic():
            version = _report_version(self, data)
            results = services.artifact_ingest_many(actor=self.actor, version=version, items=data["artifacts"])
        rows = {row.pk: row for row in self.get_queryset().filter(pk__in=[artifact.pk for artifact, _ in results])}
        context = self.get_serializer_context()
        created = sum(1 for _, was_created in results if was_created)
        body = {
            "model": {"key": version.model.key, "name": version.model.name},
            "version": {"id": version.pk, "version": version.version, "state": version.state},
            "created": created,
            "existing": len(results) - created,
            "results": [
                {**ArtifactOutputSerializer(rows.get(artifact.pk, artifact), context=context).data, "created": flag}
                for artifact, flag in results
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(
        summary="List deployments",
        description="Deployments of the versions the caller may see, latest first. Filters: `model` (key), "
        "`version` (label), `environment`, `digest`, `status` (repeatable), `matches_approval`, `external_id`; "
        "`ordering` by deployed_at or created.",
        responses={200: DeploymentOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One deployment",
        responses={200: DeploymentOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    create=extend_schema(
        summary="Report a deployment",
        description="What a pipeline deployed: the version (`model` key, `version` label), the `environment` and "
        "the `digest` deployed. `matches_approval` records whether the digest was approved for the version; a "
        "successful deployment of an unapproved digest raises a finding. With `external_id` a re-report updates "
        "the record (200) instead of adding one (201).",
        request=DeploymentReportInput,
        examples=[
            OpenApiExample(
                "Deployment",
                value={
                    "model": "CR-0042",
                    "version": "2.3.0",
                    "environment": "production",
                    "digest": artifact_kinds.DIGEST_EXAMPLE,
                    "target": "k8s-prod/risk",
                    "external_id": "deploy-2211",
                },
                request_only=True,
            )
        ],
        responses={
            201: DeploymentReportOutputSerializer,
            200: DeploymentReportOutputSerializer,
            **schema.error_responses(
                *REPORT_ERRORS, example={"environment": ["1-50 lower-case letters, digits, '.', '_' or '-'."]}
            ),
        },
    ),
)
class DeploymentViewSet(HistoryMixin, PortalReadOnlyViewSet):
    """Deployments reported by pipelines, looked up by id."""

    filterset_class = DeploymentFilterSet
    output_serializer_class = DeploymentOutputSerializer

    def get_queryset(self) -> QuerySet[Deployment]:
        """Rows the caller may see."""
        return deployment_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Resolve the version and record through the service, in one transaction."""
        data = self.read_input(DeploymentReportInput)
        with transaction.atomic():
            version = _report_version(self, data)
            deployment, created = services.deployment_report(
                actor=self.actor,
                version=version,
                environment=data["environment"],
                digest=data["digest"],
                target=data.get("target", ""),
                status=data.get("status", DeploymentStatus.SUCCEEDED),
                deployed_at=data.get("deployed_at"),
                external_id=data.get("external_id", ""),
                decision_id=data.get("decision_id", ""),
                metadata=data.get("metadata"),
            )
        return _answer(self, self.reload(deployment), created, DeploymentOutputSerializer, "deployment")
