"""Head pose on real faces at large yaw: the 3DDFA_V2 network vs the face-mesh fit.

    .venv/bin/python benchmarks/head_pose_net_aflw.py [--data ../shared/data] [--calibrate]

For each of ../shared/data/aflw2000_wide (the held-out report set) and aflw2000_subset
(the tuning set; its 3 flagged outliers dropped), by |yaw| bin: n, faces found (%),
MAE of yaw, pitch and roll, the mean geodesic rotation error (deg), how many faces are
more than 45 deg off (a wrong face or a flip) and the network's median confidence, for
  (a) the network on 3DDFA_V2's crop from AFLW's 68 fitted landmarks (``pt3d_68`` of the
      .mat; only the subset ships them),
  (b) the network on a crop from MediaPipe: FaceMesh points when FaceMesh finds the
      face, else Pose's head landmarks,
  (b') the network on the Pose head crop only (the fallback of (b), on every face),
  (c) the product's face-mesh fit (``head_frame_from_face``, as ``measure_frame``).
Every method gives a head frame in camera axes; it is turned back into AFLW's axes and
read in AFLW's own Euler order (``R = Rx(-pitch) Ry(-yaw) Rz(-roll)``, 3DDFA's
``angle2matrix``), so the angles compare like for like. In the project's angles AFLW's
(yaw, pitch, roll) are (-rotation, -flexion, +lateral flexion) for single-axis turns (as
``benchmarks/accuracy.py``); the two Euler orders differ for combined turns, so the
geodesic error is the order-free figure. The network runs with ``focal_px=None``: the
AFLW labels are weak-perspective fits.

``--calibrate`` prints the crop constants of ``posture/landmarks/head_pose_net.py`` as
measured on aflw2000_subset (never on aflw2000_wide).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posture.geometry.head import head_frame_from_face  # noqa: E402
from posture.geometry.measure import default_focal_px  # noqa: E402
from posture.landmarks import head_pose_net as hp  # noqa: E402
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker  # noqa: E402
from posture.landmarks.types import FrameLandmarks  # noqa: E402

SHARED = Path(os.environ.get("POSTURE_SHARED_DATA", REPO.parent / "shared" / "data"))
BINS = ((0, 30), (30, 60), (60, 75), (75, 90))
METHODS = (
    ("a", "net, AFLW 68-point crop"),
    ("b", "net, MediaPipe crop"),
    ("b'", "net, Pose head crop only"),
    ("c", "face-mesh fit (product)"),
)


def aflw_rotation(pitch_deg: float, yaw_deg: float, roll_deg: float) -> np.ndarray:
    """AFLW2000's pose as a rotation in BFM axes (3DDFA's ``angle2matrix``)."""
    p, y, r = np.radians([pitch_deg, yaw_deg, roll_deg])
    c, s = np.cos, np.sin
    rx = np.array([[1, 0, 0], [0, c(p), s(p)], [0, -s(p), c(p)]])
    ry = np.array([[c(y), 0, -s(y)], [0, 1, 0], [s(y), 0, c(y)]])
    rz = np.array([[c(r), s(r), 0], [-s(r), c(r), 0], [0, 0, 1]])
    return rx @ ry @ rz


def aflw_angles(r_bfm: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) deg in AFLW's order: the inverse of :func:`aflw_rotation`."""
    yaw = np.degrees(np.arcsin(np.clip(-r_bfm[0, 2], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(r_bfm[1, 2], r_bfm[2, 2]))
    roll = np.degrees(np.arctan2(r_bfm[0, 1], r_bfm[0, 0]))
    return np.array([yaw, pitch, roll])


def geodesic_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1.0, 1.0))))


@dataclass
class Face:
    name: str
    rgb: np.ndarray
    truth: np.ndarray  # (yaw, pitch, roll) deg, AFLW signs
    pts68: np.ndarray | None  # (68, 2) px, from the .mat
    lm: FrameLandmarks | None = None
    got: dict[str, np.ndarray | None] = field(default_factory=dict)  # head frames
    conf: dict[str, float] = field(default_factory=dict)  # the network's confidence


def load_set(folder: Path) -> list[Face]:
    faces = []
    with open(folder / "labels.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("outlier_abs_gt_99", "0") != "0":
                continue  # |angle| > 99 deg: dropped, as the literature does
            mat = folder / row["image"].replace(".jpg", ".mat")
            pts = None
            if mat.exists():
                from scipy.io import loadmat

                pts = loadmat(mat)["pt3d_68"][:2].T
            bgr = cv2.imread(str(folder / row["image"]))
            truth = np.array([float(row[k]) for k in ("yaw_deg", "pitch_deg", "roll_deg")])
            faces.append(Face(row["image"], cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), truth, pts))
    return faces


