"""OpenPose JSON layout and DWPose-style drawing, checked value by value and pixel by pixel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from steadymotion.errors import OutputError
from steadymotion.io.video import VideoReader
from steadymotion.pose.openpose import BODY_COLORS, draw_pose, openpose_frame, render_pose_video, write_openpose_json
from steadymotion.skeleton import BODY
from tests.conftest import synthetic_motion


def test_json_layout_matches_openpose():
    seq = synthetic_motion(3)
    doc = openpose_frame(seq, 0)
    (person,) = doc["people"]
    assert doc["version"] == 1.3
    assert len(person["pose_keypoints_2d"]) == 25 * 3
    assert len(person["face_keypoints_2d"]) == 70 * 3
    assert len(person["hand_left_keypoints_2d"]) == len(person["hand_right_keypoints_2d"]) == 21 * 3
    pose = np.array(person["pose_keypoints_2d"]).reshape(25, 3)
    # Neck (1) is the shoulder midpoint; RWrist (4) is MediaPipe's right wrist; LWrist (7) the left
    np.testing.assert_allclose(pose[1, :2], seq.body[0, [11, 12], :2].mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(pose[4, :2], seq.body[0, BODY["right_wrist"], :2], atol=1e-3)
    np.testing.assert_allclose(pose[7, :2], seq.body[0, BODY["left_wrist"], :2], atol=1e-3)
    # MediaPipe has no small toes: OpenPose's "not detected" 0, 0, 0
    assert pose[20].tolist() == [0, 0, 0] and pose[23].tolist() == [0, 0, 0]
    face = np.array(person["face_keypoints_2d"]).reshape(70, 3)
    np.testing.assert_allclose(face[68, :2], seq.face[0, 468, :2], atol=1e-3)  # right pupil


def test_json_missing_parts_are_zero_and_empty_frames_have_no_people():
    seq = synthetic_motion(3)
    seq.hands[1, 0] = np.nan
    seq.hands_present[1, 0] = False
    person = openpose_frame(seq, 1)["people"][0]
    assert set(person["hand_left_keypoints_2d"]) == {0}
    for part in ("body", "face"):
        getattr(seq, part)[2] = np.nan
        getattr(seq, f"{part}_present")[2] = False
    seq.hands[2] = np.nan
    seq.hands_present[2] = False
    assert openpose_frame(seq, 2)["people"] == []


def test_json_folder_is_written_per_frame_and_replaced_atomically(tmp_path):
    seq = synthetic_motion(5)
    out = write_openpose_json(seq, tmp_path / "op", name="dance")
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"dance_{i:012d}_keypoints.json" for i in range(5)]
    assert json.loads((out / names[0]).read_text())["people"][0]["person_id"] == [-1]
    write_openpose_json(seq[:2], out, name="dance")  # re-run replaces our own files
    assert len(list(out.iterdir())) == 2
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="other files"):
        write_openpose_json(seq, out)
    assert (out / "notes.txt").exists()


def test_drawing_uses_the_dwpose_colours():
    seq = synthetic_motion(1)
    img = draw_pose(seq, 0, face=False, hands=False)
    # the neck -> right shoulder limb (limb 0) is drawn red at 60 % brightness
    neck = seq.body[0, [11, 12], :2].mean(axis=0)
    mid = ((neck + seq.body[0, 12, :2]) / 2).astype(int)
    assert img[mid[1], mid[0]].tolist() == [153, 0, 0]
    # the left wrist joint (COCO 7) is a full-brightness dot in its own colour
    lw = seq.body[0, BODY["left_wrist"], :2].astype(int)
    assert img[lw[1], lw[0]].tolist() == list(BODY_COLORS[7])
    assert img[0, 0].tolist() == [0, 0, 0]


def test_low_visibility_and_off_frame_joints_are_not_drawn():
    seq = synthetic_motion(1)
    seq.body[0, :, 3] = 0.1
    assert draw_pose(seq, 0, face=False, hands=False).max() == 0


def test_pose_video_has_the_source_size_and_rate(tmp_path):
    seq = synthetic_motion(12)
    out = render_pose_video(seq, tmp_path / "pose.mp4")
    with VideoReader(out) as r:
        frames = list(r)
        assert r.info.fps == seq.fps and r.info.size == seq.size
    assert len(frames) == 12 and frames[3].image.max() > 100
