"""Calibration: board, lens, level, profiles and options, on boards seen by known cameras."""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.calibration.board import BoardLayout, write_board
from posture.calibration.cli import register
from posture.calibration.detect import BoardDetector, detector_bias_px
from posture.calibration.lens import calibrate_lens, distinct_views
from posture.calibration.level import (
    attitude_from_gravity,
    board_lines,
    level_from_board,
    parse_line,
    roll_from_line,
)
from posture.calibration.options import apply_to_options, calibrated_options
from posture.calibration.pictures import Detections, detect_in_inputs
from posture.calibration.profiles import (
    CameraProfile,
    Intrinsics,
    LensCalibration,
    Level,
    SubjectNeutral,
    camera_path,
    default_intrinsics,
    lens_for_frame,
    load_camera,
    load_subject,
    save_camera,
    save_subject,
)
from posture.errors import InputError, OutputError, PostureError
from posture.options import AnalysisOptions
from synthetic.calibration_boards import (
    BoardRenderer,
    camera_to_world,
    handheld_board_pose,
    project_points,
    wall_board_pose,
)
from tests.media_fixtures import write_video

LAYOUT = BoardLayout()
CAMERA = Intrinsics(640, 480, 520.0, 523.0, 326.0, 233.0, (-0.12, 0.06, 0.001, -0.0008, 0.0))


@pytest.fixture(autouse=True)
def profiles_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "profiles"
    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(d))
    return d


@lru_cache(maxsize=1)
def _renderer() -> BoardRenderer:
    return BoardRenderer()


