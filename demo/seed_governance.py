"""Tells the demo's governance story (``demo.story``) through the governance services, so every
assessment, decision and finding is validated, permission-checked, kept in field history and in the ledger.

A model's story is told once: only to a demo model with no governance record yet (no assessment, no workflow
transition, no finding) whose versions are the drafts the story moves and whose owners and validators are the
ones the story has act. A model someone has assessed, submitted or raised a finding on keeps exactly what they
did, and a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.models import User
from demo.story import (
    AcceptRisk,
    ApproveOverride,
    Assess,
    CloseFinding,
    Decide,
    Deploy,
    FindingSpec,
    GrantReporting,
    ModelStory,
    RaiseFinding,
    RequestOverride,
    Retire,
    ReviewAssessment,
    StartRemediation,
    StartValidation,
    Step,
    Submit,
    Validate,
    Withdraw,
)
from governance.models import Finding, GovernanceEvent, RiskAssessment, TierOverride, VersionTransition
from governance.services.assessments import (
    risk_assessment_create,
    risk_assessment_review,
    tier_override_decide,
    tier_override_request,
)
from governance.services.findings import finding_accept_risk, finding_close, finding_raise, finding_start_remediation
from governance.services.notifications import notifications_muted
from governance.services.workflow import (
    version_decide,
    version_deploy,
    version_retire,
    version_start_validation,
    version_submit,
    version_validate,
    version_withdraw,
)
from inventory import services
from inventory.choices import VersionState
from inventory.models import ModelVersion, RegisteredModel, RegisteredModelUserObjectPermission


@dataclass
class GovernanceSummary:
    """What telling the story wrote, and which models it left alone because they were changed by hand."""

    models_told: int = 0
    models_governed_already: int = 0
    assessments: int = 0
    overrides: int = 0
    transitions: int = 0
    findings: int = 0
    reporting_grants: int = 0
    ledger_events: int = 0
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written (every governance write also appends to the ledger)."""
        return bool(self.ledger_events or self.reporting_grants)


def _counts() -> dict[str, int]:
    return {
        "assessments": RiskAssessment.objects.count(),
        "overrides": TierOverride.objects.count(),
        "transitions": VersionTransition.objects.count(),
        "findings": Finding.objects.count(),
        "ledger_events": GovernanceEvent.objects.count(),
    }


def _finding_item(spec: FindingSpec, *, today: date, people: Mapping[str, User]) -> dict[str, Any]:
    """A finding as the workflow services take it (validation findings, conditions of approval)."""
    item: dict[str, Any] = {
        "title": spec.title,
        "severity": spec.severity,
        "description": spec.description,
        "due_date": today + timedelta(days=spec.due_in_days),
    }
    if spec.owner:
        item["owner"] = people[spec.owner]
    return item


@dataclass
class _Teller:
    """Runs one model's steps; holds what later steps refer to (newest assessment and override request)."""

    model: RegisteredModel
    versions: dict[str, ModelVersion]
    people: Mapping[str, User]
    today: date
    summary: GovernanceSummary
    assessment: RiskAssessment | None = None
    override: TierOverride | None = None
    wrote: bool = False

    def _finding(self, title: str) -> Finding:
        return Finding.objects.get(model=self.model, title=title)

    def _items(self, specs: tuple[FindingSpec, ...]) -> list[dict[str, Any]]:
        return [_finding_item(spec, today=self.today, people=self.people) for spec in specs]

    def _grant(self, step: GrantReporting) -> None:
        account = self.people[step.service_account]
        granted = RegisteredModelUserObjectPermission.objects.filter(
            content_object=self.model, user=account, permission__codename="report_registeredmodel"
        ).exists()
        if not granted:
            services.registered_model_grant_reporting(
                actor=self.people[step.actor], model=self.model, service_account=account, reason=step.reason
            )
            self.summary.reporting_grants += 1
            self.wrote = True

    def _current_assessment(self) -> RiskAssessment:
        if self.assessment is None:
            raise ValueError(f"{self.model.key}: the story reviews or overrides an assessment it has not made")
        return self.assessment

    def _pending_override(self) -> TierOverride:
        if self.override is None:
            raise ValueError(f"{self.model.key}: the story decides an override nobody requested")
        return self.override

    def tell(self, steps: tuple[Step, ...]) -> bool:
        """Take the steps in order; returns whether anything was written (a grant in place is skipped)."""
        people, model = self.people, self.model
        for step in steps:
            actor = people[step.actor]
            self.wrote = self.wrote or not isinstance(step, GrantReporting)
            match step:
                case Assess():
                    self.assessment = risk_assessment_create(
                        actor=actor, model=model, answers=dict(step.answers), rationale=step.rationale
                    )
                case ReviewAssessment():
                    risk_assessment_review(
                        actor=actor, assessment=self._current_assessment(), approve=True, comment=step.comment
                    )
                case RequestOverride():
                    self.override = tier_override_request(
                        actor=actor,
                        assessment=self._current_assessment(),
                        tier=step.tier,
                        justification=step.justification,
                    )
                case ApproveOverride():
                    tier_override_decide(
                        actor=actor, override=self._pending_override(), approve=True, comment=step.comment
                    )
                case GrantReporting():
                    self._grant(step)
                case Submit():
                    version_submit(actor=actor, version=self.versions[step.version], comment=step.comment)
                case StartValidation():
                    version_start_validation(actor=actor, version=self.versions[step.version], comment=step.comment)
                case Validate():
                    version_validate(
                        actor=actor,
                        version=self.versions[step.version],
                        passed=step.passed,
                        comment=step.comment,
                        findings=self._items(step.findings),
                    )
                case Decide():
                    version_decide(
                        actor=actor,
                        version=self.versions[step.version],
                        approve=step.approve,
                        comment=step.comment,
                        conditions=self._items(step.conditions),
                    )
                case Deploy():
                    version_deploy(actor=actor, version=self.versions[step.version], comment=step.comment)
                case Retire():
                    version_retire(actor=actor, version=self.versions[step.version], comment=step.comment)
                case Withdraw():
                    version_withdraw(actor=actor, version=self.versions[step.version], comment=step.comment)
                case RaiseFinding():
                    spec = step.finding
                    finding_raise(
                        actor=actor,
                        model=model,
                        title=spec.title,
                        severity=spec.severity,
                        due_date=self.today + timedelta(days=spec.due_in_days),
                        description=spec.description,
                        owner=people[spec.owner] if spec.owner else None,
                        version=self.versions[step.version] if step.version else None,
                    )
                case StartRemediation():
                    finding_start_remediation(
                        actor=actor,
                        finding=self._finding(step.finding),
                        comment=step.comment,
                        evidence_links=step.evidence_links,
                    )
                case CloseFinding():
                    finding_close(actor=actor, finding=self._finding(step.finding), resolution=step.resolution)
                case AcceptRisk():
                    finding_accept_risk(
                        actor=actor, finding=self._finding(step.finding), justification=step.justification
                    )
        return self.wrote


