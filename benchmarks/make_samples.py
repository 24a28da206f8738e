"""Render the two sample videos with per-frame ground truth.

    PYOPENGL_PLATFORM=egl python benchmarks/make_samples.py [--out sample_videos] [--only rom]

- rom_front.mp4: front view, neutral hold, then rotation left/right, flexion, extension,
  lateral flexion left/right, each out and back smoothly.
- sitting_side.mp4: seated subject seen from their left side; the head drifts forward over
  the clip (forward-head posture grows, CVA falls by ~9 deg).

Each video has NAME.truth.json: {"fps", "width", "height", "view", "body", "camera",
"frames": [{"t": seconds, <truth angles>, "points_2d": {name: [x, y]},
"visible": {name: bool}}], "rom": {...}}. H.264 (libx264), yuv420p, 30 fps, via PyAV.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from synthetic.render import Chair, Renderer  # noqa: E402
from synthetic.rig import Body, BodyPose, PosedBody, load_bodies, pose_body  # noqa: E402
from synthetic.scene import (  # noqa: E402
    Appearance,
    Camera,
    Lighting,
    frame_truth,
    make_background,
    make_camera,
)

REPO = Path(__file__).resolve().parents[1]
FPS = 30

# Peak excursions of the ROM protocol (contract signs: + rotation = left, + flexion = chin
# down, + lateral flexion = left ear down).
ROM_MOVES: tuple[tuple[str, float], ...] = (
    ("rotation_deg", 60.0),
    ("rotation_deg", -55.0),
    ("flexion_deg", 40.0),
    ("flexion_deg", -35.0),
    ("lateral_flexion_deg", 30.0),
    ("lateral_flexion_deg", -28.0),
)
ROM_KEYS = {
    ("rotation_deg", 1): "rotation_left_deg",
    ("rotation_deg", -1): "rotation_right_deg",
    ("flexion_deg", 1): "flexion_deg",
    ("flexion_deg", -1): "extension_deg",
    ("lateral_flexion_deg", 1): "lateral_flexion_left_deg",
    ("lateral_flexion_deg", -1): "lateral_flexion_right_deg",
}
HOLD_S, OUT_S, PEAK_S, BACK_S, PAUSE_S = 1.5, 1.6, 0.4, 1.6, 0.5


def ease(x: float) -> float:
    """Smooth 0 -> 1 (zero velocity at both ends)."""
    x = min(max(x, 0.0), 1.0)
    return 0.5 - 0.5 * math.cos(math.pi * x)


def rom_pose_at(t: float) -> BodyPose:
    start = HOLD_S
    angles = {"rotation_deg": 0.0, "flexion_deg": 0.0, "lateral_flexion_deg": 0.0}
    for key, peak in ROM_MOVES:
        local = t - start
        if 0.0 <= local < OUT_S + PEAK_S + BACK_S:
            if local < OUT_S:
                angles[key] = peak * ease(local / OUT_S)
            elif local < OUT_S + PEAK_S:
                angles[key] = peak
            else:
                angles[key] = peak * (1.0 - ease((local - OUT_S - PEAK_S) / BACK_S))
        start += OUT_S + PEAK_S + BACK_S + PAUSE_S
    return BodyPose(**angles, arm_adduction_deg=25.0)


def rom_duration_s() -> float:
    return HOLD_S + len(ROM_MOVES) * (OUT_S + PEAK_S + BACK_S + PAUSE_S) + 0.5


SIT_DURATION_S = 20.0


def sitting_pose_at(t: float) -> BodyPose:
    x = t / SIT_DURATION_S
    drift = ease(min(x / 0.85, 1.0))  # most of the drift, then settles
    sway = 0.4 * math.sin(2 * math.pi * t / 4.7) + 0.25 * math.sin(2 * math.pi * t / 2.3)
    return BodyPose(
        flexion_deg=2.0 * drift + 0.5 * sway,
        rotation_deg=0.8 * math.sin(2 * math.pi * t / 6.1),
        forward_head_deg=-2.0 + 8.0 * drift + sway,
        trunk_lean_forward_deg=-6.0 + 2.0 * drift,
        arm_adduction_deg=30.0,
        hip_flexion_deg=88.0,
        knee_flexion_deg=88.0,
    )


def chair_for(posed: PosedBody) -> Chair:
    body = posed.body
    dominant = body.skin_indices[np.arange(len(body.skin_indices)), body.skin_weights.argmax(1)]
    thigh_bones = [body.bone(n) for n in ("upperleg01.L", "upperleg01.R", "pelvis.L", "pelvis.R")]
    v = posed.vertices[np.isin(dominant, thigh_bones)]
    return Chair(seat_z_m=float(v[:, 2].min()) + 0.004, centre_xy_m=(0.0, float(v[:, 1].mean())))


def write_video(
    path: Path,
    n_frames: int,
    render_frame: Callable[[int], tuple[np.ndarray, dict]],
    width: int,
    height: int,
    crf: int,
) -> list[dict]:
    import av

    truths = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "slow", "tune": "animation"}
        for i in range(n_frames):
            image, truth = render_frame(i)
            truths.append(truth)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return truths


def compact(truth: dict, t: float) -> dict:
    keep = {k: v for k, v in truth.items() if isinstance(v, float | int) and k != "view"}
    pts = truth["points_2d"]
    return {
        "t": round(t, 4),
        **keep,
        "view": truth["view"],
        "points_2d": {k: p["xy"] for k, p in pts.items()},
        "visible": {k: p["visible"] for k, p in pts.items()},
    }


def make_clip(
    name: str,
    out: Path,
    duration_s: float,
    pose_at: Callable[[float], BodyPose],
    body_name: str | Body,
    camera_for: Callable[[PosedBody], Camera],
    appearance: Appearance,
    lighting: Lighting,
    background_kind: str,
    seated: bool,
    rom: dict | None,
    crf: int,
    extra: dict | None = None,
) -> None:
    """``body_name``: a name in anny_bodies.npz, or a Body (e.g. of another body file).
    ``extra``: more top-level keys for the truth file."""
    body = body_name if isinstance(body_name, Body) else load_bodies().body(body_name)
    renderer = Renderer()
    camera = camera_for(pose_body(body, pose_at(0.0)))
    chair = chair_for(pose_body(body, pose_at(0.0))) if seated else None
    background = make_background(
        np.random.default_rng(7), camera.width, camera.height, background_kind
    )
    n_frames = int(round(duration_s * FPS))

    def render_frame(i: int) -> tuple[np.ndarray, dict]:
        t = i / FPS
        posed = pose_body(body, pose_at(t))
        image, depth = renderer.render(posed, camera, appearance, lighting, background, chair)
        return image, compact(frame_truth(posed, camera, depth), t)

    t0 = time.perf_counter()
    video = out / f"{name}.mp4"
    frames = write_video(video, n_frames, render_frame, camera.width, camera.height, crf)
    renderer.close()
    first = frame_truth(pose_body(body, pose_at(0.0)), camera)
    doc = {
        "fps": FPS,
        "width": camera.width,
        "height": camera.height,
        "duration_s": n_frames / FPS,
        "view": camera.view,
        "body": first["body"],
        "camera": first["camera"],
        "frames": frames,
        "rom": rom,
        **(extra or {}),
    }
    (out / f"{name}.truth.json").write_text(json.dumps(doc, separators=(",", ":")))
    size = video.stat().st_size / 1e6
    print(f"{video}: {n_frames} frames, {size:.2f} MB, {time.perf_counter() - t0:.0f} s")


def rom_summary() -> dict:
    rom = {v: None for v in ROM_KEYS.values()}
    for key, peak in ROM_MOVES:
        rom[ROM_KEYS[(key, 1 if peak > 0 else -1)]] = abs(peak)
    return rom


def ensure_rom_video(
    out: Path,
    name: str,
    body_name: str,
    camera_deg_m: tuple[float, float, float, float],
    appearance: Appearance,
    lighting: Lighting,
    background_kind: str,
) -> Path:
    """The ROM protocol rendered at 640x480 with a camera at (azimuth deg, distance m,
    height offset m, zoom), unless it and its truth file are already in ``out``."""
    azimuth_deg, distance_m, lift_m, zoom = camera_deg_m
    video = out / f"{name}.mp4"
    if not (video.exists() and video.with_suffix(".truth.json").exists()):
        make_clip(
            name, out, rom_duration_s(), rom_pose_at, body_name,
            lambda posed: make_camera(
                posed, azimuth_deg=azimuth_deg, distance_m=distance_m, height_offset_m=lift_m,
                framing="upper", width=640, height=480, zoom=zoom,
            ),
            appearance, lighting, background_kind, seated=False, rom=rom_summary(), crf=20,
        )  # fmt: skip
    return video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the sample videos with truth.")
    parser.add_argument("--out", type=Path, default=REPO / "sample_videos")
    parser.add_argument("--only", choices=["rom", "sitting"], default=None)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.only in (None, "rom"):
        make_clip(
            "rom_front",
            args.out,
            rom_duration_s(),
            rom_pose_at,
            "neutral",
            lambda posed: make_camera(
                posed,
                azimuth_deg=0.0,
                distance_m=1.4,
                height_offset_m=0.05,
                framing="upper",
                width=640,
                height=480,
                zoom=1.1,
            ),
            Appearance(skin_rgb=(222, 178, 145), hair_rgb=(60, 40, 28), shirt_rgb=(40, 80, 160)),
            Lighting(),
            "gradient",
            seated=False,
            rom=rom_summary(),
            crf=20,
        )
    if args.only in (None, "sitting"):
        make_clip(
            "sitting_side",
            args.out,
            SIT_DURATION_S,
            sitting_pose_at,
            "middle_man_heavy",
            lambda posed: make_camera(
                posed,
                azimuth_deg=90.0,
                distance_m=1.8,
                height_offset_m=0.0,
                framing="upper",
                width=640,
                height=480,
                zoom=0.8,
                target_offset_m=np.array([0.0, 0.0, 0.03]),
            ),
            Appearance(
                skin_rgb=(176, 122, 86),
                hair_rgb=(25, 20, 18),
                shirt_rgb=(60, 130, 70),
                long_sleeves=True,
            ),
            Lighting(key_azimuth_deg=-25.0),
            "room",
            seated=True,
            rom=None,
            crf=20,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
