"""Accuracy benchmark: rendered humans at exact angles and real labelled data, ONE table.

    make accuracy            # renders what is missing (cached), then prints the table
    python benchmarks/accuracy.py --stills 300 --side 120 --front 80 [--cache DIR]
    python benchmarks/accuracy.py --render-only      # fill the cache, measure nothing

Every measurement goes through ``posture.pipeline.analyze_source`` / ``analyze``,
the CLI's code path (the AFLW2000 subset block reads ``measure_frame``, camera-relative,
as before). Synthetic truth: head angles from the rig (head vs thorax, contract axes),
CVA from the C7 and tragus vertices, tilts in 3D against gravity. Rendered stills
carry a random camera roll of +-5 deg: posture tilts and CVA are shown uncorrected and
with the roll given as calibration. Real data is read in place from ../shared/data (or
$POSTURE_SHARED_DATA) and skipped if absent.

Splits: every row of the table names the split it is measured on, derived from data:
- a synthetic row's body is read from its truth record (``body.name``); the bodies a
  correction was fitted on are read from the model files: ``cva_model.json``
  (``fitted_on.bodies``, or the older ``fitted_on_bodies``) and ``face_model.npz``'s
  ``provenance`` (template bodies; pitch-gain bodies). "fit" = a body some correction
  was fitted on, "held-out" = a body none was. The face template averages the neutral
  face of ALL nine bodies (``fit_face_model.py`` without ``--bodies``), so every head
  angle row says "(template: all bodies)": no body is held out from the template.
- camera placements: the stills are drawn from their own seeds (general 0, side 1,
  front 2, side_heights 3) and the videos use their own cameras, apart from those the
  fits used (side_heights seed 4; fit_face_model.py's fixed placements;
  render_rom_train.py's cameras): every synthetic row is on placements not fitted on.
- new bodies and looks: ``rom_wide_looks.py``'s ROM videos show six anny phenotypes that
  no fit and no other set uses (``anny_bodies_wide.npz``: very old, heavy and tall, short
  neck, petite, tall woman), with glasses, long hair over the ears and skin tones past the
  usual range: held-out by construction.
- real faces: the head-pose network's crop constants were measured on aflw2000_subset
  ("fit (net crop constants)"); aflw2000_wide, minus any photo also in the subset, is
  "held-out", as are fhp_frontal and the marker photo.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
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
from posture.measures import ROM_KEYS  # noqa: E402
from posture.options import AnalysisOptions  # noqa: E402
from posture.pipeline import analyze, analyze_source  # noqa: E402

SHARED = Path(os.environ.get("POSTURE_SHARED_DATA", REPO.parent / "shared" / "data"))
MODEL_DATA = REPO / "posture" / "geometry" / "data"
HEAD_KEYS = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")
# posture.assemble.no_person_error's sentence: the one InputError that means "not detected".
NO_PERSON = "No person was found"
YAW_BINS = ((0, 30), (30, 60), (60, 75), (75, 90))  # |yaw| >= 90 goes to the last bin
REAL_FIT = "fit (net crop constants)"
REAL_HELD_OUT = "held-out (real)"


# ----------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class Splits:
    """Which bodies each fitted correction saw, read from the model files."""

    bodies: tuple[str, ...]  # all rendered bodies, in index order
    cva: frozenset[str]  # cva_model.json
    template: frozenset[str]  # face_model.npz: the mean neutral face
    gains: frozenset[str]  # face_model.npz: the pitch gains

    @property
    def template_all(self) -> bool:
        return self.template >= set(self.bodies)

    @property
    def fit(self) -> frozenset[str]:
        """Bodies some correction was fitted on (a template of all bodies is flagged on the
        head rows instead: counting it would leave no body held out)."""
        return self.cva | self.gains | (frozenset() if self.template_all else self.template)

    def of(self, body: str, head: bool = False) -> str:
        """The split label of a row measured on ``body`` (``head``: a head-angle measure,
        which goes through the face template)."""
        base = "fit" if body in self.fit else "held-out"
        return f"{base} (template: all bodies)" if head and self.template_all else base

    def describe(self) -> list[str]:
        held = [b for b in self.bodies if b not in self.fit]
        template = "all bodies" if self.template_all else ", ".join(sorted(self.template))
        return [
            f"fit bodies (a correction was fitted on them): {', '.join(sorted(self.fit))}",
            f"held-out bodies (no correction saw them): {', '.join(held)}",
            f"  C7/CVA model (cva_model.json): {', '.join(sorted(self.cva))}",
            f"  face pitch gains (face_model.npz): {', '.join(sorted(self.gains))}",
            f"  face template (face_model.npz): {template}",
        ]


def _face_model_bodies(provenance: str, names: tuple[str, ...]) -> tuple[frozenset, frozenset]:
    """(template bodies, pitch-gain bodies) from face_model.npz's provenance sentence (as
    benchmarks/fit_face_model.py writes it); all bodies when it cannot be read."""
    every = frozenset(names)
    template: frozenset[str] = every
    m = re.search(r"template from renders of bodies \[(\d+)\.\.(\d+)\]", provenance)
    listed = re.search(r"template from renders of bodies \[([\d, ]+)\]", provenance)
    if m:
        template = frozenset(names[int(m[1]) : int(m[2]) + 1])
    elif listed:  # fit_face_model.py --template-only --bodies 1 2 3 ...
        template = frozenset(names[int(i)] for i in re.findall(r"\d+", listed[1]))
    else:  # the stills-only fit: "benchmarks/fit_face_model.py, bodies [0, 1, ...]"
        m = re.search(r"fit_face_model\.py, bodies \[([\d, ]*)\]", provenance)
        if m:
            template = frozenset(names[int(i)] for i in re.findall(r"\d+", m[1]))
            return template, template
    m = re.search(r"pitch gains.*\(bodies \[([^\]]*)\]\)", provenance)
    gains = frozenset(re.findall(r"'([^']+)'", m[1])) if m else every
    return template, gains


def load_splits() -> Splits:
    from synthetic.rig import load_bodies

    names = tuple(load_bodies().names)
    cva = json.loads((MODEL_DATA / "cva_model.json").read_text())
    fitted = cva.get("fitted_on_bodies") or cva.get("fitted_on", {}).get("bodies")
    if not fitted:
        raise SystemExit("posture/geometry/data/cva_model.json names no fitted bodies")
    cva_bodies = frozenset(names[b] if isinstance(b, int) else str(b) for b in fitted)
    provenance = str(np.load(MODEL_DATA / "face_model.npz")["provenance"])
    template, gains = _face_model_bodies(provenance, names)
    return Splits(names, cva_bodies, template, gains)


# ----------------------------------------------------------------------------- table
@dataclass(frozen=True)
class Crash:
    """A measurement that raised something other than "no person found"."""

    path: Path
    error: str  # "ExceptionType: message" (first line)

    @classmethod
    def of(cls, path: Path, exc: BaseException) -> Crash:
        lines = str(exc).strip().splitlines()
        return cls(path, f"{type(exc).__name__}: {lines[0][:200] if lines else ''}")


class Table:
    """Rows of error statistics: MAE, RMSE, bias, max, detection rate, and crashes (a
    crash is never counted as "not detected": it is a broken input or a bug). A row is
    (metric, split, group)."""

    def __init__(self) -> None:
        self.errors: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        self.tried: dict[tuple[str, str, str], int] = defaultdict(int)
        self.crashed: dict[tuple[str, str, str], int] = defaultdict(int)
        self.crashes: dict[Crash, None] = {}  # each crash once, in order
        self.notes: list[str] = []  # printed under the section

    def add(self, metric: str, split: str, group: str, error: float | Crash | None) -> None:
        key = (metric, split, group)
        if isinstance(error, Crash):
            self.crashed[key] += 1
            self.crashes[error] = None
            return
        self.tried[key] += 1
        if error is not None and np.isfinite(error):
            self.errors[key].append(float(error))

    def lines(self) -> list[str]:
        out = []
        for key in sorted(self.tried.keys() | self.crashed.keys()):
            e = np.array(self.errors.get(key, []))
            n, tried = len(e), self.tried.get(key, 0)
            if n:
                stats = (np.mean(np.abs(e)), np.sqrt(np.mean(e**2)), np.mean(e), np.max(np.abs(e)))
                cells = "".join(f"{v:>7.2f}" for v in stats)
            else:
                cells = f"{'-':>7}" * 4
            detect = f"{100 * n / tried:>7.0f}%" if tried else f"{'-':>8}"
            out.append(f"{key[0]:<36}{key[1]:<33}{key[2]:<22}{n:>5}{cells}{detect}"
                       f"{self.crashed.get(key, 0):>9}")  # fmt: skip
        return out


def print_table(sections: list[tuple[str, Table]], splits: Splits) -> None:
    """The one accuracy table: every section's rows under one header, then the crashes."""
    header = (f"{'metric':<36}{'split':<33}{'group':<22}{'n':>5}{'MAE':>7}{'RMSE':>7}"
              f"{'bias':>7}{'max':>7}{'detect':>8}{'crashed':>9}")  # fmt: skip
    print("\n" + "=" * len(header))
    print("ACCURACY (error = measured - true, deg; 'detect' = measured / tried, crashes apart)")
    for line in splits.describe():
        print(line)
    print(header)
    for title, table in sections:
        print(f"-- {title}")
        for line in table.lines() or ["   (no rows: skipped or not run)"]:
            print(line)
        for note in table.notes:
            print(f"   {note}")
    print("=" * len(header))
    total = sum(len(table.crashes) for _, table in sections)
    print(f"crashed inputs: {total} (per row in 'crashed'; never counted as not detected)")
    for title, table in sections:
        if table.crashes:
            print(f"crashed in '{title}' ({len(table.crashes)}):")
        for c in table.crashes:
            print(f"  {c.path.name}: {c.error}")


