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
    """A CSV or Parquet file of labelled predictions for one version (uploaded or by URL), with the columns to read."""

    version = VersionChoiceField(queryset=ModelVersion.objects.none(), empty_label=None)
    name = forms.CharField(max_length=200, help_text="For example “test split 2024-Q4”.")
    file = forms.FileField(
        label="Evaluation data",
        required=False,
        help_text="CSV (UTF-8, comma-separated, one header row) or Parquet.",
    )
    reference_url = forms.CharField(
        label="Or its URL",
        max_length=1000,
        required=False,
        help_text="Instead of uploading: an http(s) address the operator allows; it is fetched again, and its hash "
        "checked, at every audit.",
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

    def clean(self) -> dict[str, Any] | None:
        """One source of data: a file or a URL (whether the URL is allowed is the service's decision)."""
        data = super().clean()
        has_file, has_url = bool(self.cleaned_data.get("file")), bool(self.cleaned_data.get("reference_url"))
        if has_file == has_url and "file" not in self.errors:
            self.add_error(
                "file", "Upload a file or give its URL, not both." if has_file else "Upload a file or give its URL."
            )
        return data

    def source(self) -> dict[str, Any]:
        """The service's keyword argument for where the data comes from."""
        if self.cleaned_data["file"]:
            return {"upload": self.cleaned_data["file"]}
        return {"reference_url": self.cleaned_data["reference_url"]}

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


class ScheduleForm(forms.Form):
    """A schedule's timing and whether it runs: every so many minutes, or at a crontab's minute, hour and days."""

    KINDS = [("interval", "Every so many minutes"), ("crontab", "At set times (crontab)")]

    enabled = forms.BooleanField(required=False, help_text="A paused schedule starts nothing until it is resumed.")
    kind = forms.ChoiceField(label="Runs", choices=KINDS, widget=forms.RadioSelect)
    every_minutes = forms.IntegerField(label="Every (minutes)", required=False)
    minute = forms.CharField(max_length=240, required=False, help_text="Crontab minute, e.g. “0” or “*/15”.")
    hour = forms.CharField(max_length=240, required=False, help_text="Crontab hour, e.g. “3” or “8-18”.")
    day_of_week = forms.CharField(
        label="Days of the week", max_length=64, required=False, help_text="Crontab days, e.g. “*” or “mon-fri”."
    )

    def clean(self) -> dict[str, Any] | None:
        """An interval needs its number of minutes (the crontab fields are checked by the service)."""
        data = super().clean()
        if self.cleaned_data.get("kind") == "interval" and self.cleaned_data.get("every_minutes") is None:
            self.add_error("every_minutes", "Give the number of minutes between runs.")
        return data

    def changes(self) -> dict[str, Any]:
        """The service's keyword arguments: whether it runs, and the fields of the chosen kind of timing."""
        data = self.cleaned_data
        if data["kind"] == "interval":
            return {"enabled": data["enabled"], "every_minutes": data["every_minutes"]}
        return {"enabled": data["enabled"], **{name: data[name] for name in ("minute", "hour", "day_of_week")}}
