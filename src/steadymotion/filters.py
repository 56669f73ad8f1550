"""Small 1-D filters without ``scipy.signal``: an order-2 Butterworth section, forward-backward
(zero-phase) filtering and Savitzky-Golay smoothing.

``import scipy.signal`` costs ~0.4 s of CPU (it imports ``scipy.stats``) in every process that
measures a clip, for three functions used on a few hundred samples. These give the same numbers
as ``scipy.signal.butter(2, wn, btype, output="sos")``, ``scipy.signal.sosfiltfilt`` (``padtype``
"odd" or "even") and ``scipy.signal.savgol_filter(..., mode="interp")`` (scipy 1.17): the same
steps in the same order and precision (tests/test_filters.py compares them with scipy).

- Butterworth (1930), "On the theory of filter amplifiers": the analogue prototype's poles
  ``-exp(i pi m / 2N)``, frequency-warped and mapped by the bilinear transform (Oppenheim &
  Schafer, *Discrete-Time Signal Processing*, 3rd ed., sec. 7.2), as ``scipy.signal.iirfilter``.
- Forward-backward filtering (Gustafsson 1996, "Determining the initial states in forward-backward
  filtering", IEEE Trans. Signal Processing 44(4)): an odd or even extension at both ends, the
  section's steady-state initial conditions scaled by the first sample, the filter run forwards
  and then backwards (transposed direct form II), as ``scipy.signal.sosfiltfilt``.
- Savitzky & Golay (1964), "Smoothing and differentiation of data by simplified least squares
  procedures", Analytical Chemistry 36(8): least-squares polynomial convolution coefficients in
  the interior; within half a window of either end, the polynomial fitted to the first (last)
  whole window evaluated there (scipy's ``mode="interp"``).
"""

from __future__ import annotations

import numpy as np

#: The band types of :func:`butter2`.
BTYPES = ("lowpass", "highpass")


def butter2(wn: float, btype: str) -> np.ndarray:
    """Second-order digital Butterworth filter as one second-order section ``(1, 6)``
    (``[b0, b1, b2, 1, a1, a2]``), ``wn`` the cutoff as a fraction of the Nyquist frequency (0-1).
    Equals ``scipy.signal.butter(2, wn, btype, output="sos")``."""
    if btype not in BTYPES:
        raise ValueError(f"btype must be one of {BTYPES}, got {btype!r}")
    if not 0 < wn < 1:
        raise ValueError(f"wn must be between 0 and 1 (the Nyquist frequency), got {wn}")
    n = 2
    p = -np.exp(1j * np.pi * np.arange(-n + 1, n, 2, dtype=np.float64) / (2 * n))  # analogue prototype
    fs = 2.0
    warped = float(2 * fs * np.tan(np.pi * wn / fs))
    if btype == "lowpass":
        z, p, k = np.zeros(0, complex), warped * p, 1.0 * warped**n
    else:  # zeros at infinity move to the origin
        z, p, k = np.zeros(n, complex), warped / p, 1.0 * float(np.real(1.0 / np.prod(-p)))
    fs2 = 2.0 * fs
    z_z = np.concatenate([(fs2 + z) / (fs2 - z), -np.ones(n - len(z))])
    p_z = (fs2 + p) / (fs2 - p)
    k_z = k * float(np.real(np.prod(fs2 - z) / np.prod(fs2 - p)))
    b = k_z * np.real(np.poly(z_z))
    a = np.real(np.poly(p_z))
    return np.concatenate([b, a])[None, :]


def _section_zi(sos: np.ndarray) -> np.ndarray:
    """Steady-state initial conditions ``(n_sections, 2)`` of a step (``scipy.signal.sosfilt_zi``)."""
    zi = np.empty((len(sos), 2))
    scale = 1.0
    for s, row in enumerate(sos):
        b, a = row[:3] / row[3], row[3:] / row[3]
        companion = np.array([[-a[1], -a[2]], [1.0, 0.0]])
        zi[s] = scale * np.linalg.solve(np.eye(2) - companion.T, b[1:] - a[1:] * b[0])
        scale *= b.sum() / a.sum()
    return zi


