"""Boxes around people and heads, crops of frames, and landmarks moved between pictures.

Pure numpy (OpenCV only to extend a crop's edges): the geometry of following a subject,
whatever model finds the landmarks. Boxes are in pixels, (x0, y0) the top left corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.arrays import Array
from posture.landmarks.types import (
    LEFT_EAR,
    LEFT_EYE,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_EAR,
    RIGHT_EYE,
    RIGHT_SHOULDER,
    PoseLandmarks,
)

# Crops move only when the subject drifts more than this fraction of their size,
# which keeps MediaPipe's own frame-to-frame tracking stable.
ROI_HYSTERESIS = 0.12
# Landmark index of each landmark's mirror image (left <-> right).
MIRRORED = (0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21,
            24, 23, 26, 25, 28, 27, 30, 29, 32, 31)  # fmt: skip


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> Array:
        return np.array([(self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2])

    @property
    def size(self) -> float:
        return max(self.x1 - self.x0, self.y1 - self.y0)

    def clip(self, width: int, height: int) -> Box:
        return Box(max(0.0, self.x0), max(0.0, self.y0), min(width, self.x1), min(height, self.y1))

    def int_slices(self) -> tuple[slice, slice]:
        return slice(int(self.y0), int(np.ceil(self.y1))), slice(
            int(self.x0), int(np.ceil(self.x1))
        )

    def far_from(self, other: Box) -> bool:
        shift = float(np.linalg.norm(self.centre - other.centre))
        return shift > ROI_HYSTERESIS * other.size or abs(self.size - other.size) > (
            ROI_HYSTERESIS * other.size
        )


def _square(centre: Array, side: float) -> Box:
    h = side / 2
    return Box(centre[0] - h, centre[1] - h, centre[0] + h, centre[1] + h)


def _shrink(box: Box, factor: float) -> Box:
    c = box.centre
    hw, hh = (box.x1 - box.x0) * factor / 2, (box.y1 - box.y0) * factor / 2
    return Box(c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh)


def person_box(pose: PoseLandmarks, min_visibility: float = 0.0) -> Box:
    """Generous square around a person's landmarks (by default also the predicted ones,
    which may lie outside the frame); ``min_visibility`` keeps only those seen."""
    keep = np.isfinite(pose.image_xy).all(axis=1)
    if min_visibility > 0 and np.sum(keep & (pose.visibility >= min_visibility)) >= 4:
        keep &= pose.visibility >= min_visibility
    xy = pose.image_xy[keep]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    centre = (lo + hi) / 2
    side = max(float(np.max(hi - lo)) * 1.4, 96.0)
    return _square(centre, side)


def head_box(pose: PoseLandmarks) -> Box | None:
    """Square around the head for FaceMesh, sized from the ears, eyes and shoulders."""
    head_pts = [i for i in (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR) if pose.visible(i, 0.3)]
    if NOSE not in head_pts:
        return None
    xy = pose.image_xy
    centre = np.mean(xy[head_pts], axis=0)
    ear_w = float(np.linalg.norm(xy[LEFT_EAR] - xy[RIGHT_EAR]))
    eye_w = float(np.linalg.norm(xy[LEFT_EYE] - xy[RIGHT_EYE]))
    neck = float(np.linalg.norm(xy[NOSE] - (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2))
    side = max(2.4 * ear_w, 5.0 * eye_w, 0.9 * neck, 48.0)
    return _square(centre, side)


# -- crops -------------------------------------------------------------------------


class CropBuffer:
    """One picture reused for a crop taken on every frame (the tracked subject's):
    writing into memory already in use costs less than a new array every frame."""

    def __init__(self) -> None:
        self._picture: Array | None = None

    def picture(self, height: int, width: int) -> Array:
        if self._picture is None or self._picture.shape[:2] != (height, width):
            self._picture = np.empty((height, width, 3), dtype=np.uint8)
        return self._picture


def _picture(height: int, width: int, into: CropBuffer | None) -> Array:
    """An RGB picture to write a crop into: ``into``'s, or a new one."""
    if into is None:
        return np.empty((height, width, 3), dtype=np.uint8)
    return into.picture(height, width)


def _crop(
    rgb: Array, box: Box, extend_edges: bool = False, into: CropBuffer | None = None
) -> tuple[Array, Box]:
    """Crop ``box`` out of ``rgb``; parts outside the frame are filled with grey (with
    ``extend_edges``: with the frame's edge pixels repeated outwards). ``into``: write
    the crop into that buffer's picture (valid until its next use) instead of a new one.

    Keeping the crop square and padded (rather than clipped) gives the models the
    context they expect when the person fills or leaves the frame.
    """
    h, w = rgb.shape[:2]
    x0, y0 = int(np.floor(box.x0)), int(np.floor(box.y0))
    x1, y1 = int(np.ceil(box.x1)), int(np.ceil(box.y1))
    if 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h:  # inside the frame: no grey to fill
        inside = _picture(y1 - y0, x1 - x0, into)
        inside[...] = rgb[y0:y1, x0:x1]
        return inside, Box(float(x0), float(y0), float(x1), float(y1))
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if extend_edges and ix1 > ix0 and iy1 > iy0:
        import cv2

        border = (iy0 - y0, y1 - iy1, ix0 - x0, x1 - ix1)
        extended: Array = cv2.copyMakeBorder(rgb[iy0:iy1, ix0:ix1], *border, cv2.BORDER_REPLICATE)
        return extended, Box(float(x0), float(y0), float(x1), float(y1))
    canvas = _picture(max(y1 - y0, 1), max(x1 - x0, 1), into)
    canvas.fill(110)
    if ix1 > ix0 and iy1 > iy0:
        canvas[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = rgb[iy0:iy1, ix0:ix1]
    return canvas, Box(
        float(x0), float(y0), float(x0 + canvas.shape[1]), float(y0 + canvas.shape[0])
    )


# -- landmarks between pictures, and telling people apart --------------------------


def _placed(pose: PoseLandmarks, at: Box, crop_w: int, mirrored: bool) -> PoseLandmarks:
    """Landmarks found in a (possibly mirrored) crop, in the pixels of the whole image."""
    xy, vis, world = pose.image_xy.copy(), pose.visibility, pose.world_xyz.copy()
    if mirrored:  # undo the mirror: flip x and swap each left landmark with its right one
        idx = list(MIRRORED)
        xy[:, 0] = crop_w - xy[:, 0]
        world[:, 0] = -world[:, 0]
        xy, vis, world = xy[idx], vis[idx], world[idx]
    return PoseLandmarks(xy + np.array([at.x0, at.y0]), vis, world)


def _moved(pose: PoseLandmarks, dx: float, dy: float, scale: float = 1.0) -> PoseLandmarks:
    """The same landmarks in another image's pixels: ``xy * scale + (dx, dy) * scale``."""
    xy = (pose.image_xy + np.array([dx, dy])) * scale
    return PoseLandmarks(xy, pose.visibility, pose.world_xyz)


def _agrees(a: PoseLandmarks, b: PoseLandmarks, tolerance_px: float) -> bool:
    """Nose and both shoulders of two detections within ``tolerance_px`` of each other."""
    idx = [NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]
    return bool(np.all(np.linalg.norm(a.image_xy[idx] - b.image_xy[idx], axis=1) < tolerance_px))


def _grey_out(img: Array, pose: PoseLandmarks) -> bool:
    """Paint a person's body grey so a search finds someone else; False if off-frame."""
    tight = _shrink(person_box(pose), 1 / 1.4).clip(img.shape[1], img.shape[0])
    sy, sx = tight.int_slices()
    if img[sy, sx].size == 0:
        return False
    img[sy, sx] = 127
    return True


def _same_person(a: PoseLandmarks, b: PoseLandmarks) -> bool:
    """Two detections of one person: their heads coincide, or one box mostly covers the other.

    A tile often shows only part of a person, so whole-body boxes differ while the
    head (or the overlap) gives them away.
    """
    ba, bb = person_box(a), person_box(b)
    size = min(ba.size, bb.size)
    if float(np.linalg.norm(a.image_xy[NOSE] - b.image_xy[NOSE])) < 0.2 * size:
        return True
    ix = max(0.0, min(ba.x1, bb.x1) - max(ba.x0, bb.x0))
    iy = max(0.0, min(ba.y1, bb.y1) - max(ba.y0, bb.y0))
    smaller = min((ba.x1 - ba.x0) * (ba.y1 - ba.y0), (bb.x1 - bb.x0) * (bb.y1 - bb.y0))
    return ix * iy > 0.5 * smaller