def mediapipe_box(lm: FrameLandmarks) -> hp.Box | None:
    """(b): FaceMesh points when FaceMesh found the face, else Pose's head landmarks."""
    if lm.face is not None:
        return hp.roi_box_from_face_mesh(lm.face.xyz)
    return pose_box(lm)


def pose_box(lm: FrameLandmarks) -> hp.Box | None:
    if lm.pose is None:
        return None
    return hp.roi_box_from_head(lm.pose.image_xy, lm.pose.visibility)


def run_methods(faces: list[Face], net: hp.HeadPoseNet) -> None:
    for f in faces:
        mesh = f.lm is not None and f.lm.face is not None
        boxes = {  # method: (box, rough: search sizes about it)
            "a": (None if f.pts68 is None else hp.roi_box_from_points(f.pts68), False),
            "b": (None if f.lm is None else mediapipe_box(f.lm), not mesh),
            "b'": (None if f.lm is None else pose_box(f.lm), True),
        }
        for key, (box, rough) in boxes.items():
            estimate = net.estimate_around if rough else net.estimate
            pose = None if box is None else estimate(f.rgb, box)
            f.got[key] = None if pose is None else pose.rotation
            f.conf[key] = np.nan if pose is None else pose.confidence
        f.got["c"] = None
        if f.lm is not None and f.lm.face is not None:
            h, w = f.rgb.shape[:2]
            f.got["c"] = head_frame_from_face(
                f.lm.face.xyz, default_focal_px(w, h), np.array([w / 2, h / 2])
            )


def in_bin(yaw_deg: float, lo: int, hi: int) -> bool:
    """|yaw| in [lo, hi); the last bin also takes |yaw| >= 90."""
    return lo <= abs(yaw_deg) < hi or (hi == BINS[-1][1] and abs(yaw_deg) >= hi)


def bin_row(faces: list[Face], key: str) -> str:
    """found %, yaw / pitch / roll MAE, mean geodesic error, count > 45 deg, median conf."""
    errs, geo = [], []
    for f in faces:
        r = f.got.get(key)
        if r is None:
            continue
        r_bfm = hp.bfm_from_head_frame(r)
        errs.append(np.abs(aflw_angles(r_bfm) - f.truth))
        geo.append(geodesic_deg(r_bfm, aflw_rotation(f.truth[1], f.truth[0], f.truth[2])))
    if not errs:
        return f"{0:>8.0f}"
    mae = np.mean(errs, axis=0)
    gross = int(np.sum(np.array(geo) > 45))
    conf = [f.conf[key] for f in faces if np.isfinite(f.conf.get(key, np.nan))]
    shown = f"{np.median(conf):>6.2f}" if conf else ""
    return (
        f"{100.0 * len(errs) / len(faces):>8.0f}{mae[0]:>7.1f}{mae[1]:>7.1f}{mae[2]:>7.1f}"
        f"{np.mean(geo):>7.1f}{gross:>5}{shown}"
    )


def print_table(title: str, faces: list[Face]) -> None:
    print(f"\n{title}")
    print(f"{'method':<28}{'|yaw|':>7}{'n':>5}{'found%':>8}{'yaw':>7}{'pitch':>7}{'roll':>7}"
          f"{'geo':>7}{'>45':>5}{'conf':>6}")  # fmt: skip
    for key, label in METHODS:
        name = f"({key}) {label}"
        if key == "a" and all(f.pts68 is None for f in faces):
            print(f"{name:<28}  n/a: this set ships no landmarks (.mat)")
            continue
        for lo, hi in BINS:
            chosen = [f for f in faces if in_bin(f.truth[0], lo, hi)]
            if chosen:
                print(f"{name:<28}{f'{lo}-{hi}':>7}{len(chosen):>5}{bin_row(chosen, key)}")


