"""Turns the bank's definition into a complete, deterministic plan of the demo inventory (pure, no ORM).

Everything the catalogue leaves open (lifecycle stage, which validators, validation dates, how many versions,
metric values) is drawn from one ``random.Random(seed)`` in catalogue order, so a seed always gives the same
plan for the same day. Dates are offsets from ``today`` so the inventory always looks current: most models
validated within their cycle, some overdue.

Each model's answers to risk tiering questionnaire v1 are completed from its family and scored with the
portal's own scoring, so the plan knows the tier and EU AI Act category the portal will compute.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core import roles
from demo.catalogue import CATALOGUE, Family
from demo.organisation import (
    OWNERS,
    PEOPLE,
    UNIT_VALIDATOR_POOL,
    UNITS,
    VALIDATOR_POOLS,
    PersonSpec,
    UnitSpec,
)
from governance import scoring
from governance.defaults import DATA as GOVERNANCE_DATA
from inventory.choices import DataSensitivity, DependencyKind, LifecycleStage, ModelType, RegulatoryUse

DEFAULT_SEED = 1894

PROPOSED, DEVELOPMENT, VALIDATION, PRODUCTION, RETIRED = (
    LifecycleStage.PROPOSED.value,
    LifecycleStage.DEVELOPMENT.value,
    LifecycleStage.VALIDATION.value,
    LifecycleStage.PRODUCTION.value,
    LifecycleStage.RETIRED.value,
)
# Roughly what a bank's inventory looks like: most models live, a pipeline of new ones, a few retired.
STAGE_WEIGHTS = {PRODUCTION: 62, DEVELOPMENT: 13, VALIDATION: 10, PROPOSED: 8, RETIRED: 7}
# How far a model has come; a live model never relies on one that has come less far (or was retired).
STAGE_RANK = {PROPOSED: 0, DEVELOPMENT: 1, VALIDATION: 2, PRODUCTION: 3}
# Revalidation cycle by risk tier (tier 1 yearly), as the model risk policy sets it.
REVALIDATION_DAYS = {1: 365, 2: 730, 3: 1095}

RELEASE_LABELS = ("1.0.0", "1.1.0", "2.0.0", "2.1.0")
PROTOTYPE_LABELS = ("0.1.0", "0.2.0")
# The one version of a model trained by the demo set-up (German Credit).
TRAINED_VERSION = "1.0.0"

# What the questionnaire answers that a family does not state follow from (see ``questionnaire_answers``).
PERSONAL_DATA_BY_SENSITIVITY = {
    DataSensitivity.PERSONAL.value: "personal",
    DataSensitivity.SPECIAL_CATEGORY.value: "protected",
}
COMPLEXITY_BY_TYPE = {
    ModelType.RULES.value: "rules",
    ModelType.STATISTICAL.value: "interpretable",
    ModelType.MACHINE_LEARNING.value: "complex_ml",
    ModelType.LLM.value: "generative",
}
# Annex III areas by the regulatory use that puts a model in them; credit decisions only about natural persons.
ANNEX_III_BY_USE = {
    RegulatoryUse.CREDIT_DECISION.value: "creditworthiness",
    RegulatoryUse.INSURANCE_PRICING.value: "insurance_pricing",
    RegulatoryUse.EMPLOYMENT.value: "employment",
}
ABOUT_PEOPLE = frozenset({DataSensitivity.PERSONAL.value, DataSensitivity.SPECIAL_CATEGORY.value})

# name -> (low, high, decimals); values are drawn uniformly per version.
METRIC_PROFILES: dict[str, tuple[tuple[str, float, float, int], ...]] = {
    "scorecard": (("auc", 0.74, 0.86, 4), ("ks", 0.32, 0.52, 4), ("psi", 0.01, 0.12, 4)),
    "vendor_score": (("auc", 0.78, 0.88, 4), ("psi", 0.01, 0.10, 4)),
    "categoriser": (("categorisation_accuracy", 0.91, 0.97, 4), ("income_mape", 0.05, 0.12, 4)),
    "classifier": (("auc", 0.78, 0.93, 4), ("precision", 0.35, 0.75, 4), ("recall", 0.55, 0.85, 4)),
    "fraud": (("auc", 0.90, 0.98, 4), ("detection_rate_pct", 55, 85, 1), ("false_positive_ratio", 4, 20, 1)),
    "lgd": (("rmse", 0.12, 0.25, 4), ("spearman", 0.35, 0.65, 4), ("mean_lgd", 0.08, 0.45, 4)),
    "ead": (("ccf_mae", 0.08, 0.20, 4), ("r2", 0.30, 0.60, 4)),
    "regression": (("mape", 0.08, 0.25, 4), ("r2", 0.45, 0.80, 4)),
    "forecast": (("mape", 0.02, 0.12, 4), ("bias_pct", -3, 3, 2)),
    "pricing": (("gini", 0.20, 0.45, 4), ("deviance_explained", 0.05, 0.25, 4)),
    "decision_rules": (("decline_rate_pct", 12, 35, 1), ("referral_rate_pct", 3, 12, 1)),
    "tm_rules": (("alert_rate_pct", 0.05, 1.5, 2), ("productive_alert_rate_pct", 2, 18, 1)),
    "screening": (("recall", 0.97, 0.999, 4), ("false_positive_rate_pct", 0.5, 6, 2)),
    "llm": (
        ("faithfulness", 0.86, 0.97, 4),
        ("answer_relevance", 0.82, 0.95, 4),
        ("hallucination_rate_pct", 0.5, 4, 2),
        ("human_acceptance_rate", 0.70, 0.92, 4),
    ),
    "extraction": (("field_f1", 0.90, 0.985, 4), ("straight_through_rate", 0.60, 0.90, 4)),
    "retrieval": (("recall_at_10", 0.80, 0.95, 4), ("mrr", 0.55, 0.80, 4)),
    "transcription": (("word_error_rate", 0.06, 0.14, 4),),
    "var": (("backtest_exceptions_250d", 0, 4, 0), ("kupiec_p_value", 0.20, 0.95, 4)),
    "valuation_error": (("max_abs_pricing_error_bp", 0.1, 2.5, 2), ("independent_price_coverage", 0.85, 0.99, 4)),
    "ecl": (("backtest_error_pct", -8, 8, 2), ("auc", 0.72, 0.85, 4)),
    "clustering": (("silhouette", 0.25, 0.55, 4), ("segments", 6, 14, 0)),
}

VERSION_NOTES: dict[str, tuple[str, ...]] = {
    ModelType.RULES.value: (
        "Initial rule set.",
        "Threshold tuning after the annual review.",
        "Rule set redesign.",
        "Threshold tuning after a monitoring review.",
    ),
    ModelType.LLM.value: (
        "Initial prompt, retrieval and guardrail configuration.",
        "Prompt revision after user feedback.",
        "Moved to a newer pinned foundation model version.",
        "Guardrail update after red-team testing.",
    ),
    "model": (
        "Initial development.",
        "Recalibration on the latest 12 months of outcomes.",
        "Redevelopment with new data sources and segmentation.",
        "Recalibration after a monitoring trigger (population stability above 0.1).",
    ),
}


@dataclass(frozen=True)
class VersionPlan:
    """A version to register: label, notes and evidence."""

    label: str
    description: str
    artifact_digest: str
    training_data_ref: str
    metrics: Mapping[str, float | int] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelPlan:
    """A model to register, with its versions and questionnaire answers. ``scored`` is what the answers give
    (tier, EU AI Act category, reasons); ``trained_in_demo`` versions are trained, not drawn."""

    key: str
    slug: str
    unit: str
    name: str
    purpose: str
    restrictions_on_use: str
    inputs: str
    outputs: str
    limitations: str
    model_type: str
    vendor_name: str
    lifecycle_stage: str
    business_owner: str
    technical_owner: str
    validators: tuple[str, ...]
    regulatory_uses: tuple[str, ...]
    data_sensitivity: str
    answers: Mapping[str, Any]
    scored: scoring.AssessmentResult
    last_validated_on: date | None
    next_validation_due: date | None
    tags: tuple[str, ...]
    versions: tuple[VersionPlan, ...]
    trained_in_demo: bool = False

    @property
    def assessed(self) -> bool:
        """Whether the model has come far enough to be risk-assessed (everything but a proposal)."""
        return self.lifecycle_stage != PROPOSED

    @property
    def version_labels(self) -> tuple[str, ...]:
        """The model's version labels, oldest first, the version the demo trains included."""
        return (TRAINED_VERSION,) if self.trained_in_demo else tuple(version.label for version in self.versions)


