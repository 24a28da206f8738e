"""Accuracy regression guard: a fixed subset of rendered stills and two ROM sample videos.

Each guarded measure is scored by ONE pure function from (truth, measured values) to error
statistics (``score_stills``, ``score_rom_peaks``, ``score_full_range``), and every limit
lives in one table, ``TOLERANCES``, with the figure it sits above. An error limit is the
measured figure x 1.2 or + 1 deg, whichever is larger; a slope (least squares, measured on
true) must lie within 1 +- 0.2 (wider when the measured slope is further from 1), so a real
regression fails here while codec or library noise does not. Measured at commit 595c211 on
2026-12-07 (stills: median over crops, camera roll and focal length given):

    measure (stills)                      measured (MAE, slope)   limits
    head rotation (5 front-view head)     3.74, 0.92              4.8, 0.8-1.2
    head rotation (3 oblique head)        29.6, 0.53              35.6, 0.8-1.2 (xfail)
    head lateral flexion (8 head)         3.52, 1.08              4.6, 0.8-1.2
    head flexion (8 head)                 9.05, 1.07              10.9, 0.8-1.2
    CVA (6 side views)                    3.99, 1.18              5.0, 0.72-1.28
    head tilt (6 front)                   0.79, 0.98              1.8, 0.8-1.2
    shoulder tilt (6 front + 5 head)      0.53, 1.18              1.6, 0.72-1.28
    ROM sample video, max / mean error    3.9 / 1.33              4.9 / 2.4
    full-range clip, max / frame MAE      2.5 / 4.64              3.5 / 5.7

The full-range clip (``sample_videos/rom_full_range.mp4``, rotation 85 left / 80 right,
a body not used for fitting) fails without the head-pose network: its turns are lost at
about 56 deg.

Every still must find the person and measure each value (``missing`` 0).

The guard can fail: ``test_fake_outputs_fail_every_guarded_measure`` scores outputs made
from the truth itself (a constant 0, a constant equal to the truth's mean, the truth scaled
by 0.5) and requires every measure to fail. An error limit alone cannot tell a 0.5x output
from a good one when the truths are small next to the measured error (flexion), nor a
constant 0 when the truths are all near 0 (the front stills' shoulders are level): every
still measure therefore also guards its slope (a constant has slope 0, a 0.5x output 0.5),
and shoulder tilt also takes the front-view head stills, whose shoulders tilt by up to
3.6 deg. Head rotation on the oblique stills is NOT yet good enough for such a guard (slope
0.45, error worse than a constant 0): its slope is a strict xfail (``KNOWN_SHORT``).

Single stills are hard: each one's trunk yaw comes from one pose estimate (no recording to
steady it), and the rig's thorax may lean, which an upright-trunk model cannot see. These
are NOT the issue's targets; benchmarks/accuracy.py reports the full picture.

To update after an intended change in accuracy (e.g. a new head-pose model): run
``.venv/bin/python tests/test_accuracy_guard.py``, which prints every statistic next to its
limit, then edit the matching row of ``TOLERANCES`` (figure, commit, date) and this table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data" / "regression"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_videos"
FULL_RANGE = SAMPLES / "rom_full_range.mp4"

# -- the tolerance table ---------------------------------------------------------------------
# measure -> statistic -> limit: a number is the largest allowed value, a pair the allowed
# range. Rule: an error limit is the measured figure x 1.2 or + 1 deg, whichever is larger
# (rounded up to 0.1); a slope must lie within 1 +- max(0.2, |1 - measured| + 0.1).
# Each comment gives the figures the limits sit above, with the commit and date measured.
TOLERANCES: dict[str, dict[str, float | tuple[float, float]]] = {
    # Measured 2026-12-07 at 595c211: MAE 3.74, slope 0.92. Up from 3.29 at 39d2df0: one
    # of these 5 close-ups no longer uses its own shoulder line (no elbows in the picture:
    # 11.9 -> 15.2 for a true 9.6), the rule that took held-out front photos in
    # benchmarks/accuracy.py from 9.1 to 5.3 (5f9273f, before the network: 3.50, 0.87)
    "head_rotation": {"missing": 0, "mae": 4.8, "slope": (0.8, 1.2)},
    # MAE 29.6, slope 0.53 (KNOWN_SHORT: fails its slope)
    "head_rotation_oblique": {"missing": 0, "mae": 35.6, "slope": (0.8, 1.2)},
    # MAE 3.52, slope 1.08
    "head_lateral_flexion": {"missing": 0, "mae": 4.6, "slope": (0.8, 1.2)},
    # MAE 9.05, slope 1.07 (39d2df0: 10.1, 1.05; the template refitted on fit bodies)
    "head_flexion": {"missing": 0, "mae": 10.9, "slope": (0.8, 1.2)},
    # MAE 3.99, slope 1.18 (the camera-elevation model with its 1.36 gain; 5f9273f: 2.37,
    # 0.99 on these 6 stills, but 4.73 on held-out bodies and camera heights)
    "cva": {"missing": 0, "mae": 5.0, "slope": (0.72, 1.28)},
    # MAE 0.79, slope 0.98
    "head_tilt": {"missing": 0, "mae": 1.8, "slope": (0.8, 1.2)},
    # MAE 0.53, slope 1.18
    "shoulder_tilt": {"missing": 0, "mae": 1.6, "slope": (0.72, 1.28)},
    # max 3.9, mean 1.33 (sample_videos/rom_front.mp4; 39d2df0: 4.1, 1.3)
    "rom_sample_video": {"missing": 0, "max": 4.9, "mean": 2.4},
    # sample_videos/rom_full_range.mp4 (held-out body tall_thin_man, rotation 85 / 80):
    # left 84.6, right 82.5, max error 2.5, frame MAE 4.64, none "at least" or reduced
    # (595c211; 39d2df0: 84.5, 82.2, 2.2, 4.4).
    # 5f9273f (no network) fails it: left 55.4, right 57.6, both "at least", frame MAE 10.8.
    "rom_full_range": {"missing": 0, "max": 3.5, "frame_mae": 5.7, "reduced": 0},
}
# Statistics the product does not meet yet (xfail, strict: a pass fails the run, so the
# table gets updated when they are fixed).
KNOWN_SHORT: dict[tuple[str, str], str] = {
    ("head_rotation_oblique", "slope"): (
        "slope 0.45 at 5f9273f: oblique stills' rotation is far too small (37.9 -> 14.1, "
        "56.6 -> 6.7, 3.8 -> -14.1 deg; trunk yaw from one photo); the guard cannot yet tell "
        "a 0.5x output there"
    ),
}


class StillMeasure(NamedTuple):
    subset: Callable[[dict], bool]  # which regression stills
    key: str  # the frame's key
    truth: Callable[[dict], float]  # a record's true value


def _kind(kind: str, *views: str) -> Callable[[dict], bool]:
    return lambda r: r["kind"] == kind and (not views or r["view"] in views)


def _truth(key: str) -> Callable[[dict], float]:
    return lambda r: r[key]


# Head rotation is split by view: the oblique stills fail it (KNOWN_SHORT). Shoulder tilt
# also takes the front-view head stills (shoulders tilted up to 3.6 deg): the front stills'
# shoulders are level (|truth| <= 0.8), where a constant 0 would pass any error limit.
STILL_MEASURES: dict[str, StillMeasure] = {
    "head_rotation": StillMeasure(
        _kind("head", "front"), "head_rotation_deg", _truth("head_rotation_deg")
    ),
    "head_rotation_oblique": StillMeasure(
        _kind("head", "oblique"), "head_rotation_deg", _truth("head_rotation_deg")
    ),
    "head_lateral_flexion": StillMeasure(
        _kind("head"), "head_lateral_flexion_deg", _truth("head_lateral_flexion_deg")
    ),
    "head_flexion": StillMeasure(_kind("head"), "head_flexion_deg", _truth("head_flexion_deg")),
    # the camera-side tragus, as the ear landmark is
    "cva": StillMeasure(
        _kind("side"),
        "cva_deg",
        lambda r: r["cva_left_deg"] if r["view"] == "left" else r["cva_right_deg"],
    ),
    "head_tilt": StillMeasure(_kind("front"), "head_tilt_deg", _truth("head_tilt_deg")),
    "shoulder_tilt": StillMeasure(
        lambda r: _kind("front")(r) or _kind("head", "front")(r),
        "shoulder_tilt_deg",
        _truth("shoulder_tilt_deg"),
    ),
}


# -- scoring: pure functions of (truth, measured) --------------------------------------------


def score_stills(truth: Sequence[float], measured: Sequence[float | None]) -> dict[str, float]:
    """Stills not measured (``missing``), mean absolute error, and the slope of the
    least-squares line measured = a + slope * truth (over the measured stills)."""
    pairs = [(t, m) for t, m in zip(truth, measured, strict=True) if m is not None]
    out = {"missing": float(len(truth) - len(pairs)), "mae": np.inf, "slope": np.nan}
    if len(pairs) >= 2:
        t, m = np.array(pairs, dtype=float).T
        out["mae"] = float(np.mean(np.abs(m - t)))
        out["slope"] = float(np.polyfit(t, m, 1)[0])
    return out


def score_rom_peaks(
    truth: Mapping[str, float | None], measured: Mapping[str, float | None]
) -> dict[str, float]:
    """Over the directions the truth performed: how many were not measured, and the
    largest and mean absolute error of the measured peaks."""
    errors = [
        abs(measured[k] - v)
        for k, v in truth.items()
        if v is not None and measured.get(k) is not None
    ]
    performed = sum(v is not None for v in truth.values())
    return {
        "missing": float(performed - len(errors)),
        "max": float(max(errors, default=np.inf)),
        "mean": float(np.mean(errors)) if errors else np.inf,
    }


def reduced_directions(
    rom: Mapping[str, float | None], at_least: Sequence[str], directions: Sequence[str]
) -> list[str]:
    """Of ``directions``, those the findings call less than usual (posture.clinical)."""
    from posture.clinical import build_findings

    report = {
        "quality": {"valid_frame_fraction": 1.0},
        "summary": {"rom": dict(rom), "rom_at_least": list(at_least)},
    }
    text = {f["id"]: f["patient_text"] for f in build_findings(report)}
    return [
        k for k in directions if "less than usual" in text.get(f"rom.{k.removesuffix('_deg')}", "")
    ]


def score_full_range(truth: Mapping, measured: Mapping) -> dict[str, float]:
    """The full-range rotation clip: ``score_rom_peaks`` over its performed directions,
    the per-frame rotation MAE (truth interpolated at the measured frames' times, lost
    frames left out), and how many directions with a true peak >= 70 deg the findings
    call reduced.

    ``truth``: the clip's truth JSON (``rom``, ``frames``); ``measured``: ``rom``,
    ``rom_at_least``, and per frame ``t`` and ``rotation`` (None where not measured).
    """
    out = score_rom_peaks(truth["rom"], measured["rom"])
    t_true = [f["t"] for f in truth["frames"]]
    rot_true = [f["head_rotation_deg"] for f in truth["frames"]]
    seen = [
        (t, r) for t, r in zip(measured["t"], measured["rotation"], strict=True) if r is not None
    ]
    if seen:
        t, r = np.array(seen, dtype=float).T
        out["frame_mae"] = float(np.mean(np.abs(r - np.interp(t, t_true, rot_true))))
    else:
        out["frame_mae"] = np.inf
    wide = [k for k, v in truth["rom"].items() if v is not None and v >= 70.0]
    out["reduced"] = float(len(reduced_directions(measured["rom"], measured["rom_at_least"], wide)))
    return out


def failures(
    measure: str, stats: Mapping[str, float], only: Sequence[str] | None = None
) -> list[str]:
    """The statistics of ``measure`` (or ``only`` these) outside their limits in
    ``TOLERANCES`` (NaN fails)."""
    out = []
    for stat, limit in TOLERANCES[measure].items():
        if only is not None and stat not in only:
            continue
        lo, hi = limit if isinstance(limit, tuple) else (-np.inf, limit)
        value = stats[stat]
        if not lo <= value <= hi:
            out.append(f"{measure} {stat} {value:.3g} outside [{lo:g}, {hi:g}]")
    return out


# -- measuring through the product's code path ------------------------------------------------


def regression_truth() -> list[dict]:
    return json.loads((DATA / "truth.json").read_text())


def measure_stills() -> list[tuple[dict, dict]]:
    """Every regression still through ``analyze_source`` (roll and focal length given)."""
    from posture.io.media import ImageSource
    from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
    from posture.options import AnalysisOptions
    from posture.pipeline import analyze_source

    out = []
    with MediaPipeLandmarker(video_mode=False) as lm:
        for rec in regression_truth():
            options = AnalysisOptions(
                camera_roll_deg=rec["camera_roll_deg"], focal_px=rec["focal_px"]
            )
            report = analyze_source(ImageSource(DATA / rec["image"]), options, landmarker=lm)
            out.append((rec, report.to_dict()["frames"][0]))
    return out


def still_values(
    pairs: Sequence[tuple[dict, dict]], measure: str
) -> tuple[list[float], list[float | None]]:
    """(truth, measured) of one still measure over its subset."""
    m = STILL_MEASURES[measure]
    chosen = [(r, f) for r, f in pairs if m.subset(r)]
    return [m.truth(r) for r, _ in chosen], [f[m.key] for _, f in chosen]


def measure_rom_sample() -> tuple[dict, dict]:
    from posture.pipeline import analyze

    truth = json.loads((SAMPLES / "rom_front.truth.json").read_text())["rom"]
    return truth, analyze(SAMPLES / "rom_front.mp4").to_dict()["summary"]["rom"]


def full_range_measured(report: Mapping) -> dict:
    """What ``score_full_range`` scores, from the full-range clip's report."""
    return {
        "rom": report["summary"]["rom"],
        "rom_at_least": report["summary"]["rom_at_least"],
        "t": [f["t"] for f in report["frames"]],
        "rotation": [f["head_rotation_deg"] for f in report["frames"]],
    }


