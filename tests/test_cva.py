"""Craniovertebral angle: camera elevation, the C7 model read backwards, uncertainty.

The size of the pose model's errors comes from rendered bodies (benchmarks/cva_heights.py,
benchmarks/fit_cva_model.py); here synthetic landmarks placed where the fitted model
says the pose model puts them, seen through a pinhole camera at several heights, check
that the geometry (the camera's elevation from pitch, image position and focal length)
and the model's inversion are right, and that an elevation-blind CVA - the old code's -
reads low with the camera below the shoulders and high above them.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import numpy as np
import pytest

from posture.geometry import posture_angles as pa
from posture.geometry.measure import measure_frame
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_SHOULDER,
    N_POSE,
    RIGHT_EAR,
    RIGHT_SHOULDER,
    FrameLandmarks,
    PoseLandmarks,
)

FOCAL_PX = 900.0
W, H = 1280, 720
DISTANCE_M = 1.5
SHOULDER_Z_M = 1.4


def camera_axes(pitch_deg: float, roll_deg: float = 0.0) -> np.ndarray:
    """Rows = camera x (right), y (down), z (forward) in world axes, for a camera on the
    subject's left looking at them (world X = the subject's forward... here -X, Y = from
    the subject to the camera, Z = up). Pitch + = looking down, roll + = clockwise seen
    from behind (the camera's right side dips): gravity in camera axes is then
    (sin r cos p, cos r cos p, sin p), the convention of posture.calibration.level."""
    p, r = np.radians(pitch_deg), np.radians(roll_deg)
    forward = np.array([0.0, -np.cos(p), -np.sin(p)])  # towards the subject, tilted down
    right = np.array([-1.0, 0.0, 0.0])  # the subject faces image-left (view "left")
    down = np.cross(forward, right)
    down = down if down[2] < 0 else -down
    # roll about the optical axis: the right axis dips towards down
    right, down = np.cos(r) * right + np.sin(r) * down, -np.sin(r) * right + np.cos(r) * down
    return np.stack([right, down, forward])


def project(points: np.ndarray, cam_pos: np.ndarray, axes: np.ndarray) -> np.ndarray:
    c = (np.atleast_2d(points) - cam_pos) @ axes.T
    return c[:, :2] * FOCAL_PX / c[:, 2:3] + np.array([W / 2, H / 2])


def camera_for(elevation_deg: float, aimed: bool) -> tuple[np.ndarray, float]:
    """(camera position, pitch + = down) DISTANCE_M from the shoulders, seen from them
    ``elevation_deg`` above the horizontal; aimed at the shoulders or held level."""
    lift = DISTANCE_M * np.tan(np.radians(elevation_deg))
    cam = np.array([0.0, DISTANCE_M, SHOULDER_Z_M + lift])
    return cam, (elevation_deg if aimed else 0.0)


def side_view(true_cva: float, elevation_deg: float, aimed: bool, model: pa.CvaModel):
    """Pose landmarks of a left side view whose ear and shoulders sit where ``model``
    says the pose model puts them for a true CVA, seen from ``elevation_deg``."""
    cam, pitch = camera_for(elevation_deg, aimed)
    shoulder = project(np.array([0.0, 0.0, SHOULDER_Z_M]), cam, camera_axes(pitch))[0]
    back, up = np.array([1.0, 0.0]), np.array([0.0, -1.0])  # view "left", level roll
    e = elevation_deg / 30.0
    b = model.c7_back_fraction + model.c7_back_per_30deg * e
    u = model.c7_up_fraction + model.c7_up_per_30deg * e
    raw = np.radians(model.centre_deg + (true_cva - model.centre_deg) / model.gain)
    length = 150.0  # C7 -> ear, pixels
    s = length
    for _ in range(200):  # fixed point: s = |ear - shoulder|
        c7 = shoulder + s * (b * back + u * up)
        ear = c7 + length * (np.cos(raw) * -back + np.sin(raw) * up)
        s = float(np.linalg.norm(ear - shoulder))
    xy = np.full((N_POSE, 2), np.nan)
    vis = np.zeros(N_POSE)
    xy[LEFT_EAR], xy[RIGHT_EAR] = ear, ear + [4.0, 0.0]
    xy[LEFT_SHOULDER], xy[RIGHT_SHOULDER] = shoulder + [0, -3.0], shoulder + [0, 3.0]
    vis[[LEFT_EAR, LEFT_SHOULDER, RIGHT_SHOULDER]] = 0.99
    vis[RIGHT_EAR] = 0.3
    return PoseLandmarks(xy, vis, np.zeros((N_POSE, 3))), pitch


def read(pose: PoseLandmarks, pitch: float, model: pa.CvaModel) -> pa.CvaValue | None:
    return pa.cva_deg(pose, "left", 0.0, camera_pitch_deg=pitch, focal_px=FOCAL_PX,
                      image_size=(W, H), model=model)  # fmt: skip


@pytest.mark.parametrize("aimed", [True, False])
@pytest.mark.parametrize("elevation", [-25.0, -12.0, 0.0, 12.0, 20.0])
def test_camera_elevation_from_pitch_position_and_focal(elevation, aimed):
    cam, pitch = camera_for(elevation, aimed)
    point = np.array([0.0, 0.0, SHOULDER_Z_M])
    px = project(point, cam, camera_axes(pitch))[0]
    got = pa.camera_elevation_deg(px, (W, H), FOCAL_PX, 0.0, pitch)
    assert got == pytest.approx(elevation, abs=0.01)


@pytest.mark.parametrize("roll", [-8.0, 5.0])
def test_camera_elevation_with_a_rolled_camera(roll):
    cam, pitch = camera_for(-15.0, True)
    px = project(np.array([0.05, 0.0, SHOULDER_Z_M + 0.1]), cam, camera_axes(pitch, roll))[0]
    d = cam - np.array([0.05, 0.0, SHOULDER_Z_M + 0.1])
    truth = np.degrees(np.arctan2(d[2], np.linalg.norm(d[:2])))
    assert pa.camera_elevation_deg(px, (W, H), FOCAL_PX, roll, pitch) == pytest.approx(
        truth, abs=0.01
    )


def test_camera_elevation_unknown_without_the_image_geometry():
    assert pa.camera_elevation_deg(np.array([10.0, 10.0]), None, None) == 0.0


@pytest.mark.parametrize("aimed", [True, False])
@pytest.mark.parametrize("elevation", [-25.0, -12.0, 0.0, 12.0, 20.0])
@pytest.mark.parametrize("true_cva", [38.0, 50.0, 60.0])
def test_true_cva_at_every_camera_elevation(true_cva, elevation, aimed):
    model = pa.load_cva_model()
    pose, pitch = side_view(true_cva, elevation, aimed, model)
    got = read(pose, pitch, model)
    assert got == pytest.approx(true_cva, abs=0.05)
    assert got.camera_elevation_deg == pytest.approx(elevation, abs=0.01)


def test_an_elevation_blind_cva_reads_low_from_below_and_high_from_above():
    """The old code's bias: the pose model's far shoulder hardly drops with perspective,
    so from below the shoulders' midpoint (and C7) sits too high and the CVA reads low."""
    model = pa.load_cva_model()
    blind = replace(model, c7_back_per_30deg=0.0, c7_up_per_30deg=0.0)
    err = {}
    for elevation in (-25.0, 0.0, 20.0):
        pose, pitch = side_view(50.0, elevation, True, model)
        err[elevation] = read(pose, pitch, blind) - 50.0
    assert err[0.0] == pytest.approx(0.0, abs=0.05)
    assert err[-25.0] < -1.0
    assert err[20.0] > 1.0


def test_level_camera_without_geometry_matches_the_level_model():
    model = pa.load_cva_model()
    pose, pitch = side_view(45.0, 0.0, True, model)
    assert pa.cva_deg(pose, "left", model=model) == pytest.approx(45.0, abs=0.05)


def test_measure_frame_passes_the_camera_geometry_to_the_cva():
    model = pa.load_cva_model()
    pose, pitch = side_view(42.0, -20.0, True, model)
    lm = FrameLandmarks(0.0, W, H, pose, None)
    m = measure_frame(lm, "left", 0.0, FOCAL_PX, camera_pitch_deg=pitch)
    assert m.cva_deg == pytest.approx(42.0, abs=0.05)
    assert m.cva_deg.camera_elevation_deg == pytest.approx(-20.0, abs=0.01)


def test_shoulders_spread_apart_are_not_a_side_view():
    model = pa.load_cva_model()
    pose, pitch = side_view(50.0, 0.0, True, model)
    xy = pose.image_xy.copy()
    s = float(np.linalg.norm(xy[LEFT_EAR] - (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2))
    xy[RIGHT_SHOULDER] = xy[LEFT_SHOULDER] + [1.5 * s, 0.0]
    spread = PoseLandmarks(xy, pose.visibility, pose.world_xyz)
    assert read(spread, pitch, model) is None


def test_ear_behind_the_shoulders_is_a_wrong_fit():
    model = pa.load_cva_model()
    pose, pitch = side_view(50.0, 0.0, True, model)
    xy = pose.image_xy.copy()
    shoulder = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2
    xy[LEFT_EAR] = shoulder + [60.0, -150.0]  # view "left": backwards is image-right
    assert read(PoseLandmarks(xy, pose.visibility, pose.world_xyz), pitch, model) is None


def test_uncertainty_grows_with_elevation_and_poor_ear_visibility():
    model = pa.load_cva_model()
    level = pa.cva_uncertainty_deg(0.0, 1.0, model)
    assert level == pytest.approx(model.uncertainty_deg, abs=0.05)
    assert pa.cva_uncertainty_deg(10.0, 1.0, model) == level
    if model.uncertainty_per_10deg > 0:
        assert pa.cva_uncertainty_deg(-30.0, 1.0, model) > level
        assert pa.cva_uncertainty_deg(-30.0, 1.0, model) == pa.cva_uncertainty_deg(30.0, 1.0, model)
    assert pa.cva_uncertainty_deg(0.0, 0.6, model) > level


def test_a_cva_value_carries_its_uncertainty_through_pickle_and_json():
    v = pa.CvaValue(47.25, 6.1, -12.0)
    back = pickle.loads(pickle.dumps(v))
    assert back == 47.25 and back.uncertainty_deg == 6.1 and back.camera_elevation_deg == -12.0
    assert json.loads(json.dumps({"cva_deg": v})) == {"cva_deg": 47.25}
    assert type(v + 1.0) is float


def test_summary_uncertainty_is_the_median_over_frames():
    frames = [pa.CvaValue(40.0, 5.0, 0.0), None, pa.CvaValue(41.0, 7.0, -20.0),
              pa.CvaValue(42.0, 6.0, -5.0), 43.0]  # fmt: skip
    assert pa.summary_cva_uncertainty_deg(frames) == 6.0
    assert pa.summary_cva_uncertainty_deg([None, 45.0]) is None


def test_report_summary_has_the_cva_uncertainty():
    from posture.assemble import assemble_report
    from posture.io.media import MediaInfo
    from posture.options import AnalysisOptions
    from posture.report_schema import validate_report
    from posture.stream import SteadyTrunkYaw, measure_with_options

    model = pa.load_cva_model()
    pose, pitch = side_view(44.0, -18.0, True, model)
    options = AnalysisOptions(view="left", camera_pitch_deg=pitch, focal_px=FOCAL_PX)
    m = measure_with_options(FrameLandmarks(0.0, W, H, pose, None), options, SteadyTrunkYaw())
    info = MediaInfo("side.png", "image", W, H, None, 1, None, 0)
    report = assemble_report(info, [m], options, 1, []).to_dict()
    assert report["summary"]["cva_deg"] == pytest.approx(44.0, abs=0.06)
    assert report["summary"]["cva_uncertainty_deg"] == pa.cva_uncertainty_deg(-18.0, 0.99, model)
    assert validate_report(report) == []
    json.dumps(report)
