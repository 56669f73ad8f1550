"""Look at a puppet render at full size (run by hand): which part carries each pixel, where the render
loses to the frozen first frame, and the real, rendered and first frames side by side.

Each session that mends the renderer wrote these views again; they are kept here.

- ``parts``: animate an image (or a clip's first frame, by the clip itself) with each part's texture
  tinted half-way to its rig-preview colour (:data:`steadymotion.render.puppet.preview.PART_COLORS`;
  the fills drawn under an arm take the arm's). A slab that moves with the wrong part shows in that
  part's colour. The rig is the one ``animate`` uses (read from the cache when it is there).
- ``strip``: the real frame, the rendered frame and the clip's first frame side by side, whole or
  cropped to ``--box X0 Y0 X1 Y1`` and scaled by ``--zoom`` (nearest neighbour: pixels stay pixels).
- ``loss``: the mean over the frames (every ``--step``-th) of the grey SSIM map of the render minus
  that of the frozen first frame, both against the real frames (the self-reenactment's measure,
  :mod:`steadymotion.pipelines.reenact`, per pixel) over the first frame at 40 %: green where the
  render wins, red where it loses (full colour at a difference of 0.3).

Usage::

    python benchmarks/look_puppet.py parts CLIP.mp4 OUT.mp4 [--image IMG] [--seconds 8]
    python benchmarks/look_puppet.py strip CLIP.mp4 RENDER.mp4 OUT.png FRAME [--box X0 Y0 X1 Y1] [--zoom 2]
    python benchmarks/look_puppet.py loss CLIP.mp4 RENDER.mp4 OUT.png [--frames 240] [--step 4]

(``benchmarks/bench_reenact.py --keep DIR`` keeps the self-reenactment renders these read.)
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from steadymotion.io.image import write_image
from steadymotion.io.video import VideoReader
from steadymotion.render import BACKENDS
from steadymotion.render.puppet.backend import PuppetBackend


class TintedPuppetBackend(PuppetBackend):
    """The puppet backend with each part's texture tinted half-way to its preview colour (the rig
    itself, and so its cache entry, is the plain backend's)."""

    def render(self, character, plan, scene):
        from dataclasses import replace

        from steadymotion.render.puppet.preview import PART_COLORS

        def tint(p):
            tex = p.texture.copy()
            colour = np.array(PART_COLORS.get(p.name, (128, 128, 128)), np.float32)
            # (premultiplied: the tint goes where the texture is, not over its mesh's empty corners)
            a = tex[..., 3:].astype(np.float32) / 255
            tex[..., :3] = (0.5 * tex[..., :3] + 0.5 * colour * a).astype(np.uint8)
            return replace(p, texture=tex)

        tinted = replace(character, parts=[tint(p) for p in character.parts],
                         under=[tint(p) for p in (character.under or [])])
        return super().render(tinted, plan, scene)


def first_frame(clip: Path) -> np.ndarray:
    with VideoReader(clip) as r:
        return next(iter(r)).image


def parts(args) -> None:
    from steadymotion.io.image import Image, read_image
    from steadymotion.pipelines.animate import animate

    BACKENDS["tinted"] = f"{__name__}:TintedPuppetBackend"
    img = read_image(args.image) if args.image else Image(first_frame(args.clip))
    size = None if args.image else (img.rgb.shape[1], img.rgb.shape[0])
    res = animate(args.clip, args.out, image=img, size=size, max_seconds=args.seconds, backend="tinted")
    print(f"{args.out}: {res.frames} frames, parts tinted")


def strip(args) -> None:
    with VideoReader(args.clip) as r, VideoReader(args.render) as o:
        first = None
        for i, (fa, fb) in enumerate(zip(r, o)):
            if first is None:
                first = fa.image
            if i == args.frame:
                tiles = [fa.image, fb.image, first]
                break
        else:
            raise SystemExit(f"frame {args.frame} is past the end of {args.render} or {args.clip}")
    if args.box:
        x0, y0, x1, y1 = args.box
        tiles = [t[y0:y1, x0:x1] for t in tiles]
    out = np.concatenate(tiles, axis=1)
    if args.zoom != 1:
        out = cv2.resize(out, None, fx=args.zoom, fy=args.zoom, interpolation=cv2.INTER_NEAREST)
    write_image(args.out, out)
    print(f"{args.out}: real | render | first frame, {out.shape[1]}x{out.shape[0]}")


def loss(args) -> None:
    from steadymotion.pipelines.reenact import ssim_map

    acc, n, first, g0 = None, 0, None, None
    with VideoReader(args.clip) as r, VideoReader(args.render) as o:
        for i, (fa, fb) in enumerate(islice(zip(r, o), args.frames)):
            real = cv2.cvtColor(fa.image, cv2.COLOR_RGB2GRAY)
            if first is None:
                first, g0 = fa.image, real
            if i % args.step:
                continue
            ours = ssim_map(cv2.cvtColor(fb.image, cv2.COLOR_RGB2GRAY), real)
            frozen = ssim_map(g0, real)
            acc = ours - frozen if acc is None else acc + ours - frozen
            n += 1
    if not n:
        raise SystemExit(f"no frames read from {args.clip} and {args.render}")
    acc /= n
    v = np.clip(acc / 0.3, -1, 1)
    img = first.astype(np.float32) * 0.4
    img[..., 0] += np.clip(-v, 0, 1) * 150
    img[..., 1] += np.clip(v, 0, 1) * 150
    write_image(args.out, np.clip(img, 0, 255).astype(np.uint8))
    print(f"{args.out}: mean SSIM difference (render - frozen) {acc.mean():+.3f} over {n} frames; "
          f"render worse on {(acc < -0.05).mean():.1%} of the picture, better on {(acc > 0.05).mean():.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def command(name: str, run, help_: str, *paths: str):
        p = sub.add_parser(name, help=help_)
        for path in paths:
            p.add_argument(path, type=Path)
        p.set_defaults(run=run)
        return p

    p = command("parts", parts, "animate with each part tinted", "clip", "out")
    p.add_argument("--image", type=Path, help="the character image (default: the clip's first frame)")
    p.add_argument("--seconds", type=float, default=8.0)
    p = command("strip", strip, "real | render | first frame", "clip", "render", "out")
    p.add_argument("frame", type=int)
    p.add_argument("--box", type=int, nargs=4, metavar=("X0", "Y0", "X1", "Y1"))
    p.add_argument("--zoom", type=float, default=1.0)
    p = command("loss", loss, "where the render loses to the frozen first frame", "clip", "render", "out")
    p.add_argument("--frames", type=int, default=240)
    p.add_argument("--step", type=int, default=4)
    args = ap.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
