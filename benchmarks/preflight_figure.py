"""Calibration data for the puppet findings of preflight (run by hand).

Prints, for every person image in ../shared/media, the built-in astronaut and four frames of the
UniAnimate dance (arms raised, slightly away, crossed, hands clasped), the measures behind
ARMS_AGAINST_BODY, ARM_ACROSS_BODY, HANDS_OVER_CLOTHING, HAIR_OVER_ARMS and LOOSE_SKIRT
(:func:`steadymotion.preflight.measures.figure_stats`) and the findings they give.

Usage: python benchmarks/preflight_figure.py [--render OUT_DIR]

With ``--render`` it also rigs each image and renders it with both arms raised 35 degrees above
the horizontal, beside the original, as ``OUT_DIR/<name>.png``: what the findings warn about
(strips of the torso carried by the arms, patches where the hands were, hair moving with an arm).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

import cv2
import numpy as np

from steadymotion.io.image import read_image
from steadymotion.pose.extract import pose_from_image
from steadymotion.preflight.check import _figure_findings
from steadymotion.preflight.measures import figure_stats

IMAGES = [
    "mooreanimateanyone__anyone-3.png", "mooreanimateanyone__anyone-11.png", "mooreanimateanyone__anyone-1.png",
    "mimicmotion__demo1.jpg", "mimicmotion__sample_2.png", "infinitetalk__human.png", "liveportrait__s42.jpg",
    "liveportrait__s7.jpg", "unianimate__source_video_frame0.png", "astronaut",
    "unianimate__source_video.mp4@9.0", "unianimate__source_video.mp4@1.2", "unianimate__source_video.mp4@1.8",
    "unianimate__source_video.mp4@8.4", "musepose__UBC_fashion_test_91BjuE6irxS.mp4@0.0",
    "mimicmotion__raw_0.mp4@0.0",
]


def load(name: str) -> np.ndarray | None:
    if name == "astronaut":
        from steadymotion.samples import sample_image

        return sample_image()
    if "@" in name:
        clip, t = name.split("@")
        if not (MEDIA / clip).exists():
            return None
        cap = cv2.VideoCapture(str(MEDIA / clip))
        cap.set(cv2.CAP_PROP_POS_FRAMES, math.ceil(float(t) * cap.get(cv2.CAP_PROP_FPS) - 1e-6))
        ok, bgr = cap.read()
        cap.release()
        return np.ascontiguousarray(bgr[..., ::-1]) if ok else None
    return read_image(MEDIA / name).rgb if (MEDIA / name).exists() else None


def raised_arms(rgb: np.ndarray, pose) -> np.ndarray:
    """The puppet of ``rgb`` with both arms straight out, 35 degrees up, beside the original."""
    from steadymotion.motion.kinematics import arms_out
    from steadymotion.render.puppet.renderer import Pose2D, PuppetRenderer, rest_order
    from steadymotion.render.puppet.rig import build_rig

    rig = build_rig(rgb, pose)
    kp = arms_out(rig.rest, 35.0)
    h, w = rgb.shape[:2]
    eye = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    out = PuppetRenderer(rig, (w, h), eye).render(Pose2D(kp.astype(np.float32), 1.0, rest_order(rig), eye.astype(np.float32)))
    return np.hstack([rgb, out])


def main() -> None:
    render_dir = Path(sys.argv[sys.argv.index("--render") + 1]) if "--render" in sys.argv else None
    if render_dir:
        render_dir.mkdir(parents=True, exist_ok=True)
    print(f"{'image':48s} {'arm contact':>11s} {'across':>9s} {'hand zone':>9s} {'enclosed':>9s} {'hair':>9s} {'skirt':>5s}  findings")
    for name in IMAGES:
        rgb = load(name)
        if rgb is None:
            print(f"{name}: missing (needs ../shared/media)")
            continue
        t0 = time.perf_counter()
        pose = pose_from_image(rgb)
        if not pose.body_present[0]:
            print(f"{name:48s} no body")
            continue
        s = figure_stats(rgb, pose)
        dt = time.perf_counter() - t0

        def pair(d: dict) -> str:
            return "/".join(f"{d[k]:.2f}" if k in d else "-" for k in ("left", "right"))

        hair = pair(s.hair_on_arm) if s.hair_distinct is not False else "n/a"
        skirt = f"{s.skirt_ratio:.2f}" if s.skirt_ratio is not None else "-"
        codes = ", ".join(f.code + ("(info)" if f.severity.value == "info" else "") for f in _figure_findings(s)) or "-"
        print(f"{name:48s} {pair(s.arm_contact):>11s} {pair(s.arm_across):>9s} {pair(s.hand_in_body):>9s} {pair(s.hand_enclosed):>9s} "
              f"{hair:>9s} {skirt:>5s}  {codes}  ({dt:.1f} s)", flush=True)
        if render_dir:
            out = raised_arms(rgb, pose)
            cv2.imwrite(str(render_dir / (name.replace("@", "_").replace(".", "_") + ".png")), out[..., ::-1])


if __name__ == "__main__":
    main()
