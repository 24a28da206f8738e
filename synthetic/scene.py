"""Scene description for synthetic renders: vertex paint, cameras, backgrounds, truth records.

Pure numpy (no pyrender): everything a benchmark needs to know about a render lives here.

Camera conventions
------------------
- ``Camera.pose`` is camera-to-world in the OpenGL convention (pyrender's): the camera looks
  along its -z axis, +y is image up.
- ``Camera.intrinsics`` is the OpenCV matrix K; pixel (u, v) has its origin at the top-left
  corner of the image, u to the right, v down (the centre of the top-left pixel is (0.5, 0.5)
  in this continuous convention, as in OpenCV's projectPoints with cx = width / 2).
- ``Camera.world_to_camera_cv`` is the 4x4 world -> OpenCV camera (x right, y down, z forward).
- ``azimuth_deg``: where the camera stands around the subject, from the subject's forward
  direction toward the subject's LEFT: 0 = in front, +90 = on the subject's left (view
  "left": the subject's left side faces the camera), -90 = on the right.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np

from posture.arrays import Array
from synthetic.rig import (
    Body,
    PosedBody,
    landmarks_3d,
    load_bodies,
    trunk_axes_horizontal,
    truth_angles,
)

# ----------------------------------------------------------------------------- regions
SKIN, HAIR, BROW, SCLERA, IRIS, PUPIL, LIPS, SHIRT, TROUSERS, SHOES, CAVITY, LID = range(12)
REGION_NAMES = (
    "skin",
    "hair",
    "eyebrow",
    "sclera",
    "iris",
    "pupil",
    "lips",
    "shirt",
    "trousers",
    "shoes",
    "cavity",
    "eyelid",
)

_TORSO_BONES = ("spine01", "spine02", "spine03", "spine04", "spine05", "root")
_SHOULDER_BONES = ("clavicle", "shoulder01", "upperarm01", "upperarm02")
_LEG_BONES = ("pelvis", "upperleg01", "upperleg02", "lowerleg01", "lowerleg02")
_FOOT_PREFIXES = ("foot", "toe")

_REGION_CACHE: dict[int, Array] = {}


def region_labels(body: Body, long_sleeves: bool = False) -> Array:
    """Per-vertex region ids (same topology for every body; computed on the neutral body)."""
    key = int(long_sleeves)
    if key in _REGION_CACHE:
        return _REGION_CACHE[key]
    ref = load_bodies().body(0)
    v = ref.rest_vertices
    names = ref.bone_names
    dominant = ref.skin_indices[np.arange(len(v)), np.argmax(ref.skin_weights, axis=1)]
    dom_name = np.array([names[i].split(".")[0] for i in dominant])
    seg = np.array(ref.segment_names)[ref.segment]
    heads = ref.rest_bone_heads
    labels = np.full(len(v), SKIN, dtype=np.uint8)

    # Clothes by dominant bone.
    neck_z = heads[ref.bone("neck01")][2]
    torso = np.isin(dom_name, _TORSO_BONES + _SHOULDER_BONES[:3])
    sleeve_bones = ("upperarm01", "upperarm02") + (
        ("lowerarm01", "lowerarm02") if long_sleeves else ()
    )
    torso |= np.isin(dom_name, sleeve_bones)
    neckline = np.where(v[:, 1] < 0.0, neck_z - 0.045, neck_z - 0.015)
    labels[torso & (v[:, 2] < neckline)] = SHIRT
    legs = np.isin(dom_name, _LEG_BONES)
    labels[legs] = TROUSERS
    feet = np.array([n.startswith(_FOOT_PREFIXES) for n in dom_name])
    labels[feet] = SHOES
    # Shirt covers the pelvis top; trousers from the hips down.
    hip_z = heads[ref.bone("upperleg01.L")][2]
    labels[(labels == SHIRT) & (v[:, 2] < hip_z + 0.06)] = TROUSERS

    # Head: hair on the scalp (hairline lower at the back), not on the ears or face.
    eye_l, eye_r = heads[ref.bone("eye.L")], heads[ref.bone("eye.R")]
    eye_c = 0.5 * (eye_l + eye_r)
    head_seg = seg == "head"
    ears = ref.uv_masks["ears"] > 96
    # hairline height above the eyes: 5.5 cm at the front, falling to -3 cm at the nape
    back = np.clip((v[:, 1] - (eye_c[1] + 0.03)) / 0.12, 0.0, 1.0)
    hairline = eye_c[2] + 0.055 - back * 0.085
    side = np.abs(v[:, 0]) > 0.062
    hairline = np.where(
        side & (v[:, 1] < eye_c[1] + 0.09), np.maximum(hairline, eye_c[2] + 0.01), hairline
    )
    hair = head_seg & (v[:, 2] > hairline) & ~ears
    labels[hair] = HAIR
    # Eyebrows: arcs above each eye on the front of the face.
    for e in (eye_l, eye_r):
        dx = v[:, 0] - e[0]
        brow_z = e[2] + 0.027 - 0.008 * (dx / 0.025) ** 2
        brow = (
            head_seg
            & (dx * np.sign(e[0]) > -0.017)
            & (dx * np.sign(e[0]) < 0.027)
            & (np.abs(v[:, 2] - brow_z) < 0.0035)
            & (v[:, 1] < e[1] + 0.015)
            & (np.sign(v[:, 0]) == np.sign(e[0]))
        )
        labels[brow] = BROW
    labels[head_seg & (ref.uv_masks["lips"] > 128)] = LIPS
    labels[head_seg & (ref.uv_masks["eyelids"] > 128) & (labels == SKIN)] = LID
    labels[np.isin(seg, ("mouth_cavity", "tongue", "eye_cavity.L", "eye_cavity.R"))] = CAVITY
    # Eyeballs: sclera, iris and pupil by angle from the eye's forward (-y) axis.
    for bone_name, e in (("eye.L", eye_l), ("eye.R", eye_r)):
        on_eye = dom_name == bone_name.split(".")[0]
        on_eye &= np.sign(v[:, 0]) == np.sign(e[0])
        d = v - e
        cos_angle = -d[:, 1] / np.maximum(np.linalg.norm(d, axis=1), 1e-9)
        labels[on_eye] = SCLERA
        labels[on_eye & (cos_angle > math.cos(math.radians(38)))] = IRIS
        labels[on_eye & (cos_angle > math.cos(math.radians(16)))] = PUPIL
    _REGION_CACHE[key] = labels
    return labels


# ----------------------------------------------------------------------------- appearance
SKIN_TONES = (
    (244, 208, 183),
    (231, 185, 152),
    (209, 158, 118),
    (176, 122, 86),
    (133, 88, 58),
    (92, 60, 42),
)
HAIR_COLOURS = ((25, 20, 18), (60, 40, 28), (105, 72, 45), (170, 135, 85), (150, 150, 150))
IRIS_COLOURS = ((70, 45, 30), (45, 80, 120), (80, 100, 60), (40, 30, 25))
SHIRT_COLOURS = (
    (40, 80, 160),
    (180, 40, 50),
    (60, 130, 70),
    (230, 230, 225),
    (50, 50, 55),
    (220, 170, 60),
    (120, 70, 140),
    (90, 150, 180),
)
TROUSER_COLOURS = ((35, 40, 60), (50, 50, 50), (150, 130, 95), (70, 80, 110), (20, 20, 25))
# Outside SKIN_TONES' range (lightest 244/208/183, darkest 92/60/42), for the held-out looks
# (benchmarks/rom_wide_looks.py). Kept apart: random_appearance draws from SKIN_TONES only,
# so every existing random render is unchanged.
SKIN_TONE_VERY_LIGHT = (252, 228, 214)
SKIN_TONE_VERY_DARK = (58, 38, 28)
GLASSES_RGB = (22, 22, 26)


@dataclass(frozen=True)
class Appearance:
    skin_rgb: tuple[int, int, int] = SKIN_TONES[1]
    hair_rgb: tuple[int, int, int] = HAIR_COLOURS[1]
    iris_rgb: tuple[int, int, int] = IRIS_COLOURS[0]
    shirt_rgb: tuple[int, int, int] = SHIRT_COLOURS[0]
    trousers_rgb: tuple[int, int, int] = TROUSER_COLOURS[0]
    shoes_rgb: tuple[int, int, int] = (30, 25, 22)
    long_sleeves: bool = False
    # Meshes on the head bone (synthetic.looks); off by default: no mesh is added.
    glasses: bool = False  # dark thin rims, bridge and temples to the ears
    long_hair: bool = False  # covers the ears, falls to the shoulders (hair_rgb)
    glasses_rgb: tuple[int, int, int] = GLASSES_RGB


def random_appearance(rng: np.random.Generator) -> Appearance:
    def pick(options: tuple[tuple[int, int, int], ...]) -> tuple[int, int, int]:
        return options[int(rng.integers(len(options)))]

    return Appearance(
        skin_rgb=pick(SKIN_TONES),
        hair_rgb=pick(HAIR_COLOURS),
        iris_rgb=pick(IRIS_COLOURS),
        shirt_rgb=pick(SHIRT_COLOURS),
        trousers_rgb=pick(TROUSER_COLOURS),
        shoes_rgb=pick(((30, 25, 22), (200, 200, 200), (90, 60, 40))),
        long_sleeves=bool(rng.random() < 0.5),
    )


def vertex_colours(body: Body, appearance: Appearance) -> Array:
    """(V, 4) uint8 RGBA vertex colours."""
    labels = region_labels(body, appearance.long_sleeves)
    skin = np.asarray(appearance.skin_rgb, dtype=np.float64)
    lips = skin * np.array([0.78, 0.55, 0.55])
    palette = np.zeros((len(REGION_NAMES), 3))
    palette[SKIN] = skin
    palette[HAIR] = appearance.hair_rgb
    palette[BROW] = np.asarray(appearance.hair_rgb) * 0.7
    palette[SCLERA] = (235, 232, 225)
    palette[IRIS] = appearance.iris_rgb
    palette[PUPIL] = (12, 10, 10)
    palette[LIPS] = lips
    palette[SHIRT] = appearance.shirt_rgb
    palette[TROUSERS] = appearance.trousers_rgb
    palette[SHOES] = appearance.shoes_rgb
    palette[CAVITY] = (60, 25, 25)
    palette[LID] = skin * 0.85
    rgb = palette[labels]
    out = np.empty((len(labels), 4), dtype=np.uint8)
    out[:, :3] = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    out[:, 3] = 255
    return out


# ----------------------------------------------------------------------------- cameras
@dataclass(frozen=True)
class Camera:
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    pose: Array  # 4x4 camera-to-world, OpenGL axes (looks along -z)
    azimuth_deg: float = 0.0
    view: str = "front"

    @property
    def intrinsics(self) -> Array:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def world_to_camera_cv(self) -> Array:
        gl_to_cv = np.diag([1.0, -1.0, -1.0, 1.0])
        return gl_to_cv @ np.linalg.inv(self.pose)

    def project(self, points: Array) -> tuple[Array, Array]:
        """World points (N, 3) -> pixels (N, 2) and depths along the optical axis (N,)."""
        p = np.atleast_2d(points)
        m = self.world_to_camera_cv
        c = p @ m[:3, :3].T + m[:3, 3]
        z = c[:, 2]
        uv = np.stack([self.fx * c[:, 0] / z + self.cx, self.fy * c[:, 1] / z + self.cy], 1)
        return uv, z

    def to_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "intrinsics": self.intrinsics.round(4).tolist(),
            "world_to_camera_cv": self.world_to_camera_cv.round(6).tolist(),
            "camera_to_world_gl": np.asarray(self.pose).round(6).tolist(),
            "position_m": np.asarray(self.pose)[:3, 3].round(4).tolist(),
            "azimuth_deg": round(self.azimuth_deg, 3),
        }


def view_for_azimuth(azimuth_deg: float) -> str:
    a = abs(azimuth_deg)
    if a <= 15.0:
        return "front"
    if a >= 65.0:
        return "left" if azimuth_deg > 0 else "right"
    return "oblique"


def look_at_pose(eye: Array, target: Array, roll_deg: float = 0.0) -> Array:
    """Camera-to-world (OpenGL) looking from eye to target, world z up, rolled about the axis."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, np.array([0.0, 0.0, 1.0]))
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    r = math.radians(roll_deg)
    right, up = (
        math.cos(r) * right + math.sin(r) * up,
        -math.sin(r) * right + math.cos(r) * up,
    )
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, up, -forward, eye
    return pose


