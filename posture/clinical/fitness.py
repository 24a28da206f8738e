"""Whether a recording can support a finding about each measure (issue: findings only from
recordings fit for them).

A value is always reported; a finding (a label, an asymmetry, a change, a contributor)
is drawn only from a recording that can support it:

- **Posture** (CVA, head tilt, shoulder tilt) in a video: the person held still for part
  of it. A frame is *still* for a measure when, within the second around it, the measure
  stays inside a narrow band (4 deg for the CVA, 3 deg for the tilts). At least a quarter
  of the measured frames, and 1 s in all, must be still. Walking, jumping or bending
  through a clip leaves almost no still frame (0-6% on the real sports and walking clips
  of ../shared/data), a seated or standing person most of them (46-100% on the bundled
  renders, whose heads move through a whole ROM protocol). A photo is one still moment.
- **Range of motion**, per direction: the recording has a detected neutral (a still
  period, a calibration profile or the live protocol's held neutral; not "the first
  second"), and after its peak the head comes back toward that neutral (within 35% of
  the peak, or 10 deg).

A report without per-frame values (values entered by hand, a summary) is not a recording
and is not judged here. Pure Python over the report dict (measurement contract v1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from posture.measures import ROM_DIRECTIONS, RomDirection

STILL_WINDOW_S = 1.0
STILL_BAND_DEG: dict[str, float] = {"cva_deg": 4.0, "head_tilt_deg": 3.0, "shoulder_tilt_deg": 3.0}
MIN_STILL_FRACTION = 0.25
MIN_STILL_S = 1.0
RETURN_FRACTION = 0.35
RETURN_MIN_DEG = 10.0
# The neutral sources that are not a detected neutral (posture.signals.rom).
UNDETECTED_NEUTRAL = ("start of recording",)

MOVING = (
    "the person was moving for most of the recording, so there was no still moment to "
    "judge posture from (sit or stand still for a few seconds)"
)
NO_NEUTRAL = (
    "the recording did not start from a still, neutral position to measure from (start "
    "with 2 s of stillness, looking straight ahead)"
)
NO_RETURN = (
    "the head did not come back toward the neutral position after the movement (move, "
    "then come back to looking straight ahead)"
)

# The same reasons in a few words, for tables.
SHORT_REASONS = {
    MOVING: "moving throughout",
    NO_NEUTRAL: "no still neutral",
    NO_RETURN: "no return to neutral",
}


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _series(frames: Sequence[Mapping[str, Any]], key: str) -> list[tuple[float, float]]:
    out = []
    for f in frames:
        t, v = _number(f.get("t")), _number(f.get(key))
        if t is not None and v is not None:
            out.append((t, v))
    return out


def still_frames(points: Sequence[tuple[float, float]], band_deg: float) -> int:
    """How many of ``points`` (t, value) are still: within the second around each (or its
    two neighbours, for frames further apart), the values (3 at least) stay inside
    ``band_deg``."""
    still, lo = 0, 0
    n = len(points)
    hi = 0
    gaps = sorted(b[0] - a[0] for a, b in zip(points, points[1:], strict=False))
    typical_gap_s = gaps[len(gaps) // 2] if gaps else 0.0
    half = max(STILL_WINDOW_S / 2, 1.01 * typical_gap_s)
    for t, _ in points:
        while points[lo][0] < t - half:
            lo += 1
        while hi < n and points[hi][0] <= t + half:
            hi += 1
        window = [v for _, v in points[lo:hi]]
        if len(window) >= 3 and max(window) - min(window) <= band_deg:
            still += 1
    return still


def _posture_unfit(report: Mapping[str, Any]) -> dict[str, str]:
    if (report.get("input") or {}).get("kind") == "image":
        return {}
    frames = report.get("frames") or []
    out: dict[str, str] = {}
    for key, band in STILL_BAND_DEG.items():
        points = _series(frames, key)
        if not points:
            continue  # not measured: nothing to judge
        still = still_frames(points, band)
        dt = (points[-1][0] - points[0][0]) / max(len(points) - 1, 1)
        if still < MIN_STILL_FRACTION * len(points) or still * dt < MIN_STILL_S:
            out[key] = MOVING
    return out


def _returns(
    points: Sequence[tuple[float, float]], direction: RomDirection, neutral_deg: float
) -> bool:
    excursion = [(t, direction.sign * (v - neutral_deg)) for t, v in points]
    if not excursion:
        return False
    i = max(range(len(excursion)), key=lambda j: excursion[j][1])
    peak = excursion[i][1]
    near = max(RETURN_MIN_DEG, RETURN_FRACTION * peak)
    return any(e <= near for _, e in excursion[i + 1 :])


def _rom_unfit(report: Mapping[str, Any]) -> dict[str, str]:
    rom = (report.get("summary") or {}).get("rom") or {}
    measured = [d for d in ROM_DIRECTIONS if _number(rom.get(d.key)) is not None]
    frames = report.get("frames") or []
    if not measured or not frames:
        return {}  # nothing measured, or no recording to judge (values entered by hand)
    neutral = report.get("neutral") or {}
    if neutral.get("source") in UNDETECTED_NEUTRAL or not neutral:
        return {d.key: NO_NEUTRAL for d in measured}
    out: dict[str, str] = {}
    for d in measured:
        neutral_deg = _number(neutral.get(d.angle))
        if neutral_deg is None or not _returns(_series(frames, d.angle), d, neutral_deg):
            out[d.key] = NO_RETURN
    return out


def unfit_measures(report: Mapping[str, Any]) -> dict[str, str]:
    """Measure key -> why this recording cannot support a finding about it (a phrase for
    patients); measures not listed are fit, or not measured at all."""
    return {**_posture_unfit(report), **_rom_unfit(report)}


def has_detected_neutral(report: Mapping[str, Any]) -> bool:
    """A recording whose neutral was detected (not "the first second")."""
    neutral = report.get("neutral") or {}
    return bool(neutral) and neutral.get("source") not in UNDETECTED_NEUTRAL
