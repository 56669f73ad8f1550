"""Self-reenactment: the standard test of a motion-control renderer.

The first frame of a real clip is animated by that same clip, and every output frame is compared
with the real frame it should reproduce (as Animate Anyone, Hu et al. 2023; MimicMotion, Zhang et
al. 2024; UniAnimate, Wang et al. 2024 report it). Scores are grey SSIM (Wang, Bovik, Sheikh &
Simoncelli 2004) and PSNR over the region where the person moves (the union of the real person's
masks over the clip, grown a little), beside the trivial *frozen first frame* baseline a renderer
must beat. Limb directions re-detected in the output are compared with the reference's on the
frames where a limb has moved away from its first-frame direction, and the output's lag behind
the reference is estimated from the wrists' tracks.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from steadymotion.io.video import VideoReader
from steadymotion.skeleton import ARM_EDGE_MARGIN, BODY, LONG_BONES, VISIBLE

#: A limb counts as "moving" on a frame when its direction differs from the first frame's by more than this.
MOVED_DEG = 20.0


@dataclass
class ReenactScore:
    """Self-reenactment scores of one clip (see the module docstring).

    ``ssim``/``psnr`` are the means over the compared frames; ``frozen_*`` the same for the first
    frame repeated. ``limb_error_deg`` is the median angle between each long bone in the output and
    in the reference on frames where it moved (``limb_frames`` of them); ``lag_frames`` the delay of
    the output's wrists behind the reference's (positive = trails).
    """

    clip: str
    frames: int
    ssim: float
    psnr: float
    frozen_ssim: float
    frozen_psnr: float
    region_fraction: float
    limb_error_deg: dict[str, float] = field(default_factory=dict)
    limb_frames: dict[str, int] = field(default_factory=dict)
    lag_frames: float = float("nan")
    output: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The SSIM map of two grey uint8 frames (Gaussian window, sigma 1.5, as Wang et al. 2004)."""
    return structural_similarity(a, b, data_range=255, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, full=True)[1]


def masked_scores(out: np.ndarray, ref: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """Grey SSIM (mean of the SSIM map inside ``region``) and PSNR (dB) inside ``region``."""
    a, b = _grey(out), _grey(ref)
    smap = ssim_map(a, b)
    ssim = float(smap[region].mean())
    mse = float(np.mean((a[region].astype(np.float64) - b[region]) ** 2))
    psnr = 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))
    return ssim, float(psnr)


def motion_region(frames: list[np.ndarray], grow: float = 0.02) -> np.ndarray:
    """Union of the person's masks over ``frames``, dilated by ``grow`` of the frame diagonal."""
    from steadymotion.perception.segmentation import PersonSegmenter

    h, w = frames[0].shape[:2]
    union = np.zeros((h, w), bool)
    with PersonSegmenter("general") as seg:
        for f in frames:
            union |= seg.probability(f) > 0.5
    k = max(3, int(grow * np.hypot(h, w)) | 1)
    return cv2.dilate(union.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)


def _bone_angles(seq) -> dict[str, np.ndarray]:
    """Image-plane direction (degrees) of each long bone; NaN where unseen or cut by the frame's
    bottom edge (:data:`steadymotion.skeleton.ARM_EDGE_MARGIN`: the pose model guesses joints below
    the picture, so neither the reference's nor the output's direction is known there)."""
    out = {}
    edge = (1 - ARM_EDGE_MARGIN) * seq.size[1]
    for label, (a, b) in LONG_BONES.items():
        pa, pb = seq.body[:, a], seq.body[:, b]
        ok = seq.body_present & (pa[:, 3] >= VISIBLE) & (pb[:, 3] >= VISIBLE)
        if "arm" in label:
            ok &= (pa[:, 1] <= edge) & (pb[:, 1] <= edge)
        d = pb[:, :2] - pa[:, :2]
        ang = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
        out[label] = np.where(ok, ang, np.nan)
    return out


def _angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((a - b + 180.0) % 360.0 - 180.0)


