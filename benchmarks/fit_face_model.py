"""Fit the face model the head-pose code uses, from rendered bodies with exact angles.

Writes ``posture/geometry/data/face_model.npz``:
- ``template``: the mean face-mesh shape (468 points, unit RMS size) of rendered
  bodies at neutral, in the head's own axes (x left, y back, z up). Fitting a
  whole rigid shape (Kabsch) is far steadier at large yaw than a few point pairs.
- ``rigid``: indices used for fitting (lips and the jaw below the mouth move
  with speech and are left out).
- ``pitch_gain``: the face mesh under-reports pitch; pitch relative to the
  camera is multiplied by one gain per direction (down, up), fitted here by
  robust least squares (``pitch_zero_deg`` is 0). On stills fed a few times the
  fit gives (1.19, 1.05); on tracked video frames (``--video-gains``, what the
  installed model uses) about (1.14, 1.18): in video, extension is under-read too.

With ``--video-gains``, only the pitch gains are refitted, on the frames of rendered
ROM protocol VIDEOS (bodies not used by the benchmark's videos, rendered by
``benchmarks/render_rom_train.py``), analysed frame by frame as the pipeline does (the
tracked face mesh reads extension differently from a still fed a few times); the template
and rigid points are kept.

With ``--template-only`` (with ``--bodies``), only the template is refitted, on the
neutral faces of those bodies; the rigid points and the installed pitch gains are kept
(refit them after with ``--video-gains``). The provenance names the bodies, which
``benchmarks/accuracy.py`` reads to tell fit from held-out bodies.

Needs the synthetic extras (pyrender on Mesa; see docs/synthetic.md).
Usage: python benchmarks/fit_face_model.py [--bodies 0 1 2 ...]
       python benchmarks/fit_face_model.py --template-only --bodies 1 2 3 7 8
       python benchmarks/fit_face_model.py --video-gains [VIDEO ...] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: synthetic/

from posture.geometry.head import FaceModel, fit_rotation, load_face_model, undo_perspective  # noqa: E402
from posture.geometry.rotations import FACING_CAMERA, compose_head_angles, decompose_head_angles  # noqa: E402
from posture.landmarks.mediapipe_adapter import MediaPipeLandmarker  # noqa: E402
from synthetic.render import Renderer, render_still  # noqa: E402
from synthetic.rig import BodyPose, load_bodies  # noqa: E402

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


def video_pitch_samples(video: Path, template: np.ndarray, rigid: np.ndarray) -> dict:
    """Per frame of a rendered video: the pipeline's pitch relative to the camera before
    gains (``measure_frame`` with unit gains: same landmarks, lens and fit as ``analyze``)
    and the true pitch relative to the camera; the neutral hold's frames are flagged."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from rom_video_eval import cached_landmarks

    from posture.geometry import head
    from posture.geometry.measure import measure_frame

    truth = json.loads(video.with_suffix(".truth.json").read_text())
    r_wc = np.array(truth["camera"]["world_to_camera_cv"])[:3, :3]
    _, lms = cached_landmarks(video)
    unit = FaceModel(template, rigid, (1.0, 1.0), 0.0)
    original = head.load_face_model
    head.load_face_model = lambda *a, **k: unit  # type: ignore[assignment]
    raw, true, t = [], [], []
    try:
        for lm, tf in zip(lms, truth["frames"], strict=False):
            m = measure_frame(lm)
            if m.head_in_camera_deg is None:
                continue
            angles = (tf["head_rotation_deg"], tf["head_flexion_deg"],
                      tf["head_lateral_flexion_deg"])  # fmt: skip
            r_true = r_wc @ compose_head_angles(*angles)
            raw.append(m.head_in_camera_deg[1])
            true.append(decompose_head_angles(FACING_CAMERA.T @ r_true)[1])
            t.append(tf["t"])
    finally:
        head.load_face_model = original  # type: ignore[assignment]
    t_arr = np.array(t)
    return {"raw": np.array(raw), "true": np.array(true), "neutral": t_arr < 1.4, "t": t_arr}


