"""Full-range and restricted-range ROM benchmark: rendered videos, truth peaks, analyze().

    PYOPENGL_PLATFORM=egl python benchmarks/rom_full_range.py [--split fit|heldout|all]
        [--only NAME ...] [--cache DIR] [--json OUT.json] [--replay] [--render-only]
    python benchmarks/rom_full_range.py --tables-from OUT.json   # re-print a saved run
    PYOPENGL_PLATFORM=egl python benchmarks/rom_full_range.py --make-guard-clip [--out DIR]

``benchmarks/make_samples.py`` renders moderate peaks only (rotation 60/55, flexion 40,
extension 35, lateral flexion 30/28). Here the same protocol (neutral hold, then each
direction out, a short hold at the peak, back; ``make_samples`` timing and easing) is
rendered with a healthy adult's FULL range (rotation 70-90, flexion 55-65, extension
60-75, lateral flexion 35-45) and with a RESTRICTED range (rotation 30-50, flexion 25-40,
extension 20-35, lateral flexion 15-25), the peaks drawn per video (seeded by its name).
A move lasts longer when its peak is large (mean speed at most 40 deg/s out and back),
so the moderate protocol is reproduced exactly (``rom_pose_at(t, ms.ROM_MOVES)``).

The subject sits (hips and knees at 88 deg, on a box chair), trunk facing the camera
within a few degrees, seen by the cameras patients and clinics use:

- laptop: on a desk, 0.5-0.7 m away, the lens 15-25 cm below the eyes, aimed up at the face;
- webcam: on top of a monitor, eye level, 0.6-0.8 m;
- tripod: in a clinic, lens about 1.2 m above the floor, 1.5-3 m away.

``scene.make_camera`` always aims the camera at a point (``look_at``): its pitch follows
from the height offset and the aim point (``target_offset_m``); it has no separate pitch
parameter, so a pitched camera is expressed as a lens below/above the point it looks at.
The focal length is set in pixels (a laptop or monitor webcam ~65-70 deg wide; the tripod
camera zoomed in to frame head to waist) and converted to ``make_camera``'s zoom.

Splits: "fit" uses the five bodies not in ``render_rom_train.EVAL_BODIES``; "heldout"
uses those four (neutral, older_woman, tall_thin_man, short_heavy_woman). Videos are
cached in ``--cache`` (default /tmp/posture-bench/rom_full): only missing ones are
rendered. Every video is then analysed by ``posture.pipeline.analyze`` (default options:
no calibration, as a patient at home) and its ``summary.rom`` compared with the truth
peaks; labels come from ``posture.clinical.norms.classify_rom`` (adult reference, age and
sex not given). ``--replay`` instead replays landmarks cached by ``rom_video_eval.py``
(quick re-scoring after geometry changes; the figures to quote come without it).
Crashes are counted and printed apart from "not measured"; directions the pipeline
flags as "at least" (``summary.rom_at_least``: findings do not label them) are counted.
Rendering: ~1.5-4 min per video on 2 busy cores (16 videos, ~40 min once); analysis:
~30-80 s per video.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import make_samples as ms  # noqa: E402
from render_rom_train import EVAL_BODIES  # noqa: E402

from posture.measures import ROM_KEYS  # noqa: E402
from synthetic.rig import Body, BodyPose, PosedBody, landmarks_3d  # noqa: E402
from synthetic.scene import (  # noqa: E402
    HAIR_COLOURS,
    SHIRT_COLOURS,
    SKIN_TONES,
    Appearance,
    Camera,
    Lighting,
    framing_target,
    make_camera,
)

DEFAULT_CACHE = Path("/tmp/posture-bench/rom_full")
WIDTH, HEIGHT = 640, 480
# The protocol: directions in the order performed, as report keys -> (pose key, sign).
MOVE_ORDER = ROM_KEYS
POSE_KEY = {rom_key: pose_sign for pose_sign, rom_key in ms.ROM_KEYS.items()}
SHORT = {
    "rotation_left_deg": "rotation L", "rotation_right_deg": "rotation R",
    "flexion_deg": "flexion", "extension_deg": "extension",
    "lateral_flexion_left_deg": "lat flex L", "lateral_flexion_right_deg": "lat flex R",
}  # fmt: skip
# Peak ranges (deg) per direction: rotation, flexion, extension, lateral flexion.
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "full": {"rotation": (70, 90), "flexion": (55, 65), "extension": (60, 75),
             "lateral_flexion": (35, 45)},
    "restricted": {"rotation": (30, 50), "flexion": (25, 40), "extension": (20, 35),
                   "lateral_flexion": (15, 25)},
}  # fmt: skip
MAX_MEAN_SPEED_DEG_S = 40.0  # out and back; ms.OUT_S / ms.BACK_S is the minimum
SEATED = {"hip_flexion_deg": 88.0, "knee_flexion_deg": 88.0}

Moves = tuple[tuple[str, float], ...]  # (pose key, signed peak), as ms.ROM_MOVES


def movement(rom_key: str) -> str:
    return rom_key.replace("_left_deg", "").replace("_right_deg", "").replace("_deg", "")


# ----------------------------------------------------------------------------- protocol
def move_seconds(peak_deg: float) -> tuple[float, float]:
    """(out, back) durations of one move: make_samples' unless the peak needs longer."""
    slow = abs(peak_deg) / MAX_MEAN_SPEED_DEG_S
    return max(ms.OUT_S, slow), max(ms.BACK_S, slow)


