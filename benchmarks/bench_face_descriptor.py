"""Face descriptor speed (run by hand): dlib's own network (``dlib-bin``, built without BLAS) against
the same network run with NumPy's BLAS (:mod:`steadymotion.perception.face_resnet`), on real faces.

Prints milliseconds per face (one thread each, as in a pose worker) and the largest difference
between the two descriptors (they are the same numbers to float rounding).
Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/bench_face_descriptor.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

import numpy as np  # noqa: E402


def main() -> None:
    import dlib

    from steadymotion.io.video import VideoReader
    from steadymotion.perception.face_resnet import CHIP_PADDING, CHIP_SIZE, FaceResNet
    from steadymotion.perception.identity import _model_folder

    models = _model_folder()
    t0 = time.perf_counter()
    ours = FaceResNet(models / "dlib_face_recognition_resnet_model_v1.dat")
    load_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    load_theirs = time.perf_counter() - t0
    shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    detect = dlib.get_frontal_face_detector()
    chips = []
    with VideoReader(MEDIA / "longlive__no-cache-man_web.mp4") as reader:
        for frame in reader:
            if frame.index % 25:
                continue
            rgb = np.ascontiguousarray(frame.image)
            boxes = detect(rgb, 0)
            if boxes:
                chips.append(dlib.get_face_chip(rgb, shape(rgb, boxes[0]), CHIP_SIZE, CHIP_PADDING))
    ours.descriptor(chips[0])
    t0 = time.perf_counter()
    a = [ours.descriptor(c) for c in chips]
    t_ours = (time.perf_counter() - t0) / len(chips)
    t0 = time.perf_counter()
    b = [np.asarray(theirs.compute_face_descriptor(c), np.float32) for c in chips]
    t_theirs = (time.perf_counter() - t0) / len(chips)
    diff = max(float(np.abs(x - y).max()) for x, y in zip(a, b))
    print(f"{len(chips)} faces (LongLive no-cache-man, every 25th frame)")
    print(f"dlib-bin:   {1000 * t_theirs:6.1f} ms a face (model load {1000 * load_theirs:.0f} ms)")
    print(f"NumPy/BLAS: {1000 * t_ours:6.1f} ms a face (model load {1000 * load_ours:.0f} ms), {t_theirs / t_ours:.1f}x faster")
    print(f"largest difference between the descriptors: {diff:.2e} (same-person line: 0.6 apart)")


if __name__ == "__main__":
    main()
