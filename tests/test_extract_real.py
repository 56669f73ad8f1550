"""Motion extraction on the real footage in ../shared/media (MediaPipe Holistic, bundled models)."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

from steadymotion.errors import NoPersonError, TruncatedVideoWarning
from steadymotion.io.video import VideoReader, VideoWriter
from steadymotion.pose.extract import extract_pose, plan_chunks
from steadymotion.skeleton import BODY
from tests.conftest import cached_pose, media_path, truncated_copy, write_pattern_clip
from tests.test_clean import jerk

def extracted(name: str, **kw):
    return cached_pose(name, **kw)


def longest_gap_s(present: np.ndarray, times: np.ndarray) -> float:
    idx = np.flatnonzero(present)
    if idx.size == 0:
        return float(times[-1] - times[0])
    edges = np.concatenate([[times[0]], times[idx], [times[-1]]])
    return float(np.diff(edges).max())


def test_full_body_dance_is_tracked(media):
    seq = extracted("unianimate__source_video.mp4")
    cov = seq.coverage()
    assert len(seq) == 150 and seq.fps == 16 and seq.size == (692, 1108)
    assert cov["body"] >= 0.98 and cov["face"] >= 0.95 and cov["hands"] >= 0.85
    # coordinates are source pixels: the person stands inside the frame, feet below the head
    nose, ankle = seq.body[:, BODY["nose"], :2], seq.body[:, BODY["left_ankle"], :2]
    assert np.nanmedian(nose[:, 1]) < np.nanmedian(ankle[:, 1])
    assert 0 < np.nanmedian(nose[:, 0]) < 692 and np.nanmax(ankle[:, 1]) < 1108 * 1.1


def test_half_body_dance_to_a_phone(media):
    seq = extracted("mimicmotion__raw_0.mp4")
    cov = seq.coverage()
    assert len(seq) == 155
    assert cov["body"] >= 0.95 and cov["face"] >= 0.90


def test_portrait_clip_has_a_face_with_iris(media):
    seq = extracted("liveportrait__d13.mp4")
    assert seq.coverage()["face"] >= 0.95
    f = seq.face[seq.face_present]
    # iris centres (468 right, 473 left) sit between the corners of their own eye
    right = np.linalg.norm(f[:, 468, :2] - (f[:, 33, :2] + f[:, 133, :2]) / 2, axis=1)
    eye_w = np.linalg.norm(f[:, 33, :2] - f[:, 133, :2], axis=1)
    assert np.median(right / eye_w) < 0.3
    assert np.median(np.linalg.norm(f[:, 473, :2] - f[:, 468, :2], axis=1) / eye_w) > 1.5


def test_body_track_survives_a_360_turn(media):
    seq = extracted("musepose__UBC_fashion_test_91BjuE6irxS.mp4")
    assert len(seq) == 345 and seq.fps == Fraction(30000, 1001)
    assert seq.coverage()["body"] >= 0.97
    assert longest_gap_s(seq.body_present, seq.times) <= 0.5
    middle = seq.body_present[len(seq) // 3 : 2 * len(seq) // 3]
    assert middle.mean() >= 0.95


def test_hands_sit_on_their_own_wrists(media):
    seq = extracted("unianimate__source_video.mp4")
    for k, wrist in ((0, BODY["left_wrist"]), (1, BODY["right_wrist"])):
        ok = seq.hands_present[:, k] & seq.body_present
        own = np.linalg.norm(seq.hands[ok, k, 0, :2] - seq.body[ok, wrist, :2], axis=1)
        other = np.linalg.norm(seq.hands[ok, k, 0, :2] - seq.body[ok, 31 - wrist, :2], axis=1)
        assert (own < other).mean() > 0.95


def test_parallel_chunks_equal_one_pass(media):
    # given the same clip extracted in one process and in two time chunks
    one = extracted("mimicmotion__raw_0.mp4", workers=1, smooth=False)
    two = extracted("mimicmotion__raw_0.mp4", workers=2, smooth=False)
    assert len(plan_chunks(10.33, 2)) == 2
    # then the frames are the same, in order, with the same timestamps
    np.testing.assert_array_equal(one.times, two.times)
    both = one.body_present & two.body_present
    diff = np.linalg.norm(one.body[both, :25, :2] - two.body[both, :25, :2], axis=-1)
    assert np.median(diff) < 2.0  # only the frames after the chunk start are re-detected


def test_rotated_phone_video_gives_upright_coordinates(media, tmp_path):
    # given the first 3 s of a real clip, stored rotated with a display matrix (as a phone does)
    src = media_path("mimicmotion__raw_0.mp4")
    upright, rotated = tmp_path / "upright.mp4", tmp_path / "rotated.mp4"
    with VideoReader(src, end_s=3.0) as r, VideoWriter(upright, r.fps) as a, VideoWriter(rotated, r.fps, display_rotation=-90) as b:
        for f in r:
            a.write(f.image)
            b.write(np.ascontiguousarray(np.rot90(f.image, k=1)))  # stored sideways
    # when both are extracted
    seq_u = extract_pose(upright, workers=1)
    seq_r = extract_pose(rotated, workers=1)
    # then the rotated file is read upright and gives the same skeleton in the same pixel frame
    assert seq_r.size == seq_u.size == (604, 604) and seq_r.meta["rotation"] == 270
    both = seq_u.body_present & seq_r.body_present
    assert both.mean() > 0.9
    diff = np.linalg.norm(seq_u.body[both, :25, :2] - seq_r.body[both, :25, :2], axis=-1)
    assert np.median(diff) < 3.0


def test_smoothing_lowers_jerk_without_lagging(media):
    raw = extracted("unianimate__source_video.mp4", smooth=False)
    smooth = extracted("unianimate__source_video.mp4")
    for j in (BODY["left_wrist"], BODY["right_wrist"], BODY["nose"]):
        r, s = raw.body[:, j, :2], smooth.body[:, j, :2]
        assert jerk(s) < 0.8 * jerk(r), j
        # the lag that best aligns smoothed with raw is at most 1 frame
        errs = [np.nanmean((s[k:] - r[: len(r) - k]) ** 2) for k in range(5)]
        assert int(np.argmin(errs)) <= 1


def test_a_clip_without_people(tmp_path):
    clip = write_pattern_clip(tmp_path / "nobody.mp4", n=20, w=320, h=240)
    with pytest.raises(NoPersonError, match="no person"):
        extract_pose(clip, workers=1)


def test_truncated_real_clip_keeps_the_decoded_part(media, tmp_path):
    cut = truncated_copy(media_path("mimicmotion__raw_0.mp4"), tmp_path, seconds=6.0, keep=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seq = extract_pose(cut, workers=2)
    assert any(issubclass(w.category, TruncatedVideoWarning) for w in caught)
    assert 20 < len(seq) < 90 and seq.coverage()["body"] > 0.9


def test_a_silent_worker_is_restarted_then_reported(tmp_path, monkeypatch):
    """A worker that reports nothing for WORKER_STALL_S is killed and its chunk run again, once; a
    second stall is one clear error, and no worker process is left behind."""
    import subprocess

    from steadymotion.pose import extract

    clip = write_pattern_clip(tmp_path / "clip.mp4", n=60, w=160, h=120)
    monkeypatch.setattr(extract, "WORKER_STALL_S", 0.0)  # every worker counts as silent at once
    monkeypatch.setenv("STEADYMOTION_CACHE", "off")  # tracked for real, never read back
    with pytest.raises(RuntimeError, match="stopped responding twice"):
        extract.extract_pose(clip, workers=1)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(clip) not in ps, "a worker was left running"


def test_camera_tracked_in_the_workers_matches_the_separate_pass():
    """extract_pose(camera=True) tracks the camera on the frames the pose workers decode, chunk
    boundaries included; it must agree with track_camera's own pass over the video."""
    from steadymotion.perception.camera import body_boxes, track_camera

    clip = media_path("unianimate__source_video.mp4")
    seq = extract_pose(clip, parts="body", camera=True, workers=2)
    assert seq.meta["chunks"] == 2  # a chunk boundary is crossed
    ref = track_camera(clip, body_boxes(seq.body, seq.body_present), frames=len(seq))
    path = seq.meta["camera_path"]
    assert path.shape == ref.shape == (len(seq), 2, 3)
    w, h = seq.size
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], float).T
    diff = np.abs(path @ corners - ref @ corners).max(axis=(1, 2))
    moved = np.abs(ref @ corners - corners[:2]).max()
    # measured: the hand-held bedroom clip's camera moves ~5.5 px; the two paths differ by <= 1.8 px
    assert moved > 2.0 and diff.max() < 3.0, (moved, diff.max())
    with pytest.raises(ValueError):
        extract_pose(clip, camera=True, stride=2)


