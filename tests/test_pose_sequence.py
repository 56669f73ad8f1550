"""PoseSequence: validated shapes, NaN for missing, exact .npz round trip."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from steadymotion.errors import InputNotFoundError, InvalidPoseDataError
from steadymotion.types import PoseSequence
from tests.conftest import synthetic_motion


def test_npz_roundtrip_is_exact(tmp_path):
    # given a sequence with gaps (NaN), filled flags and an NTSC rate
    seq = synthetic_motion(40)
    seq.body[5] = np.nan
    seq.body_present[5] = False
    seq.hands[7, 1] = np.nan
    seq.hands_present[7, 1] = False
    seq.face_filled[3] = True
    seq = PoseSequence(**{k: getattr(seq, k) for k in (
        "body", "hands", "face", "body_present", "hands_present", "face_present", "times", "size", "face_filled")},
        fps=Fraction(30000, 1001), source="clip.mp4")
    # when saved and loaded
    back = PoseSequence.load(seq.save(tmp_path / "m.npz"))
    # then every array, the exact rate and the size are identical
    for name in ("body", "hands", "face", "times"):
        np.testing.assert_array_equal(getattr(back, name), getattr(seq, name))
    for name in ("body_present", "hands_present", "face_present", "face_filled"):
        assert (getattr(back, name) == getattr(seq, name)).all()
    assert back.fps == Fraction(30000, 1001) and back.size == seq.size and back.source == "clip.mp4"


def test_npz_holds_the_documented_arrays(tmp_path):
    seq = synthetic_motion(10)
    with np.load(seq.save(tmp_path / "m.npz")) as z:
        assert z["body"].shape == (10, 33, 4) and z["hands"].shape == (10, 2, 21, 3) and z["face"].shape == (10, 478, 3)
        assert z["body_present"].shape == (10,) and z["hands_present"].shape == (10, 2) and z["face_present"].shape == (10,)
        assert float(z["fps"]) == 30.0 and z["size"].tolist() == [640, 480]


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("body", np.zeros((10, 17, 4)), r"body must have shape \(T, 33, 4\), got \(10, 17, 4\)"),
        ("hands", np.zeros((10, 21, 3)), r"hands must have shape \(10, 2, 21, 3\)"),
        ("face", np.zeros((9, 478, 3)), r"face must have shape \(10, 478, 3\)"),
        ("times", np.zeros(10), "strictly increasing"),
    ],
)
def test_shapes_are_validated(field, value, match):
    seq = synthetic_motion(10)
    kw = {k: getattr(seq, k) for k in ("body", "hands", "face", "body_present", "hands_present", "face_present", "times", "fps", "size")}
    kw[field] = value
    with pytest.raises(InvalidPoseDataError, match=match):
        PoseSequence(**kw)


def test_absent_frames_must_be_nan_not_zero():
    seq = synthetic_motion(10)
    present = seq.body_present.copy()
    present[3] = False  # but body[3] still holds numbers
    with pytest.raises(InvalidPoseDataError, match="use NaN"):
        PoseSequence(seq.body, seq.hands, seq.face, present, seq.hands_present, seq.face_present, seq.times, seq.fps, seq.size)


def test_empty_copy_and_slice():
    e = PoseSequence.empty(5, Fraction(25), (100, 80))
    assert len(e) == 5 and np.isnan(e.body).all() and e.coverage()["body"] == 0.0
    seq = synthetic_motion(30)
    c = seq.copy()
    c.body[0, 0, 0] = -1
    assert seq.body[0, 0, 0] != -1
    part = seq[10:20]
    assert len(part) == 10 and part.times[0] == seq.times[10]
    joined = PoseSequence.concatenate([seq[:10], seq[10:]])
    np.testing.assert_array_equal(joined.body, seq.body)
    assert seq.duration_s == pytest.approx(1.0)


def test_load_errors(tmp_path):
    with pytest.raises(InputNotFoundError):
        PoseSequence.load(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(InvalidPoseDataError, match="not a steadymotion pose file"):
        PoseSequence.load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"garbage")
    with pytest.raises(InvalidPoseDataError, match="not a readable"):
        PoseSequence.load(tmp_path / "junk.npz")
