"""Offscreen rendering of a posed Anny body with pyrender (imported lazily).

Needs ``pyrender==0.1.45``, ``pyopengl==3.1.7`` and Mesa (EGL or OSMesa). The platform is
taken from ``PYOPENGL_PLATFORM``, set to ``egl`` here when unset (``osmesa`` also works).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from posture.arrays import Array
from synthetic.looks import accessory_meshes
from synthetic.rig import Body, BodyPose, PosedBody, load_bodies, pose_body
from synthetic.scene import (
    Appearance,
    Camera,
    Lighting,
    add_noise,
    frame_truth,
    look_at_pose,
    make_background,
    make_camera,
    vertex_colours,
)


def _pyrender() -> Any:
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    import pyrender

    return pyrender


@dataclass(frozen=True)
class Chair:
    """A plain box seat (for seated poses): top at seat_z_m, centred under the pelvis."""

    seat_z_m: float
    centre_xy_m: tuple[float, float]
    size_m: tuple[float, float] = (0.5, 0.45)
    rgb: tuple[int, int, int] = (110, 80, 55)


class Renderer:
    """Keeps one pyrender OffscreenRenderer (resized as needed: with EGL, several renderers
    in one process cannot all be deleted cleanly)."""

    def __init__(self) -> None:
        self._renderer: Any = None

    def _offscreen(self, width: int, height: int) -> Any:
        if self._renderer is None:
            self._renderer = _pyrender().OffscreenRenderer(width, height)
        elif (self._renderer.viewport_width, self._renderer.viewport_height) != (width, height):
            self._renderer.viewport_width = width
            self._renderer.viewport_height = height
        return self._renderer

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.delete()
            self._renderer = None

    def render(
        self,
        posed: PosedBody,
        camera: Camera,
        appearance: Appearance | None = None,
        lighting: Lighting | None = None,
        background: Array | None = None,
        chair: Chair | None = None,
    ) -> tuple[Array, Array]:
        """(RGB uint8 HxWx3 contiguous, depth float32 HxW in metres, 0 = background)."""
        pyrender = _pyrender()
        import trimesh

        appearance = appearance or Appearance()
        lighting = lighting or Lighting()
        scene = pyrender.Scene(
            bg_color=np.zeros(4), ambient_light=np.full(3, lighting.ambient, dtype=np.float64)
        )
        tm = trimesh.Trimesh(vertices=posed.vertices, faces=posed.body.faces, process=False)
        material = pyrender.MetallicRoughnessMaterial(
            alphaMode="OPAQUE",
            metallicFactor=0.0,
            roughnessFactor=0.75,
            baseColorFactor=(1.0, 1.0, 1.0, 1.0),
        )
        colours = vertex_colours(posed.body, appearance).astype(np.float32) / 255.0
        primitive = pyrender.Primitive(
            positions=posed.vertices.astype(np.float32),
            normals=np.asarray(tm.vertex_normals, dtype=np.float32),
            color_0=colours,
            indices=posed.body.faces.astype(np.uint32),
            material=material,
            mode=4,  # GL_TRIANGLES
        )
        scene.add(pyrender.Mesh(primitives=[primitive]))
        for vertices, faces, rgb in accessory_meshes(posed, appearance):  # none by default
            extra = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
            look = pyrender.MetallicRoughnessMaterial(
                alphaMode="OPAQUE",
                metallicFactor=0.0,
                roughnessFactor=0.8,
                doubleSided=True,
                baseColorFactor=(*(c / 255.0 for c in rgb), 1.0),
            )
            scene.add(
                pyrender.Mesh(
                    primitives=[
                        pyrender.Primitive(
                            positions=vertices.astype(np.float32),
                            normals=np.asarray(extra.vertex_normals, dtype=np.float32),
                            indices=faces.astype(np.uint32),
                            material=look,
                            mode=4,
                        )
                    ]
                )
            )
        if chair is not None:
            box = trimesh.creation.box(extents=(chair.size_m[0], chair.size_m[1], 0.45))
            box.apply_translation(
                (chair.centre_xy_m[0], chair.centre_xy_m[1], chair.seat_z_m - 0.225)
            )
            box.visual.vertex_colors = np.array([*chair.rgb, 255], dtype=np.uint8)
            scene.add(pyrender.Mesh.from_trimesh(box, smooth=False))
        cam = pyrender.IntrinsicsCamera(
            fx=camera.fx, fy=camera.fy, cx=camera.cx, cy=camera.cy, znear=0.05, zfar=50.0
        )
        scene.add(cam, pose=camera.pose)
        # Key light around the camera direction, fill light from the other side.
        cam_pos = camera.pose[:3, 3]
        target = cam_pos - camera.pose[:3, 2]
        for intensity, az, el in (
            (lighting.key_intensity, lighting.key_azimuth_deg, lighting.key_elevation_deg),
            (lighting.fill_intensity, -lighting.key_azimuth_deg * 0.7 - 20, 15.0),
        ):
            rel = cam_pos - target
            a, e = math.radians(az), math.radians(el)
            rot = np.array(
                [[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0, 0, 1.0]]
            )
            pos = target + rot @ rel + np.array([0.0, 0.0, math.tan(e) * np.linalg.norm(rel)])
            light = pyrender.DirectionalLight(color=np.ones(3), intensity=intensity)
            scene.add(light, pose=look_at_pose(pos, target))
        flags = pyrender.RenderFlags.RGBA
        rgba, depth = self._offscreen(camera.width, camera.height).render(scene, flags=flags)
        rgb = rgba[..., :3].astype(np.float32)
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        if background is None:
            background = np.full_like(rgba[..., :3], 200)
        out = rgb * alpha + background.astype(np.float32) * (1.0 - alpha)
        image = np.ascontiguousarray(np.clip(np.round(out), 0, 255).astype(np.uint8))
        return image, np.asarray(depth, dtype=np.float32)


_DEFAULT_RENDERER: Renderer | None = None


def default_renderer() -> Renderer:
    global _DEFAULT_RENDERER
    if _DEFAULT_RENDERER is None:
        _DEFAULT_RENDERER = Renderer()
    return _DEFAULT_RENDERER


def render_still(
    body: Body | int | str,
    pose: BodyPose,
    *,
    azimuth_deg: float = 0.0,
    distance_m: float = 2.0,
    height_offset_m: float = 0.0,
    roll_deg: float = 0.0,
    width: int = 640,
    height: int = 480,
    framing: str = "upper",
    zoom: float = 1.0,
    appearance: Appearance | None = None,
    lighting: Lighting | None = None,
    background: str | Array = "plain",
    noise_sigma: float = 0.0,
    seed: int = 0,
    chair: Chair | None = None,
    renderer: Renderer | None = None,
) -> tuple[Array, dict[str, object]]:
    """Render one still; returns (RGB uint8 HxWx3 contiguous array, truth dict).

    ``body``: a Body, or an index / name in the exported body set.
    ``azimuth_deg``: 0 = camera in front, +90 = camera on the subject's left.
    """
    rng = np.random.default_rng(seed)
    if not isinstance(body, Body):
        body = load_bodies().body(body)
    posed = pose_body(body, pose)
    camera = make_camera(
        posed,
        azimuth_deg=azimuth_deg,
        distance_m=distance_m,
        height_offset_m=height_offset_m,
        roll_deg=roll_deg,
        width=width,
        height=height,
        framing=framing,
        zoom=zoom,
    )
    bg = (
        make_background(rng, width, height, background)
        if isinstance(background, str)
        else background
    )
    image, depth = (renderer or default_renderer()).render(
        posed, camera, appearance, lighting, bg, chair
    )
    image = add_noise(rng, image, noise_sigma)
    return image, frame_truth(posed, camera, depth)
