"""Rendered still sets for the accuracy benchmark and model fits (cached on disk).

- ``side``: side views with the head near its natural posture (CVA is a static
  posture measure, taken with the head facing forward), forward-head posture
  from -10 to +20 deg of "chin poke", trunk lean, camera distance, height, roll
  and lens varied.
- ``front``: front views near neutral with shoulder elevation and small head
  tilts (head tilt and shoulder tilt).
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
    from posture.synthetic.rig import BodyPose

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
    from posture.synthetic.rig import BodyPose

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


SETS = {"side": _side_still, "front": _front_still}


def ensure_set(name: str, out: Path, count: int, seed: int = 0) -> list[dict]:
    """Render (once) ``count`` stills of set ``name`` into ``out``; return the truth records."""
    truth_path = out / "truth.jsonl"
    if truth_path.exists():
        records = [json.loads(line) for line in truth_path.read_text().splitlines()]
        if len(records) >= count:
            return records[:count]
    from PIL import Image

    from posture.synthetic.render import Renderer, render_still
    from posture.synthetic.rig import load_bodies
    from posture.synthetic.scene import BACKGROUND_KINDS, random_appearance, random_lighting

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
