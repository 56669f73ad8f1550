"""Preflight: check a character image and a motion reference *before* any generation.

Most drift starts in the inputs: a half-body photo driven by a full-body dance, a cluttered or
multi-person reference, a fast spin, a back turned to the camera, a cut. :func:`check_inputs`
measures each of these and reports :class:`~steadymotion.findings.Finding` objects with the number
it measured, the fix, and the time ranges concerned. It serves our renderer and any other
generator (Kling, Wan-Animate, ComfyUI ...). Thresholds are constants in this package, each with
how it was calibrated on the real media in ``../shared/media``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from steadymotion.errors import NoPersonError
from steadymotion.findings import Finding, FindingsReport, Severity, sort_findings
from steadymotion.io.image import read_image
from steadymotion.io.video import probe_video
from steadymotion.perception import body as B
from steadymotion.perception.people import PeopleCounter
from steadymotion.perception.scene import CUT_SCORE
from steadymotion.preflight import measures as M
from steadymotion.prompt.lint import lint_prompt
from steadymotion.skeleton import BODY_NAMES, REGIONS
from steadymotion.types import PoseSequence
from steadymotion.vocab import Orientation

# --- thresholds (how each was chosen is in the comment) --------------------------------------------
#: Kling's limits for Motion Control inputs (its API documentation).
IMAGE_SIDE_RANGE = (300, 65536)
IMAGE_ASPECT_RANGE = (1 / 2.5, 2.5)
VIDEO_SIDE_RANGE = (340, 3850)
MIN_DURATION_S = 3.0
KLING_MAX_S = {"image": 10.0, "video": 30.0}
#: Limb rotation faster than this (deg/s) for at least FAST_MIN_S. On the shared real clips the
#: 95th percentile of the fastest limb is 65-891 deg/s; 900 deg/s (2.5 turns/s) for 0.15 s flags
#: only the quickest arm flicks of the UniAnimate gesture dance and of the gesturing InfiniteTalk man.
FAST_LIMB_DEG_S = 900.0
FAST_MIN_S = 0.15
#: Turning about the vertical axis faster than this (deg/s) for SPIN_MIN_S. The 360-degree turn of
#: the UBC fashion clip peaks at 194 deg/s (p95 151): a slow, model-friendly turn. A pirouette
#: runs at 700+ deg/s; 240 deg/s leaves the real turn unflagged and catches spins.
SPIN_DEG_S = 240.0
SPIN_MIN_S = 0.25
#: The back must be shown this long to count as turning away (shorter is a pose flicker).
TURN_AWAY_MIN_S = 0.25
#: A hand missing this long (while the body is tracked) is "hidden for a long stretch".
HANDS_HIDDEN_MIN_S = 1.0
#: Background edge density (share of background pixels on a Canny edge at 360 px), median over
#: frames sampled at 2 fps. On ../shared/media (benchmarks/preflight_calibration.py): plain studio
#: (UBC) 0.000, plain wall (d6) 0.002, room with door (raw_0) 0.020, keyed cartoon set (dance)
#: 0.031, grey studio with LED strip (InfiniteTalk) 0.028-0.041 | office ceiling and lights (d13)
#: 0.050, bedroom with curtains and plants (UniAnimate) 0.065, Paris street (OpenPose) 0.085,
#: LongLive office/porch 0.098-0.102. The cut goes between the two groups.
CLUTTER_WARN = 0.045
#: Camera: the frame centre travelling faster than this (fraction of the diagonal per second) for
#: CAMERA_MIN_S, or a zoom of more than CAMERA_ZOOM (log scale) in total. Tripod clips measure a
#: p90 speed of 0.000-0.003 (UBC, UniAnimate, d13), phone/studio clips 0.015-0.018 (raw_0,
#: InfiniteTalk), the hand-held street clip 0.25. Per-frame zoom estimates add up noise of up to
#: 0.09 over 33 s of a static shot, so a zoom needs 0.12 (13 %) to count; SkyReels' push-in is 0.18.
CAMERA_SPEED = 0.03
CAMERA_MIN_S = 0.5
CAMERA_ZOOM = 0.12
#: Share of sampled frames with a second confident person for MULTIPLE_PEOPLE. Single-person clips
#: score 0.00-0.03; the OpenPose street clip 0.33; LongLive's no-cache office clip 0.38 (after its
#: prompt switch three colleagues appear behind the man: a true finding).
MULTI_SHARE = 0.25
#: The character image as the puppet renderer will cut it (:func:`.measures.figure_stats`). Measured
#: on the 8 person images of ../shared/media, the built-in astronaut and 4 frames of the UniAnimate
#: dance (benchmarks/preflight_figure.py reproduces the table; all shares 0-1, sizes in body units).
#: ARM_CONTACT: share of an arm with no background between it and the body (the more pressed arm of
#: each image). Arms pressed to the sides or across the body: 0.89-1.00 (anyone-3, anyone-11,
#: anyone-1, demo1, sample_2, the astronaut, arms crossed at 1.8 s, hands clasped at 8.4 s) | arms
#: hanging with gaps at the waist (UBC dress 0.72, UniAnimate frame 0 0.50), slightly away from the
#: body (1.2 s: 0.78), raised (9.0 s: 0). Rendering the first group with the arms raised shows
#: strips of the torso carried along and inpainted patches left behind.
ARM_CONTACT = 0.85
#: ARM_ACROSS_BODY: share of an arm (a fifth of the way down the upper arm to near the wrist)
#: lying inside the trunk's outline by more than 0.15 body units. An arm held across the body:
#: raw_0's left arm over her chest 0.62, UniAnimate's crossed arms at 1.8 s 0.53/0.50, anyone-1's
#: left forearm reaching across to clasp her hands 0.44 | hands clasped at the waist with the
#: elbows out (8.4 s) 0.21/0.09; arms hanging at the sides, raised or away from the body: 0.00.
ARM_ACROSS = 0.33
#: HANDS_OVER_CLOTHING needs a hand at least HAND_IN_BODY inside the zone the renderer fills when a
#: hand leaves it (trunk outline, thigh capsules) *and* clothing beyond it: at least HAND_ENCLOSED of
#: the ring round the hand's outer side on the person. Hands on the body: in-zone 0.60-1.00,
#: enclosed 0.20-1.00 (anyone-3's right hand on her shorts 0.41, sample_2's hands in her pockets
#: 0.20/0.50, anyone-1's clasped hands 0.62, 1.8 s 0.30/0.23, 8.4 s 1.00/0.97) | hands hanging
#: beside the thighs are in the zone (anyone-11 0.76/0.67, UBC 0.68/0.49) but have background
#: beyond them (enclosed 0.00-0.05); free hands are outside the zone (0.00-0.03).
HAND_IN_BODY = 0.5
HAND_ENCLOSED = 0.15
#: Share of an upper arm's capsule under hair hanging from the head. Hair over a shoulder and arm:
#: anyone-3 0.63, demo1 0.38, sample_2 0.21 | hair behind the shoulders or short: 0.00 everywhere
#: else (UBC, UniAnimate, anyone-11, the astronaut; anyone-1's silver hair matches her white
#: blouse: not measurable, no finding).
HAIR_ON_ARM = 0.15
#: Figure width across the thighs half-way down them over two thighs' width. Bare legs, shorts,
#: jeans, track pants, a fitted dress: 1.16-1.29 | anyone-1's flared skirt 1.75, a flared skirt
#: painted over anyone-3's shorts 1.88.
SKIRT_RATIO = 1.45


@dataclass
class CheckReport(FindingsReport):
    """Result of :func:`check_inputs`: findings plus what was measured."""

    image: str = ""
    motion: str = ""
    orientation: str = Orientation.VIDEO.value
    measurements: dict = field(default_factory=dict)
    #: The motion's tracked pose (not serialised): ``animate(motion_pose=...)`` reuses it.
    motion_pose: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "image": self.image,
            "motion": self.motion,
            "orientation": self.orientation,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
            "measurements": self.measurements,
        }


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _ranges_text(ranges: list[list[float]], limit: int = 3) -> str:
    text = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in ranges[:limit])
    return text + (f" and {len(ranges) - limit} more" if len(ranges) > limit else "")


def image_people(rgb: np.ndarray) -> tuple[int, int]:
    """``(people, faces)`` in a character image (:class:`~steadymotion.perception.people.PeopleCounter`)."""
    counter = PeopleCounter()
    try:
        return counter.count(rgb)
    finally:
        counter.close()


def multiple_people(people: tuple[int, int]) -> Finding | None:
    """``MULTIPLE_PEOPLE`` for a character image with ``people = (bodies, faces)``: preflight's
    finding, and animate's note."""
    if people[0] >= 2 or people[1] >= 2:
        return Finding("MULTIPLE_PEOPLE", Severity.WARN,
                       f"the image shows several people ({max(people)} found); the largest one is animated",
                       "crop the image to the one character you want animated")
    return None


