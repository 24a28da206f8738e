"""One frame's landmarks -> the contract's angles for that frame."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from posture.geometry.head import eye_centres_px, head_frame_from_face
from posture.geometry.posture_angles import cva_deg, head_tilt_deg, shoulder_tilt_deg
from posture.geometry.rotations import FACING_CAMERA, decompose_head_angles
from posture.geometry.trunk import View, classify_view, trunk_frame
from posture.landmarks.types import LEFT_EYE, RIGHT_EYE, FrameLandmarks

Reference = Literal["trunk", "camera"]
ANGLE_KEYS: tuple[str, ...] = (
    "cva_deg",
    "head_rotation_deg",
    "head_flexion_deg",
    "head_lateral_flexion_deg",
    "head_tilt_deg",
    "shoulder_tilt_deg",
)


@dataclass(frozen=True)
class FrameMeasurement:
    """The contract's per-frame record; None where a value cannot be measured."""

    t: float
    valid: bool
    view: View
    reference: Reference
    cva_deg: float | None = None
    head_rotation_deg: float | None = None
    head_flexion_deg: float | None = None
    head_lateral_flexion_deg: float | None = None
    head_tilt_deg: float | None = None
    shoulder_tilt_deg: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# Without a calibrated camera, assume this field of view across the long side of
# the frame (typical of webcams and phone main cameras, 60-75 deg).
DEFAULT_FOV_DEG = 65.0


def default_focal_px(width: int, height: int) -> float:
    return max(width, height) / (2 * np.tan(np.radians(DEFAULT_FOV_DEG / 2)))


def measure_frame(
    lm: FrameLandmarks,
    view_hint: View | None = None,
    camera_roll_deg: float = 0.0,
    focal_px: float | None = None,
) -> FrameMeasurement:
    """Angles for one frame.

    Args:
        lm: the frame's landmarks.
        view_hint: force 'front', 'left' or 'right' (the CLI's ``--view``); None = detect.
        camera_roll_deg: camera roll from calibration (see ``posture_angles``).
        focal_px: focal length in pixels from calibration; None assumes
            :data:`DEFAULT_FOV_DEG`.
    """
    pose, face = lm.pose, lm.face
    # Camera roll turns the camera's "up" in the image; the trunk frame and the
    # head angles are then measured against true vertical.
    a = np.radians(camera_roll_deg)
    camera_up = np.array([-np.sin(a), -np.cos(a), 0.0])
    trunk = trunk_frame(pose, camera_up, (lm.width, lm.height)) if pose is not None else None
    view: View = "unknown"
    if pose is not None:
        view = view_hint or classify_view(pose, trunk)
    elif face is not None:
        view = view_hint or "front"
    reference: Reference = "trunk" if trunk is not None else "camera"
    if trunk is None:
        trunk = _camera_reference(camera_roll_deg)

    values: dict[str, float | None] = {k: None for k in ANGLE_KEYS}
    if face is not None:
        focal = focal_px or default_focal_px(lm.width, lm.height)
        principal = np.array([lm.width / 2, lm.height / 2])
        head = head_frame_from_face(face.xyz, focal, principal)
        if head is not None:
            rotation, flexion, lateral = decompose_head_angles(trunk.T @ head)
            values["head_rotation_deg"] = rotation
            values["head_flexion_deg"] = flexion
            values["head_lateral_flexion_deg"] = lateral
    if view == "front":
        if face is not None:
            left_eye, right_eye = eye_centres_px(face.xyz)
            values["head_tilt_deg"] = head_tilt_deg(left_eye, right_eye, camera_roll_deg)
        elif pose is not None and pose.visible(LEFT_EYE) and pose.visible(RIGHT_EYE):
            values["head_tilt_deg"] = head_tilt_deg(
                pose.image_xy[LEFT_EYE], pose.image_xy[RIGHT_EYE], camera_roll_deg
            )
        if pose is not None:
            values["shoulder_tilt_deg"] = shoulder_tilt_deg(pose, camera_roll_deg)
    if pose is not None and view in ("left", "right"):
        values["cva_deg"] = cva_deg(pose, view, camera_roll_deg)

    valid = any(v is not None for v in values.values())
    return FrameMeasurement(lm.t_s, valid, view, reference, **values)


def _camera_reference(camera_roll_deg: float) -> np.ndarray:
    """A subject squarely facing a (possibly rolled) camera: the face-only reference."""
    # Rolling the camera clockwise makes the world appear rotated counter-clockwise.
    a = np.radians(camera_roll_deg)
    c, s = np.cos(a), np.sin(a)
    roll = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    return roll @ FACING_CAMERA


def empty_measurement(t_s: float) -> FrameMeasurement:
    return FrameMeasurement(t_s, False, "unknown", "camera")