def measure_full_range(video: Path = FULL_RANGE) -> tuple[dict, dict]:
    from posture.pipeline import analyze

    truth = json.loads(video.with_suffix(".truth.json").read_text())
    return truth, full_range_measured(analyze(video).to_dict())


@pytest.fixture(scope="module")
def measured() -> list[tuple[dict, dict]]:
    return measure_stills()


@pytest.mark.slow
def test_every_still_finds_the_person(measured):
    assert all(frame["valid"] for _, frame in measured)


def _still_cases() -> list:
    cases = []
    for measure in STILL_MEASURES:
        for stat in TOLERANCES[measure]:
            short = KNOWN_SHORT.get((measure, stat))
            marks = [pytest.mark.xfail(strict=True, reason=short)] if short else []
            cases.append(pytest.param(measure, stat, marks=marks, id=f"{measure}-{stat}"))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("measure", "stat"), _still_cases())
def test_still_measure_within_tolerance(measured, measure, stat):
    stats = score_stills(*still_values(measured, measure))
    assert not failures(measure, stats, [stat]), stats


@pytest.mark.slow
def test_rom_sample_video_peaks(rom_front_report):
    truth = json.loads((SAMPLES / "rom_front.truth.json").read_text())["rom"]
    rom = rom_front_report["summary"]["rom"]  # analyze(rom_front.mp4), shared (conftest.py)
    stats = score_rom_peaks(truth, rom)
    assert not failures("rom_sample_video", stats), (stats, rom)


