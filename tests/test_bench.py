"""The benchmark code runs at a tiny size and writes its JSON report (no timing is asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main, parse


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
            "--web-runs=2",
            "--ingest=3",
            "--only=audit,sweep,web,gate,ingest",
            "--database=current",
            f"--out={tmp_path}",
        ]
    )
    assert path.parent == tmp_path
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["settings"]["notes"] == [], "no group may fail"
    names = {item["name"] for item in report["measurements"]}
    assert "fairlearn MetricFrame (5 metrics)" in names
    assert "compliance sweep of 12 models" in names
    assert {
        "list API first page (risk officer)",
        "model detail API (risk officer)",
        "dashboard page (risk officer)",
    } <= names
    assert "gate decision (CI token)" in names
    assert all(len(item["seconds"]) == item["runs"] and item["runs"] >= 1 for item in report["measurements"])
    # Requests carry the number of queries they made.
    detail = next(item for item in report["measurements"] if item["name"] == "model detail API (risk officer)")
    assert detail["queries"] >= 1
    assert set(report["ratios"]) >= {"fairlearn / fast path (target ≥ 10)", "fast path / bare count (target ≤ 3)"}
    assert report["settings"]["rows"] == 2000
    assert report["settings"]["inventory"]["models"] == 12
    assert report["figures"]["artifact ingestion through the API (artifacts/s, one client)"] > 0
    start, end = report["figures"]["machine: reference workload, ms at start / end (lower is faster)"].split(" / ")
    assert float(start) > 0 and float(end) > 0


def test_only_refuses_unknown_groups(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--only=web,nonsense"])
    assert "nonsense" in capsys.readouterr().err


def test_fast_path_matches_bare_count() -> None:
    """The benchmarked cases compute the same per-group cells (so the comparison is like for like)."""
    from bench import audit

    frame = audit.synthetic(500, seed=1)
    result = audit.fast_audit(frame)
    cells = audit.bare_count(frame).reshape(-1, 4)
    assert sorted(group["count"] for group in result.by_group.values()) == sorted(cells.sum(axis=1).tolist())
