"""Head orientation from the face mesh.

The head frame is built from many landmarks rather than a few points so that
one-pixel jitter moves the angles little:
- the left axis is the sum of right->left vectors over symmetric pairs that do
  not move with expression (eye corners, brows, cheek contour, nose wings);
- the up axis runs from the nose base and mouth corners to the forehead and
  brows, made orthogonal to the left axis.
The face's own "up" leans back relative to the head's anatomical vertical by a
fixed angle (:data:`FACE_UP_TILT_DEG`), removed so that 0 deg flexion means an
upright head.
"""

from __future__ import annotations

import numpy as np

from posture.geometry.rotations import frame_from_axes, rot_x

# (subject's right, subject's left) face-mesh indices.
FACE_SYMMETRIC_PAIRS: tuple[tuple[int, int], ...] = (
    (33, 263),  # eye outer corners
    (133, 362),  # eye inner corners
    (70, 300),  # brow outer
    (105, 334),  # brow middle
    (234, 454),  # face contour at the tragus level
    (127, 356),  # face contour at the temple
    (93, 323),  # face contour at the cheek
    (98, 327),  # nose wings
)
FACE_UPPER: tuple[int, ...] = (10, 151, 9, 107, 336, 105, 334)  # forehead, brows
FACE_LOWER: tuple[int, ...] = (2, 164, 61, 291, 98, 327)  # nose base, upper lip, mouth corners
RIGHT_EYE_POINTS: tuple[int, ...] = (33, 133)
LEFT_EYE_POINTS: tuple[int, ...] = (263, 362)

# Angle (deg) by which the face-mesh up axis (forehead - mouth line) is pitched
# relative to the head's anatomical vertical at a neutral, upright head. Fitted
# on rendered bodies at exactly 0 deg (benchmarks/accuracy.py); positive = the
# face's up axis leans backwards.
FACE_UP_TILT_DEG = 0.0


def undo_perspective(xyz: np.ndarray, focal_px: float, principal_px: np.ndarray) -> np.ndarray:
    """3D face points (up to scale) in camera axes from image points and relative depth.

    The face mesh gives image positions (perspective) and a depth offset from the
    head centre in the weak-perspective pixel scale, ``z_px = dZ * f / Z0``. Then
    ``Z / Z0 = 1 + z_px / f`` and ``X / Z0 = (u - cx) / f * Z / Z0``: the shape is
    recovered without knowing the distance. Without this, a face turned 80 deg at
    0.6 m reads about 5 deg too far.
    """
    depth = 1.0 + xyz[:, 2] / focal_px
    xy = (xyz[:, :2] - principal_px) / focal_px * depth[:, None]
    return np.column_stack([xy, depth])


def head_frame_from_face(
    xyz: np.ndarray, focal_px: float | None = None, principal_px: np.ndarray | None = None
) -> np.ndarray | None:
    """Head frame (columns = left, back, up in camera axes) from (478, 3) face points.

    Points are pixels with z in the same pixel scale (as MediaPipe's face mesh
    gives them once scaled by the image width). With the camera's focal length
    (pixels) and principal point, perspective is undone first; without them the
    points are taken as a weak-perspective view. Returns None if points are missing.
    """
    if focal_px is not None and principal_px is not None:
        xyz = undo_perspective(xyz, focal_px, principal_px)
    right = xyz[[r for r, _ in FACE_SYMMETRIC_PAIRS]]
    left = xyz[[lft for _, lft in FACE_SYMMETRIC_PAIRS]]
    left_vec = np.sum(left - right, axis=0)
    up_vec = np.mean(xyz[list(FACE_UPPER)], axis=0) - np.mean(xyz[list(FACE_LOWER)], axis=0)
    # Camera y points down, so the upright face's up vector has negative y already.
    frame = frame_from_axes(left_vec, up_vec)
    if frame is None:
        return None
    # frame = R_head @ rot_x(-tilt) (face up leans back = looks like extension),
    # so the head's own frame is frame @ rot_x(+tilt).
    return frame @ rot_x(FACE_UP_TILT_DEG) if FACE_UP_TILT_DEG else frame


def eye_centres_px(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(subject's left eye, subject's right eye) centres in pixels, from the eye corners."""
    left = np.mean(xyz[list(LEFT_EYE_POINTS), :2], axis=0)
    right = np.mean(xyz[list(RIGHT_EYE_POINTS), :2], axis=0)
    return left, right
