"""Body-only extraction (``parts="body"``: BlazePose alone) against Holistic, on real footage in ../shared/media."""

from __future__ import annotations

import numpy as np
import pytest

from steadymotion.pose.extract import HolisticOptions, extract_pose
from steadymotion.skeleton import BODY
from tests.conftest import cached_pose

#: The 12 limb joints the renderer poses: shoulders, elbows, wrists, hips, knees, ankles.
LIMBS = [BODY[f"{side}_{joint}"] for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle") for side in ("left", "right")]
#: Measured: at the same work side, body-only landmarks are bit-identical to Holistic's (0.000 % on
#: six clips, 1-2 workers, raw and smoothed). Holistic runs this very BlazePose graph for its body.
#: The bounds leave room for numeric noise elsewhere yet catch a real change: a 640 px work side
#: alone moves these joints by p90 1.6-4 % of the torso length.
P90_TOLERANCE = 1.0  # % of torso length
MAX_TOLERANCE = 3.0

CLIP = "unianimate__source_video.mp4"  # one person, full body, 16 fps: 3 s = 48 frames
SECONDS = 3.0


def torso_length(seq) -> float:
    shoulders = seq.body[:, [BODY["left_shoulder"], BODY["right_shoulder"]], :2].mean(axis=1)
    hips = seq.body[:, [BODY["left_hip"], BODY["right_hip"]], :2].mean(axis=1)
    return float(np.nanmedian(np.linalg.norm(shoulders - hips, axis=1)))


def test_body_only_matches_holistic_body(media):
    # given the first seconds of a single-person clip, tracked both ways
    holistic = cached_pose(CLIP, until_s=SECONDS)
    body = cached_pose(CLIP, until_s=SECONDS, parts="body")
    # then the frames are the same ones, with the same timestamps, and the mode is recorded
    assert len(body) == len(holistic) == 48
    np.testing.assert_array_equal(body.times, holistic.times)
    assert body.fps == holistic.fps and body.size == holistic.size
    assert body.meta["parts"] == "body" and holistic.meta["parts"] == "all"
    # the body is found on (nearly) every frame; hands and face are not tracked at all
    assert body.body_present.mean() >= 0.95
    assert not body.hands_present.any() and not body.face_present.any()
    assert np.isnan(body.hands).all() and np.isnan(body.face).all()
    # and the limb joints sit where Holistic puts them (same layout: x, y pixels, z, visibility)
    both = body.body_present & holistic.body_present
    assert both.mean() >= 0.95
    d = np.linalg.norm(body.body[both][:, LIMBS, :2] - holistic.body[both][:, LIMBS, :2], axis=-1) / torso_length(holistic) * 100
    assert np.percentile(d, 90) <= P90_TOLERANCE and d.max() <= MAX_TOLERANCE
    vis = body.body[both][:, LIMBS, 3]
    assert np.all((vis >= 0) & (vis <= 1))
    np.testing.assert_allclose(vis, holistic.body[both][:, LIMBS, 3], atol=0.05)


def test_parts_is_checked_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="parts"):
        HolisticOptions(parts="hands")
    with pytest.raises(ValueError, match="parts"):
        extract_pose(tmp_path / "missing.mp4", parts="face")


def test_appearance_errors_on_the_helper_thread_reach_the_caller(tmp_path, monkeypatch):
    # the pose worker measures the appearance on a helper thread beside Holistic: a failure there is
    # raised where the worker's results are gathered, not lost with the thread
    import steadymotion.perception.identity as identity
    from steadymotion.pose.extract import HolisticOptions, _extract_range
    from tests.conftest import write_pattern_clip

    clip = write_pattern_clip(tmp_path / "p.mp4", n=12)

    def broken(*args, **kwargs):
        raise ValueError("region colours failed")

    monkeypatch.setattr(identity, "region_colors", broken)
    with pytest.raises(ValueError, match="region colours failed"):
        _extract_range(str(clip), None, None, HolisticOptions(), None, 2, True, False, None)
    import threading

    assert not [t for t in threading.enumerate() if t.name in ("steadymotion-appearance", "steadymotion-reader")]
