"""Render TRAINING ROM protocol videos (bodies not used by the accuracy benchmark's videos).

    PYOPENGL_PLATFORM=egl python benchmarks/render_rom_train.py [--out DIR] [--only NAME ...]

The evaluation videos (``sample_videos/rom_front.mp4`` and ``accuracy.ROM_VARIANTS``) use
the bodies neutral, older_woman, tall_thin_man and short_heavy_woman; these use the others,
with the same protocol (``make_samples.rom_pose_at``), so that the face model's pitch gains
can be fitted on video frames (``fit_face_model.py --video-gains``) and checked on held-out
videos. Cached: a video with its ``.truth.json`` is not rendered again.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import make_samples as ms  # noqa: E402

from synthetic.scene import Appearance, Lighting  # noqa: E402

DEFAULT_OUT = Path("/tmp/posture-bench/rom_train")
EVAL_BODIES = ("neutral", "older_woman", "tall_thin_man", "short_heavy_woman")
# (name, body, camera azimuth deg, distance m, height offset m, zoom, skin, background)
TRAIN_VARIANTS = (
    ("rom_train_young_woman", "young_woman_slim", 0.0, 1.2, 0.10, 1.0, (225, 180, 150), "room"),
    ("rom_train_heavy_man", "middle_man_heavy", -10.0, 1.8, -0.08, 1.15, (176, 122, 86),
     "gradient"),
    ("rom_train_older_man", "older_man", 0.0, 0.9, 0.0, 1.0, (205, 160, 130), "room"),
    ("rom_train_athletic_woman", "middle_woman_athletic", 12.0, 1.5, 0.15, 1.05,
     (120, 85, 60), "gradient"),
)  # fmt: skip


def ensure_train_videos(out: Path = DEFAULT_OUT, only: list[str] | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, body, azimuth, distance, lift, zoom, skin, background in TRAIN_VARIANTS:
        assert body not in EVAL_BODIES
        if only and name not in only:
            continue
        appearance = Appearance(skin_rgb=skin, hair_rgb=(50, 35, 25), shirt_rgb=(70, 120, 90))
        camera = (azimuth, distance, lift, zoom)
        lighting = Lighting(key_azimuth_deg=-20.0)
        video = ms.ensure_rom_video(out, name, body, camera, appearance, lighting, background)
        paths.append(video)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", help="variant names (default: all)")
    args = parser.parse_args()
    for path in ensure_train_videos(args.out, args.only):
        print(path)


if __name__ == "__main__":
    main()