def _sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Run the sections over each column of ``x (T, C)`` from states ``zi (C, n_sections, 2)``
    (transposed direct form II, scipy's operation order)."""
    out = np.empty_like(x)
    coef = [tuple(float(c) for c in row) for row in sos]
    for c in range(x.shape[1]):
        state = [[float(v) for v in zs] for zs in zi[c]]
        col = x[:, c].tolist()
        for i, cur in enumerate(col):
            for (b0, b1, b2, _, a1, a2), st in zip(coef, state):
                new = b0 * cur + st[0]
                st[0] = b1 * cur - a1 * new + st[1]
                st[1] = b2 * cur - a2 * new
                cur = new
            col[i] = cur
        out[:, c] = col
    return out


def sosfiltfilt(sos: np.ndarray, x: np.ndarray, *, padtype: str = "odd", padlen: int | None = None) -> np.ndarray:
    """Zero-phase filtering of ``x (T, ...)`` along its first axis with second-order sections
    (float64): ``scipy.signal.sosfiltfilt(sos, x, axis=0, padtype=padtype, padlen=padlen)``."""
    sos = np.asarray(sos, np.float64)
    x = np.asarray(x, np.float64)
    shape = x.shape
    x = x.reshape(len(x), -1)
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    edge = ntaps * 3 if padlen is None else int(padlen)
    if len(x) <= edge:
        raise ValueError(f"the input needs more than padlen={edge} samples, got {len(x)}")
    if edge > 0:
        if padtype == "odd":
            ext = np.concatenate([2 * x[:1] - x[edge:0:-1], x, 2 * x[-1:] - x[-2:-(edge + 2):-1]])
        elif padtype == "even":
            ext = np.concatenate([x[edge:0:-1], x, x[-2:-(edge + 2):-1]])
        else:
            raise ValueError(f"padtype must be 'odd' or 'even', got {padtype!r}")
    else:
        ext = x
    zi = _section_zi(sos)
    y = _sosfilt(sos, ext, zi[None] * ext[0][:, None, None])
    y = _sosfilt(sos, y[::-1], zi[None] * y[-1][:, None, None])[::-1]
    if edge > 0:
        y = y[edge:-edge]
    return np.ascontiguousarray(y).reshape(shape)


def savgol_coeffs(window: int, order: int) -> np.ndarray:
    """Savitzky-Golay smoothing coefficients for a convolution (``scipy.signal.savgol_coeffs``)."""
    from scipy.linalg import lstsq

    half = window // 2
    x = np.arange(-half, window - half, dtype=np.float64)[::-1]
    a = x ** np.arange(order + 1, dtype=np.float64).reshape(-1, 1)
    y = np.zeros(order + 1)
    y[0] = 1.0
    return lstsq(a, y, cond=np.finfo(np.float64).eps * max(a.shape))[0]


def _polyfit(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    """scipy.signal's own ``polyfit`` (columns of ``y``, in ``x``'s precision)."""
    from scipy.linalg import lstsq

    x, y = np.asarray(x), np.asarray(y)
    dt = np.result_type(x, y)
    x, y = x.astype(dt), y.astype(dt)
    lhs = x[:, None] ** np.arange(order, -1, -1, dtype=dt)[None, :]
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    lhs /= scale
    c = lstsq(lhs, y, cond=len(x) * np.finfo(dt).eps)[0]
    return (c.T / scale).T


def savgol_filter(x: np.ndarray, window: int, order: int) -> np.ndarray:
    """Savitzky-Golay smoothing of ``x (T, ...)`` (float32 or float64) along its first axis, the ends
    fitted by a polynomial over the first and last window: ``scipy.signal.savgol_filter(x, window,
    order, axis=0, mode="interp")``."""
    from scipy.ndimage import convolve1d

    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if window > len(x):
        raise ValueError("window must not be longer than the input")
    y = convolve1d(x, savgol_coeffs(window, order), axis=0, mode="constant")
    half, n = window // 2, len(x)
    for w0, i0, i1 in ((0, 0, half), (n - window, n - half, n)):
        edge = x[w0 : w0 + window].reshape(window, -1)
        p = _polyfit(np.arange(window, dtype=x.dtype), edge, order)
        at = np.arange(i0 - w0, i1 - w0, dtype=p.dtype).reshape(-1, 1)
        v = np.zeros_like(at)
        for row in p:
            v = v * at + row
        y[i0:i1] = v.reshape((i1 - i0,) + x.shape[1:])
    return y
