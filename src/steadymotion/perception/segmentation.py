"""Person segmentation: one wrapper around MediaPipe selfie segmentation for every layer.

MediaPipe Selfie Segmentation (Bazarevsky & Grishchenko 2021, bundled in ``mediapipe==0.10.21``):
the *general* model (256x256, square) for a character image, the *landscape* model (144x256,
faster) for video frames. :func:`person_alpha` refines the general model's mask to the image's own
edges with a guided filter for rigging.
"""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion._native import quiet_native_stderr

#: Model names -> MediaPipe's ``model_selection``.
MODELS = {"general": 0, "landscape": 1}


class PersonSegmenter:
    """Person probability per pixel; a context manager (``with PersonSegmenter() as seg:``).

    Parameters
    ----------
    model : {"landscape", "general"}
        ``landscape`` (video frames, faster) or ``general`` (images).
    """

    def __init__(self, model: str = "landscape") -> None:
        import mediapipe as mp  # heavy: imported where a segmenter is made

        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
        with quiet_native_stderr():
            self._seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=MODELS[model])
            self._seg.process(np.zeros((64, 64, 3), np.uint8))  # the graph logs its set-up on first use

    def __enter__(self) -> PersonSegmenter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._seg.close()

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """``(H, W) float32`` in [0, 1] at ``rgb``'s size (zeros when the model returns nothing)."""
        m = self._seg.process(np.ascontiguousarray(rgb)).segmentation_mask
        if m is None:
            return np.zeros(rgb.shape[:2], np.float32)
        m = np.clip(m.astype(np.float32), 0, 1)
        if m.shape != rgb.shape[:2]:
            m = cv2.resize(m, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        return m

    def mask(self, rgb: np.ndarray, threshold: float = 0.5, grow: float = 0.0) -> np.ndarray:
        """Boolean person mask: probability above ``threshold``, dilated by ``grow`` x the long side."""
        m = self.probability(rgb) > threshold
        if grow > 0:
            k = max(3, int(grow * max(rgb.shape[:2])))
            m = cv2.dilate(m.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        return m


def person_alpha(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Soft person mask ``(H, W) float32`` in [0, 1] of a character image.

    The image's own alpha channel when it has a meaningful one (a cut-out character); otherwise
    the general selfie-segmentation model refined to the image's edges with a guided filter (He,
    Sun & Tang 2010, "Guided Image Filtering").
    """
    if alpha is not None and (alpha < 0.5).mean() > 0.02:
        return alpha.astype(np.float32)
    with PersonSegmenter("general") as seg:
        m = seg.probability(rgb)
    if not m.any():
        return m
    r = max(2, int(0.006 * max(rgb.shape[:2])))
    refined = cv2.ximgproc.guidedFilter(rgb, m, r, 1e-3)
    return np.clip(refined, 0, 1).astype(np.float32)
