"""Filling what moving parts reveal: the background behind the person (and, in :mod:`.rig`, a
part's hidden pixels behind the parts drawn in front of it).
"""

from __future__ import annotations

import cv2
import numpy as np


def normalized_blur(v: np.ndarray, w: np.ndarray, sigma: float, ksize: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """``v`` (H, W) or (H, W, C) averaged over a Gaussian window where the weights ``w`` (H, W; a
    mask or its share per cell) lie: normalized convolution (Knutsson & Westin 1993), the local mean
    of the given pixels only. Returns the means and the blurred weights (how much was given near
    each pixel; the means are meaningless where that is near 0)."""
    wf = w.astype(np.float32)
    wgt = cv2.GaussianBlur(wf, ksize, sigma)
    if v.ndim == 3:
        return cv2.GaussianBlur(v * wf[..., None], ksize, sigma) / np.maximum(wgt, 1e-6)[..., None], wgt
    return cv2.GaussianBlur(v * wf, ksize, sigma) / np.maximum(wgt, 1e-6), wgt


def inpaint_multiscale(rgb: np.ndarray, hole: np.ndarray, scale: float = 0.25, method: str = "telea") -> np.ndarray:
    """Fill ``hole`` (bool) at ``scale`` of the picture's size: by Telea's fast marching inpainting
    (Telea 2004), by frequency-selective reconstruction (``method="fsr"``; Seiler & Kaup 2015,
    OpenCV's ``xphoto.inpaint`` FSR_FAST), or by patches (``method="patches"``, :func:`complete_patches`:
    FSR's fill at a coarse scale refined by patch voting, Wexler, Shechtman & Irani 2007).

    Telea's fill diffuses the colours around the hole inwards, so a hole that straddles two
    backgrounds takes both (a yellow curtain's colour smeared over the grey one beside it, where a
    dancer's arm hung). FSR models each block as a sum of the frequencies of the pixels around it,
    so curtain folds and the boundary between the two curtains carry on through the hole; but
    across a hole as wide as a body it extrapolates the top's colour down in a plume (a head-shaped
    column of sky over the clouds behind a dancer) and drags a bush's green into a streak. Patches
    copied from around the hole keep each texture whole: sky stays a gradient, clouds stay white,
    a bush ends in a bush's edge.

    At a quarter of the size the fill is smooth instead of streaky (Telea takes milliseconds there,
    FSR and the patches 1-5 s, the most on 1080p pictures with a body-wide hole); the result is
    upsampled into the hole only, and the seam is feathered over a few pixels inside the hole
    (pixels outside it are never changed).
    """
    h, w = rgb.shape[:2]
    if not hole.any():
        return rgb.copy()
    sw, sh = max(8, int(w * scale)), max(8, int(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    hs = cv2.resize(hole.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
    hs = cv2.dilate(hs.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if hs.all():
        fill = np.full_like(small, np.median(rgb.reshape(-1, 3), axis=0).astype(np.uint8))
    elif method == "fsr":
        fill = _fsr(small, hs)
    elif method == "patches":
        fill = complete_patches(small, hs)
    else:
        fill = cv2.inpaint(small, hs.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    up = cv2.resize(fill, (w, h), interpolation=cv2.INTER_CUBIC)
    k = max(3, int(0.004 * max(h, w)) | 1)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((k, k), np.uint8)).astype(np.float32)
    soft = np.maximum(cv2.GaussianBlur(inner, (k, k), 0), inner)
    soft = (soft * hole)[..., None]
    return (up * soft + rgb * (1 - soft)).round().clip(0, 255).astype(np.uint8)


def _fsr(small: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """FSR_FAST inpainting of ``hs`` (bool) in ``small`` (uint8 RGB), the picture elsewhere kept."""
    sh, sw = hs.shape
    # FSR works on blocks and extrapolates badly into the picture's border (a green band
    # along the bottom where the hole touches it): pad by reflection first
    # (and it works on the hole's box and a margin around it only: its time grows with the area)
    p = max(8, int(0.1 * max(sw, sh)))
    ys, xs = np.nonzero(hs)
    y0, y1 = max(0, ys.min() - p), min(sh, ys.max() + p + 1)
    x0, x1 = max(0, xs.min() - p), min(sw, xs.max() + p + 1)
    sp = cv2.copyMakeBorder(small[y0:y1, x0:x1], p, p, p, p, cv2.BORDER_REFLECT)
    mp = cv2.copyMakeBorder(hs[y0:y1, x0:x1].astype(np.uint8), p, p, p, p, cv2.BORDER_REFLECT)
    dst = np.zeros_like(sp)
    cv2.xphoto.inpaint(sp, (1 - mp).astype(np.uint8), dst, cv2.xphoto.INPAINT_FSR_FAST)
    fill = small.copy()
    fill[y0:y1, x0:x1] = dst[p:-p, p:-p]
    return fill


#: :func:`_strata`: a row's run of hole continues the layer on both its sides when their colours lie
#: within this CIELAB distance (fully within the lower, not at all past the upper) ...
STRATA_DE = (10.0, 20.0)
#: ... over this many pixels beside each end (at the coarsest scale) ...
STRATA_SIDE = 3
#: ... unless the structure there runs up and down (curtain folds): the rows' weight falls to 0 as
#: the structure tensor's vertical share (its x-gradient energy over both, less the y's) reaches this;
#: the weights are averaged over this many rows, so neighbouring rows do not alternate.
STRATA_VERTICAL = 0.5
STRATA_ROWS = 11


def _strata(small: np.ndarray, hs: np.ndarray, fsr: np.ndarray) -> np.ndarray:
    """The coarse layout of a background hole: FSR's fill (``fsr``), except where the picture is
    layered in horizontal bands (a wall's top, a hedge, a kerb, a horizon seen behind a figure):
    there each row's run of hole is the linear blend of the colours just left and right of it.

    FSR fills a hole a body tall from all around it, so the sky above ran down behind anyone-1 as
    a pale column through the wall and the hedge. A row crossing the hole between two pixels of one
    layer (within :data:`STRATA_DE`) is that layer (structure propagation along the dominant
    direction, as in Sun, Yuan, Jia & Shum 2005, "Image completion with structure propagation");
    not where the structure beside it is vertical (the local structure tensor, Bigun & Granlund
    1987): a curtain's folds cross the rows, and a row blend there is a flat ghost of the figure.
    Returns float32 RGB.
    """
    H, W = hs.shape
    img = small.astype(np.float32)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    seen = (~cv2.dilate(hs.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)).astype(np.float32)
    sxx = cv2.boxFilter(gx * gx * seen, -1, (9, 9), normalize=False)
    syy = cv2.boxFilter(gy * gy * seen, -1, (9, 9), normalize=False)
    rows = img.copy()
    wt = np.zeros((H, W), np.float32)
    k = STRATA_SIDE
    lo, hi = STRATA_DE
    for y in np.flatnonzero(hs.any(axis=1)):
        d = np.diff(np.r_[0, hs[y].astype(np.int8), 0])
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
            if a == 0 or b == W:  # (a run to the picture's edge has one side: FSR's)
                continue
            left, right = img[y, max(0, a - k):a].mean(axis=0), img[y, b:b + k].mean(axis=0)
            t = ((np.arange(a, b) - a + 1) / (b - a + 1))[:, None]
            rows[y, a:b] = left * (1 - t) + right * t
            de = float(np.linalg.norm(lab[y, max(0, a - k):a].mean(axis=0) - lab[y, b:b + k].mean(axis=0)))
            xl, xr = max(0, a - k - 2), min(W - 1, b + k + 1)
            sx, sy = sxx[y, xl] + sxx[y, xr], syy[y, xl] + syy[y, xr]
            vertical = (sx - sy) / (sx + sy + 1e-3)
            wt[y, a:b] = np.clip((hi - de) / (hi - lo), 0, 1) * (1 - np.clip(vertical / STRATA_VERTICAL, 0, 1))
    wt = cv2.blur(wt, (1, STRATA_ROWS))
    wt[~hs] = 0
    return rows * wt[..., None] + fsr.astype(np.float32) * (1 - wt[..., None])


#: :func:`continue_lines`: straight lines (tile joints, a skirting board, a table's edge) seen on both
#: sides of a background hole are drawn on through it when they are at least this long (share of the
#: picture's long side) ...
LINE_MIN = 0.025
#: ... their two pieces lie within this angle (degrees) and this distance (px) of one line ...
LINE_ANGLE = 2.0
LINE_OFFSET = 2.0
#: ... the hole between them is no longer than this share of the long side, and known pixels
#: between them (where the line would have to show, and does not) are at most this many px.
LINE_SPAN = 0.4
LINE_BREAK = 6
#: The line's cross profile is read this many px either side of it; the local base beyond that.
LINE_HALF = 4
#: A line fainter than this (grey levels, the profile's largest step from its base) is left alone.
LINE_CONTRAST = 5.0
#: Off the figure between two pieces the line shows when its cross profile there correlates with
#: theirs by this much at least and keeps this share of their contrast.
LINE_SEEN = (0.6, 0.4)


#: :func:`settle_fill`: the tone correction is solved at this share of the picture's size, from the
#: border's differences up to this many 8-bit levels per channel (more is another surface met).
SETTLE_SCALE = 0.25
SETTLE_MAX = 15.0
#: ... from the picture's pixels beside the hole that are flat (grey slope under this, levels per px).
SETTLE_FLAT = 2.0


def settle_fill(plate: np.ndarray, rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Shift the filled ``hole`` of ``plate`` by a smooth correction so that it meets the picture
    around it in tone (in place).

    The fill is made at a quarter of the size from patches found anywhere around the hole, so next
    to the hole's edge it can be ten levels lighter or darker than the floor right beside it; the
    edge, feathered over a few pixels only, then shows as the outline of a box around each foot. The
    correction is the membrane (harmonic) interpolation of the differences along the hole's border
    (the picture just outside, less the fill just inside its feathered seam; across the seam the
    correction grows from nothing): Laplace's equation solved inside the hole
    with them as its boundary values, the smooth part of Poisson image editing (Pérez, Gangnet &
    Blake 2003), at :data:`SETTLE_SCALE` of the size (it is smooth). Only differences up to
    :data:`SETTLE_MAX` and beside flat picture (:data:`SETTLE_FLAT`) are met; elsewhere the border is
    free (a joint or a fold beside the hole, or a hedge the fill's sky runs into, is no tone to meet).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    h, w = hole.shape
    if not hole.any() or hole.all():
        return plate
    k = np.ones((3, 3), np.uint8)
    # the fill just inside its feathered seam (:func:`inpaint_multiscale` blends it into the picture
    # over its outer ~0.4 % of the long side) and the picture's 4 px just outside
    seam = max(3, int(0.004 * max(h, w)) | 1) + 1
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    inner = (depth > seam) & (depth <= seam + 4)
    outer = cv2.dilate(hole.astype(np.uint8), k, iterations=4).astype(bool) & ~hole
    # (only where the picture is flat: a joint, a hem or a fold beside the hole is no tone to meet)
    grey = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.0)
    slope = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)) / 8.0
    outer &= cv2.dilate((slope > SETTLE_FLAT).astype(np.uint8), k, iterations=2) == 0
    sw, sh = max(8, int(round(w * SETTLE_SCALE))), max(8, int(round(h * SETTLE_SCALE)))

    def cells(mask: np.ndarray, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wt = cv2.resize(mask.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
        val = cv2.resize(img.astype(np.float32) * mask[..., None], (sw, sh), interpolation=cv2.INTER_AREA)
        return val / np.maximum(wt, 1e-6)[..., None], wt

    out_v, out_w = cells(outer, rgb)
    in_v, in_w = cells(inner, plate)
    # each border cell's difference: the picture beside it (its local mean over a few cells,
    # normalised convolution, Knutsson & Westin 1993) less the fill inside the seam there
    near_v, near_w = normalized_blur(out_v, out_w, 1.5)
    border = (in_w > 0.05) & (near_w > 0.02)
    out_v = near_v
    hs = cv2.resize(hole.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0
    corr = np.zeros((sh, sw, 3), np.float64)
    diff = out_v - in_v
    # (a larger difference is another thing met, not a tone: the hedge the fill's sky runs into)
    border &= np.abs(diff).max(axis=-1) <= SETTLE_MAX
    free = hs & ~border
    corr[border] = diff[border]
    if not border.any():
        return plate
    ys, xs = np.nonzero(free)
    n = len(ys)
    if n:
        index = -np.ones((sh, sw), np.int64)
        index[ys, xs] = np.arange(n)
        rows, cols, vals = [], [], []
        diag = np.full(n, 1e-4)  # (a piece of hole with no border cell stays as it is)
        rhs = np.zeros((n, 3))
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            qy, qx = ys + dy, xs + dx
            ok = (qy >= 0) & (qy < sh) & (qx >= 0) & (qx < sw)
            qy, qx = np.clip(qy, 0, sh - 1), np.clip(qx, 0, sw - 1)
            unknown = ok & free[qy, qx]
            fixed = ok & border[qy, qx]
            diag += unknown | fixed
            rows.append(np.flatnonzero(unknown))
            cols.append(index[qy[unknown], qx[unknown]])
            vals.append(-np.ones(int(unknown.sum())))
            rhs += fixed[:, None] * corr[qy, qx]
        A = coo_matrix((np.concatenate([diag, *vals]), (np.concatenate([np.arange(n), *rows]), np.concatenate([np.arange(n), *cols]))),
                       shape=(n, n)).tocsc()
        sol = spsolve(A, rhs)
        corr[ys, xs] = np.asarray(sol).reshape(n, 3)
    up = cv2.resize(corr.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    # (within the seam the fill is already blended into the picture: the correction grows across it)
    share = np.clip(depth / seam, 0, 1)[..., None]
    plate[hole] = np.clip(plate[hole].astype(np.float32) + (share * up)[hole], 0, 255).round().astype(np.uint8)
    return plate


def _cross_profile(rgb: np.ndarray, u: np.ndarray, c: float, st: np.ndarray) -> np.ndarray:
    """The mean colour step across the line ``{x : x . n = c}`` (``n`` normal to ``u``) at positions
    ``st`` along it: (2 LINE_HALF + 1, 3), each offset's colour less the base just beyond."""
    nn = np.array([-u[1], u[0]])
    offs = np.arange(-LINE_HALF, LINE_HALF + 1, dtype=np.float64)
    base_offs = np.array([-LINE_HALF - 2, -LINE_HALF - 1, LINE_HALF + 1, LINE_HALF + 2], np.float64)
    pts = st[:, None, None] * u + (c + np.concatenate([offs, base_offs])[None, :, None]) * nn
    samp = cv2.remap(rgb.astype(np.float32), pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)
    return (samp[:, :len(offs)] - samp[:, len(offs):].mean(axis=1, keepdims=True)).mean(axis=0)


def continue_lines(plate: np.ndarray, rgb: np.ndarray, hole: np.ndarray, figure: np.ndarray) -> np.ndarray:
    """Draw the picture's straight background lines back into the filled ``hole`` of ``plate`` (in place).

    The plate is filled at a quarter of the picture's size, so thin straight structure comes out
    smooth: the joints of a tiled floor stopped at a grey blob around each boot (the hole reaches
    past the ``figure`` there, over the shoes' faint fringe), which the eye reads as a box. Line
    segments are found in the picture (the LSD detector, von Gioi, Jakubowicz, Morel & Randall 2012)
    off the figure, at least :data:`LINE_MIN` of the long side. Each is drawn back where the hole
    covers it; two that lie on one line (within :data:`LINE_ANGLE` of each other and every end
    within :data:`LINE_OFFSET` of their common axis) with the figure between them (no more than
    :data:`LINE_SPAN` of the long side, and at most :data:`LINE_BREAK` pixels off the figure between
    them, or the line is seen there too: its profile, :data:`LINE_SEEN`; else the line ended there)
    are one line the figure hides, drawn on through it. A line is
    drawn with its own cross profile (its colour step from the local base, :data:`LINE_HALF` px
    either side, averaged along its pieces) added to the fill: structure propagation along lines,
    as in Sun, Yuan, Jia & Shum 2005 ("Image completion with structure propagation"). Pixels
    outside ``hole`` never change.
    """
    h, w = hole.shape
    if not hole.any():
        return plate
    side = max(h, w)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    try:
        found = cv2.createLineSegmentDetector().detect(grey)[0]
    except cv2.error:
        return plate
    if found is None or len(found) < 1:
        return plate
    seg = found.reshape(-1, 4).astype(np.float64)
    p0, p1 = seg[:, :2], seg[:, 2:]
    length = np.linalg.norm(p1 - p0, axis=1)
    off_figure = ~cv2.dilate(figure.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)

    def inside(pts: np.ndarray, mask: np.ndarray) -> np.ndarray:
        xi, yi = np.round(pts[..., 0]).astype(int), np.round(pts[..., 1]).astype(int)
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = np.zeros(xi.shape, bool)
        out[ok] = mask[yi[ok], xi[ok]]
        return out

    t = np.linspace(0, 1, 9)
    along = p0[:, None] + t[None, :, None] * (p1 - p0)[:, None]
    keep = (length >= max(12.0, LINE_MIN * side)) & inside(along, off_figure).all(axis=1)
    p0, p1, length, along = p0[keep], p1[keep], length[keep], along[keep]
    reach = max(3, int(LINE_SPAN * side))
    if not len(p0):
        return plate
    d = (p1 - p0) / length[:, None]
    ang = np.degrees(np.arccos(np.clip(np.abs(d @ d.T), 0, 1)))
    ia, ib = np.nonzero(np.triu(ang <= LINE_ANGLE, 1))
    lines: list[tuple[np.ndarray, float, float, float, np.ndarray]] = []  # (u, c, from, to, ends)
    # each piece the hole touches is drawn back over itself (a line far from the hole is the plate's as it is)
    near = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    for k in range(len(p0)):
        if inside(along[k], near).any():
            u = d[k]
            nn = np.array([-u[1], u[0]])
            lo, hi = sorted((float(p0[k] @ u), float(p1[k] @ u)))
            lines.append((u, float(p0[k] @ nn), lo, hi, np.array([[lo, hi]])))
    for a, b in zip(ia, ib):
        ends = np.concatenate([[p0[a], p1[a]], [p0[b], p1[b]]])
        centre = ends.mean(axis=0)
        u = np.linalg.svd(ends - centre)[2][0]
        nn = np.array([-u[1], u[0]])
        c = float(centre @ nn)
        if np.abs(ends @ nn - c).max() > LINE_OFFSET:
            continue
        s_a, s_b = np.sort(ends[:2] @ u), np.sort(ends[2:] @ u)
        if s_a[0] > s_b[0]:
            s_a, s_b = s_b, s_a
        g0, g1 = s_a[1], s_b[0]  # the gap between the two pieces, along the line
        if g1 - g0 < 2 or g1 - g0 > reach:
            continue
        gt = np.arange(g0, g1, 1.0)
        gap = gt[:, None] * u + c * nn
        if not inside(gap, figure).any():
            continue
        seen = inside(gap, off_figure)
        if seen.sum() > LINE_BREAK:
            # off the figure between them the line must show, if faintly (too faint for the detector)
            pieces = np.array([s_a, s_b])
            ref = _cross_profile(rgb, u, c, np.concatenate([np.arange(p[0], p[1], 1.0) for p in pieces])).mean(axis=1)
            there = _cross_profile(rgb, u, c, gt[seen]).mean(axis=1)
            if np.corrcoef(ref, there)[0, 1] < LINE_SEEN[0] or np.abs(there).max() < LINE_SEEN[1] * np.abs(ref).max():
                continue
        lines.append((u, c, float(s_a[0]), float(s_b[1]), np.array([s_a, s_b])))
    if not lines:
        return plate
    offs = np.arange(-LINE_HALF, LINE_HALF + 1, dtype=np.float64)
    oo = np.arange(-LINE_HALF, LINE_HALF + 0.01, 0.5)
    acc = np.zeros((h, w, 3), np.float32)
    cnt = np.zeros((h, w), np.float32)
    for u, c, lo, hi, pieces in lines:
        nn = np.array([-u[1], u[0]])
        # the cross profile along the pieces, from the picture
        prof = _cross_profile(rgb, u, c, np.concatenate([np.arange(p[0], p[1], 1.0) for p in pieces]))
        if np.abs(prof.mean(axis=1)).max() < LINE_CONTRAST:
            continue
        # splatted at half-pixel steps both ways; averaged per pixel below
        pv = np.stack([np.interp(oo, offs, prof[:, k]) for k in range(3)], 1)
        q = np.arange(lo, hi, 0.5)[:, None, None] * u + (c + oo)[None, :, None] * nn
        xi, yi = np.round(q[..., 0]).astype(int), np.round(q[..., 1]).astype(int)
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        ok[ok] &= hole[yi[ok], xi[ok]]
        np.add.at(acc, (yi[ok], xi[ok]), np.broadcast_to(pv[None], q.shape[:2] + (3,))[ok])
        np.add.at(cnt, (yi[ok], xi[ok]), 1.0)
    on = cnt > 0
    if on.any():
        # (4 samples make a pixel: one at the band's rounded edge with fewer gets its share)
        plate[on] = np.clip(plate[on].astype(np.float32) + acc[on] / np.maximum(cnt[on], 4.0)[:, None], 0, 255).round().astype(np.uint8)
    return plate


#: :func:`complete_patches`: patch side (px, at each scale), scales (each half the one before), the
#: passes of search and voting at each scale (coarsest first: none there, FSR's smooth layout is
#: kept; searched there too, a wall's soft shadow behind a model ended in a hard vertical edge),
#: the dimensions patches are compared in (principal components) and the search's approximation
#: (a neighbour within 1 + eps of the nearest).
PATCH_SIDE = 7
PATCH_LEVELS = 3
#: ... but no scale whose long side is under this (px): a patch there spans too much of the picture
#: (the floor under a dancer's feet taken for curtain).
PATCH_COARSEST = 100
PATCH_PASSES = (0, 3, 2)
PATCH_DIMS = 12
PATCH_EPS = 2.0
#: What a patch's distance from the target costs: crossing the whole picture as much as the
#: typical difference between two patches (their RMS distance from the mean patch).
PATCH_NEAR = 1.0


def complete_patches(small: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Fill ``hole`` (bool) in ``small`` (uint8 RGB) with the picture's own patches: image completion
    by patch search and voting (Wexler, Shechtman & Irani 2007, "Space-time completion of video").

    Coarse to fine over :data:`PATCH_LEVELS` scales: the coarsest is FSR's fill (the layout of
    large structures: where one curtain ends and the other begins, a shadow's soft fall-off; at
    that scale a hole a body wide is a few blocks across, too small for FSR's plume), then at each
    finer scale each pass finds for every patch that touches the hole the most similar patch lying
    wholly outside it (sum of squared differences in :data:`PATCH_DIMS` principal components plus
    the distance between the two, :data:`PATCH_NEAR`; an approximate k-d-tree search, Arya et al.
    1998), and sets each hole pixel to the mean of what those patches say it is, weighted by how
    well each patch matched; the result is scaled up as the start of the next scale. The fill is
    made of the surroundings' own texture, with no seams between patches (every pixel is the mean
    of overlapping votes).
    """
    P = PATCH_SIDE
    pyr = [(small.astype(np.float32), hole)]
    for _ in range(PATCH_LEVELS - 1):
        img, hl = pyr[-1]
        h2, w2 = (hl.shape[0] + 1) // 2, (hl.shape[1] + 1) // 2
        if max(h2, w2) < PATCH_COARSEST:
            break
        pyr.append((cv2.resize(img, (w2, h2), interpolation=cv2.INTER_AREA),
                    cv2.resize(hl.astype(np.float32), (w2, h2), interpolation=cv2.INTER_AREA) > 0))
    rng = np.random.default_rng(0)
    est = None
    for level in range(len(pyr) - 1, -1, -1):
        img, hl = pyr[level]
        H, W = hl.shape
        passes = PATCH_PASSES[min(len(pyr) - 1 - level, len(PATCH_PASSES) - 1)]
        if est is None:
            small8 = np.clip(img, 0, 255).astype(np.uint8)
            est = _strata(small8, hl, _fsr(small8, hl))
        else:
            up = cv2.resize(est, (W, H), interpolation=cv2.INTER_LINEAR)
            est = img.copy()
            est[hl] = up[hl]
        if not passes:
            continue
        # sources: the centres of patches wholly outside the hole (past the picture's edge, its
        # reflection, as the patches are read: a strip along the bottom has patches too)
        valid = cv2.erode((~hl).astype(np.uint8), np.ones((P, P), np.uint8), borderType=cv2.BORDER_REFLECT).astype(bool)
        est = _patch_passes(img, est, hl, valid, passes, rng)
    return np.clip(est, 0, 255).round().astype(np.uint8)


def _patch_passes(img: np.ndarray, est: np.ndarray, hl: np.ndarray, valid: np.ndarray, passes: int,
                  rng: np.random.Generator) -> np.ndarray:
    """``passes`` rounds of patch search and voting (:func:`complete_patches`) over the hole ``hl``
    of ``est`` (float32, the current fill; ``img`` outside it), with sources the patches centred at
    ``valid``. Returns the new ``est``."""
    from scipy.spatial import cKDTree

    P, R = PATCH_SIDE, PATCH_SIDE // 2
    H, W = hl.shape
    sy, sx = np.nonzero(valid)
    if len(sy) < 4 or not hl.any():
        return est
    # targets: the centres of patches that touch the hole
    ty, tx = np.nonzero(cv2.dilate(hl.astype(np.uint8), np.ones((P, P), np.uint8)).astype(bool))
    src = _patch_rows(img, sy, sx, R)
    sample = src[rng.choice(len(src), min(len(src), 4000), replace=False)]
    mu = sample.mean(axis=0)
    basis = np.linalg.svd(sample - mu, full_matrices=False)[2][:PATCH_DIMS].T
    coef = (src - mu) @ basis
    del src
    # where a patch lies is part of its description: a patch from across the picture must match
    # better than one from beside the hole (the ceiling's flat beige was copied behind raw_0's
    # hips, in front of the window, as a skin-coloured arm)
    lam = PATCH_NEAR * float(np.sqrt((coef ** 2).sum(axis=1).mean())) / max(H, W)
    tree = cKDTree(np.hstack([coef, lam * np.c_[sx, sy]]))
    est = est.copy()
    for _ in range(passes):
        query = np.hstack([(_patch_rows(est, ty, tx, R) - mu) @ basis, lam * np.c_[tx, ty]])
        dist, idx = tree.query(query, k=1, eps=PATCH_EPS)
        # (a vote's weight falls with its patch's distance, on the scale of the typical match)
        sigma2 = 2.0 * float(np.percentile(dist, 75)) ** 2 + 1e-6
        wt = np.exp(-np.minimum(dist ** 2 / sigma2, 10.0)).astype(np.float32)
        est[hl] = _vote(img, hl, ty, tx, sy[idx], sx[idx], wt, R)[hl]
    return est


def refine_patches(rgb: np.ndarray, fill: np.ndarray, known: np.ndarray, passes: int = 2) -> np.ndarray:
    """``rgb`` (uint8) with its ``fill`` pixels refined by ``passes`` rounds of patch search and
    voting (:func:`complete_patches`' finest scale) among the patches wholly inside ``known``: a
    fill copied patch by patch (:func:`exemplar_fill`) keeps its layout (where a hem runs) and
    loses its seams and repeats (the same few patches of a cuff's edge stacked into a barcode). The
    pixels neither filled nor known around it are matched as their nearest filled or known pixel."""
    P = PATCH_SIDE
    valid = cv2.erode((known & ~fill).astype(np.uint8), np.ones((P, P), np.uint8), borderType=cv2.BORDER_CONSTANT,
                      borderValue=0).astype(bool)
    img = rgb.astype(np.float32)
    # (pixels neither filled nor known, another part's beside the fill, take the nearest of those
    # first: matched as they are, a hand's skin under the fill's edge drew patches of the bare waist
    # into it, a pale line along anyone-3's shorts where her wrist had lain)
    other = ~(fill | known)
    if other.any() and not other.all():
        from scipy.ndimage import distance_transform_edt

        _, (iy, ix) = distance_transform_edt(other, return_indices=True)
        img = img[iy, ix]
    est = _patch_passes(img, img, fill, valid, passes, np.random.default_rng(0))
    out = rgb.copy()
    out[fill] = np.clip(est[fill], 0, 255).round().astype(np.uint8)
    return out


def _patch_rows(img: np.ndarray, ys: np.ndarray, xs: np.ndarray, r: int) -> np.ndarray:
    """The ``(2r+1)^2`` pixels around each centre (``ys``, ``xs``), one row each (borders reflected)."""
    pad = cv2.copyMakeBorder(img, r, r, r, r, cv2.BORDER_REFLECT)
    offs = np.arange(-r, r + 1)
    return pad[(ys[:, None, None] + offs[None, :, None] + r), (xs[:, None, None] + offs[None, None, :] + r)].reshape(len(ys), -1)


def _vote(img: np.ndarray, hl: np.ndarray, ty, tx, sy, sx, wt, r: int) -> np.ndarray:
    """Each pixel: the weighted mean of what the patches over it (centred at ``ty``, ``tx``, matched
    to the source patches centred at ``sy``, ``sx`` with weights ``wt``) put there."""
    H, W = hl.shape
    acc = np.zeros((H * W, 3), np.float64)
    wsum = np.zeros(H * W, np.float64)
    pad = cv2.copyMakeBorder(img, r, r, r, r, cv2.BORDER_REFLECT)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            y, x = ty + dy, tx + dx
            ok = (y >= 0) & (y < H) & (x >= 0) & (x < W)
            flat = y[ok] * W + x[ok]
            wk = wt[ok]
            vals = pad[sy[ok] + dy + r, sx[ok] + dx + r]
            wsum += np.bincount(flat, wk, H * W)
            for c in range(3):
                acc[:, c] += np.bincount(flat, wk * vals[:, c], H * W)
    out = img.reshape(-1, 3).astype(np.float64).copy()
    has = wsum > 0
    out[has] = acc[has] / wsum[has, None]
    return out.reshape(H, W, 3).astype(np.float32)


#: Long side (px) of the picture at which :func:`exemplar_fill` works: larger pictures are filled at
#: this size and the fill scaled back up (the patch search's time grows with the fourth power of scale).
EXEMPLAR_SIDE = 1000
#: Patch side (px, at the working size) of :func:`exemplar_fill`, and its search reach in patches.
EXEMPLAR_PATCH = 7
EXEMPLAR_REACH = 5


def exemplar_fill(rgb: np.ndarray, fill: np.ndarray, known: np.ndarray, *, axis=None,
                  side: int | None = None, patch: int = EXEMPLAR_PATCH, reach: int = EXEMPLAR_REACH,
                  source: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill ``fill`` (bool) with patches of the ``known`` pixels: exemplar-based inpainting.

    Criminisi, Pérez & Toyama 2004 ("Region filling and object removal by exemplar-based image
    inpainting"): the fill front is filled patch by patch, most confident first (the share of a
    patch already known or filled with confidence, their confidence term); each patch is completed
    by copying the whole patch of known pixels that differs least from it (sum of squared
    differences over its known pixels). Unlike a diffusion fill it keeps the garment's texture, and
    unlike mirroring a row inward it never repeats a shaded fold as a dark block.

    With ``axis`` (two points, the body part's axis in the picture's pixels), patches are taken from
    the same height along it, anywhere across the part (within half a patch, else a patch): clothes
    run in bands across a body part (a top, bare waist, a waistband; shorts' hem, bare thigh), so
    what an arm hid at the trunk's side is the same band further in, as :func:`fill_across` assumes,
    and a hem is continued under a hand instead of the skin below growing over it. This takes the
    place of Criminisi's data term (which fills first where strong edges meet the front): on an open
    jacket over a striped shirt that term lets the stripes run out over the jacket's hidden side.
    Without an axis, or with no patch at that height, the patch comes from a window ``reach``
    patches around the target, else from anywhere.

    ``source`` (bool, within ``known``) limits where patches are copied from (one garment's
    pixels), while all of ``known`` is matched against; all known pixels by default.
    ``side`` is the picture's size that sets the working scale (the crop's own size by default):
    pictures whose long side is over :data:`EXEMPLAR_SIDE` are filled at that size and scaled back.
    Returns the filled picture (uint8, ``rgb`` outside the fill) and the pixels of ``fill`` that
    were reached (a pixel cut off from every known one is not).
    """
    h, w = fill.shape
    done = np.zeros((h, w), bool)
    src = known & ~fill
    donor = src if source is None else src & source
    if not fill.any() or not donor.any():
        return rgb.copy(), done
    scale = min(1.0, EXEMPLAR_SIDE / float(side or max(h, w)))
    if scale < 1.0:
        sw, sh = max(patch + 2, int(round(w * scale))), max(patch + 2, int(round(h * scale)))
        small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        # (a small pixel is filled if any of it is, and a source only if all of it is known)
        f_s = cv2.resize(fill.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0
        k_s = (cv2.resize(src.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0.999) & ~f_s
        d_s = None if source is None else (cv2.resize(donor.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0.999) & k_s
        ax_s = None if axis is None else [np.asarray(p, np.float64) * (sw / w, sh / h) for p in axis]
        out_s, done_s = _exemplar(small, f_s, k_s, patch, reach, ax_s, d_s)
        up = cv2.resize(out_s, (w, h), interpolation=cv2.INTER_CUBIC)
        done = fill & (cv2.resize(done_s.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0)
        out = rgb.copy()
        out[done] = up[done]
        return out, done
    return _exemplar(rgb, fill, src, patch, reach, axis, None if source is None else donor)


#: Two garments meeting at a hem are told apart when their mean colours are this far apart (OpenCV's
#: 8-bit CIELAB units): denim or navy cloth against skin is about 100-140, the lit and shaded sides
#: of one dark cloth under 40.
HEM_CONTRAST = 50.0
#: A garment is plain (bare skin, a smooth cloth) when the mean absolute Laplacian of its lightness
#: (8-bit CIELAB L, 3x3 kernel) is below this: patches copied across it would show as streaks.
PLAIN_TEXTURE = 10.0


def _near_box(hole: np.ndarray) -> tuple[slice, slice]:
    """The hole's bounding box grown by its own size on each side."""
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    hy, hx = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    return (slice(max(0, ys.min() - hy), min(h, ys.max() + hy + 1)), slice(max(0, xs.min() - hx), min(w, xs.max() + hx + 1)))


def two_garments(rgb: np.ndarray, hole: np.ndarray, known: np.ndarray) -> np.ndarray | None:
    """The mean CIELAB colours (2, 3) of two garments meeting around ``hole`` (shorts and bare
    thigh), or None when the ``known`` pixels there are one garment.

    The known pixels within the hole's own size around it are split into two colour classes
    (k-means, Lloyd 1982, on OpenCV's 8-bit CIELAB); they are two garments when the class means
    differ by :data:`HEM_CONTRAST` or more.
    """
    if not hole.any():
        return None
    box = _near_box(hole)
    near = known[box] & ~hole[box]
    if near.sum() < 60:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[box]), cv2.COLOR_RGB2LAB)[near].astype(np.float32)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(lab, 2, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5), 3,
                               cv2.KMEANS_PP_CENTERS)
    return centres if float(np.linalg.norm(centres[0] - centres[1])) >= HEM_CONTRAST else None


def _garment_of(rgb: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearer of the two garment colours, per pixel."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB).astype(np.float32)
    d = [np.linalg.norm(lab - c, axis=-1) for c in centres]
    return (d[1] < d[0]).astype(np.int8)


def hem_line(rgb: np.ndarray, hole: np.ndarray, known: np.ndarray, axis, centres: np.ndarray | None,
             max_tilt: float = 0.6) -> tuple[float, float, int] | None:
    """The hem between two garments (:func:`two_garments`) that crosses ``hole``, as a line
    ``(slope, offset, upper)``: it lies where ``t = offset + slope * s`` (``t`` along ``axis`` from
    its first point, ``s`` across it, to the axis' left: ``(-u_y, u_x)``), garment ``upper`` (0 or 1,
    the index into ``centres``) before it along the axis. None for no hem.

    Around the hole (within its own size), the edge between the garment above and the garment
    below is found in each one-pixel-wide line of ``known`` pixels along the axis (the height that
    best separates them, where it does with under 15 % error and shows, not hidden by the hole),
    and its slope across the part is the Theil-Sen estimate (Sen 1968) over those lines, so a few
    lines crossing a pocket or a shadow do not tip it; the offset is the median of the lines' edges
    less the slope's share. A hem that shows on fewer than 6 lines gives None; one seen over less
    than half the hole's width (on one side of a hand: its slope over a few pixels, carried across
    the hand, puts the hem's far end off by a cuff's height) or slanted by more than ``max_tilt`` is
    taken as running straight across the axis at the median height of its edges.
    """
    from scipy.stats import theilslopes

    if centres is None or not hole.any():
        return None
    box = _near_box(hole)
    near = known[box] & ~hole[box]
    cls = _garment_of(rgb[box], centres)[near]
    a, b = (np.asarray(p, np.float64) for p in axis)
    u = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
    py, px = np.nonzero(near)
    d = np.stack([px + box[1].start - a[0], py + box[0].start - a[1]], axis=1)
    t, s = d @ u, np.round(d @ np.array([-u[1], u[0]])).astype(int)
    if not (cls == 0).any() or not (cls == 1).any():
        return None
    upper = 0 if t[cls == 0].mean() < t[cls == 1].mean() else 1
    above = cls == upper
    edges_s, edges_t = [], []
    for k in np.unique(s):
        sel = s == k
        if above[sel].sum() < 4 or (~above[sel]).sum() < 4:
            continue
        order = np.argsort(t[sel])
        tt, up = t[sel][order], above[sel][order]
        # errors with the edge after each position: lower-garment pixels above it, upper ones below
        err = np.cumsum(~up) + (up.sum() - np.cumsum(up))
        j = int(np.argmin(err))
        # (the edge must show: a line where the hole lies between the two garments tells nothing)
        if err[j] > 0.15 * len(tt) or j + 1 >= len(tt) or tt[j + 1] - tt[j] > 2.0:
            continue
        edges_s.append(float(k))
        edges_t.append(0.5 * (tt[j] + tt[j + 1]))
    if len(edges_s) < 6:
        return None
    es, et = np.array(edges_s), np.array(edges_t)
    hole_s = np.round((np.stack(np.nonzero(hole)[::-1], axis=1) - a) @ np.array([-u[1], u[0]]))
    slope = 0.0
    if es.max() - es.min() >= 0.5 * (hole_s.max() - hole_s.min()):
        slope = float(theilslopes(et, es)[0])
        if abs(slope) > max_tilt:
            slope = 0.0
    return slope, float(np.median(et - slope * es)), upper


def hem_layout(shape: tuple[int, int], axis, line: tuple[float, float, int]) -> np.ndarray:
    """Which of two garments (int8, 0 or 1) lies at each pixel of a picture of ``shape``: the
    garment before the hem ``line`` (:func:`hem_line`) along ``axis``, the other one past it."""
    a, b = (np.asarray(p, np.float64) for p in axis)
    u = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    dx, dy = xx - a[0], yy - a[1]
    slope, offset, upper = line
    before = dx * u[0] + dy * u[1] < offset + slope * (dx * -u[1] + dy * u[0])
    return np.where(before, upper, 1 - upper).astype(np.int8)


def fill_plain(out: np.ndarray, hole: np.ndarray, known: np.ndarray, centres: np.ndarray | None, reach: int,
               border: np.ndarray | None = None) -> np.ndarray:
    """Blend a fill that spans two garments into each of them, in place; a plain garment (bare skin)
    is filled smooth.

    Each pixel of the fill goes with the garment whose colour it is nearer; each garment's share
    is blended into that garment's own known pixels (:func:`match_tone`, so the hem's other side
    is not pulled in), and a plain garment's share (mean absolute Laplacian of its known pixels'
    lightness under :data:`PLAIN_TEXTURE`) takes no guidance from the fill: a membrane
    interpolation of its border, the harmonic fill of Pérez, Gangnet & Blake 2003, since patches of
    bare skin copied along a slanted hem show as streaks of another tone. With one garment
    (``centres`` None) this is :func:`match_tone`. A textured garment's share then takes the grain of
    its known pixels (:func:`add_grain`). ``border``: more pixels whose tone the fill meets (another
    part's beside it), never copied from.
    """
    tone = known if border is None else known | (border & ~hole)
    if centres is None:
        return match_tone(out, hole, tone, reach)
    cls = _garment_of(out, centres)
    light = cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    texture = np.abs(cv2.Laplacian(light, cv2.CV_32F, ksize=3))
    box = _near_box(hole)
    for c in (0, 1):
        kn = known & (cls == c)
        inner = cv2.erode(kn.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        sample = inner[box] & ~hole[box]
        plain = bool(sample.sum() >= 30 and float(texture[box][sample].mean()) < PLAIN_TEXTURE)
        match_tone(out, hole & (cls == c), tone & (cls == c), reach, guided=not plain)
        if not plain:
            add_grain(out, hole & (cls == c), inner & ~hole)
    return out


#: Scale (Gaussian sigma, pixels) below which a cloth's variation is its grain (:func:`add_grain`).
GRAIN_SIGMA = 1.5
#: Side of the square tiles of grain copied into a fill (pixels; laid at half steps, feathered).
GRAIN_TILE = 12


def add_grain(out: np.ndarray, hole: np.ndarray, donor: np.ndarray, seed: int = 0) -> np.ndarray:
    """Give a fill of a textured cloth (``out`` inside ``hole``, uint8 RGB, changed in place) the
    grain of its ``donor`` pixels, where the fill is smoother than they are; returns ``out``.

    Patches voted over (:func:`refine_patches`) average out a fine stochastic texture such as
    denim's twill: the fill under anyone-3's hand was a flat block beside the grainy shorts. The
    grain (what lies under :data:`GRAIN_SIGMA`, the donors' local mean taken over donors only,
    normalized convolution) is a stationary texture, so tiles of it taken from random places among
    the donors (:data:`GRAIN_TILE`, overlapping by half, raised-cosine windows normalised so the
    sum keeps the variance: random-phase texture synthesis, van Wijk 1991; Galerne, Gousseau &
    Morel 2011) are added to the fill, scaled so the fill's grain and the added grain together
    match the donors' energy, read robustly (the median absolute deviation's square: a hem's line
    copied across a fill is no grain). Seeded: a rig is built the same way twice.
    """
    if not hole.any() or donor.sum() < GRAIN_TILE * GRAIN_TILE * 4:
        return out
    f = out.astype(np.float32)
    mean, _ = normalized_blur(f, donor, GRAIN_SIGMA)
    grain = (f - mean) * donor[..., None]
    fill_mean, _ = normalized_blur(f, hole, GRAIN_SIGMA)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    e_donor = float((1.4826 * np.median(np.abs(grain[donor]))) ** 2)
    e_fill = float((1.4826 * np.median(np.abs((f - fill_mean)[inner]))) ** 2) if inner.any() else 0.0
    if e_donor <= 1e-6 or e_fill >= e_donor:
        return out
    t = GRAIN_TILE
    # tiles wholly among the donors (their top-left corners)
    ok = cv2.erode(donor.astype(np.uint8), np.ones((t, t), np.uint8), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    cy, cx = np.nonzero(ok)
    if len(cy) == 0:
        return out
    rng = np.random.default_rng(seed)
    win = np.sin(np.pi * (np.arange(t) + 0.5) / t) ** 2
    win = np.outer(win, win).astype(np.float32)
    ys, xs = np.nonzero(hole)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    h, w = hole.shape
    acc = np.zeros((h + t, w + t, 3), np.float32)
    wsq = np.zeros((h + t, w + t), np.float32)
    for ty in range(y0 - t // 2, y1, t // 2):
        for tx in range(x0 - t // 2, x1, t // 2):
            if ty + t <= 0 or tx + t <= 0:
                continue
            k = int(rng.integers(len(cy)))
            tile = grain[cy[k]:cy[k] + t, cx[k]:cx[k] + t]
            ay, ax = max(ty, 0), max(tx, 0)
            oy, ox = ay - ty, ax - tx
            acc[ay:ty + t, ax:tx + t] += win[oy:, ox:, None] * tile[oy:, ox:]
            wsq[ay:ty + t, ax:tx + t] += win[oy:, ox:] ** 2
    add = acc[:h, :w] / np.sqrt(np.maximum(wsq[:h, :w], 1e-6))[..., None]
    scale = np.sqrt((e_donor - e_fill) / e_donor)
    out[hole] = (f[hole] + scale * add[hole]).round().clip(0, 255).astype(out.dtype)
    return out


def _exemplar(rgb: np.ndarray, fill: np.ndarray, src: np.ndarray, patch: int, reach: int, axis=None,
              donor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exemplar_fill` at the working size: ``src`` known pixels, disjoint from ``fill``;
    patches are copied from ``donor`` pixels only (all of ``src`` by default)."""
    r = patch // 2
    window = reach * patch
    m = r + 1  # a margin: no patch reaches past the padded picture

    def pad(a, v=0):
        return cv2.copyMakeBorder(a, m, m, m, m, cv2.BORDER_CONSTANT, value=v)

    img = pad(rgb.astype(np.float32))
    todo = pad(fill.astype(np.uint8)).astype(bool)
    kn = pad(src.astype(np.uint8)).astype(bool)
    H, W = todo.shape
    # a patch is a candidate source only if all of it is known (and a donor)
    valid = cv2.erode((kn if donor is None else pad(donor.astype(np.uint8)).astype(bool) & kn).astype(np.uint8),
                      np.ones((patch, patch), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    if not valid.any():
        return rgb.copy(), np.zeros_like(fill)
    conf = kn.astype(np.float32)
    k3 = np.ones((3, 3), np.uint8)
    priority = np.full((H, W), -1.0, np.float32)
    height = None
    if axis is not None:
        a, b = (np.asarray(p, np.float64) for p in axis)
        u = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        height = (xx - m - a[0]) * u[0] + (yy - m - a[1]) * u[1]  # along the axis, at each pixel
    near = 0.5 * patch

    def box(a):
        return cv2.boxFilter(a, -1, (patch, patch), normalize=True, borderType=cv2.BORDER_CONSTANT)

    def update(y0, y1, x0, x1):
        """Priorities of the front pixels in [y0:y1, x0:x1] (the filters read a margin around it)."""
        a0, a1, b0, b1 = max(0, y0 - m), min(H, y1 + m), max(0, x0 - m), min(W, x1 + m)
        front = todo[a0:a1, b0:b1] & cv2.dilate(kn[a0:a1, b0:b1].astype(np.uint8), k3).astype(bool)
        p = np.where(front, box(conf[a0:a1, b0:b1]), -1.0)
        priority[y0:y1, x0:x1] = p[y0 - a0:y1 - a0, x0 - b0:x1 - b0]

    update(m, H - m, m, W - m)
    nearest = None  # the nearest source per pixel (a distance transform's indices), when needed
    while True:
        cy, cx = divmod(int(np.argmax(priority)), W)
        if priority[cy, cx] < 0:
            break
        y0, y1, x0, x1 = cy - r, cy + r + 1, cx - r, cx + r + 1
        ok = None
        if height is not None:  # whole known patches at the target's height, near it, else across the part
            win = (max(0, cy - window), min(H, cy + window + 1), max(0, cx - window), min(W, cx + window + 1))
            for limit, (a0, a1, b0, b1) in ((near, win), (patch, win), (near, (0, H, 0, W)), (patch, (0, H, 0, W))):
                cand = valid[a0:a1, b0:b1] & (np.abs(height[a0:a1, b0:b1] - height[cy, cx]) <= limit)
                if cand.any():
                    cys, cxs = np.nonzero(cand)
                    sy0, sy1, sx0, sx1 = a0 + cys.min() - r, a0 + cys.max() + r + 1, b0 + cxs.min() - r, b0 + cxs.max() + r + 1
                    ok = cand[sy0 + r - a0:sy1 - r - a0, sx0 + r - b0:sx1 - r - b0]
                    break
        if ok is None:  # else those in a window around it, else around the nearest source
            sy0, sy1 = max(0, cy - window - r), min(H, cy + window + r + 1)
            sx0, sx1 = max(0, cx - window - r), min(W, cx + window + r + 1)
            if not valid[sy0 + r:sy1 - r, sx0 + r:sx1 - r].any():
                if nearest is None:
                    from scipy.ndimage import distance_transform_edt

                    nearest = distance_transform_edt(~valid, return_indices=True)[1]
                ny, nx = int(nearest[0][cy, cx]), int(nearest[1][cy, cx])
                sy0, sy1 = max(0, ny - window - r), min(H, ny + window + r + 1)
                sx0, sx1 = max(0, nx - window - r), min(W, nx + window + r + 1)
            ok = valid[sy0 + r:sy1 - r, sx0 + r:sx1 - r]
        mask = np.repeat(kn[y0:y1, x0:x1, None], 3, axis=2).astype(np.float32)
        ssd = cv2.matchTemplate(img[sy0:sy1, sx0:sx1], img[y0:y1, x0:x1], cv2.TM_SQDIFF, mask=mask)
        ssd[~ok] = np.inf
        by, bx = np.unravel_index(int(np.argmin(ssd)), ssd.shape)
        by, bx = by + sy0, bx + sx0
        t = todo[y0:y1, x0:x1].copy()
        img[y0:y1, x0:x1][t] = img[by:by + patch, bx:bx + patch][t]
        conf[y0:y1, x0:x1][t] = float(conf[y0:y1, x0:x1].mean())
        todo[y0:y1, x0:x1][t] = False
        kn[y0:y1, x0:x1][t] = True
        update(max(m, y0 - m), min(H - m, y1 + m), max(m, x0 - m), min(W - m, x1 + m))
    done = fill & ~todo[m:-m, m:-m]
    out = rgb.copy()
    out[done] = img[m:-m, m:-m][done].round().clip(0, 255).astype(np.uint8)
    return out, done


#: Colour distance (OpenCV's 8-bit CIELAB units, about 1.3 Delta E76 each on L) within which the
#: pixels inward of a fill's source are still the same band of cloth.
SAME_BAND = 24.0


def fill_across(rgb: np.ndarray, hole: np.ndarray, known: np.ndarray, axis_a: np.ndarray, axis_b: np.ndarray,
                max_steps: int | None = None) -> np.ndarray:
    """Fill ``hole`` by continuing the texture across the body: mirror the nearest known pixels inward.

    Clothes on a trunk run in bands across it (a top, bare waist, the waistband of shorts): what an
    arm hid at the side of the trunk is best guessed from the same band further in, not by diffusing
    colours from every side (Telea's fill turns a waist behind an arm blue from the shorts below).
    Each hole pixel walks perpendicular to the body axis ``axis_a -> axis_b`` towards the axis until
    it meets a known pixel ``q`` at distance ``t``, and takes the colour at ``q`` moved ``t`` further
    in (reflected texture, like a mirror-padded border), folded back and forth within the band of
    cloth ``q`` lies in (the pixels inward of it within :data:`SAME_BAND` of its colour), so a
    narrow garment panel is not continued with the garment beyond it.
    Pixels whose walk finds nothing fall back to Telea's inpainting (Telea 2004).
    """
    out = rgb.copy()
    ys, xs = np.nonzero(hole)
    if not len(xs):
        return out
    h, w = hole.shape
    ax = np.asarray(axis_b, np.float64) - np.asarray(axis_a, np.float64)
    ax /= max(float(np.hypot(*ax)), 1e-9)
    perp = np.array([-ax[1], ax[0]])
    p = np.stack([xs, ys], 1).astype(np.float64)
    side = np.sign((p - axis_a) @ perp)
    side[side == 0] = 1.0
    step = -side[:, None] * perp[None, :]  # towards the axis
    steps = max_steps or int(0.5 * max(h, w))
    hit = np.full(len(xs), -1, np.int32)
    for k in range(1, steps + 1):
        todo = hit < 0
        if not todo.any():
            break
        q = np.round(p[todo] + k * step[todo]).astype(np.int64)
        inside = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
        ok = np.zeros(len(q), bool)
        ok[inside] = known[q[inside, 1], q[inside, 0]]
        idx = np.flatnonzero(todo)[ok]
        hit[idx] = k
    found = hit > 0
    if found.any():
        t = hit[found].astype(np.float64)
        st = step[found]
        q = p[found] + t[:, None] * st
        qi = np.round(q).astype(np.int64)
        # how far q's band of cloth reaches inward: the walk goes on while the colour stays within
        # SAME_BAND of q's (blurred, CIELAB), so the mirrored texture never crosses into the next
        # garment (a jacket's narrow front panel mirrored past its edge brings in the shirt's stripes)
        lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (5, 5), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
        cq = lab[qi[:, 1], qi[:, 0]]
        run = np.zeros(len(t), np.int64)
        alive = np.ones(len(t), bool)
        for k in range(1, int(t.max()) + 1):
            idx = np.flatnonzero(alive & (k <= t))
            if not len(idx):
                break
            r = np.round(q[idx] + k * st[idx]).astype(np.int64)
            ok = (r[:, 0] >= 0) & (r[:, 0] < w) & (r[:, 1] >= 0) & (r[:, 1] < h)
            ok[ok] = known[r[ok, 1], r[ok, 0]]
            ok[ok] = np.linalg.norm(lab[r[ok, 1], r[ok, 0]] - cq[idx[ok]], axis=1) < SAME_BAND
            run[idx[ok]] = k
            alive[idx[~ok]] = False
        # the mirror distance t folded back and forth within the band (a triangle wave over [0, run])
        period = 2 * np.maximum(run, 1)
        m = np.mod(t.astype(np.int64), period)
        s = np.where(run == 0, 0, np.where(m <= run, m, period - m))
        src = np.round(q + s[:, None] * st).astype(np.int64)
        src[:, 0] = np.clip(src[:, 0], 0, w - 1)
        src[:, 1] = np.clip(src[:, 1], 0, h - 1)
        out[ys[found], xs[found]] = rgb[src[:, 1], src[:, 0]]
    rest = np.zeros_like(hole)
    rest[ys[~found], xs[~found]] = True
    if rest.any() and known.any():
        tel = cv2.inpaint(out, (~known & ~(hole & ~rest)).astype(np.uint8), 5, cv2.INPAINT_TELEA)
        out[rest] = tel[rest]
    # a blur softens the row-to-row steps and the mirrored copies of details (a pocket's rivets),
    # normalised over the hole and the known pixels only (Knutsson & Westin 1993): what hid the
    # hole (a hand's skin beside it) must not bleed into its edge
    soft, _ = normalized_blur(out.astype(np.float32), hole | known, 0, (7, 7))
    out[hole] = soft[hole].round().clip(0, 255).astype(out.dtype)
    return out


def match_tone(out: np.ndarray, hole: np.ndarray, known: np.ndarray, reach: int, max_shift: float = 60.0,
               guided: bool = True) -> np.ndarray:
    """Blend a fill (``out`` inside ``hole``) into the part around it, in place, and return ``out``.

    A fill continues the texture from further in (:func:`fill_across`), which on a garment shaded
    across its width (shorts darker towards the thigh's middle, lighter at the hip; a bare thigh
    darker towards its outer side) gives a patch a shade darker or lighter than what borders it;
    once the hand that hid it moves away, the patch shows as a hand-shaped piece of another tone.
    Poisson image editing (Pérez, Gangnet & Blake 2003): inside the hole the result keeps the
    fill's gradients (its texture, and the edge between two garments it spans, the shorts' hem and
    the bare leg) while on its border it meets the colour of the ``known`` pixels around (their
    local mean within about ``reach``, normalised convolution, Knutsson & Westin 1993: the pixels
    right beside the hole carry the hand's shadow and soft edge, which must not be pulled in);
    where no known pixel is near (the background beside the leg) the border is free (Neumann). The
    correction is bounded by ``max_shift`` (8-bit levels per channel). Without ``guided`` the fill's
    gradients are dropped: the membrane (harmonic) interpolation of the border, for plain skin.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    if not hole.any() or not known.any():
        return out
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    n = len(ys)
    index = -np.ones((h, w), np.int64)
    index[ys, xs] = np.arange(n)
    g = out.astype(np.float64)
    sigma = max(1.0, reach / 2.0)
    target, wgt = normalized_blur(out.astype(np.float32), known, sigma)
    rows, cols, vals = [], [], []
    diag = np.full(n, 1e-3)  # (a weak pull to the fill itself: a piece with no known border stays as it is)
    rhs = 1e-3 * g[ys, xs]
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        qy, qx = ys + dy, xs + dx
        inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
        qy, qx = np.clip(qy, 0, h - 1), np.clip(qx, 0, w - 1)
        in_hole = inside & hole[qy, qx]
        border = inside & ~hole[qy, qx] & (wgt[qy, qx] > 0.05)
        diag += in_hole | border
        # the guidance: the fill's own differences inside the hole (across its border, where the
        # fill has no value of its own, none: the border's colour is met there)
        if guided:
            rhs += in_hole[:, None] * (g[ys, xs] - g[qy, qx])
        rhs += border[:, None] * target[qy, qx]
        k = np.nonzero(in_hole)[0]
        rows.append(k)
        cols.append(index[qy[k], qx[k]])
        vals.append(-np.ones(len(k)))
    A = coo_matrix((np.concatenate([diag] + vals), (np.concatenate([np.arange(n)] + rows), np.concatenate([np.arange(n)] + cols))),
                   shape=(n, n)).tocsc()
    sol = spsolve(A, rhs)
    sol = g[ys, xs] + np.clip(sol - g[ys, xs], -max_shift, max_shift)
    out[ys, xs] = sol.clip(0, 255).round().astype(out.dtype)
    return out


#: Garment colour classes (OpenCV's 8-bit CIELAB) nearer than this are one garment: the lit and
#: shaded sides of one cloth, skin in and out of shadow.
GARMENT_MERGE = 40.0
#: At most this many garments are told apart around a fill (k-means classes before merging).
GARMENTS = 3
#: A garment's patches are copied from its pixels within this percentile of their colour distance
#: to its median (the rest: hair lying on it, highlights, a print).
DONOR_USUAL = 95


def garment_map(rgb: np.ndarray, known: np.ndarray, box: tuple[slice, slice], k: int = GARMENTS,
                centres: np.ndarray | None = None) -> np.ndarray:
    """Which garment each ``known`` pixel wears (int8 class, -1 elsewhere), from the known pixels in ``box``.

    Their colours (CIELAB, lightly blurred) are split into ``k`` classes (k-means, Lloyd 1982);
    classes whose means lie within :data:`GARMENT_MERGE` of each other are one garment (or the
    garments are the given ``centres``, CIELAB means, :func:`two_garments`). Every known pixel takes
    the nearest garment's class, then the majority of its 5x5 neighbourhood (a mode filter: a
    necklace's pearls, a fold's highlight or a cuff's stitching are not a garment of their own).
    """
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (5, 5), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    sample = lab[box][known[box]]
    out = np.full(known.shape, -1, np.int8)
    if centres is not None:
        return _mode_of_nearest(lab, known, np.asarray(centres, np.float32), out)
    if len(sample) < k:
        out[known] = 0
        return out
    cv2.setRNGSeed(0)
    _, idx, centres = cv2.kmeans(sample, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5), 3,
                                 cv2.KMEANS_PP_CENTERS)
    count = np.bincount(idx.ravel(), minlength=k).astype(np.float64)
    groups = [[i] for i in range(k) if count[i] > 0]
    while len(groups) > 1:  # merge the closest pair of garments while any pair is within GARMENT_MERGE
        means = [np.average(centres[g], axis=0, weights=count[g]) for g in groups]
        pairs = [(float(np.linalg.norm(means[i] - means[j])), i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))]
        d, i, j = min(pairs)
        if d >= GARMENT_MERGE:
            break
        groups[i] = groups[i] + groups.pop(j)
    means = np.array([np.average(centres[g], axis=0, weights=count[g]) for g in groups], np.float32)
    return _mode_of_nearest(lab, known, means, out)


def _mode_of_nearest(lab: np.ndarray, known: np.ndarray, means: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:func:`garment_map`'s classes: the nearest of ``means`` per pixel, then the 5x5 majority."""
    nearest = np.argmin(np.stack([np.linalg.norm(lab - m, axis=-1) for m in means], -1), -1)
    votes = np.stack([cv2.boxFilter(((nearest == i) & known).astype(np.float32), -1, (5, 5)) for i in range(len(means))], -1)
    out[known] = np.argmax(votes, -1)[known]
    return _islands_to_surround(out, known)


#: A piece of a garment class smaller than this share of the known pixels, all around it one other
#: class, is that class: a button, a buckle, a printed logo.
ISLAND = 0.005


def _islands_to_surround(garment: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Small enclosed pieces of one class (under :data:`ISLAND` of the known pixels, their outer
    ring mostly known and at least 95 % of it one other class) take the surrounding class, in place.

    anyone-1's gold buttons fell into the blouse's light class: a walk across her corset met the
    blouse at a button, and its row of the corset's fill was laid out as blouse, a white dash
    (an area opening of the label map, Vincent 1993, "Morphological area openings and closings").
    """
    limit = ISLAND * int(known.sum())
    for g in range(int(garment.max()) + 1):
        n, comp, stats, _ = cv2.connectedComponentsWithStats((garment == g).astype(np.uint8), connectivity=8)
        for c in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < limit) + 1:
            x, y, w, h = stats[c, :4]
            y0, y1, x0, x1 = max(0, y - 1), min(garment.shape[0], y + h + 1), max(0, x - 1), min(garment.shape[1], x + w + 1)
            piece = comp[y0:y1, x0:x1] == c
            ring = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~piece
            # (most of the ring seen: a button half under an arm is still one)
            seen = ring & known[y0:y1, x0:x1]
            if seen.sum() < 0.5 * ring.sum():
                continue
            around = garment[y0:y1, x0:x1][seen]
            vals, cnt = np.unique(around, return_counts=True)
            if vals[cnt.argmax()] >= 0 and vals[cnt.argmax()] != g and cnt.max() >= 0.95 * len(around):
                garment[y0:y1, x0:x1][piece] = vals[cnt.argmax()]
    return garment


#: A garment met walking along a part's axis from under an arm is the arm's when it lies within this
#: many pixels past the hole (past a thin outline), not across a band hidden by something else.
PAST_HOLE = 4.0


#: A walk across a part meets a garment only where it goes on: most of the next this many pixels
#: wear it too.
WALK_RUN = 3


def _walk_both_ways(garment: np.ndarray, hole: np.ndarray, known: np.ndarray, perp: np.ndarray, ys: np.ndarray,
                    xs: np.ndarray, slack: int, limit: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each hole pixel (``ys``, ``xs``): the garment of the first known pixel on a straight walk
    along ``perp`` and along ``-perp`` that the next pixels on wear too (:data:`WALK_RUN`; -1 where
    the walk leaves the picture, goes past ``limit`` steps or crosses more than ``slack`` pixels in a
    row that are neither hole nor known: it has left the part), and how many pixels away it lies."""
    h, w = hole.shape
    p = np.stack([xs, ys], 1).astype(np.float64)
    found, far = [], []
    for sign in (1.0, -1.0):
        hit = np.full(len(xs), -1, np.int16)
        steps = np.full(len(xs), np.inf)
        todo = np.ones(len(xs), bool)
        off = np.zeros(len(xs), np.int32)  # pixels in a row off the hole and the known
        for k in range(1, max(h, w) if limit is None else min(max(h, w), limit + 1)):
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            q = np.round(p[idx] + sign * k * perp).astype(np.int64)
            inside = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
            todo[idx[~inside]] = False
            idx, q = idx[inside], q[inside]
            g = garment[q[:, 1], q[:, 0]]
            kn = known[q[:, 1], q[:, 0]] & (g >= 0)
            thin = np.zeros_like(kn)
            if kn.any():
                # (a garment is met when it goes on: of the next WALK_RUN pixels on, most wear it;
                # a line of another colour along the hole's edge, an arm's outline left on the
                # trunk, is walked over)
                at = np.flatnonzero(kn)
                same = np.zeros(len(at), np.int32)
                for j in range(1, WALK_RUN + 1):
                    q2 = np.round(p[idx[at]] + sign * (k + j) * perp).astype(np.int64)
                    q2[:, 0] = q2[:, 0].clip(0, w - 1)
                    q2[:, 1] = q2[:, 1].clip(0, h - 1)
                    same += known[q2[:, 1], q2[:, 0]] & (garment[q2[:, 1], q2[:, 0]] == g[at])
                thin[at] = same < (WALK_RUN + 1) // 2
                kn &= ~thin
            hit[idx[kn]] = g[kn]
            steps[idx[kn]] = k
            todo[idx[kn]] = False
            out_ = ~kn & ~thin & ~hole[q[:, 1], q[:, 0]]
            off[idx] = np.where(out_, off[idx] + 1, 0)
            todo[idx[out_ & (off[idx] > slack)]] = False
        found.append(hit)
        far.append(steps)
    return found, far


def hidden_garments(garment: np.ndarray, hole: np.ndarray, known: np.ndarray, axis_a, axis_b) -> np.ndarray:
    """Which garment lies under each ``hole`` pixel (int8; -1 where no walk meets a known pixel).

    Clothes on a body part run in bands across it (:func:`fill_across`), so a hidden pixel wears
    the garment met on both sides when walking across the part (perpendicular to its axis
    ``axis_a -> axis_b``) to the nearest known pixels, where the two agree. Where they differ (an
    arm across a V neckline: skin on one side, the top on the other) or only one side is known
    (the other is the part's outline), the pixel takes the nearest agreeing pixel of its own line
    across the part (the waist below a top's hem, continued under the arm at the hem's height), else
    the one side's garment if walking along the axis meets it too, up or down (the blouse beside a
    raised arm, up to the trunk's outline; not the V neckline's skin beside the shoulder of an arm
    across the chest, which is met only across), else the nearest agreeing pixel of its piece of
    the hole (in a piece with none, on the seam of two garments, the nearer side's). A pixel from
    which walking across meets nothing takes the garment met both up and down the axis where the
    two agree within 1.5 times the widest width of its piece of the hole (a forearm across a
    waistband, the corset above and the skirt below of one colour); where the two differ, the
    nearer within twice that width (a forearm across a corset, the hole running on up beside the
    upper arm to the blouse: the corset); below the axis' middle, where walking up leaves the part,
    the garment met walking down within that width; under the chin (walking up leaves the trunk)
    it is left at -1.
    (Taking the garment met walking down the axis there put the neck's skin beside the shirt's
    colour in blocks with straight edges: worse than the mirror fill.) The garments' layout is
    completed before their texture, as in structure-guided completion (Sun, Yuan, Jia & Shum 2005,
    "Image completion with structure propagation").
    """
    out = np.full(hole.shape, -1, np.int8)
    ys, xs = np.nonzero(hole)
    if not len(ys):
        return out
    a, b = np.asarray(axis_a, np.float64), np.asarray(axis_b, np.float64)
    ax = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
    perp = np.array([-ax[1], ax[0]])
    # (a walk may cross the band left out between the hole and the known pixels, and a little more)
    from scipy.ndimage import distance_transform_edt
    from scipy.ndimage import label as components
    from scipy.spatial import cKDTree

    gap = float(distance_transform_edt(~hole)[known].min()) if known.any() else 0.0
    slack = int(2 * gap) + 3
    (g1, g2), (d1, d2) = _walk_both_ways(garment, hole, known, perp, ys, xs, slack)
    agree = (g1 == g2) & (g1 >= 0)
    one = (g1 < 0) ^ (g2 < 0)
    lab = np.where(agree, g1, -1).astype(np.int16)
    rel = np.stack([xs, ys], 1) - a
    line = np.round(rel @ ax).astype(np.int64)
    across = rel @ perp
    # each piece of the hole on its own (the fill under the chin says nothing of the chest's)
    comp = components(hole, structure=np.ones((3, 3), bool))[0][ys, xs]
    # (pixels grouped by piece and line across: one sort, not a mask of every pixel per line)
    order = np.lexsort((line, comp))
    starts = np.flatnonzero(np.r_[True, (np.diff(comp[order]) != 0) | (np.diff(line[order]) != 0)])
    rows = np.split(order, starts[1:])
    for c in np.unique(comp):
        mine = comp == c
        todo = mine & ~agree & ((g1 >= 0) | (g2 >= 0))
        if (mine & agree).any():
            for row in rows:
                if comp[row[0]] != c:
                    continue
                src, tgt = row[agree[row]], row[todo[row]]
                if len(src) and len(tgt):
                    lab[tgt] = g1[src[np.abs(across[tgt, None] - across[None, src]).argmin(1)]]
        take = todo & (lab < 0) & one
        if take.any() and (mine & agree).any():
            # (a garment met on one side only must be met along the body's axis too, up or down:
            # the waist under a top's hem is, a neckline's skin beside a shoulder is not)
            k = np.flatnonzero(take)
            (up, down), _ = _walk_both_ways(garment, hole, known, ax, ys[k], xs[k], slack)
            side_g = np.maximum(g1, g2)[k]
            take[k[(up != side_g) & (down != side_g)]] = False
        lab[take] = np.maximum(g1, g2)[take]
        left = np.flatnonzero(todo & (lab < 0))
        src = np.flatnonzero(mine & agree)
        if len(left) and len(src):
            _, j = cKDTree(np.stack([xs[src], ys[src]], 1)).query(np.stack([xs[left], ys[left]], 1))
            lab[left] = g1[src[j]]
        elif len(left):  # (a hole on the seam of two garments: each pixel goes with the nearer side)
            lab[left] = np.where(d1[left] <= d2[left], g1[left], g2[left])
    # a pixel from which walking across leaves the part both ways wears the garment met both up and
    # down the axis when they agree (a forearm across a skirt's waistband, from the outline to the
    # other arm: the corset above and the skirt below are one dark garment); under the chin, walking
    # up leaves the trunk and the pixel stays unassigned
    # (and both close: up and down span at most 1.5 times the thickest width of the hole's piece, as
    # over an arm; under crossed arms a top can lie hidden between the neckline's and the waist's skin)
    none = np.flatnonzero((lab < 0) & (g1 < 0) & (g2 < 0))
    if len(none):
        from scipy.ndimage import maximum

        pieces = np.zeros(hole.shape, np.int32)
        pieces[ys, xs] = comp
        widest = np.asarray(maximum(distance_transform_edt(hole), pieces, np.arange(int(comp.max()) + 1)), np.float64)
        thick = 2.0 * widest[comp[none]]
        # (no walk need go further than that span; the first walk is along the axis: down)
        (down, up), (d_down, d_up) = _walk_both_ways(garment, hole, known, ax, ys[none], xs[none], slack,
                                                     limit=int(np.ceil(1.5 * thick.max())))
        same = (up == down) & (up >= 0) & (d_up + d_down <= 1.5 * thick)
        # where up and down meet two garments, the nearer within the piece's width (a forearm
        # across anyone-1's corset, the hole running on up beside the upper arm to the blouse:
        # the corset under the forearm, the blouse beside the arm; the mirror fill copied the
        # sleeve into the corset as white blocks); below the axis' middle a walk up leaves the
        # part only into another arm or hole (the trunk's outline lies above, the chin far above):
        # the garment met walking down within that width; either only where it is met just past
        # the hole (not across a band hidden by something else, where a top may lie unseen)
        near, d_near = np.where(d_down <= d_up, down, up), np.minimum(d_down, d_up)
        low = (rel[none] @ ax) > 0.5 * float(np.hypot(*(b - a)))
        pick = (((up != down) & (up >= 0) & (down >= 0)) | ((up < 0) & (down >= 0) & low)) & (d_near <= thick)
        if pick.any():
            sign = np.where(d_down <= d_up, 1.0, -1.0)[pick]
            met = np.round(np.stack([xs[none[pick]], ys[none[pick]]], 1) + (sign * d_near[pick])[:, None] * ax).astype(np.int64)
            met = np.clip(met, 0, [hole.shape[1] - 1, hole.shape[0] - 1])
            pick[np.flatnonzero(pick)[distance_transform_edt(~hole)[met[:, 1], met[:, 0]] > PAST_HOLE]] = False
        lab[none[same]] = up[same]
        lab[none[pick & ~same]] = near[pick & ~same]
    out[ys, xs] = lab
    return out


def fill_by_garment(rgb: np.ndarray, hole: np.ndarray, known: np.ndarray, axis_a, axis_b, side: int | None = None,
                    hem: tuple[float, float, int] | None = None, centres: np.ndarray | None = None) -> np.ndarray:
    """Fill ``hole`` garment by garment: first which garment lies where (:func:`hidden_garments`),
    then each garment's share with patches of that garment only (:func:`exemplar_fill`, patches at
    the same height along the axis first), voted over together (:func:`refine_patches`).

    What an arm across a trunk hides is a band of it spanning several garments (a black top's
    V neckline, its hem, the bare waist below). Continued across the body pixel by pixel
    (:func:`fill_across`), the neckline's skin was mirrored into the top as a brown block and the
    top's shading repeated in stripes; copied patch by patch from anywhere, garments' edges break
    into blocks. Here each garment's edge is continued at its own height and each garment keeps its
    own texture. Pixels that no walk reaches and holes with too little known around them are filled
    by :func:`fill_across`.
    With a ``hem`` between two garments (:func:`hem_line`, of the two colours ``centres``: a hand
    over the hem of a pair of shorts) the layout is that line's instead (:func:`hem_layout`): the
    hem runs on under the hand straight, at its slant, not in steps where walks across the leg
    leave it on one side.
    Returns a copy of ``rgb`` (uint8) with ``hole`` filled.
    """
    if not hole.any():
        return rgb.copy()
    box = _near_box(hole)
    if (known[box] & ~hole[box]).sum() < 200:
        return fill_across(rgb, hole, known, axis_a, axis_b)
    # the fill spans the gap left between the hole and the known pixels (the part's pixels right
    # beside what hid it, not trusted as a source): its garments are read across that gap too
    from scipy.ndimage import distance_transform_edt

    dist = distance_transform_edt(~hole)
    gap = float(dist[known].min()) if known.any() else 0.0
    work = hole | (~known & (dist <= gap + 1))
    if hem is not None and centres is not None:
        garment = garment_map(rgb, known, box, centres=centres)
        under = np.where(work, hem_layout(hole.shape, (axis_a, axis_b), hem), -1).astype(np.int8)
    else:
        garment = garment_map(rgb, known, box)
        under = hidden_garments(garment, work, known, axis_a, axis_b)
    # (colours over a patch's width: a textured cloth's grain is not an unusual colour)
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (EXEMPLAR_PATCH, EXEMPLAR_PATCH), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    if (under[hole] < 0).all():
        return fill_across(rgb, hole, known, axis_a, axis_b)
    out = rgb.copy()
    reached = np.zeros_like(hole)
    for g in range(int(garment.max()) + 1):
        target = work & (under == g)
        if not target.any():
            continue
        # (a garment's own pixels away from its edges: the mixed colours along a neckline would
        # line the fill with a third tone; and of its usual colours: not the hair lying on it)
        donor = cv2.erode((known & (garment == g)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if donor.sum() >= 50:
            d = np.linalg.norm(lab[donor] - np.median(lab[donor], axis=0), axis=1)
            usual = np.zeros_like(donor)
            usual[donor] = d <= np.percentile(d, DONOR_USUAL)
            # (nor a patch holding one of them: anyone-1's buttons were copied into her corset's fill
            # from the patches beside them)
            k = int(round(EXEMPLAR_PATCH / min(1.0, EXEMPLAR_SIDE / float(side or max(hole.shape))))) | 1
            clean = usual & ~cv2.dilate((donor & ~usual).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
            donor = clean if clean.sum() >= 50 else usual
        if donor.sum() < 50:
            donor = known & (garment == g)
        filled, got = exemplar_fill(out, target, (known & ~work) | reached, axis=(axis_a, axis_b), side=side, source=donor)
        out[got] = filled[got]
        reached |= got
    if reached.any():
        out = refine_patches(out, work & reached, known & ~work)
    res = rgb.copy()
    done = hole & reached
    res[done] = out[done]
    rest = hole & ~reached
    if rest.any():
        across = fill_across(rgb, rest, (known & ~work) | done, axis_a, axis_b)
        res[rest] = across[rest]
    return res


#: How far from what hides a part its cast shadow may reach (share of the picture's long side): a
#: hand's shadow on the shorts beside it (anyone-11: 8-14 px of 1000).
SHADOW_REACH = 0.016
#: A part's pixels near a hand are its shadow where their lightness lies this far (OpenCV L units,
#: 0-255) below the same garment's lit pixels around it.
SHADOW_DARKER = 6.0
#: A shadow is lifted by at most this factor per channel (a black cuff beside a hand is no shadow).
SHADOW_GAIN = 3.0
#: A pixel near the hand is the cloth of the lit pixel beyond it when their colours lie within this
#: (CIELAB hue distance plus the lightness past the shadow's range, OpenCV units).
SHADOW_MATCH = 20.0


def lift_cast_shadow(color: np.ndarray, cover: np.ndarray, own: np.ndarray, reach: int) -> np.ndarray:
    """Relight the shadow that what hides a part (``cover``: a hand resting on the shorts) casts on
    the part's ``own`` pixels beside it; returns where it was lifted (``color``, float RGB 0-1, is
    changed in place).

    Once the hand moves away its shadow would stay on the cloth as a dark outline of the hand
    around the filled place. The shadow is relit the way Guo, Dai and Hoiem (2011, "Single-image
    shadow detection and removal using paired regions") relight a shadowed region: paired with lit
    pixels of the same material and scaled per channel by the ratio of their colours, so the
    cloth's own grain stays. The lit colour at each pixel is its nearest pixel's farther from the
    cover (``reach`` to four times it), smoothed within that pixel's garment (:func:`garment_map`)
    by normalized convolution (Knutsson and Westin 1993); its shadowed colour, the near pixels
    smoothed the same way over a pixel (a crease's dark line next to the hand is as deep as it is
    narrow). The pair is one material when the hues match and the shaded one is darker by less
    than :data:`SHADOW_GAIN` times (:data:`SHADOW_MATCH`). A pixel is shadow where it is
    :data:`SHADOW_DARKER` darker than its pair, in a piece joined to the cover; the relighting is
    eased in at the shadow's edge and out over the reach's outer half. Shadows past ``reach`` (a
    thigh shaded all down its side) are not the hand's and stay.
    """
    from scipy.ndimage import distance_transform_edt

    out = np.zeros(cover.shape, bool)
    if not cover.any() or not own.any() or reach < 2:
        return out
    dist = cv2.distanceTransform((~cover).astype(np.uint8), cv2.DIST_L2, 5)
    near = own & ~cover & (dist <= reach)
    lit = own & ~cover & (dist > reach) & (dist <= 4 * reach)
    if near.sum() < 20 or lit.sum() < 50:
        return out
    ys, xs = np.nonzero(near | cover)
    p = 4 * reach + 2
    y0, y1 = max(0, ys.min() - p), min(cover.shape[0], ys.max() + p + 1)
    x0, x1 = max(0, xs.min() - p), min(cover.shape[1], xs.max() + p + 1)
    sub = color[y0:y1, x0:x1]
    c8 = (sub * 255).round().clip(0, 255).astype(np.uint8)
    n_, l_, c_ = near[y0:y1, x0:x1], lit[y0:y1, x0:x1], cover[y0:y1, x0:x1]
    # the lit colour straight out from each near pixel: its nearest lit pixel's, smoothed within
    # that pixel's garment (told apart on the lit pixels; a hem is not blurred across). Spread over a
    # wide window it mixed in the lighter middle of a thigh shaded across and lit the skin beside
    # the hand past its own tone; matched to the garment of its hue, darker for free, a thigh's
    # shaded side took its lit middle for its own lit colour.
    lit_cls = garment_map(c8, l_, (slice(None), slice(None)))
    lit_c = np.zeros_like(sub)
    for g in range(int(lit_cls.max()) + 1):
        m = l_ & (lit_cls == g)
        if m.any():
            lit_c[m] = normalized_blur(sub, m, reach / 4)[0][m]
    gap, (iy, ix) = distance_transform_edt(~l_, return_indices=True)
    lit_c = lit_c[iy, ix]
    near_c = normalized_blur(sub, n_, 1.0)[0]
    lit_lab = cv2.cvtColor(lit_c.astype(np.float32), cv2.COLOR_RGB2LAB)
    near_lab = cv2.cvtColor(near_c.astype(np.float32), cv2.COLOR_RGB2LAB)
    # (float CIELAB: L 0-100; in OpenCV's 8-bit units, L x 2.55)
    lit_l, near_l = lit_lab[..., 0] * 2.55, near_lab[..., 0] * 2.55
    # the pixel is the lit pixel's cloth in shadow when it has its hue, is darker by no more than
    # the gain's factor and not lighter (a black cuff beside grey cloth, a pale stitch on denim
    # beside skin, the other side of a hem are not)
    cost = (np.linalg.norm(near_lab[..., 1:] - lit_lab[..., 1:], axis=-1) + np.maximum(0.0, near_l - lit_l - SHADOW_DARKER)
            + np.maximum(0.0, lit_l / SHADOW_GAIN - near_l))
    ok = n_ & (gap <= 2 * reach) & (cost < SHADOW_MATCH)
    dark = ok & (lit_l - near_l > SHADOW_DARKER)
    gain = np.where(ok[..., None], np.clip(lit_c / np.maximum(near_c, 1e-3), 1.0, SHADOW_GAIN), 1.0).astype(np.float32)
    if not dark.any():
        return out
    # only the pieces that touch the cover: a shadow is cast beside what casts it
    touch = cv2.dilate(c_.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    n, comp = cv2.connectedComponents((dark | c_).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(comp[touch & (dark | c_)])] = True
    keep[0] = False
    dark &= keep[comp]
    if not dark.any():
        return out
    # (eased in at the shadow's outer edge: no line where it ends)
    soft = cv2.GaussianBlur(dark.astype(np.float32), (0, 0), 1.0)
    # (and faded out over the reach's outer half: a shadow running on past it ends in no edge)
    fade = np.clip(2.0 * (reach - dist[y0:y1, x0:x1]) / reach, 0.0, 1.0)
    wgt = np.where(n_, np.maximum(soft, dark.astype(np.float32)) * fade, 0.0)[..., None]
    sub[:] = np.where(wgt > 0, (sub * (1 + (gain - 1) * wgt)).clip(0, 1), sub)
    out[y0:y1, x0:x1] = wgt[..., 0] > 0
    return out