@dataclass(frozen=True)
class DependencyPlan:
    """``downstream`` uses ``upstream`` (by model key)."""

    upstream: str
    downstream: str
    kind: str
    description: str


@dataclass(frozen=True)
class DemoPlan:
    """The whole demo inventory."""

    units: tuple[UnitSpec, ...]
    people: tuple[PersonSpec, ...]
    models: tuple[ModelPlan, ...]
    dependencies: tuple[DependencyPlan, ...]

    def model(self, key: str) -> ModelPlan:
        """The planned model with this key."""
        return next(model for model in self.models if model.key == key)


@dataclass
class _Draft:
    """A model while the plan is being built: the family instance and its stage."""

    family: Family
    slug: str
    key: str
    values: Mapping[str, str]
    upstreams: list[tuple[str, str]]
    tags: tuple[str, ...]
    stage: str
    stage_fixed: bool


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _expand(rng: random.Random) -> list[_Draft]:
    """One draft per family variant, keys issued per unit prefix in catalogue order, stages drawn."""
    prefixes = {unit.code: unit.key_prefix for unit in UNITS}
    counters: dict[str, int] = {}
    drafts: list[_Draft] = []
    stages, weights = zip(*STAGE_WEIGHTS.items(), strict=True)
    for family in CATALOGUE:
        for variant in family.variants:
            prefix = prefixes[family.unit]
            counters[prefix] = counters.get(prefix, 0) + 1
            fixed = variant.stage or family.stage
            drawn = rng.choices(stages, weights=weights)[0]
            drafts.append(
                _Draft(
                    family=family,
                    slug=family.slug.format(**variant.values),
                    key=f"{prefix}-{counters[prefix]:04d}",
                    values=variant.values,
                    upstreams=[
                        (dep.slug.format(**variant.values), dep.kind)
                        for dep in (*family.depends_on, *variant.depends_on)
                    ],
                    tags=tuple(dict.fromkeys((*family.tags, *variant.tags))),
                    stage=fixed or drawn,
                    stage_fixed=fixed is not None,
                )
            )
    slugs = [draft.slug for draft in drafts]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise ValueError(f"Duplicate catalogue slugs: {', '.join(duplicates)}")
    return drafts


