"""Pure-numpy tests of the synthetic Anny rig (no pyrender, no torch)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from synthetic.rig import (
    C7_VERTEX,
    NECK_CHAIN,
    THORAX_BONE,
    TRAGUS_VERTEX,
    BodyPose,
    bone_poses_from_transforms,
    decompose_head_rotation,
    forward_kinematics,
    head_rotation_matrix,
    landmarks_3d,
    load_bodies,
    neck_deltas,
    pose_body,
    rotation_fraction,
    skin_vertices,
    skinning_transforms,
    truth_angles,
)


@pytest.fixture(scope="module")
def bodies():
    return load_bodies()


@pytest.fixture(scope="module")
def neutral(bodies):
    return bodies.body("neutral")


def test_data_file_shapes(bodies, neutral):
    assert len(bodies) >= 8
    n_v = neutral.rest_vertices.shape[0]
    assert neutral.skin_weights.shape[0] == n_v
    np.testing.assert_allclose(neutral.skin_weights.sum(1), 1.0, atol=1e-5)
    assert neutral.bone_parents[0] < 0
    # parents precede children (forward_kinematics relies on it)
    assert all(p < c for c, p in enumerate(neutral.bone_parents) if p >= 0)
    for name in (*NECK_CHAIN, THORAX_BONE, "eye.L", "eye.R", "clavicle.L", "upperarm01.R"):
        assert name in neutral.bone_names
    assert neutral.bone_parents[neutral.bone("neck01")] == neutral.bone(THORAX_BONE)


def test_identity_pose_gives_rest_mesh(neutral):
    t = forward_kinematics(neutral, {})
    np.testing.assert_allclose(t, np.tile(np.eye(4), (len(neutral.bone_names), 1, 1)))
    np.testing.assert_allclose(skin_vertices(neutral, t), neutral.rest_vertices, atol=1e-12)


def test_fk_children_follow_parents_and_skinning_roundtrip(neutral):
    pose = BodyPose(rotation_deg=40, flexion_deg=-20, lateral_flexion_deg=10, forward_head_deg=8)
    posed = pose_body(neutral, pose)
    heads = neutral.rest_bone_heads
    for c, p in enumerate(neutral.bone_parents):
        if p < 0:
            continue
        # the posed head of a child is its rest head carried by the parent's transform
        expected = posed.transforms[p] @ np.append(heads[c], 1.0)
        np.testing.assert_allclose(posed.bone_poses[c, :3, 3], expected[:3], atol=1e-12)
    # W = T P and T = W P^-1 are inverses (up to the float32 rounding of the stored P)
    t2 = skinning_transforms(posed.bone_poses, neutral.rest_bone_poses)
    np.testing.assert_allclose(t2, posed.transforms, atol=1e-6)
    np.testing.assert_allclose(
        bone_poses_from_transforms(t2, neutral.rest_bone_poses), posed.bone_poses, atol=1e-6
    )


def test_rotation_matrix_is_contract_order():
    r = head_rotation_matrix(30, 20, 10)
    # Rz first (outermost), then Rx, then Ry, all right-handed
    a, b, c = np.radians([30, 20, 10])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    ry = np.array([[np.cos(c), 0, np.sin(c)], [0, 1, 0], [-np.sin(c), 0, np.cos(c)]])
    np.testing.assert_allclose(r, rz @ rx @ ry, atol=1e-12)


@pytest.mark.parametrize(
    "angles",
    list(
        itertools.product((-60.0, -25.0, 0.0, 35.0, 70.0), (-40.0, 0.0, 45.0), (-30.0, 0.0, 20.0))
    ),
)
def test_decompose_inverts_compose(angles):
    got = decompose_head_rotation(head_rotation_matrix(*angles))
    np.testing.assert_allclose(got, angles, atol=1e-9)


def test_rotation_fraction_composes_back():
    r = head_rotation_matrix(55, -30, 25)
    q = rotation_fraction(r, 0.25)
    np.testing.assert_allclose(q @ q @ q @ q, r, atol=1e-12)


@pytest.mark.parametrize("fhp", [0.0, 15.0])
@pytest.mark.parametrize(
    "angles",
    [(30.0, 0.0, 0.0), (0.0, 20.0, 0.0), (0.0, 0.0, 15.0), (-55.0, 35.0, -25.0), (60, -35, 28)],
)
def test_head_bone_carries_exact_commanded_rotation(neutral, angles, fhp):
    pose = BodyPose(
        rotation_deg=angles[0],
        flexion_deg=angles[1],
        lateral_flexion_deg=angles[2],
        forward_head_deg=fhp,
        trunk_lean_forward_deg=12.0,
        trunk_lean_left_deg=-5.0,
        shoulder_elevation_left_deg=7.0,
    )
    posed = pose_body(neutral, pose)
    np.testing.assert_allclose(posed.head_in_trunk(), head_rotation_matrix(*angles), atol=1e-12)
    t = truth_angles(posed)
    got = (t["head_rotation_deg"], t["head_flexion_deg"], t["head_lateral_flexion_deg"])
    np.testing.assert_allclose(got, angles, atol=1e-9)
    # the rotation is spread evenly: each neck delta turns by a quarter of the angle (no FHP)
    if fhp == 0.0:
        total = np.degrees(np.arccos((np.trace(head_rotation_matrix(*angles)) - 1) / 2))
        for r in neck_deltas(pose).values():
            step = np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1)))
            assert step == pytest.approx(total / 4, abs=1e-9)


def _moved(neutral, pose, name):
    before = landmarks_3d(pose_body(neutral, BodyPose()))[name]
    after = landmarks_3d(pose_body(neutral, pose))[name]
    return after - before


def test_axes_rotation_turns_nose_to_subjects_left(neutral):
    # world x = subject's left, -y = forward
    d = _moved(neutral, BodyPose(rotation_deg=30), "nose_tip")
    assert d[0] > 0.05 and abs(d[2]) < 0.005


def test_axes_flexion_moves_chin_and_nose_down(neutral):
    d_nose = _moved(neutral, BodyPose(flexion_deg=20), "nose_tip")
    d_chin = _moved(neutral, BodyPose(flexion_deg=20), "chin")
    assert d_nose[2] < -0.03 and d_chin[2] < -0.02
    assert abs(d_nose[0]) < 1e-9
    d_ext = _moved(neutral, BodyPose(flexion_deg=-20), "chin")
    assert d_ext[2] > 0.02  # extension: chin up


def test_axes_lateral_flexion_lowers_left_ear(neutral):
    pose = BodyPose(lateral_flexion_deg=15)
    assert _moved(neutral, pose, "tragus_left")[2] < -0.01
    assert _moved(neutral, pose, "tragus_right")[2] > 0.01
    t = truth_angles(pose_body(neutral, pose))
    assert t["head_tilt_deg"] == pytest.approx(15.0, abs=0.5)  # + = left eye lower


def test_shoulder_elevation_sign(neutral):
    t = truth_angles(pose_body(neutral, BodyPose(shoulder_elevation_left_deg=10)))
    assert t["shoulder_tilt_deg"] < -2.0  # left shoulder higher: negative tilt
    t = truth_angles(pose_body(neutral, BodyPose(shoulder_elevation_right_deg=10)))
    assert t["shoulder_tilt_deg"] > 2.0


def test_landmark_vertices_are_where_documented(neutral):
    v = neutral.rest_vertices
    heads = neutral.rest_bone_heads
    c7 = v[C7_VERTEX]
    assert abs(c7[0]) < 1e-6  # midline
    assert c7[1] > heads[neutral.bone("neck01")][1] + 0.02  # posterior
    assert abs(c7[2] - heads[neutral.bone("neck01")][2]) < 0.01  # base of the neck
    tl, tr = v[TRAGUS_VERTEX["left"]], v[TRAGUS_VERTEX["right"]]
    np.testing.assert_allclose(tl * [-1, 1, 1], tr, atol=1e-6)  # mirror pair
    assert tl[0] > 0.06  # subject's left
    eye = heads[neutral.bone("eye.L")]
    assert tl[1] > eye[1] + 0.04  # behind the eyes
    assert eye[2] - 0.06 < tl[2] < eye[2]  # below eye level


def test_neutral_cva_plausible_and_forward_head_lowers_it(bodies):
    for i in range(len(bodies)):
        body = bodies.body(i)
        cva0 = truth_angles(pose_body(body, BodyPose()))["cva_deg"]
        assert 45.0 < cva0 < 58.0, body.name
        cva_fhp = truth_angles(pose_body(body, BodyPose(forward_head_deg=15)))["cva_deg"]
        assert cva_fhp < cva0 - 8.0
        # forward head posture leaves the head orientation unchanged
        t = truth_angles(pose_body(body, BodyPose(forward_head_deg=15)))
        assert abs(t["head_flexion_deg"]) < 1e-9


def test_cva_is_measured_against_gravity(neutral):
    # leaning the trunk forward lowers the CVA even with the head unchanged relative to it
    cva0 = truth_angles(pose_body(neutral, BodyPose()))["cva_deg"]
    t = truth_angles(pose_body(neutral, BodyPose(trunk_lean_forward_deg=15)))
    assert t["cva_deg"] < cva0 - 5
    assert t["head_flexion_deg"] == pytest.approx(0.0, abs=1e-9)


# ----------------------------------------------------------------------------- wide set, looks
@pytest.fixture(scope="module")
def wide():
    from synthetic.rig import WIDE_DATA_PATH

    return load_bodies(WIDE_DATA_PATH)


def test_wide_bodies_same_format_and_topology(bodies, wide, neutral):
    assert len(wide) == 6
    assert not set(wide.names) & set(bodies.names)  # held out by construction
    assert wide.phenotype_labels == bodies.phenotype_labels
    for i in range(len(wide)):
        body = wide.body(i)
        assert body.rest_vertices.shape == neutral.rest_vertices.shape
        np.testing.assert_array_equal(body.faces, neutral.faces)
        np.testing.assert_array_equal(body.skin_indices, neutral.skin_indices)
        assert body.bone_names == neutral.bone_names
        cva0 = truth_angles(pose_body(body, BodyPose()))["cva_deg"]
        assert 45.0 < cva0 < 58.0, body.name
        r = truth_angles(pose_body(body, BodyPose(rotation_deg=40, flexion_deg=-20)))
        assert r["head_rotation_deg"] == pytest.approx(40.0, abs=1e-9)
        assert r["head_flexion_deg"] == pytest.approx(-20.0, abs=1e-9)


def test_looks_default_off_and_rigid_on_the_head(neutral):
    from synthetic.looks import accessory_meshes
    from synthetic.scene import Appearance

    rest = pose_body(neutral, BodyPose())
    assert accessory_meshes(rest, Appearance()) == []
    looks = Appearance(glasses=True, long_hair=True)
    moved = pose_body(neutral, BodyPose(rotation_deg=60, lateral_flexion_deg=-25))
    g = moved.bone_rotation("head")
    head0 = rest.bone_poses[neutral.bone("head"), :3, 3]
    head1 = moved.bone_poses[neutral.bone("head"), :3, 3]
    for (v0, f0, _), (v1, f1, _) in zip(
        accessory_meshes(rest, looks), accessory_meshes(moved, looks), strict=True
    ):
        np.testing.assert_array_equal(f0, f1)
        np.testing.assert_allclose(v1 - head1, (v0 - head0) @ g.T, atol=1e-9)
    hair = accessory_meshes(rest, Appearance(long_hair=True))[0][0]
    tl = neutral.rest_vertices[TRAGUS_VERTEX["left"]]
    side = hair[(np.abs(hair[:, 1] - tl[1]) < 0.02) & (np.abs(hair[:, 2] - tl[2]) < 0.02)]
    assert side[:, 0].max() > tl[0] + 0.005  # the hair passes outside the ear
