"""Static posture angles: craniovertebral angle, head tilt, shoulder tilt.

Image angles are measured against the image horizontal; a tilted camera adds its
roll to every one of them, which calibration removes (``camera_roll_deg``, +
when the camera is rolled clockwise as seen from behind it, so that the true
horizontal appears rotated counter-clockwise in the image).

Craniovertebral angle (CVA). The anatomical CVA is the angle between the
horizontal through the C7 spinous process and the line from C7 to the ear
tragus. The pose model has neither point: its ear point stands for the tragus,
and its shoulder point is the shoulder joint, in front of and below C7. C7 is
estimated from the shoulder by a fixed offset in head-neck units: with
``s`` the ear-to-shoulder distance in the image,

    C7 = shoulder + s * (C7_BACK_FRACTION * backwards + C7_UP_FRACTION * up)

The fractions are fitted on rendered bodies whose true C7 and tragus are known
(benchmarks/accuracy.py) and checked on bodies not used for the fit. The raw
ear-shoulder angle reads about 12 deg too high and is never reported as CVA.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from posture.errors import PostureError
from posture.geometry.trunk import View
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_EAR,
    RIGHT_SHOULDER,
    PoseLandmarks,
)

CVA_MODEL_PATH = Path(__file__).resolve().parent / "data" / "cva_model.json"


@lru_cache(maxsize=1)
def _load_c7_fractions(path: Path | None = None) -> tuple[float, float]:
    """(backwards, up) C7 offsets fitted by benchmarks/fit_cva_model.py (CVA_MODEL_PATH by
    default); PostureError when the file is missing or unreadable: an incomplete
    installation, never replaced by unfitted defaults."""
    path = CVA_MODEL_PATH if path is None else path
    try:
        model = json.loads(path.read_text())
        return float(model["c7_back_fraction"]), float(model["c7_up_fraction"])
    except FileNotFoundError as err:
        raise PostureError(
            f"The CVA model file {path} is missing: the posture installation is incomplete, "
            "reinstall posture."
        ) from err
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PostureError(
            f"The CVA model file {path} cannot be read ({err}): the posture installation is "
            "incomplete, reinstall posture."
        ) from err


def __getattr__(name: str) -> float:
    """C7_BACK_FRACTION and C7_UP_FRACTION, read from the model file on first use: the
    CLI imports this module to build its parser, where an error would be a traceback.
    A fit (benchmarks/fit_cva_model.py) assigns them, and then those values are used."""
    if name in ("C7_BACK_FRACTION", "C7_UP_FRACTION"):
        return _load_c7_fractions()[name == "C7_UP_FRACTION"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _c7_fractions() -> tuple[float, float]:
    """(backwards, up): the values a fit assigned to this module, else the model file's."""
    assigned = globals()
    if "C7_BACK_FRACTION" in assigned and "C7_UP_FRACTION" in assigned:
        return assigned["C7_BACK_FRACTION"], assigned["C7_UP_FRACTION"]
    return _load_c7_fractions()


MIN_VISIBILITY = 0.5
PLAUSIBLE_CVA_DEG = (5.0, 90.0)
# A subject sitting or standing has the head above the shoulders: the shoulder
# midpoint -> head direction is within this of true up (roll-corrected). Neck
# movements keep it within ~65 deg (rendered ROM videos <= 22, extended side stills
# <= 65); beyond it the pose is of no upright person (lying down, a wrong fit, an
# animal's silhouette) and no angle is better than a false one.
MAX_HEAD_FROM_VERTICAL_DEG = 90.0


def _image_angle_deg(dx: float, dy_down: float, camera_roll_deg: float) -> float:
    """Angle of an image vector against the true horizontal, + = counter-clockwise on screen."""
    return float(np.degrees(np.arctan2(-dy_down, dx)) - camera_roll_deg)


def estimate_c7_px(pose: PoseLandmarks, view: View, camera_roll_deg: float = 0.0) -> np.ndarray:
    """Estimated C7 position (pixels) in a side view; see the module docstring."""
    ear, shoulder = _side_points(pose, view)
    s = float(np.linalg.norm(ear - shoulder))
    back, up = _side_axes(view, camera_roll_deg)
    back_fraction, up_fraction = _c7_fractions()
    return shoulder + s * (back_fraction * back + up_fraction * up)


