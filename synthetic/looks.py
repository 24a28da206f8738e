"""Looks that are not vertex paint: glasses and long hair, as simple meshes on the head bone.

Pure numpy. Each mesh is built once per body in the body's REST frame (from its rest
vertices, eye centres and tragi) and moved with the head bone's skinning transform, so it
turns with the head exactly (rigidly: the hair does not drape, it may dip into the
shoulders at large excursions). ``render.Renderer`` adds them when
``Appearance(glasses=True)`` / ``Appearance(long_hair=True)``; both are off by default (no
mesh, the render is unchanged).

- glasses: two rims around the eyes (rounded rectangles about 5.2 x 3.8 cm), a bridge over
  the nose and two temples running back along the side of the head to the top of the ears
  and hooking down behind them; thin dark tubes (2.2 mm radius), no lens surface.
- long hair: a shell a few millimetres outside the scalp, open for the face, that covers
  the ears and falls straight down to the base of the neck / top of the shoulders (it
  hides the ears and the tragi: the truth's ``visible`` flags say so, from the depth
  buffer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from posture.arrays import Array
from synthetic.rig import ACROMION_VERTEX, TRAGUS_VERTEX, Body, PosedBody

if TYPE_CHECKING:
    from synthetic.scene import Appearance

GLASSES_TUBE_M = 0.0022
HAIR_OFFSET_M = 0.007  # outside the scalp / skin
_NECK_BONES = ("head", "neck01", "neck02", "neck03", "spine01", "clavicle", "shoulder01")


Mesh = tuple[Array, Array]  # (V, 3) float64 vertices, (F, 3) int faces
_CACHE: dict[tuple[str, int], tuple[Body, Mesh]] = {}


def _cached(kind: str, body: Body, build: Callable[[Body], Mesh]) -> Mesh:
    """Per body object (Body holds arrays: not hashable; keyed by identity, kept alive)."""
    key = (kind, id(body))
    if key not in _CACHE or _CACHE[key][0] is not body:
        _CACHE[key] = (body, build(body))
    return _CACHE[key][1]


# ----------------------------------------------------------------------------- helpers
def _frame(tangent: Array) -> tuple[Array, Array]:
    t = tangent / np.linalg.norm(tangent)
    ref = np.array([0.0, 0.0, 1.0]) if abs(t[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    a = np.cross(t, ref)
    a /= np.linalg.norm(a)
    return a, np.cross(t, a)


def tube(points: Array, radius: float, closed: bool = False, sides: int = 8) -> Mesh:
    """A tube of ``sides``-gon cross-section along a polyline (capped when open)."""
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    rings = []
    for i in range(n):
        nxt, prv = ((i + 1) % n, i - 1) if closed else (min(i + 1, n - 1), max(i - 1, 0))
        d = p[nxt] - p[prv]
        a, b = _frame(d)
        ang = 2 * math.pi * np.arange(sides) / sides
        rings.append(p[i] + radius * (np.cos(ang)[:, None] * a + np.sin(ang)[:, None] * b))
    verts = np.concatenate(rings)
    faces = []
    segments = n if closed else n - 1
    for i in range(segments):
        j = (i + 1) % n
        for k in range(sides):
            k2 = (k + 1) % sides
            a0, a1, b0, b1 = i * sides + k, i * sides + k2, j * sides + k, j * sides + k2
            faces += [(a0, b1, b0), (a0, a1, b1)]  # outward
    if not closed:  # caps: a centre vertex at each end
        for end, ring, flip in ((p[0], 0, True), (p[-1], n - 1, False)):
            c = len(verts)
            verts = np.vstack([verts, end])
            for k in range(sides):
                k2 = (k + 1) % sides
                tri = (c, ring * sides + k2, ring * sides + k)
                faces.append(tri if flip else tri[::-1])
    return verts, np.asarray(faces, dtype=np.int64)


def merge(meshes: list[Mesh]) -> Mesh:
    verts, faces, offset = [], [], 0
    for v, f in meshes:
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(verts), np.concatenate(faces)


def _dominant_bones(body: Body) -> Array:
    idx = body.skin_indices[np.arange(len(body.skin_indices)), body.skin_weights.argmax(1)]
    bones: Array = np.array([body.bone_names[i].split(".")[0] for i in idx])
    return bones


def _head_vertices(body: Body) -> Array:
    seg = np.array(body.segment_names)[body.segment]
    head: Array = body.rest_vertices[seg == "head"]
    return head


def _side_x(verts: Array, y: float, z: float, side: float, win: float = 0.012) -> float:
    """Outermost |x| of the head surface near (y, z) on one side (+1 left, -1 right)."""
    sel = (np.abs(verts[:, 1] - y) < win) & (np.abs(verts[:, 2] - z) < win)
    sel &= np.sign(verts[:, 0]) == side
    return float(np.abs(verts[sel, 0]).max()) if sel.any() else 0.07


# ----------------------------------------------------------------------------- glasses
def _glasses_rest(body: Body) -> Mesh:
    return _cached("glasses", body, _build_glasses)


def _build_glasses(body: Body) -> Mesh:
    heads = body.rest_bone_heads
    head = _head_vertices(body)
    eyes = {s: heads[body.bone(f"eye.{b}")] for s, b in ((1.0, "L"), (-1.0, "R"))}
    rx, rz = 0.026, 0.019
    # Lens plane: 5 mm in front of the most anterior face point within the rims.
    y_lens = math.inf
    for e in eyes.values():
        sel = (np.abs(head[:, 0] - e[0]) < rx) & (np.abs(head[:, 2] - e[2]) < rz)
        y_lens = min(y_lens, float(head[sel, 1].min()))
    y_lens -= 0.005
    meshes = []
    inner, outer = {}, {}
    for side, e in eyes.items():
        cx = e[0] + side * 0.002  # rims a little outward of the eye centres
        cz = e[2] - 0.002
        t = np.linspace(0.0, 2 * math.pi, 40, endpoint=False)
        # rounded rectangle (superellipse, exponent 4)
        c, s = np.cos(t), np.sin(t)
        ex = np.sign(c) * np.abs(c) ** 0.5
        ez = np.sign(s) * np.abs(s) ** 0.5
        rim = np.stack([cx + rx * ex, np.full_like(t, y_lens), cz + rz * ez], 1)
        # wrap: the outer side a little further back
        rim[:, 1] += 0.006 * np.clip(side * (rim[:, 0] - cx) / rx, 0.0, 1.0) ** 2
        meshes.append(tube(rim, GLASSES_TUBE_M, closed=True))
        inner[side] = np.array([cx - side * rx, y_lens, cz + 0.004])
        outer[side] = np.array([cx + side * rx, y_lens + 0.006, cz + 0.006])
    # Bridge: an arc over the nose between the inner rims.
    u = np.linspace(0.0, 1.0, 9)
    bridge = inner[-1.0][None] + u[:, None] * (inner[1.0] - inner[-1.0])[None]
    bridge[:, 2] += 0.004 * np.sin(math.pi * u)
    bridge[:, 1] -= 0.002 * np.sin(math.pi * u)
    meshes.append(tube(bridge, GLASSES_TUBE_M))
    # Temples: back along the side of the head to the top of the ear, then down behind it.
    tragus_y = 0.5 * float(
        body.rest_vertices[TRAGUS_VERTEX["left"], 1] + body.rest_vertices[TRAGUS_VERTEX["right"], 1]
    )
    tragus_z = 0.5 * float(
        body.rest_vertices[TRAGUS_VERTEX["left"], 2] + body.rest_vertices[TRAGUS_VERTEX["right"], 2]
    )
    ears = body.uv_masks["ears"] > 96
    not_ear = head[~ears[_head_mask(body)]]
    for side in (1.0, -1.0):
        o = outer[side]
        path = [o]
        for f in np.linspace(0.15, 1.0, 8):
            y = o[1] + f * (tragus_y + 0.004 - o[1])
            z = o[2] + f * (tragus_z + 0.022 - o[2])
            path.append(np.array([side * (_side_x(not_ear, y, z, side) + 0.004), y, z]))
        end = path[-1]
        for dy, dz in ((0.014, -0.006), (0.024, -0.02), (0.028, -0.035)):
            y, z = end[1] + dy, end[2] + dz
            path.append(np.array([side * (_side_x(not_ear, y, z, side) + 0.003), y, z]))
        meshes.append(tube(np.array(path), GLASSES_TUBE_M * 0.9))
    return merge(meshes)


def _head_mask(body: Body) -> Array:
    mask: Array = np.array(body.segment_names)[body.segment] == "head"
    return mask


# ----------------------------------------------------------------------------- long hair
def _long_hair_rest(body: Body) -> Mesh:
    return _cached("long_hair", body, _build_long_hair)


def _build_long_hair(body: Body) -> Mesh:
    """A shell in cylindrical coordinates about the vertical axis through the tragi."""
    v = body.rest_vertices
    heads = body.rest_bone_heads
    tl, tr = v[TRAGUS_VERTEX["left"]], v[TRAGUS_VERTEX["right"]]
    centre = 0.5 * (tl + tr)
    eye_z = 0.5 * float(heads[body.bone("eye.L")][2] + heads[body.bone("eye.R")][2])
    top_z = float(v[_head_mask(body), 2].max())
    acromion_z = 0.5 * float(v[ACROMION_VERTEX["left"], 2] + v[ACROMION_VERTEX["right"], 2])
    z_end = acromion_z + 0.01  # falls to the top of the shoulders
    hairline_z = eye_z + 0.05  # front hairline
    chin_z = centre[2] - 0.085
    near = np.isin(_dominant_bones(body), _NECK_BONES) & (v[:, 2] > z_end - 0.03)
    p = v[near] - centre
    theta_v = np.arctan2(p[:, 0], -p[:, 1])  # 0 = forward (-y), + toward the left (+x)
    r_v = np.hypot(p[:, 0], p[:, 1])

    n_theta = 72
    thetas = np.linspace(-math.pi, math.pi, n_theta, endpoint=False)
    zs = np.arange(top_z + HAIR_OFFSET_M, z_end, -0.006) - centre[2]
    radius = np.zeros((len(zs), n_theta))
    for j, z in enumerate(zs):
        row = np.abs(p[:, 2] - z) < 0.008
        for i, t in enumerate(thetas):
            d = np.abs((theta_v[row] - t + math.pi) % (2 * math.pi) - math.pi)
            sel = d < math.radians(8.0)
            radius[j, i] = float(r_v[row][sel].max()) + HAIR_OFFSET_M if sel.any() else 0.0
    # Smooth (3 x 5 box, circular in theta) without going inside the surface much.
    padded = np.concatenate([radius[:, -2:], radius, radius[:, :2]], 1)
    box = sum(padded[:, k : k + n_theta] for k in range(5)) / 5.0
    box[1:-1] = (box[:-2] + box[1:-1] + box[2:]) / 3.0
    radius = np.where(radius > 0, np.maximum(box, radius - 0.002), 0.0)
    # Hanging: below the widest part of the head the hair falls straight (never inward),
    # flaring a little toward the ends.
    widest = int(np.argmax(radius.mean(1)))
    for j in range(widest + 1, len(zs)):
        drop = zs[widest] - zs[j]
        radius[j] = np.maximum(radius[j], radius[widest] + 0.08 * drop)
    radius[0] = 0.0  # closes the crown
    radius[1:] = np.maximum(radius[1:], 0.01)

    # Cells kept: everywhere but the face (and the throat below the chin).
    zc = zs + centre[2]
    face_half = np.where(zc < chin_z, math.radians(80.0), math.radians(58.0))
    theta_c = thetas + math.pi / n_theta
    keep = np.ones((len(zs) - 1, n_theta), dtype=bool)
    for j in range(len(zs) - 1):
        z_mid = 0.5 * (zc[j] + zc[j + 1])
        if z_mid < hairline_z:
            keep[j] = np.abs(theta_c) > face_half[j]
    ang = thetas[None, :]
    pts = (
        np.stack(
            [
                radius * np.sin(ang),
                -radius * np.cos(ang),
                np.broadcast_to(zs[:, None], radius.shape),
            ],
            -1,
        )
        + centre
    )
    verts = pts.reshape(-1, 3)
    faces = []
    for j in range(len(zs) - 1):
        for i in range(n_theta):
            if not keep[j, i]:
                continue
            i2 = (i + 1) % n_theta
            a, b = j * n_theta + i, j * n_theta + i2
            c, d = (j + 1) * n_theta + i, (j + 1) * n_theta + i2
            # outward winding (theta grows toward +x from -y: counter-clockwise seen from above)
            faces += [(a, c, d), (a, d, b)]
    return verts, np.asarray(faces, dtype=np.int64)


# ----------------------------------------------------------------------------- posed
def rigid_on_head(posed: PosedBody, rest_vertices: Array) -> Array:
    t = posed.transforms[posed.body.bone("head")]
    posed_vertices: Array = rest_vertices @ t[:3, :3].T + t[:3, 3]
    return posed_vertices


def accessory_meshes(
    posed: PosedBody, appearance: Appearance
) -> list[tuple[Array, Array, tuple[int, ...]]]:
    """[(posed vertices, faces, rgb)] for the looks switched on in ``appearance``."""
    out: list[tuple[Array, Array, tuple[int, ...]]] = []
    if getattr(appearance, "long_hair", False):
        v, f = _long_hair_rest(posed.body)
        out.append((rigid_on_head(posed, v), f, tuple(appearance.hair_rgb)))
    if getattr(appearance, "glasses", False):
        v, f = _glasses_rest(posed.body)
        out.append((rigid_on_head(posed, v), f, tuple(appearance.glasses_rgb)))
    return out
