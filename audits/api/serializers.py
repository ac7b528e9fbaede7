"""Input and output serializers of the audits API. Inputs check shape and resolve references the caller may see;
the services decide everything else."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.models import AuditRun, EvaluationDataset
from audits.selectors import evaluation_dataset_queryset
from core.api.serializers import InputSerializer, StrictCharField
from core.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from inventory.selectors import model_version_queryset


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.Field):
    """An object, given as JSON in a JSON body or as JSON text in a multipart form field."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """The object; a message if the text is not JSON or not an object."""
        if isinstance(data, str):
            too_deep = f"Not valid JSON: nested more than {MAX_JSON_DEPTH} levels deep."
            try:
                data = json.loads(data, parse_constant=_refuse_constant)
            except RecursionError:
                raise serializers.ValidationError(too_deep) from None
            except ValueError as error:
                raise serializers.ValidationError(f"Not valid JSON: {error}.") from None
            if json_depth_exceeds(data, MAX_JSON_DEPTH):
                raise serializers.ValidationError(too_deep)
        if not isinstance(data, dict):
            raise serializers.ValidationError("Give a JSON object.")
        return data

    def to_representation(self, value: Any) -> Any:
        """The object as stored."""
        return value


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's decoder would take them as floats.
    raise ValueError(f"{name} is not a JSON value")


def _user(context: dict[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or AnonymousUser()


class EvaluationDatasetCreateInput(InputSerializer):
    """A file upload (multipart), a reference path or URL, the version it evaluates, and the column mapping."""

    model = StrictCharField(help_text="The registered model's key, e.g. RB-0001.")
    version = StrictCharField(help_text="The version label, e.g. 1.2.0.")
    name = StrictCharField(max_length=200)
    mapping = JSONObjectField(
        help_text='Columns: {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex"]}; or "score" with '
        '"threshold" instead of "prediction"; optional "positive_label" and "controls".'
    )
    file = serializers.FileField(required=False, help_text="A UTF-8, comma-separated CSV with a header row.")
    reference_path = StrictCharField(
        required=False, help_text="Absolute path of a file inside the operator's EVALUATION_DATA_ROOTS."
    )
    reference_url = StrictCharField(
        required=False,
        max_length=1000,
        help_text="http(s) URL of the file under one of the operator's EVALUATION_DATA_URL_PREFIXES; fetched now "
        "and again, with its hash checked, whenever it is audited.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Resolve the version among those the caller may see (an invisible one does not exist)."""
        version = (
            model_version_queryset(user=_user(self.context))
            .filter(model__key=attrs["model"], version=attrs["version"])
            .first()
        )
        if version is None:
            raise serializers.ValidationError(
                {"version": [f"Version {attrs['version']} of {attrs['model']} does not exist."]}
            )
        attrs.pop("model")
        attrs["version"] = version
        attrs["upload"] = attrs.pop("file", None)
        return attrs


class AuditRunCreateInput(InputSerializer):
    """The evaluation dataset to audit, and optionally a key that makes a retried request find its run."""

    dataset = serializers.IntegerField(help_text="Id of an evaluation dataset.")
    idempotency_key = StrictCharField(required=False, max_length=200)

    def validate_dataset(self, value: int) -> EvaluationDataset:
        """The dataset, if the caller may see it."""
        dataset = evaluation_dataset_queryset(user=_user(self.context)).filter(pk=value).first()
        if dataset is None:
            raise serializers.ValidationError(f"Evaluation dataset {value} does not exist.")
        return dataset


class EvaluationDatasetOutputSerializer(serializers.ModelSerializer):
    """A stored evaluation dataset: what was validated, its hash, size and mapping."""

    model = serializers.CharField(source="version.model.key", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    mapping = JSONObjectField(read_only=True)

    class Meta:
        model = EvaluationDataset
        fields = [
            "id",
            "model",
            "version",
            "name",
            "source",
            "reference_uri",
            "file_format",
            "sha256",
            "row_count",
            "size_bytes",
            "columns",
            "mapping",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class AuditRunOutputSerializer(serializers.ModelSerializer):
    """An audit run: status and, once finished, the result, verdicts, hashes and versions it used."""

    # Plain text, not an enum: other apps' "kind" fields already name an enum in the schema.
    kind = serializers.CharField(read_only=True, help_text="bias (a bias audit) or compliance (a sweep).")
    model = serializers.CharField(source="model.key", read_only=True, allow_null=True)
    version = serializers.CharField(source="version.version", read_only=True, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True)
    result = JSONObjectField(read_only=True)
    verdicts = JSONObjectField(read_only=True)
    library_versions = JSONObjectField(read_only=True)

    class Meta:
        model = AuditRun
        fields = [
            "id",
            "kind",
            "model",
            "version",
            "dataset",
            "status",
            "progress",
            "idempotency_key",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "dataset_sha256",
            "library_versions",
            "policy_revision",
            "verdicts",
            "result",
            "error",
        ]
        read_only_fields = fields


class AuditRunComparisonSerializer(serializers.Serializer):
    """Two runs and, per analysis, each figure in both with the difference (b − a)."""

    a = AuditRunOutputSerializer(read_only=True)
    b = AuditRunOutputSerializer(read_only=True)
    analyses = JSONObjectField(read_only=True)