def rom_pose_at(t: float, moves: Moves = ms.ROM_MOVES, seated: bool = False) -> BodyPose:
    """``make_samples.rom_pose_at`` with chosen peaks (identical for ``ms.ROM_MOVES``)."""
    start = ms.HOLD_S
    angles = {"rotation_deg": 0.0, "flexion_deg": 0.0, "lateral_flexion_deg": 0.0}
    for key, peak in moves:
        out_s, back_s = move_seconds(peak)
        local = t - start
        if 0.0 <= local < out_s + ms.PEAK_S + back_s:
            if local < out_s:
                angles[key] = peak * ms.ease(local / out_s)
            elif local < out_s + ms.PEAK_S:
                angles[key] = peak
            else:
                angles[key] = peak * (1.0 - ms.ease((local - out_s - ms.PEAK_S) / back_s))
        start += out_s + ms.PEAK_S + back_s + ms.PAUSE_S
    return BodyPose(**angles, arm_adduction_deg=25.0, **(SEATED if seated else {}))


def rom_duration_s(moves: Moves) -> float:
    return ms.HOLD_S + sum(sum(move_seconds(p)) + ms.PEAK_S + ms.PAUSE_S for _, p in moves) + 0.5


def rom_truth(moves: Moves) -> dict[str, float | None]:
    """summary.rom truth (the ``make_samples.rom_summary`` format; None = not performed)."""
    rom: dict[str, float | None] = dict.fromkeys(MOVE_ORDER)
    for key, peak in moves:
        rom[ms.ROM_KEYS[(key, 1 if peak > 0 else -1)]] = abs(peak)
    return rom


