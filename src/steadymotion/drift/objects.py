"""Objects that appear or vanish in the static background (``structure.background_objects``).

Generative video can make a part of the static scene dissolve (a lamp, a picture frame) or
materialise (a window, a plant) while the camera looks on. Real footage changes its background
too, but for other reasons, which the measure takes out one by one:

- **camera motion** (pans reveal new things, zooms enlarge them): every sample is mapped into the
  view of the frame being judged by the frame pass's background homographies, chained from frame
  to frame (the camera path), and only pixels that stayed in view in every compared sample count;
- **people and moving things** (pedestrians, a waving curtain, a swinging arm): the person mask
  (selfie segmentation) of every compared sample is excluded, and a change must be *static on
  both sides*: the background must hold still over the half second before and over the half
  second after, so anything that keeps moving fails;
- **lighting** (exposure, auto gain, a cloud): the two sides are compared after matching their
  grey levels (the gain and offset that best predict one from the other, fitted robustly on the
  pixel pairs; clipped highlights and crushed shadows, which do not follow a gain, are left out
  of the fit);
- **compression noise and small misregistration**: images are compared at a small working size,
  blurred, with a ±1 px search, and only a connected blob above a grey-level threshold counts.

This is the dual-background test of abandoned- and removed-object detection (Porikli, Ivanov &
Haga 2008, "Robust abandoned object detection using dual foregrounds": a pixel that differs from
the long-term background but agrees with the short-term one is a static change), with the long-
and short-term backgrounds replaced by the stable views before and after the moment judged, and
the motion compensation of background subtraction under a moving camera (homography-aligned
models, e.g. Kim et al. 2013, "Detection of moving objects with a moving camera using non-panoramic
background model"; Yi et al. 2013). Changes are segmented as connected components of the
thresholded difference (change detection, Radke et al. 2005, "Image change detection algorithms:
a systematic survey").

At each sample time ``c`` (:data:`RATE` per second) the value is the area of the largest such
blob, in % of the frame, between the views :data:`BEFORE_S` before and :data:`AFTER_S` after ``c``;
its box (where in the frame) and a before/after close-up go with it. A change that happens at
``t0`` therefore shows for ``c`` around ``t0`` (about 1 s), and an object that appears for less
than half a second and goes again does not show at all.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

#: Samples per second (each compared with the views before and after it).
RATE = 4.0
#: Long side (pixels) of the working images.
SIDE = 128
#: Offsets (seconds) of the views on each side of the judged moment: the gap of 1 s between the
#: two sides covers a change that fades in or out over up to about a second.
BEFORE_S = (-1.0, -0.75, -0.5)
AFTER_S = (0.5, 0.75, 1.0)
#: Grey-level thresholds (0-255, after blurring and gain matching): a side is "still" where its
#: views differ by less than STILL; a pixel has changed where the two sides differ by more than CHANGE.
STILL, CHANGE = 14.0, 20.0
#: Share of CHANGE down to which a blob seeded by clear change is grown (hysteresis).
GROW = 0.6
#: Search radius (working pixels) for the best-matching place on the other side: what a small
#: local displacement explains (registration error, parallax of a hand-held camera) is no change.
SEARCH = 2
#: Margin (share of the long side) along the frame's edges that is not judged.
EDGE = 0.03
#: The person mask is grown by this share of the long side (hair, shadows, the mask's lag).
PERSON_GROW = 0.015
#: Fewest in-view, still background pixels (share of the frame) needed to judge a moment.
MIN_VIEW = 0.05


def _inv(m: np.ndarray) -> np.ndarray:
    """Inverse of a 3x3 matrix (OpenCV: numpy's goes through LAPACK, whose thread start-up costs
    milliseconds on a busy machine)."""
    return cv2.invert(np.asarray(m, np.float64), flags=cv2.DECOMP_LU)[1]


def _shift_min(a: np.ndarray, b: np.ndarray, r: int) -> np.ndarray:
    """``min over |d| <= r px of |a(x) - b(x + d)|``: tolerates misregistration and parallax."""
    pad = np.pad(b, r, mode="edge")
    h, w = a.shape
    best = np.full(a.shape, np.inf, np.float32)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            np.minimum(best, np.abs(a - pad[dy:dy + h, dx:dx + w]), out=best)
    return best


def _match(src: np.ndarray, ref: np.ndarray, common: np.ndarray) -> np.ndarray:
    """``src`` with its grey levels mapped by the gain and offset that best predict ``ref`` over
    ``common``: least squares on the pixel pairs, refitted twice on the pairs it explains (within
    3x the median residual), so a changed region itself, or one view's new object, does not set the
    exposure."""
    x, y = src[common].astype(np.float64), ref[common].astype(np.float64)
    if x.size < 50:
        return src
    keep = np.ones(x.size, bool)
    g, o = 1.0, 0.0
    for _ in range(3):
        xk, yk = x[keep], y[keep]
        if xk.size < 50:
            break
        vx = float(xk.var())
        g = float(np.clip(((xk - xk.mean()) * (yk - yk.mean())).mean() / vx, 0.5, 2.0)) if vx > 1.0 else 1.0
        o = float(yk.mean() - g * xk.mean())
        res = np.abs(y - (g * x + o))
        keep = res <= max(3.0 * float(np.median(res)), 2.0)
    return src * g + o


class BackgroundObjects:
    """Streaming measure, fed by the frame pass.

    Call :meth:`step` on every frame with the background homography from the previous frame
    (``None`` where it could not be fitted: the step is taken as still, which only matters where
    the background is textured), :meth:`due` to ask whether the frame should be sampled, then
    :meth:`sample` with it; :meth:`cut` at a hard cut; :meth:`series` at the end.
    Homographies are in the frame pass's pixels (``size``); images are its RGB and grey frames.
    """

    def __init__(self, size: tuple[int, int]):
        w, h = size
        self.k = SIDE / max(w, h)
        self.size = (max(8, int(round(w * self.k))), max(8, int(round(h * self.k))))
        S = np.diag([self.k, self.k, 1.0])
        self._S, self._Si = S, _inv(S)
        self.G = np.eye(3)  # chained camera map: fixed origin -> current frame (working pixels)
        self.buf: deque = deque()  # (t, grey, person, G, rgb)
        self.next_t = 0.0
        self.t: list[float] = []
        self.v: list[float] = []
        self.boxes: list[np.ndarray] = []
        self.crops: dict[int, bytes] = {}
        self._crop_score: dict[int, float] = {}
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    # --- feeding -------------------------------------------------------------------------------
    def step(self, H: np.ndarray | None) -> None:
        if H is not None:
            self.G = (self._S @ H @ self._Si) @ self.G
            self.G /= self.G[2, 2]

    def cut(self) -> None:
        """A hard cut: nothing before it is compared with what follows."""
        while self.buf:
            self._judge(self.buf.popleft(), flush=True)
        self.G = np.eye(3)

    def due(self, t: float) -> bool:
        return t >= self.next_t - 1e-6

    def sample(self, t: float, rgb: np.ndarray, person: np.ndarray) -> None:
        self.next_t = t + 1.0 / RATE - 0.25 / RATE
        w, h = self.size
        small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.0)
        pm = cv2.resize(person.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        r = max(1, int(round(PERSON_GROW * SIDE)))
        pm = cv2.dilate(pm, np.ones((2 * r + 1, 2 * r + 1), np.uint8))

        self.buf.append((t, grey, pm, self.G.copy(), rgb))  # the frame pass's frame, for close-ups
        # judge the sample whose after-views are now all in
        while self.buf and self.buf[-1][0] - self.buf[0][0] >= -BEFORE_S[0] + AFTER_S[-1] + 1e-6:
            self._judge_middle()
            self.buf.popleft()

    def _judge_middle(self) -> None:
        t0 = self.buf[0][0]
        mid = min(self.buf, key=lambda s: abs(s[0] - (t0 - BEFORE_S[0])))
        self._judge(mid)

    def _nearest(self, t: float):
        s = min(self.buf, key=lambda x: abs(x[0] - t))
        return s if abs(s[0] - t) <= 0.5 / RATE + 1e-6 else None

    # --- judging -------------------------------------------------------------------------------
    def _judge(self, centre, flush: bool = False) -> None:
        tc = centre[0]
        if flush or (self.t and tc <= self.t[-1] + 1e-6):
            if not (self.t and tc <= self.t[-1] + 1e-6):
                self._record(tc, np.nan, None)
            return
        views = [self._nearest(tc + d) for d in BEFORE_S + AFTER_S]
        if any(v is None for v in views) or len({id(v) for v in views}) < len(views):
            self._record(tc, np.nan, None)
            return
        w, h = self.size
        Gc = centre[3]
        greys, valid = [], np.ones((h, w), bool)
        for _, grey, pm, G, _ in views:
            M = Gc @ _inv(G)  # that view's pixels -> the judged frame's
            g = cv2.warpPerspective(grey, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=-1.0)
            p = cv2.warpPerspective(pm, M, (w, h), flags=cv2.INTER_NEAREST, borderValue=1)
            inside = cv2.warpPerspective(np.ones((h, w), np.uint8), M, (w, h), flags=cv2.INTER_NEAREST)
            valid &= (inside > 0) & (p == 0)
            greys.append(g)
        valid = cv2.erode(valid.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        e = max(1, int(round(EDGE * SIDE)))  # homography extrapolation, lens distortion and flow are worst there
        valid[:e], valid[-e:], valid[:, :e], valid[:, -e:] = False, False, False, False
        n = len(BEFORE_S)
        before, after = np.stack(greys[:n]), np.stack(greys[n:])
        still = valid & (np.ptp(before, axis=0) < STILL) & (np.ptp(after, axis=0) < STILL)
        if still.mean() < MIN_VIEW:
            self._record(tc, np.nan, None)
            return
        b, a = np.median(before, axis=0), np.median(after, axis=0)
        # the exposure from unclipped pixels only (clipped highlights and crushed shadows do not
        # follow a gain), still compared: a lamp appearing on a white wall is a change
        a = _match(a, b, still & (a > 6) & (a < 248) & (b > 6) & (b < 248))
        # both ways: what appeared has no match nearby before, what vanished has none after; "nearby"
        # is where optical flow between the two views puts it (parallax, registration error,
        # something moved a little), give or take SEARCH px
        diff = np.where(still, np.maximum(self._unexplained(a, b), self._unexplained(b, a)), 0.0)
        seeds = cv2.morphologyEx((diff > CHANGE).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        # hysteresis (as in Canny's edge linking): a blob seeded by clear change takes in the fainter
        # change connected to it (an object's soft edge, its low-contrast parts)
        weak = cv2.morphologyEx((diff > GROW * CHANGE).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(weak | seeds, connectivity=8)
        seeded = np.zeros(count, bool)
        seeded[np.unique(labels[seeds > 0])] = True
        seeded[0] = False
        if not seeded.any():
            self._record(tc, 0.0, None)
            return
        j = int(np.argmax(np.where(seeded, stats[:, cv2.CC_STAT_AREA], -1)))
        x, y, bw, bh, area = stats[j]
        value = 100.0 * float(area) / (w * h)
        box = np.array([x / w, y / h, (x + bw) / w, (y + bh) / h], float)
        self._record(tc, value, box)
        if value >= _crop_from():
            sec = int(tc)
            if value > self._crop_score.get(sec, -1.0):  # the worst sample of each second
                self._crop_score[sec] = value
                self.crops = {i: c for i, c in self.crops.items() if int(self.t[i]) != sec}
                self.crops[len(self.t) - 1] = _before_after(views[0][4], views[-1][4], views[0][3], views[-1][3], Gc, box, self._S)

    def _unexplained(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """How far ``a`` is from ``b``, as it is or moved by the optical flow between them (DIS,
        Kroeger et al. 2016), with a ±SEARCH px search on top (the better of the two)."""
        a8 = np.clip(a, 0, 255).astype(np.uint8)
        b8 = np.clip(b, 0, 255).astype(np.uint8)
        flow = self._dis.calc(a8, b8, None)  # a(x) ~ b(x + flow(x))
        h, w = a.shape
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        bw = cv2.remap(b.astype(np.float32), gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return np.minimum(_shift_min(a, b, SEARCH), _shift_min(a, bw, SEARCH))

    def _record(self, t: float, value: float, box) -> None:
        self.t.append(t)
        self.v.append(value)
        self.boxes.append(np.full(4, np.nan) if box is None else box)

    def series(self):
        """``structure.background_objects`` (% of the frame), with boxes and before/after close-ups."""
        from steadymotion.drift.series import Series

        self.cut()  # the last samples have no after-views: gaps
        order = np.argsort(self.t, kind="stable")
        keep = {int(i): n for n, i in enumerate(order)}
        crops = {keep[i]: c for i, c in self.crops.items()}
        return Series("structure.background_objects", np.array(self.t, float)[order], np.array(self.v, float)[order],
                      boxes=np.array(self.boxes, float).reshape(-1, 4)[order], crops=crops)


def _crop_from() -> float:
    from steadymotion.drift.series import SPECS

    return SPECS["structure.background_objects"].minor


def _before_after(rgb_b: np.ndarray, rgb_a: np.ndarray, Gb, Ga, Gc, box, S) -> bytes:
    """Side-by-side close-up for the report: the place before and after the change (both frames
    mapped into the judged frame's view; ``S`` scales their pixels to the working ones), the box
    outlined in red, each half 200 px."""
    from steadymotion.drift.meter import jpeg

    h, w = rgb_b.shape[:2]
    x0, y0, x1, y1 = box * (w, h, w, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(1.0 * max(x1 - x0, y1 - y0), 0.15 * max(w, h))
    X0, Y0 = int(max(0, cx - half)), int(max(0, cy - half))
    X1, Y1 = int(min(w, cx + half)), int(min(h, cy + half))
    out = []
    for rgb, G in ((rgb_b, Gb), (rgb_a, Ga)):
        M = _inv(S) @ Gc @ _inv(G) @ S
        view = cv2.warpPerspective(rgb, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        crop = np.ascontiguousarray(view[Y0:Y1, X0:X1])
        k = 200.0 / max(1, max(crop.shape[:2]))
        crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        cv2.rectangle(crop, (int((x0 - X0) * k) - 1, int((y0 - Y0) * k) - 1), (int((x1 - X0) * k) + 1, int((y1 - Y0) * k) + 1), (235, 40, 40), 2)
        out.append(crop)
    hh = max(c.shape[0] for c in out)
    out = [cv2.copyMakeBorder(c, 0, hh - c.shape[0], 0, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255)) for c in out]
    return jpeg(np.concatenate(out, axis=1), 90)
