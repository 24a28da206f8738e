"""CVA accuracy against the camera's height: fit vs held-out bodies x lens height bins.

    PYOPENGL_PLATFORM=egl python benchmarks/cva_heights.py [--cache /tmp/posture-bench]
        [--count 162] [--uncalibrated] [--relandmark] [--csv OUT.csv]

Renders (once) the ``side_heights`` set of benchmarks/synthetic_sets.py: side stills of
all nine bodies, standing or seated, the lens 0.9-1.7 m above the floor and 1-3 m away,
aimed at the upper body or held level. Each still goes through the pipeline's own code
(``measure_with_options`` then ``assemble_report``, as ``analyze`` does for a photo)
and its summary CVA is compared with the rig's true C7-tragus angle on the camera side
(the ear landmark is that side's). By default the camera's roll, pitch and focal
length are given as a level calibration would; ``--uncalibrated`` gives nothing (a
level 65 deg camera assumed).

Landmarks are cached next to the stills (``landmarks.pkl``): the models run once and
the table can be recomputed after a geometry change in seconds; ``--relandmark`` runs
the models again (the head-pose network's output is dropped: the CVA does not use
it). A still where nobody is found, or the CVA is not measured, counts
against detection; an exception while measuring is a crash, counted separately (and
not as a detection). Split "fit" = the bodies the CVA model is fitted on, "held-out" =
neutral, older_woman, tall_thin_man, short_heavy_woman. The model is fitted on another
draw of the same set (seed 4, benchmarks/fit_cva_model.py), so every camera placement
here is unseen by the fit; "fit" rows are the fit's bodies at those new placements.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from synthetic_sets import camera_pitch_deg, camera_roll_deg, ensure_set  # noqa: E402

HELD_OUT_BODIES = ("neutral", "older_woman", "tall_thin_man", "short_heavy_woman")
HEIGHT_BINS = ((0.9, 1.1), (1.1, 1.3), (1.3, 1.5), (1.5, 1.7))
SET_NAME, SET_SEED, SET_COUNT = "side_heights", 3, 162


def split_of(rec: dict) -> str:
    return "held-out" if rec["body"]["name"] in HELD_OUT_BODIES else "fit"


def true_cva(rec: dict) -> float:
    """The camera-side C7-tragus angle (the ear landmark is the camera side's)."""
    return rec["cva_left_deg"] if rec["view"] == "left" else rec["cva_right_deg"]


def load_landmarks(records: list[dict], root: Path, again: bool = False) -> list:
    """FrameLandmarks of every still (the exception where the models fail), cached in
    root (only stills not in the cache are run)."""
    cache = root / "landmarks.pkl"
    stored = pickle.loads(cache.read_bytes()) if cache.exists() and not again else {}
    missing = [rec for rec in records if rec["image"] not in stored]
    if not missing:
        return [_without_head_net(stored[rec["image"]]) for rec in records]
    from posture.io.media import ImageSource
    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker

    with MediaPipeLandmarker(video_mode=False) as lm:
        for rec in missing:
            try:
                frame = next(ImageSource(root / rec["image"]).frames())
                stored[rec["image"]] = _without_head_net(lm.process(frame.rgb, 0.0))
            except Exception as err:  # noqa: BLE001 - reported as a crash below
                stored[rec["image"]] = err
    cache.write_bytes(pickle.dumps(stored))
    return [_without_head_net(stored[rec["image"]]) for rec in records]


def _without_head_net(lm):
    """The landmarks without the head-pose network's output: the CVA does not use it (and
    the cache stays readable by versions of posture without that network)."""
    if getattr(lm, "head", None) is None:
        return lm
    return dataclasses.replace(lm, head=None)


def options_for(rec: dict, calibrated: bool):
    from posture.options import AnalysisOptions

    if not calibrated:
        return AnalysisOptions()
    k = np.array(rec["camera"]["intrinsics"])
    return AnalysisOptions(
        camera_roll_deg=camera_roll_deg(rec),
        camera_pitch_deg=camera_pitch_deg(rec),
        focal_px=float(k[0, 0]),
    )


def measure(lm, rec: dict, calibrated: bool) -> tuple[float | None, float | None]:
    """(summary CVA, its uncertainty) of one still through the pipeline's code."""
    from posture.assemble import assemble_report
    from posture.io.media import MediaInfo
    from posture.stream import SteadyTrunkYaw, measure_with_options

    options = options_for(rec, calibrated)
    m = measure_with_options(lm, options, SteadyTrunkYaw())
    w, h = rec["camera"]["width"], rec["camera"]["height"]
    info = MediaInfo(rec["image"], "image", w, h, None, 1, None, 0)
    summary = assemble_report(info, [m], options, 1, []).to_dict()["summary"]
    return summary["cva_deg"], summary.get("cva_uncertainty_deg")


def camera_elevation_deg(rec: dict) -> float:
    """The true elevation of the camera seen from C7 (deg, + = camera above C7)."""
    cam = np.array(rec["camera"]["position_m"])
    c7 = np.array(rec["points_2d"]["c7"]["world_m"])
    return float(np.degrees(np.arctan2(cam[2] - c7[2], np.linalg.norm((cam - c7)[:2]))))


def height_bin(h: float) -> str:
    for lo, hi in HEIGHT_BINS:
        if lo <= h < hi or (hi == HEIGHT_BINS[-1][1] and h == hi):
            return f"{lo:.1f}-{hi:.1f}"
    return "other"


def rows(records: list[dict], landmarks: list, calibrated: bool) -> list[dict]:
    out = []
    for rec, lm in zip(records, landmarks, strict=True):
        row = {
            "image": rec["image"],
            "split": split_of(rec),
            "body": rec["body"]["name"],
            "camera_height_m": rec["camera_height_m"],
            "bin": height_bin(rec["camera_height_m"]),
            "seated": rec["seated"],
            "truth": true_cva(rec),
            "elevation_deg": camera_elevation_deg(rec),
            "cva": None,
            "unc": None,
            "crash": None,
        }
        if isinstance(lm, Exception):
            row["crash"] = f"landmarks: {lm!r}"
        else:
            try:
                row["cva"], row["unc"] = measure(lm, rec, calibrated)
            except Exception as err:  # noqa: BLE001 - counted as a crash
                row["crash"] = repr(err)
        out.append(row)
    return out


def table(out: list[dict]) -> str:
    lines = [
        f"{'split':<9}{'height m':<10}{'n':>4}{'MAE':>7}{'bias':>7}{'max':>7}{'det %':>7}"
        f"{'crash':>6}{'unc':>6}{'|e|<=unc':>9}"
    ]
    groups = [(s, b) for s in ("fit", "held-out") for b in [*map(height_bin, [0.9, 1.1, 1.3, 1.5])]]
    groups += [("fit", "all"), ("held-out", "all"), ("all", "all")]
    for split, b in groups:
        sel = [
            r for r in out if split in ("all", r["split"]) and b in ("all", r["bin"])
        ]  # fmt: skip
        if not sel:
            continue
        got = [r for r in sel if r["cva"] is not None]
        e = np.array([r["cva"] - r["truth"] for r in got])
        unc = np.array([r["unc"] for r in got if r["unc"] is not None])
        inside = np.array([abs(r["cva"] - r["truth"]) <= r["unc"] for r in got if r["unc"]])
        crashes = sum(r["crash"] is not None for r in sel)
        stats = (
            f"{np.mean(np.abs(e)):>7.2f}{np.mean(e):>+7.2f}{np.max(np.abs(e)):>7.2f}"
            if len(e)
            else f"{'-':>7}{'-':>7}{'-':>7}"
        )
        unc_s = f"{np.mean(unc):>6.1f}{100 * np.mean(inside):>8.0f}%" if len(unc) else ""
        lines.append(
            f"{split:<9}{b:<10}{len(sel):>4}{stats}{100 * len(got) / len(sel):>7.0f}"
            f"{crashes:>6}{unc_s}"
        )
    return "\n".join(lines)


def breakdown(out: list[dict]) -> str:
    """Bias by true CVA and by the camera's true elevation (all splits together)."""
    lines = [f"{'all stills by':<24}{'n':>4}{'MAE':>7}{'bias':>7}"]
    bins = (
        ("true CVA < 40", lambda r: r["truth"] < 40),
        ("true CVA 40-50", lambda r: 40 <= r["truth"] < 50),
        ("true CVA >= 50", lambda r: r["truth"] >= 50),
        ("camera < -15 deg", lambda r: r["elevation_deg"] < -15),
        ("camera -15..-5 deg", lambda r: -15 <= r["elevation_deg"] < -5),
        ("camera -5..5 deg", lambda r: -5 <= r["elevation_deg"] < 5),
        ("camera 5..15 deg", lambda r: 5 <= r["elevation_deg"] < 15),
        ("camera >= 15 deg", lambda r: r["elevation_deg"] >= 15),
    )
    for name, keep in bins:
        e = np.array([r["cva"] - r["truth"] for r in out if r["cva"] is not None and keep(r)])
        if len(e):
            lines.append(f"{name:<24}{len(e):>4}{np.mean(np.abs(e)):>7.2f}{np.mean(e):>+7.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/posture-bench"))
    parser.add_argument("--count", type=int, default=SET_COUNT)
    parser.add_argument("--uncalibrated", action="store_true")
    parser.add_argument("--relandmark", action="store_true")
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    root = args.cache / SET_NAME
    records = ensure_set(SET_NAME, root, args.count, SET_SEED)
    landmarks = load_landmarks(records, root, args.relandmark)
    out = rows(records, landmarks, not args.uncalibrated)
    what = "no calibration" if args.uncalibrated else "roll, pitch and focal length given"
    print(f"CVA on {len(records)} side stills ({SET_NAME}), {what}; error = posture - truth")
    print(table(out))
    print("camera elevation: seen from C7, + = camera above it (measured stills only)")
    print(breakdown(out))
    for r in out:
        if r["crash"]:
            print(f"crash {r['image']}: {r['crash']}")
    if args.csv:
        import csv

        with args.csv.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(out[0]))
            w.writeheader()
            w.writerows(out)


if __name__ == "__main__":
    main()
