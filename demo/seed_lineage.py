"""The demo's lineage: what the build pipelines reported for each version, what runs in production, and what the
deployment gate answered.

Every record goes through the product's own services (artifact ingestion, deployment reports, the gate), as the
Jenkins pipeline or the model's technical owner, so the demo shows what a live installation would hold:

- each version past draft carries its commit, CI run, training data and model file; machine-learning and LLM
  models also a container image; versions of Tier 1 and 2 models a model card, and validated Tier 1 versions
  the validation report, so the tier policies' evidence rules (CMP-005) pass where the story says they should;
- every deployed version runs in ``production`` with its approved digest;
- one model was hot-fixed in production with a build nobody approved: the report raises the finding that the
  risk officers see on the dashboard, and the gate now denies that model until it is dealt with;
- the pipeline asked the gate about a version still in review and was denied.

Idempotent: artifacts are keyed by their identity, deployments by the pipeline's id, and the gate is asked once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.models import User
from demo.organisation import PIPELINE_ACCOUNT
from demo.story import PIPELINE_UNITS
from gate.models import GateDecision
from gate.services import gate_check
from inventory.choices import ModelType, VersionState
from inventory.models import ModelVersion
from inventory.services.artifacts import artifact_ingest_many, deployment_report, may_report

PRODUCTION = "production"
GIT_HOST = "git.northwind.example"
CI_URL = "https://jenkins.northwind.example/job"
REGISTRY = "registry.northwind.example/models"
MODEL_STORE = "s3://northwind-models"
DATA_STORE = "s3://northwind-data"
DOCS_URL = "https://docs.northwind.example/model-risk"
IMAGE_TYPES = frozenset({ModelType.MACHINE_LEARNING, ModelType.LLM})
# States past draft: the version was built by a pipeline and submitted with its evidence.
BUILT_STATES = frozenset(VersionState) - {VersionState.DRAFT}
VALIDATED_STATES = frozenset(
    {
        VersionState.RISK_REVIEW,
        VersionState.APPROVED,
        VersionState.APPROVED_WITH_CONDITIONS,
        VersionState.DEPLOYED,
        VersionState.RETIRED,
    }
)
HOTFIX_EXTERNAL_ID = "demo-hotfix-1"
GATE_DENIED_EXTERNAL_ID = "demo:gate:review"


@dataclass
class LineageSummary:
    """What the lineage seed created."""

    artifacts: int = 0
    deployments: int = 0
    gate_decisions: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was created."""
        return bool(self.artifacts or self.deployments or self.gate_decisions)


def _hex(*parts: str, length: int = 64) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:length]


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())[:40]


def _reporter(version: ModelVersion, pipeline: User | None) -> User:
    """The Jenkins pipeline where it builds the model's unit, otherwise the technical owner's own scripts."""
    model = version.model
    if pipeline is not None and model.business_unit.code in PIPELINE_UNITS and may_report(pipeline, model):
        return pipeline
    return model.technical_owner


def _artifacts(version: ModelVersion) -> list[dict[str, object]]:
    model = version.model
    key, label = model.key, version.version
    repository = f"{GIT_HOST}/{model.business_unit.code.lower()}/{_slug(model.name)}"
    sha = _hex(key, label, "commit", length=40)
    run_id = str(int(_hex(key, label, "run", length=6), 16) % 9000 + 1000)
    items: list[dict[str, object]] = [
        {"kind": "git_commit", "repository": repository, "sha": sha, "message": f"Release {label}"},
        {
            "kind": "ci_run",
            "system": "jenkins",
            "url": f"{CI_URL}/{key.lower()}/{run_id}/",
            "run_id": run_id,
            "actor": model.technical_owner.username,
            "commit_sha": sha,
        },
        {
            "kind": "dataset_version",
            "uri": f"{DATA_STORE}/{key.lower()}/training/{label}/",
            "digest": "sha256:" + _hex(key, label, "data"),
        },
        {
            "kind": "model_file",
            "uri": f"{MODEL_STORE}/{key.lower()}/{label}/model.bin",
            "digest": version.artifact_digest,
        },
    ]
    if model.model_type in IMAGE_TYPES:
        items.append(
            {
                "kind": "container_image",
                "reference": f"{REGISTRY}/{key.lower()}:{label}",
                "digest": "sha256:" + _hex(key, label, "image"),
            }
        )
    if model.risk_tier in (1, 2):
        items.append(
            {
                "kind": "document",
                "document_type": "model_card",
                "uri": f"{DOCS_URL}/{key}/{label}/model-card.pdf",
                "title": f"Model card {key} {label}",
            }
        )
    if model.risk_tier == 1 and version.state in VALIDATED_STATES:
        items.append(
            {
                "kind": "document",
                "document_type": "validation_report",
                "uri": f"{DOCS_URL}/{key}/{label}/validation-report.pdf",
                "title": f"Validation report {key} {label}",
            }
        )
    return items


