"""The flexion-rotation test (FRT) from a recording's per-frame head angles.

The person holds the chin on the chest and turns the head each way. Each frame's contract
angles are read in the test's own order (posture.geometry.rotations.frt_angles: flexion
first, then rotation about the flexed head's axis), and the test's rotation each way is
the largest turn while the neck is held flexed. A self-held, active approximation of the
therapist's passive test (docs/clinical.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.geometry.rotations import frt_angles

# The neck counts as held flexed at this much flexion (read in the test's order) or more.
FRT_MIN_FLEXION_DEG = 30.0
# A held flexion shorter than this is a nod, not the test.
FRT_MIN_HOLD_S = 2.0
# A side whose turn is smaller than this while flexed was not tested.
FRT_MIN_TURN_DEG = 10.0
# Frames further apart than this are not one hold.
HOLD_GAP_S = 0.5
HEAD_KEYS = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")


@dataclass(frozen=True)
class FrtMeasurement:
    """Rotation each way (deg, None = that side not tested) with the neck held flexed, the
    median flexion held, and how long it was held (s)."""

    rotation_left_deg: float | None
    rotation_right_deg: float | None
    flexion_held_deg: float
    held_s: float


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def measure_frt(frames: Sequence[Mapping[str, Any]]) -> FrtMeasurement | None:
    """The FRT from per-frame head angles (report frames: ``t``, ``head_rotation_deg``,
    ``head_flexion_deg``, ``head_lateral_flexion_deg``); None when the neck was not held
    flexed for :data:`FRT_MIN_HOLD_S` or no side was turned."""
    held: list[tuple[float, float, float]] = []  # (t, flexion, rotation) while flexed
    for f in frames:
        t = _number(f.get("t"))
        angles = [_number(f.get(k)) for k in HEAD_KEYS]
        if t is None or any(a is None for a in angles):
            continue
        rot, flex, lat = (float(a) for a in angles if a is not None)
        flexion, rotation, _ = frt_angles(rot, flex, lat)
        if flexion >= FRT_MIN_FLEXION_DEG:
            held.append((t, flexion, rotation))
    held_s = sum(
        b[0] - a[0] for a, b in zip(held, held[1:], strict=False) if b[0] - a[0] <= HOLD_GAP_S
    )
    if held_s < FRT_MIN_HOLD_S:
        return None
    left = max(r for _, _, r in held)
    right = -min(r for _, _, r in held)
    flexions = sorted(f for _, f, _ in held)
    result = FrtMeasurement(
        round(left, 1) if left >= FRT_MIN_TURN_DEG else None,
        round(right, 1) if right >= FRT_MIN_TURN_DEG else None,
        round(flexions[len(flexions) // 2], 1),
        round(held_s, 2),
    )
    if result.rotation_left_deg is None and result.rotation_right_deg is None:
        return None
    return result
