"""The rig preview: one picture of what a rig will move and what moving it will uncover.

:func:`rig_preview` draws two panels side by side with a title bar above and a legend below:

* **left, parts and joints**: the master image (faded outside the person) with every body part
  tinted in its own colour (:data:`PART_COLORS`) and outlined, the skeleton's bones as lines in
  their part's colour and the joints (:attr:`Rig.rest <steadymotion.render.puppet.rig.Rig>`) as
  white dots. What is tinted as one part moves as one piece; a sleeve tinted like the torso stays
  with the torso. Where an arm goes on under clothes lying over it (a ruffle over the upper arm),
  that piece is hatched in the arm's colour over the clothes: it moves with the arm, filled in.
* **right, what moving uncovers**: the background plate (the image with the person removed) as the
  renderer shows it behind a part that moved away, with the colours that were made up rather than
  seen hatched and outlined: the background filled in behind the person (blue, ``/``) and the body
  filled in behind the arms and head (yellow, ``\\``), shown as filled.

The legend pairs each part's colour with its name, lists the parts the image does not show (they
stay still with their parent) and explains the hatching. Rigs without ``labels``/``filled`` (built
before rig v3, or made by hand) are drawn from their parts' textures instead, and say so.

:func:`parts_panel` and :func:`reveal_panel` return the two panels alone, at the image's size;
:func:`write_rig_preview` writes the preview atomically.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from steadymotion.errors import OutputError
from steadymotion.render.puppet.cutout import FRONT_OF_TORSO
from steadymotion.render.puppet.renderer import rest_order
from steadymotion.render.puppet.rig import Rig
from steadymotion.skeleton import KP, PART, PARTS

#: Each part's colour (RGB): torso blue, head gold; the subject's left arm greens and right arm
#: oranges, left leg violets and right leg teals, each limb dark (upper) to light (hand, foot).
PART_COLORS: dict[str, tuple[int, int, int]] = {
    "torso": (52, 110, 235),
    "head": (255, 196, 0),
    "upper_arm_l": (30, 150, 60), "forearm_l": (110, 200, 40), "hand_l": (200, 240, 70),
    "upper_arm_r": (225, 70, 20), "forearm_r": (255, 140, 30), "hand_r": (255, 200, 110),
    "thigh_l": (115, 60, 200), "shin_l": (170, 110, 245), "foot_l": (220, 175, 255),
    "thigh_r": (0, 130, 150), "shin_r": (0, 195, 205), "foot_r": (120, 235, 235),
}
#: Hatching of the synthesised areas (RGB): the background plate behind the person, and a part's
#: pixels hidden behind a part in front of it.
PLATE_FILL_COLOR = (0, 150, 255)
HIDDEN_FILL_COLOR = (255, 222, 0)
#: The legend's swatch for an arm filled in under clothes (the panel hatches it in the arm's colour).
UNDER_FILL_COLOR = (230, 230, 230)
JOINT_COLOR = (255, 255, 255)
INK = (20, 20, 24)  # outlines of dots and bones
BAR = (34, 36, 42)  # title bar and legend background
TEXT = (236, 236, 236)
MUTED = (170, 172, 180)
WARN = (255, 200, 90)
FONT = cv2.FONT_HERSHEY_SIMPLEX

TINT = 0.5  # opacity of a part's colour over the image
#: The legend's columns.
LEGEND_CHAINS = (("torso", "head"), ("upper_arm_l", "forearm_l", "hand_l"), ("upper_arm_r", "forearm_r", "hand_r"),
                 ("thigh_l", "shin_l", "foot_l"), ("thigh_r", "shin_r", "foot_r"))


def _scale(w: int, h: int) -> dict:
    """Line widths and text size for a panel ``w`` x ``h`` (they grow with the image)."""
    u = max(0.6, max(w, h) / 700)
    # text follows the preview's size (two panels side by side), so it reads the same at any zoom
    return {"line": max(1, round(1.6 * u)), "bone": max(2, round(2.6 * u)), "dot": max(2, round(4.5 * u)),
            "hatch": max(6, round(11 * u)), "font": float(np.clip(max(2 * w, h) / 1900, 0.45, 2.5))}


def _text_size(text: str, font: float, thick: int) -> tuple[int, int]:
    (tw, th), _ = cv2.getTextSize(text, FONT, font, thick)
    return tw, th


# --- what each pixel is -------------------------------------------------------------------------
def _draw_order(rig: Rig) -> list[int]:
    """Back to front, as the renderer draws the master image: legs, torso, head, arms."""
    return list(rest_order(rig))


def _texture_alpha(rig: Rig, parts: list[int]) -> np.ndarray:
    """Per listed part, its texture's alpha placed in the image, ``(len(parts), H, W)`` float32."""
    h, w = rig.image.shape[:2]
    out = np.zeros((len(parts), h, w), np.float32)
    for k, i in enumerate(parts):
        p = rig.part(PARTS[i].name)
        if p is None:
            continue
        x0, y0 = p.box
        th, tw = p.texture.shape[:2]
        x1, y1 = min(w, x0 + tw), min(h, y0 + th)
        if x1 > x0 and y1 > y0:
            out[k, y0:y1, x0:x1] = p.texture[: y1 - y0, : x1 - x0, 3] / 255.0
    return out


