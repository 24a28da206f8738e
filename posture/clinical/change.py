"""Left-right asymmetry and real change between sessions, judged against measurement error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from posture.clinical.fitness import unfit_measures
from posture.measures import ROM_KEYS, SIDE_PAIRS

# Our own measurement error (deg) until the accuracy benchmark replaces it. It is compared
# with the literature MDC, so once measured it should be our MDC95 from repeated recordings
# (1.96 * sqrt(2) * SEM), not a single-recording mean absolute error.
DEFAULT_MEASURED_ERROR_DEG = 5.0

# Literature minimal detectable change (deg). CVA: ~5 for a smartphone forward-head app.
# ROM: 5.4 is the low end of the CROM MDC (5.4-9.6, Audette 2008; 3.5-6.8, Anwar 2022),
# matching the reference's practical rule "about 5 deg for ROM and CVA".
LITERATURE_MDC_DEG: dict[str, float] = {"cva_deg": 5.0, **dict.fromkeys(ROM_KEYS, 5.4)}
MDC_SOURCES: dict[str, tuple[str, ...]] = {
    "cva_deg": ("cva_app_mdc",),
    **dict.fromkeys(ROM_KEYS, ("audette2008", "anwar2022")),
}
# Product rule: a left-right difference of at least 10 deg (>= the top of the CROM MDC range,
# 9.6 deg, Audette 2008; the FRT's side-difference figure in secondary sources) is reported.
ASYMMETRY_MIN_DEG = 10.0

ChangeStatus = Literal["improved", "worse", "within measurement error"]
ErrorDeg = float | Mapping[str, float]


def error_for(metric: str, measured_error_deg: ErrorDeg) -> float:
    """Our measured error for a metric: one number for all, or a per-metric mapping."""
    if isinstance(measured_error_deg, Mapping):
        return float(measured_error_deg.get(metric, DEFAULT_MEASURED_ERROR_DEG))
    return float(measured_error_deg)


def change_threshold_deg(metric: str, measured_error_deg: ErrorDeg) -> float:
    """max(literature MDC, our measured error) for a metric."""
    return max(LITERATURE_MDC_DEG[metric], error_for(metric, measured_error_deg))


@dataclass(frozen=True)
class Change:
    """One metric compared between a previous and the current session."""

    metric: str
    previous_deg: float
    current_deg: float
    delta_deg: float  # current - previous
    threshold_deg: float
    status: ChangeStatus


def real_change(
    metric: str,
    previous_deg: float | None,
    current_deg: float | None,
    measured_error_deg: ErrorDeg = DEFAULT_MEASURED_ERROR_DEG,
) -> Change | None:
    """Improved / worse / within measurement error; None when either value is missing.

    Larger is better for every metric compared here (CVA: more upright; ROM: more movement).
    A change equal to the threshold counts as real.
    """
    if previous_deg is None or current_deg is None:
        return None
    threshold = change_threshold_deg(metric, measured_error_deg)
    # Compared at the report's 0.1 deg precision, so that 55.4 - 50.0 is 5.4, not 5.3999.
    delta = round(float(current_deg) - float(previous_deg), 1)
    status: ChangeStatus
    if abs(delta) < threshold:
        status = "within measurement error"
    else:
        status = "improved" if delta > 0 else "worse"
    return Change(metric, float(previous_deg), float(current_deg), delta, threshold, status)


def summary_values(report: Mapping[str, Any]) -> dict[str, float | None]:
    """CVA and ROM values of a report that findings may act on (None where not measured;
    NaN and non-numbers -> None). A ROM value that is only a lower bound ("at least", see
    :func:`at_least_values`) is None here: no label, asymmetry or change is built on it;
    so is a value from a recording that cannot support a finding about it
    (:func:`posture.clinical.fitness.unfit_measures`)."""
    summary = report.get("summary") or {}
    rom = summary.get("rom") or {}
    bounded = at_least_values(report)
    unfit = unfit_measures(report)
    out = {"cva_deg": number_or_none(summary.get("cva_deg"))}
    out.update({k: None if k in bounded else number_or_none(rom.get(k)) for k in ROM_KEYS})
    return {k: None if k in unfit else v for k, v in out.items()}


def at_least_values(report: Mapping[str, Any]) -> dict[str, float]:
    """ROM directions whose value is a lower bound: the head moved further than the camera
    could follow (``summary.rom_at_least``), with that bound in degrees."""
    summary = report.get("summary") or {}
    rom = summary.get("rom") or {}
    keys = summary.get("rom_at_least") or []
    out = {}
    for k in keys if isinstance(keys, list) else []:
        v = number_or_none(rom.get(k)) if k in ROM_KEYS else None
        if v is not None:
            out[k] = v
    return out


def number_or_none(v: Any) -> float | None:
    """A finite number as float, anything else (None, NaN, bool, text) as None."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    f = float(v)
    return f if f == f and abs(f) != float("inf") else None


def compare_reports(
    current: Mapping[str, Any],
    previous: Mapping[str, Any],
    measured_error_deg: ErrorDeg = DEFAULT_MEASURED_ERROR_DEG,
) -> list[Change]:
    """Changes for every metric measured in both reports (CVA first, then ROM)."""
    now, before = summary_values(current), summary_values(previous)
    changes = (real_change(k, before[k], now[k], measured_error_deg) for k in now)
    return [c for c in changes if c is not None]


@dataclass(frozen=True)
class Asymmetry:
    """Left vs right for one movement ('rotation' or 'lateral_flexion')."""

    movement: str
    left_deg: float
    right_deg: float
    difference_deg: float  # left - right
    threshold_deg: float

    @property
    def asymmetric(self) -> bool:
        return abs(self.difference_deg) >= self.threshold_deg

    @property
    def smaller_side(self) -> str | None:
        """The side that moved less, when the difference is beyond the threshold."""
        if not self.asymmetric:
            return None
        return "left" if self.difference_deg < 0 else "right"


def asymmetry(
    movement: str,
    left_deg: float | None,
    right_deg: float | None,
    measured_error_deg: ErrorDeg = DEFAULT_MEASURED_ERROR_DEG,
) -> Asymmetry | None:
    """Left-right difference; None when a side is missing. Threshold: max(10 deg, our error)."""
    if left_deg is None or right_deg is None:
        return None
    left_key, _ = SIDE_PAIRS[movement]
    threshold = max(ASYMMETRY_MIN_DEG, error_for(left_key, measured_error_deg))
    diff = round(float(left_deg) - float(right_deg), 1)
    return Asymmetry(movement, float(left_deg), float(right_deg), diff, threshold)
