"""Calibration accuracy: boards seen by known cameras, and humans seen by a rolled camera.

    PYOPENGL_PLATFORM=egl .venv/bin/python benchmarks/calibration_accuracy.py [--quick]

1. Lens: for each known camera (intrinsics and distortion), 15 pictures of the
   board held at random tilts are rendered (synthetic.calibration_boards: every
   pixel traced back through the lens to the printed board), detected and
   calibrated exactly as ``posture calibrate camera`` does. Target: fx, fy, cx, cy
   within 1%.
2. Level: the board hung plumb on a wall, seen by the same cameras rolled and
   pitched; roll and pitch recovered with the calibrated lens, from one picture
   and as the median of 5 (a short video). Target: within 0.5 deg.
3. Humans: rendered bodies (synthetic) seen by a camera rolled 5-10 deg:
   side views for CVA, front views for head tilt. The roll is measured from a
   board on the wall seen by that same camera (step 2), then given to the
   pipeline. Errors are shown against the rig's truth and against the same
   scene seen by a level camera (which isolates the calibration's effect from
   the landmark model's own error). Target: <= 1 deg after correction.
4. Pitch: rendered bodies, front view, head at a known flexion, seen by a camera
   raised or lowered and aimed at the upper body (pitched by a known angle). The
   pitch is measured from a wall board seen by that camera (its true lens), then
   given to ``measure_frame`` (``camera_pitch_deg``) for head flexion.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from posture.calibration.board import BoardLayout  # noqa: E402
from posture.calibration.detect import BoardDetector  # noqa: E402
from posture.calibration.lens import calibrate_lens  # noqa: E402
from posture.calibration.level import level_from_board  # noqa: E402
from posture.calibration.pictures import Detections  # noqa: E402
from posture.calibration.profiles import Intrinsics  # noqa: E402
from synthetic.calibration_boards import (  # noqa: E402
    BoardRenderer,
    handheld_board_pose,
    wall_board_pose,
)

LAYOUT = BoardLayout()
CAMERAS = {
    "webcam 640x480": Intrinsics(640, 480, 560.0, 562.0, 318.0, 243.0,
                                 (0.04, -0.12, 0.0005, -0.0004, 0.0)),
    "laptop 1280x720": Intrinsics(1280, 720, 1010.0, 1008.0, 646.0, 355.0,
                                  (-0.08, 0.10, -0.0006, 0.0008, 0.0)),
    "wide 1280x720": Intrinsics(1280, 720, 640.0, 641.0, 633.0, 366.0,
                                (-0.30, 0.09, 0.0010, -0.0005, 0.0)),
}  # fmt: skip
ATTITUDES = [(5.0, 0.0), (-7.0, 4.0), (10.0, -6.0), (2.0, 10.0)]  # (roll, pitch) deg


def handheld_poses(n: int, seed: int, focal_over_width: float) -> list:
    """Board held 25-50 cm away (closer for wide lenses), tilted up to 40 deg, spread out."""
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(n):
        distance_m = rng.uniform(0.32, 0.5) * max(focal_over_width / 0.8, 0.5)
        offset = tuple(rng.uniform(-0.35, 0.35, 2) * distance_m * np.array([0.8, 0.5]))
        tilt_x, tilt_y = rng.uniform(-40, 40, 2)
        poses.append(handheld_board_pose(LAYOUT, tilt_x, tilt_y, rng.uniform(-30, 30),
                                         distance_m, offset))  # fmt: skip
    return poses


def lens_rows(renderer: BoardRenderer, n_views: int) -> dict[str, Intrinsics]:
    print("\n1. Lens (intrinsics) from", n_views, "rendered board pictures per camera")
    print(f"{'camera':<18}{'views':>6}{'fx %':>8}{'fy %':>8}{'cx %':>8}{'cy %':>8}"
          f"{'k1 true':>9}{'k1 fit':>9}{'rms px':>8}{'s':>6}")  # fmt: skip
    detector = BoardDetector()
    fitted = {}
    for name, cam in CAMERAS.items():
        t0 = time.perf_counter()
        views = []
        for i, pose in enumerate(handheld_poses(n_views, 1, cam.fx_px / cam.width_px)):
            view = detector.detect(renderer.render(cam, pose, noise_sigma=2.0, seed=i), str(i))
            if view is not None:
                views.append(view)
        lens = calibrate_lens(Detections(views, (cam.width_px, cam.height_px), n_views), LAYOUT)
        k = lens.intrinsics
        pct = [100 * (got - want) / want for got, want in
               [(k.fx_px, cam.fx_px), (k.fy_px, cam.fy_px), (k.cx_px, cam.cx_px),
                (k.cy_px, cam.cy_px)]]  # fmt: skip
        print(f"{name:<18}{lens.views_used:>6}" + "".join(f"{v:>+8.2f}" for v in pct)
              + f"{cam.distortion[0]:>9.3f}{k.distortion[0]:>9.3f}"
              f"{lens.reprojection_error_px:>8.3f}{time.perf_counter() - t0:>6.0f}")  # fmt: skip
        fitted[name] = k
    return fitted


def level_rows(renderer: BoardRenderer, fitted: dict[str, Intrinsics]) -> None:
    print("\n2. Level: board plumb on a wall, fitted lens; error = measured - true (deg);")
    print("   'near': the board spans 35% of the picture width; 'far': 20% (roll only)")
    print(f"{'camera':<18}{'board':>6}{'dist m':>7}{'roll':>6}{'pitch':>6}{'roll err 1':>11}"
          f"{'pitch err 1':>12}{'roll err 5':>11}{'pitch err 5':>12}")  # fmt: skip
    detector = BoardDetector()
    worst = {"near": np.full(4, np.nan), "far": np.full(4, np.nan)}
    for name, cam in CAMERAS.items():
        lens = fitted[name]
        size = (cam.width_px, cam.height_px)
        near_m = cam.fx_px * LAYOUT.size_mm[0] / 1000 / (0.35 * cam.width_px)
        for where, distance_m in (("near", near_m), ("far", 1.75 * near_m)):
            for roll, pitch in ATTITUDES:
                pose = wall_board_pose(LAYOUT, roll, pitch, yaw_deg=8.0, distance_m=distance_m,
                                       board_offset_m=(0.05, -0.04))  # fmt: skip
                views = [detector.detect(renderer.render(cam, pose, 2.0, s)) for s in range(5)]
                views = [v for v in views if v is not None]
                if not views:
                    print(f"{name:<18}{where:>6}{distance_m:>7.2f}{roll:>6.0f}{pitch:>6.0f}"
                          "  board not found")  # fmt: skip
                    continue
                one = level_from_board(views[:1], lens, True, size)
                five = level_from_board(views, lens, True, size)
                errs = np.array([
                    _err(one.roll_deg, roll), _err(one.pitch_deg, pitch),
                    _err(five.roll_deg, roll), _err(five.pitch_deg, pitch),
                ])  # fmt: skip
                worst[where] = np.fmax(worst[where], np.abs(errs))
                print(f"{name:<18}{where:>6}{distance_m:>7.2f}{roll:>6.0f}{pitch:>6.0f}"
                      + "".join(f"{e:>+11.2f}" if i % 2 == 0 else f"{e:>+12.2f}"
                                for i, e in enumerate(errs)))  # fmt: skip
    for where, w in worst.items():
        cells = "".join(f"{v:>{11 + i % 2}.2f}" for i, v in enumerate(w))
        print(f"{'worst |error| ' + where:<43}{cells}".replace("nan", "  -"))


def _err(measured: float | None, true: float) -> float:
    return float("nan") if measured is None else measured - true


@dataclass(frozen=True)
class HumanCase:
    key: str  # the angle measured
    view: str  # "front" | "left"
    azimuth_deg: float
    body: str
    pose_kwargs: dict
    roll_deg: float  # posture's convention


def human_cases(quick: bool) -> list[HumanCase]:
    bodies = ["neutral", "older_woman"] if quick else ["neutral", "older_woman", "tall_thin_man"]
    rolls = [6.0, -8.0] if quick else [5.0, -7.0, 10.0]
    cases = []
    for body in bodies:
        for roll in rolls:
            for fwd in (0.0, 12.0):
                cases.append(HumanCase("cva_deg", "left", 90.0, body,
                                       {"forward_head_deg": fwd}, roll))  # fmt: skip
            for lat in (0.0, 8.0):
                cases.append(HumanCase("head_tilt_deg", "front", 0.0, body,
                                       {"lateral_flexion_deg": lat}, roll))  # fmt: skip
    return cases


def human_rows(board_renderer: BoardRenderer, quick: bool) -> None:
    from posture.geometry.measure import measure_frame
    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
    from posture.options import AnalysisOptions
    from posture.stream import undistorted
    from synthetic.render import render_still
    from synthetic.rig import BodyPose

    print("\n3. Rendered humans, camera rolled; roll measured from a wall board by that camera")
    print(f"{'angle':<15}{'body':<15}{'pose':<10}{'roll':>6}{'meas':>7}{'truth':>7}{'level':>7}"
          f"{'uncorr':>8}{'corr':>7}{'err unc':>9}{'err cor':>9}{'cor-lvl':>9}"
          f"{'true pts':>9}")  # fmt: skip
    detector = BoardDetector()
    errors: dict[str, list[tuple[float, float, float]]] = {"cva_deg": [], "head_tilt_deg": []}

    def measure(landmarker, rgb, view, roll_deg) -> float | None:
        h, w = rgb.shape[:2]
        options = AnalysisOptions(view=view, camera_roll_deg=roll_deg)
        landmarker.set_camera_roll(roll_deg)  # as measure_frames does: levelled for the models
        lm = landmarker.process(rgb, 0.0)
        return getattr(measure_frame(undistorted(lm, options), view, roll_deg), key)

    with MediaPipeLandmarker(video_mode=False) as landmarker:
        for case in human_cases(quick):
            key = case.key
            pose = BodyPose(**case.pose_kwargs)
            kw = dict(azimuth_deg=case.azimuth_deg, distance_m=1.6, width=640, height=480,
                      framing="upper")  # fmt: skip
            # render_still rolls the camera the other way (tests/test_calibration.py).
            rolled, truth = render_still(case.body, pose, roll_deg=-case.roll_deg, **kw)
            level_img, _ = render_still(case.body, pose, roll_deg=0.0, **kw)
            k = np.array(truth["camera"]["intrinsics"])
            cam = Intrinsics(640, 480, k[0, 0], k[1, 1], k[0, 2], k[1, 2])
            wall = wall_board_pose(LAYOUT, case.roll_deg, 0.0, distance_m=1.2)
            board_view = detector.detect(board_renderer.render(cam, wall, 2.0))
            measured_roll = level_from_board([board_view], cam, True, (640, 480)).roll_deg
            true_value = float(truth[key])
            at_level = measure(landmarker, level_img, case.view, 0.0)
            uncorrected = measure(landmarker, rolled, case.view, 0.0)
            corrected = measure(landmarker, rolled, case.view, measured_roll)
            label = ",".join(f"{v:g}" for v in case.pose_kwargs.values())
            if None in (at_level, uncorrected, corrected):
                print(f"{key:<15}{case.body:<15}{label:<10}{case.roll_deg:>6.0f}  not measured")
                continue
            geometry_only = angle_from_true_points(key, truth, measured_roll) - true_value
            e = (uncorrected - true_value, corrected - true_value, corrected - at_level,
                 geometry_only)  # fmt: skip
            errors[key].append(e)
            print(f"{key:<15}{case.body:<15}{label:<10}{case.roll_deg:>6.0f}"
                  f"{measured_roll:>7.2f}{true_value:>7.1f}{at_level:>7.1f}{uncorrected:>8.1f}"
                  f"{corrected:>7.1f}" + "".join(f"{v:>+9.2f}" for v in e))  # fmt: skip
    print("\nSummary (mean |error|, max |error|, deg)")
    print(f"{'angle':<15}{'n':>4}{'uncorrected vs truth':>24}{'corrected vs truth':>22}"
          f"{'corrected vs level cam':>26}{'true points corrected':>24}")  # fmt: skip
    for key, rows in errors.items():
        if not rows:
            continue
        a = np.abs(np.array(rows))
        cells = "".join(f"{m:>12.2f}{x:>10.2f}" for m, x in zip(a.mean(0), a.max(0), strict=True))
        print(f"{key:<15}{len(rows):>4}  {cells}")


PITCHES_DEG = [-10.0, 6.0, 12.0]  # + = camera looking down


def pitch_rows(board_renderer: BoardRenderer, quick: bool) -> None:
    """Head flexion with the camera pitched: uncorrected, and with the measured pitch."""
    from posture.geometry.measure import measure_frame
    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
    from synthetic.render import render_still
    from synthetic.rig import BodyPose

    print("\n4. Rendered humans, front view, camera pitched; pitch measured from a wall board")
    print(f"{'body':<15}{'flex':>6}{'pitch':>6}{'meas':>7}{'truth':>7}{'level':>7}{'uncorr':>8}"
          f"{'corr':>7}{'err unc':>9}{'err cor':>9}{'cor-lvl':>9}")  # fmt: skip
    detector = BoardDetector()
    bodies = ["neutral", "older_woman"] if quick else ["neutral", "older_woman", "tall_thin_man"]
    pitches = [-8.0, 12.0] if quick else PITCHES_DEG
    errors: list[tuple[float, float, float]] = []
    with MediaPipeLandmarker(video_mode=False) as landmarker:

        def flexion(rgb: np.ndarray, focal_px: float, pitch_deg: float) -> float | None:
            lm = landmarker.process(rgb, 0.0)
            m = measure_frame(lm, "front", 0.0, focal_px, camera_pitch_deg=pitch_deg)
            return m.head_flexion_deg

        for body, pitch, flex in itertools.product(bodies, pitches, (0.0, 20.0)):
            pose = BodyPose(flexion_deg=flex)
            kw = dict(azimuth_deg=0.0, distance_m=1.6, width=640, height=480, framing="upper")
            # Raised by d * tan(pitch) and aimed at the target, the camera looks down by pitch.
            raise_m = 1.6 * float(np.tan(np.radians(pitch)))
            pitched, truth = render_still(body, pose, height_offset_m=raise_m, **kw)
            level_img, _ = render_still(body, pose, **kw)
            k = np.array(truth["camera"]["intrinsics"])
            cam = Intrinsics(640, 480, k[0, 0], k[1, 1], k[0, 2], k[1, 2])
            # A wall board where this camera looks, spanning ~35% of the picture's width.
            wall_m = cam.fx_px * LAYOUT.size_mm[0] / 1000 / (0.35 * 640)
            aim_m = (0.05, wall_m * raise_m / 1.6)
            wall = wall_board_pose(LAYOUT, 0.0, pitch, distance_m=wall_m, board_offset_m=aim_m)
            views = [detector.detect(board_renderer.render(cam, wall, 2.0, s)) for s in range(5)]
            views = [v for v in views if v is not None]
            measured = level_from_board(views, cam, True, (640, 480)).pitch_deg
            true_value = float(truth["head_flexion_deg"])
            at_level = flexion(level_img, cam.fx_px, 0.0)
            uncorrected = flexion(pitched, cam.fx_px, 0.0)
            corrected = None if measured is None else flexion(pitched, cam.fx_px, measured)
            if at_level is None or uncorrected is None or corrected is None:
                print(f"{body:<15}{flex:>6.0f}{pitch:>6.0f}  not measured")
                continue
            e = (uncorrected - true_value, corrected - true_value, corrected - at_level)
            errors.append(e)
            print(f"{body:<15}{flex:>6.0f}{pitch:>6.0f}{measured:>7.2f}{true_value:>7.1f}"
                  f"{at_level:>7.1f}{uncorrected:>8.1f}{corrected:>7.1f}"
                  + "".join(f"{v:>+9.2f}" for v in e))  # fmt: skip
    if errors:
        a = np.abs(np.array(errors))
        print("\nSummary, head flexion (mean |error|, max |error|, deg)")
        print(f"{'n':>4}{'uncorrected vs truth':>24}{'corrected vs truth':>22}"
              f"{'corrected vs level cam':>26}")  # fmt: skip
        cells = "".join(f"{m:>12.2f}{x:>10.2f}" for m, x in zip(a.mean(0), a.max(0), strict=True))
        print(f"{len(errors):>4}  {cells}")


def angle_from_true_points(key: str, truth: dict, roll_deg: float) -> float:
    """The angle from the render's exact 2D points, roll-corrected: the geometry alone."""
    pts = {k: np.array(v["xy"], float) for k, v in truth["points_2d"].items()}
    if key == "cva_deg":  # left side to the camera: the subject faces image-left
        d = pts["tragus_left"] - pts["c7"]
        return 180.0 - (float(np.degrees(np.arctan2(-d[1], d[0]))) - roll_deg)
    d = pts["eye_left"] - pts["eye_right"]
    return -(float(np.degrees(np.arctan2(-d[1], d[0]))) - roll_deg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer views and human cases")
    parser.add_argument("--skip-humans", action="store_true", help="boards only (no MediaPipe)")
    args = parser.parse_args()
    renderer = BoardRenderer()
    fitted = lens_rows(renderer, 10 if args.quick else 15)
    level_rows(renderer, fitted)
    if not args.skip_humans:
        human_rows(renderer, args.quick)
        pitch_rows(renderer, args.quick)


if __name__ == "__main__":
    main()
