"""The Adult (Census Income) reference figures through the product path: upload, audit, stored result.

The figures are those of the shared datasets README (pandas, fairlearn 0.15 and aif360 agree on them),
reproduced to four decimals from the result the audit stored. The README's race figures are over all five
groups; two of them have fewer than 150 rows, so with a policy minimum group size of 150 the audit must flag
them as small and judge the policy's thresholds on the three adequate groups only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from audits.choices import DatasetFormat, RunStatus
from audits.models import AuditRun
from audits.services import bias_audit_execute, bias_audit_request, evaluation_dataset_create
from governance.services.policies import active_policy, tier_policy_update
from tests.audits.conftest import upload

pytestmark = pytest.mark.django_db

ADULT_PREDICTIONS = Path(__file__).resolve().parents[2] / "demo" / "data" / "adult_lr_predictions.csv"
ADULT_SHA256 = "67a9720714d72347e5be2c8f908387d7412f02eec6f9d8cd6cfbdb7a5434ede3"
ADULT_MAPPING = {"label": "y_true", "prediction": "y_pred", "sensitive": ["sex", "race"]}
SMALL_GROUP_ROWS = 150
# group → (selection rate, TPR, FPR)
SEX_GROUPS = {"Female": (0.0786, 0.5153, 0.0227), "Male": (0.2623, 0.6157, 0.1038)}
RACE_COUNTS = {"White": 12970, "Black": 1411, "Asian-Pac-Islander": 408, "Amer-Indian-Eskimo": 149, "Other": 122}
RACE_SMALL_GROUPS = ["Amer-Indian-Eskimo", "Other"]


@pytest.fixture
def adult_run(personas: Any, version_a: Any) -> AuditRun:
    """The Adult test split audited under the Tier 1 policy with a minimum group size of 150 rows."""
    tier_policy_update(
        actor=personas.risk_officer,
        policy=active_policy(1),
        changes={"bias_thresholds": {**active_policy(1).bias_thresholds, "min_group_size": SMALL_GROUP_ROWS}},
        reason="Rates of groups under 150 rows are too unstable to rank.",
    )
    dataset = evaluation_dataset_create(
        actor=personas.owner_a,
        version=version_a,
        name="Adult test split",
        mapping=ADULT_MAPPING,
        upload=upload(ADULT_PREDICTIONS.read_bytes(), ADULT_PREDICTIONS.name),
    )
    run = bias_audit_request(actor=personas.owner_a, dataset=dataset)
    bias_audit_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_the_shipped_file_is_the_credited_one() -> None:
    assert hashlib.sha256(ADULT_PREDICTIONS.read_bytes()).hexdigest() == ADULT_SHA256


def test_the_stored_dataset_is_the_adult_test_split(adult_run: AuditRun) -> None:
    dataset = adult_run.dataset
    assert dataset is not None
    assert (dataset.file_format, dataset.row_count, dataset.sha256) == (DatasetFormat.CSV, 15060, ADULT_SHA256)
    assert adult_run.dataset_sha256 == adult_run.result["dataset"]["sha256"] == ADULT_SHA256
    assert adult_run.result["dataset"]["rows"] == 15060


def test_adult_by_sex_reproduces_the_reference_figures(adult_run: AuditRun) -> None:
    analysis = adult_run.result["analyses"]["sex"]

    assert round(analysis["overall"]["accuracy"], 4) == 0.8470
    assert analysis["overall"]["count"] == 15060
    assert round(analysis["disparities"]["demographic_parity_difference"], 4) == 0.1838
    assert round(analysis["disparities"]["equalized_odds_difference"], 4) == 0.1004
    for group, figures in SEX_GROUPS.items():
        stored = analysis["by_group"][group]
        assert (round(stored["selection_rate"], 4), round(stored["tpr"], 4), round(stored["fpr"], 4)) == figures
    # Both groups are large: the policy is judged on the same figures, and EOD 0.1004 fails "max 0.1".
    assert analysis["small_groups"] == []
    assert analysis["disparities_adequate_groups"] == analysis["disparities"]
    assert analysis["verdicts"]["equalized_odds_difference"]["verdict"] == "fail"
    assert adult_run.status == RunStatus.FAILED


def test_adult_by_race_reproduces_the_reference_disparities_over_all_groups(adult_run: AuditRun) -> None:
    analysis = adult_run.result["analyses"]["race"]

    assert round(analysis["overall"]["accuracy"], 4) == 0.8470
    assert {group: figures["count"] for group, figures in analysis["by_group"].items()} == RACE_COUNTS
    assert round(analysis["disparities"]["demographic_parity_difference"], 4) == 0.2110
    assert round(analysis["disparities"]["equalized_odds_difference"], 4) == 0.3454


def test_adult_small_race_groups_are_flagged_and_not_ranked(adult_run: AuditRun) -> None:
    analysis = adult_run.result["analyses"]["race"]

    assert analysis["min_group_size"] == adult_run.result["policy"]["min_group_size"] == SMALL_GROUP_ROWS
    assert sorted(analysis["small_groups"]) == RACE_SMALL_GROUPS
    assert sorted(group for group, figures in analysis["by_group"].items() if figures["small"]) == RACE_SMALL_GROUPS
    # The verdicts judge the three adequate groups, whose disparities are not those over all five.
    adequate = analysis["disparities_adequate_groups"]
    assert adequate["equalized_odds_difference"] < analysis["disparities"]["equalized_odds_difference"]
    verdict = analysis["verdicts"]["equalized_odds_difference"]
    assert verdict["value"] == adequate["equalized_odds_difference"]