def draw_moves(name: str, rng_kind: str) -> Moves:
    """Peaks for one video, drawn in ``RANGES[rng_kind]`` (seeded by the video's name)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    moves = []
    for rom_key in MOVE_ORDER:
        lo, hi = RANGES[rng_kind][movement(rom_key)]
        pose_key, sign = POSE_KEY[rom_key]
        moves.append((pose_key, sign * float(round(rng.uniform(lo, hi)))))
    return tuple(moves)


# ----------------------------------------------------------------------------- cameras
@dataclass(frozen=True)
class CameraSpec:
    """A camera placement. Height: ``below_eyes_m`` (lens this far below the eyes) or
    ``height_m`` (lens above the floor). It looks at a point ``aim_below_eyes_m`` below the
    eyes (above the target of the 'upper' framing). ``fx_px``: focal length at 640x480."""

    kind: str
    distance_m: float  # horizontal, from the framing target (between face and shoulders)
    fx_px: float
    aim_below_eyes_m: float
    below_eyes_m: float | None = None
    height_m: float | None = None
    azimuth_deg: float = 0.0

    def describe(self) -> str:
        if self.below_eyes_m is None:
            where = f"{self.height_m:.1f} m high"
        else:
            cm = round(100 * self.below_eyes_m)
            where = f"eyes{-cm:+d} cm" if cm else "eye level"
        return f"{self.kind} {self.distance_m:.2f} m, {where}, az {self.azimuth_deg:+.0f}"


def laptop(distance_m: float, below_eyes_m: float, azimuth_deg: float = 0.0) -> CameraSpec:
    return CameraSpec("laptop", distance_m, 480.0, 0.06, below_eyes_m=below_eyes_m,
                      azimuth_deg=azimuth_deg)  # fmt: skip


def webcam(distance_m: float, below_eyes_m: float = 0.0, azimuth_deg: float = 0.0) -> CameraSpec:
    return CameraSpec("webcam", distance_m, 470.0, 0.10, below_eyes_m=below_eyes_m,
                      azimuth_deg=azimuth_deg)  # fmt: skip


def tripod(distance_m: float, fx_px: float, azimuth_deg: float = 0.0) -> CameraSpec:
    return CameraSpec("tripod", distance_m, fx_px, 0.22, height_m=1.2, azimuth_deg=azimuth_deg)


def camera_for(spec: CameraSpec) -> Callable[[PosedBody], Camera]:
    def build(posed: PosedBody) -> Camera:
        target, extent = framing_target(posed, "upper")
        lm = landmarks_3d(posed)
        eyes_z = 0.5 * float(lm["eye_left"][2] + lm["eye_right"][2])
        aim_z = eyes_z - spec.aim_below_eyes_m
        if spec.below_eyes_m is not None:
            lens_z = eyes_z - spec.below_eyes_m
        else:
            assert spec.height_m is not None
            lens_z = float(posed.vertices[:, 2].min()) + spec.height_m  # the feet on the floor
        zoom = spec.fx_px * extent / (min(HEIGHT, WIDTH * 1.3) * spec.distance_m)
        return make_camera(
            posed, azimuth_deg=spec.azimuth_deg, distance_m=spec.distance_m,
            height_offset_m=lens_z - aim_z, framing="upper", width=WIDTH, height=HEIGHT,
            zoom=zoom, target_offset_m=np.array([0.0, 0.0, aim_z - float(target[2])]),
        )  # fmt: skip

    return build


def camera_pitch_up_deg(camera: Camera) -> float:
    """Elevation of the optical axis (+ = looks up)."""
    forward = -np.asarray(camera.pose)[:3, 2]
    return math.degrees(math.asin(float(forward[2])))


# ----------------------------------------------------------------------------- variants
@dataclass(frozen=True)
class Variant:
    name: str
    body: str
    split: str  # "fit" or "heldout"
    range_kind: str  # "full" or "restricted"
    camera: CameraSpec
    skin: int  # index into SKIN_TONES
    hair: int  # index into HAIR_COLOURS
    shirt: int  # index into SHIRT_COLOURS
    background: str
    key_light_deg: float

    @property
    def moves(self) -> Moves:
        return draw_moves(self.name, self.range_kind)

    @property
    def appearance(self) -> Appearance:
        return Appearance(
            skin_rgb=SKIN_TONES[self.skin],
            hair_rgb=HAIR_COLOURS[self.hair],
            shirt_rgb=SHIRT_COLOURS[self.shirt],
            long_sleeves=self.skin % 2 == 1,
        )


V = Variant
VARIANTS: tuple[Variant, ...] = (
    # fit: bodies not in EVAL_BODIES
    V("fit_full_laptop_young_woman", "young_woman_slim", "fit", "full", laptop(0.55, 0.20, 2),
      0, 3, 1, "room", -25),
    V("fit_full_webcam_muscular_man", "young_man_muscular", "fit", "full", webcam(0.70, 0.0, -3),
      4, 0, 4, "plain", 20),
    V("fit_full_tripod_athletic_woman", "middle_woman_athletic", "fit", "full",
      tripod(2.2, 1000, 1), 2, 2, 6, "room", -30),
    V("fit_full_laptop_heavy_man", "middle_man_heavy", "fit", "full", laptop(0.65, 0.17, -2),
      3, 4, 3, "gradient", 35),
    V("fit_restricted_webcam_older_man", "older_man", "fit", "restricted", webcam(0.65, 0.02, 3),
      1, 4, 7, "room", -15),
    V("fit_restricted_tripod_heavy_man", "middle_man_heavy", "fit", "restricted",
      tripod(1.6, 750, -2), 5, 0, 5, "stripes", 25),
    V("fit_restricted_laptop_athletic_woman", "middle_woman_athletic", "fit", "restricted",
      laptop(0.60, 0.23, 0), 3, 1, 0, "noise", -40),
    V("fit_restricted_webcam_young_woman", "young_woman_slim", "fit", "restricted",
      webcam(0.80, -0.02, -1), 2, 0, 2, "gradient", 10),
    # held out: EVAL_BODIES
    V("heldout_full_webcam_neutral", "neutral", "heldout", "full", webcam(0.70, 0.0, 1),
      1, 1, 0, "room", -20),
    V("heldout_full_laptop_older_woman", "older_woman", "heldout", "full", laptop(0.60, 0.22, -3),
      0, 4, 6, "gradient", 30),
    V("heldout_full_tripod_tall_man", "tall_thin_man", "heldout", "full", tripod(2.8, 1250, -1),
      4, 0, 3, "room", -35),
    V("heldout_full_laptop_heavy_woman", "short_heavy_woman", "heldout", "full",
      laptop(0.50, 0.16, 2), 5, 0, 7, "plain", 15),
    V("heldout_restricted_laptop_neutral", "neutral", "heldout", "restricted",
      laptop(0.55, 0.19, 1), 2, 2, 1, "stripes", -10),
    V("heldout_restricted_tripod_older_woman", "older_woman", "heldout", "restricted",
      tripod(1.8, 820, 2), 1, 4, 5, "room", 25),
    V("heldout_restricted_webcam_tall_man", "tall_thin_man", "heldout", "restricted",
      webcam(0.75, 0.03, -2), 3, 3, 2, "checker", -30),
    V("heldout_restricted_webcam_heavy_woman", "short_heavy_woman", "heldout", "restricted",
      webcam(0.65, -0.03, 0), 4, 1, 4, "gradient", 40),
)  # fmt: skip


def check_variants() -> None:
    for v in VARIANTS:
        assert (v.body in EVAL_BODIES) == (v.split == "heldout"), v.name
        assert abs(v.camera.azimuth_deg) <= 5.0, v.name
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    for t in np.linspace(0.0, ms.rom_duration_s(), 97):  # same protocol as make_samples
        assert rom_pose_at(float(t)) == ms.rom_pose_at(float(t))


def ensure_video(out: Path, name: str, moves: Moves, body: str | Body, spec: CameraSpec,
                 appearance: Appearance, lighting: Lighting, background: str,
                 crf: int = 20, extra: dict | None = None) -> Path:  # fmt: skip
    """Render the protocol with ``moves`` unless the video and its truth are in ``out``.
    ``body``: a name in anny_bodies.npz or a Body; ``extra``: more truth-file keys."""
    video = out / f"{name}.mp4"
    if not (video.exists() and video.with_suffix(".truth.json").exists()):
        out.mkdir(parents=True, exist_ok=True)
        ms.make_clip(
            name, out, rom_duration_s(moves), lambda t: rom_pose_at(t, moves, seated=True),
            body, camera_for(spec), appearance, lighting, background, seated=True,
            rom=rom_truth(moves), crf=crf, extra=extra,
        )  # fmt: skip
    return video


def ensure_variant(out: Path, v: Variant) -> Path:
    lighting = Lighting(key_azimuth_deg=v.key_light_deg)
    return ensure_video(out, v.name, v.moves, v.body, v.camera, v.appearance, lighting,
                        v.background)  # fmt: skip


# ----------------------------------------------------------------------------- guard clip
GUARD_NAME = "rom_full_range"
GUARD_MOVES: Moves = (("rotation_deg", 85.0), ("rotation_deg", -80.0))
GUARD_BODY = "tall_thin_man"
GUARD_CAMERA = webcam(0.70, 0.0, 0.0)
GUARD_CRF = 20
GUARD_MAX_BYTES = 400_000


def make_guard_clip(out: Path = REPO / "sample_videos", crf: int = GUARD_CRF) -> Path:
    """The short full-rotation clip for the tests: 1.5 s neutral, rotation left 85, right 80
    (held-out body, eye-level webcam at 0.7 m, 640x480, ~12 s). Always re-rendered."""
    assert GUARD_BODY in EVAL_BODIES
    for suffix in (".mp4", ".truth.json"):
        (out / f"{GUARD_NAME}{suffix}").unlink(missing_ok=True)
    appearance = Appearance(skin_rgb=SKIN_TONES[2], hair_rgb=HAIR_COLOURS[0],
                            shirt_rgb=SHIRT_COLOURS[7])  # fmt: skip
    video = ensure_video(out, GUARD_NAME, GUARD_MOVES, GUARD_BODY, GUARD_CAMERA, appearance,
                         Lighting(key_azimuth_deg=-20.0), "room", crf=crf)  # fmt: skip
    size = video.stat().st_size
    print(f"{video}: {size / 1e3:.0f} kB (crf {crf}; limit {GUARD_MAX_BYTES / 1e3:.0f} kB)")
    if size > GUARD_MAX_BYTES:
        print("WARNING: over the size limit: re-run with a higher --crf")
    return video


# ----------------------------------------------------------------------------- scoring
def analyze_report(video: Path, replay: bool) -> dict:
    if replay:
        from rom_video_eval import report_for

        return report_for(video)
    from posture.pipeline import analyze

    return analyze(video).to_dict()


@dataclass
class Result:
    variant: Variant
    truth: dict[str, float | None]
    rom: dict[str, float | None] | None = None  # None = crashed
    at_least: tuple[str, ...] = ()
    crash: str | None = None
    seconds: float = 0.0


def score(videos: list[tuple[Variant, Path]], replay: bool) -> list[Result]:
    results = []
    for v, video in videos:
        truth = json.loads(video.with_suffix(".truth.json").read_text())["rom"]
        t0 = time.perf_counter()
        try:
            report = analyze_report(video, replay)
            r = Result(v, truth, rom=report["summary"]["rom"],
                       at_least=tuple(report["summary"].get("rom_at_least", [])))  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - counted and printed as a crash
            r = Result(v, truth, crash=f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        r.seconds = time.perf_counter() - t0
        results.append(r)
        got = "CRASH" if r.rom is None else " ".join(
            f"{SHORT[k].replace(' ', '')}={fmt(r.rom[k])}/{fmt(truth[k])}" for k in MOVE_ORDER
        )  # fmt: skip
        print(f"  {v.name:<40} {r.seconds:5.0f} s  measured/true: {got}", flush=True)
    return results


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}"


def label(key: str, value: float | None, exact: bool = False) -> str | None:
    """The product's label for a reading (judged with the findings' measurement error, as a
    report's findings are: 'borderline' within it below the reduced line), or with
    ``exact`` the truth's (no error)."""
    from posture.clinical.change import DEFAULT_MEASURED_ERROR_DEG
    from posture.clinical.norms import classify_rom

    c = classify_rom(key, value, error_deg=0.0 if exact else DEFAULT_MEASURED_ERROR_DEG)
    return None if c is None else c.label


