"""Camera intrinsics and lens distortion from several views of the board (OpenCV's calibration).

Focal length is only measurable from views in which the board is tilted
(perspective foreshortening); distortion from views that reach the image's
edges. Too few or too similar views are refused rather than giving a lens that
only fits those pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture.arrays import Array
from posture.calibration.board import BoardLayout
from posture.calibration.detect import BoardView
from posture.calibration.pictures import Detections
from posture.calibration.profiles import Intrinsics, LensCalibration, now_iso
from posture.errors import InputError

MIN_VIEWS = 6
MAX_VIEWS = 40  # more adds time, not accuracy
# Two views are the same when they share most corners at nearly the same place
# (a board held still in a video): keeping both would weight that pose twice.
SAME_VIEW_SHARED_IDS = 0.8
SAME_VIEW_SHIFT_FRACTION = 0.01  # of the image diagonal
# The focal length shows only in foreshortening: some views must be tilted, about
# at least two different axes (Zhang's method needs non-parallel board planes).
# OpenCV's own standard deviation of fx cannot be trusted for this: with square-on
# views it converges to a wrong focal length and reports a small uncertainty.
MIN_TILT_DEG = 15.0
MIN_TILTED_VIEWS = 3
MIN_TILT_AXIS_SPREAD_DEG = 30.0
MAX_FOCAL_RELATIVE_SD = 0.02
# A view fitting much worse than the rest is blurred or mis-detected.
OUTLIER_VIEW_ERROR_FACTOR = 3.0
OUTLIER_VIEW_MIN_ERROR_PX = 1.0
POOR_REPROJECTION_PX = 1.0


@dataclass(frozen=True)
class _Fit:
    intrinsics: Intrinsics
    rms_px: float
    fx_sd_px: float
    per_view_error_px: Array
    board_normals: Array  # (N, 3) each view's board normal in camera axes


def distinct_views(views: list[BoardView], size_px: tuple[int, int]) -> list[BoardView]:
    """Drop views nearly identical to an earlier one; keep at most MAX_VIEWS, evenly spread."""
    diagonal = float(np.hypot(*size_px))
    kept: list[BoardView] = []
    for v in views:
        if not any(_same_view(v, k, diagonal) for k in kept):
            kept.append(v)
    if len(kept) > MAX_VIEWS:
        idx = np.linspace(0, len(kept) - 1, MAX_VIEWS).round().astype(int)
        kept = [kept[i] for i in idx]
    return kept


def _same_view(a: BoardView, b: BoardView, diagonal_px: float) -> bool:
    shared, ia, ib = np.intersect1d(a.ids, b.ids, return_indices=True)
    if len(shared) < SAME_VIEW_SHARED_IDS * max(a.n_corners, b.n_corners):
        return False
    shift = np.linalg.norm(a.image_px[ia] - b.image_px[ib], axis=1).mean()
    return bool(shift < SAME_VIEW_SHIFT_FRACTION * diagonal_px)


def check_enough_views(detections: Detections, views: list[BoardView]) -> None:
    n = detections.pictures_read
    if not detections.views:
        raise InputError(
            f"The board was not found in any of the {n} picture(s): keep the whole printed "
            "board (from 'posture calibrate board') in view, sharp and well lit."
        )
    if len(views) < MIN_VIEWS:
        raise InputError(
            f"The board was found in only {len(views)} different view(s) of {n} picture(s); "
            f"at least {MIN_VIEWS} are needed: add views with the board tilted in different "
            "directions and in different parts of the picture."
        )


def calibrate_lens(detections: Detections, layout: BoardLayout) -> LensCalibration:
    """Fit fx, fy, cx, cy and distortion (k1, k2, p1, p2; k3 fixed at 0) to the views."""
    views = distinct_views(detections.views, detections.size_px)
    check_enough_views(detections, views)
    fit = _fit(views, detections.size_px)
    errors = fit.per_view_error_px
    limit = max(OUTLIER_VIEW_ERROR_FACTOR * float(np.median(errors)), OUTLIER_VIEW_MIN_ERROR_PX)
    good = [v for v, e in zip(views, errors, strict=True) if e <= limit]
    if len(good) < len(views) and len(good) >= MIN_VIEWS:
        views, fit = good, _fit(good, detections.size_px)
    k = fit.intrinsics
    if not views_are_varied(fit.board_normals) or fit.fx_sd_px > MAX_FOCAL_RELATIVE_SD * k.fx_px:
        raise InputError(
            "The board views are too alike to measure the lens: add views with the board "
            "tilted 20-40 deg to each side, up and down."
        )
    return LensCalibration(k, fit.rms_px, len(views), layout.to_dict(), now_iso())


def views_are_varied(board_normals: Array) -> bool:
    """Enough views tilted MIN_TILT_DEG or more, about axes MIN_TILT_AXIS_SPREAD_DEG apart."""
    n = np.asarray(board_normals, float)
    tilt_deg = np.degrees(np.arccos(np.clip(np.abs(n[:, 2]), 0.0, 1.0)))
    tilted = n[tilt_deg >= MIN_TILT_DEG]
    if len(tilted) < MIN_TILTED_VIEWS:
        return False
    axis_deg = np.degrees(np.arctan2(tilted[:, 1], tilted[:, 0])) % 180.0
    diff = np.abs(axis_deg[:, None] - axis_deg[None, :])
    return bool(np.minimum(diff, 180.0 - diff).max() >= MIN_TILT_AXIS_SPREAD_DEG)


def _fit(views: list[BoardView], size_px: tuple[int, int]) -> _Fit:
    import cv2

    obj = [v.object_m.astype(np.float32).reshape(-1, 1, 3) for v in views]
    img = [v.image_px.astype(np.float32).reshape(-1, 1, 2) for v in views]
    flags = cv2.CALIB_FIX_K3  # k3 overfits with a dozen views of a flat board
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-10)
    # cv2 stubs: no None for cameraMatrix and distCoeffs (None: start from no guess).
    rms, k, dist, rvecs, _, sd_int, _, per_view = cv2.calibrateCameraExtended(  # type: ignore[call-overload]
        obj, img, size_px, None, None, flags=flags, criteria=criteria
    )
    d = dist.ravel()[:5]
    intrinsics = Intrinsics(
        size_px[0], size_px[1],
        float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]),
        tuple(float(x) for x in np.pad(d, (0, 5 - len(d)))),
    )  # fmt: skip
    normals = np.array([cv2.Rodrigues(r)[0][:, 2] for r in rvecs])
    return _Fit(intrinsics, float(rms), float(sd_int.ravel()[0]), per_view.ravel(), normals)


def reprojection_advice(lens: LensCalibration) -> str | None:
    if lens.reprojection_error_px <= POOR_REPROJECTION_PX:
        return None
    return (
        f"The reprojection error is high ({lens.reprojection_error_px:.2f} px): the board may "
        "be bent or the pictures blurred; flatten the board, use more light and calibrate again."
    )
