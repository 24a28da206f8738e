"""Upload checks and the analysis glue behind the pages (no Streamlit, no browser)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.analysis import (
    AnalysisResult,
    analyze_upload,
    check_upload,
    merge_photo_cva,
    refresh_findings,
)
from posture.clinical import Questionnaire
from posture.errors import InputError
from tests.test_export import synthetic_report

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("clip.mp4", 10 * MB, None),
        ("photo.JPG", 1 * MB, None),
        ("notes.txt", 10, "which posture cannot read"),
        ("noext", 10, "without an extension"),
        ("empty.mov", 0, "empty"),
        ("huge.mp4", 600 * MB, "over the 500 MB limit"),
    ],
)
def test_upload_checks_say_what_is_wrong(name, size, expected):
    problem = check_upload(name, size, limit_mb=500)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem


def test_upload_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("POSTURE_MAX_UPLOAD_MB", "1")
    assert "over the 1 MB limit" in check_upload("clip.mp4", 2 * MB)


def _leftover_result_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("posture-result-*")}


def test_corrupt_video_is_refused_and_leaves_nothing(tmp_path, private_system_temp):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    before = _leftover_result_dirs()
    with pytest.raises(InputError):
        analyze_upload(bad, "broken.mp4")
    assert _leftover_result_dirs() == before


@pytest.mark.slow
def test_photo_without_a_person_is_refused_and_leaves_nothing(tmp_path, private_system_temp):
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), np.full((240, 320, 3), 180, np.uint8))
    before = _leftover_result_dirs()
    with pytest.raises(InputError, match="No person"):
        analyze_upload(photo, "wall.png")
    assert _leftover_result_dirs() == before


def test_result_exports_json_and_csv():
    result = AnalysisResult(synthetic_report(), "clip.mp4")
    assert json.loads(result.json_text())["summary"]["rom"]["rotation_left_deg"] == 60.0
    lines = result.csv_text().splitlines()
    assert lines[0].startswith("t,valid,view,reference")
    assert len(lines) == 1 + len(result.report["frames"])
    assert result.pdf(audience="patient").startswith(b"%PDF-")
    assert result.stem() == "clip"


def test_photo_cva_is_merged_into_the_movement_report():
    movement = synthetic_report()
    photo = synthetic_report("image")
    photo["summary"]["cva_deg"] = 46.0
    photo["view"] = "left"
    merged = merge_photo_cva(movement, photo)
    assert merged["summary"]["cva_deg"] == 46.0
    assert merged["summary"]["rom"]["rotation_left_deg"] == 60.0
    assert movement["summary"]["cva_deg"] is None  # the original is not changed


def test_refreshed_findings_follow_answers_and_subject():
    result = AnalysisResult(synthetic_report(), "clip.mp4")
    refresh_findings(result, Questionnaire(stress="yes"), age_years=75)
    ids = [f["id"] for f in result.report["findings"]]
    assert "contributor.stress" in ids
    rom = next(f for f in result.report["findings"] if f["id"] == "rom.rotation_left")
    assert "70+" in rom["patient_text"] or "70" in json.dumps(rom["evidence"])
    refresh_findings(result, Questionnaire(sudden_severe_headache="yes"))
    assert [f["id"] for f in result.report["findings"]] == ["red_flag"]


def test_clinic_analysis_applies_a_camera_profile(tmp_path, monkeypatch):
    import cv2

    from app.analysis import analyze_upload, camera_profiles
    from posture.calibration.profiles import CameraProfile, save_camera
    from tests.media_fixtures import person_image

    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(tmp_path / "profiles"))
    save_camera(CameraProfile("desk"))
    assert camera_profiles() == ["desk"]
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), person_image()[:, :, ::-1])
    result = analyze_upload(photo, "p.png", calibration="desk")
    assert "desk" in result.report["settings"]["calibration"]
    result.discard()


@pytest.mark.parametrize("raw", ["abc", "nan", "inf", "-1", "0", "1e400", ""])
def test_a_bad_number_in_the_environment_keeps_the_default_limit(monkeypatch, raw):
    from app.analysis import DEFAULT_MAX_UPLOAD_MB, MAX_UPLOAD_ENV, check_upload, max_upload_mb

    monkeypatch.setenv(MAX_UPLOAD_ENV, raw)
    assert max_upload_mb() == DEFAULT_MAX_UPLOAD_MB
    # 'nan' used to lift the limit: an upload over it is still refused.
    too_big = int((DEFAULT_MAX_UPLOAD_MB + 1) * 1024 * 1024)
    assert check_upload("clip.mp4", too_big) is not None


def test_a_good_number_in_the_environment_sets_the_limit(monkeypatch):
    from app.analysis import MAX_UPLOAD_ENV, env_number, max_upload_mb

    monkeypatch.setenv(MAX_UPLOAD_ENV, "50")
    assert max_upload_mb() == 50.0
    monkeypatch.setenv("POSTURE_LIVE_STEP_TIMEOUT_S", "abc")
    assert env_number("POSTURE_LIVE_STEP_TIMEOUT_S", 20.0, 600.0) == 20.0
    monkeypatch.setenv("POSTURE_LIVE_STEP_TIMEOUT_S", "5")
    assert env_number("POSTURE_LIVE_STEP_TIMEOUT_S", 20.0, 600.0) == 5.0
