"""Rendered still sets for the accuracy benchmark and model fits (cached on disk).

- ``side``: side views with the head near its natural posture (CVA is a static
  posture measure, taken with the head facing forward), forward-head posture
  from -10 to +20 deg of "chin poke", trunk lean, camera distance, height, roll
  and lens varied.
- ``front``: front views near neutral with shoulder elevation and small head
  tilts (head tilt and shoulder tilt).
- ``side_heights``: side views like ``side`` but with the camera's lens at an explicit
  height above the floor (``camera_height_m``, 0.9-1.7 m, in every truth record),
  1-3 m away, subject standing or seated on a box chair, the camera aimed at the
  upper body or held level (pitch recorded as ``camera_pitch_up_deg``); for the CVA's
  dependence on the camera's height (benchmarks/cva_heights.py).

``make_camera``'s ``height_offset_m`` is relative to the framing target (``upper``:
12 cm below the middle of tragus and shoulder joints, about chest height; ``full``: the
middle of the body), not to the floor, and the camera always looks at that target: the
``side`` set's lens ends up 0.7-1.9 m above the floor (median 1.35 m) depending on the
body and the framing, and is never recorded as a height.
The general head-angle set comes from ``benchmarks/make_synthetic.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

RESOLUTIONS = ((640, 480), (1280, 720), (720, 1280))


def _side_still(r: np.random.Generator):
    from synthetic.rig import BodyPose

    pose = BodyPose(
        rotation_deg=float(r.uniform(-8, 8)),
        flexion_deg=float(r.uniform(-12, 12)),
        lateral_flexion_deg=float(r.uniform(-6, 6)),
        forward_head_deg=float(r.uniform(-10, 20)),
        trunk_lean_forward_deg=float(r.uniform(-5, 10)),
        shoulder_elevation_left_deg=float(r.uniform(0, 5)),
        shoulder_elevation_right_deg=float(r.uniform(0, 5)),
        arm_adduction_deg=float(r.uniform(15, 30)),
    )
    side = float(r.choice([-1.0, 1.0]))
    framing = str(r.choice(["upper", "full"], p=[0.7, 0.3]))
    return pose, {
        "azimuth_deg": side * float(r.uniform(82, 98)),
        "distance_m": float(r.uniform(1.0, 2.0) if framing == "upper" else r.uniform(2.0, 3.0)),
        "framing": framing,
    }


def _front_still(r: np.random.Generator):
    from synthetic.rig import BodyPose

    pose = BodyPose(
        rotation_deg=float(r.uniform(-6, 6)),
        flexion_deg=float(r.uniform(-10, 10)),
        lateral_flexion_deg=float(r.uniform(-12, 12)),
        forward_head_deg=float(r.uniform(-5, 15)),
        shoulder_elevation_left_deg=float(r.uniform(0, 10) if r.random() < 0.5 else 0.0),
        shoulder_elevation_right_deg=float(r.uniform(0, 10) if r.random() < 0.5 else 0.0),
        arm_adduction_deg=float(r.uniform(15, 30)),
    )
    framing = str(r.choice(["upper", "full"], p=[0.8, 0.2]))
    return pose, {
        "azimuth_deg": float(r.uniform(-8, 8)),
        "distance_m": float(r.uniform(0.8, 2.0) if framing == "upper" else r.uniform(2.0, 3.0)),
        "framing": framing,
    }


def _side_heights_still(r: np.random.Generator):
    """A side still with the camera at an absolute height (the floor under the feet)."""
    from synthetic.rig import BodyPose

    seated = bool(r.random() < 0.4)
    pose = BodyPose(
        rotation_deg=float(r.uniform(-8, 8)),
        flexion_deg=float(r.uniform(-12, 12)),
        lateral_flexion_deg=float(r.uniform(-6, 6)),
        forward_head_deg=float(r.uniform(-10, 20)),
        trunk_lean_forward_deg=float(r.uniform(-8, 10)),
        shoulder_elevation_left_deg=float(r.uniform(0, 5)),
        shoulder_elevation_right_deg=float(r.uniform(0, 5)),
        arm_adduction_deg=float(r.uniform(15, 30)),
        hip_flexion_deg=88.0 if seated else 0.0,
        knee_flexion_deg=88.0 if seated else 0.0,
    )
    side = float(r.choice([-1.0, 1.0]))
    distance = float(r.uniform(1.0, 3.0))
    framing = "full" if (distance > 2.2 and not seated and r.random() < 0.5) else "upper"
    return pose, {
        "azimuth_deg": side * float(r.uniform(82, 98)),
        "distance_m": distance,
        "framing": framing,
        "camera_height_m": float(r.uniform(0.9, 1.7)),
        # 1 = aimed at the framing target, 0 = level (optical axis horizontal)
        "aim_fraction": float(1.0 if r.random() < 0.6 else r.uniform(0.0, 1.0)),
        "seated": seated,
    }


SETS = {"side": _side_still, "front": _front_still, "side_heights": _side_heights_still}


def ensure_set(name: str, out: Path, count: int, seed: int = 0) -> list[dict]:
    """Render (once) ``count`` stills of set ``name`` into ``out``; return the truth records."""
    truth_path = out / "truth.jsonl"
    if truth_path.exists():
        records = [json.loads(line) for line in truth_path.read_text().splitlines()]
        if len(records) >= count:
            return records[:count]
    from PIL import Image

    from synthetic.render import Renderer, render_still
    from synthetic.rig import load_bodies
    from synthetic.scene import BACKGROUND_KINDS, random_appearance, random_lighting

    (out / "images").mkdir(parents=True, exist_ok=True)
    n_bodies = len(load_bodies().names)
    rng = np.random.default_rng(seed)
    renderer = Renderer()
    records = []
    for i in range(count):
        s = int(rng.integers(2**31))
        r = np.random.default_rng(s)
        pose, cam = SETS[name](r)
        width, height = RESOLUTIONS[int(r.integers(len(RESOLUTIONS)))]
        if "camera_height_m" in cam:
            image, truth = _render_at_height(i % n_bodies, pose, cam, width, height, r, s,
                                             renderer)  # fmt: skip
            rel = f"images/{i:06d}.png"
            Image.fromarray(image).save(out / rel)
            records.append({"image": rel, "seed": s, **truth})
            continue
        image, truth = render_still(
            i % n_bodies, pose, **cam,
            height_offset_m=float(r.uniform(-0.2, 0.25)), roll_deg=float(r.uniform(-5, 5)),
            width=width, height=height, zoom=float(r.uniform(0.85, 1.15)),
            appearance=random_appearance(r), lighting=random_lighting(r),
            background=str(r.choice(BACKGROUND_KINDS)), noise_sigma=float(r.uniform(0, 5)),
            seed=s, renderer=renderer,
        )  # fmt: skip
        rel = f"images/{i:06d}.png"
        Image.fromarray(image).save(out / rel)
        records.append({"image": rel, "seed": s, **truth})
    renderer.close()
    truth_path.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    return records


def _chair_for(posed):
    """A box seat just under the thighs (as benchmarks/make_samples.py ``chair_for``)."""
    from synthetic.render import Chair

    body = posed.body
    dominant = body.skin_indices[np.arange(len(body.skin_indices)), body.skin_weights.argmax(1)]
    thigh_bones = [body.bone(n) for n in ("upperleg01.L", "upperleg01.R", "pelvis.L", "pelvis.R")]
    v = posed.vertices[np.isin(dominant, thigh_bones)]
    return Chair(seat_z_m=float(v[:, 2].min()) + 0.004, centre_xy_m=(0.0, float(v[:, 1].mean())))


def _render_at_height(body_index, pose, cam, width, height, r, seed, renderer):
    """Render a still whose lens is ``cam["camera_height_m"]`` above the floor (the lowest
    point of the feet), aimed ``aim_fraction`` of the way from level to the framing target;
    the focal length shrinks until tragus, C7 and shoulders are inside the picture."""
    import dataclasses
    import math

    from synthetic.rig import landmarks_3d, load_bodies, pose_body
    from synthetic.scene import (
        BACKGROUND_KINDS,
        add_noise,
        frame_truth,
        framing_target,
        make_background,
        make_camera,
        random_appearance,
        random_lighting,
    )

    posed = pose_body(load_bodies().body(body_index), pose)
    floor_z = float(posed.vertices[:, 2].min())
    lens_z = floor_z + cam["camera_height_m"]
    target, _ = framing_target(posed, cam["framing"])
    aim_z = lens_z + cam["aim_fraction"] * (float(target[2]) - lens_z)
    roll = float(r.uniform(-3, 3))
    zoom = float(r.uniform(0.85, 1.15))
    camera = make_camera(
        posed, azimuth_deg=cam["azimuth_deg"], distance_m=cam["distance_m"],
        height_offset_m=lens_z - aim_z, roll_deg=roll, width=width, height=height,
        framing=cam["framing"], zoom=zoom,
        target_offset_m=np.array([0.0, 0.0, aim_z - float(target[2])]),
    )  # fmt: skip
    lm = landmarks_3d(posed)
    keep = np.stack([lm[k] for k in ("c7", "tragus_left", "tragus_right", "shoulder_left",
                                     "shoulder_right", "nose_tip")])  # fmt: skip
    keep = np.vstack([keep, keep[1:3] + [0.0, 0.0, 0.12]])  # the top of the head
    for _ in range(30):
        uv, _z = camera.project(keep)
        margin = 0.06 * np.array([width, height])
        if ((uv > margin) & (uv < np.array([width, height]) - margin)).all():
            break
        camera = dataclasses.replace(camera, fx=camera.fx * 0.9, fy=camera.fy * 0.9)
    appearance, lighting = random_appearance(r), random_lighting(r)
    background = make_background(r, width, height, str(r.choice(BACKGROUND_KINDS)))
    chair = _chair_for(posed) if cam["seated"] else None
    image, depth = renderer.render(posed, camera, appearance, lighting, background, chair)
    image = add_noise(np.random.default_rng(seed), image, float(r.uniform(0, 5)))
    truth = frame_truth(posed, camera, depth)
    forward = -np.asarray(camera.pose)[:3, 2]
    truth.update(
        framing=cam["framing"],
        seated=cam["seated"],
        camera_height_m=round(cam["camera_height_m"], 4),
        camera_pitch_up_deg=round(math.degrees(math.asin(float(forward[2]))), 3),
        distance_m=round(cam["distance_m"], 4),
        floor_z_m=round(floor_z, 4),
        appearance=dataclasses.asdict(appearance),
    )
    return image, truth


def camera_roll_deg(truth: dict) -> float:
    """The render's camera roll in posture's convention (+ = horizon turns counter-clockwise)."""
    r_wc = np.array(truth["camera"]["world_to_camera_cv"])[:3, :3]
    up_x, up_y, _ = r_wc @ np.array([0.0, 0.0, 1.0])
    # A level camera sees world-up as (0, -1); rolled by r it appears as (-sin r, -cos r).
    return float(np.degrees(np.arctan2(-up_x, -up_y)))


def camera_pitch_deg(truth: dict) -> float:
    """The render's camera pitch in posture's convention (+ = looking down), as
    ``posture calibrate level`` measures it: gravity's component along the optical axis."""
    r_wc = np.array(truth["camera"]["world_to_camera_cv"])[:3, :3]
    up_z = float((r_wc @ np.array([0.0, 0.0, 1.0]))[2])
    return float(np.degrees(np.arcsin(np.clip(-up_z, -1.0, 1.0))))
