"""A synthetic enterprise inventory, built with bulk inserts: units, people, models, versions, artifacts, findings.

The full size is the issue's enterprise: 100,000 models, 300,000 versions, 1,000,000 artifacts, ~60 business
units, ~500 people, ~20,000 findings, a deployment for every production model. Object permissions are the rows
the services would grant (owners: view + change; validators: view + validate; the CI account: view + report on
the models it may report for), inserted in bulk as ``RegisteredModelUserObjectPermission`` rows. Nothing goes
through the services (that would take hours); field history and ledger events are therefore not written.

Distributions are fixed by a seed, so two runs build the same inventory. The personas the timings act as are
returned in :class:`Enterprise`: a Risk Officer (sees everything), an owner who may see about 100 models, and a
CI service account with an API token scoped to ``ci_models`` models.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any

BATCH = 5000
SIZES: dict[str, dict[str, int]] = {
    "full": {
        "models": 100_000,
        "versions": 300_000,
        "artifacts": 1_000_000,
        "people": 500,
        "findings": 20_000,
        "ci_models": 1_000,
    },
    "small": {
        "models": 2_000,
        "versions": 6_000,
        "artifacts": 20_000,
        "people": 100,
        "findings": 400,
        "ci_models": 200,
    },
}
# Division → sub-units: 6 divisions with 9 units each, 60 units in all.
DIVISIONS = ("RETAIL", "CORP", "MARKETS", "INSURE", "RISK", "OPS")
TAGS = (
    "credit-risk",
    "pd",
    "lgd",
    "ead",
    "ifrs9",
    "cecl",
    "aml",
    "fraud",
    "pricing",
    "churn",
    "marketing",
    "nlp",
    "llm",
    "genai",
    "vision",
    "forecasting",
    "capital",
    "stress-test",
    "treasury",
    "collections",
    "underwriting",
    "claims",
    "hr",
    "recommender",
    "anomaly",
    "scorecard",
    "vendor-hosted",
    "batch",
    "realtime",
    "edge",
    "legacy",
    "mrm-priority",
    "sox",
    "gdpr",
    "pii",
    "customer-facing",
    "internal-only",
    "challenger",
    "champion",
    "ensemble",
)
ARTIFACT_KINDS = (
    "git_commit",
    "ci_run",
    "container_image",
    "model_file",
    "dataset_version",
    "experiment_run",
    "pull_request",
    "document",
)


@dataclass
class Enterprise:
    """What the build made and who the timings act as (primary keys, so they survive a closed connection)."""

    counts: dict[str, int]
    seconds: float
    risk_officer_id: int
    owner_id: int
    owner_models: int
    ci_id: int
    ci_token: str
    officer_token: str
    admin_id: int
    tag: str
    tier: int
    stage: str
    ci_keys: list[str] = field(default_factory=list)
    # The least frequent tag (under 1% of models): a list filtered by it reads few models, not the inventory.
    rare_tag: str = ""
    # (model key, version label, digest) of deployed versions the CI account may report for: gate questions.
    gate_targets: list[tuple[str, str, str]] = field(default_factory=list)


def sizes(size: str, models: int | None = None) -> dict[str, int]:
    """The counts for ``size``; ``models`` scales every count with it (versions, artifacts and findings)."""
    counts = dict(SIZES[size])
    if models is not None and models != counts["models"]:
        factor = models / counts["models"]
        for name in ("versions", "artifacts", "findings"):
            counts[name] = max(1, round(counts[name] * factor))
        counts["models"] = models
        counts["ci_models"] = min(counts["ci_models"], models)
        counts["people"] = max(20, min(counts["people"], models))
    return counts


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _weighted(rng: random.Random, choices: dict[Any, int]) -> Any:
    return rng.choices(list(choices), weights=list(choices.values()))[0]


def _artifact(rng: random.Random, kind: str, key: str, label: str, number: int) -> dict[str, Any]:
    """One artifact's identity, URI, digest and canonical metadata, as the ingestion service would store them."""
    repo = f"https://git.example.com/models/{key.lower()}"
    meta: dict[str, Any]
    if kind == "git_commit":
        sha = _hex(rng, 40)
        meta = {"repository": repo, "sha": sha, "url": f"{repo}/commit/{sha}"}
        return {"identity": f"{repo}@{sha}", "uri": meta["url"], "digest": "", "metadata": meta, "name": sha[:12]}
    if kind == "pull_request":
        url = f"{repo}/pull/{number}"
        meta = {"repository": repo, "number": number, "url": url, "title": f"Release {label}"}
        return {"identity": f"{repo}#{number}", "uri": url, "digest": "", "metadata": meta, "name": f"#{number}"}
    if kind == "ci_run":
        run_id = str(rng.randrange(10**8, 10**9))
        url = f"https://ci.example.com/{key.lower()}/runs/{run_id}"
        meta = {"system": "jenkins", "url": url, "run_id": run_id, "actor": "ci-bot", "status": "success"}
        return {"identity": f"jenkins:{run_id}", "uri": url, "digest": "", "metadata": meta, "name": run_id}
    if kind == "container_image":
        digest = f"sha256:{_hex(rng, 64)}"
        reference = f"registry.example.com/models/{key.lower()}:{label}"
        meta = {"reference": reference, "digest": digest}
        return {"identity": digest, "uri": reference, "digest": digest, "metadata": meta, "name": reference}
    if kind == "experiment_run":
        run_id = _hex(rng, 32)
        tracking = "https://mlflow.example.com"
        meta = {"tracking_uri": tracking, "run_id": run_id, "metrics": {"auc": round(rng.uniform(0.6, 0.95), 4)}}
        return {"identity": f"{tracking}#{run_id}", "uri": tracking, "digest": "", "metadata": meta, "name": run_id[:8]}
    if kind in {"dataset_version", "model_file"}:
        digest = f"sha256:{_hex(rng, 64)}"
        folder = "datasets" if kind == "dataset_version" else "models"
        uri = f"s3://bank-ml/{folder}/{key.lower()}/{label}/{'train.parquet' if folder == 'datasets' else 'model.pkl'}"
        meta = {"uri": uri, "digest": digest}
        return {"identity": f"{uri}@{digest}", "uri": uri, "digest": digest, "metadata": meta, "name": uri}
    uri = f"https://docs.example.com/{key.lower()}/{label}/model-card.pdf"
    meta = {"document_type": "model_card", "uri": uri, "title": f"Model card {key} {label}"}
    return {"identity": uri, "uri": uri, "digest": "", "metadata": meta, "name": meta["title"]}