def part_labels(rig: Rig) -> tuple[np.ndarray, bool]:
    """The part owning each pixel (``-1`` off the person) and whether it was recorded in the rig.

    A rig without ``labels`` gets them from its parts' textures: the front-most part whose texture
    is at least half opaque owns the pixel (textures overlap a little at the joints, so this is
    approximate).
    """
    if rig.labels is not None:
        return rig.labels.astype(np.int16), True
    order = _draw_order(rig)
    alpha = _texture_alpha(rig, order)
    labels = np.full(rig.image.shape[:2], -1, np.int16)
    for k, i in enumerate(order):
        labels[alpha[k] > 0.5] = i
    return labels, False


def under_areas(rig: Rig) -> dict[int, np.ndarray]:
    """Per arm, where it goes on under the clothes lying over it (its :attr:`Rig.under` pieces'
    opaque pixels less the arm's own, in the image), for the arms that have such a piece."""
    h, w = rig.image.shape[:2]
    labels, _ = part_labels(rig)
    out: dict[int, np.ndarray] = {}
    for p in getattr(rig, "under", ()):
        i = PART[p.name]
        x0, y0 = p.box
        th, tw = p.texture.shape[:2]
        x1, y1 = min(w, x0 + tw), min(h, y0 + th)
        m = np.zeros((h, w), bool)
        m[y0:y1, x0:x1] = p.texture[: y1 - y0, : x1 - x0, 3] > 127
        m &= labels != i
        if m.any():
            out[i] = out.get(i, np.zeros((h, w), bool)) | m
    return out


def filled_areas(rig: Rig) -> tuple[np.ndarray, bool]:
    """Where colours were synthesised (``1`` plate, ``2`` hidden part pixels) and whether recorded.

    A rig without ``filled`` gets an estimate: the plate's hole is the person's mask grown as
    :func:`~steadymotion.render.puppet.rig.build_rig` grows it; hidden pixels are where a part
    behind (torso, legs) is opaque under an arm (heads are left out: the neck that travels with
    the head lies on the torso's own pixels, which would all count).
    """
    if rig.filled is not None:
        return rig.filled.astype(np.uint8), True
    h, w = rig.image.shape[:2]
    grow = max(3, int(0.012 * max(h, w)))
    out = cv2.dilate((rig.alpha > 0.05).astype(np.uint8), np.ones((grow, grow), np.uint8))
    front = [PART[n] for n in FRONT_OF_TORSO]
    back = [i for i in range(len(PARTS)) if i not in front]
    arms = [i for i in front if i != PART["head"]]
    labels, _ = part_labels(rig)
    hidden = (_texture_alpha(rig, back).max(axis=0, initial=0) > 0.5) & np.isin(labels, arms)
    out[hidden] = 2
    return out, False


# --- drawing helpers ------------------------------------------------------------------------------
def _outline(img: np.ndarray, mask: np.ndarray, color, thick: int) -> None:
    """Draw the outline of ``mask``; specks a few pixels wide get none (they would only add noise)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    contours = [c for c in contours if cv2.contourArea(c) >= (3 * thick) ** 2]
    cv2.drawContours(img, contours, -1, tuple(int(c) for c in color), thick, cv2.LINE_AA)


def _hatch(shape: tuple[int, int], step: int, width: int, direction: int) -> np.ndarray:
    """Diagonal stripes: ``/`` for ``direction`` 1, ``\\`` for -1."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    return ((x + direction * y) % step) < width


def _point(p: np.ndarray) -> tuple[int, int] | None:
    if not np.isfinite(p).all() or np.abs(p).max() > 1e6:
        return None
    return round(float(p[0])), round(float(p[1]))


