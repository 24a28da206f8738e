"""The one table of what the tool reports: every measure's key, its names, and for each
range-of-motion direction the per-frame angle it comes from and the sign of its excursion.

Every other table (ROM keys, labels in tables, charts and the PDF, words in findings and
warnings, the live protocol's steps, key frames) is derived from these. Imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RomKey = Literal[
    "rotation_left_deg",
    "rotation_right_deg",
    "flexion_deg",
    "extension_deg",
    "lateral_flexion_left_deg",
    "lateral_flexion_right_deg",
]
Movement = Literal["rotation", "flexion", "extension", "lateral_flexion"]


@dataclass(frozen=True)
class Measure:
    """A value in the report's summary.

    Attributes:
        key: its key in the report (``summary`` or ``summary.rom``).
        label: its heading in tables, charts and the PDF for clinicians (technical).
        description: how a sentence names it (findings).
        patient_label: its heading on patient pages and the patient PDF (plain words).
    """

    key: str
    label: str
    description: str
    patient_label: str


@dataclass(frozen=True)
class RomDirection(Measure):
    """One direction of neck range of motion.

    Attributes:
        angle: the per-frame head angle it is measured on.
        sign: +1 when the angle grows from neutral in this direction, -1 when it falls.
        movement: the movement it belongs to (norms are given per movement).
        phrase: the movement as a sentence starts (warnings).
    """

    key: RomKey
    angle: str
    sign: float
    movement: Movement
    phrase: str


POSTURE_MEASURES: tuple[Measure, ...] = (
    Measure("cva_deg", "Craniovertebral angle", "craniovertebral angle (CVA)",
            "How far your head sits forward"),
    Measure("head_tilt_deg", "Head tilt (+ = left eye lower)", "head tilt",
            "Head tipped to one side"),
    Measure("shoulder_tilt_deg", "Shoulder tilt (+ = left shoulder lower)", "shoulder tilt",
            "One shoulder lower than the other"),
)  # fmt: skip

ROM_DIRECTIONS: tuple[RomDirection, ...] = (
    RomDirection("rotation_left_deg", "Rotation left", "turning the head to the left",
                 "Turning your head to the left",
                 "head_rotation_deg", 1.0, "rotation", "Turning the head to the left"),
    RomDirection("rotation_right_deg", "Rotation right", "turning the head to the right",
                 "Turning your head to the right",
                 "head_rotation_deg", -1.0, "rotation", "Turning the head to the right"),
    RomDirection("flexion_deg", "Flexion", "bending the head forward (chin to chest)",
                 "Bending your head forward",
                 "head_flexion_deg", 1.0, "flexion", "Bending the head forward"),
    RomDirection("extension_deg", "Extension", "bending the head back",
                 "Bending your head back",
                 "head_flexion_deg", -1.0, "extension", "Bending the head back"),
    RomDirection("lateral_flexion_left_deg", "Lateral flexion left",
                 "tilting the head toward the left shoulder",
                 "Tilting your head to the left",
                 "head_lateral_flexion_deg", 1.0, "lateral_flexion",
                 "Tilting the head to the left"),
    RomDirection("lateral_flexion_right_deg", "Lateral flexion right",
                 "tilting the head toward the right shoulder",
                 "Tilting your head to the right",
                 "head_lateral_flexion_deg", -1.0, "lateral_flexion",
                 "Tilting the head to the right"),
)  # fmt: skip


# -- derived views ---------------------------------------------------------------------------

ROM_KEYS: tuple[RomKey, ...] = tuple(d.key for d in ROM_DIRECTIONS)
ROM_BY_KEY: dict[str, RomDirection] = {d.key: d for d in ROM_DIRECTIONS}
# Per-frame angle -> (the direction it grows into, the direction it falls into).
ANGLE_DIRECTIONS: dict[str, tuple[RomKey, RomKey]] = {
    up.angle: (up.key, down.key)
    for up in ROM_DIRECTIONS
    if up.sign > 0
    for down in ROM_DIRECTIONS
    if down.angle == up.angle and down.sign < 0
}
ROM_LABELS: dict[str, str] = {d.key: d.label for d in ROM_DIRECTIONS}
POSTURE_LABELS: dict[str, str] = {m.key: m.label for m in POSTURE_MEASURES}
Audience = Literal["patient", "clinician"]


def rom_labels(audience: Audience) -> dict[str, str]:
    """Each direction's heading: plain words for patients, technical for clinicians."""
    return {d.key: d.patient_label if audience == "patient" else d.label for d in ROM_DIRECTIONS}


def posture_labels(audience: Audience) -> dict[str, str]:
    """Each posture value's heading: plain words for patients, technical for clinicians."""
    return {m.key: m.patient_label if audience == "patient" else m.label for m in POSTURE_MEASURES}


# Per-frame angles as charts label them (the head angles' sign convention in the label).
FRAME_ANGLE_LABELS: dict[str, str] = {
    "head_rotation_deg": "Rotation (+ left)",
    "head_flexion_deg": "Flexion (+ chin to chest)",
    "head_lateral_flexion_deg": "Lateral flexion (+ left ear down)",
    "cva_deg": POSTURE_LABELS["cva_deg"],
}
PATIENT_FRAME_ANGLE_LABELS: dict[str, str] = {
    "head_rotation_deg": "Turning (up = to the left)",
    "head_flexion_deg": "Bending (up = forward)",
    "head_lateral_flexion_deg": "Tilting (up = to the left)",
    "cva_deg": "How far your head sits forward (lower = further)",
}
# Movements measured on both sides: movement -> (left direction, right direction).
SIDE_PAIRS: dict[str, tuple[RomKey, RomKey]] = {
    left.movement: (left.key, right.key)
    for left in ROM_DIRECTIONS
    for right in ROM_DIRECTIONS
    if left.movement == right.movement and left.sign > 0 > right.sign
}
# How sentences name every summary value (posture first, then range of motion).
DESCRIPTIONS: dict[str, str] = {m.key: m.description for m in (*POSTURE_MEASURES,
                                                                 *ROM_DIRECTIONS)}  # fmt: skip
