"""Camera directives read from a prompt: "fixed lens", "zoom in on her face", "pan left", "85mm".

:func:`parse_camera` returns what was understood (each with the words it came from) and the
camera words that were recognised as camera language but are not supported, so the user is told
what the renderer will and will not do. :func:`camera_path` turns directives into a per-frame
affine camera (output pixels), eased with a smoothstep over the clip. The words themselves live
in :mod:`steadymotion.vocab`, shared with the prompt linter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from steadymotion import vocab

#: Zoom factor reached by "zoom in" / "dolly in" at the end of the clip (and its inverse for "out").
ZOOM = 1.35
#: Share of the frame width (height) a pan (tilt) travels over the clip.
PAN = 0.15
#: Focal length (35 mm equivalent) of the framing the image already has.
BASE_MM = 35.0

_STATIC = vocab.compile_words(vocab.STATIC_CAMERA)
_ZOOM = vocab.compile_words(vocab.ZOOM)
_PAN = vocab.compile_words(vocab.PAN)
_LENS = vocab.compile_words(vocab.LENS)
_UNSUPPORTED = vocab.compile_words(vocab.UNSUPPORTED_CAMERA)


@dataclass
class Directive:
    kind: str  # static | zoom | pan | lens
    words: str  # the prompt text it came from
    value: float = 0.0  # zoom factor at the end; pan direction (dx, dy) packed in ``vector``; lens mm
    vector: tuple[float, float] = (0.0, 0.0)
    target: str = "body"

    @property
    def key(self) -> tuple:
        """What the directive does, whatever words asked for it (equal keys = the same request)."""
        return (self.kind, round(self.value, 6), self.vector, self.target)

    def describe(self) -> str:
        if self.kind == "static":
            return "static camera (no camera motion)"
        if self.kind == "zoom":
            return f"zoom to {self.value:.2f}x on the {self.target} over the clip"
        if self.kind == "pan":
            return f"camera moves {'horizontally' if self.vector[0] else 'vertically'} by {PAN:.0%} of the frame"
        return f"{self.value:.0f} mm framing ({self.value / BASE_MM:.2f}x the image's field of view)"


@dataclass
class CameraDirectives:
    """What a prompt asks of the camera."""

    understood: list[Directive] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def static(self) -> bool:
        return any(d.kind == "static" for d in self.understood)

    @property
    def moves(self) -> bool:
        return any(d.kind != "static" for d in self.understood)


def parse_camera(prompt: str | None) -> CameraDirectives:
    """Read camera directives from ``prompt`` (English, case-insensitive)."""
    out = CameraDirectives()
    if not prompt:
        return out
    text = prompt.lower()
    for m in _STATIC.finditer(text):
        out.understood.append(Directive("static", m.group(0)))
    for m in _ZOOM.finditer(text):
        factor = ZOOM if m.group(2) == "in" else 1 / ZOOM
        out.understood.append(Directive("zoom", m.group(0), value=factor, target=vocab.ZOOM_TARGETS.get(m.group(3) or "body", "body")))
    for m in _PAN.finditer(text):
        d = m.group(2)
        # the camera pans left: the picture moves right
        vec = {"left": (1.0, 0.0), "right": (-1.0, 0.0), "up": (0.0, 1.0), "down": (0.0, -1.0)}[d]
        out.understood.append(Directive("pan", m.group(0), vector=vec))
    for m in _LENS.finditer(text):
        mm = float(m.group(1))
        if 10 <= mm <= 400:
            out.understood.append(Directive("lens", m.group(0), value=mm, target="face" if mm >= 70 else "body"))
        else:
            out.ignored.append(m.group(0))
    out.ignored += [m.group(0) for m in _UNSUPPORTED.finditer(text)]
    if out.static and out.moves:
        out.ignored += [d.words for d in out.understood if d.kind in ("zoom", "pan")]
        out.understood = [d for d in out.understood if d.kind not in ("zoom", "pan")]
    # a directive said twice is one request ("zoom in ... zoom in" zooms once): listed and applied once
    seen: set[tuple] = set()
    out.understood = [d for d in out.understood if not (d.key in seen or seen.add(d.key))]
    out.ignored = list(dict.fromkeys(out.ignored))
    return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def camera_path(directives: CameraDirectives, n: int, size: tuple[int, int], targets: dict[str, np.ndarray]) -> np.ndarray:
    """Per-frame camera ``(n, 2, 3)``: output pixels of the un-moved shot -> output pixels.

    ``targets`` gives, per frame, the point a zoom centres on (``face``, ``eyes``, ``hands``,
    ``body``, ``feet``), as ``(n, 2)`` output pixels; zooms keep that point moving toward the frame
    centre as they tighten. A lens sets a constant framing (focal / 35 mm) around its target.
    """
    w, h = size
    cams = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (n, 1, 1))
    if not directives.moves:
        return cams
    s = _smoothstep(np.linspace(0.0, 1.0, n)) if n > 1 else np.ones(1)
    centre = np.array([w / 2.0, h / 2.0])
    for d in directives.understood:
        if d.kind in ("zoom", "lens"):
            if d.kind == "zoom":
                z = 1.0 + (d.value - 1.0) * s
                pull = 0.6 * s if d.value > 1 else np.zeros(n)
            else:
                z = np.full(n, max(0.5, d.value / BASE_MM))
                pull = np.full(n, 0.6 if z[0] > 1 else 0.0)
            tgt = targets.get(d.target, targets["body"])
            for i in range(n):
                p = tgt[i] if np.isfinite(tgt[i]).all() else centre
                # scale about the target, then slide the target toward the centre as we zoom
                anchor = p + (centre - p) * pull[i]
                M = np.array([[z[i], 0, anchor[0] - z[i] * p[0]], [0, z[i], anchor[1] - z[i] * p[1]]])
                cams[i] = _compose(M, cams[i])
        elif d.kind == "pan":
            dx, dy = d.vector
            for i in range(n):
                M = np.array([[1, 0, dx * PAN * w * s[i]], [0, 1, dy * PAN * h * s[i]]])
                cams[i] = _compose(M, cams[i])
    return cams


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.vstack([a, [0, 0, 1]]) @ np.vstack([b, [0, 0, 1]]))[:2]
