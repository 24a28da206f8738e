"""Levelling a frame by the camera's roll for the models, and mapping what they found back.

The models are trained on upright people: a frame from a rolled camera (roll from
calibration) is turned upright before they see it, and their landmarks are mapped back
into the pixels of the frame as given (see MediaPipeLandmarker.set_camera_roll).
"""

from __future__ import annotations

import numpy as np

from posture.arrays import Array
from posture.landmarks.types import FaceLandmarks, HeadRotation, PoseLandmarks

# A camera rolled at least this much (deg, from calibration) has its frames levelled
# before the models see them (see MediaPipeLandmarker.set_camera_roll).
MIN_ROLL_TO_LEVEL_DEG = 1.0


def _levelled(rgb: Array, roll_deg: float) -> tuple[Array, Array]:
    """The frame turned so that the true vertical of a camera rolled ``roll_deg`` is the
    picture's vertical, on a canvas large enough to keep all of it (grey corners), and
    the 2x3 affine map from the frame's pixels to the levelled picture's."""
    import cv2

    h, w = rgb.shape[:2]
    a = np.radians(roll_deg)
    out_w = int(np.ceil(w * abs(np.cos(a)) + h * abs(np.sin(a))))
    out_h = int(np.ceil(h * abs(np.cos(a)) + w * abs(np.sin(a))))
    # True down is (sin a, cos a) in the frame (x right, y down); turn it to (0, 1).
    to_levelled: Array = cv2.getRotationMatrix2D((w / 2, h / 2), -roll_deg, 1.0)
    to_levelled[:, 2] += ((out_w - w) / 2, (out_h - h) / 2)
    levelled: Array = cv2.warpAffine(
        rgb, to_levelled, (out_w, out_h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(110, 110, 110),
    )  # fmt: skip
    return levelled, to_levelled


def _inverse_affine(m: Array) -> Array:
    linear = np.linalg.inv(m[:, :2])
    return np.column_stack([linear, -linear @ m[:, 2]])


def _pose_mapped(pose: PoseLandmarks, m: Array) -> PoseLandmarks:
    """Pose landmarks through the 2x3 rotation ``m``: pixels moved, world axes turned."""
    world = pose.world_xyz.copy()
    world[:, :2] = world[:, :2] @ m[:, :2].T  # image-aligned axes turn with the picture
    return PoseLandmarks(pose.image_xy @ m[:, :2].T + m[:, 2], pose.visibility, world)


def _face_mapped(face: FaceLandmarks, m: Array) -> FaceLandmarks:
    xyz = face.xyz.copy()
    xyz[:, :2] = xyz[:, :2] @ m[:, :2].T + m[:, 2]
    return FaceLandmarks(xyz)


def _head_mapped(head: HeadRotation, m: Array) -> HeadRotation:
    """A head rotation seen in the levelled view, in the frame's camera axes: the view is
    the frame turned about the optical axis, so the rotation turns back with it."""
    turn = np.eye(3)
    turn[:2, :2] = m[:, :2]
    centre = m[:, :2] @ head.centre_px + m[:, 2]
    return HeadRotation(turn @ head.rotation, centre, head.source, head.confidence)
