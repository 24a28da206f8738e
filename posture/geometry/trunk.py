"""Trunk frame and side-of-subject (view) from the pose landmarks.

The trunk is taken as upright: its up axis is true vertical (the camera's up,
corrected for camera roll by calibration). Its left axis is the shoulder line
from the pose model's 3D landmarks, so the frame turns with the shoulders.
Neither a shrug nor the pose model's lean of the hip-shoulder line (which reads
about 14 deg backwards on a seated, upright body) tilts it: head flexion and
lateral flexion are measured against vertical, head rotation against the
shoulders.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from posture.arrays import Array
from posture.geometry.rotations import FACING_CAMERA, decompose_head_angles, frame_from_axes
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_ELBOW,
    LEFT_HIP,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_EAR,
    RIGHT_ELBOW,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    PoseLandmarks,
)

View = Literal["front", "left", "right", "unknown"]

MIN_VISIBILITY = 0.5
# Beyond this trunk yaw (deg) from facing the camera, the subject is seen from the side.
SIDE_VIEW_YAW_DEG = 55.0
CAMERA_UP = np.array([0.0, -1.0, 0.0])


# The shoulders sit at least this far below the nose, in metres (world landmarks)
# and in ear-to-ear widths (image); a "body" that fails either is a face close-up
# that Pose mistook for a person.
MIN_NOSE_TO_SHOULDER_M = 0.05
MIN_NOSE_TO_SHOULDER_EAR_WIDTHS = 0.6


def _seen(pose: PoseLandmarks, index: int, width: int, height: int) -> bool:
    x, y = pose.image_xy[index]
    return pose.visible(index, MIN_VISIBILITY) and 0 <= x < width and 0 <= y < height


def shoulders_in_view(pose: PoseLandmarks, width: int, height: int) -> bool:
    """Both shoulders seen, inside the frame, and (without hips in view to vouch for a
    body) below the head where a body has them."""
    if not all(_seen(pose, i, width, height) for i in (LEFT_SHOULDER, RIGHT_SHOULDER)):
        return False
    if all(_seen(pose, i, width, height) for i in (LEFT_HIP, RIGHT_HIP)):
        return True  # a whole upper body: trust it, however the subject leans
    w, xy = pose.world_xyz, pose.image_xy
    drop_m = (w[LEFT_SHOULDER, 1] + w[RIGHT_SHOULDER, 1]) / 2 - w[NOSE, 1]
    drop_px = (xy[LEFT_SHOULDER, 1] + xy[RIGHT_SHOULDER, 1]) / 2 - xy[NOSE, 1]
    ear_w_px = float(np.linalg.norm(xy[LEFT_EAR] - xy[RIGHT_EAR]))
    return bool(
        drop_m > MIN_NOSE_TO_SHOULDER_M and drop_px > MIN_NOSE_TO_SHOULDER_EAR_WIDTHS * ear_w_px
    )


def elbows_in_view(pose: PoseLandmarks, width: int, height: int) -> int:
    """How many elbows (0-2) are seen inside the frame, each below its shoulder where an
    upper arm holds it: the upper arms, and so the shoulders and the chest, are in the
    picture. In a close-up framed on the head the pose model guesses the shoulders and
    turns them with the head, so that one picture's shoulder line says little about the
    trunk's yaw (rendered stills, fit bodies, head rotation from front photos: 5.6 deg with
    the shoulder line on every photo, 5.4 with none, 4.4 when both elbows are required).
    There it also guesses an elbow now and then, often beside or above its shoulder; a seen
    elbow counts only at least ``MIN_ELBOW_DROP`` of the ears' height above the shoulders
    below its shoulder."""
    xy = pose.image_xy
    down = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2 - (xy[LEFT_EAR] + xy[RIGHT_EAR]) / 2
    neck_sq = float(down @ down)
    if not np.isfinite(neck_sq) or neck_sq <= 0.0:
        return 0
    count = 0
    for shoulder, elbow in ((LEFT_SHOULDER, LEFT_ELBOW), (RIGHT_SHOULDER, RIGHT_ELBOW)):
        drop = float((xy[elbow] - xy[shoulder]) @ down) / neck_sq
        count += _seen(pose, elbow, width, height) and drop >= MIN_ELBOW_DROP
    return count


# An upper arm holds the elbow below its shoulder, by this fraction of the ears' height
# above the shoulders or more: 0.74 or more for 462 of the 463 elbows seen on rendered
# stills framed on the upper body or wider (the other, -0.14, on a side view), while head
# close-ups' guessed elbows lie from -0.84 up. Every threshold from 0 to 0.8 scores the
# same on the fit bodies' front photos; 0.5 is the middle.
MIN_ELBOW_DROP = 0.5


def trunk_frame(
    pose: PoseLandmarks,
    camera_up: Array = CAMERA_UP,
    image_size: tuple[int, int] | None = None,
) -> Array | None:
    """Trunk frame (columns = left, back, up in camera axes), or None without both shoulders.

    With ``image_size`` (width, height), shoulders outside the frame count as not seen.
    """
    if image_size is not None and not shoulders_in_view(pose, *image_size):
        return None
    if not (
        pose.visible(LEFT_SHOULDER, MIN_VISIBILITY) and pose.visible(RIGHT_SHOULDER, MIN_VISIBILITY)
    ):
        return None
    w = pose.world_xyz
    return frame_from_axes(w[LEFT_SHOULDER] - w[RIGHT_SHOULDER], camera_up)


def trunk_yaw_deg(frame: Array) -> float:
    """Trunk yaw relative to squarely facing the camera; + = turned to the subject's left."""
    rotation, _, _ = decompose_head_angles(FACING_CAMERA.T @ frame)
    return rotation


