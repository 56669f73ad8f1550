"""The face descriptor network run with NumPy (:mod:`steadymotion.perception.face_resnet`) gives dlib's
own descriptors, read from the same model file, on real faces."""

from __future__ import annotations

import numpy as np
import pytest

from steadymotion.io.video import VideoReader
from tests.conftest import media_path

dlib = pytest.importorskip("dlib")


def test_numpy_network_gives_dlibs_descriptors_on_real_faces():
    from steadymotion.perception.face_resnet import CHIP_PADDING, CHIP_SIZE, FaceResNet
    from steadymotion.perception.identity import _model_folder

    models = _model_folder()
    ours = FaceResNet(models / "dlib_face_recognition_resnet_model_v1.dat")
    theirs = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    detect = dlib.get_frontal_face_detector()
    descriptors = []
    # a man before and after another man takes over (LongLive, 5.08 s), and a real presenter
    for name, times in (("longlive__no-cache-man_web.mp4", (0.5, 7.0)), ("infinitetalk__videos_2.mp4", (1.0,))):
        with VideoReader(media_path(name), max_side=720) as reader:
            for frame in reader:
                if not times or frame.t < times[0]:
                    continue
                times = times[1:]
                rgb = np.ascontiguousarray(frame.image)
                boxes = detect(rgb, 0)
                assert boxes, f"no face found by dlib in {name} at {frame.t:.2f} s"
                pts = shape(rgb, boxes[0])
                want = np.asarray(theirs.compute_face_descriptor(rgb, pts, 0), np.float32)
                got = ours.descriptor(dlib.get_face_chip(rgb, pts, CHIP_SIZE, CHIP_PADDING))
                assert got.shape == (128,) and got.dtype == np.float32
                assert np.abs(got - want).max() < 1e-4, f"{name} {frame.t:.2f} s: {np.abs(got - want).max()}"
                descriptors.append(got)
    assert len(descriptors) == 3
    # and they keep meaning what they mean: the two men (and the presenter) are strangers to dlib
    assert np.linalg.norm(descriptors[0] - descriptors[1]) > 0.5
    assert np.linalg.norm(descriptors[0] - descriptors[2]) > 0.6


def test_a_file_that_is_not_the_face_model_is_refused(tmp_path):
    from steadymotion.perception.face_resnet import FaceResNet
    from steadymotion.perception.identity import _model_folder

    with pytest.raises(ValueError, match="not dlib's"):
        FaceResNet(_model_folder() / "shape_predictor_5_face_landmarks.dat")
    cut = tmp_path / "cut.dat"  # the real model, cut short
    cut.write_bytes((_model_folder() / "dlib_face_recognition_resnet_model_v1.dat").read_bytes()[:400_000])
    with pytest.raises(ValueError, match="damaged or not dlib's"):
        FaceResNet(cut)
