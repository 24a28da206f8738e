"""Cleaning of angle time series, in the field's order: fill short gaps, reject
outliers (Hampel), then a zero-phase low-pass, each stretch without missing
values on its own. Times are seconds and need not be evenly spaced.

Missing samples are NaN, never 0 (0 deg is neutral).
"""

from __future__ import annotations

import math

import numpy as np

from posture.arrays import Array


def _finite_runs(mask: Array) -> list[tuple[int, int]]:
    """(start, stop) index pairs of consecutive True values."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2], strict=True))


def fill_short_gaps(t_s: Array, x: Array, max_gap_s: float) -> Array:
    """Linear interpolation across NaN gaps whose valid neighbours are <= max_gap_s apart."""
    y = x.astype(float).copy()
    finite = np.isfinite(y)
    for start, stop in _finite_runs(~finite):
        if start == 0 or stop == len(y):
            continue  # never extrapolate at the ends
        if t_s[stop] - t_s[start - 1] <= max_gap_s:
            y[start:stop] = np.interp(
                t_s[start:stop], [t_s[start - 1], t_s[stop]], [y[start - 1], y[stop]]
            )
    return y


def hampel(t_s: Array, x: Array, window_s: float, n_sigmas: float = 3.0) -> Array:
    """Replace samples further than n_sigmas robust SDs from the local median (window in s)."""
    y = x.astype(float).copy()
    half = window_s / 2
    lo = np.searchsorted(t_s, t_s - half, side="left")
    hi = np.searchsorted(t_s, t_s + half, side="right")
    for i in np.flatnonzero(np.isfinite(x)):
        w = x[lo[i] : hi[i]]
        w = w[np.isfinite(w)]
        if w.size < 3:
            continue
        med = float(np.median(w))
        mad = 1.4826 * float(np.median(np.abs(w - med)))
        if mad > 0 and abs(x[i] - med) > n_sigmas * mad:
            y[i] = med
    return y


def lowpass_zero_phase(t_s: Array, x: Array, cutoff_hz: float, order: int = 2) -> Array:
    """Butterworth low-pass run forwards and backwards (no lag), per NaN-free stretch.

    Uneven sampling is handled by resampling each stretch onto an even grid at its
    median interval, filtering, and interpolating back to the original times.
    Stretches too short to filter are returned unchanged.
    """
    # Imported here: scipy.signal takes ~0.9 s to import, which every process
    # analysing part of a video (posture.runners.chunked) would pay without needing it.
    from scipy.signal import butter, sosfiltfilt

    y = x.astype(float).copy()
    for start, stop in _finite_runs(np.isfinite(y)):
        if stop - start < 4:
            continue
        ts, xs = t_s[start:stop], y[start:stop]
        dt = float(np.median(np.diff(ts)))
        if dt <= 0:
            continue
        fs = 1.0 / dt
        if cutoff_hz >= 0.45 * fs:
            continue  # nothing to remove at this sampling rate
        grid = np.arange(ts[0], ts[-1] + dt / 2, dt)
        xg = np.interp(grid, ts, xs)
        sos = butter(order, cutoff_hz, btype="low", fs=fs, output="sos")
        padlen = min(3 * (2 * len(sos) + 1), len(grid) - 1)
        if padlen < 1:
            continue
        yg = sosfiltfilt(sos, xg, padlen=padlen)
        y[start:stop] = np.interp(ts, grid, yg)
    return y


def clean_series(
    t_s: Array,
    x: Array,
    max_gap_s: float = 0.3,
    hampel_window_s: float = 0.5,
    cutoff_hz: float = 3.0,
) -> Array:
    """Gap fill -> Hampel -> zero-phase low-pass. Samples missing before and not
    filled stay NaN. ``cutoff_hz`` 3 Hz keeps voluntary neck movement (< 1.5 Hz)."""
    filled = fill_short_gaps(t_s, x, max_gap_s)
    return lowpass_zero_phase(t_s, hampel(t_s, filled, hampel_window_s), cutoff_hz)


class OneEuroFilter:
    """Causal, timestamped One Euro filter (Casiez et al. 2012) for live angles.

    Args:
        min_cutoff_hz: cutoff when the angle is still; lower = steadier, more lag.
        beta: speed coefficient in 1/(deg/s); higher = less lag when moving fast.
        d_cutoff_hz: cutoff for the speed estimate.

    NaN input returns NaN and resets the filter (a gap is not smoothed over).
    Times must increase; an out-of-order time raises ValueError.
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.05, d_cutoff_hz: float = 1.0):
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._t: float | None = None
        self._x: float | None = None
        self._dx = 0.0

    @staticmethod
    def _alpha(dt_s: float, cutoff_hz: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff_hz)
        return 1.0 / (1.0 + tau / dt_s)

    def reset(self) -> None:
        self._t, self._x, self._dx = None, None, 0.0

    def __call__(self, t_s: float, x: float | None) -> float:
        if x is None or not math.isfinite(x):
            self.reset()
            return math.nan
        if self._t is None or self._x is None:
            self._t, self._x = t_s, x
            return x
        dt = t_s - self._t
        if dt <= 0:
            raise ValueError(f"time went backwards or stood still: {self._t} -> {t_s} s")
        dx = (x - self._x) / dt
        self._dx += self._alpha(dt, self.d_cutoff_hz) * (dx - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * abs(self._dx)
        self._x += self._alpha(dt, cutoff) * (x - self._x)
        self._t = t_s
        return self._x
