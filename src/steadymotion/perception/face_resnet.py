"""dlib's face-recognition ResNet run with NumPy (BLAS), reading dlib's own model file.

``dlib_face_recognition_resnet_model_v1`` (King 2017; a ResNet-29 after He et al. 2016, 150x150
RGB chip in, 128-d descriptor out) ships in ``face_recognition_models``. The ``dlib-bin`` wheel
runs it without BLAS, at ~75 ms a face on this machine; the same arithmetic as im2col + BLAS
matrix products takes a fraction of that (``benchmarks/bench_face_descriptor.py``). The weights
are read from the same ``.dat`` file dlib reads (dlib's serialization, ``dlib/serialize.h`` and the
layers' ``serialize`` functions in ``dlib/dnn/layers.h``), so the descriptors are dlib's, to float
rounding (the tests compare them with dlib's own on real faces).

The network (``tools/python/src/face_recognition.cpp`` in dlib)::

    input 150x150 RGB, (v - mean) / 256
    con 32 7x7 /2 -> affine -> relu -> max_pool 3x3 /2
    3 x res(32), res_down(64) + 3 x res(64), res_down(128) + 2 x res(128),
    res_down(256) + 2 x res(256), res_down(256)
    global average -> fc 128 (no bias)

where ``res(N) = relu(x + affine(con(relu(affine(con(x))))))`` with 3x3 convolutions and
``res_down`` has a stride-2 first convolution and adds a 2x2 average pool of ``x`` instead of ``x``
(dlib's ``add_prev`` pads the smaller tensor with zeros, in channels and in size).
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: The face chip the network sees (pixels a side) and its padding around the 5-point face box.
CHIP_SIZE, CHIP_PADDING = 150, 0.25


class _Reader:
    """dlib's serialization: integers as a control byte (size in the low nibble, sign in the top
    bit) then little-endian bytes; floats as a mantissa and a binary exponent; strings as a length
    and bytes; bools as '0'/'1'; tensors as a version, four sizes and little-endian float32s."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def int(self) -> int:
        ctrl = self.data[self.pos]
        n = ctrl & 0x0F
        if not 1 <= n <= 8:
            raise ValueError(f"bad integer at byte {self.pos}")
        v = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + n], "little")
        self.pos += 1 + n
        return -v if ctrl & 0x80 else v

    def float(self) -> float:
        if self.data[self.pos] & 0x70:
            raise ValueError(f"old text float at byte {self.pos}")
        mantissa = self.int()
        exponent = self.int()
        return float(np.ldexp(float(mantissa), exponent))

    def string(self) -> str:
        n = self.int()
        s = self.data[self.pos:self.pos + n].decode("ascii")
        self.pos += n
        return s

    def peek_string(self) -> str:
        pos = self.pos
        try:
            return self.string()
        finally:
            self.pos = pos

    def bool(self) -> bool:
        ch = self.data[self.pos:self.pos + 1]
        if ch not in (b"0", b"1"):
            raise ValueError(f"bad bool at byte {self.pos}")
        self.pos += 1
        return ch == b"1"

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ValueError(f"bad tensor version at byte {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        n = int(np.prod(shape))
        if self.pos + 4 * n > len(self.data):
            raise IndexError(f"a tensor of {n} floats runs past the end of the file at byte {self.pos}")
        a = np.frombuffer(self.data, "<f4", n, self.pos).reshape(shape)
        self.pos += 4 * n
        return a

    def alias(self) -> tuple[int, ...]:
        if self.int() != 1:
            raise ValueError(f"bad alias-tensor version at byte {self.pos}")
        return tuple(self.int() for _ in range(4))


@dataclass
class _Con:
    w: np.ndarray  # (k*kh*kw, n): rows in dlib's (channel, row, column) order
    b: np.ndarray | None  # (n,) or None
    kh: int
    stride: int
    pad: int


def _layer(r: _Reader):
    """One layer's own record (``serialize(details)``), as ``(kind, parameters)``."""
    name = r.string()
    if name in ("con_4", "con_5", "con_6"):
        params = r.tensor().ravel()
        n, kh, kw = r.int(), r.int(), r.int()
        sy, sx, py, px = r.int(), r.int(), r.int(), r.int()
        filt, bias = r.alias(), r.alias()
        for _ in range(4):
            r.float()  # learning-rate and weight-decay multipliers
        use_bias = r.bool() if name in ("con_5", "con_6") else True
        if name == "con_6":
            r.bool()  # use_relu (a fused relu: not in this model)
        size = int(np.prod(filt))
        b = params[size:size + int(np.prod(bias))].copy() if use_bias else None
        w = params[:size].reshape(filt)  # (n, k, kh, kw)
        if (kh, kw) != filt[2:] or sy != sx or py != px or n != filt[0]:
            raise ValueError("unexpected convolution layout")
        return "con", _Con(np.ascontiguousarray(w.reshape(n, -1).T), b, kh, sy, py)
    if name in ("affine_", "affine_2"):
        params = r.tensor().ravel()
        gamma, beta = r.alias(), r.alias()
        r.int()  # mode (convolutional: one gamma/beta per channel)
        if name == "affine_2":
            r.bool()  # disabled
        k = int(np.prod(gamma))
        return "affine", (params[:k].copy(), params[k:k + int(np.prod(beta))].copy())
    if name in ("relu_", "relu_2"):
        if name == "relu_2":
            r.bool()
        return "relu", None
    if name in ("max_pool_2", "avg_pool_2"):
        nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
        return name[:-2], (nr, nc, sy, sx, py, px)
    if name == "add_prev_":
        return "add_prev", None
    if name in ("fc_2", "fc_3"):
        n_out, n_in = r.int(), r.int()
        params = r.tensor().ravel()
        w, b = r.alias(), r.alias()
        bias_mode = r.int()
        for _ in range(4):
            r.float()
        if name == "fc_3":
            r.bool()
        if bias_mode != 1:  # FC_NO_BIAS
            raise ValueError("a fully connected layer with bias is not supported")
        return "fc", params[:n_in * n_out].reshape(n_in, n_out).copy()
    raise ValueError(f"unexpected layer {name!r} in the face model")


def _trailer(r: _Reader) -> None:
    """What ``add_layer`` (version 2, as in this model) writes after its layer: three state flags and
    three (empty) training buffers; for the bottom layer the third buffer is ``grad_final``."""
    r.bool(), r.bool(), r.bool()
    r.tensor(), r.tensor(), r.tensor()


class FaceResNet:
    """The descriptor network, loaded from dlib's ``dlib_face_recognition_resnet_model_v1.dat``.

    :meth:`descriptor` takes the 150x150 RGB chip dlib's ``get_face_chip(img, shape, 150, 0.25)``
    cuts and returns the same 128 numbers as dlib's ``compute_face_descriptor`` (float32 rounding).
    """

    def __init__(self, path: str | Path) -> None:
        try:
            self._load(_Reader(Path(path).read_bytes()), path)
        except (IndexError, UnicodeDecodeError, StopIteration, struct.error) as exc:
            raise ValueError(f"{path}: the face model file is damaged or not dlib's face model ({exc}); "
                             "reinstall it: pip install --force-reinstall face_recognition_models==0.3.0") from exc

    def _load(self, r: _Reader, path) -> None:
        loss = r.string() if r.int() == 1 else None
        if loss not in ("loss_metric_", "loss_metric_2"):
            raise ValueError(f"{path}: not dlib's metric-learning face model")
        if loss == "loss_metric_2":
            r.float(), r.float()  # margin, distance threshold (training only)
        versions = []  # add_layer (2), tag and skip (1) versions, top down
        while r.data[r.pos:r.pos + 23] != b"\x01\x15input_rgb_image_sized":
            versions.append(r.int())
            if versions[-1] not in (1, 2, 3) or len(versions) > 200:
                raise ValueError(f"{path}: unexpected layer version {versions[-1]}")
        if r.string() != "input_rgb_image_sized":
            raise ValueError(f"{path}: unexpected input layer")
        self.mean = np.array([r.float(), r.float(), r.float()], np.float32)
        size = (r.int(), r.int())
        if size != (CHIP_SIZE, CHIP_SIZE):
            raise ValueError(f"{path}: input size {size}")
        # the bottom layer (whose input is the image) comes first, then each one above it; tags and
        # skips write nothing but their version (taken from the architecture below)
        layers = [_layer(r)]
        bottom = versions[-1]
        _trailer(r)
        if bottom >= 3:
            r.int()  # sample expansion factor
        while r.pos < len(r.data):
            layers.append(_layer(r))
            _trailer(r)
        self._plan(layers)

    def _plan(self, layers: list) -> None:
        kinds = [k for k, _ in layers]
        it = iter(layers)

        def take(kind):
            k, p = next(it)
            if k != kind:
                raise ValueError(f"face model: expected {kind}, found {k} (layers {kinds})")
            return p

        self.stem = (take("con"), take("affine"))
        take("relu")
        self.pool = take("max_pool")
        blocks = []
        for n, count, down in ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True)):
            for i in range(count):
                c1, a1 = take("con"), take("affine")
                take("relu")
                c2, a2 = take("con"), take("affine")
                d = down and i == 0
                if d:
                    take("avg_pool")
                take("add_prev")
                take("relu")
                if c1.w.shape[1] != n or c1.stride != (2 if d else 1):
                    raise ValueError("face model: unexpected block layout")
                blocks.append((c1, a1, c2, a2, d))
        self.blocks = blocks
        take("avg_pool")  # over everything
        self.fc = take("fc")
        if next(it, None) is not None:
            raise ValueError("face model: layers left over")

    @staticmethod
    def _con(x: np.ndarray, c: _Con, affine) -> np.ndarray:
        """Cross-correlation (dlib's ``con_``) of ``x (H, W, C)`` then the per-channel affine."""
        if c.pad:
            x = np.pad(x, ((c.pad, c.pad), (c.pad, c.pad), (0, 0)))
        win = sliding_window_view(x, (c.kh, c.kh), axis=(0, 1))[::c.stride, ::c.stride]  # (h, w, C, kh, kw)
        h, w = win.shape[:2]
        y = win.reshape(h * w, -1) @ c.w
        if c.b is not None:
            y += c.b
        gamma, beta = affine
        y *= gamma
        y += beta
        return y.reshape(h, w, -1)

    @staticmethod
    def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """dlib's ``add_prev``: the sum over the larger extent, the smaller zero-padded."""
        shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape))
        out = np.zeros(shape, np.float32)
        out[:a.shape[0], :a.shape[1], :a.shape[2]] += a
        out[:b.shape[0], :b.shape[1], :b.shape[2]] += b
        return out

    def descriptor(self, chip: np.ndarray) -> np.ndarray:
        """The 128-d descriptor of one 150x150 RGB chip (uint8)."""
        if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"the face chip must be {CHIP_SIZE}x{CHIP_SIZE} RGB, got {chip.shape}")
        x = (chip.astype(np.float32) - self.mean) / np.float32(256.0)
        x = np.maximum(self._con(x, *self.stem), 0)
        k, _, s, _, _, _ = self.pool
        x = sliding_window_view(x, (k, k), axis=(0, 1))[::s, ::s].max(axis=(3, 4))
        for c1, a1, c2, a2, down in self.blocks:
            y = np.maximum(self._con(x, c1, a1), 0)
            y = self._con(y, c2, a2)
            if down:  # 2x2 average pool, stride 2, no padding
                h, w = (x.shape[0] - 2) // 2 + 1, (x.shape[1] - 2) // 2 + 1
                x = 0.25 * (x[0:2 * h:2, 0:2 * w:2] + x[1:2 * h:2, 0:2 * w:2] + x[0:2 * h:2, 1:2 * w:2] + x[1:2 * h:2, 1:2 * w:2])
            x = np.maximum(self._add(x, y), 0)
        return (x.mean(axis=(0, 1)) @ self.fc).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _cached(path: str) -> FaceResNet:
    return FaceResNet(path)


def face_resnet(path: str | Path) -> FaceResNet:
    """The network of ``path``, loaded once a process."""
    return _cached(str(path))


__all__ = ["CHIP_PADDING", "CHIP_SIZE", "FaceResNet", "face_resnet"]
