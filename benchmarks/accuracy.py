"""Accuracy benchmark: rendered humans at exact angles and real labelled data.

    make accuracy            # renders what is missing (cached), then prints the table
    python benchmarks/accuracy.py --stills 300 --side 120 --front 80 [--cache DIR]

Every measurement goes through ``posture.pipeline.analyze_source`` / ``analyze``,
the CLI's code path. Synthetic truth: head angles from the rig (head vs thorax,
contract axes), CVA from the C7 and tragus vertices, tilts in 3D against gravity.
Rendered stills carry a random camera roll of +-5 deg: posture tilts and CVA are
shown uncorrected and with the roll given as calibration. Real data is read in
place from ../shared/data (or $POSTURE_SHARED_DATA) and skipped if absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from synthetic_sets import camera_pitch_deg, camera_roll_deg, ensure_set  # noqa: E402

from posture.errors import InputError  # noqa: E402
from posture.io.media import ImageSource, open_media  # noqa: E402
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker  # noqa: E402
from posture.pipeline import AnalysisOptions, analyze, analyze_source  # noqa: E402

SHARED = Path(os.environ.get("POSTURE_SHARED_DATA", REPO.parent / "shared" / "data"))
HEAD_KEYS = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")
# posture.pipeline.no_person_error's sentence: the one InputError that means "not detected".
NO_PERSON = "No person was found"
ROM_KEYS = (
    "rotation_left_deg", "rotation_right_deg", "flexion_deg", "extension_deg",
    "lateral_flexion_left_deg", "lateral_flexion_right_deg",
)  # fmt: skip


@dataclass(frozen=True)
class Crash:
    """A still whose measurement raised something other than "no person found"."""

    path: Path
    error: str  # "ExceptionType: message" (first line)

    @classmethod
    def of(cls, path: Path, exc: BaseException) -> Crash:
        lines = str(exc).strip().splitlines()
        return cls(path, f"{type(exc).__name__}: {lines[0][:200] if lines else ''}")


class Table:
    """Rows of error statistics: MAE, RMSE, bias, max, detection rate, and crashes (a
    crash is never counted as "not detected": it is a broken input or a bug)."""

    def __init__(self) -> None:
        self.errors: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.tried: dict[tuple[str, str], int] = defaultdict(int)
        self.crashed: dict[tuple[str, str], int] = defaultdict(int)
        self.crashes: dict[Crash, None] = {}  # each crash once, in order

    def add(self, metric: str, group: str, error: float | Crash | None) -> None:
        if isinstance(error, Crash):
            self.crashed[(metric, group)] += 1
            self.crashes[error] = None
            return
        self.tried[(metric, group)] += 1
        if error is not None and np.isfinite(error):
            self.errors[(metric, group)].append(float(error))

    def print(self, title: str) -> None:
        print(f"\n{title}")
        print(f"{'metric':<34}{'group':<22}{'n':>5}{'MAE':>7}{'RMSE':>7}{'bias':>7}"
              f"{'max':>7}{'detect':>8}{'crashed':>9}")  # fmt: skip
        for key in sorted(self.tried.keys() | self.crashed.keys()):
            e = np.array(self.errors.get(key, []))
            n, tried = len(e), self.tried.get(key, 0)
            if n:
                stats = (np.mean(np.abs(e)), np.sqrt(np.mean(e**2)), np.mean(e), np.max(np.abs(e)))
                cells = "".join(f"{v:>7.2f}" for v in stats)
            else:
                cells = f"{'-':>7}" * 4
            detect = f"{100 * n / tried:>7.0f}%" if tried else f"{'-':>8}"
            print(f"{key[0]:<34}{key[1]:<22}{n:>5}{cells}{detect}{self.crashed.get(key, 0):>9}")
        if self.crashes:
            print(f"crashed ({len(self.crashes)}; not counted in 'detect'):")
            for c in self.crashes:
                print(f"  {c.path.name}: {c.error}")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _truth_records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _bin(value: float, edges: tuple[float, ...]) -> str:
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if lo <= abs(value) < hi:
            return f"|{lo:.0f}-{hi:.0f}|"
    return f">{edges[-1]:.0f}"


def _options(truth: dict, calibrated: bool) -> AnalysisOptions:
    if not calibrated:
        return AnalysisOptions()
    k = np.array(truth["camera"]["intrinsics"])
    return AnalysisOptions(
        camera_roll_deg=camera_roll_deg(truth),
        camera_pitch_deg=camera_pitch_deg(truth),
        focal_px=float(k[0, 0]),
    )


def _measure_still(
    path: Path, options: AnalysisOptions, lm: MediaPipeLandmarker
) -> dict | Crash | None:
    """The still's frame; None when no person is found (not detected); a Crash for any
    other exception (counted and listed by the table, never as "not detected")."""
    try:
        return analyze_source(ImageSource(path), options, landmarker=lm).to_dict()["frames"][0]
    except InputError as exc:
        if str(exc).startswith(NO_PERSON):
            return None
        return Crash.of(path, exc)
    except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
        return Crash.of(path, exc)


def _error(frame: dict | Crash | None, key: str, truth: float) -> float | Crash | None:
    """Measured minus true, None when not measured, the Crash when the still crashed."""
    if isinstance(frame, Crash):
        return frame
    got = frame[key] if frame else None
    return None if got is None else got - truth


def head_stills(records: list[dict], root: Path, lm: MediaPipeLandmarker, table: Table) -> None:
    """Head angles of front and oblique stills, with the camera's roll and pitch given
    as a level calibration would (and once without, "camera level unknown")."""
    for rec in records:
        frame = _measure_still(root / rec["image"], _options(rec, True), lm)
        view = "oblique" if 20 < abs(rec["camera"]["azimuth_deg"]) < 60 else rec["view"]
        detected = frame if isinstance(frame, Crash) else 0.0 if frame and frame["valid"] else None
        table.add("person detected", view, detected)
        side = "side" if view in ("left", "right") else view
        table.add("person detected", f"{side}, framing {rec['framing']}", detected)
        if view not in ("front", "oblique"):
            continue
        level_unknown = _measure_still(root / rec["image"], _options(rec, False), lm)
        for key in HEAD_KEYS:
            table.add(key, "camera level unknown", _error(level_unknown, key, rec[key]))
            err = _error(frame, key, rec[key])
            table.add(key, "all front+oblique", err)
            table.add(key, view, err)
            table.add(key, f"{key[5:9]} {_bin(rec[key], (0, 20, 45, 75))}", err)
            table.add(key, f"body {rec['body']['name']}"[:21], err)


def posture_stills(records, root, lm, table: Table, keys: tuple[str, ...]) -> None:
    for rec in records:
        for calibrated in (False, True):
            frame = _measure_still(root / rec["image"], _options(rec, calibrated), lm)
            label = "roll corrected" if calibrated else "uncorrected"
            for key in keys:
                truth = rec[key]
                if key == "cva_deg":  # the camera-side tragus, as the ear landmark is
                    truth = rec["cva_left_deg"] if rec["view"] == "left" else rec["cva_right_deg"]
                err = _error(frame, key, truth)
                table.add(key, label, err)
                if calibrated:
                    table.add(key, f"body {rec['body']['name']}"[:21], err)


def rom_videos(paths: list[Path], table: Table) -> None:
    for video in paths:
        truth = json.loads(video.with_suffix(".truth.json").read_text())
        report = analyze(video).to_dict()
        for key in ROM_KEYS:
            got, want = report["summary"]["rom"][key], truth["rom"][key]
            table.add(f"ROM {key}", video.stem[:21], None if got is None else got - want)
            table.add(
                "ROM peak (all directions)", "all videos", None if got is None else got - want
            )
        for key in HEAD_KEYS:
            for f, t in zip(report["frames"], truth["frames"], strict=False):
                got = f[key]
                table.add(f"video frames {key}", video.stem[:21],
                          None if got is None else got - t[key])  # fmt: skip


# Extra ROM protocol videos for the benchmark (rendered once into the cache):
# (name, body, camera azimuth deg, distance m, height offset m, zoom).
ROM_VARIANTS = (
    ("rom_older_woman_oblique", "older_woman", 30.0, 1.3, 0.10, 1.0),
    ("rom_tall_man_close", "tall_thin_man", 0.0, 0.8, 0.05, 1.0),
    ("rom_heavy_woman_far", "short_heavy_woman", -20.0, 2.2, -0.10, 1.2),
)


def ensure_rom_videos(cache: Path) -> list[Path]:
    """Render the ROM protocol with other bodies, distances and camera angles (cached)."""
    import make_samples as ms

    from posture.synthetic.rig import load_bodies
    from posture.synthetic.scene import Appearance, Lighting

    out = cache / "rom"
    out.mkdir(parents=True, exist_ok=True)
    names = set(load_bodies().names)
    paths = []
    for name, body, azimuth, distance, lift, zoom in ROM_VARIANTS:
        if body not in names:
            continue
        appearance = Appearance(
            skin_rgb=(150, 105, 75), hair_rgb=(30, 25, 20), shirt_rgb=(150, 40, 40)
        )
        camera = (azimuth, distance, lift, zoom)
        video = ms.ensure_rom_video(out, name, body, camera, appearance, Lighting(), "room")
        paths.append(video)
    return paths


def aflw(table: Table, lm: MediaPipeLandmarker) -> None:
    """Real faces: camera-relative head pose vs AFLW2000 labels (3 flagged outliers dropped).

    AFLW yaw > 0 turns the face to the subject's right, pitch > 0 looks up: ours is
    (-yaw, -pitch, +roll). Only |angles| <= 70 deg count toward the target.
    """
    d = SHARED / "aflw2000_subset"
    if not d.is_dir():
        print(f"(skipped AFLW: {d} not found)")
        return
    for row in _rows(d / "labels.csv"):
        if row["outlier_abs_gt_99"] != "0":
            continue
        want = (-float(row["yaw_deg"]), -float(row["pitch_deg"]), float(row["roll_deg"]))
        src = open_media(d / row["image"])
        frame = lm.process(next(src.frames()).rgb, 0.0)
        from posture.geometry.measure import measure_frame

        m = measure_frame(frame)
        group = "|angles|<=70" if max(abs(v) for v in want) <= 70 else "|angles|>70"
        for name, i in (("yaw", 0), ("pitch", 1), ("roll", 2)):
            got = m.head_in_camera_deg[i] if m.head_in_camera_deg else None
            table.add(f"AFLW {name}", group, None if got is None else got - want[i])


def fhp_rank(lm: MediaPipeLandmarker) -> None:
    """Forward-head score (neck height / shoulder width, frontal) vs the 6 ordinal classes."""
    from scipy.stats import spearmanr

    from posture.landmarks.types import LEFT_SHOULDER, MOUTH_LEFT, MOUTH_RIGHT, RIGHT_SHOULDER

    d = SHARED / "fhp_frontal"
    if not d.is_dir():
        print(f"(skipped fhp_frontal: {d} not found)")
        return
    labels, scores = [], []
    for row in _rows(d / "labels.csv"):
        if not (d / row["filename"]).exists():
            continue
        frame = lm.process(next(open_media(d / row["filename"]).frames()).rgb, 0.0)
        if frame.pose is None:
            continue
        xy = frame.pose.image_xy
        shoulders = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2
        mouth = (xy[MOUTH_LEFT] + xy[MOUTH_RIGHT]) / 2
        width = np.linalg.norm(xy[LEFT_SHOULDER] - xy[RIGHT_SHOULDER])
        labels.append(int(row["label"]))
        scores.append(float((shoulders[1] - mouth[1]) / width))
    rho = spearmanr(labels, scores).statistic if len(set(labels)) > 1 else float("nan")
    print(
        f"\nfhp_frontal: {len(labels)} frames, Spearman rho(class, neck-height score) = {rho:.3f}"
    )


def marker_photo(lm: MediaPipeLandmarker) -> None:
    """CVA from the tool vs CVA from the tragus and C7 skin markers (blob detection)."""
    import cv2

    path = SHARED / "side_photo_markers" / "side.jpg"
    if not path.exists():
        print(f"(skipped marker photo: {path} not found)")
        return
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    _, mask = cv2.threshold(grey, 225, 255, cv2.THRESH_BINARY)
    n, _, stats, centres = cv2.connectedComponentsWithStats(mask)
    blobs = [centres[i] for i in range(1, n) if 4 <= stats[i, cv2.CC_STAT_AREA] <= 400]
    tragus = min(blobs, key=lambda c: c[1])  # the ear marker is the highest
    back = [c for c in blobs if c[0] < tragus[0] - 10 and c[1] > tragus[1]]  # faces image-right
    c7 = min(back, key=lambda c: c[1])  # the top of the spine row
    truth = float(np.degrees(np.arctan2(c7[1] - tragus[1], tragus[0] - c7[0])))
    # The publisher blacked out the face. MediaPipe's person detector looks for a
    # face first, so on the photo as published nobody is found. Fill the black box
    # from its surroundings (a grey blur) so the detector sees a head; the ear,
    # shoulder and markers lie outside the box and are untouched.
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    box = cv2.dilate((rgb.max(axis=2) < 12).astype(np.uint8) * 255, np.ones((5, 5), np.uint8))
    filled = cv2.inpaint(rgb, box, 5, cv2.INPAINT_TELEA)
    rows = []
    for name, img in (("as published", rgb), ("face box filled", filled)):
        got = _cva_of_rgb(img, lm)
        if isinstance(got, Crash):
            shown = f"CRASHED ({got.error})"
        else:
            shown = "not measured" if got is None else f"{got:.1f} (error {got - truth:+.1f})"
        rows.append(f"  {name}: {shown}")
    print(f"\nmarker photo: CVA from the tragus and C7 markers {truth:.1f} deg; posture:")
    print("\n".join(rows))


def _cva_of_rgb(rgb: np.ndarray, lm: MediaPipeLandmarker) -> float | Crash | None:
    """The tool's CVA for one RGB photo (side view), None when no person is found."""
    import tempfile

    import cv2

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.png"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        frame = _measure_still(path, AnalysisOptions(), lm)
    if isinstance(frame, Crash):
        return frame
    return None if frame is None or not frame["valid"] else frame["cva_deg"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posture-bench"))
    parser.add_argument("--stills", type=int, default=300)
    parser.add_argument("--side", type=int, default=120)
    parser.add_argument("--front", type=int, default=80)
    parser.add_argument("--videos", type=Path, nargs="*", help="ROM videos with .truth.json")
    args = parser.parse_args()
    from make_synthetic import main as make_synthetic

    general = args.cache / "general"
    if len(_truth_records(general / "truth.jsonl")) < args.stills:
        make_synthetic(["--out", str(general), "--count", str(args.stills), "--seed", "0"])
    records = _truth_records(general / "truth.jsonl")[: args.stills]
    side = ensure_set("side", args.cache / "side", args.side, 1)
    front = ensure_set("front", args.cache / "front", args.front, 2)

    with MediaPipeLandmarker(video_mode=False) as lm:
        heads, posture = Table(), Table()
        head_stills(records, general, lm, heads)
        posture_stills(side, args.cache / "side", lm, posture, ("cva_deg",))
        posture_stills(
            front, args.cache / "front", lm, posture, ("head_tilt_deg", "shoulder_tilt_deg")
        )
        real = Table()
        aflw(real, lm)
        heads.print(f"Synthetic stills: head angles vs the rig ({len(records)} renders)")
        posture.print(f"Synthetic stills: posture ({len(side)} side, {len(front)} front)")
        videos = args.videos or [
            *sorted((REPO / "sample_videos").glob("rom*.mp4")),
            *ensure_rom_videos(args.cache),
        ]
        rom = Table()
        rom_videos(videos, rom)
        rom.print(f"ROM videos ({len(videos)})")
        real.print("Real faces (AFLW2000 subset, camera-relative)")
        fhp_rank(lm)
        marker_photo(lm)


if __name__ == "__main__":
    main()
