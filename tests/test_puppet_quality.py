"""The puppet's second generation on real media: a still figure renders its image, no figure colour
in the background plate, no remnants where arms were, skirts in one piece, arms cut by the frame,
a hand raised from below the frame moving with what it holds, zero-lag self-reenactment beating the
frozen first frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import cached_rig, first_frame, media_path

_RIGS: dict = {}


def _rig(name: str):
    if name not in _RIGS:
        img = first_frame(name)
        _RIGS[name] = (img, cached_rig(img))
    return _RIGS[name]


def _render(rig, keypoints: np.ndarray, background=None, coverage: bool = False):
    """``rig`` drawn at ``keypoints`` in its own frame; with ``coverage``, ``(frame, coverage)``."""
    from steadymotion.render.puppet import Pose2D, PuppetRenderer, rest_order

    ident = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    r = PuppetRenderer(rig, rig.size, ident, background=background)
    out = r.render(Pose2D(np.asarray(keypoints, np.float32), 1.0, rest_order(rig), ident), coverage=coverage)
    return (out, r.last_coverage) if coverage else out


def _self_plan(name: str, seconds: float = 4.0):
    """A self-reenactment's plan: ``name``'s first frame driven by its own first ``seconds`` (body
    landmarks); ``(rig, seq, plan)``."""
    from steadymotion.motion.plan import plan_motion
    from tests.conftest import cached_pose

    _, rig = _rig(name)
    seq = cached_pose(name, until_s=seconds, parts="body")
    return rig, seq, plan_motion(rig.rest_pose, seq, size=seq.size, pin_feet=False)


def _texture(rig, name: str):
    """A part of ``rig``: the part, its alpha (0-1) and its colours (un-premultiplied, uint8)."""
    part = next(p for p in rig.parts if p.name == name)
    a = part.texture[..., 3].astype(np.float32) / 255
    return part, a, (part.texture[..., :3] / np.maximum(a[..., None], 1e-3)).clip(0, 255).astype(np.uint8)


def _filled_and_own(rig, name: str, a: np.ndarray):
    """Over the box of part ``name``'s texture (alpha ``a``): what the rig filled in (where the
    part is drawn), and the part's own solid pixels it did not fill."""
    from steadymotion.skeleton import PART

    part = rig.part(name)
    x0, y0 = part.box
    th, tw = a.shape
    filled = (rig.filled[y0:y0 + th, x0:x0 + tw] == 2) & (a > 0.5)
    own = (rig.labels[y0:y0 + th, x0:x0 + tw] == PART[name]) & (a > 0.95) & ~filled
    return filled, own


@pytest.mark.parametrize("name", ["unianimate__source_video.mp4", "mooreanimateanyone__anyone-3.png", "infinitetalk__videos_2.mp4",
                                  "musepose__dance.mp4"])
def test_a_still_figure_renders_its_image(name):
    # given a rig of a real image, drawn in its own rest pose
    img, rig = _rig(name)
    out, cov = _render(rig, rig.rest[:, :2], coverage=True)
    # then the frame is the image: no specks of plate through the figure, no halo around it, no
    # seam of fill round its outline (measured 0.05-0.39 levels off on average, 0.06-0.53 % of the
    # pixels off by > 20; 0.10-0.52 and 0.12-0.82 % while the plate's margin past the matte was
    # all fill: a white seam between musepose's shins where a bush shows; 0.22-0.49 and 0.3-1.0 %
    # before the outline was unmixed from the plate; the first generation's blocky matte gave
    # 0.42-1.29 and 0.7-2.6 %)
    diff = np.abs(out.astype(int) - img.astype(int))
    assert diff.mean() < 0.45
    assert (diff.max(axis=2) > 20).mean() < 0.006
    # and each part covers what its texture does, its soft outline whole: the meshes (their
    # outlines simplified) do not cut it in the half-resolution cells' steps (pixels off by > 0.1
    # in coverage: 0, 0, 1 and 0; 0, 0, 29 and 39 while the simplified outline cut inside the hull;
    # 96, 22, 431 and 521 when the maps reached one cell past the mesh)
    clear = np.ones(cov.shape, np.float32)
    for p in list(rig.parts) + list(rig.under or ()):
        x0, y0 = p.box
        a = p.texture[..., 3].astype(np.float32) / 255
        sub = clear[y0:y0 + a.shape[0], x0:x0 + a.shape[1]]  # (parts cut by the bottom edge go on below it)
        sub *= 1 - a[: sub.shape[0], : sub.shape[1]]
    off = np.abs(cov - (1 - clear)) > 0.1
    assert off.sum() < 1e-4 * off.size, off.sum()