def _cast(story: ModelStory, model: RegisteredModel) -> list[str]:
    """How the model's people differ from those the story assumes (empty when they are the same)."""
    differences = []
    owners = (model.business_owner.username, model.technical_owner.username)
    if owners != story.owners:
        differences.append(f"owners are {' and '.join(owners)}, not {' and '.join(story.owners)}")
    validators = frozenset(validator.username for validator in model.validators.all())
    if validators != story.validators:
        differences.append(f"validators are {', '.join(sorted(validators)) or 'none'}")
    return differences


def _governed(models: list[RegisteredModel]) -> set[int]:
    """Models with any governance record: an assessment, a workflow transition or a finding."""
    ids = [model.pk for model in models]
    return (
        set(RiskAssessment.objects.filter(model_id__in=ids).values_list("model_id", flat=True))
        | set(VersionTransition.objects.filter(version__model_id__in=ids).values_list("version__model_id", flat=True))
        | set(Finding.objects.filter(model_id__in=ids).values_list("model_id", flat=True))
    )


def seed_governance(
    stories: tuple[ModelStory, ...],
    *,
    models: Mapping[str, RegisteredModel],
    people: Mapping[str, User],
    today: date,
) -> GovernanceSummary:
    """Tell the story of every demo model that has none yet; ``models`` are the demo's own (by key).

    The story replays decisions as if taken in the past, so nobody is notified of them."""
    with notifications_muted():
        return _seed_governance(stories, models=models, people=people, today=today)


def _seed_governance(
    stories: tuple[ModelStory, ...],
    *,
    models: Mapping[str, RegisteredModel],
    people: Mapping[str, User],
    today: date,
) -> GovernanceSummary:
    summary = GovernanceSummary()
    before = _counts()
    told = [story for story in stories if story.key in models]
    governed = _governed([models[story.key] for story in told])
    people_of = {
        model.pk: model
        for model in RegisteredModel.objects.filter(pk__in=[models[story.key].pk for story in told])
        .select_related("business_owner", "technical_owner")
        .prefetch_related("validators")
    }
    versions_by_model: dict[int, dict[str, ModelVersion]] = {}
    for version in ModelVersion.objects.filter(model__in=[models[story.key] for story in told]):
        versions_by_model.setdefault(version.model_id, {})[version.version] = version
    for story in told:
        model = models[story.key]
        if model.pk in governed:
            summary.models_governed_already += 1
            continue
        versions = versions_by_model.get(model.pk, {})
        unusable = sorted(
            label
            for label in story.version_labels
            if label not in versions or versions[label].state != VersionState.DRAFT
        )
        if unusable:
            summary.conflicts.append(
                f"{model.key}: version(s) {', '.join(unusable)} are missing or no longer drafts; its governance "
                "story was left out"
            )
            continue
        differences = _cast(story, people_of[model.pk])
        if differences:
            summary.conflicts.append(f"{model.key}: {'; '.join(differences)}; its governance story was left out")
            continue
        if _Teller(model, versions, people, today, summary).tell(story.steps):
            summary.models_told += 1
    after = _counts()
    summary.assessments = after["assessments"] - before["assessments"]
    summary.overrides = after["overrides"] - before["overrides"]
    summary.transitions = after["transitions"] - before["transitions"]
    summary.findings = after["findings"] - before["findings"]
    summary.ledger_events = after["ledger_events"] - before["ledger_events"]
    return summary
