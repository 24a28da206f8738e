"""Neutral detection and range of motion (peak excursion from neutral)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.arrays import Array
from posture.measures import ANGLE_DIRECTIONS, ROM_KEYS

HEAD_KEYS = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")
# A still period is this long, with every head angle inside this band (deg).
NEUTRAL_WINDOW_S = 0.8
NEUTRAL_BAND_DEG = 3.0
# Search for it in the first part of the recording only.
NEUTRAL_SEARCH_S = 6.0
# A movement counts as performed when it goes at least this far from neutral (deg);
# smaller excursions are indistinguishable from sway and measurement noise.
MIN_EXCURSION_DEG = 10.0


@dataclass(frozen=True)
class Neutral:
    """The subject's neutral head angles and where they came from."""

    values_deg: dict[str, float]
    t_start_s: float | None
    t_end_s: float | None
    source: str  # "still period", "start of recording", "calibration profile"


def find_neutral(t_s: Array, series: dict[str, Array]) -> Neutral | None:
    """Earliest still period near the start; None when the head angles are never measured."""
    head = np.vstack([series[k] for k in HEAD_KEYS])
    measured = np.all(np.isfinite(head), axis=0)
    if not measured.any():
        return None
    idx = np.flatnonzero(measured & (t_s <= t_s[measured][0] + NEUTRAL_SEARCH_S))
    hi = np.searchsorted(t_s[idx], t_s[idx] + NEUTRAL_WINDOW_S, side="right")
    for a, b in enumerate(hi):
        w = idx[a:b]
        if len(w) < 3 or t_s[w[-1]] - t_s[w[0]] < 0.75 * NEUTRAL_WINDOW_S:
            continue
        if np.all(np.ptp(head[:, w], axis=1) <= NEUTRAL_BAND_DEG) and np.all(
            w == np.arange(w[0], w[-1] + 1)
        ):
            vals = {k: float(np.median(series[k][w])) for k in HEAD_KEYS}
            return Neutral(vals, float(t_s[w[0]]), float(t_s[w[-1]]), "still period")
    first = idx[t_s[idx] <= t_s[idx[0]] + 1.0]
    vals = {k: float(np.median(series[k][first])) for k in HEAD_KEYS}
    return Neutral(vals, float(t_s[first[0]]), float(t_s[first[-1]]), "start of recording")


def range_of_motion(series: dict[str, Array], neutral: Neutral) -> dict[str, float | None]:
    """Peak excursion from neutral per direction (positive degrees), None if not performed."""
    out: dict[str, float | None] = dict.fromkeys(ROM_KEYS)
    for key, (positive, negative) in ANGLE_DIRECTIONS.items():
        x = series[key] - neutral.values_deg[key]
        if not np.isfinite(x).any():
            continue
        peak_pos = float(np.nanmax(x))
        peak_neg = float(-np.nanmin(x))
        out[positive] = round(peak_pos, 1) if peak_pos >= MIN_EXCURSION_DEG else None
        out[negative] = round(peak_neg, 1) if peak_neg >= MIN_EXCURSION_DEG else None
    return out


# A direction's peak is only a lower bound when the head was lost while it was at least
# this share of the way to that peak (and past MIN_EXCURSION_DEG): the head went on
# turning where the camera could not follow it.
LOST_NEAR_PEAK_FRACTION = 0.5


def directions_at_limit(
    series: dict[str, Array],
    neutral: Neutral,
    head_lost: Array,
    rom: dict[str, float | None],
) -> dict[str, float]:
    """ROM keys whose value is only "at least", with that lower bound (deg): the head was
    lost (a person in view, no head angle) right after or before a reading well on the way
    to that direction's peak.

    ``series`` holds the per-frame angles with NaN where the head was not measured (not
    interpolated across the loss); ``head_lost`` marks the frames where it was lost.
    """
    lost = np.asarray(head_lost, dtype=bool)
    if not lost.any():
        return {}
    out: dict[str, float] = {}
    for key, (positive, negative) in ANGLE_DIRECTIONS.items():
        x = series[key] - neutral.values_deg[key]
        edges = _readings_beside_losses(x, lost)
        for sign, rom_key in ((1.0, positive), (-1.0, negative)):
            peak = rom.get(rom_key)
            near = sign * edges
            threshold = max(MIN_EXCURSION_DEG, LOST_NEAR_PEAK_FRACTION * (peak or 0.0))
            last_seen = float(np.nanmax(near, initial=-np.inf)) if near.size else -np.inf
            if last_seen >= threshold:
                out[rom_key] = round(max(peak or 0.0, last_seen), 1)
    return {k: out[k] for k in ROM_KEYS if k in out}


def _readings_beside_losses(x: Array, lost: Array) -> Array:
    """The last finite reading before, and the first after, each run of lost frames."""
    finite = np.isfinite(x)
    idx = np.flatnonzero(finite)
    if not idx.size:
        return np.array([])
    starts = np.flatnonzero(lost & ~np.r_[False, lost[:-1]])
    ends = np.flatnonzero(lost & ~np.r_[lost[1:], False])
    values = []
    for a, b in zip(starts, ends, strict=True):
        before = idx[idx < a]
        after = idx[idx > b]
        if before.size:
            values.append(x[before[-1]])
        if after.size:
            values.append(x[after[0]])
    return np.array(values, dtype=float)