def cva_deg(pose: PoseLandmarks, view: View, camera_roll_deg: float = 0.0) -> float | None:
    """Craniovertebral angle (deg) in a side view; None in other views or without ear/shoulder."""
    if view not in ("left", "right"):
        return None
    near_ear = LEFT_EAR if view == "left" else RIGHT_EAR
    near_shoulder = LEFT_SHOULDER if view == "left" else RIGHT_SHOULDER
    if not (pose.visible(near_ear, MIN_VISIBILITY) and pose.visible(near_shoulder, MIN_VISIBILITY)):
        return None
    ear, _ = _side_points(pose, view)
    c7 = estimate_c7_px(pose, view, camera_roll_deg)
    back, up = _side_axes(view, camera_roll_deg)
    d = ear - c7
    forward_px = -float(np.dot(d, back))
    up_px = float(np.dot(d, up))
    angle = float(np.degrees(np.arctan2(up_px, forward_px)))
    # Outside this range the ear is not above and in front of C7: the landmarks are
    # wrong (or the subject is lying down), so no angle is better than a false one.
    return angle if PLAUSIBLE_CVA_DEG[0] < angle < PLAUSIBLE_CVA_DEG[1] else None


def head_above_shoulders(pose: PoseLandmarks, camera_roll_deg: float = 0.0) -> bool:
    """Whether the head (nose and ears) sits above the shoulders' midpoint within
    MAX_HEAD_FROM_VERTICAL_DEG of true up; True when the points are missing."""
    xy = pose.image_xy
    head_points = xy[[NOSE, LEFT_EAR, RIGHT_EAR]]
    head_points = head_points[np.isfinite(head_points).all(axis=1)]
    shoulder = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2
    if len(head_points) == 0 or not np.isfinite(shoulder).all():
        return True
    d = head_points.mean(axis=0) - shoulder
    a = np.radians(camera_roll_deg)
    up = np.array([-np.sin(a), -np.cos(a)])  # true up in the image, pixel y down
    # angle(d, up) < max  <=>  d . up > |d| cos(max)
    return float(np.dot(d, up)) > float(np.linalg.norm(d)) * np.cos(
        np.radians(MAX_HEAD_FROM_VERTICAL_DEG)
    )


def _side_points(pose: PoseLandmarks, view: View) -> tuple[np.ndarray, np.ndarray]:
    """(tragus proxy, shoulder) in pixels: the camera-side ear, the mean of both shoulders."""
    xy = pose.image_xy
    ear = xy[LEFT_EAR] if view == "left" else xy[RIGHT_EAR]
    shoulder = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2
    return ear.astype(float), shoulder.astype(float)


def _side_axes(view: View, camera_roll_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit image vectors (backwards, up) of a side-on subject, pixel y pointing down."""
    a = np.radians(camera_roll_deg)
    right = np.array([np.cos(a), -np.sin(a)])  # true horizontal, to image right
    up = np.array([-np.sin(a), -np.cos(a)])
    # Left side to the camera: the subject faces image-left, so backwards is image-right.
    back = right if view == "left" else -right
    return back, up


def head_tilt_deg(
    left_eye_px: np.ndarray, right_eye_px: np.ndarray, camera_roll_deg: float = 0.0
) -> float:
    """Eye line vs horizontal in a front view; + = subject's left eye lower."""
    d = left_eye_px - right_eye_px
    # Facing the camera, the left eye is on image-right: a lower left eye turns the
    # right->left vector clockwise on screen, i.e. a negative screen angle.
    return -_image_angle_deg(float(d[0]), float(d[1]), camera_roll_deg)


def shoulder_tilt_deg(pose: PoseLandmarks, camera_roll_deg: float = 0.0) -> float | None:
    """Shoulder line vs horizontal in a front view; + = subject's left shoulder lower."""
    if not (
        pose.visible(LEFT_SHOULDER, MIN_VISIBILITY) and pose.visible(RIGHT_SHOULDER, MIN_VISIBILITY)
    ):
        return None
    d = pose.image_xy[LEFT_SHOULDER] - pose.image_xy[RIGHT_SHOULDER]
    return -_image_angle_deg(float(d[0]), float(d[1]), camera_roll_deg)