def _image_findings(img, pose: PoseSequence, people: tuple[int, int]) -> tuple[list[Finding], dict]:
    out: list[Finding] = []
    w, h = img.size
    lo, hi = IMAGE_SIDE_RANGE
    if min(w, h) < lo or max(w, h) > hi:
        out.append(Finding("IMAGE_SIZE", Severity.WARN, f"the image is {w}x{h} px; Kling accepts sides of {lo}-{hi} px",
                           f"use an image at least {lo} px on its short side (ideally 720-2048 px)"))
    aspect = w / h
    if not IMAGE_ASPECT_RANGE[0] <= aspect <= IMAGE_ASPECT_RANGE[1]:
        out.append(Finding("ASPECT", Severity.WARN, f"the image aspect is {aspect:.2f}:1; Kling accepts 1:2.5 to 2.5:1",
                           "crop the image to a portrait or landscape ratio between 1:2.5 and 2.5:1"))
    meas = {"size": [w, h], "people": people[0], "faces": people[1]}
    if not pose.body_present[0]:
        out.append(Finding("NO_PERSON", Severity.ERROR, "no person was found in the image",
                           "use an image in which one person is clearly visible, head to at least the waist"))
        return out, meas
    several = multiple_people(people)
    if several is not None:
        out.append(several)
    level = int(B.framing_level(pose.body[0], pose.size))
    meas["framing"] = B.FRAMINGS[level] if level >= 0 else "face only"
    vis = B.visible(pose.body[0], pose.size)
    meas["visible_parts"] = [name for name, idx in REGIONS.items() if vis[list(idx)].all()]
    if not vis[[0, 2, 5]].any() and not pose.face_present[0]:
        out.append(Finding("CROPPED_OR_OCCLUDED", Severity.ERROR, "the head is cut off or hidden in the image",
                           "use an image that shows the whole face; identity is taken from it"))
    fig = M.figure_stats(img.rgb, pose, None if img.alpha is None else img.alpha.astype(np.float32) / 255.0)
    meas["figure"] = fig.to_dict()
    out += _figure_findings(fig)
    return out, meas


