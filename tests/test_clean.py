"""Clean-up steps on data the tests build: One Euro smoothing, gap filling, hand-swap repair."""

from __future__ import annotations

import numpy as np
import pytest

from steadymotion.pose.clean import BODY_FILTER, fill_pose_gaps, one_euro, zero_phase_smooth, repair_hand_swaps, smooth_pose
from tests.conftest import synthetic_motion


def jerk(x: np.ndarray) -> float:
    """RMS third difference: the frame-to-frame jerk (Flash & Hogan 1985) of a sampled track."""
    d3 = np.diff(x, n=3, axis=0)
    return float(np.sqrt(np.nanmean(d3**2)))


def lag_frames(smoothed: np.ndarray, truth: np.ndarray, max_lag: int = 10) -> int:
    """Shift (frames) that best aligns the smoothed track with the true one."""
    errs = [np.nanmean((smoothed[k:] - truth[: len(truth) - k]) ** 2) for k in range(max_lag)]
    return int(np.argmin(errs))


TORSO = 150.0


def swing(freq_hz: float, seed: int, fps: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A limb swinging at dance speed (amplitude 0.6 torso heights) with 1.2 % detector noise: t, truth, noisy."""
    t = np.arange(300) / fps
    truth = 0.6 * TORSO * np.sin(2 * np.pi * freq_hz * t)
    return t, truth, truth + np.random.default_rng(seed).normal(0, 0.012 * TORSO, t.shape)


@pytest.mark.parametrize("freq_hz", [0.5, 1.0, 2.0])
def test_one_euro_cuts_jitter_without_lag(freq_hz):
    # given a limb swinging at dance speed with detector noise
    t, truth, noisy = swing(freq_hz, seed=1)
    torso = TORSO
    # when filtered with the body settings
    smooth = one_euro(noisy[:, None], t, BODY_FILTER, scale=torso)[:, 0]
    # then the jerk of the track drops clearly, and the movement is not delayed by more than 2 frames
    assert jerk(smooth) < 0.7 * jerk(noisy)
    assert jerk(smooth - truth) < 0.7 * jerk(noisy - truth)
    assert lag_frames(smooth, truth) <= 2


def test_one_euro_restarts_after_gaps_and_keeps_them():
    t = np.arange(20) / 30
    x = np.ones((20, 2))
    x[5:8] = np.nan
    x[8:] = 100.0
    y = one_euro(x, t, BODY_FILTER)
    assert np.isnan(y[5:8]).all()
    assert y[8, 0] == 100.0  # restarted from the new value, not dragged from the old one


def test_fill_short_gap_only():
    seq = synthetic_motion(60)
    truth = seq.body.copy()
    # a 0.1 s dropout (3 frames) and a 0.5 s one (15 frames)
    for a, b in ((10, 13), (30, 45)):
        seq.body[a:b] = np.nan
        seq.body_present[a:b] = False
    out = fill_pose_gaps(seq)
    assert out.body_present[10:13].all() and out.body_filled[10:13].all()
    assert not out.body_present[30:45].any() and np.isnan(out.body[30:45]).all()
    assert not out.body_filled[:10].any()
    # linear interpolation of a smooth wave is close to the truth
    assert np.abs(out.body[10:13, 16, 0] - truth[10:13, 16, 0]).max() < 6.0


def test_gaps_at_the_edges_stay_missing():
    seq = synthetic_motion(30)
    seq.face[:2] = np.nan
    seq.face_present[:2] = False
    out = fill_pose_gaps(seq)
    assert not out.face_present[:2].any()


def test_hand_swap_is_repaired():
    # given frames where the detector put each hand on the other side
    seq = synthetic_motion(30)
    left, right = seq.hands[:, 0].copy(), seq.hands[:, 1].copy()
    seq.hands[10:15, 0], seq.hands[10:15, 1] = right[10:15], left[10:15]
    # and one frame where only the right hand was found, labelled as left
    seq.hands[20, 0], seq.hands[20, 1] = right[20], np.nan
    seq.hands_present[20] = (True, False)
    # when repaired
    out = repair_hand_swaps(seq)
    # then every hand sits on its own wrist again
    np.testing.assert_array_equal(out.hands[10:15, 0], left[10:15])
    np.testing.assert_array_equal(out.hands[20, 1], right[20])
    assert out.hands_present[20].tolist() == [False, True]
    assert out.meta["hand_swaps_repaired"] == 6


def test_hands_on_their_own_side_are_left_alone():
    seq = synthetic_motion(30)
    out = repair_hand_swaps(seq)
    np.testing.assert_array_equal(out.hands, seq.hands)
    assert out.meta["hand_swaps_repaired"] == 0


def test_smooth_pose_keeps_shapes_and_absent_frames():
    seq = synthetic_motion(40)
    seq.face[5] = np.nan
    seq.face_present[5] = False
    out = smooth_pose(seq)
    assert out.body.shape == seq.body.shape and np.isnan(out.face[5]).all()
    np.testing.assert_array_equal(out.body[..., 3], seq.body[..., 3])  # visibility untouched
    assert not np.array_equal(out.body[:, 16, :2], seq.body[:, 16, :2])  # the waving wrist was filtered


def signed_lag(smoothed: np.ndarray, truth: np.ndarray, max_lag: int = 6) -> int:
    """Shift (frames, positive = trails) that best aligns the smoothed track with the true one."""
    n = len(truth)
    errs = {k: np.nanmean((smoothed[max(k, 0): n + min(k, 0)] - truth[max(-k, 0): n - max(k, 0)]) ** 2)
            for k in range(-max_lag, max_lag + 1)}
    return min(errs, key=errs.get)


@pytest.mark.parametrize("freq_hz", [0.5, 1.0, 2.0])
def test_zero_phase_smoothing_has_no_lag_and_keeps_peaks(freq_hz):
    # given the same swinging limb with detector noise, at dance speeds
    t, truth, noisy = swing(freq_hz, seed=2)
    causal = one_euro(noisy[:, None], t, BODY_FILTER, scale=TORSO)[:, 0]
    smooth = zero_phase_smooth(noisy[:, None], t)[:, 0]
    # then it does not trail the movement (the causal filter does at 2 Hz), still cuts the jitter,
    # and reaches the swing's peaks within 5 %
    assert signed_lag(smooth, truth) == 0
    if freq_hz >= 2.0:
        assert signed_lag(causal, truth) >= 1
    assert jerk(smooth - truth) < 0.7 * jerk(noisy - truth)
    core = slice(30, -30)
    assert np.max(np.abs(smooth[core])) > 0.95 * np.max(np.abs(truth[core]))
    assert np.sqrt(np.mean((smooth - truth)[core] ** 2)) < np.sqrt(np.mean((causal - truth)[core] ** 2))