@pytest.mark.slow
@pytest.mark.skipif(
    not FULL_RANGE.exists() or not FULL_RANGE.with_suffix(".truth.json").exists(),
    reason="sample_videos/rom_full_range.mp4 (+ .truth.json) not made yet: "
    "benchmarks/rom_full_range.py --make-guard-clip",
)
def test_full_range_rotation_clip(rom_full_range_report):
    """Rotation left 85, right 80: each within its limit of the true peak, and neither
    called reduced."""
    truth = json.loads(FULL_RANGE.with_suffix(".truth.json").read_text())
    measured = full_range_measured(rom_full_range_report)  # analyze(clip), shared (conftest)
    stats = score_full_range(truth, measured)
    assert not failures("rom_full_range", stats), (stats, measured["rom"], measured["rom_at_least"])


# -- the guard can fail ------------------------------------------------------------------------

FAKES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "constant 0": lambda x: np.zeros_like(x),
    "constant mean of the truth": lambda x: np.full_like(x, np.mean(x)),
    "truth scaled by 0.5": lambda x: 0.5 * x,
}


def _fake_peaks(rom: Mapping[str, float | None], fake) -> dict[str, float | None]:
    keys = [k for k, v in rom.items() if v is not None]
    values = fake(np.array([rom[k] for k in keys], dtype=float))
    return {**dict.fromkeys(rom), **{k: float(v) for k, v in zip(keys, values, strict=True)}}