# ----------------------------------------------------------------------------- helpers
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


def _yaw_bin(yaw_deg: float) -> str:
    for lo, hi in YAW_BINS:
        if lo <= abs(yaw_deg) < hi or (hi == YAW_BINS[-1][1] and abs(yaw_deg) >= hi):
            return f"|yaw| {lo}-{hi}"
    raise AssertionError(yaw_deg)


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
    seen: dict = {}

    def keep_camera_relative(_frame, _lm, m) -> None:
        seen["camera"] = m.head_in_camera_deg

    try:
        report = analyze_source(
            ImageSource(path), options, on_frame=keep_camera_relative, landmarker=lm
        )
        frame = report.to_dict()["frames"][0]
        # The head against the camera, as if the trunk faced it (photo deliverable: the
        # product's photo head angles must be no worse than this).
        camera = seen.get("camera")
        frame[CAMERA_FACING] = dict(zip(HEAD_KEYS, camera, strict=True)) if camera else {}
        return frame
    except InputError as exc:
        if str(exc).startswith(NO_PERSON):
            return None
        return Crash.of(path, exc)
    except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
        return Crash.of(path, exc)


# A still's head angles against the camera (the trunk assumed to face it), beside its frame.
CAMERA_FACING = "_head_vs_camera"


def _error(frame: dict | Crash | None, key: str, truth: float) -> float | Crash | None:
    """Measured minus true, None when not measured, the Crash when the still crashed."""
    if isinstance(frame, Crash):
        return frame
    got = frame[key] if frame else None
    return None if got is None else got - truth


