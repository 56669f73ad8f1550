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
        from steadymotion._native import import_mediapipe

        mp = import_mediapipe()  # heavy: imported where a segmenter is made

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


def person_alpha(rgb: np.ndarray, alpha: np.ndarray | None = None, seeds: np.ndarray | None = None) -> np.ndarray:
    """Soft person mask ``(H, W) float32`` in [0, 1] of a character image.

    The image's own alpha channel when it has a meaningful one (a cut-out character); otherwise
    the general selfie-segmentation model refined into a figure matte (:func:`figure_matte`):
    solid inside the figure, soft only along its outline. ``seeds`` (bool, optional) are pixels
    known to be the person (the skeleton's bones, the hands).
    """
    if alpha is not None:
        # an image's alpha channel comes as 0-255 (uint8); a caller's mask may already be 0-1
        alpha = alpha.astype(np.float32) / (255.0 if alpha.dtype == np.uint8 or float(alpha.max()) > 1.0 else 1.0)
        if (alpha < 0.5).mean() > 0.02:
            return alpha
    with PersonSegmenter("general") as seg:
        m = seg.probability(rgb)
    if not m.any():
        return m
    return figure_matte(rgb, m, seeds)


def grab_cut(rgb: np.ndarray, mask: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.grabCut`` (Rother, Kolmogorov & Blake 2004) initialised with ``mask``, updated in place,
    made repeatable: its colour models start from k-means on OpenCV's process-wide random generator,
    so the same image cut twice (or after other work) could differ; the generator is seeded first.
    Returns the final background and figure colour models (OpenCV's ``(1, 65)`` GMM arrays)."""
    cv2.setRNGSeed(0x5EED)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(np.ascontiguousarray(rgb), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    return bgd, fgd


def _gmm_loglik(model: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log-likelihood of colours ``x`` ``(N, 3)`` under one of GrabCut's colour models (OpenCV's
    layout: 5 weights, 5 means, 5 covariances)."""
    m = model.ravel()
    x = x.astype(np.float64)
    like = np.zeros(len(x))
    for c in range(5):
        wgt, mu, cov = m[c], m[5 + 3 * c:8 + 3 * c], m[20 + 9 * c:29 + 9 * c].reshape(3, 3)
        if wgt <= 0:
            continue
        cov = cov + np.eye(3) * 1e-2
        d = x - mu
        md = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
        like += wgt * np.exp(-0.5 * md) / np.sqrt(max(np.linalg.det(cov), 1e-12) * (2 * np.pi) ** 3)
    return np.log(like + 1e-300)


def _confidence_dip(p: np.ndarray, k: int) -> np.ndarray:
    """Pixels where the model is unsure (< 0.6) but clearly surer on both sides within ``k`` px: a
    morphological closing of the probability lifts them by more than 0.25."""
    closed = cv2.morphologyEx(p, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return (p < 0.6) & (closed - p > 0.25)


#: Band along the picture's top (fraction of its height) where the selfie model's confidence is not trusted.
TOP_BAND = 0.1
#: Long side (pixels) at which the figure is cut by colour; the outline is refined at full size.
#: (640 cost 0.5 s more per rig than 512 for the same still-figure error on three real images.)
MATTE_WORK_SIDE = 512


#: A pocket of the figure is the background it encloses when its colour is this close (CIE76 Delta E)
#: to the background continued in from around the figure (hysteresis: its core, then what joins it
#: within the looser bound), the selfie model is unsure (< 0.5) over this share of it at least, and
#: it is no speck (share of the figure). anyone-1's elbow gap: sky, model at 0.19-0.4 over half of
#: it; the white stripes of a shirt against a white wall (anyone-11) never leave the model's 1.0.
POCKET_DELTA_E = (8.0, 16.0)
POCKET_UNSURE = 0.25
POCKET_MIN = 0.0005


def enclosed_background(small: np.ndarray, fg: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Pockets of background the figure encloses: the gap between a bent arm and the body, a hand
    on the hip, where the sky or wall shows through.

    A figure cut whose colour models learnt the pocket's colour as the figure's (the pocket is all
    the figure around it shows of it) and a selfie model confident over most of it keep such a pocket
    solid: the trunk is then rigged with a patch of sky, which it carries along and copies into the
    fill under the arm. Here the background behind the figure is continued in from its outline
    (Telea 2004 inpainting of the figure's hole), and a component of figure pixels that matches it
    (:data:`POCKET_DELTA_E`, in CIELAB), does not touch the figure's outline (a sky-blue shirt
    against the sky does) and where the selfie model is unsure over :data:`POCKET_UNSURE` of it
    (a sky-coloured print on a shirt is sure figure) gives its pieces still in ``fg`` that are more
    than a fringe (:data:`POCKET_MIN` of the figure left after a 3x3 erosion), to be cut out of it.
    """
    from scipy.ndimage import binary_fill_holes, label
    from skimage.color import rgb2lab

    out = np.zeros_like(fg)
    if fg.all() or not fg.any():
        return out
    # (a part of the pocket the cut opened already is looked at with the rest of it: the figure's
    # outline is its outer one)
    whole = binary_fill_holes(fg)
    behind = cv2.inpaint(small, whole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    d = np.linalg.norm(rgb2lab(small) - rgb2lab(behind), axis=-1)
    rim = cv2.dilate((~whole).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    loose, _ = label(whole & (d < POCKET_DELTA_E[1]))
    core = whole & (d < POCKET_DELTA_E[0])
    least = POCKET_MIN * fg.sum()
    for k in np.unique(loose[core]):
        if k == 0:
            continue
        c = loose == k
        if (c & rim).any() or (p[c] < 0.5).mean() < POCKET_UNSURE:
            continue
        # what is still figure in it, in pieces thicker than a fringe (the blurred rim of a hole the
        # cut opened already, between a dancer's legs, stays as it was)
        new = (c & fg).astype(np.uint8)
        thick = cv2.erode(new, np.ones((3, 3), np.uint8)).astype(bool)
        if thick.sum() < least:
            continue
        _, pieces = cv2.connectedComponents(new)
        keep = np.unique(pieces[thick])
        out |= np.isin(pieces, keep[keep > 0])
    return out


def figure_matte(rgb: np.ndarray, prob: np.ndarray, seeds: np.ndarray | None = None) -> np.ndarray:
    """A complete figure/background separation from a coarse person probability.

    The selfie model's 256x256 mask is blocky and unsure on hair, boots and thin limbs (probability
    0.2-0.6 inside the figure), which leaves holes that show the background plate through the
    character and leaves figure colours in the plate. Here the mask only seeds a colour cut:
    GrabCut (Rother, Kolmogorov & Blake 2004) at :data:`MATTE_WORK_SIDE` with the confident core
    (and ``seeds``) as sure figure, background far from the person or very unlikely (probability
    < 0.1: the gap between an arm and the body) as sure background and the rest left to the colour
    models, whose cut may add to the model's confident figure (> 0.6) but not take from it. A gap
    of a few pixels (a forearm hanging beside the hips) is below the model's 256-px grid: it shows
    only as a thin dip in its confidence between confident figure on both sides, and the cut's
    smoothness would bridge it; in such a dip the colour models alone decide. Enclosed holes
    smaller than 0.05 % of the figure are closed (specks, not the gap between an arm and the body),
    the pieces not touching the core dropped, and pockets of background the figure encloses
    (:func:`enclosed_background`) opened.
    The binary cut is then softened only across a band of ~2 px at full size with a guided filter
    (He, Sun & Tang 2010), so the matte is 1 inside, 0 outside and antialiased along the outline.
    """
    from scipy.ndimage import binary_fill_holes, label

    h, w = prob.shape
    s = min(1.0, MATTE_WORK_SIDE / max(h, w))
    sw, sh = max(16, int(round(w * s))), max(16, int(round(h * s)))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    p = cv2.resize(prob, (sw, sh), interpolation=cv2.INTER_LINEAR)
    k = max(3, int(0.02 * max(sw, sh)) | 1)
    core = cv2.erode((p > 0.8).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    # where a head touches the picture's top the model fills a block of wall above it: there its
    # confidence is not trusted, and the colour cut alone decides
    top = np.zeros((sh, sw), bool)
    top[: max(1, int(TOP_BAND * sh))] = True
    core &= ~top
    near = cv2.dilate((p > 0.3).astype(np.uint8), np.ones((3 * k, 3 * k), np.uint8)).astype(bool)
    gc = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    gc[p > 0.4] = cv2.GC_PR_FGD
    gc[~near | (p < 0.1)] = cv2.GC_BGD  # (p < 0.1: a real gap between an arm and the body stays open)
    gc[core] = cv2.GC_FGD
    if seeds is not None and seeds.any():
        sd = cv2.resize(seeds.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST).astype(bool)
        gc[sd] = cv2.GC_FGD
        core |= sd
    fg = p > 0.5
    if (gc == cv2.GC_FGD).sum() > 50 and (gc == cv2.GC_BGD).sum() > 50:
        try:
            models = grab_cut(small, gc, 4)
            fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
            # a thin dip in the model's confidence between confident figure on both sides is a gap
            # too narrow for its 256-px grid (between a forearm and the hips): the cut's smoothness
            # would bridge it, so there the colour alone decides
            dip = _confidence_dip(p, k) & (gc != cv2.GC_FGD)
            if dip.any():
                ys, xs = np.nonzero(dip)
                bg_like = _gmm_loglik(models[0], small[ys, xs]) > _gmm_loglik(models[1], small[ys, xs])
                fg[ys[bg_like], xs[bg_like]] = False
            # the cut adds what the model was unsure of (hair, boots, fingers); what the model is
            # sure of stays (a hand in front of a curtain of the same colour)
            fg |= (p > 0.6) & ~top
        except cv2.error:
            pass
    lab, n = label(fg)
    if n > 1:
        keep = np.unique(lab[core & fg])
        fg = np.isin(lab, keep[keep > 0]) if len(keep) else fg
    holes = binary_fill_holes(fg) & ~fg
    if holes.any():
        hl, hn = label(holes)
        sizes = np.bincount(hl.ravel())
        small_holes = np.flatnonzero(sizes < 0.0005 * max(1, fg.sum()))
        fg |= np.isin(hl, small_holes[small_holes > 0])
    fg &= ~enclosed_background(small, fg, p)
    big = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    hard = big > 0.5
    r = max(2, int(round(0.002 * max(h, w))))
    soft = cv2.ximgproc.guidedFilter(rgb, hard.astype(np.float32), r, (0.03 * 255) ** 2)
    band = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    inside = cv2.erode(hard.astype(np.uint8), band).astype(bool)
    outside = ~cv2.dilate(hard.astype(np.uint8), band).astype(bool)
    out = np.clip(soft, 0, 1)
    out[inside] = 1.0
    out[outside] = 0.0
    return out.astype(np.float32)