CALLED_REDUCED = ("reduced", "markedly reduced")


def print_tables(results: list[Result], how: str = "analyze()") -> None:
    errors: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    missing: dict[tuple[str, str, str], int] = defaultdict(int)
    bounded: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in results:
        if r.rom is None:
            continue
        for key in MOVE_ORDER:
            want, got = r.truth[key], r.rom[key]
            if want is None:
                continue
            cell = (r.variant.split, r.variant.range_kind, key)
            bounded[cell] += key in r.at_least
            if got is None:
                missing[cell] += 1
            else:
                errors[cell].append(got - want)
    print(f"\nROM peak error = reported - true (deg), {how} on {len(results)} videos")
    print(f"{'split':<9}{'range':<12}{'direction':<12}{'n':>4}{'MAE':>7}{'bias':>7}{'max':>7}"
          f"{'not measured':>14}{'at least':>10}")  # fmt: skip
    for split in ("fit", "heldout"):
        for kind in ("full", "restricted"):
            for key in MOVE_ORDER:
                cell = (split, kind, key)
                e = np.array(errors.get(cell, []))
                if not len(e) and not missing.get(cell):
                    continue
                stats = (
                    f"{np.mean(np.abs(e)):>7.1f}{np.mean(e):>+7.1f}{e[np.argmax(np.abs(e))]:>+7.1f}"
                    if len(e)
                    else f"{'-':>7}" * 3
                )
                print(f"{split:<9}{kind:<12}{SHORT[key]:<12}{len(e):>4}{stats}"
                      f"{missing.get(cell, 0):>14}{bounded.get(cell, 0):>10}")  # fmt: skip
    for split in ("fit", "heldout", "all"):
        e = np.array([x for (s, _, _), v in errors.items() if split in ("all", s) for x in v])
        if len(e):
            print(f"{split:<9}{'all':<12}{'all':<12}{len(e):>4}{np.mean(np.abs(e)):>7.1f}"
                  f"{np.mean(e):>+7.1f}{e[np.argmax(np.abs(e))]:>+7.1f}")  # fmt: skip

    # Labels (posture.clinical.norms.classify_rom, adult reference: age and sex not given).
    ok = [r for r in results if r.rom is not None]
    rot = [(r, k) for r in ok for k in ("rotation_left_deg", "rotation_right_deg")
           if (r.truth[k] or 0.0) >= 70.0]  # fmt: skip
    called = [(r, k) for r, k in rot if label(k, r.rom[k]) not in ("within normal", "borderline")]
    print(f"\nTrue rotation >= 70 deg: {len(called)} of {len(rot)} directions (in "
          f"{len({r.variant.name for r, _ in rot})} videos) reported below the reduced line "
          f"({label_line('rotation_left_deg')}) or not measured; {at_least(called)}")  # fmt: skip
    for r, k in called:
        print(f"  {r.variant.name} {SHORT[k]}: true {r.truth[k]:.0f}, reported "
              f"{fmt(r.rom[k])} -> {label(k, r.rom[k])}{mark(r, k)}")  # fmt: skip
    normal = [(r, k) for r in ok for k in MOVE_ORDER
              if r.truth[k] is not None
              and label(k, r.truth[k], exact=True) == "within normal"]  # fmt: skip
    false_red = [(r, k) for r, k in normal if label(k, r.rom[k]) in CALLED_REDUCED]
    edge = [(r, k) for r, k in normal if label(k, r.rom[k]) == "borderline"]
    print(f"Truth within normal, reported reduced/markedly reduced: {len(false_red)} of "
          f"{len(normal)} directions; {at_least(false_red)}")  # fmt: skip
    for r, k in false_red:
        print(f"  {r.variant.name} {SHORT[k]}: true {r.truth[k]:.0f}, reported "
              f"{r.rom[k]:.0f}{mark(r, k)}")  # fmt: skip
    print(
        f"Truth within normal, reported borderline (below the line by less than the error): "
        f"{len(edge)} of {len(normal)} directions"
    )
    for r, k in edge:
        print(f"  {r.variant.name} {SHORT[k]}: true {r.truth[k]:.1f}, reported "
              f"{r.rom[k]:.1f}{mark(r, k)}")  # fmt: skip
    reduced = [(r, k) for r in ok for k in MOVE_ORDER
               if r.truth[k] is not None
               and label(k, r.truth[k], exact=True) != "within normal"]  # fmt: skip
    missed = [(r, k) for r, k in reduced if label(k, r.rom[k]) == "within normal"]
    soft = [(r, k) for r, k in reduced if label(k, r.rom[k]) == "borderline"]
    print(
        f"Truth reduced, reported within normal: {len(missed)} of {len(reduced)} directions; "
        f"borderline: {len(soft)}"
    )
    for r, k in soft:
        print(f"  {r.variant.name} {SHORT[k]}: true {r.truth[k]:.1f}, reported "
              f"{r.rom[k]:.1f} -> borderline{mark(r, k)}")  # fmt: skip
    for r, k in missed:
        print(f"  {r.variant.name} {SHORT[k]}: true {r.truth[k]:.0f}, reported "
              f"{r.rom[k]:.0f}{mark(r, k)}")  # fmt: skip
    limit = sum(len(r.at_least) for r in ok)
    print(f"Directions reported as 'at least' (head lost near the peak): {limit} of "
          f"{sum(v is not None for r in ok for v in r.truth.values())}")  # fmt: skip

    crashes = [r for r in results if r.crash is not None]
    print(f"\nCrashes: {len(crashes)} of {len(results)} videos")
    for r in crashes:
        print(f"  {r.variant.name}: {r.crash}")