FRAMINGS = {"head": 0.42, "upper": 0.95, "full": None}  # vertical extent in metres


def framing_target(posed: PosedBody, framing: str) -> tuple[Array, float]:
    """(target point, vertical extent in metres) for a framing of the posed body."""
    lm = landmarks_3d(posed)
    head_c = 0.5 * (lm["tragus_left"] + lm["tragus_right"])
    if framing == "head":
        return 0.6 * head_c + 0.4 * lm["c7"], cast(float, FRAMINGS["head"])
    if framing == "upper":
        sh = 0.5 * (lm["shoulder_left"] + lm["shoulder_right"])
        return 0.5 * (head_c + sh) - np.array([0.0, 0.0, 0.12]), cast(float, FRAMINGS["upper"])
    v = posed.vertices
    lo, hi = v.min(0), v.max(0)
    return 0.5 * (lo + hi), float(hi[2] - lo[2]) * 1.12


def make_camera(
    posed: PosedBody,
    *,
    azimuth_deg: float = 0.0,
    distance_m: float = 2.0,
    height_offset_m: float = 0.0,
    roll_deg: float = 0.0,
    width: int = 640,
    height: int = 480,
    framing: str = "upper",
    zoom: float = 1.0,
    target_offset_m: Array | None = None,
) -> Camera:
    """A camera around the posed subject; focal length chosen so the framing fills the image."""
    target, extent = framing_target(posed, framing)
    if target_offset_m is not None:
        target = target + target_offset_m
    forward, left = trunk_axes_horizontal(posed)
    a = math.radians(azimuth_deg)
    direction = math.cos(a) * forward + math.sin(a) * left
    eye = target + distance_m * direction + np.array([0.0, 0.0, height_offset_m])
    pose = look_at_pose(eye, target, roll_deg)
    f = zoom * min(height, width * 1.3) * distance_m / extent
    return Camera(
        width=width,
        height=height,
        fx=f,
        fy=f,
        cx=width / 2.0,
        cy=height / 2.0,
        pose=pose,
        azimuth_deg=azimuth_deg,
        view=view_for_azimuth(azimuth_deg),
    )


