"""Fit the face model the head-pose code uses, from rendered bodies with exact angles.

Writes ``posture/geometry/data/face_model.npz``:
- ``template``: the mean face-mesh shape (468 points, unit RMS size) of rendered
  bodies at neutral, in the head's own axes (x left, y back, z up). Fitting a
  whole rigid shape (Kabsch) is far steadier at large yaw than a few point pairs.
- ``rigid``: indices used for fitting (lips and the jaw below the mouth move
  with speech and are left out).
- ``pitch_gain``: the face mesh under-reports pitch, looking down more than
  looking up; pitch relative to the camera is multiplied by one gain per
  direction, fitted here by robust least squares (``pitch_zero_deg`` is 0).

Needs the synthetic extras (pyrender on Mesa; see docs/synthetic.md).
Usage: python benchmarks/fit_face_model.py [--bodies 0 1 2 ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from posture.geometry.head import fit_rotation, undo_perspective
from posture.geometry.rotations import FACING_CAMERA, compose_head_angles, decompose_head_angles
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker
from posture.synthetic.render import Renderer, render_still
from posture.synthetic.rig import BodyPose, load_bodies

OUT = Path(__file__).resolve().parent.parent / "posture" / "geometry" / "data" / "face_model.npz"
PITCHES_DEG = (-35.0, -20.0, -10.0, 0.0, 10.0, 20.0, 35.0, 45.0)


def rigid_indices() -> np.ndarray:
    from mediapipe.python.solutions import face_mesh_connections as fmc

    lips = {i for edge in fmc.FACEMESH_LIPS for i in edge}
    return np.array([i for i in range(468) if i not in lips], dtype=np.int32)


def observe(rgb: np.ndarray, truth: dict) -> tuple[np.ndarray, np.ndarray]:
    """(camera-frame 3D face shape, true head->camera rotation), or raises LookupError.

    The face mesh runs as in a video (tracking mode, which reads pitch differently
    from still mode): the still is fed a few times and the settled output is used.
    """
    with MediaPipeLandmarker(video_mode=True) as lm:
        for i in range(4):
            frame = lm.process(rgb, i / 30)
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
    for b in ids:
        for dist, framing in ((0.8, "head"), (1.6, "upper")):
            rgb, truth = render_still(b, BodyPose(), distance_m=dist, framing=framing,
                                      renderer=renderer, seed=b)  # fmt: skip
            try:
                shape, r_true = observe(rgb, truth)
            except LookupError:
                continue
            neutral_shapes.append(normalised(shape) @ r_true)  # rows: R^T p
        for pitch in PITCHES_DEG:
            for yaw, dist, lift in ((0.0, 1.2, 0.0), (30.0, 1.2, 0.0), (0.0, 0.7, 0.15)):
                pose = BodyPose(rotation_deg=yaw, flexion_deg=pitch)
                rgb, truth = render_still(b, pose, distance_m=dist, framing="upper",
                                          height_offset_m=lift, renderer=renderer,
                                          seed=b)  # fmt: skip
                try:
                    pitch_samples.append(observe(rgb, truth))
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

    def corrected(p: np.ndarray) -> np.ndarray:
        # Looking down is compressed far more than looking up: one gain per direction.
        # The zero stays the template's: a fitted offset depends on camera height and
        # distance, and shifting it biased real faces (AFLW) by several degrees.
        return np.where(m > 0, p[0] * m, p[1] * m)

    fit = least_squares(lambda p: corrected(p) - t, x0=[1.2, 1.0], loss="soft_l1")
    zero, (gain_down, gain_up) = 0.0, (float(v) for v in fit.x)
    print(f"bodies {ids}: {len(neutral_shapes)} neutral faces, {len(m)} pitch samples")
    after = np.mean(np.abs(corrected(fit.x) - t))
    print(
        f"pitch gains: down {gain_down:.3f}, up {gain_up:.3f}; MAE "
        f"before {np.mean(np.abs(m - t)):.2f} deg, after {after:.2f}"
    )
    np.savez_compressed(
        OUT,
        template=template.astype(np.float32),
        rigid=rigid,
        pitch_gain=np.array([gain_down, gain_up], dtype=np.float32),
        pitch_zero_deg=np.float32(zero),
        provenance=np.array(f"benchmarks/fit_face_model.py, bodies {ids}"),
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
