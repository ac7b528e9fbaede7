"""Enumerations of monitoring."""

from django.db import models


class TargetStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed"
    SUPERSEDED = "superseded", "Superseded"


class BreachKind(models.TextChoices):
    """What a monitoring finding is about; part of its dedup key (one live finding per model and kind)."""

    FEATURE_DRIFT = "feature_drift", "Feature drift"
    OVERALL_DRIFT = "overall_drift", "Overall drift"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    DETERIORATION = "deterioration", "Metric deterioration"