# ----------------------------------------------------------------------------- synthetic
def head_stills(records, root: Path, lm: MediaPipeLandmarker, table: Table, splits) -> None:
    """Head angles of front and oblique stills, with the camera's roll and pitch given
    as a level calibration would (and once without, "camera level unknown")."""
    for rec in records:
        body = rec["body"]["name"]
        split, head = splits.of(body), splits.of(body, head=True)
        frame = _measure_still(root / rec["image"], _options(rec, True), lm)
        view = "oblique" if 20 < abs(rec["camera"]["azimuth_deg"]) < 60 else rec["view"]
        detected = frame if isinstance(frame, Crash) else 0.0 if frame and frame["valid"] else None
        table.add("person detected", split, view, detected)
        side = "side" if view in ("left", "right") else view
        table.add("person detected", split, f"{side}, framing {rec['framing']}", detected)
        if view not in ("front", "oblique"):
            continue
        level_unknown = _measure_still(root / rec["image"], _options(rec, False), lm)
        for key in HEAD_KEYS:
            table.add(key, head, "camera level unknown", _error(level_unknown, key, rec[key]))
            err = _error(frame, key, rec[key])
            table.add(key, head, "all front+oblique", err)
            table.add(key, head, view, err)
            facing = frame[CAMERA_FACING] if isinstance(frame, dict) else frame
            table.add(key, head, f"{view}, trunk facing", _error(facing, key, rec[key]))
            table.add(key, head, f"{key[5:9]} {_bin(rec[key], (0, 20, 45, 75))}", err)
            table.add(key, head, f"body {body}"[:21], err)


