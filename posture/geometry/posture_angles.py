"""Static posture angles: craniovertebral angle, head tilt, shoulder tilt.

Image angles are measured against the image horizontal; a tilted camera adds its
roll to every one of them, which calibration removes (``camera_roll_deg``, +
when the camera is rolled clockwise as seen from behind it, so that the true
horizontal appears rotated counter-clockwise in the image).

Craniovertebral angle (CVA). The anatomical CVA is the angle between the
horizontal through the C7 spinous process and the line from C7 to the ear
tragus. The pose model has neither point: its ear point stands for the tragus,
and its shoulder point is the shoulder joint, in front of and below C7. C7 is
estimated from the shoulders' midpoint by an offset in head-neck units: with
``s`` the ear-to-shoulder distance in the image and ``e`` the camera's elevation
seen from the shoulders (+ = camera above them, deg),

    C7 = shoulder + s * ((back + back_per_30deg * e/30) * backwards
                         + (up + up_per_30deg * e/30) * up)

and the angle of the ear above the horizontal through that point is rescaled
about ``centre_deg`` by ``gain``: CVA = centre + gain * (angle - centre).

Why (measured on rendered side stills, benchmarks/cva_heights.py; before this model
the CVA read -4.3 deg on average with the camera more than 15 deg below C7, -3.4 for
true CVAs of 50 or more, and -8.7 for both together):
- The pose model's far (hidden) shoulder follows only about a quarter of its true
  perspective drop (0.23 x, 333 stills), so seen from below the shoulders' midpoint
  sits too high, C7 with it, and the CVA reads low; from above it read high. The
  elevation terms remove most of this; ``e`` comes from the shoulders' position in
  the image, the focal length and the camera's pitch (calibration; uncalibrated, a
  level 65 deg camera is assumed, which still helps).
- The perspective of the tragus itself (7 cm beside the midline, so the true
  C7-tragus line tilts in the image by about 0.3 deg per deg of elevation) is not
  corrected: the pose model's ear does not follow it (the angle from it to the true
  C7 does not change with elevation); it behaves like a point on the midline.
- The pose model's ear and shoulders follow only part of a forward-head change (the
  shoulders drift forward with the head: 0.5 cm per 10 deg of "chin poke" while the
  tragus moves 2 cm), so the raw angle moves about 0.7-0.8 deg per deg of true CVA.
  ``gain`` undoes this compression, so that a forward head is not read as nearly
  normal nor an upright one as forward (before: +2 deg below a CVA of 40, -3.4 above
  50). It scales the landmarks' noise too (and an uncorrected camera roll): one
  still errs by about +-5.6 deg (``uncertainty_deg``) whatever the model, as no
  function of the pose landmarks tried correlated better than 0.83 with the truth.
- Scaling the offset by another body measure (torso length, head size, the pose
  model's 3D shoulder width) instead of ``s`` did not help.

All constants are fitted by benchmarks/fit_cva_model.py on rendered bodies whose
true C7 and tragus are known, and checked on bodies and camera placements not
used for the fit (cva_model.json says which). The raw ear-shoulder angle reads
about 12 deg too high and is never reported as CVA.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

import numpy as np

from posture.arrays import Array
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


@dataclass(frozen=True)
class CvaModel:
    """The fitted constants of the CVA (see the module docstring and cva_model.json)."""

    c7_back_fraction: float
    c7_up_fraction: float
    c7_back_per_30deg: float  # change of the fractions per 30 deg of camera elevation
    c7_up_per_30deg: float
    centre_deg: float  # the angle is rescaled about this by gain
    gain: float
    uncertainty_deg: float  # about 2 in 3 stills of unseen bodies err less than this
    uncertainty_per_10deg: float  # added per 10 deg of camera elevation beyond 10
    low_visibility_factor: float  # uncertainty multiplied by this below GOOD_EAR_VISIBILITY

    @classmethod
    def from_json(cls, model: dict[str, Any]) -> CvaModel:
        return cls(**{k: float(model[k]) for k in cls.__dataclass_fields__})


def _read_model(path: Path) -> dict[str, Any]:
    try:
        model: dict[str, Any] = json.loads(path.read_text())
        return model
    except FileNotFoundError as err:
        raise PostureError(
            f"The CVA model file {path} is missing: the posture installation is incomplete, "
            "reinstall posture."
        ) from err
    except (OSError, ValueError) as err:
        raise _unreadable(path, err) from err


def _unreadable(path: Path, err: Exception) -> PostureError:
    return PostureError(
        f"The CVA model file {path} cannot be read ({err}): the posture installation is "
        "incomplete, reinstall posture."
    )


@lru_cache(maxsize=1)
def _load_c7_fractions(path: Path | None = None) -> tuple[float, float]:
    """(backwards, up) C7 offsets fitted by benchmarks/fit_cva_model.py (CVA_MODEL_PATH by
    default); PostureError when the file is missing or unreadable: an incomplete
    installation, never replaced by unfitted defaults."""
    path = CVA_MODEL_PATH if path is None else path
    model = _read_model(path)
    try:
        return float(model["c7_back_fraction"]), float(model["c7_up_fraction"])
    except (KeyError, TypeError, ValueError) as err:
        raise _unreadable(path, err) from err


@lru_cache(maxsize=1)
def load_cva_model(path: Path | None = None) -> CvaModel:
    """The whole fitted CVA model; PostureError as :func:`_load_c7_fractions`."""
    path = CVA_MODEL_PATH if path is None else path
    model = _read_model(path)
    try:
        return CvaModel.from_json(model)
    except (KeyError, TypeError, ValueError) as err:
        raise _unreadable(path, err) from err


def __getattr__(name: str) -> float:
    """C7_BACK_FRACTION and C7_UP_FRACTION, read from the model file on first use: the
    CLI imports this module to build its parser, where an error would be a traceback."""
    if name in ("C7_BACK_FRACTION", "C7_UP_FRACTION"):
        return _load_c7_fractions()[name == "C7_UP_FRACTION"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MIN_VISIBILITY = 0.5
PLAUSIBLE_CVA_DEG = (5.0, 90.0)
# A subject sitting or standing has the head above the shoulders: the shoulder
# midpoint -> head direction is within this of true up (roll-corrected). Neck
# movements keep it within ~65 deg (rendered ROM videos <= 22, extended side stills
# <= 65); beyond it the pose is of no upright person (lying down, a wrong fit, an
# animal's silhouette) and no angle is better than a false one.
MAX_HEAD_FROM_VERTICAL_DEG = 90.0
# A side view has the shoulders nearly one behind the other: spread along the body's
# forward axis by more than the ear-shoulder distance, the view is not a side view or
# the pose is a wrong fit (rendered stills: 4 of 6 gross misfits, 2 of 335 good ones).
MAX_SHOULDER_SPREAD = 1.0
# The ear more than this (in ear-shoulder distances) behind the shoulders: a wrong fit.
MAX_EAR_BEHIND_SHOULDERS = 0.1
GOOD_EAR_VISIBILITY = 0.8


class CvaValue(float):
    """A CVA in degrees that carries its uncertainty (``uncertainty_deg``, +- deg: about
    2 in 3 measurements of unseen bodies and camera placements are that close to the
    truth) and the camera's elevation it was measured at (``camera_elevation_deg``, + =
    camera above the shoulders). Arithmetic on it gives plain floats."""

    uncertainty_deg: float
    camera_elevation_deg: float

    def __new__(cls, value: float, uncertainty_deg: float, camera_elevation_deg: float) -> Self:
        obj = super().__new__(cls, value)
        obj.uncertainty_deg = uncertainty_deg
        obj.camera_elevation_deg = camera_elevation_deg
        return obj

    def __reduce__(self) -> tuple[type[CvaValue], tuple[float, float, float]]:
        return (CvaValue, (float(self), self.uncertainty_deg, self.camera_elevation_deg))


def _image_angle_deg(dx: float, dy_down: float, camera_roll_deg: float) -> float:
    """Angle of an image vector against the true horizontal, + = counter-clockwise on screen."""
    return float(np.degrees(np.arctan2(-dy_down, dx)) - camera_roll_deg)


def camera_elevation_deg(
    point_px: Array,
    image_size: tuple[int, int] | None,
    focal_px: float | None,
    camera_roll_deg: float = 0.0,
    camera_pitch_deg: float = 0.0,
) -> float:
    """Elevation of the camera seen from an image point (deg, + = camera above the point):
    the viewing ray through the point against the true horizontal, for a camera pitched
    ``camera_pitch_deg`` (+ = looking down) and rolled ``camera_roll_deg`` (conventions of
    ``posture.calibration.level``) whose principal point is the image centre. 0 without
    the image size or focal length (the point taken on a level optical axis)."""
    if image_size is None or focal_px is None or not np.isfinite(point_px).all():
        return 0.0
    ray = np.array([point_px[0] - image_size[0] / 2, point_px[1] - image_size[1] / 2, focal_px])
    r, p = np.radians(camera_roll_deg), np.radians(camera_pitch_deg)
    gravity = np.array([np.sin(r) * np.cos(p), np.cos(r) * np.cos(p), np.sin(p)])
    # The ray towards the point goes down (along gravity) when the camera is above it.
    return float(np.degrees(np.arcsin(np.clip(ray @ gravity / np.linalg.norm(ray), -1, 1))))


def estimate_c7_px(
    pose: PoseLandmarks,
    view: View,
    camera_roll_deg: float = 0.0,
    elevation_deg: float = 0.0,
    model: CvaModel | None = None,
) -> Array:
    """Estimated C7 position (pixels) in a side view; see the module docstring."""
    model = model or load_cva_model()
    ear, shoulder = _side_points(pose, view)
    s = float(np.linalg.norm(ear - shoulder))
    back, up = _side_axes(view, camera_roll_deg)
    e = elevation_deg / 30.0
    back_fraction = model.c7_back_fraction + model.c7_back_per_30deg * e
    up_fraction = model.c7_up_fraction + model.c7_up_per_30deg * e
    c7: Array = shoulder + s * (back_fraction * back + up_fraction * up)
    return c7


def cva_deg(
    pose: PoseLandmarks,
    view: View,
    camera_roll_deg: float = 0.0,
    *,
    camera_pitch_deg: float = 0.0,
    focal_px: float | None = None,
    image_size: tuple[int, int] | None = None,
    ear_visibility: float | None = None,
    model: CvaModel | None = None,
) -> CvaValue | None:
    """Craniovertebral angle (deg) in a side view, with its uncertainty; None in other
    views, without ear/shoulder, or when the pose is not a plausible side view.

    ``camera_pitch_deg``, ``focal_px`` and ``image_size`` place the camera's elevation
    (see :func:`camera_elevation_deg`); without them the camera is taken as level with
    the shoulders. ``ear_visibility`` defaults to the pose model's own."""
    if view not in ("left", "right"):
        return None
    near_ear = LEFT_EAR if view == "left" else RIGHT_EAR
    near_shoulder = LEFT_SHOULDER if view == "left" else RIGHT_SHOULDER
    if not (pose.visible(near_ear, MIN_VISIBILITY) and pose.visible(near_shoulder, MIN_VISIBILITY)):
        return None
    model = model or load_cva_model()
    ear, shoulder = _side_points(pose, view)
    back, up = _side_axes(view, camera_roll_deg)
    s = float(np.linalg.norm(ear - shoulder))
    far_shoulder = RIGHT_SHOULDER if view == "left" else LEFT_SHOULDER
    spread = float(np.dot(pose.image_xy[near_shoulder] - pose.image_xy[far_shoulder], back))
    if s <= 0 or abs(spread) > MAX_SHOULDER_SPREAD * s:
        return None
    if float(np.dot(ear - shoulder, back)) > MAX_EAR_BEHIND_SHOULDERS * s:
        return None
    elevation = camera_elevation_deg(
        shoulder, image_size, focal_px, camera_roll_deg, camera_pitch_deg
    )
    c7 = estimate_c7_px(pose, view, camera_roll_deg, elevation, model)
    d = ear - c7
    forward_px = -float(np.dot(d, back))
    up_px = float(np.dot(d, up))
    raw = float(np.degrees(np.arctan2(up_px, forward_px)))
    angle = model.centre_deg + model.gain * (raw - model.centre_deg)
    # Outside this range the ear is not above and in front of C7: the landmarks are
    # wrong (or the subject is lying down), so no angle is better than a false one.
    if not PLAUSIBLE_CVA_DEG[0] < angle < PLAUSIBLE_CVA_DEG[1]:
        return None
    visibility = float(pose.visibility[near_ear]) if ear_visibility is None else ear_visibility
    return CvaValue(angle, cva_uncertainty_deg(elevation, visibility, model), elevation)