def build(size: str = "small", *, models: int | None = None, seed: int = 42, log: Any = print) -> Enterprise:
    """Insert the enterprise inventory into the current (empty, migrated) database; Django must be set up."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.db import transaction
    from django.utils import timezone

    from core import roles
    from core.models import User
    from core.services import api_token_issue
    from governance.models import Finding
    from inventory.models import (
        Artifact,
        BusinessUnit,
        Deployment,
        ModelVersion,
        RegisteredModel,
        RegisteredModelUserObjectPermission,
        Tag,
    )

    counts = sizes(size, models)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible from the seed
    unusable = make_password(None)  # nobody built here signs in with a password
    started = time.perf_counter()
    now = timezone.now()
    today = now.date()

    def step(what: str, since: float) -> float:
        log(f"bench: built {what} in {time.perf_counter() - since:.1f} s")
        return time.perf_counter()

    mark = time.perf_counter()
    # --- units: 6 divisions × (1 + 9) ---------------------------------------------------------------------------
    divisions = BusinessUnit.objects.bulk_create(
        [
            BusinessUnit(code=code, name=code.title(), path=f"{code}/", key_prefix=code[:2], created_at=now)
            for code in DIVISIONS
        ]
    )
    units = list(divisions)
    for division in divisions:
        units += BusinessUnit.objects.bulk_create(
            [
                BusinessUnit(
                    code=f"{division.code}-{n}",
                    name=f"{division.name} unit {n}",
                    parent=division,
                    path=f"{division.path}{division.code}-{n}/",
                    key_prefix=f"{division.code[:2]}{n}",
                    created_at=now,
                )
                for n in range(1, 10)
            ]
        )
    if any(unit.pk is None for unit in units):
        units = list(BusinessUnit.objects.order_by("pk"))
    leaf_units = [unit for unit in units if unit.parent_id is not None]

    # --- people and personas ------------------------------------------------------------------------------------
    first = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jules", "Kofi", "Lena"]
    last = ["Meyer", "Okafor", "Silva", "Tanaka", "Novak", "Haddad", "Larsen", "Rossi", "Kim", "Dubois"]
    people = User.objects.bulk_create(
        [
            User(
                username=f"person{n:04d}",
                first_name=first[n % len(first)],
                last_name=last[(n // len(first)) % len(last)],
                email=f"person{n:04d}@example.com",
                title="Model owner" if n < counts["people"] * 4 // 5 else "Model validator",
                business_unit=leaf_units[n % len(leaf_units)],
                password=unusable,
            )
            for n in range(counts["people"])
        ]
    )
    if any(person.pk is None for person in people):
        people = list(User.objects.filter(username__startswith="person").order_by("username"))
    owners = people[: counts["people"] * 4 // 5]
    validators = people[counts["people"] * 4 // 5 :]
    admin = User.objects.create(username="bench-admin", is_superuser=True, is_staff=True, password=unusable)
    risk_officer = User.objects.create(username="bench-risk-officer", title="Risk officer", password=unusable)
    owner = User.objects.create(username="bench-owner", title="Model owner (about 100 models)", password=unusable)
    ci = User.objects.create(username="bench-ci", is_service_account=True, title="CI pipeline", password=unusable)
    groups = {group.name: group for group in Group.objects.all()}
    membership = User.groups.through
    membership.objects.bulk_create(
        [membership(user_id=p.pk, group_id=groups[roles.MODEL_OWNER].pk) for p in [*owners, owner]]
        + [membership(user_id=p.pk, group_id=groups[roles.VALIDATOR].pk) for p in validators]
        + [
            membership(user_id=risk_officer.pk, group_id=groups[roles.RISK_OFFICER].pk),
            membership(user_id=ci.pk, group_id=groups[roles.CI_SERVICE].pk),
        ]
    )
    tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
    if any(tag.pk is None for tag in tags):
        tags = list(Tag.objects.order_by("pk"))
    tag_weights = [1.0 / (rank + 1) for rank in range(len(tags))]  # Zipf-like: a few tags are common
    mark = step(f"{len(units)} units, {len(people) + 4} people, {len(tags)} tags", mark)

    # --- models -------------------------------------------------------------------------------------------------
    perms = {
        p.codename: p.pk
        for p in Permission.objects.filter(
            content_type__app_label="inventory",
            codename__in=[f"{action}_registeredmodel" for action in ("view", "change", "validate", "report")],
        )
    }
    stages = {"production": 45, "development": 20, "validation": 10, "proposed": 10, "retired": 15}
    tiers = {1: 15, 2: 35, 3: 45, None: 5}
    types = {"ml": 45, "statistical": 25, "rules": 10, "llm": 10, "vendor": 10}
    eu = {"minimal": 55, "limited": 20, "high_risk": 20, "": 5}
    sensitivity = {"internal": 30, "confidential": 30, "personal": 30, "special_category": 5, "public": 5}
    uses = [
        "credit_decision",
        "provisioning",
        "regulatory_capital",
        "fraud",
        "aml_sanctions",
        "market_risk",
        "none",
    ]
    owner_stride = max(1, counts["models"] // 100)  # the persona owns one model in every `owner_stride`
    ci_stride = max(1, counts["models"] // counts["ci_models"])
    tag_through = RegisteredModel.tags.through
    validator_through = RegisteredModel.validators.through
    totals = {"models": 0, "object_permissions": 0, "model_tags": 0}
    model_rows: list[tuple[int, str, str, int | None, int]] = []  # (pk, key, stage, tier, business owner pk)
    owner_models = 0
    ci_keys: list[str] = []
    for start in range(0, counts["models"], BATCH):
        batch = []
        for number in range(start, min(start + BATCH, counts["models"])):
            unit = leaf_units[number % len(leaf_units)]
            stage = _weighted(rng, stages)
            business_owner = owner if number % owner_stride == 0 else owners[rng.randrange(len(owners))]
            batch.append(
                RegisteredModel(
                    key=f"{unit.key_prefix}-{number:06d}",
                    name=f"{rng.choice(['PD', 'LGD', 'Fraud', 'Churn', 'Pricing', 'AML', 'Forecast', 'Assistant'])}"
                    f" model {number}",
                    purpose="Synthetic enterprise model for the benchmark.",
                    model_type=_weighted(rng, types),
                    vendor_name="",
                    lifecycle_stage=stage,
                    business_unit=unit,
                    business_owner=business_owner,
                    technical_owner=owners[rng.randrange(len(owners))],
                    regulatory_uses=rng.sample(uses, rng.randint(1, 2)),
                    data_sensitivity=_weighted(rng, sensitivity),
                    risk_tier=_weighted(rng, tiers),
                    eu_ai_act_category=_weighted(rng, eu),
                    last_validated_on=today - dt.timedelta(days=rng.randrange(30, 700)),
                    next_validation_due=today + dt.timedelta(days=rng.randrange(-120, 400)),
                    created_at=now - dt.timedelta(days=rng.randrange(1, 2000)),
                )
            )
        with transaction.atomic():
            created = RegisteredModel.objects.bulk_create(batch)
            if any(model.pk is None for model in created):
                created = list(RegisteredModel.objects.filter(key__in=[model.key for model in created]))
            permission_rows = []
            tag_rows = []
            validator_rows = []
            for model in created:
                is_ci = (len(model_rows) % ci_stride == 0) and len(ci_keys) < counts["ci_models"]
                model_rows.append(
                    (model.pk, model.key, model.lifecycle_stage, model.risk_tier, model.business_owner_id)
                )
                if model.business_owner_id == owner.pk:
                    owner_models += 1
                holders: dict[int, set[str]] = {}
                for person in (model.business_owner_id, model.technical_owner_id):
                    holders.setdefault(person, set()).update({"view_registeredmodel", "change_registeredmodel"})
                for validator in rng.sample(validators, min(len(validators), rng.randint(1, 2))):
                    validator_rows.append(validator_through(registeredmodel_id=model.pk, user_id=validator.pk))
                    holders.setdefault(validator.pk, set()).update({"view_registeredmodel", "validate_registeredmodel"})
                if is_ci:
                    ci_keys.append(model.key)
                    holders[ci.pk] = {"view_registeredmodel", "report_registeredmodel"}
                permission_rows += [
                    RegisteredModelUserObjectPermission(content_object=model, user_id=user_id, permission_id=perms[c])
                    for user_id, codenames in holders.items()
                    for c in sorted(codenames)
                ]
                chosen = {rng.choices(tags, weights=tag_weights)[0].pk for _ in range(rng.randint(0, 3))}
                tag_rows += [tag_through(registeredmodel_id=model.pk, tag_id=tag_id) for tag_id in chosen]
            RegisteredModelUserObjectPermission.objects.bulk_create(permission_rows, batch_size=BATCH)
            tag_through.objects.bulk_create(tag_rows, batch_size=BATCH)
            validator_through.objects.bulk_create(validator_rows, batch_size=BATCH)
        totals["models"] += len(created)
        totals["object_permissions"] += len(permission_rows)
        totals["model_tags"] += len(tag_rows)
    mark = step(f"{totals['models']} models, {totals['object_permissions']} object permissions", mark)

    # --- versions, artifacts, deployments -----------------------------------------------------------------------
    per_model = counts["versions"] / counts["models"]
    per_version = counts["artifacts"] / counts["versions"]
    totals.update(versions=0, artifacts=0, deployments=0)
    version_count = 0
    artifact_count = 0
    gate_targets: list[tuple[str, str, str]] = []
    ci_key_set = set(ci_keys)
    for start in range(0, len(model_rows), BATCH // 4):
        chunk = model_rows[start : start + BATCH // 4]
        versions = []
        digests: dict[tuple[int, str], str] = {}
        for index, (pk, key, stage, _tier, _owner_id) in enumerate(chunk, start=start):
            wanted = int((index + 1) * per_model) - int(index * per_model)
            for n in range(max(1, wanted)):
                latest = n == max(1, wanted) - 1
                label = f"{n + 1}.0.0"
                digest = f"sha256:{_hex(rng, 64)}"
                digests[(pk, label)] = digest
                if not latest:
                    state = "retired"
                elif stage == "production":
                    state = "deployed" if rng.random() < 0.8 else "approved"
                elif stage == "validation":
                    state = rng.choice(["submitted", "in_validation", "risk_review"])
                elif stage == "retired":
                    state = "retired"
                else:
                    state = "draft"
                approved = state in {"deployed", "approved", "retired"}
                created_at = now - dt.timedelta(days=(max(1, wanted) - n) * 120 + rng.randrange(0, 60))
                versions.append(
                    ModelVersion(
                        model_id=pk,
                        version=label,
                        state=state,
                        artifact_digest=digest,
                        training_data_ref=f"s3://bank-ml/datasets/{key.lower()}/{label}/train.parquet",
                        metrics={"auc": round(rng.uniform(0.6, 0.95), 4), "gini": round(rng.uniform(0.2, 0.9), 4)},
                        created_by_id=_owner_id,
                        submitted_by_id=_owner_id if state != "draft" else None,
                        submitted_at=created_at + dt.timedelta(days=5) if state != "draft" else None,
                        approved_by_id=risk_officer.pk if approved else None,
                        approved_at=created_at + dt.timedelta(days=30) if approved else None,
                        approval_expires_at=now + dt.timedelta(days=rng.randrange(-60, 365)) if approved else None,
                        created_at=created_at,
                    )
                )
        with transaction.atomic():
            created_versions = ModelVersion.objects.bulk_create(versions)
            if any(version.pk is None for version in created_versions):
                created_versions = list(ModelVersion.objects.filter(model_id__in=[row[0] for row in chunk]))
            keys = {row[0]: row[1] for row in chunk}
            artifacts = []
            deployments = []
            for version in created_versions:
                wanted = int((version_count + 1) * per_version) - int(version_count * per_version)
                version_count += 1
                key = keys[version.model_id]
                offset = version_count % len(ARTIFACT_KINDS)
                for t in range(min(wanted, len(ARTIFACT_KINDS))):
                    kind = ARTIFACT_KINDS[(offset + t) % len(ARTIFACT_KINDS)]
                    artifact_count += 1
                    values = _artifact(rng, kind, key, version.version, artifact_count)
                    artifacts.append(
                        Artifact(version=version, kind=kind, reported_by_id=ci.pk, created_at=now, **values)
                    )
                if version.state == "deployed":
                    deployments.append(
                        Deployment(
                            version=version,
                            environment="production",
                            target=f"k8s://prod-eu-1/{key.lower()}",
                            digest=version.artifact_digest,
                            deployed_at=(version.approved_at or now) + dt.timedelta(days=2),
                            matches_approval=True,
                            reported_by_id=ci.pk,
                        )
                    )
                    if key in ci_key_set:
                        gate_targets.append((key, version.version, version.artifact_digest))
            Artifact.objects.bulk_create(artifacts, batch_size=BATCH)
            Deployment.objects.bulk_create(deployments, batch_size=BATCH)
        totals["versions"] += len(created_versions)
        totals["artifacts"] += len(artifacts)
        totals["deployments"] += len(deployments)
        if start and start % (BATCH * 4) == 0:
            log(f"bench: … {totals['versions']} versions, {totals['artifacts']} artifacts")
    mark = step(
        f"{totals['versions']} versions, {totals['artifacts']} artifacts, {totals['deployments']} deployments", mark
    )

    # --- findings in mixed states and ages ----------------------------------------------------------------------
    severities = {"low": 35, "medium": 40, "high": 18, "critical": 7}
    statuses = {"open": 35, "in_remediation": 20, "closed": 40, "risk_accepted": 5}
    sources = {"validation": 50, "approval_condition": 15, "audit": 15, "monitoring": 10, "manual": 10}
    findings = []
    for n in range(counts["findings"]):
        pk, key, _stage, _tier, owner_id = model_rows[rng.randrange(len(model_rows))]
        status = _weighted(rng, statuses)
        raised = now - dt.timedelta(days=rng.randrange(1, 900))
        closed = status in {"closed", "risk_accepted"}
        findings.append(
            Finding(
                model_id=pk,
                source=_weighted(rng, sources),
                title=f"Finding {n} on {key}",
                description="Synthetic finding for the benchmark.",
                severity=_weighted(rng, severities),
                status=status,
                owner_id=owner_id,
                due_date=(raised + dt.timedelta(days=rng.randrange(30, 180))).date(),
                raised_by_id=validators[rng.randrange(len(validators))].pk,
                resolved_by_id=risk_officer.pk if closed else None,
                resolved_at=raised + dt.timedelta(days=rng.randrange(10, 200)) if closed else None,
                resolution="Fixed in a later version." if closed else "",
                created_at=raised,
            )
        )
    Finding.objects.bulk_create(findings, batch_size=BATCH)
    totals["findings"] = len(findings)
    step(f"{len(findings)} findings", mark)

    _token, clear = api_token_issue(actor=admin, user=ci, name="bench load")
    _token, officer_clear = api_token_issue(actor=admin, user=risk_officer, name="bench reads")
    # Refresh the planner's statistics (freshly bulk-loaded tables would otherwise be planned as empty) and, on
    # PostgreSQL, the visibility map, so index-only scans work as on a production server whose autovacuum has run
    # (a server may have autovacuum off, and VACUUM cannot run inside a transaction).
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.get_autocommit():
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")
    totals.update(units=len(units), people=len(people) + 4, tags=len(tags), ci_models=len(ci_keys))
    common_tag = TAGS[2]  # a frequent tag (Zipf rank 3: 11,212 of 100,000 models)
    return Enterprise(
        counts=totals,
        seconds=time.perf_counter() - started,
        risk_officer_id=risk_officer.pk,
        owner_id=owner.pk,
        owner_models=owner_models,
        ci_id=ci.pk,
        ci_token=clear,
        officer_token=officer_clear,
        admin_id=admin.pk,
        tag=common_tag,
        tier=1,
        stage="production",
        ci_keys=ci_keys,
        gate_targets=gate_targets,
        rare_tag=TAGS[-1],  # Zipf rank 40: 855 of 100,000 models
    )
