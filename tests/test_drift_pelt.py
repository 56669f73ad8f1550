"""The drift meter's change points: ruptures' compiled PELT called without importing ruptures gives
KernelCPD's breakpoints."""

import sys

import numpy as np
import ruptures as rpt

from steadymotion.drift import events


def test_pelt_matches_kernel_cpd():
    assert events._kernel_pelt() is not None
    rng = np.random.default_rng(3)
    for trial in range(300):
        n, min_size = int(rng.integers(6, 700)), int(rng.integers(1, 5))
        x = rng.normal(size=n) + np.repeat(rng.normal(size=4) * 3, (n + 3) // 4)[:n]
        if trial % 5 == 0:
            x = np.round(x)  # ties between segmentations
        pen = float(rng.uniform(0.1, 30))
        want = rpt.KernelCPD(kernel="linear", min_size=min_size).fit(x.reshape(-1, 1)).predict(pen=pen)
        assert events._pelt(x, pen, min_size) == want


def test_pelt_loads_without_the_package(tmp_path):
    import subprocess

    code = ("import sys, numpy as np; from steadymotion.drift import events; "
            "print(events._pelt(np.r_[np.zeros(20), np.ones(20)], 0.5, 3), 'ruptures' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[20,", "40]", "False"]