def fake_scores(fake: Callable[[np.ndarray], np.ndarray]) -> dict[str, dict[str, float]]:
    """Every guarded measure scored on an output made from its own truth by ``fake``."""
    out = {}
    records = regression_truth()
    for measure, m in STILL_MEASURES.items():
        truth = np.array([m.truth(r) for r in records if m.subset(r)], dtype=float)
        out[measure] = score_stills(truth, list(fake(truth)))
    rom = json.loads((SAMPLES / "rom_front.truth.json").read_text())["rom"]
    out["rom_sample_video"] = score_rom_peaks(rom, _fake_peaks(rom, fake))
    # the full-range clip's truth as the guard clip has it (rotation left 85, right 80)
    t = np.arange(0.0, 12.0, 1 / 30)
    rotation = np.interp(t, [0, 1.5, 3.5, 4.5, 6.5, 8.5, 9.5, 11.5], [0, 0, 85, 85, 0, -80, -80, 0])
    full = {
        "rom": {**dict.fromkeys(rom), "rotation_left_deg": 85.0, "rotation_right_deg": 80.0},
        "frames": [{"t": a, "head_rotation_deg": b} for a, b in zip(t, rotation, strict=True)],
    }
    if FULL_RANGE.with_suffix(".truth.json").exists():
        full = json.loads(FULL_RANGE.with_suffix(".truth.json").read_text())
    frames = np.array([f["head_rotation_deg"] for f in full["frames"]], dtype=float)
    out["rom_full_range"] = score_full_range(
        full,
        {
            "rom": _fake_peaks(full["rom"], fake),
            "rom_at_least": [],
            "t": [f["t"] for f in full["frames"]],
            "rotation": list(fake(frames)),
        },
    )
    return out


