"""Findings only from recordings fit for them (posture.clinical.fitness), on synthetic
reports whose movement is known. The real sport and walking clips are in test_cli.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from posture.clinical import build_findings
from posture.clinical.fitness import MOVING, NO_NEUTRAL, NO_RETURN, unfit_measures
from posture.measures import ROM_KEYS

FPS = 30.0
HEAD = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")


def _report(
    seconds: float,
    cva_at=None,
    rotation_at=None,
    neutral_source: str = "still period",
    rom: dict[str, float] | None = None,
    kind: str = "video",
) -> dict[str, Any]:
    t = np.arange(0.0, seconds, 1 / FPS)
    frames = []
    for ti in t:
        f: dict[str, Any] = {"t": round(float(ti), 4), "valid": True, "view": "mixed"}
        f["cva_deg"] = None if cva_at is None else float(cva_at(ti))
        f["head_rotation_deg"] = None if rotation_at is None else float(rotation_at(ti))
        f["head_flexion_deg"] = f["head_lateral_flexion_deg"] = None
        f["head_tilt_deg"] = f["shoulder_tilt_deg"] = None
        frames.append(f)
    cvas = [f["cva_deg"] for f in frames if f["cva_deg"] is not None]
    return {
        "schema_version": 1,
        "input": {"kind": kind},
        "view": "mixed",
        "frames": frames,
        "neutral": {"source": neutral_source, **dict.fromkeys(HEAD, 0.0)},
        "summary": {
            "cva_deg": float(np.median(cvas)) if cvas else None,
            "head_tilt_deg": None,
            "shoulder_tilt_deg": None,
            "rom": {**dict.fromkeys(ROM_KEYS), **(rom or {})},
        },
        "quality": {"valid_frame_fraction": 1.0, "warnings": []},
    }


def _ids(report: dict[str, Any]) -> list[str]:
    return [f["id"] for f in build_findings(report)]


def _seated(t: float) -> float:
    return 44.0 + 0.4 * math.sin(2 * math.pi * 0.3 * t)  # breathing: a few tenths


def _bending(t: float) -> float:
    return 44.0 + 15.0 * math.sin(2 * math.pi * 0.8 * t)  # bending over and up


def test_a_still_seated_recording_gives_its_posture_finding():
    report = _report(10.0, cva_at=_seated)
    assert unfit_measures(report) == {}
    assert "cva" in _ids(report) and "not_judged" not in _ids(report)


def test_a_recording_of_someone_bending_throughout_gives_no_posture_finding():
    report = _report(10.0, cva_at=_bending)
    assert unfit_measures(report) == {"cva_deg": MOVING}
    findings = build_findings(report)
    ids = [f["id"] for f in findings]
    assert "cva" not in ids and "contributor.posture" not in ids
    (judged,) = [f for f in findings if f["id"] == "not_judged"]
    assert "moving" in judged["patient_text"] and judged["severity"] == "info"
    assert report["summary"]["cva_deg"] is not None  # the value itself is kept


def test_a_short_still_moment_in_a_moving_recording_is_not_enough():
    # Still for 0.5 s of 20 s: under a quarter of the frames and under 1 s.
    report = _report(20.0, cva_at=lambda t: _seated(t) if t < 0.5 else _bending(t))
    assert unfit_measures(report) == {"cva_deg": MOVING}


def _turn_left_and_back(t: float) -> float:
    return 0.0 if t < 2 else 70.0 * math.sin(math.pi * min(t - 2, 4) / 4)


def test_a_movement_from_a_detected_neutral_and_back_is_judged():
    report = _report(8.0, rotation_at=_turn_left_and_back, rom={"rotation_left_deg": 70.0})
    assert unfit_measures(report) == {}
    assert "rom.rotation_left" in _ids(report)


def test_no_detected_neutral_no_range_of_motion_finding():
    report = _report(
        8.0, rotation_at=_turn_left_and_back, neutral_source="start of recording",
        rom={"rotation_left_deg": 70.0},
    )  # fmt: skip
    assert unfit_measures(report) == {"rotation_left_deg": NO_NEUTRAL}
    ids = _ids(report)
    assert not [i for i in ids if i.startswith(("rom.", "asymmetry.", "contributor.muscle"))]
    assert "not_judged" in ids


def test_a_movement_that_never_comes_back_is_not_judged():
    # Turned left and back, then turned right and the recording ends at the turn.
    def rotation(t: float) -> float:
        if t < 6:
            return _turn_left_and_back(t)
        return -60.0 * min((t - 6) / 2, 1.0)

    rom = {"rotation_left_deg": 70.0, "rotation_right_deg": 60.0}
    report = _report(8.5, rotation_at=rotation, rom=rom)
    assert unfit_measures(report) == {"rotation_right_deg": NO_RETURN}
    ids = _ids(report)
    assert "rom.rotation_left" in ids and "rom.rotation_right" not in ids
    assert "asymmetry.rotation" not in ids  # one side is not judged: no comparison


def test_a_photo_and_a_report_without_frames_are_judged_as_given():
    photo = _report(1 / FPS, cva_at=_seated, kind="image")
    assert unfit_measures(photo) == {}
    summary_only = _report(0.0, rom={"rotation_left_deg": 50.0})
    assert summary_only["frames"] == [] and unfit_measures(summary_only) == {}