def cva_uncertainty_deg(
    elevation_deg: float, ear_visibility: float = 1.0, model: CvaModel | None = None
) -> float:
    """+- deg of one CVA measurement: the error that about 2 in 3 stills of unseen bodies
    stay within (``cva_model.json``), widened with the camera far above or below the
    shoulders and when the ear is poorly seen."""
    model = model or load_cva_model()
    u = model.uncertainty_deg + model.uncertainty_per_10deg * max(abs(elevation_deg) - 10, 0) / 10
    if ear_visibility < GOOD_EAR_VISIBILITY:
        u *= model.low_visibility_factor
    return round(u, 1)


def summary_cva_uncertainty_deg(frames: Iterable[object]) -> float | None:
    """The uncertainty of a recording's CVA (the median over frames): the median of its
    frames' uncertainties (errors of one body and camera placement do not average out
    over frames); None without a measured CVA. ``frames``: CVA values or frame
    measurements (anything with a ``cva_deg``)."""
    values = (getattr(f, "cva_deg", f) for f in frames)
    u = [v.uncertainty_deg for v in values if isinstance(v, CvaValue)]
    return round(float(np.median(u)), 1) if u else None


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
    above: bool = float(np.dot(d, up)) > float(np.linalg.norm(d)) * np.cos(
        np.radians(MAX_HEAD_FROM_VERTICAL_DEG)
    )
    return above


def _side_points(pose: PoseLandmarks, view: View) -> tuple[Array, Array]:
    """(tragus proxy, shoulder) in pixels: the camera-side ear, the mean of both shoulders."""
    xy = pose.image_xy
    ear = xy[LEFT_EAR] if view == "left" else xy[RIGHT_EAR]
    shoulder = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2
    return ear.astype(float), shoulder.astype(float)


def _side_axes(view: View, camera_roll_deg: float) -> tuple[Array, Array]:
    """Unit image vectors (backwards, up) of a side-on subject, pixel y pointing down."""
    a = np.radians(camera_roll_deg)
    right = np.array([np.cos(a), -np.sin(a)])  # true horizontal, to image right
    up = np.array([-np.sin(a), -np.cos(a)])
    # Left side to the camera: the subject faces image-left, so backwards is image-right.
    back = right if view == "left" else -right
    return back, up


def head_tilt_deg(left_eye_px: Array, right_eye_px: Array, camera_roll_deg: float = 0.0) -> float:
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