def test_damage_in_the_middle_is_counted_once_across_workers(tmp_path):
    import re

    from tests.conftest import damaged_copy

    # given 6.5 s of the MimicMotion dance with a fifth of its bytes overwritten in the middle (the
    # two pose workers each read half, and each decodes part of the damage)
    clip = tmp_path / "clip.mp4"
    with VideoReader(media_path("mimicmotion__raw_0.mp4"), end_s=6.5, max_side=320) as r, VideoWriter(clip, r.fps) as w:
        for f in r:
            w.write(f.image)
    damaged = damaged_copy(clip, tmp_path / "damaged.mp4", 0.40, 0.60)

    def lost(record) -> list[str]:
        return [m.group(0) for w in record if (m := re.search(r"\d+ of \d+ frames \(\d+ %\)", str(w.message)))]

    with warnings.catch_warnings(record=True) as read:
        warnings.simplefilter("always")
        with VideoReader(damaged) as r:
            n = sum(1 for _ in r)
    # when its motion is extracted by two workers
    with warnings.catch_warnings(record=True) as tracked:
        warnings.simplefilter("always")
        seq = extract_pose(damaged, workers=2, parts="body")
    # then one warning gives the same loss as one reader over the whole file, and time only goes forward
    assert len(lost(read)) == 1 and lost(tracked) == lost(read), (lost(read), lost(tracked))
    assert len(seq) == n and np.all(np.diff(seq.times) > 0)