def _check_acyclic(drafts: list[_Draft]) -> None:
    """Refuse a catalogue whose dependencies loop (Kahn's algorithm)."""
    downstream_of: dict[str, list[str]] = {draft.slug: [] for draft in drafts}
    waiting = {draft.slug: len(draft.upstreams) for draft in drafts}
    for draft in drafts:
        for upstream, _kind in draft.upstreams:
            downstream_of[upstream].append(draft.slug)
    ready = [slug for slug, count in waiting.items() if count == 0]
    done = 0
    while ready:
        slug = ready.pop()
        done += 1
        for downstream in downstream_of[slug]:
            waiting[downstream] -= 1
            if waiting[downstream] == 0:
                ready.append(downstream)
    if done != len(drafts):
        looped = sorted(slug for slug, count in waiting.items() if count > 0)
        raise ValueError(f"Catalogue dependencies form a cycle through: {', '.join(looped)}")


def _align_stages(drafts: list[_Draft]) -> None:
    """Make every model a live model relies on at least as far along (and not retired): a production PD model
    fed by a proposed bureau score would not be believable. Converges because the graph has no cycle."""
    by_slug = {draft.slug: draft for draft in drafts}
    changed = True
    while changed:
        changed = False
        for draft in drafts:
            if draft.stage == RETIRED:
                continue
            for slug, _kind in draft.upstreams:
                upstream = by_slug[slug]
                if upstream.stage == RETIRED or STAGE_RANK[upstream.stage] < STAGE_RANK[draft.stage]:
                    if upstream.stage_fixed:
                        raise ValueError(f"{draft.slug} ({draft.stage}) relies on {slug} fixed at {upstream.stage}")
                    upstream.stage = PRODUCTION
                    changed = True


def _metrics(rng: random.Random, profile: str) -> dict[str, float | int]:
    values: dict[str, float | int] = {}
    for name, low, high, decimals in METRIC_PROFILES[profile]:
        value = rng.uniform(low, high)
        values[name] = round(value) if decimals == 0 else round(value, decimals)
    if "auc" in values and profile in {"scorecard", "vendor_score"}:
        values["gini"] = round(2 * values["auc"] - 1, 4)
    return values


def _labels(rng: random.Random, stage: str) -> tuple[str, ...]:
    if stage == PROPOSED:
        return PROTOTYPE_LABELS[:1]
    if stage == DEVELOPMENT:
        return PROTOTYPE_LABELS[: rng.randint(1, 2)]
    if stage == PRODUCTION:
        return RELEASE_LABELS[: rng.randint(1, 4)]
    return RELEASE_LABELS[: rng.randint(1, 3)]


