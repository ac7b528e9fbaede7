"""The benchmark code runs at a tiny size and writes its JSON report (no timing is asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main


@pytest.mark.django_db
def test_bench_runs_tiny_and_writes_json(tmp_path: Path) -> None:
    path = main(
        [
            "--size=small",
            "--rows=2000",
            "--models=12",
            "--runs=2",
            "--fairlearn-runs=1",
            "--sweep-runs=1",
            "--database=current",
            f"--out={tmp_path}",
        ]
    )
    assert path.parent == tmp_path
    report = json.loads(path.read_text(encoding="utf-8"))
    names = {item["name"] for item in report["measurements"]}
    assert "fairlearn MetricFrame (5 metrics)" in names
    assert "compliance sweep of 12 models" in names
    assert all(len(item["seconds"]) == item["runs"] and item["runs"] >= 1 for item in report["measurements"])
    assert set(report["ratios"]) >= {"fairlearn / fast path (target ≥ 10)", "fast path / bare count (target ≤ 3)"}
    assert report["settings"]["rows"] == 2000


def test_fast_path_matches_bare_count() -> None:
    """The benchmarked cases compute the same per-group cells (so the comparison is like for like)."""
    from bench import audit

    frame = audit.synthetic(500, seed=1)
    result = audit.fast_audit(frame)
    cells = audit.bare_count(frame).reshape(-1, 4)
    assert sorted(group["count"] for group in result.by_group.values()) == sorted(cells.sum(axis=1).tolist())
