"""Rotation matrices and the contract's head-angle decomposition.

Body axes (trunk and head alike): x = subject's LEFT, y = BACKWARDS, z = UP.
Camera axes: x = image right, y = image down, z = away from the camera.
A body frame is stored as a 3x3 matrix whose columns are the body axes written
in camera coordinates, so ``R_head_in_trunk = R_trunk.T @ R_head``.

The contract's order: ``R_head_in_trunk = Rz(rotation) @ Rx(flexion) @ Ry(lateral_flexion)``,
+rotation = turn to the subject's left, +flexion = chin to chest,
+lateral flexion = left ear toward the left shoulder.
"""

from __future__ import annotations

import numpy as np

from posture.arrays import Array

# A subject squarely facing the camera: left -> image right, back -> away, up -> image up.
FACING_CAMERA = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def rot_x(angle_deg: float) -> Array:
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle_deg: float) -> Array:
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle_deg: float) -> Array:
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def compose_head_angles(
    rotation_deg: float, flexion_deg: float, lateral_flexion_deg: float
) -> Array:
    """``Rz(rotation) @ Rx(flexion) @ Ry(lateral_flexion)`` in body axes."""
    return rot_z(rotation_deg) @ rot_x(flexion_deg) @ rot_y(lateral_flexion_deg)


def decompose_head_angles(r: Array) -> tuple[float, float, float]:
    """Inverse of :func:`compose_head_angles`: (rotation, flexion, lateral flexion) in degrees.

    Exact for |flexion| < 90 deg, which holds for any human neck.
    """
    flexion = np.degrees(np.arcsin(np.clip(r[2, 1], -1.0, 1.0)))
    rotation = np.degrees(np.arctan2(-r[0, 1], r[1, 1]))
    lateral = np.degrees(np.arctan2(-r[2, 0], r[2, 2]))
    return float(rotation), float(flexion), float(lateral)


def frame_from_axes(left: Array, up: Array) -> Array | None:
    """Right-handed body frame from a left-pointing and an up-pointing vector.

    ``up`` is kept exactly; ``left`` is made orthogonal to it. Returns None when
    the vectors are degenerate (missing or parallel).
    """
    if not (np.all(np.isfinite(left)) and np.all(np.isfinite(up))):
        return None
    z = up / (np.linalg.norm(up) + 1e-12)
    x = left - np.dot(left, z) * z
    n = np.linalg.norm(x)
    if n < 1e-6 or np.linalg.norm(up) < 1e-9:
        return None
    x = x / n
    y = np.cross(z, x)
    return np.column_stack([x, y, z])


def nearest_rotation(m: Array) -> Array:
    """Project a 3x3 matrix onto the closest proper rotation (SVD)."""
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    r: Array = u @ np.diag([1.0, 1.0, d]) @ vt
    return r


def compose_flexed_rotation(
    flexion_deg: float, rotation_deg: float, lateral_flexion_deg: float = 0.0
) -> Array:
    """The flexion-rotation test's order: ``Rx(flexion) @ Rz(rotation) @ Ry(lateral)``.

    The neck flexes first (chin to chest), then the head turns about its *own* long axis,
    tilted forward with it (the C1-C2 rotation the test isolates)."""
    return rot_x(flexion_deg) @ rot_z(rotation_deg) @ rot_y(lateral_flexion_deg)


def decompose_flexed_rotation(r: Array) -> tuple[float, float, float]:
    """Inverse of :func:`compose_flexed_rotation`: (flexion, rotation about the flexed
    head's own axis, lateral flexion) in degrees; exact for |rotation| < 90 deg.

    The contract's order reads the same head differently: a 28 deg turn at 45 deg of
    flexion is (rotation 36.9, flexion 38.6, lateral flexion -25.1) there, which would
    turn a positive test (< 32 deg) into a negative one."""
    rotation = np.degrees(np.arcsin(np.clip(-r[0, 1], -1.0, 1.0)))
    flexion = np.degrees(np.arctan2(r[2, 1], r[1, 1]))
    lateral = np.degrees(np.arctan2(r[0, 2], r[0, 0]))
    return float(flexion), float(rotation), float(lateral)


def frt_angles(
    rotation_deg: float, flexion_deg: float, lateral_flexion_deg: float
) -> tuple[float, float, float]:
    """The contract's head angles (rotation, flexion, lateral flexion) read in the
    flexion-rotation test's order: (flexion, rotation about the flexed head's axis,
    lateral flexion)."""
    r = compose_head_angles(rotation_deg, flexion_deg, lateral_flexion_deg)
    return decompose_flexed_rotation(r)
