"""The typed report: frozen, its JSON in the contract's shape, and the schema generated from it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from posture.report import FrameRow, Report
from posture.report_schema import report_json_schema, validate_report
from tests.reports import tiny_report

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "report.schema.json"


def test_docs_schema_is_the_generated_one():
    # Regenerate with: .venv/bin/python -m posture.report_schema > docs/report.schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == report_json_schema()


def test_a_report_is_frozen():
    report = tiny_report()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.view = "front"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.summary.cva_deg = 50.0  # type: ignore[misc]


def test_json_keys_keep_the_contract_order():
    d = tiny_report().to_dict()
    assert list(d) == [
        "schema_version", "tool", "input", "view", "frames", "summary", "quality",
        "findings", "disclaimer", "neutral", "settings",
    ]  # fmt: skip
    assert "workers" not in d["settings"] and "frame_stride" not in d["settings"]
    assert validate_report(d) == []


def _broken(change) -> list[str]:
    d = tiny_report().to_dict()
    change(d)
    return validate_report(d)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["summary"].update(cva_deg=200.0), "summary.cva_deg"),
        (lambda d: d["summary"]["rom"].update(flexion_deg=-5.0), "summary.rom.flexion_deg"),
        (lambda d: d["summary"]["rom"].pop("extension_deg"), "summary.rom"),
        (lambda d: d["summary"].update(rom_at_least=["flexion_deg"]), "rom_at_least"),
        (lambda d: d["frames"][0].update(view="upside down"), "frames.0.view"),
        (lambda d: d["frames"][0].update(head_rotaton_deg=3.0), "frames.0"),  # mistyped key
        (lambda d: d["quality"].pop("warnings"), "quality"),
        (lambda d: d["quality"].update(valid_frame_fraction=1.5), "valid_frame_fraction"),
        (lambda d: d.update(frames=[]), "frames"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d["settings"].update(workers="two"), "settings.workers"),
        (lambda d: d.update(extra_section={}), "(report)"),
    ],
)
def test_the_schema_refuses_a_broken_report(change, where):
    problems = _broken(change)
    assert problems and any(where in p for p in problems), problems


def test_times_must_increase_and_a_photo_has_one_frame():
    rows = (
        FrameRow(t=0.5, valid=True, view="front", reference="trunk"),
        FrameRow(t=0.5, valid=True, view="front", reference="trunk"),
    )
    video = dataclasses.replace(tiny_report(kind="video", frames=rows))
    assert validate_report(video.to_dict()) == ["frames: t does not increase"]
    photo = tiny_report(kind="image", frames=rows[:1] + (dataclasses.replace(rows[1], t=1.0),))
    assert validate_report(photo.to_dict()) == ["frames: an image has one frame"]


def test_findings_and_batch_return_new_reports():
    from posture.report import BatchRecord, attach_findings

    report = tiny_report()
    with_findings = attach_findings(report, age_years=40, sex="female")
    assert report.findings == () and report.subject is None  # the original is unchanged
    assert with_findings.subject is not None and with_findings.subject.age_years == 40
    d = with_findings.with_batch(BatchRecord("s01", "ab" * 32)).to_dict()
    assert list(d)[-2:] == ["subject", "batch"] and d["batch"]["subject"] == "s01"
    assert validate_report(d) == []
    assert isinstance(with_findings, Report)
