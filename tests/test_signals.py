"""Filtering, neutral and range of motion on series with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture.signals.filters import (
    OneEuroFilter,
    clean_series,
    fill_short_gaps,
    hampel,
    lowpass_zero_phase,
)
from posture.signals.rom import HEAD_KEYS, MIN_EXCURSION_DEG, find_neutral, range_of_motion


def uneven_times(duration_s: float, fps: float = 30.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = 1 / fps * rng.uniform(0.7, 1.3, int(duration_s * fps))
    return np.cumsum(dt)


def test_short_gap_is_interpolated_long_gap_stays_missing():
    t = np.arange(0, 3, 1 / 30)
    x = 2.0 * t
    x[10:14] = np.nan  # 0.17 s
    x[40:80] = np.nan  # 1.3 s
    y = fill_short_gaps(t, x, max_gap_s=0.3)
    assert np.allclose(y[10:14], 2.0 * t[10:14])
    assert np.isnan(y[40:80]).all()


def test_gap_at_the_ends_is_not_extrapolated():
    t = np.arange(0, 1, 0.1)
    x = np.ones_like(t)
    x[:2] = np.nan
    assert np.isnan(fill_short_gaps(t, x, 1.0)[:2]).all()


def test_hampel_replaces_a_spike_and_keeps_a_ramp():
    t = np.arange(0, 2, 1 / 30)
    x = 10 * t
    x[30] = 80.0
    y = hampel(t, x, window_s=0.5)
    assert y[30] == pytest.approx(10 * t[30], abs=1.0)
    assert np.allclose(np.delete(y, 30), np.delete(x, 30))


def test_zero_phase_lowpass_keeps_slow_movement_peak_on_uneven_times():
    t = uneven_times(8.0)
    truth = 60 * np.sin(2 * np.pi * 0.25 * t)  # a slow rotation, 4 s per cycle
    rng = np.random.default_rng(1)
    y = lowpass_zero_phase(t, truth + rng.normal(0, 2.0, t.size), cutoff_hz=3.0)
    assert np.max(y) == pytest.approx(60, abs=1.5)
    assert np.sqrt(np.mean((y - truth) ** 2)) < 1.0  # noise SD 2 deg -> < 1 deg


def test_lowpass_runs_per_stretch_and_keeps_nan():
    t = np.arange(0, 4, 1 / 30)
    x = np.sin(t)
    x[50:70] = np.nan
    y = lowpass_zero_phase(t, x, 3.0)
    assert np.isnan(y[50:70]).all()
    assert np.isfinite(y[:50]).all() and np.isfinite(y[70:]).all()


def test_clean_series_of_all_missing_is_all_missing():
    t = np.arange(0, 1, 0.1)
    assert np.isnan(clean_series(t, np.full_like(t, np.nan))).all()


def test_one_euro_smooths_still_signal_and_follows_motion():
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.05)
    rng = np.random.default_rng(2)
    t = np.arange(0, 2, 1 / 30)
    still = [f(ti, 10 + rng.normal(0, 1.0)) for ti in t]
    assert np.std(still[15:]) < 0.5
    moving = [f(2 + ti, 10 + 60 * ti) for ti in t]
    assert moving[-1] == pytest.approx(10 + 60 * t[-1], abs=8)


def test_one_euro_refuses_time_going_backwards_and_resets_on_nan():
    f = OneEuroFilter()
    f(1.0, 5.0)
    with pytest.raises(ValueError, match="backwards"):
        f(0.5, 5.0)
    assert math.isnan(f(2.0, None))
    assert f(2.1, 30.0) == 30.0  # a gap is not smoothed over


def _protocol(t: np.ndarray, peaks: dict[str, float], neutral: dict[str, float]):
    """Neutral hold 2 s, then one smooth excursion per direction, 2 s each."""
    series = {k: np.full(t.size, neutral[k]) for k in HEAD_KEYS}
    moves = [
        ("head_rotation_deg", peaks["rotation_left_deg"]),
        ("head_rotation_deg", -peaks["rotation_right_deg"]),
        ("head_flexion_deg", peaks["flexion_deg"]),
        ("head_flexion_deg", -peaks["extension_deg"]),
        ("head_lateral_flexion_deg", peaks["lateral_flexion_left_deg"]),
        ("head_lateral_flexion_deg", -peaks["lateral_flexion_right_deg"]),
    ]
    for i, (key, peak) in enumerate(moves):
        start = 2.0 + 2.0 * i
        inside = (t >= start) & (t < start + 2.0)
        series[key][inside] += peak * np.sin(np.pi * (t[inside] - start) / 2.0) ** 2
    return series


PEAKS = {
    "rotation_left_deg": 70.0,
    "rotation_right_deg": 62.0,
    "flexion_deg": 45.0,
    "extension_deg": 55.0,
    "lateral_flexion_left_deg": 38.0,
    "lateral_flexion_right_deg": 30.0,
}


def test_rom_is_peak_excursion_from_a_non_zero_neutral():
    t = uneven_times(15.0)
    neutral = {"head_rotation_deg": 4.0, "head_flexion_deg": -6.0, "head_lateral_flexion_deg": 2.0}
    series = _protocol(t, PEAKS, neutral)
    rng = np.random.default_rng(3)
    noisy = {k: v + rng.normal(0, 0.8, t.size) for k, v in series.items()}
    clean = {k: clean_series(t, v) for k, v in noisy.items()}
    found = find_neutral(t, clean)
    assert found is not None and found.source == "still period"
    assert found.values_deg["head_flexion_deg"] == pytest.approx(-6.0, abs=0.5)
    rom = range_of_motion(clean, found)
    for k, v in PEAKS.items():
        assert rom[k] == pytest.approx(v, abs=1.5), k


def test_movement_not_performed_is_none_not_zero():
    t = np.arange(0, 6, 1 / 30)
    neutral = dict.fromkeys(HEAD_KEYS, 0.0)
    peaks = dict(PEAKS, rotation_left_deg=0.0, flexion_deg=MIN_EXCURSION_DEG / 2)
    series = _protocol(t, peaks, neutral)
    rom = range_of_motion(series, find_neutral(t, series))
    assert rom["rotation_left_deg"] is None
    assert rom["flexion_deg"] is None


def test_no_still_start_falls_back_to_first_second():
    t = np.arange(0, 6, 1 / 30)
    series = {k: 20 * np.sin(2 * np.pi * 0.5 * t) for k in HEAD_KEYS}
    n = find_neutral(t, series)
    assert n is not None and n.source == "start of recording"


def test_neutral_is_none_without_head_angles():
    t = np.arange(0, 3, 0.1)
    assert find_neutral(t, {k: np.full(t.size, np.nan) for k in HEAD_KEYS}) is None


def _turn_series(t: np.ndarray, peak_deg: float, lost_above_deg: float | None):
    """A head turn to ``peak_deg`` and back; readings past ``lost_above_deg`` are lost."""
    x = peak_deg * np.sin(np.pi * np.clip((t - 1.0) / 3.0, 0, 1)) ** 2
    lost = np.zeros(t.size, bool) if lost_above_deg is None else x > lost_above_deg
    seen = np.where(lost, np.nan, x)
    series = {k: np.zeros_like(t) for k in HEAD_KEYS}
    series["head_rotation_deg"] = seen
    return series, lost


def test_direction_lost_near_its_peak_is_at_least_the_last_reading():
    from posture.signals.rom import directions_at_limit

    t = np.arange(0, 5, 1 / 30)
    series, lost = _turn_series(t, 85.0, lost_above_deg=58.0)
    neutral = find_neutral(t, series)
    rom = range_of_motion(series, neutral)
    bounds = directions_at_limit(series, neutral, lost, rom)
    assert set(bounds) == {"rotation_left_deg"}
    # The bound is what was seen (just under 58), never the unseen 85 or an interpolation.
    assert 55.0 <= bounds["rotation_left_deg"] <= 58.0


def test_followed_turn_and_a_brief_early_loss_are_not_at_least():
    from posture.signals.rom import directions_at_limit

    t = np.arange(0, 5, 1 / 30)
    series, lost = _turn_series(t, 85.0, lost_above_deg=None)
    neutral = find_neutral(t, series)
    rom = range_of_motion(series, neutral)
    assert directions_at_limit(series, neutral, lost, rom) == {}
    # Lost for three frames at ~15 deg on the way to a followed 85 deg peak.
    i = int(np.argmax(series["head_rotation_deg"] > 15.0))
    lost[i : i + 3] = True
    series["head_rotation_deg"][i : i + 3] = np.nan
    assert directions_at_limit(series, neutral, lost, rom) == {}