def _training_data_ref(draft: _Draft, label: str) -> str:
    family, unit = draft.family, draft.family.unit.lower()
    if family.model_type == ModelType.VENDOR:
        return f"vendor://{_slugify(family.vendor)}/{draft.slug}/releases/{label}"
    if family.model_type == ModelType.RULES:
        return f"git+https://git.northwind-bank.example/{unit}/{draft.slug}.git@v{label}"
    if family.model_type == ModelType.LLM:
        return f"s3://northwind-modeldata/{unit}/{draft.key.lower()}/{label}/evaluation-set.jsonl"
    if family.model_type == ModelType.STATISTICAL:
        return f"dwh://RISK_MODEL_DEV.{draft.key.replace('-', '_')}_V{label.replace('.', '_')}"
    return f"s3://northwind-modeldata/{unit}/{draft.key.lower()}/{label}/training.parquet"


def _versions(rng: random.Random, draft: _Draft) -> tuple[VersionPlan, ...]:
    family = draft.family
    labels = _labels(rng, draft.stage)
    versions = []
    for index, label in enumerate(labels):
        if label in PROTOTYPE_LABELS:
            note = "Proof of concept." if draft.stage == PROPOSED else ("Prototype.", "Development candidate.")[index]
        elif family.model_type == ModelType.VENDOR:
            note = f"Vendor release {label} onboarded after the bank's acceptance testing."
        else:
            note = VERSION_NOTES.get(family.model_type, VERSION_NOTES["model"])[index]
        if draft.stage == VALIDATION and index == len(labels) - 1:
            note += " Candidate for independent validation."
        versions.append(
            VersionPlan(
                label=label,
                description=note,
                artifact_digest="sha256:" + hashlib.sha256(f"northwind-demo/{draft.key}/{label}".encode()).hexdigest(),
                training_data_ref=_training_data_ref(draft, label),
                metrics=_metrics(rng, family.metrics),
            )
        )
    return tuple(versions)


def _validation_dates(
    rng: random.Random, stage: str, tier: int, releases: int, today: date
) -> tuple[date | None, date | None]:
    """(last validated, next due) for a model at ``stage``; production ages are drawn past the cycle now and
    then, so some revalidations are overdue."""
    cycle = REVALIDATION_DAYS[tier]
    if stage == PRODUCTION:
        last = today - timedelta(days=rng.randint(20, cycle + 75))
        return last, last + timedelta(days=cycle)
    if stage == VALIDATION:
        previous = today - timedelta(days=rng.randint(cycle - 90, cycle + 60)) if releases > 1 else None
        return previous, today + timedelta(days=rng.randint(14, 90))
    if stage == RETIRED:
        return today - timedelta(days=rng.randint(400, 1400)), None
    return None, None


@functools.cache
def questionnaire_v1() -> dict[str, Any]:
    """The definition of questionnaire v1 as the portal installs it (read once)."""
    definition: dict[str, Any] = json.loads((GOVERNANCE_DATA / "questionnaire_v1.json").read_text(encoding="utf-8"))
    return definition


def questionnaire_answers(family: Family) -> dict[str, Any]:
    """The family's answers to questionnaire v1: its judgement calls (``family.risk``) completed from the family.

    Annex III areas follow from the regulatory uses (credit decisions only when the data is about people, so
    corporate ratings are not 5(b)); fraud detection counts only when nothing else does. Personal data follows
    from the data sensitivity, complexity from the model type, and an LLM application's internals are the
    foundation model's: a documented vendor black box.
    """
    risk = family.risk
    about_people = family.sensitivity in ABOUT_PEOPLE
    areas = [
        area
        for use, area in ANNEX_III_BY_USE.items()
        if use in family.uses and (about_people or use != RegulatoryUse.CREDIT_DECISION)
    ]
    if not areas and RegulatoryUse.FRAUD in family.uses:
        areas = ["fraud_detection"]
    complexity = risk.complexity or COMPLEXITY_BY_TYPE.get(family.model_type)
    if complexity is None:
        raise ValueError(f"{family.slug}: a vendor model must say how complex it is")
    default_opacity = "vendor_documented" if family.model_type == ModelType.LLM else "in_house"
    return {
        "materiality": risk.materiality,
        "decision_autonomy": risk.decision_autonomy,
        "annex_iii_areas": areas or ["none"],
        "personal_data": risk.personal_data or PERSONAL_DATA_BY_SENSITIVITY.get(family.sensitivity, "none"),
        "complexity": complexity,
        "vendor_opacity": risk.vendor_opacity or default_opacity,
        "user_population": risk.user_population,
        "prohibited_practices": list(risk.prohibited_practices),
        "transparency": list(risk.transparency),
    }


