"""The flexion-rotation test: its own decomposition and its measurement from per-frame
head angles (synthetic recordings whose true angles are known)."""

from __future__ import annotations

import numpy as np
import pytest

from posture.clinical import build_findings
from posture.geometry.rotations import (
    compose_flexed_rotation,
    decompose_flexed_rotation,
    decompose_head_angles,
    frt_angles,
)
from posture.measures import ROM_KEYS
from posture.signals.frt import measure_frt


def test_the_contract_order_misreads_a_turn_at_full_flexion():
    """The issue's case: a 28 deg turn at 45 deg of flexion."""
    r = compose_flexed_rotation(45.0, 28.0)
    rotation, flexion, lateral = decompose_head_angles(r)
    assert (rotation, flexion, lateral) == pytest.approx((36.9, 38.6, -25.1), abs=0.1)
    assert frt_angles(rotation, flexion, lateral) == pytest.approx((45.0, 28.0, 0.0), abs=1e-9)


@pytest.mark.parametrize(
    "angles", [(45.0, 28.0, 0.0), (40.0, -44.0, 0.0), (50.0, 20.0, 5.0), (0.0, 60.0, -10.0)]
)
def test_the_flexed_rotation_decomposition_round_trips(angles):
    assert decompose_flexed_rotation(compose_flexed_rotation(*angles)) == pytest.approx(angles)


FPS = 30.0


def _frames(script) -> list[dict]:
    """Per-frame contract angles of a head following ``script(t) -> (flexion, rotation)``
    in the test's order."""
    out = []
    for t in np.arange(0.0, 16.0, 1 / FPS):
        flexion, rotation = script(float(t))
        rot, flex, lat = decompose_head_angles(compose_flexed_rotation(flexion, rotation))
        out.append({"t": round(float(t), 4), "valid": True, "head_rotation_deg": rot,
                    "head_flexion_deg": flex, "head_lateral_flexion_deg": lat})  # fmt: skip
    return out


def _ramp(t: float, t0: float, t1: float) -> float:
    return float(np.clip((t - t0) / (t1 - t0), 0.0, 1.0))


def _frt(left_deg: float, right_deg: float):
    """Still 2 s; chin to chest (45 deg) by 3 s; turn left and back (3-7 s), right and
    back (7-11 s); up again by 12 s."""

    def script(t: float) -> tuple[float, float]:
        flexion = 45.0 * (_ramp(t, 2, 3) - _ramp(t, 11, 12))
        rotation = left_deg * np.sin(np.pi * _ramp(t, 3, 7)) - right_deg * np.sin(
            np.pi * _ramp(t, 7, 11)
        )
        return flexion, float(rotation)

    return script


def test_the_test_is_measured_about_the_flexed_heads_own_axis():
    m = measure_frt(_frames(_frt(28.0, 40.0)))
    assert m is not None
    assert m.rotation_left_deg == pytest.approx(28.0, abs=0.2)
    assert m.rotation_right_deg == pytest.approx(40.0, abs=0.2)
    assert m.flexion_held_deg == pytest.approx(45.0, abs=0.5) and m.held_s >= 7.0
    # Read in the contract's order the positive left side (28 < 32) would look negative.
    contract_left = max(f["head_rotation_deg"] for f in _frames(_frt(28.0, 40.0)))
    assert contract_left > 32.0


def test_no_test_without_a_held_flexion_or_a_turn():
    nod = _frames(lambda t: (45.0 * (_ramp(t, 2, 2.5) - _ramp(t, 3.0, 3.5)), 30.0))  # 1 s
    assert measure_frt(nod) is None
    chin_down_only = _frames(lambda t: (45.0 * _ramp(t, 2, 3), 2.0))  # the ROM flexion step
    assert measure_frt(chin_down_only) is None
    upright_turns = _frames(lambda t: (0.0, 60.0 * np.sin(t)))  # rotation ROM, no flexion
    assert measure_frt(upright_turns) is None


def _report(frames, source="still period") -> dict:
    return {
        "input": {"kind": "video"},
        "frames": frames,
        "neutral": {
            "source": source,
            "head_rotation_deg": 0.0,
            "head_flexion_deg": 0.0,
            "head_lateral_flexion_deg": 0.0,
        },  # fmt: skip
        "summary": {
            "cva_deg": None,
            "head_tilt_deg": None,
            "shoulder_tilt_deg": None,
            "rom": dict.fromkeys(ROM_KEYS),
        },  # fmt: skip
        "quality": {"valid_frame_fraction": 1.0, "warnings": []},
    }


def test_a_recorded_test_gives_its_finding_only_from_a_detected_neutral():
    frames = _frames(_frt(28.0, 44.0))
    (frt,) = [f for f in build_findings(_report(frames)) if f["id"] == "frt"]
    assert "left" in frt["clinician_text"] and "28" in frt["clinician_text"]
    assert frt["severity"] == "attention"
    guessed = build_findings(_report(frames, source="start of recording"))
    assert not [f for f in guessed if f["id"] == "frt"]
