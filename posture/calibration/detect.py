"""Find the ChArUco board in a picture: matched board points (metres) and image points (pixels)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from posture.arrays import Array
from posture.calibration.board import BoardLayout, board_image

# A view needs this many identified corners: fewer cannot constrain a lens
# (OpenCV's minimum is 4 and collinear points are useless) and usually mean a
# board mostly out of the picture or too blurred.
MIN_CORNERS = 8
# Corner refinement window (half-size, px) as a fraction of the square's size in
# the picture. OpenCV's ChArUco refinement window suits big squares; on a board
# 1 m from a wide lens (squares ~20 px) it misplaces corners by up to 1 px,
# while a window of ~8% of the square keeps them within 0.2 px (benchmark).
REFINE_WINDOW_FRACTION = 0.08
REFINE_WINDOW_PX = (2, 10)
# Adjacent markers a ChArUco corner needs (OpenCV's default is 2). A board cut by
# the picture's edge loses its outer markers, and with 2 the next row of corners
# goes too although it is fully in view: a wall board seen by a camera pitched
# 10 deg kept 2 of its 4 rows and misread pitch by 0.5 deg; with 1, 3 rows and
# 0.13 deg (benchmarks/calibration_accuracy.py). Each marker carries its own id,
# so one marker identifies the corner unambiguously.
MIN_ADJACENT_MARKERS = 1


@dataclass(frozen=True)
class BoardView:
    """One picture's identified board corners.

    Attributes:
        object_m: (N, 3) corner positions on the board, metres (z = 0; x right,
            y down as printed).
        image_px: (N, 2) the same corners in the picture, pixels.
        ids: (N,) ChArUco corner ids.
        label: where the picture came from (file name, or video time).
    """

    object_m: Array
    image_px: Array
    ids: Array
    label: str

    @property
    def n_corners(self) -> int:
        return len(self.ids)


def to_grey(image: Array) -> Array:
    import cv2

    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


class BoardDetector:
    """ChArUco detection with one OpenCV detector reused across pictures."""

    def __init__(self, layout: BoardLayout | None = None) -> None:
        import cv2

        self.layout = layout or BoardLayout()
        self._board = self.layout.cv_board()
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE  # ChArUco refines corners
        charuco = cv2.aruco.CharucoParameters()
        charuco.minMarkers = MIN_ADJACENT_MARKERS
        self._detector = cv2.aruco.CharucoDetector(self._board, charuco, params)

    def detect(self, image: Array, label: str = "") -> BoardView | None:
        """The board's corners in an RGB or grey picture; None when fewer than MIN_CORNERS."""
        grey = to_grey(image)
        corners, ids, _, _ = self._detector.detectBoard(grey)
        if ids is None or len(ids) < MIN_CORNERS:
            return None
        if self._board.checkCharucoCornersCollinear(ids):
            return None
        # cv2 stubs: matchImagePoints wants a sequence; ChArUco corners are one array.
        obj, img = self._board.matchImagePoints(corners, ids)  # type: ignore[call-overload]
        image_px = img.reshape(-1, 2).astype(np.float64) - detector_bias_px()
        image_px = refine_corners(grey, image_px, ids.ravel())
        return BoardView(obj.reshape(-1, 3).astype(np.float64), image_px, ids.ravel(), label)


def refine_corners(grey: Array, image_px: Array, ids: Array) -> Array:
    """Sub-pixel corners with a window scaled to the squares' size in the picture."""
    import cv2

    order = np.argsort(ids)
    steps = np.linalg.norm(np.diff(image_px[order], axis=0), axis=1)
    square_px = float(np.median(steps)) if len(steps) else 0.0
    win = int(np.clip(round(REFINE_WINDOW_FRACTION * square_px), *REFINE_WINDOW_PX))
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 0.001)
    pts = image_px.astype(np.float32).reshape(-1, 1, 2)
    return cv2.cornerSubPix(grey, pts, (win, win), (-1, -1), criteria).reshape(-1, 2).astype(float)


@lru_cache(maxsize=1)
def detector_bias_px() -> float:
    """The constant offset of OpenCV's ChArUco corners, measured once on a perfect board.

    OpenCV 4.7-4.12 return corners +0.5 px off (opencv/opencv#25539, fixed by
    #28380): measuring it instead of hard-coding keeps fixed versions right.
    Pixel centres are at integer coordinates, so a corner between pixels 119
    and 120 is at 119.5.
    """
    import cv2

    layout, px_per_mm, margin_px = BoardLayout(), 4.0, 40
    image = cv2.copyMakeBorder(
        board_image(layout, px_per_mm),
        margin_px,
        margin_px,
        margin_px,
        margin_px,
        cv2.BORDER_CONSTANT,
        value=(255,),
    )
    board = layout.cv_board()
    corners, ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(image)
    if ids is None:
        return 0.0
    # cv2 stubs: matchImagePoints wants a sequence; ChArUco corners are one array.
    obj, img = board.matchImagePoints(corners, ids)  # type: ignore[call-overload]
    expected = obj.reshape(-1, 3)[:, :2] * 1000 * px_per_mm + margin_px - 0.5
    return round(float(np.mean(img.reshape(-1, 2) - expected)) * 2) / 2