def mark(r: Result, key: str) -> str:
    return " [at least]" if key in r.at_least else ""


def at_least(pairs: list[tuple[Result, str]]) -> str:
    n = sum(k in r.at_least for r, k in pairs)
    return f"{n} of them flagged 'at least' (findings: 'not judged', no label)"


def label_line(key: str) -> str:
    from posture.clinical.norms import rom_norm

    return f"reduced below {rom_norm(key).reduced_below_deg:g} deg"


def print_variants(variants: list[Variant], cache: Path) -> None:
    print(f"{'name':<41}{'body':<22}{'split':<8}{'range':<11}{'camera':<32}{'pitch':>6}"
          f"  peaks rotL/rotR/flex/ext/latL/latR")  # fmt: skip
    for v in variants:
        truth_path = cache / f"{v.name}.truth.json"
        pitch = "?"
        if truth_path.exists():
            pose = np.array(json.loads(truth_path.read_text())["camera"]["camera_to_world_gl"])
            pitch = f"{math.degrees(math.asin(float(-pose[2, 2]))):+.0f}"
        peaks = "/".join(f"{abs(p):.0f}" for _, p in v.moves)
        print(f"{v.name:<41}{v.body:<22}{v.split:<8}{v.range_kind:<11}"
              f"{v.camera.describe():<32}{pitch:>6}  {peaks}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["fit", "heldout", "all"], default="all")
    parser.add_argument("--only", nargs="*", default=None, help="variant names")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path, default=None, help="write per-video results")
    parser.add_argument(
        "--replay", action="store_true", help="score cached landmarks (not analyze())"
    )
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--tables-from", type=Path, default=None, help="print the tables of a --json file"
    )
    parser.add_argument("--make-guard-clip", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "sample_videos")
    parser.add_argument("--crf", type=int, default=GUARD_CRF, help="guard clip crf")
    args = parser.parse_args(argv)
    check_variants()
    if args.make_guard_clip:
        make_guard_clip(args.out, args.crf)
        return 0

    if args.tables_from:
        by_name = {v.name: v for v in VARIANTS}
        saved = json.loads(args.tables_from.read_text())
        print_tables([Result(by_name[d["name"]], d["truth"], d["rom"], tuple(d["rom_at_least"]),
                             d["crash"], d["seconds"]) for d in saved])  # fmt: skip
        return 0
    variants = [v for v in VARIANTS if args.split in ("all", v.split)]
    if args.only:
        unknown = set(args.only) - {v.name for v in VARIANTS}
        if unknown:
            parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
        variants = [v for v in variants if v.name in args.only]
    t0 = time.perf_counter()
    videos = [(v, ensure_variant(args.cache, v)) for v in variants]
    t_render = time.perf_counter() - t0
    print_variants(variants, args.cache)
    print(f"(render/cache check {t_render:.0f} s)")
    if args.render_only:
        return 0
    how = "landmark replay (NOT analyze())" if args.replay else "posture.pipeline.analyze"
    print(f"\nScoring with {how}:")
    t0 = time.perf_counter()
    results = score(videos, args.replay)
    print_tables(results, "landmark replay" if args.replay else "analyze()")
    print(f"\nanalysis {time.perf_counter() - t0:.0f} s for {len(results)} videos")
    if args.json:
        args.json.write_text(json.dumps([
            {"name": r.variant.name, "split": r.variant.split, "range": r.variant.range_kind,
             "body": r.variant.body, "camera": r.variant.camera.describe(), "truth": r.truth,
             "rom": r.rom, "rom_at_least": list(r.at_least), "crash": r.crash,
             "seconds": round(r.seconds, 1)} for r in results
        ], indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
