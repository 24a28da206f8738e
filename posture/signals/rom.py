"""Neutral detection and range of motion (peak excursion from neutral)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def find_neutral(t_s: np.ndarray, series: dict[str, np.ndarray]) -> Neutral | None:
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


ROM_KEYS = (
    "rotation_left_deg",
    "rotation_right_deg",
    "flexion_deg",
    "extension_deg",
    "lateral_flexion_left_deg",
    "lateral_flexion_right_deg",
)


def range_of_motion(series: dict[str, np.ndarray], neutral: Neutral) -> dict[str, float | None]:
    """Peak excursion from neutral per direction (positive degrees), None if not performed."""
    out: dict[str, float | None] = dict.fromkeys(ROM_KEYS)
    pairs = {
        "head_rotation_deg": ("rotation_left_deg", "rotation_right_deg"),
        "head_flexion_deg": ("flexion_deg", "extension_deg"),
        "head_lateral_flexion_deg": ("lateral_flexion_left_deg", "lateral_flexion_right_deg"),
    }
    for key, (positive, negative) in pairs.items():
        x = series[key] - neutral.values_deg[key]
        if not np.isfinite(x).any():
            continue
        peak_pos = float(np.nanmax(x))
        peak_neg = float(-np.nanmin(x))
        out[positive] = round(peak_pos, 1) if peak_pos >= MIN_EXCURSION_DEG else None
        out[negative] = round(peak_neg, 1) if peak_neg >= MIN_EXCURSION_DEG else None
    return out
