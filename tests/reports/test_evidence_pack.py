"""The evidence pack: a ZIP of the reports, the register and the audit results with a manifest of SHA-256 hashes
and the ledger head; verification names every altered, missing or added file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from reports.evidence import MANIFEST_NAME, evidence_pack_build, evidence_pack_verify, ledger_head_problem
from tests.reports import conftest_pdf
from tests.reports.conftest_pdf import ReportWorld, pdf_text

# The shared world of the PDF report tests (conftest.py belongs to the register tests).
report_world = conftest_pdf.report_world

EXPECTED_FILES = {
    "README.txt",
    "audits/compliance-latest.json",
    "models/RB-0001/audits.json",
    "models/RB-0001/governance-report.pdf",
    "portfolio/portfolio-report.pdf",
    "portfolio/portfolio-report.xlsx",
    "register/register.csv",
    "register/register.xlsx",
}


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> None:
    """Copy a pack, replacing (bytes) or dropping (None) the named members and adding others."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in change:
                replacement = change[info.filename]
                if replacement is not None:
                    new.writestr(info.filename, replacement)
            else:
                new.writestr(info, old.read(info.filename))
        for name, content in (add or {}).items():
            new.writestr(name, content)


@pytest.fixture
def pack(report_world: ReportWorld, tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "out" / "pack.zip"
    manifest = evidence_pack_build(user=report_world.personas.auditor, model_keys=["rb-0001 "], path=path)
    return path, manifest


@pytest.mark.django_db
def test_pack_holds_every_file_with_its_hash_and_the_ledger_head(report_world: ReportWorld, pack, tmp_path: Path):
    from governance.models import LedgerHead

    path, manifest = pack
    head = LedgerHead.objects.get(pk=1)
    assert manifest["ledger_head"] == {"seq": head.seq, "hash": head.hash}
    assert manifest["generated_by"]["username"] == "auditor" and manifest["models"] == ["RB-0001"]
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == EXPECTED_FILES | {MANIFEST_NAME}
        assert json.loads(archive.read(MANIFEST_NAME)) == manifest
        for entry in manifest["files"]:
            content = archive.read(entry["path"])
            assert hashlib.sha256(content).hexdigest() == entry["sha256"] and len(content) == entry["size"]
        register = list(csv.reader(io.StringIO(archive.read("register/register.csv").decode("utf-8"))))
        audits = json.loads(archive.read("models/RB-0001/audits.json"))
        compliance = json.loads(archive.read("audits/compliance-latest.json"))
        (tmp_path / "model.pdf").write_bytes(archive.read("models/RB-0001/governance-report.pdf"))
    assert {row[0] for row in register[1:]} == {"RB-0001", "RB-0002"}
    assert [run["id"] for run in audits["bias_audits"]] == [report_world.bias_run.pk]
    assert "Zephyrgroup" in audits["bias_audits"][0]["result"]["analyses"]["applicant_group"]["by_group"]
    assert [item["sweep"] for item in audits["compliance"]] == [sweep.pk for sweep in reversed(report_world.sweeps)]
    assert compliance["sweep"]["id"] == report_world.sweeps[-1].pk
    assert [row["model"] for row in compliance["statuses"]] == ["RB-0001", "RB-0002"]
    assert "RB-0001 Retail PD scorecard" in " ".join(pdf_text(tmp_path / "model.pdf").split())

    verification = evidence_pack_verify(path)
    assert verification.ok and verification.checked == len(EXPECTED_FILES) and verification.problems == []
    out = io.StringIO()
    call_command("verify_evidence_pack", str(path), "--against-ledger", stdout=out)
    assert out.getvalue().startswith("OK ") and f"#{head.seq}" in out.getvalue()


@pytest.mark.django_db
def test_changing_one_byte_of_a_file_fails_verification_and_names_the_file(pack, tmp_path: Path):
    path, _ = pack
    name = "models/RB-0001/governance-report.pdf"
    with zipfile.ZipFile(path) as archive:
        content = bytearray(archive.read(name))
    content[len(content) // 2] ^= 0x01
    tampered = tmp_path / "tampered.zip"
    _rewrite(path, tampered, {name: bytes(content)})

    verification = evidence_pack_verify(tampered)
    assert not verification.ok
    assert verification.bad_files == [name]
    assert len(verification.problems) == 1 and verification.problems[0].startswith(f"{name}: SHA-256 differs")
    err = io.StringIO()
    with pytest.raises(CommandError, match="verification failed"):
        call_command("verify_evidence_pack", str(tampered), stderr=err)
    assert f"FAIL {name}: SHA-256 differs" in err.getvalue()


@pytest.mark.django_db
def test_a_flipped_byte_inside_the_archive_names_the_damaged_file(pack, tmp_path: Path):
    path, _ = pack
    name = "register/register.csv"
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    # The member's data starts after its 30-byte local header, file name and extra field.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))

    verification = evidence_pack_verify(damaged)
    assert not verification.ok and verification.bad_files == [name]


@pytest.mark.django_db
def test_missing_extra_and_resized_files_are_each_named(pack, tmp_path: Path):
    path, _ = pack
    changed = tmp_path / "changed.zip"
    _rewrite(
        path,
        changed,
        {"register/register.xlsx": None, "README.txt": b"Nothing to see here.\n"},
        add={"models/RB-0002/governance-report.pdf": b"%PDF-1.7 forged"},
    )
    verification = evidence_pack_verify(changed)
    assert not verification.ok
    assert sorted(verification.bad_files) == [
        "README.txt",
        "models/RB-0002/governance-report.pdf",
        "register/register.xlsx",
    ]
    text = "\n".join(verification.problems)
    assert "register/register.xlsx: missing from the archive" in text
    assert "models/RB-0002/governance-report.pdf: not listed in the manifest" in text
    assert "README.txt: size differs from the manifest" in text


@pytest.mark.django_db
def test_a_pack_without_a_readable_manifest_or_zip_fails(pack, tmp_path: Path):
    path, _ = pack
    no_manifest = tmp_path / "no-manifest.zip"
    _rewrite(path, no_manifest, {MANIFEST_NAME: None})
    assert evidence_pack_verify(no_manifest).bad_files == [MANIFEST_NAME]
    broken = tmp_path / "broken.zip"
    _rewrite(path, broken, {MANIFEST_NAME: b"{not json"})
    assert evidence_pack_verify(broken).problems[0].startswith(f"{MANIFEST_NAME}: cannot be read")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    assert not evidence_pack_verify(junk).ok
    with pytest.raises(CommandError, match="no such file"):
        call_command("verify_evidence_pack", str(tmp_path / "absent.zip"))


@pytest.mark.django_db
def test_against_ledger_refuses_a_head_the_live_ledger_does_not_have(pack, tmp_path: Path):
    path, manifest = pack
    assert ledger_head_problem(manifest) is None
    forged = {**manifest, "ledger_head": {"seq": manifest["ledger_head"]["seq"], "hash": "f" * 64}}
    rewritten = tmp_path / "forged-head.zip"
    _rewrite(path, rewritten, {MANIFEST_NAME: json.dumps(forged).encode()})
    # The files are untouched, so the pack alone verifies; the live ledger shows the head was forged.
    assert evidence_pack_verify(rewritten).ok
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_evidence_pack", str(rewritten), "--against-ledger", stderr=err)
    assert "ledger: ledger entry #" in err.getvalue() and "f" * 64 in err.getvalue()
    problem = ledger_head_problem({"ledger_head": {"seq": 10**9, "hash": "0" * 64}})
    assert problem is not None and "not in the live ledger" in problem


@pytest.mark.django_db
def test_owner_pack_contains_only_their_models(report_world: ReportWorld, tmp_path: Path):
    path = tmp_path / "owner.zip"
    evidence_pack_build(user=report_world.personas.owner_a, model_keys=["RB-0001"], path=path)
    assert evidence_pack_verify(path).ok
    with zipfile.ZipFile(path) as archive:
        register = archive.read("register/register.csv").decode("utf-8")
        compliance = json.loads(archive.read("audits/compliance-latest.json"))
        (tmp_path / "portfolio.pdf").write_bytes(archive.read("portfolio/portfolio-report.pdf"))
    assert "RB-0001" in register and "RB-0002" not in register
    assert [row["model"] for row in compliance["statuses"]] == ["RB-0001"]
    assert "RB-0002" not in pdf_text(tmp_path / "portfolio.pdf")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "keys", "message"),
    [
        ("owner_a", ["RB-0002"], "No model RB-0002 visible to you."),
        ("risk_officer", ["RB-9999"], "No model RB-9999 visible to you."),
        ("risk_officer", "RB-0001", "Give a list of model keys."),
        ("risk_officer", [f"RB-{n:04d}" for n in range(60)], "At most 50 models"),
    ],
)
def test_keys_the_user_may_not_see_are_refused_before_anything_is_written(
    report_world: ReportWorld, tmp_path: Path, who: str, keys, message: str
):
    path = tmp_path / "pack.zip"
    with pytest.raises(ValidationError) as error:
        evidence_pack_build(user=getattr(report_world.personas, who), model_keys=keys, path=path)
    assert message in error.value.message_dict["model_keys"][0]
    assert not path.exists()
