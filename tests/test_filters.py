"""steadymotion.filters gives scipy.signal's numbers (the drift meter uses it to skip importing scipy.signal)."""

import numpy as np
import pytest
import scipy.signal as ss

from steadymotion import filters as F


@pytest.mark.parametrize("btype", ["lowpass", "highpass"])
@pytest.mark.parametrize("wn", [0.02, 1 / 12, 0.5, 0.9])
def test_butter2_and_sosfiltfilt_match_scipy(btype, wn):
    sos = F.butter2(wn, btype)
    np.testing.assert_allclose(sos, ss.butter(2, wn, btype=btype, output="sos"), rtol=1e-12, atol=1e-15)
    rng = np.random.default_rng(1)
    for shape in [(30,), (248,), (240, 3)]:
        x = np.cumsum(rng.normal(size=shape), axis=0)
        for padtype in ("odd", "even"):
            padlen = min(len(x) - 1, 72)
            want = ss.sosfiltfilt(ss.butter(2, wn, btype=btype, output="sos"), x, axis=0, padtype=padtype, padlen=padlen)
            np.testing.assert_allclose(F.sosfiltfilt(sos, x, padtype=padtype, padlen=padlen), want, rtol=1e-9, atol=1e-12)


def test_sosfiltfilt_needs_more_samples_than_padding():
    with pytest.raises(ValueError):
        F.sosfiltfilt(F.butter2(0.1, "highpass"), np.zeros(5), padlen=5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "window"), [(5, 5), (7, 5), (40, 7), (9, 9)])
def test_savgol_filter_matches_scipy(dtype, n, window):
    x = (np.random.default_rng(2).normal(size=(n, 6, 3)) * 300).astype(dtype)
    got = F.savgol_filter(x, window, 3)
    want = ss.savgol_filter(x, window, 3, axis=0, mode="interp")
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-4 if dtype == np.float32 else 1e-9)