# ----------------------------------------------------------------------------- lighting
@dataclass(frozen=True)
class Lighting:
    key_intensity: float = 1.8
    key_azimuth_deg: float = 30.0  # relative to the camera direction
    key_elevation_deg: float = 35.0
    fill_intensity: float = 0.7
    ambient: float = 0.25


def random_lighting(rng: np.random.Generator) -> Lighting:
    return Lighting(
        key_intensity=float(rng.uniform(1.2, 2.6)),
        key_azimuth_deg=float(rng.uniform(-60, 60)),
        key_elevation_deg=float(rng.uniform(10, 60)),
        fill_intensity=float(rng.uniform(0.3, 1.0)),
        ambient=float(rng.uniform(0.15, 0.4)),
    )


# ----------------------------------------------------------------------------- backgrounds
def make_background(rng: np.random.Generator, width: int, height: int, kind: str) -> Array:
    """RGB uint8 background: 'plain', 'gradient', 'stripes', 'checker', 'noise' or 'room'."""
    base = rng.uniform(40, 230, size=3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "plain":
        img = np.broadcast_to(base, (height, width, 3)).astype(np.float32)
    elif kind == "gradient":
        other = rng.uniform(40, 230, size=3)
        t = (yy / max(height - 1, 1))[..., None]
        img = (1 - t) * base + t * other
    elif kind == "stripes":
        period = rng.uniform(20, 120)
        angle = rng.uniform(0, math.pi)
        s = np.sin((xx * math.cos(angle) + yy * math.sin(angle)) * 2 * math.pi / period) > 0
        other = rng.uniform(40, 230, size=3)
        img = np.where(s[..., None], base, other)
    elif kind == "checker":
        cell = rng.uniform(25, 90)
        s = ((xx // cell + yy // cell) % 2).astype(bool)
        img = np.where(s[..., None], base, base * rng.uniform(0.6, 0.9))
    elif kind == "noise":
        small = rng.uniform(0, 1, size=(max(height // 24, 2), max(width // 24, 2), 3))
        iy = np.minimum((yy / height * small.shape[0]).astype(int), small.shape[0] - 1)
        ix = np.minimum((xx / width * small.shape[1]).astype(int), small.shape[1] - 1)
        img = base * (0.7 + 0.5 * small[iy, ix])
    else:  # "room": wall, floor, a door and a picture frame
        img = np.broadcast_to(base, (height, width, 3)).astype(np.float32).copy()
        floor_y = int(height * rng.uniform(0.7, 0.9))
        img[floor_y:] = rng.uniform(60, 160, size=3)
        x0 = int(rng.uniform(0, 0.8) * width)
        img[int(height * 0.2) : floor_y, x0 : x0 + width // 6] = rng.uniform(80, 200, size=3)
        x1 = int(rng.uniform(0, 0.8) * width)
        y1 = int(rng.uniform(0.05, 0.4) * height)
        img[y1 : y1 + height // 8, x1 : x1 + width // 7] = rng.uniform(20, 240, size=3)
    return np.clip(img, 0, 255).astype(np.uint8)


BACKGROUND_KINDS = ("plain", "gradient", "stripes", "checker", "noise", "room")


def add_noise(rng: np.random.Generator, image: Array, sigma: float) -> Array:
    if sigma <= 0:
        return image
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, size=image.shape)
    return np.ascontiguousarray(np.clip(np.round(noisy), 0, 255).astype(np.uint8))


# ----------------------------------------------------------------------------- truth
TRUTH_POINTS = (
    "c7",
    "tragus_left",
    "tragus_right",
    "eye_left",
    "eye_right",
    "shoulder_left",
    "shoulder_right",
    "acromion_left",
    "acromion_right",
    "nose_tip",
)


def frame_truth(posed: PosedBody, camera: Camera, depth: Array | None = None) -> dict[str, object]:
    """JSON-serialisable ground truth for one render (angles, 2D points, camera, body)."""
    truth: dict[str, object] = {k: round(v, 4) for k, v in truth_angles(posed).items()}
    lm = landmarks_3d(posed)
    names = list(TRUTH_POINTS)
    pts = np.stack([lm[n] for n in names])
    uv, z = camera.project(pts)
    points_2d: dict[str, object] = {}
    for name, (u, v), zz, p in zip(names, uv, z, pts, strict=True):
        inside = bool(zz > 0 and 0 <= u < camera.width and 0 <= v < camera.height)
        visible: bool | None = None
        if depth is not None and inside:
            # Not hidden by another part of the body: the nearest surface around the pixel is
            # not more than 2 cm in front of the point (a silhouette pixel counts as visible).
            y0, x0 = int(v), int(u)
            patch = depth[max(y0 - 1, 0) : y0 + 2, max(x0 - 1, 0) : x0 + 2]
            front = patch[patch > 0]
            visible = bool(front.size == 0 or zz <= float(front.max()) + 0.02)
        points_2d[name] = {
            "xy": [round(float(u), 2), round(float(v), 2)],
            "in_image": inside,
            "visible": visible,
            "world_m": [round(float(c), 5) for c in p],
        }
    truth["points_2d"] = points_2d
    truth["view"] = camera.view
    truth["camera"] = camera.to_json()
    truth["body"] = {
        "id": posed.body.index,
        "name": posed.body.name,
        "phenotype": {k: round(v, 3) for k, v in posed.body.phenotype.items()},
    }
    truth["pose"] = {k: round(float(v), 4) for k, v in asdict(posed.pose).items()}
    return truth