def _quote(values: dict, sides: list[str]) -> str:
    """``100 %`` for one side, ``100 % (left) and 89 % (right)`` for two."""
    if len(sides) == 1:
        return f"{100 * values[sides[0]]:.0f} %"
    return " and ".join(f"{100 * values[side]:.0f} % ({side})" for side in sides)


def _figure_findings(fig: M.FigureStats) -> list[Finding]:
    """What the puppet renderer will animate badly in the character image (see the thresholds)."""
    out: list[Finding] = []
    sides = [side for side, v in fig.arm_contact.items() if v >= ARM_CONTACT]
    if sides:
        two = len(sides) == 2
        out.append(Finding(
            "ARMS_AGAINST_BODY", Severity.WARN,
            f"the {_join(sides)} arm{'s touch' if two else ' touches'} the body with no background between along "
            f"{_quote(fig.arm_contact, sides)} of {'their' if two else 'its'} length (limit {100 * ARM_CONTACT:.0f} %): "
            f"the puppet can only cut {'them' if two else 'it'} from the torso by colour there, so a moving arm "
            "carries strips of the torso with it and leaves inpainted patches behind",
            "an image with the arms slightly away from the body (background showing between arm and waist) works best"))
    sides = [side for side, v in fig.arm_across.items() if v >= ARM_ACROSS]
    if sides:
        two = len(sides) == 2
        out.append(Finding(
            "ARM_ACROSS_BODY", Severity.WARN,
            f"the {_join(sides)} arm{'s lie' if two else ' lies'} across the body ({_quote(fig.arm_across, sides)} of "
            f"{'their' if two else 'its'} length in front of the trunk, limit {100 * ARM_ACROSS:.0f} %): what "
            f"{'they hide' if two else 'it hides'} of the clothes is invented when {'they move' if two else 'it moves'} "
            "away, and a sleeve the colour of the top is cut from it by a guess",
            "an image with the arms at the sides or held out, not crossed over the body, works best"))
    sides = [side for side, v in fig.hand_in_body.items()
             if v >= HAND_IN_BODY and fig.hand_enclosed.get(side, 0.0) >= HAND_ENCLOSED]
    if sides:
        two = len(sides) == 2
        out.append(Finding(
            "HANDS_OVER_CLOTHING", Severity.WARN,
            f"the {_join(sides)} hand{'s rest' if two else ' rests'} on the body ({_quote(fig.hand_in_body, sides)} of "
            f"{'them' if two else 'it'} over the trunk or thighs, with clothing beyond): hands resting on the body "
            "leave a synthesised patch where they were when they move",
            "use an image with the hands free of the body (hanging beside it or held out)"))
    sides = [side for side, v in fig.hair_on_arm.items() if v >= HAIR_ON_ARM]
    if sides:
        two = len(sides) == 2
        out.append(Finding(
            "HAIR_OVER_ARMS", Severity.WARN,
            f"long hair lies over the {_join(sides)} upper arm{'s' if two else ''} ({_quote(fig.hair_on_arm, sides)} "
            f"of {'them' if two else 'it'} covered; limit {100 * HAIR_ON_ARM:.0f} %): hair on an arm travels with the "
            "arm while the hair on the shoulder stays with the torso",
            "tie the hair back or use an image where the hair falls behind the shoulders"))
    if fig.skirt_ratio is not None and fig.skirt_ratio >= SKIRT_RATIO and not fig.skirt_gap:
        if fig.legs_rigged:
            out.append(Finding(
                "LOOSE_SKIRT", Severity.WARN,
                f"a skirt or dress spans the thighs ({fig.skirt_ratio:.2f} x two thighs' width half-way down, "
                f"limit {SKIRT_RATIO:.2f}): the puppet keeps a flared skirt or a straight dress in one piece with the "
                "hips (it does not bend with the knees), and one tapering to the knees it takes for trousers, which "
                "a step splits",
                "fine for motions that keep the feet together; for walking or dancing use an image in "
                "trousers, shorts or a fitted skirt"))
        else:
            out.append(Finding(
                "LOOSE_SKIRT", Severity.INFO,
                f"a skirt or dress spans the thighs ({fig.skirt_ratio:.2f} x two thighs' width half-way down, "
                f"limit {SKIRT_RATIO:.2f}): it will be animated as one piece with the hips",
                "fine when only the upper body moves; the skirt will not swing or flare"))
    return out