def test_every_guarded_measure_has_a_tolerance_and_a_fake_score():
    assert set(fake_scores(FAKES["constant 0"])) == set(TOLERANCES)


@pytest.mark.parametrize("fake", list(FAKES))
def test_fake_outputs_fail_every_guarded_measure(fake):
    """A constant output and a half-size one must fail EVERY guarded measure: otherwise
    that measure cannot tell a broken pipeline from a working one."""
    passing = {m: s for m, s in fake_scores(FAKES[fake]).items() if not failures(m, s)}
    assert not passing, f"{fake} passes: {passing}"


def test_the_true_values_pass_every_guarded_measure():
    """The other side of the scoring functions: the truth itself passes."""
    scores = fake_scores(lambda x: np.asarray(x, dtype=float))
    assert not [f for m, s in scores.items() for f in failures(m, s)]


# -- a turn past what the camera follows is "at least", never "reduced" ---------------------


def test_a_turn_lost_near_its_peak_is_at_least_and_never_called_reduced():
    """Rotation left goes to 85 deg but the head is lost past 55: the report keeps 55 as a
    lower bound (summary.rom_at_least) and the findings never say it is less than usual.
    Rotation right (80, seen throughout) is an ordinary peak."""
    from posture.assemble import assemble_report
    from posture.clinical import build_findings
    from posture.geometry.measure import FrameMeasurement
    from posture.io.media import MediaInfo
    from posture.options import AnalysisOptions

    fps = 30.0
    t = np.arange(0.0, 12.0, 1 / fps)
    rotation = np.interp(t, [0, 2, 4, 5, 7, 9, 10, 12], [0, 0, 85, 85, 0, -80, -80, 0])
    frames = []
    for ti, rot in zip(t, rotation, strict=True):
        lost = rot > 55.0
        angles = None if lost else (float(rot), 0.0, 0.0)
        frames.append(
            FrameMeasurement(
                float(ti),
                True,
                "front",
                "trunk",
                head_rotation_deg=None if lost else float(rot),
                head_flexion_deg=None if lost else 0.0,
                head_lateral_flexion_deg=None if lost else 0.0,
                head_in_camera_deg=angles,
                trunk_yaw_deg=0.0,
                head_lost=lost,
            )  # fmt: skip
        )
    info = MediaInfo("turn.mp4", "video", 640, 480, fps, len(t), float(t[-1]))
    report = assemble_report(info, frames, AnalysisOptions(), 1, []).to_dict()
    summary = report["summary"]
    assert summary["rom_at_least"] == ["rotation_left_deg"]
    assert 45.0 <= summary["rom"]["rotation_left_deg"] <= 56.0
    assert abs(summary["rom"]["rotation_right_deg"] - 80.0) <= 1.0
    findings = build_findings(report)
    left = next(f for f in findings if f["id"] == "rom.rotation_left")
    assert "at least" in left["patient_text"]
    for f in findings:
        if "rotation" in f["id"]:
            assert "less than usual" not in f["patient_text"], f
    assert not any(f["id"] == "asymmetry.rotation" for f in findings)
    assert reduced_directions(summary["rom"], summary["rom_at_least"], ["rotation_left_deg"]) == []


# -- the figures, for updating TOLERANCES ------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Print every guarded statistic next to its limit (run from the repository root)."""
    import argparse
    import subprocess

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--full-range", type=Path, default=FULL_RANGE, help="the clip to score")
    args = parser.parse_args(argv)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "posture"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    print(f"commit {commit}{' + uncommitted changes in posture/' if dirty else ''}")
    pairs = measure_stills()
    scores = {m: score_stills(*still_values(pairs, m)) for m in STILL_MEASURES}
    scores["rom_sample_video"] = score_rom_peaks(*measure_rom_sample())
    if args.full_range.exists():
        truth, measured = measure_full_range(args.full_range)
        scores["rom_full_range"] = score_full_range(truth, measured)
        print("full range:", measured["rom"], "at least:", measured["rom_at_least"])
    for measure, stats in scores.items():
        cells = ", ".join(
            f"{k} {v:.3g} (limit {TOLERANCES[measure].get(k)})" for k, v in stats.items()
        )
        flag = "FAILS" if failures(measure, stats) else "ok"
        print(f"{measure:<22}{flag:<7}{cells}")


if __name__ == "__main__":
    main()
