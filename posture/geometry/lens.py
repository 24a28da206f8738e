"""Lens distortion: move landmark pixels to where an ideal pinhole camera would see them.

Landmarks are undistorted instead of frames: a few hundred points cost nothing,
a whole frame costs milliseconds. Coefficients are OpenCV's (k1, k2, p1, p2[, k3...]).
"""

from __future__ import annotations

import numpy as np

from posture.arrays import Array


def camera_matrix(focal_px: float, principal_px: tuple[float, float]) -> Array:
    return np.array(
        [[focal_px, 0.0, principal_px[0]], [0.0, focal_px, principal_px[1]], [0.0, 0.0, 1.0]]
    )


def undistort_px(
    xy: Array, focal_px: float, principal_px: tuple[float, float], dist: tuple[float, ...]
) -> Array:
    """(N, 2) distorted pixels -> (N, 2) pixels of the same camera without distortion."""
    import cv2

    finite = np.all(np.isfinite(xy), axis=1)
    out = np.full_like(xy, np.nan, dtype=float)
    if not finite.any():
        return out
    k = camera_matrix(focal_px, principal_px)
    pts = xy[finite].reshape(-1, 1, 2).astype(np.float64)
    out[finite] = cv2.undistortPoints(pts, k, np.asarray(dist, float), P=k).reshape(-1, 2)
    return out
