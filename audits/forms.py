"""Forms of the audits pages. They only read input into the shape the audits services take; the services
validate the file against the mapping and refuse what cannot be audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from inventory.models import ModelVersion


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class VersionChoiceField(forms.ModelChoiceField):
    """A version of the model, labelled with its label and state."""

    def label_from_instance(self, obj: Any) -> str:
        """``1.0.0 (approved)``."""
        return f"{obj.version} ({obj.get_state_display().lower()})"


class EvaluationUploadForm(forms.Form):
    """A CSV of labelled predictions for one version, with the columns to read."""

    version = VersionChoiceField(queryset=ModelVersion.objects.none(), empty_label=None)
    name = forms.CharField(max_length=200, help_text="For example “test split 2024-Q4”.")
    file = forms.FileField(
        label="Evaluation data", help_text="CSV (UTF-8, comma-separated, one header row) or Parquet."
    )
    label = forms.CharField(label="True label column", max_length=200)
    prediction = forms.CharField(
        label="Prediction column", max_length=200, required=False, help_text="Leave empty if you give a score."
    )
    score = forms.CharField(label="Score column", max_length=200, required=False)
    threshold = forms.FloatField(
        required=False, help_text="With a score: a score at or above it counts as a positive prediction."
    )
    sensitive = forms.CharField(
        label="Sensitive feature columns", max_length=1000, help_text="Comma-separated, e.g. “sex, age_group”."
    )

    def __init__(self, *args: Any, versions: QuerySet[ModelVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = versions  # type: ignore[attr-defined]

    def mapping(self) -> dict[str, Any]:
        """The column mapping as the service takes it: only what was filled in."""
        data = self.cleaned_data
        mapping: dict[str, Any] = {"label": data["label"], "sensitive": _names(data["sensitive"])}
        for key in ("prediction", "score"):
            if data[key]:
                mapping[key] = data[key]
        if data["threshold"] is not None:
            mapping["threshold"] = data["threshold"]
        return mapping


class CompareForm(forms.Form):
    """The two runs to compare, by id."""

    a = forms.IntegerField(label="Run A", min_value=1)
    b = forms.IntegerField(label="Run B", min_value=1)
