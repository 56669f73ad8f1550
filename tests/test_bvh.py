"""BVH in and out (#17): the parser, the skeleton namings, the projection, resampling, video -> BVH
round trip, and the CLI on the AnimatedDrawings captures in ../shared/media (MIT)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.io.bvh import Bvh, BvhJoint, InvalidBvhError, bvh_text, parse_bvh, read_bvh, write_bvh
from steadymotion.motion.bvh import (
    NAMINGS, bvh_from_pose, load_skeleton_map, pose_from_bvh, read_motion_bvh, resolve_naming,
)
from steadymotion.skeleton import BODY, LONG_BONES
from tests.conftest import media_path

# name -> (joints, frames, frame time, naming): counted in the files (MANIFEST.md section 5)
CAPTURES = {
    "animateddrawings__dab.bvh": (27, 339, 0.0333333, "Mixamo / Rokoko / Meta"),
    "animateddrawings__wave_hello.bvh": (27, 839, 0.008342, "Mixamo / Rokoko / Meta"),
    "animateddrawings__jesse_dance.bvh": (60, 1007, 0.01, "Mixamo / Rokoko / Meta"),
    "animateddrawings__jumping_jacks.bvh": (31, 125, 0.03333, "CMU"),
}

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _two_bone(channels=("Zrotation", "Xrotation", "Yrotation"), frames=((0, 0, 0), (90, 0, 0))) -> Bvh:
    """A root at the origin with one child 10 units up the Y axis; ``frames`` rotate the root."""
    root = BvhJoint("Hips", -1, np.zeros(3), ("Xposition", "Yposition", "Zposition") + channels)
    child = BvhJoint("Spine", 0, np.array([0.0, 10.0, 0.0]), channels, end_site=np.array([0.0, 5.0, 0.0]))
    motion = np.array([[0, 0, 0, *f, 0, 0, 0] for f in frames], float)
    return Bvh([root, child], motion, 0.1)


# --- the parser ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CAPTURES))
def test_reads_the_shared_captures(name):
    # given one of the four AnimatedDrawings captures
    joints, frames, frame_time, _ = CAPTURES[name]
    # when it is read and posed
    bvh = read_bvh(media_path(name))
    pos, ends, _ = bvh.forward_kinematics()
    # then its counts are the file's, and every bone keeps its length on every frame (rigid FK)
    assert (len(bvh.joints), bvh.n_frames) == (joints, frames)
    assert bvh.frame_time == pytest.approx(frame_time)
    assert np.isfinite(pos).all()
    for j, joint in enumerate(bvh.joints[1:], start=1):
        length = np.linalg.norm(pos[:, j] - pos[:, joint.parent], axis=-1)
        assert np.ptp(length) < 1e-6 * max(1.0, length.max())
        assert length[0] == pytest.approx(np.linalg.norm(joint.offset), abs=1e-6)
    # and the text it writes reads back to the same poses
    again = parse_bvh(bvh_text(bvh))
    assert np.abs(again.forward_kinematics()[0] - pos).max() < 1e-4


def test_euler_order_follows_the_channels():
    # given a root turned 90 deg about Z (ZXY channels), with a child 10 up Y
    bvh = _two_bone()
    pos, ends, _ = bvh.forward_kinematics()
    # then the child swings from +Y to -X (a right-handed quarter turn about Z), its end site too
    assert pos[0, 1] == pytest.approx([0, 10, 0], abs=1e-9)
    assert pos[1, 1] == pytest.approx([-10, 0, 0], abs=1e-9)
    assert ends[1, 1] == pytest.approx([-15, 0, 0], abs=1e-9)
    # and the order matters: Z then X (intrinsic) is not X then Z
    zx = _two_bone(("Zrotation", "Xrotation", "Yrotation"), ((90, 90, 0),)).forward_kinematics()[0][0, 1]
    xz = _two_bone(("Xrotation", "Zrotation", "Yrotation"), ((90, 90, 0),)).forward_kinematics()[0][0, 1]
    assert not np.allclose(zx, xz)
    assert zx == pytest.approx([0, 0, 10], abs=1e-9)  # Rz(90) Rx(90) (0,10,0) = Rz(90) (0,0,10)


@pytest.mark.parametrize("text, words", [
    ("", "does not start with HIERARCHY"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xrotation Yrotation Zrotation }", "no MOTION"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 CHANNELS 3 Xrotation Yrotation Zrotation } MOTION Frames: 1 Frame Time: 0.1 0 0 0", "OFFSET"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xrotation Yrotation Wrotation } MOTION Frames: 1 Frame Time: 0.1 0 0 0", "unknown"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xrotation Yrotation Zrotation MOTION Frames: 1 Frame Time: 0.1 0 0 0", "unbalanced"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xrotation Yrotation Zrotation } MOTION Frames: 2 Frame Time: 0.1 0 0 0", "cut short"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xrotation Yrotation Zrotation } MOTION Frames: 1 Frame Time: 0 0 0 0", "positive"),
    ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xrotation Yrotation Zrotation } MOTION Frames: 0 Frame Time: 0.1", "at least one"),
])
def test_malformed_files_say_what_is_wrong(text, words):
    with pytest.raises(InvalidBvhError, match=words):
        parse_bvh(text)


# --- namings -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CAPTURES))
def test_each_shared_capture_finds_its_naming(name):
    bvh = read_bvh(media_path(name))
    naming = resolve_naming(bvh.names)
    assert naming.name == CAPTURES[name][3]
    # the upper arm, not the clavicle, is the MediaPipe shoulder in both namings
    assert bvh.names[naming.index["left_shoulder"]] in ("LeftArm", "LeftShoulder")
    assert bvh.names[naming.index["left_elbow"]] in ("LeftForeArm", "LeftElbow")


def test_mixamo_prefix_daz_naming_and_a_skeleton_map(tmp_path):
    # given the Meta capture renamed three ways
    bvh = read_bvh(media_path("animateddrawings__dab.bvh"))
    meta = resolve_naming(bvh.names)
    mixamo = ["mixamorig:" + n for n in bvh.names]
    daz_of = {v[0]: k for k, v in NAMINGS["Mixamo / Rokoko / Meta"].items()}
    daz = [NAMINGS["CMU (Daz)"][daz_of[n]][0] if n in daz_of else n for n in bvh.names]
    odd = [f"J{i:02d}" for i in range(len(bvh.names))]
    # then the Mixamo prefix and the Daz names resolve to the same joints
    assert resolve_naming(mixamo).index == meta.index
    assert resolve_naming(daz).index == {k: v for k, v in meta.index.items() if k in NAMINGS["CMU (Daz)"]}
    # and an unknown naming is refused with the fix, then accepted with a --skeleton-map
    with pytest.raises(InvalidBvhError, match="--skeleton-map"):
        resolve_naming(odd)
    mapping = {role: odd[j] for role, j in meta.index.items()}
    path = tmp_path / "map.json"
    path.write_text(json.dumps(mapping))
    custom = resolve_naming(odd, load_skeleton_map(path))
    assert custom.name == "custom" and custom.index == meta.index
    # a map naming a joint the capture lacks, or an unknown role, is refused
    with pytest.raises(InvalidBvhError, match="no such joint"):
        resolve_naming(odd, {**mapping, "head": "Skull"})
    path.write_text(json.dumps({"left_sholder": "J01"}))
    with pytest.raises(ValueError, match="unknown roles left_sholder"):
        load_skeleton_map(path)


# --- projection, resampling, duration ---------------------------------------------------------------------
def _angles(seq, bone):
    a, b = LONG_BONES[bone]
    d = seq.body[:, b, :2] - seq.body[:, a, :2]
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


def test_jumping_jacks_project_as_a_front_view():
    # given the CMU jumping jacks at 30 fps
    seq = read_motion_bvh(media_path("animateddrawings__jumping_jacks.bvh"), fps=30)
    body = seq.body
    # then the subject faces the camera: its left shoulder and hip are on the image's right
    assert (body[:, BODY["left_shoulder"], 0] > body[:, BODY["right_shoulder"], 0]).all()
    assert (body[:, BODY["left_hip"], 0] > body[:, BODY["right_hip"], 0]).all()
    # the head is above the shoulders, the ankles below the hips, everything inside the frame
    assert (body[:, BODY["nose"], 1] < body[:, BODY["left_shoulder"], 1]).all()
    assert (body[:, BODY["left_ankle"], 1] > body[:, BODY["left_hip"], 1]).all()
    assert (body[..., 0] > 0).all() and (body[..., 0] < seq.size[0]).all()
    assert (body[..., 1] > 0).all() and (body[..., 1] < seq.size[1]).all()
    # and it does jumping jacks: hands go from below the shoulders to above the head and back
    wrist_up = body[:, BODY["left_shoulder"], 1] - body[:, BODY["left_wrist"], 1]
    assert wrist_up.max() > 0.5 * seq.size[1] * 0.2 and wrist_up.min() < 0
    feet = body[:, BODY["left_ankle"], 0] - body[:, BODY["right_ankle"], 0]
    assert feet.max() > 2 * feet.min()
    assert seq.meta["bvh"]["projection"] == {"trunk": "frontal", "arms": "frontal", "legs": "frontal"}


def test_pca_picks_the_sagittal_plane_for_high_kicks():
    # given a capture whose legs kick high forward and back (70 deg about the sideways X axis)
    bvh = read_bvh(media_path("animateddrawings__jumping_jacks.bvh"))
    names = bvh.names
    motion = bvh.motion.copy()
    motion[:, 3:] = 0.0  # all joints at rest
    t = np.arange(bvh.n_frames) * bvh.frame_time
    for leg, sign in (("LeftHip", 1), ("RightHip", -1)):
        j = names.index(leg)
        col = bvh._col[j] + bvh.joints[j].channels.index("Xrotation")
        motion[:, col] = sign * 70 * np.sin(2 * np.pi * t)
    walk = Bvh(bvh.joints, motion, bvh.frame_time)
    # when projected with the best-fitting plane, then the legs are drawn sagittally, the arms frontally
    seq = pose_from_bvh(walk)
    assert seq.meta["bvh"]["projection"]["legs"] == "sagittal"
    assert seq.meta["bvh"]["projection"]["arms"] == "frontal"
    # and the kick shows in the image: the thigh sweeps over 100 deg, at least twice what a frontal view shows
    sweep = np.ptp(_angles(seq, "left thigh"))
    assert sweep > 100 and sweep > 2 * np.ptp(_angles(pose_from_bvh(walk, legs="frontal"), "left thigh"))


@pytest.mark.parametrize("fps", [24, 30, 60])
def test_resampled_to_the_output_rate_keeping_the_duration(fps):
    # given the 120 fps wave_hello (839 frames of 0.008342 s = 7.0 s)
    bvh = read_bvh(media_path("animateddrawings__wave_hello.bvh"))
    seq = pose_from_bvh(bvh, fps=fps)
    # then the sequence is at fps, as long as the capture
    assert seq.fps == fps
    assert len(seq) == round(bvh.duration_s * fps)
    assert seq.duration_s == pytest.approx(bvh.duration_s, abs=1.0 / fps)
    assert np.diff(seq.times) == pytest.approx(1.0 / fps)
    # and each output frame shows the capture at its time (the nearest capture frame is 4 ms away at most)
    full = pose_from_bvh(bvh, fps=1 / bvh.frame_time)
    nearest = np.clip(np.round(seq.times / bvh.frame_time).astype(int), 0, len(full) - 1)
    for bone in ("right forearm", "left upper arm"):
        d = np.abs((_angles(seq, bone) - _angles(full, bone)[nearest] + 180) % 360 - 180)
        assert np.percentile(d, 95) < 3


# --- video -> BVH -> motion --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip_motion(tmp_path_factory):
    """The first 2 s of the UniAnimate dance, at half size, tracked (world landmarks included)."""
    from steadymotion.io.video import VideoReader, VideoWriter
    from steadymotion.pose.extract import extract_pose

    src = media_path("unianimate__source_video.mp4")
    path = tmp_path_factory.mktemp("clip") / "dance2s.mp4"
    with VideoReader(src, end_s=2.0, max_side=560) as r, VideoWriter(path, r.fps) as w:
        for f in r:
            w.write(f.image)
    return path, extract_pose(path, parts="body", workers=1)


def test_video_to_bvh_round_trip(clip_motion, tmp_path):
    path, seq = clip_motion
    assert seq.world is not None and np.isfinite(seq.world[seq.body_present]).all()
    # when written as BVH and read back with the parser
    bvh, fit = bvh_from_pose(seq)
    out = write_bvh(tmp_path / "dance.bvh", bvh)
    back = read_bvh(out)
    # then it is the standard humanoid at the clip's rate, Hips with six channels
    assert back.names[0] == "Hips" and len(back.joints[0].channels) == 6
    for name in ("Spine", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
                 "RightUpLeg", "RightLeg", "RightFoot"):
        assert name in back.names
    assert back.n_frames == len(seq) and back.frame_time == pytest.approx(1 / float(seq.fps), abs=1e-6)
    # and forward kinematics of the file puts every bone along the tracked world-landmark bone
    assert fit["landmarks"] == "world" and fit["p95_deg"] < 1.0
    pos = back.forward_kinematics()[0]
    w = seq.world.astype(float) * [1, -1, -1]
    for joint, child, (a, b) in (("LeftArm", "LeftForeArm", (11, 13)), ("RightForeArm", "RightHand", (14, 16)),
                                 ("LeftUpLeg", "LeftLeg", (23, 25)), ("RightLeg", "RightFoot", (26, 28))):
        got = pos[:, back.names.index(child)] - pos[:, back.names.index(joint)]
        want = w[:, b] - w[:, a]
        cos = np.einsum("tc,tc->t", got, want) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.0
    # and the motion read back from the file moves the limbs as the video does (image plane)
    again = pose_from_bvh(back, fps=float(seq.fps))
    assert len(again) == len(seq)
    errs = []
    for bone in LONG_BONES:
        d = np.abs((_angles(again, bone) - _angles(seq, bone) + 180) % 360 - 180)
        errs.append(np.median(d))
    assert np.median(errs) < 10 and max(errs) < 25, errs


# --- the CLI ---------------------------------------------------------------------------------------------------
def test_cli_pose_from_bvh_then_exports(tmp_path):
    out = tmp_path / "m.npz"
    result = run("pose", media_path("animateddrawings__jumping_jacks.bvh"), "-o", out, "--fps", 25,
                 "--openpose-json", tmp_path / "op", "-q")
    assert result.exit_code == 0, result.output
    from steadymotion.types import PoseSequence

    seq = PoseSequence.load(out)
    assert seq.fps == 25 and len(seq) == round(125 * 0.03333 * 25) and seq.body_present.all()
    assert seq.meta["bvh"]["naming"] == "CMU"  # the capture's provenance survives the .npz (a capture has no camera)
    assert len(list((tmp_path / "op").glob("*.json"))) == len(seq)


def test_cli_animate_with_a_bvh_motion(tmp_path):
    from steadymotion.io.image import write_image
    from steadymotion.io.video import probe_video
    from steadymotion.samples import sample_image

    image = write_image(tmp_path / "me.png", sample_image())
    out = tmp_path / "out.mp4"
    result = run("animate", "--motion", media_path("animateddrawings__jumping_jacks.bvh"), "-i", image, "-o", out,
                 "--max-seconds", 1.0, "--fps", 20, "--size", "256x256", "-q")
    assert result.exit_code == 0, result.output
    info = probe_video(out)
    assert info.fps == 20 and info.frame_count == 20 and not info.has_audio


def test_cli_bad_bvh_is_one_line_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.bvh"
    text = media_path("animateddrawings__dab.bvh").read_text()
    bad.write_text(text[: len(text) // 2])  # cut mid-MOTION, as an interrupted download
    out = tmp_path / "m.npz"
    result = run("pose", bad, "-o", out, "--bvh", tmp_path / "again.bvh")
    assert result.exit_code == 2
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "broken.bvh" in lines[0] and "truncated" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.bvh"]
    # an unknown naming says how to fix it
    odd = tmp_path / "odd.bvh"
    odd.write_text(text.replace("LeftArm", "Arm_L"))
    result = run("animate", "--motion", odd, "-i", tmp_path / "none.png", "-o", tmp_path / "o.mp4")
    assert result.exit_code == 2 and "--skeleton-map" in result.output and "left_shoulder" in result.output
    # --skeleton-map or --fps on a video is refused before any work
    assert run("pose", tmp_path / "x.mp4", "--skeleton-map", tmp_path / "m.json").exit_code == 2
    assert "BVH input only" in run("pose", tmp_path / "x.mp4", "--fps", 25).output


def test_cli_pose_video_writes_bvh(clip_motion, tmp_path):
    path, _ = clip_motion
    result = run("pose", path, "-o", tmp_path / "m.npz", "--bvh", tmp_path / "m.bvh", "--workers", 1)
    assert result.exit_code == 0, result.output
    bvh = read_bvh(tmp_path / "m.bvh")
    assert bvh.names[0] == "Hips" and bvh.n_frames > 20
    from steadymotion.types import PoseSequence

    assert PoseSequence.load(tmp_path / "m.npz").world is not None  # world landmarks are kept in the .npz


def test_pose_sequence_world_is_checked():
    seq = pose_from_bvh(_two_bone_humanoid())
    with pytest.raises(ValueError, match="world must have shape"):
        type(seq)(**{**{f: getattr(seq, f) for f in ("body", "hands", "face", "body_present", "hands_present",
                                                       "face_present", "times")},
                     "fps": Fraction(30), "size": seq.size, "world": np.zeros((len(seq), 5, 3))})


def _two_bone_humanoid() -> Bvh:
    """The dab capture's first 3 frames (enough for a PoseSequence)."""
    bvh = read_bvh(media_path("animateddrawings__dab.bvh"))
    return Bvh(bvh.joints, bvh.motion[:3], bvh.frame_time)