def _motion_findings(seq: PoseSequence, image_pose: PoseSequence | None, orientation: str) -> tuple[list[Finding], dict]:
    out: list[Finding] = []
    t = seq.times
    need = B.needed_framing(seq)
    meas: dict = {"framing": B.FRAMINGS[need] if need >= 0 else "face only", "body_coverage": round(float(seq.body_present.mean()), 3)}

    # framing and cropping of the image against what the motion needs
    if image_pose is not None and image_pose.body_present[0]:
        have = int(B.framing_level(image_pose.body[0], image_pose.size))
        have_name = B.FRAMINGS[have] if have >= 0 else "face-only"
        if need > have:
            out.append(Finding(
                "FRAMING_MISMATCH", Severity.WARN,
                f"the image is {have_name} but the motion is {B.FRAMINGS[need]}: the motion moves parts the image does not show",
                f"use a {B.FRAMINGS[need]} image for a {B.FRAMINGS[need]} motion (or a {have_name} reference video)"))
        elif 0 <= need < have:
            out.append(Finding(
                "FRAMING_MISMATCH", Severity.INFO,
                f"the image is {have_name} but the motion is only {B.FRAMINGS[need]}",
                "fine for steadymotion (the unseen parts hold still); other generators may crop or invent the rest"))
        # parts the motion uses (seen in >= 30 % of its frames) that the image hides, within its framing
        mvis = B.visible(seq.body[seq.body_present], seq.size)
        ivis = B.visible(image_pose.body[0], image_pose.size)
        hidden = []
        for name, idx in REGIONS.items():
            # parts outside the image's framing are FRAMING_MISMATCH's business, not this one's
            if name == "head" or ("leg" in name and have < 2) or ("arm" in name and have < 1):
                continue
            for j in idx:
                used = bool(len(mvis)) and mvis[:, j].mean() >= 0.3
                if used and not ivis[j]:
                    hidden.append(BODY_NAMES[j].replace("_", " "))
        if hidden:
            out.append(Finding(
                "CROPPED_OR_OCCLUDED", Severity.WARN,
                f"the motion moves the {_join(hidden)}, which the image crops or hides",
                "use an image where the whole figure is visible, arms away from the body, nothing in front of it"))

    # speed of limbs and of turning
    speed = B.limb_angular_speed(seq)
    meas["limb_speed_p95_deg_s"] = round(float(np.nanpercentile(speed, 95)), 1) if np.isfinite(speed).any() else None
    fast = M.runs(np.nan_to_num(speed) > FAST_LIMB_DEG_S, t, FAST_MIN_S, join_s=0.2)
    if fast:
        out.append(Finding(
            "FAST_MOTION", Severity.WARN,
            f"limbs swing faster than {FAST_LIMB_DEG_S:.0f} deg/s (peak {np.nanmax(speed):.0f} deg/s) at {_ranges_text(fast)}",
            "slow the reference down (or pick a calmer take); fast limbs blur and stretch in every generator",
            fast))
    face_dir = B.facing(seq)
    rate = B.turn_rate(seq, face_dir.turn_deg)
    meas["turn_rate_max_deg_s"] = round(float(rate.max()), 1) if len(rate) else 0.0
    spins = M.runs(rate > SPIN_DEG_S, t, SPIN_MIN_S, join_s=0.2)
    if spins:
        out.append(Finding(
            "SPIN", Severity.WARN,
            f"the body turns faster than {SPIN_DEG_S:.0f} deg/s (peak {rate.max():.0f} deg/s) at {_ranges_text(spins)}",
            "use a reference that turns slowly, or cut the spin out", spins))
    away = M.runs(face_dir.back, t, TURN_AWAY_MIN_S, join_s=0.3)
    meas["back_shown_s"] = round(sum(b - a for a, b in away), 2)
    if away:
        out.append(Finding(
            "TURN_AWAY", Severity.WARN,
            f"the reference shows its back at {_ranges_text(away)}; a single front image cannot show the character's back",
            "use a reference that keeps facing the camera, or give an image of the back as an end keyframe", away))

    # hands (a motion capture has none to check: its hands follow the forearms)
    if need >= 1 and "bvh" not in seq.meta:
        hidden_ranges = []
        for k, side in enumerate(("left", "right")):
            gone = seq.body_present & ~seq.hands_present[:, k]
            hidden_ranges += [[a, b, side] for a, b in M.runs(gone, t, HANDS_HIDDEN_MIN_S)]
        meas["hands_coverage"] = round(float(seq.hands_present.any(axis=1).mean()), 3)
        if hidden_ranges:
            hidden_ranges.sort()
            share = 1.0 - float(seq.hands_present.mean())
            out.append(Finding(
                "HANDS_HIDDEN", Severity.WARN if share > 0.5 else Severity.INFO,
                f"hands are out of view or unresolved for long stretches ({100 * share:.0f} % of hand-frames): "
                + ", ".join(f"{side} {a:.1f}-{b:.1f} s" for a, b, side in hidden_ranges[:4]),
                "hands will be rendered from the arm pose alone there; use a reference with hands in view for gestures",
                [[a, b] for a, b, _ in hidden_ranges]))
    return out, meas


