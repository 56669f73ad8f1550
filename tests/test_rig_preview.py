"""The rig preview: parts in their colours where the rig's labels say, joints at the rest pose, the
synthesised areas marked, a legend; written by `character add/show --preview` (exit 0), refused
before any work on a bad path (exit 2, no file)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.io.image import read_image, write_image
from steadymotion.render.puppet.preview import (
    HIDDEN_FILL_COLOR,
    INK,
    JOINT_COLOR,
    PART_COLORS,
    PLATE_FILL_COLOR,
    _scale,
    filled_areas,
    part_labels,
    parts_panel,
    preview_layout,
    reveal_panel,
    rig_preview,
    skeleton_bones,
    skeleton_joints,
)
from steadymotion.skeleton import KP, KP_NAMES, PARTS
from tests.conftest import cached_rig, media_path

runner = CliRunner()


@pytest.fixture(scope="module")
def rig11():
    """A full-body rig: every part present."""
    img = read_image(media_path("mooreanimateanyone__anyone-11.png"))
    return cached_rig(img.rgb, img.alpha)


@pytest.fixture(scope="module")
def astronaut():
    """The built-in portrait: torso, head and one upper arm; the rest is not in the image."""
    from steadymotion.samples import sample_image

    return cached_rig(sample_image())


def _skeleton_mask(rig, margin: int) -> np.ndarray:
    """Pixels within ``margin`` of a drawn bone or joint."""
    h, w = rig.image.shape[:2]
    sc = _scale(w, h)
    m = np.zeros((h, w), np.uint8)
    for a, b, _ in skeleton_bones(rig):
        pa, pb = (np.round(rig.rest[KP[n], :2]).astype(int) for n in (a, b))
        cv2.line(m, tuple(int(v) for v in pa), tuple(int(v) for v in pb), 1, sc["bone"] + 2 * margin)
    for n in skeleton_joints(rig):
        p = np.round(rig.rest[KP[n], :2]).astype(int)
        cv2.circle(m, (int(p[0]), int(p[1])), sc["dot"] + margin, 1, -1)
    return m.astype(bool)


def _nearest_part(pixels: np.ndarray) -> np.ndarray:
    """The part whose colour each tinted pixel carries: the tint is mixed over the image's brightness
    (grey), so a pixel's colour minus its own mean is the part colour's, minus its mean, scaled."""
    chroma = pixels.astype(np.float32) - pixels.mean(axis=1, keepdims=True)
    ref = np.array([PART_COLORS[p.name] for p in PARTS], np.float32)
    ref -= ref.mean(axis=1, keepdims=True)
    # best scale per pixel and part, then the residual
    dot = chroma @ ref.T
    scale = np.clip(dot / (ref * ref).sum(axis=1), 0, None)
    resid = ((chroma[:, None, :] - scale[..., None] * ref[None]) ** 2).sum(axis=2)
    return resid.argmin(axis=1)


def _check_part_colours(rig, panel: np.ndarray, labels: np.ndarray) -> None:
    h, w = labels.shape
    sc = _scale(w, h)
    away = ~_skeleton_mask(rig, margin=3 * sc["line"] + 2)
    k = np.ones((4 * sc["line"] + 3,) * 2, np.uint8)
    for i, spec in enumerate(PARTS):
        own = labels == i
        if not rig.present[i]:
            assert not own.any(), f"{spec.name} is not in the image but has pixels"
            continue
        inner = cv2.erode(own.astype(np.uint8), k).astype(bool) & away
        if inner.sum() < 50:
            continue
        got = _nearest_part(panel[inner])
        share = float((got == i).mean())
        assert share > 0.97, f"{spec.name}: only {share:.1%} of its pixels carry its colour"


def test_parts_panel_tints_each_part_where_the_labels_say(rig11):
    panel = parts_panel(rig11)
    assert panel.shape == rig11.image.shape and panel.dtype == np.uint8
    assert rig11.present.all()
    _check_part_colours(rig11, panel, rig11.labels)
    # off the person the image is faded, not tinted: it stays close to the image's own brightness
    band = cv2.dilate((rig11.labels >= 0).astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)  # outlines
    off = ~band & ~_skeleton_mask(rig11, 8)
    grey_in = rig11.image[off].mean(axis=1)
    grey_out = panel[off].astype(np.float32).mean(axis=1)
    assert np.corrcoef(grey_in, grey_out)[0, 1] > 0.95


def test_joints_are_drawn_at_the_rest_pose(rig11, astronaut):
    for rig in (rig11, astronaut):
        panel = parts_panel(rig)
        h, w = panel.shape[:2]
        sc = _scale(w, h)
        joints = skeleton_joints(rig)
        for n in joints:
            x, y = np.round(rig.rest[KP[n], :2]).astype(int)
            patch = panel[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3)
            assert (patch >= np.array(JOINT_COLOR) - 10).all(), f"joint {n} is not a white dot at ({x}, {y})"
            # ringed in ink: somewhere just outside the dot is dark
            ring = [panel[int(np.clip(y + dy, 0, h - 1)), int(np.clip(x + dx, 0, w - 1))]
                    for dx, dy in ((sc["dot"] + 1, 0), (-sc["dot"] - 1, 0), (0, sc["dot"] + 1), (0, -sc["dot"] - 1))]
            assert min(int(p.max()) for p in ring) <= max(INK) + 60, f"joint {n} has no ink ring"
    # the full body shows all its joints; the portrait only those of the parts it has
    assert set(skeleton_joints(rig11)) == set(KP_NAMES)
    shown = set(skeleton_joints(astronaut))
    assert {"head", "neck", "shoulder_l", "shoulder_r", "elbow_r"} <= shown
    assert not shown & {"elbow_l", "wrist_l", "wrist_r", "knee_l", "knee_r", "ankle_l", "ankle_r"}
    panel = parts_panel(astronaut)
    x, y = np.round(astronaut.rest[KP["elbow_l"], :2]).astype(int)
    if 0 <= x < panel.shape[1] and 0 <= y < panel.shape[0]:  # the missing arm's elbow gets no dot
        assert not (panel[y, x] >= 245).all()


def _stripes(panel: np.ndarray, color) -> np.ndarray:
    """Pixels of a hatch stripe of ``color`` (mixed 80 % colour over the plate)."""
    return (np.abs(panel.astype(np.int16) - np.array(color, np.int16)) <= 53).all(axis=2)


def test_reveal_panel_marks_what_was_filled_in(rig11, astronaut):
    for rig in (rig11, astronaut):
        panel = reveal_panel(rig)
        filled = rig.filled
        h, w = filled.shape
        sc = _scale(w, h)
        near = cv2.dilate((filled > 0).astype(np.uint8), np.ones((4 * sc["line"] + 9,) * 2, np.uint8)).astype(bool)
        # untouched plate: exactly the background
        assert np.array_equal(panel[~near], rig.background[~near])
        k = np.ones((4 * sc["line"] + 9,) * 2, np.uint8)
        for value, color in ((1, PLATE_FILL_COLOR), (2, HIDDEN_FILL_COLOR)):
            inner = cv2.erode((filled == value).astype(np.uint8), k).astype(bool)
            assert inner.sum() > 500, f"{value}: too small an area to check"
            share = float(_stripes(panel, color)[inner].mean())
            assert 0.05 < share < 0.45, f"area {value}: {share:.1%} of it is hatched"
            # and the hatching is only there: the plate's own pixels elsewhere are not that colour
            outside = ~near
            assert float(_stripes(panel, color)[outside].mean()) < 0.01
        # the hidden body shows what was synthesised for it, not the plate behind the person
        inner2 = cv2.erode((filled == 2).astype(np.uint8), k).astype(bool)
        inner2 &= ~_stripes(panel, HIDDEN_FILL_COLOR) & ~(panel.max(axis=2) < 40)
        diff = np.abs(panel[inner2].astype(np.int16) - rig.background[inner2].astype(np.int16)).mean()
        assert diff > 10, diff


def test_preview_composes_both_panels_and_a_legend(rig11, astronaut):
    for rig in (rig11, astronaut):
        img = rig_preview(rig)
        lay = preview_layout(rig)
        w, h = lay["size"]
        (lx, ly), (rx, ry) = lay["left"], lay["right"]
        assert img.dtype == np.uint8 and img.shape[1] == 2 * w + lay["gap"] and img.shape[0] > h
        assert np.array_equal(img[ly : ly + h, lx : lx + w], parts_panel(rig))
        assert np.array_equal(img[ry : ry + h, rx : rx + w], reveal_panel(rig))
        legend = img[ly + h :]
        assert legend.shape[0] > 40
        for i, spec in enumerate(PARTS):
            swatch = (legend == np.array(PART_COLORS[spec.name], np.uint8)).all(axis=2).sum()
            if rig.present[i]:
                assert swatch >= 100, f"no legend swatch for {spec.name}"
            else:
                assert swatch < 20, f"a legend swatch for {spec.name}, which is not in the image"
        # text in the title bar and the legend (light pixels on the dark bar)
        assert (img[:ly] > 200).all(axis=2).sum() > 200
    # the portrait's legend is taller than its swatches need: it lists the parts not in the image
    tall = rig_preview(astronaut).shape[0] - preview_layout(astronaut)["size"][1]
    assert tall > rig_preview(rig11).shape[0] - preview_layout(rig11)["size"][1] - 60


def test_a_rig_without_labels_or_filled_is_drawn_from_its_textures(rig11):
    old = copy.copy(rig11)
    old.labels, old.filled = None, None
    labels, known = part_labels(old)
    assert not known and labels.shape == rig11.labels.shape
    person = (rig11.labels >= 0) & (labels >= 0)
    assert (labels[person] == rig11.labels[person]).mean() > 0.8
    iou = ((labels >= 0) & (rig11.labels >= 0)).sum() / ((labels >= 0) | (rig11.labels >= 0)).sum()
    assert iou > 0.85
    filled, known = filled_areas(old)
    assert not known
    a, b = filled > 0, rig11.filled > 0
    assert (a & b).sum() / (a | b).sum() > 0.9
    hid, true_hid = filled == 2, rig11.filled == 2
    assert (hid & true_hid).sum() > 0.5 * true_hid.sum()
    img = rig_preview(old)
    assert img.shape[1] == rig_preview(rig11).shape[1]
    assert img.shape[0] > rig_preview(rig11).shape[0]  # it says the areas are estimated
    _check_part_colours(old, parts_panel(old), labels)


# --- the CLI --------------------------------------------------------------------------------------
def _cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _lines(result) -> list[str]:
    return [ln for ln in result.output.splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory) -> Path:
    from steadymotion.samples import sample_image

    return write_image(tmp_path_factory.mktemp("img") / "astronaut.png", sample_image())


def test_cli_character_add_and_show_write_the_preview(tmp_path, astronaut_png):
    from steadymotion.characters import CharacterStore

    store, out = tmp_path / "store", tmp_path / "out"
    out.mkdir()
    r = _cli("character", "add", "astro", astronaut_png, "--store", store, "--preview", out / "rig.png")
    assert r.exit_code == 0, r.output
    png = read_image(out / "rig.png")
    assert png.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rig = CharacterStore(store).get("astro").load_rig()
    assert np.array_equal(png.rgb, rig_preview(rig))
    assert sorted(p.name for p in out.iterdir()) == ["rig.png"]  # nothing half-written left beside it
    # show writes the same picture; with --json stdout stays one JSON document
    r = _cli("character", "show", "astro", "--store", store, "--preview", out / "again.webp")
    assert r.exit_code == 0, r.output
    assert read_image(out / "again.webp").size == png.size
    r = runner.invoke(app, ["character", "show", "astro", "--store", str(store), "--json", "--preview", str(out / "j.png")],
                      catch_exceptions=False)
    assert r.exit_code == 0 and json.loads(r.stdout)["name"] == "astro"
    assert np.array_equal(read_image(out / "j.png").rgb, png.rgb)


def test_cli_refuses_a_bad_preview_path_before_any_work(tmp_path, astronaut_png):
    from steadymotion.characters import CharacterStore

    store = tmp_path / "store"
    for bad, words in ((tmp_path / "missing" / "rig.png", "does not exist"), (tmp_path / "rig.txt", ".png"),
                       (tmp_path, "is a folder")):
        r = _cli("character", "add", "astro", astronaut_png, "--store", store, "--preview", bad)
        assert r.exit_code == 2, r.output
        lines = _lines(r)
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], lines
        assert not (tmp_path / "missing").exists() and not (tmp_path / "rig.txt").exists()
    assert CharacterStore(store).list() == []  # refused before rigging: nothing was stored
    r = _cli("character", "add", "astro", astronaut_png, "--store", store)
    assert r.exit_code == 0
    r = _cli("character", "show", "astro", "--store", store, "--preview", tmp_path / "missing" / "rig.png")
    assert r.exit_code == 2 and len(_lines(r)) == 1 and not (tmp_path / "missing").exists()
    r = _cli("character", "show", "nobody", "--store", store, "--preview", tmp_path / "rig.png")
    assert r.exit_code == 2 and "no character named" in r.output and not (tmp_path / "rig.png").exists()


def test_cli_show_rebuilds_an_older_stored_rig(tmp_path, astronaut_png):
    from steadymotion.characters import CharacterStore
    from steadymotion.render.puppet.rig import RIG_VERSION

    store = tmp_path / "store"
    assert _cli("character", "add", "astro", astronaut_png, "--store", store).exit_code == 0
    st = CharacterStore(store)
    ch = st.get("astro")

    class OlderRig:  # the stored rig as an earlier version wrote it: no labels, older version number
        def save(self, path):
            with np.load(st.object_path(ch.rig)) as z:
                arrays = {k: z[k] for k in z.files if k not in ("labels", "filled")}
            meta = json.loads(bytes(arrays["meta"]).decode())
            meta["version"] = RIG_VERSION - 1
            arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
            with open(path, "wb") as fh:
                np.savez_compressed(fh, **arrays)

    st.update_rig("astro", OlderRig())
    with pytest.raises(Exception, match="version"):
        st.get("astro").load_rig()
    r = _cli("character", "show", "astro", "--store", store, "--preview", tmp_path / "rig.png")
    assert r.exit_code == 0, r.output
    assert "rebuilt" in r.output and read_image(tmp_path / "rig.png").size[0] > 2 * 512
    assert st.get("astro").load_rig().labels is not None  # stored again, current version


def test_the_parts_panel_hatches_an_arm_filled_in_under_the_clothes():
    from steadymotion.render.puppet.preview import under_areas
    from steadymotion.skeleton import PART

    # given the woman whose ruffle hangs over her left upper arm: the arm goes on under it, filled in
    img = read_image(media_path("mooreanimateanyone__anyone-3.png"))
    rig = cached_rig(img.rgb, img.alpha)
    areas = under_areas(rig)
    arm = PART["upper_arm_l"]
    assert arm in areas and areas[arm].sum() > 200
    # then the parts panel hatches that piece in the arm's colour over the ruffle's (the torso's)
    # tint, so a user sees the arm will move whole, and the legend says what the hatching is
    panel = parts_panel(rig)
    green = (np.abs(panel.astype(np.int16) - np.array(PART_COLORS["upper_arm_l"], np.int16)) <= 60).all(axis=2)
    share = float(green[areas[arm]].mean())
    print(f"\nshare of the piece under the ruffle hatched in the arm's colour: {share:.2f}")
    assert share > 0.08
    # (nowhere else: the torso's own pixels away from the arms carry no such stripes)
    labels, _ = part_labels(rig)
    far = (labels == PART["torso"]) & ~cv2.dilate(np.isin(labels, [arm, PART["forearm_l"]]).astype(np.uint8),
                                                   np.ones((61, 61), np.uint8)).astype(bool)
    assert green[far].mean() < 0.01
    # (one legend line more than the same rig without the piece)
    plain = copy.copy(rig)
    plain.under = []
    assert rig_preview(rig).shape[0] > rig_preview(plain).shape[0]