# --- the built-in full-body sample ----------------------------------------------------------------------------
def test_the_sample_character_is_found_whole_and_its_capture_ships():
    from steadymotion.pose.extract import pose_from_image
    from steadymotion.samples import sample_character, sample_motion
    from steadymotion.skeleton import REGIONS, VISIBLE

    # given the character the package draws
    img = sample_character()
    # when MediaPipe looks at it
    pose = pose_from_image(img)
    # then it finds one person, head to feet, every region seen, inside the picture
    assert img.shape == (960, 960, 3) and pose.body_present[0]
    body = pose.body[0]
    for region, idx in REGIONS.items():
        assert (body[list(idx), 3] >= VISIBLE).all(), region
    feet = body[[BODY["left_foot_index"], BODY["right_foot_index"]], 1]
    assert body[BODY["nose"], 1] < 0.3 * 960 and (feet > 0.8 * 960).all() and (feet < 960).all()
    assert body[BODY["left_wrist"], 0] > body[BODY["left_hip"], 0] > body[BODY["right_hip"], 0] > body[BODY["right_wrist"], 0]
    # and the bundled capture (with its licence notice) reads as the CMU jumping jacks
    seq = read_motion_bvh(sample_motion())
    assert seq.meta["bvh"]["naming"] == "CMU" and len(seq) == 125
    assert "MIT License" in (sample_motion().parent / "NOTICE-AnimatedDrawings.txt").read_text()


def test_cli_check_a_renamed_capture_with_a_skeleton_map(tmp_path):
    from steadymotion.io.image import write_image
    from steadymotion.samples import sample_character, sample_motion

    # given the sample character and the jumping jacks with every joint renamed
    image = write_image(tmp_path / "me.png", sample_character())
    bvh = read_bvh(sample_motion())
    naming = resolve_naming(bvh.names)
    for j in bvh.joints:
        j.name = f"bone{bvh.joints.index(j)}"
    write_bvh(tmp_path / "odd.bvh", bvh)
    (tmp_path / "map.json").write_text(json.dumps({role: f"bone{j}" for role, j in naming.index.items()}))
    # when checked without and with the map
    without = run("check", "--image", image, "--motion", tmp_path / "odd.bvh", "-q")
    with_map = run("check", "--image", image, "--motion", tmp_path / "odd.bvh", "--skeleton-map", tmp_path / "map.json", "-q")
    # then the naming is refused with the fix, and with the map preflight finds nothing to report
    assert without.exit_code == 2 and "--skeleton-map" in without.output
    assert with_map.exit_code == 0, with_map.output
    assert "nothing to report" in with_map.output