def time_inference(net: hp.HeadPoseNet, face: Face, box: hp.Box) -> None:
    def median_ms(call, runs: int) -> float:
        for _ in range(10):
            call()
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        return 1000 * float(np.median(times))

    one = median_ms(lambda: net.params(face.rgb, box), 200)
    est = median_ms(lambda: net.estimate(face.rgb, box), 100)
    around = median_ms(lambda: net.estimate_around(face.rgb, box), 30)
    print(f"\ntime, 1 thread: one inference (crop + network) {one:.2f} ms; estimate() "
          f"{est:.2f} ms ({1 + net.reframe_steps} inferences); estimate_around() "
          f"{around:.1f} ms ({len(hp.SEARCH_SCALES)} estimates)")  # fmt: skip


def calibrate(faces: list[Face], net: hp.HeadPoseNet) -> None:
    """The crop constants of head_pose_net.py, measured on the tuning set."""
    a, b, scales, sin_yaw = [], [], [], []
    mesh, head = [], []
    for f in faces:
        if f.pts68 is None:
            continue
        box = hp.roi_box_from_points(f.pts68)
        side = box[2] - box[0]
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        p = net.params(f.rgb, box)
        pose = p[:12].reshape(3, 4)
        s = float(np.mean(np.linalg.norm(pose[:2, :3], axis=1)))
        r = hp.rotation_from_params(p)
        a.append(s * r[:2])
        b.append(hp.CROP_CENTRE - pose[:2, 3])
        scales.append(s)
        sin_yaw.append(abs(r[0, 2]))
        if f.lm is not None and f.lm.face is not None:
            m = hp.roi_box_from_points(f.lm.face.xyz[:468, :2])
            ms = m[2] - m[0]
            mesh.append((side / ms, (centre[1] - (m[1] + m[3]) / 2) / ms))
        if f.lm is not None and f.lm.pose is not None:
            xy = f.lm.pose.image_xy
            nose_ear = max(hp._dist(xy, 0, 7), hp._dist(xy, 0, 8))
            eye_ear = max(hp._dist(xy, 2, 7), hp._dist(xy, 5, 8))
            offset = (centre - np.mean(xy[list(hp.HEAD_POINTS)], axis=0)) / side
            head.append((side / nose_ear, side / eye_ear, *offset))
    c = np.linalg.lstsq(np.concatenate(a), np.concatenate(b), rcond=None)[0]
    rms = np.sqrt(np.mean((np.concatenate(a) @ c - np.concatenate(b)) ** 2))
    slope, at0 = np.polyfit(sin_yaw, scales, 1)
    print(f"FACE_CENTRE_BFM = {np.round(c, 1).tolist()} (rms {rms:.1f} px of 120)")
    print(f"SCALE_AT_0 = {at0:.3e}, SCALE_PER_SIN_YAW = {slope:.3e}")
    mesh_a = np.array(mesh)
    print(f"FACE_MESH_SCALE = {np.median(mesh_a[:, 0]):.3f} (sd {mesh_a[:, 0].std():.3f}), "
          f"FACE_MESH_SHIFT_DOWN = {np.median(mesh_a[:, 1]):.3f} (n {len(mesh)})")  # fmt: skip
    head_a = np.array(head)
    med = np.median(head_a, axis=0)
    print(
        f"box side / nose-ear {med[0]:.2f}, / eye-ear {med[1]:.2f}; box centre - mean of "
        f"head points = ({med[2]:+.3f}, {med[3]:+.3f}) x side (medians, n {len(head)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=SHARED, help="folder holding aflw2000_*")
    ap.add_argument("--calibrate", action="store_true", help="print crop constants (subset)")
    args = ap.parse_args()
    sets = [("aflw2000_wide", "held-out report set"), ("aflw2000_subset", "tuning set")]
    if args.calibrate:
        sets = sets[1:]
    loaded = [(n, d, load_set(args.data / n)) for n, d in sets if (args.data / n).is_dir()]
    if not loaded:
        print(f"(skipped: no aflw2000 folders under {args.data})")
        return
    net = hp.HeadPoseNet()
    with MediaPipeLandmarker(video_mode=False) as lm:
        for _, _, faces in loaded:
            for f in faces:
                f.lm = lm.process(f.rgb, 0.0)
    if args.calibrate:
        calibrate(loaded[0][2], net)
        return
    for name, what, faces in loaded:
        run_methods(faces, net)
        print_table(f"{name} ({what}): mean absolute errors in deg, AFLW's Euler order", faces)
    face = loaded[0][2][0]
    box = mediapipe_box(face.lm) if face.lm is not None else None
    time_inference(net, face, box or (0.0, 0.0, *face.rgb.shape[1::-1]))


if __name__ == "__main__":
    main()
