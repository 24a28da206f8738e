"""Pictures of the board taken by a known camera, for tests and the validation benchmark.

Each output pixel is traced back through the lens (OpenCV's distortion model,
inverted numerically) and the pinhole to the board plane, where the printed
board is sampled. A sensor pixel records the mean of the board over its area:
the render samples 2 x 2 points per pixel from the printed board first
averaged over one sample's footprint (a box filter as wide as the spacing of
the samples on the board), so an edge's grey level follows its exact position.
Point samples alone snap edges that run near the pixel rows or columns to half
pixels: the corners detected in a 640x480 picture moved by up to 0.3 px and the
pitch measured from them by up to 0.5 deg (0.15 deg with area sampling).

Camera attitude convention (as everywhere in posture): ``roll_deg`` + = camera
rolled clockwise as seen from behind it (the true horizontal appears rotated
counter-clockwise in the picture); ``pitch_deg`` + = camera looking down;
``yaw_deg`` + = camera turned to its right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posture.arrays import Array
from posture.calibration.board import BoardLayout, board_image
from posture.calibration.profiles import Intrinsics

PAPER_MARGIN_MM = 12.0  # white paper around the board, as printed
SUPERSAMPLE = 2


@dataclass(frozen=True)
class BoardPose:
    """Board -> camera: ``x_cam = R @ x_board + t`` (metres)."""

    rotation: Array
    translation_m: Array


def rot_x(a_deg: float) -> Array:
    c, s = np.cos(np.radians(a_deg)), np.sin(np.radians(a_deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(a_deg: float) -> Array:
    c, s = np.cos(np.radians(a_deg)), np.sin(np.radians(a_deg))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(a_deg: float) -> Array:
    c, s = np.cos(np.radians(a_deg)), np.sin(np.radians(a_deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def camera_to_world(roll_deg: float, pitch_deg: float, yaw_deg: float = 0.0) -> Array:
    """Camera axes in a world whose x is horizontal, y points down (gravity), z horizontal.

    A level camera (all zero) has the same axes as the world. Camera x right,
    y down, z forward (OpenCV).
    """
    return rot_y(yaw_deg) @ rot_x(-pitch_deg) @ rot_z(roll_deg)


def wall_board_pose(
    layout: BoardLayout,
    roll_deg: float,
    pitch_deg: float,
    yaw_deg: float = 0.0,
    distance_m: float = 0.8,
    board_offset_m: tuple[float, float] = (0.0, 0.0),
) -> BoardPose:
    """A board hung upright and plumb on a wall, seen by a camera with that attitude.

    The wall is the world plane z = ``distance_m``; the board's centre is at
    ``board_offset_m`` (right, down) from the point straight ahead of the camera.
    """
    w_m, h_m = (v / 1000.0 for v in layout.size_mm)
    centre = np.array([board_offset_m[0], board_offset_m[1], distance_m])
    origin_world = centre - np.array([w_m / 2, h_m / 2, 0.0])  # board axes = world axes
    r_cw = camera_to_world(roll_deg, pitch_deg, yaw_deg)
    return BoardPose(r_cw.T, r_cw.T @ origin_world)


def handheld_board_pose(
    layout: BoardLayout, tilt_x_deg: float, tilt_y_deg: float, spin_deg: float, distance_m: float,
    offset_m: tuple[float, float] = (0.0, 0.0),
) -> BoardPose:  # fmt: skip
    """A board held in front of the camera, tilted about its own axes and spun in its plane."""
    w_m, h_m = (v / 1000.0 for v in layout.size_mm)
    r = rot_x(tilt_x_deg) @ rot_y(tilt_y_deg) @ rot_z(spin_deg)
    centre_board = np.array([w_m / 2, h_m / 2, 0.0])
    centre_cam = np.array([offset_m[0], offset_m[1], distance_m])
    return BoardPose(r, centre_cam - r @ centre_board)


@dataclass
class BoardRenderer:
    """Renders the printed board (with its white paper margin) through a camera."""

    layout: BoardLayout = field(default_factory=BoardLayout)
    px_per_mm: float = 8.0
    background: int = 110  # grey wall or room behind the paper

    def __post_init__(self) -> None:
        import cv2

        board = board_image(self.layout, self.px_per_mm)
        margin_px = int(round(PAPER_MARGIN_MM * self.px_per_mm))
        self._texture = cv2.copyMakeBorder(
            board, margin_px, margin_px, margin_px, margin_px, cv2.BORDER_CONSTANT, value=(255,)
        ).astype(np.float32)
        self._margin_px = margin_px
        self._rays_cache: dict[Intrinsics, Array] = {}
        self._area_cache: dict[float, Array] = {}

    def render(
        self,
        camera: Intrinsics,
        pose: BoardPose,
        noise_sigma: float = 0.0,
        seed: int = 0,
    ) -> Array:
        """Grey uint8 picture (height x width) of the board seen by ``camera`` from ``pose``."""
        import cv2

        rays = self._rays(camera)  # (H*s, W*s, 3) directions in camera axes
        r, t = pose.rotation, pose.translation_m
        o_b = -r.T @ t  # camera centre in board axes
        d_b = rays @ r  # ray directions in board axes (R^T d for each ray)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = -o_b[2] / d_b[..., 2]
        hit = o_b[None, None, :2] + s[..., None] * d_b[..., :2]  # metres on the board
        scale = 1000.0 * self.px_per_mm
        map_x = (hit[..., 0] * scale + self._margin_px - 0.5).astype(np.float32)
        map_y = (hit[..., 1] * scale + self._margin_px - 0.5).astype(np.float32)
        behind = ~(s > 0)
        map_x[behind] = -1e6
        big = cv2.remap(
            self._area_texture(map_x, map_y), map_x, map_y, cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(float(self.background),),
        )  # fmt: skip
        h, w = camera.height_px, camera.width_px
        small = big.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE).mean(axis=(1, 3))
        if noise_sigma > 0:
            small = small + np.random.default_rng(seed).normal(0.0, noise_sigma, small.shape)
        picture: Array = np.clip(np.round(small), 0, 255).astype(np.uint8)
        return picture

    def _area_texture(self, map_x: Array, map_y: Array) -> Array:
        """The printed board box-filtered over one sample's footprint on it (median over the
        samples that land on the paper; every 8th, as the footprint varies slowly)."""
        import cv2

        def grid(m: Array, di: int, dj: int) -> Array:
            return m[di : m.shape[0] - 1 + di : 8, dj : m.shape[1] - 1 + dj : 8]

        x, y = grid(map_x, 0, 0), grid(map_y, 0, 0)
        ux, uy = grid(map_x, 0, 1) - x, grid(map_y, 0, 1) - y  # one sample right
        vx, vy = grid(map_x, 1, 0) - x, grid(map_y, 1, 0) - y  # one sample down
        h, w = self._texture.shape
        on = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        area = np.abs(ux * vy - uy * vx)[on]
        width = float(np.sqrt(np.median(area))) if area.size else 1.0
        width = round(max(width, 1.0), 2)
        if width not in self._area_cache:
            k = _box_kernel(width)
            self._area_cache = {
                width: cv2.sepFilter2D(self._texture, -1, k, k, borderType=cv2.BORDER_REPLICATE)
            }
        return self._area_cache[width]

    def _rays(self, camera: Intrinsics) -> Array:
        if camera not in self._rays_cache:
            self._rays_cache = {camera: _undistorted_rays(camera)}
        return self._rays_cache[camera]


def _box_kernel(width: float) -> Array:
    """A centred box filter ``width`` taps wide (fractional ends weighted by their overlap)."""
    half = width / 2
    n = int(np.ceil(half - 0.5))
    i = np.arange(-n, n + 1)
    w = np.clip(np.minimum(i + 0.5, half) - np.maximum(i - 0.5, -half), 0.0, None)
    kernel: Array = (w / w.sum()).astype(np.float32)
    return kernel


def _undistorted_rays(camera: Intrinsics) -> Array:
    """Ray direction (x, y, 1) of every supersampled pixel centre, lens distortion undone."""
    import cv2

    s = SUPERSAMPLE
    u = (np.arange(camera.width_px * s) + 0.5) / s - 0.5
    v = (np.arange(camera.height_px * s) + 0.5) / s - 0.5
    uu, vv = np.meshgrid(u, v)
    pts = np.stack([uu.ravel(), vv.ravel()], axis=1).reshape(-1, 1, 2)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-9)
    # cv2 stubs: no None for R and P (None: no rectification, normalised output).
    xy = cv2.undistortPointsIter(  # type: ignore[call-overload]
        pts, camera.matrix(), np.asarray(camera.distortion, float), None, None, criteria
    ).reshape(camera.height_px * s, camera.width_px * s, 2)
    return np.concatenate([xy, np.ones(xy.shape[:2] + (1,))], axis=2)


def project_points(camera: Intrinsics, pose: BoardPose, object_m: Array) -> Array:
    """Board points (N, 3) -> pixels (N, 2) through the camera (OpenCV's projection)."""
    import cv2

    rvec, _ = cv2.Rodrigues(pose.rotation)
    px, _ = cv2.projectPoints(
        object_m.reshape(-1, 1, 3),
        rvec,
        pose.translation_m.reshape(3, 1),
        camera.matrix(),
        np.asarray(camera.distortion, float),
    )
    return px.reshape(-1, 2)
