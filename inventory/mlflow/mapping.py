"""How MLflow records become portal data: pure functions from the client's dataclasses to plain values.

The rules (``docs/mlflow.md`` explains them to operators):

- A registered model is *linked* to the inventory model named by its ``portal.model_key`` tag, or to the one a
  Risk Officer chose in triage. Otherwise it waits in triage as *unregistered*.
- A model version becomes the portal version labelled by its ``portal.version`` tag, or by MLflow's version
  number when the tag is absent.
- The run behind a version becomes an ``experiment_run`` artifact (tracking URI, run id, experiment, the latest
  value of each finite metric, parameters, run tags). The version's stored model becomes a ``model_file``
  artifact only when its ``sha256`` tag gives the file's digest: the deployment gate compares digests, and a
  model file without one would be evidence nobody can check. Without it the source URI is still kept in the
  triage record's version snapshot.
- Owners: ``portal.business_owner`` and ``portal.technical_owner`` name the two owners; ``owner`` names both when
  the specific tag is absent. ``mlflow.user`` (whoever happened to run the training) is not an owner. Each value
  is matched to a portal person by username or e-mail by the service; unknown values are reported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inventory.mlflow.client import MlflowModelVersion, MlflowRegisteredModel, MlflowRun
from inventory.validators import VERSION_PATTERN

TAG_MODEL_KEY = "portal.model_key"
TAG_VERSION = "portal.version"
TAG_BUSINESS_OWNER = "portal.business_owner"
TAG_TECHNICAL_OWNER = "portal.technical_owner"
TAG_OWNER = "owner"
TAG_SHA256 = "sha256"

# Limits of the artifact fields that hold MLflow's maps (inventory.artifact_kinds): longer entries are dropped.
MAP_MAX_ENTRIES = 200
MAP_KEY_MAX = 250
MAP_VALUE_MAX = 5000
OWNER_HINT_MAX = 200

_HEX64 = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")
_VERSION = re.compile(VERSION_PATTERN)


@dataclass(frozen=True)
class OwnerHints:
    """The owners an MLflow model's tags name (raw values: a username or an e-mail address, or empty)."""

    business: str = ""
    technical: str = ""

    def values(self) -> list[str]:
        """The distinct values named, business owner first."""
        return [
            value
            for i, value in enumerate((self.business, self.technical))
            if value and (i == 0 or value != self.business)
        ]

    def hint(self) -> str:
        """One line for the triage list: ``alice`` when one person owns both, else ``business: a; technical: b``."""
        if not self.business and not self.technical:
            return ""
        if self.business == self.technical:
            return self.business[:OWNER_HINT_MAX]
        parts = [
            f"business: {self.business}" if self.business else "",
            f"technical: {self.technical}" if self.technical else "",
        ]
        return "; ".join(part for part in parts if part)[:OWNER_HINT_MAX]


def linked_key(tags: Mapping[str, str]) -> str:
    """The inventory key the ``portal.model_key`` tag names, trimmed (empty when untagged)."""
    return tags.get(TAG_MODEL_KEY, "").strip()


def owner_hints(tags: Mapping[str, str]) -> OwnerHints:
    """The business and technical owners the tags name (see the module's rules)."""
    fallback = tags.get(TAG_OWNER, "").strip()
    return OwnerHints(
        business=tags.get(TAG_BUSINESS_OWNER, "").strip() or fallback,
        technical=tags.get(TAG_TECHNICAL_OWNER, "").strip() or fallback,
    )


def version_label(version: MlflowModelVersion) -> str:
    """The portal label of an MLflow version: its ``portal.version`` tag, else MLflow's version number."""
    return version.tags.get(TAG_VERSION, "").strip() or version.version


def label_problem(label: str) -> str:
    """Why ``label`` cannot be a portal version label, or empty when it can."""
    if _VERSION.match(label):
        return ""
    return f"version label {label!r} is not 1-50 letters, digits, '.', '_', '+' or '-'"


def version_digest(version: MlflowModelVersion) -> str:
    """The model file's digest (``sha256:<hex>``) from the version's ``sha256`` tag; empty when absent or malformed."""
    match = _HEX64.match(version.tags.get(TAG_SHA256, "").strip())
    return f"sha256:{match.group(1).lower()}" if match else ""


def source_uri(source: str) -> str:
    """The version's storage location as a URI: a bare absolute path (a local artifact store) becomes ``file://``."""
    source = source.strip()
    if source.startswith("/"):
        return f"file://{source}"
    return source


def clean_map(values: Mapping[str, str]) -> dict[str, str]:
    """Tags or parameters trimmed to what an artifact field accepts: long names or values are left out, and at
    most the first 200 names (in name order) are kept."""
    kept = {
        key: value
        for key, value in sorted(values.items())
        if key and len(key) <= MAP_KEY_MAX and isinstance(value, str) and len(value) <= MAP_VALUE_MAX
    }
    return dict(list(kept.items())[:MAP_MAX_ENTRIES])


def finite_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    """The metrics whose latest value is a finite number (MLflow accepts NaN and infinities, the portal does not)."""
    kept = {
        name: value
        for name, value in sorted(metrics.items())
        if name and len(name) <= MAP_KEY_MAX and math.isfinite(value)
    }
    return dict(list(kept.items())[:MAP_MAX_ENTRIES])


def experiment_run_fields(*, tracking_uri: str, run: MlflowRun) -> dict[str, Any]:
    """The fields of the ``experiment_run`` artifact of a run."""
    fields: dict[str, Any] = {
        "tracking_uri": tracking_uri,
        "run_id": run.run_id,
        "metrics": finite_metrics(run.metrics),
        "params": clean_map(run.params),
        "tags": clean_map(run.tags),
    }
    experiment = run.experiment_name or run.experiment_id
    if experiment:
        fields["experiment"] = experiment
    return fields


def model_file_fields(version: MlflowModelVersion) -> dict[str, Any] | None:
    """The fields of the ``model_file`` artifact of a version, or None when its tags give no digest."""
    digest = version_digest(version)
    uri = source_uri(version.source)
    if not digest or not uri:
        return None
    return {"uri": uri, "digest": digest, "tags": clean_map(version.tags)}


def version_snapshot(version: MlflowModelVersion) -> dict[str, Any]:
    """What the triage record keeps of a version: enough to recognise it without asking MLflow again."""
    return {
        "version": version.version,
        "label": version_label(version),
        "stage": version.current_stage,
        "status": version.status,
        "run_id": version.run_id,
        "source": version.source,
        "digest": version_digest(version),
    }


def record_fields(model: MlflowRegisteredModel) -> dict[str, Any]:
    """The fields of the triage record (``ExternalRegistryModel``) that mirror MLflow: compared as they are, so an
    unchanged model leaves the record untouched."""
    latest = sorted(model.latest_versions, key=lambda v: (len(v.version), v.version, v.current_stage))
    return {
        "description": model.description,
        "tags": dict(sorted(model.tags.items())),
        "latest_versions": [version_snapshot(version) for version in latest],
        "owner_hint": owner_hints(model.tags).hint(),
    }
