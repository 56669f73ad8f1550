"""Preflight (`steadymotion check`): measures on data the tests build, findings on real media."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.findings import Severity
from steadymotion.io.image import read_image, write_image
from steadymotion.io.video import VideoReader, VideoWriter
from steadymotion.perception import body as B
from steadymotion.preflight import ARM_CONTACT, FAST_LIMB_DEG_S, HAIR_ON_ARM, SKIRT_RATIO, SPIN_DEG_S, check_inputs
from steadymotion.preflight import measures as M
from steadymotion.preflight.check import _figure_findings, _motion_findings, _scene_findings
from steadymotion.pose.extract import pose_from_image
from tests.conftest import cached_pose, media_path, synthetic_motion

_poses: dict = {}


def motion_of(name: str):
    return cached_pose(name)


def image_pose(name: str):
    key = "img:" + name
    if key not in _poses:
        _poses[key] = pose_from_image(read_image(media_path(name)).rgb)
    return _poses[key]


def by_code(findings, code):
    return [f for f in findings if f.code == code]


# --- measures on synthetic motion ------------------------------------------------------------------
def test_runs_merges_and_filters():
    t = np.arange(20) / 10
    mask = np.zeros(20, bool)
    mask[2:5] = mask[6:9] = mask[15:16] = True
    assert M.runs(mask, t, min_s=0.25, join_s=0.15) == [[pytest.approx(0.2), pytest.approx(0.9)]]


def test_framing_levels():
    seq = synthetic_motion(1)
    body = seq.body[0].copy()
    size = seq.size
    body[:, 3] = 0.9
    body[[25, 26, 27, 28], 1] = 400  # knees and ankles inside the 480-px frame
    assert B.framing_level(body, size) == 2
    body[[27, 28], 1] = 900  # ankles below the frame
    assert B.framing_level(body, size) == 1
    body[[23, 24], 3] = 0.1  # hips hidden
    assert B.framing_level(body, size) == 0


def test_fast_limb_is_flagged_and_slow_is_not():
    seq = synthetic_motion(90, fps=30)
    for k in (11, 12, 13, 14, 15, 16):
        seq.body[:, k, 3] = 0.95
    # the right forearm whips round at 1500 deg/s between 1.0 and 1.4 s
    t = seq.times
    ang = np.radians(np.where((t >= 1.0) & (t < 1.4), (t - 1.0) * 1500, 0) + np.where(t >= 1.4, 600, 0))
    seq.body[:, 16, :2] = seq.body[:, 14, :2] + 80 * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    speed = B.limb_angular_speed(seq)
    assert np.nanmax(speed) > FAST_LIMB_DEG_S
    found, _ = _motion_findings(seq, None, "video")
    (fast,) = by_code(found, "FAST_MOTION")
    assert fast.time_ranges[0][0] == pytest.approx(1.0, abs=0.1)
    calm, _ = _motion_findings(synthetic_motion(90), None, "video")  # the 1-Hz wave
    assert not by_code(calm, "FAST_MOTION")


def _turning(deg_per_s: float, n: int = 90):
    seq = synthetic_motion(n, fps=30)
    theta = np.radians(deg_per_s * seq.times)
    centre = np.array([320.0, 200.0])
    half = 45 * np.cos(theta)
    seq.body[:, 11, :2] = centre + np.stack([half, np.zeros(n)], axis=1)  # subject's left on the image right
    seq.body[:, 12, :2] = centre - np.stack([half, np.zeros(n)], axis=1)
    seq.body[:, 23, :2] = centre + [20, 120]
    seq.body[:, 24, :2] = centre + [-20, 120]
    return seq


def test_spin_and_turn_away():
    fast, _ = _motion_findings(_turning(720), None, "video")
    assert by_code(fast, "SPIN") and by_code(fast, "TURN_AWAY")
    slow, _ = _motion_findings(_turning(120), None, "video")
    assert not by_code(slow, "SPIN")
    (away,) = by_code(slow, "TURN_AWAY")
    # at 120 deg/s the back (turn > 90 deg) shows from 0.75 s to 2.25 s
    assert away.time_ranges[0][0] == pytest.approx(0.75, abs=0.15) and away.time_ranges[0][1] == pytest.approx(2.25, abs=0.15)
    # the measured turn rates sit on either side of the limit: ~720 and ~120 deg/s
    for speed in (720, 120):
        seq = _turning(speed)
        rate = float(np.nanmedian(B.turn_rate(seq, B.facing(seq).turn_deg)[5:-5]))
        assert (rate > SPIN_DEG_S) == (speed > SPIN_DEG_S), (speed, rate)


def test_hands_hidden():
    seq = synthetic_motion(90)
    seq.body[:, [23, 24], 1] = 300
    seq.hands[10:70, 1] = np.nan
    seq.hands_present[10:70, 1] = False
    found, _ = _motion_findings(seq, None, "video")
    (hidden,) = by_code(found, "HANDS_HIDDEN")
    assert hidden.time_ranges[0][0] == pytest.approx(10 / 30, abs=0.05)


# --- real media ------------------------------------------------------------------------------------
def test_half_body_image_against_full_body_dance_mismatches():
    dance = motion_of("unianimate__source_video.mp4")
    assert B.needed_framing(dance) == 2
    half, _ = _motion_findings(dance, image_pose("infinitetalk__human.png"), "video")
    (mismatch,) = by_code(half, "FRAMING_MISMATCH")
    assert mismatch.severity is Severity.WARN and "full-body image" in mismatch.fix
    full, _ = _motion_findings(dance, image_pose("mooreanimateanyone__anyone-3.png"), "video")
    assert not by_code(full, "FRAMING_MISMATCH") and not by_code(full, "CROPPED_OR_OCCLUDED")


def test_360_turn_turns_away_in_the_middle_only():
    turn = motion_of("musepose__UBC_fashion_test_91BjuE6irxS.mp4")
    found, meas = _motion_findings(turn, image_pose("mooreanimateanyone__anyone-3.png"), "video")
    (away,) = by_code(found, "TURN_AWAY")
    start, end = away.time_ranges[0][0], away.time_ranges[-1][1]
    assert 3.0 < start and end < 10.0 and end - start > 1.5  # the middle of an 11.5-s clip
    assert not by_code(found, "SPIN")  # a slow, model-friendly turn


def test_scene_of_a_plain_studio_and_a_street():
    studio = M.scene_pass(media_path("musepose__UBC_fashion_test_91BjuE6irxS.mp4"))
    found, meas = _scene_findings(studio, 29.97)
    assert meas["clutter"] < 0.01 and not found  # plain, static, one person, no cut
    street = M.scene_pass(media_path("openpose__video.avi"))
    found, meas = _scene_findings(street, 50.0)
    assert {"MULTIPLE_PEOPLE", "CLUTTERED_BACKGROUND", "CAMERA_MOVES"} <= {f.code for f in found}
    assert not by_code(found, "CUT")


def test_cut_between_two_real_shots(tmp_path):
    joined = tmp_path / "joined.mp4"
    with VideoWriter(joined, 15) as w:
        for name in ("musepose__UBC_fashion_test_91BjuE6irxS.mp4", "unianimate__source_video.mp4"):
            with VideoReader(media_path(name), end_s=2.0) as r:
                for f in r:
                    if f.index % 2 == 0:
                        w.write(cv2.resize(f.image, (360, 480), interpolation=cv2.INTER_AREA))
    found, meas = _scene_findings(M.scene_pass(joined), 15.0)
    (cut,) = by_code(found, "CUT")
    assert cut.time_ranges[0][0] == pytest.approx(2.0, abs=0.1)


def test_panning_camera_over_a_real_photo(tmp_path):
    photo = read_image(media_path("mimicmotion__demo1.jpg")).rgb
    clip = tmp_path / "pan.mp4"
    with VideoWriter(clip, 25) as w:
        for i in range(75):
            x = 100 + 6 * i  # 150 px/s across a 1080-px photo
            w.write(cv2.resize(photo[400:1600, x : x + 500], (250, 600)))
    found, meas = _scene_findings(M.scene_pass(clip), 25.0)
    assert by_code(found, "CAMERA_MOVES")


def test_no_person_in_the_image(tmp_path):
    rng = np.random.default_rng(3)
    blank = write_image(tmp_path / "wall.png", cv2.GaussianBlur(rng.integers(0, 255, (480, 480, 3), dtype=np.uint8), (31, 31), 0))
    report = check_inputs(blank, media_path("magicanimate__running.mp4"))
    assert not report.ok and by_code(report.findings, "NO_PERSON")
    assert by_code(report.findings, "DURATION")  # the 1.7-s reference is too short


def test_cli_check_end_to_end(tmp_path):
    out = tmp_path / "check.json"
    result = CliRunner().invoke(app, ["check", "--image", media_path("mimicmotion__demo1.jpg"),
                                      "--motion", media_path("musepose__UBC_fashion_test_91BjuE6irxS.mp4"),
                                      "--prompt", "a woman in a navy dress, zoom in", "--json", out])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["version"] == 1 and doc["ok"] is True and doc["orientation"] == "video"
    codes = {f["code"] for f in doc["findings"]}
    assert "TURN_AWAY" in codes and "UNTARGETED_CAMERA" in codes and "FRAMING_MISMATCH" not in codes
    assert doc["measurements"]["image"]["framing"] == "full-body"
    # the puppet's view of the image: arms against the body, hair over her left arm; warnings only
    assert {"ARMS_AGAINST_BODY", "HAIR_OVER_ARMS"} <= codes
    assert doc["measurements"]["image"]["figure"]["arm_contact"]["left"] >= ARM_CONTACT
    assert "TURN_AWAY" in result.output


def test_cli_check_bad_inputs(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["check", "--image", tmp_path / "none.png", "--motion", tmp_path / "none.mp4"])
    assert missing.exit_code == 2 and "not found" in missing.output
    bad = runner.invoke(app, ["check", "--image", media_path("mimicmotion__demo1.jpg"), "--motion",
                              media_path("mimicmotion__raw_0.mp4"), "--orientation", "sideways"])
    assert bad.exit_code == 2


def test_check_only_the_first_seconds_when_asked():
    from steadymotion.preflight import check_inputs

    clip = media_path("mimicmotion__raw_0.mp4")
    report = check_inputs(media_path("mooreanimateanyone__anyone-11.png"), clip, until_s=2.0)
    assert abs(len(report.motion_pose) - 30) <= 1  # 2 s at 15 fps, not the clip's 155 frames
    assert report.measurements["video"]["duration_s"] > 10  # the file is still described whole
    assert "FRAMING_MISMATCH" in report.codes()


# --- the character image as the puppet will cut it -------------------------------------------------
PUPPET_CODES = {"ARMS_AGAINST_BODY", "ARM_ACROSS_BODY", "HANDS_OVER_CLOTHING", "HAIR_OVER_ARMS", "LOOSE_SKIRT"}
_figures: dict = {}


def _image(name: str) -> np.ndarray:
    """A shared image, the built-in astronaut (``"astronaut"``), or a video frame (``"clip.mp4@9.0"``)."""
    if name == "astronaut":
        from steadymotion.samples import sample_image

        return sample_image()
    if "@" in name:
        # OpenCV seeks to the first frame at or after t; a VideoReader left after one frame hung now
        # and then when the garbage collector freed its half-read PyAV decoder in a later test
        clip, t = name.split("@")
        cap = cv2.VideoCapture(str(media_path(clip)))
        try:
            cap.set(cv2.CAP_PROP_POS_FRAMES, math.ceil(float(t) * cap.get(cv2.CAP_PROP_FPS) - 1e-6))
            ok, bgr = cap.read()
        finally:
            cap.release()
        assert ok, name
        return np.ascontiguousarray(bgr[..., ::-1])
    return read_image(media_path(name)).rgb


def figure(name: str, rgb: np.ndarray | None = None):
    """``figure_stats`` of an image (cached by name) and the puppet findings it gives."""
    if name not in _figures:
        rgb = _image(name) if rgb is None else rgb
        stats = M.figure_stats(rgb, pose_from_image(rgb))
        _figures[name] = stats, _figure_findings(stats)
    return _figures[name]


def puppet_codes(findings) -> set:
    return {f.code for f in findings if f.code in PUPPET_CODES}


@pytest.mark.parametrize("name, expected", [
    # arms hanging against her sides, right hand resting on her shorts, long hair over her right shoulder
    ("mooreanimateanyone__anyone-3.png", {"ARMS_AGAINST_BODY", "HANDS_OVER_CLOTHING", "HAIR_OVER_ARMS"}),
    # red sleeves against the red jacket; the hands hang beside the thighs, not on them
    ("mooreanimateanyone__anyone-11.png", {"ARMS_AGAINST_BODY"}),
    # anime girl: arms down, hands clasped on a flared skirt (her left forearm reaches across her
    # waist to the other hand), knees out of the picture
    ("mooreanimateanyone__anyone-1.png", {"ARMS_AGAINST_BODY", "ARM_ACROSS_BODY", "HANDS_OVER_CLOTHING", "LOOSE_SKIRT"}),
    # hands in the hoodie's pockets (the forearms are rigged down to the weakly seen wrists, so
    # pulling them out uncovers the hoodie), hair falling over her left shoulder
    ("mimicmotion__demo1.jpg", {"ARMS_AGAINST_BODY", "HANDS_OVER_CLOTHING", "HAIR_OVER_ARMS"}),
    # hands in the pockets of her shorts, a strand of hair over her left shoulder
    ("mimicmotion__sample_2.png", {"ARMS_AGAINST_BODY", "HANDS_OVER_CLOTHING", "HAIR_OVER_ARMS"}),
    # the seated astronaut's arm lies along her suit
    ("astronaut", {"ARMS_AGAINST_BODY"}),
    # half-body man and a portrait: no arms in the picture, so nothing about arms (s42's long hair too)
    ("infinitetalk__human.png", set()),
    ("liveportrait__s42.jpg", set()),
    # arms by her sides with background between forearms and hips; chin-length hair
    ("unianimate__source_video_frame0.png", set()),
    # the same dancer with her arms raised, slightly away from the body, and hands clasped at her waist
    ("unianimate__source_video.mp4@9.0", set()),
    ("unianimate__source_video.mp4@1.2", set()),
    ("unianimate__source_video.mp4@8.4", {"ARMS_AGAINST_BODY", "HANDS_OVER_CLOTHING"}),
    # and with her arms crossed over her chest
    ("unianimate__source_video.mp4@1.8", {"ARMS_AGAINST_BODY", "ARM_ACROSS_BODY", "HANDS_OVER_CLOTHING"}),
    # fitted dress, forearms apart from the waist, hands beside the thighs, hair behind the shoulders
    ("musepose__UBC_fashion_test_91BjuE6irxS.mp4@0.0", set()),
    # her left arm across her chest and her right arm against her side, its forearm running off the
    # bottom edge: that hand is cut off by the picture, so it rests on nothing (HANDS_OVER_CLOTHING
    # said it did once the forearm was rigged); the arm over her chest lies across the body
    ("mimicmotion__raw_0.mp4@0.0", {"ARMS_AGAINST_BODY", "ARM_ACROSS_BODY"}),
])
def test_puppet_findings_on_real_images(name, expected):
    stats, found = figure(name)
    assert puppet_codes(found) == expected, (name, stats)
    for f in found:
        if f.code in PUPPET_CODES:
            # they never stop generation, and each says what to do
            assert f.severity in (Severity.WARN, Severity.INFO) and f.fix and not f.time_ranges


def test_an_arm_across_the_body_is_named_and_follows_a_mirror():
    from steadymotion.preflight.check import ARM_ACROSS

    # given raw_0's dancer, her left arm held across her chest (her right one hangs at her side)
    stats, found = figure("mimicmotion__raw_0.mp4@0.0")
    by = {f.code: f for f in found}
    # then the left arm is said to lie across the body, with how much of it does, and the fix
    assert stats.arm_across["left"] >= ARM_ACROSS > stats.arm_across["right"]
    assert by["ARM_ACROSS_BODY"].message.startswith("the left arm lies across the body")
    assert f"{100 * stats.arm_across['left']:.0f} %" in by["ARM_ACROSS_BODY"].message
    assert "invented" in by["ARM_ACROSS_BODY"].message and "not crossed" in by["ARM_ACROSS_BODY"].fix
    # and mirrored, MediaPipe calls that arm the right one
    flipped = np.ascontiguousarray(_image("mimicmotion__raw_0.mp4@0.0")[:, ::-1])
    mstats, mfound = figure("raw_0 mirrored", flipped)
    assert mstats.arm_across["right"] >= ARM_ACROSS > mstats.arm_across["left"]
    assert {f.code: f for f in mfound}["ARM_ACROSS_BODY"].message.startswith("the right arm lies")


def test_puppet_findings_name_the_sides_and_follow_a_mirror():
    stats, found = figure("mooreanimateanyone__anyone-3.png")
    assert stats.hand_in_body["right"] == pytest.approx(1.0, abs=0.05) and stats.hand_in_body["left"] < 0.1
    assert stats.hair_on_arm["right"] > 2 * HAIR_ON_ARM and stats.hair_on_arm["left"] < 0.05
    by = {f.code: f for f in found}
    assert by["HANDS_OVER_CLOTHING"].message.startswith("the right hand rests")
    assert "synthesised patch" in by["HANDS_OVER_CLOTHING"].message
    assert "right upper arm" in by["HAIR_OVER_ARMS"].message and "tie the hair back" in by["HAIR_OVER_ARMS"].fix
    assert "slightly away from the body" in by["ARMS_AGAINST_BODY"].fix
    # mirrored, her right hand and hair are on the image's other side: MediaPipe calls that side left
    flipped = np.ascontiguousarray(_image("mooreanimateanyone__anyone-3.png")[:, ::-1])
    mstats, mfound = figure("anyone-3 mirrored", flipped)
    assert puppet_codes(mfound) == puppet_codes(found)
    assert mstats.hand_in_body["left"] == pytest.approx(1.0, abs=0.05) and mstats.hand_in_body["right"] < 0.1
    assert mstats.hair_on_arm["left"] > 2 * HAIR_ON_ARM and mstats.hair_on_arm["right"] < 0.05


def test_no_arm_findings_when_the_image_shows_no_arms():
    # anyone-3 cropped to head and shoulders: her hair still lies on her shoulder, but no arm is rigged
    crop = np.ascontiguousarray(_image("mooreanimateanyone__anyone-3.png")[:260, 150:470])
    stats, found = figure("anyone-3 head and shoulders", crop)
    assert not stats.arm_contact and not stats.hair_on_arm and not puppet_codes(found)


def test_a_skirt_painted_over_the_thighs_is_split_by_a_step():
    rgb = _image("mooreanimateanyone__anyone-3.png").copy()
    stats, _ = figure("mooreanimateanyone__anyone-3.png")
    assert stats.skirt_ratio < SKIRT_RATIO and stats.skirt_gap  # shorts: two legs
    body = pose_from_image(rgb).body[0]
    hip_y, knee_y, cx = body[[23, 24], 1].mean(), body[[25, 26], 1].mean(), body[[23, 24], 0].mean()
    top, hem = 0.6 * stats.unit, 1.1 * stats.unit  # a flared skirt from the hips to above the knees
    y0, y1 = hip_y - 0.05 * stats.unit, knee_y - 0.1 * (knee_y - hip_y)
    cv2.fillPoly(rgb, [np.array([[cx - top, y0], [cx + top, y0], [cx + hem, y1], [cx - hem, y1]], np.int32)], (40, 40, 70))
    stats, found = figure("anyone-3 in a skirt", rgb)
    assert stats.skirt_ratio > SKIRT_RATIO and not stats.skirt_gap and stats.legs_rigged
    (skirt,) = [f for f in found if f.code == "LOOSE_SKIRT"]
    # full legs are rigged: a step splits the skirt between them (the knees-up anime girl's is one piece)
    assert skirt.severity is Severity.WARN and "splits" in skirt.message
    _, anime = figure("mooreanimateanyone__anyone-1.png")
    (one_piece,) = [f for f in anime if f.code == "LOOSE_SKIRT"]
    assert one_piece.severity is Severity.INFO and "one piece" in one_piece.message