def _scene_findings(scene: M.SceneStats, fps: float) -> tuple[list[Finding], dict]:
    out: list[Finding] = []
    t = scene.times
    clutter = float(np.median(scene.clutter)) if len(scene.clutter) else 0.0
    meas = {"clutter": round(clutter, 4)}
    if clutter > CLUTTER_WARN:
        out.append(Finding(
            "CLUTTERED_BACKGROUND", Severity.WARN,
            f"the reference background is cluttered: {100 * clutter:.1f} % of its pixels are edges (limit {100 * CLUTTER_WARN:.1f} %)",
            "use a reference shot against a plain wall; clutter makes pose tracking and generators latch onto the wrong shapes"))
    # people
    if len(scene.people):
        multi = (scene.people >= 2) | (scene.faces >= 2)
        meas["multi_person_share"] = round(float(multi.mean()), 3)
        if multi.mean() >= MULTI_SHARE:
            ranges = M.runs(multi, scene.sample_times, 0.0, join_s=1.0 / M.SAMPLE_FPS + 0.01)
            out.append(Finding(
                "MULTIPLE_PEOPLE", Severity.WARN,
                f"several people are in the reference in {100 * multi.mean():.0f} % of sampled frames (up to {int(scene.people.max())} bodies, "
                f"{int(scene.faces.max())} faces); the largest one drives the motion",
                "use a reference with one person; others confuse pose tracking when they cross", ranges))
    # cuts
    cut_idx = np.flatnonzero(scene.cut_score > CUT_SCORE)
    meas["cuts"] = [round(float(t[i]), 2) for i in cut_idx]
    if len(cut_idx):
        out.append(Finding(
            "CUT", Severity.WARN,
            "the reference cuts at " + ", ".join(f"{t[i]:.2f} s" for i in cut_idx[:5]),
            "split the reference at the cut and animate each shot separately; a cut makes the skeleton jump",
            [[float(t[i]), float(t[i])] for i in cut_idx]))
    # camera
    shift = np.nan_to_num(scene.camera_shift) * fps
    shift[cut_idx] = 0.0
    zoom = float(np.nansum(np.where(scene.cut_score > CUT_SCORE, 0.0, np.nan_to_num(scene.camera_scale))))
    moving = M.runs(shift > CAMERA_SPEED, t, CAMERA_MIN_S, join_s=0.3)
    meas["camera_speed_p90"] = round(float(np.percentile(shift, 90)), 4) if len(shift) else 0.0
    meas["camera_zoom_total"] = round(zoom, 4)
    if moving or abs(zoom) > CAMERA_ZOOM:
        parts = []
        if moving:
            parts.append(f"pans or shakes at {_ranges_text(moving)}")
        if abs(zoom) > CAMERA_ZOOM:
            parts.append(f"zooms {'in' if zoom > 0 else 'out'} by {100 * (np.exp(abs(zoom)) - 1):.0f} %")
        out.append(Finding(
            "CAMERA_MOVES", Severity.INFO,
            "the reference camera " + " and ".join(parts),
            "with --orientation video the camera movement is followed; for a steady shot use a tripod reference "
            "or add 'fixed lens' to the prompt", moving))
    return out, meas


