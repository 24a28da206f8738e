"""Accuracy regression guard: a fixed subset of rendered stills and the ROM sample video.

Tolerances (degrees, mean absolute error over the subset unless stated) sit about
20% above what this subset measured (2026-11-25, session 2, with the median over
crops for stills: rotation 13.9, lateral flexion 3.4, flexion 11.0, CVA 3.1, head
tilt 0.74, shoulder tilt 0.57), so a real regression fails here while codec or
library noise does not. Single stills are
hard: each one's trunk yaw comes from one pose estimate (no recording to steady
it), and the rig's thorax may lean, which an upright-trunk model cannot see.
They are NOT the issue's targets; benchmarks/accuracy.py reports the full picture.
- head rotation <= 16.5, lateral flexion <= 4.0, flexion <= 13.0 over 8
  front/oblique stills;
- CVA <= 4.0 over 6 side views, camera roll given as calibration;
- head tilt <= 1.0 and shoulder tilt <= 0.75 over 6 front stills, roll given;
- every still finds the person;
- ROM sample video: every performed direction within 6.0 of its true peak, and
  the mean over the six within 3.0 (measured: max 4.9, mean 1.9).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from posture.io.media import ImageSource
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
from posture.pipeline import AnalysisOptions, analyze, analyze_source

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parent / "data" / "regression"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"


@pytest.fixture(scope="module")
def measured() -> list[tuple[dict, dict]]:
    truth = json.loads((DATA / "truth.json").read_text())
    out = []
    with MediaPipeLandmarker(video_mode=False) as lm:
        for rec in truth:
            options = AnalysisOptions(
                camera_roll_deg=rec["camera_roll_deg"], focal_px=rec["focal_px"]
            )
            report = analyze_source(ImageSource(DATA / rec["image"]), options, landmarker=lm)
            out.append((rec, report.to_dict()["frames"][0]))
    return out


def _mae(pairs: list[tuple[dict, dict]], key: str, truth_key=None) -> float:
    errors = []
    for rec, frame in pairs:
        want = rec[truth_key(rec)] if truth_key else rec[key]
        assert frame[key] is not None, f"{rec['image']}: {key} not measured"
        errors.append(frame[key] - want)
    return float(np.mean(np.abs(errors)))


def test_every_still_finds_the_person(measured):
    assert all(frame["valid"] for _, frame in measured)


@pytest.mark.parametrize(
    ("key", "tolerance"),
    [("head_rotation_deg", 16.5), ("head_lateral_flexion_deg", 4.0), ("head_flexion_deg", 13.0)],
)
def test_head_angles_on_front_and_oblique_stills(measured, key, tolerance):
    heads = [(r, f) for r, f in measured if r["kind"] == "head"]
    assert _mae(heads, key) <= tolerance


def test_cva_on_side_views(measured):
    side = [(r, f) for r, f in measured if r["kind"] == "side"]
    camera_side = lambda r: "cva_left_deg" if r["view"] == "left" else "cva_right_deg"  # noqa: E731
    assert _mae(side, "cva_deg", camera_side) <= 4.0


@pytest.mark.parametrize(
    ("key", "tolerance"), [("head_tilt_deg", 1.0), ("shoulder_tilt_deg", 0.75)]
)
def test_tilts_on_front_views(measured, key, tolerance):
    front = [(r, f) for r, f in measured if r["kind"] == "front"]
    assert _mae(front, key) <= tolerance


def test_rom_sample_video_peaks():
    truth = json.loads((SAMPLES / "rom_front.truth.json").read_text())["rom"]
    rom = analyze(SAMPLES / "rom_front.mp4").to_dict()["summary"]["rom"]
    errors = {k: rom[k] - v for k, v in truth.items() if v is not None}
    assert all(abs(e) <= 6.0 for e in errors.values()), errors
    assert np.mean(np.abs(list(errors.values()))) <= 3.0, errors