def limb_agreement(out_pose, ref_pose) -> tuple[dict[str, float], dict[str, int]]:
    """Median direction error (degrees) per long bone on frames where the reference bone moved."""
    n = min(len(out_pose), len(ref_pose))
    A, B = _bone_angles(out_pose[:n]), _bone_angles(ref_pose[:n])
    err, count = {}, {}
    for label in LONG_BONES:
        ref = B[label]
        start = ref[np.isfinite(ref)][:1]
        if not len(start):
            continue
        moved = np.isfinite(ref) & np.isfinite(A[label]) & (_angle_diff(ref, start[0]) > MOVED_DEG)
        if moved.sum() >= 3:
            err[label] = float(np.median(_angle_diff(A[label][moved], ref[moved])))
            count[label] = int(moved.sum())
    return err, count


def track_lag(out_pose, ref_pose, max_lag: int = 5) -> float:
    """Frames by which the output's wrists trail the reference's (best shift of their tracks)."""
    n = min(len(out_pose), len(ref_pose))
    best, best_err = float("nan"), np.inf
    idx = [BODY["left_wrist"], BODY["right_wrist"], BODY["left_elbow"], BODY["right_elbow"]]
    a = out_pose.body[:n][:, idx, :2]
    b = ref_pose.body[:n][:, idx, :2]
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(lag, 0): n + min(lag, 0)]
        y = b[max(-lag, 0): n - max(lag, 0)]
        e = np.linalg.norm(x - y, axis=-1)
        e = e[np.isfinite(e)]
        if len(e) > 10 and float(np.median(e)) < best_err:
            best, best_err = float(lag), float(np.median(e))
    return best


def self_reenactment(clip: str | Path, *, seconds: float = 8.0, output: str | Path | None = None,
                     backend: str = "puppet", limbs: bool = True, **options) -> ReenactScore:
    """Animate ``clip``'s first frame with ``clip`` itself and score the result against the real frames.

    Parameters
    ----------
    clip : path
        A real video of one person.
    seconds : float
        How much of the clip to reenact (from the start).
    output : path, optional
        Where to keep the rendered video (a temporary file otherwise).
    limbs : bool
        Also re-detect the output's pose for limb-direction agreement and lag (slower).
    **options
        Passed to :func:`steadymotion.pipelines.animate` (e.g. ``orientation``).
    """
    from steadymotion.io.image import Image
    from steadymotion.pipelines.animate import animate
    from steadymotion.pose.extract import extract_pose

    clip = Path(clip)
    with VideoReader(clip) as rd:
        first = next(iter(rd)).image
    tmp = None
    if output is None:
        tmp = tempfile.TemporaryDirectory(prefix="steadymotion_reenact_")
        output = Path(tmp.name) / "reenact.mp4"
    try:
        res = animate(clip, output, image=Image(first), size=(first.shape[1], first.shape[0]),
                      max_seconds=seconds, backend=backend, **options)
        real = [f.image for _, f in zip(range(res.frames), VideoReader(clip))]
        made = [f.image for f in VideoReader(output)]
        n = min(len(real), len(made))
        region = motion_region(real[:n])
        s, p, fs, fp = [], [], [], []
        for i in range(n):
            a, b = masked_scores(made[i], real[i], region)
            c, d = masked_scores(first, real[i], region)
            s.append(a), p.append(b), fs.append(c), fp.append(d)
        score = ReenactScore(clip=clip.name, frames=n, ssim=float(np.mean(s)), psnr=float(np.mean(p)),
                             frozen_ssim=float(np.mean(fs)), frozen_psnr=float(np.mean(fp)),
                             region_fraction=float(region.mean()), output=str(output) if tmp is None else "")
        if limbs:
            out_pose = extract_pose(output, parts="body")
            ref_pose = res.motion_pose if res.motion_pose is not None else extract_pose(clip, parts="body")
            score.limb_error_deg, score.limb_frames = limb_agreement(out_pose, ref_pose)
            score.lag_frames = track_lag(out_pose, ref_pose)
        return score
    finally:
        if tmp is not None:
            tmp.cleanup()