def _after_approval(version: ModelVersion, days: int) -> datetime:
    """``days`` after the approval, or the approval itself when that is still in the future: the same on every
    run, so a second seed re-reports nothing new."""
    approved_at = version.approved_at or version.created_at
    later = approved_at + timedelta(days=days)
    return later if later <= timezone.now() else approved_at


def _deploy(version: ModelVersion, actor: User, summary: LineageSummary) -> None:
    _, created = deployment_report(
        actor=actor,
        version=version,
        environment=PRODUCTION,
        digest=version.artifact_digest,
        target=f"k8s-prod-eu/{version.model.business_unit.code.lower()}",
        deployed_at=_after_approval(version, 2),
        external_id=f"demo-{version.model.key}-{version.version}-{PRODUCTION}",
    )
    summary.deployments += int(created)


def _hotfix(deployed: list[ModelVersion], pipeline: User | None, summary: LineageSummary) -> None:
    """One production model patched with a build that never went through approval."""
    candidates = [version for version in deployed if version.model.model_type == ModelType.MACHINE_LEARNING]
    if not candidates:
        return
    version = candidates[len(candidates) // 2]
    _, created = deployment_report(
        actor=_reporter(version, pipeline),
        version=version,
        environment=PRODUCTION,
        digest="sha256:" + _hex(version.model.key, version.version, "hotfix"),
        target=f"k8s-prod-eu/{version.model.business_unit.code.lower()}",
        deployed_at=_after_approval(version, 3),
        external_id=HOTFIX_EXTERNAL_ID,
        metadata={"note": "Emergency hotfix built from a developer branch"},
    )
    summary.deployments += int(created)
    if created:
        summary.notes.append(f"{version} was hot-fixed in production with an unapproved build (finding raised).")


def _ask_gate(pipeline: User | None, summary: LineageSummary) -> None:
    """The pipeline asks to deploy a version still in risk review; the gate says no."""
    if pipeline is None or GateDecision.objects.filter(requested_by=pipeline).exists():
        return
    waiting = (
        ModelVersion.objects.filter(state=VersionState.RISK_REVIEW, model__business_unit__code__in=PIPELINE_UNITS)
        .select_related("model")
        .order_by("model__key")
        .first()
    )
    if waiting is None or not may_report(pipeline, waiting.model):
        return
    gate_check(
        actor=pipeline,
        model_key=waiting.model.key,
        version_label=waiting.version,
        environment=PRODUCTION,
        digest=waiting.artifact_digest,
        pipeline={"ci_run_url": f"{CI_URL}/{waiting.model.key.lower()}/deploy/1/"},
    )
    summary.gate_decisions += 1


@transaction.atomic
def seed_lineage() -> LineageSummary:
    """Record the demo's artifacts, deployments and one gate decision through the product's services."""
    summary = LineageSummary()
    pipeline = User.objects.filter(username=PIPELINE_ACCOUNT).first()
    versions = list(
        ModelVersion.objects.filter(state__in=BUILT_STATES)
        .exclude(artifact_digest="")
        .select_related("model__business_unit", "model__technical_owner")
        .order_by("model__key", "created_at")
    )
    for version in versions:
        results = artifact_ingest_many(actor=_reporter(version, pipeline), version=version, items=_artifacts(version))
        summary.artifacts += sum(1 for _, created in results if created)
    deployed = [version for version in versions if version.state == VersionState.DEPLOYED]
    for version in deployed:
        _deploy(version, _reporter(version, pipeline), summary)
    _hotfix(deployed, pipeline, summary)
    _ask_gate(pipeline, summary)
    return summary
