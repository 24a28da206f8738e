"""The camera's roll and pitch against gravity, from a plumb board or a marked vertical line.

Conventions (as in posture.geometry.posture_angles): ``roll_deg`` + = camera
rolled clockwise as seen from behind it, so the true horizontal appears rotated
counter-clockwise in the picture and true down points to image-right of
straight down; ``pitch_deg`` + = camera looking down.

With gravity ``g`` expressed in camera axes (x right, y down, z forward),
``roll = atan2(g_x, g_y)`` and ``pitch = asin(g_z)``.

A board hung flat and plumb on a wall has its edges along gravity and the
horizontal. Its pose (OpenCV's PnP with the camera's lens) gives gravity in
camera axes: whichever board edge direction points most nearly down in the
picture, so the board may hang in any of its four orientations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.arrays import Array
from posture.calibration.detect import BoardView
from posture.calibration.profiles import Intrinsics, Level, now_iso
from posture.errors import InputError

# Board views of one level measurement must agree to this spread (deg, robust SD),
# otherwise the camera or the board moved.
MAX_LEVEL_SPREAD_DEG = 1.0
MIN_LINE_LENGTH_PX = 50.0
# How big the board must look (span of its corners / picture diagonal). Pitch is
# the board's foreshortening, which a small board shows poorly: at 13% a 640x480
# webcam misread pitch by 4 deg, at 27% by under 0.1 deg; roll stays within
# 0.6 deg down to ~13% (benchmarks/calibration_accuracy.py).
MIN_SPAN_FOR_ROLL = 0.12
MIN_SPAN_FOR_PITCH = 0.2
# Pitch also needs corners on this many rows and columns of the board. A board cut
# by the picture's edge down to 2 rows (one square high) misread pitch by up to
# 0.4 deg, 3 rows or more by under 0.2 deg (rendered 640x480 and 1280x720 views).
MIN_LINES_FOR_PITCH = 3


@dataclass(frozen=True)
class Attitude:
    roll_deg: float
    pitch_deg: float


def attitude_from_gravity(g_cam: Array) -> Attitude:
    g = np.asarray(g_cam, float) / np.linalg.norm(g_cam)
    roll = float(np.degrees(np.arctan2(g[0], g[1])))
    pitch = float(np.degrees(np.arcsin(np.clip(g[2], -1.0, 1.0))))
    return Attitude(roll, pitch)


def board_rotation(view: BoardView, lens: Intrinsics) -> Array:
    """Board -> camera rotation from the view's corners (PnP)."""
    import cv2

    ok, rvec, _ = cv2.solvePnP(
        view.object_m.reshape(-1, 1, 3),
        view.image_px.reshape(-1, 1, 2),
        lens.matrix(),
        np.asarray(lens.distortion, float),
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok:
        raise InputError(
            f"The board's position could not be worked out in {view.label}: "
            "take a sharper picture with the whole board in view."
        )
    r, _ = cv2.Rodrigues(rvec)
    return r


def gravity_from_board(rotation: Array) -> Array:
    """The board edge direction (+-x, +-y of the board) that points most nearly down."""
    candidates = np.hstack([rotation[:, :2], -rotation[:, :2]]).T  # 4 directions in camera axes
    down: Array = candidates[int(np.argmax(candidates[:, 1]))]
    return down


def attitude_from_board(view: BoardView, lens: Intrinsics) -> Attitude:
    return attitude_from_gravity(gravity_from_board(board_rotation(view, lens)))


def board_span(view: BoardView, size_px: tuple[int, int]) -> float:
    """Span of the board's corners as a fraction of the picture's diagonal."""
    return float(np.hypot(*np.ptp(view.image_px, axis=0)) / np.hypot(*size_px))


def board_lines(view: BoardView) -> tuple[int, int]:
    """(columns, rows) of the board on which the view has corners."""
    xy = np.round(view.object_m[:, :2], 6)
    return len(np.unique(xy[:, 0])), len(np.unique(xy[:, 1]))


def good_for_pitch(view: BoardView, size_px: tuple[int, int]) -> bool:
    """Big enough in the picture, and seen over enough of the board's rows and columns."""
    return board_span(view, size_px) >= MIN_SPAN_FOR_PITCH and min(board_lines(view)) >= (
        MIN_LINES_FOR_PITCH
    )


def level_from_board(
    views: list[BoardView], lens: Intrinsics, lens_calibrated: bool, size_px: tuple[int, int]
) -> Level:
    """Median attitude over the views.

    Pitch is kept only with a calibrated lens and views of the board large enough
    in the picture (MIN_SPAN_FOR_PITCH) with corners on at least 3 of its rows and
    columns (MIN_LINES_FOR_PITCH); otherwise it is None.
    """
    if not views:
        raise InputError(
            "The board was not found: hang the printed board flat on a wall or door frame, "
            "edges plumb, fully in view and well lit, and take the picture again."
        )
    spans = np.array([board_span(v, size_px) for v in views])
    if spans.max() < MIN_SPAN_FOR_ROLL:
        raise InputError(
            "The board is too small in the picture to measure the camera's level: hang it "
            "closer to the camera, so that it fills at least a quarter of the picture's width."
        )
    views = [v for v, s in zip(views, spans, strict=True) if s >= MIN_SPAN_FOR_ROLL]
    attitudes = [attitude_from_board(v, lens) for v in views]
    rolls = np.array([a.roll_deg for a in attitudes])
    big = np.array([good_for_pitch(v, size_px) for v in views])
    pitches = np.array([a.pitch_deg for a in attitudes])[big]
    spread = float(1.4826 * np.median(np.abs(rolls - np.median(rolls)))) if len(views) > 1 else None
    if spread is not None and spread > MAX_LEVEL_SPREAD_DEG:
        raise InputError(
            f"The board's tilt varies by about {spread:.1f} deg between pictures: keep the "
            "camera still and the board flat against the wall, then measure again."
        )
    pitch = float(np.median(pitches)) if lens_calibrated and len(pitches) else None
    return Level(
        float(np.median(rolls)), pitch, "board", size_px[0], size_px[1], len(views), spread,
        now_iso(),
    )  # fmt: skip


def parse_line(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """'x1,y1,x2,y2' (pixels) -> two points."""
    try:
        x1, y1, x2, y2 = (float(v) for v in text.split(","))
    except ValueError as err:
        raise InputError(
            f"--line '{text}' is not four numbers: give the two ends of a vertical line in "
            "pixels as x1,y1,x2,y2 (for example 640,100,652,620)."
        ) from err
    return (x1, y1), (x2, y2)


def roll_from_line(p1: tuple[float, float], p2: tuple[float, float], lens: Intrinsics) -> float:
    """Camera roll from two points on a true vertical (door frame, plumb line) in the picture.

    The points are undistorted and normalised by the lens first. Verticals
    converge when the camera is pitched, so a line near the picture's vertical
    middle gives the truest roll.
    """
    import cv2

    pts = np.array([p1, p2], float)
    length = float(np.linalg.norm(pts[1] - pts[0]))
    if length < MIN_LINE_LENGTH_PX:
        raise InputError(
            f"The line is only {length:.0f} px long: mark two points at least "
            f"{MIN_LINE_LENGTH_PX:.0f} px apart, far apart along the vertical."
        )
    xy = cv2.undistortPoints(
        pts.reshape(-1, 1, 2), lens.matrix(), np.asarray(lens.distortion, float)
    ).reshape(-1, 2)
    d = xy[1] - xy[0]
    if d[1] < 0:
        d = -d  # point it down, like gravity
    if abs(d[0]) > d[1]:
        raise InputError(
            "The line given is closer to horizontal than vertical: mark a vertical edge "
            "(door frame, plumb line) with --line x1,y1,x2,y2."
        )
    return float(np.degrees(np.arctan2(d[0], d[1])))


def level_from_line(line: str, lens: Intrinsics, size_px: tuple[int, int]) -> Level:
    p1, p2 = parse_line(line)
    for x, y in (p1, p2):
        if not (0 <= x < size_px[0] and 0 <= y < size_px[1]):
            raise InputError(
                f"The point ({x:g}, {y:g}) is outside the {size_px[0]}x{size_px[1]} picture: "
                "give pixel coordinates inside it."
            )
    roll = roll_from_line(p1, p2, lens)
    return Level(roll, None, "line", size_px[0], size_px[1], 1, None, now_iso())