def fit_gains(m: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """(down, up) gains: ``gain * m`` against ``t``, one gain per sign of ``m`` (soft L1)."""

    def residual(p: np.ndarray) -> np.ndarray:
        return np.where(m > 0, p[0] * m, p[1] * m) - t

    fit = least_squares(residual, x0=[1.2, 1.0], loss="soft_l1")
    return float(fit.x[0]), float(fit.x[1])


def apply_gains(m: np.ndarray, gains: tuple[float, float]) -> np.ndarray:
    return np.where(m > 0, gains[0] * m, gains[1] * m)


def fit_gains_excursions(samples: list[dict]) -> tuple[float, float]:
    """(down, up) gains applied about the camera-facing zero (as ``head.scale_pitch``), fitted
    so that each video's corrected pitch, taken from its neutral hold, matches the true
    excursion (range of motion is measured from neutral; the face mesh's read of a level
    head varies by several degrees with body and camera, which this leaves out)."""

    def residual(p: np.ndarray) -> np.ndarray:
        out = []
        for s in samples:
            c, n = apply_gains(s["raw"], (p[0], p[1])), s["neutral"]
            out.append(c - c[n].mean() - (s["true"] - s["true"][n].mean()))
        return np.concatenate(out)

    fit = least_squares(residual, x0=[1.2, 1.0], loss="soft_l1")
    return float(fit.x[0]), float(fit.x[1])


def video_gains(videos: list[Path], dry_run: bool) -> None:
    """Refit the pitch gains on video frames; compare gains about the camera-facing zero
    (what ``head.scale_pitch`` does) with gains about the recording's neutral."""
    model = load_face_model()
    samples = {v.stem: video_pitch_samples(v, model.template, model.rigid) for v in videos}
    bodies = sorted({json.loads(v.with_suffix(".truth.json").read_text())["body"]["name"]
                     for v in videos})  # fmt: skip

    def excursions(s: dict) -> tuple[np.ndarray, np.ndarray]:
        n = s["neutral"]
        return s["raw"] - np.median(s["raw"][n]), s["true"] - np.median(s["true"][n])

    raw = np.concatenate([s["raw"] for s in samples.values()])
    true = np.concatenate([s["true"] for s in samples.values()])
    ex = [excursions(s) for s in samples.values()]
    ex_raw, ex_true = np.concatenate([e[0] for e in ex]), np.concatenate([e[1] for e in ex])
    fits = {
        "camera zero": fit_gains(raw, true),
        "camera, exc.": fit_gains_excursions(list(samples.values())),
        "neutral zero": fit_gains(ex_raw, ex_true),
        "installed": model.pitch_gain,
    }
    print(f"{len(videos)} videos ({', '.join(bodies)}), {len(raw)} frames with a face")
    for name, s in samples.items():
        n = s["neutral"]
        print(f"  {name}: raw pitch at neutral {np.median(s['raw'][n]):+.2f}, true "
              f"{np.median(s['true'][n]):+.2f}; gains about camera zero "
              f"{fit_gains(s['raw'], s['true'])[0]:.3f}/{fit_gains(s['raw'], s['true'])[1]:.3f}"
              f", about neutral {fit_gains(*excursions(s))[0]:.3f}/"
              f"{fit_gains(*excursions(s))[1]:.3f}")  # fmt: skip
    print("excursion-from-neutral pitch error (deg, training frames): MAE all / |true| > 20"
          " down / up, ROM peak error down / up (mean over videos)")  # fmt: skip
    for name, gains in fits.items():
        errs, peaks = [], []
        for s in samples.values():
            if name == "neutral zero":
                r, tr = excursions(s)
                got = apply_gains(r, gains)
            else:
                got = apply_gains(s["raw"], gains)
                got = got - np.median(got[s["neutral"]])
                tr = s["true"] - np.median(s["true"][s["neutral"]])
            errs.append(np.column_stack([got - tr, tr]))
            peaks.append((got.max() - tr.max(), -got.min() + tr.min()))
        e = np.concatenate(errs)
        down, up = e[e[:, 1] > 20, 0], e[e[:, 1] < -20, 0]
        pk, mae = np.mean(peaks, axis=0), np.mean(np.abs(e[:, 0]))
        print(f"  {name:<13} gains {gains[0]:.3f}/{gains[1]:.3f}: MAE {mae:.2f}"
              f", {np.mean(np.abs(down)):.2f} (bias {np.mean(down):+.2f}) / "
              f"{np.mean(np.abs(up)):.2f} (bias {np.mean(up):+.2f}); peaks {pk[0]:+.2f} / "
              f"{pk[1]:+.2f}")  # fmt: skip
    gain_down, gain_up = fits["camera, exc."]
    if dry_run:
        return
    np.savez_compressed(
        OUT,
        template=model.template.astype(np.float32),
        rigid=model.rigid,
        pitch_gain=np.array([gain_down, gain_up], dtype=np.float32),
        pitch_zero_deg=np.float32(0.0),
        provenance=np.array(
            f"benchmarks/fit_face_model.py: {_template_sentence(model)}; "
            f"pitch gains video-fitted (--video-gains) on {len(raw)} frames of the ROM "
            f"protocol videos {sorted(samples)} (bodies {bodies})"
        ),
    )
    print(f"wrote {OUT}: pitch gains down {gain_down:.3f}, up {gain_up:.3f}")


def _template_sentence(model: FaceModel) -> str:
    """The installed template's part of the provenance ("template from renders of bodies
    [...] (stills)"), kept when only the gains are refitted."""
    import re

    text = str(np.load(OUT)["provenance"]) if OUT.exists() else ""
    m = re.search(r"template from renders of bodies \[[^\]]*\] \(stills\)", text)
    return m[0] if m else "template from renders of bodies [0..8] (stills)"


def neutral_template(ids: list[int], renderer: Renderer) -> tuple[np.ndarray, int]:
    """The mean neutral face-mesh shape (head axes, unit RMS size) of bodies ``ids``, and
    how many renders gave a face (a close head and an upper-body framing per body)."""
    shapes = []
    for b in ids:
        for dist, framing in ((0.8, "head"), (1.6, "upper")):
            rgb, truth = render_still(b, BodyPose(), distance_m=dist, framing=framing,
                                      renderer=renderer, seed=b)  # fmt: skip
            try:
                shape, r_true = observe(rgb, truth)
            except LookupError:
                continue
            shapes.append(normalised(shape) @ r_true)  # rows: R^T p
    return normalised(np.mean(shapes, axis=0)), len(shapes)


def template_only(ids: list[int], dry_run: bool) -> None:
    model = load_face_model()
    template, n = neutral_template(ids, Renderer())
    r = fit_rotation(model.template, template, model.rigid)
    change = np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1)))
    rms = np.sqrt(((template - model.template) ** 2).sum(axis=1).mean())
    print(f"bodies {ids}: {n} neutral faces; new vs installed template: rms {rms:.4f} "
          f"(unit size), rotation {change:.2f} deg")  # fmt: skip
    if dry_run:
        return
    names = ", ".join(str(i) for i in ids)
    old = str(np.load(OUT)["provenance"])
    gains = old.split("; ", 1)[1] if "; " in old else "pitch gains as installed before"
    np.savez_compressed(
        OUT,
        template=template.astype(np.float32),
        rigid=model.rigid,
        pitch_gain=np.array(model.pitch_gain, dtype=np.float32),
        pitch_zero_deg=np.float32(model.pitch_zero_deg),
        provenance=np.array(
            f"benchmarks/fit_face_model.py: template from renders of bodies [{names}] "
            f"(stills); {gains}"
        ),
    )
    print(f"wrote {OUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bodies", type=int, nargs="*", help="body indices (default: all)")
    parser.add_argument("--video-gains", type=Path, nargs="*", metavar="VIDEO",
                        help="refit only the pitch gains on these ROM videos (with "
                        ".truth.json; none given: render_rom_train.py's)")  # fmt: skip
    parser.add_argument("--template-only", action="store_true",
                        help="refit only the template, on --bodies")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args()
    if args.template_only:
        if not args.bodies:
            parser.error("--template-only needs --bodies")
        template_only(args.bodies, args.dry_run)
        return
    if args.video_gains is not None:
        videos = args.video_gains
        if not videos:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from render_rom_train import ensure_train_videos

            videos = ensure_train_videos()
        video_gains(videos, args.dry_run)
        return
    bodies = load_bodies()
    ids = args.bodies if args.bodies else list(range(len(bodies.names)))
    renderer = Renderer()
    rigid = rigid_indices()
    template, n_neutral = neutral_template(ids, renderer)
    pitch_samples = []
    for b in ids:
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
    print(f"bodies {ids}: {n_neutral} neutral faces, {len(m)} pitch samples")
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