def test_the_outline_carries_no_rim_of_the_old_background():
    # given musepose's dancer against a cyan sky, drawn at rest over a dark grey ground instead
    img, rig = _rig("musepose__dance.mp4")
    h, w = img.shape[:2]
    out = _render(rig, rig.rest[:, :2], background=np.full((h, w, 3), 60, np.uint8))
    top = slice(0, h // 2)  # head, arms and shirt (the shoes stand in green grass)
    drawn = np.abs(out[top].astype(int) - 60).max(axis=2) > 8
    outline = drawn & ~cv2.erode(drawn.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    green_blue = cv2.cvtColor(out[top], cv2.COLOR_RGB2LAB)[..., 1].astype(int) - 128 < -6
    share = float((outline & green_blue).sum() / outline.sum())
    print(f"\nshare of the outline in the sky's hue: {share:.3f}")
    # then her outline is her own colours: the silhouette's soft band unmixed from the plate. Drawn
    # as the image shows it, 46 % of the outline was a cyan rim of sky round the hair and arms; 11 %
    assert outline.sum() > 5000
    assert share < 0.25, share


def test_pale_arms_against_a_pale_sky_take_none_of_it_along():
    from steadymotion.skeleton import PART

    # given a dancer with pale bare arms against a pale cyan sky with white clouds: the person matte
    # spills onto the sky along her arms
    img, rig = _rig("musepose__dance.mp4")
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    plate = cv2.cvtColor(rig.background, cv2.COLOR_RGB2LAB).astype(np.float32)
    arms = np.isin(rig.labels, [PART[f"{n}_{s}"] for n in ("upper_arm", "forearm", "hand") for s in "lr"]) & (rig.alpha >= 0.5)
    # then the arms' solid pixels are hers, not the sky's: few are within 10 Delta E of the plate
    # there (4820 were, a white and cyan fringe that travelled with each arm; 932 now, along the
    # soft edge) while the arms keep their pixels
    sky = int((arms & (np.linalg.norm(lab - plate, axis=2) < 10)).sum())
    print(f"\nsolid arm pixels of the sky's colour: {sky} of {int(arms.sum())}")
    assert sky < 2000 and arms.sum() > 80000


def test_the_lit_inside_of_a_bare_thigh_stays_solid_against_a_pale_wall():
    from steadymotion.morphology import close_disc
    from steadymotion.skeleton import PART

    # given bare legs against a pale grey wall, the inside of the right thigh lit almost as pale
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    legs = np.isin(rig.labels, [PART[f"{n}_{s}"] for n in ("thigh", "shin") for s in "lr"])
    near = cv2.dilate(legs.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    fig = rig.alpha >= 0.5
    # then the legs have no see-through specks inside their outline: the lit skin is the thigh's own
    # colour, not wall the matte spilled onto (232 px were cut out of it in dots along its inside,
    # showing the plate through the leg in every frame; 36 now, at the shorts' hems and a strap)
    holes = int((close_disc(fig, 7) & ~fig & near).sum())
    print(f"\nsee-through pixels inside the legs: {holes}")
    assert holes < 100, holes
    thigh = (slice(505, 575), slice(340, 360))  # the lit inside of her right thigh
    assert (rig.alpha[thigh] > 0.9).mean() > 0.97  # (0.75 before)


def test_the_waist_across_the_gap_from_an_elbow_is_not_the_arm():
    from steadymotion.skeleton import PART

    # given the woman whose right elbow hangs beside her waist, a sliver of wall between them, and the
    # ruffle's dark hem bridging the gap above it
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    arms = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"]
    waist = (slice(336, 356), slice(298, 312))  # the hem's shade and her waist's edge, right of the gap
    # then they are the trunk's, not the forearm's: the forearm carried them (joined by the hem's
    # 5-px shadow) as a dark fleck and a brown wedge beside the moving arm (0.79 of the box was the
    # arm's; what is left is the arm's own edge at the box's side)
    share = float(np.isin(rig.labels[waist], arms).mean())
    print(f"\nshare of the waist beside the elbow that is the arm's: {share:.2f}")
    assert share < 0.3, share
    assert (rig.labels[waist] == PART["torso"]).mean() > 0.6


def test_the_wall_beside_an_elbow_does_not_ride_on_the_arm():
    from steadymotion.skeleton import KP, PART

    # given the woman whose right elbow hangs beside her waist with a sliver of lit wall between
    # them, brighter than the plate's fill under the figure there
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    lab = cv2.cvtColor(rig.image, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    ex, ey = rig.rest[KP["elbow_r"], :2]
    h, w = rig.alpha.shape
    yy, xx = np.mgrid[0:h, 0:w]
    near = np.hypot(xx - ex, yy - ey) < 2 * rig.radius[PART["forearm_r"]]
    arm = near & np.isin(rig.labels, [PART["forearm_r"], PART["upper_arm_r"]])
    solid = arm & (rig.alpha > 0.5)
    # then the arm's solid pixels there are skin, not the wall's pale grey: the matte's share of the
    # sliver rode on the bent elbow as a white fleck (41 px; the plate's fill it was compared with is
    # 25 levels darker than the lit wall, so only the wall the picture shows beside it tells)
    grey = int((solid & (chroma < 8) & (lab[..., 0] > 180)).sum())
    print(f"\npale grey arm pixels at the right elbow: {grey}")
    assert grey < 20, grey
    # and the arm itself stays whole there (its labels reach into the soft outline: 0.88 of them
    # were solid before, 0.86 now)
    assert solid.sum() > 0.83 * arm.sum(), (int(solid.sum()), int(arm.sum()))


def test_the_sky_beside_the_trunk_is_not_the_trunk():
    from steadymotion.skeleton import PART

    # given musepose's dancer, arms out against a cyan sky, the matte spilling onto the sky at her
    # armpits and along her arms
    img, rig = _rig("musepose__dance.mp4")
    lab = cv2.cvtColor(rig.image, cv2.COLOR_RGB2LAB).astype(np.float32)
    sky = (lab[..., 1] < 124) & (lab[..., 0] > 150)  # pale cyan: neither her white top nor her skin
    solid = rig.alpha > 0.5
    trunk = int((solid & (rig.labels == PART["torso"]) & sky).sum())
    arms = np.isin(rig.labels, [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"])
    # then the trunk keeps hardly any sky: a patch of it under her raised arm was the trunk's and
    # stayed on it when the arm moved (1665 px; the plate it was compared with is filled smooth
    # under the figure, only the sky the picture shows beside it tells), and the arms carry less
    # of its fringe (3348 px before)
    print(f"\nsky-coloured solid pixels: trunk {trunk}, arms {int((solid & arms & sky).sum())}")
    assert trunk < 600, trunk
    assert (solid & arms & sky).sum() < 3000


def test_the_sky_between_a_bent_arm_and_the_body_is_not_the_figure():
    """anyone-1's left arm bends at the elbow beside her waist and encloses a pocket of sky between
    itself and the blouse. The selfie model was sure of most of it and the colour cut kept it, so the
    trunk carried a patch of sky (and copied it into the fill under the forearm). It is background."""
    from steadymotion.perception.segmentation import enclosed_background, figure_matte

    img, rig = _rig("mooreanimateanyone__anyone-1.png")
    gap = (slice(352, 372), slice(260, 274))  # the pocket's middle, well inside its outline
    assert (rig.alpha[gap] < 0.1).mean() > 0.9, (rig.alpha[gap] < 0.1).mean()
    assert (rig.labels[gap] < 0).mean() > 0.9
    # the arm and the blouse around it stay the figure
    assert rig.alpha[360, 245] > 0.9 and rig.alpha[360, 300] > 0.9 and rig.alpha[400, 262] > 0.9
    # on its own: a ring-shaped figure around a pocket of the sky's colour is opened where the
    # model is unsure over part of the pocket; a print of that colour it is sure of stays
    h, w = 120, 160
    yy, xx = np.mgrid[:h, :w]
    sky = np.dstack([120 + 0.3 * yy, 190 + 0.2 * yy, 235 + 0 * yy]).astype(np.uint8)
    rng = np.random.default_rng(1)
    cloth = np.clip(np.array([200, 40, 40]) + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    disc = (xx - 80) ** 2 + (yy - 60) ** 2 < 45 ** 2
    pocket = (np.abs(xx - 80) < 12) & (np.abs(yy - 60) < 16)
    pic = np.where((disc & ~pocket)[..., None], cloth, sky)
    prob = disc.astype(np.float32)
    prob[pocket & (yy < 58)] = 0.3
    small = cv2.resize(pic, None, fx=1, fy=1)
    assert enclosed_background(small, disc, prob)[pocket].mean() > 0.9
    assert figure_matte(pic, prob)[pocket].max() < 0.1
    assert not enclosed_background(small, disc, disc.astype(np.float32)).any()  # sure: a print


def test_a_puffy_sleeve_across_a_skirt_goes_with_its_arm_and_the_skirt_is_filled_dark():
    """anyone-1's left forearm lies across her corset and skirt in a puffy white sleeve wider than
    the arm's capsule. The sleeve's lower bulge stayed on the trunk (a white triangle left behind when
    the arm moved), and the fill under the forearm was laid out as the white blouse (the bulge, the
    arm's outline and the blouse patched beside the arm met as a garment beside the hole; the skirt
    below the hips was no source): a white band across the corset. The bulge is the forearm's, and
    what the forearm hid is filled dark, corset and skirt."""
    from steadymotion.skeleton import PART

    img, rig = _rig("mooreanimateanyone__anyone-1.png")
    lightness = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0]
    below = (slice(410, 465), slice(230, 300))  # under the forearm's bone, the sleeve's lower bulge
    white_trunk = int(((rig.labels[below] == PART["torso"]) & (lightness[below] > 200)).sum())
    assert white_trunk < 400, white_trunk  # was 1419
    part, _, colour = _texture(rig, "torso")
    x0, y0 = part.box
    under = np.zeros(rig.filled.shape, bool)
    under[400:480, 140:280] = True  # the corset's lower half and the skirt's top, across the trunk
    ys, xs = np.nonzero(under & (rig.filled == 2))
    assert len(ys) > 4000
    fill_l = cv2.cvtColor(colour[ys - y0, xs - x0][None], cv2.COLOR_RGB2LAB)[0, :, 0]
    light = float((fill_l > 150).mean())
    assert light < 0.2, light  # was 0.75


@pytest.mark.parametrize("name, before", [("mooreanimateanyone__anyone-1.png", 327), ("mooreanimateanyone__anyone-11.png", 163)])
def test_the_dark_cloth_between_a_hands_fingers_stays_with_the_body(name, before):
    """anyone-1's hands are clasped over her navy skirt and anyone-11's hang over his navy shorts:
    the cloth showing between their fingers (and along a hand's edge) was the hands', and travelled
    with the fingers as black blots. It is the body's; a hand keeps its own shadows."""
    from steadymotion.skeleton import PART

    img, rig = _rig(name)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    dark = 0
    for side in "lr":
        hand = rig.labels == PART[f"hand_{side}"]
        assert hand.sum() > 1000
        skin = float(np.median(lab[hand][:, 0]))
        dark += int((hand & (lab[..., 0] < skin - 100)).sum())
    assert dark < 0.65 * before, (dark, before)  # now 160 and 78


def test_a_hand_cut_by_the_pictures_edge_holds_no_cloud():
    # given the same dancer, her left hand held out to the picture's right edge, a white cloud
    # between its thumb and the edge (the matte took it for the hand)
    img, rig = _rig("musepose__dance.mp4")
    white = {}
    for name in ("hand_l", "forearm_l"):
        _, a, rgb = _texture(rig, name)
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)  # her skin's is 15-19
        white[name] = int(((a > 0.5) & (chroma < 6) & (lab[..., 0] > 225)).sum())
    # then the hand and forearm carry little of the cloud's neutral white (764 and 1523 solid pixels
    # did, a white square that rode in her hand onto her red skirt; 309 and 1073 now: highlights and
    # the soft edge)
    assert white["hand_l"] < 450 and white["forearm_l"] < 1300, white


@pytest.mark.parametrize("name", ["mooreanimateanyone__anyone-3.png", "musepose__dance.mp4", "unianimate__source_video.mp4"])
def test_background_plate_holds_no_figure_colour(name):
    from scipy.ndimage import distance_transform_edt

    # given a figure in front of a studio wall / a keyed cartoon sky / two curtains
    img, rig = _rig(name)
    lab_img = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)[..., 1:]  # chroma (a*, b*)
    lab_bg = cv2.cvtColor(rig.background, cv2.COLOR_RGB2LAB).astype(np.float32)[..., 1:]
    person = rig.alpha > 0.5
    # the figure's own colours (each large part's median chroma: skin, denim, a red skirt), those
    # with a hue (chroma 10 and up): by chroma alone a white shirt is the white cloud beside it, and
    # the plate is made of pixels from outside the figure only (a patch fill continued musepose's
    # clouds next to the bush, 0.012 of the plate, all of it white)
    parts = [i for i in np.unique(rig.labels[person]) if i >= 0 and (rig.labels == i).sum() > 2000]
    figure = np.array([np.median(lab_img[rig.labels == i], axis=0) for i in parts])
    figure = figure[np.hypot(*(figure - 128).T) >= 10]
    # the wall behind each pixel of the person: the nearest image pixel well outside the figure
    outside = ~cv2.dilate(person.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    _, (iy, ix) = distance_transform_edt(~outside, return_indices=True)
    px, wall = lab_bg[person], lab_img[iy[person], ix[person]]
    d_fig = np.linalg.norm(px[:, None, :] - figure[None], axis=2)
    d_wall = np.linalg.norm(px - wall, axis=1)
    # then the plate, where the person stood, carries the wall's colours: a pixel counts as the
    # figure's when its chroma is near a figure colour that differs from the wall there, and nearer
    # that colour than the wall's
    distinct = np.linalg.norm(figure[None] - wall[:, None, :], axis=2) > 15
    stained = ((d_fig < 8) & distinct & (d_fig < d_wall[:, None])).any(axis=1)
    frac = float(stained.mean())
    print(f"\n{name}: {frac:.4f} of the plate behind the person stained with a figure colour")
    # (measured 0, 0, 0.0026; UniAnimate's dancer stands before a grey and a yellow curtain,
    # and Telea's fill smeared the yellow over the grey where her arm hung: 0.026)
    assert frac < 0.01


def test_the_sky_behind_a_dancer_carries_on_as_sky():
    from skimage.color import deltaE_ciede2000, rgb2lab

    # given the musepose dancer before a cartoon sky that turns from turquoise at the top to white
    # above the clouds: the plate fills where she stood (a hole a body wide)
    img, rig = _rig("musepose__dance.mp4")
    hole = rig.filled >= 1
    lab = rgb2lab(rig.background)
    h, w = hole.shape
    reach, gap = int(0.055 * w), int(0.005 * w) + 1
    off = []
    for y in range(int(0.08 * h), int(0.38 * h), max(1, h // 200)):  # from her head to her chest
        xs = np.nonzero(hole[y])[0]
        if len(xs) < 10:
            continue
        ring = np.r_[max(0, xs.min() - reach):xs.min() - gap, xs.max() + gap + 1:min(w, xs.max() + reach + 1)]
        ring = ring[~hole[y, ring]]
        if len(ring) < 10:
            continue
        inside, beside = np.median(lab[y, xs], axis=0), np.median(lab[y, ring], axis=0)
        off.append(float(deltaE_ciede2000(inside[None], beside[None])[0]))
    off = np.array(off)
    print(f"\nrows: {len(off)}, colour off the sky beside them: mean {off.mean():.2f}, worst {off.max():.2f} dE00")
    # then each row of the plate where she stood is the sky beside her in that row: FSR alone
    # carried the turquoise above her head down in a plume over the paler sky (rows 1.95 Delta E00
    # off the sky beside them on average, the worst 5.2); the patch fill 0.84 and 2.1
    assert len(off) > 40
    assert off.mean() < 1.2 and off.max() < 3.8, (off.mean(), off.max())


def _figure_hole(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """A standing figure's hole in a 600 x 450 picture: a head over a body two thirds as tall."""
    return ((xx - 225) ** 2 / 60 ** 2 + (yy - 110) ** 2 / 70 ** 2 <= 1) | ((np.abs(xx - 225) < 85) & (yy > 170) & (yy < 570))


def test_a_background_in_horizontal_bands_is_continued_band_by_band_behind_the_figure():
    from steadymotion.render.puppet.fill import inpaint_multiscale

    # given an outdoor picture in horizontal bands (sky, a grey wall, a green hedge, a stone kerb),
    # textured, and a figure-shaped hole two thirds of the picture tall in its middle
    rng = np.random.default_rng(4)
    h, w = 600, 450
    bands = [(0, 330, (120, 190, 225)), (330, 400, (150, 155, 160)), (400, 540, (70, 130, 50)), (540, 600, (110, 110, 115))]
    img = np.zeros((h, w, 3), np.float32)
    for y0, y1, c in bands:
        img[y0:y1] = c
    img = (img + rng.normal(0, 6, img.shape)).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    hole = _figure_hole(yy, xx)
    # when the background plate is filled
    out = inpaint_multiscale(img, hole, method="patches")
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
    # then each band runs on through the hole in its own colour (its rows away from the band's
    # edges; FSR's layout ran the sky down through the wall and the hedge as a pale column)
    for y0, y1, c in bands[1:]:
        rows = (yy >= y0 + 8) & (yy < y1 - 8) & hole
        want = cv2.cvtColor(np.uint8([[c]]), cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
        de = np.linalg.norm(lab[rows] - want, axis=1)
        print(f"band {y0}-{y1}: median dE {np.median(de):.1f}, 90th {np.percentile(de, 90):.1f}")
        assert np.percentile(de, 90) < 15, (y0, y1, np.percentile(de, 90))


def _tiled_floor(h: int = 600, w: int = 450, seed: int = 5):
    """A light tiled floor, slightly noisy, with 2-px dark joints every 90 px, the rows' joints
    tilted 3 degrees (as in perspective), and the joints' line positions."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w), 200.0) + rng.normal(0, 2.5, (h, w))
    slope = np.tan(np.radians(3.0))
    rows = [150, 240, 330, 420, 510]
    cols = [45, 135, 225, 315, 405]
    for r in rows:
        img[np.abs(yy - (r + slope * xx)) < 1.0] -= 45
    for c in cols:
        img[np.abs(xx - c) < 1.0] -= 45
    return np.repeat(img.clip(0, 255)[..., None], 3, axis=2).astype(np.uint8), rows, cols, slope


def test_a_tiled_floors_joints_go_on_through_the_filled_hole():
    from steadymotion.render.puppet.fill import continue_lines, inpaint_multiscale

    # given a tiled floor and a figure-shaped hole over it (the plate is filled at a quarter of the
    # size, where 2-px joints vanish: the joints stopped at a grey blob around each boot)
    img, rows, cols, slope = _tiled_floor()
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    hole = _figure_hole(yy, xx)
    figure = cv2.erode(hole.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    plate = inpaint_multiscale(img, hole, method="patches")
    before = plate.copy()
    # when the lines are drawn on through it
    continue_lines(plate, img, hole, figure)
    g, g0 = plate[..., 0].astype(np.float32), before[..., 0].astype(np.float32)
    # then along each row joint crossing the hole (away from its edge) the plate is darker on the
    # joint than 5 px beside it, by half the joint's own depth at least (45 levels: 22-37 now; the
    # fill alone had -6 to 8)
    deep = cv2.erode(hole.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)
    for r in rows:
        x = np.arange(w)
        y = np.round(r + slope * x).astype(int)
        on = deep[y.clip(0, h - 1), x] & (y > 6) & (y < h - 6)
        if on.sum() < 20:
            continue
        x, y = x[on], y[on]
        step = 0.5 * (g[y - 5, x] + g[y + 5, x]) - g[y, x]
        step0 = 0.5 * (g0[y - 5, x] + g0[y + 5, x]) - g0[y, x]
        print(f"row joint {r}: depth in the hole {np.median(step):.1f} (fill alone {np.median(step0):.1f})")
        assert np.median(step) > max(15, np.median(step0) + 10) and np.median(step0) < 10, (r, np.median(step), np.median(step0))
    # but the column joint hidden from head to feet (530 px, most of the picture) is not guessed
    y = np.flatnonzero(deep[:, cols[2]])
    assert len(y) > 300 and np.median(0.5 * (g[y, cols[2] - 5] + g[y, cols[2] + 5]) - g[y, cols[2]]) < 8
    # and nothing outside the hole changed
    assert np.array_equal(plate[~hole], before[~hole])


def test_a_line_that_ends_at_the_figure_is_not_drawn_through_it():
    from steadymotion.render.puppet.fill import continue_lines, inpaint_multiscale

    # given a plain floor with one dark line that runs up to the figure from the left and stops there
    rng = np.random.default_rng(6)
    h, w = 600, 450
    yy, xx = np.mgrid[0:h, 0:w]
    hole = _figure_hole(yy, xx)
    figure = cv2.erode(hole.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    grey = np.full((h, w), 200.0) + rng.normal(0, 2.5, (h, w))
    grey[(np.abs(yy - 400) < 1.0) & (xx < 150)] -= 45
    img = np.repeat(grey.clip(0, 255)[..., None], 3, axis=2).astype(np.uint8)
    plate = inpaint_multiscale(img, hole, method="patches")
    before = plate.copy()
    continue_lines(plate, img, hole, figure)
    # then the hole stays without it: the line has no other piece on the far side
    assert np.abs(plate.astype(int) - before).max() <= 2


def test_a_fill_is_brought_to_the_tone_around_it():
    from steadymotion.render.puppet.fill import settle_fill

    # given a floor lit from the left (a 60-level ramp across the picture) and a figure-shaped hole
    # filled with the floor's mean tone (the quarter-size fill, ten levels off at the hole's edge,
    # left the outline of a box around each boot)
    h, w = 600, 450
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.repeat((170 + 60 * xx / w)[..., None], 3, axis=2).astype(np.uint8)
    hole = _figure_hole(yy, xx)
    plate = img.copy()
    plate[hole] = int(img.mean())
    # when it is settled
    settle_fill(plate, img, hole)
    # then inside the hole the plate follows the ramp: 0.8 levels off on average (5.3 before), 1.7
    # at the hole's edge, up to 8 in 1 % of it (where the hole narrows to the neck; 12 before), and
    # nothing outside changed
    err = np.abs(plate[..., 0].astype(int) - img[..., 0])
    edge = hole & ~cv2.erode(hole.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    print(f"off the ramp: mean {err[hole].mean():.1f}, 99th {np.percentile(err[hole], 99):.1f}, at the edge {err[edge].mean():.1f}")
    assert err[hole].mean() < 1.5 and err[edge].mean() < 2.5 and np.percentile(err[hole], 99) <= 10
    assert np.array_equal(plate[~hole], img[~hole])


def test_a_curtains_folds_are_not_blended_flat_across_the_figure():
    from steadymotion.render.puppet.fill import inpaint_multiscale

    # given a grey curtain whose folds run up and down (its colour the same either side of the
    # figure on every row) and a figure-shaped hole in it
    h, w = 600, 450
    yy, xx = np.mgrid[0:h, 0:w]
    grey = 150 + 40 * np.sin(2 * np.pi * xx / 38.0)
    img = np.repeat(grey[..., None], 3, axis=2).clip(0, 255).astype(np.uint8)
    hole = _figure_hole(yy, xx)
    # when the background plate is filled
    out = inpaint_multiscale(img, hole, method="patches").astype(np.float32)[..., 0]
    # then the folds go on through the hole: across its middle the fill varies along each row as
    # the curtain does (a blend between the two sides, alike on every row, would be flat: a ghost
    # of the figure in smooth grey)
    core = (np.abs(xx - 225) < 60) & (yy >= 200) & (yy < 540)
    spread = np.mean([out[y, core[y]].std() for y in range(200, 540)])
    truth = np.mean([grey[y, core[y]].std() for y in range(200, 540)])
    print(f"fill's spread along a row {spread:.1f} against the curtain's {truth:.1f}")
    assert spread > 0.5 * truth, (spread, truth)


def test_a_hand_blurred_against_a_curtain_leaves_no_skin_in_the_plate():
    # given UniAnimate's dancer, her left hand swinging (motion-blurred) in front of a yellow curtain:
    # the matte caught only its upper half, and a colour test against one background colour took a
    # strip of the grey curtain beside it for skin instead
    from steadymotion.skeleton import KP

    img, rig = _rig("unianimate__source_video.mp4")
    lab_img = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_bg = cv2.cvtColor(rig.background, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    for s in "lr":
        wr, hd = rig.rest[KP[f"wrist_{s}"], :2], rig.rest[KP[f"hand_{s}"], :2]
        L = float(np.linalg.norm(hd - wr))
        d2 = (xx - hd[0]) ** 2 + (yy - hd[1]) ** 2
        skin = np.median(lab_img[d2 <= (0.35 * L) ** 2], axis=0)  # the hand's colour at the knuckles
        # then the plate around the hand holds (almost) no pixel of the hand's chroma: 0.51 L^2 of
        # them (the hand's lower half) before the hand's GrabCut and the fingertip margin
        stained = (d2 <= (1.5 * L) ** 2) & (np.linalg.norm(lab_bg[..., 1:] - skin[1:], axis=2) < 6)
        assert stained.sum() < 0.15 * L * L, (s, int(stained.sum()), L)
        # and the figure holds the hand: most of the knuckles' disc (the pose puts it near the blurred edge)
        assert (rig.alpha[d2 <= (0.35 * L) ** 2] > 0.5).mean() > 0.6, s


def _arms_raised(rig) -> np.ndarray:
    """The rig's rest keypoints with both arms raised straight up from the shoulders."""
    from steadymotion.skeleton import KP

    kp = rig.rest[:, :2].copy()
    for side in "lr":
        sh = kp[KP[f"shoulder_{side}"]]
        L1 = np.linalg.norm(kp[KP[f"elbow_{side}"]] - sh)
        L2 = np.linalg.norm(kp[KP[f"wrist_{side}"]] - kp[KP[f"elbow_{side}"]])
        L3 = np.linalg.norm(kp[KP[f"hand_{side}"]] - kp[KP[f"wrist_{side}"]])
        kp[KP[f"elbow_{side}"]] = sh + [0, -L1]
        kp[KP[f"wrist_{side}"]] = sh + [0, -L1 - L2]
        kp[KP[f"hand_{side}"]] = sh + [0, -L1 - L2 - L3]
    return kp


def _turned(kp: np.ndarray, about: str, joints, degrees: float) -> np.ndarray:
    """``kp`` with ``joints`` turned by ``degrees`` about the joint ``about`` (in place, returned)."""
    from steadymotion.skeleton import KP

    c = kp[KP[about]].copy()
    th = np.radians(degrees)
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    for j in joints:
        kp[KP[j]] = c + (kp[KP[j]] - c) @ rot.T
    return kp


def test_no_remnants_where_the_arms_were():
    # given a woman whose bare arms hang at her sides with a hand on her shorts
    from steadymotion.skeleton import KP, PART

    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    # when both arms are raised straight up from the shoulders
    magenta = np.array([1.0, 0.0, 1.0])
    out = _render(rig, _arms_raised(rig), background=magenta)
    # then where the arms hung, away from the trunk and legs, nothing of them stays: those pixels are
    # background, not skin left behind (remnants) ...
    arms = np.isin(rig.labels, [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"])
    body = np.isin(rig.labels, [PART[n] for n in ("torso", "thigh_l", "thigh_r", "head")])
    away = arms & ~cv2.dilate(body.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    # (not where the rig fills in the body the arm hid, by design; not the shoulders, where the
    # raised arms now are)
    away &= rig.filled != 2
    shoulders = max(rig.rest[KP["shoulder_l"], 1], rig.rest[KP["shoulder_r"], 1])
    away[: int(shoulders + 2 * rig.radius[PART["upper_arm_l"]])] = False
    is_bg = (out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200)
    assert away.sum() > 1500
    # a remnant looks like what was there: nearer the image's colour than the background's (the
    # antialiased outline of what moved is a blend of both, and is not counted)
    o, im = out.astype(float), img.astype(float)
    remnant = np.linalg.norm(o - im, axis=2) < np.linalg.norm(o - magenta * 255, axis=2)
    left = float(remnant[away].mean())
    # ... and where a hand lay on the shorts, the shorts are filled in: no hand-shaped hole
    hand_on_body = np.isin(rig.labels, [PART["hand_l"], PART["hand_r"]]) & cv2.morphologyEx(
        body.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((41, 41), np.uint8)).astype(bool)
    holes = float(is_bg[hand_on_body].mean()) if hand_on_body.any() else 0.0
    print(f"\narm pixels left beside the body: {left:.3f}; hand-on-body pixels showing a hole: {holes:.3f}")
    # (measured 0.055: what is left is a strip just under each shoulder, where the arm's skin blends
    # into the trunk's transform and a 180-degree raise leaves it behind; hands, forearms and the
    # arms' outer edges are gone; 0.004 of the hand-on-shorts area shows a hole)
    assert left < 0.08
    assert holes < 0.05
    # ... and where the wrist's end lay over the shorts' side below the hips, no slit opens between
    # the trunk and the thigh: no background pixel there has the figure within 6 px on both sides
    # (measured: 6, the shorts' corner at the hip; 47 before the wrist's end was filled, a diagonal
    # line of background through the shorts)
    fig = ~is_bg
    left_of, right_of = np.zeros_like(fig), np.zeros_like(fig)
    for d in range(1, 7):
        left_of[:, d:] |= fig[:, :-d]
        right_of[:, :-d] |= fig[:, d:]
    low = np.arange(fig.shape[0])[:, None] > rig.rest[KP["pelvis"], 1]
    wrist = np.isin(rig.labels, [PART["forearm_l"], PART["forearm_r"]]) & low
    slit = int((is_bg & left_of & right_of & wrist).sum())
    assert slit <= 15, slit


def test_hands_hanging_over_the_shorts_leave_neither_a_hole_nor_a_patch():
    from steadymotion.skeleton import KP, PART

    # given a man whose hands hang over the sides of his shorts (part over the shorts, part beside)
    img, rig = _rig("mooreanimateanyone__anyone-11.png")
    # when both arms are raised
    out = _render(rig, _arms_raised(rig), background=np.array([1.0, 0.0, 1.0]))
    figure = ~((out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200))
    pelvis_x = rig.rest[KP["pelvis"], 0]
    for s in "lr":
        ys, xs = np.nonzero(rig.labels == PART[f"hand_{s}"])
        y0, y1 = int(ys.min()), int(ys.max())
        outward = -1 if xs.mean() < pelvis_x else 1
        x0, x1 = int(xs.min()) - 40, int(xs.max()) + 40

        def side(y: int) -> int:
            """The figure's outer edge on the hand's side in row ``y`` (the row must hold the figure)."""
            fx = np.flatnonzero(figure[y, x0:x1])
            assert len(fx), (s, y)
            return x0 + int(fx[0] if outward < 0 else fx[-1])

        # then, where the hands were, the shorts keep the outline they have just below the hands:
        # no hand-shaped patch of shorts sticks out of them ...
        below = np.median([side(y) for y in range(y1 + 4, y1 + 16)])
        rows = range(y0 + (y1 - y0) // 4, y1 + 1)  # (the top quarter lies beside the jacket's hem)
        excess = np.array([outward * (side(y) - below) for y in rows])
        # ... and no hand-shaped hole opens in them: every pixel between that edge (2 px in, for the
        # outline's own wobble) and the hand's inner side is drawn
        near, far = below - 2 * outward, xs.max() if outward < 0 else xs.min()
        inner = [figure[y, int(min(near, far)):int(max(near, far)) + 1] for y in rows]
        hole = 1.0 - float(np.mean(np.concatenate(inner)))
        print(f"\n{s}: shorts edge {np.percentile(excess, 90):+.0f} px (90th percentile of the rows), "
              f"{excess.max():+.0f} px (most) past its line where the hand was; {hole:.4f} of it open")
        # (measured: at most +2 / +5 px, the most a fingertip's soft edge in two rows; nothing open.
        # Before the rig continued the shorts' side under the hands: his right hand's whole shape
        # in shorts, +18 px out, and 28 % of the shorts under his left hand open)
        assert np.percentile(excess, 90) <= 3 and excess.max() <= 6, (s, excess)
        assert hole < 0.01, (s, hole)


def test_no_denim_rides_on_a_forearm_hanging_beside_the_shorts():
    from steadymotion.skeleton import PART

    # given a woman whose right forearm hangs against the dark side of her denim shorts
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    # then no pixel of the denim's blue goes with a forearm (64 did, along with the shadow between
    # them, before the body took back the edge of its clothes the arm's colour cut had taken)
    for s in "lr":
        fore = rig.labels == PART[f"forearm_{s}"]
        assert fore.sum() > 1000
        assert (fore & (lab[..., 2] < 115)).sum() < 10, s


def test_the_shaded_side_of_a_forearm_pressed_to_the_shorts_goes_with_the_arm():
    from steadymotion.skeleton import PART

    # given a woman whose left forearm hangs pressed to the side of her denim shorts: its inner side
    # is in shadow (dark skin, a crease), a strip wider than the matte says the arm is
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    fore = rig.labels == PART["forearm_l"]
    med = np.median(lab[fore], axis=0)
    chroma = np.hypot(med[1] - 128, med[2] - 128)
    skin = (np.linalg.norm(lab[..., 1:] - med[1:], axis=2) < chroma) & (np.hypot(lab[..., 1] - 128, lab[..., 2] - 128) >= 0.5 * chroma)
    shaded = skin & (lab[..., 0] < med[0] - 25)
    near = cv2.dilate(fore.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
    thighs = np.isin(rig.labels, [PART["thigh_l"], PART["thigh_r"]])
    # then the strip goes with the forearm, not with the shorts (where it stayed, a finger-shaped skin
    # remnant beside the shorts, when the arm rose): 303 such pixels held by a thigh at first, 91
    # while the dark crease where the forearm crosses the shorts' side was given back to them by
    # its lightness (a brown strip along the shorts once the arm rose), 35 now (the crease at the
    # wrist, beside the hand, and the bare thigh's own shade below the hem)
    left = int((near & thighs & shaded).sum())
    print(f"\nshaded skin of the forearm's colour held by the thighs beside it: {left} px")
    assert left < 60
    # while the forearm takes none of the denim beside it
    assert (fore & (lab[..., 2] < 115)).sum() < 10


def test_a_skirt_or_dress_stays_one_piece_and_shorts_keep_their_legs():
    from steadymotion.render.puppet.cutout import skirt_hem
    from steadymotion.skeleton import PART

    # given the dancer in a flared red skirt
    img, rig = _rig("musepose__dance.mp4")
    # then the skirt is found, and its red between the hips and the hem belongs to the trunk
    hem = skirt_hem(img, rig.alpha, rig.rest, rig.present)
    assert hem is not None and 0.35 <= hem <= 0.8
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    red = (lab[..., 1] > 170) & (rig.alpha > 0.5)  # strongly red pixels: the skirt (and the lips)
    ys, _ = np.nonzero(red)
    skirt = red & (np.arange(red.shape[0])[:, None] > np.percentile(ys, 5))
    owners = rig.labels[skirt]
    assert (owners == PART["torso"]).mean() > 0.95
    # a knee-length dress covers the thighs whole (it hangs as wide at the knees as at the hips) ...
    im_d, rig_d = _rig("musepose__UBC_fashion_test_91BjuE6irxS.mp4")
    assert skirt_hem(im_d, rig_d.alpha, rig_d.rest, rig_d.present) == 1.0
    # and shorts or jeans (legs held together narrow to the knees) are not taken for a skirt
    for name in ("mooreanimateanyone__anyone-11.png", "mooreanimateanyone__anyone-3.png", "unianimate__source_video.mp4"):
        im2, rig2 = _rig(name)
        assert skirt_hem(im2, rig2.alpha, rig2.rest, rig2.present) is None, name


def test_thighs_go_on_up_under_a_skirt_in_their_own_colours():
    """musepose's dancer stands in a red skirt, her legs drawn behind it. Each thigh's texture began
    at the hem and its seam overlap carried the hem's red: when the legs moved a little against the
    hips, that strip showed below the hem, torn off the skirt by a line of the background plate. The
    thighs now go on up under the skirt, in skin colours."""
    from steadymotion.skeleton import KP, PART

    img, rig = _rig("musepose__dance.mp4")
    for name in ("thigh_l", "thigh_r"):
        part, a, colours = _texture(rig, name)
        x0, y0 = part.box
        h, w = a.shape
        on_skirt = (rig.labels[y0:y0 + h, x0:x0 + w] == PART["torso"]) & (a > 0.5)
        rows = np.unique(np.nonzero(on_skirt)[0])
        side = name[-1]
        thigh = float(np.linalg.norm(rig.rest[KP[f"knee_{side}"], :2] - rig.rest[KP[f"hip_{side}"], :2]))
        # it reaches a fifth of the thigh's length up under the skirt (19-27 rows: the seam's overlap)
        assert len(rows) > 0.2 * thigh, (name, len(rows), thigh)
        # in the leg's colours, not the skirt's (78-86 % of it was the skirt's red)
        red = cv2.cvtColor(colours, cv2.COLOR_RGB2LAB)[..., 1] > 170
        assert red[on_skirt].mean() < 0.02, (name, red[on_skirt].mean())
    # and the hem's shaded underside is the skirt's: 451 strongly red pixels rode on the thighs
    # (a red line below the hem and a sliver of its edge beside the leg), 205 now (the hem's last
    # row or two, mixed with the skin under it)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    red_px = (lab[..., 1] > 170) & (rig.alpha > 0.5)
    assert np.isin(rig.labels[red_px], [PART["thigh_l"], PART["thigh_r"]]).sum() < 250
    # a dress to the knees shows no thigh to continue: UBC's thighs carry only their seam's overlap
    # into it (88 and 112 px; a patch of the dress, 1397-1727 px, when they went on under it too)
    _, rig_d = _rig("musepose__UBC_fashion_test_91BjuE6irxS.mp4")
    for name in ("thigh_l", "thigh_r"):
        if rig_d.part(name) is None:
            continue
        part, a, _ = _texture(rig_d, name)
        x0, y0 = part.box
        h, w = a.shape
        assert ((rig_d.labels[y0:y0 + h, x0:x0 + w] == PART["torso"]) & (a > 0.5)).sum() < 400, name


def test_the_floor_between_the_shins_is_not_the_shins():
    from steadymotion.skeleton import KP, PART

    # given the standing dancer: between her shins, from her knees down to where her ankles meet, a
    # gap of 5-25 px shows the yellow floor and the hedge (the figure is cut at 512 px, where the
    # gap is a pixel or two and the cut closed it)
    img, rig = _rig("musepose__dance.mp4")
    kp = rig.rest[:, :2]
    quad = np.zeros(rig.labels.shape, np.uint8)
    cv2.fillConvexPoly(quad, np.round(np.array([kp[KP[j]] for j in ("knee_l", "ankle_l", "ankle_r", "knee_r")])).astype(np.int32), 1)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    floor = quad.astype(bool) & ((lab[..., 2] > 205) | (lab[..., 1] < 115))  # the floor's yellow, the hedge's green
    legs = np.isin(rig.labels, [PART[n] for n in ("shin_l", "shin_r", "foot_l", "foot_r")])
    assert floor.sum() > 4000
    # then the legs do not carry it: it stayed on their insides, a yellow strip along each shin once
    # the legs parted (3650 px of it, weighted by opacity; 286 now, the blurred edges' last pixels)
    carried = float(rig.alpha[floor & legs].sum())
    assert carried < 800, carried


def test_a_hand_raised_from_below_the_frame_moves_with_what_it_holds():
    from steadymotion.skeleton import KP, PART

    # given a half-body presenter: his left hand holds a phone up from below the picture (its elbow
    # is below the frame), his right hand is cut by the bottom edge
    img, rig = _rig("infinitetalk__videos_2.mp4")
    h = img.shape[0]
    # then the left forearm and hand are rigged about an elbow below the picture, never from the
    # pose model's guessed elbow squeezed against the edge; the upper arm and the cut right arm stay
    # with the body
    assert rig.present[PART["forearm_l"]] and rig.present[PART["hand_l"]]
    assert rig.rest[KP["elbow_l"], 1] > h
    assert not rig.present[PART["upper_arm_l"]]
    assert not any(rig.present[PART[f"{k}_r"]] for k in ("upper_arm", "forearm", "hand"))
    # and the phone is the hand's: the segmenter left half of it out (grey on a grey wall); in the
    # background plate, where the hand part lies off the body, nothing is darker than the wall around
    # it (the phone's half left in the plate was a smear 20 grey levels darker than the wall's darkest)
    lab_bg = cv2.cvtColor(rig.background, cv2.COLOR_RGB2LAB).astype(np.float32)[..., 0]
    hand = rig.labels == PART["hand_l"]
    body = np.isin(rig.labels, [PART["torso"], PART["head"]])
    off_body = hand & ~cv2.dilate(body.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    near = cv2.dilate(hand.astype(np.uint8), np.ones((61, 61), np.uint8)).astype(bool)
    ring = near & ~cv2.dilate(hand.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool) & (rig.alpha < 0.02)
    assert off_body.sum() > 8000 and ring.sum() > 2000
    darkest_wall = np.percentile(lab_bg[ring], 1)
    assert np.percentile(lab_bg[off_body], 1) > darkest_wall - 8, (np.percentile(lab_bg[off_body], 1), darkest_wall)


def test_the_outline_of_a_held_phone_against_the_wall_moves_with_the_hand():
    from steadymotion.skeleton import PART

    # given the presenter holding his phone up beside his shoulder: the phone's top edge and the
    # hand's outer edge lie against the wall, with the hand on one side and the wall on the other
    img, rig = _rig("infinitetalk__videos_2.mp4")
    limb = np.isin(rig.labels, [PART["hand_l"], PART["forearm_l"]]).astype(np.uint8)
    wall = (rig.alpha < 0.02).astype(np.uint8)
    torso = (rig.labels == PART["torso"]).astype(np.uint8)
    # then no thin line of the torso runs along that outline (the trunk's parts a 21-px disc does not
    # fit in, within 6 px of both the hand and the wall): such a line stayed on the shoulder when the
    # hand moved, a hook off the sleeve and a grey fleck floating in the air (942 px of it; 23 now,
    # where the sleeve's own outline meets the phone's corner)
    thin = torso.astype(bool) & ~cv2.morphologyEx(torso, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (21, 21))).astype(bool)
    k = np.ones((13, 13), np.uint8)
    along = thin & cv2.dilate(limb, k).astype(bool) & cv2.dilate(wall, k).astype(bool)
    assert along.sum() < 150, along.sum()


def test_the_bevel_of_a_held_phone_moves_with_it_and_leaves_no_line_in_the_plate():
    from steadymotion.render.puppet.fill import normalized_blur
    from steadymotion.skeleton import PART

    # given the presenter's phone held up against the grey wall: its top edge is a dark metal rim
    # and a highlight a few pixels wide, which the phone's cut (GrabCut and the opening that drops
    # the matte's halo) left outside the figure
    img, rig = _rig("infinitetalk__videos_2.mp4")
    lum = cv2.cvtColor(rig.background, cv2.COLOR_RGB2LAB).astype(np.float32)[..., 0]
    hand = (rig.labels == PART["hand_l"]).astype(np.uint8)
    body = np.isin(rig.labels, [PART["torso"], PART["head"]]).astype(np.uint8)
    off_body = ~cv2.dilate(body, np.ones((9, 9), np.uint8)).astype(bool)
    # (the plate along the hand's outline, and the wall a little further out as its local reference)
    edge = cv2.dilate(hand, np.ones((31, 31), np.uint8)).astype(bool) & ~cv2.erode(hand, np.ones((15, 15), np.uint8)).astype(bool) & off_body
    ring = (cv2.dilate(hand, np.ones((81, 81), np.uint8)).astype(bool) & ~cv2.dilate(hand, np.ones((41, 41), np.uint8)).astype(bool)
            & (rig.alpha < 0.02) & off_body)
    wall, weight = normalized_blur(lum, ring, 15)
    measured = edge & (weight > 1e-3)
    assert measured.sum() > 10000
    # then no pixel of the plate along the phone's outline is darker than the wall beside it: the
    # rim's half, kept by the plate's seam, hung in the air where the phone had been (154 px 8 and
    # more levels darker than the wall there; none now)
    dark = measured & (lum < wall - 8)
    assert dark.sum() < 20, dark.sum()


def test_a_portraits_jaw_stays_whole_when_the_head_tilts():
    from steadymotion.render.puppet import Pose2D, PuppetRenderer, rest_order
    from steadymotion.render.puppet.renderer import _signed_area, _skin_vertices
    from steadymotion.skeleton import KP

    # given a head-and-shoulders portrait: the neck joint lies at the picture's bottom, far below the
    # jaw, so a tilt of the head about it moves the skin beside the jaw a long way from the trunk's
    img, rig = _rig("liveportrait__s7.jpg")
    ident = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    renderer = PuppetRenderer(rig, rig.size, ident)
    turned_over = {}
    draw = renderer._draw

    def counting(part, T, target, out, cov, texture=None):
        if part.name in ("head", "torso"):
            v = part.vertices.astype(np.float64)
            moved = _skin_vertices(part, T, v, target, renderer._rest_master)
            flips = _signed_area(v[part.triangles]) * _signed_area(moved[part.triangles]) <= 0
            # (those that hold any of the part's texture: one over the empty corner of its hull
            # shows nothing)
            a, (x0, y0) = part.texture[..., 3], part.box
            seen = 0
            for t in np.flatnonzero(flips):
                m = np.zeros(a.shape, np.uint8)
                cv2.fillConvexPoly(m, np.round(v[part.triangles[t]] - (x0, y0)).astype(np.int32), 1)
                seen += bool(a[m.astype(bool)].any())
            turned_over[(degrees, part.name)] = seen
        return draw(part, T, target, out, cov, texture)

    renderer._draw = counting
    for degrees in (-20, -12, 12, 20):
        kp = rig.rest[:, :2].copy()
        neck, t = kp[KP["neck"]].copy(), np.radians(degrees)
        kp[KP["head"]] = neck + (kp[KP["head"]] - neck) @ np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        renderer.render(Pose2D(kp.astype(np.float32), 1.0, rest_order(rig), ident))
    # then the neck's blend between the head and the trunk turns no triangle of their meshes over
    # where they are drawn (a turned-over triangle is not drawn: the face's fade over a fixed width
    # folded 15-17 of the head's beside the jaw at 12 degrees and 33-44 at 20, and the jaw line
    # showed torn, with the background in its notches; none at 12 degrees now, and at 20 one of the
    # head's and one of the trunk's, at -20 one of the trunk's, besides six over the trunk's empty
    # hull beside the shoulder)
    assert max(turned_over[(d, "head")] for d in (-12, 12)) == 0, turned_over
    assert max(turned_over.values()) <= 2, turned_over


def test_the_shirt_beside_the_neck_stays_with_the_body():
    from steadymotion.pose.extract import pose_from_image
    from steadymotion.skeleton import KP, PART

    # given a presenter in a black T-shirt: the head part reaches down to the shoulder line
    img, rig = _rig("infinitetalk__videos_2.mp4")
    face = pose_from_image(img).face[0]
    neck, top = rig.rest[KP["neck"], :2], rig.rest[KP["head"], :2]
    u = (top - neck) / np.linalg.norm(top - neck)
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    along = (xx - neck[0]) * u[0] + (yy - neck[1]) * u[1]
    below_chin = (along > 0) & (along < (face[152, :2] - neck) @ u) & (rig.alpha > 0.5)
    shirt = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0] < 0.15 * 255  # the black cloth, not the neck's skin
    # then the shirt's shoulders beside the neck are the torso's, not the head's (moving with the
    # head, they opened a notch in the collar with the wall seen through it; 3.3 % of them were
    # the head's, 1.6 % now: what is left is the silhouette's dark soft edge)
    across = np.abs((xx - neck[0]) * u[1] - (yy - neck[1]) * u[0])
    sw = np.linalg.norm(rig.rest[KP["shoulder_l"], :2] - rig.rest[KP["shoulder_r"], :2])
    region = below_chin & shirt & (across > 0.2 * sw)
    assert region.sum() > 20000
    assert (rig.labels[region] == PART["head"]).mean() < 0.025, (rig.labels[region] == PART["head"]).mean()
    # and under the head the trunk is filled (the collar shows when the neck moves), the face is not
    assert (rig.filled[below_chin & (rig.labels == PART["head"])] == 2).mean() > 0.5


def test_a_hand_raised_from_below_the_frame_follows_the_reference_wrist():
    from steadymotion.skeleton import KP, keypoint_visibility, keypoints_from_body

    # given that presenter's first frame driven by his own clip (a self-reenactment's plan)
    rig, seq, plan = _self_plan("infinitetalk__videos_2.mp4")
    kp = keypoints_from_body(seq.body)
    vis = keypoint_visibility(seq.body)
    # then where the reference shows its left wrist (in the frame's bottom band, where elbows are
    # guesses), the character's wrist is there too (after the 0.6-s blend from the image's pose)
    t = seq.times - seq.times[0]
    seen = (vis[:, KP["wrist_l"]] > 0.5) & (kp[:, KP["wrist_l"], 1] < 0.99 * seq.size[1]) & (t > 0.7)
    assert seen.sum() > 40
    err = np.linalg.norm(plan.keypoints[seen, KP["wrist_l"]] - kp[seen, KP["wrist_l"], :2], axis=1)
    assert np.median(err) < 0.02 * seq.size[1], np.median(err)
    # and the hand turns with the reference's (it holds the phone up in the image, lowers it later)
    d_plan = plan.keypoints[:, KP["hand_l"]] - plan.keypoints[:, KP["wrist_l"]]
    assert np.ptp(np.degrees(np.arctan2(d_plan[:, 1], d_plan[:, 0]))) > 40


def test_a_hand_laid_flat_in_the_reference_is_drawn_foreshortened():
    from scipy.stats import spearmanr

    from steadymotion.motion.plan import HAND_MIN
    from steadymotion.render.puppet import part_transforms
    from steadymotion.skeleton import KP, PART, keypoint_visibility, keypoints_from_body

    # given the presenter's first frame driven by his own clip: he holds his phone up in the image
    # and soon lays it flat, his hand (wrist to knuckles) shortening in the picture to a third
    rig, seq, plan = _self_plan("infinitetalk__videos_2.mp4")
    kp, vis = keypoints_from_body(seq.body), keypoint_visibility(seq.body)
    t = seq.times - seq.times[0]
    length = np.linalg.norm(plan.keypoints[:, KP["hand_l"]] - plan.keypoints[:, KP["wrist_l"]], axis=1)
    ref = np.linalg.norm(kp[:, KP["hand_l"], :2] - kp[:, KP["wrist_l"], :2], axis=1)
    seen = (vis[:, KP["hand_l"]] > 0.5) & (kp[:, KP["hand_l"], 1] < 0.99 * seq.size[1]) & (t > 0.7)
    assert seen.sum() > 40
    # then the hand is drawn as long as the image shows it on the first frame, and as much shorter
    # as the reference's is where that one shortens (rank correlation 0.94; under half its first
    # length: 0.35 of the image's at the median, never under HAND_MIN)
    rest = float(np.linalg.norm(rig.rest[KP["hand_l"], :2] - rig.rest[KP["wrist_l"], :2]))
    assert abs(length[0] - rest) < 0.02 * rest
    assert spearmanr(length[seen], ref[seen])[0] > 0.8
    short = seen & (ref < 0.5 * ref[0])
    assert short.sum() > 20 and np.median(length[short]) < 0.5 * rest
    assert length.min() > (HAND_MIN - 0.02) * rest
    # and the renderer squashes it along its bone (a flat phone tilted in depth), keeping its width
    i = int(np.argmin(np.where(short, length, np.inf)))
    T = part_transforms(rig.rest, plan.keypoints[i], 1.0)[PART["hand_l"], :, :2]
    bone = rig.rest[KP["hand_l"], :2] - rig.rest[KP["wrist_l"], :2]
    across = np.array([-bone[1], bone[0]])
    assert abs(np.linalg.norm(T @ bone) - length[i]) < 0.01 * rest and length[i] < 0.5 * rest
    assert abs(np.linalg.norm(T @ across) - np.linalg.norm(across)) < 1e-6 * np.linalg.norm(across)
    # while a hand at its full length stays the rigid cut-out (turned, not stretched)
    T0 = part_transforms(rig.rest, rig.rest, 1.0)[PART["hand_l"], :, :2]
    assert np.allclose(T0, np.eye(2))


@pytest.mark.parametrize("name", ["infinitetalk__videos_2.mp4", "mimicmotion__raw_0.mp4"])
def test_a_self_reenactments_head_is_drawn_where_the_real_one_is(name):
    from steadymotion.skeleton import KP, keypoints_from_body

    # given a presenter and a half-body woman, each clip's first frame driven by the clip (4 s):
    # their necks shorten and lengthen in the picture as they slouch, shrug and drop their chins,
    # which their limbs' directions do not show
    rig, seq, plan = _self_plan(name)
    kp = keypoints_from_body(seq.body)
    after = (seq.times - seq.times[0]) > 0.7  # after the blend from the image's pose
    err = np.linalg.norm(plan.keypoints[after, KP["head"]] - kp[after, KP["head"], :2], axis=1)
    # then the head's joint (the ears' midpoint) is drawn where the real one is: its length moves
    # by the reference's change from its first frame, which is the image (median 0.8 and 3.6 px;
    # from the frames posed like the image: 24 px too high and 15 px too low, 2.2 and 2.5 % of
    # the picture's height)
    assert np.median(err) < 0.01 * seq.size[1], np.median(err)


def test_a_body_cut_by_the_bottom_edge_still_reaches_it_when_it_rises():
    """A presenter leaning back rises in the frame: the body must still run out of the picture, not
    end in a straight cut with the background below it (the rig continues parts the image's bottom
    edge cuts; a figure standing above the edge gets nothing added)."""
    from steadymotion.render.puppet import Pose2D, PuppetRenderer, rest_order

    img, rig = _rig("infinitetalk__videos_2.mp4")
    h, w = img.shape[:2]
    ident = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    renderer = PuppetRenderer(rig, rig.size, ident, background=np.array([0, 255, 0], np.uint8))
    lift = 0.06 * h
    out = renderer.render(Pose2D((rig.rest[:, :2] - [0, lift]).astype(np.float32), 1.0, rest_order(rig), ident),
                          coverage=True)
    # where the figure met the bottom edge in the image, the lifted body still covers the bottom rows
    meets = rig.alpha[-1] > 0.9
    assert meets.sum() > 0.2 * w
    bottom = renderer.last_coverage[-int(lift) + 2:, meets]
    assert bottom.mean() > 0.97, bottom.mean()
    green = (out[-int(lift) + 2:, meets] == [0, 255, 0]).all(axis=-1)
    assert green.mean() < 0.01, green.mean()
    # a full figure standing above the edge gets nothing below the picture
    _, full = _rig("mooreanimateanyone__anyone-3.png")
    assert all(part.box[1] + part.texture.shape[0] <= full.size[1] for part in full.parts)


def test_a_frame_line_along_the_pictures_edge_does_not_continue_below_a_rising_skirt():
    """anyone-1 was saved with a light-grey line along its bottom row (and two white columns on the
    right) under a navy skirt: the skirt continued below the picture repeated that line, a light block
    under the skirt as soon as the body rose. The rig mends such lines first; a wall or floor running
    flat to the edge is not a frame and stays."""
    from steadymotion.render.puppet.rig import mend_border_lines

    img, rig = _rig("mooreanimateanyone__anyone-1.png")
    h, w = img.shape[:2]
    assert img[-1].std(axis=0).mean() < 6 and img[-1].mean() > 200  # the line is in the file
    part, a, colour = _texture(rig, "torso")
    below = slice(h - part.box[1], None)  # what continues the skirt below the picture
    assert len(a[below]) > 0.1 * h
    solid = a[below] > 0.98
    assert solid.mean() > 0.3
    lightness = colour[below][solid].mean()
    assert lightness < 80, lightness  # the skirt's navy (the frame line: 240)
    # the mending on its own: a textured picture with a 1-px light line at the bottom and 2 white
    # columns on the right is mended from the lines inside; a plain floor to the edge is left alone
    rng = np.random.default_rng(3)
    pic = rng.integers(0, 120, (60, 80, 3)).astype(np.uint8)
    pic[-1] = 240
    pic[:, -2:] = 255
    out, mended = mend_border_lines(pic)
    assert mended == {"bottom": 1, "right": 2}
    assert (out[-1, :-2] == pic[-2, :-2]).all() and (out[:-1, -1] == pic[:-1, -3]).all()
    plain = pic[:-1, :-2].copy()
    plain[-8:] = 200  # a flat floor 8 rows deep: no step at the edge, no frame
    assert mend_border_lines(plain)[1] == {} and mend_border_lines(plain)[0] is plain


def test_an_rgba_character_keeps_its_own_cut_out():
    from steadymotion.render.puppet import build_rig

    # given a cut-out character (the figure's matte as an 8-bit alpha channel, background transparent)
    img, rig = _rig("mooreanimateanyone__anyone-11.png")
    alpha8 = (rig.alpha * 255).round().astype(np.uint8)
    cut = build_rig(img, alpha=alpha8)
    # then its alpha is the one given, scaled to [0, 1] (a pinhole deep inside the figure may be
    # closed: a rig read back from the cache, whose alpha is stored as float16, gives an alpha8
    # with one such pixel at 233 that comes out solid)
    assert cut.alpha.max() <= 1.0 and cut.alpha.min() >= 0.0
    given = alpha8 / 255.0
    changed = np.abs(cut.alpha - given) > 1e-6
    assert changed.mean() < 1e-4, changed.sum()
    assert (given[changed] >= 0.9).all() and (cut.alpha[changed] == 1.0).all()


def test_self_reenactment_beats_the_frozen_frame_without_lag():
    from steadymotion.pipelines.reenact import self_reenactment

    # given a real full-body clip, its first frame animated by the clip itself (4 s)
    s = self_reenactment(media_path("unianimate__source_video.mp4"), seconds=4.0)
    print(f"\nSSIM {s.ssim:.3f} vs frozen {s.frozen_ssim:.3f}; PSNR {s.psnr:.1f} vs {s.frozen_psnr:.1f} dB; "
          f"limbs {s.limb_error_deg}; lag {s.lag_frames}")
    # then it is clearly closer to the real frames than not moving at all (8 s: 0.674 vs 0.640,
    # 14.7 vs 13.6 dB), its limbs point where the real ones do, and it does not trail them
    assert s.ssim > s.frozen_ssim + 0.01
    assert s.psnr > s.frozen_psnr + 0.3
    assert s.lag_frames == 0
    assert len(s.limb_error_deg) >= 4 and np.median(list(s.limb_error_deg.values())) < 10.0


def test_the_hip_under_a_wrist_is_the_shorts_not_the_jacket():
    from steadymotion.skeleton import PART

    # given the man whose left wrist hangs over the end of his jacket's hem and the shorts below it
    img, rig = _rig("mooreanimateanyone__anyone-11.png")
    # when both arms are raised and the left leg swings out 12 degrees at the hip
    kp = _turned(_arms_raised(rig), "hip_l", ("knee_l", "ankle_l", "toe_l"), -12.0)
    out = _render(rig, kp, background=np.array([1.0, 0.0, 1.0]))
    is_bg = (out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200)
    ys, xs = np.nonzero(rig.labels == PART["hand_l"])
    box = (slice(int(ys.min()) - 30, int(ys.max())), slice(int(xs.min()) - 20, int(xs.max()) + 10))
    # then where the wrist was the shorts show: no solid patch of brown, the jacket's red blended into
    # the navy (the trunk had filled the shorts' waistband from the jacket above it: a brown square
    # of 95 px at the hem's end, riding on the trunk; 9 px then, in the hem's shade; 23 before
    # session 40 and 32 after it: the same thin line of the hem's shade down the shorts, drawn a
    # few pixels thicker where the meshes' triangles changed with their outline)
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
    light, a_ = lab[..., 0] * 100 / 255, lab[..., 1] - 128
    brown = ((light < 45) & (a_ > 8) & (a_ < 40) & ~is_bg).astype(np.uint8)
    patch = int(cv2.morphologyEx(brown, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))[box].sum())
    print(f"\nbrown patch pixels at the hip: {patch}")
    assert patch <= 40, patch


def test_a_raised_arm_leaves_no_line_of_its_edge_beside_the_waist():
    from scipy.ndimage import distance_transform_edt

    from steadymotion.skeleton import PART

    # given UniAnimate's dancer, her left arm hanging beside her waist with a gap of wall between
    # them: the arm's inner edge lies inside the trunk's capsule
    img, rig = _rig("unianimate__source_video.mp4")
    # when both arms are raised, over a magenta background
    out = _render(rig, _arms_raised(rig), background=np.array([1.0, 0.0, 1.0]))
    drawn = ~((out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200))
    arms = np.isin(rig.labels, [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"])
    ys, xs = np.nonzero(np.isin(rig.labels, [PART["upper_arm_l"], PART["forearm_l"]]) & (rig.alpha > 0.5))
    box = (slice(ys.min(), ys.max()), slice(xs.min(), xs.max()))
    body = cv2.erode(((rig.labels >= 0) & ~arms & (rig.alpha >= 0.98)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    away = distance_transform_edt(~body) > 6
    grey = out.astype(float) @ np.array([0.299, 0.587, 0.114])
    stray = int((drawn & away & (grey < 110))[box].sum())
    print(f"\ndark pixels drawn where the arm hung, away from the body: {stray}")
    # then where the arm hung nothing dark is drawn away from the body: the trunk drew the sleeve's
    # shaded edge as a dotted line down her waist (147 such pixels; 61 now, the crease under her
    # arm, which is the trunk's)
    assert stray < 90, stray


@pytest.mark.parametrize("side, turn", [("l", -25.0), ("r", 25.0)])
def test_a_hand_moved_off_the_shorts_takes_no_outline_of_them_along(side, turn):
    from steadymotion.skeleton import KP

    # given the man whose hands hang over the sides of his navy shorts, rest pose
    img, rig = _rig("mooreanimateanyone__anyone-11.png")
    # when one arm swings out about the shoulder, so the hand is over the white wall
    kp = _turned(rig.rest[:, :2].copy(), f"shoulder_{side}", [f"{j}_{side}" for j in ("elbow", "wrist", "hand")], turn)
    out = _render(rig, kp)
    c = kp[KP[f"hand_{side}"]]
    x0, y0 = int(c[0]) - 45, int(c[1]) - 45
    box = out[y0:y0 + 90, x0:x0 + 90].astype(float)
    grey = box @ np.array([0.299, 0.587, 0.114])
    wall = cv2.dilate((grey > 160).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert wall.mean() > 0.4 and (grey > 120).mean() > 0.8  # the hand is out over the wall
    # then its outline against the wall is the hand's: no dark line of the shorts' colour (the hand's
    # edge pixels and its one-pixel seam there were navy: 43 and 192 such pixels beside the left and
    # right hand before; 11 and 20 now, the creases between the fingers)
    dark = (grey < 100) & (box[..., 0] < 1.6 * box[..., 2])  # dark and not the red cuff
    assert (dark & wall).sum() <= 30, (dark & wall).sum()


def test_a_hand_on_a_cuff_takes_no_piece_of_it_along():
    # given the woman whose right hand lies over the shaded end of her denim cuff
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    part, a, rgb = _texture(rig, "hand_r")
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    solid = a > 0.5
    mu = np.median(lab[solid], axis=0)
    # then the hand's texture is the hand: hardly a pixel in a colour unlike its skin (chroma over 25
    # from its median). The colour cut had carried the navy cuff's end along as a dark wedge at the
    # thumb (58 such pixels, riding on the hand whenever it moved); now 3
    cloth = solid & (np.hypot(lab[..., 1] - mu[1], lab[..., 2] - mu[2]) > 25)
    assert solid.sum() > 2500 and cloth.sum() <= 10, cloth.sum()
    # and the cuff's end is the thigh's, so the hem fill under the hand meets it
    x0, y0 = part.box
    th, tw = a.shape
    from steadymotion.skeleton import PART

    near = np.zeros(rig.labels.shape, bool)
    near[y0:y0 + th, x0:x0 + tw] = cloth | cv2.dilate(solid.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    cuff = near & (rig.labels == PART["thigh_r"]) & (cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0] < 60)
    assert cuff.sum() > 20, cuff.sum()


def test_the_shorts_under_a_hand_are_filled_in_their_own_tone():
    # given the man whose hands hang over the sides of his navy shorts (shaded across the thigh)
    img, rig = _rig("mooreanimateanyone__anyone-11.png")
    for name in ("thigh_l", "thigh_r"):
        part, a, rgb = _texture(rig, name)
        x0, y0 = part.box
        th, tw = part.texture.shape[:2]
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        filled, own = _filled_and_own(rig, name, a)
        # (the shorts around it, past the hand's shadow: the 7 px next to it are darker, L 19 at their
        # 5th percentile, and the fill rightly takes the tone of the cloth, not of the shadow)
        ring = cv2.dilate(filled.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool) & own
        ring &= ~cv2.dilate(filled.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
        assert filled.sum() > 500 and ring.sum() > 500, name
        # then what the hand hid is filled with the shorts' tone around it, not a darker or lighter
        # patch (measured on this ring: 1.9 and 0.1 OpenCV L units off; 2.9 and 0.6 with session
        # 13's mirrored fill)
        assert abs(lab[filled, 0].mean() - lab[ring, 0].mean()) < 4.0, name


def test_the_shorts_filled_under_a_hand_keep_the_denims_grain():
    """Patches voted over average out denim's fine twill: the shorts filled under anyone-3's right
    hand were a flat block of blue beside the grainy denim. The grain (lightness under a 1.5 px
    blur, its median absolute deviation) of the filled denim is now most of the shorts' own."""
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    part, a, rgb = _texture(rig, "thigh_r")
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    light = lab[..., 0].astype(np.float32)
    filled, own = (m & (a > 0.99) for m in _filled_and_own(rig, "thigh_r", a))
    denim = lab[..., 2] < 118  # (blue: not the bare thigh below the cuff)

    def inside(m):
        return cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)

    grain = light - cv2.GaussianBlur(light, (0, 0), 1.5)
    f, o = inside(filled & denim), inside(own & denim)
    assert f.sum() > 1000 and o.sum() > 500, (f.sum(), o.sum())
    fill_g, own_g = (1.4826 * float(np.median(np.abs(grain[m]))) for m in (f, o))
    print(f"\ngrain of the filled denim {fill_g:.2f}, of the shorts' own {own_g:.2f}")
    assert fill_g >= 0.6 * own_g, (fill_g, own_g)  # was 1.33 against 3.98
    # and no more than theirs: grain, not noise
    assert fill_g <= 1.2 * own_g, (fill_g, own_g)


def test_the_trunks_fill_where_a_wrist_lay_on_the_shorts_holds_no_skin():
    """The patch votes that smooth the trunk's fill (refine_patches) matched its edge with the
    forearm lying beside it as it is: patches of the bare waist's edge won, and a pale line of skin
    stayed on anyone-3's shorts at her hip, with a tab of it past their side, once her right arm rose."""
    from steadymotion.skeleton import PART

    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    h, w = img.shape[:2]
    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    th, tw = min(a.shape[0], h - y0), min(a.shape[1], w - x0)
    light = np.zeros((h, w), np.float32)
    solid = np.zeros((h, w), bool)
    light[y0:y0 + th, x0:x0 + tw] = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[:th, :tw, 0]
    solid[y0:y0 + th, x0:x0 + tw] = a[:th, :tw] > 0.99
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    own = (rig.labels == PART["torso"]) & (rig.filled != 2) & (rig.alpha > 0.9)
    denim, skin = own & (lab[..., 2] < 118), own & (lab[..., 2] > 128) & (lab[..., 0] > 120)

    def near(m, r):
        return cv2.dilate(m.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)

    # the trunk's fill beside its own denim, away from its bare waist, by her right wrist and hand
    wrist = near(np.isin(rig.labels, [PART["hand_r"], PART["forearm_r"]]), 20)
    fill = solid & (rig.filled == 2) & near(denim, 6) & ~near(skin, 6) & wrist
    pale = fill & (light > np.median(lab[..., 0][denim]) + 40)
    assert fill.sum() > 40, fill.sum()
    assert pale.sum() <= 2, pale.sum()  # was 10 of 80


def test_the_shadow_a_hand_casts_on_the_shorts_leaves_no_dark_outline():
    # given the man whose left hand hangs over the side of his navy shorts, casting a shadow on them
    img, rig = _rig("mooreanimateanyone__anyone-11.png")
    part, a, rgb = _texture(rig, "thigh_l")
    x0, y0 = part.box
    th, tw = part.texture.shape[:2]
    light = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    filled, own = _filled_and_own(rig, "thigh_l", a)
    d = cv2.distanceTransform((~filled).astype(np.uint8), cv2.DIST_L2, 5)
    band, ring = own & (d >= 1) & (d <= 10), own & (d > 20) & (d <= 40)
    # (the shorts' tone farther out, spread over the band: they are shaded across the thigh)
    m = ring.astype(np.float32)
    lit = cv2.GaussianBlur(light * m, (0, 0), 15) / np.maximum(cv2.GaussianBlur(m, (0, 0), 15), 1e-6)
    dark = float((band & (lit - light > 10)).sum() / band.sum())
    print(f"\nshorts within 10 px of the fill 10 L darker than beyond: {dark:.3f}")
    # then the shorts right beside what the hand hid are as light as the shorts farther out: the
    # hand's shadow does not stay behind as a dark outline of the hand once it moves (measured 0.006;
    # 0.266 before the shadow was relit)
    assert band.sum() > 500
    assert dark < 0.05, dark


def test_a_cast_shadow_is_relit_in_its_own_garment_keeping_its_texture():
    from steadymotion.render.puppet.fill import lift_cast_shadow

    # given a textured grey cloth with a black cuff along its bottom, a square hand over both and
    # the hand's shadow, 40 % darker, in a 10 px band to the hand's left
    rng = np.random.default_rng(3)
    h, w = 160, 200
    cloth = np.full((h, w, 3), 0.55, np.float32) + rng.normal(0, 0.03, (h, w, 1)).astype(np.float32)
    cloth[120:] = 0.08 + rng.normal(0, 0.01, (h - 120, w, 1)).astype(np.float32)
    cover = np.zeros((h, w), bool)
    cover[50:140, 90:130] = True
    shadow = np.zeros((h, w), bool)
    shadow[50:118, 80:90] = True
    img = cloth.copy()
    img[shadow] *= 0.6
    out = img.copy()
    lifted = lift_cast_shadow(out, cover, np.ones((h, w), bool), 16)
    # then the shadow takes the cloth's own tone ...
    inner = shadow.copy()
    inner[:, 80:82] = False  # (its first two columns are eased in)
    assert lifted[shadow].mean() > 0.95
    assert abs(out[inner].mean() - cloth[inner].mean()) < 0.02, (out[inner].mean(), cloth[inner].mean())
    # ... and keeps its texture (the grain scaled, not blurred flat) ...
    ratio = out[inner, 0].std() / cloth[inner, 0].std()
    assert 0.8 < ratio < 1.25, ratio
    # ... while the cloth away from the hand, and the black cuff beside it, are left as they were
    assert np.array_equal(out[:, :60], img[:, :60])
    cuff = np.zeros((h, w), bool)
    cuff[122:, 60:90] = True
    assert np.abs(out[cuff] - img[cuff]).max() < 0.01


@pytest.mark.parametrize("name", ["mooreanimateanyone__anyone-3.png", "mooreanimateanyone__anyone-11.png"])
def test_the_trunk_beside_an_arm_is_filled_with_its_garment_not_its_shaded_edge(name):
    # given a woman in a ruffled top and a man in an open jacket, arms hanging beside the trunk: the
    # garment's edge next to the arm is in shade (a fold of the ruffle, the jacket's side)
    img, rig = _rig(name)
    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    th, tw = part.texture.shape[:2]
    L = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    filled, own = _filled_and_own(rig, "torso", a)
    assert filled.sum() > 3000, filled.sum()
    # then what the arms hid is no darker than the garments themselves: the share of its pixels
    # under 0.6 of their row's median (the trunk's own pixels on that row) is the trunk's own share.
    # Mirroring the shaded edge inward (session 13's fill) made a dark block beside her arm: 0.188
    # against 0.127, and 0.194 against 0.163 on his jacket; patches of the garment: 0.140, 0.169.
    # (Her bare waist's rows hold the shorts' waistband at the fill's end, dark against the skin
    # there: with the forearm's skin no longer voted into it, 15 more pixels of denim, 0.205 against
    # 0.185; with her arm's shaded inner edge beside the top the arm's, the fill under the arm
    # reaches a little further and continues the waistband 48 pixels more, 79 % of them blue denim,
    # all in the waist's rows: 0.210 against 0.185. A mirrored shaded edge adds 0.06)
    rows = [y for y in range(th) if own[y].sum() >= 20]
    med = np.full(th, np.inf, np.float32)
    med[rows] = [np.median(L[y, own[y]]) for y in rows]
    dark = L < 0.6 * med[:, None]
    fill_dark = (dark & filled)[rows].sum() / max(filled[rows].sum(), 1)
    own_dark = (dark & own)[rows].sum() / own[rows].sum()
    assert fill_dark <= own_dark + 0.03, (fill_dark, own_dark)


def test_a_bare_arms_shaded_edge_beside_a_top_is_the_arms():
    # given a woman in a grey top, her bare arms hanging beside it: the arm's inner edge in shade is
    # tan, nearer the top's grey than the arm's lit skin by lightness alone
    from steadymotion.skeleton import PART

    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    th, tw = a.shape
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    top = (a > 0.5) & (chroma < 6) & (lab[..., 0] < 150)
    assert top.sum() > 5000
    # then the trunk's layer (what stays when the arm moves) holds no skin beside the top: pixels
    # of skin's colour, lighter than the top (her hair, of the skin's hue, lying beside it on her
    # other side is darker), within 8 px of the top along the row and near an upper arm
    c = rgb.astype(int)
    skin = (a > 0.5) & (c[..., 0] - c[..., 2] > 35) & (c[..., 1] - c[..., 2] > 10) & (lab[..., 0] > np.median(lab[..., 0][top]) + 20)
    beside = cv2.dilate(top.astype(np.uint8), np.ones((1, 17), np.uint8)).astype(bool) & ~top
    counts = {}
    for s in "lr":
        arm = (rig.labels == PART[f"upper_arm_{s}"])[y0:y0 + th, x0:x0 + tw]
        near = cv2.dilate(arm.astype(np.uint8), np.ones((13, 13), np.uint8)).astype(bool)
        counts[s] = int((skin & beside & near).sum())
    print(f"\nskin pixels on the trunk's layer beside the top: {counts}")
    # (measured: 10 on her left, 0 on her right; 54 on her left before, a tan line down the top's
    # edge once her arm rose, when the top's soft edge against the arm was grown into its shade)
    assert max(counts.values()) <= 20, counts


def test_a_forearm_across_a_corset_hides_corset_not_blouse_or_buttons():
    from steadymotion.skeleton import KP

    # given a woman whose right forearm lies across her dark corset (gold buttons on it), the white
    # blouse above and the sleeve running up beside the trunk
    img, rig = _rig("mooreanimateanyone__anyone-1.png")
    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    th, tw = min(part.texture.shape[0], img.shape[0] - y0), min(part.texture.shape[1], img.shape[1] - x0)
    a, rgb = a[:th, :tw], rgb[:th, :tw]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    filled, own = _filled_and_own(rig, "torso", a)
    # (the rows of the trunk's lower half where it shows dark cloth: corset and skirt, under 10 %
    # light pixels of its own)
    light = lab[..., 0] > 170
    mid = int(0.5 * (rig.rest[KP["neck"], 1] + rig.rest[KP["pelvis"], 1])) - y0
    rows = [y for y in range(max(mid, 0), th) if own[y].sum() >= 40 and light[y, own[y]].mean() < 0.1 and filled[y].sum() >= 5]
    assert len(rows) > 40 and filled[rows].sum() > 3000, (len(rows), filled[rows].sum())
    # then what the forearm hid there is that cloth: no white blocks of the blouse laid into it
    # (the sleeve beside the arm was taken for the garment under it: 3.1 % light; 1.4 % now, all of
    # it a 10-row wedge where blouse and corset meet beside the sleeve) ...
    fill_light = light[rows][filled[rows]].mean()
    # ... and no buttons copied into it (gold: b* over 140 in OpenCV's units; 0.32 % before, none now)
    gold = (lab[..., 2] > 140)[rows][filled[rows]].mean()
    print(f"fill light {fill_light:.4f} gold {gold:.4f} over {filled[rows].sum()} px")
    assert fill_light < 0.02 and gold < 0.001, (fill_light, gold)


def _along_neck(rig) -> np.ndarray:
    """Each pixel's height along the neck -> head axis: 0 on the shoulder line, 1 at the head point."""
    from steadymotion.skeleton import KP

    neck, top = rig.rest[KP["neck"], :2], rig.rest[KP["head"], :2]
    L = float(np.hypot(*(top - neck)))
    yy, xx = np.mgrid[0:rig.labels.shape[0], 0:rig.labels.shape[1]]
    return ((xx - neck[0]) * (top - neck)[0] + (yy - neck[1]) * (top - neck)[1]) / L**2


def test_dark_hair_over_a_blue_sleeve_stays_with_the_head_when_the_arm_rises():
    """demo1's long dark hair lies over most of her left upper arm's blue sleeve, so the arm's median
    colour was the hair's and the sleeve was taken for one of the hair's colour (which cannot be
    told from it): the hair rode on the raised arm as a round lock. The sleeve's colour is read on the
    forearm when its hue differs; the hair stays with the trunk and the arm goes on under it."""
    from steadymotion.motion.kinematics import arms_out
    from steadymotion.skeleton import KP, PART

    img, rig = _rig("mimicmotion__demo1.jpg")
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)

    def hair(c):  # dark and brown (the sleeve is as dark, but blue: b* near 108)
        return (c[..., 0] < 90) & (c[..., 2] > 122)

    arm = rig.labels == PART["upper_arm_l"]
    share = float(hair(lab[arm]).mean())
    assert share < 0.1, share  # was 0.47
    # the arm is whole under the hair: a piece filled in its own colours goes on under it
    under = [u for u in rig.under if u.name == "upper_arm_l"]
    assert under and (under[0].texture[..., 3] > 230).sum() > 3000
    filled_hair = hair(cv2.cvtColor((under[0].texture[..., :3]).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32))
    assert filled_hair[under[0].texture[..., 3] > 230].mean() < 0.1
    # raised, the arm carries no lock: few of its drawn pixels off the trunk are the hair's brown
    out = _render(rig, arms_out(rig.rest, 60.0), background=(1.0, 0.0, 1.0))
    shoulder = rig.rest[KP["shoulder_l"], :2]
    ys, xs = np.mgrid[: out.shape[0], : out.shape[1]]
    above = (ys < shoulder[1] + 40) & (xs > shoulder[0] + 60)  # up and out, where the raised arm is
    drawn = above & ~((out[..., 1] < 60) & (out[..., 0] > 200) & (out[..., 2] > 200))
    brown = hair(cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)) & drawn
    assert drawn.sum() > 10000
    assert brown.sum() < 0.05 * drawn.sum(), brown.sum() / drawn.sum()


def test_a_blonde_lock_over_a_bare_arm_stays_with_the_head_when_the_arm_rises():
    from steadymotion.motion.kinematics import arms_out
    from steadymotion.skeleton import KP, PART

    # given the woman whose long blonde hair hangs over her bare right upper arm (colour alone cannot
    # tell those strands from her tanned skin)
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    h, w = img.shape[:2]
    light = cv2.GaussianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), (0, 0), 0.8)
    strands = cv2.GaussianBlur(np.abs(cv2.Laplacian(light, cv2.CV_32F, ksize=3)), (0, 0), 2.0)
    hair_tex = float(np.median(strands[rig.labels == PART["head"]]))
    # the lock: strand-textured solid pixels over the upper arm's bone, past its shoulder end
    s, e = rig.rest[KP["shoulder_r"], :2].astype(np.float64), rig.rest[KP["elbow_r"], :2].astype(np.float64)
    yy, xx = np.mgrid[0:h, 0:w]
    rel = np.stack([xx - s[0], yy - s[1]], -1)
    u = (e - s) / np.linalg.norm(e - s)
    t, v = rel @ u / np.linalg.norm(e - s), np.abs(rel @ np.array([-u[1], u[0]]))
    lock = (t > 0.15) & (t < 0.9) & (v < rig.radius[PART["upper_arm_r"]]) & (strands > 0.5 * hair_tex) & (rig.alpha > 0.95)
    assert lock.sum() > 1500
    # when both arms rise 35 degrees above the horizontal
    out = _render(rig, arms_out(rig.rest, 35.0), background=(1.0, 0.0, 1.0))
    # then the lock still hangs where it did (its pixels keep their colours: the arm went out from
    # under it), instead of riding on the arm: 0.87 of them, 0.52 when the upper arm carried it
    lab_i, lab_o = (cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(np.float32) for x in (img, out))
    kept = float((np.linalg.norm(lab_i - lab_o, axis=-1) < 20)[lock].mean())
    # and the arm's own texture holds few strands (3856 strand-textured pixels before, 884 now)
    p = next(q for q in rig.parts if q.name == "upper_arm_r")
    x0, y0 = p.box
    th, tw = p.texture.shape[:2]
    carried = int(((p.texture[..., 3] > 128) & (strands[y0:y0 + th, x0:x0 + tw] > 0.5 * hair_tex)).sum())
    print(f"\nlock pixels kept {kept:.2f}; strands on the upper arm {carried}")
    assert kept > 0.75 and carried < 1500, (kept, carried)


@pytest.mark.parametrize("name, moves", [("unianimate__source_video.mp4", True), ("mooreanimateanyone__anyone-3.png", False),
                                         ("infinitetalk__videos_2.mp4", False), ("mooreanimateanyone__anyone-11.png", False)])
def test_hair_hanging_to_the_shoulders_moves_with_the_head_and_long_hair_stays(name, moves):
    from steadymotion.skeleton import PART

    # given a woman with a bob whose ends lie on her sweater's shoulders; a woman whose long hair
    # hangs down her chest; two men with short hair (the shaded side of their necks is the hair's
    # colour)
    img, rig = _rig(name)
    along = _along_neck(rig)
    head, torso = rig.labels == PART["head"], rig.labels == PART["torso"]
    L = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0]
    # the trunk's pixels within 8 px of the head, away from the neck (the shirt or hair under the
    # head's edge)
    from steadymotion.skeleton import KP

    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    th, tw = (min(n, m - o) for n, m, o in zip(part.texture.shape[:2], head.shape, (y0, x0)))  # (within the picture)
    a, rgb = a[:th, :tw], rgb[:th, :tw]
    on_head = head[y0:y0 + th, x0:x0 + tw]
    near = cv2.dilate(on_head.astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool) & ~on_head & (a > 0.5)
    neck, top = rig.rest[KP["neck"], :2] - (x0, y0), rig.rest[KP["head"], :2] - (x0, y0)
    u = (top - neck) / np.hypot(*(top - neck))
    yy, xx = np.mgrid[0:th, 0:tw]
    near &= np.abs((xx - neck[0]) * u[1] - (yy - neck[1]) * u[0]) > 0.45 * rig.radius[PART["head"]]
    assert near.sum() > 200
    if moves:
        # then the bob's ends are the head's: no dark hair pixel above the shoulder line stays with
        # the trunk (1894 did, and stayed as a ragged cut across the hair, with a patch of the
        # sweater's fill beside it, whenever the head tilted)
        left = torso & (rig.alpha > 0.5) & (L < 80) & (along > -0.1) & (along < 0.5)
        assert left.sum() < 100, left.sum()
        # and the sweater under them holds neither the hair's soft edge nor its shadow: beside the
        # head the trunk's texture is no darker than the sweater there (4 pixels 20 L units under its
        # median; 134 before, a dark curve on the shoulder wherever the head tilted)
        tex_l = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
        assert (near & (tex_l < np.median(tex_l[near]) - 20)).sum() <= 20
    else:
        # and long hair stays with the body (nothing of it below the shoulders is the head's), short
        # hair takes no piece of the neck or collar (none of the head reaches below the shoulder line)
        assert (head & (along < -0.05)).sum() < 50, (head & (along < -0.05)).sum()
        # and what lies beside the head's edge is the image's own: long hair's strands there are
        # hair, not a shadow to fill (a first rule filled 394 of anyone-3's, a band across her hair)
        own = (rig.labels[y0:y0 + th, x0:x0 + tw] == PART["torso"]) & (rig.filled[y0:y0 + th, x0:x0 + tw] == 2)
        assert (near & own).sum() <= 20, (near & own).sum()


def _through_mesh(part, T, target, rest, points: np.ndarray) -> np.ndarray:
    """Where ``part``'s skinned mesh puts ``points`` (x, y, master pixels at rest): barycentric in the
    rest triangle holding each point, applied to the deformed corners (the renderer's own map);
    NaN for points off the mesh."""
    from steadymotion.render.puppet.renderer import _skin_vertices

    v = part.vertices.astype(np.float64)
    dv = _skin_vertices(part, T, v, target, rest)
    a, b, c = (v[part.triangles[:, k]] for k in range(3))
    e1, e2 = b - a, c - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    q = points[:, None, :] - a[None]
    l1 = (q[..., 0] * e2[:, 1] - q[..., 1] * e2[:, 0]) / det
    l2 = (e1[:, 0] * q[..., 1] - e1[:, 1] * q[..., 0]) / det
    inside = (l1 >= -1e-6) & (l2 >= -1e-6) & (l1 + l2 <= 1 + 1e-6)
    f = inside.argmax(axis=1)
    i = np.arange(len(points))
    A, B, C = (dv[part.triangles[f, k]] for k in range(3))
    out = A + l1[i, f, None] * (B - A) + l2[i, f, None] * (C - A)
    out[~inside.any(axis=1)] = np.nan
    return out


@pytest.mark.parametrize("name", ["mooreanimateanyone__anyone-3.png", "infinitetalk__videos_2.mp4",
                                  "unianimate__source_video.mp4", "mooreanimateanyone__anyone-11.png"])
def test_the_neck_bends_and_keeps_the_head_on_the_trunk(name):
    from steadymotion.pose.extract import pose_from_image
    from steadymotion.render.puppet import part_transforms
    from steadymotion.render.puppet.cutout import face_hull
    from steadymotion.skeleton import KP, PART

    # given a real figure: long hair lying across the neck's seam (anyone-3), a presenter in a
    # black T-shirt, a bob, a hooded jacket
    img, rig = _rig(name)
    head, torso = next(p for p in rig.parts if p.name == "head"), next(p for p in rig.parts if p.name == "torso")
    lab = rig.labels
    seam = (lab == PART["head"]) & (rig.alpha > 0.5)
    seam &= cv2.dilate((lab == PART["torso"]).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ys, xs = np.nonzero(seam)
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    assert len(pts) > 100
    face = pose_from_image(img).face[0]
    neck, top = rig.rest[KP["neck"], :2], rig.rest[KP["head"], :2]
    u = (top - neck) / np.hypot(*(top - neck))
    fy, fx = np.nonzero(face_hull(face, lab.shape) & (lab == PART["head"]))
    fpts = np.stack([fx, fy], axis=1)[::7].astype(np.float64)
    fpts = fpts[(fpts - neck) @ u >= (face[152, :2] - neck) @ u]  # the face above the chin
    rest = rig.rest[:, :2].astype(np.float64)
    for turn, stretch in ((-12, 1.0), (12, 1.0), (0, 1.15), (10, 1.15)):
        # when the head tilts and the neck grows longer (the reference's head moving off its shoulders)
        kp = rest.copy()
        t = np.radians(turn)
        kp[KP["head"]] = neck + stretch * (np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ (top - neck))
        T = part_transforms(rig.rest, kp, 1.0)
        # then the head's and the trunk's meshes carry every point of their seam to the same place:
        # the hair across it and the neck bend, nothing tears (99th percentile of the gap 0-1.8 px;
        # the two were rigid layers: 15-41 px at a 12-degree tilt, anyone-3's hair cut in two with a
        # blade of the trunk's fill between the pieces)
        gap = np.linalg.norm(_through_mesh(head, T, kp, rest, pts) - _through_mesh(torso, T, kp, rest, pts), axis=1)
        # (the seam's points on both meshes: the trunk's mesh is its outline's simplified hull, which
        # cuts the corners beside the neck, where the head covers it)
        gap = gap[np.isfinite(gap)]
        assert len(gap) > 0.6 * len(pts)
        assert np.percentile(gap, 99) < 0.0025 * max(img.shape[:2]), (turn, stretch, np.percentile(gap, [50, 99]))
        # and the face above the chin moves as one rigid piece (no face is bent)
        rigid = fpts @ T[PART["head"], :, :2].T + T[PART["head"], :, 2]
        assert np.abs(_through_mesh(head, T, kp, rest, fpts) - rigid).max() < 0.5


def test_a_fill_spanning_two_garments_takes_each_garments_tone():
    from steadymotion.render.puppet.fill import match_tone

    # given navy cloth around a hole filled a shade too dark, and a hole over the hem of a pair of
    # shorts and the bare leg below it, its shorts part too dark and its leg part too light and pink
    rng = np.random.default_rng(0)
    cloth = np.clip(rng.normal((40, 45, 80), 3, (80, 80, 3)), 0, 255).astype(np.uint8)
    hole = np.zeros((80, 80), bool)
    hole[25:55, 25:55] = True
    known = ~cv2.dilate(hole.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    dark = cloth.copy()
    dark[hole] = (dark[hole] * 0.7).astype(np.uint8)
    leg = np.clip(rng.normal((200, 160, 140), 3, (80, 80, 3)), 0, 255).astype(np.uint8)
    truth = cloth.copy()
    truth[45:] = leg[45:]  # the hem at row 45: shorts above, skin below
    two = truth.copy()
    two[25:45, 25:55] = (two[25:45, 25:55] * 0.7).astype(np.uint8)
    two[45:55, 25:55] = np.clip(two[45:55, 25:55].astype(int) + (30, 10, 20), 0, 255).astype(np.uint8)
    # when their tone is matched, then the dark fill moves to the cloth's tone ...
    fixed = match_tone(dark.copy(), hole, known, reach=6)
    assert abs(fixed[hole].astype(float).mean() - cloth[known].astype(float).mean()) < 3
    # ... and each garment of the two-garment fill towards its own garment's tone (the fill's own
    # step at the hem is kept, so what it differs from the truth's is spread over the hole)
    out = match_tone(two.copy(), hole, known, reach=6).astype(float)
    for rows in (slice(25, 45), slice(45, 55)):
        before = np.abs(two[rows, 25:55].astype(float).mean(axis=(0, 1)) - truth[rows, 25:55].astype(float).mean(axis=(0, 1)))
        err = np.abs(out[rows, 25:55].mean(axis=(0, 1)) - truth[rows, 25:55].astype(float).mean(axis=(0, 1)))
        print(f"rows {rows.start}-{rows.stop}: {before.round(1)} levels off before, {err.round(1)} after")
        assert err.max() < 10 and err.max() < 0.5 * before.max(), (rows, before, err)


def test_a_band_hidden_across_one_garment_is_laid_out_as_that_garment():
    """A forearm across a dark corset from the trunk's outline to the other arm: walking across the
    trunk from under it meets nothing either way. Above and below lies the same dark cloth, with
    a thin light line (the arm's outline left on the trunk) along the hole's edge: the band is that
    cloth, not unassigned and not the line's colour."""
    from steadymotion.render.puppet.fill import hidden_garments

    h, w = 60, 80
    garment = np.zeros((h, w), np.int8)  # 0: the dark cloth
    garment[:8] = 1  # 1: a white blouse at the top
    garment[24] = 1  # a one-pixel light line along the hole's top edge
    hole = np.zeros((h, w), bool)
    hole[25:41] = True
    known = ~hole
    under = hidden_garments(garment, hole, known, (40.0, 0.0), (40.0, 59.0))
    assert (under[hole] == 0).all(), np.unique(under[hole], return_counts=True)
    # where the cloth above and below is far apart (more than 1.5 times the hole's width), a top
    # may lie hidden between two bare bands: nothing is assumed
    garment[:] = 0
    garment[8:24] = 1
    garment[41:55] = 1
    hole2 = np.zeros((h, w), bool)
    hole2[24:41] = True
    garment[hole2] = 0
    known2 = ~hole2
    known2[8:24] = False  # the top above is hidden too (under crossed arms): the walk meets skin far up
    known2[41:55] = False
    under2 = hidden_garments(garment, hole2, known2, (40.0, 0.0), (40.0, 59.0))
    assert (under2[hole2] < 0).all()


def test_no_thin_spur_of_the_trunk_hangs_along_an_arm():
    from scipy.ndimage import label as connected

    from steadymotion.skeleton import PART

    # given a woman whose white sleeves are her white blouse's colour (a ruffle's hem across the
    # upper arm, a gap of sky under the armpit)
    name = "mooreanimateanyone__anyone-1.png"
    img, rig = _rig(name)
    trunk = (rig.labels == PART["torso"]).astype(np.uint8)
    # then the trunk has no piece thinner than 0.6 of an arm's half-width (what an opening by that
    # disc takes off it) whose labelled border is mostly one arm's: such a spur stayed on the trunk,
    # torn off, when the arm rose (917 px of ruffle hem and sleeve edge; 92 now, at the shoulder)
    spurs = 0
    for side in "lr":
        up, fo = PART[f"upper_arm_{side}"], PART[f"forearm_{side}"]
        d = max(3, int(round(0.6 * rig.radius[up])) | 1)
        opened = cv2.morphologyEx(trunk, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
        pieces, n = connected(trunk.astype(bool) & ~opened.astype(bool), structure=np.ones((3, 3), bool))
        for c in range(1, n + 1):
            piece = pieces == c
            ring = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~piece
            nb = rig.labels[ring]
            nb = nb[nb >= 0]
            if piece.sum() >= 20 and len(nb) and np.isin(nb, [up, fo]).mean() >= 0.5:
                spurs += int(piece.sum())
    print(f"{name}: {spurs} px of trunk spurs along the arms")
    assert spurs < 150, spurs


def test_an_arm_beside_a_gap_of_sky_leaves_no_strip_of_trunk_when_it_rises():
    from steadymotion.motion.kinematics import arms_out
    from steadymotion.skeleton import KP, PART

    # given a woman with a gap of sky between her trunk and her hanging left arm, under the armpit
    img, rig = _rig("mooreanimateanyone__anyone-1.png")
    h, w = rig.labels.shape
    figure = (rig.labels >= 0) & (rig.alpha > 0.5)
    neck, pel = rig.rest[KP["neck"], :2], rig.rest[KP["pelvis"], :2]
    armpit = max(rig.rest[KP["shoulder_l"], 1], rig.rest[KP["shoulder_r"], 1]) + rig.radius[PART["upper_arm_l"]]
    arm = np.isin(rig.labels, [PART["upper_arm_l"], PART["upper_arm_r"]])
    beyond = np.zeros((h, w), bool)
    for y in range(int(np.ceil(armpit)), h):
        xc = int(round(neck[0] + (y - neck[1]) / (pel[1] - neck[1]) * (pel[0] - neck[0])))
        bg = ~figure[y]
        beyond[y, xc:] = np.cumsum(bg[xc:]) >= 2
        beyond[y, :xc + 1] |= np.cumsum(bg[:xc + 1][::-1])[::-1] >= 2
    beyond &= arm
    assert beyond.sum() > 150, beyond.sum()
    # when both arms rise 35 degrees over a magenta ground
    out = _render(rig, arms_out(rig.rest, 35.0), background=(1.0, 0.0, 1.0)).astype(np.int32)
    ground = (out[..., 1] < 60) & (out[..., 0] > 200) & (out[..., 2] > 200)
    # then where the arm hung past the gap the ground shows: no strip of the trunk's fill floats
    # there beside the gap (it did, 4-8 px wide, the trunk's side filled to its quad: 0.933)
    share = float(ground[beyond].mean())
    print(f"ground past the gap {share:.3f} of {beyond.sum()} px")
    assert share > 0.98, share


def test_a_forearm_across_a_corset_below_a_sleeve_is_laid_out_as_the_corset():
    """A forearm across the corset, the hole running on up beside the upper arm to the blouse:
    walking up from under the forearm meets the blouse, walking down the corset. The corset, met
    within the forearm's width, is what it hid; the blouse far up is not. (The forearm runs from
    the trunk's outline to the other arm: walking across from under it meets nothing.)"""
    from steadymotion.render.puppet.fill import hidden_garments

    h, w = 60, 80
    garment = np.zeros((h, w), np.int8)  # 0: the dark corset
    garment[:16] = 1  # 1: the white blouse above
    hole = np.zeros((h, w), bool)
    hole[30:38] = True  # the forearm
    hole[14:30, 60:70] = True  # the upper arm's hole running up beside the trunk
    known = ~hole
    under = hidden_garments(garment, hole, known, (40.0, 0.0), (40.0, 59.0))
    band = np.zeros_like(hole)
    band[30:38] = True
    assert (under[band] == 0).all(), np.unique(under[band], return_counts=True)


def test_a_button_in_a_garment_map_takes_the_garment_around_it():
    from steadymotion.render.puppet.fill import _islands_to_surround

    # given a label map of a dark corset (0) with four small light buttons (1), a large light blouse
    # (1) above and a button half under an arm (its ring mostly unseen)
    garment = np.zeros((200, 200), np.int64)
    garment[:80] = 1
    known = np.ones_like(garment, bool)
    for y, x in ((110, 60), (110, 140), (160, 60), (160, 140)):
        garment[y - 3:y + 4, x - 3:x + 4] = 1
    garment[190:197, 95:102] = 1
    known[188:200, 90:200] = False
    known[190:197, 95:102] = True
    out = _islands_to_surround(garment.copy(), known)
    # then the buttons are the corset, the blouse stays the blouse and the half-seen button stays
    assert (out[100:180, 40:160] == 0).all()
    assert (out[:80] == 1).all()
    assert (out[190:197, 95:102] == 1).all()


def test_the_hem_under_a_hand_runs_on_as_a_line_over_smooth_skin():
    # given a woman whose right hand lies over the hem of her denim shorts and the bare thigh below
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    part, a, rgb = _texture(rig, "thigh_r")
    x0, y0 = part.box
    th, tw = part.texture.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    filled, own = _filled_and_own(rig, "thigh_r", a)
    denim = np.median(lab[own & (lab[..., 0] < 100)], axis=0)
    skin = np.median(lab[own & (lab[..., 0] > 150)], axis=0)
    is_skin = np.linalg.norm(lab - skin, axis=2) < np.linalg.norm(lab - denim, axis=2)

    def hem(c: int, where: np.ndarray) -> int | None:
        """The first row of column ``c`` of ``where`` that starts a run of 3 skin pixels below denim."""
        rows = np.flatnonzero(where[:, c])
        s = is_skin[rows, c]
        runs = [k for k in range(1, len(s) - 2) if s[k:k + 3].all() and not s[k - 1]]
        return int(rows[runs[0]]) if runs else None

    # when what the hand hid is filled, then the hem runs on under it as a line at the height it
    # has beside the hand, not in steps of a patch's height ...
    under = [h for c in range(tw) if filled[:, c].sum() >= 10 and (h := hem(c, filled)) is not None]
    fill_cols = np.flatnonzero(filled.any(axis=0))
    beside = [h for c in range(fill_cols.max() + 1, min(tw, fill_cols.max() + 16)) if (h := hem(c, own)) is not None]
    assert len(under) > 30 and len(beside) > 5
    spread, off = max(under) - min(under), abs(np.median(under) - np.median(beside))
    # ... and the bare thigh below it is as smooth as the thigh around it (no streaks or blocks)
    lap = np.abs(cv2.Laplacian(lab[..., 0], cv2.CV_32F, ksize=3))
    k5 = np.ones((5, 5), np.uint8)
    skin_fill = cv2.erode((filled & is_skin).astype(np.uint8), k5).astype(bool)
    skin_own = cv2.erode((own & is_skin).astype(np.uint8), k5).astype(bool)
    rough, rough_own = float(lap[skin_fill].mean()), float(lap[skin_own].mean())
    print(f"\nhem under the hand: rows spread {spread} px, {off:.1f} px from the hem beside it; "
          f"skin texture {rough:.1f} (the thigh's own {rough_own:.1f})")
    # (measured: spread 2 px, 1 px off, no denim below, texture 2.1 against 6.9; patched at the same
    # height as the hem beside the hand, spread 4, 4 px off and a tab of denim below it (36 px); before
    # the hem kept its slant and bare skin was filled smooth: steps of a patch (spread 8) and blocks
    # of skin, texture 30.8)
    # ... and no denim hangs below it anywhere the hand was, its soft edge and shadow included (a
    # tab of the cuff's dark edge and the shadow between the legs copied down over the thigh)
    cols = np.flatnonzero(filled.any(axis=0))
    rows = np.arange(th)[:, None]
    low = (a > 0.5) & ~is_skin & (rows > np.median(beside) + 3) & (rows < np.median(beside) + 40)
    hanging = int(low[:, cols].sum())
    print(f"denim below the hem: {hanging} px")
    assert spread <= 3 and off <= 2, (under, beside)
    assert hanging <= 10, hanging
    assert skin_fill.sum() > 200 and rough < 1.2 * rough_own, (rough, rough_own)


@pytest.mark.parametrize("name, part, limit", [("mooreanimateanyone__anyone-3.png", "thigh_r", 60.0),
                                               ("mooreanimateanyone__anyone-11.png", "torso", 72.0)])
def test_a_patch_fill_under_a_hand_or_arm_has_no_seams(name, part, limit):
    # given the shorts under anyone-3's right hand and the jacket beside anyone-11's arms, filled
    # patch by patch (a cuff's edge, a fold)
    img, rig = _rig(name)
    p, a, rgb = _texture(rig, part)
    ox, oy = p.box
    th, tw = a.shape
    light = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    grad = np.hypot(cv2.Sobel(light, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(light, cv2.CV_32F, 0, 1, ksize=3))
    solid = cv2.erode((a > 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    fill = (rig.filled[oy:oy + th, ox:ox + tw] == 2) & solid
    g = float(grad[fill].mean())
    print(f"\n{name} {part}: {int(fill.sum())} filled px, mean lightness gradient {g:.1f}")
    # then the fill holds no seams or stacked repeats: the patches copied one by one made a barcode
    # of the cuff's dark edge (anyone-3: mean Sobel gradient 76.6) and vertical streaks of the
    # jacket's folds (anyone-11: 83.5); voted over, 49.8 and 62.4. Still cloth, not a smear: over 25
    assert fill.sum() > 2000
    assert 25.0 < g < limit, g


@pytest.mark.parametrize("slope", [0.0, 0.25, -0.4])
def test_a_slanted_hem_is_continued_through_a_hole_at_its_slant(slope):
    from steadymotion.render.puppet.fill import fill_by_garment, fill_plain, hem_line, two_garments

    # given a leg standing upright (axis straight down) in textured denim above a hem that rises by
    # ``slope`` px per px to the left, bare skin below, and a hand-sized hole over the hem's middle
    rng = np.random.default_rng(3)
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    hem = 60 + slope * (xx - w / 2) * -1  # the axis points down (+y); across it, +s points to the left
    denim = np.clip(rng.normal((45, 75, 130), 14, (h, w, 3)), 0, 255)
    skin = np.array([215.0, 170.0, 150.0]) + (yy[..., None] - 60) * 0.2  # a smooth gradient
    img = np.where((yy < hem)[..., None], denim, skin).clip(0, 255).astype(np.uint8)
    hole = (np.abs(xx - w / 2) < 30) & (np.abs(yy - 60) < 25)
    known = ~hole
    axis = (np.array([w / 2, 0.0]), np.array([w / 2, h - 1.0]))
    # when the hem is read beside the hole and the hole is filled garment by garment along it
    garments = two_garments(img, hole, known)
    line = hem_line(img, hole, known, axis, garments)
    out = fill_by_garment(img, hole, known, *axis, hem=line, centres=garments)
    fill_plain(out, hole, known, garments, reach=6)
    # then the slant is found, and in every column of the hole the hem lies where the line runs
    assert garments is not None and line is not None and abs(line[0] - slope) < 0.06, line
    assert (out[hole] != img[hole]).any(axis=-1).mean() > 0.5  # (filled: the test image holds the truth)
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
    off = []
    for c in np.flatnonzero(hole.any(axis=0)):
        rows = np.flatnonzero(hole[:, c])
        light = lab[rows, c, 0] > 140  # skin
        first = rows[np.argmax(light)] if light.any() else rows[-1] + 1
        off.append(first - hem[0, c])
    off = np.abs(np.array(off))
    print(f"\nslope {slope}: hem off {np.percentile(off, 90):.1f} (p90), {off.max():.1f} px (max)")
    # (within 2 px in nine columns of ten, 3 px at most: the patches' own edges)
    assert np.percentile(off, 90) <= 2.0 and off.max() <= 3.5, off
    # and the skin under the hole is as smooth as the skin around it
    below = hole & (yy > hem + 3)
    assert np.abs(cv2.Laplacian(lab[..., 0], cv2.CV_32F)[below]).mean() < 2.0


@pytest.mark.parametrize("name", ["mooreanimateanyone__anyone-3.png", "mooreanimateanyone__anyone-11.png",
                                  "unianimate__source_video.mp4"])
def test_a_leg_swung_out_opens_no_wedge_between_the_hips(name):
    from steadymotion.skeleton import KP, PART

    # given a standing figure in shorts or trousers
    img, rig = _rig(name)
    for side in "lr":
        # when one leg swings out sideways by 20 degrees about its hip
        kp = rig.rest[:, :2].copy()
        hip, other = kp[KP[f"hip_{side}"]], kp[KP[f"hip_{'r' if side == 'l' else 'l'}"]]
        th = np.radians(20) * (-1 if hip[0] > other[0] else 1)
        turn = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        for joint in ("knee", "ankle", "heel", "toe"):
            if f"{joint}_{side}" in KP:
                kp[KP[f"{joint}_{side}"]] = hip + turn @ (kp[KP[f"{joint}_{side}"]] - hip)
        out = _render(rig, kp, background=np.array([1.0, 0.0, 1.0]))
        bg = (out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200)
        # then no background opens between the hips, from the pelvis down by a thigh's half width
        # (the thigh's top turns away from the trunk's lower edge there: measured 0 pixels; 83-268
        # before the thighs carried a strip of the trunk at the hip, a wedge cut up into the crotch)
        pel, r = kp[KP["pelvis"]], rig.radius[PART[f"thigh_{side}"]]
        x0, x1 = sorted([int(kp[KP["hip_l"], 0]), int(kp[KP["hip_r"], 0])])
        between = bg[int(pel[1]):int(pel[1] + r), x0:x1]
        assert between.sum() <= 20, (side, int(between.sum()))


def test_a_ruffle_lying_over_the_upper_arms_stays_with_the_top():
    from steadymotion.skeleton import PART

    # given a woman in a ruffled crop top whose ruffle hangs over both upper arms (the arms' bones
    # run along its edge, so their capsules and colour cut took a quarter of it)
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    top = np.median(lab[rig.labels == PART["torso"]], axis=0)
    like_top = (np.linalg.norm(lab[..., 1:] - top[1:], axis=2) < 6) & (lab[..., 0] < 180)
    # then the top's grey, lit or in its folds' shade, stays with the trunk: a raised arm carries no
    # piece of the ruffle, and the trunk is not filled with a blocky grey where that piece was
    # (271 and 1423 pixels went with the arms before, none now)
    for s in "lr":
        arm = rig.labels == PART[f"upper_arm_{s}"]
        assert arm.sum() > 2000, s
        assert (arm & like_top).sum() < 100, (s, int((arm & like_top).sum()))


def test_an_upper_arm_under_a_ruffle_goes_on_under_it_in_its_own_colour():
    from steadymotion.render.puppet.rig import _slice_widths
    from steadymotion.skeleton import KP, PART

    # given the woman whose ruffle hangs over her left upper arm: of the arm's width only a strip of
    # lit skin shows beside it, the rest lies under the ruffle, which stays with the trunk
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    h, w = img.shape[:2]
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)

    def placed(part):
        m = np.zeros((h, w), bool)
        x0, y0 = part.box
        th, tw = part.texture.shape[:2]
        m[y0:y0 + th, x0:x0 + tw] = part.texture[..., 3] > 127
        return m

    arm = placed(rig.part("upper_arm_l"))
    pieces = [p for p in rig.under if p.name == "upper_arm_l"]
    assert pieces, "no piece of the arm under the ruffle"
    under = placed(pieces[0])
    sh, el = rig.rest[KP["shoulder_l"], :2], rig.rest[KP["elbow_l"], :2]
    seen, whole = _slice_widths(arm, sh, el), _slice_widths(arm | under, sh, el)
    mid = slice(len(whole) // 4, 3 * len(whole) // 4)
    print(f"\nupper arm widths under the ruffle: seen {np.round(seen[mid]).tolist()}, whole {np.round(whole[mid]).tolist()}")
    # then the arm that moves is whole: as wide along its middle as at its elbow, where nothing covers
    # it (the strip alone was 8-12 px for an arm 22-27 px wide at the elbow: a sliver of skin rose)
    assert np.median(whole[mid]) >= 0.75 * np.median(whole[-3:])
    # and the hidden piece is the arm's skin, not the ruffle's grey nor a shadow's brown
    x0, y0 = pieces[0].box
    th, tw = pieces[0].texture.shape[:2]
    a = pieces[0].texture[..., 3].astype(np.float32) / 255
    col = (pieces[0].texture[..., :3] / np.maximum(a[..., None], 1e-3)).clip(0, 255).astype(np.uint8)
    hidden = (a > 0.99) & ~arm[y0:y0 + th, x0:x0 + tw]
    piece = cv2.cvtColor(col, cv2.COLOR_RGB2LAB).astype(np.float32)[hidden]
    skin = np.median(lab[rig.labels == PART["upper_arm_l"]], axis=0)
    assert np.median(np.linalg.norm(piece - skin, axis=1)) < 15
    # while at rest the ruffle covers it: the still figure is still its image there
    out = _render(rig, rig.rest[:, :2])
    diff = np.abs(out.astype(int) - img.astype(int)).max(axis=2)
    assert np.percentile(diff[under & ~arm], 99) <= 20


def test_a_bare_arm_goes_on_under_the_hair_and_the_ruffle_without_a_step():
    """anyone-3's arms go on under her hair (right) and her ruffle (left) as pieces drawn behind the
    trunk. Filled with the median of the arm's outer, shaded half, the right one was a flat slab 7
    levels darker than the arm beside it, and the shade the hair casts on the arm's edge rose with
    the arm as a dark line along it. The shade is relit and the piece is the arm's strip mirrored."""
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    h, w = img.shape[:2]
    for name in ("upper_arm_r", "upper_arm_l"):
        pieces = [p for p in rig.under if p.name == name]
        assert pieces, f"no piece of {name} under what lies over it"
        canvas = np.zeros((h, w, 3), np.float32)
        masks = {}
        for key, part in (("piece", pieces[0]), ("arm", rig.part(name))):
            x0, y0 = part.box
            t = part.texture.astype(np.float32)
            a = t[..., 3] / 255
            solid = a > 0.99
            canvas[y0:y0 + t.shape[0], x0:x0 + t.shape[1]][solid] = t[..., :3][solid] / a[solid][:, None]
            masks[key] = np.zeros((h, w), bool)
            masks[key][y0:y0 + t.shape[0], x0:x0 + t.shape[1]] = solid
        arm, piece = masks["arm"], masks["piece"] & ~masks["arm"]  # (the arm is drawn over the piece)
        light = cv2.cvtColor(canvas.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        steps = []
        for dy, dx in ((0, 1), (1, 0)):
            A, B = (slice(0, h - dy), slice(0, w - dx)), (slice(dy, h), slice(dx, w))
            cross = (arm[A] & piece[B]) | (piece[A] & arm[B])
            steps.append(np.abs(light[A] - light[B])[cross])
        step = float(np.concatenate(steps).mean())
        # the arm's 5 px beside the piece and the piece's 5 px beside the arm
        near_piece = cv2.distanceTransform((~piece).astype(np.uint8), cv2.DIST_L2, 3) <= 5
        near_arm = cv2.distanceTransform((~arm).astype(np.uint8), cv2.DIST_L2, 3) <= 5
        tone = abs(float(light[arm & near_piece].mean()) - float(light[piece & near_arm].mean()))
        print(f"\n{name}: step across the seam {step:.1f} levels, tones beside it {tone:.1f} apart")
        assert step < 4.0, (name, step)  # was 6.0 (right) and 7.4 (left)
        assert tone < 4.0, (name, tone)  # was 7.0 and 3.2


@pytest.mark.parametrize("name, side, dark, before", [("mooreanimateanyone__anyone-1.png", "r", True, 1112),
                                                      ("mooreanimateanyone__anyone-11.png", "r", False, 364)])
def test_a_bow_or_a_drawstring_by_the_shoulder_stays_on_the_chest(name, side, dark, before):
    from steadymotion.skeleton import PART

    # given a girl with a black bow on her white blouse, and a man whose jacket's white drawstring
    # hangs from the hood beside his shoulder: both lie inside the upper arm's capsule
    img, rig = _rig(name)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    mark = (lab[..., 0] < 70) & (chroma < 15) if dark else (lab[..., 0] > 200) & (chroma < 10)
    # then they stay on the chest, with the blouse or jacket front around them: a raised arm carried
    # the bow's wing and the blouse between it and the knot (1112 pixels of bow), or the drawstring
    # and a chunk of the jacket's front (364 white pixels), and a white patch covered the bow's wing
    held = int(((rig.labels == PART[f"upper_arm_{side}"]) & mark).sum())
    print(f"\n{name}: {held} pixels of the mark held by the arm (before: {before})")
    assert held < 0.25 * before


def test_no_piece_of_the_waist_hangs_on_an_elbow_by_a_thread():
    from scipy.ndimage import label as connected

    from steadymotion.skeleton import PART

    # given the woman whose right elbow hangs beside her bare waist, a bright gap between them
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    k3 = np.ones((3, 3), np.uint8)
    for s in "lr":
        arm = np.isin(rig.labels, [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand")])
        # then the arm is one body: nothing of it is joined on by a neck a pixel or two wide (the
        # waist's shaded skin beside the elbow was, 86 px, and rode on the forearm as a brown fleck)
        core = cv2.erode(arm.astype(np.uint8), k3)
        comp, n = connected(core, structure=np.ones((3, 3), bool))
        sizes = np.bincount(comp.ravel())[1:]
        main = cv2.dilate((comp == int(sizes.argmax()) + 1).astype(np.uint8), k3).astype(bool) & arm
        pieces, m = connected(arm & ~main, structure=np.ones((3, 3), bool))
        big = [int((pieces == c).sum()) for c in range(1, m + 1)
               if (pieces == c).sum() >= 20 and (core.astype(bool) & (pieces == c)).any()]
        assert not big, (s, big)


def test_the_arm_under_the_ruffle_is_stored_with_the_rig(tmp_path):
    from steadymotion.render.puppet.rig import Rig

    # given the rig of the woman whose arm goes on under her ruffle
    img, rig = _rig("mooreanimateanyone__anyone-3.png")
    assert rig.under
    # when it is stored and read back (a stored character, the prepared-character cache)
    back = Rig.load(rig.save(tmp_path / "rig.npz"))
    # then the pieces come back as they were, so a stored character moves its arm whole too
    assert [(p.name, p.box) for p in back.under] == [(p.name, p.box) for p in rig.under]
    for a, b in zip(rig.under, back.under, strict=True):
        np.testing.assert_array_equal(a.texture, b.texture)
        np.testing.assert_array_equal(a.triangles, b.triangles)
        np.testing.assert_allclose(a.weights, b.weights)


def _crop_top_and_arm():
    """A black crop top (textured) with a V neckline of skin, its hem over a bare waist, and a
    band where a forearm lay across it, over the V's tip and the hem."""
    rng = np.random.default_rng(5)
    h, w = 240, 240
    yy, xx = np.mgrid[0:h, 0:w]
    skin = np.array([215.0, 165.0, 140.0]) - (yy[..., None] - 120) * 0.1
    top = np.clip(rng.normal((28, 26, 30), 5, (h, w, 3)), 0, 255)
    v_neck = (yy < 100) & (np.abs(xx - 120) < (100 - yy) * 0.7)
    is_top = (yy >= 40) & (yy < 150) & ~v_neck
    truth = np.where(is_top[..., None], top, skin).clip(0, 255).astype(np.uint8)
    trunk = (xx >= 20) & (xx < 220)
    # the forearm: from (180, 60) down across the V's tip and the hem to (60, 170)
    a, b = np.array([180.0, 60.0]), np.array([60.0, 170.0])
    d = (b - a) / np.linalg.norm(b - a)
    rel = np.stack([xx - a[0], yy - a[1]], -1)
    along, off = rel @ d, rel @ np.array([-d[1], d[0]])
    hole = trunk & (np.abs(off) < 16) & (along > 0) & (along < np.linalg.norm(b - a))
    known = trunk & ~cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return truth, hole, known, is_top, (np.array([120.0, 0.0]), np.array([120.0, h - 1.0]))


def test_an_arm_across_a_v_neckline_is_filled_with_the_top_and_its_hem_runs_on():
    from steadymotion.render.puppet.fill import fill_across, fill_by_garment

    # given a black top with a V neckline over a bare waist, hidden by an arm lying across it
    truth, hole, known, is_top, axis = _crop_top_and_arm()
    img = truth.copy()
    img[hole] = (230, 190, 170)  # the arm's skin (never a source: not known)

    def scores(out):
        light = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        dark_top = float((light[hole & is_top] < 80).mean())
        yy = np.mgrid[0:hole.shape[0], 0:hole.shape[1]][0]
        skin_waist = float((light[hole & ~is_top & (yy >= 150)] > 150).mean())
        return dark_top, skin_waist

    # when what the arm hid is filled garment by garment
    dark_top, skin_waist = scores(fill_by_garment(img, hole, known, *axis, side=240))
    old_top, old_waist = scores(fill_across(img, hole, known, *axis))
    print(f"\ntop filled dark {dark_top:.3f} (mirrored across: {old_top:.3f}); "
          f"waist filled as skin {skin_waist:.3f} ({old_waist:.3f})")
    # then the top under the arm is the top's black (mirrored across the body, the neckline's skin
    # came through as a block: 0.75 of it dark) and the waist below its hem is skin: the hem runs on
    assert dark_top > 0.9 and skin_waist > 0.9, (dark_top, skin_waist)


def test_an_arm_across_the_chest_leaves_no_brown_block_in_the_top():
    from steadymotion.skeleton import PART

    # given raw_0's dancer with her left arm across her black crop top, from the shoulder over the
    # V neckline's edge down past the top's hem
    img, rig = _rig("mimicmotion__raw_0.mp4")
    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    a, rgb = a[:img.shape[0] - y0], rgb[:img.shape[0] - y0]
    th, tw = a.shape
    fill = (rig.filled[y0:y0 + th, x0:x0 + tw] == 2) & (a > 0.99)
    fill &= rig.labels[y0:y0 + th, x0:x0 + tw] == PART["upper_arm_l"]
    light = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    ys, xs = np.nonzero(fill)
    rows = ys + y0
    chest = (rows >= 150) & (rows < 260)
    waist = rows >= 380
    L = light[ys, xs]
    mixed = float(((L[chest] >= 60) & (L[chest] < 140)).mean())
    skin = float((L[waist] >= 140).mean())
    print(f"\nfilled under the arm: {len(L)} px; chest rows brown mixture {mixed:.3f}, waist skin {skin:.3f}")
    # when the trunk is filled, then the chest under the arm is the top's black or the neckline's
    # skin, not the brown mixture of them that mirroring gave (0.285 of the chest rows) ...
    assert len(L) > 10000 and chest.sum() > 3000 and waist.sum() > 100
    assert mixed < 0.1, mixed
    # ... and below the top's hem it is the waist's skin (0.81 before, the rest a brown band)
    assert skin > 0.95, skin
    # and under her right upper arm, beside the V neckline's edge, the chest is not all skin: the
    # neckline is met walking across from there, but not walking along the body (0.999 skin before
    # a garment met on one side only had to be met along the axis too; 0.45 now)
    strip = (rig.filled[y0:y0 + th, x0:x0 + tw] == 2) & (a > 0.99) & (rig.labels[y0:y0 + th, x0:x0 + tw] == PART["upper_arm_r"])
    sy, sx = np.nonzero(strip)
    upper = (sy + y0 >= 150) & (sy + y0 < 260)
    light_upper = float((light[sy[upper], sx[upper]] >= 140).mean())
    print(f"under the right upper arm, chest rows: skin {light_upper:.3f}")
    assert upper.sum() > 500 and light_upper < 0.6, light_upper


def _median_width(rig, part: str) -> float:
    """The median width (px) of ``part``'s label across its bone, over the bone's middle 60 %."""
    from steadymotion.render.puppet.cutout import bone_frame
    from steadymotion.skeleton import KP, PART, PARTS

    spec = PARTS[PART[part]]
    a, b = rig.rest[KP[spec.a], :2], rig.rest[KP[spec.b], :2]
    ys, xs = np.nonzero(rig.labels == PART[part])
    u, v = bone_frame(xs, ys, a, b)
    L = float(np.hypot(*(b - a)))
    widths = [np.ptp(v[(u >= s) & (u < s + 4)]) for s in np.arange(0.2 * L, 0.8 * L, 4) if ((u >= s) & (u < s + 4)).sum() > 2]
    return float(np.median(widths))


def test_a_sleeve_across_a_top_of_its_colour_takes_no_slab_of_the_top():
    from steadymotion.skeleton import PART

    # given raw_0's dancer with her left arm, in the black sleeve of her black top, across her
    # chest (no colour edge on either side of it), and anyone-1 with puffy white sleeves beside
    # a white blouse (wider than the arm's capsule, along the body's sides)
    _, raw = _rig("mimicmotion__raw_0.mp4")
    _, puffy = _rig("mooreanimateanyone__anyone-1.png")
    # when they are rigged, then the arm across the top is a little over its radius each side of
    # its bone, not its whole capsule (102 px, 3 radii: it carried a slab of the top away) ...
    across = _median_width(raw, "upper_arm_l")
    r = float(raw.radius[PART["upper_arm_l"]])
    print(f"\nraw_0 left upper arm {across:.1f} px wide (radius {r:.1f}); anyone-1's sleeves "
          f"{_median_width(puffy, 'upper_arm_l'):.1f} / {_median_width(puffy, 'upper_arm_r'):.1f} px")
    assert across < 2.4 * r, (across, r)
    # ... while puffy sleeves hanging beside the body keep their whole width (57 and 63 px: the
    # left one measured 61 with the pocket of sky between it and the blouse, now cut out; cut back
    # to 1.1 radii each side of the bone they would be 44)
    assert _median_width(puffy, "upper_arm_l") > 52 and _median_width(puffy, "upper_arm_r") > 52


def test_a_forearm_running_off_the_bottom_edge_moves_with_its_arm():
    from steadymotion.pipelines.reenact import self_reenactment
    from steadymotion.skeleton import KP, PART

    # given raw_0's half-body dancer, whose right forearm runs down from her elbow to the picture's
    # bottom edge with its hand cut off (MediaPipe sees that wrist at 0.34: below "seen")
    img, rig = _rig("mimicmotion__raw_0.mp4")
    # when she is rigged, then the forearm is a part of its own along that line (before, the
    # sleeve was the torso's: it stayed on the waist as a black block when the arm rose) ...
    assert rig.present[PART["forearm_r"]] and not rig.present[PART["hand_r"]]
    e, w = rig.rest[KP["elbow_r"], :2], rig.rest[KP["wrist_r"], :2]
    line = np.round(e + np.linspace(0.15, 1.0, 30)[:, None] * (w - e)).astype(int)
    # (by its own pixels, or by its piece filled under her left forearm, which crosses in front of
    # it by the elbow and keeps the crossing's pixels)
    part, a, _ = _texture(rig, "forearm_r")
    x0, y0 = part.box
    inside = (line[:, 0] >= x0) & (line[:, 0] < x0 + a.shape[1]) & (line[:, 1] >= y0) & (line[:, 1] < y0 + a.shape[0])
    drawn = np.zeros(len(line), bool)
    drawn[inside] = a[line[inside, 1] - y0, line[inside, 0] - x0] > 0.5
    on = (rig.labels[line[:, 1], line[:, 0]] == PART["forearm_r"]) | drawn
    # ... and animated by her own clip, it follows the real forearm (before: 110-130 degrees off)
    s = self_reenactment(media_path("mimicmotion__raw_0.mp4"), seconds=4.0)
    print(f"\nforearm line on the part {on.mean():.2f}; limbs {s.limb_error_deg}; SSIM {s.ssim:.3f} vs {s.frozen_ssim:.3f}")
    assert on.mean() > 0.8
    # (the re-detected direction of a forearm cut by the picture's edge moves by +-10 degrees with
    # small changes to the trunk's fill beside it: 31 to 52 over session 24's versions of the fills,
    # none touching the arm; the failure this guards against reads 110-130)
    assert s.limb_error_deg.get("right forearm", 180.0) < 65.0, s.limb_error_deg
    assert s.ssim > s.frozen_ssim + 0.01


def test_a_hole_on_the_seam_of_two_garments_is_filled_from_both():
    from steadymotion.render.puppet.fill import fill_by_garment

    # given a part whose left half is red cloth and right half blue, and a hole straddling the seam
    # (every hidden pixel meets red walking one way across the part and blue the other: no pixel
    # where both sides agree)
    rng = np.random.default_rng(2)
    h, w = 120, 160
    xx = np.mgrid[0:h, 0:w][1]
    img = np.where((xx < 80)[..., None], rng.normal((170, 40, 40), 6, (h, w, 3)), rng.normal((40, 60, 170), 6, (h, w, 3)))
    img = img.clip(0, 255).astype(np.uint8)
    hole = (np.abs(xx - 80) < 12) & (np.mgrid[0:h, 0:w][0] > 20) & (np.mgrid[0:h, 0:w][0] < 100)
    known = ~cv2.dilate(hole.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    # when it is filled garment by garment (this raised an IndexError: no agreeing pixel to take from)
    out = fill_by_garment(img, hole, known, np.array([80.0, 0.0]), np.array([80.0, h - 1.0]), side=160)
    # then every hidden pixel off the seam itself is one of the two cloths, red on the red side
    # and blue on the blue
    px = out[hole].astype(float)
    red, blue = px[:, 0] > px[:, 2] + 60, px[:, 2] > px[:, 0] + 60
    assert (red | blue)[(np.abs(xx - 80) > 4)[hole]].mean() > 0.95
    left = (xx < 74)[hole]
    right = (xx > 86)[hole]
    assert red[left].mean() > 0.9 and blue[right].mean() > 0.9


@pytest.mark.parametrize("name", ["mimicmotion__demo1.jpg", "unianimate__source_video.mp4", "mooreanimateanyone__anyone-11.png"])
def test_a_raised_arm_opens_no_bite_between_its_root_and_the_collar(name):
    from steadymotion.motion.kinematics import arms_out
    from steadymotion.skeleton import KP, PART

    # given a figure whose upper arms hang from the shoulders (baggy hoodie, fitted sweater, jacket)
    img, rig = _rig(name)
    # when both arms are raised out, 35 degrees above the horizontal, over a magenta ground
    kp = arms_out(rig.rest, 35.0)
    out = _render(rig, kp, background=(1.0, 0.0, 1.0)).astype(np.int32)
    ground = (out[..., 1] < 60) & (out[..., 0] > 200) & (out[..., 2] > 200)
    # then the shoulders' tops between the collar and the arms' roots (the person's at rest) stay
    # the figure's: before, the arm's round end took them along and the ground showed through
    yy, xx = np.mgrid[0:ground.shape[0], 0:ground.shape[1]]
    tops = np.zeros(ground.shape, bool)
    n = rig.rest[KP["neck"], :2]
    for k in "lr":  # between the neck and the shoulder joint, within 1.5 upper-arm radii of it
        s = rig.rest[KP[f"shoulder_{k}"], :2]
        u = (s - n) / np.linalg.norm(s - n)
        t = (xx - n[0]) * u[0] + (yy - n[1]) * u[1]
        r = 1.5 * rig.radius[PART[f"upper_arm_{k}"]]
        tops |= ((xx - s[0]) ** 2 + (yy - s[1]) ** 2 <= r * r) & (t >= 0) & (t <= np.linalg.norm(s - n))
    tops &= rig.alpha > 0.9
    share = float(ground[tops].mean())
    print(f"\n{name}: ground in the shoulders' tops {share:.3f} of {tops.sum()} px")
    assert tops.sum() > 500
    assert share < 0.02, share


def test_a_forearm_across_the_other_arm_moves_off_whole_and_leaves_that_arm_whole():
    from steadymotion.skeleton import KP, PART

    # given raw_0's first frame: her left forearm lies across her body in front of her right elbow,
    # both in the same black sleeve (the pose's depth has the left arm nearer the camera)
    img, rig = _rig("mimicmotion__raw_0.mp4")
    # when she is rigged, the left forearm owns its whole length, the crossing included (before,
    # the right arm's colour cut, painted last, took the crossing: 0.37 of the line)
    e, w = rig.rest[KP["elbow_l"], :2], rig.rest[KP["wrist_l"], :2]
    line = np.round(e + np.linspace(0.15, 0.85, 40)[:, None] * (w - e)).astype(int)
    own = float((rig.labels[line[:, 1], line[:, 0]] == PART["forearm_l"]).mean())
    # and when the left forearm hangs straight down from its elbow and the right one swings out to
    # the left, over a magenta ground
    kp = rig.rest[:, :2].copy()
    for side, way in (("l", (0.0, 1.0)), ("r", (-0.5, 0.87))):
        el, wr, hd = (kp[KP[f"{j}_{side}"]].copy() for j in ("elbow", "wrist", "hand"))
        u = np.array(way) / np.linalg.norm(way)
        L2, L3 = np.linalg.norm(wr - el), np.linalg.norm(hd - wr)
        kp[KP[f"wrist_{side}"]], kp[KP[f"hand_{side}"]] = el + L2 * u, el + (L2 + L3) * u
    out = _render(rig, kp, background=(1.0, 0.0, 1.0))
    # (what shows through a gap is the ground, or the belly the left forearm hangs over: not black)
    sleeve = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 0] < 90
    gaps = {}
    for side in "lr":
        e, w = kp[KP[f"elbow_{side}"]], kp[KP[f"wrist_{side}"]]
        # (to three quarters of the way to the wrist: the wrist itself is bare)
        line = np.round(e + np.linspace(0.1, 0.75, 40)[:, None] * (w - e)).astype(int)
        gaps[side] = float((~sleeve[line[:, 1], line[:, 0]]).mean())
    # and the right forearm's piece the left one hid is filled in its sleeve's tone
    part, a, rgb = _texture(rig, "forearm_r")
    filled, mine = _filled_and_own(rig, "forearm_r", a)
    light = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    tone = float(np.median(light[filled & (rig.labels[part.box[1]:part.box[1] + a.shape[0], part.box[0]:part.box[0] + a.shape[1]] != PART["forearm_r"])]) - np.median(light[mine]))
    print(f"\nleft forearm's line its own {own:.2f}; not sleeve along the moved forearms {gaps}; hidden piece's tone {tone:+.1f}")
    # then neither forearm opens a gap: before, the left one left its middle behind (its hand
    # floated apart from the arm in raw_0's self-reenactment), and drawn in order without the fill
    # the right one lost the piece under the left
    assert own > 0.95
    assert gaps["l"] < 0.05 and gaps["r"] < 0.05, gaps
    assert abs(tone) < 12.0


def test_the_trunks_fill_under_an_arm_across_it_leaves_no_pale_seam():
    # given raw_0's first frame, her left forearm across her bare belly
    img, rig = _rig("mimicmotion__raw_0.mp4")
    part, a, rgb = _texture(rig, "torso")
    x0, y0 = part.box
    # (the trunk's texture runs on below a half-body picture's bottom edge)
    H, W = min(a.shape[0], rig.filled.shape[0] - y0), min(a.shape[1], rig.filled.shape[1] - x0)
    a, lab = a[:H, :W], cv2.cvtColor(rgb[:H, :W], cv2.COLOR_RGB2LAB).astype(np.float32)
    filled = (rig.filled[y0:y0 + H, x0:x0 + W] == 2) & (a > 0.5)
    skin = cv2.erode(((lab[..., 0] > 120) & (lab[..., 1] > 135) & (a > 0.95)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    light = cv2.GaussianBlur(lab[..., 0], (0, 0), 0.7)
    grad = np.hypot(cv2.Sobel(light, cv2.CV_32F, 1, 0), cv2.Sobel(light, cv2.CV_32F, 0, 1)) / 8
    # when the trunk is filled under the arm, then the skin's lightness changes across the fill's
    # edge (a pixel either side) about as it does across her skin elsewhere: before, the pixels
    # right beside the arm (its soft edge, the shade along it) were left out of what the fill read
    # and kept, a pale line along the fill's edge across the belly (6.0 levels per pixel against
    # 1.25 on the skin; 4.2 now)
    k = np.ones((3, 3), np.uint8)
    seam = (cv2.dilate(filled.astype(np.uint8), k).astype(bool) & ~filled) | (filled & ~cv2.erode(filled.astype(np.uint8), k).astype(bool))
    on_seam, elsewhere = float(grad[seam & skin].mean()), float(grad[skin & ~seam].mean())
    print(f"\nlightness gradient on the fill's edge over skin {on_seam:.2f} (on the skin elsewhere {elsewhere:.2f}) over {int((seam & skin).sum())} px")
    assert (seam & skin).sum() > 1000
    assert on_seam < 5.0


def test_a_hand_past_the_pictures_edge_moves_with_its_forearm():
    from steadymotion.skeleton import KP, PART

    # given raw_0's first frame: her left forearm lies across her body to the picture's left edge,
    # and her hand hangs from its wrist down to the bottom; the hand's landmark falls a few pixels
    # past the edge, so the rig has no hand part on that side
    img, rig = _rig("mimicmotion__raw_0.mp4")
    assert not rig.present[PART["hand_l"]]
    # (the hand: the person's pixels in the picture's bottom-left corner, below and left of the wrist)
    wx, wy = rig.rest[KP["wrist_l"], :2]
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    hand = (rig.alpha > 0.9) & (xx < wx) & (yy > wy + 30)
    # when she is rigged, the hand is her left forearm's (before, the trunk's: the forearm had 0.10 of it)
    share = float((rig.labels[hand] == PART["forearm_l"]).mean())
    # and when that forearm hangs straight down from its elbow, over a magenta ground
    kp = rig.rest[:, :2].copy()
    el, wr, hd = (kp[KP[f"{j}_l"]].copy() for j in ("elbow", "wrist", "hand"))
    L2, L3 = np.linalg.norm(wr - el), np.linalg.norm(hd - wr)
    kp[KP["wrist_l"]], kp[KP["hand_l"]] = el + (0, L2), el + (0, L2 + L3)
    out = _render(rig, kp, background=(1.0, 0.0, 1.0)).astype(np.int16)
    ground = (out[..., 0] > 200) & (out[..., 1] < 60) & (out[..., 2] > 200)
    left = float(ground[hand].mean())
    print(f"\nhand {int(hand.sum())} px: the forearm's {share:.2f}; the ground where it was {left:.2f}")
    # then the hand goes with the arm and the ground shows where it hung (before, it stayed in
    # the air beside her: 0.10 of its place showed the ground)
    assert hand.sum() > 1500
    assert share > 0.9
    assert left > 0.9


def test_a_dress_to_the_knee_keeps_a_straight_hem_when_the_legs_move():
    from steadymotion.render.puppet.cutout import _SHADE, GARMENT_DE
    from steadymotion.skeleton import KP, PART

    # given the model in a navy dress to just below her knees
    img, rig = _rig("musepose__UBC_fashion_test_91BjuE6irxS.mp4")
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    hl, hr = rig.rest[KP["hip_l"], :2], rig.rest[KP["hip_r"], :2]
    px, py = np.round(0.5 * (hl + hr)).astype(int)
    garment = np.median(lab[py - 3:py + 4, px - 3:px + 4].reshape(-1, 3), axis=0)
    navy = (np.linalg.norm((lab - garment) * _SHADE, axis=-1) < GARMENT_DE) & (rig.alpha > 0.95)
    legs = np.isin(rig.labels, [PART[n] for n in ("thigh_l", "thigh_r", "shin_l", "shin_r")])
    # when she is rigged, the dress is the trunk's down to its hem: before, the shins' round caps
    # reached up past the knees and took wedges of the hem (147 px)
    taken = int((navy & legs).sum())
    # and when both legs swing out from the hips by 15 degrees, over a magenta ground
    kp = rig.rest[:, :2].copy()
    for side, turn in (("l", -15.0), ("r", 15.0)):
        kp = _turned(kp, f"hip_{side}", [f"knee_{side}", f"ankle_{side}", f"toe_{side}"], turn)
    out = _render(rig, kp, background=(1.0, 0.0, 1.0))
    olab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
    dress = np.linalg.norm((olab - garment) * _SHADE, axis=-1) < GARMENT_DE
    # (the dress's pixels from the knees down to its hem, whoever owns them: a band of the picture)
    knee = int(min(rig.rest[KP["knee_l"], 1], rig.rest[KP["knee_r"], 1]))
    band = navy.copy()
    band[:knee] = False
    band[knee + 20:] = False
    notches = float((~dress[band]).mean())
    print(f"\nnavy pixels the legs own {taken}; not the dress over the hem's band {notches:.3f} of {int(band.sum())} px")
    # then the hem stays whole: no notch opens in it where the shins' caps were
    assert taken < 20
    assert notches < 0.01
