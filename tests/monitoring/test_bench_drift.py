"""The drift case of the benchmark runs at a tiny size and finds the drift it plants (no timing is asserted)."""

from __future__ import annotations

from bench import drift
from bench.__main__ import GROUPS, INVENTORY_GROUPS, parse


def test_the_drift_case_measures_the_worker_path_and_finds_the_shifted_features() -> None:
    measurements = drift.run(2_000, runs=1)
    names = [measurement.name for measurement in measurements]
    assert names[0] == "drift report (PSI + KS / chi-squared)"
    assert "worker total: read → hash → report" in names
    params = measurements[0].params
    assert (params["numeric"], params["categorical"], params["rows"]) == (14, 6, 2_000)
    assert "num_00" in params["drifted"] and "num_05" not in params["drifted"]
    assert all(len(measurement.seconds) == 1 for measurement in measurements)


def test_the_drift_group_needs_no_inventory() -> None:
    assert "drift" in GROUPS and "drift" not in INVENTORY_GROUPS
    arguments = parse(["--size=full", "--only=drift"])
    assert (arguments.groups, arguments.rows, arguments.drift_runs) == (["drift"], 1_000_000, 2)
