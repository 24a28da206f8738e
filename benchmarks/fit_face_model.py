"""Fit the face model the head-pose code uses, from rendered bodies with exact angles.

Writes ``posture/geometry/data/face_model.npz``:
- ``template``: the mean face-mesh shape (468 points, unit RMS size) of rendered
  bodies at neutral, in the head's own axes (x left, y back, z up). Fitting a
  whole rigid shape (Kabsch) is far steadier at large yaw than a few point pairs.
- ``rigid``: indices used for fitting (lips and the jaw below the mouth move
  with speech and are left out).
- ``pitch_gain``: (down, up) gains. The face mesh under-reports pitch, looking
  down much more than looking up; these gains, fitted here by least squares on
  pitch relative to the camera, undo it.

Needs the synthetic extras (pyrender on Mesa; see docs/synthetic.md).
Usage: python benchmarks/fit_face_model.py [--bodies 0 1 2 ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from posture.geometry.head import fit_rotation, undo_perspective
from posture.geometry.rotations import FACING_CAMERA, compose_head_angles, decompose_head_angles
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
from posture.synthetic.render import Renderer, render_still
from posture.synthetic.rig import BodyPose, load_bodies

OUT = Path(__file__).resolve().parent.parent / "posture" / "geometry" / "data" / "face_model.npz"
PITCHES_DEG = (-35.0, -20.0, -10.0, 10.0, 20.0, 35.0, 45.0)


def rigid_indices() -> np.ndarray:
    from mediapipe.python.solutions import face_mesh_connections as fmc

    lips = {i for edge in fmc.FACEMESH_LIPS for i in edge}
    return np.array([i for i in range(468) if i not in lips], dtype=np.int32)


def observe(lm: MediaPipeLandmarker, rgb: np.ndarray, truth: dict) -> tuple[np.ndarray, np.ndarray]:
    """(camera-frame 3D face shape, true head->camera rotation), or raises LookupError."""
    frame = lm.process(rgb, 0.0)
    if frame.face is None:
        raise LookupError("no face")
    cam = truth["camera"]
    k = np.array(cam["intrinsics"])
    shape = undo_perspective(frame.face.xyz, k[0, 0], k[:2, 2])[:468]
    r_wc = np.array(cam["world_to_camera_cv"])[:3, :3]
    keys = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")
    angles = [truth[k] for k in keys]
    return shape, r_wc @ compose_head_angles(*angles)


def normalised(shape: np.ndarray) -> np.ndarray:
    c = shape - shape.mean(axis=0)
    return c / np.sqrt((c**2).sum(axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bodies", type=int, nargs="*", help="body indices (default: all)")
    args = parser.parse_args()
    bodies = load_bodies()
    ids = args.bodies if args.bodies else list(range(len(bodies.names)))
    renderer = Renderer()
    rigid = rigid_indices()
    neutral_shapes, pitch_samples = [], []
    with MediaPipeLandmarker(video_mode=False) as lm:
        for b in ids:
            for dist, framing in ((0.8, "head"), (1.6, "upper")):
                rgb, truth = render_still(b, BodyPose(), distance_m=dist, framing=framing,
                                          renderer=renderer, seed=b)  # fmt: skip
                try:
                    shape, r_true = observe(lm, rgb, truth)
                except LookupError:
                    continue
                neutral_shapes.append(normalised(shape) @ r_true)  # rows: R^T p
            for pitch in PITCHES_DEG:
                for yaw in (0.0, 30.0):
                    pose = BodyPose(rotation_deg=yaw, flexion_deg=pitch)
                    rgb, truth = render_still(b, pose, distance_m=1.2, framing="upper",
                                              renderer=renderer, seed=b)  # fmt: skip
                    try:
                        pitch_samples.append(observe(lm, rgb, truth))
                    except LookupError:
                        continue
    template = np.mean(neutral_shapes, axis=0)
    template = normalised(template)
    measured, true = [], []
    for shape, r_true in pitch_samples:
        r = fit_rotation(template, shape, rigid)
        measured.append(decompose_head_angles(FACING_CAMERA.T @ r)[1])
        true.append(decompose_head_angles(FACING_CAMERA.T @ r_true)[1])
    m, t = np.array(measured), np.array(true)
    # Looking down is compressed far more than looking up: one gain per direction.
    down, up = m > 0, m <= 0
    gain_down = float(np.dot(m[down], t[down]) / np.dot(m[down], m[down]))
    gain_up = float(np.dot(m[up], t[up]) / np.dot(m[up], m[up]))
    corrected = np.where(down, gain_down * m, gain_up * m)
    print(f"bodies {ids}: {len(neutral_shapes)} neutral faces, {len(m)} pitch samples")
    print(
        f"pitch gains: down {gain_down:.3f}, up {gain_up:.3f}; pitch MAE before "
        f"{np.mean(np.abs(m - t)):.2f} deg, after {np.mean(np.abs(corrected - t)):.2f} deg"
    )
    np.savez_compressed(
        OUT,
        template=template.astype(np.float32),
        rigid=rigid,
        pitch_gain=np.array([gain_down, gain_up], dtype=np.float32),
        provenance=np.array(f"benchmarks/fit_face_model.py, bodies {ids}"),
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
