"""Writes the demo plan into the database, through the same services every other write uses.

Idempotent by natural keys: units by code, people by username, models by their fixed keys. What exists is
left exactly as it is (its versions and links included), so a second run changes nothing, and a demo
inventory someone has edited keeps their edits. The governance story (assessments, approvals, findings) is
told to each model once, by ``demo.seed_governance``. The German Credit model's files live under
``VAR_DIR`` and are rewritten only when missing or changed; retraining with the same libraries reproduces the
registered digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction

from core.history import save_with_history
from core.models import User
from core.services import api_token_issue, user_create
from demo.organisation import PIPELINE_ACCESS_NAME, PIPELINE_ACCOUNT, REGISTRAR, PersonSpec, UnitSpec
from demo.plan import DEFAULT_SEED, TRAINED_VERSION, DemoPlan, ModelPlan, build_plan
from demo.seed_governance import GovernanceSummary, seed_governance
from demo.story import build_story
from inventory import services
from inventory.models import BusinessUnit, ModelVersion, RegisteredModel

DEMO_PASSWORD = "northwind-demo"  # noqa: S105 - published demo login; refused outside debug  # nosec B105
IMPORT_REASON = "Imported from the legacy model inventory (demo data)"
SETUP_REASON = "Demo organisation set-up"

GERMAN_CREDIT_CSV = "german_credit.csv"
PREDICTIONS_FILE = "german_credit_predictions.csv"


@dataclass
class GermanCreditOutcome:
    """Where the trained model and its predictions are, and what happened to them in this run.

    ``status``: ``trained`` (version registered now), ``present`` (files match the version), ``restored``
    (missing files rewritten, same digest) or ``mismatch`` (rewritten, but the digest differs from the version's).
    """

    key: str
    version: str
    status: str
    model_path: Path
    predictions_path: Path
    digest: str
    metrics: dict[str, float | int] = field(default_factory=dict)


@dataclass
class SeedSummary:
    """What a run created and what it found already in place."""

    units_created: int = 0
    units_existing: int = 0
    people_created: int = 0
    people_existing: int = 0
    models_created: int = 0
    models_existing: int = 0
    versions_created: int = 0
    dependencies_created: int = 0
    conflicts: list[str] = field(default_factory=list)
    api_token: str | None = None
    german_credit: GermanCreditOutcome | None = None
    governance: GovernanceSummary = field(default_factory=GovernanceSummary)

    @property
    def changed(self) -> bool:
        """Whether this run wrote anything (rows or the German Credit files)."""
        files_written = self.german_credit is not None and self.german_credit.status != "present"
        created = (
            self.units_created,
            self.people_created,
            self.models_created,
            self.versions_created,
            self.dependencies_created,
        )
        return any(created) or files_written or self.governance.changed


def _create_person(spec: PersonSpec, unit: BusinessUnit | None, password: str) -> User:
    return user_create(
        username=spec.username,
        email=spec.email,
        first_name=spec.first_name,
        last_name=spec.last_name,
        title=spec.title,
        business_unit=unit,
        roles=[spec.role],
        password=password if spec.login else None,
        is_service_account=spec.service_account,
    )


def _seed_units(plan: DemoPlan, summary: SeedSummary, admin: User) -> tuple[dict[str, BusinessUnit], list[UnitSpec]]:
    """Every demo unit by code, and the specs of those created now (parents come before their children)."""
    units = {unit.code: unit for unit in BusinessUnit.objects.filter(code__in=[u.code for u in plan.units])}
    summary.units_existing = len(units)
    created = []
    for unit_spec in plan.units:
        if unit_spec.code in units:
            continue
        units[unit_spec.code] = services.business_unit_create(
            actor=admin,
            code=unit_spec.code,
            name=unit_spec.name,
            parent=units[unit_spec.parent] if unit_spec.parent else None,
            key_prefix=unit_spec.key_prefix,
            description=unit_spec.description,
            reason=SETUP_REASON,
        )
        created.append(unit_spec)
    summary.units_created = len(created)
    return units, created


def _seed_organisation(plan: DemoPlan, summary: SeedSummary, password: str) -> dict[str, User]:
    """Units and people; returns every demo person by username."""
    wanted = [person.username for person in plan.people]
    people = {user.username: user for user in User.objects.filter(username__in=wanted)}
    summary.people_existing = len(people)

    # Units need an actor and people need units: the administrator comes first and joins a unit afterwards.
    admin_spec = next(person for person in plan.people if person.superuser)
    new_admin = admin_spec.username not in people
    if new_admin:
        people[admin_spec.username] = _create_person(admin_spec, None, password)
    admin = people[admin_spec.username]
    units, new_units = _seed_units(plan, summary, admin)
    if new_admin:
        admin.business_unit = units[admin_spec.unit]
        admin.is_superuser = True
        save_with_history(
            admin,
            actor=None,
            reason=f"{SETUP_REASON}: the portal administrator is a superuser",
            update_fields=["business_unit", "is_superuser"],
        )

    for person in plan.people:
        if person.username in people:
            continue
        people[person.username] = _create_person(person, units[person.unit], password)
        if person.username == PIPELINE_ACCOUNT:
            _token, summary.api_token = api_token_issue(
                actor=admin, user=people[person.username], name=PIPELINE_ACCESS_NAME
            )
    summary.people_created = len(plan.people) - summary.people_existing

    for unit_spec in new_units:
        if unit_spec.head and unit_spec.head in people:
            services.business_unit_update(
                actor=admin,
                unit=units[unit_spec.code],
                changes={"head": people[unit_spec.head]},
                reason=f"{SETUP_REASON}: head of unit appointed",
            )
    return people


def _register_model(plan: ModelPlan, *, units: dict[str, BusinessUnit], people: dict[str, User]) -> RegisteredModel:
    """Register the model as the legacy inventory had it; its tier comes later, from its risk assessment."""
    return services.registered_model_create(
        actor=people[REGISTRAR],
        key=plan.key,
        name=plan.name,
        purpose=plan.purpose,
        model_type=plan.model_type,
        business_unit=units[plan.unit],
        business_owner=people[plan.business_owner],
        technical_owner=people[plan.technical_owner],
        validators=[people[username] for username in plan.validators],
        tags=plan.tags,
        reason=IMPORT_REASON,
        restrictions_on_use=plan.restrictions_on_use,
        inputs=plan.inputs,
        outputs=plan.outputs,
        limitations=plan.limitations,
        vendor_name=plan.vendor_name,
        lifecycle_stage=plan.lifecycle_stage,
        regulatory_uses=list(plan.regulatory_uses),
        data_sensitivity=plan.data_sensitivity,
        last_validated_on=plan.last_validated_on,
        next_validation_due=plan.next_validation_due,
    )


def _seed_models(plan: DemoPlan, summary: SeedSummary, people: dict[str, User]) -> dict[str, RegisteredModel]:
    """Register the models that are missing, with their versions and upstream links; returns all demo models
    that are really the demo's (a key taken by another model is reported, never touched)."""
    units = {unit.code: unit for unit in BusinessUnit.objects.filter(code__in=[u.code for u in plan.units])}
    existing = {model.key: model for model in RegisteredModel.objects.filter(key__in=[m.key for m in plan.models])}
    models: dict[str, RegisteredModel] = {}
    created: set[str] = set()
    for model_plan in plan.models:
        found = existing.get(model_plan.key)
        if found is not None:
            summary.models_existing += 1
            if found.name != model_plan.name:
                summary.conflicts.append(
                    f"{found.key} is {found.name!r}, not the demo's {model_plan.name!r}: left alone"
                )
            else:
                models[found.key] = found
            continue
        model = _register_model(model_plan, units=units, people=people)
        owner = people[model_plan.technical_owner]
        for version in model_plan.versions:
            services.model_version_create(
                actor=owner,
                model=model,
                version=version.label,
                description=version.description,
                artifact_digest=version.artifact_digest,
                training_data_ref=version.training_data_ref,
                metrics=dict(version.metrics),
                reason=IMPORT_REASON,
            )
            summary.versions_created += 1
        models[model.key] = model
        created.add(model.key)
    summary.models_created = len(created)

    # A link belongs to its downstream model, so only new models get their links.
    for link in plan.dependencies:
        if link.downstream not in created or link.upstream not in models:
            continue
        downstream = models[link.downstream]
        services.model_dependency_create(
            actor=people[plan.model(link.downstream).technical_owner],
            upstream=models[link.upstream],
            downstream=downstream,
            kind=link.kind,
            description=link.description,
            reason=IMPORT_REASON,
        )
        summary.dependencies_created += 1
    return models


def _seed_german_credit(
    model_plan: ModelPlan,
    model: RegisteredModel,
    *,
    owner: User,
    data_dir: Path,
    var_dir: Path,
    summary: SeedSummary,
) -> GermanCreditOutcome:
    """Train the German Credit model when it has no version yet or its files are missing; register version
    1.0.0 with the artifact's digest, the training data's digest and the test-set figures."""
    csv_path = data_dir / GERMAN_CREDIT_CSV
    model_path = var_dir / "demo" / "models" / f"{model_plan.key}-{TRAINED_VERSION}.joblib"
    predictions_path = var_dir / "demo" / PREDICTIONS_FILE
    version = ModelVersion.objects.filter(model=model, version=TRAINED_VERSION).first()
    if version is not None and model_path.exists() and predictions_path.exists():
        with model_path.open("rb") as artifact:
            digest = hashlib.file_digest(artifact, "sha256").hexdigest()
        if version.artifact_digest == f"sha256:{digest}":
            return GermanCreditOutcome(
                model_plan.key, version.version, "present", model_path, predictions_path, digest, version.metrics
            )

    # pandas and scikit-learn take seconds to import; a run with the model already in place never needs them.
    from demo import german_credit

    result = german_credit.train(german_credit.load_german_credit(csv_path))
    digest = german_credit.save_model(result.pipeline, model_path)
    german_credit.write_predictions(result.predictions, predictions_path)
    if version is not None:
        # The rows stay as registered; only the files were missing. Retraining is deterministic, so the digest
        # matches unless the installed scikit-learn or joblib changed.
        status = "restored" if version.artifact_digest == f"sha256:{digest}" else "mismatch"
        return GermanCreditOutcome(
            model_plan.key, version.version, status, model_path, predictions_path, digest, version.metrics
        )
    services.model_version_create(
        actor=owner,
        model=model,
        version=TRAINED_VERSION,
        description=(
            "Logistic regression trained on the shipped German Credit data: numeric attributes standardised, "
            "categorical attributes one-hot encoded, stratified 70/30 split (random_state=42). Metrics are on "
            f"the {result.metrics['test_rows']} test applicants; their predictions are kept for bias audits."
        ),
        artifact_digest=f"sha256:{digest}",
        training_data_ref=f"demo/data/{GERMAN_CREDIT_CSV}@sha256:{german_credit.file_sha256(csv_path)}",
        metrics=result.metrics,
        reason="Trained by the demo set-up on the German Credit data",
    )
    summary.versions_created += 1
    return GermanCreditOutcome(
        model_plan.key, TRAINED_VERSION, "trained", model_path, predictions_path, digest, result.metrics
    )


@transaction.atomic
def seed_demo(
    *,
    var_dir: Path,
    data_dir: Path,
    today: date,
    seed: int = DEFAULT_SEED,
    password: str = DEMO_PASSWORD,
) -> SeedSummary:
    """Create whatever part of the Northwind Bank demo inventory is missing, and tell the governance story of
    the models that have none yet, in one transaction."""
    plan = build_plan(today=today, seed=seed)
    summary = SeedSummary()
    people = _seed_organisation(plan, summary, password)
    models = _seed_models(plan, summary, people)
    for model_plan in plan.models:
        if model_plan.trained_in_demo and model_plan.key in models:
            summary.german_credit = _seed_german_credit(
                model_plan,
                models[model_plan.key],
                owner=people[model_plan.technical_owner],
                data_dir=data_dir,
                var_dir=var_dir,
                summary=summary,
            )
    summary.governance = seed_governance(
        build_story(plan, today=today, seed=seed), models=models, people=people, today=today
    )
    return summary
