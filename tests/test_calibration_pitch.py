"""Camera pitch from calibration: the upright reference of the head angles tilts with it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from posture.assemble import assemble_report
from posture.calibration.options import calibrated_options
from posture.calibration.profiles import (
    CameraProfile,
    Level,
    pitch_for_frame,
    save_camera,
)
from posture.errors import InputError
from posture.geometry.measure import measure_frame
from posture.io.media import MediaInfo
from posture.options import AnalysisOptions
from tests.synthetic_landmarks import FOCAL_PX, make_frame

MEASURED_AT = "2025-01-01T10:05:00+00:00"


@pytest.fixture(autouse=True)
def profiles_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "profiles"
    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(d))
    return d


@pytest.mark.parametrize("flexion_deg", [-25.0, 0.0, 15.0, 35.0])
@pytest.mark.parametrize("pitch_deg", [-10.0, 8.0, 15.0])
@pytest.mark.parametrize("trunk_seen", [True, False])
def test_pitch_applied_recovers_head_flexion(flexion_deg, pitch_deg, trunk_seen):
    """A head at a known flexion against gravity, seen by a camera pitched by a known angle."""
    lm = make_frame(0.0, flexion_deg, 0.0, camera_pitch_deg=pitch_deg)
    if not trunk_seen:
        lm = replace(lm, pose=None)  # face only: the camera-facing reference
    applied = measure_frame(lm, focal_px=FOCAL_PX, camera_pitch_deg=pitch_deg)
    level = measure_frame(lm, focal_px=FOCAL_PX)
    assert applied.reference == ("trunk" if trunk_seen else "camera")
    assert applied.head_flexion_deg == pytest.approx(flexion_deg, abs=0.5)
    # Without it the head reads off by about the pitch (+ when the camera looks down).
    assert level.head_flexion_deg - flexion_deg == pytest.approx(pitch_deg, abs=0.5)


@pytest.mark.parametrize(("roll_deg", "pitch_deg"), [(6.0, 10.0), (-8.0, -12.0)])
def test_pitch_and_roll_together_recover_every_head_angle(roll_deg, pitch_deg):
    truth = (20.0, 15.0, -10.0)  # rotation, flexion, lateral flexion
    lm = make_frame(*truth, camera_roll_deg=roll_deg, camera_pitch_deg=pitch_deg)
    m = measure_frame(lm, focal_px=FOCAL_PX, camera_roll_deg=roll_deg, camera_pitch_deg=pitch_deg)
    got = (m.head_rotation_deg, m.head_flexion_deg, m.head_lateral_flexion_deg)
    assert got == pytest.approx(truth, abs=0.5)
    # A level head's eye line: head tilt is corrected by roll, and pitch does not disturb it.
    level_head = make_frame(camera_roll_deg=roll_deg, camera_pitch_deg=pitch_deg)
    tilt = measure_frame(
        level_head, focal_px=FOCAL_PX, camera_roll_deg=roll_deg, camera_pitch_deg=pitch_deg
    ).head_tilt_deg
    assert tilt == pytest.approx(0.0, abs=0.5)


def _level_profile(pitch_deg: float | None, name: str = "shelf") -> CameraProfile:
    level = Level(3.0, pitch_deg, "board", 1280, 720, 5, 0.1, MEASURED_AT)
    return CameraProfile(name, None, level)


def test_profile_pitch_is_applied_by_calibrated_options():
    save_camera(_level_profile(9.5))
    options = calibrated_options(AnalysisOptions(), camera="shelf", frame_size_px=(640, 360))
    assert options.camera_pitch_deg == 9.5
    assert options.camera_roll_deg == 3.0
    assert options.calibration == "shelf"


def test_a_level_without_pitch_leaves_the_camera_level():
    save_camera(_level_profile(None, "line"))  # a marked line measures roll only
    options = calibrated_options(AnalysisOptions(), camera="line", frame_size_px=(1280, 720))
    assert options.camera_pitch_deg == 0.0 and options.camera_roll_deg == 3.0
    assert pitch_for_frame(_level_profile(None), 1280, 720) is None


def test_pitch_refuses_another_orientation():
    with pytest.raises(InputError, match="portrait"):
        pitch_for_frame(_level_profile(5.0), 720, 1280)


def test_report_records_the_pitch_applied():
    lm = make_frame(0.0, 10.0, 0.0, camera_pitch_deg=7.5)
    options = AnalysisOptions(camera_pitch_deg=7.5, calibration="shelf")
    m = measure_frame(lm, focal_px=FOCAL_PX, camera_pitch_deg=options.camera_pitch_deg)
    info = MediaInfo("p.png", "image", lm.width, lm.height, None, 1, None)
    report = assemble_report(info, [m], options, 1, []).to_dict()
    assert report["settings"]["camera_pitch_deg"] == 7.5
    assert report["settings"]["calibration"] == "shelf"
    assert report["frames"][0]["head_flexion_deg"] == pytest.approx(10.0, abs=0.5)