def posture_stills(records, root, lm, table: Table, keys: tuple[str, ...], splits) -> None:
    for rec in records:
        split = splits.of(rec["body"]["name"])
        for calibrated in (False, True):
            frame = _measure_still(root / rec["image"], _options(rec, calibrated), lm)
            label = "roll corrected" if calibrated else "uncorrected"
            for key in keys:
                truth = rec[key]
                if key == "cva_deg":  # the camera-side tragus, as the ear landmark is
                    truth = rec["cva_left_deg"] if rec["view"] == "left" else rec["cva_right_deg"]
                err = _error(frame, key, truth)
                table.add(key, split, label, err)
                if calibrated:
                    table.add(key, split, f"body {rec['body']['name']}"[:21], err)


def rom_videos(paths: list[Path], table: Table, splits: Splits) -> None:
    for video in paths:
        truth = json.loads(video.with_suffix(".truth.json").read_text())
        split = splits.of(truth["body"]["name"], head=True)
        try:
            report: dict | Crash = analyze(video).to_dict()
        except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
            traceback.print_exc()
            report = Crash.of(video, exc)
        for key in ROM_KEYS:
            want = truth["rom"][key]
            if want is None:  # not performed in this video
                continue
            if isinstance(report, Crash):
                err: float | Crash | None = report
            else:
                got = report["summary"]["rom"][key]
                err = None if got is None else got - want
            table.add(f"ROM {key}", split, video.stem[:21], err)
            table.add("ROM peak (all directions)", split, "all videos", err)
        for key in HEAD_KEYS:
            if isinstance(report, Crash):
                table.add(f"video frames {key}", split, video.stem[:21], report)
                continue
            for f, t in zip(report["frames"], truth["frames"], strict=False):
                got = f[key]
                table.add(f"video frames {key}", split, video.stem[:21],
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

    from synthetic.rig import load_bodies
    from synthetic.scene import Appearance, Lighting

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


def ensure_rom_full_videos(cache: Path) -> list:
    """benchmarks/rom_full_range.py's full and restricted range videos (fit and held-out
    bodies), rendered into ``cache/rom_full`` unless cached: [(variant, video)]."""
    import rom_full_range as rf

    rf.check_variants()
    return [(v, rf.ensure_variant(cache / "rom_full", v)) for v in rf.VARIANTS]


def ensure_wide_videos(cache: Path) -> list:
    """benchmarks/rom_wide_looks.py's ROM videos of bodies and looks no fit saw (new anny
    phenotypes, glasses, long hair over the ears), rendered into ``cache/rom_wide`` unless
    cached: [(variant, video)], as :func:`ensure_rom_full_videos`."""
    import rom_wide_looks

    return rom_wide_looks.ensure_wide_videos(cache)


def rom_full_range(videos: list, table: Table, splits: Splits) -> None:
    """Full-range and restricted ROM peaks through ``analyze()`` (rom_full_range.py's
    scoring and tables), each video's split from the body in its truth file."""
    import rom_full_range as rf

    results = rf.score(videos, replay=False)
    rf.print_tables(results)
    for r, (v, video) in zip(results, videos, strict=True):
        body = json.loads(video.with_suffix(".truth.json").read_text())["body"]["name"]
        split = splits.of(body, head=True)
        if split.startswith("fit") != (v.split == "fit"):
            table.notes.append(f"{v.name}: named {v.split} in rom_full_range.py, {split} here")
        for key in rf.MOVE_ORDER:
            want = r.truth[key]
            if want is None:
                continue
            if r.rom is None:
                err: float | Crash | None = Crash(video, r.crash or "crashed")
            else:
                got = r.rom[key]
                err = None if got is None else got - want
            metric = f"ROM {v.range_kind}-range peak"
            table.add(metric, split, rf.SHORT[key], err)
            table.add(metric, split, "all directions", err)
    at_least = sum(len(r.at_least) for r in results)
    table.notes.append(f"{at_least} directions reported 'at least' (head lost near the peak)")


# ----------------------------------------------------------------------------- CVA heights
CVA_HEIGHTS = REPO / "benchmarks" / "cva_heights.py"
CVA_HEIGHTS_API = ("SET_NAME", "SET_SEED", "SET_COUNT", "load_landmarks", "rows", "table")


def _cva_heights_module():
    """benchmarks/cva_heights.py (written alongside) if present with the API used here."""
    if not CVA_HEIGHTS.exists():
        return None, f"{CVA_HEIGHTS.name} not found"
    import cva_heights

    missing = [n for n in CVA_HEIGHTS_API if not hasattr(cva_heights, n)]
    if missing:
        return None, f"{CVA_HEIGHTS.name} lacks {', '.join(missing)}"
    return cva_heights, ""


def ensure_cva_heights(cache: Path) -> list[dict]:
    ch, why = _cva_heights_module()
    if ch is None:
        print(f"(CVA camera-height set not rendered: {why})")
        return []
    return ensure_set(ch.SET_NAME, cache / ch.SET_NAME, ch.SET_COUNT, ch.SET_SEED)


def cva_heights(cache: Path, table: Table, splits: Splits) -> None:
    """CVA against the lens height (benchmarks/cva_heights.py: side stills of all bodies,
    lens 0.9-1.7 m above the floor, camera roll, pitch and focal length given)."""
    ch, why = _cva_heights_module()
    if ch is None:  # GUARDED: another helper writes cva_heights.py
        table.notes.append(f"skipped: {why}")
        return
    root = cache / ch.SET_NAME
    records = ensure_set(ch.SET_NAME, root, ch.SET_COUNT, ch.SET_SEED)
    out = ch.rows(records, ch.load_landmarks(records, root), True)
    print(f"\nCVA vs lens height ({CVA_HEIGHTS.name}'s own table, its split names):")
    print(ch.table(out))
    for rec, r in zip(records, out, strict=True):
        split = splits.of(rec["body"]["name"])
        if r["crash"]:
            err: float | Crash | None = Crash(root / rec["image"], str(r["crash"])[:200])
        else:
            err = None if r["cva"] is None else r["cva"] - r["truth"]
        table.add("CVA (calibrated), by lens height", split, f"lens {r['bin']} m", err)
        table.add("CVA (calibrated), by lens height", split, "all heights", err)


# ----------------------------------------------------------------------------- real data
def aflw(table: Table, lm: MediaPipeLandmarker) -> None:
    """Real faces: camera-relative head pose vs AFLW2000 labels (3 flagged outliers dropped).

    AFLW yaw > 0 turns the face to the subject's right, pitch > 0 looks up: ours is
    (-yaw, -pitch, +roll). Only |angles| <= 70 deg count toward the target. The
    head-pose network's crop constants were measured on this set: split "fit".
    """
    from posture.geometry.measure import measure_frame

    d = SHARED / "aflw2000_subset"
    if not d.is_dir():
        table.notes.append(f"skipped: {d} not found")
        return
    for row in _rows(d / "labels.csv"):
        if row["outlier_abs_gt_99"] != "0":
            continue
        want = (-float(row["yaw_deg"]), -float(row["pitch_deg"]), float(row["roll_deg"]))
        group = "|angles|<=70" if max(abs(v) for v in want) <= 70 else "|angles|>70"
        try:
            src = open_media(d / row["image"])
            m = measure_frame(lm.process(next(src.frames()).rgb, 0.0))
            got: tuple | Crash | None = m.head_in_camera_deg
        except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
            got = Crash.of(d / row["image"], exc)
        for name, i in (("yaw", 0), ("pitch", 1), ("roll", 2)):
            err = got if isinstance(got, Crash) else None if got is None else got[i] - want[i]
            table.add(f"AFLW subset {name} (camera)", REAL_FIT, group, err)


def aflw_wide_product(table: Table, lm: MediaPipeLandmarker) -> None:
    """Real faces turned far (aflw2000_wide, held out from every fit): the head pose the
    product finds in a photo (the landmarks and the fused head frame of ``measure_frame``,
    camera-relative: AFLW labels are against the camera, and the trunk of a face close-up
    says nothing), read back in AFLW's own Euler order so that a face turned and tipped
    compares like for like (``head_pose_net_aflw.aflw_angles``). 'detect' = the % of faces
    given a head angle. Photos also in aflw2000_subset (where the network's crops were
    tuned) are left out.

    AFLW2000-3D's labels are weak-perspective (scaled orthographic) 3DMM fits to crops
    cut around the face: a pose seen along the line of sight to the face, with no ray.
    The product's head frame is camera-relative with the perspective of an assumed 65 deg
    lens (right for a whole photo, not for a crop of one), so it is compared in the
    labels' convention: turned back by the product's own line of sight to the head
    (``FrameMeasurement.head_view_cam``). Camera-relative figures would add the assumed
    lens's ray (3-4 deg at 30-75 deg of yaw) to every error."""
    from head_pose_net_aflw import aflw_angles, geodesic_deg
    from head_pose_net_aflw import aflw_rotation as label_rotation

    from posture.geometry.measure import measure_frame
    from posture.geometry.rotations import FACING_CAMERA, compose_head_angles
    from posture.landmarks.head_pose_net import bfm_from_head_frame

    d, tuning = SHARED / "aflw2000_wide", SHARED / "aflw2000_subset"
    if not d.is_dir():
        table.notes.append(f"skipped: {d} not found")
        return
    tuned = {r["image"] for r in _rows(tuning / "labels.csv")} if tuning.is_dir() else set()
    rows = [r for r in _rows(d / "labels.csv") if r.get("outlier_abs_gt_99", "0") == "0"]
    kept = [r for r in rows if r["image"] not in tuned]
    for row in kept:
        label = tuple(float(row[k]) for k in ("yaw_deg", "pitch_deg", "roll_deg"))
        group = _yaw_bin(-label[0])
        try:
            src = open_media(d / row["image"])
            m = measure_frame(lm.process(next(src.frames()).rgb, 0.0))
            got = m.head_in_camera_deg
        except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
            got = Crash.of(d / row["image"], exc)
        if isinstance(got, Crash) or got is None:
            for name in ("yaw (line of sight)", "rotation error (geodesic)"):
                table.add(f"AFLW wide {name}", REAL_HELD_OUT, group, got)
            continue
        r_head_view = m.head_view_cam.T @ FACING_CAMERA @ compose_head_angles(*got)
        r_bfm = bfm_from_head_frame(r_head_view)
        truth = label_rotation(label[1], label[0], label[2])
        yaw_err = float(aflw_angles(r_bfm)[0] - label[0])
        table.add("AFLW wide yaw (line of sight)", REAL_HELD_OUT, group, yaw_err)
        table.add("AFLW wide rotation error (geodesic)", REAL_HELD_OUT, group,
                  geodesic_deg(r_bfm, truth))  # fmt: skip
    table.notes.append(
        f"aflw2000_wide: {len(kept)} of {len(rows)} photos ({len(rows) - len(kept)} also in the "
        "tuning subset left out); the product's head pose against its line of sight to the head "
        "(the labels' weak-perspective convention), in AFLW's Euler order"
    )


def fhp_rank(lm: MediaPipeLandmarker) -> str:
    """Forward-head score (neck height / shoulder width, frontal) vs the 6 ordinal classes."""
    from scipy.stats import spearmanr

    from posture.landmarks.types import LEFT_SHOULDER, MOUTH_LEFT, MOUTH_RIGHT, RIGHT_SHOULDER

    d = SHARED / "fhp_frontal"
    if not d.is_dir():
        return f"(skipped fhp_frontal: {d} not found)"
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
    return (
        f"fhp_frontal [{REAL_HELD_OUT}]: {len(labels)} frames, Spearman rho(class, "
        f"neck-height score) = {rho:.3f}"
    )


def marker_photo(table: Table, lm: MediaPipeLandmarker) -> None:
    """CVA from the tool vs CVA from the tragus and C7 skin markers (blob detection)."""
    import cv2

    path = SHARED / "side_photo_markers" / "side.jpg"
    if not path.exists():
        table.notes.append(f"skipped marker photo: {path} not found")
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
    for name, img in (("as published", rgb), ("face box filled", filled)):
        got = _cva_of_rgb(img, lm)
        err = got if isinstance(got, Crash) else None if got is None else got - truth
        table.add("CVA, marker photo (1 photo)", REAL_HELD_OUT, name, err)
    table.notes.append(f"marker photo: CVA from the tragus and C7 markers {truth:.1f} deg")


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


# ----------------------------------------------------------------------------- main
# --only: run just the blocks whose names contain one of these words (for development; the
# figures a note or the README quotes come from a run of every block).
ONLY: tuple[str, ...] = ()


def _block(name: str, run: Callable[[], object], table: Table | None, times: dict) -> None:
    """Run one block, timed; an exception ends the block (counted as a crash), not the run."""
    if ONLY and not any(word.lower() in name.lower() for word in ONLY):
        return
    print(f"\n[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
    t0 = time.perf_counter()
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - counted and listed as a crash
        traceback.print_exc()
        if table is not None:
            table.add("BLOCK CRASHED", "-", name[:21], Crash(Path(name), repr(exc)[:200]))
    times[name] = time.perf_counter() - t0
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {times[name]:.0f} s", flush=True)


def main() -> None:
    t_start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posture-bench"))
    parser.add_argument("--stills", type=int, default=300)
    parser.add_argument("--side", type=int, default=120)
    parser.add_argument("--front", type=int, default=80)
    parser.add_argument("--videos", type=Path, nargs="*", help="ROM videos with .truth.json")
    parser.add_argument("--render-only", action="store_true", help="fill the cache and stop")
    parser.add_argument(
        "--only", nargs="*", default=(), help="run only the blocks naming one of these words"
    )
    args = parser.parse_args()
    global ONLY
    ONLY = tuple(args.only)
    from make_synthetic import main as make_synthetic

    splits = load_splits()
    # Rendering (everything the table needs; cached: only what is missing is rendered).
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    general = args.cache / "general"
    if len(_truth_records(general / "truth.jsonl")) < args.stills:
        make_synthetic(["--out", str(general), "--count", str(args.stills), "--seed", "0"])
    records = _truth_records(general / "truth.jsonl")[: args.stills]
    side = ensure_set("side", args.cache / "side", args.side, 1)
    front = ensure_set("front", args.cache / "front", args.front, 2)
    rom_extra = ensure_rom_videos(args.cache)
    rom_full = ensure_rom_full_videos(args.cache)
    rom_wide = ensure_wide_videos(args.cache)
    ensure_cva_heights(args.cache)
    times["rendering / cache check"] = time.perf_counter() - t0
    print(f"rendering / cache check: {times['rendering / cache check']:.0f} s", flush=True)
    if args.render_only:
        return

    heads, posture, rom, full, wide, heights, real_fit, real_wide, real_other = (
        Table() for _ in range(9)
    )
    videos = args.videos or [*sorted((REPO / "sample_videos").glob("rom*.mp4")), *rom_extra]
    extra_lines: list[str] = []
    with MediaPipeLandmarker(video_mode=False) as lm:
        _block("head stills", lambda: head_stills(records, general, lm, heads, splits),
               heads, times)  # fmt: skip
        tilts = ("head_tilt_deg", "shoulder_tilt_deg")
        _block(
            "side stills",
            lambda: posture_stills(side, args.cache / "side", lm, posture, ("cva_deg",), splits),
            posture,
            times,
        )
        _block(
            "front stills",
            lambda: posture_stills(front, args.cache / "front", lm, posture, tilts, splits),
            posture,
            times,
        )
        _block("AFLW2000 subset", lambda: aflw(real_fit, lm), real_fit, times)
        _block("AFLW2000 wide, product", lambda: aflw_wide_product(real_wide, lm), real_wide,
               times)  # fmt: skip
        _block("fhp_frontal", lambda: extra_lines.append(fhp_rank(lm)), None, times)
        _block("marker photo", lambda: marker_photo(real_other, lm), real_other, times)
    _block("ROM videos", lambda: rom_videos(videos, rom, splits), rom, times)
    _block("ROM full/restricted range", lambda: rom_full_range(rom_full, full, splits), full,
           times)  # fmt: skip
    _block("ROM new bodies and looks", lambda: rom_full_range(rom_wide, wide, splits), wide,
           times)  # fmt: skip
    _block("CVA vs camera height", lambda: cva_heights(args.cache, heights, splits), heights,
           times)  # fmt: skip

    sections = [
        (f"Synthetic stills: head angles vs the rig ({len(records)} renders, seed 0)", heads),
        (f"Synthetic stills: posture ({len(side)} side, {len(front)} front)", posture),
        (f"ROM protocol videos ({len(videos)}: sample_videos/rom*, ROM_VARIANTS; analyze())", rom),
        (f"ROM full / restricted range videos ({len(rom_full)}, analyze())", full),
        (
            f"ROM videos, new bodies and looks ({len(rom_wide)}: rom_wide_looks.py, never "
            "fitted on: held-out)",
            wide,
        ),
        ("CVA vs lens height (cva_heights.py side_heights set, calibrated)", heights),
        ("Real faces: AFLW2000 subset (net crop tuning set), camera-relative", real_fit),
        ("Real faces: AFLW2000 wide (held out), product head rotation", real_wide),
        ("Real photo: CVA vs skin markers", real_other),
    ]
    print_table(sections, splits)
    for line in extra_lines:
        print(line)
    print("\ntimes: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    print(f"total wall time: {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
