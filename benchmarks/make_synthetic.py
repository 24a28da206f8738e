"""Render a synthetic ground-truth dataset: PNG stills + one JSON truth record per line.

    PYOPENGL_PLATFORM=egl python benchmarks/make_synthetic.py --out /tmp/posture-synth \\
        --count 200 --seed 0

Writes OUT/images/NNNNNN.png and OUT/truth.jsonl; each line holds "image" (path relative to
OUT), "seed" and the truth dict of synthetic.scene.frame_truth (angles in degrees in
the measurement contract's conventions, 2D pixel positions of C7, tragi, eyes, shoulders,
camera intrinsics/extrinsics, view, body). Same --seed, same dataset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from synthetic.render import Renderer, render_still  # noqa: E402
from synthetic.rig import BodyPose, load_bodies  # noqa: E402
from synthetic.scene import (  # noqa: E402
    BACKGROUND_KINDS,
    random_appearance,
    random_lighting,
)

RESOLUTIONS = ((640, 480), (1280, 720), (720, 1280), (480, 640))
FRAMING_DISTANCE_M = {"head": (0.6, 1.0), "upper": (1.0, 2.0), "full": (2.0, 3.0)}


def sample_pose(rng: np.random.Generator) -> BodyPose:
    small = rng.random() < 0.3  # near-neutral postures are common in practice
    scale = 0.25 if small else 1.0
    return BodyPose(
        rotation_deg=float(rng.uniform(-70, 70) * scale),
        flexion_deg=float(rng.uniform(-40, 45) * scale),
        lateral_flexion_deg=float(rng.uniform(-30, 30) * scale),
        forward_head_deg=float(rng.uniform(-10, 20)),
        shoulder_elevation_left_deg=float(rng.uniform(0, 8) if rng.random() < 0.4 else 0.0),
        shoulder_elevation_right_deg=float(rng.uniform(0, 8) if rng.random() < 0.4 else 0.0),
        trunk_lean_forward_deg=float(rng.uniform(-5, 12)),
        trunk_lean_left_deg=float(rng.uniform(-4, 4)),
        arm_adduction_deg=float(rng.uniform(15, 30)),
    )


def sample_azimuth(rng: np.random.Generator) -> float:
    kind = rng.choice(["front", "left", "right", "oblique"], p=[0.4, 0.2, 0.2, 0.2])
    if kind == "front":
        return float(rng.uniform(-8, 8))
    if kind == "left":
        return float(rng.uniform(82, 98))
    if kind == "right":
        return float(-rng.uniform(82, 98))
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(30, 45))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render synthetic posture ground truth.")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "posture-synthetic"
    )
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    out: Path = args.out
    (out / "images").mkdir(parents=True, exist_ok=True)
    from PIL import Image

    bodies = load_bodies()
    rng = np.random.default_rng(args.seed)
    renderer = Renderer()
    t0 = time.perf_counter()
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for i in range(args.count):
            seed = int(rng.integers(2**31))
            r = np.random.default_rng(seed)
            framing = str(r.choice(["head", "upper", "full"], p=[0.3, 0.45, 0.25]))
            width, height = RESOLUTIONS[int(r.integers(len(RESOLUTIONS)))]
            image, truth = render_still(
                int(r.integers(len(bodies))),
                sample_pose(r),
                azimuth_deg=sample_azimuth(r),
                distance_m=float(r.uniform(*FRAMING_DISTANCE_M[framing])),
                height_offset_m=float(r.uniform(-0.25, 0.3)),
                roll_deg=float(r.uniform(-5, 5)),
                width=width,
                height=height,
                framing=framing,
                zoom=float(r.uniform(0.85, 1.15)),
                appearance=random_appearance(r),
                lighting=random_lighting(r),
                background=str(r.choice(BACKGROUND_KINDS)),
                noise_sigma=float(r.uniform(0, 6)),
                seed=seed,
                renderer=renderer,
            )
            name = f"images/{i:06d}.png"
            Image.fromarray(image).save(out / name)
            record = {"image": name, "seed": seed, "framing": framing, **truth}
            fh.write(json.dumps(record) + "\n")
    renderer.close()
    dt = time.perf_counter() - t0
    print(
        f"wrote {args.count} renders to {out} in {dt:.1f} s ({dt / max(args.count, 1):.2f} s each)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