def skeleton_bones(rig: Rig) -> list[tuple[str, str, int]]:
    """The bones drawn: ``(joint, joint, part index)`` for every present part (the torso's four
    corners included: the renderer drives it by the shoulders and hips)."""
    bones: list[tuple[str, str, int]] = []
    t = PART["torso"]
    bones += [("pelvis", "neck", t), ("neck", "shoulder_l", t), ("neck", "shoulder_r", t),
              ("pelvis", "hip_l", t), ("pelvis", "hip_r", t)]
    for i, spec in enumerate(PARTS):
        if spec.name != "torso" and rig.present[i]:
            bones.append((spec.a, spec.b, i))
    return bones


def skeleton_joints(rig: Rig) -> list[str]:
    """The joints drawn (keypoint names, :data:`steadymotion.skeleton.KP`) and inside the image."""
    h, w = rig.image.shape[:2]
    names = sorted({n for a, b, _ in skeleton_bones(rig) for n in (a, b)}, key=KP.__getitem__)
    out = []
    for n in names:
        p = rig.rest[KP[n], :2]
        if np.isfinite(p).all() and 0 <= p[0] < w and 0 <= p[1] < h:
            out.append(n)
    return out


# --- the panels -----------------------------------------------------------------------------------
def parts_panel(rig: Rig) -> np.ndarray:
    """The left panel (image size): parts tinted and outlined, bones and joints on top."""
    img = rig.image.astype(np.float32)
    h, w = img.shape[:2]
    sc = _scale(w, h)
    labels, _ = part_labels(rig)
    person = labels >= 0
    grey = (img @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    # off the person: faded towards light grey, so the tinted figure stands out; on the person the
    # tint goes over the image's brightness only (a blue tint over a red jacket would read as violet)
    off = 0.45 * (0.5 * img + 0.5 * grey) + 0.55 * 200.0
    colors = np.array([PART_COLORS[p.name] for p in PARTS], np.float32)
    tint = colors[np.clip(labels, 0, None)]
    on = (1 - TINT) * (0.75 * grey + 50.0) + TINT * tint
    out = np.where(person[..., None], on, off)
    out = out.round().clip(0, 255).astype(np.uint8)
    for i in np.unique(labels[person]):
        dark = tuple(int(c * 0.55) for c in PART_COLORS[PARTS[i].name])
        _outline(out, labels == i, dark, sc["line"])
    # an arm's piece under the clothes lying over it: hatched in the arm's colour over the clothes
    for i, area in under_areas(rig).items():
        color = PART_COLORS[PARTS[i].name]
        stripes = _hatch((h, w), max(4, sc["hatch"] // 2), max(1, sc["line"]), 1) & area
        out[stripes] = (0.25 * out[stripes] + 0.75 * np.array(color, np.float32)).astype(np.uint8)
        _outline(out, area, tuple(int(c * 0.55) for c in color), max(1, sc["line"]))
    # bones (ink under colour), then joints on top
    for a, b, i in skeleton_bones(rig):
        pa, pb = _point(rig.rest[KP[a], :2]), _point(rig.rest[KP[b], :2])
        if pa is None or pb is None:
            continue
        cv2.line(out, pa, pb, INK, sc["bone"] + 2 * max(1, sc["line"] // 2 + 1), cv2.LINE_AA)
        cv2.line(out, pa, pb, PART_COLORS[PARTS[i].name], sc["bone"], cv2.LINE_AA)
    for n in skeleton_joints(rig):
        p = _point(rig.rest[KP[n], :2])
        cv2.circle(out, p, sc["dot"] + max(1, sc["line"]), INK, -1, cv2.LINE_AA)
        cv2.circle(out, p, sc["dot"], JOINT_COLOR, -1, cv2.LINE_AA)
    return out


def reveal_panel(rig: Rig) -> np.ndarray:
    """The right panel (image size): the background plate, with the body filled in behind the arms
    and head pasted where it was made up; both synthesised areas hatched and outlined."""
    h, w = rig.image.shape[:2]
    sc = _scale(w, h)
    filled, _ = filled_areas(rig)
    out = rig.background.astype(np.float32)
    hidden = filled == 2
    if hidden.any():
        # what shows there when the arm moves away: the parts behind it, back to front
        front = {PART[n] for n in FRONT_OF_TORSO}
        for i in _draw_order(rig):
            p = rig.part(PARTS[i].name)
            if i in front or p is None:
                continue
            x0, y0 = p.box
            th, tw = p.texture.shape[:2]
            x1, y1 = min(w, x0 + tw), min(h, y0 + th)
            tex = p.texture[: y1 - y0, : x1 - x0].astype(np.float32)
            a = tex[..., 3:] / 255.0 * hidden[y0:y1, x0:x1, None]
            region = out[y0:y1, x0:x1]
            out[y0:y1, x0:x1] = region * (1 - a) + tex[..., :3] * (a > 0)
    out = out.round().clip(0, 255).astype(np.uint8)
    # the hidden body's stripes are sparser: what was made up there should stay visible
    for value, color, direction, step in ((1, PLATE_FILL_COLOR, 1, sc["hatch"]), (2, HIDDEN_FILL_COLOR, -1, round(1.6 * sc["hatch"]))):
        area = filled == value
        if not area.any():
            continue
        # two-tone stripes (colour beside ink) read on light and dark plates alike
        lw = max(1, sc["line"])
        ink = _hatch((h, w), step, 2 * lw, direction) & ~_hatch((h, w), step, lw, direction) & area
        stripes = _hatch((h, w), step, lw, direction) & area
        out[ink] = (0.5 * out[ink] + 0.5 * np.array(INK, np.float32)).astype(np.uint8)
        out[stripes] = (0.2 * out[stripes] + 0.8 * np.array(color, np.float32)).astype(np.uint8)
        _outline(out, area, INK, sc["line"] + 3)
        _outline(out, area, color, sc["line"] + 1)
    return out


# --- title bar and legend -------------------------------------------------------------------------
def _wrap(text: str, width: int, font: float, thick: int) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        cand = f"{line} {word}".strip()
        if line and _text_size(cand, font, thick)[0] > width:
            lines.append(line)
            line = word
        else:
            line = cand
    return lines + ([line] if line else [])


def _legend(rig: Rig, width: int, sc: dict, approximate: bool, hidden_any: bool, under_any: bool = False) -> np.ndarray:
    """The legend strip: part swatches in a grid, the hatching, the parts not shown."""
    font = sc["font"]
    thick = max(1, round(font * 1.8))
    th = _text_size("Hg", font, thick)[1]
    row, pad, sw = int(th * 2.1), int(th * 1.2), int(th * 1.6)  # line pitch, margin, swatch side
    text_w = width - 2 * pad
    shown = [i for i in range(len(PARTS)) if rig.present[i]]
    missing = [PARTS[i].label for i in range(len(PARTS)) if not rig.present[i]]
    cell = max(_text_size(PARTS[i].label, font, thick)[0] for i in range(len(PARTS))) + sw + 3 * pad // 2
    # one column per chain (torso and head, each arm, each leg) when they fit, else rows in turn
    chains = [[PART[n] for n in names if rig.present[PART[n]]] for names in LEGEND_CHAINS]
    chains = [c for c in chains if c]
    if len(chains) * cell <= width - pad:
        cells = [(i, r, c) for c, chain in enumerate(chains) for r, i in enumerate(chain)]
    else:
        ncols = max(1, (width - pad) // cell)
        cells = [(i, *divmod(k, ncols)) for k, i in enumerate(shown)]
    nrows = max((r for _, r, _ in cells), default=-1) + 1
    # then one entry per line: (hatch colour and direction or None, text, text colour)
    entries: list[tuple[tuple | None, str, tuple]] = []
    hatches = [(PLATE_FILL_COLOR, 1, "background filled in behind the person (right panel)")]
    if hidden_any:
        hatches.append((HIDDEN_FILL_COLOR, -1, "body filled in behind the arms and head (right panel)"))
    if under_any:
        hatches.append((UNDER_FILL_COLOR, 1, "arm filled in under the clothes lying over it, in its colour (left panel)"))
    for color, direction, text in hatches:
        for k, ln in enumerate(_wrap(text, text_w - sw - pad // 2, font, thick)):
            entries.append(((color, direction) if k == 0 else None, ln, TEXT))
    if missing:
        for ln in _wrap("not in the image (kept still with their parent part): " + ", ".join(missing), text_w, font, thick):
            entries.append((None, ln, MUTED))
    if approximate:
        for ln in _wrap("this rig does not record its part labels or filled areas (an older rig): both are "
                        "estimated from the part textures", text_w, font, thick):
            entries.append((None, ln, WARN))
    strip = np.empty((pad + (nrows + len(entries)) * row + pad // 2, width, 3), np.uint8)
    strip[:] = BAR
    for i, r, c in cells:
        x0, y0 = pad + c * cell, pad + r * row
        color = PART_COLORS[PARTS[i].name]
        cv2.rectangle(strip, (x0, y0), (x0 + sw, y0 + sw), color, -1)
        cv2.rectangle(strip, (x0, y0), (x0 + sw, y0 + sw), tuple(int(v * 0.55) for v in color), max(1, sc["line"]))
        cv2.putText(strip, PARTS[i].label, (x0 + sw + pad // 2, y0 + (sw + th) // 2), FONT, font, TEXT, thick, cv2.LINE_AA)
    y = pad + nrows * row
    indent = sw + pad // 2 if hatches else 0
    for hatch, text, color in entries:
        x = pad
        if hatch is not None:
            sq = np.empty((sw, sw, 3), np.uint8)
            sq[:] = (90, 92, 100)
            sq[_hatch((sw, sw), max(5, sw // 3), max(1, sw // 9), hatch[1])] = hatch[0]
            strip[y : y + sw, pad : pad + sw] = sq
            cv2.rectangle(strip, (pad, y), (pad + sw - 1, y + sw - 1), hatch[0], max(1, sc["line"]))
        if color == TEXT:  # a hatch's text (and its continuation lines) sits beside the swatch
            x += indent
        cv2.putText(strip, text, (x, y + (sw + th) // 2), FONT, font, color, thick, cv2.LINE_AA)
        y += row
    return strip


def _title(width: int, titles: list[tuple[int, int, str, str]], sc: dict) -> np.ndarray:
    """The title bar: each ``(x, room, text, short text)`` at ``x``; the short text where the text
    does not fit in ``room``, made smaller if even that does not fit."""
    font = sc["font"] * 1.1
    thick = max(1, round(font * 2.0))
    th = _text_size("Hg", font, thick)[1]
    height = int(th * 2.4)
    bar = np.empty((height, width, 3), np.uint8)
    bar[:] = BAR
    for x, room, text, short in titles:
        f = font
        if _text_size(text, f, thick)[0] > room - 2 * int(th * 0.8):
            text = short
        while f > 0.3 and _text_size(text, f, thick)[0] > room - 2 * int(th * 0.8):
            f *= 0.92
        cv2.putText(bar, text, (x + int(th * 0.8), (height + th) // 2), FONT, f, TEXT, max(1, min(thick, round(f * 2.0))), cv2.LINE_AA)
    return bar


def preview_layout(rig: Rig) -> dict:
    """Where the panels sit in :func:`rig_preview`'s image: ``{"left": (x, y), "right": (x, y), "size": (w, h), "gap": px}``."""
    h, w = rig.image.shape[:2]
    gap = max(6, w // 80)
    title_h = _title(1, [], _scale(w, h)).shape[0]
    return {"left": (0, title_h), "right": (w + gap, title_h), "size": (w, h), "gap": gap}


def rig_preview(rig: Rig) -> np.ndarray:
    """The rig preview (see the module docstring): RGB uint8, ``2 W + gap`` wide.

    Left: the master image with each part tinted in its colour and outlined, bones and joints
    drawn at the rest pose. Right: the background plate the renderer reveals, with the synthesised
    areas hatched (blue: background behind the person; yellow: body behind the arms and head).
    Above: panel titles; below: the legend (part colours, parts not in the image, the hatching).
    """
    h, w = rig.image.shape[:2]
    sc = _scale(w, h)
    lay = preview_layout(rig)
    gap = lay["gap"]
    width = 2 * w + gap
    left, right = parts_panel(rig), reveal_panel(rig)
    _, labels_known = part_labels(rig)
    filled, filled_known = filled_areas(rig)
    title = _title(width, [(0, w, "parts and joints (what moves together)", "parts and joints"),
                           (w + gap, w, "what moving uncovers (hatched: filled in)", "what moving uncovers")], sc)
    legend = _legend(rig, width, sc, approximate=not (labels_known and filled_known), hidden_any=bool((filled == 2).any()),
                     under_any=bool(under_areas(rig)))
    body = np.empty((h, width, 3), np.uint8)
    body[:] = BAR
    body[:, :w] = left
    body[:, w + gap :] = right
    return np.ascontiguousarray(np.vstack([title, body, legend]))


def write_rig_preview(rig: Rig, path: str | Path) -> Path:
    """Write :func:`rig_preview` to ``path`` (PNG, JPEG or WebP by its extension), atomically."""
    from steadymotion.io.image import write_image

    path = Path(path)
    check_preview_path(path)
    return write_image(path, rig_preview(rig))


PREVIEW_TYPES = (".png", ".jpg", ".jpeg", ".webp")


def check_preview_path(path: str | Path) -> Path:
    """Fail before any work when the preview cannot be written there (see :func:`~steadymotion.io.atomic.check_writable`)."""
    from steadymotion.io.atomic import check_writable

    p = Path(path)
    if p.suffix.lower() not in PREVIEW_TYPES and not p.is_dir():
        raise OutputError(f"the rig preview is an image: give a path ending in {', '.join(PREVIEW_TYPES)}, got {str(p)!r}")
    return check_writable(p)