def classify_view(pose: PoseLandmarks, frame: Array | None) -> View:
    """Which side of the subject faces the camera: 'front', 'left', 'right' or 'unknown'.

    The trunk yaw from the 3D shoulder line says front or side; the direction
    the nose points in the image (ahead of the ears) says which side, because
    the model's depth sign is the less reliable cue.
    """
    if frame is None:
        return "unknown"
    yaw = trunk_yaw_deg(frame)
    if abs(yaw) < SIDE_VIEW_YAW_DEG and not _profile_in_image(pose):
        return "front" if abs(yaw) < 90 else "unknown"
    facing = _nose_direction_x(pose)
    if facing is None:
        # Turned to the subject's left (+yaw) shows their right side.
        return "right" if yaw > 0 else "left"
    # Left side to the camera: the subject faces image-left.
    return "left" if facing < 0 else "right"


def _nose_direction_x(pose: PoseLandmarks) -> float | None:
    """Signed image-x offset of the nose from the ears' midpoint (pixels), or None."""
    if not pose.visible(NOSE, 0.3):
        return None
    ears = [i for i in (LEFT_EAR, RIGHT_EAR) if pose.visible(i, 0.3)]
    if not ears:
        return None
    ear_x = float(np.mean(pose.image_xy[ears, 0]))
    return float(pose.image_xy[NOSE, 0] - ear_x)


def _profile_in_image(pose: PoseLandmarks) -> bool:
    """True when the shoulders overlap in the image while the head is clearly side-on."""
    xy = pose.image_xy
    shoulder_w = abs(xy[LEFT_SHOULDER, 0] - xy[RIGHT_SHOULDER, 0])
    ear_to_shoulder = np.linalg.norm(
        (xy[LEFT_EAR] + xy[RIGHT_EAR]) / 2 - (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2
    )
    nose_dx = _nose_direction_x(pose)
    if nose_dx is None or ear_to_shoulder < 1e-6:
        return False
    ear_w = abs(xy[LEFT_EAR, 0] - xy[RIGHT_EAR, 0])
    return bool(shoulder_w < 0.35 * ear_to_shoulder and abs(nose_dx) > 1.5 * max(ear_w, 1.0))
