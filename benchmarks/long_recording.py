"""Long recordings: how a frame stride changes ROM and CVA error, and speed.

    python benchmarks/long_recording.py [--strides 1 2 3] [--clips rom_front sitting_side]

Each clip in sample_videos/ has a ``.truth.json`` from the synthetic rig: per-frame
angles (``frames[i].t``, ``cva_deg``, head angles) and, for movement clips, the
true range of motion (``rom``). Every run goes through
``posture.pipeline.analyze`` with ``AnalysisOptions(frame_stride=N)`` (the batch code
path), one fresh process
per run so each one pays the same start-up. Errors are reported against the truth
and as the change from stride 1, which is what the stride costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_videos"
HEAD_KEYS = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")


def run_once(clip: Path, stride: int) -> dict:
    """Analyse ``clip`` at ``stride`` in this process; the report plus wall seconds."""
    from posture.options import AnalysisOptions
    from posture.pipeline import analyze

    t0 = time.perf_counter()
    report = analyze(clip, AnalysisOptions(frame_stride=stride)).to_dict()
    return {"report": report, "seconds": time.perf_counter() - t0}


def run_in_child(clip: Path, stride: int) -> dict:
    cmd = [sys.executable, __file__, "--child", str(clip), str(stride)]
    env = dict(os.environ, GLOG_minloglevel="2")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _truth_at(truth_frames: list[dict], t_s: np.ndarray, key: str) -> np.ndarray:
    """Truth of ``key`` at the nearest truth time to each of ``t_s``."""
    tt = np.array([f["t"] for f in truth_frames])
    vals = np.array([np.nan if f.get(key) is None else f[key] for f in truth_frames], float)
    idx = np.clip(np.searchsorted(tt, t_s), 1, len(tt) - 1)
    nearer_left = np.abs(t_s - tt[idx - 1]) <= np.abs(t_s - tt[idx])
    return vals[np.where(nearer_left, idx - 1, idx)]


def frame_mae(report: dict, truth: dict, keys: tuple[str, ...]) -> float | None:
    """Mean absolute per-frame error of ``keys`` over frames measured in both."""
    frames = report["frames"]
    t = np.array([f["t"] for f in frames])
    errs = []
    for k in keys:
        got = np.array([np.nan if f.get(k) is None else f[k] for f in frames], float)
        err = np.abs(got - _truth_at(truth["frames"], t, k))
        errs.append(err[np.isfinite(err)])
    both = np.concatenate(errs) if errs else np.array([])
    return float(both.mean()) if both.size else None


def rom_mae(report: dict, truth: dict) -> float | None:
    """Mean absolute error of the ROM values the truth has and the report measured."""
    true_rom = truth.get("rom") or {}
    got_rom = report["summary"]["rom"]
    errs = [abs(got_rom[k] - v) for k, v in true_rom.items() if got_rom.get(k) is not None]
    return float(np.mean(errs)) if errs else None


def summary_cva_error(report: dict, truth: dict) -> float | None:
    got = report["summary"].get("cva_deg")
    true = [f["cva_deg"] for f in truth["frames"] if f.get("cva_deg") is not None]
    return None if got is None or not true else float(got - np.median(true))


def _fmt(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _delta(v: float | None, base: float | None) -> str:
    return "" if v is None or base is None else f" ({v - base:+.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strides", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--clips", nargs="+", default=["rom_front", "sitting_side"])
    parser.add_argument("--child", nargs=2, metavar=("CLIP", "STRIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(Path(args.child[0]), int(args.child[1]))))
        return
    print(f"cores: {os.cpu_count()}; errors in degrees (change from stride 1 in brackets)")
    header = (
        f"{'clip':<14}{'stride':>7}{'frames':>8}{'ROM MAE':>15}{'head MAE':>15}"
        f"{'CVA MAE':>15}{'CVA summ.':>11}{'fps':>7}{'x real':>8}"
    )
    print(header)
    for name in args.clips:
        clip = SAMPLES / f"{name}.mp4"
        truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
        base: dict[str, float | None] = {}
        for stride in args.strides:
            r = run_in_child(clip, stride)
            rep, secs = r["report"], r["seconds"]
            m = {
                "rom": rom_mae(rep, truth),
                "head": frame_mae(rep, truth, HEAD_KEYS),
                "cva": frame_mae(rep, truth, ("cva_deg",)),
            }
            if stride == args.strides[0]:
                base = m
            n_src = round(rep["input"]["duration_s"] * rep["input"]["fps"])
            print(
                f"{name:<14}{stride:>7}{rep['input']['frame_count']:>8}"
                + "".join(f"{_fmt(m[k]) + _delta(m[k], base[k]):>15}" for k in m)
                + f"{_fmt(summary_cva_error(rep, truth)):>11}"
                f"{n_src / secs:>7.1f}{rep['input']['duration_s'] / secs:>8.2f}"
            )
    print(
        "ROM MAE: mean |error| of the six ROM values (clips with a true ROM); head MAE: "
        "per-frame rotation/flexion/lateral flexion; CVA MAE: per-frame CVA; CVA summ.: "
        "summary CVA minus the true median; fps: source frames per wall second."
    )


if __name__ == "__main__":
    main()
