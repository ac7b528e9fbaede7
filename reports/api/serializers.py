"""Input and output of the exports API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from core.api.serializers import InputSerializer
from reports.choices import ExportKind, ExportStatus
from reports.models import Export


@extend_schema_field({"type": "object", "additionalProperties": {}})
class ParamsField(serializers.Field):
    """The export's parameters: a JSON object (register filters and ``as_of``, ``model`` or ``models``)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """The object; a message if it is not one."""
        if not isinstance(data, dict):
            raise serializers.ValidationError("Give a JSON object.")
        return data

    def to_representation(self, value: Any) -> Any:
        """The parameters as stored."""
        return value


class ExportCreateInput(InputSerializer):
    """What to export, and with which parameters."""

    kind = serializers.ChoiceField(choices=ExportKind.choices)
    params = ParamsField(
        required=False,
        default=dict,
        help_text="register_csv / register_xlsx: the inventory list's filters (`stage`, `unit`, `tag`, ...) and "
        "`as_of` (YYYY-MM-DD); model_pdf: `model` (key); evidence_pack: `models` (list of keys); portfolio: none.",
    )


class ExportOutputSerializer(serializers.ModelSerializer):
    """An export: what was asked, its status and progress, and once done its file's size, SHA-256 and link."""

    kind = serializers.ChoiceField(choices=ExportKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=ExportStatus.choices, read_only=True)
    params = ParamsField(read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "progress",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "size",
            "sha256",
            "row_count",
            "error",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, export: Export) -> str | None:
        """Where to fetch the file once the export is done."""
        if export.status != ExportStatus.DONE:
            return None
        return reverse("export-download", args=[export.pk], request=self.context.get("request"))
