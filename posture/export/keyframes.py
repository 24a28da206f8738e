"""Key moments of a recording (neutral and the peak of each movement) and their frames."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import numpy as np

from posture.arrays import Array
from posture.measures import ROM_DIRECTIONS, ROM_LABELS


@dataclass(frozen=True)
class KeyMoment:
    """A moment worth a still: 'neutral' or a ROM direction at its peak."""

    key: str  # 'neutral' or a ROM key
    label: str
    t_s: float
    value_deg: float | None  # the ROM value (excursion from neutral); None for neutral


def key_moments(report: Mapping[str, Any]) -> list[KeyMoment]:
    """Neutral, then the peak of each measured ROM direction, in the report's frame times."""
    frames = report.get("frames") or []
    if not frames:
        return []
    if (report.get("input") or {}).get("kind") == "image":
        return [KeyMoment("photo", "Photo", float(frames[0]["t"]), None)]
    out: list[KeyMoment] = []
    neutral = report.get("neutral") or None
    if neutral and neutral.get("t_start_s") is not None:
        mid = 0.5 * (neutral["t_start_s"] + neutral["t_end_s"])
        out.append(KeyMoment("neutral", "Neutral", float(mid), None))
    rom = (report.get("summary") or {}).get("rom") or {}
    t = np.array([f["t"] for f in frames], dtype=float)
    for direction in ROM_DIRECTIONS:
        key, angle, sign = direction.key, direction.angle, direction.sign
        value = rom.get(key)
        if value is None:
            continue
        x = np.array([np.nan if f.get(angle) is None else f[angle] for f in frames], dtype=float)
        if not np.isfinite(x).any():
            continue
        i = int(np.nanargmax(sign * x))
        out.append(KeyMoment(key, f"{ROM_LABELS[key]} (peak)", float(t[i]), float(value)))
    return out


def extract_frames(
    video_path: str | os.PathLike[str], times_s: Sequence[float]
) -> list[Array | None]:
    """The RGB frame nearest each time (one decoding pass); None when the video has none."""
    import av

    targets = np.asarray(times_s, dtype=float)
    best: list[Array | None] = [None] * len(targets)
    best_dt = np.full(len(targets), np.inf)
    if len(targets) == 0:
        return best
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * cast(Fraction, stream.time_base))  # set for a demuxed stream
            dt = np.abs(targets - t)
            closer = dt < best_dt
            if closer.any():
                rgb = frame.to_ndarray(format="rgb24")
                for i in np.flatnonzero(closer):
                    best[i], best_dt[i] = rgb, dt[i]
            if t > targets.max() + 1.0:
                break
    return best