def _score(family: Family) -> tuple[dict[str, Any], scoring.AssessmentResult]:
    definition = questionnaire_v1()
    answers = questionnaire_answers(family)
    problems = scoring.validate_answers(definition, answers)
    if problems:
        raise ValueError(f"{family.slug}: answers do not fit questionnaire v1: {problems}")
    return answers, scoring.score_answers(definition, answers)


def _people_by_role() -> dict[str, set[str]]:
    by_role: dict[str, set[str]] = {}
    for person in PEOPLE:
        by_role.setdefault(person.role, set()).add(person.username)
    return by_role


def build_plan(*, today: date, seed: int = DEFAULT_SEED) -> DemoPlan:
    """The demo inventory for ``seed`` as of ``today``; raises ``ValueError`` if the definition is inconsistent."""
    # Demo data, not security: a seeded, reproducible generator is exactly what is wanted here.
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret  # nosec B311
    drafts = _expand(rng)
    by_slug = {draft.slug: draft for draft in drafts}
    unknown = sorted({slug for draft in drafts for slug, _kind in draft.upstreams if slug not in by_slug})
    if unknown:
        raise ValueError(f"Unknown upstream slugs: {', '.join(unknown)}")
    _check_acyclic(drafts)
    _align_stages(drafts)

    owners_by_role = _people_by_role()
    scored_families = {family.slug: _score(family) for family in CATALOGUE}
    rotation: dict[str, int] = {}
    models = []
    for draft in drafts:
        family = draft.family
        business_owner, technical_owners = OWNERS[family.unit]
        turn = rotation.get(family.unit, 0)
        rotation[family.unit] = turn + 1
        technical_owner = family.technical_owner or technical_owners[turn % len(technical_owners)]
        pool = VALIDATOR_POOLS["ai" if family.model_type == ModelType.LLM else UNIT_VALIDATOR_POOL[family.unit]]
        answers, scored = scored_families[family.slug]
        validators = tuple(rng.sample(pool, 2 if scored.tier == 1 else 1)) if draft.stage != PROPOSED else ()
        versions = () if family.trained_in_demo else _versions(rng, draft)
        releases = sum(version.label in RELEASE_LABELS for version in versions)
        last_validated, next_due = _validation_dates(rng, draft.stage, scored.tier, releases, today)
        models.append(
            ModelPlan(
                key=draft.key,
                slug=draft.slug,
                unit=family.unit,
                name=family.name.format(**draft.values),
                purpose=family.purpose.format(**draft.values),
                restrictions_on_use=family.restrictions.format(**draft.values),
                inputs=family.inputs.format(**draft.values),
                outputs=family.outputs.format(**draft.values),
                limitations=family.limitations.format(**draft.values),
                model_type=family.model_type,
                vendor_name=family.vendor,
                lifecycle_stage=draft.stage,
                business_owner=business_owner,
                technical_owner=technical_owner,
                validators=validators,
                regulatory_uses=family.uses,
                data_sensitivity=family.sensitivity,
                answers=answers,
                scored=scored,
                last_validated_on=last_validated,
                next_validation_due=next_due,
                tags=draft.tags,
                versions=versions,
                trained_in_demo=family.trained_in_demo,
            )
        )
        if {business_owner, technical_owner} - owners_by_role[roles.MODEL_OWNER]:
            raise ValueError(f"{draft.key}: owners must hold the Model Owner role")
        if set(validators) - owners_by_role[roles.VALIDATOR]:
            raise ValueError(f"{draft.key}: validators must hold the Validator role")

    names = {draft.slug: (draft.key, model.name) for draft, model in zip(drafts, models, strict=True)}
    dependencies = tuple(
        DependencyPlan(
            upstream=names[slug][0],
            downstream=draft.key,
            kind=kind,
            description=f"{'Built on' if kind == DependencyKind.COMPONENT else 'Uses the output of'} {names[slug][1]}.",
        )
        for draft in drafts
        for slug, kind in draft.upstreams
    )
    return DemoPlan(units=UNITS, people=PEOPLE, models=tuple(models), dependencies=dependencies)