def check_inputs(
    image: str | Path,
    motion: str | Path,
    *,
    orientation: Orientation | str = Orientation.VIDEO,
    prompt: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    until_s: float | None = None,
    skeleton_map=None,
) -> CheckReport:
    """Run every preflight check on a character image and a motion reference video (or BVH capture).

    Parameters
    ----------
    image, motion : path
    orientation : Orientation or {"video", "image"}
        Kling's orientation modes: follow the video's position/scale/facing, or keep the image's.
    prompt : str, optional
        Also lint the prompt (motion-control rules), adding its findings.
    progress : callable(stage, done, total), optional
    until_s : float, optional
        Check only the motion's first seconds (what a preview will use); sizes and duration are
        still those of the whole file.
    skeleton_map : path or dict, optional
        For a BVH capture (``motion`` ending in ``.bvh``): its role -> joint names. A capture has no
        pixels, so the checks of the video as a file and of its scene (size, people, camera, cuts)
        do not apply; its framing, speed, spins and duration are checked as a video's are.

    Returns
    -------
    CheckReport
        ``report.ok`` is False when any finding is an error.

    Raises
    ------
    InputNotFoundError, NotAnImageError, NotAVideoError ...
        When a file cannot be read at all (that is not a finding but a usage error).
    """
    orientation = Orientation.parse(orientation).value
    from steadymotion.pose.extract import extract_pose, pose_from_image

    from steadymotion.motion.bvh import is_bvh, read_motion_bvh

    img = read_image(image)
    capture = read_motion_bvh(motion, skeleton_map=skeleton_map) if is_bvh(motion) else None
    capture_s = capture.duration_s if capture is not None else 0.0  # the whole file's, as a video's
    if capture is not None and until_s is not None:
        capture = capture[: max(1, int(np.searchsorted(capture.times, until_s - 1e-9)))]
    info = probe_video(motion) if capture is None else None
    findings: list[Finding] = []
    measurements: dict = {}

    # inputs as files
    vw, vh = info.size if info is not None else capture.size
    lo, hi = VIDEO_SIDE_RANGE
    if info is not None and (min(vw, vh) < lo or max(vw, vh) > hi):
        findings.append(Finding("VIDEO_SIZE", Severity.WARN, f"the reference is {vw}x{vh} px; Kling accepts sides of {lo}-{hi} px",
                                f"resize the reference to between {lo} and {hi} px per side"))
    duration = (info.duration_s or 0.0) if info is not None else capture_s
    if duration < MIN_DURATION_S:
        findings.append(Finding("DURATION", Severity.WARN, f"the reference is only {duration:.1f} s long (minimum {MIN_DURATION_S:.0f} s)",
                                "use a reference of at least 3 s"))
    elif duration > KLING_MAX_S[orientation]:
        findings.append(Finding(
            "DURATION", Severity.INFO,
            f"the reference is {duration:.1f} s; Kling caps orientation '{orientation}' at {KLING_MAX_S[orientation]:.0f} s",
            "steadymotion renders any length, streamed; for Kling, trim the reference or split it"))
    fps = float(info.fps if info is not None else capture.fps)
    measurements["video"] = {"size": [vw, vh], "fps": fps, "duration_s": round(duration, 3)}

    # the image
    image_pose = pose_from_image(img.rgb)
    found, measurements["image"] = _image_findings(img, image_pose, image_people(img.rgb))
    findings += found

    # the motion
    def stage(name: str):
        return (lambda done, total: progress(name, done, total)) if progress else None

    try:
        seq = capture if capture is not None else extract_pose(motion, progress=stage("tracking the motion"), until_s=until_s)
    except NoPersonError as exc:
        findings.append(Finding("NO_PERSON", Severity.ERROR, f"no person in the motion video: {exc}",
                                "use a reference video in which one person is clearly visible"))
        seq = None
    if seq is not None:
        found, measurements["motion"] = _motion_findings(seq, image_pose, orientation)
        findings += found
    if capture is None:
        scene = M.scene_pass(motion, progress=stage("reading the scene"), until_s=until_s)
        found, measurements["scene"] = _scene_findings(scene, fps)
        findings += found

    if prompt:
        findings += [f for f in lint_prompt(prompt, "motion-control").findings if f.code != "NEGATIVE_PROMPT"]
    return CheckReport(image=str(image), motion=str(motion), orientation=orientation,
                       findings=sort_findings(findings), measurements=measurements, motion_pose=seq)