def handheld_views(n: int = 12, seed: int = 0) -> list[np.ndarray]:
    """Board held at varied tilts and places in front of CAMERA, grey pictures."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        tilt_x, tilt_y = rng.uniform(-35, 35, 2)
        distance_m = rng.uniform(0.38, 0.55)
        offset = tuple(rng.uniform(-0.1, 0.1, 2))
        pose = handheld_board_pose(LAYOUT, tilt_x, tilt_y, rng.uniform(-25, 25), distance_m, offset)
        out.append(_renderer().render(CAMERA, pose, noise_sigma=2.0, seed=i))
    return out


@lru_cache(maxsize=1)
def _cached_views() -> tuple[np.ndarray, ...]:
    return tuple(handheld_views())


def write_photos(folder: Path, images) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(images):
        cv2.imwrite(str(folder / f"board_{i:02d}.png"), img)
    return folder


def wall_picture(
    roll_deg: float, pitch_deg: float, camera: Intrinsics = CAMERA, **kw
) -> np.ndarray:
    pose = wall_board_pose(LAYOUT, roll_deg, pitch_deg, distance_m=0.45, **kw)
    return _renderer().render(camera, pose, noise_sigma=1.5)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="posture")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


# -- board -----------------------------------------------------------------------------------


def test_board_pdf_page_is_true_scale_a4_landscape(tmp_path):
    path = write_board(tmp_path / "board.pdf", "a4")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    box = [float(v) for v in data.split(b"/MediaBox [")[1].split(b"]")[0].split()]
    assert box[2] == pytest.approx(297 / 25.4 * 72, abs=0.1)  # points
    assert box[3] == pytest.approx(210 / 25.4 * 72, abs=0.1)


def test_board_png_is_300_dpi_and_its_board_is_detected(tmp_path):
    from PIL import Image

    path = write_board(tmp_path / "board.png", "letter")
    image = Image.open(path)
    assert image.info["dpi"][0] == pytest.approx(300, abs=0.1)
    assert image.size == (round(279.4 / 25.4 * 300), round(215.9 / 25.4 * 300))
    view = BoardDetector().detect(np.array(image.convert("L")))
    assert view is not None and view.n_corners == (LAYOUT.squares_x - 1) * (LAYOUT.squares_y - 1)
    # True scale: two neighbouring corners are one square apart on paper.
    px_per_mm = 300 / 25.4
    order = np.argsort(view.ids)
    step_px = np.linalg.norm(view.image_px[order][1] - view.image_px[order][0])
    assert step_px / px_per_mm == pytest.approx(LAYOUT.square_mm, abs=0.1)


def test_board_command_prints_instructions(tmp_path, capsys):
    assert run(["calibrate", "board", "--out", str(tmp_path / "b.pdf")]) == 0
    out = capsys.readouterr().out
    assert "100%" in out and "--square-mm" in out


@pytest.mark.parametrize(
    ("argv", "error", "needle"),
    [
        (["--out", "board.jpg"], OutputError, "not '.jpg'"),
        (["--out", "missing/board.pdf"], OutputError, "does not exist"),
        (["--out", "board.pdf", "--square-mm", "60"], OutputError, "do not fit"),
        (["--out", "board.pdf", "--square-mm", "0.5"], InputError, "not a printed square"),
    ],
)
def test_board_command_refuses_bad_output(tmp_path, monkeypatch, argv, error, needle):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=needle):
        run(["calibrate", "board", *argv])
    assert not list(tmp_path.glob("*board*"))


def test_board_command_keeps_an_existing_file_until_overwrite(tmp_path, capsys):
    out = tmp_path / "board.pdf"
    out.write_bytes(b"the user's own file")
    with pytest.raises(OutputError, match="board.pdf already exists.*--overwrite"):
        run(["calibrate", "board", "--out", str(out)])
    assert out.read_bytes() == b"the user's own file"
    assert [p.name for p in tmp_path.iterdir() if p.name != "profiles"] == ["board.pdf"]
    assert run(["calibrate", "board", "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes().startswith(b"%PDF")


# -- detection -------------------------------------------------------------------------------


def test_detected_corners_match_the_projection_without_bias():
    views = [
        handheld_board_pose(LAYOUT, 0, 0, 0, 0.45),
        handheld_board_pose(LAYOUT, 25, -20, 15, 0.5, (0.05, 0.02)),
    ]
    for pose in views:
        view = BoardDetector().detect(_renderer().render(CAMERA, pose))
        err = project_points(CAMERA, pose, view.object_m) - view.image_px
        assert np.abs(err.mean(axis=0)).max() < 0.1  # OpenCV's +0.5 px removed
        assert np.abs(err).max() < 0.5
    assert detector_bias_px() in (0.0, 0.5)


def test_blank_picture_has_no_board():
    assert BoardDetector().detect(np.full((480, 640), 180, np.uint8)) is None


# -- lens ------------------------------------------------------------------------------------


def test_lens_is_recovered_from_twelve_photos_within_one_percent(tmp_path):
    folder = write_photos(tmp_path / "photos", _cached_views())
    detections = detect_in_inputs([folder], BoardDetector())
    lens = calibrate_lens(detections, LAYOUT)
    k = lens.intrinsics
    assert (k.width_px, k.height_px) == (640, 480)
    for got, want in [(k.fx_px, CAMERA.fx_px), (k.fy_px, CAMERA.fy_px),
                      (k.cx_px, CAMERA.cx_px), (k.cy_px, CAMERA.cy_px)]:  # fmt: skip
        assert got == pytest.approx(want, rel=0.01)
    assert k.distortion[0] == pytest.approx(CAMERA.distortion[0], abs=0.02)
    assert lens.reprojection_error_px < 0.3
    assert lens.views_used == 12


def test_camera_command_saves_a_readable_profile(tmp_path, profiles_dir, capsys):
    folder = write_photos(tmp_path / "photos", _cached_views())
    assert run(["calibrate", "camera", str(folder), "--name", "desk", "--square-mm", "29.5"]) == 0
    out = capsys.readouterr().out
    assert "reprojection error" in out
    data = json.loads((profiles_dir / "cameras" / "desk.json").read_text())
    assert data["lens"]["image_width_px"] == 640
    assert data["lens"]["fx_px"] == pytest.approx(CAMERA.fx_px, rel=0.01)
    assert len(data["lens"]["distortion_k1_k2_p1_p2_k3"]) == 5
    assert data["lens"]["board"]["square_mm"] == 29.5
    assert data["lens"]["calibrated_at"][:2] == "20"
    assert data["level"] is None


def test_a_stored_lens_is_kept_until_overwrite(tmp_path, profiles_dir):
    folder = write_photos(tmp_path / "photos", _cached_views())
    assert run(["calibrate", "camera", str(folder), "--name", "desk"]) == 0
    path = profiles_dir / "cameras" / "desk.json"
    before = path.read_bytes()
    other = write_photos(tmp_path / "other", _cached_views()[:8])
    expected = (
        r"lens calibration for camera 'desk' is already stored"
        r" \(measured 20\d\d-\d\d-\d\d\): give another --name, or add --overwrite"
    )
    with pytest.raises(InputError, match=expected):
        run(["calibrate", "camera", str(other), "--name", "desk"])
    assert path.read_bytes() == before
    assert run(["calibrate", "camera", str(other), "--name", "desk", "--overwrite"]) == 0
    assert json.loads(path.read_text())["lens"]["views_used"] == 8


def test_camera_from_a_video_samples_frames(tmp_path):
    rgb = [np.repeat(v[:, :, None], 3, axis=2) for v in _cached_views()[:8]]
    video = write_video(tmp_path / "board.mp4", [f for f in rgb for _ in range(3)], fps=10)
    assert run(["calibrate", "camera", str(video), "--name", "phone", "--samples", "24"]) == 0
    profile = load_camera("phone")
    assert profile.lens.views_used == 8  # the repeated frames count once
    assert profile.lens.intrinsics.fx_px == pytest.approx(CAMERA.fx_px, rel=0.02)


def _calibrate(tmp_path: Path, images) -> None:
    run(["calibrate", "camera", str(write_photos(tmp_path / "p", images)), "--name", "c"])


def test_camera_refuses_pictures_without_the_board(tmp_path):
    with pytest.raises(InputError, match="not found in any of the 3"):
        _calibrate(tmp_path, [np.full((480, 640), v, np.uint8) for v in (90, 150, 200)])


def test_camera_refuses_too_few_views(tmp_path):
    with pytest.raises(InputError, match="only 3 different view"):
        _calibrate(tmp_path, _cached_views()[:3])


def test_camera_refuses_the_same_view_repeated(tmp_path):
    with pytest.raises(InputError, match="only 1 different view"):
        _calibrate(tmp_path, [_cached_views()[0]] * 8)


def test_camera_refuses_views_that_cannot_give_the_focal_length():
    # Square-on boards at one distance: the focal length trades off against distance.
    views = []
    for i, off in enumerate(
        [(-0.1, -0.08), (0.1, -0.08), (-0.1, 0.08), (0.1, 0.08), (0, 0), (0.05, 0)]
    ):
        pose = handheld_board_pose(LAYOUT, 0, 0, 0, 0.5, off)
        views.append(BoardDetector().detect(_renderer().render(CAMERA, pose, 1.0, i), str(i)))
    with pytest.raises(InputError, match="too alike"):
        calibrate_lens(Detections(views, (640, 480), len(views)), LAYOUT)


def test_camera_refuses_mixed_picture_sizes(tmp_path):
    images = [*_cached_views()[:6], cv2.resize(_cached_views()[6], (320, 240))]
    with pytest.raises(InputError, match="different sizes"):
        _calibrate(tmp_path, images)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "nope.mp4", "not found"),
        (lambda d: (d / "x.png").write_bytes(b"not an image") and d / "x.png", "not a readable"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "holds no photos"),
        (lambda d: (d / "x.mp4").write_bytes(b"text" * 100) and d / "x.mp4", "not a readable"),
    ],
)
def test_camera_refuses_unreadable_input(tmp_path, make, needle):
    with pytest.raises(InputError, match=needle):
        run(["calibrate", "camera", str(make(tmp_path)), "--name", "c"])


@pytest.mark.parametrize("name", ["../up", "a b", "", "-x", "x" * 65])
def test_profile_names_must_be_plain_file_names(name):
    with pytest.raises(InputError, match="cannot be used"):
        camera_path(name)


def test_distinct_views_keeps_moved_boards():
    detector = BoardDetector()
    views = [detector.detect(v, str(i)) for i, v in enumerate(_cached_views()[:5])]
    assert len(distinct_views(views + views, (640, 480))) == 5


# -- level -----------------------------------------------------------------------------------


def test_attitude_convention_matches_the_geometry_module():
    # Gravity of a camera rolled clockwise (seen from behind) points to image right of down,
    # as posture_angles._side_axes has it: down = (sin a, cos a).
    for roll, pitch in [(7.0, 0.0), (-4.0, 10.0), (3.0, -12.0)]:
        g = camera_to_world(roll, pitch).T @ np.array([0.0, 1.0, 0.0])
        a = attitude_from_gravity(g)
        assert a.roll_deg == pytest.approx(roll)
        assert a.pitch_deg == pytest.approx(pitch)
    a = np.radians(7.0)
    g = camera_to_world(7.0, 0.0).T @ np.array([0.0, 1.0, 0.0])
    assert g[:2] == pytest.approx([np.sin(a), np.cos(a)])


@pytest.mark.parametrize(
    ("roll", "pitch", "offset"), [(6.0, 4.0, (0.0, 0.0)), (-9.0, -7.0, (0.15, -0.1))]
)
def test_level_from_a_plumb_board_within_half_a_degree(roll, pitch, offset):
    view = BoardDetector().detect(wall_picture(roll, pitch, board_offset_m=offset))
    level = level_from_board([view], CAMERA, True, (640, 480))
    assert level.roll_deg == pytest.approx(roll, abs=0.5)
    # Pitch is the board's foreshortening, weak for a small square-on board: ~1 deg.
    assert level.pitch_deg == pytest.approx(pitch, abs=1.0)


def _cut_wall_view(down_m: float):
    """A wall board seen by a camera looking 10 deg down, raised so its top is cut off."""
    pose = wall_board_pose(
        LAYOUT, 3.0, 10.0, yaw_deg=8.0, distance_m=0.45, board_offset_m=(0.03, -down_m)
    )
    return BoardDetector().detect(_renderer().render(CAMERA, pose, noise_sigma=1.5))


def test_a_board_cut_by_the_picture_edge_keeps_the_row_next_to_the_cut():
    # The top row of corners is out of the picture and the markers next to the second
    # row are cut: that row is in full view and identified by the marker below it.
    view = _cut_wall_view(0.09)
    assert board_lines(view) == (6, 3)
    level = level_from_board([view], CAMERA, True, (640, 480))
    assert level.roll_deg == pytest.approx(3.0, abs=0.3)
    assert level.pitch_deg == pytest.approx(10.0, abs=0.3)


def test_level_from_two_rows_of_corners_keeps_roll_but_not_pitch():
    view = _cut_wall_view(0.11)  # one square high: pitch is poorly defined
    assert board_lines(view) == (6, 2)
    level = level_from_board([view], CAMERA, True, (640, 480))
    assert level.roll_deg == pytest.approx(3.0, abs=0.5)
    assert level.pitch_deg is None


def test_level_command_says_why_pitch_was_not_stored(tmp_path, capsys):
    _calibrate(tmp_path, _cached_views())
    pose = wall_board_pose(
        LAYOUT, 3.0, 10.0, yaw_deg=8.0, distance_m=0.45, board_offset_m=(0.03, -0.11)
    )
    cv2.imwrite(str(tmp_path / "cut.png"), _renderer().render(CAMERA, pose, noise_sigma=1.5))
    capsys.readouterr()
    assert run(["calibrate", "level", str(tmp_path / "cut.png"), "--name", "c"]) == 0
    out = capsys.readouterr().out
    assert "pitch not stored: the board must fill" in out and "take the picture closer" in out
    assert load_camera("c").level.pitch_deg is None


def test_level_board_may_hang_sideways_or_upside_down():
    for spin in (90.0, 180.0):
        pose = wall_board_pose(LAYOUT, 5.0, 0.0, distance_m=0.8)
        # Turn the board in the wall plane about its centre: edges stay plumb.
        w, h = (v / 1000 for v in LAYOUT.size_mm)
        c = np.array([w / 2, h / 2, 0.0])
        turn = cv2.Rodrigues(np.array([0.0, 0.0, np.radians(spin)]))[0]
        rotation = pose.rotation @ turn
        translation = pose.translation_m + pose.rotation @ c - rotation @ c
        from synthetic.calibration_boards import BoardPose

        image = _renderer().render(CAMERA, BoardPose(rotation, translation))
        level = level_from_board([BoardDetector().detect(image)], CAMERA, True, (640, 480))
        assert level.roll_deg == pytest.approx(5.0, abs=0.5)


def test_level_command_stores_roll_and_pitch_in_the_profile(tmp_path, capsys):
    _calibrate(tmp_path, _cached_views())
    cv2.imwrite(str(tmp_path / "wall.png"), wall_picture(7.0, 5.0))
    assert run(["calibrate", "level", str(tmp_path / "wall.png"), "--name", "c"]) == 0
    assert "roll: +" in capsys.readouterr().out
    profile = load_camera("c")
    assert profile.lens is not None  # kept
    assert profile.level.roll_deg == pytest.approx(7.0, abs=0.5)
    assert profile.level.pitch_deg == pytest.approx(5.0, abs=1.0)
    assert profile.level.method == "board"


def test_a_stored_level_is_kept_until_overwrite(tmp_path):
    cv2.imwrite(str(tmp_path / "wall.png"), wall_picture(-6.0, 3.0))
    cv2.imwrite(str(tmp_path / "moved.png"), wall_picture(4.0, 3.0))
    run(["calibrate", "level", str(tmp_path / "wall.png"), "--name", "c"])
    before = camera_path("c").read_bytes()
    with pytest.raises(InputError, match="A level for camera 'c' is already stored"):
        run(["calibrate", "level", str(tmp_path / "moved.png"), "--name", "c"])
    assert camera_path("c").read_bytes() == before
    run(["calibrate", "level", str(tmp_path / "moved.png"), "--name", "c", "--overwrite"])
    assert load_camera("c").level.roll_deg == pytest.approx(4.0, abs=0.5)


def test_level_without_a_lens_stores_roll_only(tmp_path):
    cv2.imwrite(str(tmp_path / "wall.png"), wall_picture(-6.0, 3.0))
    run(["calibrate", "level", str(tmp_path / "wall.png"), "--name", "fresh"])
    level = load_camera("fresh").level
    assert level.roll_deg == pytest.approx(-6.0, abs=0.5)
    assert level.pitch_deg is None


def test_level_refuses_a_picture_without_the_board(tmp_path):
    cv2.imwrite(str(tmp_path / "wall.png"), np.full((480, 640), 128, np.uint8))
    with pytest.raises(InputError, match="board was not found"):
        run(["calibrate", "level", str(tmp_path / "wall.png"), "--name", "c"])
    assert not camera_path("c").exists()


def test_level_refuses_views_that_disagree():
    views = [BoardDetector().detect(wall_picture(r, 0.0), str(r)) for r in (0.0, 4.0, 8.0)]
    with pytest.raises(InputError, match="varies"):
        level_from_board(views, CAMERA, True, (640, 480))


def test_roll_from_a_vertical_line():
    lens = Intrinsics(640, 480, 520.0, 520.0, 319.5, 239.5)
    # Camera rolled +5 deg: true down appears turned toward image right.
    a = np.radians(5.0)
    p1 = (319.5, 239.5)
    p2 = (319.5 + 200 * np.sin(a), 239.5 + 200 * np.cos(a))
    assert roll_from_line(p1, p2, lens) == pytest.approx(5.0, abs=1e-6)
    assert roll_from_line(p2, p1, lens) == pytest.approx(5.0, abs=1e-6)  # either order


def test_level_line_command(tmp_path):
    cv2.imwrite(str(tmp_path / "door.png"), np.full((480, 640, 3), 128, np.uint8))
    run(
        [
            "calibrate",
            "level",
            str(tmp_path / "door.png"),
            "--name",
            "d",
            "--line",
            "300,50,330,450",
        ]
    )
    level = load_camera("d").level
    assert level.method == "line"
    assert level.roll_deg == pytest.approx(np.degrees(np.arctan2(30, 400)), abs=0.3)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("1,2,3", "not four numbers"),
        ("a,b,c,d", "not four numbers"),
        ("100,100,110,120", "only 22 px long"),
        ("100,100,500,150", "closer to horizontal"),
        ("100,100,100,900", "outside the 640x480"),
    ],
)
def test_level_line_refusals(tmp_path, line, needle):
    cv2.imwrite(str(tmp_path / "door.png"), np.full((480, 640, 3), 128, np.uint8))
    with pytest.raises(InputError, match=needle):
        run(["calibrate", "level", str(tmp_path / "door.png"), "--name", "d", "--line", line])


def test_parse_line():
    assert parse_line("1,2.5,3,4") == ((1.0, 2.5), (3.0, 4.0))


def test_render_still_roll_is_the_opposite_of_ours():
    """scene.look_at_pose rolls the camera the other way: posture roll = -render roll."""
    from synthetic.rig import BodyPose, load_bodies, pose_body
    from synthetic.scene import make_camera

    posed = pose_body(load_bodies().body(0), BodyPose())
    for azimuth in (0.0, 90.0):
        camera = make_camera(posed, roll_deg=8.0, azimuth_deg=azimuth)
        eye, forward = camera.pose[:3, 3], -camera.pose[:3, 2]
        right = np.cross(forward, [0.0, 0.0, 1.0])
        p = eye + 2.0 * forward
        uv, _ = camera.project(np.array([p, p + 0.1 * right / np.linalg.norm(right)]))
        d = uv[1] - uv[0]
        our_roll = np.degrees(np.arctan2(-d[1], d[0]))  # screen angle of the true horizontal
        assert our_roll == pytest.approx(-8.0, abs=1e-6)


# -- profiles and options --------------------------------------------------------------------


def _profile(name: str = "cam", roll_deg: float | None = 4.0) -> CameraProfile:
    lens = LensCalibration(
        Intrinsics(1920, 1080, 1500.0, 1502.0, 959.5, 539.5, (-0.1, 0.02, 0.0, 0.0, 0.0)),
        0.21, 14, LAYOUT.to_dict(), "2025-01-01T10:00:00+00:00",
    )  # fmt: skip
    level = None
    if roll_deg is not None:
        level = Level(roll_deg, 2.0, "board", 1920, 1080, 5, 0.1, "2025-01-01T10:05:00+00:00")
    return CameraProfile(name, lens, level)


def test_profile_round_trips_through_json(profiles_dir):
    path = save_camera(_profile())
    assert path == profiles_dir / "cameras" / "cam.json"
    assert load_camera("cam") == _profile()
    assert json.loads(path.read_text())["kind"] == "posture camera profile"


def test_missing_or_damaged_profiles_are_refused(profiles_dir):
    with pytest.raises(InputError, match="No camera profile 'nope'"):
        load_camera("nope")
    (profiles_dir / "cameras").mkdir(parents=True)
    (profiles_dir / "cameras" / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not readable JSON"):
        load_camera("bad")
    (profiles_dir / "cameras" / "half.json").write_text('{"kind": "posture camera profile"}')
    with pytest.raises(InputError, match="incomplete or damaged"):
        load_camera("half")


def test_intrinsics_scale_with_the_frame():
    k = _profile().lens.intrinsics.scaled_to(1280, 720)
    assert k.fx_px == pytest.approx(1000.0)
    assert k.cx_px == pytest.approx(639.5)  # the centre stays the centre: (959.5 + 0.5) * 2/3 - 0.5
    assert k.cy_px == pytest.approx(359.5)
    assert k.distortion == _profile().lens.intrinsics.distortion


def test_lens_refuses_another_orientation_or_shape():
    with pytest.raises(InputError, match="portrait"):
        lens_for_frame(_profile(), 720, 1280)
    with pytest.raises(InputError, match="another picture shape"):
        lens_for_frame(_profile(), 1280, 960)


def test_apply_to_options_fills_lens_level_and_name():
    save_camera(_profile())
    args = argparse.Namespace(input=None, calibration="cam", subject=None)
    options = apply_to_options(args, AnalysisOptions(), frame_size_px=(3840, 2160))
    # 4K frames are analysed at 1280 px: the lens is scaled to 1280x720.
    assert options.focal_px == pytest.approx(1501.0 * 1280 / 1920)
    assert options.principal_px == pytest.approx((639.5, 359.5))
    assert options.distortion == pytest.approx((-0.1, 0.02, 0.0, 0.0, 0.0))
    assert options.camera_roll_deg == 4.0
    assert options.calibration == "cam"


def test_apply_to_options_reads_the_input_size(tmp_path):
    save_camera(_profile())
    cv2.imwrite(str(tmp_path / "p.jpg"), np.zeros((540, 960, 3), np.uint8))
    args = argparse.Namespace(input=str(tmp_path / "p.jpg"), calibration="cam", subject=None)
    options = apply_to_options(args, AnalysisOptions())
    assert options.focal_px == pytest.approx(1501.0 / 2)


def test_apply_to_options_without_calibration_changes_nothing():
    options = AnalysisOptions(view="front")
    args = argparse.Namespace(input="x.mp4", calibration=None, subject=None)
    assert apply_to_options(args, options) is options


def test_level_only_profile_sets_roll_only():
    save_camera(CameraProfile("lvl", None, _profile().level))
    options = calibrated_options(AnalysisOptions(), camera="lvl", frame_size_px=(1280, 720))
    assert options.camera_roll_deg == 4.0
    assert options.focal_px is None and options.distortion is None


def _neutral(subject: str = "P017") -> SubjectNeutral:
    return SubjectNeutral(
        subject,
        {"head_rotation_deg": 2.5, "head_flexion_deg": -4.0, "head_lateral_flexion_deg": 1.0},
        {"cva_deg": None, "head_tilt_deg": 1.2, "shoulder_tilt_deg": 0.4},
        "front",
        None,
        "2025-01-01T10:00:00+00:00",
    )


def test_subject_neutral_is_applied_and_named():
    save_subject(_neutral())
    assert load_subject("P017") == _neutral()
    save_camera(_profile())
    options = calibrated_options(
        AnalysisOptions(), camera="cam", subject="P017", frame_size_px=(1920, 1080)
    )
    assert options.neutral_deg == _neutral().neutral_deg
    assert options.calibration == "cam; subject P017"


def test_unknown_subject_is_refused():
    with pytest.raises(InputError, match="calibrate neutral VIDEO --subject P999"):
        calibrated_options(AnalysisOptions(), subject="P999")


def test_add_analyze_arguments():
    from posture.calibration.options import add_analyze_arguments

    parser = argparse.ArgumentParser()
    add_analyze_arguments(parser)
    args = parser.parse_args(["--calibration", "desk", "--subject", "P1"])
    assert (args.calibration, args.subject) == ("desk", "P1")


def test_default_intrinsics_match_the_pipeline_assumption():
    from posture.geometry.measure import default_focal_px

    k = default_intrinsics(1280, 720)
    assert k.fx_px == pytest.approx(default_focal_px(1280, 720))


def test_errors_are_posture_errors():
    assert issubclass(InputError, PostureError)


def test_level_from_a_small_board_keeps_roll_but_not_pitch():
    pose = wall_board_pose(LAYOUT, 6.0, 4.0, distance_m=0.9)  # spans ~15% of the diagonal
    view = BoardDetector().detect(_renderer().render(CAMERA, pose, noise_sigma=1.5))
    level = level_from_board([view], CAMERA, True, (640, 480))
    assert level.roll_deg == pytest.approx(6.0, abs=0.5)
    assert level.pitch_deg is None


def test_level_refuses_a_board_too_small_in_the_picture():
    pose = wall_board_pose(LAYOUT, 6.0, 0.0, distance_m=0.9)
    view = BoardDetector().detect(_renderer().render(CAMERA, pose, noise_sigma=1.5))
    with pytest.raises(InputError, match="too small in the picture"):
        level_from_board([view], CAMERA, True, (1280, 960))  # as if the picture were larger
